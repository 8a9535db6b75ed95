"""Declarations -> binned FIP sources for one beam (the pipeline side of fipscan.production.channels).

``sources(channels, spectra, e_beam)`` returns, per declared channel, a sampler of
fipscan.production.samples: a :class:`MesonSampler` on the parent's spectrum (times the declaration's
``parent_weight`` per momentum bin centre, when it has one) for a meson decay, a :class:`RecoilSampler`
for a decay with a recoil-mass distribution (three-body, inclusive), a
:class:`TableSampler` for bremsstrahlung and tabulated channels.  FIPs are counted per POT at unit
coupling: meson spectra are per POT (fipscan.spectra), bremsstrahlung tables per proton interaction
with one interaction per POT (the thick-target approximation of the dump; Bluemlein & Brunner,
arXiv:1311.3870).
"""

from __future__ import annotations

import math

import numpy as np

from fipscan.constants import M_P
from fipscan.errors import ConfigError
from fipscan.production.channels import Bremsstrahlung, MesonDecay, RecoilDecay, Tabulated
from fipscan.production.samples import MesonSampler, RecoilSampler, TableSampler

__all__ = ["sources"]


def sources(channels, spectra, e_beam: float) -> dict:
    """{channel name: sampler} for the declarations ``channels`` at beam energy ``e_beam`` [GeV]."""
    edges_p, edges_t = spectra.log10p_edges, spectra.log10theta_edges
    out = {}
    for ch in channels:
        if isinstance(ch, (MesonDecay, RecoilDecay)):
            if ch.parent not in spectra.species:
                raise ConfigError(f"production channel {ch.name}: the spectra have no '{ch.parent}' "
                                  f"(species: {', '.join(spectra.species)})")
            br = ch.br
            hist = spectra.histogram(ch.parent)
            if ch.parent_weight is not None:  # e.g. the fraction of the dump's kaons that decay
                p_centres = 10.0 ** (0.5 * (np.asarray(edges_p)[1:] + np.asarray(edges_p)[:-1]))
                hist = np.asarray(hist, dtype=float) * np.asarray(ch.parent_weight(p_centres), dtype=float)[:, None]
            if isinstance(ch, RecoilDecay):
                out[ch.name] = RecoilSampler(hist, edges_p, edges_t, ch.m_parent, ch.recoil,
                                             lambda m, _br=br: _br(m, 1.0), n_fips=ch.n_fips)
                continue
            out[ch.name] = MesonSampler(hist, edges_p, edges_t, ch.m_parent,
                                        ch.m_companion, lambda m, _br=br: _br(m, 1.0))
        elif isinstance(ch, (Bremsstrahlung, Tabulated)):
            support = None if ch.p_support is None else ch.p_support(e_beam)

            def table(m, ep, et, _fn=ch.table):
                return _fn(m, ep, et, e_beam)

            out[ch.name] = TableSampler(table, edges_p, edges_t, p_support=support)
        else:
            raise ConfigError(f"unknown production channel kind {type(ch).__name__}")
    return out


def beam_momentum(e_beam: float) -> float:
    """|p| [GeV] of a proton of energy e_beam [GeV]."""
    return math.sqrt(e_beam * e_beam - M_P * M_P)
