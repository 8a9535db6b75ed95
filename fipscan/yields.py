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

__all__ = ["YieldTables", "precompute", "P_BIN_EDGES"]

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


def _bin_samples(p, w_cells, m, width1, edges):
    """Scatter samples into momentum bins: W[b, k] and the acceptance-weighted mean of 1/p."""
    nb = edges.size - 1
    lo, step = edges[0], edges[1] - edges[0]
    idx = jnp.clip(jnp.floor((jnp.log10(p) - lo) / step).astype(jnp.int32), 0, nb - 1)
    W = jax.ops.segment_sum(w_cells, idx, num_segments=nb)  # (Nb, Nz)
    wt = jnp.sum(w_cells, axis=-1)
    inv_p = jax.ops.segment_sum(wt / p, idx, num_segments=nb)
    norm = jax.ops.segment_sum(wt, idx, num_segments=nb)
    centres = 10.0 ** (0.5 * (edges[1:] + edges[:-1]))
    has = norm > 0
    mean_inv_p = jnp.where(has, inv_p / jnp.where(has, norm, 1.0), 1.0 / centres)
    log_s1 = jnp.log(m * width1 / HBARC_GEV_M) + jnp.log(mean_inv_p)
    return W, log_s1


def precompute(model, experiment, masses, *, channels=None, spectra=None, n_mc=None,
               dtype=jnp.float64, mass_chunk=8) -> YieldTables:
    """Build the yield tables of ``model`` at ``experiment`` for the given masses [GeV].

    channels: detected final states (default: the model's default, e.g. ("ee", "mumu")).
    spectra: meson spectra (default: the shipped file).  Acceptance tables come from the cache.
    """
    from fipscan.spectra import load_spectra

    masses = np.asarray(masses, dtype=float)
    channels = tuple(channels or model.default_channels)
    spectra = spectra if spectra is not None else load_spectra()
    samplers = model.production_samplers(spectra, experiment)
    acc_kwargs = {} if n_mc is None else {"n_mc": n_mc}
    tables = {c: build_acceptance_table(experiment.config, c, **acc_kwargs) for c in channels}
    z_edges = np.asarray(next(iter(tables.values())).z_edges)
    for t in tables.values():
        if not np.allclose(t.z_edges, z_edges):
            raise ValueError("acceptance tables of different channels use different decay cells")
    a_edges = jnp.asarray(z_edges - experiment.production_z, dtype)
    eff = {c: float(experiment.efficiency.get(c, 1.0)) for c in channels}
    edges = jnp.asarray(P_BIN_EDGES, dtype)

    def per_mass(m):
        brs = model.branching_ratios(m)
        width1 = model.total_width(m, jnp.ones((), dtype))
        out = {}
        for name, sampler in samplers.items():
            p, theta, w = sampler(m)
            cells = 0.0
            for c in channels:
                acc = tables[c].interpolate(m, p, theta)  # (Ns, Nz)
                cells = cells + eff[c] * brs[c] * acc
            W, log_s1 = _bin_samples(p, w[:, None] * cells, m, width1, edges)
            out[name] = (W, log_s1)
        return out

    per_mass = jax.jit(per_mass)
    per_channel = {name: [] for name in samplers}
    total_w, total_s = [], []
    for m in masses:
        res = per_mass(jnp.asarray(m, dtype))
        W_sum = sum(W for W, _ in res.values())
        # one inverse decay length per momentum bin: the acceptance-weighted mean over channels
        wt = {k: jnp.sum(W, axis=-1) for k, (W, _) in res.items()}
        norm = sum(wt.values())
        mean_s = sum(wt[k] * jnp.exp(ls) for k, (_, ls) in res.items())
        any_w = norm > 0
        ls_first = next(iter(res.values()))[1]
        log_s1 = jnp.where(any_w, jnp.log(jnp.where(any_w, mean_s, 1.0) / jnp.where(any_w, norm, 1.0)),
                           ls_first)
        total_w.append(W_sum)
        total_s.append(log_s1)
        for k, (W, _) in res.items():
            per_channel[k].append(W)
    return YieldTables(
        masses=jnp.asarray(masses, dtype),
        weights=jnp.stack(total_w),
        log_s1=jnp.stack(total_s),
        a_edges=a_edges,
        per_channel={k: jnp.stack(v) for k, v in per_channel.items()},
        channels=channels,
        n_prod=float(getattr(model, "n_prod", 2.0)),
        n_width=float(getattr(model, "n_width", 2.0)),
    )
