"""Test configuration: float64 is switched on by the process owner (here), never at library import."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)

#: published data the tests compare with ship in tests/data (each file names its source in a header),
#: so that no test depends on ../shared being beside a clone
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """One FIPSCAN_CACHE for the whole run, so tests never touch the user's cache.

    Tests of the cache itself pass their own directory explicitly.
    """
    old = os.environ.get("FIPSCAN_CACHE")
    os.environ["FIPSCAN_CACHE"] = str(tmp_path_factory.mktemp("fipscan-cache"))
    old_jax = os.environ.get("FIPSCAN_JAX_CACHE")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # the workers of one run share JAX's compiled programs (reads and writes locked, runtime.configure)
        shared = tmp_path_factory.getbasetemp().parent / "jax-shared"
        shared.mkdir(exist_ok=True)
        os.environ["FIPSCAN_JAX_CACHE"] = str(shared)
    from fipscan.runtime import configure

    configure(x64=True)  # float64 and a persistent compilation cache inside the session cache
    yield
    if old_jax is None:
        os.environ.pop("FIPSCAN_JAX_CACHE", None)
    else:
        os.environ["FIPSCAN_JAX_CACHE"] = old_jax
    if old is None:
        os.environ.pop("FIPSCAN_CACHE", None)
    else:
        os.environ["FIPSCAN_CACHE"] = old


#: the longest test files (minutes of compilation and notebooks) run first, so that two xdist workers
#: (``-n 2 --dist loadfile``) do not end with one of them alone on a long file
_LONG_FIRST = ("test_notebooks.py", "test_na62_bc1.py", "test_yields_pipeline.py", "test_acceptance_nbody.py",
               "test_contour_thresholds.py", "test_contour_differentiable.py", "test_core_seams.py",
               "test_contour_design.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(_LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept otherwise
