"""A scan as a HEPData submission: ``submission.yaml`` and one YAML table file per table.

The submission is built with ``hepdata_lib`` (the field's library for HEPData records: its
``Table`` / ``Variable`` objects give the tables their HEPData layout; the tests check the files with
``hepdata_validator``).  Format reference: https://hepdata-submission.readthedocs.io

Tables (one YAML file each; the file name is the table name in lower case with ``_`` for spaces):

==========================================  ================================================================
table                                       content
==========================================  ================================================================
``Exclusion POT <P>``                       per excluded mass m [GeV]: lower and upper excluded coupling, and
                                            two 0/1 flags (1: that edge is the end of the scanned coupling
                                            range, the true edge lies beyond it); one table per POT (the first
                                            is the primary POT, the others projections)
``Exclusion polygon POT <P>``               the traced closed region(s) of the primary POT: vertices in order
                                            (mass [GeV], coupling), a closed region's first vertex repeated at
                                            its end, and the region index (only when ``regions`` are given)
``Expected exclusion <quantile>``           the expected-limit contours under the background-only hypothesis:
                                            ``median``, ``minus 1 sigma``, ``plus 1 sigma``, ``minus 2 sigma``,
                                            ``plus 2 sigma`` (``ScanPoint.expected``), same columns as above
``Exclusion POT <low|high> uncertainty``    the contours at POT x (1 -+ relative POT uncertainty)
                                            (``ScanPoint.pot_band``), same columns as above
``Production band <outer|inner>``           the production-model band (``ScanPoint.production_band``,
                                            fipscan.bands): the union (outer) and intersection (inner) of
                                            the nominal contour and the contours under each variation, same
                                            columns as above; the qualifier "production variations" names
                                            the variations (only when the band was computed)
``Decay band <outer|inner>``                the same for the decay-width band (``ScanPoint.decay_band``)
``Exclusion final state <name>``            each final state alone (``ScanResult.contour_by("final_state")``)
``Exclusion production <name>``             each production channel alone (``contour_by("production")``);
                                            ``->`` in a channel name is written `` to `` (``pi0 to gamma``)
``Expected signal events``                  N(m, g) at the primary POT on the whole grid: independent mass
                                            [GeV] and coupling (row-major, mass outer, shape (Nm, Ng)),
                                            dependent the expected signal events
==========================================  ================================================================

Masses where nothing is excluded have no row (no NaN is written); a contour that excludes nothing
has no table.  Every dependent variable carries the qualifiers experiment, experiment title, beam
energy [GeV], POT, CL, limit method, N limit [events], final states, model, model label,
benchmark, model options (only when some differ from their defaults), fipscan version, and, for
the tables of one part of the scan, the final state or production channel.  The coupling's unit
is the model's (``model.coupling.unit``: "" for epsilon and sin^2 theta, "GeV^-1" for
g_agammagamma).  Numbers are rounded to :data:`DIGITS` significant digits whatever their magnitude,
so reading them back gives the scan's values to 1e-7 relative.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from fipscan.errors import InputError
from fipscan.io.results import pot_text

__all__ = ["write_hepdata", "hepdata_tables", "table_file_name", "read_table", "DIGITS", "QUANTILE_NAMES"]

#: significant digits of every number in the table files
DIGITS = 8

#: ``ScanPoint.expected`` keys -> the words of the table names
QUANTILE_NAMES = {"0": "median", "-1": "minus 1 sigma", "+1": "plus 1 sigma", "-2": "minus 2 sigma",
                  "+2": "plus 2 sigma"}

_MAX_NAME = 64  # hepdata_lib refuses longer table names


def _round(x: float) -> float:
    """``x`` to :data:`DIGITS` significant digits."""
    return float(f"{float(x):.{DIGITS}g}")


def _safe(name: str) -> str:
    """A channel name as part of a table (and file) name: ``->`` as `` to ``, other characters that are
    not letters, digits, ``.``, ``+`` or ``-`` as ``_``."""
    return re.sub(r"[^A-Za-z0-9.+\- ]", "_", name.replace("->", " to "))


def _qualifiers(result) -> list[tuple[str, object, str]]:
    """(name, value, units) of the qualifiers every dependent variable carries."""
    from fipscan import __version__
    from fipscan.plotting import model_options_text

    model, exp = result.model, result.experiment
    inputs = dict(result.inputs or {})
    out = [("experiment", exp.name, ""), ("experiment title", str(getattr(exp, "title", exp.name)), ""),
           ("beam energy", float(exp.energy_gev), "GeV"),
           ("CL", float(inputs.get("cl", exp.cl)), ""),
           ("limit method", str(inputs.get("method", "cls")), ""),
           ("final states", ",".join(result.channels), ""),
           ("model", model.name, ""), ("model label", str(model.label), ""),
           ("benchmark", str(getattr(model, "benchmark", "")), "")]
    options = model_options_text(model, width=100_000)
    if options:
        out.append(("model options", options, ""))
    out.append(("fipscan version", __version__, ""))
    return out


class _Builder:
    """Collects hepdata_lib Tables for one ScanResult."""

    def __init__(self, result):
        import hepdata_lib as hd

        self.hd = hd
        self.result = result
        self.common = _qualifiers(result)
        c = result.model.coupling
        self.cname, self.cunit = c.name, c.unit
        self.tables = []

    def _var(self, name, values, *, independent, units=""):
        var = self.hd.Variable(name, is_independent=independent, is_binned=False, units=units)
        var.digits = DIGITS
        var.values = np.asarray(values).tolist()  # Python floats, and ints for indices and flags
        return var

    def _dep(self, name, values, quals, units=""):
        var = self._var(name, values, independent=False, units=units)
        for q, v, u in quals:
            var.add_qualifier(q, v, u)
        return var

    def _table(self, name, description):
        if len(name) > _MAX_NAME:
            name = name[: _MAX_NAME]
        taken = {table_file_name(t) for t in self.tables}
        base, k = name, 2
        while _file_name(name) in taken:  # two channels with the same safe name
            suffix = f" {k}"
            name, k = base[: _MAX_NAME - len(suffix)] + suffix, k + 1
        t = self.hd.Table(name)
        t.description = description
        t.location = "fipscan scan"
        t.keywords["phrases"] = ["Exclusion limit", "Feebly interacting particles", "Sensitivity"]
        t.keywords["observables"] = ["N"] if "events" in name.lower() else ["LIMIT"]
        self.tables.append(t)
        return t

    def _limit_quals(self, pot, n_limit, extra=()):
        return [*self.common[:3], ("POT", float(pot), ""), *self.common[3:],
                ("N limit", _round(n_limit), "events"), *extra]

    def contour(self, name, description, contour, pot, n_limit, extra=()):
        """A per-mass contour: mass, lower, upper, the two grid-edge flags; no table if nothing is excluded."""
        ok = np.asarray(contour.excluded, bool)
        if not ok.any():
            return None
        t = self._table(name, description)
        quals = self._limit_quals(pot, n_limit, extra)
        t.add_variable(self._var("mass", np.asarray(contour.masses)[ok], independent=True, units="GeV"))
        t.add_variable(self._dep(f"{self.cname} lower edge", np.asarray(contour.lower)[ok], quals, self.cunit))
        t.add_variable(self._dep(f"{self.cname} upper edge", np.asarray(contour.upper)[ok], quals, self.cunit))
        for side in ("lower", "upper"):
            flags = np.asarray(getattr(contour, f"{side}_at_edge"), bool)[ok].astype(int)
            t.add_variable(self._dep(f"{side} edge at grid end", flags, quals))
        return t

    def polygon(self, regions, pot, n_limit):
        masses, couplings, index = [], [], []
        for k, r in enumerate(regions):
            V = np.asarray(r.vertices, float)
            if r.closed and len(V):
                V = np.vstack([V, V[:1]])
            masses.extend(np.exp(V[:, 0]))
            couplings.extend(np.exp(V[:, 1]))
            index.extend([k] * len(V))
        if not masses:
            return None
        closed = all(r.closed for r in regions)
        t = self._table(f"Exclusion polygon POT {pot_text(pot)}",
                        f"The traced boundary of the excluded region(s) at {pot_text(pot)} POT: vertices in order, "
                        "the first vertex of a closed region repeated at its end; 'region' numbers the regions"
                        + ("" if closed else " (some regions are not closed: see scan.h5 contour_polygon)") + ".")
        quals = self._limit_quals(pot, n_limit)
        t.add_variable(self._var("mass", masses, independent=True, units="GeV"))
        t.add_variable(self._dep(self.cname, couplings, quals, self.cunit))
        t.add_variable(self._dep("region", index, quals))
        return t

    def events(self, pt):
        grid = self.result.grid
        ev = np.asarray(pt.events, float)
        mm, gg = np.meshgrid(np.asarray(grid.masses, float), np.asarray(grid.couplings, float), indexing="ij")
        ok = np.isfinite(ev)
        t = self._table("Expected signal events",
                        f"Expected signal events N(m, {self.cname}) at {pot_text(pt.pot)} POT on the scan grid "
                        f"({ev.shape[0]} masses x {ev.shape[1]} couplings, mass outer); the contours are "
                        f"where N equals the limit {pt.n_limit:.6g}.")
        t.add_variable(self._var("mass", mm[ok], independent=True, units="GeV"))
        t.add_variable(self._var(self.cname, gg[ok], independent=True, units=self.cunit))
        t.add_variable(self._dep("expected signal events", ev[ok], self._limit_quals(pt.pot, pt.n_limit), "events"))
        return t


def hepdata_tables(result, regions=None) -> list:
    """The hepdata_lib ``Table`` objects of a ScanResult (module docstring); ``regions``: the traced
    regions of the primary POT (``fipscan.contour.trace.Region``, as :func:`fipscan.io.polygon.save_polygon`
    returns them) for the polygon table, or None for no polygon table."""
    b = _Builder(result)
    pt0 = result.points[0]
    for i, pt in enumerate(result.points):
        role = "the primary POT" if i == 0 else "a projection"
        b.contour(f"Exclusion POT {pot_text(pt.pot)}",
                  f"Excluded coupling interval per mass at {pot_text(pt.pot)} POT ({role}): {result.model.label} at "
                  f"{result.experiment.title}, N > {pt.n_limit:.6g} signal events; masses where nothing is "
                  "excluded have no row.", pt.contour, pt.pot, pt.n_limit)
    if regions is not None:
        b.polygon(regions, pt0.pot, pt0.n_limit)
    for key in ("0", "-1", "+1", "-2", "+2"):
        if key not in pt0.expected:
            continue
        n_q, c = pt0.expected[key]
        words = QUANTILE_NAMES[key]
        b.contour(f"Expected exclusion {words}",
                  f"Expected exclusion ({words}) under the background-only hypothesis at {pot_text(pt0.pot)} POT: the "
                  f"contour where N equals {n_q:.6g} events.", c, pt0.pot, n_q,
                  extra=[("quantile", words, "")])
    if len(pt0.pot_band) == 2:
        from fipscan.stats import pot_band as pot_factors

        r = float(result.experiment.pot_uncertainty)
        for side, f, c in zip(("low", "high"), pot_factors(pt0.pot, r), pt0.pot_band):
            pot = pt0.pot * f
            b.contour(f"Exclusion POT {side} uncertainty",
                      f"Exclusion at the POT {'lowered' if f < 1 else 'raised'} by its relative uncertainty "
                      f"{r:g} ({pot_text(pot)} POT): the POT-uncertainty band.", c, pot, pt0.n_limit,
                      extra=[("relative POT uncertainty", r, "")])
    for name, band in getattr(pt0, "model_bands", {}).items():
        listed = "; ".join(f"{k}: {band.descriptions[k].describe()}" for k in band.variations) or "none"
        for edge in ("outer", "inner"):
            how = ("union: excluded where the nominal model or any variation excludes" if edge == "outer" else
                   "intersection: excluded where the nominal model and every variation exclude")
            b.contour(f"{name.capitalize()} band {edge}",
                      f"The {band.title} band at {pot_text(pt0.pot)} POT, {edge} edge ({how}; same limit, "
                      f"{pt0.n_limit:.6g} events).", getattr(band, edge), pt0.pot, pt0.n_limit,
                      extra=[("band edge", edge, ""), (f"{name} variations", listed, "")])
    for by, what in (("final_state", "final state"), ("production", "production")):
        for name, c in result.contour_by(by).items():
            b.contour(f"Exclusion {what} {_safe(name)}",
                      f"Exclusion from the {what}{' channel' if by == 'production' else ''} {name} alone at "
                      f"{pot_text(pt0.pot)} POT (same limit, {pt0.n_limit:.6g} events).", c, pt0.pot, pt0.n_limit,
                      extra=[(what if by == "final_state" else "production channel", name, "")])
    b.events(pt0)
    return b.tables


def _plain(obj):
    """``obj`` (hepdata_lib's dicts hold defaultdicts and tuples) as plain dicts and lists for a safe dumper."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _yaml(docs) -> str:
    """The YAML documents ``docs`` (``---`` before each), by the C emitter where PyYAML has it."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump_all([_plain(d) for d in docs], Dumper=dumper, default_flow_style=False, explicit_start=True,
                         sort_keys=False, allow_unicode=True)


def _file_name(table_name: str) -> str:
    return f"{table_name.lower().replace(' ', '_')}.yaml"


def table_file_name(table) -> str:
    """The file of a hepdata_lib Table, named as hepdata_lib names it: ``<name lower case, _ for spaces>.yaml``."""
    return _file_name(table.name)


def write_hepdata(result, folder, *, regions=None) -> dict[str, Path]:
    """Write the HEPData submission of a ScanResult into ``folder``: ``submission.yaml`` and one
    ``<table>.yaml`` per table of :func:`hepdata_tables` (module docstring: tables, shapes, units,
    qualifiers), each through the one atomic writer.  ``folder`` must be new or empty (InputError
    otherwise): a submission is a set of files, and a stale table of another scan would be listed in
    none.  For an atomic set, use ``ScanResult.save(dir, hepdata=True)``, which writes
    ``dir/hepdata/`` with the other outputs and swaps them in together.

    The tables are hepdata_lib objects and their content is hepdata_lib's (``Variable.make_dict``: the
    HEPData layout and the rounding); the files are serialised here, in the layout of hepdata_lib's
    ``Table.write_yaml``, because ``Submission.create_files`` also writes ``submission.tar.gz`` into the
    working folder and ``Table.write_yaml`` uses PyYAML's pure-Python emitter (5x slower on a scan's
    N(m, g) grid) and writes in place.

    Returns {file name: path}, ``submission.yaml`` first.
    Format: https://hepdata-submission.readthedocs.io
    """
    import hepdata_lib as hd

    from fipscan.io.atomic import atomic_write_text

    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise InputError(f"HEPData folder {folder} exists and is not a directory")
        if any(folder.iterdir()):
            raise InputError(f"HEPData folder {folder} is not empty; give a new or empty folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create HEPData folder {folder}: {exc.strerror}") from None
    tables = hepdata_tables(result, regions)
    sub = hd.Submission()
    pt = result.points[0]
    sub.comment = (f"Expected sensitivity of {result.experiment.title} ({result.experiment.name}) to the "
                   f"{result.model.label} ({result.model.name}), {float(result.inputs.get('cl', 0.9)):g} CL "
                   f"exclusion at {pot_text(pt.pot)} POT, computed with fipscan.")
    docs = [{"data_license": sub.get_license(), "comment": sub.comment,
             "additional_resources": sub.additional_resources}]
    files = {}
    for t in tables:
        name = table_file_name(t)
        files[name] = _yaml([{
            "independent_variables": [v.make_dict() for v in t.variables if v.is_independent],
            "dependent_variables": [v.make_dict() for v in t.variables if not v.is_independent]}])
        docs.append({"name": t.name, "description": t.description, "location": t.location, "data_file": name,
                     "keywords": [{"name": k, "values": v} for k, v in t.keywords.items()]})
    written = {"submission.yaml": atomic_write_text(folder / "submission.yaml", _yaml(docs))}
    for name, text in files.items():
        written[name] = atomic_write_text(folder / name, text)
    return written


def read_table(path) -> dict:
    """A table file written here, as {header name: list of values} (for tests and scripts): the
    independent variables first, then the dependent ones."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = {}
    for var in doc["independent_variables"] + doc["dependent_variables"]:
        out[var["header"]["name"]] = [v["value"] for v in var["values"]]
    return out

