"""Kaon mode (fipscan.experiments.kaon, fipscan.searches.kaon, scan at na62-kaon): the experiment file,
the K+ -> pi+ X tables of each model, the limits of its searches, the lifetime limits of the acceptance,
the calibrated samples, the scan, its files and the CLI."""

import json
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.errors import ConfigError, InputError
from fipscan.experiments import load_experiment
from fipscan.searches import kaon as sk
from fipscan.testing import toml_variant

TOML = Path(__file__).resolve().parents[1] / "fipscan" / "experiments" / "na62_kaon.toml"
#: Monte Carlo decays per mass in these tests (the shipped experiment uses 8192)
N_MC = 2048


def _variant(tmp_path, old, new):
    return toml_variant(TOML, tmp_path, old, new, "kaon.toml")


@pytest.fixture(scope="module")
def na62k():
    return load_experiment("na62-kaon")


# ---- the experiment file ---------------------------------------------------------------------------
def test_na62_kaon_typed_parts(na62k):
    e = na62k
    assert e.kind == "kaon" and e.beam.momentum_gev == 75.0 and e.beam.momentum_rel_rms == 0.01
    assert set(e.searches) == {"pigammagamma", "pinunu"}
    assert e.final_states == ("gammagamma", "invisible")
    s = e.search("pinunu")
    assert s.mm2_windows_gev2 == ((0.0, 0.01), (0.026, 0.068)) and s.pi_momentum_gev == (15.0, 35.0)
    assert s.decay_z == (105.0, 165.0) and s.observed == 51
    assert e.samples["lnv-2017-2018"].n_kaons == 1.015e12  # the worked LNV case of the reference
    assert e.binning.distance_edges[-1] == 1e30 and e.binning.distance_edges[0] == 0.0
    one = e.for_search("pinunu")
    assert list(one.searches) == ["pinunu"] and one.pot == e.n_kaons("pinunu")
    assert "missing mass" in one.title
    # a projection scales every sample alike
    p = e.with_pot(2 * e.pot)
    assert p.n_kaons("pinunu") == pytest.approx(2 * e.n_kaons("pinunu"), rel=1e-12)


@pytest.mark.parametrize("old,new,match", [
    ('signature = "invisible"', 'signature = "neutrinos"', "signature.*must be one of"),
    ('sample = "pinunu-2016-2022"', 'sample = "run9"', "sample.*must be one of"),
    ("decay_z = [105.0, 165.0]      # JHEP", "decay_z = [105.0, 190.0]      # JHEP", "beyond the detector"),
    ("escape_z = 241.495", "escape_z = 150.0", "escape_z.*downstream"),
    ("mm2_windows_gev2 = [[0.0, 0.01], [0.026, 0.068]]", "mm2_windows_gev2 = [[0.01, 0.0]]", "mm2_windows_gev2"),
    ('statistics = "peak"\ndata = "example"', 'statistics = "peak"\ndata = "no/such/file.csv"', "names no file"),
    ("n_mc = 8192", "n_mc = 8192\ncolour = 3", "unknown key 'binning.colour'"),
    ("start_z = 102.4", "start_z = 110.0", "before the kaons"),
    ("observed = 51", "observed = 51.5", "must be an integer"),
])
def test_bad_kaon_files_fail_with_one_line_naming_the_key(tmp_path, old, new, match):
    path = _variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    if match is not None:
        import re

        assert re.search(match, msg), msg


def test_a_lepton_search_parses_and_its_decay_region_ends_before_straw1(tmp_path):
    path = _variant(tmp_path, 'signature = "invisible"', 'signature = "mumu"\nlepton_min_energy_gev = 2.0')
    text = path.read_text().replace("escape_z = 241.495", "").replace(
        "mm2_windows_gev2 = [[0.0, 0.01], [0.026, 0.068]]", "").replace("decay_z = [105.0, 165.0]      # JHEP",
                                                                        "decay_z = [105.0, 200.0]      # JHEP")
    path.write_text(text)
    with pytest.raises(ConfigError, match="beyond the detector"):
        load_experiment(path)
    path.write_text(text.replace("decay_z = [105.0, 200.0]      # JHEP", "decay_z = [105.0, 165.0]      # JHEP"))
    s = load_experiment(path).search("pinunu")
    assert s.signature == "mumu" and s.lepton_min_energy_gev == 2.0 and s.escape_z == math.inf


# ---- models ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dark-photon", "alp-photon"])
def test_models_without_k_to_pi_x_are_refused_by_name(name):
    from fipscan.models import get_model

    with pytest.raises(InputError, match="no K\\+ -> pi\\+ X production") as err:
        sk.kaon_channel(get_model(name))
    assert ("W bosons" if name == "alp-photon" else "gamma*") in str(err.value)


def test_every_model_with_k_to_pi_x_has_it_in_kaon_mode_even_when_optional_in_a_dump(na62k):
    """BC11's K+ -> pi+ a is an optional beam-dump channel (negligible there) but kaon mode uses it; the
    generic X with --production kplus->piplus carries its parent's BR at the reference coupling."""
    from fipscan.models import get_model
    from fipscan.models._alp_flavour import br_k_to_pi_alp_bc11

    ch = sk.kaon_channel(get_model("alp-gluon"))
    assert ch.name == "kplus->piplus"
    m, g = 0.2, 1e-4
    # weak-chiral + two-loop rate (was the two-loop s -> d term alone; tests/test_alp_kaon_chiral.py)
    assert float(ch.rate(m, g)) == pytest.approx(float(br_k_to_pi_alp_bc11(m, g)), rel=1e-12)
    gen = get_model("generic", production_channel="kplus->piplus", final_state="gammagamma")
    t = sk.kaon_tables(gen, na62k, "pigammagamma", np.array([0.25]), n_mc=N_MC)
    assert float(t.weights.sum()) > 0 and t.channels == ("gammagamma",)


def test_bc4_tables_reproduce_the_closed_forms_in_both_lifetime_limits(na62k):
    """N from the tables = N_K BR(K -> pi S)(m, theta^2) A(m, c tau), with A taken in its two limits: long-
    lived (the escaping acceptance of pinunu) and short-lived (the prompt two-photon acceptance)."""
    from fipscan.models import get_model
    from fipscan.models.dark_scalar import br_k_to_pi_scalar

    model = get_model("dark-scalar")
    m = np.array([0.05, 0.2, 0.25])
    t = sk.kaon_tables(model, na62k, "pinunu", m, n_mc=N_MC)
    acc = sk.kaon_acceptance(na62k, "pinunu", m, n_mc=N_MC)
    n_k = na62k.n_kaons("pinunu")
    g = 1e-12  # sin^2 theta: c tau of kilometres to light years: every S escapes
    ev = np.asarray(t.events_grid(jnp.log(jnp.asarray([g])), n_k))[:, 0]
    expect = n_k * np.asarray(br_k_to_pi_scalar(m, g)) * acc.acceptance([np.inf])[:, 0]
    assert np.all(expect > 0)
    np.testing.assert_allclose(ev, expect, rtol=2e-4)
    # BR(K+ -> pi+ S) -> 1.4e-3 theta^2 as m -> 0 (reference; Winkler arXiv:1809.01876): at m = 0.05, 20%
    assert np.asarray(br_k_to_pi_scalar(0.05, 1.0)) == pytest.approx(1.4e-3, rel=0.2)
    # coupling scaling in the long-lived limit: N ~ g^1 (BR ~ sin^2 theta)
    ev2 = np.asarray(t.events_grid(jnp.log(jnp.asarray([10 * g])), n_k))[:, 0]
    np.testing.assert_allclose(ev2 / ev, 10.0, rtol=1e-3)


def test_prompt_limit_of_the_two_photon_search():
    """tau -> 0: every X decays at the K+ vertex, so A(c tau -> 0) is the first cell's acceptance; tau -> inf:
    none decays in the detector, A -> 0 (issue: acceptance limits)."""
    e = load_experiment("na62-kaon")
    m = np.array([0.22, 0.3])
    acc = sk.kaon_acceptance(e, "pigammagamma", m, n_mc=N_MC)
    a = acc.acceptance([1e-9, 1e-3, 1e12, np.inf])
    np.testing.assert_allclose(a[:, 0], acc.weights[:, :, 0].sum(axis=1), rtol=1e-9)
    assert np.all(a[:, 0] > 0.2) and np.all(a[:, -1] == 0.0) and np.all(a[:, 2] < 1e-9)
    # invisible: nothing escapes when tau -> 0
    inv = sk.kaon_acceptance(e, "pinunu", np.array([0.2]), n_mc=N_MC).acceptance([1e-9, np.inf])
    assert inv[0, 0] < 1e-12 and inv[0, 1] > 0.2


def test_acceptance_is_monotone_in_the_lifetime_for_the_escaping_search(na62k):
    acc = sk.kaon_acceptance(na62k, "pinunu", np.array([0.2]), n_mc=N_MC)
    a = acc.acceptance(np.logspace(-3, 6, 40))[0]
    assert np.all(np.diff(a) >= -1e-12) and a[0] < 1e-6 and a[-1] > 0.2


def test_no_nan_anywhere_on_a_grid_including_closed_and_below_threshold_masses(na62k):
    from fipscan.models import get_model

    m = np.array([1e-3, 0.05, 0.2, 0.3, 0.354, 0.36, 0.4])
    for search in ("pigammagamma", "pinunu"):
        t = sk.kaon_tables(get_model("alp-fermion"), na62k, search, m, n_mc=512)
        ev = np.asarray(t.events_grid(jnp.log(jnp.logspace(-9, 0, 30)), 1e12))
        assert np.all(np.isfinite(ev)) and np.all(ev >= 0)
        assert np.all(ev[m > 0.3542] == 0)  # K+ -> pi+ X closed above m_K - m_pi


# ---- limits ---------------------------------------------------------------------------------------
def test_counting_limit_and_br_limits_scale_as_one_over_n_k(na62k):
    from fipscan.stats import upper_limit

    m = np.array([0.2, 0.25])
    n_up, used = sk.search_limits(na62k, "pinunu", m)
    assert np.all(n_up == pytest.approx(upper_limit(51, 39.8, 3.2, cl=0.9)))
    assert used["statistics"] == "counting"
    br = sk.br_upper_limits(na62k, "pinunu", m, [1e3, np.inf], n_mc=N_MC)
    doubled = na62k.with_pot(2 * na62k.pot)
    counts = dict(observed=51, background=39.8, background_uncertainty=3.2)
    br2 = sk.br_upper_limits(doubled, "pinunu", m, [1e3, np.inf], n_mc=N_MC, **counts)
    # twice the K+ decays at the same counts: the BR limit halves exactly
    np.testing.assert_allclose(br2, br / 2, rtol=1e-12)
    assert np.all(np.isfinite(br)) and np.all(br[:, 1] <= br[:, 0])
    # without given counts the search's background follows the exposure
    _, used2 = sk.search_limits(doubled, "pinunu", m)
    assert used2["background"] == pytest.approx(2 * 39.8) and used2["background_uncertainty"] == pytest.approx(6.4)


def test_peak_limits_interpolate_the_windows_and_are_infinite_outside(na62k):
    from fipscan.stats import peak_search as ps

    data = ps.example_peak_search()
    n_win = ps.local_upper_limits(data, cl=0.9)
    m = np.array([0.1, data.masses[10], 0.5 * (data.masses[20] + data.masses[21]), 0.351])
    n_up, used = sk.search_limits(na62k, "pigammagamma", m)
    assert math.isinf(n_up[0]) and math.isinf(n_up[3])
    assert n_up[1] == pytest.approx(n_win[10], rel=1e-12)
    assert n_up[2] == pytest.approx(math.sqrt(n_win[20] * n_win[21]), rel=1e-12)  # log interpolation
    assert used["look_elsewhere"]["n_trials"] > 1
    with pytest.raises(InputError, match="peak search"):
        sk.search_limits(na62k, "pigammagamma", m, pot=2 * na62k.n_kaons("pigammagamma"))


# ---- calibrated samples ---------------------------------------------------------------------------
def test_the_shipped_samples_are_the_documented_calibrations(na62k):
    """na62_kaon.toml fixes N_K of the pi+ gamma gamma and pi+ nu nu samples from published candidate
    counts over fipscan's acceptance (comments there); recompute them with the shipped n_mc and seed (the
    same Monte Carlo events: the file states four digits, 1e-3)."""
    pigg = sk.calibrated_n_kaons(na62k, "pigammagamma", 3984 - 291, 9.61e-7, np.linspace(0.22, 0.35, 14),
                                 prompt=True)
    assert na62k.samples["pigammagamma-2017-2018"].n_kaons == pytest.approx(pigg, rel=1e-3)
    m2 = np.concatenate([np.linspace(0.0005, 0.0095, 6), np.linspace(0.027, 0.067, 24)])
    w = np.concatenate([np.full(6, 0.01 / 6), np.full(24, 0.042 / 24)])
    pnn = sk.calibrated_n_kaons(na62k, "pinunu", 51 - 18, 13.0e-11, np.sqrt(m2), weights=w, prompt=False)
    assert na62k.samples["pinunu-2016-2022"].n_kaons == pytest.approx(pnn, rel=1e-3)


# ---- the scan, its files and the CLI --------------------------------------------------------------
@pytest.fixture(scope="module")
def bc4_kaon_scan():
    from fipscan.grid import Grid
    from fipscan.scanner import scan

    e = load_experiment("na62-kaon")
    grid = Grid.log(0.01, 0.35, 24, 1e-12, 1e-2, 60)
    return scan("dark-scalar", e, grid, bands=("expected", "pot"))


def test_bc4_kaon_scan_excludes_long_lived_scalars_where_the_closed_form_says(bc4_kaon_scan):
    """In the long-lived limit N = N_K BR(K -> pi S) A_inf, so the lower edge of the pinunu region at a mass
    is sin^2 theta = N_up / (N_K BR(K -> pi S)(m, 1) A_inf(m)) (BR linear in sin^2 theta)."""
    from fipscan.models.dark_scalar import br_k_to_pi_scalar

    r = bc4_kaon_scan.result("pinunu")
    c = r.contour
    assert c.excluded.any()
    e = r.experiment
    acc = sk.kaon_acceptance(e, "pinunu", r.grid.masses)
    a_inf = acc.acceptance([np.inf])[:, 0]
    i = int(np.nanargmin(np.where(c.excluded, c.lower, np.nan)))
    expect = r.points[0].n_limit / (e.n_kaons("pinunu") * float(br_k_to_pi_scalar(r.grid.masses[i], 1.0))
                                     * a_inf[i])
    assert c.lower[i] == pytest.approx(expect, rel=0.02)  # the finite lifetime at the edge costs < 2%
    # the peak search: N(lower edge) = N_up(m) of that mass's window, from the true events
    p = bc4_kaon_scan.result("pigammagamma")
    n_up = np.asarray(p.inputs["n_limit_per_mass"])
    ok = p.contour.excluded
    if ok.any():
        j = int(np.flatnonzero(ok)[0])
        from fipscan.searches.kaon import kaon_tables

        t = kaon_tables("dark-scalar", p.experiment, "pigammagamma", p.grid.masses)
        n = float(np.asarray(t.events_grid(jnp.log(jnp.asarray([p.contour.lower[j]])), p.points[0].pot))[j, 0])
        assert n == pytest.approx(n_up[j], rel=1e-4)


def test_kaon_scan_saves_one_set_per_search_and_a_comparison(bc4_kaon_scan, tmp_path):
    import h5py

    written = bc4_kaon_scan.save(tmp_path / "out", formats=("png",), hepdata=False)
    for name in ("pigammagamma", "pinunu"):
        assert (tmp_path / "out" / name / "contour.csv").is_file()
        with h5py.File(tmp_path / "out" / name / "scan.h5") as f:
            assert f.attrs["experiment"] == "na62-kaon"
            ev = np.asarray(f["pot_0/events"])
            assert np.all(np.isfinite(ev))
            split = np.asarray(f["events_by_final_state/" + ("gammagamma" if name == "pigammagamma" else "invisible")])
            np.testing.assert_allclose(split, ev, rtol=1e-9, atol=1e-300)  # the true N, not the normalised one
    assert "comparison.png" in written and (tmp_path / "out" / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def _cli(*args, cwd):
    """The ``fipscan`` entry point in this process: (returncode, stdout, stderr) as subprocess.run's."""
    from fipscan.testing import run_cli

    return run_cli(*args, cwd=cwd)


def test_cli_scan_at_na62_kaon_and_combined_with_the_beam_dump(tmp_path):
    r = _cli("scan", "--model", "dark-scalar", "--experiment", "na62-kaon", "--masses", "0.05:0.34:8",
             "--couplings", "1e-12:1e-3:30", "-o", "k", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [s["search"] for s in doc["searches"]] == ["pigammagamma", "pinunu"]
    assert (tmp_path / "k" / "pinunu" / "scan.h5").is_file() and (tmp_path / "k" / "comparison.svg").is_file()
    r = _cli("scan", "--model", "dark-scalar", "--experiment", "na62-bd,na62-kaon", "--masses", "0.05:0.34:8",
             "--couplings", "1e-12:1e-3:30", "-o", "both", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "both" / "na62-bd" / "contour.csv").is_file()
    assert (tmp_path / "both" / "na62-kaon" / "pinunu" / "contour.csv").is_file()
    assert (tmp_path / "both" / "comparison.png").is_file()


def test_cli_refuses_a_model_without_k_to_pi_x_in_one_line(tmp_path):
    r = _cli("scan", "--model", "dark-photon", "--experiment", "na62-kaon", "--masses", "0.05:0.3:4", "-o", "x",
             cwd=tmp_path)
    assert r.returncode == 2 and "no K+ -> pi+ X production" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def test_cli_kaon_limits_table_json_and_errors(tmp_path, na62k):
    r = _cli("kaon-limits", "--search", "pinunu", "--masses", "0.15:0.25:4", "--ctau", "0.001,10,inf", "--json",
             "-o", "lim.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ctau_m"] == [0.001, 10.0, "inf"] and len(doc["masses_gev"]) == 4
    expect = sk.br_upper_limits(na62k, "pinunu", np.asarray(doc["masses_gev"]), [0.001, 10.0, np.inf])
    got = np.array([[np.nan if v is None else v for v in row] for row in doc["br_upper_limit"]])
    ok = np.isfinite(expect) & (expect <= 1)
    np.testing.assert_allclose(got[ok], expect[ok], rtol=1e-12)
    assert np.all(np.isnan(got[~ok])) and ok[:, 2].sum() >= 2  # escaping X: limits where m^2 is in a window
    lines = (tmp_path / "lim.csv").read_text().splitlines()
    assert lines[2] == "m_gev,br_ul_ctau_0.001m,br_ul_ctau_10m,br_ul_ctau_infm" and len(lines) == 7
    for args, needle in ((("--search", "nope"), "unknown search 'nope'"),
                         (("--search", "pinunu", "--ctau", "0,1"), "--ctau"),
                         (("--search", "pinunu", "--experiment", "na62-bd"), "not a kaon-mode experiment")):
        r = _cli("kaon-limits", *args, cwd=tmp_path)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("args", [
    ("info", "--experiment", "na62-kaon", "--model", "dark-scalar", "--mass", "0.2", "--coupling", "1e-6"),
    ("combinations", "--experiment", "na62-kaon", "-o", "c"),
    ("contour", "--experiment", "na62-kaon", "--model", "dark-scalar"),
    ("scan", "--experiment", "na62-kaon", "--model", "dark-scalar", "--format", "hepdata", "-o", "h"),
    ("scan", "--experiment", "na62-kaon", "--model", "dark-scalar", "--channels", "ee", "-o", "h"),
])
def test_beam_dump_only_commands_refuse_a_kaon_experiment_in_one_line(tmp_path, args):
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "kaon" in r.stderr, r.stderr
    assert not any(tmp_path.iterdir())


def test_an_exposure_scales_the_counting_background_and_leaves_the_peak_search_out():
    """--pot / with_pot: the counting search's background follows N_K; a peak search's observed counts
    belong to its sample, so it is not computed at another exposure (a note says so)."""
    from fipscan.grid import Grid
    from fipscan.scanner import scan

    e = load_experiment("na62-kaon")
    grid = Grid.log(0.15, 0.3, 6, 1e-11, 1e-5, 30)
    r = scan("dark-scalar", e, grid, pot=10 * e.pot, bands=False)
    assert r.searches == ("pinunu",)
    pnn = r.result("pinunu")
    assert pnn.points[0].background == pytest.approx(398.0, rel=1e-9)
    assert any("peak search" in n for n in pnn.inputs["notes"])
    from fipscan.stats import upper_limit

    assert pnn.points[0].n_limit == pytest.approx(upper_limit(51, 398.0, 32.0, cl=0.9), rel=1e-9)


def test_regions_with_a_gap_are_drawn_as_separate_polygons():
    """The excluded masses 1-2 and 5-6 of a per-mass contour are two closed polygons, not one bridging the
    gap (the pi0 gap of the missing-mass search)."""
    from fipscan.plotting import _parts, _region

    m = np.arange(1.0, 7.0)
    lo = np.array([1, 1, np.nan, np.nan, 2, 2], float)
    hi = np.array([5, 5, np.nan, np.nan, 6, 6], float)
    parts = _parts(*_region(m, lo, hi))
    assert len(parts) == 2
    (x1, y1), (x2, y2) = parts
    assert set(x1) == {1.0, 2.0} and set(x2) == {5.0, 6.0}
    assert x1[0] == x1[-1] and y1[0] == y1[-1]  # closed


def test_peak_data_paths_are_relative_to_the_toml_and_bad_files_fail_at_load(tmp_path):
    from fipscan.stats import peak_search as ps

    (tmp_path / "sub").mkdir()
    ps.write_peak_search(ps.example_peak_search(), tmp_path / "sub" / "counts.csv")
    path = _variant(tmp_path, 'statistics = "peak"\ndata = "example"', 'statistics = "peak"\ndata = "sub/counts.csv"')
    e = load_experiment(path)
    assert Path(e.search("pigammagamma").data) == (tmp_path / "sub" / "counts.csv").resolve()
    bad = (tmp_path / "sub" / "counts.csv").read_text().replace("0.2075,", "0.2075x,", 1)
    (tmp_path / "sub" / "counts.csv").write_text(bad)
    with pytest.raises(ConfigError, match="not a valid peak-search file") as err:
        load_experiment(path)
    assert "\n" not in str(err.value)
