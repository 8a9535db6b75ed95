"""Discovery thresholds: the fewest observed events that reject the background-only hypothesis.

Conventions
-----------
* Z sigma <-> p-value: one-sided Gaussian tail, p = 1 - Phi(Z) (Cowan, Cranmer, Gross & Vitells,
  Eur. Phys. J. C71 (2011) 1554: Z = Phi^-1(1 - p)); 5 sigma is p = 2.8665e-7.
* Local p-value of n observed events over a background b: p(n) = P(N >= n | b), summed directly over
  the upper tail. With a background uncertainty db the probability is integrated over the Gamma prior
  of mean b and sd db (Cousins & Highland, Nucl. Instrum. Meth. A320 (1992) 331; exact
  negative-binomial sums, see :mod:`fipscan.stats._poisson`).
* Global (look-elsewhere) threshold for a peak search over a mass window with a flat background in
  the invariant mass: see :func:`trials_factor` and :func:`min_observed_global`.

A background summed over signal and control regions (an SR+CR count) needs no special function:
call the same function with the summed background (and the summed uncertainty).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_background, as_choice, as_cl, as_count, as_finite, as_nonnegative, as_positive
from ._poisson import MAX_COUNT, log_normal_sf, log_sf_background, normal_isf, normal_sf, sf_background

__all__ = [
    "sigma_to_pvalue",
    "pvalue_to_sigma",
    "background_only_pvalue",
    "min_observed_for_discovery",
    "trials_factor",
    "local_pvalue_threshold",
    "min_observed_global",
    "discovery_report",
    "background_free",
    "scaled_background",
    "GLOBAL_METHODS",
]

GLOBAL_METHODS = ("trials", "bonferroni")


def sigma_to_pvalue(sigma) -> float:
    """One-sided p-value of a Z-sigma excess, p = 1 - Phi(Z) (Cowan et al., EPJC 71 (2011) 1554).

    ``sigma_to_pvalue(5) = 2.8665e-7``, ``sigma_to_pvalue(3) = 1.3499e-3``.
    """
    return normal_sf(as_finite("sigma", sigma))


def pvalue_to_sigma(pvalue) -> float:
    """Inverse of :func:`sigma_to_pvalue`: Z = Phi^-1(1 - p) for a one-sided p-value in (0, 1)."""
    p = as_cl("pvalue", pvalue)
    return normal_isf(p)


def background_only_pvalue(n_obs, background, background_uncertainty=0.0) -> float:
    """Local p-value P(N >= n_obs | b) of the background-only hypothesis.

    Poisson for a known background; with ``background_uncertainty`` > 0 integrated over the Gamma
    prior (mean b, sd db) following Cousins & Highland 1992 (negative-binomial tail). Accurate far
    below 1e-16 (direct tail sum), e.g. P(N >= 3 | 0.007) = 5.687e-8.
    """
    n = as_count("n_obs", n_obs)
    b, db = as_background(background, background_uncertainty)
    return sf_background(n, b, db)


#: the largest significance accepted: its one-sided tail is e^-5000; beyond it no count is meaningful
MAX_SIGMA = 100.0


def scaled_background(background, background_uncertainty, pot_reference, pot) -> tuple[float, float]:
    """(b, db) expected at ``pot`` protons on target from (b, db) stated at ``pot_reference``: both scale
    linearly with the POT (the backgrounds of a beam-dump search are per proton: the same selection on more
    data).  InputError for negative backgrounds or a non-positive POT."""
    b, db = as_background(background, background_uncertainty)
    r = as_positive("pot", pot) / as_positive("pot_reference", pot_reference)
    return b * r, db * r


def background_free(background, background_uncertainty=0.0, cl=0.9) -> bool:
    """Whether a search is background-free at confidence level ``cl``: the background alone gives at least one
    event with probability P(N >= 1 | b, db) <= 1 - cl (the background integrated over its Gamma prior, as
    everywhere here).  Then an observation of zero events is the expected outcome at that CL and the limit is
    the background-free one (-ln(1 - cl) = 2.30 events at 90% CL).  NA62 (EPJC 85 (2025) 571) calls its
    hadronic searches background-free at 1.4e17 and at 1e18 POT (tests/test_stats_discovery.py checks the
    signal-region backgrounds against it, scaled with :func:`scaled_background`)."""
    b, db = as_background(background, background_uncertainty)
    cl = as_cl("cl", cl)
    if b == 0.0:
        return True
    return sf_background(1, b, db) <= 1.0 - cl


def _check_discovery_sizes(b: float, db: float, z: float) -> None:
    if z > MAX_SIGMA:
        raise ValueError(f"sigma {z:g} is above {MAX_SIGMA:g} (a one-sided tail below e^-5000); give a "
                         "significance of at most 100")
    for name, x in (("background", b), ("background_uncertainty", db)):
        if x > MAX_COUNT:
            raise ValueError(f"{name} {x:.6g} is above {MAX_COUNT:g} events: counts that large cannot be told "
                             "from their neighbours in double precision")


def _min_n_for_pvalue(b: float, db: float, log_p_threshold: float) -> int:
    """Smallest n >= 1 with log P(N >= n | b, db) < log_p_threshold (the p-value falls with n); in log
    space, so thresholds below the smallest double (40 sigma is 1e-350) are reached."""
    if b == 0.0:
        return 1  # P(N >= 1 | 0) = 0: a single event is significant
    if log_sf_background(1, b, db) < log_p_threshold:
        return 1
    lo, hi = 1, 2  # invariant: sf(lo) >= threshold
    while log_sf_background(hi, b, db) >= log_p_threshold:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if log_sf_background(mid, b, db) < log_p_threshold:
            hi = mid
        else:
            lo = mid
    return hi


def min_observed_for_discovery(background, background_uncertainty=0.0, sigma=5.0) -> int:
    """Minimum number of observed events whose local background-only p-value is below Z sigma.

    The smallest n with P(N >= n | b) < 1 - Phi(Z) (one-sided; 2.8665e-7 for Z = 5), the background
    prior-integrated when ``background_uncertainty`` > 0 (Cousins & Highland 1992). Example: b = 0.007
    gives 3, because P(N >= 2) = 2.44e-5 is above and P(N >= 3) = 5.7e-8 below the 5-sigma tail.
    For a background summed over signal and control regions pass the summed background.
    """
    b, db = as_background(background, background_uncertainty)
    z = as_positive("sigma", sigma)
    _check_discovery_sizes(b, db, z)
    return _min_n_for_pvalue(b, db, log_normal_sf(z))


def _resolution_function(mass_resolution):
    if callable(mass_resolution):
        return mass_resolution
    r = as_positive("mass_resolution", mass_resolution)
    return lambda m: np.full_like(np.asarray(m, dtype=float), r)


def _check_window(mass_window) -> tuple[float, float]:
    if mass_window is None:
        raise ValueError("mass_window=(lo, hi) is required for a global (look-elsewhere) threshold")
    try:
        lo, hi = mass_window
    except (TypeError, ValueError):
        raise ValueError(f"mass_window must be a pair (lo, hi), got {mass_window!r}") from None
    lo = as_nonnegative("mass_window[0]", lo)
    hi = as_nonnegative("mass_window[1]", hi)
    if not hi > lo:
        raise ValueError(f"mass_window must have hi > lo, got ({lo}, {hi})")
    return lo, hi


def _sigma_on_grid(mass_window, mass_resolution, n_points: int = 2001) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = _check_window(mass_window)
    if mass_resolution is None:
        raise ValueError("mass_resolution (a number, or a function of the mass) is required")
    m = np.linspace(lo, hi, n_points)
    sig = np.asarray(_resolution_function(mass_resolution)(m), dtype=float)
    if sig.shape != m.shape:
        sig = np.broadcast_to(sig, m.shape)
    if not np.all(np.isfinite(sig)) or np.any(sig <= 0.0):
        raise ValueError("mass_resolution must be finite and > 0 everywhere in mass_window")
    return m, sig


def trials_factor(mass_window, mass_resolution, window_sigmas=2.0) -> float:
    """Number of independent signal windows in a peak search over ``mass_window`` = (lo, hi).

    Each signal window spans m +- k sigma(m) (k = ``window_sigmas``), so the number of independent
    trials is N = integral_lo^hi dm / (2 k sigma(m)) = (hi - lo) / (2 k sigma) for a constant
    resolution. This is the simple "range over resolution" estimate of the trial factor for the
    look-elsewhere effect; Gross & Vitells, Eur. Phys. J. C70 (2010) 525 show that the asymptotic
    trial factor grows linearly with this effective number of independent search regions (and with
    the local significance), so N is the leading, optimistic estimate. ``mass_resolution`` is a
    number or a function sigma(m) (same units as the window); the integral uses Simpson's rule on
    2001 points. Returns at least 1 (a window narrower than one signal window is one trial).
    """
    k = as_positive("window_sigmas", window_sigmas)
    m, sig = _sigma_on_grid(mass_window, mass_resolution)
    f = 1.0 / (2.0 * k * sig)
    h = (m[-1] - m[0]) / (m.size - 1)
    n = h / 3.0 * (f[0] + f[-1] + 4.0 * f[1:-1:2].sum() + 2.0 * f[2:-1:2].sum())
    return float(max(1.0, n))


def local_pvalue_threshold(p_global, n_trials, method="trials") -> float:
    """Local p-value that corresponds to a global p-value over ``n_trials`` independent windows.

    ``method="trials"``: p_local = 1 - (1 - p_global)**(1/N) (Sidak, independent trials), computed as
    -expm1(log1p(-p_global)/N) to keep precision at p ~ 1e-7; ``method="bonferroni"``:
    p_local = p_global / N (slightly more conservative).
    """
    p = as_cl("p_global", p_global)
    n = as_positive("n_trials", n_trials)
    m = as_choice("method", method, GLOBAL_METHODS)
    if m == "bonferroni":
        return p / n
    return -math.expm1(math.log1p(-p) / n)


def min_observed_global(
    background,
    sigma=5.0,
    mass_window=None,
    mass_resolution=None,
    background_uncertainty=0.0,
    method="trials",
    window_sigmas=2.0,
) -> int:
    """Minimum observed events in a signal window for a *global* Z-sigma discovery of a peak.

    Peak search over ``mass_window`` with a background flat in the invariant mass. ``background``
    (+- ``background_uncertainty``) is the total over the window. With N = :func:`trials_factor`
    independent signal windows of width 2 k sigma(m), the background in the window at mass m is
    b * 2 k sigma(m) / (hi - lo) (uncertainty scaled alike), and the local threshold is
    p_local = 1 - (1 - p_global)**(1/N) (``method="trials"``; ``"bonferroni"``: p_global / N), with
    p_global = 1 - Phi(Z). Returns the smallest n with P(N >= n | b_window) < p_local in the window
    with the most background (largest sigma(m)), i.e. enough for a discovery anywhere in the range.
    Look-elsewhere treatment after Gross & Vitells, Eur. Phys. J. C70 (2010) 525 (leading estimate).

    For a single window (N = 1, window as wide as the search) this is the local
    :func:`min_observed_for_discovery`. An SR+CR variant is the same call with the summed background.
    """
    b, db = as_background(background, background_uncertainty)
    z = as_positive("sigma", sigma)
    _check_discovery_sizes(b, db, z)
    meth = as_choice("method", method, GLOBAL_METHODS)
    k = as_positive("window_sigmas", window_sigmas)
    n_trials = trials_factor(mass_window, mass_resolution, k)
    m, sig = _sigma_on_grid(mass_window, mass_resolution)
    frac = min(1.0, float(2.0 * k * sig.max() / (m[-1] - m[0])))
    return _min_n_for_pvalue(b * frac, db * frac, _log_local_threshold(z, n_trials, meth))


def _log_local_threshold(z: float, n_trials: float, method: str) -> float:
    """log of :func:`local_pvalue_threshold` of the tail of ``z``; for tails below 1e-300 the Sidak and
    Bonferroni thresholds coincide (p/N) and are taken in log space."""
    log_p = log_normal_sf(z)
    if log_p > -650.0:
        p_local = local_pvalue_threshold(math.exp(log_p), n_trials, method)
        if p_local > 0.0:
            return math.log(p_local)
    return log_p - math.log(n_trials)


def discovery_report(
    background,
    background_uncertainty=0.0,
    sigma=5.0,
    mode="local",
    mass_window=None,
    mass_resolution=None,
    method="trials",
    window_sigmas=2.0,
) -> dict:
    """Machine-readable discovery threshold for the CLI.

    Keys: the inputs (``background``, ``background_uncertainty``, ``sigma``, ``mode``),
    ``p_threshold`` (the one-sided tail of ``sigma``), ``min_observed`` (int) and
    ``p_value_at_min`` (the background-only p-value of that count in the relevant window); for
    ``mode="global"`` also ``mass_window``, ``n_trials``, ``p_local_threshold``,
    ``background_per_window``, ``method`` and ``window_sigmas``. Plain Python types only.
    """
    b, db = as_background(background, background_uncertainty)
    z = as_positive("sigma", sigma)
    md = as_choice("mode", mode, ("local", "global"))
    _check_discovery_sizes(b, db, z)
    p_thr = normal_sf(z)
    report = {"background": b, "background_uncertainty": db, "sigma": z, "mode": md, "p_threshold": p_thr,
              "log10_p_threshold": log_normal_sf(z) / math.log(10.0)}
    if md == "local":
        n = _min_n_for_pvalue(b, db, log_normal_sf(z))
        report["min_observed"] = int(n)
        report["p_value_at_min"] = float(sf_background(n, b, db))
        report["log10_p_value_at_min"] = log_sf_background(n, b, db) / math.log(10.0)
        return report
    meth = as_choice("method", method, GLOBAL_METHODS)
    k = as_positive("window_sigmas", window_sigmas)
    n_trials = trials_factor(mass_window, mass_resolution, k)
    m, sig = _sigma_on_grid(mass_window, mass_resolution)
    frac = min(1.0, float(2.0 * k * sig.max() / (m[-1] - m[0])))
    log_p_local = _log_local_threshold(z, n_trials, meth)
    p_local = math.exp(log_p_local)
    n = _min_n_for_pvalue(b * frac, db * frac, log_p_local)
    report.update(
        {
            "mass_window": [float(m[0]), float(m[-1])],
            "method": meth,
            "window_sigmas": k,
            "n_trials": n_trials,
            "p_local_threshold": p_local,
            "background_per_window": b * frac,
            "min_observed": int(n),
            "p_value_at_min": float(sf_background(n, b * frac, db * frac)),
        }
    )
    return report
