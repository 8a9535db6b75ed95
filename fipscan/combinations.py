"""NA62's hadronic analysis view: every production x decay combination of a model-independent X.

NA62, "Search for hadronic decays of feebly-interacting particles at NA62", Eur. Phys. J. C 85 (2025) 571
(arXiv:2502.04241), does not start from a model: with BR(X -> final state) = 1 it computes, for each
combination of a production mechanism and a hadronic final state,

    N_exp(M_X, Gamma_X) = N_POT . chi_pp->X(C_ref) . P_rd(M_X, Gamma_X) . A_acc . A_trig,

and shows the expected events at a reference coupling C_ref, the acceptance given a decay in the fiducial
volume and the mass resolution of the reconstructed X.  Each benchmark's limit is then a re-weighting of
these maps (:func:`recast_events`).

What a combination is here
--------------------------
(parent model, production mechanism, final state): the parent is one of the benchmark models NA62 interprets
its hadronic search in (:data:`PARENTS`: BC1 dark photon, BC4 dark scalar, BC10 and BC11 ALPs), the mechanism
one of fipscan.models.generic.MECHANISMS that the parent offers (its channels summed, each at C_ref), the final
state one of :data:`HADRONIC_FINAL_STATES`.  A combination is *allowed* when X can be made by the mechanism
above the final state's threshold and the parent's own width has X -> final state somewhere there; otherwise
it is listed as excluded with the reason: a selection rule (:data:`SELECTION_RULES`), kinematics (the
mechanism's heaviest X lies below the threshold; fipscan.models.generic's checks), or a decay the parent's width
does not contain.  The list of NA62's 36 combinations itself is not reproduced (the paper's table could not be
consulted here): fipscan enumerates every (parent, mechanism, final state) and says which are open and why not.

The maps of one combination (:func:`compute_combination`)
---------------------------------------------------------
* N_exp on (M_X, Gamma_X) at the experiment's POT with BR = 1 (fipscan.scan of the generic model), the
  per-mass 90% CL region in that plane;
* A_acc(M_X): the geometric acceptance given a decay in the final state's fiducial volume, in the long-lived
  limit (decay positions uniform along the flight line), averaged over the mechanism's X spectrum:
  A = sum W_A s Delta / sum W_1 s Delta, W_A the yield weights with the acceptance table and W_1 with unit
  acceptance (P(decay in cell) -> s Delta_cell, s the inverse decay length); A_acc . A_trig multiplies it
  by the experiment's selection x trigger efficiency ([efficiency]);
* the reconstructed-mass resolution sigma_M(M_X) (and the mean shift of M_reco - M_X), from the same
  accepted events of the resolution Monte Carlo (fipscan.resolution; STRAW and LKr resolutions of the
  experiment's [resolution] table), averaged over the same spectrum and decay positions.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from fipscan.errors import ConfigError, InputError

__all__ = ["HADRONIC_FINAL_STATES", "PARENTS", "DEFAULT_PARENTS", "NOT_IN_NA62_LIST", "SELECTION_RULES",
           "Combination", "CombinationResult",
           "list_combinations", "compute_combination", "compute_combinations", "recast_events",
           "long_lived_weight", "resolution_grids", "RESOLUTION_GRID_POINTS", "RESOLUTION_MASS_POINTS",
           "RESOLUTION_N_MC"]

#: the hadronic final states of NA62's search (EPJC 85 (2025) 571), fipscan.final_states names
HADRONIC_FINAL_STATES = ("pipi", "pipipi0", "pipipi0pi0", "pipieta", "pipigamma", "kk", "kkpi0")

#: every parent model a combination can take, with J^PC of its X (PBC BC1, BC4, BC5, BC9, BC10, BC11)
PARENTS = {"dark-photon": "1--", "dark-scalar": "0++", "dark-scalar-bc5": "0++", "alp-photon": "0-+",
           "alp-fermion": "0-+", "alp-gluon": "0-+"}
#: the benchmark models NA62 interprets its hadronic search in (EPJC 85 (2025) 571): the default parents.  With
#: the production mechanisms of its list (all of fipscan.models.generic.MECHANISMS but kaon-decays and
#: b-pair-decays) they give 36 allowed combinations, the number NA62 quotes
DEFAULT_PARENTS = ("dark-photon", "dark-scalar", "alp-fermion", "alp-gluon")
#: mechanisms outside NA62's list of production mechanisms: fipscan's additions
NOT_IN_NA62_LIST = ("kaon-decays", "b-pair-decays")

_TWO_PSEUDOSCALARS = ("pipi", "kk")
_THREE_PSEUDOSCALARS = ("pipipi0", "pipieta", "kkpi0")
#: (J^PC of X, final state) -> the selection rule that forbids it (parity, conserved by the strong and
#: electromagnetic decays of X: a J = 0 state of n pseudoscalars has parity (-1)^n; two pseudoscalars in the
#: L = J = 0 wave are P = C = +1, so a 0^-+ state cannot reach them (its decay to pi pi is CP-violating);
#: three pseudoscalars with J = 0 are P = -1, closed to a 0^++ state)
SELECTION_RULES = {
    **{("0-+", fs): "parity: a 0^-+ state cannot decay to two pseudoscalars (P = +1 at J = 0)"
       for fs in _TWO_PSEUDOSCALARS},
    **{("0++", fs): "parity: a 0^++ state cannot decay to three pseudoscalars (P = -1 at J = 0)"
       for fs in _THREE_PSEUDOSCALARS},
}


@dataclass(frozen=True)
class Combination:
    """One (parent, mechanism, final state): ``channels`` the parent's production channels of the mechanism,
    ``allowed`` and, when not, ``reason`` (one line)."""

    parent: str
    mechanism: str
    final_state: str
    channels: tuple[str, ...]
    allowed: bool
    reason: str = ""

    @property
    def name(self) -> str:
        """'parent/mechanism/final_state' (the HDF5 group of its maps)."""
        return f"{self.parent}/{self.mechanism}/{self.final_state}"

    def model(self, reference_coupling: float = 0.0):
        """The generic X of this combination (fipscan.models.generic.GenericFIP)."""
        from fipscan.models import get_model

        return get_model("generic", parent=self.parent, production_channel=self.mechanism,
                         final_state=self.final_state, reference_coupling=reference_coupling)


@dataclass
class CombinationResult:
    """The maps of one allowed combination (:func:`compute_combination`).

    masses (Nm,) [GeV] and widths (NG,) [GeV]: the N_exp grid; events (Nm, NG): N_exp at ``pot`` with
    BR = 1 and chi at ``reference_coupling``; lower, upper (Nm,): the 90% CL region's Gamma_X edges per mass
    (nan where nothing is excluded); n_limit: the events excluded; map_masses (Nk,) [GeV]: the masses of the
    acceptance and resolution curves; production_power: n of chi ~ C**n for the mechanism's channels;
    acceptance (Nk,): geometric A_acc given a decay in the fiducial volume
    (long-lived limit); efficiency: the experiment's selection x trigger efficiency of the final state times
    the two-photon BRs of its pi0/eta daughters (what N_exp counts: A_acc . A_trig = acceptance x efficiency,
    and N_exp = N_POT chi P_rd A_acc A_trig); resolution (Nk,) [GeV]: sigma of M_reco; mass_shift (Nk,)
    [GeV]: mean M_reco - M_X; both 0 where the acceptance is 0.
    """

    combination: Combination
    reference_coupling: float
    reference_coupling_name: str
    pot: float
    masses: np.ndarray
    widths: np.ndarray
    events: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_limit: float
    map_masses: np.ndarray
    production_power: float
    acceptance: np.ndarray
    efficiency: float
    resolution: np.ndarray
    mass_shift: np.ndarray
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """One row of combinations.csv (plain Python numbers; nan where undefined)."""
        c = self.combination
        i, j = np.unravel_index(int(np.argmax(self.events)), self.events.shape)
        excluded = np.isfinite(self.lower)
        seen = self.acceptance > 0
        rel = np.where(seen, self.resolution / self.map_masses, np.nan)
        nan = float("nan")
        return {
            "parent": c.parent, "production": c.mechanism, "production_channels": " ".join(c.channels),
            "final_state": c.final_state, "reference_coupling_name": self.reference_coupling_name,
            "reference_coupling": self.reference_coupling, "pot": self.pot, "n_limit": self.n_limit,
            "peak_events": float(self.events[i, j]), "peak_mass_gev": float(self.masses[i]),
            "peak_width_gev": float(self.widths[j]),
            "mass_min_gev": float(self.masses[0]), "mass_max_gev": float(self.masses[-1]),
            "excluded_mass_min_gev": float(self.masses[excluded].min()) if excluded.any() else nan,
            "excluded_mass_max_gev": float(self.masses[excluded].max()) if excluded.any() else nan,
            "acceptance_min": float(self.acceptance[seen].min()) if seen.any() else 0.0,
            "acceptance_max": float(self.acceptance.max()),
            "efficiency": self.efficiency,
            "resolution_rel_min": float(np.nanmin(rel)) if seen.any() else nan,
            "resolution_rel_max": float(np.nanmax(rel)) if seen.any() else nan,
            "seconds": self.seconds,
        }


# ------------------------------------------------------------------------------------------------
# the list
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _parent_branching_ratios(parent: str) -> tuple[np.ndarray, dict]:
    """(masses (800,) log-spaced over the parent's range [GeV], {final state: BR (800,)}) of a parent model."""
    import jax

    from fipscan.models import get_model

    model = get_model(parent)
    m = np.geomspace(*model.mass_range, 800)
    # one compiled program per model (op by op, the widths' hundreds of small operations compile one by one)
    return m, {k: np.asarray(v) for k, v in jax.jit(model.branching_ratios)(jnp.asarray(m)).items()}


def _parent_has_decay(parent: str, final_state: str, lo: float, hi: float) -> bool:
    """Whether the parent model's BR(X -> final_state) is positive somewhere in [lo, hi] GeV (on 800 log masses
    over its range)."""
    m, br = _parent_branching_ratios(parent)
    inside = (m >= lo) & (m <= hi)
    return final_state in br and bool(np.any(br[final_state][inside] > 0))


def list_combinations(experiment=None, parents=None, final_states=None) -> list[Combination]:
    """Every (parent, mechanism, final state) with a mechanism the parent offers, allowed or excluded.

    experiment: an Experiment (or name) whose selections must include the final state (default: none checked);
    parents: names among :data:`PARENTS` (default :data:`DEFAULT_PARENTS`); final_states: among
    :data:`HADRONIC_FINAL_STATES` (default all).  Order: parents, then fipscan.models.generic.MECHANISMS
    order, then final states.
    InputError for an unknown parent or final state.
    """
    from fipscan.experiments import load_experiment
    from fipscan.models import _model_class
    from fipscan.models.generic import MECHANISMS, mechanism_channels

    parents = DEFAULT_PARENTS if parents is None else tuple(parents)
    final_states = HADRONIC_FINAL_STATES if final_states is None else tuple(final_states)
    for p in parents:
        if p not in PARENTS:
            raise InputError(f"unknown parent {p!r} for the combinations (known: {', '.join(PARENTS)})")
    for fs in final_states:
        if fs not in HADRONIC_FINAL_STATES:
            raise InputError(f"final state {fs!r} is not one of the hadronic final states "
                             f"({', '.join(HADRONIC_FINAL_STATES)})")
    exp = load_experiment(experiment) if experiment is not None else None
    out = []
    for parent in parents:
        cls = _model_class(parent)
        for mech in MECHANISMS:
            channels = mechanism_channels(cls, mech)
            if not channels:
                continue
            for fs in final_states:
                out.append(Combination(parent, mech, fs, channels, *_status(parent, mech, fs, exp)))
    return out


def _status(parent, mechanism, final_state, experiment) -> tuple[bool, str]:
    """(allowed, reason) of one combination (module docstring)."""
    rule = SELECTION_RULES.get((PARENTS[parent], final_state))
    if rule:
        return False, rule
    try:
        model = Combination(parent, mechanism, final_state, (), True).model()
    except ConfigError as exc:  # kinematically closed, Landau-Yang / Bose
        return False, str(exc).removeprefix("generic: ")
    lo, hi = model.mass_range
    if not _parent_has_decay(parent, final_state, lo, hi):
        return False, f"{parent}'s width has no X -> {final_state} (not modelled) between {lo:.4g} and {hi:.4g} GeV"
    if experiment is not None:
        if final_state not in experiment.selections:
            return False, f"{experiment.name} has no [selection.{final_state}]"
        if lo >= experiment.binning.mass_max_gev:
            return False, (f"X from {mechanism} is heavier than {experiment.name}'s acceptance tables reach "
                           f"({experiment.binning.mass_max_gev:g} GeV)")
    return True, ""


# ------------------------------------------------------------------------------------------------
# the maps
# ------------------------------------------------------------------------------------------------
def long_lived_weight(tables) -> np.ndarray:
    """sum_b,k W[m, b, k] s1[m, b] Delta_k per mass: the events per POT per unit coupling**n_width in the
    long-lived limit (P(decay in cell k) -> s Delta_k, s = s1 g**n_width the inverse decay length), up to the
    common factor g**n_width.  tables: a fipscan.yields.YieldTables (one power group); returns (Nm,) float64.
    Linear in the weights, so it also integrates tables of signed quantities (the mass-shift moments)."""
    W = np.asarray(tables.weights, dtype=np.float64)
    s1 = np.exp(np.asarray(tables.log_s1, dtype=np.float64))
    delta = np.diff(np.asarray(tables.a_edges, dtype=np.float64))
    return np.einsum("mbk,mb,k->m", W, s1, delta)


def _unit_table(table):
    """An AcceptanceTable of ``table``'s grid with every value 1 (the acceptance of 'any decay in a cell')."""
    return dataclasses.replace(table, values=np.ones_like(np.asarray(table.values)))


def _mass_axes(model, experiment, n_masses):
    lo, hi = (float(x) for x in model.mass_range)
    hi = min(hi, float(experiment.binning.mass_max_gev))
    # strictly inside: the threshold itself has zero phase space and the two-body end point zero momentum
    return np.geomspace(lo * (1 + 1e-4), hi * (1 - 1e-4), int(n_masses))


#: the resolution tables the combinations use: the acceptance tables' momentum and angle ranges with
#: RESOLUTION_GRID_POINTS points each, RESOLUTION_MASS_POINTS masses crowded towards the threshold (sigma_M
#: grows from 0 there with the daughters' momenta in the X frame), and RESOLUTION_N_MC decays per point: the
#: same smearing numbers serve every cell, so their noise does not average out over a spectrum (at 256 decays
#: sigma_M moved by +-7% between seeds at one cell, at 2048 by ~2.5%).  The acceptance tables' 40 x 36 x 36
#: points at that n_mc would take an hour per final state; the relative resolution changes smoothly with p
#: and theta, and the tables enter only through ratios of spectrum-weighted sums.
RESOLUTION_GRID_POINTS = 12
RESOLUTION_MASS_POINTS = 16
RESOLUTION_N_MC = 2048


def resolution_grids(experiment, final_state, n=RESOLUTION_GRID_POINTS, n_mass=RESOLUTION_MASS_POINTS) -> dict:
    """(log10m, log10p, log10theta) points of the resolution tables (:data:`RESOLUTION_GRID_POINTS`): momentum
    and angle over the acceptance table's ranges, ``n`` each, log-spaced; masses m = m_thr + (m_max - m_thr) x,
    x log-spaced from 1e-3 to 1, shifted to start at m_thr (``n_mass``; m_thr x 1.001 and m_max are the
    acceptance table's).  experiment:
    an Experiment or its name."""
    from fipscan.acceptance import default_grids
    from fipscan.experiments import load_experiment

    grids = default_grids(load_experiment(experiment), final_state)
    m_lo, m_hi = 10.0 ** grids["log10m"][0], 10.0 ** grids["log10m"][-1]
    masses = m_lo + (m_hi - m_lo) * (np.geomspace(1e-3, 1.0, int(n_mass)) - 1e-3) / (1 - 1e-3)
    masses[0] = m_lo
    out = {"log10m": np.log10(masses)}
    out.update({k: np.linspace(grids[k][0], grids[k][-1], int(n)) for k in ("log10p", "log10theta")})
    return out


def compute_combination(combination: Combination, experiment="na62-bd", *, n_masses=200, n_widths=200,
                        n_map=24, pot=None, reference_coupling=0.0, resolution=True, masses=None,
                        maps=True, resolution_n_mc=RESOLUTION_N_MC) -> CombinationResult:
    """The maps of one allowed combination (module docstring).

    experiment: an Experiment or name; n_masses x n_widths: the N_exp grid (log-spaced masses over the
    combination's range, Gamma_X over the generic model's scan range); n_map: masses of the acceptance and
    resolution curves; pot: default the experiment's; reference_coupling: C_ref (0: the generic model's
    default); resolution: False skips the mass resolution (zeros); maps: False skips the acceptance and the
    resolution (zeros: N_exp alone, e.g. for a recast); masses: the N_exp masses [GeV] themselves (instead of
    n_masses over the combination's range; InputError outside it); resolution_n_mc: decays per point of the
    resolution tables (:data:`RESOLUTION_N_MC`; fewer for quick looks, at the cost of their noise).  InputError
    for an excluded combination.
    Yield, acceptance and resolution tables are cached (fipscan.cache).
    """
    import time

    from fipscan.acceptance import build_acceptance_table
    from fipscan.experiments import load_experiment
    from fipscan.final_states import get_final_state
    from fipscan.grid import Grid
    from fipscan.production.channels import channel_power
    from fipscan.scanner import scan
    from fipscan.yields import compute_tables

    if not combination.allowed:
        raise InputError(f"combination {combination.name} is excluded: {combination.reason}")
    t0 = time.perf_counter()
    exp = load_experiment(experiment)
    if pot is not None:
        exp = exp.with_pot(pot)
    model = combination.model(reference_coupling)
    fs = combination.final_state
    if masses is None:
        masses = _mass_axes(model, exp, n_masses)
    masses = np.asarray(masses, dtype=float)
    widths = np.geomspace(*model.coupling.scan_range, int(n_widths))
    res = scan(model, exp, Grid(masses, widths), bands=False)
    point = res.points[0]
    m_map = _mass_axes(model, exp, n_map)
    acceptance = np.zeros_like(m_map)
    if maps:
        table = build_acceptance_table(exp, fs, spin=model.spin)
        with_acc = long_lived_weight(compute_tables(model, exp, m_map, acceptance={fs: table}))
        with_one = long_lived_weight(compute_tables(model, exp, m_map, acceptance={fs: _unit_table(table)}))
        acceptance = np.where(with_one > 0, with_acc / np.where(with_one > 0, with_one, 1.0), 0.0)
    sigma = np.zeros_like(m_map)
    shift = np.zeros_like(m_map)
    if maps and resolution:
        sigma, shift = _resolution_curve(model, exp, fs, m_map, resolution_n_mc)
    parent = model.parent_model
    powers = {channel_power(c, parent.coupling.production_power) for c in parent.production()}
    if len(powers) != 1:  # pragma: no cover - every mechanism's channels share one power
        raise InputError(f"combination {combination.name}: its channels scale with different powers {sorted(powers)}")
    return CombinationResult(
        combination=dataclasses.replace(combination, channels=model.production_channels),
        reference_coupling=float(model.reference_coupling), reference_coupling_name=parent.coupling.name,
        pot=float(exp.pot), masses=masses, widths=widths, events=np.asarray(point.events),
        lower=np.asarray(point.contour.lower), upper=np.asarray(point.contour.upper), n_limit=float(point.n_limit),
        map_masses=m_map, production_power=float(powers.pop()), acceptance=acceptance,
        efficiency=float(exp.efficiency[fs]) * get_final_state(fs).visible_br, resolution=sigma,
        mass_shift=shift, seconds=time.perf_counter() - t0)


def _resolution_curve(model, experiment, final_state, masses, n_mc=RESOLUTION_N_MC):
    """(sigma_M, mean shift) [GeV] per mass: the moments of M_reco - M_X over the accepted events of the
    resolution tables (:data:`RESOLUTION_GRID_POINTS`), integrated over the spectrum like the events
    (long-lived limit)."""
    from fipscan.resolution import build_resolution_table, mass_resolution
    from fipscan.yields import compute_tables

    rt = build_resolution_table(experiment, final_state, spin=model.spin, n_mc=n_mc,
                                **resolution_grids(experiment, final_state))
    sums = [long_lived_weight(compute_tables(model, experiment, masses, acceptance={final_state: t}))
            for t in (rt.acceptance, rt.first, rt.second)]
    shift, sigma = mass_resolution(*sums)
    return np.asarray(sigma, dtype=float), np.asarray(shift, dtype=float)


def compute_combinations(experiment="na62-bd", *, parents=None, final_states=None, progress=None,
                         **options) -> tuple[list[Combination], list[CombinationResult]]:
    """Every combination (:func:`list_combinations`) and the maps of the allowed ones
    (:func:`compute_combination` with ``options``).  progress: optional callable(i, n, combination)."""
    from fipscan.experiments import load_experiment

    exp = load_experiment(experiment)
    combos = list_combinations(exp, parents=parents, final_states=final_states)
    allowed = [c for c in combos if c.allowed]
    results = []
    for i, c in enumerate(allowed):
        if progress is not None:
            progress(i, len(allowed), c)
        results.append(compute_combination(c, exp, **options))
    return combos, results


def recast_events(result: CombinationResult, model, coupling, *, pot=None) -> np.ndarray:
    """N(m, g) of a benchmark ``model`` at ``coupling`` g, recast from a combination's N_exp map (NA62's
    re-weighting): N = N_exp(m, Gamma_model(m, g)) x BR_model(m, final state) x chi(g)/chi(C_ref), with
    chi(g)/chi(C_ref) = (g/C_ref)**n (``result.production_power``: the channels of a mechanism all scale
    with one power of the parent coupling).

    model: the combination's parent model (instance); coupling: scalar or (Ng,); returns (Nm, Ng) on the
    combination's masses.  Between map widths log N_exp is interpolated linearly in log Gamma where it rises
    (long-lived side, N ~ Gamma) and in Gamma where it falls (short-lived side, log N ~ -c Gamma); N itself
    linearly in Gamma where a neighbour is zero.  Off the map's Gamma_X range: below it N_exp ~ Gamma (the
    long-lived limit, P_decay ~ Gamma L;
    checked on the map's first two widths to 1e-3), above it N_exp = 0 when the map's last column is below
    1e-3 of the limit once scaled to the model (the short-lived side has fallen off); InputError otherwise, and
    for a model that is not the combination's parent or a coupling that is not positive, finite and at most
    the model's maximum.  pot: rescales linearly from the map's POT.
    """
    from fipscan import checks

    if getattr(model, "name", None) != result.combination.parent:
        raise InputError(f"recast: the map of {result.combination.name} recasts {result.combination.parent}, "
                         f"not {getattr(model, 'name', model)!r}")
    g = np.atleast_1d(np.asarray(coupling, dtype=float))
    top = float(getattr(model.coupling, "max", math.inf))
    for x in (g.min(), g.max()):
        checks.positive(f"recast coupling {model.coupling.name}", x)
        if x > top:
            raise InputError(f"recast coupling {model.coupling.name} = {x:g} is above its maximum {top:g}")
    m = result.masses
    width = np.asarray(model.total_width(jnp.asarray(m)[:, None], jnp.asarray(g)[None, :]), dtype=float)
    br = np.asarray(model.branching_ratios(jnp.asarray(m))[result.combination.final_state], dtype=float)
    lw = np.log(result.widths)
    lwm = np.log(width)
    ev = result.events
    below, above = lwm < lw[0], lwm > lw[-1]
    if np.any(below):
        rows = below.any(axis=1) & (ev[:, 0] > 0)
        slope = ev[rows, 1] / ev[rows, 0] / (result.widths[1] / result.widths[0])
        if not np.allclose(slope, 1.0, rtol=1e-3):
            raise InputError(f"recast: the model's width reaches {width.min():.3g} GeV, below the map's Gamma_X range "
                             f"(from {result.widths[0]:.3g} GeV) where the map is not yet long-lived")
    scale = (g / result.reference_coupling) ** result.production_power
    pot_scale = 1.0 if pot is None else float(pot) / result.pot
    if np.any(above):  # the map's last column as events of the model, at each coupling beyond the map
        last = ev[:, -1:] * br[:, None] * scale[None, :] * pot_scale
        if np.any(last[above] >= 1e-3 * result.n_limit):
            raise InputError(f"recast: the model's width reaches {width.max():.3g} GeV, above the map's Gamma_X range "
                             f"(to {result.widths[-1]:.3g} GeV) where the map still has events")
    # between two map widths: log N linear in log Gamma where N rises with Gamma (the long-lived side, N ~ Gamma:
    # exact) and linear in Gamma where it falls (the short-lived side, log N ~ -c Gamma: exact); N itself
    # linear in Gamma where a neighbour has no events
    w = np.clip(width, result.widths[0], result.widths[-1])
    j = np.clip(np.searchsorted(result.widths, w, side="right") - 1, 0, result.widths.size - 2)
    w0, w1 = result.widths[j], result.widths[j + 1]
    rows = np.arange(m.size)[:, None]
    n0, n1 = ev[rows, j], ev[rows, j + 1]
    both = (n0 > 0) & (n1 > 0)
    l0, l1 = np.log(np.where(both, n0, 1.0)), np.log(np.where(both, n1, 1.0))
    t_lin = (w - w0) / (w1 - w0)
    t_log = np.log(w / w0) / np.log(w1 / w0)
    t = np.where(l1 >= l0, t_log, t_lin)
    out = np.where(both, np.exp((1 - t) * l0 + t * l1), (1 - t_lin) * n0 + t_lin * n1)
    out = np.where(below, ev[:, :1] * np.exp(lwm - lw[0]), np.where(above, 0.0, out))
    return out * br[:, None] * scale[None, :] * pot_scale
