"""Strict reading of an experiment TOML: every key validated once, unknown keys refused.

A :class:`Section` wraps one TOML table; each accessor validates type and range and records the key
as used; :meth:`Section.done` refuses whatever was not used.  Every error is a one-line ConfigError
naming the file and the dotted key.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from fipscan.errors import ConfigError

__all__ = ["Section", "MISSING"]

MISSING = object()


class Section:
    """One TOML table of file ``source`` at dotted ``path`` ("" for the top level)."""

    def __init__(self, data: Any, path: str, source: str):
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: '{path}' must be a table, not {type(data).__name__}")
        self.data, self.path, self.source = data, path, source
        self.used: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: '{self.key(name)}' {message}")

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default=MISSING):
        self.used.add(name)
        if name not in self.data:
            if default is MISSING:
                raise ConfigError(f"{self.source}: missing key '{self.key(name)}'")
            return default
        return self.data[name]

    def names(self) -> list[str]:
        return list(self.data)

    # -- typed accessors ----------------------------------------------------------------------
    def number(self, name: str, default=MISSING, *, positive=False, nonnegative=False, lo=None, hi=None,
               integer=False) -> float:
        """A TOML number (never a string or a boolean), checked with the validators of fipscan.checks."""
        from fipscan import checks

        v = self.raw(name, default)
        if v is default and default is not MISSING:
            return v
        label = f"{self.source}: '{self.key(name)}'"
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.error(name, f"must be a number, not {v!r}")
        if integer and not isinstance(v, int):
            raise self.error(name, f"must be an integer, not {v!r}")
        x = checks.finite(label, v, error=ConfigError)
        if positive:
            checks.positive(label, x, error=ConfigError)
        if nonnegative:
            checks.nonnegative(label, x, error=ConfigError)
        if lo is not None or hi is not None:
            floor = (0.0 if positive or nonnegative else -math.inf) if lo is None else lo
            checks.within(label, x, floor, math.inf if hi is None else hi, error=ConfigError)
        return int(x) if integer else x

    def string(self, name: str, default=MISSING, *, choices=None) -> str:
        v = self.raw(name, default)
        if v is default and default is not MISSING:
            return v
        if not isinstance(v, str) or not v:
            raise self.error(name, f"must be a non-empty string, not {v!r}")
        if choices is not None and v not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}, not {v!r}")
        return v

    def flag(self, name: str, default=MISSING) -> bool:
        """A TOML boolean (true/false; never a number or a string)."""
        v = self.raw(name, default)
        if v is default and default is not MISSING:
            return v
        if not isinstance(v, bool):
            raise self.error(name, f"must be true or false, not {v!r}")
        return v

    def strings(self, name: str, default=MISSING) -> tuple[str, ...]:
        v = self.raw(name, default)
        if v is default and default is not MISSING:
            return tuple(v)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.error(name, f"must be a list of strings, not {v!r}")
        return tuple(v)

    def interval(self, name: str, default=MISSING, *, positive=False) -> tuple[float, float]:
        """[lo, hi] with lo < hi (both finite numbers)."""
        v = self.raw(name, default)
        if v is default and default is not MISSING:
            return v
        if not (isinstance(v, list) and len(v) == 2 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
            raise self.error(name, f"must be [lo, hi] (two finite numbers), not {v!r}")
        lo, hi = float(v[0]), float(v[1])
        if not lo < hi:
            raise self.error(name, f"must be increasing ([lo, hi] with lo < hi), not {v!r}")
        if positive and lo <= 0:
            raise self.error(name, f"must be positive, not {v!r}")
        return lo, hi

    def section(self, name: str, default=MISSING) -> "Section":
        v = self.raw(name, default)
        if v is default and default is not MISSING:
            return Section({}, self.key(name), self.source)
        return Section(v, self.key(name), self.source)

    def done(self) -> None:
        """Refuse keys that no accessor asked for."""
        unknown = [k for k in self.data if k not in self.used]
        if unknown:
            raise ConfigError(f"{self.source}: unknown key '{self.key(unknown[0])}'"
                              + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
