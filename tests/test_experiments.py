"""Typed experiments: parsed once, every key validated, unknown and missing keys refused by name."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from fipscan.detectors import Calorimeter, MagneticSpectrometer
from fipscan.errors import ConfigError
from fipscan.experiments import list_experiments, load_experiment
from fipscan.testing import toml_variant

NA62 = Path(__file__).resolve().parents[1] / "fipscan" / "experiments" / "na62_bd.toml"
TOY = Path(__file__).resolve().parent / "data" / "toy_calorimeter.toml"


def _variant(tmp_path, old, new, base=NA62):
    return toml_variant(base, tmp_path, old, new)


def test_na62_typed_parts():
    exp = load_experiment("na62-bd")
    assert "na62-bd" in list_experiments()
    assert exp.beam.energy_gev == 400.0 and exp.beam.particle == "proton" and exp.beam.spectra == "default"
    assert exp.pot == 1.4e17 and exp.pot_projection == 1e18 and exp.pot_uncertainty == 0.2
    assert (exp.target.material, exp.target.atomic_number) == ("Cu", 29)
    assert exp.decay_volumes == {"charged": (102.425, 182.0), "neutral": (102.425, 241.495)}
    assert isinstance(exp.detector, MagneticSpectrometer) and exp.detector.straw1_z == 183.0
    hadronic = ("pipi", "kk", "pipipi0pi0", "pipipi0", "pipieta", "pipigamma", "kkpi0")
    assert exp.final_states[:2] == ("ee", "mumu") and set(hadronic) <= set(exp.final_states)
    assert all(exp.efficiency[fs] == 0.14 for fs in ("ee", "mumu", *hadronic))
    assert exp.beam.cascade_enhancement is True
    assert exp.selections["ee"].min_separation_m == 0.10 and exp.selections["mumu"].detector == "muv3"
    assert len(exp.binning.log10p_edges) == 81 and len(exp.binning.acc_log10p) == 36
    assert exp.with_pot(1e18).pot == 1e18 and exp.pot == 1.4e17


def test_cascade_enhancement_multiplies_heavy_flavour_only(tmp_path):
    from fipscan.spectra import load_spectra

    plain, exp = load_spectra(), load_experiment("na62-bd")
    enhanced = exp.load_spectra()
    # charm x 2.3, beauty x 1.7 (the file's settings), light mesons and photons untouched
    for species, factor in (("d0", 2.3), ("ds", 2.3), ("bplus", 1.7), ("bs", 1.7), ("pi0", 1.0), ("kplus", 1.0)):
        assert enhanced.per_pot[species] == pytest.approx(factor * plain.per_pot[species], rel=1e-12)
        np.testing.assert_allclose(enhanced.hist[species], factor * plain.hist[species], rtol=1e-12)
    assert enhanced.provenance["settings"]["cascade_enhancement"] is True
    assert plain.provenance["settings"]["cascade_enhancement"] is False  # the file itself is unchanged
    # switched off in a TOML: the file's numbers; a non-boolean value is refused naming the key
    off = load_experiment(_variant(tmp_path, "cascade_enhancement = true", "cascade_enhancement = false"))
    assert off.load_spectra().per_pot["bplus"] == plain.per_pot["bplus"]
    with pytest.raises(ConfigError, match="beam.cascade_enhancement.*true or false"):
        load_experiment(_variant(tmp_path, "cascade_enhancement = true", "cascade_enhancement = 1"))


def test_cell_lattice_is_shared_by_every_final_state():
    exp = load_experiment("na62-bd")
    charged = exp.cell_edges(["mumu"])
    np.testing.assert_allclose(charged, np.linspace(102.425, 182.0, 33), rtol=0, atol=1e-9)
    toy = load_experiment(TOY)
    both = toy.cell_edges(["ee", "gammagamma"])
    ee = toy.cell_edges(["ee"])
    assert both[0] == ee[0] == 50.0 and both[-1] >= 110.0 - 1e-9
    np.testing.assert_allclose(both[: ee.size], ee)  # the charged cells are cells of the union
    assert np.allclose(np.diff(both), 5.0)


def test_calorimeter_kind():
    toy = load_experiment(TOY)
    assert isinstance(toy.detector, Calorimeter) and toy.detector.z_face == 110.0
    assert toy.selections["gammagamma"].min_photon_energy_gev == 1.0


@pytest.mark.parametrize("old,new,key", [
    ("production_y = -0.022", "production_y = -0.022\nproduction_x = 0.0", "geometry.production_x"),
    ("[detector.straw1]\nz = 183.0", "[detector.straw1]\nz = 183.0\ncolour = 'red'", "detector.straw1.colour"),
    ("[geometry.decay_volumes]", "[geometry.decay_volumes]\nmuon = [1.0, 2.0]", "geometry.decay_volumes.muon"),
    ("min_energy_gev = 5.0", "min_energy_gev = 5.0\nmin_momentum = 1.0", "selection.pipi.min_momentum"),
    ("[statistics]", "[statistics]\nsigma = 5", "statistics.sigma"),
])
def test_unknown_key_is_refused_by_name(tmp_path, old, new, key):
    path = _variant(tmp_path, old, new)
    with pytest.raises(ConfigError, match=f"{path}.*unknown key '{key}'"):
        load_experiment(path)


@pytest.mark.parametrize("old,new,message", [
    ("pot = 1.4e17 ", 'pot = "1.4e17" ', "'beam.pot' must be a number"),
    ("production_z = 23.070", "production_z = [1, 2]", "'geometry.production_z' must be a number"),
    ("r_min = 0.10\nr_max = 1.0\n\n[detector.straw4]", "r_min = 2.0\nr_max = 1.0\n\n[detector.straw4]",
     "'detector.straw1.r_min' = 2.0 must be below r_max"),
    ("charged = [102.425, 182.0]", "charged = [102.425, 200.0]", "beyond where"),
    ("charged = [102.425, 182.0]", "charged = [182.0, 102.425]", "must be increasing"),
    ("ee = 0.14\n", "", "missing key 'efficiency.ee'"),
    ("mumu = 0.14\n", "mumu = 1.4\n", "'efficiency.mumu' 1.4 is outside the allowed range [0, 1]"),
    ("pt_kick_gev = 0.270", "pt_kick_gev = 0.5", "disagrees with 0.2998 B L"),
    ("[selection.pipi]", "[selection.nunu]", "not a registered final state"),
    ("[selection.pipi]", "[selection.other]", "not reconstructed"),
    ('detector = "muv3"', 'detector = "hcal"', "'selection.mumu.detector' must be one of lkr, muv3, straws"),
    ("atomic_number = 29", "atomic_number = 290", "exceeds mass_number"),
    ("cl = 0.90", "cl = 1.5", "'statistics.cl' must lie in"),
    ("observed = 0", "observed = 1.5", "'statistics.observed' must be an integer"),
    ("n_mc = 256", "n_mc = 0", "'binning.acceptance.n_mc' 0 is outside the allowed range"),
    ("energy_gev = 400.0", "energy_gev = -400.0", "'beam.energy_gev' must be positive and finite"),
    ('spectra = "default"', 'spectra = "/nonexistent/spectra.h5"', "'beam.spectra' names no file"),
    # issue 18 kind 1: wrong types and ranges, and relations between keys, all refused at load
    ("production_z = 23.070", "production_z = 150.0", "'geometry.decay_volumes.charged' must start after"),
    ("[efficiency]\nee = 0.14", '[efficiency]\nee = "0.14"', "'efficiency.ee' must be a number, not '0.14'"),
    ("[efficiency]\nee = 0.14", "[efficiency]\nee = true", "'efficiency.ee' must be a number"),
    ("pot_uncertainty = 0.20", "pot_uncertainty = [0.2]", "'beam.pot_uncertainty' must be a number"),
    ("z_start = 196.35", "z_start = 150.0", "'detector.magnet.z_start' and z_end must lie between"),
    ("r_min = 0.11", "r_min = 2.0", "'detector.muv3.r_min' = 2.0 leaves no muon detector"),
    ("octagon_sum = 1.598", "octagon_sum = 3.0", "'detector.lkr.octagon_sum' = 3.0 must lie between"),
    ("mass_max_gev = 2.0", "mass_max_gev = 0.2", "'binning.acceptance.mass_max_gev' = 0.2 is below the threshold of mumu"),
    ("log10_theta_rad = [-5.0, -1.8]\nn_theta = 40", "log10_theta_rad = [-5.0, 1.0]\nn_theta = 40",
     "'binning.log10_theta_rad' ends at 10^1 rad, beyond pi"),
    ("n_mc = 256", "n_mc = 1000000", "'binning.acceptance.n_mc' x n_mass"),
    ("n_z = 32", "n_z = 4000", "'binning.n_momentum' x n_theta x n_z = 12800000"),
])
def test_bad_values_are_refused_with_file_and_key(tmp_path, old, new, message):
    path = _variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text


def test_an_experiment_without_efficiency_is_refused(tmp_path):
    """Issue 18 kind 1: no [efficiency] table (or no entry for a selected final state) is refused, never
    read as 1.0; a geometry-only estimate says efficiency = 1.0 explicitly."""
    cfg = NA62.read_text()
    path = tmp_path / "no_efficiency.toml"
    path.write_text(cfg[: cfg.index("[efficiency]")] + cfg[cfg.index("# Expected backgrounds"):])
    with pytest.raises(ConfigError, match=r"no_efficiency.toml: missing key 'efficiency'$"):
        load_experiment(path)
    path.write_text(cfg.replace("mumu = 0.14\n", "mumu = 1.0  # geometry only\n", 1))
    assert load_experiment(path).efficiency["mumu"] == 1.0


def test_calorimeter_hole_must_leave_some_face(tmp_path):
    path = _variant(tmp_path, "r_min = 0.05", "r_min = 10.0", base=TOY)
    with pytest.raises(ConfigError, match="'detector.r_min' = 10.0 covers the whole face"):
        load_experiment(path)


def test_missing_tables_and_keys(tmp_path):
    cfg = NA62.read_text()
    start = cfg.index("[detector.muv3]")
    end = cfg.index("# Event selection")
    path = tmp_path / "no_muv3.toml"
    path.write_text(cfg[:start] + cfg[end:])
    with pytest.raises(ConfigError, match="missing key 'detector.muv3'"):
        load_experiment(path)
    path.write_text(cfg.replace('kind = "magnetic-spectrometer"', 'kind = "bubble-chamber"'))
    with pytest.raises(ConfigError, match="'detector.kind' must be one of"):
        load_experiment(path)
    path.write_text("name = 'x'\n[beam\nenergy_gev = 400\n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_experiment(path)
    with pytest.raises(ConfigError, match="unknown experiment 'nucal7'"):
        load_experiment("nucal7")


def test_spectra_of_another_beam_energy_are_refused(tmp_path):
    path = _variant(tmp_path, "energy_gev = 400.0", "energy_gev = 70.0", base=TOY)
    exp = load_experiment(path)  # the spectra are checked when they are loaded
    with pytest.raises(ConfigError, match="70 GeV.*fipscan spectra generate"):
        exp.load_spectra()


def test_every_shipped_experiment_loads_and_round_trips_its_settings():
    for name in list_experiments():
        exp = load_experiment(name)
        s = exp.settings()
        assert s["name"] == name and s["kind"] == exp.kind
        if exp.kind == "kaon":  # the searches' signatures are its final states
            assert {v["signature"] for v in s["searches"].values()} == set(exp.final_states)
        else:
            assert set(s["selections"]) == set(exp.final_states)
        assert tomllib.loads(NA62.read_text())["name"] == "na62-bd"
