"""Spectra per beam and NuCal (issue 16, parts 1-2): ``fipscan spectra generate --beam-energy E --target
MATERIAL``, the shipped 70 GeV file registered by beam, the one-line error for spectra that are not there,
and ``nucal.toml`` (its checks, its geometry, and its BC1 yield against an independent estimate).

Cheap: the CLI tests stub the generator, one real PYTHIA run of 400 events at 70 GeV checks that the
beam energy reaches PYTHIA, and the yield test builds one table on a reduced acceptance grid."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
import fipscan.spectra.generation as gen
from fipscan import cache
from fipscan.acceptance import decay_spec
from fipscan.cli import spectra_cmds
from fipscan.cli.main import main
from fipscan.detectors import Calorimeter
from fipscan.errors import ConfigError, InputError
from fipscan.experiments import list_experiments, load_experiment
from fipscan.final_states import get_final_state
from fipscan.kernels.acceptance import acceptance_mc
from fipscan.spectra import GenerationSettings, load_spectra
from fipscan.spectra.core import KIND, SCHEMA_VERSION
from fipscan.spectra.registry import SHIPPED, SIZE_BUDGET_BYTES, shipped_entry, spectra_path
from fipscan.testing import registered_command_settings, toml_variant

NUCAL = Path(__file__).resolve().parents[1] / "fipscan" / "experiments" / "nucal.toml"


# ------------------------------------------------------------------------------------------------------
# spectra generate: the new options reach the generator's settings
# ------------------------------------------------------------------------------------------------------
@pytest.fixture()
def captured(monkeypatch):
    """Stub of fipscan.spectra.generate: records the settings and returns the shipped 70 GeV spectra."""
    seen = {}

    def fake_generate(settings, *, out=None, progress=True, resume=True):
        seen["settings"] = settings
        return load_spectra("pp-70gev")

    monkeypatch.setattr(fipscan.spectra, "generate", fake_generate)
    return seen


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fipscan") and ": error: " in err[0], err  # (argparse: its prog)
    return err[0]


def test_beam_energy_target_and_dump_reach_the_settings(captured, capsys):
    assert main(["spectra", "generate", "--beam-energy", "70", "--target", "p", "--dump", "Fe",
                 "--sigma-ccbar-ub", "1.6", "--bbbar-events", "0", "-q"]) == 0
    s = captured["settings"]
    assert (s.e_beam, s.target, s.sigma_ccbar_ub, s.sigma_bbbar_nb, s.n_events_bbbar) == (70.0, "p", 1.6, None, 0)
    # iron: A = 55.845, sigma_inel(p Fe) = A / (N_A lambda_I) with lambda_I = 132.1 g/cm2 (PDG): 702 mb
    assert (s.target_a, s.sigma_pa_inel_mb) == (55.845, 702.0)
    assert "wrote spectra" in capsys.readouterr().out
    # the beam energy enters the PYTHIA beam, the cache key and the recorded settings
    lines = gen.pythia_lines(s, "soft", 1, Path("init"), prepare=False)
    assert "Beams:eA = 70.0" in lines and "Beams:idB = 2212" in lines
    key70 = cache.canonical_key(KIND, s.cache_settings(), SCHEMA_VERSION)
    key400 = cache.canonical_key(KIND, dataclasses.replace(s, e_beam=400.0).cache_settings(), SCHEMA_VERSION)
    assert key70 != key400 and s.cache_settings()["e_beam"] == 70.0


@pytest.mark.parametrize("typed,target,a,sigma", [
    ("Fe", "Fe", 55.845, 702.0), ("cu", "Cu", 63.546, 769.0), ("angantyr-cu", "Cu", 63.546, 769.0),
    ("MO", "Mo", 95.95, 1042.0), ("W", "W", 183.84, 1591.0),
])
def test_nucleus_targets_select_angantyr_and_their_own_dump(captured, typed, target, a, sigma):
    """A nucleus target: Angantyr with that nucleus for the light mesons, and its A / sigma_inel(pA) (PDG
    lambda_I: Fe 132.1, Cu 137.3, Mo 152.9, W 191.9 g/cm2) for heavy flavour per POT; 400 GeV defaults."""
    assert main(["spectra", "generate", "--target", typed, "-q"]) == 0
    s = captured["settings"]
    assert (s.target, s.target_a, s.sigma_pa_inel_mb) == (target, a, sigma)
    assert (s.e_beam, s.sigma_ccbar_ub, s.sigma_bbbar_nb) == (400.0, 20.0, 2.63)  # the 400 GeV defaults
    lines = gen.pythia_lines(s, "soft", 1, Path("init"), prepare=False)
    assert f"Beams:idB = {gen.NUCLEI[target].pdg_id}" in lines and "HeavyIon:mode = 1" in lines
    assert "Beams:idB = 2212" in gen.pythia_lines(s, "ccbar", 1, Path("init"), prepare=False)  # hard runs: pp


def test_isotopes_pythia_lacks_are_defined_for_it():
    """Mo-96 and W-184 are not in PYTHIA's particle data: the lines define them (mass = AME2020 atomic mass
    x 0.93149410242 GeV/u), and PYTHIA accepts the definition."""
    pythia8mc = pytest.importorskip("pythia8mc", reason="PYTHIA 8 (pythia8mc) is not installed")
    py = pythia8mc.Pythia("", False)
    for symbol, mass_gev in (("Mo", 89.3346), ("W", 171.3492)):
        nucleus = gen.NUCLEI[symbol]
        line = gen.pythia_lines(GenerationSettings(target=symbol), "soft", 1, Path("i"), prepare=False)[0]
        assert line.startswith(f"{nucleus.pdg_id}:all = ") and py.readString(line)
        assert py.particleData.m0(nucleus.pdg_id) == pytest.approx(mass_gev, abs=1e-3)
        assert py.particleData.chargeType(nucleus.pdg_id) == 3 * nucleus.z
    assert gen.TARGETS == spectra_cmds.TARGET_CHOICES  # the CLI's list is the generator's


@pytest.mark.parametrize("args,needles", [
    (["--beam-energy", "70"], ["--sigma-ccbar-ub has a default only at --beam-energy = 400 GeV", "--ccbar-events 0"]),
    (["--beam-energy", "70", "--sigma-ccbar-ub", "1.6"], ["--sigma-bbbar-nb", "--bbbar-events 0"]),
    (["--beam-energy", "-3"], ["--beam-energy"]),
    (["--target", "lead"], ["--target", "invalid choice"]),
    (["--target", "Fe", "--dump", "W"], ["--dump W contradicts --target Fe"]),
    (["--dump", "unobtainium"], ["unknown target 'unobtainium'"]),
])
def test_bad_beam_and_target_options_are_one_line_errors(captured, capsys, args, needles):
    assert main(["spectra", "generate", *args, "-q"]) == 2
    line = _one_line_error(capsys)
    for needle in needles:
        assert needle in line, line
    assert "settings" not in captured  # refused before any generation


def test_a_70_gev_generation_runs_pythia_at_70_gev(tmp_path, monkeypatch):
    """400 inelastic events at 70 GeV (a few seconds): the file records e_beam = 70 and PYTHIA's beam
    energy, and a 70 GeV pp collision makes fewer pi0 than a 400 GeV one (3.06 vs 5.06 per collision in
    the shipped files)."""
    pytest.importorskip("pythia8mc", reason="PYTHIA 8 (pythia8mc) is not installed")
    shared_init = Path(os.environ["FIPSCAN_CACHE"]) / gen.INIT_KIND  # PYTHIA's initialisation, shared
    shared_init.mkdir(parents=True, exist_ok=True)
    own = tmp_path / "cache"
    own.mkdir()
    (own / gen.INIT_KIND).symlink_to(shared_init, target_is_directory=True)
    monkeypatch.setenv("FIPSCAN_CACHE", str(own))
    settings = GenerationSettings(n_events_soft=400, n_events_ccbar=0, n_events_bbbar=0, chunk_events=400,
                                  e_beam=70.0, n_workers=1)
    s = gen.generate(settings, progress=False, out=tmp_path / "s70.h5")
    prov = load_spectra(tmp_path / "s70.h5").provenance
    assert prov["settings"]["e_beam"] == 70.0 and prov["settings"]["sigma_ccbar_ub"] is None
    assert "Beams:eA = 70.0" in prov["pythia_settings"]["soft"]
    assert "ccbar" not in s.sigma_mb and s.per_pot["d0"] == 0.0  # no c-cbar run, no cross section recorded
    assert 1.5 < s.per_pp_collision["pi0"] < 4.5


# ------------------------------------------------------------------------------------------------------
# spectra registered by beam
# ------------------------------------------------------------------------------------------------------
def test_shipped_70_gev_file_loads_within_its_budget():
    entry = SHIPPED["pp-70gev"]
    path = entry.path()
    assert path.is_file() and path.stat().st_size <= SIZE_BUDGET_BYTES  # the 400 kB budget per file
    assert SHIPPED["pp-400gev"].path().stat().st_size <= SIZE_BUDGET_BYTES
    s = load_spectra("pp-70gev")
    settings = s.provenance["settings"]
    assert settings["e_beam"] == 70.0 and settings["target"] == "p"
    assert (settings["n_events_soft"], settings["n_events_ccbar"], settings["n_events_bbbar"]) == (10**6, 10**5, 0)
    # the file is what its registered command makes: the command's settings have the file's cache key
    assert registered_command_settings(entry, s).cache_settings() == dict(settings)
    # physics of a 70 GeV beam: everything below the beam momentum, no beauty
    assert s.per_pot["bplus"] == 0.0 and s.overflow["pi0"] == 0.0
    p_edges = 10.0 ** np.asarray(s.log10p_edges)
    assert np.asarray(s.hist["pi0"])[p_edges[:-1] > 70.0].sum() == 0.0
    # pi0 per pp collision fewer than at 400 GeV (sqrt(s) 11.5 vs 27.4 GeV)
    assert 0.4 < s.per_pp_collision["pi0"] / load_spectra().per_pp_collision["pi0"] < 0.8


def test_names_resolve_and_default_is_the_400_gev_file():
    assert shipped_entry("default") is SHIPPED["pp-400gev"] and shipped_entry("nonsense") is None
    assert spectra_path("default") == fipscan.spectra.default_spectra_path()
    assert load_spectra("default").provenance["settings"]["e_beam"] == 400.0


def _variant(tmp_path, old, new):
    return toml_variant(NUCAL, tmp_path, old, new, "nucal_variant.toml")


def test_a_missing_spectra_name_is_one_line_naming_the_command(tmp_path, capsys):
    path = _variant(tmp_path, 'spectra = "pp-70gev"', 'spectra = "pp-120gev"')
    path.write_text(path.read_text().replace("energy_gev = 70.0", "energy_gev = 120.0", 1))
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "'beam.spectra'" in text and "pp-120gev" in text
    assert ("fipscan spectra generate --beam-energy 120 --target p --sigma-ccbar-ub SIGMA_CC_UB "
            "--sigma-bbbar-nb SIGMA_BB_NB -o pp-120gev.h5") in text
    # the same from the command line: exit code 2 and that one line
    assert main(["info", "--model", "dark-photon", "--experiment", str(path), "--mass", "0.05",
                 "--coupling", "1e-7"]) == 2
    line = _one_line_error(capsys)
    assert "fipscan spectra generate --beam-energy 120" in line


def test_a_shipped_file_missing_from_the_installation_names_its_exact_command(tmp_path, monkeypatch):
    monkeypatch.setitem(SHIPPED, "pp-70gev", dataclasses.replace(SHIPPED["pp-70gev"], filename="gone.h5"))
    with pytest.raises(ConfigError) as err:
        load_experiment("nucal")
    text = str(err.value)
    expected = ("fipscan spectra generate --beam-energy 70 --target p --dump Fe --sigma-ccbar-ub 1.6 "
                "--bbbar-events 0 -o")
    assert "\n" not in text and "missing from this installation" in text and expected in text
    assert text.endswith("gone.h5")
    with pytest.raises(ConfigError, match="missing from this installation"):
        load_spectra("pp-70gev")


def test_spectra_of_another_beam_are_refused_naming_the_right_one(tmp_path):
    path = _variant(tmp_path, 'spectra = "pp-70gev"', 'spectra = "default"')
    exp = load_experiment(path)  # the file exists; its beam is checked when the spectra are loaded
    with pytest.raises(ConfigError) as err:
        exp.load_spectra()
    text = str(err.value)
    assert "400 GeV beam" in text and "70 GeV" in text and "name 'pp-70gev'" in text and "\n" not in text
    assert SHIPPED["pp-70gev"].command() in text


# ------------------------------------------------------------------------------------------------------
# nucal.toml
# ------------------------------------------------------------------------------------------------------
def _face_angles(exp):
    """(smallest, largest) polar angle [rad] from the production point to the edge of the on-axis face:
    the square's edge and its corner (a light, fast FIP is seen below these)."""
    d = exp.detector
    dz = d.z_face - exp.production_z
    return d.half_width_x / dz, math.hypot(d.half_width_x, d.half_width_y) / dz


def test_nucal_loads_and_passes_the_typed_checks():
    assert "nucal" in list_experiments()
    exp = load_experiment("nucal")
    assert exp.name == "nucal" and exp.kind == "beam-dump" and Path(exp.source).name == "nucal.toml"
    # Bluemlein & Brunner, PLB 701 (2011) 155: 70 GeV U70 protons on iron, 1.71e18 POT
    assert (exp.beam.energy_gev, exp.pot, exp.beam.spectra) == (70.0, 1.71e18, "pp-70gev")
    assert (exp.target.material, exp.target.atomic_number, exp.target.mass_number) == ("Fe", 26, 55.845)
    assert exp.load_spectra().provenance["settings"]["e_beam"] == 70.0  # picked by its beam
    assert set(exp.final_states) == {"ee", "mumu", "gammagamma"}
    assert all(v == 1.0 for v in exp.efficiency.values())  # geometry-only, said so in the file
    assert exp.observed == 0 and all(b.expected == 0.0 for b in exp.backgrounds.values())  # stated assumption
    s = exp.settings()
    assert s["name"] == "nucal" and set(s["selections"]) == set(exp.final_states)


def test_nucal_geometry_is_sane():
    """The 23 m decay region 64-87 m ends at the calorimeter face (inside its reach); the on-axis face of
    the area of a 1.3 m radius circle; the binning covers the window and the 70 GeV momenta."""
    exp = load_experiment("nucal")
    d = exp.detector
    assert isinstance(d, Calorimeter) and (d.x_centre, d.y_centre, d.r_min) == (0.0, 0.0, 0.0)
    assert 4 * d.half_width_x * d.half_width_y == pytest.approx(math.pi * 1.3**2, rel=1e-3)
    for fs in exp.final_states:
        z0, z1 = exp.decay_volume_for(fs)
        assert (z0, z1) == (64.0, 87.0) and exp.production_z < z0 < z1 <= d.z_limit(get_final_state(fs)) + 1e-9
    lo, hi = _face_angles(exp)
    assert 13e-3 < lo < hi < 19e-3
    b = exp.binning
    for grid in (b.log10theta_edges, b.acc_log10theta):
        assert grid[0] <= -4.0 and grid[-1] > math.log10(hi) + 0.5  # from 0.1 mrad to beyond the window
    assert 10 ** b.log10p_edges[0] < 0.5 and 10 ** b.log10p_edges[-1] > 70.0  # low energies to the beam
    assert 10 ** b.acc_log10p[-1] == pytest.approx(70.0)


@pytest.mark.parametrize("fs_name", ["ee", "gammagamma"])
def test_nucal_acceptance_is_zero_outside_the_window(fs_name):
    exp = load_experiment("nucal")
    fs = get_final_state(fs_name)
    vol = exp.decay_volume_for(fs)
    geom = exp.detector.kernel_geometry(exp.production_z, exp.production_y, vol)
    sel = exp.detector.kernel_selection(fs, exp.selections[fs_name])
    lo, hi = _face_angles(exp)
    theta = jnp.asarray([1e-4, 0.5 * lo, 1.5 * hi, 5 * hi])
    # a 0.2 GeV FIP at 30 GeV: its daughters open by ~2 m/p = 13 mrad, ~0.3 m over the decay region
    acc = np.asarray(acceptance_mc(geom, sel, jnp.asarray(0.2), jnp.asarray(30.0), theta,
                                   jnp.asarray(0.5 * (vol[0] + vol[1])), jax.random.PRNGKey(0), 256,
                                   z_width=vol[1] - vol[0], decay=decay_spec(fs, geom)))
    assert acc[0] > 0.5 and acc[1] > 0.5  # along the axis: most decays are seen
    assert acc[2] == 0.0 and acc[3] == 0.0  # beyond the window: none


def test_nucal_dark_photon_events_match_an_independent_estimate():
    """N(m = 50 MeV, eps = 1e-7) from pi0 -> gamma A' at NuCal against an estimate made here without
    fipscan's kinematics, and N ~ eps^4 in the long-lived limit.

    Back of the envelope (A' along its pi0, daughters ignored): N = POT x BR x n_pi0(theta < 15 mrad) x
    L m Gamma <1/p> / (hbar c), with BR(pi0 -> gamma A') = 2 eps^2 (1 - m^2/m_pi^2)^3 BR(pi0 -> gamma gamma)
    = 1.27e-14 (Batell, Pospelov, Ritz, PRD 80 (2009) 095024), Gamma(A' -> ee) = alpha eps^2 m / 3 =
    1.22e-18 GeV, n_pi0 = 0.10 per POT in the window of the shipped 70 GeV spectra, <1/p_A'> = 0.29 /GeV
    (p_A' ~ p_pi/2), L = 23 m: N ~ 1.71e18 x 1.27e-14 x 0.10 x 7.1e-3 GeV x 0.29 /GeV ~ 4.5.  Most of it
    comes from slow A's whose e+e- pair opens wider than the face or has a daughter below 1 GeV, so the
    estimate compared with is a small Monte Carlo of the same chain written out here: pi0 drawn from the
    spectra histogram (uniform in log p and log theta within a bin), pi0 -> gamma A' isotropic in the pi0
    frame, A' -> e+e- isotropic in the A' frame (Lorentz boosts), the decay point uniform in 64-87 m (long-
    lived limit, weight L m Gamma / (hbar c p)), both electrons on the 2.304 m square face with E > 1 GeV.
    It gives ~1.0 events; fipscan (binned yields, acceptance tables interpolated on 24 x 31 points, the
    exact decay probability) gives ~0.9: agreement within 35% is the test.
    """
    exp = load_experiment("nucal")
    small = dataclasses.replace(exp, binning=dataclasses.replace(exp.binning, n_mass=3, mass_max_gev=0.1))
    model = fipscan.get_model("dark-photon", production_channels=("pi0->gamma",))
    t = fipscan.precompute(model, small, [0.05], channels=["ee"], n_mc=256, cache=False)
    n = np.asarray(t.events_grid(jnp.log(jnp.asarray([1e-9, 1e-8, 1e-7])), exp.pot))[0]
    # production ~ eps^2 and decay ~ eps^2 while gamma beta c tau >> 87 m (16 km for the slowest A' at 1e-8)
    np.testing.assert_allclose(n[1] / n[0], 1e4, rtol=2e-3)

    m, eps, m_pi, m_e = 0.05, 1e-7, 0.1349768, 0.51099895e-3  # GeV (PDG)
    alpha, hbar_c = 1 / 137.035999, 1.973269804e-16  # GeV m
    br = 2 * eps**2 * (1 - m**2 / m_pi**2) ** 3 * 0.98823  # BR(pi0 -> gamma gamma) = 0.98823 (PDG)
    r = m_e**2 / m**2
    width = alpha * eps**2 * m / 3 * (1 + 2 * r) * math.sqrt(1 - 4 * r)  # Gamma(A' -> e+ e-)
    hand = exp.pot * br * _pi0_to_aprime_ee_seen(exp, m, width, hbar_c)
    assert 0.7 < hand < 1.4  # the ~1.0 above
    assert n[2] == pytest.approx(hand, rel=0.35)


def _pi0_to_aprime_ee_seen(exp, m, width, hbar_c, n_draw=200_000):
    """sum over pi0 per POT of P(A' decays in the volume, both e on the face, each E > 1 GeV), long-lived."""
    rng = np.random.default_rng(7)
    s = exp.load_spectra()
    h = np.asarray(s.hist["pi0"])
    lp, lt = np.asarray(s.log10p_edges), np.asarray(s.log10theta_edges)
    ip, it = np.unravel_index(rng.choice(h.size, size=n_draw, p=(h / h.sum()).ravel()), h.shape)
    p = 10 ** rng.uniform(lp[ip], lp[ip + 1])
    theta = 10 ** rng.uniform(lt[it], lt[it + 1])

    def direction(cos_t, phi):
        sin_t = np.sqrt(1 - cos_t**2)
        return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)

    def boost(energy, momentum, beta):  # rest-frame (E, p) to the frame where the rest frame moves at beta
        b2 = np.sum(beta**2, axis=-1)
        gamma = 1 / np.sqrt(1 - b2)
        bp = np.sum(beta * momentum, axis=-1)
        lab = momentum + ((gamma - 1) * bp / b2 + gamma * energy)[:, None] * beta
        return gamma * (energy + bp), lab

    m_pi, m_e = 0.1349768, 0.51099895e-3
    beta_pi = (p / np.hypot(p, m_pi))[:, None] * direction(np.cos(theta), rng.uniform(0, 2 * np.pi, n_draw))
    k = (m_pi**2 - m**2) / (2 * m_pi)  # A' momentum in the pi0 frame
    e_a, p_a = boost(np.full(n_draw, math.hypot(k, m)), k * direction(rng.uniform(-1, 1, n_draw),
                                                                      rng.uniform(0, 2 * np.pi, n_draw)), beta_pi)
    z0, z1 = exp.decay_volume
    d = exp.detector
    z = rng.uniform(z0, z1, n_draw)
    x, y = p_a[:, 0] / p_a[:, 2] * z, p_a[:, 1] / p_a[:, 2] * z
    q = math.sqrt(m**2 / 4 - m_e**2)  # electron momentum in the A' frame
    u = direction(rng.uniform(-1, 1, n_draw), rng.uniform(0, 2 * np.pi, n_draw))
    seen = p_a[:, 2] > 0
    for sign in (1.0, -1.0):
        e_e, p_e = boost(np.full(n_draw, m / 2), sign * q * u, p_a / e_a[:, None])
        xf = x + p_e[:, 0] / p_e[:, 2] * (d.z_face - z)
        yf = y + p_e[:, 1] / p_e[:, 2] * (d.z_face - z)
        seen &= (p_e[:, 2] > 0) & (np.abs(xf) < d.half_width_x) & (np.abs(yf) < d.half_width_y) & (e_e > 1.0)
    p_decay = (z1 - z0) * m * width / (hbar_c * np.linalg.norm(p_a, axis=1))
    return h.sum() * np.mean(np.where(seen, p_decay, 0.0))


def test_nucal_bremsstrahlung_contour_reproduces_the_published_recast():
    """Recast validation: NuCal's dark-photon exclusion from proton bremsstrahlung, A' -> e+e-
    (Bluemlein & Brunner, PLB 731 (2014) 320, fig. 5 solid red curve, as digitised by DarkCast and
    shipped as fipscan/data/bounds/BC1/nucal.csv with its source in the header).  The recast used
    bremsstrahlung only, with the time-like proton form factor (its reach bends up towards the rho), so
    fipscan runs with the same: production_channels=brems, form_factor on, the ee final state, the
    nucal.toml assumptions (geometry-only efficiency, zero background).
    Measured agreement (2026-12-01): lower edge within +8% for 0.02-0.2 GeV and +27% up to 0.5 GeV;
    upper edge +8% to +23% for 0.02-0.5 GeV.  Tolerances: the lower edge x/÷ 1.35, the upper edge
    x/÷ 1.3 (the per cent-level differences are the recast's own acceptance and threshold choices that
    the TOML states as assumptions); and both edges must not agree better by accident of a wrong
    production: with the form factor off the lower edge at 0.5 GeV is 1.8x the published one."""
    from fipscan.bounds import shipped_bounds
    from fipscan.grid import Grid

    curve, = [c for c in shipped_bounds(benchmark="BC1") if c.name == "nucal"]
    m, g = np.asarray(curve.masses), np.asarray(curve.couplings)
    tip = int(np.argmax(m))
    lower = (m[:tip + 1], g[:tip + 1])
    upper = (m[tip:][::-1], g[tip:][::-1])

    def published(edge, x):
        return np.exp(np.interp(np.log(x), np.log(edge[0]), np.log(edge[1])))

    masses = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
    grid = Grid(masses, np.geomspace(1e-9, 1e-3, 120))
    model = fipscan.get_model("dark-photon", production_channels=("brems",))
    contour = fipscan.scan(model, "nucal", grid, channels=("ee",)).contour
    r_lo = np.asarray(contour.lower) / published(lower, masses)
    r_up = np.asarray(contour.upper) / published(upper, masses)
    assert np.all((r_lo > 1 / 1.35) & (r_lo < 1.35)), r_lo
    assert np.all((r_up > 1 / 1.3) & (r_up < 1.3)), r_up
    off = fipscan.scan(fipscan.get_model("dark-photon", production_channels=("brems",), form_factor=False),
                       "nucal", Grid(masses[-1:], grid.couplings), channels=("ee",)).contour
    assert float(off.lower[0]) / published(lower, masses[-1]) > 1.5
