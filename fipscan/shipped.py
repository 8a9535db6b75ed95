"""Cache entries shipped inside the package: the default experiment's acceptance tables, and the yield
tables of the README's main job.

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

The yield tables of :data:`SHIPPED_YIELDS` (the README's main job, ``fipscan scan --model dark-photon
--experiment na62-bd`` on its default masses: 100 log-spaced masses refined around the omega, float64;
6 MB) are shipped the same way under ``data/cache/yields``, so that the main job's first run does not
build them (issue "Performance": a cold first run in <= 15 s).  Their key covers the model settings,
the experiment, the masses, the spectra and acceptance checksums and the algorithm tag, but not the code
of the model's widths: ``tests/test_shipped.py`` therefore also recomputes two of their masses.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["SHIPPED", "SHIPPED_YIELDS", "shipped_key", "main_job_masses", "shipped_yields_key", "rebuild"]

#: (experiment, final state, FIP spin) of the shipped acceptance tables, built in float64: the lepton
#: and pi pi final states NA62-BD selects, for vector (BC1) and spin-0 (BC4/BC5, ALPs) decays, the
#: spin-0 K+K- and pi+pi-pi0pi0 of the dark scalar (BC4/BC5; 0.45 + 1.5 MB), the spin-0 gamma gamma
#: of the dark scalar and the BC9 ALP, and the vector (BC1) hadronic final states that the dark photon's
#: ``--channels all`` scans (without them its first run spends 3-5 minutes in the Monte Carlo; three- and
#: four-body final states decay by flat phase space whatever the spin, so pi+pi-pi0pi0 has one table for
#: both spins, and the ALPs' pi+pi-pi0, pi+pi-eta, K+K-pi0 use the vector's), and the pi+pi-gamma of the
#: ALPs coupled to gluons and fermions (BC10, BC11); 12 MB in all (gzip-compressed HDF5)
SHIPPED = tuple(
    ("na62-bd", fs, spin) for spin in (1, 0) for fs in ("ee", "mumu", "pipi")
) + (("na62-bd", "kk", 0), ("na62-bd", "pipipi0pi0", 0), ("na62-bd", "gammagamma", 0)) + tuple(
    ("na62-bd", fs, 1) for fs in ("kk", "pipipi0", "pipieta", "kkpi0")) + (("na62-bd", "pipigamma", 0),)


def shipped_key(experiment: str, final_state: str, spin: int) -> str:
    """The cache key the listed table has under the current code and configuration (float64)."""
    from fipscan.acceptance import table_key

    return table_key(experiment, final_state, spin=spin, dtype="float64")


#: (model, experiment) of the shipped yield tables, each on :func:`main_job_masses` (the README's main job)
SHIPPED_YIELDS = (("dark-photon", "na62-bd"),)


def main_job_masses(model) -> "np.ndarray":
    """The masses [GeV] ``fipscan scan`` takes for ``model`` without --masses (the model's scan_masses,
    DEFAULT_MASS_POINTS log-spaced, refined around its resonances): the masses of the shipped yields."""
    from types import SimpleNamespace

    from fipscan.cli.scan_cmds import DEFAULT_MASS_POINTS, DEFAULT_SCAN_MASSES, refined_masses
    from fipscan.grid import Grid
    from fipscan.models import get_model

    model = get_model(model)
    lo, hi = getattr(model, "scan_masses", DEFAULT_SCAN_MASSES)
    masses = Grid.log(lo, hi, DEFAULT_MASS_POINTS, *model.coupling.scan_range, 2).masses
    return refined_masses(model, masses, SimpleNamespace(no_refine=False))[0]


def shipped_yields_key(model: str, experiment: str) -> str:
    """The cache key of the listed yield tables under the current code and configuration (float64)."""
    from fipscan.yields import yield_table_key

    return yield_table_key(model, experiment, main_job_masses(model))


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
            yields_out = out.parent / "yields"
            yields_out.mkdir(parents=True, exist_ok=True)
            for model, experiment in SHIPPED_YIELDS:
                from fipscan.yields import precompute

                key = shipped_yields_key(model, experiment)
                target = yields_out / f"{key}.h5"
                if not target.is_file():
                    precompute(model, experiment, main_job_masses(model))
                    shutil.copyfile(entry_path("yields", key), target)
                    print(f"built {model} {experiment} yields: {target.name}", file=sys.stderr)
                installed.append(target)
        finally:
            if old is None:
                os.environ.pop("FIPSCAN_CACHE", None)
            else:
                os.environ["FIPSCAN_CACHE"] = old
    for stale in (set(out.glob("*.h5")) | set((out.parent / "yields").glob("*.h5"))) - set(installed):
        stale.unlink()
        print(f"removed stale {stale.name}", file=sys.stderr)
    return installed


if __name__ == "__main__":
    rebuild()
