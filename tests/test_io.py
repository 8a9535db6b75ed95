"""fipscan.io: the one atomic writer, the yield-table file format and the JSON writer."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
from pathlib import Path

import h5py
import numpy as np
import pytest

from fipscan import cache
from fipscan.errors import InputError
from fipscan.io import atomic
from fipscan.io.results import write_json
from fipscan.io.tables import TABLES_KIND, load_tables, save_tables, write_tables
from fipscan.testing import random_yield_tables


@contextlib.contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ----------------------------------------------------------------------------------- atomic writer
@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_final_file_mode_follows_the_umask(tmp_path, mask, expected):
    with umask(mask):
        text = atomic.atomic_write_text(tmp_path / "a.csv", "x\n")
        h5 = atomic.atomic_write_h5(tmp_path / "a.h5", lambda f: f.create_dataset("x", data=[1.0]))
        entry = tmp_path / "entry.h5"
        cache.atomic_write_h5(entry, lambda f: None, kind="demo", schema_version=1)
    assert _mode(text) == expected and _mode(h5) == expected and _mode(entry) == expected


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_keeps_the_old_content_and_leaves_no_temporary_file(tmp_path, exc):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def write(fh):
        fh.write("half of the new")
        raise exc

    with pytest.raises(type(exc)):
        atomic.atomic_write(target, write, "w")
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []

    def write_h5(f):
        f.create_dataset("x", data=np.zeros(3))
        raise exc

    with pytest.raises(type(exc)):
        atomic.atomic_write_h5(tmp_path / "new.h5", write_h5)
    assert not (tmp_path / "new.h5").exists() and _leftovers(tmp_path) == []


def test_temporary_file_beside_the_target_then_file_and_folder_fsynced(tmp_path, monkeypatch):
    """The rename source is in the target's folder (same file system); the data and the folder are
    fsynced before and after the rename."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", Path(src).parent == Path(dst).parent, Path(src).name.startswith(".out.csv.")))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    atomic.atomic_write_text(tmp_path / "out.csv", "a,b\n")
    assert (tmp_path / "out.csv").read_text() == "a,b\n"
    i = events.index(("replace", True, True))
    if os.name != "nt":
        assert "fsync-file" in events[:i] and events[i + 1:] == ["fsync-dir"]


def test_json_and_copy(tmp_path):
    atomic.atomic_write_json(tmp_path / "d.json", {"b": 1, "a": [1.5]})
    assert json.loads((tmp_path / "d.json").read_text()) == {"a": [1.5], "b": 1}
    with pytest.raises(ValueError):  # strict JSON: no NaN, and nothing written
        atomic.atomic_write_json(tmp_path / "n.json", {"x": float("nan")})
    assert not (tmp_path / "n.json").exists()
    atomic.atomic_copy(tmp_path / "d.json", tmp_path / "sub" / "copy.json")
    assert (tmp_path / "sub" / "copy.json").read_bytes() == (tmp_path / "d.json").read_bytes()


def test_write_json_nan_is_null_and_suffix_checked(tmp_path):
    buf = io.StringIO()
    write_json({"x": np.float64("nan"), "y": np.arange(2), "z": (np.int64(3), float("inf"))}, buf)
    assert json.loads(buf.getvalue()) == {"x": None, "y": [0, 1], "z": [3, None]}
    write_json({"a": 1}, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": 1}
    with pytest.raises(InputError, match="s.txt"):
        write_json({"a": 1}, tmp_path / "s.txt")


# ----------------------------------------------------------------------------------- table files
@pytest.fixture(scope="module")
def tables():
    return random_yield_tables(n_masses=4, n_p=6, n_z=5, seed=3)


def test_tables_round_trip(tables, tmp_path):
    path = save_tables(tables, tmp_path / "t.h5", model="dark-photon", experiment="na62-bd")
    back = load_tables(path, model="dark-photon", experiment="na62-bd")
    for k in ("masses", "weights", "log_s1", "a_edges"):
        np.testing.assert_array_equal(np.asarray(getattr(back, k)), np.asarray(getattr(tables, k)))
    assert list(back.per_channel) == ["meson", "brems"]
    for k, w in tables.per_channel.items():
        np.testing.assert_array_equal(np.asarray(back.per_channel[k]), np.asarray(w))
    assert back.channels == ("ee", "mumu") and (back.n_prod, back.n_width) == (2.0, 2.0)
    cache.verify_h5(path, kind=TABLES_KIND)  # stamped and checksummed
    with h5py.File(path) as f:
        assert f.attrs["model"] == "dark-photon" and f.attrs["experiment"] == "na62-bd"
        assert f.attrs["production"] == "meson,brems"
    # and the same numbers as the original: different seeds give different tables
    other = random_yield_tables(n_masses=4, n_p=6, n_z=5, seed=4)
    assert not np.array_equal(np.asarray(other.weights), np.asarray(back.weights))


def test_a_yield_cache_entry_is_a_table_file(tables, tmp_path):
    from fipscan.yields import YIELDS_SCHEMA_VERSION

    entry = tmp_path / "entry.h5"
    cache.atomic_write_h5(entry, lambda f: write_tables(f, tables), kind="yields", schema_version=YIELDS_SCHEMA_VERSION)
    back = load_tables(entry, model="dark-photon", experiment="na62-bd")  # no names stored: not checked
    np.testing.assert_array_equal(np.asarray(back.weights), np.asarray(tables.weights))


def _one_line_input_error(call, *needles):
    with pytest.raises(InputError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def test_tables_refuse_bad_files(tables, tmp_path):
    good = save_tables(tables, tmp_path / "good.h5", model="dark-photon", experiment="na62-bd")
    _one_line_input_error(lambda: save_tables(tables, tmp_path / "t.npz"), "t.npz", ".h5")
    _one_line_input_error(lambda: load_tables(tmp_path / "t.npz"), "t.npz", ".h5")
    _one_line_input_error(lambda: load_tables(tmp_path / "missing.h5"), "missing.h5", "does not exist")
    _one_line_input_error(lambda: save_tables(tables, tmp_path / "no" / "t.h5"), "does not exist")
    (tmp_path / "text.h5").write_text("not a table\n")
    _one_line_input_error(lambda: load_tables(tmp_path / "text.h5"), "text.h5", "not an HDF5 file")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f.create_dataset("masses", data=[1.0])
    _one_line_input_error(lambda: load_tables(tmp_path / "foreign.h5"), "foreign.h5", "not written by fipscan")
    cache.atomic_write_h5(tmp_path / "spectra.h5", lambda f: None, kind="spectra", schema_version=1)
    _one_line_input_error(lambda: load_tables(tmp_path / "spectra.h5"), "spectra.h5", "'spectra'")
    _one_line_input_error(lambda: load_tables(good, model="alp"), "good.h5", "model 'dark-photon', not 'alp'")
    _one_line_input_error(lambda: load_tables(good, experiment="ship"), "good.h5", "experiment 'na62-bd'")
    # a flipped byte in the data: the checksum catches it
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(good.read_bytes())
    with h5py.File(damaged, "r+") as f:
        f["masses"][0] = 123.0
    _one_line_input_error(lambda: load_tables(damaged), "damaged.h5", "checksum")


def test_tables_refuse_weights_that_are_not_the_channel_sum(tables, tmp_path):
    import dataclasses

    bad = dataclasses.replace(tables, weights=2.0 * tables.weights)
    _one_line_input_error(lambda: save_tables(bad, tmp_path / "bad.h5"), "sum")
    assert not (tmp_path / "bad.h5").exists()


# ------------------------------------------------------------------ issue 18, kind 10: what a result is
def test_contour_csv_flags_edges_that_are_the_grid_edge():
    """contour.csv says where the excluded interval reaches the end of the scanned couplings."""
    from types import SimpleNamespace

    from fipscan.io.results import contour_csv

    c = SimpleNamespace(masses=np.array([0.1, 0.2, 0.3]), lower=np.array([1e-8, 2e-8, np.nan]),
                        upper=np.array([1e-4, 1e-5, np.nan]), excluded=np.array([True, True, False]),
                        lower_at_edge=np.array([False, True, False]), upper_at_edge=np.array([True, False, False]))
    rows = [ln.split(",") for ln in contour_csv(c).strip().splitlines()]
    assert rows[0] == ["mass_gev", "coupling_lower", "coupling_upper", "lower_at_grid_edge", "upper_at_grid_edge"]
    assert [r[3:] for r in rows[1:]] == [["0", "1"], ["1", "0"]]
    assert len(rows) == 3  # the mass without an excluded interval has no row


def test_scan_h5_states_units_precision_time_command_and_versions(tmp_path):
    import json

    import h5py

    from fipscan.grid import Grid
    from fipscan.scanner import scan
    from fipscan.testing import toy_tables

    grid = Grid.log(0.1, 0.5, 4, 1e-8, 1e-4, 12)
    res = scan("dark-photon", "na62-bd", grid, tables=toy_tables(grid.masses, n_p=8, n_z=6), channels="ee", bands=False,
               projections=(1e18,))
    written = res.save(tmp_path, formats=(), polygon=False)
    assert "contour_pot1e18.csv" in written
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        for key in ("created", "command_line", "precision", "library_versions", "fipscan_version"):
            assert key in f.attrs, key
        assert f.attrs["precision"] in ("float64", "float32")
        assert "numpy" in json.loads(f.attrs["library_versions"])
        assert f["pot_0/events"].attrs["units"] == "expected signal events"
        assert f["pot_0"].attrs["pot_units"] == "protons on target"
        assert f["pot_1/events"].attrs["pot"] == pytest.approx(1e18)
        # the spectra the scan used: their file and its sha256, recomputed here
        import hashlib

        from fipscan.spectra.core import default_spectra_path

        assert f.attrs["spectra"] == str(default_spectra_path())
        assert f.attrs["spectra_sha256"] == hashlib.sha256(default_spectra_path().read_bytes()).hexdigest()


def test_open_polygon_fragments_are_counted_and_reported_in_one_line(tmp_path, caplog, monkeypatch):
    # a polygon whose regions are not closed is written (with closed = False), counted in scan.h5
    # (contour_polygon n_open) and reported in ONE warning line however many fragments there are
    from types import SimpleNamespace

    import h5py

    from fipscan.io import polygon as P

    def region(closed, msg):
        return SimpleNamespace(vertices=np.log([[0.1, 1e-6], [0.2, 1e-6], [0.2, 1e-5]]), closed=closed,
                               touches_edge=False, edges=(), hole=False, area=0.1, n_evaluations=3, n_steps=3,
                               message=msg)

    regions = [region(True, "")] + [region(False, f"walk {k} stopped") for k in range(5)]
    tables = SimpleNamespace(weights=np.zeros(1, np.float32))
    pt = SimpleNamespace(pot=1e18, n_limit=2.3)
    result = SimpleNamespace(points=[pt], grid=SimpleNamespace(couplings=np.array([1e-8, 1e-4])), tables=tables)
    monkeypatch.setattr("fipscan.contour.trace.trace_regions", lambda *a, **k: regions)
    with caplog.at_level("WARNING", logger="fipscan.contour"):
        got = P.save_polygon(result, tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.name == "fipscan.contour"]
    assert len(lines) == 1 and "5 of 6 traced regions are not closed" in lines[0] and "float64" in lines[0]
    with h5py.File(tmp_path / "p.h5", "w") as f:
        P.write_polygon_h5(f.create_group("contour_polygon"), got)
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert f["contour_polygon"].attrs["n_open"] == 5 and f["contour_polygon"].attrs["n_regions"] == 6


# ------------------------------------------------------- output sets (issue 18, kind 9)
@pytest.fixture(scope="module")
def toy_results():
    """Two scans of one toy grid: with a projection (two contour files) and without."""
    from fipscan.grid import Grid
    from fipscan.scanner import scan
    from fipscan.testing import toy_tables

    grid = Grid.log(0.1, 0.5, 4, 1e-8, 1e-4, 12)
    tables = toy_tables(grid.masses, n_p=8, n_z=6)
    kw = dict(tables=tables, channels="ee", bands=False)
    return scan("dark-photon", "na62-bd", grid, projections=(1e18,), **kw), scan("dark-photon", "na62-bd", grid, **kw)


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_rerun_replaces_the_whole_set(toy_results, tmp_path):
    with_projection, without = toy_results
    out = tmp_path / "out"
    with_projection.save(out, formats=(), polygon=False)
    assert sorted(os.listdir(out)) == ["contour.csv", "contour_pot1e18.csv", "scan.h5"]
    written = without.save(out, formats=(), polygon=False)
    assert sorted(os.listdir(out)) == ["contour.csv", "scan.h5"]  # no stale file of the earlier run
    assert written == {"contour.csv": out / "contour.csv", "scan.h5": out / "scan.h5"}
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging folder left beside it


@pytest.mark.parametrize("stage", ["scan.h5", "contour_pot", "swap"])
def test_a_failed_save_leaves_the_previous_set_untouched(toy_results, tmp_path, monkeypatch, stage):
    """A full disk (ENOSPC) at any file of the set, or a failure of the final swap, leaves the previous
    set as it was and nothing beside it."""
    import errno

    import fipscan.io.results as results

    with_projection, without = toy_results
    out = tmp_path / "out"
    without.save(out, formats=(), polygon=False)
    before = _snapshot(out)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    if stage == "scan.h5":
        monkeypatch.setattr(results, "write_scan_h5", full)
    elif stage == "contour_pot":
        monkeypatch.setattr(results, "contour_csv", lambda c, n=[0]: (n.append(1), full() if len(n) > 2 else "x\n")[1])
    else:
        monkeypatch.setattr(results, "_swap_in", full)
    with pytest.raises(OSError, match="No space"):
        with_projection.save(out, formats=(), polygon=False)
    assert _snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == ["out"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o002, 0o022, 0o077])
def test_the_set_follows_the_umask(toy_results, tmp_path, mask):
    with umask(mask):
        toy_results[1].save(tmp_path / "out", formats=(), polygon=False)
    assert _mode(tmp_path / "out") == 0o777 & ~mask
    assert {_mode(p) for p in (tmp_path / "out").iterdir()} == {0o666 & ~mask}


def test_folders_that_are_no_output_set_are_refused(toy_results, tmp_path, monkeypatch):
    from fipscan.io.results import check_output_set_dir

    res = toy_results[1]
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "notes.txt").write_text("mine\n")
    (mixed / "contour.csv").write_text("old\n")
    with pytest.raises(InputError, match="holds 'notes.txt', not written by a fipscan scan"):
        res.save(mixed, formats=(), polygon=False)
    assert sorted(os.listdir(mixed)) == ["contour.csv", "notes.txt"]
    (mixed / "notes.txt").unlink()
    (mixed / "sub").mkdir()
    with pytest.raises(InputError, match="holds 'sub'"):
        check_output_set_dir(mixed)
    monkeypatch.chdir(tmp_path)
    for here in (".", str(tmp_path.parent)):
        with pytest.raises(InputError, match="working folder"):
            check_output_set_dir(here, "-o/--output")
    # a save killed outright leaves its staging folder; the next save into that folder removes it
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".out.new-{dead.pid}-abc.tmp"
    (stale / "x").mkdir(parents=True)
    res.save(tmp_path / "out", formats=(), polygon=False)
    assert sorted(os.listdir(tmp_path)) == ["mixed", "out"]


def test_table_files_are_refused_for_another_model_or_other_settings(tmp_path):
    # issue 18 (a reviewer's case): tables of a cache entry or of --save-tables were taken for another
    # model / other experiment numbers; now the recorded identity is compared with what is asked for
    from fipscan import cache
    from fipscan.errors import InputError
    from fipscan.experiments import load_experiment
    from fipscan.io.tables import load_tables, save_tables, write_tables
    from fipscan.models import get_model
    from fipscan.testing import toy_tables
    from fipscan.yields import YIELDS_SCHEMA_VERSION

    tables = toy_tables(np.geomspace(0.1, 0.5, 3), n_p=4, n_z=3)
    dp, ds = get_model("dark-photon"), get_model("dark-scalar")
    na62 = load_experiment("na62-bd")
    other = na62.with_pot(1e19)  # another number of the experiment (its settings differ)
    assert other.settings() != na62.settings()
    f = save_tables(tables, tmp_path / "t.h5", model=dp, experiment=na62)
    load_tables(f, model=dp, experiment=na62)  # the right identity: read
    load_tables(f, model="dark-photon", experiment="na62-bd")  # names only: read
    with pytest.raises(InputError, match="built for model 'dark-photon', not 'dark-scalar'"):
        load_tables(f, model=ds, experiment=na62)
    with pytest.raises(InputError, match="other settings of experiment"):
        load_tables(f, model=dp, experiment=other)
    with pytest.raises(InputError, match="other settings of model"):
        load_tables(f, model=get_model("dark-photon", form_factor=False), experiment=na62)
    # a yield cache entry: its key's settings say what it was built for
    settings = {"model": dp.settings(), "experiment": na62.settings(), "masses": [0.1, 0.2, 0.3]}
    entry = cache.entry_path("yields", cache.canonical_key("yields", settings, YIELDS_SCHEMA_VERSION))
    cache.atomic_write_h5(entry, lambda h: write_tables(h, tables), kind="yields",
                          schema_version=YIELDS_SCHEMA_VERSION, attrs={"settings": cache.canonical_json(settings)})
    load_tables(entry, model=dp, experiment=na62)
    with pytest.raises(InputError, match="built for model 'dark-photon', not 'dark-scalar'"):
        load_tables(entry, model=ds, experiment=na62)
    with pytest.raises(InputError, match="other settings of experiment"):
        load_tables(entry, model=dp, experiment=other)
