"""Models (one file per benchmark) and their registry.

Adding a benchmark: one file defining the model class, plus one line in ``_REGISTRY``.
"""

from __future__ import annotations

import importlib

from fipscan.errors import ConfigError

__all__ = ["get_model", "list_models"]

#: model name -> "module:Class"
_REGISTRY = {
    "dark-photon": "fipscan.models.dark_photon:DarkPhoton",
}


def list_models() -> list[str]:
    """Names of the registered models."""
    return sorted(_REGISTRY)


def get_model(name, **options):
    """A model instance by name (``dark-photon``), with options such as ``form_factor=False``."""
    if not isinstance(name, str):
        return name  # already a model instance
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model '{name}' (known: {', '.join(list_models())})")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)(**options)
