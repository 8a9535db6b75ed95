"""The ``fipscan spectra`` and ``fipscan cache`` commands, run as real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from fipscan import cache
from fipscan.cli.main import main
from fipscan.spectra import SPECIES, default_spectra_path

FIPSCAN = [sys.executable, "-m", "fipscan.cli.main"]


def run(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([*FIPSCAN, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})  # fmt: skip


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fipscan: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_spectra_info_json_shape():
    proc = run("spectra", "info", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"species", "provenance"}
    assert list(doc["species"]) == list(SPECIES)
    for sp, values in doc["species"].items():
        assert set(values) == {"per_pot", "per_pp_collision"}
        assert values["per_pot"] > 0 and values["per_pp_collision"] > 0
    assert doc["provenance"]["generator"] == "PYTHIA 8"
    assert doc["provenance"]["settings"]["e_beam"] == 400.0
    assert len(doc["provenance"]["checksum"]) == 64


def test_spectra_info_text_of_explicit_file(tmp_path):
    path = tmp_path / "copy.h5"
    shutil.copyfile(default_spectra_path(), path)
    proc = run("spectra", "info", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "pi0" in proc.stdout and "per POT" in proc.stdout and "checksum" in proc.stdout


def _corrupt_copy(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.h5"
    shutil.copyfile(default_spectra_path(), path)
    with h5py.File(path, "r") as f:
        offset = f["per_pot"].id.get_offset()  # contiguous, uncompressed
    raw = bytearray(path.read_bytes())
    raw[offset + 1] ^= 0x40
    path.write_bytes(bytes(raw))
    return path


def test_corrupt_spectra_file_exit_2_one_line(tmp_path):
    assert_one_line_error(run("spectra", "info", str(_corrupt_copy(tmp_path))), "checksum mismatch", "corrupt.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(default_spectra_path().read_bytes()[:5000])
    assert_one_line_error(run("spectra", "info", str(truncated)), "truncated")
    assert_one_line_error(run("spectra", "info", str(tmp_path / "nope.h5")), "does not exist")


def test_bad_generate_arguments_exit_2(capsys):
    assert main(["spectra", "generate", "--events", "many"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["fipscan: error: --events must be a non-negative integer, got 'many'"]
    assert main(["spectra", "generate", "--events", "-5"]) == 2
    assert "--events must be a non-negative integer, got -5" in capsys.readouterr().err


def test_generate_without_pythia_exit_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pythia8mc", None)
    assert main(["spectra", "generate", "--events", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "fipscan: error: PYTHIA 8 is not installed: pip install 'fipscan[pythia]'"


def test_cache_list_info_clear(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FIPSCAN_CACHE", str(tmp_path / "c"))
    p1 = cache.get_or_build("demo", {"a": 1}, 1, lambda f: f.create_dataset("x", data=np.arange(3)))
    cache.get_or_build("other", {"a": 1}, 1, lambda f: f.create_dataset("x", data=np.arange(3)))
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and all(line.rstrip().endswith("ok") for line in out)
    assert main(["cache", "list", "--kind", "demo", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["key"] == p1.stem and entry["valid"] is True
    assert main(["cache", "info", p1.stem[:10], "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["attrs"]["settings"] == {"a": 1} and info["attrs"]["kind"] == "demo"
    assert main(["cache", "info", "ffffffffff"]) == 2
    assert "no cache entry" in capsys.readouterr().err
    # a damaged entry is listed as such
    p1.write_bytes(p1.read_bytes()[:100])
    assert main(["cache", "list", "--kind", "demo"]) == 0
    assert "BAD:" in capsys.readouterr().out
    assert main(["cache", "clear", "--kind", "demo"]) == 0
    assert "removed 1 demo cache entry" in capsys.readouterr().out
    assert [e["kind"] for e in cache.list_entries()] == ["other"]


def test_cache_list_subprocess_json(tmp_path):
    env = {"FIPSCAN_CACHE": str(tmp_path / "c")}
    proc = run("cache", "list", "--json", env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_generate_ctrl_c_keeps_chunks_and_resumes(tmp_path):
    """Ctrl-C during `fipscan spectra generate` exits 130, keeps finished chunks; rerunning resumes."""
    pytest.importorskip("pythia8mc", reason="PYTHIA 8 (pythia8mc) is not installed")
    env = {"FIPSCAN_CACHE": str(tmp_path / "c")}
    # share PYTHIA's initialisation files with the session's cache (saves a second of set-up)
    shared_init = Path(os.environ["FIPSCAN_CACHE"]) / "pythia-init"
    shared_init.mkdir(parents=True, exist_ok=True)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pythia-init").symlink_to(shared_init, target_is_directory=True)
    # 16 chunks, so that many are still to do when the first lands even on a loaded machine (with 8, the
    # run could finish between the poll and the signal)
    args = ["spectra", "generate", "--events", "4800", "--ccbar-events", "0", "--bbbar-events", "0",
            "--chunk-events", "300", "--workers", "2", "--seed", "77", "-o", str(tmp_path / "out.h5")]  # fmt: skip
    proc = subprocess.Popen([*FIPSCAN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})  # fmt: skip
    spectra_dir = tmp_path / "c" / "spectra"
    deadline = time.time() + 90
    while not list(spectra_dir.glob("*.partial/soft-*.npz")):
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "no chunk finished in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command to resume" in err
    kept = list(spectra_dir.glob("*.partial/soft-*.npz"))
    assert 1 <= len(kept) < 16
    assert not list(spectra_dir.glob("*.h5")) and not (tmp_path / "out.h5").exists()

    again = run(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert "resuming:" in again.stderr
    assert (tmp_path / "out.h5").exists() and not list(spectra_dir.glob("*.partial"))
    proc = run("spectra", "info", "--json", str(tmp_path / "out.h5"))
    assert json.loads(proc.stdout)["provenance"]["n_events"]["soft"] == 4800
