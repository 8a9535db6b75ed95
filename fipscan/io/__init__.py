"""Every file fipscan writes as a result goes through here (the plots are drawn by fipscan.plotting).

* :mod:`fipscan.io.atomic`: the one atomic writer (temporary file beside the target, fsync, rename,
  folder fsync, the umask's file mode), used by the cache and the spectra generation too;
* :mod:`fipscan.io.results`: the files of a scan (contour CSVs, scan.h5, plots) and JSON summaries;
* :mod:`fipscan.io.tables`: yield tables as one HDF5 format (the layout of the yield cache entries);
* :mod:`fipscan.io.polygon`: the traced contour polygons (CSV, HDF5 group).
"""

from __future__ import annotations

from fipscan.io.atomic import atomic_copy, atomic_write, atomic_write_h5, atomic_write_json, atomic_write_text
from fipscan.io.polygon import polygon_csv, save_polygon, write_polygon_h5
from fipscan.io.results import contour_csv, prepare_output_dir, save_scan, scan_summary, write_json
from fipscan.io.tables import load_tables, save_tables

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_write_h5",
    "atomic_copy",
    "save_scan",
    "prepare_output_dir",
    "contour_csv",
    "polygon_csv",
    "save_polygon",
    "write_polygon_h5",
    "scan_summary",
    "write_json",
    "save_tables",
    "load_tables",
]
