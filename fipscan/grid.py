"""(mass, coupling) grids with validated, log-spaced axes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fipscan import checks
from fipscan.errors import InputError

__all__ = ["Grid", "parse_axis", "parse_range", "check_mass", "check_coupling", "MAX_AXIS_POINTS"]


def _digits(x: float, bound: float) -> str:
    """``x`` with enough digits to tell it from ``bound`` (``%g`` would print 2.000000001 as 2)."""
    for k in (6, 10, 17):
        text = f"{x:.{k}g}"
        if float(text) != bound or x == bound:
            return text
    return repr(x)


def check_mass(m, lo=None, hi=None, what="mass") -> float:
    """A positive finite mass [GeV] inside [lo, hi] if given, else InputError naming the problem (with
    the digits that put it outside)."""
    x = checks.positive(what, m)
    if lo is not None and hi is not None and not lo <= x <= hi:
        edge = lo if x < lo else hi
        raise InputError(f"{what} {_digits(x, edge)} GeV is outside the model's range [{lo:g}, {hi:g}] GeV")
    return x


def check_coupling(g, what="coupling", upper=math.inf) -> float:
    """A positive finite coupling, at most ``upper`` (the model's physical bound, e.g. epsilon <= 1);
    zero, negative, NaN, inf or above the bound give InputError."""
    x = checks.positive(what, g, hint="; scans run on log axes")
    if x > upper:
        raise InputError(f"{what} {_digits(x, upper)} is above the physical bound {upper:g} of the model's coupling")
    return x


#: the most points an axis may have (a 10^5 x 10^5 grid is already 80 GB of float64)
MAX_AXIS_POINTS = 100_000


def parse_axis(name: str, text, what: str, *, min_points: int = 2, default_n: int | None = None):
    """LO:HI:N (or LO:HI with ``default_n``) of a log-spaced axis: LO < HI positive finite, N an
    integer in [min_points, MAX_AXIS_POINTS].  Values are named with all their digits (repr)."""
    parts = str(text).split(":")
    if len(parts) == 2 and default_n is not None:
        parts.append(str(default_n))
    if len(parts) != 3:
        raise InputError(f"{name} must be LO:HI:N ({what} range), got '{text}'")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(f"{name} must be LO:HI:N with numbers LO and HI, got '{text}'") from None
    try:
        n = int(parts[2])
    except ValueError:
        raise InputError(f"{name}: N must be an integer number of points, got '{parts[2]}' in '{text}'") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 or hi <= 0:
        raise InputError(f"{name} needs positive finite LO and HI (log axis), got '{text}'")
    if lo >= hi:
        raise InputError(f"{name} needs LO < HI, got '{text}'")
    if n < min_points:
        raise InputError(f"{name} needs N >= {min_points} points, got '{text}'")
    if n > MAX_AXIS_POINTS:
        raise InputError(f"{name} asks for {n} points; at most {MAX_AXIS_POINTS} per axis")
    return lo, hi, n


def parse_range(text: str, what: str) -> tuple[float, float, int]:
    """Parse 'LO:HI:N' (log-spaced, LO < HI, 2 <= N <= MAX_AXIS_POINTS) of the ``what`` axis."""
    return parse_axis(f"{what} range", text, what)


@dataclass(frozen=True)
class Grid:
    """Log-spaced mass [GeV] and coupling axes."""

    masses: np.ndarray
    couplings: np.ndarray

    @classmethod
    def log(cls, m_lo, m_hi, n_m, g_lo, g_hi, n_g) -> "Grid":
        for what, lo, hi, n in (("mass", m_lo, m_hi, n_m), ("coupling", g_lo, g_hi, n_g)):
            parse_range(f"{lo}:{hi}:{n}", what)
        return cls(np.geomspace(m_lo, m_hi, int(n_m)), np.geomspace(g_lo, g_hi, int(n_g)))

    @classmethod
    def from_ranges(cls, masses: str, couplings: str) -> "Grid":
        return cls.log(*parse_range(masses, "mass"), *parse_range(couplings, "coupling"))

    def validate(self, mass_range=None, coupling_max=math.inf, names=("mass", "coupling")) -> "Grid":
        """InputError unless every mass lies in ``mass_range`` and every coupling in (0, coupling_max];
        ``names``: how the message calls the two axes (the CLI names its options)."""
        for m in (self.masses.min(), self.masses.max()):
            check_mass(m, *(mass_range or (None, None)), what=names[0])
        for g in (self.couplings.min(), self.couplings.max()):
            check_coupling(g, names[1], upper=coupling_max)
        if np.isnan(self.masses).any() or np.isnan(self.couplings).any():
            raise InputError("grid contains NaN")
        return self
