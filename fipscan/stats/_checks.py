"""Argument checks of the statistics layer: fipscan.checks under the names the stats modules use,
plus the (background, uncertainty) pair.

Every check raises :class:`~fipscan.errors.InputError` (a ``ValueError``) with a one-line message that
names the bad argument (the CLI maps it to exit code 2).
"""

from __future__ import annotations

from fipscan import checks
from fipscan.errors import InputError

__all__ = [
    "as_finite",
    "as_count",
    "as_nonnegative",
    "as_positive",
    "as_cl",
    "as_choice",
    "as_background",
]

as_finite = checks.finite
as_count = checks.count
as_nonnegative = checks.nonnegative
as_positive = checks.positive
as_cl = checks.probability
as_choice = checks.choice


def as_background(background, background_uncertainty) -> tuple[float, float]:
    """(b, db): an expected background >= 0 and its standard deviation >= 0 (db > 0 needs b > 0)."""
    b = checks.nonnegative("background", background)
    db = checks.nonnegative("background_uncertainty", background_uncertainty)
    if db > 0.0 and b == 0.0:
        raise InputError(
            "background_uncertainty > 0 needs background > 0 (a non-negative prior with mean 0 has no width)"
        )
    return b, db
