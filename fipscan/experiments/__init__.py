"""Experiments as data: one TOML file per experiment in this folder.

``load_experiment("na62-bd")`` finds ``na62_bd.toml`` here; a path to any TOML file with the same
layout works too.  Adding an experiment is adding one TOML file.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from fipscan.errors import ConfigError

__all__ = ["Experiment", "load_experiment", "list_experiments", "Background", "config_value"]


@dataclass(frozen=True)
class Background:
    """Expected background (events at the experiment's reference POT) and its uncertainty."""

    expected: float
    uncertainty: float = 0.0


@dataclass(frozen=True)
class Experiment:
    """A beam-dump experiment: beam, geometry, selection, efficiencies, backgrounds (all from TOML)."""

    name: str
    title: str
    energy_gev: float
    pot: float
    pot_uncertainty: float
    pot_projection: float
    production_z: float
    decay_volume: tuple[float, float]
    efficiency: Mapping[str, float]
    backgrounds: Mapping[str, Background]
    observed: int
    cl: float
    config: Mapping[str, Any] = field(repr=False)
    source: str = ""

    def with_pot(self, pot: float) -> "Experiment":
        """The same experiment at another number of protons on target."""
        _positive("pot", pot)
        return _replace(self, pot=float(pot))

    @property
    def channels(self) -> tuple[str, ...]:
        """Final states with a selection in the configuration."""
        return tuple(self.config.get("selection", {}).keys())


def _replace(exp: Experiment, **changes) -> Experiment:
    from dataclasses import replace

    return replace(exp, **changes)


def _positive(what: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise ConfigError(f"{what} must be a positive finite number, got {value!r}")
    return x


def config_value(cfg: Mapping, dotted: str, source: str) -> Any:
    """cfg['a']['b'] for dotted = 'a.b', else ConfigError naming ``source`` and the missing key."""
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"{source}: missing key '{dotted}'")
        node = node[part]
    return node


def _packaged() -> dict[str, Path]:
    folder = resources.files("fipscan.experiments")
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            out[entry.name[: -len(".toml")].replace("_", "-")] = Path(str(entry))
    return out


def list_experiments() -> list[str]:
    """Names of the experiments shipped with fipscan."""
    return sorted(_packaged())


def load_experiment(name_or_path: str | Path) -> Experiment:
    """Load a shipped experiment by name (``na62-bd``) or any experiment TOML file by path.

    Raises ConfigError naming the problem for an unknown name, unreadable or malformed TOML, a
    missing key or a non-physical value.
    """
    if isinstance(name_or_path, Experiment):
        return name_or_path
    known = _packaged()
    key = str(name_or_path)
    if key in known:
        path = known[key]
    elif key.endswith(".toml") or Path(key).is_file():
        path = Path(key)
        if not path.is_file():
            raise ConfigError(f"experiment file not found: {path}")
    else:
        raise ConfigError(f"unknown experiment '{key}' (known: {', '.join(sorted(known))})")
    try:
        cfg = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML in {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read experiment file {path}: {exc}") from None
    return _from_config(cfg, str(path))


def _from_config(cfg: Mapping, source: str) -> Experiment:
    name = config_value(cfg, "name", source)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: 'name' must be a non-empty string")
    dv = config_value(cfg, "geometry.decay_volume_charged", source)
    if not (isinstance(dv, list) and len(dv) == 2):
        raise ConfigError(f"{source}: geometry.decay_volume_charged must be [start, end]")
    z0 = float(config_value(cfg, "geometry.production_z", source))
    start, end = (_positive("geometry.decay_volume_charged", v) for v in dv)
    if not z0 < start < end:
        raise ConfigError(f"{source}: need production_z < decay-volume start < end, got {z0}, {start}, {end}")
    eff = {}
    for ch, val in cfg.get("efficiency", {}).items():
        x = _positive(f"efficiency.{ch}", val)
        if x > 1:
            raise ConfigError(f"{source}: efficiency.{ch} = {x} is above 1")
        eff[ch] = x
    bkg = {}
    for ch, val in cfg.get("backgrounds", {}).items():
        if not isinstance(val, Mapping) or "expected" not in val:
            raise ConfigError(f"{source}: backgrounds.{ch} needs 'expected'")
        b, db = float(val["expected"]), float(val.get("uncertainty", 0.0))
        if not (math.isfinite(b) and math.isfinite(db)) or b < 0 or db < 0:
            raise ConfigError(f"{source}: backgrounds.{ch} must be non-negative numbers")
        bkg[ch] = Background(b, db)
    stats = cfg.get("statistics", {})
    cl = float(stats.get("cl", 0.9))
    if not 0 < cl < 1:
        raise ConfigError(f"{source}: statistics.cl must lie in (0, 1), got {cl}")
    observed = stats.get("observed", 0)
    if not isinstance(observed, int) or observed < 0:
        raise ConfigError(f"{source}: statistics.observed must be a non-negative integer")
    for sub in ("straw1", "straw4", "magnet", "lkr", "muv3"):
        config_value(cfg, f"geometry.{sub}", source)
    return Experiment(
        name=name,
        title=str(cfg.get("title", name)),
        energy_gev=_positive("beam.energy_gev", config_value(cfg, "beam.energy_gev", source)),
        pot=_positive("beam.pot", config_value(cfg, "beam.pot", source)),
        pot_uncertainty=float(cfg["beam"].get("pot_uncertainty", 0.0)),
        pot_projection=float(cfg["beam"].get("pot_projection", cfg["beam"]["pot"])),
        production_z=z0,
        decay_volume=(start, end),
        efficiency=eff,
        backgrounds=bkg,
        observed=observed,
        cl=cl,
        config=cfg,
        source=source,
    )
