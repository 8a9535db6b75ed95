"""fipscan: fast, differentiable sensitivity scans for feebly-interacting particles.

The public surface (explicit re-exports):

* ``scan(model, experiment, grid)`` -> ``ScanResult`` (events grid, contour, ``save()``)
* ``precompute(model, experiment, masses)`` -> ``YieldTables`` (coupling-independent, reusable)
* ``Grid`` (log-spaced mass and coupling axes), ``get_model``, ``list_models``,
  ``load_experiment``, ``list_experiments``, ``load_spectra``

float64 is switched on by the process owner (``jax.config.update("jax_enable_x64", True)``), never here.
"""

__version__ = "0.1.0"

from fipscan.experiments import list_experiments, load_experiment
from fipscan.grid import Grid
from fipscan.models import get_model, list_models
from fipscan.scan import ScanResult, scan
from fipscan.yields import YieldTables, precompute


def load_spectra(path=None):
    """Meson spectra per POT (the shipped default file unless ``path`` is given); see fipscan.spectra."""
    from fipscan.spectra import load_spectra as _load

    return _load(path)


__all__ = [
    "__version__",
    "Grid",
    "ScanResult",
    "YieldTables",
    "get_model",
    "list_experiments",
    "list_models",
    "load_experiment",
    "load_spectra",
    "precompute",
    "scan",
]
