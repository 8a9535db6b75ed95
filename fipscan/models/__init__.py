"""Models (one file per benchmark; the protocol is fipscan.models.base.Model) and their registry.

Adding a benchmark: one file defining the model class, plus one line in ``_REGISTRY``.  A model class
of your own, in any importable module, is used as ``get_model("package.module:Class")`` (and
``fipscan scan --model package.module:Class``).
"""

from __future__ import annotations

import dataclasses
import importlib

from fipscan.errors import ConfigError

__all__ = ["get_model", "list_models", "parse_model_options"]

#: model name -> "module:Class"
_REGISTRY = {
    "dark-photon": "fipscan.models.dark_photon:DarkPhoton",
    "dark-scalar": "fipscan.models.dark_scalar:DarkScalar",
    "dark-scalar-bc5": "fipscan.models.dark_scalar_bc5:DarkScalarBC5",
    "alp-photon": "fipscan.models.alp_photon:ALPPhoton",
    "alp-fermion": "fipscan.models.alp_fermion:ALPFermion",
    "alp-gluon": "fipscan.models.alp_gluon:ALPGluon",
    "generic": "fipscan.models.generic:GenericFIP",
}


def list_models() -> list[str]:
    """Names of the registered models."""
    return sorted(_REGISTRY)


def _model_class(name: str):
    if name in _REGISTRY:
        target = _REGISTRY[name]
    elif ":" in name:
        target = name
    else:
        raise ConfigError(f"unknown model '{name}' (known: {', '.join(list_models())}; or module:Class)")
    module, _, cls = target.partition(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load model '{name}': {exc}") from None


def get_model(name, **options):
    """A model instance by name (``dark-photon``) or ``module:Class``, with options as keyword
    arguments (``form_factor=False``); an instance is returned as it is.  ConfigError (one line) for an
    unknown model or option."""
    if not isinstance(name, str):
        if options:
            raise ConfigError("model options apply to a model given by name, not to an instance")
        return name
    cls = _model_class(name)
    fields = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    for key in options:
        if key not in fields:
            raise ConfigError(f"model {name} has no option '{key}' (options: {', '.join(fields) or 'none'})")
    try:
        model = cls(**options)
    except TypeError as exc:
        raise ConfigError(f"model {name}: {exc}") from None
    if name not in _REGISTRY:  # a user's module:Class (registered models are checked by the tests)
        from fipscan.models.base import check_model

        problems = check_model(model)
        if problems:
            raise ConfigError(f"model {name} does not follow fipscan.models.base.Model: {'; '.join(problems)}")
    return model


def parse_model_options(name: str, items) -> dict:
    """``KEY=VALUE`` strings -> keyword options of model ``name``, each VALUE converted to the type of
    the option's default (bool: true/false/1/0/yes/no; tuple: comma-separated).  ConfigError naming the
    item for a malformed, unknown or repeated option."""
    cls = _model_class(name)
    fields = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    out = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConfigError(f"--model-option {item!r} must be KEY=VALUE")
        if key not in fields:
            raise ConfigError(f"--model-option {key}: model {name} has no such option "
                              f"(options: {', '.join(fields) or 'none'})")
        if key in out:
            raise ConfigError(f"--model-option {key} is given twice")
        default = fields[key].default
        if isinstance(default, bool):
            low = value.lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ConfigError(f"--model-option {key}={value}: expected true or false")
            out[key] = low in ("true", "1", "yes")
        elif isinstance(default, tuple):
            parts = tuple(v.strip() for v in value.split(","))
            if not value or any(not v for v in parts):
                raise ConfigError(f"--model-option {key}={value!r}: expected a comma-separated list")
            out[key] = parts
        elif isinstance(default, (int, float)):
            try:
                out[key] = type(default)(value)
            except ValueError:
                raise ConfigError(f"--model-option {key}={value}: expected a number") from None
        else:
            out[key] = value
    return out
