"""Per-mass exclusion edges: lower and upper coupling where N(m, g) = N_limit.

Brackets come from log N on a coarse log-coupling grid; each crossing is refined by safeguarded
Newton steps on log g with the autodiff derivative (fipscan.kernels.roots), to 1e-4 relative in g
or better.  At a mass where N exceeds the limit on several disjoint intervals (islands), the lower
edge is the first upward crossing and the upper edge the last downward crossing; the traced
polygon of fipscan.contour.trace keeps the islands apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.kernels import yields as kyields
from fipscan.kernels.roots import bracketed_newton, sign_change_brackets

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
    """log N on the (Nm, Ng) grid (the fast Horner kernel in log form: finite where N underflows)."""
    log_pot = jnp.log(jnp.asarray(pot, tables.weights.dtype))
    return kyields.log_events_grid(jnp.asarray(log_g), tables.weights, tables.log_s1, tables.a_edges, log_pot,
                                   tables.n_prod, tables.n_width)


@jax.jit
def _refine(weights, log_s1, a_edges, log_pot, log_n_limit, lo, hi, n_prod, n_width):
    def fun(x, W, ls):
        return kyields.log_events(x, W, ls, a_edges, log_pot, n_prod, n_width) - log_n_limit

    def one(W, ls, a, b):
        return bracketed_newton(fun, a, b, args=(W, ls), n_iter=60, xtol=XTOL)

    return jax.vmap(one)(weights, log_s1, lo, hi)


def per_mass_contour(tables, pot, n_limit, log_g_grid, *, logn=None) -> PerMassContour:
    """Per-mass lower/upper couplings with N = n_limit, from a grid bracket plus Newton on log g.

    logn: log N on (masses, log_g_grid) at this ``pot`` if already computed (log_events_grid); N is
    proportional to the POT, so one grid serves every limit and every POT by a shift.
    """
    log_g_grid = jnp.asarray(log_g_grid, tables.weights.dtype)
    if logn is None:
        logn = log_events_grid(tables, log_g_grid, pot)
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
    log_pot = jnp.log(jnp.asarray(pot, tables.weights.dtype))
    args = (tables.weights, tables.log_s1, tables.a_edges, log_pot, jnp.log(n_limit))
    xl, _, cl = _refine(*args, jnp.asarray(xg[r_idx]), jnp.asarray(xg[r_idx + 1]), tables.n_prod, tables.n_width)
    xu, _, cu = _refine(*args, jnp.asarray(xg[f_idx]), jnp.asarray(xg[f_idx + 1]), tables.n_prod, tables.n_width)
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
    return PerMassContour(np.asarray(tables.masses), lower, upper, lower_edge, upper_edge, conv, float(n_limit))
