"""(mass, coupling) grids with validated, log-spaced axes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fipscan import checks
from fipscan.errors import InputError

__all__ = ["Grid", "parse_axis", "parse_range", "check_mass", "check_coupling", "refine_masses", "MAX_AXIS_POINTS",
           "RESONANCE_OFFSETS"]


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


#: where masses are added around a narrow resonance of mass M and width Gamma (:func:`refine_masses`):
#: M + t Gamma for these t, i.e. every 0.15-0.25 Gamma across the peak (half maximum at t = +-0.5) and
#: coarser out to +-5 Gamma, where a Breit-Wigner has fallen to 1% of its peak
RESONANCE_OFFSETS = (-5.0, -3.0, -2.0, -1.5, -1.0, -0.75, -0.5, -0.3, -0.15, 0.0,
                     0.15, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


def refine_masses(masses, resonances, offsets=RESONANCE_OFFSETS, *, with_names=False):
    """``masses`` [GeV] with points added around each narrow resonance, sorted: (n,) -> (n + k,);
    with ``with_names`` the pair (masses, names of the resonances refined around).

    resonances: iterable of (name, M, Gamma) [GeV] (a model's ``resonances``).  A resonance whose peak
    lies inside [masses.min(), masses.max()] and which the grid does not already resolve (a grid step
    at M wider than Gamma / 4) gets the masses M + t Gamma for t in ``offsets`` that fall inside the
    range.  Masses are never removed; a point within 1e-9 (relative) of an existing one is not added.
    A contour then resolves the resonance whatever the base grid: e.g. the omega(782) (8.7 MeV wide)
    against the 4.8% step of a 100-mass grid from 0.01 to 1 GeV.
    """
    m = np.sort(np.asarray(masses, float).ravel())
    lo, hi = (m[0], m[-1]) if m.size else (0.0, 0.0)
    extra, names = [], []
    for name, mass, width in resonances if m.size >= 2 else ():
        if not lo < mass < hi or not width > 0:
            continue
        k = int(np.searchsorted(m, mass))
        step = m[k] - m[k - 1]
        if step <= 0.25 * width:
            continue
        extra.extend(x for x in (mass + t * width for t in offsets) if lo < x < hi)
        names.append(name)
    if extra:
        m = np.unique(np.concatenate([m, np.asarray(extra, float)]))
        m = m[np.concatenate([[True], np.diff(np.log(m)) > 1e-9])]
    return (m, names) if with_names else m


def parse_range(text: str, what: str) -> tuple[float, float, int]:
    """Parse 'LO:HI:N' (log-spaced, LO < HI, 2 <= N <= MAX_AXIS_POINTS) of the ``what`` axis."""
    return parse_axis(f"{what} range", text, what)


@dataclass(frozen=True)
class Grid:
    """Mass [GeV] and coupling axes: log-spaced (:meth:`log`), the mass axis possibly refined around
    narrow resonances (:meth:`refined`)."""

    masses: np.ndarray
    couplings: np.ndarray

    @classmethod
    def log(cls, m_lo, m_hi, n_m, g_lo, g_hi, n_g) -> "Grid":
        for what, lo, hi, n in (("mass", m_lo, m_hi, n_m), ("coupling", g_lo, g_hi, n_g)):
            parse_range(f"{lo}:{hi}:{n}", what)
        return cls(np.geomspace(m_lo, m_hi, int(n_m)), np.geomspace(g_lo, g_hi, int(n_g)))

    def refined(self, resonances) -> "Grid":
        """This grid with masses added around each narrow resonance (:func:`refine_masses`; e.g. a
        model's ``resonances``); the coupling axis is unchanged."""
        return Grid(refine_masses(self.masses, resonances), self.couplings)

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
