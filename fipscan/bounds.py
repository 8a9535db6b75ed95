"""Existing exclusion bounds: curated curves drawn (grey, under fipscan's own regions) on the plots.

The set ships as package data, one CSV file per curve, ``fipscan/data/bounds/<benchmark>/<name>.csv``,
with a version string in ``fipscan/data/bounds/VERSION`` (:func:`bounds_version`).  Each file is a
header of ``# key: value`` lines followed by ``mass_gev,coupling`` rows on fipscan's axes:

    # format: fipscan-bounds 1
    # benchmark: BC1                      PBC benchmark
    # model: dark-photon                  the fipscan model whose axes the curve is on
    # label: CHARM                        the short label drawn beside the curve
    # experiment: CHARM (CERN SPS, 400 GeV p on Cu)
    # publication: the paper of the search (arXiv / journal)
    # figure: the figure (or HEPData record) the numbers were read from
    # compilation: repository path @ commit of the public compilation the file was made from
    # x: mass                             always the mass
    # x_unit: GeV                         always GeV
    # y: epsilon                          the name of the model's coupling axis (Coupling.name)
    # y_unit: 1                           its unit (Coupling.unit; "1" for a dimensionless coupling)
    # region: closed                      closed: the rows are a closed polygon (the last row joins the
    #                                     first); above: the rows are the lower edge of a region open
    #                                     upwards (everything above it is excluded)
    # conversion: what was done to the source's numbers (units, axis, clipping) or "none"
    # read: 2026-12-01                    the date the source was read
    mass_gev,coupling
    0.002006,7.981e-07
    ...

:func:`read_bounds` checks a file on its own (header, units, finite positive values); :func:`load_bounds`
also checks it against a model (its model name, coupling axis and unit, the coupling's physical maximum);
every problem is an :class:`~fipscan.errors.InputError` of one line naming the file and the problem.
:func:`shipped_bounds` lists the shipped curves (all, or one model's or benchmark's);
:func:`resolve_bounds` turns the ``fipscan scan --bounds`` value (``default``, ``none`` or files) into
curves.

Refreshing the set
------------------
``python -m fipscan.bounds_refresh`` holds the manifest of the shipped curves (source repository, path and commit,
publication, figure, conversion) and rebuilds every file from the sources: ``--fetch`` downloads each
source file at its pinned commit from GitHub, ``--raw DIR`` reads copies already in DIR.  To refresh:
edit the manifest (a new commit, a new curve), run the script, bump ``VERSION`` (YYYY.MM.N), run
``tests/test_bounds.py`` (its spot checks compare points with the source numbers) and say in the commit
what changed.  Numbers are never edited by hand in the CSV files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fipscan.errors import InputError

__all__ = ["BoundCurve", "BOUNDS_DIR", "FORMAT", "HEADER_KEYS", "bounds_version", "read_bounds",
           "load_bounds", "check_against_model", "shipped_bounds", "resolve_bounds"]

#: the folder of the shipped set
BOUNDS_DIR = Path(__file__).resolve().parent / "data" / "bounds"
#: the value of the ``format`` header line this module reads
FORMAT = "fipscan-bounds 1"
#: header keys every bounds file must carry (each with a non-empty value)
HEADER_KEYS = ("format", "benchmark", "model", "label", "experiment", "publication", "figure", "compilation",
               "x", "x_unit", "y", "y_unit", "region", "conversion", "read")
#: header keys a file may carry besides (free text)
OPTIONAL_KEYS = ("note",)
REGIONS = ("closed", "above")
#: the column line between the header and the rows
COLUMNS = "mass_gev,coupling"
#: the unit written for a dimensionless coupling (Coupling.unit "")
DIMENSIONLESS = "1"


@dataclass(frozen=True)
class BoundCurve:
    """One existing exclusion curve: its header (``meta``) and its (mass [GeV], coupling) rows."""

    path: Path
    meta: dict
    masses: np.ndarray = field(repr=False)
    couplings: np.ndarray = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def label(self) -> str:
        return self.meta["label"]

    @property
    def model(self) -> str:
        return self.meta["model"]

    @property
    def benchmark(self) -> str:
        return self.meta["benchmark"]

    @property
    def region(self) -> str:
        return self.meta["region"]

    def summary(self) -> dict:
        """Plain-JSON description (the header, the file, the number of points and the ranges)."""
        return {"name": self.name, "file": str(self.path), **{k: self.meta[k] for k in self.meta},
                "n_points": int(self.masses.size),
                "mass_range_gev": [float(self.masses.min()), float(self.masses.max())],
                "coupling_range": [float(self.couplings.min()), float(self.couplings.max())]}


def bounds_version() -> str:
    """The version of the shipped set (``fipscan/data/bounds/VERSION``)."""
    try:
        text = (BOUNDS_DIR / "VERSION").read_text().strip()
    except OSError as exc:
        raise InputError(f"the shipped bounds set has no readable VERSION file ({exc.strerror})") from None
    if not text or len(text.splitlines()) != 1:
        raise InputError(f"{BOUNDS_DIR / 'VERSION'}: expected one line with the version of the set")
    return text


def _fail(path, problem: str):
    raise InputError(f"bounds file {path}: {problem}")


def read_bounds(path) -> BoundCurve:
    """A bounds file checked on its own: every header key present and non-empty, the format, mass in GeV,
    a unit for the coupling, a known region kind, the column line, and rows of two finite positive
    numbers (at least 3 for a closed polygon, 2 for an open edge).  InputError (one line) otherwise."""
    from fipscan import checks

    path = Path(path)
    text = checks.text("bounds file", path)
    meta, rows, columns_seen = {}, [], False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if columns_seen:
                continue  # a comment among the rows
            key, sep, value = line[1:].partition(":")
            key = key.strip()
            if not sep or not key or " " in key:
                continue  # free-text comment
            if key in meta:
                _fail(path, f"line {number}: header key '{key}' given twice")
            if key not in HEADER_KEYS and key not in OPTIONAL_KEYS:
                _fail(path, f"line {number}: unknown header key '{key}' (known: {', '.join(HEADER_KEYS)}, "
                            f"{', '.join(OPTIONAL_KEYS)})")
            meta[key] = value.strip()
            continue
        if not columns_seen:
            if line.replace(" ", "") != COLUMNS:
                _fail(path, f"line {number}: expected the column line '{COLUMNS}' after the header, got '{line}'")
            columns_seen = True
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            m, g = float(parts[0]), float(parts[1])
        except ValueError:
            _fail(path, f"line {number}: expected two comma-separated numbers (mass_gev,coupling), got '{line}'")
        if not (math.isfinite(m) and math.isfinite(g)):
            _fail(path, f"line {number}: mass and coupling must be finite, got '{line}'")
        if m <= 0 or g <= 0:
            _fail(path, f"line {number}: mass and coupling must be positive (the plots are log-log), got '{line}'")
        rows.append((m, g))
    missing = [k for k in HEADER_KEYS if not meta.get(k)]
    if missing:
        _fail(path, f"header lacks {', '.join(repr(k) for k in missing)} (every bounds file states "
                    f"{', '.join(HEADER_KEYS)}: see fipscan.bounds)")
    if meta["format"] != FORMAT:
        _fail(path, f"format '{meta['format']}' is not '{FORMAT}'")
    if meta["x"] != "mass" or meta["x_unit"] != "GeV":
        _fail(path, f"the x axis must be mass in GeV, got {meta['x']} [{meta['x_unit']}]")
    if meta["region"] not in REGIONS:
        _fail(path, f"region '{meta['region']}' is not one of {', '.join(REGIONS)}")
    if not columns_seen:
        _fail(path, f"has no column line '{COLUMNS}' and no rows")
    need = 3 if meta["region"] == "closed" else 2
    if len(rows) < need:
        _fail(path, f"has {len(rows)} rows; a {meta['region']} region needs at least {need}")
    arr = np.asarray(rows, dtype=float)
    return BoundCurve(path=path, meta=meta, masses=arr[:, 0], couplings=arr[:, 1])


def _coupling_unit(model) -> str:
    return getattr(model.coupling, "unit", "") or DIMENSIONLESS


def check_against_model(curve: BoundCurve, model) -> BoundCurve:
    """``curve`` checked against ``model`` (an instance): the model name, the coupling axis name and unit,
    and couplings within the axis' physical maximum.  Masses outside the model's range are allowed (the
    plots clip them)."""
    name = getattr(model, "name", "?")
    if curve.model != name:
        _fail(curve.path, f"is for model '{curve.model}', not '{name}'")
    axis, unit = model.coupling.name, _coupling_unit(model)
    if curve.meta["y"] != axis or curve.meta["y_unit"] != unit:
        _fail(curve.path, f"its coupling axis {curve.meta['y']} [{curve.meta['y_unit']}] is not the axis of {name}, "
                          f"{axis} [{unit}] (convert the curve and say so in its 'conversion' line)")
    top = float(getattr(model.coupling, "max", math.inf))
    if float(curve.couplings.max()) > top:
        _fail(curve.path, f"coupling {float(curve.couplings.max()):g} above the physical maximum {top:g} of {axis}")
    return curve


def _as_model(model):
    if isinstance(model, str):
        from fipscan.models import get_model

        return get_model(model)
    return model


def load_bounds(path, model=None) -> BoundCurve:
    """:func:`read_bounds`, then (``model``: an instance or a registered name) :func:`check_against_model`."""
    curve = read_bounds(path)
    return curve if model is None else check_against_model(curve, _as_model(model))


def _shipped_files() -> list[Path]:
    return sorted(p for p in BOUNDS_DIR.glob("*/*.csv") if p.is_file())


def shipped_bounds(model: str | None = None, benchmark: str | None = None) -> list[BoundCurve]:
    """The shipped curves (each checked by :func:`read_bounds`), of one model name and/or benchmark if given,
    sorted by benchmark and file name."""
    out = []
    for path in _shipped_files():
        curve = read_bounds(path)
        if curve.benchmark != path.parent.name:
            _fail(path, f"benchmark '{curve.benchmark}' is not its folder '{path.parent.name}'")
        if (model is None or curve.model == model) and (benchmark is None or curve.benchmark == benchmark):
            out.append(curve)
    return out


def resolve_bounds(spec, model) -> list[BoundCurve]:
    """The curves of a ``--bounds`` value for ``model`` (an instance or registered name): ``"default"`` (or
    None): the shipped curves of the model; ``"none"``: no curve; otherwise files, each checked against the
    model (``"default"`` may be given with files: the shipped ones and yours)."""
    items = ["default"] if spec is None else [spec] if isinstance(spec, (str, Path)) else list(spec)
    items = [str(x) for x in items]
    if not items:
        _fail("(none given)", "give 'default', 'none' or one or more files")
    if "none" in items:
        if len(items) > 1:
            raise InputError("--bounds none draws no existing bound; it cannot be combined with "
                             f"{', '.join(x for x in items if x != 'none')}")
        return []
    model = _as_model(model)
    out = []
    for item in dict.fromkeys(items):  # each once, in the given order
        if item == "default":
            out += [check_against_model(c, model) for c in shipped_bounds(model=model.name)]
        else:
            out.append(load_bounds(item, model))
    return out
