"""Per-mass exclusion edges: lower and upper coupling where N(m, g) = N_limit.

Brackets come from log N on the scan's log-coupling grid; each crossing is refined by safeguarded
Newton steps on log g with the autodiff derivative (fipscan.kernels.roots), started from the secant
root of the two bracketing grid values and evaluated with the fast log kernel
(kernels.yields.log_events_at), to 1e-7 in log g; masses without a crossing take no Newton step.  At a mass where N exceeds the limit on several disjoint intervals (islands), the lower
edge is the first upward crossing and the upper edge the last downward crossing; the traced
polygon of fipscan.contour.trace keeps the islands apart.

N is read only through the :class:`fipscan.searches.Search` protocol (``log_events_grid`` for the
brackets, ``log_events_at`` for Newton); yield tables are wrapped by :func:`fipscan.searches.as_search`.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.kernels.roots import bracketed_newton, sign_change_brackets
from fipscan.searches import as_search

__all__ = ["PerMassContour", "per_mass_contour", "log_events_grid"]

#: Newton tolerance on log g (1e-4 relative in g is what the contour promises; we go further)
XTOL = 1e-7


@dataclass(frozen=True)
class PerMassContour:
    """Lower and upper excluded coupling per mass (NaN where nothing is excluded).

    ``lower_at_edge`` / ``upper_at_edge`` flag masses where the excluded interval reaches the end
    of the coupling grid (the true edge lies outside the scanned range).
    """

    masses: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lower_at_edge: np.ndarray
    upper_at_edge: np.ndarray
    converged: np.ndarray
    n_limit: float

    @property
    def excluded(self) -> np.ndarray:
        return np.isfinite(self.lower) & np.isfinite(self.upper)

    def rows(self):
        """(mass, lower, upper) for every mass that has an excluded interval."""
        ok = self.excluded
        return list(zip(self.masses[ok], self.lower[ok], self.upper[ok]))


def log_events_grid(tables, log_g, pot):
    """log N on the (Nm, Ng) grid of ``tables`` (yield tables or a Search), finite where N underflows
    when the search can give it (for yield tables: the fast Horner kernel in log form)."""
    return as_search(tables).log_events_grid(jnp.asarray(log_g), pot, finite=True)


@jax.jit
def _refine(search, pot, log_n_limit, lo, hi, x_init):
    """Safeguarded Newton on log g for every mass at once, on the search's ``log_events_at`` (for
    yield tables the fast log kernel kernels.yields.log_events_at: the same N as the per-cell form
    to ~1e-13)."""
    def fun(x, i):
        return search.log_events_at(i, x, pot) - log_n_limit

    def one(i, a, b, x0):
        return bracketed_newton(fun, a, b, args=(i,), n_iter=60, xtol=XTOL, x_init=x0)

    return jax.vmap(one)(jnp.arange(lo.shape[0]), lo, hi, x_init)


def _brackets(xg, f, idx, has_crossing):
    """(lo, hi, secant root) per mass for the grid interval ``idx``; a zero-width bracket where the
    mass has no such crossing (Newton then takes no step)."""
    rows = np.arange(f.shape[0])
    f0, f1 = f[rows, idx], f[rows, idx + 1]
    lo, hi = xg[idx], xg[idx + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        secant = lo - f0 * (hi - lo) / (f1 - f0)
    secant = np.where(np.isfinite(secant), secant, 0.5 * (lo + hi))
    hi = np.where(has_crossing, hi, lo)
    return jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(secant)


def per_mass_contour(tables, pot, n_limit, log_g_grid, *, logn=None) -> PerMassContour:
    """Per-mass lower/upper couplings with N = n_limit, from a grid bracket plus Newton on log g.

    tables: yield tables or any :class:`fipscan.searches.Search`; pot: protons on target; log_g_grid:
    natural-log couplings (Ng,) bracketing the roots.

    logn: log N on (masses, log_g_grid) at this ``pot`` if already computed (log_events_grid, or the
    log of events_grid with -inf where N underflows: only the sign of log N - log N_limit on the grid
    is used, to bracket the roots); N is proportional to the POT, so one grid serves every limit and
    every POT by a shift.
    """
    search = as_search(tables)
    dtype = jnp.result_type(search.masses)
    log_g_grid = jnp.asarray(log_g_grid, dtype)
    if logn is None:  # for yield tables the plain grid kernel (5x faster than the log one)
        logn = search.log_events_grid(log_g_grid, pot)
    f = np.asarray(logn) - np.log(n_limit)
    xg = np.asarray(log_g_grid)
    rising, falling = (np.asarray(a) for a in sign_change_brackets(xg, f))
    nm = f.shape[0]
    lower = np.full(nm, np.nan)
    upper = np.full(nm, np.nan)
    lower_edge = np.zeros(nm, bool)
    upper_edge = np.zeros(nm, bool)
    conv = np.ones(nm, bool)
    above = f >= 0
    has = above.any(axis=1)
    # bracket indices (use 0 placeholders where absent; results are masked afterwards)
    r_idx = np.where(rising.any(axis=1), rising.argmax(axis=1), 0)
    f_idx = np.where(falling.any(axis=1), falling.shape[1] - 1 - falling[:, ::-1].argmax(axis=1), 0)
    args = (search, jnp.asarray(pot, dtype), jnp.log(n_limit))
    xl, _, cl = _refine(*args, *_brackets(xg, f, r_idx, has & ~above[:, 0]))
    xu, _, cu = _refine(*args, *_brackets(xg, f, f_idx, has & ~above[:, -1]))
    xl, xu, cl, cu = (np.asarray(a) for a in (xl, xu, cl, cu))
    for i in range(nm):
        if not has[i]:
            continue
        if above[i, 0]:
            lower[i], lower_edge[i] = np.exp(xg[0]), True
        else:
            lower[i] = np.exp(xl[i])
            conv[i] &= bool(cl[i])
        if above[i, -1]:
            upper[i], upper_edge[i] = np.exp(xg[-1]), True
        else:
            upper[i] = np.exp(xu[i])
            conv[i] &= bool(cu[i])
    return PerMassContour(np.asarray(search.masses), lower, upper, lower_edge, upper_edge, conv, float(n_limit))
