"""Scans with backgrounds, observed events, expected bands and POT projections (fipscan.stats in scans)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fipscan
from fipscan.grid import Grid
from fipscan.stats import expected_limits, upper_limit


@pytest.fixture(scope="module")
def setup():
    model = fipscan.get_model("dark-photon")
    exp = fipscan.load_experiment("na62-bd")
    grid = Grid.log(0.25, 0.5, 8, 1e-8, 1e-4, 100)
    tables = fipscan.precompute(model, exp, grid.masses, channels=("mumu",))
    return model, exp, grid, tables


def scan(setup, **kw):
    model, exp, grid, tables = setup
    return fipscan.scan(model, exp, grid, channels=("mumu",), tables=tables, **kw)


def width(c):
    """log-coupling width of the excluded interval per mass (0 where nothing is excluded)."""
    return np.where(c.excluded, np.log(np.where(c.excluded, c.upper / c.lower, 1.0)), 0.0)


def test_default_limit_uses_the_experiment_background_and_nothing_observed(setup):
    r = scan(setup)
    pt = r.points[0]
    assert pt.n_limit == pytest.approx(-math.log(0.1), rel=1e-12)
    assert pt.background == pytest.approx(0.016) and pt.background_uncertainty == pytest.approx(0.002)


def test_observed_events_weaken_the_limit(setup):
    none = scan(setup, bands=False).points[0]
    two = scan(setup, observed=2, background=0.5, background_uncertainty=0.1, bands=False).points[0]
    assert two.n_limit == pytest.approx(upper_limit(2, 0.5, 0.1), rel=1e-12)
    assert two.n_limit > 4.0
    ok = none.contour.excluded & two.contour.excluded
    assert (width(two.contour)[ok] < width(none.contour)[ok]).all()
    fc = scan(setup, observed=2, background=0.5, method="fc", bands=False).points[0]
    assert fc.n_limit == pytest.approx(upper_limit(2, 0.5, method="fc"), rel=1e-12)


def test_expected_bands_are_nested_and_use_the_quantiles(setup):
    r = scan(setup, background=1.5, background_uncertainty=0.3)
    pt = r.points[0]
    q = expected_limits(1.5, 0.3)
    assert set(pt.expected) == {"-2", "-1", "0", "+1", "+2"}
    for k, (n_q, c) in pt.expected.items():
        assert n_q == pytest.approx(q[k], rel=1e-12)
    w = {k: width(c) for k, (_, c) in pt.expected.items()}
    # a larger limit excludes less: -2 sigma (smallest limit) >= ... >= +2 sigma, strictly somewhere
    order = ["-2", "-1", "0", "+1", "+2"]
    for a, b in zip(order, order[1:]):
        assert (w[a] >= w[b] - 1e-9).all()
    assert (w["-2"] > w["+2"] + 1e-3).any()


def test_pot_band_brackets_the_nominal_contour(setup):
    pt = scan(setup).points[0]
    low, high = pt.pot_band
    ok = low.excluded & pt.contour.excluded & high.excluded
    assert ok.sum() >= 4
    assert (width(low)[ok] < width(pt.contour)[ok]).all() and (width(high)[ok] > width(pt.contour)[ok]).all()
    # on the lower branch N ~ eps^k POT with k <= 4 (k = 4 deep in the long-lived regime, smaller
    # towards the peak), so 20% fewer POT move the lower edge up by a factor (1/0.8)^(1/k) >= (1/0.8)^(1/4)
    assert (low.lower[ok] / pt.contour.lower[ok] >= 0.8 ** -0.25 - 1e-9).all()


def test_background_scales_with_pot_or_stays_fixed(setup):
    scaled = scan(setup, projections=(1e18,), bands=False)
    fixed = scan(setup, projections=(1e18,), background_mode="fixed", bands=False)
    assert scaled.points[1].background == pytest.approx(0.016 * 1e18 / 1.4e17, rel=1e-12)
    assert fixed.points[1].background == pytest.approx(0.016, rel=1e-12)
    with pytest.raises(ValueError, match="background_mode"):
        scan(setup, background_mode="sometimes")


# -------------------------------------------------------- Feldman-Cousins (issue 18, kind 5)
def test_fc_uses_the_central_value_of_the_experiments_background(setup, tmp_path):
    """Feldman-Cousins takes a known background: with the experiment's backgrounds (which carry
    uncertainties) it uses their central value, says so once and records it in scan.h5."""
    import h5py
    import json

    r = scan(setup, method="fc", projections=(1e18,))
    (note,) = r.inputs["notes"]
    assert "central background value 0.016" in note and "+-0.002" in note
    assert r.inputs["background_uncertainty_in_limit"] is False
    p0, p1 = r.points
    assert p0.background_uncertainty == pytest.approx(0.002)  # stated, not used in the belt
    assert p0.n_limit == pytest.approx(upper_limit(0, 0.016, method="fc"), rel=1e-9)
    assert p1.n_limit == pytest.approx(upper_limit(0, 0.016 * 1e18 / 1.4e17, method="fc"), rel=1e-9)
    assert p0.expected["0"][0] == pytest.approx(expected_limits(0.016, method="fc")["0"], rel=1e-9)
    r.save(tmp_path / "out", formats=(), polygon=False)
    with h5py.File(tmp_path / "out" / "scan.h5") as f:
        inputs = json.loads(f.attrs["inputs"])
    assert inputs["notes"] == [note] and inputs["method"] == "fc"
    # more inputs of the kind: observed events over the central value; a known background (no note);
    # an uncertainty given with fc is refused; cls keeps integrating over the uncertainty
    r2 = scan(setup, method="fc", observed=2, bands=False)
    assert r2.points[0].n_limit == pytest.approx(upper_limit(2, 0.016, method="fc"), rel=1e-9)
    r3 = scan(setup, method="fc", background=0.5, bands=False)
    assert r3.inputs["notes"] == [] and r3.inputs["background_uncertainty_in_limit"]
    with pytest.raises(fipscan.errors.InputError, match="method='fc' needs a known background"):
        scan(setup, method="fc", background=0.5, background_uncertainty=0.1, bands=False)
    r4 = scan(setup, observed=2, bands=False)
    assert r4.inputs["notes"] == [] and r4.points[0].n_limit == pytest.approx(
        upper_limit(2, 0.016, 0.002), rel=1e-9)


def test_cli_scan_method_fc_with_the_shipped_experiment(tmp_path, capsys, monkeypatch):
    """The issue's command, which exited 2 (its tables replaced by toy tables of the same masses and
    the plots and traced polygon left out, to spare their compilation: the CLI path is what is
    tested): exit 0, the note once on stderr, the files written."""
    import fipscan.scanner as scanner
    from fipscan.cli.main import main
    from fipscan.io.results import save_scan
    from fipscan.testing import toy_tables

    monkeypatch.setattr(scanner, "precompute", lambda model, exp, masses, **kw: toy_tables(masses, n_p=8, n_z=6))
    monkeypatch.setattr(scanner.ScanResult, "save",
                        lambda self, outdir, **kw: save_scan(self, outdir, formats=(), polygon=False))
    out = tmp_path / "out"
    code = main(["scan", "--masses", "0.1:0.5:8", "--couplings", "1e-7:1e-4:10", "--method", "fc", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    notes = [ln for ln in err.splitlines() if "note:" in ln]
    assert len(notes) == 1 and "central background value 0.0254" in notes[0]
    assert (out / "contour.csv").is_file() and (out / "scan.h5").is_file()
