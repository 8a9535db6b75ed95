"""Counting distributions and a bracketing root finder (numpy and the standard library only).

The background prior
--------------------
When the expected background ``b`` carries an uncertainty ``db > 0`` we integrate it out over a
Gamma prior with mean ``b`` and standard deviation ``db`` (shape ``k = (b/db)**2``, scale
``theta = db**2/b``), following the prescription of Cousins & Highland, Nucl. Instrum. Meth. A320
(1992) 331 (average the Poisson probability over the prior of the uncertain nuisance parameter, here
the background). The Gamma prior is non-negative by construction and is the posterior of a
background estimated from a sideband count (Cousins, Linnemann & Tucker, Nucl. Instrum. Meth. A595
(2008) 480, who discuss this Gamma-Poisson mixture). Its Poisson mixture is the negative binomial,

    P(N = j) = Gamma(j + k) / (Gamma(k) j!) * (theta/(1+theta))**j * (1+theta)**(-k),

so every background-integrated probability below is an exact finite sum, not a numerical integral.
We evaluate it by the ratio recursion

    P(j)/P(j-1) = (b + (j-1) theta) / (j (1 + theta)),   P(0) = exp(-b log1p(theta)/theta),

(using k theta = b), which is stable for any k and reduces term by term to the Poisson recursion
b/j, P(0) = exp(-b) at theta = 0: with ``db = 0`` the code path *is* the Poisson one.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "log_pmf_background",
    "pmf_background",
    "pmf_poisson",
    "cdf_total",
    "log_cdf_total",
    "log_cdf_background",
    "log_pmf_range",
    "sf_background",
    "log_sf_background",
    "log_normal_cdf",
    "log_normal_sf",
    "WINDOW_MAX",
    "MAX_COUNT",
    "brentq",
    "normal_sf",
    "normal_isf",
]

_EPS = np.finfo(float).eps


def _theta(b: float, db: float) -> float:
    """Gamma-prior scale theta = db**2 / b (0 for a known background)."""
    return 0.0 if db == 0.0 else db * db / b


def log_pmf_background(n_max: int, b: float, db: float = 0.0) -> np.ndarray:
    """log P(N = j), j = 0..n_max, of the background count (Poisson, or negative binomial for db > 0).

    Units: counts. See the module docstring for the Gamma prior (Cousins & Highland 1992).
    ``b = 0`` gives the point mass at 0 (``db`` must then be 0).
    """
    j = np.arange(1, n_max + 1, dtype=float)
    out = np.empty(n_max + 1)
    if b == 0.0:
        out[0] = 0.0
        out[1:] = -np.inf
        return out
    theta = _theta(b, db)
    out[0] = -b if theta == 0.0 else -b * math.log1p(theta) / theta
    if n_max > 0:
        steps = np.log(b + (j - 1.0) * theta) - np.log(j) - math.log1p(theta)
        out[1:] = out[0] + np.cumsum(steps)
    return out


def pmf_background(n_max: int, b: float, db: float = 0.0) -> np.ndarray:
    """P(N = j), j = 0..n_max, of the background count; see :func:`log_pmf_background`."""
    return np.exp(log_pmf_background(n_max, b, db))


def pmf_poisson(n_max: int, mean: float) -> np.ndarray:
    """Poisson P(N = j | mean), j = 0..n_max."""
    return pmf_background(n_max, mean, 0.0)


#: the longest window of counts summed term by term; beyond it (means above ~1e8 events, where the
#: count is Gaussian to ~1e-4) the tails use the normal approximation with continuity correction
WINDOW_MAX = 2_000_000
#: counts and means above this cannot be told from their neighbours in float64 (2**53 ~ 9e15): refused
MAX_COUNT = 1e15


def _lgamma_ratio(j: int, k: float) -> float:
    """log Gamma(j + k) - log Gamma(k) without the cancellation of two huge lgammas at large k."""
    if k < 1e6:
        return math.lgamma(j + k) - math.lgamma(k)
    # Stirling: (k - 1/2) log1p(j/k) + j log(j + k) - j + (1/(j + k) - 1/k)/12
    return (k - 0.5) * math.log1p(j / k) + j * math.log(j + k) - j + (1.0 / (j + k) - 1.0 / k) / 12.0


def log_pmf_range(j0: int, j1: int, b: float, db: float = 0.0) -> np.ndarray:
    """log P(N = j), j = j0..j1, of the background count (Poisson, or negative binomial for db > 0):
    the first term in closed form (log-gamma), the rest by the ratio recursion of the module docstring.
    Memory and time proportional to j1 - j0 only (not to j1)."""
    j0, j1 = int(j0), int(j1)
    if b == 0.0:
        out = np.full(j1 - j0 + 1, -np.inf)
        if j0 == 0:
            out[0] = 0.0
        return out
    theta = _theta(b, db)
    if theta == 0.0:
        lp0 = j0 * math.log(b) - b - math.lgamma(j0 + 1.0)
    else:
        k = b / theta
        lp0 = (_lgamma_ratio(j0, k) - math.lgamma(j0 + 1.0) + j0 * (math.log(theta) - math.log1p(theta))
               - k * math.log1p(theta))
    j = np.arange(j0 + 1, j1 + 1, dtype=float)
    steps = np.log(b + (j - 1.0) * theta) - np.log(j) - math.log1p(theta)
    return np.concatenate([[lp0], lp0 + np.cumsum(steps)])


def _logsumexp(x: np.ndarray) -> float:
    top = float(np.max(x)) if x.size else -math.inf
    if top == -math.inf:
        return -math.inf
    return top + math.log(float(np.exp(x - top).sum()))


def log_normal_cdf(z: float) -> float:
    """log Phi(z), accurate far into the lower tail (asymptotic series below z = -30)."""
    if z > -30.0:
        return math.log(0.5 * math.erfc(-z / math.sqrt(2.0))) if z < 8.0 else math.log1p(-0.5 * math.erfc(z / math.sqrt(2.0)))
    z2 = z * z
    return -0.5 * z2 - math.log(-z) - 0.5 * math.log(2.0 * math.pi) + math.log1p(-1.0 / z2 + 3.0 / z2**2 - 15.0 / z2**3)


def log_normal_sf(z: float) -> float:
    """log(1 - Phi(z)): the one-sided Gaussian tail in log space (finite for any finite z)."""
    return log_normal_cdf(-z)


def _spread(b: float, db: float) -> tuple[float, float]:
    """(mean, how far a window must reach around it): 40 sd plus 50 steps of the NB tail scale."""
    sd = math.sqrt(b + db * db)
    return b, 40.0 * sd + 50.0 * (1.0 + _theta(b, db)) + 50.0


def log_cdf_background(n: int, b: float, db: float = 0.0) -> float:
    """log P(N <= n) of the background count, for any n and b (window sum, Gaussian beyond WINDOW_MAX)."""
    if n < 0:
        return -math.inf
    if b == 0.0:
        return 0.0
    mu, reach = _spread(b, db)
    j0 = max(0, int(min(n, mu) - 2.0 * reach))
    j1 = min(n, int(mu + reach))  # terms above the bulk are negligible
    if j1 - j0 > WINDOW_MAX:
        return log_normal_cdf((n + 0.5 - mu) / math.sqrt(b + db * db))
    return min(0.0, _logsumexp(log_pmf_range(j0, j1, b, db)))


def log_cdf_total(n: int, s: float, b: float, db: float = 0.0) -> float:
    """log P(N <= n) for N = S + B, S ~ Poisson(s), B the (prior-integrated) background count: the
    Cousins-Highland mixture summed over a window of B around its bulk (module docstring); Gaussian
    with continuity correction when the window would exceed WINDOW_MAX counts."""
    n = int(n)
    if db == 0.0:
        return log_cdf_background(n, s + b, 0.0)
    mu, reach = _spread(b, db)
    reach += 40.0 * math.sqrt(s) + 50.0
    j0 = max(0, int(min(n, mu) - 2.0 * reach))
    j1 = min(n, int(mu + reach))
    if j1 < j0:
        j0 = j1 = n
    i0 = max(0, int(min(n - j1, s) - 2.0 * (40.0 * math.sqrt(s) + 50.0)))
    if (j1 - j0) + (n - j0 - i0) > WINDOW_MAX:
        return log_normal_cdf((n + 0.5 - s - b) / math.sqrt(s + b + db * db))
    log_pb = log_pmf_range(j0, j1, b, db)
    # log P(S <= m) for m = i0..n - j0, accumulated from i0 (terms below it are negligible)
    log_cdf_s = np.logaddexp.accumulate(log_pmf_range(i0, n - j0, s, 0.0))
    m = n - np.arange(j0, j1 + 1) - i0
    terms = np.where(m >= 0, log_pb + log_cdf_s[np.clip(m, 0, None)], -np.inf)
    return min(0.0, _logsumexp(terms))


def cdf_total(n: int, s: float, b: float, db: float = 0.0) -> float:
    """P(N <= n) for N = S + B, S ~ Poisson(s), B the (prior-integrated) background count.

    P(N <= n) = sum_j P_B(j) P(S <= n - j): the Cousins-Highland integral over the Gamma prior
    done exactly by the negative-binomial mixture (module docstring); see :func:`log_cdf_total`.
    """
    return math.exp(log_cdf_total(n, s, b, db))


def log_sf_background(n: int, b: float, db: float = 0.0) -> float:
    """log P(N >= n) of the (prior-integrated) background count, summed over the upper tail (no
    1 - cdf cancellation; finite far below 1e-308); Gaussian beyond WINDOW_MAX counts."""
    n = int(n)
    if n <= 0:
        return 0.0
    if b == 0.0:
        return -math.inf
    mu, reach = _spread(b, db)
    if n <= mu:
        # the bulk is above n: 1 - P(N < n) has no cancellation problem here
        return math.log1p(-min(1.0, math.exp(log_cdf_background(n - 1, b, db))))
    j1 = int(max(n, mu) + reach)
    if j1 - n > WINDOW_MAX:
        return log_normal_cdf(-(n - 0.5 - mu) / math.sqrt(b + db * db))
    return _logsumexp(log_pmf_range(n, j1, b, db))


def sf_background(n: int, b: float, db: float = 0.0) -> float:
    """One-sided background-only p-value P(N >= n) of the (prior-integrated) background count.

    Summed directly over the upper tail (no 1 - cdf cancellation), so values far below 1e-16 are
    accurate: e.g. P(N >= 3 | b = 0.007) = 5.7e-8.  See :func:`log_sf_background` for values below
    the smallest double.
    """
    return math.exp(log_sf_background(n, b, db))


def brentq(f, a: float, b: float, xtol: float = 1e-12, rtol: float = 8.0 * _EPS, maxiter: int = 200) -> float:
    """Root of ``f`` in the bracket [a, b] (f(a), f(b) of opposite sign) by Brent's method.

    Brent, *Algorithms for Minimization without Derivatives* (Prentice-Hall 1973), ch. 4 ("zero"):
    inverse quadratic interpolation or secant steps, falling back to bisection whenever the
    interpolated step does not shrink the bracket fast enough; the bracket is always kept.
    """
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0.0) == (fb > 0.0):
        raise ValueError(f"brentq: the bracket [{a}, {b}] does not change sign")
    c, fc = a, fa
    d = e = b - a
    for _ in range(maxiter):
        if (fb > 0.0) == (fc > 0.0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, fa = b, fb
            b, fb = c, fc
            c, fc = a, fa
        tol = 2.0 * rtol * abs(b) + 0.5 * xtol
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0.0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p, q = 2.0 * m * s, 1.0 - s
            else:
                q, r = fa / fc, fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b = b + (d if abs(d) > tol else math.copysign(tol, m))
        fb = f(b)
    raise RuntimeError("brentq: no convergence")


def normal_sf(z: float) -> float:
    """One-sided Gaussian tail 1 - Phi(z) = erfc(z/sqrt 2)/2 (e.g. 2.8665e-7 at z = 5)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_isf(p: float) -> float:
    """Inverse of :func:`normal_sf`: the z with 1 - Phi(z) = p, 0 < p < 1 (solved in log p)."""
    target = math.log(p)
    return brentq(lambda z: math.log(max(normal_sf(z), 1e-320)) - target, -38.0, 38.0, xtol=1e-13)
