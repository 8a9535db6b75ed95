"""Peak search in a reconstructed-mass spectrum: NA62 in kaon mode, K+ -> pi+ X, X -> gamma gamma.

The search (NA62, Phys. Lett. B 850 (2024) 138513, as summarised in the NA62 seed talk at WIN 2025)
looks for a narrow peak in m_X = sqrt((P_K - P_pi)^2) from 207 to 350 MeV in 0.5 MeV steps, with a
mass resolution sigma_m from 2.0 MeV at the low end to 0.2 MeV at the high end. This module holds the
statistics of such a scan: numpy and the standard library only, like the rest of fipscan.stats.

Windows (the convention of every function here)
-----------------------------------------------
The scan is a list of mass hypotheses m_i (GeV, strictly increasing). At each one a *signal window*
[m_i - k sigma_i, m_i + k sigma_i] is opened, sigma_i the signal mass resolution at m_i and
k = ``window_sigmas`` (default 1.5). ``observed[i]`` is the number of events whose reconstructed mass
lies in that window and ``background[i]`` (+- ``background_uncertainty[i]``, a standard deviation)
the expected background in it. Neighbouring windows overlap wherever 2 k sigma_i exceeds the step
(on the NA62 grid with k = 1.5: about 12 windows share an event at 207 MeV, about 1.2 at 350 MeV),
so their counts are correlated; the toy Monte Carlo below draws them that way.

A signal is a Gaussian peak of width sigma_i centred at m_i; the fraction of it inside the window is
f(k) = erf(k / sqrt 2) (0.8664 for k = 1.5, 0.9545 for k = 2). Every signal number returned here is
for the WHOLE peak (the window limit divided by f), so it compares directly with
N_expected = N_K * BR(K+ -> pi+ X) * acceptance, the acceptance being that of the full peak.

Statistics (each function names its source)
-------------------------------------------
* Upper limits per window: :func:`fipscan.stats.limits.upper_limit` -- CLs (Read, J. Phys. G 28
  (2002) 2693) with the background integrated over a Gamma prior (Cousins & Highland, Nucl.
  Instrum. Meth. A320 (1992) 331), or Feldman & Cousins (Phys. Rev. D 57 (1998) 3873).
* Local p-values: P(N >= n | b, db), :func:`fipscan.stats.discovery.background_only_pvalue`.
* Look-elsewhere effect: N_trials = integral dm / (2 k sigma(m)) (:func:`fipscan.stats.discovery.
  trials_factor`; the leading "range over resolution" estimate discussed by Gross & Vitells, Eur.
  Phys. J. C70 (2010) 525), global p = 1 - (1 - p_local)^N_trials (Sidak, J. Am. Stat. Assoc. 62
  (1967) 626: N independent trials), and a background-only toy Monte Carlo of the whole scan to
  check that estimate (:func:`toy_global_pvalue`).
* p-value <-> Z: one-sided Gaussian tail (Cowan, Cranmer, Gross & Vitells, Eur. Phys. J. C71 (2011)
  1554).

Files: :func:`read_peak_search` / :func:`write_peak_search` (a CSV with a '#' header); an
ILLUSTRATIVE example on NA62's grid ships as ``fipscan/data/kaon/na62_pigg_example.csv`` and is
made by :func:`example_peak_search` (:func:`write_example_peak_search` regenerates the file).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re
from dataclasses import dataclass

import numpy as np

from fipscan.errors import InputError

from ._checks import as_choice, as_cl, as_count, as_positive
from ._poisson import log_pmf_range, normal_isf
from .discovery import background_only_pvalue, trials_factor
from .limits import METHODS, upper_limit

__all__ = [
    "PeakSearchData",
    "window_signal_fraction",
    "read_peak_search",
    "write_peak_search",
    "resolution_na62_pigg",
    "local_upper_limits",
    "local_pvalues",
    "sidak_global_pvalue",
    "look_elsewhere",
    "br_upper_limits",
    "toy_min_local_pvalues",
    "toy_global_pvalue",
    "example_peak_search",
    "write_example_peak_search",
    "COLUMNS",
    "DEFAULT_WINDOW_SIGMAS",
    "NA62_PIGG_MASS_RANGE",
    "NA62_PIGG_RESOLUTION",
    "NA62_PIGG_STEP",
    "EXAMPLE_FILE",
    "EXAMPLE_SEED",
]

#: the columns of a peak-search file (any order; each exactly once)
COLUMNS = ("m_gev", "observed", "background", "background_uncertainty", "sigma_m_gev")
#: half-width of a signal window in units of the mass resolution when a file or call does not say
DEFAULT_WINDOW_SIGMAS = 1.5

#: NA62 K+ -> pi+ X, X -> gamma gamma: the scanned m_X range [GeV], its step [GeV] and the resolution
#: sigma_m [GeV] at its two ends (PLB 850 (2024) 138513, as quoted in the NA62 seed talk, WIN 2025)
NA62_PIGG_MASS_RANGE = (0.207, 0.350)
NA62_PIGG_STEP = 0.0005
NA62_PIGG_RESOLUTION = (0.0020, 0.0002)

#: the shipped illustrative example and the seed it was drawn with
EXAMPLE_FILE = pathlib.Path(__file__).resolve().parents[1] / "data" / "kaon" / "na62_pigg_example.csv"
EXAMPLE_SEED = 20240513

# the field of PeakSearchData behind each file column
_FIELD_OF_COLUMN = {"m_gev": "masses", "observed": "observed", "background": "background",
                    "background_uncertainty": "background_uncertainty", "sigma_m_gev": "resolution"}
_COLUMN_OF_FIELD = {v: k for k, v in _FIELD_OF_COLUMN.items()}
_WINDOW_SIGMAS_LINE = re.compile(r"^#\s*window_sigmas\s*[=:]\s*(.*?)\s*$")


# --------------------------------------------------------------------------------------------------
# The data of a scan
# --------------------------------------------------------------------------------------------------


class _BadEntry(InputError):
    """A bad value at one position of one array (the file reader turns the position into a line)."""

    def __init__(self, field: str, index: int, problem: str):
        super().__init__(f"{field}[{index}] {problem}")
        self.field, self.index, self.problem = field, index, problem


def window_signal_fraction(window_sigmas) -> float:
    """Fraction of a Gaussian peak inside +- k sigma of its centre: erf(k / sqrt 2).

    k = ``window_sigmas`` > 0; 0.682689 for k = 1, 0.866386 for k = 1.5, 0.954500 for k = 2.
    """
    k = as_positive("window_sigmas", window_sigmas)
    return math.erf(k / math.sqrt(2.0))


def _vector(name: str, value, integer: bool = False) -> np.ndarray:
    """A 1-D, non-empty array of finite numbers (integers if ``integer``), as a read-only copy."""
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf":  # not booleans, text or objects
        raise InputError(f"{name} must be an array of numbers, got an array of dtype {raw.dtype}")
    arr = np.array(raw, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D array (one entry per window), got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise _BadEntry(name, int(bad[0]), f"must be finite, got {arr[bad[0]]!r}")
    if integer:
        bad = np.flatnonzero((arr < 0) | (arr != np.floor(arr)))
        if bad.size:
            raise _BadEntry(name, int(bad[0]), f"must be a non-negative integer (a count), got {arr[bad[0]]:g}")
        arr = arr.astype(np.int64)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class PeakSearchData:
    """The windows of a peak search (see the module docstring for the window convention).

    Attributes (all arrays of one entry per window, read-only):
      ``masses`` (Nw,) [GeV]: window centres = mass hypotheses, strictly increasing, > 0;
      ``observed`` (Nw,) int >= 0: events with reconstructed mass in [m - k sigma, m + k sigma];
      ``background`` (Nw,) >= 0: expected background events in that window;
      ``background_uncertainty`` (Nw,) >= 0: its standard deviation (> 0 needs background > 0);
      ``resolution`` (Nw,) [GeV] > 0: the signal mass resolution sigma_m at each centre;
      ``window_sigmas`` k > 0: half-width of every window in units of its sigma_m. In a file this is
      the ``# window_sigmas = k`` header line: it states how wide the windows were in which the
      counts and backgrounds of the file were collected (1.5 when the file does not say).

    Equality compares every array exactly; bad input raises a one-line
    :class:`~fipscan.errors.InputError` naming the field and the window.
    """

    masses: np.ndarray
    observed: np.ndarray
    background: np.ndarray
    background_uncertainty: np.ndarray
    resolution: np.ndarray
    window_sigmas: float = DEFAULT_WINDOW_SIGMAS

    def __post_init__(self):
        m = _vector("masses", self.masses)
        n = _vector("observed", self.observed, integer=True)
        b = _vector("background", self.background)
        db = _vector("background_uncertainty", self.background_uncertainty)
        s = _vector("resolution", self.resolution)
        for name, arr in (("observed", n), ("background", b), ("background_uncertainty", db),
                          ("resolution", s)):
            if arr.size != m.size:
                raise InputError(f"{name} has {arr.size} entries but masses has {m.size}: one entry per window")
        bad = np.flatnonzero(m <= 0.0)
        if bad.size:
            raise _BadEntry("masses", int(bad[0]), f"must be positive (GeV), got {m[bad[0]]:g}")
        bad = np.flatnonzero(np.diff(m) <= 0.0)
        if bad.size:
            i = int(bad[0]) + 1
            raise _BadEntry("masses", i, f"= {m[i]:.10g} is not above the previous centre {m[i - 1]:.10g}: "
                                         "window centres must be strictly increasing")
        for name, arr in (("background", b), ("background_uncertainty", db)):
            bad = np.flatnonzero(arr < 0.0)
            if bad.size:
                raise _BadEntry(name, int(bad[0]), f"must be non-negative, got {arr[bad[0]]:g}")
        bad = np.flatnonzero((db > 0.0) & (b == 0.0))
        if bad.size:
            raise _BadEntry("background_uncertainty", int(bad[0]),
                            f"= {db[bad[0]]:g} > 0 needs background > 0 (a non-negative prior with mean 0 "
                            "has no width)")
        bad = np.flatnonzero(s <= 0.0)
        if bad.size:
            raise _BadEntry("resolution", int(bad[0]), f"must be positive (GeV), got {s[bad[0]]:g}")
        k = as_positive("window_sigmas", self.window_sigmas)
        for name, arr in (("masses", m), ("observed", n), ("background", b), ("background_uncertainty", db),
                          ("resolution", s), ("window_sigmas", k)):
            object.__setattr__(self, name, arr)

    def signal_fraction(self) -> float:
        """Fraction of a Gaussian signal peak inside its window: erf(window_sigmas / sqrt 2)."""
        return window_signal_fraction(self.window_sigmas)

    @property
    def n_windows(self) -> int:
        return int(self.masses.size)

    def window_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) edges [GeV] of every window: m -+ window_sigmas * sigma_m."""
        half = self.window_sigmas * self.resolution
        return self.masses - half, self.masses + half

    def __eq__(self, other):
        if not isinstance(other, PeakSearchData):
            return NotImplemented
        return self.window_sigmas == other.window_sigmas and all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("masses", "observed", "background", "background_uncertainty", "resolution"))

    def __hash__(self):
        return hash((self.window_sigmas,) + tuple(
            getattr(self, f).tobytes()
            for f in ("masses", "observed", "background", "background_uncertainty", "resolution")))


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def _fail(path, problem: str):
    raise InputError(f"peak-search file {path}: {problem}")


def read_peak_search(path) -> PeakSearchData:
    """A peak-search CSV file as :class:`PeakSearchData`.

    Layout: a header of '#' lines (free text, plus optionally ``# window_sigmas = k``, default 1.5),
    then the column line -- the names of :data:`COLUMNS` in any order, each once, no others -- then one
    row per window: ``m_gev`` [GeV], ``observed`` (integer), ``background``,
    ``background_uncertainty`` (events), ``sigma_m_gev`` [GeV]. Blank lines and '#' comment lines
    among the rows are skipped. Any problem raises a one-line InputError naming the file and, for a
    bad value, its line and column.
    """
    from fipscan import checks

    path = pathlib.Path(path)
    text = checks.text("peak-search file", path)
    window_sigmas, k_line = None, 0
    columns: list[str] | None = None
    rows: list[list[float]] = []
    lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        match = _WINDOW_SIGMAS_LINE.match(line)
        if match:
            if columns is not None:
                _fail(path, f"line {number}: window_sigmas must be stated in the header, before the column line")
            if window_sigmas is not None:
                _fail(path, f"line {number}: window_sigmas given twice (first on line {k_line})")
            try:
                window_sigmas = as_positive("window_sigmas", match.group(1))
            except InputError as exc:
                _fail(path, f"line {number}: {exc}")
            k_line = number
            continue
        if line.startswith("#"):
            continue
        if columns is None:
            columns = [c.strip() for c in line.split(",")]
            unknown = [c for c in columns if c not in COLUMNS]
            if unknown:
                _fail(path, f"line {number}: unknown column '{unknown[0]}' (the columns are {','.join(COLUMNS)})")
            twice = [c for c in COLUMNS if columns.count(c) > 1]
            if twice:
                _fail(path, f"line {number}: column '{twice[0]}' given twice")
            missing = [c for c in COLUMNS if c not in columns]
            if missing:
                _fail(path, f"line {number}: the column line lacks '{missing[0]}' (the columns are "
                            f"{','.join(COLUMNS)})")
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != len(columns):
            _fail(path, f"line {number}: expected {len(columns)} comma-separated values ({','.join(columns)}), "
                        f"got {len(parts)}")
        values = {}
        for name, part in zip(columns, parts):
            try:
                values[name] = float(part)
            except ValueError:
                _fail(path, f"line {number}, column '{name}': expected a number, got '{part}'")
        rows.append([values[c] for c in COLUMNS])
        lines.append(number)
    if columns is None:
        _fail(path, f"has no column line ({','.join(COLUMNS)})")
    if not rows:
        _fail(path, "has no data rows")
    arr = np.array(rows, dtype=float)
    try:
        return PeakSearchData(masses=arr[:, 0], observed=arr[:, 1], background=arr[:, 2],
                              background_uncertainty=arr[:, 3], resolution=arr[:, 4],
                              window_sigmas=DEFAULT_WINDOW_SIGMAS if window_sigmas is None else window_sigmas)
    except _BadEntry as exc:
        _fail(path, f"line {lines[exc.index]}, column '{_COLUMN_OF_FIELD[exc.field]}': {exc.problem}")
    except InputError as exc:
        _fail(path, str(exc))


def _number_text(x) -> str:
    """Shortest text that reads back as the same float (repr), so a file round-trips exactly."""
    return repr(float(x))


def peak_search_text(data: PeakSearchData, header_lines=()) -> str:
    """The text of :func:`write_peak_search`: '#' header lines, ``# window_sigmas = k``, columns, rows."""
    if not isinstance(data, PeakSearchData):
        raise InputError(f"data must be a PeakSearchData, got {type(data).__name__}")
    if isinstance(header_lines, str):
        header_lines = (header_lines,)
    out = []
    for entry in header_lines:
        if not isinstance(entry, str):
            raise InputError(f"header_lines must be strings, got {entry!r}")
        for line in entry.splitlines() or [""]:
            line = line if line.startswith("#") else ("# " + line).rstrip()
            if _WINDOW_SIGMAS_LINE.match(line.strip()):
                raise InputError("header_lines must not set window_sigmas (it is written from data.window_sigmas)")
            out.append(line)
    out.append(f"# window_sigmas = {_number_text(data.window_sigmas)}")
    out.append(",".join(COLUMNS))
    for m, n, b, db, s in zip(data.masses, data.observed, data.background, data.background_uncertainty,
                              data.resolution):
        out.append(",".join((_number_text(m), str(int(n)), _number_text(b), _number_text(db), _number_text(s))))
    return "\n".join(out) + "\n"


def write_peak_search(data: PeakSearchData, path, header_lines=()) -> pathlib.Path:
    """Write ``data`` as a peak-search CSV that :func:`read_peak_search` reads back equal.

    ``header_lines`` (strings) become '#' comment lines above ``# window_sigmas = k`` and the column
    line; numbers are written with the shortest text that round-trips (``repr``). The file is written
    atomically (:func:`fipscan.io.atomic.atomic_write_text`); its folder must exist.
    """
    from fipscan.io.atomic import atomic_write_text

    return atomic_write_text(path, peak_search_text(data, header_lines))


# --------------------------------------------------------------------------------------------------
# NA62's resolution
# --------------------------------------------------------------------------------------------------


def resolution_na62_pigg(m):
    """Mass resolution sigma_m(m) [GeV] of NA62's K+ -> pi+ X, X -> gamma gamma peak search, m in GeV.

    The only numbers stated (PLB 850 (2024) 138513, as quoted in the NA62 seed talk at WIN 2025) are
    2.0 MeV at the low end of the search, m = 207 MeV, and 0.2 MeV at its high end, 350 MeV. We
    interpolate LINEARLY IN m between them (the lowest-order curve through two numbers):

        sigma_m(m) = 2.0 MeV + (0.2 MeV - 2.0 MeV) (m - 207 MeV) / (143 MeV),

    so 1.1 MeV at mid-range, and the independent-window count of the scan (``trials_factor``) is
    integral dm / (2 k sigma_m) = 143 MeV ln(10) / (2 k 1.8 MeV) = 61.0 for k = 1.5. (Interpolating
    linearly in log sigma instead would give 0.63 MeV at mid-range and 93 trials: the choice matters,
    and only NA62's resolution curve can settle it.) Masses outside [207, 350] MeV are refused: the
    numbers say nothing there. Array in, array of the same shape out.
    """
    try:
        x = np.asarray(m, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"m must be a mass or an array of masses in GeV, got {m!r}") from None
    lo, hi = NA62_PIGG_MASS_RANGE
    tol = 1e-12  # GeV: a grid made by arithmetic may land a hair outside the ends
    bad = ~np.isfinite(x) | (x < lo - tol) | (x > hi + tol)
    if np.any(bad):
        value = float(x[bad].flat[0]) if x.ndim else float(x)
        raise InputError(f"m = {value:g} GeV is outside the NA62 pi+ gamma gamma search range [{lo:g}, {hi:g}] "
                         "GeV, where its resolution is stated")
    return np.interp(x, NA62_PIGG_MASS_RANGE, NA62_PIGG_RESOLUTION)


# --------------------------------------------------------------------------------------------------
# Limits and p-values
# --------------------------------------------------------------------------------------------------


def _check_data(data) -> PeakSearchData:
    if not isinstance(data, PeakSearchData):
        raise InputError(f"data must be a PeakSearchData (see read_peak_search), got {type(data).__name__}")
    return data


def local_upper_limits(data: PeakSearchData, cl=0.9, method="cls") -> np.ndarray:
    """Upper limit on the number of SIGNAL events of the whole peak at each window centre, (Nw,).

    In window i the limit on the signal mean inside the window, s_up, is
    :func:`fipscan.stats.limits.upper_limit` of (observed[i], background[i], background_uncertainty[i])
    -- CLs (Read, J. Phys. G 28 (2002) 2693) with the background integrated over its Gamma prior
    (Cousins & Highland 1992) for ``method="cls"``, Feldman & Cousins (Phys. Rev. D 57 (1998) 3873,
    known background only) for ``"fc"``. The window holds the fraction f = erf(k / sqrt 2) of a
    Gaussian peak, so the returned limit is N_up = s_up / f: directly comparable with
    N_expected = N_K * BR * acceptance of the full peak (:func:`br_upper_limits`). For 0 observed
    events it is ln(10) / 0.8664 = 2.658 events at 90% CL with k = 1.5, whatever the background.
    """
    data = _check_data(data)
    c = as_cl("cl", cl)
    meth = as_choice("method", method, METHODS)
    s_up = upper_limit(data.observed, data.background, data.background_uncertainty, c, meth)
    return np.asarray(s_up, dtype=float) / data.signal_fraction()


def local_pvalues(data: PeakSearchData) -> np.ndarray:
    """Background-only local p-value of every window, P(N >= observed | background, uncertainty), (Nw,).

    Poisson for a known background, negative binomial (Gamma prior, Cousins & Highland 1992) when
    the uncertainty is > 0; summed over the upper tail (:func:`fipscan.stats.discovery.
    background_only_pvalue`). A window with 0 observed events has p = 1.
    """
    data = _check_data(data)
    return np.array([background_only_pvalue(int(n), float(b), float(db)) for n, b, db in
                     zip(data.observed, data.background, data.background_uncertainty)])


def sidak_global_pvalue(p_local, n_trials) -> float:
    """Global p-value of the smallest of ``n_trials`` independent local p-values: 1 - (1 - p)^N.

    Sidak, J. Am. Stat. Assoc. 62 (1967) 626. Computed as -expm1(N log1p(-p)), which keeps its
    precision for small p (p = 1e-12, N = 61 gives 6.1e-11, where 1 - (1 - p)**N has lost 4 digits).
    ``p_local`` in [0, 1], ``n_trials`` > 0 (need not be an integer).
    """
    p = float(p_local)
    if not 0.0 <= p <= 1.0:
        raise InputError(f"p_local must lie in [0, 1], got {p_local!r}")
    n = as_positive("n_trials", n_trials)
    if p == 1.0:
        return 1.0
    return -math.expm1(n * math.log1p(-p))


def _sigma_of_pvalue(p: float) -> float:
    """One-sided Z = Phi^-1(1 - p) (Cowan et al., EPJC 71 (2011) 1554); +inf for p = 0, -inf for p = 1."""
    if p <= 0.0:
        return math.inf
    if p >= 1.0:
        return -math.inf
    return normal_isf(p)


def _trials(data: PeakSearchData) -> float:
    """:func:`~fipscan.stats.discovery.trials_factor` over [masses[0], masses[-1]] with sigma_m(m)
    interpolated linearly between the window centres (1 for a single window)."""
    if data.n_windows == 1:
        return 1.0
    masses, resolution = data.masses, data.resolution
    return trials_factor((float(masses[0]), float(masses[-1])),
                         lambda m: np.interp(m, masses, resolution), data.window_sigmas)


def look_elsewhere(data: PeakSearchData) -> dict:
    """The most significant window and its global significance, as a dict of plain Python numbers.

    Keys: ``n_trials`` (:func:`fipscan.stats.discovery.trials_factor` over [masses[0], masses[-1]]:
    integral dm / (2 k sigma_m(m)), sigma_m interpolated linearly between the centres, k the data's
    window_sigmas; the leading look-elsewhere estimate of Gross & Vitells, EPJC 70 (2010) 525),
    ``min_local_pvalue`` (the smallest of :func:`local_pvalues`; the first window if several tie),
    ``mass_gev`` and ``index`` (its window), ``local_sigma``, ``global_pvalue`` (Sidak,
    :func:`sidak_global_pvalue` with n_trials), ``global_sigma``, ``window_sigmas``. Significances are
    one-sided (Z = Phi^-1(1 - p); -inf for p = 1, i.e. a scan without a single event above 0).

    The range-over-resolution count is the leading, OPTIMISTIC term: it ignores that a window stepped
    finer than its width 2 k sigma can cross the threshold at every step, and Gross & Vitells show the
    trial factor grows with the local significance. On NA62's grid (0.5 MeV steps, windows 0.6-6 MeV)
    toys give about twice the global p-value at Z_local = 2.7 (an effective ~150 trials, not 61) and
    more at higher Z; quote :func:`toy_global_pvalue` for any claim.
    """
    data = _check_data(data)
    p = local_pvalues(data)
    i = int(np.argmin(p))
    n_trials = _trials(data)
    p_min = float(p[i])
    p_global = sidak_global_pvalue(p_min, n_trials)
    return {
        "n_trials": float(n_trials),
        "min_local_pvalue": p_min,
        "mass_gev": float(data.masses[i]),
        "index": i,
        "local_sigma": _sigma_of_pvalue(p_min),
        "global_pvalue": float(p_global),
        "global_sigma": _sigma_of_pvalue(p_global),
        "window_sigmas": float(data.window_sigmas),
    }


def br_upper_limits(n_up, n_kaons, acceptance) -> np.ndarray:
    """Upper limits on BR(K+ -> pi+ X) [times BR(X -> gamma gamma) if the acceptance excludes it].

    BR_up = n_up / (n_kaons * acceptance) (the single-event sensitivity 1 / (N_K A) times the signal
    limit), with ``n_up`` the full-peak signal limits of :func:`local_upper_limits` (events, >= 0),
    ``n_kaons`` the number of K+ decays in the fiducial volume (> 0, finite) and ``acceptance`` in
    [0, 1] the probability that such a decay with X of the window's mass is selected with its m_X
    anywhere in the peak (it carries the X lifetime: the X must decay to gamma gamma where the
    photons are detected). The arrays broadcast with their LEADING axes aligned (the window axis
    first): n_up (Nw,) with acceptance (Nw, Ntau) gives (Nw, Ntau), one column per X lifetime. An
    acceptance of 0 gives +inf (no limit), never NaN.
    """
    n_k = as_positive("n_kaons", n_kaons)
    try:
        n = np.asarray(n_up, dtype=float)
        a = np.asarray(acceptance, dtype=float)
    except (TypeError, ValueError):
        raise InputError("n_up and acceptance must be numbers or arrays of numbers") from None
    if np.any(~np.isfinite(n) | (n < 0.0)):
        raise InputError(f"n_up must be finite and non-negative, got {n[~np.isfinite(n) | (n < 0.0)].flat[0]!r}")
    if np.any(~np.isfinite(a) | (a < 0.0) | (a > 1.0)):
        bad = a[~np.isfinite(a) | (a < 0.0) | (a > 1.0)].flat[0]
        raise InputError(f"acceptance must lie in [0, 1] (it is a probability), got {bad!r}")
    # align the leading (window) axes: pad the array with fewer axes with trailing ones
    if n.ndim < a.ndim:
        n = n.reshape(n.shape + (1,) * (a.ndim - n.ndim))
    elif a.ndim < n.ndim:
        a = a.reshape(a.shape + (1,) * (n.ndim - a.ndim))
    try:
        shape = np.broadcast_shapes(n.shape, a.shape)
    except ValueError:
        raise InputError(f"n_up of shape {np.shape(n_up)} and acceptance of shape {np.shape(acceptance)} do not "
                         "broadcast (their leading axes, the windows, must agree)") from None
    denominator = n_k * a
    out = np.full(shape, math.inf)
    np.divide(n, denominator, out=out, where=np.broadcast_to(denominator > 0.0, shape))
    return out


# --------------------------------------------------------------------------------------------------
# Toy Monte Carlo of the whole scan
# --------------------------------------------------------------------------------------------------


def _toy_segments(data: PeakSearchData):
    """The elementary intervals of the toys: (expected count per interval, lo and hi interval index
    of every window, expected background per window as the toys see it).

    Background density: rho_i = background_i / (2 k sigma_i) at each centre (exact for a density
    linear across the window), linear between centres, extrapolated linearly (clipped at 0) out to the
    outermost window edges. Intervals: between consecutive distinct window edges; their expected
    counts are exact integrals of that piecewise-linear density (trapezoids with every knot included).
    """
    lo, hi = data.window_edges()
    edges = np.unique(np.concatenate([lo, hi]))
    m = data.masses
    rho = data.background / (2.0 * data.window_sigmas * data.resolution)
    knots, values = m, rho
    if m.size > 1:
        first = rho[0] + (rho[1] - rho[0]) / (m[1] - m[0]) * (edges[0] - m[0])
        last = rho[-1] + (rho[-1] - rho[-2]) / (m[-1] - m[-2]) * (edges[-1] - m[-1])
        knots = np.concatenate([[edges[0]], m, [edges[-1]]])
        values = np.concatenate([[max(first, 0.0)], rho, [max(last, 0.0)]])
    points = np.unique(np.concatenate([knots, edges]))
    dens = np.interp(points, knots, values)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(points))])
    at_edges = np.interp(edges, points, cumulative)  # exact: the edges are among the points
    mu = np.maximum(np.diff(at_edges), 0.0)
    i_lo = np.searchsorted(edges, lo)
    i_hi = np.searchsorted(edges, hi)
    cum_mu = np.concatenate([[0.0], np.cumsum(mu)])
    expected = cum_mu[i_hi] - cum_mu[i_lo]
    return mu, i_lo, i_hi, expected


def _draw_window_counts(mu, i_lo, i_hi, n_toys: int, rng) -> np.ndarray:
    """(n_toys, Nw) window counts: Poisson counts per elementary interval, summed over each window."""
    counts = rng.poisson(mu, size=(n_toys, mu.size))
    cum = np.concatenate([np.zeros((n_toys, 1), dtype=np.int64), np.cumsum(counts, axis=1)], axis=1)
    return cum[:, i_hi] - cum[:, i_lo]


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy Generator (numpy.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


#: toys are drawn in blocks of this many (memory ~ block x (2 Nw) counts)
_TOY_BLOCK = 1000


def toy_min_local_pvalues(data: PeakSearchData, n_toys, rng) -> np.ndarray:
    """Smallest local p-value of the scan in each of ``n_toys`` background-only pseudo-experiments.

    Scheme: the background of the windows is turned into a density in m (rho_i = b_i / (2 k sigma_i)
    at the centres, linear in between; exact when the density is linear across each window). All
    window edges m_i -+ k sigma_i cut the mass axis into elementary intervals -- finer than any
    sigma where windows overlap; each gets a Poisson count with mean the integral of the density over
    it, independently (a Poisson process restricted to disjoint intervals), and each window counts the
    intervals it covers. So overlapping windows share events exactly as in the data, with no binning
    error. Each window's local p-value P(N >= n | B_i) uses B_i, the expectation of its toy count
    (equal to b_i for a density linear across the windows). Background uncertainties are NOT
    sampled (the toys measure the look-elsewhere factor of the window geometry); see
    :func:`toy_global_pvalue` for what that means for its default threshold.
    ``rng`` a :class:`numpy.random.Generator`. Returns an (n_toys,) array.
    """
    data = _check_data(data)
    n_toys = as_count("n_toys", n_toys)
    if n_toys == 0:
        raise InputError("n_toys must be at least 1")
    rng = _check_rng(rng)
    mu, i_lo, i_hi, expected = _toy_segments(data)
    blocks = [_draw_window_counts(mu, i_lo, i_hi, min(_TOY_BLOCK, n_toys - start), rng)
              for start in range(0, n_toys, _TOY_BLOCK)]
    counts = np.concatenate(blocks, axis=0)
    # per window, log P(N >= n | B_i) for every n the toys produced, by a reverse cumulative sum of the
    # Poisson terms (continued 40 sd + 60 terms above, where the tail is far below double precision)
    n_min, n_max = counts.min(axis=0), counts.max(axis=0)
    tables, offsets, start = [], np.empty(data.n_windows, dtype=np.int64), 0
    for i, b in enumerate(expected):
        top = int(max(n_max[i], b) + 40.0 * math.sqrt(b) + 60.0)
        log_pmf = log_pmf_range(int(n_min[i]), top, float(b))
        # summed upwards from each n: no 1 - cdf cancellation; clipped at 0 against rounding
        log_sf = np.minimum(np.logaddexp.accumulate(log_pmf[::-1])[::-1], 0.0)
        tables.append(log_sf[: n_max[i] - n_min[i] + 1])
        offsets[i] = start - n_min[i]
        start += tables[-1].size
    table = np.concatenate(tables)
    log_p = table[offsets[None, :] + counts]
    return np.exp(log_p.min(axis=1))


def toy_global_pvalue(data: PeakSearchData, n_toys, rng, local_pvalue=None) -> float:
    """Global p-value by toys: the fraction of background-only scans whose smallest local p-value is
    at or below ``local_pvalue`` (:func:`toy_min_local_pvalues` for the scheme).

    ``local_pvalue`` defaults to the data's own smallest local p-value (:func:`local_pvalues`, with
    the background uncertainties integrated): since the toys do not sample those uncertainties, that
    threshold is the larger one and the toy global p-value errs high (conservative) when they are
    > 0. Its statistical sd is sqrt(p (1 - p) / n_toys). Compare with :func:`look_elsewhere`.
    """
    data = _check_data(data)
    if local_pvalue is None:
        threshold = float(local_pvalues(data).min())
    else:
        threshold = float(local_pvalue)
        if not 0.0 <= threshold <= 1.0:
            raise InputError(f"local_pvalue must lie in [0, 1], got {local_pvalue!r}")
    min_p = toy_min_local_pvalues(data, n_toys, rng)
    # ties: the same count gives the same p up to rounding of the two sums
    return float(np.mean(min_p <= threshold * (1.0 + 1e-9)))


# --------------------------------------------------------------------------------------------------
# The illustrative example
# --------------------------------------------------------------------------------------------------

#: the example's background: a density linear in m rising 3x from 207 to 350 MeV, 4000 events there
_EXAMPLE_TOTAL = 4000.0
_EXAMPLE_RISE = 3.0
_EXAMPLE_RELATIVE_UNCERTAINTY = 0.05


def _six_digits(x: np.ndarray) -> np.ndarray:
    """Rounded to 6 significant digits (so the shipped file is readable and round-trips exactly)."""
    return np.array([float(f"{v:.6g}") for v in np.asarray(x, dtype=float)])


def example_peak_search(seed=EXAMPLE_SEED) -> PeakSearchData:
    """An ILLUSTRATIVE peak search on NA62's K+ -> pi+ X, X -> gamma gamma grid; backgrounds NOT NA62's.

    * Grid: m = 207 .. 350 MeV in 0.5 MeV steps (287 windows), the range and step of NA62's search
      (PLB 850 (2024) 138513, as quoted in the NA62 seed talk at WIN 2025).
    * Resolution: :func:`resolution_na62_pigg` (2.0 -> 0.2 MeV, linear in m), 6 significant digits.
    * Windows: +- 1.5 sigma_m.
    * Background: made up for illustration, not NA62's estimate -- a continuum whose density is
      linear in m and rises by a factor 3 from 207 to 350 MeV (K+ -> pi+ gamma gamma-like: rising
      with m), normalised to 4000 events between 207 and 350 MeV; each window's background is the
      integral of that density over the window (= density at the centre x 2 k sigma_m, exact for a
      linear density), to 6 significant digits. Uncertainty: 5% of it (also illustrative).
    * Observed: ONE background-only pseudo-experiment (no signal) drawn with
      ``numpy.random.default_rng(seed)`` by the scheme of :func:`toy_min_local_pvalues` (Poisson counts
      in the intervals between window edges, summed into the overlapping windows).

    The draw relies on numpy's Generator streams (PCG64 and its Poisson sampler); should a numpy
    release change them, regenerate the shipped file with :func:`write_example_peak_search`.
    """
    rng = np.random.default_rng(as_count("seed", seed))
    steps = round((NA62_PIGG_MASS_RANGE[1] - NA62_PIGG_MASS_RANGE[0]) / NA62_PIGG_STEP)
    masses = (207.0 + 0.5 * np.arange(steps + 1)) / 1000.0  # exact halves of a MeV, then to GeV
    k = DEFAULT_WINDOW_SIGMAS
    sigma = _six_digits(resolution_na62_pigg(masses))
    lo, hi = NA62_PIGG_MASS_RANGE
    # rho(m) = rho_lo (1 + (R - 1)(m - lo)/(hi - lo)); its integral over [lo, hi] is rho_lo (hi - lo)(1 + R)/2
    rho_lo = _EXAMPLE_TOTAL / ((hi - lo) * 0.5 * (1.0 + _EXAMPLE_RISE))
    rho = rho_lo * (1.0 + (_EXAMPLE_RISE - 1.0) * (masses - lo) / (hi - lo))
    background = _six_digits(rho * 2.0 * k * sigma)
    uncertainty = _six_digits(_EXAMPLE_RELATIVE_UNCERTAINTY * background)
    expected_only = PeakSearchData(masses, np.zeros(masses.size), background, uncertainty, sigma, k)
    mu, i_lo, i_hi, _ = _toy_segments(expected_only)
    observed = _draw_window_counts(mu, i_lo, i_hi, 1, rng)[0]
    return dataclasses.replace(expected_only, observed=observed)


def _example_header(seed: int) -> list[str]:
    return [
        "fipscan peak-search file: NA62 kaon mode, K+ -> pi+ X, X -> gamma gamma -- an ILLUSTRATIVE EXAMPLE",
        f"made by fipscan.stats.peak_search.example_peak_search(seed={seed}); regenerate with",
        "  fipscan.stats.peak_search.write_example_peak_search(path)",
        "grid and resolution: NA62's search (PLB 850 (2024) 138513; NA62 seed talk, WIN 2025): m_X =",
        "  sqrt((P_K - P_pi)^2) from 207 to 350 MeV in 0.5 MeV steps; sigma_m from 2.0 MeV (207 MeV) to",
        "  0.2 MeV (350 MeV), interpolated linearly in m (fipscan's choice)",
        "BACKGROUNDS ARE ILLUSTRATIVE, NOT NA62's: a continuum linear in m rising 3x from 207 to 350 MeV,",
        "  4000 events in 207-350 MeV, integrated over each window; uncertainty 5% of it",
        f"observed: one background-only pseudo-experiment (no signal), numpy.random.default_rng({seed})",
        "columns: m_gev window centre [GeV]; observed and background [events] in m_gev +- window_sigmas *",
        "  sigma_m_gev; background_uncertainty its sd [events]; sigma_m_gev signal mass resolution [GeV]",
    ]


def write_example_peak_search(path=EXAMPLE_FILE, seed=EXAMPLE_SEED) -> pathlib.Path:
    """Write :func:`example_peak_search` (``seed``) with its explanatory header to ``path`` (by default
    the shipped ``fipscan/data/kaon/na62_pigg_example.csv``)."""
    seed = as_count("seed", seed)
    return write_peak_search(example_peak_search(seed), path, _example_header(seed))
