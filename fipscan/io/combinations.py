"""Files of ``fipscan combinations``: combinations.csv, combinations.json, combinations.h5 and the figures.

One output set (fipscan.io.results.write_output_set: written beside the folder and swapped in whole):

* ``combinations.csv``: one row per combination (allowed or excluded), columns :data:`CSV_COLUMNS`
  (production = the mechanism, production_channels space separated, status "allowed"/"excluded", reason,
  in_na62_list, then the numbers of fipscan.combinations.CombinationResult.summary; empty cells for
  excluded combinations);
* ``combinations.json``: {"experiment", "pot", "fipscan_version", "combinations": [rows as in the CSV with
  null for missing numbers], "excluded_count", "allowed_count"};
* ``combinations.h5``: per allowed combination a group ``parent/mechanism/final_state`` with mass_gev (Nm,),
  width_gev (NG,), events (Nm, NG), lower/upper (Nm,) [GeV, nan: nothing excluded], map_mass_gev (Nk,),
  acceptance (Nk,), resolution_gev (Nk,), mass_shift_gev (Nk,) and attributes (reference coupling, POT,
  n_limit, efficiency, production channels);
* ``combinations.<fmt>`` (N_exp maps with their 90% CL regions, one panel per allowed combination) and
  ``combinations_acceptance.<fmt>`` (A_acc . A_trig and sigma_M / M_X versus M_X, one panel per final state).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from fipscan.io.atomic import atomic_write, atomic_write_h5, atomic_write_json, atomic_write_text
from fipscan.combinations import NOT_IN_NA62_LIST
from fipscan.io.results import PLOT_FORMATS, write_output_set

__all__ = ["CSV_COLUMNS", "combination_rows", "save_combinations"]

CSV_COLUMNS = ("parent", "production", "production_channels", "final_state", "status", "reason", "in_na62_list",
               "reference_coupling_name", "reference_coupling", "pot", "n_limit", "peak_events", "peak_mass_gev",
               "peak_width_gev", "mass_min_gev", "mass_max_gev", "excluded_mass_min_gev", "excluded_mass_max_gev",
               "acceptance_min", "acceptance_max", "efficiency", "resolution_rel_min", "resolution_rel_max",
               "seconds")



def combination_rows(combinations, results) -> list[dict]:
    """One dict per combination (keys :data:`CSV_COLUMNS`; None for numbers an excluded one has not)."""
    by_name = {r.combination.name: r for r in results}
    rows = []
    for c in combinations:
        row = dict.fromkeys(CSV_COLUMNS)
        row.update(parent=c.parent, production=c.mechanism, production_channels=" ".join(c.channels),
                   final_state=c.final_state, status="allowed" if c.allowed else "excluded", reason=c.reason,
                   in_na62_list=c.mechanism not in NOT_IN_NA62_LIST)
        r = by_name.get(c.name)
        if r is not None:
            row.update({k: v for k, v in r.summary().items() if k in CSV_COLUMNS and k != "production_channels"})
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return rows


def _csv_text(rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in rows:
        w.writerow(["" if row[k] is None else (repr(row[k]) if isinstance(row[k], float) else row[k])
                    for k in CSV_COLUMNS])
    return buf.getvalue()


def _write_h5(f, results) -> None:
    for r in results:
        g = f.create_group(r.combination.name)
        for name, arr in (("mass_gev", r.masses), ("width_gev", r.widths), ("events", r.events),
                          ("lower", r.lower), ("upper", r.upper), ("map_mass_gev", r.map_masses),
                          ("acceptance", r.acceptance), ("resolution_gev", r.resolution),
                          ("mass_shift_gev", r.mass_shift)):
            g.create_dataset(name, data=np.asarray(arr, dtype=np.float64))
        g.attrs.update(reference_coupling=r.reference_coupling, reference_coupling_name=r.reference_coupling_name,
                       pot=r.pot, n_limit=r.n_limit, efficiency=r.efficiency, production_power=r.production_power,
                       production_channels=" ".join(r.combination.channels))


def save_combinations(combinations, results, outdir, *, experiment, formats=PLOT_FORMATS) -> dict[str, Path]:
    """Write the combinations output set (module docstring) into ``outdir``; returns {file name: path}.
    experiment: the Experiment the maps were computed for (name, title and POT go into the JSON)."""
    from fipscan import __version__
    from fipscan.plotting import combinations_acceptance_figure, combinations_figure, write_figure

    rows = combination_rows(combinations, results)
    doc = {"experiment": experiment.name, "pot": float(experiment.pot), "fipscan_version": __version__,
           "allowed_count": sum(c.allowed for c in combinations),
           "excluded_count": sum(not c.allowed for c in combinations), "combinations": rows}

    def fill(staging: Path, written: dict) -> None:
        written["combinations.csv"] = atomic_write_text(staging / "combinations.csv", _csv_text(rows))
        written["combinations.json"] = atomic_write_json(staging / "combinations.json", doc)
        written["combinations.h5"] = atomic_write_h5(staging / "combinations.h5", lambda f: _write_h5(f, results))
        if results:
            figures = (("combinations", lambda: combinations_figure(results, experiment)),
                       ("combinations_acceptance", lambda: combinations_acceptance_figure(results, experiment)))
            for stem, make in figures:
                plots = write_figure(make, lambda fmt, save, stem=stem: atomic_write(staging / f"{stem}.{fmt}", save),
                                     formats)
                written.update({f"{stem}.{fmt}": p for fmt, p in plots.items()})

    return write_output_set(outdir, fill)
