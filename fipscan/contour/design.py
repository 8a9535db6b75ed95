"""Design optimisation: the decay-volume start that maximises the exclusion, by projected Adam.

The objective is a differentiable function of the geometry (fipscan.contour.differentiable): the
excluded log-log area (``objective="area"``, maximised) or the reach ln g_lower(M) at one mass
(``objective="reach"``, minimised).  The single design variable is the decay-volume start z_s under
one of two constraints:

* ``"end-fixed"``: the end of the decay volume stays where it is (the detector does not move), so
  start + length = const.  Every decay cell carries a non-negative weight, so moving the start
  upstream can only add events: the optimum is the upstream bound of the allowed range (the shielding
  or, here, the tabulated acceptance).  The optimiser must find that bound -- a useful check of the
  projection.
* ``"length-fixed"``: a decay volume of fixed length slides along z with the detector fixed: upstream
  helps short-lived FIPs (upper edge), downstream has more acceptance (the tracks open less before the
  spectrometer) -- a genuine trade-off with an interior optimum when the acceptance rises along z.

Optimiser: Adam (Kingma & Ba, arXiv:1412.6980) from optax on the unit variable u = (z_s - lo)/(hi - lo)
with an exponentially decaying learning rate, each iterate projected back onto [0, 1] (projected
gradient method, e.g. Nocedal & Wright, "Numerical Optimization", 2nd ed., sec. 16.7).  Adam's step is
invariant to the scale of the objective, so the learning rate is a step in u.

Smooth relaxation and hard numbers: gradients use the smooth geometry of
:meth:`ContourProblem.surface(smooth=True)` -- the tabulated acceptance is re-interpolated in z by a C1
monotone cubic, so the objective is C1 in z_s.  The hard cuts -- the piecewise-constant tabulated
acceptance and exact cell boundaries at the decay-volume ends -- are used for every reported number
(``objective_hard``).  The acceptance itself is the table-based approximation (the acceptance of a
decay at z does not depend on where the vacuum volume begins; it is not re-simulated with the moved
geometry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.errors import InputError

from .differentiable import (ContourProblem, ExperimentParams, _area_core, _edges, _gauss_legendre, excluded_area,
                             lower_edge, smooth_surface)

__all__ = ["DesignResult", "optimise_decay_volume_start", "scan_decay_volume_start", "design_params",
           "design_objective",
           "CONSTRAINTS", "OBJECTIVES"]

CONSTRAINTS = ("end-fixed", "length-fixed")
OBJECTIVES = ("area", "reach")


@dataclass(frozen=True)
class DesignResult:
    """The optimum of one design problem and how it was reached.

    optimum: decay-volume start [m]; objective_smooth / objective_hard at the optimum (area in
    (ln m) x (ln g) units, reach as ln g_lower); reference_*: the same at the tabulated geometry;
    history: (n_steps + 1, 2) rows (z_start, smooth objective); at_bound: the optimum is a bound.
    """

    parameter: str
    constraint: str
    objective: str
    mass: float | None
    bounds: tuple[float, float]
    length: float
    optimum: float
    objective_smooth: float
    objective_hard: float
    reference_start: float
    reference_objective_hard: float
    n_steps: int
    at_bound: bool
    history: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        return {
            "parameter": self.parameter, "constraint": self.constraint, "objective": self.objective,
            "mass_gev": self.mass, "bounds_m": list(self.bounds), "length_m": self.length,
            "optimum_m": self.optimum, "objective_smooth": self.objective_smooth,
            "objective_hard": self.objective_hard, "reference_start_m": self.reference_start,
            "reference_objective_hard": self.reference_objective_hard, "n_steps": self.n_steps,
            "at_bound": self.at_bound,
        }


def _bounds(problem: ContourProblem, constraint: str, bounds, length):
    """Allowed start range and the (fixed) length or end for the constraint, inside the tabulated z."""
    if constraint not in CONSTRAINTS:
        raise InputError(f"unknown constraint '{constraint}' (known: {', '.join(CONSTRAINTS)})")
    z0, z1 = float(problem.z_edges[0]), float(problem.z_edges[-1])
    ref_len = float(problem.reference.dv_length)
    ref_end = float(problem.reference.dv_start) + ref_len
    if constraint == "end-fixed":
        length = None
        hi_max = ref_end - 1e-3 * ref_len
    else:
        length = 0.5 * ref_len if length is None else float(length)
        if not 0 < length <= z1 - z0:
            raise InputError(f"decay-volume length {length:g} m must lie in (0, {z1 - z0:g}] m (the tabulated range)")
        hi_max = z1 - length
    lo, hi = (z0, hi_max) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError(f"decay-volume start range must be LO < HI, got [{lo:g}, {hi:g}] m")
    if lo < z0 - 1e-9 or hi > hi_max + 1e-9:
        raise InputError(f"decay-volume start range [{lo:g}, {hi:g}] m leaves the tabulated acceptance: "
                         f"allowed [{z0:g}, {hi_max:g}] m for {constraint}")
    return lo, hi, length, ref_end


def design_params(problem: ContourProblem, z_start, constraint="end-fixed", length=None) -> ExperimentParams:
    """ExperimentParams with the decay volume starting at ``z_start`` under ``constraint``."""
    ref = problem.reference
    z = jnp.asarray(z_start, problem.tables.weights.dtype)
    if constraint == "end-fixed":
        end = ref.dv_start + ref.dv_length
        return ref.replace(dv_start=z, dv_length=end - z)
    return ref.replace(dv_start=z, dv_length=jnp.asarray(length, z.dtype))


def _check_objective(problem, objective, mass):
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective '{objective}' (known: {', '.join(OBJECTIVES)})")
    if objective == "reach":
        if mass is None:
            raise InputError("objective 'reach' needs a mass (--mass M in GeV)")
        lo_m, hi_m = (float(np.asarray(problem.tables.masses)[k]) for k in (0, -1))
        if not lo_m <= float(mass) <= hi_m:
            raise InputError(f"mass {float(mass):g} GeV is outside the tabulated masses [{lo_m:g}, {hi_m:g}] GeV")


def _objective_fn(problem, objective, mass, constraint, length, smooth=True):
    _check_objective(problem, objective, mass)

    def f(z):
        p = design_params(problem, z, constraint, length)
        if objective == "area":
            return excluded_area(problem, p, smooth=smooth)
        return lower_edge(problem, p, jnp.asarray(mass), smooth=smooth)

    return f


@partial(jax.jit, static_argnames=("objective", "n_prod", "n_width", "n_quad"))
def _design_value_and_grad(z, mass, length, end_fixed, data, *, objective, n_prod, n_width, n_quad):
    def f(z):
        ref_end = data["dv_end_ref"]
        L = jnp.where(end_fixed, ref_end - z, length)
        p = ExperimentParams(production_z=data["production_z_ref"], dv_start=z, dv_length=L,
                             pot=data["pot"], efficiency=data["efficiency_ref"])
        surface = smooth_surface(p, data, n_prod, n_width)
        if objective == "area":
            t, w = _gauss_legendre(n_quad, z.dtype)
            return _area_core(surface, data["log_n_limit"], data["log_g_grid"], t, w)
        return _edges(surface, data["log_n_limit"], jnp.log(mass), data["log_g_grid"])[0]

    return jax.value_and_grad(f)(z)


def design_objective(problem: ContourProblem, constraint="end-fixed", objective="area", mass=None, length=None):
    """z_start [m] -> (value, d value / d z_start) of the smooth objective: one jitted function of arrays
    (the constraint, mass and length are arguments, not constants), so the optimiser, scans, tests and
    problems of equal shapes share one compilation per objective."""
    _check_objective(problem, objective, mass)
    if constraint not in CONSTRAINTS:
        raise InputError(f"unknown constraint '{constraint}' (known: {', '.join(CONSTRAINTS)})")
    dtype = problem.tables.weights.dtype
    ref = problem.reference
    data = dict(problem.data())
    data.update(dv_end_ref=jnp.asarray(ref.dv_start + ref.dv_length, dtype),
                production_z_ref=jnp.asarray(ref.production_z, dtype), pot=jnp.asarray(ref.pot, dtype))
    m = jnp.asarray(1.0 if mass is None else mass, dtype)
    L = jnp.asarray(1.0 if length is None else length, dtype)
    end_fixed = jnp.asarray(constraint == "end-fixed")
    static = dict(objective=objective, n_prod=float(problem.tables.n_prod), n_width=float(problem.tables.n_width),
                  n_quad=int(problem.n_quad))
    return lambda z: _design_value_and_grad(jnp.asarray(z, dtype), m, L, end_fixed, data, **static)


def scan_decay_volume_start(problem: ContourProblem, starts, *, constraint="end-fixed", objective="area",
                            mass=None, length=None, smooth=True) -> np.ndarray:
    """The objective at each decay-volume start in ``starts`` (brute force, for checks and plots)."""
    _, _, length, _ = _bounds(problem, constraint, (float(np.min(starts)), float(np.max(starts))), length)
    if smooth:
        vg = design_objective(problem, constraint, objective, mass, length)
        return np.array([float(vg(z)[0]) for z in np.asarray(starts, float)])
    f = _objective_fn(problem, objective, mass, constraint, length, smooth=False)
    return np.array([float(f(z)) for z in np.asarray(starts, float)])


def optimise_decay_volume_start(problem: ContourProblem, *, constraint="end-fixed", objective="area",
                                mass=None, bounds=None, length=None, steps=60, learning_rate=0.08,
                                decay=0.05, init=None) -> DesignResult:
    """Projected Adam over the decay-volume start (module docstring).

    bounds: (lo, hi) [m] for the start (default: the tabulated z range allowed by the constraint);
    length: the fixed length for ``"length-fixed"`` (default: half the tabulated one);
    steps: Adam iterations (bounded; the learning rate decays from ``learning_rate`` to
    ``learning_rate * decay``); init: starting z [m] (default: the middle of the range).
    """
    import optax

    lo, hi, length, ref_end = _bounds(problem, constraint, bounds, length)
    steps = int(steps)
    if steps < 1:
        raise InputError(f"steps must be a positive integer, got {steps}")
    vg_z = design_objective(problem, constraint, objective, mass, length)
    sign = -1.0 if objective == "area" else 1.0  # minimise the loss
    width = hi - lo

    def value_and_grad(u):  # loss(u) = sign * objective(lo + u * width)
        v, g = vg_z(lo + u * width)
        return sign * v, sign * g * width

    schedule = optax.exponential_decay(learning_rate, transition_steps=steps, decay_rate=decay)
    opt = optax.adam(schedule)
    u = jnp.asarray(0.5 if init is None else (float(init) - lo) / (hi - lo), problem.tables.weights.dtype)
    u = jnp.clip(u, 0.0, 1.0)
    state = opt.init(u)
    history = []
    for _ in range(steps):
        val, g = value_and_grad(u)
        history.append((lo + float(u) * (hi - lo), sign * float(val)))
        if not (math.isfinite(float(val)) and math.isfinite(float(g))):
            raise InputError(f"objective is not finite at decay-volume start {lo + float(u) * (hi - lo):g} m "
                             "(nothing excluded there?); choose another range, POT or objective")
        updates, state = opt.update(g, state, u)
        u = jnp.clip(optax.apply_updates(u, updates), 0.0, 1.0)  # projection onto the feasible set
    z_opt = lo + float(u) * (hi - lo)
    val_smooth = float(vg_z(z_opt)[0])
    history.append((z_opt, val_smooth))
    hard = _objective_fn(problem, objective, mass, constraint, length, smooth=False)
    ref_start = float(problem.reference.dv_start)
    ref_val = float(hard(ref_start)) if lo - 1e-9 <= ref_start <= hi + 1e-9 else float("nan")
    at_bound = bool(float(u) <= 1e-6 or float(u) >= 1 - 1e-6)
    return DesignResult(
        parameter="decay-volume-start", constraint=constraint, objective=objective,
        mass=None if mass is None else float(mass), bounds=(lo, hi),
        length=float(length) if length is not None else ref_end - z_opt,
        optimum=z_opt, objective_smooth=val_smooth, objective_hard=float(hard(z_opt)),
        reference_start=ref_start, reference_objective_hard=ref_val, n_steps=steps, at_bound=at_bound,
        history=np.asarray(history))
