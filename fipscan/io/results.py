"""The files of a scan: contour CSVs, the traced polygon, scan.h5, the plots, and JSON summaries.

:func:`save_scan` writes every output of a :class:`fipscan.scanner.ScanResult` into a folder, each
file through the one atomic writer (:mod:`fipscan.io.atomic`); ``ScanResult.save`` delegates here.

=========================  ======================================================================
file                       content
=========================  ======================================================================
``contour.csv``            ``mass_gev,coupling_lower,coupling_upper`` per excluded mass, primary POT
``contour_pot<P>.csv``     the same for every further POT (projections)
``contour_polygon.csv``    ``region,mass_gev,coupling``: the traced closed region(s), primary POT
``scan.h5``                axes, N(m, g) per POT, every contour and band, inputs and versions
``contour.<fmt>``          the publication-style plot (``fipscan.plotting``)
=========================  ======================================================================
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from fipscan.errors import InputError
from fipscan.io.atomic import atomic_write, atomic_write_h5, atomic_write_text
from fipscan.io.polygon import save_polygon, write_polygon_h5

__all__ = [
    "save_scan",
    "prepare_output_dir",
    "contour_csv",
    "write_scan_h5",
    "scan_summary",
    "write_json",
    "jsonable",
]


def prepare_output_dir(outdir) -> Path:
    """Create ``outdir`` if needed and check that it is a writable directory (InputError otherwise)."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"output path {outdir} exists and is not a directory")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {outdir}: {exc.strerror}") from None
    try:  # os.access is not enough (root ignores permission bits; read-only mounts)
        fd, probe = tempfile.mkstemp(prefix=".fipscan-write-probe.", dir=outdir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"output directory {outdir} is not writable: {exc.strerror}") from None
    return outdir


def contour_csv(contour) -> str:
    """``mass_gev,coupling_lower,coupling_upper``, one row per excluded mass of a PerMassContour."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["mass_gev", "coupling_lower", "coupling_upper"])
    for m, lo, hi in contour.rows():
        w.writerow([f"{m:.8g}", f"{lo:.8g}", f"{hi:.8g}"])
    return buf.getvalue()


def jsonable(obj):
    """``obj`` with numpy scalars and arrays as Python numbers and lists, mappings keyed by str."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def _strict(obj):
    """jsonable(obj) with NaN and infinities as ``null`` (JSON has no NaN)."""
    obj = jsonable(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strict(v) for v in obj]
    return obj


def _write_contour(group, contour):
    for key in ("masses", "lower", "upper", "lower_at_edge", "upper_at_edge", "converged"):
        group.create_dataset(key, data=getattr(contour, key))
    group.attrs["n_limit"] = contour.n_limit
    return group


def write_scan_h5(f, result) -> None:
    """Fill an open ``h5py.File`` with a ScanResult: attributes fipscan_version, model, experiment,
    channels, inputs / experiment_config / model_settings (JSON); datasets mass_gev, coupling; per
    POT a group ``pot_<i>`` with events (mass x coupling), contour, expected/<quantile>, pot_band."""
    from fipscan import __version__

    f.attrs["fipscan_version"] = __version__
    f.attrs["model"] = result.model.name
    f.attrs["experiment"] = result.experiment.name
    f.attrs["channels"] = ",".join(result.channels)
    f.attrs["inputs"] = json.dumps(jsonable(result.inputs), sort_keys=True)
    f.attrs["experiment_config"] = json.dumps(jsonable(result.experiment.config), sort_keys=True)
    f.attrs["model_settings"] = json.dumps(jsonable(result.model.settings()), sort_keys=True)
    f.create_dataset("mass_gev", data=result.grid.masses)
    f.create_dataset("coupling", data=result.grid.couplings)
    f["mass_gev"].attrs["units"] = "GeV"
    f["coupling"].attrs["name"] = result.model.coupling.name
    f["coupling"].attrs["units"] = result.model.coupling.unit
    f.attrs["experiment_settings"] = json.dumps(jsonable(result.experiment.settings()), sort_keys=True)
    # N split by final state and by production channel at the primary POT (they sum to pot_0/events)
    for by, group in (("final_state", "events_by_final_state"), ("production", "events_by_production")):
        for name, ev in result.events_by(by).items():
            d = f.create_dataset(f"{group}/{name}", data=ev, compression="gzip")
            d.attrs["axes"] = "mass_gev,coupling"
            d.attrs["pot"] = result.points[0].pot
    for i, pt in enumerate(result.points):
        g = f.create_group(f"pot_{i}")
        g.attrs["pot"] = pt.pot
        g.attrs["n_limit"] = pt.n_limit
        d = g.create_dataset("events", data=pt.events, compression="gzip")
        d.attrs["axes"] = "mass_gev,coupling"
        d.attrs["units"] = "expected signal events"
        g.attrs["background"] = pt.background
        g.attrs["background_uncertainty"] = pt.background_uncertainty
        _write_contour(g.create_group("contour"), pt.contour)
        for key, (n_q, c) in pt.expected.items():
            sub = _write_contour(g.create_group(f"expected/{key}"), c)
            sub.attrs["n_limit"] = n_q
        for name, c in zip(("pot_low", "pot_high"), pt.pot_band):
            _write_contour(g.create_group(f"pot_band/{name}"), c)


def save_scan(result, outdir, *, compare=None, formats=("png", "pdf"), polygon=True) -> dict[str, Path]:
    """Write contour.csv (per mass), contour_pot<P>.csv (further POT), contour_polygon.csv (the
    traced closed region(s), if ``polygon``), scan.h5 and contour.<fmt> for each of ``formats`` into
    ``outdir`` (created if needed; InputError if it cannot be written), each atomically.

    compare: a published curve to overlay on the plot (``fipscan.plotting.read_curve``).
    Returns {file name: path}.
    """
    from fipscan.plotting import plot_result

    outdir = prepare_output_dir(outdir)
    written: dict[str, Path] = {}
    written["contour.csv"] = atomic_write_text(outdir / "contour.csv", contour_csv(result.contour))
    for pt in result.points[1:]:
        name = f"contour_pot{pt.pot:.0e}.csv".replace("+", "")
        written[name] = atomic_write_text(outdir / name, contour_csv(pt.contour))
    regions = []
    if polygon:
        regions = save_polygon(result, outdir, written)

    def write_h5(f):
        write_scan_h5(f, result)
        if polygon:
            write_polygon_h5(f.create_group("contour_polygon"), regions)

    written["scan.h5"] = atomic_write_h5(outdir / "scan.h5", write_h5)
    for fmt in formats:
        written[f"contour.{fmt}"] = atomic_write(
            outdir / f"contour.{fmt}", lambda fh, fmt=fmt: plot_result(result, fh, fmt=fmt, compare=compare))
    return written


def _contour_summary(contour) -> dict:
    rows = contour.rows()
    return {"n_masses_excluded": int(np.asarray(contour.excluded).sum()),
            "min_coupling": float(min(r[1] for r in rows)) if rows else None}


def scan_summary(result, written: Mapping[str, Any] = (), *, output=None, seconds=None, split=True) -> dict:
    """The machine-readable summary of a scan (what ``fipscan scan --json`` prints): output folder,
    files written, wall time, model, experiment and final states; per POT the limit, the number of
    excluded masses and the smallest excluded coupling (``None`` when nothing is excluded); with
    ``split``, per final state and per production channel (at the primary POT) the largest N on the
    grid and that part's own contour summary."""
    contours = [{"pot": float(pt.pot), "n_limit": float(pt.n_limit), **_contour_summary(pt.contour)}
                for pt in result.points]
    doc = {"output": None if output is None else str(output), "files": sorted(written),
           "seconds": seconds, "model": result.model.name, "experiment": result.experiment.name,
           "channels": list(result.channels), "contours": contours}
    if split:
        for by, key in (("final_state", "per_final_state"), ("production", "per_production")):
            events, parts = result.events_by(by), result.contour_by(by)
            doc[key] = {k: {"max_events": float(np.max(events[k])), **_contour_summary(parts[k])} for k in events}
    return doc


def write_json(doc, dest: str | os.PathLike | IO[str] | None = None, *, indent: int = 2, default=None) -> None:
    """``doc`` as strict JSON (numpy values converted, NaN and infinities as ``null``), with a final
    newline: onto a text stream (default ``sys.stdout``), or into a ``.json`` file, atomically.
    ``default``: as for :func:`json.dumps` (e.g. ``str`` for objects JSON has no type for)."""
    text = json.dumps(_strict(doc), indent=indent, allow_nan=False, default=default) + "\n"
    if dest is None or hasattr(dest, "write"):
        stream = sys.stdout if dest is None else dest
        stream.write(text)
        stream.flush()
        return
    path = Path(dest)
    if path.suffix != ".json":
        raise InputError(f"a JSON output needs a .json file name, got {path}")
    atomic_write_text(path, text)
