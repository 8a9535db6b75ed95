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
