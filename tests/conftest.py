"""Test configuration: float64 is switched on by the process owner (here), never at library import."""

from __future__ import annotations

import os
from pathlib import Path

# The suite's time is mostly XLA compiling hundreds of programs once each (its CPU time was ~60%
# compilation), not running them.  LLVM's optimisation level 0 cuts the suite's CPU time by ~30%
# (measured: test_acceptance + test_yields_pipeline + test_contour_design, 3 min 36 s -> 2 min 27 s of
# CPU).  It changes how fast the programs run, not what they compute (results agree to rounding, and
# every tolerance in the tests is far above it).  Set before jax initialises its CPU backend; inherited by
# the CLI subprocesses and notebook kernels of the tests; a level the user sets is kept.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

import jax  # noqa: E402  (after XLA_FLAGS)
import pytest

jax.config.update("jax_enable_x64", True)

#: published data the tests compare with ship in tests/data (each file names its source in a header),
#: so that no test depends on ../shared being beside a clone
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """One FIPSCAN_CACHE for the whole run, so tests never touch the user's cache.

    Under pytest-xdist the workers share it (a folder beside their own temporary folders): what one
    worker computed (acceptance Monte Carlo, yield tables, compiled XLA programs) the others read
    instead of computing it again, which is also a standing test that concurrent processes share the
    cache safely.  Tests of the cache itself pass their own directory explicitly.
    """
    old = os.environ.get("FIPSCAN_CACHE")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "fipscan-cache"
        shared.mkdir(exist_ok=True)
        os.environ["FIPSCAN_CACHE"] = str(shared)
    else:
        os.environ["FIPSCAN_CACHE"] = str(tmp_path_factory.mktemp("fipscan-cache"))
    from fipscan.runtime import configure

    configure(x64=True)  # float64 and a persistent compilation cache inside the session cache
    yield
    if old is None:
        os.environ.pop("FIPSCAN_CACHE", None)
    else:
        os.environ["FIPSCAN_CACHE"] = old
