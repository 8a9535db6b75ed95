"""The HEPData export of a scan (fipscan.io.hepdata): a valid submission whose numbers are the scan's.

One small real scan (BC1 dark photon at na62-bd on the README main job's 119 masses, whose yield tables
ship with the package, x 12 couplings; with a projection and the bands) is saved once with
``hepdata=True``; the tests read the files back.  The traced polygon is not traced here (tracing
compiles for ~6 CPU-s; tests/test_contour_trace.py covers it): its table is checked on given regions.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from fipscan.io.hepdata import DIGITS, read_table

#: relative agreement of a number read back from a table file with the scan's value: the files keep
#: DIGITS = 8 significant digits (rounding error <= 5e-8 relative), so 1e-7 holds; the brief asks for 1e-5
RTOL = 1e-7

COUPLINGS = (1e-8, 1e-3, 12)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from fipscan.grid import Grid
    from fipscan.models import get_model
    from fipscan.scanner import scan
    from fipscan.shipped import main_job_masses

    grid = Grid(main_job_masses(get_model("dark-photon")), np.geomspace(*COUPLINGS))
    result = scan("dark-photon", "na62-bd", grid, projections=(1e18,))
    out = tmp_path_factory.mktemp("hd") / "out"
    written = result.save(out, formats=(), polygon=False, hepdata=True)
    return result, out, written


LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _submission(folder):
    with open(folder / "submission.yaml", encoding="utf-8") as fh:
        return list(yaml.load_all(fh, Loader=LOADER))


def _qualifiers(path):
    """{dependent variable name: {qualifier name: value}} of a table file."""
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=LOADER)
    return {v["header"]["name"]: {q["name"]: q["value"] for q in v["qualifiers"]} for v in doc["dependent_variables"]}


def test_the_submission_and_every_table_file_are_valid(saved):
    from hepdata_validator.full_submission_validator import FullSubmissionValidator, SchemaType

    _, out, written = saved
    folder = out / "hepdata"
    full = FullSubmissionValidator()  # submission.yaml and every data file it lists
    assert full.validate(directory=str(folder)), full.get_messages()
    docs = _submission(folder)
    files = [d["data_file"] for d in docs[1:]]
    on_disk = sorted(p.name for p in folder.iterdir())
    checked = full.valid_files[SchemaType.SUBMISSION] + full.valid_files[SchemaType.DATA]
    assert sorted(os.path.basename(f) for f in checked) == on_disk  # every file was checked and is valid
    assert sorted(files + ["submission.yaml"]) == on_disk
    assert sorted(f"hepdata/{f}" for f in on_disk) == sorted(k for k in written if k.startswith("hepdata/"))
    names = {d["name"] for d in docs[1:]}
    assert {"Exclusion POT 1.4e17", "Exclusion POT 1e18",
            "Expected exclusion median", "Expected exclusion plus 2 sigma", "Exclusion POT low uncertainty",
            "Exclusion POT high uncertainty", "Exclusion final state ee", "Exclusion final state mumu",
            "Exclusion production brems", "Exclusion production pi0 to gamma", "Expected signal events"} <= names


def _check_contour(path, contour):
    """The table at ``path`` holds exactly the excluded masses of ``contour`` and its edges to RTOL."""
    t = read_table(path)
    ok = np.asarray(contour.excluded)
    assert ok.any()
    np.testing.assert_allclose(t["mass"], np.asarray(contour.masses)[ok], rtol=RTOL)
    np.testing.assert_allclose(t["epsilon lower edge"], np.asarray(contour.lower)[ok], rtol=RTOL)
    np.testing.assert_allclose(t["epsilon upper edge"], np.asarray(contour.upper)[ok], rtol=RTOL)
    assert t["lower edge at grid end"] == np.asarray(contour.lower_at_edge)[ok].astype(int).tolist()
    assert t["upper edge at grid end"] == np.asarray(contour.upper_at_edge)[ok].astype(int).tolist()
    assert all(np.isfinite(t[k]).all() for k in t)  # no NaN: masses excluding nothing have no row


def test_round_trip_of_every_contour(saved):
    result, out, _ = saved
    folder = out / "hepdata"
    pt = result.points[0]
    assert np.asarray(pt.contour.excluded).any()
    _check_contour(folder / "exclusion_pot_1.4e17.yaml", pt.contour)
    _check_contour(folder / "exclusion_pot_1e18.yaml", result.points[1].contour)
    for key, words in (("0", "median"), ("-1", "minus_1_sigma"), ("+2", "plus_2_sigma")):
        _check_contour(folder / f"expected_exclusion_{words}.yaml", pt.expected[key][1])
    _check_contour(folder / "exclusion_pot_low_uncertainty.yaml", pt.pot_band[0])
    _check_contour(folder / "exclusion_pot_high_uncertainty.yaml", pt.pot_band[1])
    mumu = result.contour_by("final_state")["mumu"]
    assert 0 < np.asarray(mumu.excluded).sum() < mumu.masses.size  # some masses have no row
    _check_contour(folder / "exclusion_final_state_mumu.yaml", mumu)
    _check_contour(folder / "exclusion_production_pi0_to_gamma.yaml", result.contour_by("production")["pi0->gamma"])
    # the primary table is contour.csv to its 8 digits
    csv = np.loadtxt(out / "contour.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(read_table(folder / "exclusion_pot_1.4e17.yaml")["epsilon lower edge"], csv[:, 1],
                               rtol=RTOL)


def test_the_events_grid(saved):
    result, out, _ = saved
    folder = out / "hepdata"
    t = read_table(folder / "expected_signal_events.yaml")
    nm, ng = result.events.shape
    assert len(t["mass"]) == nm * ng == 119 * 12
    np.testing.assert_allclose(np.reshape(t["mass"], (nm, ng))[:, 0], result.grid.masses, rtol=RTOL)
    np.testing.assert_allclose(np.reshape(t["epsilon"], (nm, ng))[0], result.grid.couplings, rtol=RTOL)
    np.testing.assert_allclose(np.reshape(t["expected signal events"], (nm, ng)), result.events, rtol=RTOL, atol=0)
    assert np.max(t["expected signal events"]) > 1e3  # a real grid: the contour lies inside it
    with open(folder / "expected_signal_events.yaml", encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=LOADER)
    assert doc["dependent_variables"][0]["header"]["units"] == "events"
    assert doc["independent_variables"][0]["header"]["units"] == "GeV"


def _region(points, closed=True):
    """A traced region (fipscan.contour.trace.Region's fields) through ``points`` (mass [GeV], coupling)."""
    return SimpleNamespace(vertices=np.log(np.asarray(points, float)), closed=closed, touches_edge=False, edges=(),
                           hole=False, area=0.1, n_evaluations=3, n_steps=3, message="")


def test_the_polygon_table(saved):
    """Each region's vertices in order, a closed region's first vertex repeated at its end, the region index."""
    from fipscan.io.hepdata import hepdata_tables

    regions = [_region([[0.01, 1e-6], [0.5, 1e-6], [0.5, 1e-5]]), _region([[0.7, 2e-7], [0.8, 3e-7]], closed=False)]
    tables = {t.name: t for t in hepdata_tables(saved[0], regions)}
    t = tables["Exclusion polygon POT 1.4e17"]
    mass, coupling, region = (v.values for v in t.variables)
    np.testing.assert_allclose(mass, [0.01, 0.5, 0.5, 0.01, 0.7, 0.8], rtol=RTOL)
    np.testing.assert_allclose(coupling, [1e-6, 1e-6, 1e-5, 1e-6, 2e-7, 3e-7], rtol=RTOL)
    assert region == [0, 0, 0, 0, 1, 1]
    assert "not closed" in t.description
    assert not (saved[1] / "hepdata" / "exclusion_polygon_pot_1.4e17.yaml").exists()  # polygon=False: no table


def test_qualifiers_on_every_dependent_variable(saved):
    result, out, _ = saved
    folder = out / "hepdata"
    for path in folder.glob("*.yaml"):
        if path.name == "submission.yaml":
            continue
        for var, q in _qualifiers(path).items():
            assert q["experiment"] == "na62-bd" and q["experiment title"] == result.experiment.title, path
            assert q["model"] == "dark-photon" and q["model label"] == result.model.label
            assert q["CL"] == pytest.approx(0.9) and q["fipscan version"]
            assert q["final states"] == "ee,mumu"
            assert "model options" not in q  # default options: none to state
    q = _qualifiers(folder / "exclusion_pot_1e18.yaml")["epsilon upper edge"]
    assert q["POT"] == pytest.approx(1e18, rel=1e-12)
    assert q["N limit"] == pytest.approx(result.points[1].n_limit, rel=10.0 ** -DIGITS)
    q = _qualifiers(folder / "expected_exclusion_plus_2_sigma.yaml")["epsilon lower edge"]
    assert q["quantile"] == "plus 2 sigma"
    assert q["N limit"] == pytest.approx(result.points[0].expected["+2"][0], rel=10.0 ** -DIGITS)
    assert q["N limit"] > result.points[0].n_limit  # the +2 sigma quantile needs more events
    assert _qualifiers(folder / "exclusion_production_pi0_to_gamma.yaml")["epsilon lower edge"][
        "production channel"] == "pi0->gamma"


def test_model_options_and_coupling_units_are_qualifiers(saved):
    """A model with a non-default option states it; the ALP's coupling carries its unit GeV^-1 (the
    tables are built from the fixture's scan with another model object: options, names and units come
    from the model)."""
    import dataclasses

    from fipscan.io.hepdata import hepdata_tables
    from fipscan.models import get_model

    result = saved[0]
    t = hepdata_tables(dataclasses.replace(result, model=get_model("dark-photon", form_factor=False)))[0]
    assert t.name == "Exclusion POT 1.4e17"
    quals = {q["name"]: q["value"] for q in t.variables[1].qualifiers}
    assert quals["model options"] == "form_factor=False"
    assert (t.variables[1].name, t.variables[1].units) == ("epsilon lower edge", "")
    assert len(t.variables[0].values) == np.asarray(result.contour.excluded).sum()
    t = hepdata_tables(dataclasses.replace(result, model=get_model("alp-photon")))[0]
    assert (t.variables[1].name, t.variables[1].units) == ("g_agammagamma lower edge", "GeV^-1")
    assert {q["name"]: q["value"] for q in t.variables[1].qualifiers}["model label"] == "BC9 photophilic ALP"


def test_a_rerun_replaces_the_set_with_its_hepdata_folder(saved, tmp_path):
    """A previous set with its hepdata/ folder is accepted as the target of the next save, and the next
    submission replaces it whole (a table of the first run that the second has not is gone)."""
    import dataclasses

    from fipscan.io.results import check_output_set_dir

    result, _, _ = saved
    out = tmp_path / "out"
    result.save(out, formats=(), polygon=False, hepdata=True)
    assert (out / "hepdata" / "exclusion_pot_1e18.yaml").is_file()
    check_output_set_dir(out)  # no InputError
    primary_only = dataclasses.replace(result, points=result.points[:1])
    written = primary_only.save(out, formats=(), polygon=False, hepdata=True)
    assert written["hepdata/submission.yaml"] == out / "hepdata" / "submission.yaml"
    assert not (out / "hepdata" / "exclusion_pot_1e18.yaml").exists()  # no stale table of the first run
    assert "exclusion_pot_1e18.yaml" not in (out / "hepdata" / "submission.yaml").read_text()
    assert sorted(os.listdir(out)) == ["contour.csv", "hepdata", "scan.h5"]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging folder left beside it


def test_a_hepdata_folder_with_other_files_is_refused(saved, tmp_path):
    from fipscan.errors import InputError
    from fipscan.io.hepdata import write_hepdata
    from fipscan.io.results import check_output_set_dir

    out = tmp_path / "out"
    (out / "hepdata").mkdir(parents=True)
    (out / "hepdata" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="'hepdata'.*not written by a fipscan scan"):
        check_output_set_dir(out)
    with pytest.raises(InputError, match="not empty"):
        write_hepdata(saved[0], out / "hepdata")


def test_cli_scan_format_hepdata(saved, tmp_path, monkeypatch):
    """The command's entry point in this process (the scan's programs are compiled already; the polygon
    tracer and the plots are stubbed, tested elsewhere): exit 0, files listed in --json, a valid
    submission whose primary table is the run's contour.csv and the fixture's scan; a bad --format exits 2
    (the rerun into a previous set with hepdata/ is test_a_rerun_replaces_the_set_with_its_hepdata_folder:
    the command checks its folder with the same check_output_set_dir)."""
    from hepdata_validator.data_file_validator import DataFileValidator
    from hepdata_validator.submission_file_validator import SubmissionFileValidator

    from fipscan.cli.main import main

    monkeypatch.setattr("fipscan.contour.trace.trace_regions",
                        lambda *a, **k: [_region([[0.01, 1e-6], [0.5, 1e-6], [0.5, 1e-5]])])
    monkeypatch.setattr("fipscan.plotting.plot_result", lambda result, fh, **k: fh.write(b"plot"))  # ~3 s each
    out = tmp_path / "cli"
    args = ["scan", "--couplings", ":".join(map(str, COUPLINGS)), "--projection", "1e18", "-o", str(out), "--json"]

    def run(*extra):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main([*args, *extra])
            except SystemExit as exc:  # argparse
                code = exc.code
        return code, stdout.getvalue(), stderr.getvalue()

    code, stdout, stderr = run("--format", "hepdata")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert {"hepdata/submission.yaml", "hepdata/expected_signal_events.yaml",
            "hepdata/exclusion_polygon_pot_1.4e17.yaml", "contour.csv", "contour.png"} <= set(doc["files"])
    sub, data = SubmissionFileValidator(), DataFileValidator()  # the fixture's files are checked in full above
    assert sub.validate(file_path=str(out / "hepdata" / "submission.yaml")), sub.get_messages()
    polygon = out / "hepdata" / "exclusion_polygon_pot_1.4e17.yaml"
    assert data.validate(file_path=str(polygon)), data.get_messages()
    assert read_table(polygon)["region"] == [0, 0, 0, 0]
    csv = np.loadtxt(out / "contour.csv", delimiter=",", skiprows=1, ndmin=2)
    t = read_table(out / "hepdata" / "exclusion_pot_1.4e17.yaml")
    np.testing.assert_allclose(t["mass"], csv[:, 0], rtol=RTOL)
    np.testing.assert_allclose(t["epsilon upper edge"], csv[:, 2], rtol=RTOL)
    # the CLI's default masses are the fixture's: the same contour
    np.testing.assert_allclose(t["epsilon lower edge"], [r[1] for r in saved[0].contour.rows()], rtol=RTOL)
    code, _, stderr = run("--format", "root")
    assert code == 2 and "--format" in stderr and "invalid choice: 'root'" in stderr
    assert (out / "hepdata" / "submission.yaml").is_file()  # refused before anything was written
