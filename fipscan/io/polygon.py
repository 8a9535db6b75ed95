"""The traced contour polygons as files: ``contour_polygon.csv`` and the ``contour_polygon`` group of scan.h5.

The polygons are :class:`fipscan.contour.trace.Region` objects (vertices in x = ln m [GeV], y = ln g);
the contour code computes them and writes nothing, this module writes them (through the one atomic
writer, :mod:`fipscan.io.atomic`).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path

import numpy as np

from fipscan.io.atomic import atomic_write_text

__all__ = ["polygon_csv", "write_polygon_h5", "save_polygon"]


def polygon_csv(regions) -> str:
    """CSV text with columns region,mass_gev,coupling: each region's vertices in order, the first
    vertex repeated at the end of a closed region (so plotting it draws a closed curve)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["region", "mass_gev", "coupling"])
    for k, r in enumerate(regions):
        V = r.vertices
        if r.closed and len(V):
            V = np.vstack([V, V[:1]])
        for x, y in V:
            w.writerow([k, f"{math.exp(x):.10g}", f"{math.exp(y):.10g}"])
    return buf.getvalue()


def write_polygon_h5(group, regions) -> None:
    """Write regions into an h5py group: one subgroup ``region_<k>`` per region with datasets
    mass_gev, coupling (vertices in order, first not repeated) and attributes closed, touches_edge,
    edges, hole, area_lnln, n_evaluations, n_steps, message; the group's n_regions and n_open (regions
    that are not closed)."""
    group.attrs["n_regions"] = len(regions)
    group.attrs["n_open"] = sum(1 for r in regions if not r.closed)
    group.attrs["coordinates"] = "vertices in (mass_gev, coupling); areas in ln(m/GeV) x ln(g) units"
    for k, r in enumerate(regions):
        g = group.create_group(f"region_{k}")
        g.create_dataset("mass_gev", data=np.exp(r.vertices[:, 0]))
        g.create_dataset("coupling", data=np.exp(r.vertices[:, 1]))
        g.attrs["closed"] = bool(r.closed)
        g.attrs["touches_edge"] = bool(r.touches_edge)
        g.attrs["edges"] = ",".join(r.edges)
        g.attrs["hole"] = bool(r.hole)
        g.attrs["area_lnln"] = float(r.area)
        g.attrs["n_evaluations"] = int(r.n_evaluations)
        g.attrs["n_steps"] = int(r.n_steps)
        g.attrs["message"] = r.message


def save_polygon(result, outdir, written=None, *, couplings=None, **options) -> list:
    """Trace the contour of a ScanResult (primary POT) and write ``contour_polygon.csv`` into outdir.

    couplings: coupling box (default: the scan grid's range).  ``written`` (the dict of ScanResult.save)
    gets the path.  Returns the regions, for :func:`write_polygon_h5` into scan.h5.  A contour that
    cannot be closed does not abort the save: its open polygon is written with ``closed = False`` and
    the reason (``message``), and the reason is logged.
    """
    from fipscan.contour.trace import trace_regions

    pt = result.points[0]
    cpl = result.grid.couplings if couplings is None else couplings
    options.setdefault("raise_on_failure", False)
    regions = trace_regions(result.tables, pt.pot, pt.n_limit, couplings=(float(np.min(cpl)), float(np.max(cpl))),
                            **options)
    open_ = [r for r in regions if not r.closed]
    if open_:  # one line, however many fragments (a float32 scan can break the level set into many)
        hint = ("; a float32 scan: rerun in float64 (without --float32)"
                if np.dtype(result.tables.weights.dtype) == np.float32 else "")
        logging.getLogger("fipscan.contour").warning(
            "contour_polygon.csv: %d of %d traced regions are not closed (first: %s); the per-mass contour.csv "
            "is not affected%s", len(open_), len(regions), " ".join(str(open_[0].message).split()), hint)
    path = atomic_write_text(Path(outdir) / "contour_polygon.csv", polygon_csv(regions))
    if written is not None:
        written["contour_polygon.csv"] = path
    return regions
