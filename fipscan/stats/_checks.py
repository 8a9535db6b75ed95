"""Argument checks shared by the statistics layer.

Every check raises ``ValueError`` with a one-line message that names the bad argument (the CLI maps
``ValueError`` to exit code 2).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "as_finite",
    "as_count",
    "as_nonnegative",
    "as_positive",
    "as_cl",
    "as_choice",
    "as_background",
]


def _as_float(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number, got the boolean {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN")
    return x


def as_finite(name: str, value) -> float:
    """Any finite number."""
    x = _as_float(name, value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


def as_count(name: str, value) -> int:
    """A non-negative integer count (an integral float such as 3.0 is accepted, 2.5 is not)."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a non-negative integer, got the boolean {value!r}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    else:
        x = _as_float(name, value)
        if not math.isfinite(x) or x != math.floor(x):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        n = int(x)
    if n < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n}")
    return n


def as_nonnegative(name: str, value) -> float:
    """A finite number >= 0."""
    x = _as_float(name, value)
    if not math.isfinite(x) or x < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def as_positive(name: str, value) -> float:
    """A finite number > 0."""
    x = _as_float(name, value)
    if not math.isfinite(x) or x <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def as_cl(name: str, value) -> float:
    """A probability strictly inside (0, 1), e.g. a confidence level."""
    x = _as_float(name, value)
    if not (0.0 < x < 1.0):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return x


def as_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value


def as_background(background, background_uncertainty) -> tuple[float, float]:
    """(b, db): an expected background >= 0 and its standard deviation >= 0 (db > 0 needs b > 0)."""
    b = as_nonnegative("background", background)
    db = as_nonnegative("background_uncertainty", background_uncertainty)
    if db > 0.0 and b == 0.0:
        raise ValueError(
            "background_uncertainty > 0 needs background > 0 (a non-negative prior with mean 0 has no width)"
        )
    return b, db
