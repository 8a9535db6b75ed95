"""Cache entries shipped inside the package: the default experiment's acceptance tables.

The acceptance Monte Carlo of a full NA62-BD table takes about a minute per final state on one core;
a first run (the README's main job, a new user's first scan, CI) would spend most of its time there.
The tables of :data:`SHIPPED` are therefore built once, here, and installed with the package under
``fipscan/data/cache/acceptance/<key>.h5``, named by the same key the cache gives them
(:func:`fipscan.cache.canonical_key` of every setting that changes the numbers: geometry, selection,
grids, n_mc, seed, angular distribution, sampling, float precision, algorithm, schema).
:func:`fipscan.cache.get_or_build` reads a shipped entry when the user's cache has none; a change of
any setting changes the key, so a stale shipped table is never used -- the table is then built in the
user's cache as before (slower, never wrong).  ``tests/test_shipped.py`` fails when a listed table no
longer matches its key, so that the shipped set is rebuilt with the change that made it stale:

    python -m fipscan.shipped          # rebuild every listed table (about 6 minutes on one core)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["SHIPPED", "shipped_key", "rebuild"]

#: (experiment, final state, FIP spin) of the shipped acceptance tables, built in float64: the lepton
#: and pi pi final states NA62-BD selects, for vector (BC1) and spin-0 (BC4/BC5, ALPs) decays, the
#: spin-0 K+K- and pi+pi-pi0pi0 of the dark scalar (BC4/BC5; 0.45 + 1.5 MB), the spin-0 gamma gamma
#: of the dark scalar and the BC9 ALP, and the vector (BC1) hadronic final states that the dark photon's
#: ``--channels all`` scans (without them its first run spends 3-5 minutes in the Monte Carlo; three- and
#: four-body final states decay by flat phase space whatever the spin, so pi+pi-pi0pi0 has one table for
#: both spins); 11 MB in all (gzip-compressed HDF5)
SHIPPED = tuple(
    ("na62-bd", fs, spin) for spin in (1, 0) for fs in ("ee", "mumu", "pipi")
) + (("na62-bd", "kk", 0), ("na62-bd", "pipipi0pi0", 0), ("na62-bd", "gammagamma", 0)) + tuple(
    ("na62-bd", fs, 1) for fs in ("kk", "pipipi0", "pipieta", "kkpi0"))


def shipped_key(experiment: str, final_state: str, spin: int) -> str:
    """The cache key the listed table has under the current code and configuration (float64)."""
    from fipscan.acceptance import table_key

    return table_key(experiment, final_state, spin=spin, dtype="float64")


def rebuild(out: Path | None = None) -> list[Path]:
    """Build every table of :data:`SHIPPED` afresh (in a temporary cache) and install it under
    ``out`` (default: the package's ``data/cache/acceptance``), removing shipped tables no longer
    listed.  Needs float64 (it switches it on).  Returns the installed paths."""
    import jax

    jax.config.update("jax_enable_x64", True)
    from fipscan.acceptance import build_acceptance_table
    from fipscan.cache import SHIPPED_ROOT, entry_path

    out = Path(out) if out is not None else SHIPPED_ROOT / "acceptance"
    out.mkdir(parents=True, exist_ok=True)
    installed = []
    old = os.environ.get("FIPSCAN_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FIPSCAN_CACHE"] = tmp
        try:
            for experiment, fs, spin in SHIPPED:
                key = shipped_key(experiment, fs, spin)
                target = out / f"{key}.h5"
                if not target.is_file():
                    build_acceptance_table(experiment, fs, spin=spin)
                    shutil.copyfile(entry_path("acceptance", key), target)
                    print(f"built {experiment} {fs} spin {spin}: {target.name}", file=sys.stderr)
                installed.append(target)
        finally:
            if old is None:
                os.environ.pop("FIPSCAN_CACHE", None)
            else:
                os.environ["FIPSCAN_CACHE"] = old
    for stale in set(out.glob("*.h5")) - set(installed):
        stale.unlink()
        print(f"removed stale {stale.name}", file=sys.stderr)
    return installed


if __name__ == "__main__":
    rebuild()
