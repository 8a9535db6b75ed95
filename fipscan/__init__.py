"""fipscan: fast, differentiable sensitivity scans for feebly-interacting particles.

The public surface (explicit, loaded lazily so that ``fipscan --version`` and the CLI's argument
checks do not pay for importing JAX):

* ``scan(model, experiment, grid)`` -> ``ScanResult`` (events grid, contour, ``save()``)
* ``precompute(model, experiment, masses)`` -> ``YieldTables`` (coupling-independent, reusable)
* ``Grid`` (log-spaced mass and coupling axes), ``get_model``, ``list_models``,
  ``load_experiment``, ``list_experiments``, ``load_spectra``

float64 is switched on by the process owner (``jax.config.update("jax_enable_x64", True)`` or
``fipscan.runtime.configure()``), never at import.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "Grid": "fipscan.grid",
    "ScanResult": "fipscan.scanner",
    "scan": "fipscan.scanner",
    "YieldTables": "fipscan.yields",
    "precompute": "fipscan.yields",
    "get_model": "fipscan.models",
    "list_models": "fipscan.models",
    "load_experiment": "fipscan.experiments",
    "list_experiments": "fipscan.experiments",
    "load_spectra": "fipscan.spectra",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fipscan' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
