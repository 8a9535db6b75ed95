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
    "sf_background",
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


def cdf_total(n: int, s: float, b: float, db: float = 0.0) -> float:
    """P(N <= n) for N = S + B, S ~ Poisson(s), B the (prior-integrated) background count.

    P(N <= n) = sum_j P_B(j) P(S <= n - j): the Cousins-Highland integral over the Gamma prior
    done exactly by the negative-binomial mixture (module docstring).
    """
    p_b = pmf_background(n, b, db)
    cdf_s = np.cumsum(pmf_poisson(n, s))
    return float(np.dot(p_b, cdf_s[::-1]))


def sf_background(n: int, b: float, db: float = 0.0) -> float:
    """One-sided background-only p-value P(N >= n) of the (prior-integrated) background count.

    Summed directly over the upper tail (no 1 - cdf cancellation), so values far below 1e-16 are
    accurate: e.g. P(N >= 3 | b = 0.007) = 5.7e-8.
    """
    if n <= 0:
        return 1.0
    if b == 0.0:
        return 0.0
    mean_plus = b + 10.0 * math.sqrt(b + db * db) + 10.0
    if n <= b:
        # the bulk is above n: 1 - P(N < n) has no cancellation problem here
        return float(max(0.0, 1.0 - pmf_background(n - 1, b, db).sum()))
    # upper tail: for j > b the terms fall off (ratio (b + (j-1) theta)/(j (1+theta)) < 1); extend
    # the summation range until the last term is negligible (e^-40) relative to the sum
    size = int(max(n, mean_plus)) + 64
    while True:
        tail = log_pmf_background(size, b, db)[n:]
        top = float(tail.max())
        if top == -math.inf:
            return 0.0
        rel = np.exp(tail - top)
        if tail[-1] - top - math.log(rel.sum()) < -40.0 or size > 50_000_000:
            return math.exp(top) * float(rel.sum())
        size *= 2


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
