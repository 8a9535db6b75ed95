"""Coupling-independent yield tables: build once per (model, experiment, masses), scan many couplings.

``precompute(model, experiment, masses)`` turns the production samples of every channel, the
acceptance tables of the detected final states, their branching ratios and the selection
efficiencies into, per mass, weights W[b, k] on (FIP momentum bin b, decay cell k) and the log
inverse decay length at unit coupling per momentum bin.  N(m, g) is then a fused kernel
(fipscan.kernels.yields).  The table is an explicit object that callers pass around (no hidden
state on the model or module).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.acceptance import build_acceptance_table
from fipscan.kernels.decay import HBARC_GEV_M
from fipscan.kernels import yields as kyields
from fipscan.kernels.binning import log_bin_index
from fipscan.production.samples import histogram_samples

__all__ = ["YieldTables", "precompute", "compute_tables", "P_BIN_EDGES", "THETA_BIN_EDGES"]

#: FIP momentum bins [log10 GeV] of the yield tables: 1 GeV to 440 GeV in 0.033 dex
P_BIN_EDGES = np.linspace(0.0, 2.64, 81)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class YieldTables:
    """Per-mass yield weights.  Array leaves can be differentiated; the rest is static metadata.

    masses: (Nm,) [GeV]; weights: (Nm, Nb, Nz) FIPs per POT at unit coupling x acceptance x BR x
    efficiency in momentum bin b and decay cell k; log_s1: (Nm, Nb) log of the inverse decay length
    [1/m] at unit coupling; a_edges: (Nz + 1,) path length [m] of the cell edges from the production
    point; per_channel: the same weights split by production channel (Nm, Nb, Nz) each.
    """

    masses: jax.Array
    weights: jax.Array
    log_s1: jax.Array
    a_edges: jax.Array
    per_channel: Mapping[str, jax.Array]
    channels: tuple[str, ...] = field(metadata=dict(static=True), default=())
    n_prod: float = field(metadata=dict(static=True), default=2.0)
    n_width: float = field(metadata=dict(static=True), default=2.0)

    def log_events(self, i, log_g, pot):
        """log N at mass index i (python int) and log coupling(s) ``log_g``."""
        return kyields.log_events(log_g, self.weights[i], self.log_s1[i], self.a_edges,
                                  jnp.log(pot), self.n_prod, self.n_width)

    def events_grid(self, log_g, pot, chunk=16):
        """N on the (Nm, Ng) grid of these masses and the log couplings ``log_g``."""
        return kyields.events_grid(jnp.asarray(log_g), self.weights, self.log_s1, self.a_edges,
                                   pot, self.n_prod, self.n_width, chunk)


#: FIP polar-angle bins [log10 rad] on which production is histogrammed before the acceptance is
#: applied: 1e-5 to 1.6e-2 rad in 0.08 dex (beyond it NA62 sees nothing: its acceptance is exactly
#: zero above ~6e-3 rad).  Samples below 1e-5 rad go to the first bin (the acceptance is flat there).
THETA_BIN_EDGES = np.linspace(-5.0, -1.8, 41)


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
YIELDS_SCHEMA_VERSION = 1
#: algorithm tag stored in the cache key (binning, decay-direction quadrature, parent pruning)
YIELDS_ALGORITHM = "ring-kernel/p80x40/cos64-psi16-alpha1000/samples-dirs16x8/parents>=1GeV,<=0.3rad"


def precompute(model, experiment, masses, *, channels=None, spectra=None, n_mc=None,
               dtype=jnp.float64, method="binned", mass_chunk=8, cache=True) -> YieldTables:
    """Yield tables of ``model`` at ``experiment`` for the given masses [GeV], from the cache when an
    entry with the same inputs exists (``cache=True``), else built by :func:`compute_tables` and
    stored (same rules as the spectra and acceptance tables: atomic write, lock, checksum).

    The key covers the model settings, the experiment (configuration, efficiencies, production point),
    the masses, channels, the spectra and acceptance-table checksums, the binning, method, dtype and
    the algorithm tag above.  Arguments as :func:`compute_tables`.
    """
    if not cache:
        return compute_tables(model, experiment, masses, channels=channels, spectra=spectra, n_mc=n_mc,
                              dtype=dtype, method=method, mass_chunk=mass_chunk)
    import hashlib

    import h5py

    from fipscan import cache as fcache
    from fipscan.spectra import load_spectra

    masses = np.asarray(masses, dtype=float)
    channels = tuple(channels or model.default_channels)
    spectra = spectra if spectra is not None else load_spectra()
    acceptance = _acceptance_tables(experiment, channels, n_mc)
    acc_hash = {c: hashlib.sha256(np.ascontiguousarray(t.values, dtype=np.float64).tobytes()).hexdigest()
                for c, t in acceptance.items()}
    spectra_hash = hashlib.sha256()
    for name in sorted(spectra.hist):
        spectra_hash.update(name.encode())
        spectra_hash.update(np.ascontiguousarray(spectra.hist[name], dtype=np.float64).tobytes())
    settings = {
        "model": model.settings(), "experiment_config": experiment.config,
        "efficiency": dict(experiment.efficiency), "production_z": experiment.production_z,
        "energy_gev": experiment.energy_gev, "masses": masses.tolist(), "channels": list(channels),
        "spectra": spectra_hash.hexdigest(), "acceptance": acc_hash, "method": method,
        "dtype": np.dtype(dtype).name, "algorithm": YIELDS_ALGORITHM,
        "p_edges": P_BIN_EDGES.tolist(), "theta_edges": THETA_BIN_EDGES.tolist(),
    }
    built = {}

    def build(f):
        t = compute_tables(model, experiment, masses, channels=channels, spectra=spectra, n_mc=n_mc,
                           dtype=dtype, method=method, mass_chunk=mass_chunk, acceptance=acceptance)
        built["tables"] = t
        f.create_dataset("masses", data=np.asarray(t.masses))
        f.create_dataset("log_s1", data=np.asarray(t.log_s1))
        f.create_dataset("a_edges", data=np.asarray(t.a_edges))
        for name, W in t.per_channel.items():
            f.create_dataset(f"per_channel/{name}", data=np.asarray(W), compression="gzip", compression_opts=1)
        f.attrs["channels"] = ",".join(t.channels)
        f.attrs["production"] = ",".join(t.per_channel)
        f.attrs["n_prod"], f.attrs["n_width"] = t.n_prod, t.n_width

    path = fcache.get_or_build("yields", settings, YIELDS_SCHEMA_VERSION, build)
    if "tables" in built:
        return built["tables"]
    with h5py.File(path, "r") as f:
        names = str(f.attrs["production"]).split(",")
        per_channel = {k: jnp.asarray(f[f"per_channel/{k}"][...], dtype) for k in names}
        return YieldTables(
            masses=jnp.asarray(f["masses"][...], dtype),
            weights=sum(per_channel.values()),
            log_s1=jnp.asarray(f["log_s1"][...], dtype),
            a_edges=jnp.asarray(f["a_edges"][...], dtype),
            per_channel=per_channel,
            channels=tuple(str(f.attrs["channels"]).split(",")),
            n_prod=float(f.attrs["n_prod"]),
            n_width=float(f.attrs["n_width"]),
        )


def _acceptance_tables(experiment, channels, n_mc) -> dict:
    """The (cached) acceptance table of each detected final state."""
    kwargs = {} if n_mc is None else {"n_mc": n_mc}
    return {c: build_acceptance_table(experiment.config, c, **kwargs) for c in channels}


def compute_tables(model, experiment, masses, *, channels=None, spectra=None, n_mc=None,
                   dtype=jnp.float64, method="binned", mass_chunk=8, acceptance=None) -> YieldTables:
    """Build the yield tables of ``model`` at ``experiment`` for the given masses [GeV] (no cache).

    channels: detected final states (default: the model's default, e.g. ("ee", "mumu")).
    spectra: meson spectra (default: the shipped file).  acceptance: the acceptance table per channel
    if already loaded (default: from the cache).
    method: "binned" (default) takes each channel's histogram on (log10 p, log10 theta) bins (meson
    decays through the ring kernel, fipscan.production.samples.MesonSampler.binned; tables such as
    bremsstrahlung on their support) and applies the acceptance at the bin centres; "direct" takes
    the channel's samples and interpolates the acceptance at every sample (slow; the reference the
    binned method is tested against).
    mass_chunk: masses computed together in one vmapped call (memory grows with it: peak RSS of a
    1000-mass BC1 build 0.93 GB at 8, 1.05 GB at 32, and no faster on two cores).
    """
    from fipscan.spectra import load_spectra

    if method not in ("binned", "direct"):
        raise ValueError(f"method must be 'binned' or 'direct', got '{method}'")
    masses = np.asarray(masses, dtype=float)
    channels = tuple(channels or model.default_channels)
    spectra = spectra if spectra is not None else load_spectra()
    samplers = model.production_samplers(spectra, experiment)
    tables = dict(acceptance) if acceptance is not None else _acceptance_tables(experiment, channels, n_mc)
    # every input in the requested precision, so that a float32 build is float32 throughout
    tables = {c: jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), t) for c, t in tables.items()}
    z_edges = np.asarray(next(iter(tables.values())).z_edges)
    for t in tables.values():
        if not np.allclose(t.z_edges, z_edges):
            raise ValueError("acceptance tables of different channels use different decay cells")
    a_edges = jnp.asarray(z_edges - experiment.production_z, dtype)
    eff = {c: float(experiment.efficiency.get(c, 1.0)) for c in channels}
    p_edges = jnp.asarray(P_BIN_EDGES, dtype)
    t_edges = jnp.asarray(THETA_BIN_EDGES, dtype)
    p_centres = 10.0 ** (0.5 * (p_edges[1:] + p_edges[:-1]))
    t_centres = 10.0 ** (0.5 * (t_edges[1:] + t_edges[:-1]))
    nb = p_centres.size

    def detected(m, p, theta):
        """sum over final states of efficiency x BR x acceptance, shape p/theta broadcast + (Nz,)."""
        brs = model.branching_ratios(m)
        return sum(eff[c] * brs[c] * tables[c].interpolate(m, p, theta) for c in channels)

    # mass-independent inputs of the binned histograms, passed to the compiled program as arguments
    p_edges_np, t_edges_np = np.asarray(P_BIN_EDGES), np.asarray(THETA_BIN_EDGES)
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

    def per_mass(m, data):
        width1 = model.total_width(m, jnp.ones((), dtype))
        if method == "binned":
            cells_grid = detected(m, p_centres[:, None], t_centres[None, :])  # (Nb, Nt, Nz)
        out_w = {}
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
            else:
                p, theta, w = sampler(m)
                ib = log_bin_index(p, p_edges)
                wk = jnp.where(ib >= 0, w, 0.0)
                ib = jnp.clip(ib, 0, nb - 1)
                W = jax.ops.segment_sum(wk[:, None] * detected(m, p, theta), ib, num_segments=nb)
                w_over_p = jax.ops.segment_sum(wk / p, ib, num_segments=nb)
                produced = jax.ops.segment_sum(wk, ib, num_segments=nb)
            out_w[name] = W
            d = jnp.sum(W, axis=1)
            has = produced > 0
            mean_inv_p = jnp.where(has, w_over_p / jnp.where(has, produced, 1.0), 0.0)
            detected_w = detected_w + d
            detected_inv_p = detected_inv_p + d * mean_inv_p
        out_w = {k: W.astype(dtype) for k, W in out_w.items()}
        return out_w, _log_s1(m, width1, detected_w, detected_inv_p, p_edges).astype(dtype)

    # masses in fixed-size chunks: one compiled program, vmapped over the chunk (the last chunk is
    # padded by repeating its final mass, and the padding is dropped)
    per_chunk = jax.jit(jax.vmap(per_mass, in_axes=(0, None)))
    per_channel = {name: [] for name in samplers}
    log_s1 = []
    chunk = max(1, min(int(mass_chunk), masses.size))
    for start in range(0, masses.size, chunk):
        block = masses[start:start + chunk]
        n = block.size
        padded = np.concatenate([block, np.full(chunk - n, block[-1])])
        out_w, ls = per_chunk(jnp.asarray(padded, dtype), data)
        log_s1.append(ls[:n])
        for k, W in out_w.items():
            per_channel[k].append(W[:n])
    per_channel = {k: jnp.concatenate(v) for k, v in per_channel.items()}
    log_s1 = [jnp.concatenate(log_s1)]
    return YieldTables(
        masses=jnp.asarray(masses, dtype),
        weights=sum(per_channel.values()),
        log_s1=log_s1[0],
        a_edges=a_edges,
        per_channel=per_channel,
        channels=channels,
        n_prod=float(getattr(model, "n_prod", 2.0)),
        n_width=float(getattr(model, "n_width", 2.0)),
    )
