"""Declarations -> binned FIP sources for one beam (the pipeline side of fipscan.production.channels).

``sources(channels, spectra, e_beam)`` returns, per declared channel, a sampler of
fipscan.production.samples: a :class:`MesonSampler` on the parent's spectrum (times the declaration's
``parent_weight`` per momentum bin centre, when it has one) for a meson decay, a :class:`RecoilSampler`
for a decay with a recoil-mass distribution (three-body, inclusive), a
:class:`PhotonConversionSampler` for the photons of a meson decay converting in the dump, a
:class:`MixingSampler` for mesons produced as FIPs through mixing, a :class:`TableSampler` for
bremsstrahlung and tabulated channels.  FIPs are counted per POT at unit coupling: meson spectra are
per POT (fipscan.spectra), bremsstrahlung tables per proton interaction with one interaction per POT (the thick-target approximation of the dump; Bluemlein & Brunner,
arXiv:1311.3870).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.constants import M_P
from fipscan.errors import ConfigError
from fipscan.production.channels import (Bremsstrahlung, MesonDecay, MesonMixing, PhotonConversion, RecoilDecay,
                                        Tabulated)
from fipscan.production.samples import (MesonSampler, MixingSampler, PhotonConversionSampler, RecoilSampler,
                                        TableSampler, cos_midpoints)

__all__ = ["sources", "photon_conversion_rate", "mixing_rate"]


def sources(channels, spectra, e_beam: float) -> dict:
    """{channel name: sampler} for the declarations ``channels`` at beam energy ``e_beam`` [GeV]."""
    edges_p, edges_t = spectra.log10p_edges, spectra.log10theta_edges
    out = {}
    for ch in channels:
        if isinstance(ch, (MesonDecay, RecoilDecay)):
            br = ch.br
            hist = _parent_histogram(ch, spectra)
            if ch.parent_weight is not None:  # e.g. the fraction of the dump's kaons that decay
                p_centres = 10.0 ** (0.5 * (np.asarray(edges_p)[1:] + np.asarray(edges_p)[:-1]))
                hist = np.asarray(hist, dtype=float) * np.asarray(ch.parent_weight(p_centres), dtype=float)[:, None]
            if isinstance(ch, RecoilDecay):
                out[ch.name] = RecoilSampler(hist, edges_p, edges_t, ch.m_parent, ch.recoil,
                                             lambda m, _br=br: _br(m, 1.0), n_fips=ch.n_fips)
                continue
            out[ch.name] = MesonSampler(hist, edges_p, edges_t, ch.m_parent,
                                        ch.m_companion, lambda m, _br=br: _br(m, 1.0))
        elif isinstance(ch, PhotonConversion):
            out[ch.name] = PhotonConversionSampler(
                _parent_histogram(ch, spectra), edges_p, edges_t, ch.m_parent, ch.m_companion,
                lambda E, m, _c=ch.conversion: _c(E, m, 1.0), photon_weight=ch.n_photons * ch.br)
        elif isinstance(ch, MesonMixing):
            out[ch.name] = MixingSampler(_parent_histogram(ch, spectra), edges_p, edges_t,
                                         lambda m, _f=ch.mixing_sq: _f(m, 1.0))
        elif isinstance(ch, (Bremsstrahlung, Tabulated)):
            support = None if ch.p_support is None else ch.p_support(e_beam)

            def table(m, ep, et, _fn=ch.table):
                return _fn(m, ep, et, e_beam)

            out[ch.name] = TableSampler(table, edges_p, edges_t, p_support=support)
        else:
            raise ConfigError(f"unknown production channel kind {type(ch).__name__}")
    return out


def _parent_histogram(channel, spectra):
    """The per-POT (log10 p, log10 theta) histogram of ``channel.parent``; ConfigError naming the channel
    and the species the spectra have when they lack it."""
    if channel.parent not in spectra.species:
        raise ConfigError(f"production channel {channel.name}: the spectra have no '{channel.parent}' "
                          f"(species: {', '.join(spectra.species)})")
    return spectra.histogram(channel.parent)


def photon_conversion_rate(channel: PhotonConversion, m, g, e_beam: float, spectra=None, n_cos: int = 64):
    """FIPs per POT made by the photons of ``channel`` (a :class:`PhotonConversion`) at mass m [GeV] and
    coupling g: sum over the parent's (p, theta) bins of parents per POT x n_photons x BR x the mean
    conversion probability over the photon energies of the isotropic decay (``n_cos`` midpoints in
    cos theta*; the energy depends on the parent momentum only).  Every parent of the histogram counts
    (none dropped: this is the total production, not what a detector sees).  ``spectra``: default the
    shipped spectra, which must be those of an ``e_beam`` GeV beam (ConfigError otherwise)."""
    if spectra is None:
        spectra = _shipped_spectra(float(e_beam))
    edges = np.asarray(spectra.log10p_edges, dtype=float)
    per_p = np.asarray(_parent_histogram(channel, spectra), dtype=float).sum(axis=1)
    dtype = jnp.result_type(m, g, float)
    P = jnp.asarray(10.0 ** (0.5 * (edges[1:] + edges[:-1])), dtype)
    args = (channel.conversion, float(channel.m_parent), float(channel.m_companion), int(n_cos), P,
            jnp.asarray(per_p, dtype), jnp.asarray(m, dtype), jnp.asarray(g, dtype))
    try:
        hash(channel.conversion)
    except TypeError:  # a user's unhashable conversion callable: the same sum, op by op
        return channel.n_photons * channel.br * _mean_conversion.__wrapped__(*args)
    return channel.n_photons * channel.br * _mean_conversion(*args)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _mean_conversion(conversion, m_parent, m_companion, n_cos, P, per_p, m, g):
    """sum over parent momenta P of parents per_p x the mean conversion probability of their decay photons
    (one compiled program per channel: op by op, a Primakoff integral costs seconds of small compilations)."""
    from fipscan.kernels.binning import two_body_p_alpha

    c = cos_midpoints(n_cos, P.dtype)
    k, _ = two_body_p_alpha(P[:, None], m_parent, jnp.zeros((), P.dtype), m_companion, c[None, :])
    return jnp.sum(per_p * jnp.mean(conversion(k, m, g), axis=1))


def mixing_rate(channel: MesonMixing, m, g, e_beam: float, spectra=None):
    """FIPs per POT made through mixing with ``channel.parent`` (a :class:`MesonMixing`) at mass m [GeV]
    and coupling g: parents per POT in the spectra (every bin) x ``|theta|^2(m, g)``.  ``spectra``: default
    the shipped spectra, which must be those of an ``e_beam`` GeV beam (ConfigError otherwise)."""
    if spectra is None:
        spectra = _shipped_spectra(float(e_beam))
    n_parent = float(np.asarray(_parent_histogram(channel, spectra), dtype=float).sum())
    return n_parent * jnp.asarray(channel.mixing_sq(m, g))


@functools.lru_cache(maxsize=4)
def _shipped_spectra(e_beam: float):
    """The shipped pp spectra registered for an ``e_beam`` GeV beam (fipscan.spectra.registry; the default
    400 GeV file when none is), checked to be those of that beam."""
    from fipscan.experiments import _spectra_beam_energy
    from fipscan.spectra import load_spectra
    from fipscan.spectra.registry import shipped_for_energy

    entry = shipped_for_energy(e_beam)
    s = load_spectra(None if entry is None else entry.name)
    e = _spectra_beam_energy(s)
    if e is not None and abs(e - e_beam) > 1e-6 * e_beam:
        raise ConfigError(f"the shipped spectra are for a {e:g} GeV beam, not {e_beam:g} GeV: the production "
                          "rate of a photon-conversion or mixing channel needs the parent spectra of the beam")
    return s


def beam_momentum(e_beam: float) -> float:
    """|p| [GeV] of a proton of energy e_beam [GeV]."""
    return math.sqrt(e_beam * e_beam - M_P * M_P)
