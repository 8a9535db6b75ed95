"""SHiP at ECN3 (issue 16): ``ship.toml`` and its shipped spectra ``pmo-400gev`` (400 GeV protons on
molybdenum, p+Mo light mesons through PYTHIA's Angantyr).  The TOML loads and passes the typed checks; the
spectra file records its beam and target and is what its registered command makes; the geometry is sane
(decay volume inside the spectrometer's reach, acceptance zero outside the angular window); and the BC1
yield at one point agrees with an independent numpy Monte Carlo, N ~ eps^4 in the long-lived limit.

Cheap (~10 s): no generator run (the command is parsed with the generator stubbed), the acceptance kernel
on a handful of points, one yield table on a reduced acceptance grid (3 masses)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
from fipscan.acceptance import decay_spec
from fipscan.detectors import MagneticSpectrometer
from fipscan.errors import ConfigError
from fipscan.experiments import list_experiments, load_experiment
from fipscan.final_states import get_final_state
from fipscan.kernels.acceptance import acceptance_mc
from fipscan.spectra import load_spectra
from fipscan.spectra.registry import SHIPPED, SIZE_BUDGET_BYTES, shipped_entry
from fipscan.testing import registered_command_settings, toml_variant

SHIP = Path(__file__).resolve().parents[1] / "fipscan" / "experiments" / "ship.toml"

M_E, M_PI0, M_ETA = 0.51099895e-3, 0.1349768, 0.547862  # GeV (PDG)
BR_GG = {"pi0": 0.98823, "eta": 0.3936}  # BR(P -> gamma gamma) (PDG)
ALPHA, HBAR_C = 1 / 137.035999, 1.973269804e-16  # GeV m


# ------------------------------------------------------------------------------------------------------
# ship.toml: loads, typed checks, its numbers
# ------------------------------------------------------------------------------------------------------
def test_ship_loads_and_passes_the_typed_checks():
    assert "ship" in list_experiments()
    exp = load_experiment("ship")
    assert exp.name == "ship" and exp.kind == "beam-dump" and Path(exp.source).name == "ship.toml"
    assert "CERN-SPSC-2023-033" in exp.references
    # 400 GeV SPS protons, 6e20 POT (SHiP's 15 years at ECN3; EventCalc's N_POT), a projection: no POT band
    assert (exp.beam.energy_gev, exp.pot, exp.pot_uncertainty, exp.beam.spectra) == (400.0, 6e20, 0.0, "pmo-400gev")
    assert exp.beam.cascade_enhancement  # SHiP's own cascade factors, in its thick target
    assert (exp.target.material, exp.target.atomic_number, exp.target.mass_number) == ("Mo", 42, 95.95)
    assert isinstance(exp.detector, MagneticSpectrometer)
    assert set(exp.final_states) == {"ee", "mumu", "pipi", "kk", "gammagamma", "pipipi0", "pipigamma"}
    assert all(v == 1.0 for v in exp.efficiency.values())  # geometry-only, said so in the file
    assert exp.observed == 0 and all(b.expected == 0.0 for b in exp.backgrounds.values())  # the design's claim
    s = exp.settings()
    assert s["name"] == "ship" and set(s["selections"]) == set(exp.final_states)
    spectra = exp.load_spectra()  # picked by the beam: 400 GeV, and the cascade factors applied at load
    assert spectra.provenance["settings"]["e_beam"] == 400.0
    raw = load_spectra("pmo-400gev")
    assert spectra.per_pot["d0"] == pytest.approx(2.3 * raw.per_pot["d0"])
    assert spectra.per_pot["bplus"] == pytest.approx(1.7 * raw.per_pot["bplus"])
    assert spectra.per_pot["pi0"] == raw.per_pot["pi0"]  # light mesons are not enhanced


@pytest.mark.parametrize("old,new,message", [
    ("pt_kick_gev = 0.150", "pt_kick_gev = 0.300", "disagrees with 0.2998 B L"),
    ("r_max = 2.764\n\n[detector.straw4]", "r_max = 2.5\n\n[detector.straw4]", "must equal those of straw1"),
    ("charged = [33.12, 83.12]", "charged = [33.12, 85.0]", "beyond where"),
    ('spectra = "pmo-400gev"', 'spectra = "pmo-400"', "fipscan spectra generate --beam-energy 400"),
    ("gammagamma = 1.0\n", "", "missing key 'efficiency.gammagamma'"),
])
def test_malformed_copies_are_refused_naming_the_key(tmp_path, old, new, message):
    path = toml_variant(SHIP, tmp_path, old, new, "ship_variant.toml")
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    assert message in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------------------------------------
# the shipped p+Mo spectra
# ------------------------------------------------------------------------------------------------------
def test_ship_spectra_record_400_gev_on_molybdenum_within_the_budget():
    entry = shipped_entry("pmo-400gev")
    assert entry is SHIPPED["pmo-400gev"] and (entry.beam_energy_gev, entry.target) == (400.0, "Mo")
    path = entry.path()
    assert path.is_file() and path.stat().st_size <= SIZE_BUDGET_BYTES  # the 400 kB budget per file
    s = load_spectra("pmo-400gev")
    settings = s.provenance["settings"]
    assert settings["e_beam"] == 400.0 and settings["target"] == "Mo"
    # molybdenum: A = 95.95 and sigma_inel(p Mo) = A / (N_A lambda_I), lambda_I = 152.9 g/cm2 (PDG): 1042 mb
    assert (settings["target_a"], settings["sigma_pa_inel_mb"]) == (95.95, 1042.0)
    assert (settings["sigma_ccbar_ub"], settings["sigma_bbbar_nb"]) == (20.0, 2.63)  # the 400 GeV defaults
    counts = (settings["n_events_soft"], settings["n_events_ccbar"], settings["n_events_bbbar"])
    assert counts == (200_000, 100_000, 100_000)
    pythia = s.provenance["pythia_settings"]
    assert "Beams:idB = 1000420960" in pythia["soft"] and "HeavyIon:mode = 1" in pythia["soft"]  # Angantyr p+Mo-96
    assert "Beams:idB = 2212" in pythia["ccbar"] and "Beams:eA = 400.0" in pythia["soft"]  # heavy flavour: pp
    # the file is what its registered command makes: the command's settings have the file's cache key
    assert registered_command_settings(entry, s).cache_settings() == dict(settings)
    # physics: a p+Mo collision makes more pi0 than a pp one (8.9 vs 5.0 per POT in the shipped files)...
    pp = load_spectra("pp-400gev")
    assert 1.4 < s.per_pot["pi0"] / pp.per_pot["pi0"] < 2.2
    # ...and the same pp hard runs (same seeds) per POT scale as A / sigma_inel(pA): Mo against Cu
    a_over_sigma = (95.95 / 1042.0) / (63.546 / 769.0)
    for species in ("d0", "bplus"):
        assert s.per_pot[species] / pp.per_pot[species] == pytest.approx(a_over_sigma, rel=1e-9)


# ------------------------------------------------------------------------------------------------------
# geometry
# ------------------------------------------------------------------------------------------------------
def _windows(exp):
    """(charged, photons): the largest polar angle [rad] at which a light, fast FIP's daughters still reach
    the detector -- the straw circle at the last station, the ECAL square's corner."""
    d = exp.detector
    return (d.straw_r_max / (d.straw4_z - exp.production_z),
            math.sqrt(2) * d.lkr_half_width / (d.lkr_z - exp.production_z))


def test_ship_geometry_is_sane():
    """The 50 m decay volume starts ~33 m behind the target and ends before the first straw station;
    apertures of the 4 m x 6 m (straws) and 4.5 m x 7 m (ECAL) areas; the binning covers the window and
    momenta to the beam energy."""
    exp = load_experiment("ship")
    d = exp.detector
    for fs in exp.final_states:
        z0, z1 = exp.decay_volume_for(fs)
        assert (z0, z1) == (33.12, 83.12)
        assert exp.production_z < z0 < z1 <= d.z_limit(get_final_state(fs)) + 1e-9
    assert d.z_limit(get_final_state("ee")) == d.straw1_z and d.z_limit(get_final_state("gammagamma")) == d.lkr_z
    assert d.straw1_z < d.magnet_z_start < d.magnet_z_end < d.straw4_z < d.lkr_z < d.muv3_z
    assert math.pi * d.straw_r_max**2 == pytest.approx(4.0 * 6.0, rel=1e-3) and d.straw_r_min == 0.0
    assert (2 * d.lkr_half_width) ** 2 == pytest.approx(4.5 * 7.0, rel=1e-3) and d.lkr_r_min == 0.0
    assert d.pt_kick_gev == pytest.approx(0.2998 * 0.5, rel=2e-3)  # ~0.5 T m
    charged, photons = _windows(exp)
    assert 0.025 < charged < photons < 0.045
    b = exp.binning
    for grid in (b.log10theta_edges, b.acc_log10theta):
        assert grid[0] <= -4.0 and grid[-1] >= -1.0  # 0.1 mrad to 0.1 rad: beyond the window, slow FIPs too
    assert 10 ** b.log10p_edges[-1] > 400.0 and 10 ** b.acc_log10p[-1] == pytest.approx(400.0)


@pytest.mark.parametrize("fs_name", ["ee", "gammagamma"])
def test_ship_acceptance_is_zero_outside_the_angular_window(fs_name):
    exp = load_experiment("ship")
    fs = get_final_state(fs_name)
    vol = exp.decay_volume_for(fs)
    geom = exp.detector.kernel_geometry(exp.production_z, exp.production_y, vol)
    sel = exp.detector.kernel_selection(fs, exp.selections[fs_name])
    edge = max(_windows(exp))
    theta = jnp.asarray([1e-4, 3e-3, 1.5 * edge, 0.1])
    # a 0.1 GeV FIP at 50 GeV: its daughters open by ~ 2 m/p = 4 mrad, ~0.2 m over the decay volume (closer
    # than the 0.1 m photon separation on the ECAL for decays in the last ~25 m: gamma gamma loses ~15%),
    # and the magnet moves a 25 GeV electron by ~3 cm at the last station
    acc = np.asarray(acceptance_mc(geom, sel, jnp.asarray(0.1), jnp.asarray(50.0), theta,
                                   jnp.asarray(0.5 * (vol[0] + vol[1])), jax.random.PRNGKey(0), 256,
                                   z_width=vol[1] - vol[0], decay=decay_spec(fs, geom)))
    assert acc[0] > 0.75 and acc[1] > 0.75  # along the axis: most decays are seen
    assert acc[2] == 0.0 and acc[3] == 0.0  # beyond the window: none


# ------------------------------------------------------------------------------------------------------
# BC1 events against an independent estimate
# ------------------------------------------------------------------------------------------------------
def test_ship_dark_photon_events_match_an_independent_estimate():
    """N(m = 0.1 GeV, eps = 1e-8) from pi0 -> gamma A' and eta -> gamma A', A' -> e+e-, against a Monte
    Carlo written out here with numpy, and N ~ eps^4 in the long-lived limit.

    Back of the envelope (A' along its parent, daughters ignored): N = POT x BR x n_P(theta < 29 mrad) x
    L m Gamma <1/p> / (hbar c), with BR(P -> gamma A') = 2 eps^2 (1 - m^2/m_P^2)^3 BR(P -> gamma gamma)
    (Batell, Pospelov, Ritz, PRD 80 (2009) 095024): 1.8e-17 (pi0) and 7.1e-17 (eta); Gamma(A' -> ee) =
    alpha eps^2 m / 3 = 2.4e-20 GeV; n_pi0 = 2.1 and n_eta = 0.32 per POT in the window of the shipped
    p+Mo spectra; <1/p_A'> = 0.19 and 0.11 /GeV; L = 50 m: N ~ 6e20 x (1.8e-17 x 2.1 x 1.2e-4 +
    7.1e-17 x 0.32 x 6.9e-5) ~ 2.6 + 0.9 = 3.5.  The slow A's that dominate <1/p> send an electron below
    1 GeV or out of the apertures, so the estimate compared with is a small Monte Carlo of the same chain:
    mesons drawn from the spectra histograms (uniform in log p, log theta within a bin), P -> gamma A'
    isotropic in the meson frame, A' -> e+e- as 1 + k cos^2 about its flight direction (transverse
    polarisation, k = (1 - r)/(1 + r), r = 4 m_e^2/m^2), the decay point uniform in 33.12-83.12 m (long-
    lived limit, weight L m Gamma / (hbar c p)), both electrons with E > 1 GeV inside the straw circle at
    the first and last stations (a thin magnet kick of 0.150 GeV between them, opposite for e+ and e-) and
    on the ECAL square.  It gives 0.85 events (pi0 0.61, eta 0.23); fipscan (binned yields, acceptance
    tables interpolated on 30 x 31 points, its own decay kinematics) gives 0.86: agreement within 10% is
    the test (the estimate's Monte Carlo noise is ~1%).
    """
    exp = load_experiment("ship")
    small = dataclasses.replace(exp, binning=dataclasses.replace(exp.binning, n_mass=3, mass_max_gev=0.1))
    model = fipscan.get_model("dark-photon", production_channels=("pi0->gamma", "eta->gamma"))
    t = fipscan.precompute(model, small, [0.1], channels=["ee"], n_mc=256, cache=False)
    n = np.asarray(t.events_grid(jnp.log(jnp.asarray([1e-9, 1e-8])), exp.pot))[0]
    # production ~ eps^2 and decay ~ eps^2 while gamma beta c tau >> 83 m (>= 16 km for a 2 GeV A' at 1e-8)
    np.testing.assert_allclose(n[1] / n[0], 1e4, rtol=2e-3)

    m, eps = 0.1, 1e-8
    r = M_E**2 / m**2
    width = ALPHA * eps**2 * m / 3 * (1 + 2 * r) * math.sqrt(1 - 4 * r)  # Gamma(A' -> e+ e-), BR(ee) = 1 here
    spectra = exp.load_spectra()
    hand = {}
    for species, m_p in (("pi0", M_PI0), ("eta", M_ETA)):
        br = 2 * eps**2 * (1 - m**2 / m_p**2) ** 3 * BR_GG[species]
        hand[species] = exp.pot * br * _seen_per_pot(exp, spectra, species, m_p, m, width)
    assert 0.5 < hand["pi0"] < 0.75 and 0.17 < hand["eta"] < 0.3  # the 0.61 and 0.23 above
    assert n[1] == pytest.approx(hand["pi0"] + hand["eta"], rel=0.10)


def _direction(cos_t, phi):
    sin_t = np.sqrt(1 - cos_t**2)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)


def _boost(energy, momentum, beta):
    """Rest-frame (E, p) to the frame in which the rest frame moves with velocity beta (rows)."""
    b2 = np.sum(beta**2, axis=-1)
    gamma = 1 / np.sqrt(1 - b2)
    bp = np.sum(beta * momentum, axis=-1)
    return gamma * (energy + bp), momentum + ((gamma - 1) * bp / b2 + gamma * energy)[:, None] * beta


def _seen_per_pot(exp, spectra, species, m_p, m, width, n_draw=300_000):
    """sum over mesons per POT of P(A' decays in the volume and both electrons are seen), long-lived."""
    rng = np.random.default_rng(11)
    h = np.asarray(spectra.hist[species])
    lp, lt = np.asarray(spectra.log10p_edges), np.asarray(spectra.log10theta_edges)
    ip, it = np.unravel_index(rng.choice(h.size, size=n_draw, p=(h / h.sum()).ravel()), h.shape)
    p = 10 ** rng.uniform(lp[ip], lp[ip + 1])
    theta = 10 ** rng.uniform(lt[it], lt[it + 1])
    beta_p = (p / np.hypot(p, m_p))[:, None] * _direction(np.cos(theta), rng.uniform(0, 2 * np.pi, n_draw))
    k = (m_p**2 - m**2) / (2 * m_p)  # A' momentum in the meson frame
    e_a, p_a = _boost(np.full(n_draw, math.hypot(k, m)),
                      k * _direction(rng.uniform(-1, 1, n_draw), rng.uniform(0, 2 * np.pi, n_draw)), beta_p)
    # A' -> e+ e-: dGamma/dcos ~ 1 + kk cos^2 about the A' flight direction, drawn flat and weighted
    r = 4 * M_E**2 / m**2
    kk = (1 - r) / (1 + r)
    cos_t, phi = rng.uniform(-1, 1, n_draw), rng.uniform(0, 2 * np.pi, n_draw)
    weight = (1 + kk * cos_t**2) / (1 + kk / 3)
    axis = p_a / np.linalg.norm(p_a, axis=1)[:, None]
    other = np.where(np.abs(axis[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    u = np.cross(axis, other)
    u /= np.linalg.norm(u, axis=1)[:, None]
    v = np.cross(axis, u)
    q = math.sqrt(m**2 / 4 - M_E**2)  # electron momentum in the A' frame
    rest = q * (np.sqrt(1 - cos_t**2)[:, None] * (np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * v)
                + cos_t[:, None] * axis)
    z0, z1 = exp.decay_volume
    d = exp.detector
    z = rng.uniform(z0, z1, n_draw)
    x, y = p_a[:, 0] / p_a[:, 2] * z, p_a[:, 1] / p_a[:, 2] * z  # produced on the axis at z = 0
    z_magnet = 0.5 * (d.magnet_z_start + d.magnet_z_end)
    seen = p_a[:, 2] > 0
    for charge in (1.0, -1.0):
        e_e, p_e = _boost(np.full(n_draw, m / 2), charge * rest, p_a / e_a[:, None])

        def at(zp, p_e=p_e, charge=charge):  # straight line, plus the kick downstream of the magnet
            kick = charge * d.pt_kick_gev / p_e[:, 2] * max(zp - z_magnet, 0.0)
            return x + p_e[:, 0] / p_e[:, 2] * (zp - z) + kick, y + p_e[:, 1] / p_e[:, 2] * (zp - z)

        seen &= (p_e[:, 2] > 0) & (e_e > 1.0)
        for zp in (d.straw1_z, d.straw4_z):
            seen &= np.hypot(*at(zp)) < d.straw_r_max
        xc, yc = at(d.lkr_z)
        seen &= (np.abs(xc) < d.lkr_half_width) & (np.abs(yc) < d.lkr_half_width)
    p_decay = (z1 - z0) * m * width / (HBAR_C * np.linalg.norm(p_a, axis=1))
    return h.sum() * np.mean(np.where(seen, weight * p_decay, 0.0))
