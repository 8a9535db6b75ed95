"""Bands of the signal model (fipscan.bands): envelope, variations, outputs and the CLI.

Cheap parts on toy tables (fipscan.testing.toy_tables, 20 masses x 30 couplings); the real part is one
scan of the BC1 dark photon at na62-bd on 8 masses between 0.39 and 0.78 GeV (the omega) x 30
couplings, whose nominal yield tables are the shipped ones of the README main job (sliced: each mass is
computed on its own, so a slice is the table of those masses) and whose form_factor=false tables are
built once (cached; the direct scan of that model reads them back).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from fipscan.bands import ModelBand, Variation, band_variations, envelope, model_band, parse_bands
from fipscan.errors import ConfigError, InputError

TOY_MASSES = np.geomspace(0.01, 1.0, 20)
TOY_LOG_G = np.log(np.geomspace(1e-8, 1e-3, 30))
TOY_POT, N_LIMIT = 1e18, 2.3


@pytest.fixture(scope="module")
def toy():
    from fipscan.contour.per_mass import per_mass_contour
    from fipscan.testing import toy_tables

    tables = toy_tables(TOY_MASSES)
    return tables, per_mass_contour(tables, TOY_POT, N_LIMIT, TOY_LOG_G)


def _toy_band(tables, nominal, variations):
    return model_band("production", None, None, tables, TOY_LOG_G, TOY_POT, N_LIMIT, channels=("ee",),
                      nominal=nominal, variations=variations)


def _inside(inner, c, outer):
    """inner <= c <= outer mass by mass (excluded sets nested, edges ordered), to rounding."""
    tol = 1 + 1e-12
    assert np.all(inner.excluded <= c.excluded) and np.all(c.excluded <= outer.excluded)
    ok = inner.excluded
    assert np.all(outer.lower[c.excluded] <= c.lower[c.excluded] * tol)
    assert np.all(outer.upper[c.excluded] * tol >= c.upper[c.excluded])
    assert np.all(c.lower[ok] <= inner.lower[ok] * tol) and np.all(c.upper[ok] * tol >= inner.upper[ok])


def test_the_band_contains_the_nominal_contour_and_every_variation(toy):
    tables, nominal = toy
    variations = {"x0.5": Variation("x0.5", factors={"ee": 0.5}, source="experiment"),
                  "x3": Variation("x3", factors={"ee": 3.0}, source="experiment")}
    band = _toy_band(tables, nominal, variations)
    assert isinstance(band, ModelBand) and band["outer"] is band.outer and set(band["variations"]) == set(variations)
    assert band.title == "production model (2 variations)"
    for c in (nominal, *band.variations.values()):
        _inside(band.inner, c, band.outer)
    # the band is not empty: more N excludes more (x3 widens, x0.5 narrows the region)
    assert band.outer.excluded.sum() > band.inner.excluded.sum()
    np.testing.assert_allclose(band.outer.lower, band.variations["x3"].lower, rtol=1e-12)
    np.testing.assert_allclose(band.inner.lower, band.variations["x0.5"].lower, rtol=1e-12)


def test_the_band_collapses_to_the_nominal_contour_when_every_variation_is_off(toy):
    tables, nominal = toy
    # no model variation (a model without production_variations) and no efficiency uncertainty
    plain = SimpleNamespace(name="plain")
    exp = SimpleNamespace(efficiency_uncertainty={"ee": 0.0})
    variations = band_variations("production", plain, exp, ("ee",))
    assert variations == {}
    band = _toy_band(tables, nominal, variations)
    for edge in (band.outer, band.inner):
        for key in ("lower", "upper", "lower_at_edge", "upper_at_edge", "converged"):
            np.testing.assert_array_equal(getattr(edge, key), getattr(nominal, key))
    # a variation that changes nothing (factor 1) leaves the band on the nominal contour too
    same = _toy_band(tables, nominal, {"x1": Variation("x1", factors={"ee": 1.0})})
    np.testing.assert_allclose(same.outer.lower, nominal.lower, rtol=1e-12)
    np.testing.assert_allclose(same.inner.upper, nominal.upper, rtol=1e-12)


def test_efficiency_uncertainty_moves_the_lower_edge_as_n_proportional_to_g4(toy):
    """Long-lived regime: N ~ g^2 (production) x g^2 (decay probability ~ L/lambda ~ g^2), so N x (1 +- u)
    moves the lower edge by (1 +- u)^(-1/4) -- with u = 0.10 of na62_bd.toml's [efficiency_uncertainty]."""
    from fipscan.experiments import load_experiment

    tables, nominal = toy
    exp = load_experiment("na62-bd")
    u = exp.efficiency_uncertainty["ee"]
    assert u == pytest.approx(0.10)
    variations = band_variations("production", SimpleNamespace(name="plain"), exp, ("ee",))
    assert set(variations) == {"efficiency low", "efficiency high"}
    band = _toy_band(tables, nominal, variations)
    light = TOY_MASSES < 0.05  # the toy's lower edge there: decay length >> the 80 m volume
    assert light.sum() >= 5 and nominal.excluded[light].all()
    for label, sign in (("efficiency low", -1), ("efficiency high", 1)):
        ratio = band.variations[label].lower[light] / nominal.lower[light]
        # the finite-lifetime correction to N ~ g^4 (the decay probability L/lambda (1 - O(L/lambda)))
        # is below 1e-3 of the edge here and shrinks towards the lightest mass, as the limit says
        np.testing.assert_allclose(ratio, (1 + sign * u) ** -0.25, rtol=1e-3)
        dev = np.abs(ratio / (1 + sign * u) ** -0.25 - 1)
        assert np.all(np.diff(dev) > 0) and dev[0] < 2e-4


def test_unequal_factors_reweight_each_final_state(toy):
    """Factors per final state re-weight the split tables: with ee 30% and mumu 70% of N, ee x 1.2 is
    N x 1.06 overall, the same contour as the POT x 1.06."""
    from fipscan.bands import variation_contour
    from fipscan.contour.per_mass import per_mass_contour

    tables, _ = toy
    W = tables.weights
    split = dataclasses.replace(tables, per_final_state={"ee": 0.3 * W, "mumu": 0.7 * W}, channels=("ee", "mumu"))
    v = Variation("ee up", factors={"ee": 1.2, "mumu": 1.0})
    got = variation_contour(v, None, None, split, TOY_LOG_G, TOY_POT, N_LIMIT, channels=("ee", "mumu"))
    want = per_mass_contour(tables, TOY_POT * 1.06, N_LIMIT, TOY_LOG_G)
    np.testing.assert_allclose(got.lower, want.lower, rtol=1e-6)
    np.testing.assert_allclose(got.upper, want.upper, rtol=1e-6)


def test_envelope_of_disjoint_intervals_has_an_empty_inner_edge(toy):
    _, nominal = toy
    ok = nominal.excluded
    above = dataclasses.replace(nominal, lower=np.where(ok, nominal.upper * 2, np.nan),
                                upper=np.where(ok, nominal.upper * 4, np.nan))
    outer, inner = envelope(nominal, [above])
    assert not inner.excluded.any()
    np.testing.assert_array_equal(outer.lower[ok], nominal.lower[ok])
    np.testing.assert_array_equal(outer.upper[ok], above.upper[ok])


def test_parse_bands():
    assert parse_bands(True) == {"expected", "pot"} and parse_bands(False) == set()
    assert parse_bands("production, expected,pot") == {"production", "expected", "pot"}
    assert parse_bands("none") == set() and parse_bands(["decay"]) == {"decay"}
    for bad in ("prodution", "pot,", ["expected", "x"]):
        with pytest.raises(InputError) as info:
            parse_bands(bad)
        assert "\n" not in str(info.value) and "known: expected, pot, production, decay" in str(info.value)


def test_the_models_production_variations():
    from fipscan.experiments import load_experiment
    from fipscan.models import get_model

    # (alp-gluon and alp-fermion return {} too; importing their hadronic module takes ~6 s, so not here)
    expected = {"dark-photon": {"form_factor=false": {"form_factor": False}}, "alp-photon": {}}
    for name, want in expected.items():
        assert get_model(name).production_variations() == want
    assert get_model("dark-photon", form_factor=False).production_variations() == {
        "form_factor=true": {"form_factor": True}}
    assert get_model("dark-photon", production_channels=("pi0->gamma",)).production_variations() == {}
    for name in ("dark-scalar", "dark-scalar-bc5"):
        model = get_model(name)
        (label, opts), = model.production_variations().items()
        assert label == "b_production=inclusive"
        varied = dataclasses.replace(model, **opts)
        assert set(varied.production_channels) >= {"bplus->xs", "b0->xs", "bs->xs", "kplus->piplus", "klong->pi0"}
        assert not any(c in varied.production_channels for c in ("bplus->kplus", "bs->phi"))
        back = varied.production_variations()["b_production=exclusive"]
        assert dataclasses.replace(varied, **back).production_channels == model.production_channels
        assert set(model.decay_variations()) == {"width_variation=low", "width_variation=high"}
        # the decay band takes the width variations only; the production band adds the efficiency ones
        na62 = load_experiment("na62-bd")
        assert set(band_variations("decay", model, na62, ("ee",))) == set(model.decay_variations())
        assert set(band_variations("production", model, na62, ("ee",))) == {
            "b_production=inclusive", "spectra=pcu-400gev", "efficiency low", "efficiency high"}
    # one exclusive B channel of B+: replaced by the inclusive channel of the same parent only
    one = get_model("dark-scalar", production_channels=("kplus->piplus", "bplus->kplus"))
    switched = one.production_variations()["b_production=inclusive"]["production_channels"]
    assert switched == ("kplus->piplus", "bplus->xs")


@pytest.mark.parametrize("text, needle", [
    ("ee = 1.0", "'efficiency_uncertainty.ee' must be a relative uncertainty in [0, 1)"),
    ("ee = -0.1", "'efficiency_uncertainty.ee'"),
    ('ee = "10%"', "'efficiency_uncertainty.ee' must be a number"),
    ("tautau = 0.1", "'efficiency_uncertainty.tautau' has no [selection]"),
])
def test_a_malformed_efficiency_uncertainty_is_one_line(tmp_path, text, needle):
    from importlib import resources

    from fipscan.experiments import load_experiment

    cfg = (resources.files("fipscan.experiments") / "na62_bd.toml").read_text()
    head, _, tail = cfg.partition("[efficiency_uncertainty]\n")
    path = tmp_path / "x.toml"
    path.write_text(head + "[efficiency_uncertainty]\n" + text + "\n" + tail.split("\n\n", 1)[1])
    with pytest.raises(ConfigError) as info:
        load_experiment(str(path))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_experiments_without_the_table_have_no_efficiency_variation():
    from fipscan.experiments import load_experiment

    assert load_experiment("charm").efficiency_uncertainty == {}
    assert band_variations("production", SimpleNamespace(name="plain"), load_experiment("charm"), ("ee",)) == {}


def test_an_unknown_band_name_is_refused_in_one_line(tmp_path):
    """The real command: exit code 2, one line naming the band, before JAX is imported; nothing written."""
    code = ("import sys; from fipscan.cli.main import main; rc = main(sys.argv[1:]); "
            "print('jax' in sys.modules); sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, "scan", "--bands", "production,expectd", "-o", "out"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "--bands" in res.stderr and "'expectd'" in res.stderr
    assert res.stdout.strip() == "False" and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the BC1 dark photon, real tables
#: masses of the shipped main-job tables from 0.39 GeV up to the omega (0.78 GeV)
DP_MASSES = (0.3944, 0.4751, 0.5462, 0.6280, 0.6893, 0.7393, 0.7696, 0.7827)
DP_COUPLINGS = np.geomspace(1e-8, 1e-3, 30)


@pytest.fixture(scope="module")
def dark_photon():
    from fipscan.grid import Grid
    from fipscan.models import get_model
    from fipscan.scanner import scan
    from fipscan.shipped import main_job_masses
    from fipscan.yields import precompute

    model = get_model("dark-photon")
    mj = main_job_masses(model)
    idx = np.asarray([int(np.argmin(abs(mj - m))) for m in DP_MASSES])
    assert np.allclose(mj[idx], DP_MASSES, rtol=1e-3)
    full = precompute(model, "na62-bd", mj)  # the shipped entry
    tables = dataclasses.replace(full, masses=full.masses[idx], weights=full.weights[idx],
                                 log_s1=full.log_s1[idx],
                                 per_channel={k: v[idx] for k, v in full.per_channel.items()},
                                 per_final_state={k: v[idx] for k, v in full.per_final_state.items()})
    grid = Grid(mj[idx], DP_COUPLINGS)
    result = scan(model, "na62-bd", grid, tables=tables, projections=(1e18,), bands=("production", "expected", "pot"))
    return result, grid, tables


def test_dark_photon_form_factor_variation_is_the_models_own_scan(dark_photon):
    """The band's form_factor=false contour is the contour of a direct scan of the dark photon with
    form_factor=false (its tables now from the cache), and the nominal one that of form_factor=true;
    the two differ near the omega: the time-like form factor's rho/omega peak carries the region there."""
    from fipscan.models import get_model
    from fipscan.scanner import scan

    result, grid, tables = dark_photon
    band = result.points[0].production_band
    assert set(band.variations) == {"form_factor=false", "spectra=pcu-400gev", "efficiency low", "efficiency high"}
    assert result.points[0].expected and len(result.points[0].pot_band) == 2
    with_ff = scan(get_model("dark-photon", form_factor=True), "na62-bd", grid, tables=tables, bands=False)
    without = scan(get_model("dark-photon", form_factor=False), "na62-bd", grid, bands=False)
    for direct, c in ((without.contour, band.variations["form_factor=false"]), (with_ff.contour, result.contour)):
        np.testing.assert_array_equal(direct.excluded, c.excluded)
        ok = c.excluded
        np.testing.assert_allclose(c.lower[ok], direct.lower[ok], rtol=1e-9)
        np.testing.assert_allclose(c.upper[ok], direct.upper[ok], rtol=1e-9)
    near_omega = np.asarray(DP_MASSES) > 0.75
    nominal, ff_off = result.contour, band.variations["form_factor=false"]
    assert nominal.excluded[near_omega].all()
    moved = ~ff_off.excluded[near_omega] | (np.abs(ff_off.lower[near_omega] / nominal.lower[near_omega] - 1) > 0.1)
    assert moved.all()
    _inside(band.inner, nominal, band.outer)
    for c in band.variations.values():
        _inside(band.inner, c, band.outer)
    assert (band.outer.excluded & ~band.inner.excluded).any()


def test_the_band_in_scan_h5_hepdata_and_the_json_summary(dark_photon, tmp_path):
    import h5py

    from fipscan.io.hepdata import read_table
    from fipscan.io.results import scan_summary

    result, _, _ = dark_photon
    band = result.points[0].production_band
    out = tmp_path / "out"
    written = result.save(out, formats=(), polygon=False, hepdata=True)
    with h5py.File(out / "scan.h5", "r") as f:
        g = f["pot_0/production_band"]
        assert json.loads(g.attrs["labels"]) == list(band.variations)
        assert g.attrs["title"] == "production model (4 variations)"
        described = {d["label"]: d for d in json.loads(g.attrs["variations"])}
        assert described["form_factor=false"]["options"] == {"form_factor": False}
        assert described["efficiency high"]["factors"] == {"ee": 1.1, "mumu": 1.1}
        for edge in ("outer", "inner"):
            np.testing.assert_array_equal(g[f"{edge}/lower"][()], getattr(band, edge).lower)
        v = g["variations/form_factor=false"]
        assert v.attrs["label"] == "form_factor=false" and json.loads(v.attrs["options"]) == {"form_factor": False}
        np.testing.assert_array_equal(v["upper"][()], band.variations["form_factor=false"].upper)
        assert "production_band" not in f["pot_1"]  # the projection has no model band
    for edge in ("outer", "inner"):
        name = f"hepdata/production_band_{edge}.yaml"
        assert name in written
        table = read_table(out / name)
        c = getattr(band, edge)
        np.testing.assert_allclose(table["mass"], c.masses[c.excluded], rtol=1e-7)
        np.testing.assert_allclose(table["epsilon lower edge"], c.lower[c.excluded], rtol=1e-7)
        import yaml

        doc = yaml.safe_load((out / name).read_text())
        quals = {q["name"]: q["value"] for q in doc["dependent_variables"][0]["qualifiers"]}
        assert quals["band edge"] == edge
        assert "form_factor=false: form_factor=false" in quals["production variations"]
        assert "efficiency low: N(ee) x 0.9, N(mumu) x 0.9" in quals["production variations"]
    doc = scan_summary(result, written, split=False)
    summary = doc["production_band"]["variations"]
    for label, c in band.variations.items():
        assert summary[label]["n_masses_excluded"] == int(c.excluded.sum())
        rows = c.rows()
        assert summary[label]["min_coupling"] == (min(r[1] for r in rows) if rows else None)
    assert doc["production_band"]["outer"]["n_masses_excluded"] == int(band.outer.excluded.sum())
    json.dumps(doc)  # plain JSON


def test_the_plot_draws_the_band(dark_photon):
    from fipscan.plotting import result_figure

    result, _, _ = dark_photon
    fig = result_figure(result)
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert "production model (4 variations)" in labels


def test_spectra_variation_is_the_scan_with_the_proton_copper_spectra():
    """The production band's "spectra=pcu-400gev" member at NA62-BD is the contour of a scan with the shipped
    p+Cu (Angantyr) spectra instead of the pp ones: the same numbers as that direct scan.  Its pi0 -> gamma A'
    lower edge sits *higher*, although p+Cu makes 1.64x the pi0 per POT: NA62 sees the forward, fast pi0
    (p > 30 GeV, theta < 5 mrad), of which a p+Cu collision makes fewer (nuclear stopping: 0.77x in the
    shipped files), and N ~ eps^4 there, so the edge moves by (0.77)^(-1/4) = 1.07; measured 1.08-1.09
    (2026-12-01), asserted within 5% of the ratio computed here from the two files.  Also the alternatives
    per beam (pp against the experiment's own target material), and none for a model whose production
    takes no mesons (bremsstrahlung alone)."""
    from fipscan.experiments import load_experiment
    from fipscan.grid import Grid
    from fipscan.models import get_model
    from fipscan.scanner import scan
    from fipscan.spectra.registry import alternative_spectra

    assert alternative_spectra("pp-400gev", 400.0, "Cu") == ("pcu-400gev",)
    assert alternative_spectra("pmo-400gev", 400.0, "Mo") == ("pp-400gev",)
    assert alternative_spectra("pp-70gev", 70.0, "Fe") == ()
    na62 = load_experiment("na62-bd")
    brems = get_model("dark-photon", production_channels=("brems",))
    assert "spectra=pcu-400gev" not in band_variations("production", brems, na62, ("ee",))

    model = get_model("dark-photon", production_channels=("pi0->gamma",))
    grid = Grid(np.array([0.02, 0.05, 0.1]), np.geomspace(1e-8, 1e-3, 60))
    result = scan(model, "na62-bd", grid, bands=("production",), channels=("ee",))
    varied = result.points[0].production_band.variations["spectra=pcu-400gev"]
    direct = scan(model, "na62-bd", grid, bands=False, channels=("ee",), spectra=na62.load_spectra("pcu-400gev"))
    np.testing.assert_array_equal(direct.contour.excluded, varied.excluded)
    np.testing.assert_allclose(varied.lower, direct.contour.lower, rtol=1e-9)
    ratio = varied.lower / result.contour.lower
    pp, pcu = na62.load_spectra(), na62.load_spectra("pcu-400gev")
    centre = lambda e: 10.0 ** (0.5 * (np.asarray(e)[1:] + np.asarray(e)[:-1]))  # noqa: E731
    fast = (centre(pp.log10p_edges)[:, None] > 30.0) & (centre(pp.log10theta_edges)[None, :] < 5e-3)
    expected = (np.asarray(pcu.hist["pi0"])[fast].sum() / np.asarray(pp.hist["pi0"])[fast].sum()) ** -0.25
    assert 1.03 < expected < 1.12
    np.testing.assert_allclose(ratio, expected, rtol=0.05)
