"""Kaon-mode searches: K+ -> pi+ X in flight, X decaying to two photons, a lepton pair, or escaping.

For one search of a kaon-mode experiment (fipscan.experiments.kaon) and a model with a K+ -> pi+ X
production channel, the expected signal is

    N(m, g) = N_K x BR(K+ -> pi+ X)(m, g) x BR(X -> signature)(m) x efficiency
              x sum_bk A_bk(m) P_k(s_b),    s_b = m Gamma(m, g) <1/p>_b / (hbar c),

with A_bk the coupling-independent acceptance of the Monte Carlo of fipscan.kernels.kaon (K+ decay
position, pi+ and X kinematics, X decay in flight-distance cell k and X momentum bin b, the detector
cuts; the last cell, to 1e30 m, is "X leaves the detector") and P_k(s) = exp(-s a_k)(1 - exp(-s (a_k+1 -
a_k))) the probability to decay in cell k (the decay-cell form of the beam dump).  The tables therefore
have the layout of the beam dump's yield tables (fipscan.yields.YieldTables: weights (Nm, Nb, Nz),
log_s1 (Nm, Nb), a_edges) with N_K in the role of the POT, and every part of fipscan that reads yield
tables (the Search protocol, per-mass and traced contours, outputs) reads them unchanged.

BR(K+ -> pi+ X)(m, g) is the model's own production channel ``kplus->piplus`` (fipscan.production.
channels.MesonDecay; its ``parent_weight``, the dump's kaon interactions, does not apply to kaons that
decay in flight): BC4 and BC5 (the dark scalar's K+ -> pi+ S, dark_scalar.br_k_to_pi_scalar), BC10 and
BC11 (the loop-induced s -> d coupling of the ALP, fipscan.models._alp_flavour.br_k_to_pi_alp) and the
generic model with ``--production kplus->piplus`` of a parent that has it.  A model without the channel
(BC1: K+ -> pi+ A' is not part of the minimal dark photon's production here; BC9: the photophilic ALP
has no s -> d coupling at one loop, which needs a coupling to W bosons) is refused with one line.

A peak search's limit depends on the mass window: N_up(m) (fipscan.stats.peak_search).  Its tables are
*limit-normalised*: the weights are multiplied by N_ref / N_up(m) (:class:`LimitNormalisedTables`), so
that the exclusion N(m, g) > N_up(m) is the level N_ref of the normalised tables and every contour
code of fipscan applies as it is; :meth:`LimitNormalisedTables.split_events_grid` and the scan's
``events`` give the true N.  Masses outside the searched windows have N_up = inf (nothing excluded).

Units: masses GeV, lengths m, momenta GeV; N_K in K+ decays.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from fipscan import constants as C
from fipscan.errors import ConfigError, InputError
from fipscan.yields import YieldTables

__all__ = ["KaonAcceptance", "LimitNormalisedTables", "kaon_acceptance", "kaon_channel", "kaon_tables",
           "search_limits", "KAON_CHANNEL", "SCHEMA_VERSION", "TAU_KPLUS", "br_upper_limits",
           "calibrated_n_kaons", "search_masses"]

log = logging.getLogger("fipscan.kaon")

#: the production channel a kaon-mode search needs from a model
KAON_CHANNEL = "kplus->piplus"
#: why a benchmark has no K+ -> pi+ X (the refusal says so)
NO_KAON_REASON = {
    "BC1": "K+ -> pi+ A' goes through the K+ -> pi+ gamma* amplitude, ~eps^2 BR(K+ -> pi+ e+ e-) ~ 1e-7 eps^2: "
           "not modelled",
    "BC9": "a photon-only ALP has no s -> d coupling at one loop; it needs a coupling to W bosons",
}
#: K+ lifetime [s] (PDG 2024: 1.2380e-8 s)
TAU_KPLUS = 1.2380e-8
#: version of the acceptance-table cache entries (bump when the Monte Carlo changes its numbers)
SCHEMA_VERSION = 1
_KIND = "kaon-acceptance"
#: Monte Carlo stream of the kaon-mode tables
SEED = 20250301


@dataclass(frozen=True)
class KaonAcceptance:
    """The coupling-independent acceptance of one kaon-mode search.

    masses (Nm,) [GeV]; weights (Nm, Nb, Nz): the fraction of K+ -> pi+ X decays in the fiducial region
    whose X falls in momentum bin b and, decaying in flight-distance cell k, passes the search's cuts;
    inv_p (Nm, Nb) [1/GeV]: the mean ``1/|p_X|`` of each bin; a_edges (Nz + 1,) [m] (the last one 1e30:
    beyond the detector); p_edges (Nb + 1,) [GeV]; sigma_m (Nm,) [GeV]: rms of the reconstructed
    m_X = sqrt((P_K - P_pi)^2) (its standard deviation) over the accepted decays of every cell (the
    reconstruction uses the K+ and the pi+ only, so it does not depend on where X decays; NaN where none
    is accepted)."""

    search: str
    signature: str
    masses: np.ndarray
    weights: np.ndarray
    inv_p: np.ndarray
    a_edges: np.ndarray
    p_edges: np.ndarray
    sigma_m: np.ndarray

    def acceptance(self, ctau) -> np.ndarray:
        """A(m, c tau) (Nm, Nt): the probability that a K+ -> pi+ X decay of the fiducial region is
        accepted, for X proper decay lengths ``ctau`` (Nt,) [m] (> 0; inf: X never decays).  The
        mean 1/p of each momentum bin sets its inverse decay length s_b = m <1/p>_b / (c tau)."""
        ct = np.atleast_1d(np.asarray(ctau, float))
        if np.any(~(ct > 0)):
            raise InputError(f"c tau must be > 0 [m], got {ct[~(ct > 0)][0]!r}")
        s = self.masses[:, None, None] * self.inv_p[:, :, None] / ct[None, None, :]  # (Nm, Nb, Nt)
        a = self.a_edges
        with np.errstate(over="ignore", invalid="ignore"):
            width = np.diff(a)
            # exp(-s a_k) (1 - exp(-s w_k)); s = 0 (tau = inf): only the beyond cell, P = 1
            p = np.exp(-s[..., None] * a[None, None, None, :-1]) * -np.expm1(-s[..., None] * width)
            p = np.where(s[..., None] == 0, np.where(np.isinf(a[1:]) | (a[1:] >= 1e29), 1.0, 0.0), p)
        return np.einsum("mbk,mbtk->mt", self.weights, p)


def _kernel_inputs(experiment, search, dtype):
    from fipscan.kernels import kaon as kk

    s = experiment.search(search)
    beam = kk.KaonBeam(p_mean=experiment.beam.momentum_gev, p_rel_rms=experiment.beam.momentum_rel_rms,
                       z_lo=s.decay_z[0], z_hi=s.decay_z[1], z_beam_start=experiment.beam.start_z,
                       m_k=C.M_K, ctau_k=TAU_KPLUS * C.C_LIGHT, m_pi=C.M_PI)
    sel = kk.KaonSelection(pi_p_min=s.pi_momentum_gev[0], pi_p_max=s.pi_momentum_gev[1],
                           min_photon_energy=s.min_photon_energy_gev, min_separation=s.min_separation_m,
                           lepton_min_energy=s.lepton_min_energy_gev,
                           z_escape=s.escape_z if math.isfinite(s.escape_z) else 1e30,
                           mm2_windows=tuple(s.mm2_windows_gev2))
    r = experiment.resolution
    res = kk.KaonResolution(gtk_p_rel=experiment.beam_tracker[0], gtk_angle_rad=experiment.beam_tracker[1],
                            straw_momentum_constant=0.0 if r is None else r.straw_momentum_constant,
                            straw_momentum_linear_per_gev=0.0 if r is None else r.straw_momentum_linear_per_gev,
                            straw_angle_rad=0.0 if r is None else r.straw_angle_rad)
    return s, beam, experiment.geometry(), sel, res


def _settings(experiment, search, masses, n_mc, dtype) -> dict:
    from dataclasses import asdict

    from fipscan.cache import key_floats

    s = experiment.search(search)
    return {"experiment": {k: v for k, v in experiment.settings().items() if k not in ("searches", "samples",
                                                                                       "exposure_scale", "cl")},
            "search": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(s).items()
                       if k not in ("observed", "background", "background_uncertainty", "data", "title",
                                    "reference", "sample", "efficiency", "name", "statistics")},
            "masses": key_floats(masses), "n_mc": int(n_mc), "seed": SEED,
            "dtype": str(np.dtype(dtype))}


#: masses are computed in chunks of this many (the last one padded): every grid shares one compilation
_MASS_CHUNK = 16


@partial(jax.jit, static_argnames=("signature", "n_mc", "dtype"))
def _tables_over_masses(key, masses, beam, geom, sel, res, a_edges, p_edges, signature, n_mc, dtype):
    """fipscan.kernels.kaon.kaon_mode_tables at every mass (one at a time: lax.map keeps the memory of one
    mass's events), the same Monte Carlo events for every mass (one key)."""
    from fipscan.kernels import kaon as kk

    return jax.lax.map(lambda m: kk.kaon_mode_tables(key, m, beam, geom, sel, res, a_edges, p_edges, signature,
                                                     n_mc, dtype=dtype), masses)


def _compute(experiment, search, masses, n_mc, dtype) -> dict:
    from fipscan.kernels import kaon as kk

    s, beam, geom, sel, res = _kernel_inputs(experiment, search, dtype)
    a_edges = jnp.asarray(experiment.binning.distance_edges, dtype)
    p_edges = jnp.asarray(10.0 ** np.asarray(experiment.binning.log10p_edges), dtype)
    key = jax.random.PRNGKey(SEED)
    m = np.asarray(masses, float)
    n = m.size
    padded = np.concatenate([m, np.full((-n) % _MASS_CHUNK, m[-1])])  # one shape: one compilation
    t0 = time.perf_counter()
    parts = [_tables_over_masses(key, jnp.asarray(padded[i:i + _MASS_CHUNK], dtype), beam, geom, sel, res,
                                 a_edges, p_edges, s.signature, n_mc, dtype)
             for i in range(0, padded.size, _MASS_CHUNK)]
    out = jax.tree_util.tree_map(lambda *x: jnp.concatenate(x)[:n], *parts)
    log.info("kaon-mode acceptance %s (%d masses, n_mc %d) in %.1f s", search, len(masses), n_mc,
             time.perf_counter() - t0)
    total = np.asarray(out.total, float)  # acceptance summed over bins and cells (per n_mc)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.asarray(out.mass_sum, float) / total
        var = np.asarray(out.mass_sq_sum, float) / total - mean**2
        sigma = np.where(total > 0, np.sqrt(np.maximum(var, 0.0)), np.nan)
    return {"weights": np.asarray(out.weights, float), "inv_p": np.asarray(out.inv_p_mean, float),
            "a_edges": np.asarray(a_edges, float), "p_edges": np.asarray(p_edges, float), "sigma_m": sigma}


def kaon_acceptance(experiment, search: str, masses, *, n_mc=None, dtype=jnp.float64, cache=True) -> KaonAcceptance:
    """The :class:`KaonAcceptance` of ``search`` of the kaon-mode ``experiment`` at ``masses`` (Nm,) [GeV]
    (n_mc Monte Carlo K+ decays per mass; default the experiment's ``binning.n_mc``).  Cached
    (fipscan.cache kind "kaon-acceptance": atomic, verified, built once across processes) under every
    input that changes its numbers.  InputError for masses <= 0 or NaN."""
    from fipscan.experiments import load_experiment

    experiment = load_experiment(experiment)
    if getattr(experiment, "kind", "") != "kaon":
        raise InputError(f"{experiment.name} is not a kaon-mode experiment (kind {experiment.kind!r})")
    s = experiment.search(search)
    m = np.atleast_1d(np.asarray(masses, float))
    if m.ndim != 1 or m.size == 0 or np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise InputError("kaon-mode masses must be a non-empty 1-d array of finite masses > 0 [GeV]")
    n_mc = int(experiment.binning.n_mc if n_mc is None else n_mc)
    if n_mc < 1:
        raise InputError(f"n_mc must be >= 1, got {n_mc}")

    def table(d) -> KaonAcceptance:
        return KaonAcceptance(search, s.signature, m, d["weights"], d["inv_p"], d["a_edges"], d["p_edges"],
                              d["sigma_m"])

    if not cache:
        return table(_compute(experiment, search, m, n_mc, dtype))
    import h5py

    from fipscan.cache import get_or_build

    def build(f: h5py.File) -> None:
        for k, v in _compute(experiment, search, m, n_mc, dtype).items():
            f.create_dataset(k, data=v)

    def read(f: h5py.File) -> KaonAcceptance:
        return table({k: np.asarray(f[k]) for k in ("weights", "inv_p", "a_edges", "p_edges", "sigma_m")})

    return get_or_build(_KIND, _settings(experiment, search, m, n_mc, dtype), SCHEMA_VERSION, build,
                        attrs={"search": search}, read=read)


def kaon_channel(model):
    """The model's K+ -> pi+ X production channel (InputError naming the model when it has none).  A model
    that offers it as an optional beam-dump channel (BC11: negligible in a dump, so not among its default
    ``production_channels``) gives it too: kaons decaying in flight are another matter."""
    import dataclasses

    for ch in model.production():
        if getattr(ch, "name", None) == KAON_CHANNEL:
            return ch
    if dataclasses.is_dataclass(model) and "production_channels" in {f.name for f in dataclasses.fields(model)}:
        try:
            extended = dataclasses.replace(model, production_channels=(*model.production_channels, KAON_CHANNEL))
        except (InputError, ValueError, TypeError):
            extended = None
        for ch in (extended.production() if extended is not None else ()):
            if getattr(ch, "name", None) == KAON_CHANNEL:
                return ch
    why = NO_KAON_REASON.get(getattr(model, "benchmark", ""), "")
    raise InputError(f"model {model.name} ({getattr(model, 'benchmark', '')}) has no K+ -> pi+ X production "
                     f"channel '{KAON_CHANNEL}'{f' ({why})' if why else ''}: the kaon mode needs one (BC4, BC5, "
                     "BC10, BC11, or --model generic --production kplus->piplus)")


def _signature_br(model, signature: str, masses) -> np.ndarray:
    """BR(X -> signature)(m): the model's branching ratio to the final state (1 for "invisible": any
    decay beyond the detector is unseen, and the kaon tables put weight only there)."""
    if signature == "invisible":
        return np.ones_like(masses)
    brs = model.branching_ratios(jnp.asarray(masses))
    if signature not in brs:
        return np.zeros_like(masses)
    return np.nan_to_num(np.asarray(brs[signature], float), nan=0.0)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class LimitNormalisedTables(YieldTables):
    """Yield tables whose weights are multiplied per mass by ``limit_scale`` = N_ref / N_up(m) (module
    docstring): their contours at N_ref are the peak search's exclusion N = N_up(m).  limit_scale (Nm,)
    (0 where a mass has no limit); ``true``: the tables before the normalisation, which
    :meth:`split_events_grid` and :meth:`true_events_grid` evaluate (the true N)."""

    limit_scale: jax.Array = None
    true: YieldTables = None

    @classmethod
    def normalise(cls, tables: YieldTables, scale) -> "LimitNormalisedTables":
        """``tables`` with every weight array multiplied by ``scale`` (Nm,) per mass."""
        s = jnp.asarray(scale, tables.weights.dtype)[:, None, None]
        return cls(masses=tables.masses, weights=tables.weights * s, log_s1=tables.log_s1, a_edges=tables.a_edges,
                   per_channel={k: v * s for k, v in tables.per_channel.items()},
                   per_final_state={k: v * s for k, v in tables.per_final_state.items()},
                   channels=tables.channels, n_prod=tables.n_prod, n_width=tables.n_width,
                   channel_powers=tables.channel_powers, limit_scale=s[:, 0, 0], true=tables)

    def select(self, name: str, by="final_state") -> "LimitNormalisedTables":
        from dataclasses import replace

        return replace(super().select(name, by), true=self.true.select(name, by))

    def split_events_grid(self, log_g, pot, by="final_state", chunk=16) -> dict:
        return self.true.split_events_grid(log_g, pot, by=by, chunk=chunk)

    def true_events_grid(self, log_g, pot, chunk=16):
        """N on the (Nm, Ng) grid before the normalisation."""
        return self.true.events_grid(log_g, pot, chunk)


def kaon_tables(model, experiment, search: str, masses, *, n_mc=None, dtype=jnp.float64) -> YieldTables:
    """The yield tables (fipscan.yields.YieldTables, N_K in the role of the POT) of ``model`` in
    ``search`` of the kaon-mode ``experiment`` at ``masses`` (Nm,) [GeV]: weights (Nm, Nb, Nz) = BR(K+ ->
    pi+ X)(m, g=1) x BR(X -> signature) x efficiency x acceptance, log_s1 (Nm, Nb) = log(m Gamma(m, 1)
    <1/p>_b / hbar c) [log 1/m] (module docstring).  InputError when the model has no K+ -> pi+ X."""
    from fipscan.models import get_model
    from fipscan.production.channels import channel_power

    model = get_model(model)
    ch = kaon_channel(model)
    acc = kaon_acceptance(experiment, search, masses, n_mc=n_mc, dtype=dtype)
    s = experiment.search(search)
    m = acc.masses
    br_k = np.nan_to_num(np.asarray(ch.rate(jnp.asarray(m, dtype), jnp.asarray(1.0, dtype)), float), nan=0.0)
    br_k = np.where(m < C.M_K - C.M_PI, np.maximum(br_k, 0.0), 0.0)
    br_x = _signature_br(model, s.signature, m)
    w = acc.weights * (br_k * br_x * s.efficiency)[:, None, None]
    width = np.asarray(model.total_width(jnp.asarray(m, dtype), jnp.asarray(1.0, dtype)), float)
    with np.errstate(divide="ignore"):
        log_s1 = np.log(m[:, None] * np.maximum(width, 0.0)[:, None] * acc.inv_p / C.HBARC)
    # a bin without events (inv_p 0) has zero weight; a width that vanishes exactly gets s = e^-60 /m at unit
    # coupling.  The beyond cell ends at 1e30 m, so its P = exp(-s a)(1 - exp(-s 1e30)) is the escape
    # probability only while s > ~1e-28 /m (decay lengths below ~1e28 m); beyond that it undercounts escaping
    # X (an infinite last edge in the decay-cell kernels would remove the limit)
    log_s1 = np.where(np.isfinite(log_s1), log_s1, -60.0)
    W = jnp.asarray(w, dtype)
    return YieldTables(masses=jnp.asarray(m, dtype), weights=W, log_s1=jnp.asarray(log_s1, dtype),
                       a_edges=jnp.asarray(acc.a_edges, dtype), per_channel={KAON_CHANNEL: W},
                       per_final_state={s.signature: W}, channels=(s.signature,),
                       n_prod=channel_power(ch, model.coupling.production_power),
                       n_width=float(model.coupling.width_power))


def search_limits(experiment, search: str, masses, *, cl=None, method="cls", observed=None, background=None,
                  background_uncertainty=None, pot=None) -> tuple[np.ndarray, dict]:
    """The signal-event limit N_up at each of ``masses`` (Nm,) [GeV] for ``search``, and a dict of what
    it used.  Counting: one number for every mass (fipscan.stats.upper_limit of the search's observed
    count over its background; ``observed``/``background``/``background_uncertainty`` override them; the
    search's background scales with the exposure ``pot`` (default: the experiment's N_K of the search,
    projections included) over its sample's N_K).  Peak: the local limit of the window at each mass
    (fipscan.stats.peak_search.local_upper_limits), log-interpolated between window centres, inf outside
    the searched range.  ``pot`` other than the search's N_K is refused for a peak search (its observed
    counts belong to its sample)."""
    from fipscan.stats import upper_limit

    s = experiment.search(search)
    cl = float(experiment.cl if cl is None else cl)
    m = np.asarray(masses, float)
    n_k = experiment.samples[s.sample].n_kaons  # the sample the counts belong to (no projection scale)
    if pot is None:
        pot = experiment.n_kaons(search)  # the experiment's exposure (with_pot scales it)
    if s.statistics == "counting":
        obs = s.observed if observed is None else int(observed)
        if background is None:
            scale = float(pot) / n_k
            b, db = s.background * scale, s.background_uncertainty * scale
        else:
            b, db = float(background), float(background_uncertainty or 0.0)
        n_up = float(upper_limit(obs, b, db, cl=cl, method=method))
        return np.full(m.shape, n_up), {"statistics": "counting", "observed": obs, "background": b,
                                        "background_uncertainty": db, "n_limit": n_up}
    if abs(float(pot) / n_k - 1.0) > 1e-9:
        raise InputError(f"search {search} is a peak search over observed counts of its own sample "
                         f"({n_k:.4g} K+ decays): another exposure (--pot) does not apply to it")
    if observed is not None or background is not None:
        raise InputError(f"search {search} is a peak search: its counts and backgrounds come from its data file, "
                         "not from --observed/--background")
    from fipscan.stats import peak_search as ps

    data = ps.example_peak_search() if s.data == "example" else ps.read_peak_search(s.data)
    n_win = ps.local_upper_limits(data, cl=cl, method=method)
    log_n = np.interp(m, data.masses, np.log(n_win))
    inside = (m >= data.masses[0] * (1 - 1e-12)) & (m <= data.masses[-1] * (1 + 1e-12))
    n_up = np.where(inside, np.exp(log_n), np.inf)
    lee = ps.look_elsewhere(data)
    return n_up, {"statistics": "peak", "data": s.data, "window_sigmas": float(data.window_sigmas),
                  "n_windows": int(data.masses.size), "mass_range": [float(data.masses[0]), float(data.masses[-1])],
                  "look_elsewhere": {k: (float(v) if isinstance(v, (int, float, np.floating)) else v)
                                     for k, v in lee.items()}}


def search_masses(experiment, search: str, n: int = 200) -> np.ndarray:
    """The default masses [GeV] of ``search``: a peak search's window centres, else ``n`` log-spaced masses
    from 1 MeV to m_K - m_pi."""
    s = experiment.search(search)
    if s.statistics == "peak":
        from fipscan.stats import peak_search as ps

        data = ps.example_peak_search() if s.data == "example" else ps.read_peak_search(s.data)
        return np.asarray(data.masses, float)
    return np.geomspace(1e-3, C.M_K - C.M_PI - 1e-6, int(n))


def br_upper_limits(experiment, search: str, masses, ctau, *, cl=None, n_mc=None, observed=None, background=None,
                    background_uncertainty=None) -> np.ndarray:
    """Upper limits on BR(K+ -> pi+ X) x BR(X -> signature) (Nm, Nt) at ``masses`` [GeV] and X proper
    decay lengths ``ctau`` (Nt,) [m]: N_up(m) / (N_K x efficiency x A(m, c tau)); inf where the
    acceptance vanishes or the mass lies outside the search (the generic X's BR(K -> pi X) and tau_X
    axes).  ``observed``/``background``/``background_uncertainty``: a counting search's counts instead of its
    own (whose background scales with the experiment's exposure, :func:`search_limits`).  Limits above 1
    are returned as they are (they constrain nothing)."""
    s = experiment.search(search)
    acc = kaon_acceptance(experiment, search, masses, n_mc=n_mc)
    n_up, _ = search_limits(experiment, search, masses, cl=cl, observed=observed, background=background,
                            background_uncertainty=background_uncertainty)
    a = acc.acceptance(ctau) * s.efficiency
    n_k = experiment.n_kaons(search)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = n_up[:, None] / (n_k * a)
    return np.where((a > 0) & np.isfinite(out), out, np.inf)


def calibrated_n_kaons(experiment, search: str, signal_events: float, branching_ratio: float, masses, *,
                       weights=None, prompt: bool, n_mc=None) -> float:
    """The N_K that makes the search see ``signal_events`` of a Standard-Model decay of branching ratio
    ``branching_ratio`` whose two-body stand-in is K+ -> pi+ X at ``masses`` [GeV] (averaged with
    ``weights``, default uniform), X decaying promptly (``prompt=True``: c tau -> 0) or escaping
    (c tau -> inf): N_K = signal_events / (BR x efficiency x <A>).  How na62_kaon.toml fixes the
    samples of its searches from published candidate counts (the comments there say which)."""
    m = np.asarray(masses, float)
    w = np.ones_like(m) if weights is None else np.asarray(weights, float)
    if signal_events <= 0 or branching_ratio <= 0 or np.any(w < 0) or w.sum() <= 0:
        raise InputError("calibrated_n_kaons needs signal_events > 0, branching_ratio > 0 and weights >= 0")
    acc = kaon_acceptance(experiment, search, m, n_mc=n_mc)
    a = acc.acceptance([1e-12 if prompt else np.inf])[:, 0]
    mean = float(np.sum(w * a) / np.sum(w))
    if mean <= 0:
        raise InputError(f"search {search} accepts none of these decays: no calibration")
    return float(signal_events / (branching_ratio * experiment.search(search).efficiency * mean))
