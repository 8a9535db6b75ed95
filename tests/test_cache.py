"""Tests of fipscan.cache: keys, round trip, corruption, concurrency and crash safety."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from fipscan import cache
from fipscan.errors import CacheError, InputError

SETTINGS = {"n_events": 1000, "seed": 7, "e_beam": 400.0, "target": "p", "flags": [1, 2], "x": {"a": 0.1}}


@pytest.fixture()
def cdir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("FIPSCAN_CACHE", str(d))
    return d


def _build_simple(f: h5py.File) -> None:
    f.create_dataset("x", data=np.arange(1000, dtype="f8"))
    f.create_dataset("g/y", data=np.ones((3, 4), dtype="i4"))


# ------------------------------------------------------------------------------------ keys
def test_cache_root_from_env(cdir):
    assert cache.cache_root() == cdir
    assert cdir.is_dir()


def test_key_stable_across_dict_order():
    a = cache.canonical_key("k", {"a": 1, "b": {"c": 2.5, "d": "x"}}, 1)
    b = cache.canonical_key("k", {"b": {"d": "x", "c": 2.5}, "a": 1}, 1)
    assert a == b and len(a) == 64


def test_key_changes_with_every_setting_kind_and_schema():
    base = cache.canonical_key("k", SETTINGS, 1)
    variants = [
        {**SETTINGS, "n_events": 1001},
        {**SETTINGS, "seed": 8},
        {**SETTINGS, "e_beam": 400.0000000001},  # floats are keyed exactly
        {**SETTINGS, "target": "angantyr-cu"},
        {**SETTINGS, "flags": [2, 1]},
        {**SETTINGS, "x": {"a": 0.10000000000000002}},
        {k: v for k, v in SETTINGS.items() if k != "seed"},
    ]
    keys = {cache.canonical_key("k", v, 1) for v in variants}
    assert base not in keys and len(keys) == len(variants)
    assert cache.canonical_key("k", SETTINGS, 2) != base
    assert cache.canonical_key("other", SETTINGS, 1) != base


def test_key_numpy_values_equal_python_values():
    np_settings = {**SETTINGS, "n_events": np.int64(1000), "e_beam": np.float64(400.0), "flags": np.array([1, 2])}
    assert cache.canonical_key("k", np_settings, 1) == cache.canonical_key("k", SETTINGS, 1)


def test_key_rejects_unserialisable_and_bad_kind():
    with pytest.raises(InputError):
        cache.canonical_key("k", {"f": object()}, 1)
    with pytest.raises(InputError):
        cache.canonical_key("../evil", {}, 1)
    with pytest.raises(InputError):
        cache.entry_path("k", "not-a-key")


# ------------------------------------------------------------------------------ round trip
def test_round_trip_and_attrs(cdir):
    p = cache.get_or_build("demo", SETTINGS, 3, _build_simple, attrs={"provenance": {"gen": "test"}})
    assert p == cache.entry_path("demo", cache.canonical_key("demo", SETTINGS, 3))
    cache.verify_h5(p, kind="demo", schema_version=3)
    with h5py.File(p, "r") as f:
        np.testing.assert_array_equal(f["x"][()], np.arange(1000.0))
        assert f.attrs["kind"] == "demo" and int(f.attrs["schema_version"]) == 3
        assert f.attrs["settings"] == cache.canonical_json(SETTINGS)
        assert '"gen":"test"' in f.attrs["provenance"]
        for a in ("fipscan_version", "created", "checksum", "key"):
            assert a in f.attrs
    # a second call returns the same file without building
    calls = []
    assert cache.get_or_build("demo", SETTINGS, 3, lambda f: calls.append(1)) == p
    assert calls == []
    [entry] = cache.list_entries("demo")
    assert entry["valid"] and entry["problem"] is None and entry["size"] == p.stat().st_size


def test_schema_mismatch_is_named(cdir):
    p = cache.get_or_build("demo", SETTINGS, 3, _build_simple)
    with pytest.raises(CacheError, match="schema 3 != 2"):
        cache.verify_h5(p, schema_version=2)
    with pytest.raises(CacheError, match="kind"):
        cache.verify_h5(p, kind="spectra")


def test_not_hdf5_is_named(tmp_path):
    p = tmp_path / "x.h5"
    p.write_text("hello, not HDF5 at all")
    with pytest.raises(CacheError, match="not an HDF5 file"):
        cache.verify_h5(p)


def test_build_failure_leaves_nothing(cdir):
    def bad(f):
        f.create_dataset("x", data=np.zeros(10))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_build("demo", SETTINGS, 1, bad)
    assert [q.name for q in (cdir / "demo").iterdir() if not q.name.endswith(".lock")] == []


# ------------------------------------------------------------------------------ corruption
def test_truncated_entry_detected_and_rebuilt(cdir):
    p = cache.get_or_build("demo", SETTINGS, 1, _build_simple)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CacheError, match="truncated"):
        cache.verify_h5(p)
    with pytest.raises(CacheError, match="truncated"):
        cache.get_or_build("demo", SETTINGS, 1, _build_simple, on_corrupt="raise")
    assert not cache.list_entries("demo")[0]["valid"]
    assert cache.get_or_build("demo", SETTINGS, 1, _build_simple) == p
    cache.verify_h5(p)


def test_flipped_byte_detected_and_rebuilt(cdir):
    p = cache.get_or_build("demo", SETTINGS, 1, _build_simple)
    with h5py.File(p, "r") as f:
        offset = f["x"].id.get_offset()  # contiguous raw data of dataset x
    raw = bytearray(p.read_bytes())
    raw[offset + 4001] ^= 0x10
    p.write_bytes(bytes(raw))
    with pytest.raises(CacheError, match="checksum mismatch"):
        cache.verify_h5(p)
    calls = []

    def build(f):
        calls.append(1)
        _build_simple(f)

    cache.get_or_build("demo", SETTINGS, 1, build)
    assert calls == [1]
    cache.verify_h5(p)


def test_edited_attribute_detected(cdir):
    p = cache.get_or_build("demo", SETTINGS, 1, _build_simple, attrs={"provenance": "original"})
    with h5py.File(p, "a") as f:
        f.attrs["provenance"] = "forged"
    with pytest.raises(CacheError, match="checksum mismatch"):
        cache.verify_h5(p)


def test_clear(cdir):
    cache.get_or_build("a", {"i": 1}, 1, _build_simple)
    cache.get_or_build("a", {"i": 2}, 1, _build_simple)
    cache.get_or_build("b", {"i": 1}, 1, _build_simple)
    assert len(cache.list_entries()) == 3
    assert cache.clear("a") == 2
    assert [e["kind"] for e in cache.list_entries()] == ["b"]
    assert cache.clear() == 1
    assert cache.list_entries() == []


# ------------------------------------------------------------------------------ concurrency
def _worker_get(cache_dir: str, counter: str, barrier_file: str) -> str:
    os.environ["FIPSCAN_CACHE"] = cache_dir
    from fipscan import cache as c

    def build(f):
        with open(counter, "a") as fh:  # one line per build, O_APPEND
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.3)  # make the race window wide
        f.create_dataset("x", data=np.arange(10_000, dtype="f8"))

    while not os.path.exists(barrier_file):  # start together
        time.sleep(0.005)
    return str(c.get_or_build("race", {"same": "key"}, 1, build))


def test_eight_processes_build_once(cdir, tmp_path):
    counter = tmp_path / "builds.txt"
    barrier = tmp_path / "go"
    ctx = mp.get_context("spawn")
    with ctx.Pool(8) as pool:
        results = [pool.apply_async(_worker_get, (str(cdir), str(counter), str(barrier))) for _ in range(8)]
        time.sleep(0.5)
        barrier.touch()
        paths = {r.get(timeout=120) for r in results}
    assert len(paths) == 1
    assert len(counter.read_text().splitlines()) == 1
    h5s = [q for q in (cdir / "race").iterdir() if q.suffix == ".h5"]
    assert len(h5s) == 1 and not any(q.name.endswith(".tmp") for q in (cdir / "race").iterdir())
    cache.verify_h5(h5s[0], kind="race", schema_version=1)


def _worker_killed_mid_write(cache_dir: str, marker: str) -> None:
    os.environ["FIPSCAN_CACHE"] = cache_dir
    from fipscan import cache as c

    def build(f):
        f.create_dataset("x", data=np.arange(100_000, dtype="f8"))
        f.flush()
        Path(marker).touch()
        time.sleep(600)  # killed here

    c.get_or_build("crash", {"k": 1}, 1, build)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_mid_write_leaves_no_corrupt_entry(cdir, tmp_path):
    marker = tmp_path / "writing"
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_worker_killed_mid_write, args=(str(cdir), str(marker)))
    proc.start()
    deadline = time.time() + 60
    while not marker.exists():
        assert time.time() < deadline and proc.is_alive(), "worker never started writing"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    path = cache.entry_path("crash", cache.canonical_key("crash", {"k": 1}, 1))
    assert not path.exists()  # nothing under the final name
    assert cache.list_entries("crash") == []
    # the lock died with the process; the next build succeeds and sweeps the stale temp file
    assert cache.get_or_build("crash", {"k": 1}, 1, _build_simple) == path
    cache.verify_h5(path)
    assert not any(q.name.endswith(".tmp") for q in path.parent.iterdir())


# ------------------------------------------------------------------ identity (issue 18, kind 8)
def _counting(calls):
    def build(f):
        calls.append(1)
        _build_simple(f)

    return build


def test_entry_of_another_key_under_this_name_is_rebuilt(cdir, caplog):
    """The issue's example: a valid entry of another key copied over this key's path was read as this
    key's (9-mass tables for an 8-mass scan).  The entry stores its key; a mismatch is rebuilt with
    one warning line."""
    mine = cache.get_or_build("demo", {"masses": 8}, 1, _build_simple)
    other = cache.get_or_build("demo", {"masses": 9}, 1, lambda f: f.create_dataset("x", data=np.zeros(9)))
    mine.write_bytes(other.read_bytes())  # valid file, checksum fine, wrong identity
    with pytest.raises(CacheError, match="holds key"):
        cache.verify_h5(mine, key=mine.stem)
    calls = []
    with caplog.at_level("WARNING", logger="fipscan.cache"):
        got = cache.get_or_build("demo", {"masses": 8}, 1, _counting(calls))
    assert calls == [1] and got == mine
    [warning] = [r.getMessage() for r in caplog.records]
    assert "holds key" in warning and "\n" not in warning
    with h5py.File(mine) as f:
        assert f["x"].shape == (1000,) and f.attrs["key"] == mine.stem
    # the same entry copied under a name of another kind, and an entry that carries no key at all
    (cdir / "other").mkdir()
    moved = cdir / "other" / mine.name
    moved.write_bytes(mine.read_bytes())
    assert not cache.list_entries("other")[0]["valid"]
    bare = cache.entry_path("demo", cache.canonical_key("demo", {"masses": 10}, 1))
    cache.atomic_write_h5(bare, _build_simple, kind="demo", schema_version=1)  # checksum, no key
    calls = []
    cache.get_or_build("demo", {"masses": 10}, 1, _counting(calls))
    assert calls == [1]


def test_scan_refuses_tables_of_other_masses_from_the_cache(monkeypatch):
    """scan() compares the tables' masses with the grid's also when it built (or read) them itself."""
    import fipscan.scanner as scanner
    from fipscan.grid import Grid
    from fipscan.testing import toy_tables

    grid = Grid.log(0.1, 0.5, 8, 1e-7, 1e-4, 10)
    for masses in (np.geomspace(0.1, 0.5, 9), np.geomspace(0.1, 0.6, 8), grid.masses[:1]):
        monkeypatch.setattr(scanner, "precompute", lambda *a, m=masses, **k: toy_tables(m, n_p=4, n_z=3))
        with pytest.raises(InputError, match=f"hold {masses.size} masses that are not the grid's 8"):
            scanner.scan("dark-photon", "na62-bd", grid, channels="ee", bands=False)


def test_cache_list_marks_entries_of_another_schema_version(cdir, capsys):
    from fipscan.acceptance import SCHEMA_VERSION as acceptance_schema
    from fipscan.cli.main import main
    from fipscan.spectra.core import SCHEMA_VERSION as spectra_schema
    from fipscan.yields import YIELDS_SCHEMA_VERSION

    assert cache.SCHEMA_VERSIONS == {"acceptance": acceptance_schema, "yields": YIELDS_SCHEMA_VERSION,
                                     "spectra": spectra_schema}
    old = cache.SCHEMA_VERSIONS["yields"] - 1
    cache.get_or_build("yields", {"i": 1}, old, _build_simple)
    cache.get_or_build("yields", {"i": 1}, cache.SCHEMA_VERSIONS["yields"], _build_simple)
    cache.get_or_build("acceptance", {"i": 1}, 99, _build_simple)  # a newer fipscan's entry
    cache.get_or_build("demo", {"i": 1}, 7, _build_simple)  # a kind of no known version
    entries = {(e["kind"], e["schema_version"]): e for e in cache.list_entries()}
    assert entries[("yields", old)]["stale"] and entries[("acceptance", 99)]["stale"]
    assert not entries[("yields", old + 1)]["stale"] and not entries[("demo", 7)]["stale"]
    assert all(e["valid"] for e in entries.values())
    assert main(["cache", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum("STALE: schema" in ln for ln in lines) == 2 and sum(ln.endswith(" ok") for ln in lines) == 2


@pytest.mark.parametrize("damage", ["zero-tail", "empty", "text"])
def test_cache_info_on_a_damaged_entry_is_one_line(cdir, capsys, damage):
    from fipscan.cli.main import main

    p = cache.get_or_build("demo", SETTINGS, 1, _build_simple, attrs={"provenance": {"x": 1}})
    n = p.stat().st_size
    if damage == "zero-tail":  # the example: a zero-filled tail (a crash of the file system)
        with open(p, "r+b") as fh:
            fh.seek(n // 20)
            fh.write(b"\0" * (n - n // 20))
    else:
        p.write_bytes(b"" if damage == "empty" else b"not hdf5\n")
    assert main(["cache", "info", p.stem[:8]]) == 0
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1 and "BAD: bad fipscan file" in out and err == ""


def test_a_reader_racing_clear_keeps_reading(cdir):
    """get_or_build(read=...) verifies and reads through one open handle: a clear in between does not
    make the reader fail; an entry cleared before it was opened is rebuilt."""
    cache.get_or_build("demo", SETTINGS, 1, _build_simple)

    def read_after_a_clear(f):
        assert cache.clear() == 1  # another process's 'fipscan cache clear', right after the check
        return f["x"][()].sum(), f["g/y"][()].shape

    assert cache.get_or_build("demo", SETTINGS, 1, _build_simple, read=read_after_a_clear) == (499500.0, (3, 4))
    calls = []
    assert cache.get_or_build("demo", SETTINGS, 1, _counting(calls), read=lambda f: f["x"].shape) == (1000,)
    assert calls == [1]  # the cleared entry was rebuilt, under the lock that clear also takes
    assert cache.get_or_build("demo", SETTINGS, 1, _counting(calls), read=lambda f: f["x"].shape) == (1000,)
    assert calls == [1]


def test_stale_temporary_files_are_removed_by_any_build_and_by_clear(cdir):
    from filelock import FileLock

    d = cdir / "demo"
    d.mkdir(parents=True)
    k1, k2, k3 = (cache.canonical_key("demo", {"i": i}, 1) for i in range(3))
    killed = d / f".{k1}.h5.abc123.tmp"  # a build of k1 was killed: nobody holds k1.lock
    building = d / f".{k2}.h5.def456.tmp"  # k2 is being built right now (its lock is held)
    old_other, new_other = d / ".x.old.tmp", d / ".x.new.tmp"
    for p in (killed, building, old_other, new_other):
        p.write_bytes(b"partial")
    os.utime(old_other, (time.time() - 2 * cache.STALE_TMP_SECONDS,) * 2)
    with FileLock(d / f"{k2}.lock"):
        cache.get_or_build("demo", {"i": 2}, 1, _build_simple)  # a build of a third key sweeps the folder
    assert not killed.exists() and not old_other.exists()
    assert building.exists() and new_other.exists()
    cache.clear("demo")
    assert not building.exists() and not new_other.exists()


def test_clear_empties_the_jax_compilation_cache(cdir, capsys):
    from fipscan.cli.main import main

    jax_dir = cache.cache_root() / cache.JAX_CACHE_DIR
    (jax_dir / "sub").mkdir(parents=True)
    (jax_dir / "jit_f-truncated").write_bytes(b"\0" * 10)
    (jax_dir / "sub" / "x").write_bytes(b"1")
    cache.get_or_build("demo", SETTINGS, 1, _build_simple)
    assert cache.clear("demo") == 1 and len(list(jax_dir.iterdir())) == 2  # one kind: JAX's cache stays
    assert main(["cache", "clear"]) == 0
    assert "JAX compilation cache" in capsys.readouterr().out
    assert jax_dir.is_dir() and list(jax_dir.iterdir()) == []
    assert cache.list_entries() == []


def test_truncated_jax_compilation_cache_entries_are_dropped_once(tmp_path):
    # issue 18, kind 8: a JAX cache entry truncated by a killed writer would warn in every later run;
    # configure() removes entries that cannot be decompressed (only those newer than its last check)
    from jax._src.compilation_cache import compress_executable

    from fipscan.runtime import drop_unreadable_jax_entries

    good = compress_executable(b"x" * 5000)
    (tmp_path / "jit_f-aaa-cache").write_bytes(good)
    (tmp_path / "jit_g-bbb-cache").write_bytes(good[: len(good) // 2])  # truncated
    (tmp_path / "jit_h-ccc-cache").write_bytes(b"")  # killed before the first byte
    assert sorted(drop_unreadable_jax_entries(tmp_path)) == ["jit_g-bbb-cache", "jit_h-ccc-cache"]
    assert sorted(p.name for p in tmp_path.glob("*-cache")) == ["jit_f-aaa-cache"]
    # a second run reads nothing old: an entry older than the stamp is not opened again
    old = tmp_path / "jit_k-ddd-cache"
    old.write_bytes(b"\x00garbage")
    os.utime(old, (1.0, 1.0))
    assert drop_unreadable_jax_entries(tmp_path) == [] and old.exists()


def test_clear_does_not_stop_at_a_folder_in_an_entry_s_name(tmp_path, monkeypatch):
    # a reviewer's case: a directory named <key>.h5 made `cache clear` stop halfway (IsADirectoryError)
    monkeypatch.setenv("FIPSCAN_CACHE", str(tmp_path))
    from fipscan import cache

    d = tmp_path / "yields"
    d.mkdir()
    (d / ("b" * 64 + ".h5")).mkdir()
    for c in "acf":
        cache.atomic_write_h5(d / (c * 64 + ".h5"), lambda f: f.create_dataset("x", data=[1.0]), kind="yields",
                              schema_version=1)
    assert cache.clear("yields") == 3
    assert list(d.iterdir()) == []


def test_jax_cache_warnings_are_shown_once(monkeypatch):
    # a full disk under the cache made JAX warn once per compiled program (44 lines for one `info`)
    import warnings

    from fipscan import runtime

    shown = []
    monkeypatch.setattr(warnings, "showwarning", lambda message, *a, **k: shown.append(str(message)))
    runtime._one_warning_for_cache_errors()
    runtime._one_warning_for_cache_errors()  # idempotent: one filter however often configure() runs
    for k in range(5):
        warnings.showwarning(UserWarning(f"Error writing persistent compilation cache entry for 'jit_f{k}': "
                                         "OSError: [Errno 28] No space left on device"), UserWarning, "x.py", 1)
    warnings.showwarning(UserWarning("something else"), UserWarning, "x.py", 2)
    assert len(shown) == 2 and "jit_f0" in shown[0] and "only costs time" in shown[0]
    assert shown[1] == "something else"


def test_keys_ignore_the_last_bit_noise_of_computed_masses():
    """Log-spaced masses differ in the last bit between CPUs (SIMD pow/exp): the same grid must get the
    same yield-table key everywhere (the shipped main-job tables are found by it), while masses that
    really differ (1e-9 relative, far below any scan step but far above rounding) get another key."""
    from fipscan.cache import key_floats
    from fipscan.yields import yield_table_key

    m = np.geomspace(0.01, 2.0, 7)
    noisy = np.nextafter(m, 1.0)
    assert not np.array_equal(m, noisy) and key_floats(m) == key_floats(noisy)
    key = yield_table_key("dark-photon", "na62-bd", m[:3])
    assert yield_table_key("dark-photon", "na62-bd", noisy[:3]) == key
    assert yield_table_key("dark-photon", "na62-bd", m[:3] * (1 + 1e-9)) != key
