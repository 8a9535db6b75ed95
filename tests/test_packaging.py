"""Packaging: fipscan.kernels maps to the top-level kernels/ folder, for editable and normal installs,
and the kernels never import the rest of fipscan."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_kernels_import_nothing_from_fipscan():
    offenders = []
    for path in sorted((REPO / "kernels").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            offenders += [f"{path.name}: {n}" for n in names if n == "fipscan" or n.startswith("fipscan.")]
    assert offenders == []
    # and every kernel module is actually checked
    assert len(list((REPO / "kernels").glob("*.py"))) >= 5


def test_editable_install_maps_kernels_to_the_checkout():
    import fipscan.kernels

    assert Path(fipscan.kernels.__file__).resolve().parent == (REPO / "kernels").resolve()


def _declared_packages() -> list[str]:
    import tomllib

    with open(REPO / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]["packages"]


def test_every_subpackage_is_declared():
    """A folder of fipscan/ with an __init__.py that pyproject.toml does not list would be missing
    from a normal (non-editable) install."""
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "fipscan").rglob("__init__.py")}
    declared = set(_declared_packages())
    assert found - declared == set()
    assert "fipscan.kernels" in declared and "fipscan.io" in declared


def test_cli_does_not_import_bench():
    """bench/ is not installed: no module of the installed package may import it."""
    offenders = []
    for path in sorted((REPO / "fipscan").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.fullmatch(r"bench(\.\w+)*", node.value):
                names = [node.value]  # importlib.import_module("bench.run")
            else:
                continue
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n == "bench" or n.startswith("bench.")]
    assert offenders == []


def test_normal_install_ships_kernels_inside_fipscan(tmp_path):
    """Build a wheel (a normal install) and check fipscan/kernels/* is in it, and no top-level kernels."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    if out.returncode != 0 and "No module named" in out.stderr:
        pytest.skip(f"cannot build a wheel here: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("fipscan-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "fipscan/kernels/decay.py" in names and "fipscan/kernels/yields.py" in names
    assert not any(n.startswith("kernels/") for n in names)
    assert "fipscan/experiments/na62_bd.toml" in names
    assert {"fipscan/io/__init__.py", "fipscan/io/atomic.py", "fipscan/io/tables.py"} <= set(names)
    assert not any(n.startswith("bench/") or n.startswith("tests/") for n in names)
    assert any(n.startswith("fipscan/spectra/data/") and n.endswith(".h5") for n in names)
    # the installed wheel imports fipscan.kernels from inside the package
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    code = "import fipscan.kernels.decay as d, pathlib; print(pathlib.Path(d.__file__).parent)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert res.returncode == 0, res.stderr
    assert Path(res.stdout.strip()) == target / "fipscan" / "kernels"
