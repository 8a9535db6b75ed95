"""Upper limits on a Poisson signal mean over a background: CLs and Feldman-Cousins.

Counts are numbers of events; the signal mean ``s`` is in events. All functions take plain numbers
(Python or numpy scalars) and return Python floats; :func:`upper_limit` also maps over arrays.

Methods
-------
``"cls"`` (default)
    Modified frequentist CLs of Read, J. Phys. G 28 (2002) 2693 (CLs = CL_{s+b}/CL_b) with
    the event count as test statistic: CLs(s) = P(N <= n | s + b) / P(N <= n | b). The upper limit is
    the s with CLs(s) = 1 - CL. For n = 0 this is exp(-s) whatever b, so the limit is -ln(1 - CL)
    (2.302585 at 90% CL); for b = 0 it is the classical Poisson upper limit (2.30, 3.89, 5.32, ...).
    With a background uncertainty db > 0 both probabilities are integrated over a Gamma prior on the
    background with mean b and standard deviation db (Cousins & Highland, Nucl. Instrum. Meth. A320
    (1992) 331); see :mod:`fipscan.stats._poisson` for the exact negative-binomial evaluation.
``"fc"``
    The unified (likelihood-ratio ordered) Neyman construction of Feldman & Cousins, Phys. Rev. D 57
    (1998) 3873, Sec. IV, eq. (4.1): for each mu the acceptance region in n is filled in decreasing
    order of R = P(n | mu + b) / P(n | mu_best + b), mu_best = max(0, n - b), until it holds CL.
    Known background only.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_background, as_choice, as_cl, as_count, as_nonnegative
from ._poisson import MAX_COUNT, brentq, cdf_total, log_cdf_total

__all__ = [
    "cls_value",
    "upper_limit",
    "fc_interval",
    "limit_report",
    "METHODS",
]

METHODS = ("cls", "fc")

# Feldman-Cousins construction: mu grid step (edges are then refined by bisection) and the range of
# backgrounds b' >= b over which the b-monotonicity correction looks (see fc_interval).
_FC_STEP = 0.005
_FC_B_SCAN = 1.5


# --------------------------------------------------------------------------------------------------
# CLs
# --------------------------------------------------------------------------------------------------


def cls_value(signal, n_obs, background=0.0, background_uncertainty=0.0) -> float:
    """CLs(s) = P(N <= n | s + b) / P(N <= n | b) (Read, J. Phys. G 28 (2002) 2693).

    ``signal`` s and ``background`` b in events; with ``background_uncertainty`` db > 0 both
    probabilities are averaged over the Gamma prior of b (Cousins & Highland 1992). Returns a
    number in (0, 1], decreasing in s, equal to 1 at s = 0.
    """
    s = as_nonnegative("signal", signal)
    n = as_count("n_obs", n_obs)
    b, db = as_background(background, background_uncertainty)
    return cdf_total(n, s, b, db) / cdf_total(n, 0.0, b, db)


def _cls_upper(n: int, b: float, db: float, cl: float) -> float:
    log_alpha = math.log1p(-cl)  # ln(1 - cl) without cancellation: cl = 1e-300 gives a limit of 1e-300, not 0
    if n == 0:
        # CLs(s) = exp(-s) exactly for n = 0 (the background factors cancel)
        return -log_alpha
    # in log space: P(N <= n | b) underflows for n far below b (n = 3 over b = 800 is e^-780)
    log_denominator = log_cdf_total(n, 0.0, b, db)

    def f(s: float) -> float:
        return log_cdf_total(n, s, b, db) - log_denominator - log_alpha

    lo, hi = 0.0, max(2.0, n + 3.0 * math.sqrt(n) + 3.0)
    while f(hi) > 0.0:
        lo, hi = hi, 2.0 * hi
    return brentq(f, lo, hi, xtol=1e-10, rtol=1e-13)


# --------------------------------------------------------------------------------------------------
# Feldman-Cousins
# --------------------------------------------------------------------------------------------------


_LOG_FACTORIAL = np.zeros(1)


def _log_factorial(n_max: int) -> np.ndarray:
    """log(n!) for n = 0..n_max (math.lgamma, cached and grown on demand)."""
    global _LOG_FACTORIAL
    if _LOG_FACTORIAL.size <= n_max:
        size = max(n_max + 1, 2 * _LOG_FACTORIAL.size)
        _LOG_FACTORIAL = np.array([math.lgamma(k + 1.0) for k in range(size)])
    return _LOG_FACTORIAL[: n_max + 1]


def _fc_accepted(mus, b, n0: int, cl: float) -> np.ndarray:
    """Whether n0 lies in the FC acceptance region of each mu (FC98 Sec. IV, eq. (4.1)).

    The region is filled in decreasing R(n) = P(n | mu + b) / P(n | max(0, n - b) + b) until its
    probability reaches cl, so n0 belongs to it iff the probability of the counts ranked strictly
    above n0 is still below cl. (The region is an interval in n because R is unimodal in n.)
    ``mus`` and ``b`` broadcast (one background per row is allowed). Rows are processed in chunks,
    each over the counts within 10 sd of its Poisson means (the rest carries < 1e-20).
    """
    mus, bs = np.broadcast_arrays(np.asarray(mus, dtype=float), np.asarray(b, dtype=float))
    mus, bs = mus.ravel(), bs.ravel()
    lam_all = mus + bs
    out = np.empty(mus.size, dtype=bool)
    rows_per_chunk = max(1, 2_000_000 // int(20.0 * math.sqrt(float(lam_all.max()) + 1.0) + 60.0))
    start = 0
    while start < mus.size:
        stop = min(mus.size, start + rows_per_chunk)
        lam = lam_all[start:stop]
        bb = bs[start:stop]
        lo, hi = float(lam.min()), float(lam.max())
        n_lo = max(0, int(lo - 10.0 * math.sqrt(lo) - 10.0))
        n_hi = int(hi + 10.0 * math.sqrt(hi + 1.0) + 25.0)
        n = np.arange(n_lo, n_hi + 1, dtype=float)
        table = _log_factorial(max(n_hi, n0))
        lgam, lg0 = table[n_lo:n_hi + 1], table[n0]
        lam_c = lam[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_lam = np.log(lam_c)
            log_p = np.where(lam_c > 0.0, n * log_lam - lam_c, np.where(n == 0.0, 0.0, -np.inf)) - lgam
            # P(n | mu_best + b) with mu_best + b = max(b, n)
            best = np.maximum(bb[:, None], n)
            log_best = np.where(best > 0.0, n * np.log(np.where(best > 0.0, best, 1.0)) - best, 0.0) - lgam
            lam0 = lam
            log_p0 = np.where(lam0 > 0.0, n0 * np.log(np.where(lam0 > 0.0, lam0, 1.0)) - lam0,
                              0.0 if n0 == 0 else -np.inf) - lg0
            best0 = np.maximum(bb, float(n0))
            log_best0 = np.where(best0 > 0.0, n0 * np.log(np.where(best0 > 0.0, best0, 1.0)) - best0, 0.0) - lg0
        log_r = log_p - log_best
        r0 = (log_p0 - log_best0)[:, None]
        mass = np.where(log_r > r0, np.exp(log_p), 0.0).sum(axis=1)
        out[start:stop] = mass < cl
        start = stop
    return out


def _refine_edge(accept_at, lo: float, hi: float, iters: int = 34) -> float:
    """Bisection for the acceptance edge in [lo, hi]; ``accept_at(lo)`` != ``accept_at(hi)``."""
    a_lo = accept_at(lo)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if accept_at(mid) == a_lo:
            lo = mid
        else:
            hi = mid
    return lo if a_lo else hi


def _fc_raw_interval(n0: int, b: float, cl: float) -> tuple[float, float]:
    """[mu1, mu2]: the lowest and highest mu whose acceptance region holds n0 (plain construction).

    Taking the extreme accepted mu is FC98's treatment of acceptance sets that are not connected in
    mu (Sec. IV). Grid step 0.005 over a window that is widened until its ends are
    outside the belt, then bisection on each edge.
    """
    spread = 4.0 * math.sqrt(n0 + 1.0) + 5.0
    lo = max(0.0, n0 - b - spread)
    hi = max(n0 - b + spread, spread)
    while True:
        mus = np.arange(lo, hi + _FC_STEP, _FC_STEP)
        acc = _fc_accepted(mus, b, n0, cl)
        if acc[-1]:
            hi += 2.0 * spread
        elif acc[0] and lo > 0.0:
            lo = max(0.0, lo - 2.0 * spread)
        else:
            break
    idx = np.flatnonzero(acc)
    if idx.size == 0:  # cannot happen for 0 < cl < 1, but fail loudly rather than return garbage
        raise RuntimeError(f"Feldman-Cousins belt holds no mu for n_obs={n0}, background={b}")

    def accept_at(mu: float) -> bool:
        return bool(_fc_accepted(np.array([mu]), b, n0, cl)[0])

    i_lo, i_hi = int(idx[0]), int(idx[-1])
    mu1 = float(mus[0]) if i_lo == 0 else _refine_edge(accept_at, mus[i_lo - 1], mus[i_lo])
    mu2 = _refine_edge(accept_at, mus[i_hi], mus[i_hi + 1])
    return mu1, mu2


def _fc_top_in_window(n0: int, b: float, cl: float, lo: float, width: float) -> float:
    """Highest mu in (lo, lo + width] (extended if needed) whose acceptance region holds n0, or -inf."""
    while True:
        mus = lo + np.arange(1, int(round(width / _FC_STEP)) + 2) * _FC_STEP
        acc = _fc_accepted(mus, b, n0, cl)
        if not acc[-1]:
            break
        width *= 2.0
    idx = np.flatnonzero(acc)
    if idx.size == 0:
        return -math.inf
    i = int(idx[-1])
    return _refine_edge(lambda mu: bool(_fc_accepted(np.array([mu]), b, n0, cl)[0]), mus[i], mus[i + 1])


def _fc_fine_top(n0: int, b: float, cl: float, center: float, half: float = 0.004) -> float:
    """Highest accepted mu within center +- half on a 2e-5 grid, refined by bisection; -inf if none.

    Resolves the narrow "islands" of acceptance (non-connected accepted sets) that a 0.005 grid
    can step over.
    """
    mus = np.linspace(center - half, center + half, int(round(half / 2e-5)) + 1)
    mus = mus[mus >= 0.0]
    acc = _fc_accepted(mus, b, n0, cl)
    idx = np.flatnonzero(acc)
    if idx.size == 0:
        return -math.inf
    i = int(idx[-1])
    if i == mus.size - 1:
        return _fc_top_in_window(n0, b, cl, float(mus[i]) - _FC_STEP, 2.0 * _FC_STEP)
    return _refine_edge(lambda mu: bool(_fc_accepted(np.array([mu]), b, n0, cl)[0]), mus[i], mus[i + 1])


def _fc_upper_max_over_background(n0: int, b: float, cl: float, mu2_b: float) -> float:
    """max over b' in [b, b + 1.5] of the plain upper end mu2(n0, b') (FC98 Sec. IV).

    FC98 note that the plain construction can give an upper end that *rises* with b in places
    (e.g. n0 = 0: 0.95 at b = 3 but 1.08 just above b = 3.4); they lengthen the intervals so that
    mu2 never increases with b, i.e. mu2(n0, b) = max over b' >= b of the plain value, which is what
    Table IV lists. The rise comes from an island of acceptance above the main interval that is born
    as a point at some b_j and then widens while its top edge falls; the plain mu2 therefore peaks at
    the island's birth, and the peaks shrink with b, so the maximum is reached close to b: within
    0.85 of b for every n0 <= 12, b <= 15 (checked at 90% CL on a 0.005 grid up to b' = 22) and for
    n0 = 12..40, b <= 32 (0.01 grid up to b' = 40). We scan b' in [b, b + 1.5] on a 0.005 grid
    (mu on a 0.005 grid from just below mu2(b)), then follow the best islands back to their birth
    (bisection in b', island top on a 2e-5 mu grid). The result is always a mu accepted at some
    b' >= b, so it can only err low; it agrees with a brute-force (mu, b') scan on a 1e-5 grid.
    """
    b_grid = b + np.arange(0, int(round(_FC_B_SCAN / _FC_STEP)) + 1) * _FC_STEP
    # the mu window starts below mu2(b): a young island is too narrow for the 0.005 grid and only
    # shows up once it has widened and its top has fallen, possibly below mu2(b)
    width, below = 0.6, 0.05
    while True:
        mus = max(0.0, mu2_b - below) + np.arange(1, int(round((width + below) / _FC_STEP)) + 2) * _FC_STEP
        acc = _fc_accepted(mus[None, :], b_grid[:, None], n0, cl).reshape(b_grid.size, mus.size)
        if not acc[:, -1].any():
            break
        width *= 2.0
    if not acc.any():
        return mu2_b
    top = np.where(acc, mus[None, :], -np.inf).max(axis=1)

    def peak_from(k: int) -> float:
        """Follow the island seen at b_grid[k] back to its birth; return its top edge there."""
        hi_b = float(b_grid[k])
        center = _fc_fine_top(n0, hi_b, cl, float(top[k]), half=_FC_STEP)
        while True:
            lo_b = max(b, hi_b - _FC_STEP)
            if lo_b == hi_b:
                return center  # the island already exists at b itself
            t = _fc_fine_top(n0, lo_b, cl, center)
            if t == -math.inf:
                break
            hi_b, center = lo_b, t
        for _ in range(22):  # bisection for the birth, following the top edge
            mid = 0.5 * (lo_b + hi_b)
            t = _fc_fine_top(n0, mid, cl, center)
            if t > -math.inf:
                hi_b, center = mid, t
            else:
                lo_b = mid
        return center

    # each tooth starts where the grid top jumps up; the grids quantise (and, for a young island,
    # underestimate) its peak, so follow every tooth whose grid top is within 0.03 of the best one
    # back to its birth and keep the highest
    finite = np.isfinite(top)
    rises = [i for i in np.flatnonzero(finite) if i == 0 or not finite[i - 1] or top[i] > top[i - 1] + 1e-12]
    starts = [i for i in rises if top[i] >= max(float(top.max()), mu2_b) - 0.03]
    return max([mu2_b] + [peak_from(int(i)) for i in starts])


def fc_interval(n_obs, background, cl=0.9) -> tuple[float, float]:
    """Feldman-Cousins unified confidence interval [mu1, mu2] for a Poisson signal mean.

    Feldman & Cousins, Phys. Rev. D 57 (1998) 3873: Neyman construction with the likelihood-ratio
    ordering of eq. (4.1), R = P(n | mu + b) / P(n | mu_best + b), mu_best = max(0, n - b), on a mu
    grid of step 0.005 refined by bisection; with FC98's two corrections of Sec. IV (extreme
    accepted mu when the accepted set is not connected; mu2 made non-increasing in b), so Table IV
    is reproduced: e.g. 90% CL, b = 0: n=0 -> [0, 2.44], n=1 -> [0.11, 4.36]; n=0, b=3 -> [0, 1.08].

    Parameters: ``n_obs`` observed events (integer >= 0), ``background`` known mean background
    (events, >= 0), ``cl`` confidence level in (0, 1). Returns (lower, upper) in events.
    """
    n0 = as_count("n_obs", n_obs)
    b = as_nonnegative("background", background)
    c = as_cl("cl", cl)
    check_sizes(n0, b, 0.0, "fc")
    mu1, mu2 = _fc_raw_interval(n0, b, c)
    mu2 = _fc_upper_max_over_background(n0, b, c, mu2)
    return float(mu1), float(mu2)


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


#: Feldman-Cousins builds its belt on a grid of mu step 0.005 over ~sqrt(n + b) counts: beyond these
#: sizes it takes minutes and the asymptotic CLs answer is the one to use
FC_MAX_COUNT = 1000


def check_sizes(n: int, b: float, db: float, method: str) -> None:
    """Refuse counts that float64 cannot resolve, and FC problems too large to construct."""
    for name, x in (("n_obs", n), ("background", b), ("background_uncertainty", db)):
        if x > MAX_COUNT:
            raise ValueError(f"{name} {x:.6g} is above {MAX_COUNT:g} events: counts that large cannot be told "
                             "from their neighbours in double precision")
    if method == "fc" and max(n, b) > FC_MAX_COUNT:
        raise ValueError(f"method='fc' builds its belt for counts up to {FC_MAX_COUNT} (got n_obs={n}, "
                         f"background={b:g}); use method='cls' (asymptotically the same there)")


def _upper_limit_scalar(n_obs, background, background_uncertainty, cl, method) -> float:
    n = as_count("n_obs", n_obs)
    b, db = as_background(background, background_uncertainty)
    c = as_cl("cl", cl)
    m = as_choice("method", method, METHODS)
    check_sizes(n, b, db, m)
    if m == "cls":
        return float(_cls_upper(n, b, db, c))
    if db > 0.0:
        raise ValueError(
            "method='fc' supports a known background only (background_uncertainty=0); use method='cls'"
        )
    return fc_interval(n, b, c)[1]


def upper_limit(n_obs, background=0.0, background_uncertainty=0.0, cl=0.9, method="cls"):
    """Upper limit on the signal mean s (events) given ``n_obs`` events over ``background`` +- its sd.

    ``method="cls"`` (default): solve CLs(s) = 1 - cl (Read 2002; Brent's method on
    log CLs), background integrated over a Gamma prior (mean b, sd db; Cousins & Highland 1992) when
    ``background_uncertainty`` > 0, exactly the fixed-b result when it is 0. n_obs = 0 gives
    -ln(1 - cl) = 2.302585 at 90% CL whatever the background.
    ``method="fc"``: the upper end of :func:`fc_interval` (known background only).

    Scalars give a float; array-like arguments are broadcast and give an ndarray of floats.
    Bad input (negative or non-integer counts, negative/NaN backgrounds, cl outside (0, 1), unknown
    method) raises ``ValueError``.
    """
    args = (n_obs, background, background_uncertainty, cl)
    if all(np.ndim(a) == 0 for a in args):
        return _upper_limit_scalar(n_obs, background, background_uncertainty, cl, method)
    bn, bb, bdb, bcl = np.broadcast_arrays(*(np.asarray(a, dtype=object) for a in args))
    out = np.empty(bn.shape, dtype=float)
    for idx in np.ndindex(bn.shape):
        out[idx] = _upper_limit_scalar(bn[idx], bb[idx], bdb[idx], bcl[idx], method)
    return out


def limit_report(n_obs, background=0.0, background_uncertainty=0.0, cl=0.9, method="cls") -> dict:
    """Machine-readable upper limit for the CLI: the inputs echoed plus ``"upper_limit"``.

    Keys: ``n_obs``, ``background``, ``background_uncertainty``, ``cl``, ``method``,
    ``background_prior`` ("none" or "gamma"), ``upper_limit`` (events); for ``method="fc"`` also
    ``lower_limit``. All values are plain Python types (JSON-serialisable).
    """
    n = as_count("n_obs", n_obs)
    b, db = as_background(background, background_uncertainty)
    c = as_cl("cl", cl)
    m = as_choice("method", method, METHODS)
    check_sizes(n, b, db, m)
    report = {
        "n_obs": n,
        "background": b,
        "background_uncertainty": db,
        "cl": c,
        "method": m,
        "background_prior": "gamma" if db > 0.0 else "none",
    }
    if m == "fc":
        if db > 0.0:
            raise ValueError(
                "method='fc' supports a known background only (background_uncertainty=0); use method='cls'"
            )
        lo, hi = fc_interval(n, b, c)
        report["lower_limit"] = lo
        report["upper_limit"] = hi
    else:
        report["upper_limit"] = float(_cls_upper(n, b, db, c))
    return report
