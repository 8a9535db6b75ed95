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
    from fipscan.runtime import configure

    configure(x64=True)  # float64 and a persistent compilation cache inside the session cache
    yield
    if old is None:
        os.environ.pop("FIPSCAN_CACHE", None)
    else:
        os.environ["FIPSCAN_CACHE"] = old
