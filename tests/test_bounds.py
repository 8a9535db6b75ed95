"""Existing exclusion bounds (fipscan.bounds): the shipped set, refusal of bad files (API and CLI), the
listing, the drawing under the scan's regions, and spot checks against the numbers of the sources."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fipscan.bounds import (BOUNDS_DIR, HEADER_KEYS, bounds_version, load_bounds, read_bounds, resolve_bounds,
                            shipped_bounds)
from fipscan.errors import InputError

SHIPPED = sorted(BOUNDS_DIR.glob("*/*.csv"))


def run(*args):
    """The ``fipscan`` entry point in this process: (returncode, stdout, stderr)."""
    from fipscan.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def one_line_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


# ------------------------------------------------------------------------------------- the shipped set
def test_the_set_has_a_version_and_the_required_benchmarks():
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d+", bounds_version())
    benchmarks = {p.parent.name for p in SHIPPED}
    assert {"BC1", "BC9"} <= benchmarks
    assert len(SHIPPED) >= 6


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_file_loads_with_its_header_inside_its_model(path):
    from fipscan.models import get_model

    curve = read_bounds(path)
    for key in HEADER_KEYS:
        assert curve.meta[key], key
    assert curve.benchmark == path.parent.name
    model = get_model(curve.model)
    assert model.benchmark == curve.benchmark
    load_bounds(path, model)  # axis name and unit are the model's
    assert curve.meta["y"] == model.coupling.name
    lo, hi = model.mass_range
    assert np.all(curve.masses >= lo * (1 - 1e-9)) and np.all(curve.masses <= hi * (1 + 1e-9))
    assert np.all(curve.couplings > 0) and np.all(np.isfinite(curve.couplings))
    assert np.all(curve.couplings <= getattr(model.coupling, "max", np.inf))
    assert curve.region == "closed" and curve.masses.size >= 3
    # the compilation line names a repository, a path and a 40-hex commit; the date is ISO
    assert re.search(r"@ [0-9a-f]{40}$", curve.meta["compilation"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", curve.meta["read"])
    assert "arXiv" in curve.meta["publication"] or "doi" in curve.meta["publication"] \
        or "not named" in curve.meta["publication"]


def _has_vertex(curve, m, g, rtol):
    return bool(np.any(np.isclose(curve.masses, m, rtol=rtol) & np.isclose(curve.couplings, g, rtol=rtol)))


# Spot checks against the source files (numbers as printed there; the CSV keeps 10 significant digits, the
# sources have 4 (DarkCast) or 17 (AxionLimits): tolerance 1e-8 relative, i.e. the point is copied, not
# re-digitised).  DarkCast micha-a-schmidt/darkcast @ e276886, AxionLimits cajohare/AxionLimits @ 0906ec6.
SPOT_TOL = 1e-8
SPOT = [
    # E137_Bjorken1988as.lmt row "1.020e-02  2.880e-08  4.011e-05": both edges at 10.2 MeV
    ("BC1/e137.csv", 1.020e-02, 2.880e-08), ("BC1/e137.csv", 1.020e-02, 4.011e-05),
    # CHARM_Bergsma1985qz.lmt row "1.052e-01  1.158e-07  2.618e-06"
    ("BC1/charm.csv", 1.052e-01, 1.158e-07), ("BC1/charm.csv", 1.052e-01, 2.618e-06),
    # NA64.txt row "52995381.896555796  0.000243531207343342" (mass in eV -> GeV)
    ("BC9/na64.csv", 52995381.896555796e-9, 0.000243531207343342),
    # BeamDump.txt row "399686465.0601611  1.4104271176297685e-7"
    ("BC9/beam-dumps.csv", 399686465.0601611e-9, 1.4104271176297685e-7),
]


@pytest.mark.parametrize("name, m, g", SPOT)
def test_spot_points_equal_the_source_numbers(name, m, g):
    assert _has_vertex(read_bounds(BOUNDS_DIR / name), m, g, SPOT_TOL)


def test_clipping_to_the_mass_range_interpolates_in_log_space():
    # NA64.txt is flat at g = 2.564269e-4 below 0.99 MeV and 2.388643e-4 at 5.28 MeV: the point added at the
    # model's lowest mass (1 MeV) lies between them on the straight line in (log m, log g)
    curve = read_bounds(BOUNDS_DIR / "BC9/na64.csv")
    m0, g0, m1, g1 = 990024.3208543774e-9, 0.0002564269019607029, 5281857.100843668e-9, 0.0002388643078984603
    t = np.log(1e-3 / m0) / np.log(m1 / m0)
    expected = np.exp(np.log(g0) + t * np.log(g1 / g0))
    assert _has_vertex(curve, 1e-3, expected, 1e-8)


def test_shipped_bounds_select_by_model_and_benchmark():
    assert {c.name for c in shipped_bounds(model="dark-photon")} == {"charm", "nucal", "e137", "e141"}
    assert {c.model for c in shipped_bounds(benchmark="BC9")} == {"alp-photon"}
    assert shipped_bounds(model="dark-scalar-bc5") == []
    assert resolve_bounds("none", "dark-photon") == []
    assert len(resolve_bounds(None, "alp-photon")) == len(shipped_bounds(model="alp-photon"))


# ------------------------------------------------------------------------------------------ bad files
GOOD = BOUNDS_DIR / "BC1" / "e141.csv"


def _variant(tmp_path, edit, name="bad.csv") -> Path:
    text = GOOD.read_text()
    out = tmp_path / name
    out.write_text(edit(text))
    return out


BAD = [
    ("no y_unit", lambda t: re.sub(r"^# y_unit: .*\n", "", t, flags=re.M), "lacks 'y_unit'"),
    ("empty publication", lambda t: re.sub(r"^# publication: .*$", "# publication:", t, flags=re.M), "publication"),
    ("mass in MeV", lambda t: t.replace("# x_unit: GeV", "# x_unit: MeV"), "mass in GeV"),
    ("unknown key", lambda t: t.replace("# region: closed", "# region: closed\n# colour: red"), "unknown header key"),
    ("bad region", lambda t: t.replace("# region: closed", "# region: somewhere"), "region"),
    ("no column line", lambda t: t.replace("mass_gev,coupling\n", ""), "column line"),
    ("zero coupling", lambda t: t.replace("0.001193,9.976e-06", "0.001193,0"), "positive"),
    ("negative mass", lambda t: t.replace("0.001193,9.976e-06", "-0.001193,9.976e-06"), "positive"),
    ("nan", lambda t: t.replace("0.001193,9.976e-06", "0.001193,nan"), "finite"),
    ("inf", lambda t: t.replace("0.001193,9.976e-06", "inf,9.976e-06"), "finite"),
    ("three columns", lambda t: t.replace("0.001193,9.976e-06", "0.001193,9.976e-06,1"), "two comma-separated"),
    ("wrong format", lambda t: t.replace("fipscan-bounds 1", "fipscan-bounds 9"), "format"),
]


def test_the_good_file_has_the_rows_the_bad_variants_edit():
    assert "0.001193,9.976e-06" in GOOD.read_text()


@pytest.mark.parametrize("why, edit, needle", BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_is_refused_in_one_line_naming_file_and_problem(tmp_path, why, edit, needle):
    path = _variant(tmp_path, edit)
    with pytest.raises(InputError) as err:
        read_bounds(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and needle.lower() in msg.lower(), msg


def test_axis_unit_or_model_mismatch_is_refused(tmp_path):
    # a dark-photon curve given to the alp-photon model: its model, then (renamed) its axis and unit
    with pytest.raises(InputError, match="is for model 'dark-photon', not 'alp-photon'"):
        load_bounds(GOOD, "alp-photon")
    renamed = _variant(tmp_path, lambda t: t.replace("# model: dark-photon", "# model: alp-photon"))
    with pytest.raises(InputError, match=r"coupling axis epsilon \[1\] is not the axis of alp-photon, "
                                         r"g_agammagamma \[GeV\^-1\]"):
        load_bounds(renamed, "alp-photon")
    wrong_unit = _variant(tmp_path, lambda t: t.replace("# y_unit: 1", "# y_unit: GeV^-1"), "unit.csv")
    with pytest.raises(InputError, match="not the axis of dark-photon"):
        load_bounds(wrong_unit, "dark-photon")
    too_big = _variant(tmp_path, lambda t: t.replace("0.001193,9.976e-06", "0.001193,3"), "big.csv")
    with pytest.raises(InputError, match="above the physical maximum 1"):
        load_bounds(too_big, "dark-photon")


# -------------------------------------------------------------------------------------------- the CLI
def test_bounds_list_json_lists_the_shipped_set():
    res = run("bounds", "list", "--json")
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["version"] == bounds_version()
    assert {(b["benchmark"], b["name"]) for b in got["bounds"]} == {(p.parent.name, p.stem) for p in SHIPPED}
    for b in got["bounds"]:
        assert b["n_points"] >= 3 and b["publication"] and b["compilation"]
    res = run("bounds", "list", "--model", "alp-photon", "--json")
    assert {b["model"] for b in json.loads(res.stdout)["bounds"]} == {"alp-photon"}
    text = run("bounds", "list")
    assert text.returncode == 0 and "E137" in text.stdout and bounds_version() in text.stdout
    one_line_error(run("bounds", "list", "--model", "no-such-model"), "unknown model")


def test_bounds_check(tmp_path):
    assert run("bounds", "check", str(GOOD), "--model", "dark-photon").returncode == 0
    one_line_error(run("bounds", "check", str(_variant(tmp_path, BAD[0][1]))), "lacks 'y_unit'")


@pytest.mark.parametrize("model, make, needle", [
    ("dark-photon", lambda tmp: _variant(tmp, BAD[0][1]), "lacks 'y_unit'"),
    ("dark-photon", lambda tmp: _variant(tmp, BAD[6][1]), "positive"),
    ("alp-photon", lambda tmp: GOOD, "for model 'dark-photon', not 'alp-photon'"),
    ("dark-photon", lambda tmp: _variant(tmp, lambda t: t.replace("# y_unit: 1", "# y_unit: GeV^-1")),
     "not the axis of dark-photon"),
    ("dark-photon", lambda tmp: tmp / "missing.csv", "does not exist"),
], ids=["header", "value", "model", "unit", "missing"])
def test_scan_refuses_a_bad_bounds_file_before_any_work(tmp_path, model, make, needle):
    out = tmp_path / "out"
    res = run("scan", "--model", model, "--masses", "0.1:0.5:4", "--couplings", "1e-7:1e-4:6",
              "--bounds", make(tmp_path), "-o", out)
    one_line_error(res, "--bounds", needle)
    assert not out.exists()  # refused before anything was written


def test_scan_refuses_none_with_files(tmp_path):
    res = run("scan", "--masses", "0.1:0.5:4", "--couplings", "1e-7:1e-4:6", "--bounds", "none", GOOD,
              "-o", tmp_path / "out")
    one_line_error(res, "--bounds none", "cannot be combined")


# ------------------------------------------------------------------------------------------- drawing
@pytest.fixture(scope="module")
def tiny_result():
    """A 10 x 10 scan on toy yield tables (no generator, no real tables): seconds."""
    from fipscan.grid import Grid
    from fipscan.scanner import scan
    from fipscan.testing import toy_tables

    grid = Grid.log(0.01, 1.0, 10, 1e-9, 1e-3, 10)
    return scan("dark-photon", "na62-bd", grid, tables=toy_tables(grid.masses, n_p=8, n_z=6), channels="ee",
                bands=False)


def test_draw_bounds_puts_grey_labelled_regions_under_everything():
    from matplotlib.figure import Figure

    from fipscan.plotting import BOUNDS_STYLE, draw_bounds

    fig = Figure()
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-2, 1.0)
    ax.set_ylim(1e-9, 1e-3)
    curves = shipped_bounds(model="dark-photon")
    draw_bounds(ax, curves)
    assert len(ax.patches) == len(curves)
    assert all(p.get_zorder() == BOUNDS_STYLE["zorder"] < 1 and p.get_clip_on() for p in ax.patches)
    labels = {t.get_text() for t in ax.texts}
    assert {"CHARM", "NuCal", "E137"} <= labels  # E141 ends at 19 MeV: its label may sit outside 10 MeV-1 GeV


def test_a_plot_with_bounds_is_written(tiny_result, tmp_path):
    from fipscan.plotting import plot_comparison, plot_result

    out = tmp_path / "with"
    written = tiny_result.save(out, formats=("png",), polygon=False, bounds=resolve_bounds("default", "dark-photon"))
    plain = tiny_result.save(tmp_path / "plain", formats=("png",), polygon=False)
    png, png0 = written["contour.png"].read_bytes(), plain["contour.png"].read_bytes()
    assert png.startswith(b"\x89PNG") and png != png0
    # a file path works too (loaded against the result's model), and the comparison figure takes bounds
    buf = io.BytesIO()
    plot_result(tiny_result, buf, fmt="png", bounds=[GOOD])
    assert buf.getvalue().startswith(b"\x89PNG")
    buf = io.BytesIO()
    plot_comparison([tiny_result], buf, fmt="png", bounds=resolve_bounds("default", tiny_result.model))
    assert buf.getvalue().startswith(b"\x89PNG")
    with pytest.raises(InputError, match="not 'dark-photon'"):
        plot_result(tiny_result, io.BytesIO(), bounds=[BOUNDS_DIR / "BC9" / "na64.csv"])


def test_the_set_is_package_data():
    import tomllib

    root = Path(__file__).resolve().parents[1]
    with open(root / "pyproject.toml", "rb") as fh:
        globs = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["fipscan"]
    pkg = root / "fipscan"
    covered = {p for g in globs for p in pkg.glob(g)}
    assert set(SHIPPED) | {BOUNDS_DIR / "VERSION"} <= {p.resolve() for p in covered} | covered
    assert os.path.isfile(BOUNDS_DIR / "VERSION")
