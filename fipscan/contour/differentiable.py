"""A continuous, differentiable yield surface log N(log m, log g) and contour features with exact derivatives.

Continuous yield surface
------------------------
The yield tables (:class:`fipscan.yields.YieldTables`) hold, per mass node m_i, weights W_i[b, k] on
(FIP momentum bin b, decay cell k) and log inverse decay lengths log s1_i[b] at unit coupling.  Between
the nodes we interpolate **the ingredients, not log N**, in x = log m, each by monotone piecewise-cubic
Hermite interpolation (PCHIP: Fritsch & Carlson, SIAM J. Numer. Anal. 17 (1980) 238, with the
weighted-harmonic-mean slopes of Fritsch & Butland, SIAM J. Sci. Stat. Comput. 5 (1984) 300 -- the rule
of scipy's ``PchipInterpolator`` and MATLAB's ``pchip``):

* the total A(m) = sum_bk W_bk as log A (production falls steeply and smoothly with m: log is the
  natural variable),
* the shape w_bk = W_bk / A in [0, 1] linearly (cells that are empty at one node and filled at the next
  stay finite and well conditioned; in log space their derivatives would blow up),
* log s1_b (s ~ m Gamma / p with Gamma ~ m: nearly linear in log m),

and

    log N(x, y) = log N_POT + n_prod y + log A(x) + log sum_bk w_bk(x) P_bk(s_b(x, y)),
    s_b = exp(log s1_b(x) + n_width y),  y = log g,

with the stable cell decay probabilities log P_bk of :func:`fipscan.kernels.decay.cell_log_probabilities`
(summed with a weighted log-sum-exp).  Why this choice:

* at every node the surface *equals* the tables' log N (it interpolates; only a floor of
  ``sqrt(tiny)`` x max A is added to A so that a mass without acceptance has a finite log);
* the upper edge (s a ~ 1) depends on log s1, which is interpolated almost exactly, where
  interpolating log N itself at fixed g would be hopeless (log N falls by hundreds between nodes there);
* PCHIP is C1 in x (the traced contour has a continuous tangent across the nodes), never overshoots,
  keeps the shape non-negative, and reduces to linear interpolation with two nodes.

Its error against the exact tables at the midpoints between nodes is measured by
:func:`interpolation_error`.  Synthetic BC1-like tables, 10 nodes per decade: 2e-3 in log N (0.05% in
the lower-edge coupling; tests).  Real BC1/NA62 tables with 13 nodes per decade: <= 0.01 in log N
where the tables are smooth (0.01-0.1 GeV, 0.3-0.5 GeV), but up to ~1.5 in log N near the contour
(0.1-0.3 in ln eps of the edges) next to the mu mu threshold (0.21 GeV) and the rho/omega region
(0.6-0.9 GeV, Gamma_omega/m_omega ~ 1%): no interpolation can resolve structure narrower than the node
spacing, so the mass grid must be refined there.  At the nodes the surface is exact.

Experiment parameters
---------------------
:class:`ExperimentParams` holds the numbers that may be differentiated: the production point z_prod
(dump position), the decay-volume start and length, N_POT and the selection efficiency.  The decay
volume enters through the decay-cell edges: the new volume is split into as many uniform cells as the
tabulated one, and the weight of a new cell is the tabulated weight (acceptance x flux, an intensive
quantity per decay) **re-interpolated in z** at the new cell centre -- PCHIP through the tabulated cell
centres, constant beyond the outer centres.  Approximations (documented, tested for identity at the
reference): the acceptance of a decay at z does not depend on where the vacuum volume starts; moving
the dump keeps the acceptance at fixed absolute z and the FIP angular spectrum unchanged (only path
lengths a = z - z_prod change); the efficiency scales all final states together.  ``smooth=False``
gives the *hard* version used for reported numbers: piecewise-constant tabulated acceptance with the
exact, partial first and last cells (no re-interpolation); ``smooth=True`` is the C1 relaxation whose
gradients drive optimisation.  Decays outside the tabulated z range have no tabulated acceptance:
:meth:`ContourProblem.check` refuses such parameters.

Exact derivatives (implicit function theorem)
---------------------------------------------
With F(x, y; theta) = log N - log N_limit, an edge y*(x; theta) with F(x, y*) = 0 has
dy*/dtheta = -(dF/dtheta)/(dF/dy) (implicit function theorem, e.g. Krantz & Parks, "The Implicit
Function Theorem", Birkhaeuser 2002, thm 1.3.1); the tip of the region (highest excluded mass) solves
F = 0 and dF/dy = 0 jointly, and differentiating both equations gives the 2x2 system

    [F_x  F_y ] [dx]     [F_theta ]
    [F_yx F_yy] [dy] = - [F_ytheta],     (F_y = 0 at the tip).

Both are wrapped in ``jax.custom_jvp`` so the root solves (fixed-trip-count, jittable) are never
differentiated through; reverse mode follows by JAX's transposition of the linear tangent rule.
The excluded log-log area A = int (y_up - y_lo) dx up to the tip uses the substitution
x = x_tip - u^2 (the width vanishes like sqrt(x_tip - x) at the tip, so the integrand 2 u (y_up - y_lo)
is smooth in u) and Gauss-Legendre quadrature; by Leibniz' rule the moving end point adds nothing
because the width vanishes there.  Areas are in (ln m) x (ln g) units; divide by ln(10)^2 for decades^2.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from fipscan.errors import InputError
from fipscan.kernels.decay import cell_log_probabilities
from fipscan.kernels.numerics import log1mexp_from_log
from fipscan.kernels.roots import rtsafe
from fipscan.searches import as_search
from fipscan.searches.beam_dump import BeamDumpSearch

__all__ = [
    "YieldSurface",
    "make_surface",
    "smooth_surface",
    "surface_from_tables",
    "log_events_at",
    "log_events_and_dy",
    "pchip_slopes",
    "pchip_eval",
    "interpolation_error",
    "ExperimentParams",
    "ContourProblem",
    "contour_problem",
    "edges_at",
    "lower_edge",
    "upper_edge",
    "tip",
    "excluded_area",
    "reach",
    "contour_features",
    "feature_jacobian",
]


# ----------------------------------------------------------------------------------------------------
# monotone cubic Hermite interpolation (PCHIP)
# ----------------------------------------------------------------------------------------------------
def pchip_slopes(x, v):
    """Node slopes of the monotone piecewise-cubic Hermite interpolant of v(x) along axis 0.

    x: (n,) increasing; v: (n, ...).  Interior slopes: 0 where the secants change sign (or vanish),
    else the weighted harmonic mean (w1 + w2)/d = w1/delta_{k-1} + w2/delta_k with w1 = 2h_k + h_{k-1},
    w2 = h_k + 2h_{k-1} (Fritsch & Butland 1984, eq. (5); Fritsch & Carlson 1980).  End slopes: the
    one-sided three-point formula, set to 0 if its sign differs from the end secant and limited to
    3 x the secant when the secants change sign (Moler, "Numerical Computing with MATLAB", sec. 3.4,
    ``pchipend``).  Two nodes give the secant (linear interpolation).
    """
    x = jnp.asarray(x)
    v = jnp.asarray(v)
    n = x.shape[0]
    shape = (-1,) + (1,) * (v.ndim - 1)
    h = jnp.diff(x).reshape(shape)
    delta = jnp.diff(v, axis=0) / h
    if n == 2:
        return jnp.concatenate([delta, delta], axis=0)
    h0, h1 = h[:-1], h[1:]
    d0, d1 = delta[:-1], delta[1:]
    w1 = 2.0 * h1 + h0
    w2 = h1 + 2.0 * h0
    same = (d0 * d1) > 0
    inv = jnp.where(same, w1 / jnp.where(same, d0, 1.0) + w2 / jnp.where(same, d1, 1.0), 1.0)
    interior = jnp.where(same, (w1 + w2) / inv, 0.0)

    def end(hA, hB, dA, dB):
        d = ((2.0 * hA + hB) * dA - hA * dB) / (hA + hB)
        d = jnp.where(jnp.sign(d) != jnp.sign(dA), 0.0, d)
        limit = (jnp.sign(dA) != jnp.sign(dB)) & (jnp.abs(d) > jnp.abs(3.0 * dA))
        return jnp.where(limit, 3.0 * dA, d)

    first = end(h[0], h[1], delta[0], delta[1])[None]
    last = end(h[-1], h[-2], delta[-1], delta[-2])[None]
    return jnp.concatenate([first, interior, last], axis=0)


def _hermite(v0, v1, d0, d1, h, t):
    """Cubic Hermite on one interval: values v0, v1, slopes d0, d1, width h, local t in [0, 1]."""
    t2 = t * t
    t3 = t2 * t
    h00 = 2 * t3 - 3 * t2 + 1
    h10 = t3 - 2 * t2 + t
    h01 = -2 * t3 + 3 * t2
    h11 = t3 - t2
    return h00 * v0 + h10 * h * d0 + h01 * v1 + h11 * h * d1


def _interval(x_nodes, x):
    """Interval index i (clipped to [0, n-2]) and local coordinate t of x (unclipped: the end
    intervals' cubics extrapolate smoothly a little beyond the node range)."""
    n = x_nodes.shape[0]
    i = jnp.clip(jnp.searchsorted(x_nodes, x, side="right", method="compare_all") - 1, 0, n - 2)
    h = x_nodes[i + 1] - x_nodes[i]
    return i, h, (x - x_nodes[i]) / h


def pchip_eval(x_nodes, v, d, x):
    """Evaluate the PCHIP interpolant (nodes x_nodes, values v, slopes d from :func:`pchip_slopes`)
    at scalar x; v, d: (n, ...)."""
    i, h, t = _interval(x_nodes, x)
    return _hermite(v[i], v[i + 1], d[i], d[i + 1], h, t)


# ----------------------------------------------------------------------------------------------------
# the yield surface
# ----------------------------------------------------------------------------------------------------
@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class YieldSurface:
    """log N(x = log m, y = log g) between mass nodes (module docstring).

    W_bk(x) = A(x) w_bk(x): the total A = sum_bk W_bk is interpolated as log A, the shape w = W / A (in
    [0, 1]) linearly, both by PCHIP in x.  x_nodes (Nm,) log masses [log GeV]; log_a, dlog_a (Nm,);
    shape, dshape (Nm, Nb, Nz); log_s1, dlog_s1 (Nm, Nb); a_edges (Nz + 1,) path lengths [m] from the
    production point; log_pot.  extra: ((log_a, dlog_a, shape, dshape), ...) of production channels whose
    rate scales with other powers of the coupling, extra_n_prod (static) those powers: then
    log N = logsumexp over the groups of the formula of the module docstring, each with its own
    n_prod, A and shape and the common decay lengths (empty for single-power tables).
    """

    x_nodes: jax.Array
    log_a: jax.Array
    dlog_a: jax.Array
    shape: jax.Array
    dshape: jax.Array
    log_s1: jax.Array
    dlog_s1: jax.Array
    a_edges: jax.Array
    log_pot: jax.Array
    n_prod: float = field(metadata=dict(static=True), default=2.0)
    n_width: float = field(metadata=dict(static=True), default=2.0)
    uniform_cells: bool = field(metadata=dict(static=True), default=False)
    extra: tuple = ()
    extra_n_prod: tuple[float, ...] = field(metadata=dict(static=True), default=())

    @property
    def x_range(self) -> tuple[float, float]:
        return float(self.x_nodes[0]), float(self.x_nodes[-1])

    @property
    def dtype(self):
        return self.log_s1.dtype

    def node_weights(self):
        """W at the mass nodes (Nm, Nb, Nz), as reconstructed by the surface."""
        return jnp.exp(self.log_a)[:, None, None] * self.shape


def _split_weights(weights):
    """(log A, shape): A = sum_bk W_bk per mass with a floor sqrt(tiny) x max A (a mass without any
    acceptance gets a finite log; relative change <= 1e-150 in float64), shape = W / A in [0, 1]."""
    w = jnp.maximum(jnp.asarray(weights), 0.0)  # re-interpolated weights may round to -1e-300
    total = jnp.sum(w, axis=(-2, -1))
    rel = math.sqrt(float(jnp.finfo(w.dtype).tiny))
    floor = jax.lax.stop_gradient(rel * jnp.maximum(jnp.max(total), jnp.finfo(w.dtype).tiny / rel))
    has = total > 0
    shape = w / jnp.where(has, total, 1.0)[..., None, None]
    return jnp.log(total + floor), jnp.where(has[..., None, None], shape, 0.0)


@jax.jit
def _surface_nodes(masses, weights, log_s1, extra_weights):
    """The node arrays of :func:`make_surface` (log masses, log A, shapes and their PCHIP slopes), as one
    compiled program (op by op, outside a trace, they cost ~60 small compilations per shape)."""
    x = jnp.log(masses)
    log_a, shape = _split_weights(weights)
    groups = []
    for W in extra_weights:
        la, sh = _split_weights(W)
        groups.append((la, pchip_slopes(x, la), sh, pchip_slopes(x, sh)))
    return x, log_a, pchip_slopes(x, log_a), shape, pchip_slopes(x, shape), pchip_slopes(x, log_s1), tuple(groups)


def make_surface(masses, weights, log_s1, a_edges, log_pot, n_prod=2.0, n_width=2.0,
                 uniform_cells=None, extra=()) -> YieldSurface:
    """Build the surface from per-mass tables: masses (Nm,) [GeV] increasing, weights (Nm, Nb, Nz),
    log_s1 (Nm, Nb), a_edges (Nz + 1,) [m], log_pot = log N_POT.  Differentiable in every array.

    uniform_cells: the decay cells have equal widths (then log(1 - exp(-s w)) is computed once per
    momentum bin instead of once per cell: ~4x faster); None detects it when a_edges is concrete.
    extra: ((n, weights (Nm, Nb, Nz)), ...) of production channels scaling as g**n with n != n_prod
    (YieldTables.power_groups beyond the first).
    """
    masses = jnp.asarray(masses)
    if uniform_cells is None:
        try:
            w = np.diff(np.asarray(a_edges, float))
            uniform_cells = bool(np.allclose(w, w[0], rtol=1e-12, atol=0.0))
        except (TypeError, jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
            uniform_cells = False
    if masses.ndim != 1 or masses.shape[0] < 2:
        raise InputError("the yield surface needs at least two mass nodes")
    log_s1 = jnp.asarray(log_s1)
    x, log_a, dlog_a, shape, dshape, dlog_s1, groups = _surface_nodes(masses, weights, log_s1,
                                                                       tuple(W for _, W in extra))
    return YieldSurface(
        x_nodes=x, log_a=log_a, dlog_a=dlog_a, shape=shape, dshape=dshape,
        log_s1=log_s1, dlog_s1=dlog_s1, a_edges=jnp.asarray(a_edges),
        log_pot=jnp.asarray(log_pot, log_s1.dtype), n_prod=float(n_prod), n_width=float(n_width),
        uniform_cells=bool(uniform_cells), extra=tuple(groups), extra_n_prod=tuple(float(n) for n, _ in extra))


def surface_from_tables(tables, pot) -> YieldSurface:
    """The yield surface of ``precompute(...)`` tables (or of any Search) at ``pot`` protons on target:
    ``as_search(tables).surface(pot)``."""
    return as_search(tables).surface(pot)


def _terms(surface: YieldSurface, x, y):
    """Pieces of log N = log_pot + n_prod y + log A(x) + log sum_bk w_bk(x) exp(T_bk), with T_bk the log
    decay probability of cell k for momentum bin b; for uniform cells also the pieces of dT/dy."""
    i, h, t = _interval(surface.x_nodes, x)
    log_a = _hermite(surface.log_a[i], surface.log_a[i + 1], surface.dlog_a[i], surface.dlog_a[i + 1], h, t)
    shape = _hermite(surface.shape[i], surface.shape[i + 1], surface.dshape[i], surface.dshape[i + 1], h, t)
    shape = jnp.maximum(shape, 0.0)  # PCHIP keeps it >= 0 up to rounding
    log_s1 = _hermite(surface.log_s1[i], surface.log_s1[i + 1], surface.dlog_s1[i],
                      surface.dlog_s1[i + 1], h, t)
    log_s = log_s1 + surface.n_width * y
    base = surface.log_pot + surface.n_prod * y + log_a
    a = surface.a_edges
    if surface.uniform_cells:
        s = jnp.exp(log_s)
        width = a[1] - a[0]
        T = -s[:, None] * a[None, :-1] + log1mexp_from_log(log_s + jnp.log(width))[:, None]
        return base, shape, T, (s, width)
    return base, shape, cell_log_probabilities(log_s, a), None


def _weighted_exp(shape, T):
    """(top, shape * exp(T - top)) with top the largest T among cells of non-negligible weight, so the
    sum neither overflows nor loses the cells that carry the events (exponents capped at 700)."""
    mask = shape > 1e-30 * jnp.max(shape)
    top = jax.lax.stop_gradient(jnp.max(jnp.where(mask, T, -jnp.inf)))
    top = jnp.where(jnp.isfinite(top), top, 0.0)
    return top, shape * jnp.exp(jnp.minimum(T - top, 700.0))


def log_events_at(surface: YieldSurface, x, y):
    """log N at scalar x = log m [log GeV], y = log g (see module docstring for the formula; with
    power groups, the log-sum-exp of one such term per group)."""
    base, shape, T, _ = _terms(surface, x, y)
    top, e = _weighted_exp(shape, T)
    main = base + top + jnp.log(jnp.sum(e))
    if not surface.extra_n_prod:
        return main
    i, h, t = _interval(surface.x_nodes, x)
    parts = [main]
    for n, (la, dla, sh, dsh) in zip(surface.extra_n_prod, surface.extra):
        log_a = _hermite(la[i], la[i + 1], dla[i], dla[i + 1], h, t)
        shape_g = jnp.maximum(_hermite(sh[i], sh[i + 1], dsh[i], dsh[i + 1], h, t), 0.0)
        top_g, e_g = _weighted_exp(shape_g, T)
        parts.append(surface.log_pot + n * y + log_a + top_g + jnp.log(jnp.sum(e_g)))
    return logsumexp(jnp.stack(parts))


def log_events_and_dy(surface: YieldSurface, x, y):
    """(log N, d log N / d log g) at scalar (x, y) in one pass.

    Uniform cells: d/dy of T_bk = -s_b a_k + log(1 - exp(-s_b w)) is n_width (-s_b a_k + q_b) with
    q_b = v/expm1(v), v = s_b w (-> 1 as v -> 0); d log N/dy = n_prod + sum_bk p_bk dT_bk/dy with
    p = w exp(T) / sum(w exp(T)).  Other cells: forward-mode autodiff.
    """
    base, shape, T, pieces = _terms(surface, x, y)
    if pieces is None or surface.extra_n_prod:
        return jax.jvp(lambda yy: log_events_at(surface, x, yy), (y,), (jnp.ones_like(y),))
    s, width = pieces
    top, e = _weighted_exp(shape, T)
    total = jnp.sum(e)
    p = e / total
    a = surface.a_edges[:-1]
    v = s * width
    small = v < 1e-8
    q = jnp.where(small, 1.0 - 0.5 * jnp.where(small, v, 0.0), v / jnp.expm1(jnp.where(small, 1.0, v)))
    # s * a can overflow far in the short-lived regime where p underflows: guard the product
    sa = jnp.where(p > 0, s[:, None] * a[None, :], 0.0)
    dterm = jnp.sum(p * (q[:, None] - sa))
    return base + top + jnp.log(total), surface.n_prod + surface.n_width * dterm


def interpolation_error(coarse: YieldSurface, masses_mid, weights_mid, log_s1_mid, log_g) -> float:
    """Maximum ``|log N_surface - log N_exact|`` at masses between the nodes of ``coarse``.

    masses_mid (M,) with exact tables weights_mid (M, Nb, Nz), log_s1_mid (M, Nb) on the same cells;
    log_g: couplings (log) at which to compare, restricted to where the exact N is above 1e-3 events
    (the only place where the contour can lie).
    """
    log_g = jnp.asarray(log_g, coarse.dtype)
    worst = 0.0
    for m, W, ls in zip(np.asarray(masses_mid), weights_mid, log_s1_mid):
        # the exact tables at m as a two-node surface (constant in x): log N exactly
        exact = make_surface(jnp.asarray([m, m * 1.0001]), jnp.stack([W, W]), jnp.stack([ls, ls]),
                             coarse.a_edges, coarse.log_pot, coarse.n_prod, coarse.n_width)
        ex, ip = _compare_columns(coarse, exact, jnp.log(jnp.asarray(m, log_g.dtype)), log_g)
        keep = np.asarray(ex) > math.log(1e-3)
        if keep.any():
            worst = max(worst, float(np.max(np.abs(np.asarray(ip - ex))[keep])))
    return worst


@jax.jit
def _compare_columns(coarse, exact, x, log_g):
    ex = jax.vmap(lambda y: log_events_at(exact, x, y))(log_g)
    ip = jax.vmap(lambda y: log_events_at(coarse, x, y))(log_g)
    return ex, ip


# ----------------------------------------------------------------------------------------------------
# experiment parameters and the contour problem
# ----------------------------------------------------------------------------------------------------
@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ExperimentParams:
    """Differentiable experiment parameters (every field a leaf).

    production_z: z of the FIP production point (dump) [m]; dv_start, dv_length: decay volume [m];
    pot: protons on target; efficiency: common selection x trigger efficiency of all final states.
    """

    production_z: jax.Array
    dv_start: jax.Array
    dv_length: jax.Array
    pot: jax.Array
    efficiency: jax.Array

    def replace(self, **changes) -> "ExperimentParams":
        """A copy with some fields changed, each cast to the dtype of the field it replaces (strongly
        typed: a Python float would make a weakly typed leaf and a recompile of every jitted function)."""
        cast = {k: jnp.asarray(v, dtype=jnp.result_type(getattr(self, k))) for k, v in changes.items()}
        return dataclasses.replace(self, **cast)


@dataclass(frozen=True, eq=False)
class ContourProblem:
    """Everything fixed while experiment parameters vary: the tables and their reference geometry.

    tables: the :class:`~fipscan.searches.beam_dump.BeamDumpSearch` of the yield tables (its weights and
    cell edges are what a design moves); z_edges: (Nz + 1,) tabulated decay-cell edges in absolute z [m];
    reference: the ExperimentParams the tables were built with; n_limit: excluded signal events;
    log_g_grid: coarse log-coupling grid used to bracket the roots (also the coupling domain);
    n_quad: Gauss-Legendre nodes of the area integral.
    """

    tables: BeamDumpSearch
    z_edges: np.ndarray
    reference: ExperimentParams
    n_limit: float
    log_g_grid: np.ndarray
    n_quad: int = 32

    @property
    def x_range(self) -> tuple[float, float]:
        m = np.asarray(self.tables.masses)
        return float(np.log(m[0])), float(np.log(m[-1]))

    def check(self, params: ExperimentParams) -> None:
        """InputError unless the decay volume lies inside the tabulated cells and all numbers are sane."""
        z0, z1 = float(self.z_edges[0]), float(self.z_edges[-1])
        start = float(params.dv_start)
        end = start + float(params.dv_length)
        tol = 1e-9 * max(1.0, abs(z1))
        if not float(params.dv_length) > 0:
            raise InputError(f"decay-volume length must be positive, got {float(params.dv_length):g} m")
        if start < z0 - tol or end > z1 + tol:
            raise InputError(f"decay volume [{start:g}, {end:g}] m leaves the tabulated acceptance "
                             f"[{z0:g}, {z1:g}] m; rebuild the tables with a wider z range")
        if not float(params.production_z) < start:
            raise InputError(f"production point z = {float(params.production_z):g} m must lie upstream of "
                             f"the decay volume (start {start:g} m)")
        if not float(params.pot) > 0 or not float(params.efficiency) > 0:
            raise InputError("pot and efficiency must be positive")

    def data(self) -> dict:
        """The arrays the smooth surface is built from (passed to jitted functions as arguments, not
        baked in as constants: XLA would constant-fold them at every compile)."""
        t = self.tables
        dtype = t.weights.dtype
        return {"masses": t.masses, "weights": t.weights, "log_s1": t.log_s1,
                "z_edges": jnp.asarray(self.z_edges, dtype),
                "efficiency_ref": jnp.asarray(self.reference.efficiency, dtype),
                "log_n_limit": jnp.log(jnp.asarray(self.n_limit, dtype)),
                "log_g_grid": jnp.asarray(self.log_g_grid, dtype)}

    def surface(self, params: ExperimentParams, smooth: bool = True, data=None) -> YieldSurface:
        """The yield surface at ``params`` (smooth re-interpolated cells, or the hard version)."""
        t = self.tables
        d = self.data() if data is None else data
        dtype = d["weights"].dtype
        scale = jnp.asarray(params.efficiency, dtype) / d["efficiency_ref"]
        log_pot = jnp.log(jnp.asarray(params.pot, dtype))
        if smooth:
            return smooth_surface(params, d, t.n_prod, t.n_width)
        else:
            weights, z_new = _hard_cells(np.asarray(t.weights), self.z_edges, float(params.dv_start),
                                         float(params.dv_length))
            weights, z_new = jnp.asarray(weights, dtype), jnp.asarray(z_new, dtype)
        a_edges = z_new - jnp.asarray(params.production_z, dtype)
        return make_surface(d["masses"], weights * scale, d["log_s1"], a_edges, log_pot, t.n_prod, t.n_width,
                            uniform_cells=smooth)  # hard cells: general path always (one compile)


def smooth_surface(params: ExperimentParams, data: dict, n_prod=2.0, n_width=2.0) -> YieldSurface:
    """The smooth yield surface at ``params`` from ``ContourProblem.data()`` (a pure function of arrays:
    jitted callers share one compilation across problems of equal shapes)."""
    dtype = data["weights"].dtype
    scale = jnp.asarray(params.efficiency, dtype) / data["efficiency_ref"]
    weights, z_new = _reinterpolate_z(data["weights"], data["z_edges"], jnp.asarray(params.dv_start, dtype),
                                      jnp.asarray(params.dv_length, dtype))
    a_edges = z_new - jnp.asarray(params.production_z, dtype)
    return make_surface(data["masses"], weights * scale, data["log_s1"], a_edges,
                        jnp.log(jnp.asarray(params.pot, dtype)), n_prod, n_width, uniform_cells=True)


def _reinterpolate_z(weights, z_edges, start, length):
    """Weights on Nz uniform cells of [start, start + length]: PCHIP in z through the tabulated cell
    centres, evaluated at the new centres (constant beyond the outer centres)."""
    nz = weights.shape[-1]
    centres = 0.5 * (z_edges[1:] + z_edges[:-1])
    new_edges = start + length * jnp.linspace(0.0, 1.0, nz + 1, dtype=z_edges.dtype)
    new_centres = 0.5 * (new_edges[1:] + new_edges[:-1])
    w = jnp.moveaxis(weights, -1, 0)  # (Nz, Nm, Nb)
    d = pchip_slopes(centres, w)
    zc = jnp.clip(new_centres, centres[0], centres[-1])
    out = jax.vmap(lambda z: pchip_eval(centres, w, d, z))(zc)  # (Nz_new, Nm, Nb)
    return jnp.moveaxis(out, 0, -1), new_edges


def _hard_cells(weights, z_edges, start, length):
    """Hard acceptance: tabulated piecewise-constant weights on the exact cells of [start, end]
    (tabulated edges inside, partial first and last cells), padded with zero-width cells (no decays)
    to the tabulated number of cells so that every geometry has the same array shapes (one compile)."""
    end = start + length
    inner = z_edges[(z_edges > start) & (z_edges < end)]
    edges = np.concatenate([[start], inner, [end]])
    n_tab = z_edges.size - 1
    edges = np.concatenate([edges, np.full(n_tab + 1 - edges.size, end)])
    mids = 0.5 * (edges[1:] + edges[:-1])
    idx = np.clip(np.searchsorted(z_edges, mids, side="right") - 1, 0, n_tab - 1)
    return weights[..., idx], edges


def contour_problem(tables, experiment=None, *, pot=None, n_limit=None, couplings=(1e-10, 1e-2),
                    n_grid=64, n_quad=32) -> ContourProblem:
    """A ContourProblem for ``tables`` built at ``experiment`` (an Experiment or None for tables whose
    a_edges start at the production point z = 0 with efficiency 1).

    couplings: (lo, hi) coupling domain; n_grid log-spaced points bracket the roots.
    n_limit: default 2.3 (90% CL, nothing observed: -ln 0.1).  ``tables``: yield tables or a
    BeamDumpSearch (the design moves the decay volume, so it needs the beam-dump weights).
    """
    tables = as_search(tables)
    if not isinstance(tables, BeamDumpSearch):
        raise InputError(f"the decay-volume design needs beam-dump yield tables, got a {type(tables).__name__}")
    if tables.extra_n_prod:
        raise InputError("the decay-volume design supports tables whose production channels all scale with one "
                         "power of the coupling; these mix the powers "
                         f"{', '.join(f'{n:g}' for n in (tables.n_prod, *tables.extra_n_prod))}")
    a_edges = np.asarray(tables.a_edges, float)
    if experiment is not None:
        z_prod = float(experiment.production_z)
        effs = set(float(v) for v in dict(experiment.efficiency).values()) or {1.0}
        if len(effs) != 1:
            raise InputError("the efficiency parameter needs one common efficiency for all final states, "
                             f"got {sorted(effs)}")
        eff = effs.pop()
        pot = float(experiment.pot if pot is None else pot)
    else:
        z_prod, eff = 0.0, 1.0
        pot = 1.0 if pot is None else float(pot)
    z_edges = a_edges + z_prod
    lo, hi = (float(c) for c in couplings)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise InputError(f"coupling range must satisfy 0 < lo < hi, got ({lo:g}, {hi:g})")
    dtype = tables.weights.dtype
    ref = ExperimentParams(production_z=jnp.asarray(z_prod, dtype), dv_start=jnp.asarray(z_edges[0], dtype),
                           dv_length=jnp.asarray(z_edges[-1] - z_edges[0], dtype), pot=jnp.asarray(pot, dtype),
                           efficiency=jnp.asarray(eff, dtype))
    n_limit = -math.log(0.1) if n_limit is None else float(n_limit)
    return ContourProblem(tables, z_edges, ref, n_limit, np.linspace(math.log(lo), math.log(hi), int(n_grid)),
                          int(n_quad))


# ----------------------------------------------------------------------------------------------------
# root solves (jittable, fixed trip counts) with implicit-function-theorem derivatives
# ----------------------------------------------------------------------------------------------------
# Compile time grows with every place the yield kernel appears in a traced program (~0.3 s each on
# CPU, more for second derivatives), so the primal solves call it from few places and use first
# derivatives only: the bracket grid, one Illinois loop for the ridge, one rtsafe loop (vmapped over
# both edges; fipscan.kernels.roots.rtsafe with a fixed trip count).  Second derivatives
# (:func:`_full`) appear only in the tip's implicit-function rule.
def _F(surface, lnl, x, y):
    return log_events_at(surface, x, y) - lnl


def _F_Fy(surface, lnl, x, y):
    """(F, dF/dy) in one pass (:func:`log_events_and_dy`)."""
    f, fy = log_events_and_dy(surface, x, y)
    return f - lnl, fy


def _full(surface, lnl, x, y):
    """(F, F_x, F_y, F_xy, F_yy) at (x, y): forward mode over (F, F_y) in both directions at once."""
    z = jnp.stack([x, y])

    def fg(zz):
        f, fy = log_events_and_dy(surface, zz[0], zz[1])
        return jnp.stack([f - lnl, fy])

    val, jac = jax.vmap(lambda t: jax.jvp(fg, (z,), (t,)), out_axes=(None, 0))(jnp.eye(2, dtype=z.dtype))
    # jac[i] = d(F, F_y)/dz_i
    return val[0], jac[0, 0], val[1], jac[0, 1], jac[1, 1]


#: fixed iteration counts of the jitted solves (rtsafe from a grid bracket converges to ~1e-12 in
#: log g within 6-10 Newton steps; bisection fallbacks are rare)
_N_ROOT = 16
_N_RIDGE = 16
_N_TIP = 20


def _illinois(fn, a, b, n_iter, aux_like):
    """Root of fn in [a, b] (opposite signs) by the Illinois variant of regula falsi (Dowell & Jarratt,
    BIT 11 (1971) 168): superlinear, derivative-free, never leaves the bracket.  The first two
    iterations evaluate the bracket ends, so fn appears once in the traced loop.  fn(x) -> (f, aux).
    Returns (x, f, aux) at the evaluated point with the smallest |f|."""

    def body(k, st):
        a, fa, b, fb, xb, fbest, auxb = st
        denom = fb - fa
        c = jnp.where(denom != 0, b - fb * (b - a) / jnp.where(denom != 0, denom, 1.0), 0.5 * (a + b))
        c = jnp.clip(c, jnp.minimum(a, b), jnp.maximum(a, b))
        x = jnp.where(k == 0, a, jnp.where(k == 1, b, c))
        f, aux = fn(x)
        # iterations 0 and 1 only record the ends
        fa = jnp.where(k == 0, f, fa)
        fb_new = jnp.where(k == 1, f, fb)
        iterate = k >= 2
        straddle = f * fb < 0
        a2 = jnp.where(iterate & straddle, b, a)
        fa2 = jnp.where(iterate, jnp.where(straddle, fb, 0.5 * fa), fa)
        b2 = jnp.where(iterate, x, b)
        fb2 = jnp.where(iterate, f, fb_new)
        better = jnp.abs(f) < jnp.abs(fbest)
        xb = jnp.where(better, x, xb)
        auxb = jax.tree_util.tree_map(lambda new, old: jnp.where(better, new, old), aux, auxb)
        return a2, fa2, b2, fb2, xb, jnp.where(better, f, fbest), auxb

    inf = jnp.asarray(jnp.inf, a.dtype)
    zero = jnp.zeros_like(a)
    init = (a, zero, b, zero, a, inf, jax.tree_util.tree_map(jnp.zeros_like, aux_like))
    _, _, _, _, x, f, aux = jax.lax.fori_loop(0, n_iter + 2, body, init)
    return x, f, aux


def _ridge(surface, lnl, x, ygrid):
    """(y*, F*, j, grid values): the maximum of F over y at x -- grid maximum j, then Illinois on
    F_y = 0 between its neighbours (first derivatives only); the result is kept only if its F is not
    below the grid maximum's."""
    f = jax.vmap(lambda y: _F(surface, lnl, x, y))(ygrid)
    j = jnp.clip(jnp.argmax(f), 1, ygrid.shape[0] - 2)

    def fn(y):
        F, Fy = _F_Fy(surface, lnl, x, y)
        return Fy, F

    y, _, F = _illinois(fn, ygrid[j - 1], ygrid[j + 1], _N_RIDGE, x)
    better = F >= f[j]
    return jnp.where(better, y, ygrid[j]), jnp.where(better, F, f[j]), j, f


def _solve_edges(surface, lnl, x, ygrid):
    """(y_lo, y_up, lo_clipped, up_clipped, found, F_y at both roots) at x: the first upward and the last
    downward crossing of F on the bracket grid, refined by rtsafe; when the excluded interval is
    narrower than the grid spacing (near the tip) the brackets are the ridge maximum and its grid
    neighbours.  Clipped to the grid ends when F > 0 there."""
    y_star, f_star, j, f = _ridge(surface, lnl, x, ygrid)
    above = f >= 0
    found = jnp.any(above) | (f_star >= 0)
    rising = (~above[:-1]) & above[1:]
    falling = above[:-1] & (~above[1:])
    n = ygrid.shape[0]
    has_r, has_f = jnp.any(rising), jnp.any(falling)
    i_r = jnp.argmax(rising)
    i_f = n - 2 - jnp.argmax(falling[::-1])
    neg = jnp.stack([jnp.where(has_r, ygrid[i_r], ygrid[j - 1]),        # F < 0
                     jnp.where(has_f, ygrid[i_f + 1], ygrid[j + 1])])
    pos = jnp.stack([jnp.where(has_r, ygrid[i_r + 1], y_star),          # F >= 0
                     jnp.where(has_f, ygrid[i_f], y_star)])

    def fdf(y):
        F, Fy = _F_Fy(surface, lnl, x, y)
        return F, Fy, ()

    roots, _, fys = jax.vmap(lambda a, b: rtsafe(fdf, a, b, n_iter=_N_ROOT, fixed=True)[:3])(neg, pos)
    lo_clip = above[0]
    up_clip = above[-1]
    y_lo = jnp.where(lo_clip, ygrid[0], roots[0])
    y_up = jnp.where(up_clip, ygrid[-1], roots[1])
    nan = jnp.asarray(jnp.nan, y_lo.dtype)
    return jnp.where(found, y_lo, nan), jnp.where(found, y_up, nan), lo_clip, up_clip, found, fys


@jax.custom_jvp
def _edges(surface, lnl, x, ygrid):
    y_lo, y_up = _solve_edges(surface, lnl, x, ygrid)[:2]
    return y_lo, y_up


@_edges.defjvp
def _edges_jvp(primals, tangents):
    """dy/dtheta = -(dF/dtheta)/(dF/dy) at each root (implicit function theorem); 0 where clipped.
    The bracket grid is a constant (its tangent is ignored)."""
    surface, lnl, x, ygrid = primals
    y_lo, y_up, lo_clip, up_clip, found, fys = _solve_edges(surface, lnl, x, ygrid)
    ds, dl, dx, _ = tangents
    ys = jnp.stack([y_lo, y_up])
    ys = jnp.where(jnp.isfinite(ys), ys, ygrid[0])  # a point where F is finite: no 0 * inf in reverse mode
    _, dF = jax.vmap(lambda yy: jax.jvp(lambda s, l, xx: _F(s, l, xx, yy), (surface, lnl, x), (ds, dl, dx)))(ys)
    ok = found & ~jnp.stack([lo_clip, up_clip]) & (fys != 0)
    dy = jnp.where(ok, -dF / jnp.where(ok, fys, 1.0), 0.0)
    return (y_lo, y_up), (dy[0], dy[1])


def _solve_tip(surface, lnl, ygrid):
    """(x_tip, y_tip, at_edge, found): the highest x where phi(x) = max_y F(x, y) = 0, bracketed between
    mass nodes (the last node whose grid maximum is >= 0 and the next) and refined by Illinois on phi
    (each phi a ridge solve); at the solution F = 0 and F_y = 0 jointly.  When the exclusion reaches
    the last mass node the tip is that node (y: its grid maximum)."""
    xs = surface.x_nodes
    grid = jax.vmap(lambda xx: jax.vmap(lambda y: _F(surface, lnl, xx, y))(ygrid))(xs)  # (Nm, Ng)
    excl = jnp.max(grid, axis=1) >= 0
    found = jnp.any(excl)
    n = xs.shape[0]
    last = n - 1 - jnp.argmax(excl[::-1])
    at_edge = last == n - 1
    i = jnp.clip(last, 0, n - 2)

    def phi(xx):
        y, F, _, _ = _ridge(surface, lnl, xx, ygrid)
        return F, y

    x, _, y = _illinois(phi, xs[i], xs[i + 1], _N_TIP, xs[0])
    y_edge = ygrid[jnp.argmax(grid[-1])]
    x_tip = jnp.where(at_edge, xs[-1], x)
    y_tip = jnp.where(at_edge, y_edge, y)
    nan = jnp.asarray(jnp.nan, x_tip.dtype)
    return jnp.where(found, x_tip, nan), jnp.where(found, y_tip, nan), at_edge, found


@jax.custom_jvp
def _tip(surface, lnl, ygrid):
    x, y, _, _ = _solve_tip(surface, lnl, ygrid)
    return x, y


@_tip.defjvp
def _tip_jvp(primals, tangents):
    """2x2 implicit-function theorem on (F, F_y) = 0 (module docstring); zero where the tip is the
    mass-range edge (the edge does not move)."""
    surface, lnl, ygrid = primals
    ds, dl, _ = tangents
    x, y, at_edge, found = _solve_tip(surface, lnl, ygrid)
    ok = found & ~at_edge
    xz = jnp.where(ok, x, surface.x_nodes[0])
    yz = jnp.where(ok, y, ygrid[0])  # a point where F is finite (see _edges_jvp)
    _, Fx, Fy, Fxy, Fyy = _full(surface, lnl, xz, yz)
    J = jnp.array([[Fx, Fy], [Fxy, Fyy]])

    def G(s, l):
        f, fy = _F_Fy(s, l, xz, yz)
        return jnp.stack([f, fy])

    _, dG = jax.jvp(G, (surface, lnl), (ds, dl))
    dz = jnp.linalg.solve(jnp.where(ok, J, jnp.eye(2, dtype=J.dtype)), -dG)
    dz = jnp.where(ok, dz, 0.0)
    return (x, y), (dz[0], dz[1])


# ----------------------------------------------------------------------------------------------------
# public functions of (problem, params)
# ----------------------------------------------------------------------------------------------------
@jax.jit
def _edges_s(surface, lnl, xs, ygrid):
    return jax.vmap(lambda xx: _edges(surface, lnl, xx, ygrid))(xs)


@jax.jit
def _tip_s(surface, lnl, ygrid):
    return _tip(surface, lnl, ygrid)


def _area_nodes(surface, x_tip, t):
    """Quadrature abscissae x_q = x_tip - u^2 (u = U t, U = sqrt(x_tip - x_0)) and U."""
    x0 = surface.x_nodes[0]
    x_tip_s = jnp.where(jnp.isfinite(x_tip), x_tip, x0 + 1.0)
    U = jnp.sqrt(jnp.maximum(x_tip_s - x0, 0.0))
    u = U * t
    return x_tip_s - u * u, U, u


def _area_sum(x_tip, lo, up, U, u, w):
    width = jnp.where(jnp.isfinite(lo) & jnp.isfinite(up), up - lo, 0.0)
    return jnp.where(jnp.isfinite(x_tip), jnp.sum(w * U * 2.0 * u * width), 0.0)


def _area_core(surface, lnl, ygrid, t, w):
    x_tip, _ = _tip(surface, lnl, ygrid)
    xq, U, u = _area_nodes(surface, x_tip, t)
    lo, up = jax.vmap(lambda xx: _edges(surface, lnl, xx, ygrid))(xq)
    return _area_sum(x_tip, lo, up, U, u, w)


_area_s = jax.jit(_area_core)


def _gauss_legendre(n, dtype):
    u, w = np.polynomial.legendre.leggauss(int(n))
    return jnp.asarray(0.5 * (u + 1.0), dtype), jnp.asarray(0.5 * w, dtype)  # on [0, 1]


def _features_core(surface, lnl, ygrid, xs, t, w):
    """Edges at xs, the tip and the area with one tip solve and one (vmapped) edge solve."""
    x_tip, y_tip = _tip(surface, lnl, ygrid)
    xq, U, u = _area_nodes(surface, x_tip, t)
    n = xs.shape[0]
    lo, up = jax.vmap(lambda xx: _edges(surface, lnl, xx, ygrid))(jnp.concatenate([xs, xq]))
    return {"log_g_lower": lo[:n], "log_g_upper": up[:n], "log_m_tip": x_tip, "log_g_tip": y_tip,
            "area": _area_sum(x_tip, lo[n:], up[n:], U, u, w)}


@partial(jax.jit, static_argnames=("n_prod", "n_width", "n_quad", "what"))
def _smooth_eval(params, data, xs, *, n_prod, n_width, n_quad, what):
    """Every smooth quantity as one jitted function of arrays; static: the model exponents, the
    quadrature order and which quantity.  Shared by all problems with equal shapes."""
    surface = smooth_surface(params, data, n_prod, n_width)
    lnl, ygrid = data["log_n_limit"], data["log_g_grid"]
    if what == "edges":
        return jax.vmap(lambda xx: _edges(surface, lnl, xx, ygrid))(xs)
    if what == "tip":
        return _tip(surface, lnl, ygrid)
    t, w = _gauss_legendre(n_quad, data["weights"].dtype)
    if what == "area":
        return _area_core(surface, lnl, ygrid, t, w)
    return _features_core(surface, lnl, ygrid, xs, t, w)


@partial(jax.jit, static_argnames=("n_prod", "n_width", "n_quad"))
def _features_jacobian(params, data, xs, *, n_prod, n_width, n_quad):
    def f(q):
        surface = smooth_surface(q, data, n_prod, n_width)
        t, w = _gauss_legendre(n_quad, data["weights"].dtype)
        return _features_core(surface, data["log_n_limit"], data["log_g_grid"], xs, t, w)

    return jax.jacfwd(f)(params)


def _static(problem: ContourProblem) -> dict:
    return {"n_prod": float(problem.tables.n_prod), "n_width": float(problem.tables.n_width),
            "n_quad": int(problem.n_quad)}


def _check_concrete(problem: ContourProblem, params) -> None:
    """problem.check(params) when the parameters are concrete (not while being traced)."""
    leaves = jax.tree_util.tree_leaves(params)
    if not any(isinstance(v, jax.core.Tracer) for v in leaves):
        problem.check(params)


def _smooth(problem: ContourProblem, params, what, xs=None):
    _check_concrete(problem, params)
    dtype = problem.tables.weights.dtype
    xs = jnp.zeros((0,), dtype) if xs is None else xs
    return _smooth_eval(params, problem.data(), xs, what=what, **_static(problem))


def _hard(problem, params):
    problem.check(params)
    surface = problem.surface(params, smooth=False)
    d = problem.data()
    return surface, d["log_n_limit"], d["log_g_grid"]


def contour_features(problem: ContourProblem, params: ExperimentParams, masses, *, smooth=True) -> dict:
    """All contour features in one call: log_g_lower, log_g_upper at ``masses`` [GeV], log_m_tip,
    log_g_tip and area (see :func:`edges_at`, :func:`tip`, :func:`excluded_area`).  Differentiable."""
    dtype = problem.tables.weights.dtype
    xs = jnp.log(jnp.atleast_1d(jnp.asarray(masses, dtype)))
    if smooth:
        return _smooth(problem, params, "features", xs)
    t, w = _gauss_legendre(problem.n_quad, dtype)
    return jax.jit(_features_core)(*_hard(problem, params), xs, t, w)


def feature_jacobian(problem: ContourProblem, params: ExperimentParams, masses) -> dict:
    """d(feature)/d(parameter) for every feature of :func:`contour_features` and every field of
    ExperimentParams (forward mode through the implicit-function-theorem rules; one compile)."""
    _check_concrete(problem, params)
    dtype = problem.tables.weights.dtype
    xs = jnp.log(jnp.atleast_1d(jnp.asarray(masses, dtype)))
    return _features_jacobian(params, problem.data(), xs, **_static(problem))


def edges_at(problem: ContourProblem, params: ExperimentParams, masses, *, smooth=True):
    """(log g_lower, log g_upper) at ``masses`` [GeV] (arrays like masses); NaN where nothing is
    excluded, the coupling-domain end where the excluded interval reaches it.  Differentiable in
    ``params`` (implicit function theorem).  With islands at one mass: the first upward and last
    downward crossing."""
    dtype = problem.tables.weights.dtype
    x = jnp.log(jnp.asarray(masses, dtype))
    if smooth:
        lo, up = _smooth(problem, params, "edges", jnp.ravel(x))
    else:
        lo, up = _edges_s(*_hard(problem, params)[:2], jnp.ravel(x), problem.data()["log_g_grid"])
    return lo.reshape(x.shape), up.reshape(x.shape)


def lower_edge(problem, params, masses, *, smooth=True):
    """log g of the lower edge at ``masses`` [GeV] (see :func:`edges_at`)."""
    return edges_at(problem, params, masses, smooth=smooth)[0]


def upper_edge(problem, params, masses, *, smooth=True):
    """log g of the upper edge at ``masses`` [GeV] (see :func:`edges_at`)."""
    return edges_at(problem, params, masses, smooth=smooth)[1]


def reach(problem, params, mass, *, smooth=True):
    """log g of the lower edge at one mass [GeV] (smaller is better)."""
    return lower_edge(problem, params, jnp.asarray(mass), smooth=smooth)


def tip(problem: ContourProblem, params: ExperimentParams, *, smooth=True):
    """(log m_tip, log g_tip): the highest excluded mass and its coupling (F = F_y = 0); the last mass
    node if the exclusion reaches the end of the mass range; NaN if nothing is excluded."""
    if smooth:
        return _smooth(problem, params, "tip")
    return _tip_s(*_hard(problem, params))


def excluded_area(problem: ContourProblem, params: ExperimentParams, *, smooth=True):
    """Excluded log-log area int (y_up - y_lo) dx from the lowest mass node to the tip, in
    (ln GeV) x (ln g) units, clipped to the coupling domain; x = x_tip - u^2 substitution with
    Gauss-Legendre nodes (module docstring).  Differentiable in ``params``; 0 if nothing is excluded.
    Where several islands share a mass the gap between them is counted (use the traced polygon of
    fipscan.contour.trace for such shapes)."""
    if smooth:
        return _smooth(problem, params, "area")
    surface, lnl, yg = _hard(problem, params)
    t, w = _gauss_legendre(problem.n_quad, surface.dtype)
    return _area_s(surface, lnl, yg, t, w)
