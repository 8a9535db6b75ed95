"""The acceptance tables shipped inside the package (fipscan.shipped, fipscan.cache.shipped_entry).

The shipped set must match the code and the default experiment as they are now: a change of the
geometry, the selection, the grids or the kernel's algorithm that is not followed by
``python -m fipscan.shipped`` fails here (the table would silently stop being used and every first
run would rebuild it).
"""

from __future__ import annotations

import logging
import shutil

import h5py
import numpy as np

from fipscan import cache
from fipscan.acceptance import build_acceptance_table, load_acceptance_table, table_key
from fipscan.shipped import SHIPPED, shipped_key


def test_every_listed_table_is_shipped_under_its_current_key():
    root = cache.SHIPPED_ROOT / "acceptance"
    keys = {shipped_key(*entry) for entry in SHIPPED}
    assert len(keys) == len(SHIPPED)  # every listed table is a different one
    on_disk = {p.stem for p in root.glob("*.h5")}
    missing = [entry for entry in SHIPPED if shipped_key(*entry) not in on_disk]
    assert not missing, f"stale shipped acceptance tables for {missing}: run 'python -m fipscan.shipped'"
    assert on_disk == keys, "shipped tables that no entry of fipscan.shipped.SHIPPED lists"
    for key in keys:
        assert cache.shipped_entry("acceptance", key) == root / f"{key}.h5"


def test_key_follows_spin_precision_and_settings():
    k = table_key("na62-bd", "pipi", spin=1, dtype="float64")
    assert table_key("na62-bd", "pipi", spin=0, dtype="float64") != k  # sin^2 vs isotropic
    assert table_key("na62-bd", "pipi", spin=1, dtype="float32") != k
    assert table_key("na62-bd", "pipi", spin=1, dtype="float64", n_mc=128) != k
    assert table_key("na62-bd", "ee", spin=0, dtype="float64") != table_key("na62-bd", "ee", spin=1,
                                                                             dtype="float64")


def test_default_table_comes_from_the_package_and_nothing_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("FIPSCAN_CACHE", str(tmp_path / "empty"))
    t = build_acceptance_table("na62-bd", "mumu", spin=1)
    assert t.values.shape == (40, 36, 36, 32)
    assert not list((tmp_path / "empty").rglob("*.h5"))  # read from the package, not built
    # a physical table: in [0, 1], zero beyond the detector's angular reach, sizeable where NA62 looks
    assert 0.0 <= t.values.min() and t.values.max() <= 1.0
    assert t.values.max() > 0.3


def test_shipped_numbers_are_what_the_kernel_computes_now():
    """One mass of the shipped mumu table recomputed with the same settings (same QMC points per mass)."""
    key = shipped_key("na62-bd", "mumu", 1)
    shipped = load_acceptance_table(cache.SHIPPED_ROOT / "acceptance" / f"{key}.h5")
    i = 17
    fresh = build_acceptance_table("na62-bd", "mumu", spin=1, log10m=shipped.log10m[i:i + 1], cache=False)
    np.testing.assert_allclose(fresh.values[0], shipped.values[i], rtol=1e-12, atol=1e-14)


def _demo(f):
    f.create_dataset("x", data=np.arange(10.0))


def test_get_or_build_prefers_a_valid_shipped_entry_and_ignores_a_bad_one(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FIPSCAN_CACHE", str(tmp_path / "user"))
    monkeypatch.setattr(cache, "SHIPPED_ROOT", tmp_path / "shipped")
    settings = {"a": 1}
    key = cache.canonical_key("demo", settings, 1)
    shipped = tmp_path / "shipped" / "demo" / f"{key}.h5"
    shipped.parent.mkdir(parents=True)
    cache.atomic_write_h5(shipped, _demo, kind="demo", schema_version=1, attrs={"key": key})
    calls = []
    assert cache.get_or_build("demo", settings, 1, lambda f: calls.append(1)) == shipped
    assert calls == []
    # a shipped file carrying another key (renamed by hand) is not trusted
    other = cache.canonical_key("demo", {"a": 2}, 1)
    shutil.copyfile(shipped, shipped.with_name(f"{other}.h5"))
    with caplog.at_level(logging.WARNING, logger="fipscan.cache"):
        p = cache.get_or_build("demo", {"a": 2}, 1, _demo)
    assert p == cache.entry_path("demo", other) and "holds key" in caplog.text
    # a damaged shipped file is ignored with a warning and the entry built in the user's cache
    with open(shipped, "r+b") as fh:
        fh.truncate(200)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fipscan.cache"):
        p = cache.get_or_build("demo", settings, 1, _demo)
    assert p == cache.entry_path("demo", key) and "bad shipped entry" in caplog.text
    with h5py.File(p) as f:
        np.testing.assert_array_equal(f["x"][()], np.arange(10.0))


def test_a_float32_process_reads_the_shipped_float64_table(tmp_path, monkeypatch):
    """Without x64 the table's key says float32; the shipped float64 table of the same settings is used
    (no Monte Carlo, nothing written) and it is the same table."""
    import jax

    monkeypatch.setenv("FIPSCAN_CACHE", str(tmp_path / "empty"))
    with jax.enable_x64(False):
        assert table_key("na62-bd", "ee", spin=1) != shipped_key("na62-bd", "ee", 1)
        t = build_acceptance_table("na62-bd", "ee", spin=1)
    assert not list((tmp_path / "empty").rglob("*.h5"))
    ref = load_acceptance_table(cache.SHIPPED_ROOT / "acceptance" / f"{shipped_key('na62-bd', 'ee', 1)}.h5")
    np.testing.assert_array_equal(t.values, ref.values)


def test_main_job_yield_tables_are_shipped_current_and_used(tmp_path, monkeypatch):
    """The README main job's yield tables ship under their current key, hold what the code computes now
    (two masses recomputed: the key does not cover the code of the widths), and a run with an empty
    cache reads them instead of building."""
    from fipscan.io.tables import read_tables
    from fipscan.shipped import SHIPPED_YIELDS, main_job_masses, shipped_yields_key
    from fipscan.yields import compute_tables, precompute

    root = cache.SHIPPED_ROOT / "yields"
    keys = {shipped_yields_key(*entry) for entry in SHIPPED_YIELDS}
    on_disk = {p.stem for p in root.glob("*.h5")}
    assert keys == on_disk, "stale or unlisted shipped yield tables: run 'python -m fipscan.shipped'"
    (model, experiment), = SHIPPED_YIELDS
    masses = main_job_masses(model)
    assert masses.size == 119  # 100 log-spaced + 19 around the omega (the CLI's progress line says so)
    key = shipped_yields_key(model, experiment)
    with h5py.File(root / f"{key}.h5") as f:
        shipped = read_tables(f, np.float64)
    pick = [40, 95]  # 0.094 GeV (meson decays + brems) and the omega peak's neighbourhood
    fresh = compute_tables(model, experiment, masses[pick])
    np.testing.assert_allclose(np.asarray(fresh.weights), np.asarray(shipped.weights)[pick], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(np.asarray(fresh.log_s1), np.asarray(shipped.log_s1)[pick], rtol=1e-12)
    monkeypatch.setenv("FIPSCAN_CACHE", str(tmp_path / "empty"))
    t = precompute(model, experiment, masses)
    assert not list((tmp_path / "empty").rglob("yields/*.h5"))  # read from the package, nothing built
    np.testing.assert_array_equal(np.asarray(t.weights), np.asarray(shipped.weights))
