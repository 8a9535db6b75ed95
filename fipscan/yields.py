"""Coupling-independent yield tables: build once per (model, experiment, masses), scan many couplings.

``precompute(model, experiment, masses)`` turns the model's declared production channels (sources for
the experiment's beam), the acceptance tables of the detected final states, their branching ratios and
the selection efficiencies into, per mass, weights W[b, k] on (FIP momentum bin b, decay cell k) and
the log inverse decay length at unit coupling per momentum bin.  N(m, g) is then a fused kernel
(fipscan.kernels.yields).  The weights are also kept split by production channel and by final state.
The table is an explicit object that callers pass around (no hidden state on the model or module).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.acceptance import build_acceptance_table
from fipscan.errors import InputError
from fipscan.kernels import yields as kyields
from fipscan.kernels.binning import log_bin_index
from fipscan.kernels.decay import HBARC_GEV_M
from fipscan.production.samples import histogram_samples
from fipscan.production.sources import sources

__all__ = ["YieldTables", "precompute", "compute_tables", "resolve_final_states", "yield_table_key"]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class YieldTables:
    """Per-mass yield weights.  Array leaves can be differentiated; the rest is static metadata.

    masses: (Nm,) [GeV]; weights: (Nm, Nb, Nz) FIPs per POT at unit coupling x acceptance x BR x
    efficiency in momentum bin b and decay cell k, summed over production channels and final states;
    log_s1: (Nm, Nb) log of the inverse decay length [1/m] at unit coupling; a_edges: (Nz + 1,) path
    length [m] of the cell edges from the production point; per_channel: the weights split by
    production channel (name -> (Nm, Nb, Nz); they sum to ``weights``); per_final_state: split by final
    state (name -> (Nm, Nb, Nz); they sum to ``weights``); channels: the final states; n_prod, n_width:
    the production and width powers of the coupling; channel_powers: ((production channel, power), ...)
    for every channel when the model's channels scale with different powers of the coupling (e.g. the
    BC5 scalar: single production ~ sin^2 theta, pair production ~ 1), empty when every channel scales
    as g**n_prod.  Then N(m, g) = N_POT sum_n g^n sum_bk W^(n)_bk P_k(s_b), one weight array per distinct
    power (:meth:`power_groups`); the single-power case is today's one kernel call.
    """

    masses: jax.Array
    weights: jax.Array
    log_s1: jax.Array
    a_edges: jax.Array
    per_channel: Mapping[str, jax.Array]
    per_final_state: Mapping[str, jax.Array] = field(default_factory=dict)
    channels: tuple[str, ...] = field(metadata=dict(static=True), default=())
    n_prod: float = field(metadata=dict(static=True), default=2.0)
    n_width: float = field(metadata=dict(static=True), default=2.0)
    channel_powers: tuple[tuple[str, float], ...] = field(metadata=dict(static=True), default=())

    @property
    def final_states(self) -> tuple[str, ...]:
        return self.channels

    @property
    def production_channels(self) -> tuple[str, ...]:
        return tuple(self.per_channel)

    def channel_power(self, name: str) -> float:
        """The power of the coupling in the production of channel ``name`` (n_prod unless listed in
        ``channel_powers``)."""
        return float(dict(self.channel_powers).get(name, self.n_prod))

    def power_groups(self) -> tuple[tuple[float, jax.Array], ...]:
        """((n, W^(n)), ...): the weights (Nm, Nb, Nz) of the production channels whose rate scales as
        g**n, one entry per distinct power, summing to ``weights``; ((n_prod, weights),) when every
        channel scales alike (no copy)."""
        if not self.channel_powers:
            return ((float(self.n_prod), self.weights),)
        groups: dict = {}
        for name, W in self.per_channel.items():
            n = self.channel_power(name)
            groups[n] = W if n not in groups else groups[n] + W
        return tuple(sorted(groups.items(), key=lambda kv: (kv[0] != self.n_prod, kv[0])))

    def log_events(self, i, log_g, pot):
        """log N at mass index i (python int) and log coupling(s) ``log_g``."""
        return kyields.sum_power_terms((kyields.log_events(log_g, W[i], self.log_s1[i], self.a_edges, jnp.log(pot),
                                                           n, self.n_width)
                                        for n, W in self.power_groups()), log=True)

    def events_grid(self, log_g, pot, chunk=16):
        """N on the (Nm, Ng) grid of these masses and the log couplings ``log_g`` (one fused kernel per
        power group, :meth:`power_groups`)."""
        lg = jnp.asarray(log_g)
        return kyields.sum_power_terms(kyields.events_grid(lg, W, self.log_s1, self.a_edges, pot, n, self.n_width, chunk)
                                       for n, W in self.power_groups())

    def _final_state_groups(self, name) -> tuple[tuple[float, jax.Array], ...]:
        """Power groups of final state ``name``: exact for single-power tables; with several powers the
        final state's share of each (mass, momentum bin, cell) weight is taken to be the same in every
        power group, W_fs^(n) = W_fs W^(n) / W (the final-state shares depend on the FIP angle inside a
        0.033-dex momentum bin only through the acceptance ratio of the final states there)."""
        W_fs = self.per_final_state[name]
        groups = self.power_groups()
        if len(groups) == 1:
            return ((groups[0][0], W_fs),)
        total = self.weights
        has = total > 0
        share = jnp.where(has, W_fs / jnp.where(has, total, 1.0), 0.0)
        return tuple((n, share * W) for n, W in groups)

    def select(self, name: str, by="final_state") -> "YieldTables":
        """The tables of one final state (``by="final_state"``) or one production channel
        (``by="production"``) alone: their N is that part of :meth:`events_grid`."""
        from dataclasses import replace

        if by == "production":
            W = self.per_channel[name]
            return replace(self, weights=W, per_channel={name: W}, per_final_state={},
                           n_prod=self.channel_power(name), channel_powers=())
        if by != "final_state":
            raise ValueError(f"by must be 'final_state' or 'production', not {by!r}")
        groups = self._final_state_groups(name)
        if len(groups) == 1:
            W = groups[0][1]
            return replace(self, weights=W, per_channel={name: W}, per_final_state={name: W},
                           channel_powers=())
        per_channel = {f"{name}@g^{n:g}": W for n, W in groups}
        return replace(self, weights=self.per_final_state[name], per_channel=per_channel,
                       per_final_state={name: self.per_final_state[name]},
                       channel_powers=tuple((k, n) for (k, (n, _)) in zip(per_channel, groups)))

    def split_events_grid(self, log_g, pot, by="final_state", chunk=16) -> dict:
        """N on the (Nm, Ng) grid per final state (``by="final_state"``) or per production channel
        (``by="production"``): {name: (Nm, Ng)}; the parts sum to :meth:`events_grid`.

        Every part uses the bins' mean 1/p over all channels (log_s1): the split is exact up to the
        spread of 1/p inside one 0.033-dex momentum bin (and, for tables with several production
        powers, the final-state split shares each cell as :meth:`_final_state_groups` says)."""
        if by == "final_state":
            parts = {k: self._final_state_groups(k) for k in self.per_final_state}
        elif by == "production":
            parts = {k: ((self.channel_power(k), W),) for k, W in self.per_channel.items()}
        else:
            raise ValueError(f"by must be 'final_state' or 'production', not {by!r}")
        lg = jnp.asarray(log_g)
        return {k: sum(kyields.events_grid(lg, W, self.log_s1, self.a_edges, pot, n, self.n_width, chunk)
                       for n, W in groups)
                for k, groups in parts.items()}


def _log_s1(m, width1, detected_w, detected_inv_p, p_edges):
    """log inverse decay length at unit coupling per momentum bin: s1 = m Gamma_1 <1/p> / (hbar c),
    <1/p> the mean of 1/p over the bin weighted by the detected yield (bin centre where it is empty).

    Lab decay length lambda = (p/m) hbar c / Gamma (PDG RPP, Kinematics), so 1/lambda ~ 1/p.
    """
    centres = 10.0 ** (0.5 * (p_edges[1:] + p_edges[:-1]))
    has = detected_w > 0
    mean_inv_p = jnp.where(has, detected_inv_p / jnp.where(has, detected_w, 1.0), 1.0 / centres)
    return jnp.log(m * width1 / HBARC_GEV_M) + jnp.log(mean_inv_p)


#: version of the cached yield-table layout and algorithm; bump when either changes
YIELDS_SCHEMA_VERSION = 3
#: algorithm tag stored in the cache key (binning, decay-direction quadrature, parent pruning)
YIELDS_ALGORITHM = "ring-kernel/cos64-psi16-alpha1000/samples-dirs16x8/parents>=1GeV,<=0.3rad/per-final-state"


def resolve_final_states(model, experiment, channels=None) -> tuple[str, ...]:
    """The final states to scan: ``channels`` (a comma-separated string or a sequence of names, or
    "all": every final state the model decays to and the experiment selects); default the model's
    default final states that the experiment selects.  InputError (one line) for an empty, unknown,
    repeated or unavailable name."""
    from fipscan.final_states import parse_final_states

    available = tuple(fs for fs in experiment.final_states if fs in model_final_states(model))
    if channels is None:
        chosen = tuple(fs for fs in model.default_final_states if fs in available)
        if not chosen:
            raise InputError(f"experiment {experiment.name} selects none of {model.name}'s default final states "
                             f"({', '.join(model.default_final_states)}); choose with --channels "
                             f"(available: {', '.join(available) or 'none'})")
        return chosen
    text = channels if isinstance(channels, str) else ",".join(channels)
    return parse_final_states(text, allowed=available)


def model_final_states(model) -> tuple[str, ...]:
    """Final states the model decays to: its branching-ratio keys (read from the shapes of the traced
    function, jax.eval_shape: nothing is computed or compiled; remembered per model, as a model is a
    frozen dataclass and the keys depend on its options only)."""
    try:
        return _final_state_keys(model)
    except TypeError:  # a user's model that is not hashable
        return _final_state_keys.__wrapped__(model)


@functools.lru_cache(maxsize=64)
def _final_state_keys(model) -> tuple[str, ...]:
    m = jax.ShapeDtypeStruct((), jnp.result_type(float))
    return tuple(jax.eval_shape(model.branching_ratios, m))


def _resolve(model, experiment):
    from fipscan.experiments import load_experiment
    from fipscan.models import get_model

    exp = load_experiment(experiment)
    if getattr(exp, "kind", "beam-dump") == "kaon":
        raise InputError(f"{exp.name} is a kaon-mode experiment: its tables are built per search "
                         "(fipscan.searches.kaon.kaon_tables), not by the beam-dump yield pipeline")
    return get_model(model), exp


def _check_masses(model, masses) -> np.ndarray:
    masses = np.atleast_1d(np.asarray(masses, dtype=float))
    if masses.ndim != 1 or masses.size == 0 or not np.all(np.isfinite(masses)):
        raise InputError("masses must be a non-empty 1-D array of finite numbers [GeV]")
    lo, hi = model.mass_range
    if masses.min() < lo * (1 - 1e-12) or masses.max() > hi * (1 + 1e-12):
        raise InputError(f"masses must lie in {model.name}'s range {lo:.6g}-{hi:.6g} GeV "
                         f"(got {masses.min():.10g}-{masses.max():.10g})")
    return masses


def precompute(model, experiment, masses, *, channels=None, spectra=None, n_mc=None,
               dtype=jnp.float64, method="binned", mass_chunk=8, cache=True,
               provenance: dict | None = None) -> YieldTables:
    """Yield tables of ``model`` at ``experiment`` (instances or names, as for ``scan``) for the given
    masses [GeV], from the cache when an entry with the same inputs exists (``cache=True``), else built
    by :func:`compute_tables` and stored (same rules as the spectra and acceptance tables: atomic write,
    lock, checksum).

    The key covers the model settings, every number of the experiment, the masses, final states, the
    spectra and acceptance-table checksums, method, dtype and the algorithm tag above.  Arguments as
    :func:`compute_tables`.  ``provenance``: a dict that, when given, receives what identifies the
    tables: ``yield_table_key`` (the cache key; "" with ``cache=False``), ``spectra_sha256`` (of the
    spectra histograms) and ``acceptance_sha256`` (final state -> checksum of its acceptance table).
    """
    model, experiment = _resolve(model, experiment)
    channels = resolve_final_states(model, experiment, channels)
    if not cache:
        if provenance is not None:
            provenance["yield_table_key"] = ""
        return compute_tables(model, experiment, masses, channels=channels, spectra=spectra, n_mc=n_mc,
                              dtype=dtype, method=method, mass_chunk=mass_chunk)
    from fipscan import cache as fcache
    from fipscan.io.tables import read_tables, write_tables

    masses = _check_masses(model, masses)
    experiment.check_masses(masses)
    spectra = spectra if spectra is not None else experiment.load_spectra()
    settings, acceptance = _cache_settings(model, experiment, masses, channels, spectra, n_mc, method, dtype)
    acc_hash = settings["acceptance"]
    built = {}

    def build(f):
        t = compute_tables(model, experiment, masses, channels=channels, spectra=spectra, n_mc=n_mc,
                           dtype=dtype, method=method, mass_chunk=mass_chunk, acceptance=acceptance)
        built["tables"] = t
        write_tables(f, t)

    def read(f):  # the verified entry through the handle that was verified (safe against 'cache clear')
        if "tables" in built:  # just built here: no need to read it back
            return built["tables"]
        return read_tables(f, dtype, where=f"yield-table cache entry {f.filename}")

    tables = fcache.get_or_build("yields", settings, YIELDS_SCHEMA_VERSION, build, read=read)
    key = fcache.canonical_key("yields", settings, YIELDS_SCHEMA_VERSION)
    path = fcache.entry_path("yields", key)
    if provenance is not None:
        provenance.update(yield_table_key=key, spectra_sha256=settings["spectra"], acceptance_sha256=acc_hash)
    if tables.masses.shape != masses.shape or not np.allclose(np.asarray(tables.masses), masses, rtol=1e-12):
        raise InputError(f"yield-table cache entry {path} holds other masses than were asked for; "
                         "remove it with 'fipscan cache clear --kind yields'")
    return tables


def _cache_settings(model, experiment, masses, channels, spectra, n_mc, method, dtype):
    """(the settings that key a yield-table cache entry, the acceptance tables they hash)."""
    import hashlib

    from fipscan import cache as fcache

    acceptance = _acceptance_tables(model, experiment, channels, n_mc)
    acc_hash = {c: hashlib.sha256(np.ascontiguousarray(t.values, dtype=np.float64).tobytes()).hexdigest()
                for c, t in acceptance.items()}
    spectra_hash = hashlib.sha256()
    for name in sorted(spectra.hist):
        spectra_hash.update(name.encode())
        spectra_hash.update(np.ascontiguousarray(spectra.hist[name], dtype=np.float64).tobytes())
    settings = {
        "model": model.settings(), "experiment": experiment.settings(), "masses": fcache.key_floats(masses),
        "channels": list(channels), "spectra": spectra_hash.hexdigest(), "acceptance": acc_hash,
        "method": method, "dtype": np.dtype(dtype).name, "algorithm": YIELDS_ALGORITHM,
    }
    return settings, acceptance


def yield_table_key(model, experiment, masses, *, channels=None, n_mc=None, dtype=jnp.float64,
                    method="binned") -> str:
    """The cache key :func:`precompute` gives the tables of these inputs (nothing is built; the acceptance
    tables are read, or built, to hash them)."""
    from fipscan import cache as fcache

    model, experiment = _resolve(model, experiment)
    channels = resolve_final_states(model, experiment, channels)
    masses = _check_masses(model, masses)
    settings, _ = _cache_settings(model, experiment, masses, channels, experiment.load_spectra(), n_mc,
                                  method, dtype)
    return fcache.canonical_key("yields", settings, YIELDS_SCHEMA_VERSION)


def _acceptance_tables(model, experiment, channels, n_mc) -> dict:
    """The (cached) acceptance table of each detected final state, for the model's spin."""
    kwargs = {} if n_mc is None else {"n_mc": n_mc}
    return {c: build_acceptance_table(experiment, c, spin=model.spin, **kwargs) for c in channels}


def _embed(table, z_edges):
    """The acceptance table on the union cells ``z_edges`` (zeros in the cells outside its own)."""
    from dataclasses import replace

    own = np.asarray(table.z_edges, float)
    d = float(z_edges[1] - z_edges[0])
    k0 = int(round((own[0] - z_edges[0]) / d))
    nz = own.size - 1
    if (k0 < 0 or k0 + nz > z_edges.size - 1
            or not np.allclose(own, z_edges[k0:k0 + nz + 1], rtol=0, atol=1e-6 * d)):
        raise ValueError(f"acceptance table of {table.channel} is not on the experiment's decay-cell lattice")
    if k0 == 0 and nz == z_edges.size - 1:
        return table
    values = np.zeros(np.shape(table.values)[:3] + (z_edges.size - 1,))
    values[..., k0:k0 + nz] = np.asarray(table.values)
    return replace(table, z_edges=np.asarray(z_edges, float), values=values)


def compute_tables(model, experiment, masses, *, channels=None, spectra=None, n_mc=None,
                   dtype=jnp.float64, method="binned", mass_chunk=8, acceptance=None) -> YieldTables:
    """Build the yield tables of ``model`` at ``experiment`` for the given masses [GeV] (no cache).

    model, experiment: instances or names.  channels: final states (names or "all"; default the
    model's default final states that the experiment selects, :func:`resolve_final_states`).
    spectra: meson spectra (default: the experiment's beam spectra).  acceptance: the acceptance
    table per final state if already loaded (default: from the cache).  The production channels are
    the model's declarations (fipscan.production.channels), turned into sources for the experiment's
    beam (fipscan.production.sources); momentum and angle bins and decay cells come from the
    experiment (its binning; the cells cover the union of the final states' decay volumes, each
    final state's acceptance zero outside its own).  Per mass, each final state's weight is
    efficiency x BR(final state) x the two-photon BRs of its pi0/eta x acceptance.
    method: "binned" (default) takes each channel's histogram on (log10 p, log10 theta) bins (meson
    decays through the ring kernel, fipscan.production.samples.MesonSampler.binned; tables such as
    bremsstrahlung on their support) and applies the acceptance at the bin centres; "direct" takes
    the channel's samples and interpolates the acceptance at every sample (slow; the reference the
    binned method is tested against).
    mass_chunk: masses computed together in one vmapped call (memory grows with it: peak RSS of a
    1000-mass BC1 build 0.93 GB at 8, 1.05 GB at 32, and no faster on two cores).
    """
    from fipscan.final_states import get_final_state
    from fipscan.production.channels import channel_power

    if method not in ("binned", "direct"):
        raise ValueError(f"method must be 'binned' or 'direct', got '{method}'")
    model, experiment = _resolve(model, experiment)
    channels = resolve_final_states(model, experiment, channels)
    masses = _check_masses(model, masses)
    experiment.check_masses(masses)
    spectra = spectra if spectra is not None else experiment.load_spectra()
    declared = model.production()
    samplers = sources(declared, spectra, experiment.energy_gev)
    n_prod = float(model.coupling.production_power)
    powers = tuple((ch.name, channel_power(ch, n_prod)) for ch in declared)
    channel_powers = powers if any(n != n_prod for _, n in powers) else ()
    tables = dict(acceptance) if acceptance is not None else _acceptance_tables(model, experiment, channels, n_mc)
    z_edges = experiment.cell_edges(channels)
    tables = {c: _embed(tables[c], z_edges) for c in channels}
    # every input in the requested precision, so that a float32 build is float32 throughout
    tables = {c: jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), t) for c, t in tables.items()}
    a_edges = jnp.asarray(z_edges - experiment.production_z, dtype)
    eff = {c: float(experiment.efficiency[c]) * get_final_state(c).visible_br for c in channels}
    p_bin_edges = np.asarray(experiment.binning.log10p_edges, float)
    theta_bin_edges = np.asarray(experiment.binning.log10theta_edges, float)
    p_edges = jnp.asarray(p_bin_edges, dtype)
    t_edges = jnp.asarray(theta_bin_edges, dtype)
    p_centres = 10.0 ** (0.5 * (p_edges[1:] + p_edges[:-1]))
    t_centres = 10.0 ** (0.5 * (t_edges[1:] + t_edges[:-1]))
    nb = p_centres.size
    split_fs = len(channels) > 1

    def detected_each(m, p, theta):
        """{final state: efficiency x BR x acceptance}, shape p/theta broadcast + (Nz,)."""
        brs = model.branching_ratios(m)
        return {c: eff[c] * brs[c] * tables[c].interpolate(m, p, theta) for c in channels}

    def detected_on_bins(m, lines):
        """:func:`detected_each` at the bin centres, (Nb, Nt, Nz) each, from the tables already
        interpolated there (``lines``: AcceptanceTable.on_points, done once for all masses)."""
        brs = model.branching_ratios(m)
        return {c: eff[c] * brs[c] * lines[c].at_mass(m) for c in channels}

    # mass-independent inputs of the binned histograms, passed to the compiled program as arguments
    p_edges_np, t_edges_np = p_bin_edges, theta_bin_edges
    data, rings = {name: {} for name in samplers}, {}
    if method == "binned":
        for name, s in samplers.items():
            ring = None
            if hasattr(s, "ring_args"):  # one ring kernel for all samplers on the same binning
                key = s.ring_args(t_edges_np)
                if key not in rings:
                    rings[key] = s.ring(t_edges_np, dtype)
                ring = rings[key]
            if hasattr(s, "binned"):
                data[name] = s.binned_data(t_edges_np, dtype, ring=ring)

    # the acceptance at the bin centres for every table mass: the momentum-angle interpolation done
    # once here, and passed to the compiled program as an argument (not a constant of it)
    lines = ({c: t.on_points(p_centres[:, None], t_centres[None, :]) for c, t in tables.items()}
             if method == "binned" else {})

    def per_mass(m, data, lines):
        width1 = model.total_width(m, jnp.ones((), dtype))
        if method == "binned":
            each = detected_on_bins(m, lines)  # {fs: (Nb, Nt, Nz)}
            cells_grid = sum(each.values())
            H_total = 0.0
        out_w, out_fs = {}, {}
        detected_w = jnp.zeros(nb, dtype)  # sum over channels of the detected weight per bin
        detected_inv_p = jnp.zeros(nb, dtype)  # the same, times the channel's mean 1/p in the bin
        for name, sampler in samplers.items():
            if method == "binned":
                if hasattr(sampler, "binned"):
                    H, w_over_p = sampler.binned(data[name], m, p_edges_np, t_edges_np)
                else:
                    H, w_over_p = histogram_samples(*sampler(m), p_edges, t_edges)
                W = jnp.einsum("bt,btk->bk", H, cells_grid)
                produced = jnp.sum(H, axis=1)
                H_total = H_total + H
            else:
                p, theta, w = sampler(m)
                ib = log_bin_index(p, p_edges)
                wk = jnp.where(ib >= 0, w, 0.0)
                ib = jnp.clip(ib, 0, nb - 1)
                parts = detected_each(m, p, theta)
                W = 0.0
                for c, d in parts.items():
                    Wc = jax.ops.segment_sum(wk[:, None] * d, ib, num_segments=nb)
                    out_fs[c] = out_fs.get(c, 0.0) + Wc
                    W = W + Wc
                w_over_p = jax.ops.segment_sum(wk / p, ib, num_segments=nb)
                produced = jax.ops.segment_sum(wk, ib, num_segments=nb)
            out_w[name] = W
            d = jnp.sum(W, axis=1)
            has = produced > 0
            mean_inv_p = jnp.where(has, w_over_p / jnp.where(has, produced, 1.0), 0.0)
            detected_w = detected_w + d
            detected_inv_p = detected_inv_p + d * mean_inv_p
        if method == "binned" and split_fs:
            out_fs = {c: jnp.einsum("bt,btk->bk", H_total, g) for c, g in each.items()}
        out_w = {k: W.astype(dtype) for k, W in out_w.items()}
        out_fs = {k: W.astype(dtype) for k, W in out_fs.items()} if split_fs else {}
        return out_w, out_fs, _log_s1(m, width1, detected_w, detected_inv_p, p_edges).astype(dtype)

    # masses in fixed-size chunks: one compiled program, vmapped over the chunk (the last chunk is
    # padded by repeating its final mass, and the padding is dropped).  The program is kept per process
    # (:func:`_program`): a second build with the same model, experiment, final states and spectra
    # (another mass grid, another coupling range) reuses it instead of tracing and lowering it again.
    per_chunk = _program(_program_key(model, experiment, channels, spectra, dtype, method),
                         lambda: jax.jit(jax.vmap(per_mass, in_axes=(0, None, None))))
    per_channel = {name: [] for name in samplers}
    per_fs = {c: [] for c in channels} if split_fs else {}
    log_s1 = []
    chunk = max(1, min(int(mass_chunk), masses.size))
    for start in range(0, masses.size, chunk):
        block = masses[start:start + chunk]
        n = block.size
        padded = np.concatenate([block, np.full(chunk - n, block[-1])])
        out_w, out_fs, ls = per_chunk(jnp.asarray(padded, dtype), data, lines)
        log_s1.append(ls[:n])
        for k, W in out_w.items():
            per_channel[k].append(W[:n])
        for k, W in out_fs.items():
            per_fs[k].append(W[:n])
    per_channel = {k: jnp.concatenate(v) for k, v in per_channel.items()}
    weights = sum(per_channel.values())
    per_fs = {k: jnp.concatenate(v) for k, v in per_fs.items()} if split_fs else {channels[0]: weights}
    return YieldTables(
        masses=jnp.asarray(masses, dtype),
        weights=weights,
        log_s1=jnp.concatenate(log_s1),
        a_edges=a_edges,
        per_channel=per_channel,
        per_final_state=per_fs,
        channels=channels,
        n_prod=n_prod,
        n_width=float(model.coupling.width_power),
        channel_powers=channel_powers,
    )


#: compiled yield-table programs of this process (:func:`compute_tables`), least recently used out
_PROGRAMS: "OrderedDict" = OrderedDict()
#: at most this many (each holds its closure's model, sources and compiled executables: a few MB)
_PROGRAMS_SIZE = 8


def _program(key, make):
    """The jitted per-chunk function for ``key`` (made by ``make()`` and kept), or ``make()`` when ``key``
    is None."""
    if key is None:
        return make()
    fn = _PROGRAMS.get(key)
    if fn is None:
        fn = _PROGRAMS[key] = make()
        while len(_PROGRAMS) > _PROGRAMS_SIZE:
            _PROGRAMS.popitem(last=False)
    _PROGRAMS.move_to_end(key)
    return fn


def _program_key(model, experiment, channels, spectra, dtype, method):
    """What the per-chunk function of :func:`compute_tables` closes over, as a hashable key, or None.

    The traced program depends on the model (its class and ``settings()``, which the yield-table cache
    key already relies on to cover every number the model computes), the experiment's settings
    (efficiencies, binning, decay cells), the final states, the dtype, and the spectra (the sources
    close over them: their histograms are hashed); the arrays the program takes as arguments (the
    samplers' binned data, the acceptance at the bin centres) enter through their shapes only, which jax
    keys on itself.  The "direct" method closes
    over the acceptance tables as well: it is not kept (None).
    """
    import hashlib

    from fipscan.cache import canonical_json

    if method != "binned":
        return None
    h = hashlib.sha256()
    for name in sorted(spectra.hist):
        h.update(name.encode())
        h.update(np.ascontiguousarray(spectra.hist[name], dtype=np.float64).tobytes())
    for name in ("log10p_edges", "log10theta_edges"):
        h.update(np.ascontiguousarray(getattr(spectra, name), dtype=np.float64).tobytes())
    h.update(canonical_json({"per_pot": dict(spectra.per_pot), "sigma_mb": dict(spectra.sigma_mb)}).encode())
    cls = type(model)
    return (f"{cls.__module__}.{cls.__qualname__}", canonical_json(model.settings()),
            canonical_json(experiment.settings()), tuple(channels), np.dtype(dtype).name, h.hexdigest(),
            bool(jax.config.jax_enable_x64))
