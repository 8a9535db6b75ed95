"""The files of a scan: contour CSVs, the traced polygon, scan.h5, the plots, and JSON summaries.

:func:`save_scan` writes every output of a :class:`fipscan.scanner.ScanResult` into a folder
(``ScanResult.save`` delegates here), atomically *as a set*: the files are written (each through the
one atomic writer, :mod:`fipscan.io.atomic`, with the umask's permissions) into a new hidden folder
beside the target, which then replaces the target in one step (Linux: ``renameat2(RENAME_EXCHANGE)``).
A kill or a full disk leaves the previous set or the new one; a rerun leaves no file of the earlier
run.  The target must be new, empty or a previous set: a folder with other files is refused.

=========================  ======================================================================
file                       content
=========================  ======================================================================
``contour.csv``            ``mass_gev,coupling_lower,coupling_upper`` per excluded mass, primary POT
``contour_pot<P>.csv``     the same for every further POT (projections)
``contour_polygon.csv``    ``region,mass_gev,coupling``: the traced closed region(s), primary POT
``scan.h5``                axes, N(m, g) per POT, every contour and band, inputs and versions
``contour.<fmt>``          the publication-style plot (``fipscan.plotting``): png, pdf, svg
``hepdata/``               with ``hepdata=True``: the HEPData submission (``submission.yaml`` and
                           its table files, :mod:`fipscan.io.hepdata`)
=========================  ======================================================================
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from fipscan.errors import InputError
from fipscan.io.atomic import atomic_write, atomic_write_h5, atomic_write_text, dir_mode
from fipscan.io.polygon import save_polygon, write_polygon_h5

__all__ = [
    "save_scan",
    "save_result_sets",
    "kaon_limits_table",
    "check_result_sets_dir",
    "COMPARISON_FORMATS",
    "write_output_set",
    "prepare_output_dir",
    "check_output_set_dir",
    "pot_file_name",
    "contour_csv",
    "write_scan_h5",
    "scan_summary",
    "write_json",
    "jsonable",
]


#: the files of an output set (``save_scan``): a folder holding only these (and hidden temporary
#: files) is a previous set, which the next save replaces as a whole
_SET_FILE = re.compile(r"^(contour(_pot[0-9.]+e-?[0-9]+)?\.csv|contour_polygon\.csv|scan\.h5|contour\.[A-Za-z0-9]+"
                       r"|combinations\.(csv|json|h5)|combinations(_acceptance)?\.[A-Za-z0-9]+)$")


#: the subfolder of an output set holding the HEPData submission (only YAML files)
HEPDATA_DIR = "hepdata"


def _hepdata_set_dir(path: Path) -> bool:
    """``path`` is the HEPData subfolder of a previous set: a folder ``hepdata`` holding only YAML files
    (and hidden temporary files)."""
    if path.name != HEPDATA_DIR or path.is_symlink() or not path.is_dir():
        return False
    try:
        return all(_leftover(p.name) or (p.suffix == ".yaml" and p.is_file() and not p.is_symlink())
                   for p in path.iterdir())
    except OSError:
        return False


def _leftover(name: str) -> bool:
    """A hidden temporary file of a writer (``.x.tmp``) or a write probe."""
    return name.startswith(".") and (name.endswith(".tmp") or name.startswith(".fipscan-write-probe."))


def check_output_set_dir(outdir, name: str = "output directory") -> Path:
    """The absolute folder an output set will be swapped into, after checking that it can be (cheap:
    no JAX, nothing created).  InputError naming ``name`` when ``outdir`` is empty, a file, the
    working folder (or one holding it), a folder with files that no fipscan scan wrote (the folder
    is replaced as a whole, they would be lost), or when its parent folder is not writable."""
    if outdir is None or not str(outdir).strip():
        raise InputError(f"{name} is empty; give a folder")
    path = Path(outdir)
    target = Path(os.path.realpath(path)) if path.is_symlink() else Path(os.path.abspath(path))
    cwd = Path(os.getcwd())
    if target == cwd or target in cwd.parents:
        raise InputError(f"{name} {path} is the working folder or holds it; a scan's files are written beside "
                         "the folder and swapped in as a whole: give a subfolder such as fipscan-out")
    if target.exists():
        if not target.is_dir():
            raise InputError(f"{name} {path} exists and is not a directory")
        try:
            entries = sorted(target.iterdir())
        except OSError as exc:
            raise InputError(f"{name} {path} cannot be listed ({exc.strerror})") from None
        foreign = [p.name for p in entries if not (_leftover(p.name) or (_SET_FILE.match(p.name) and p.is_file())
                                                   or _hepdata_set_dir(p))]
        if foreign:
            more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
            raise InputError(f"{name} {path} holds '{foreign[0]}'{more}, not written by a fipscan scan; each run "
                             "replaces the folder as a whole: give a new or empty folder")
    anc = target.parent
    while not anc.exists() and anc.parent != anc:
        anc = anc.parent
    exc = _write_probe(anc)  # the set is written into a new folder beside the target
    if exc is not None:
        raise InputError(f"{name} {path}: cannot write into {anc} ({exc.strerror})")
    return target


def _write_probe(folder) -> OSError | None:
    """None if a file can be created (and removed) in ``folder``, else the OSError: os.access is not
    enough (root ignores permission bits; read-only mounts)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".fipscan-write-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc
    return None


def prepare_output_dir(outdir) -> Path:
    """Check ``outdir`` (:func:`check_output_set_dir`), create it if needed and check that it is a
    writable directory (InputError otherwise)."""
    check_output_set_dir(outdir)
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {outdir}: {exc.strerror}") from None
    exc = _write_probe(outdir)
    if exc is not None:
        raise InputError(f"output directory {outdir} is not writable: {exc.strerror}")
    return outdir


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one atomic step (Linux renameat2 RENAME_EXCHANGE); False
    where the system has no such call."""
    import ctypes
    import errno

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(staging: Path, target: Path) -> None:
    """Make the complete folder ``staging`` the folder ``target``; the previous ``target`` (if any)
    is removed afterwards.  Atomic where the system can exchange two folders (Linux); elsewhere the
    previous set is moved aside first (a crash in between leaves it as ``.<name>.old-*.tmp``)."""
    import errno

    try:
        os.rename(staging, target)  # target missing or empty: one atomic step
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        if _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # now the previous set
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", suffix=".tmp", dir=target.parent))
            os.rename(target, old / "set")
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_dead_staging(target: Path) -> None:
    """Remove the staging folders of saves into ``target`` whose process is gone (killed)."""
    for p in target.parent.glob(f".{glob.escape(target.name)}.*-*-*.tmp"):
        try:
            pid = int(p.name[len(target.name) + 2:].split("-")[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, IndexError, OSError):
            continue


def pot_text(pot: float) -> str:
    """A POT with the fewest significant digits (1 to 4) that give the value back to 1e-9: 1.4e17, 1e18
    (values that agree to 4 digits share a text)."""
    for k in range(4):
        text = f"{pot:.{k}e}"
        if abs(float(text) - pot) <= 1e-9 * abs(pot):
            break
    mant, _, exp = text.partition("e")
    return f"{mant}e{int(exp)}"


def pot_file_name(pot: float) -> str:
    """``contour_pot<P>.csv`` of a further POT, P as :func:`pot_text`: contour_pot1e18.csv,
    contour_pot1.4e18.csv; values that agree to 4 digits share a name (the CLI refuses such a pair)."""
    return f"contour_pot{pot_text(pot)}.csv"


#: columns of contour.csv; the two flags are 1 where the excluded interval reaches the end of the
#: scanned coupling range (the true edge lies beyond the grid: widen --couplings), else 0
CONTOUR_COLUMNS = ("mass_gev", "coupling_lower", "coupling_upper", "lower_at_grid_edge", "upper_at_grid_edge")


def contour_csv(contour) -> str:
    """``mass_gev,coupling_lower,coupling_upper,lower_at_grid_edge,upper_at_grid_edge``, one row per
    excluded mass of a PerMassContour (the flags: 1 where that edge is the grid's edge, not a root)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CONTOUR_COLUMNS)
    ok = np.asarray(contour.excluded, bool)
    for m, lo, hi, elo, ehi in zip(*(np.asarray(a)[ok] for a in (contour.masses, contour.lower, contour.upper,
                                                                   contour.lower_at_edge, contour.upper_at_edge))):
        w.writerow([f"{m:.8g}", f"{lo:.8g}", f"{hi:.8g}", int(bool(elo)), int(bool(ehi))])
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
    """Fill an open ``h5py.File`` with a ScanResult: attributes fipscan_version, created, command_line,
    precision, library_versions, python, model, experiment, channels, spectra / spectra_sha256 (the
    meson-spectra file and its checksum), yield_table_key (the cache key of the tables; "" for tables
    passed in), inputs (JSON, with ``provenance``: the acceptance-table checksums) / experiment_config /
    model_settings (JSON); datasets mass_gev, coupling; per POT a group ``pot_<i>`` with events (mass x
    coupling), contour, expected/<quantile>, pot_band, and (primary POT, when computed) production_band /
    decay_band (:func:`_write_model_band`)."""
    from fipscan import __version__

    import platform
    from datetime import datetime, timezone

    f.attrs["fipscan_version"] = __version__
    f.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    f.attrs["command_line"] = " ".join(sys.argv) if sys.argv and sys.argv[0] else ""
    f.attrs["precision"] = str(np.dtype(result.tables.weights.dtype))
    f.attrs["library_versions"] = json.dumps(_library_versions(), sort_keys=True)
    f.attrs["python"] = platform.python_version()
    f.attrs["model"] = result.model.name
    f.attrs["experiment"] = result.experiment.name
    f.attrs["channels"] = ",".join(result.channels)
    f.attrs["inputs"] = json.dumps(jsonable(result.inputs), sort_keys=True)
    f.attrs["experiment_config"] = json.dumps(jsonable(result.experiment.config), sort_keys=True)
    f.attrs["model_settings"] = json.dumps(jsonable(result.model.settings()), sort_keys=True)
    f.attrs["spectra"], f.attrs["spectra_sha256"] = _spectra_identity(result.experiment)
    # the yield-table cache key ("" for tables passed in by the caller; the acceptance checksums are in inputs)
    f.attrs["yield_table_key"] = str(dict(result.inputs or {}).get("provenance", {}).get("yield_table_key", ""))
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
        g.attrs["pot_units"] = ("K+ decays" if getattr(result.experiment, "kind", "beam-dump") == "kaon"
                                else "protons on target")
        g.attrs["n_limit"] = pt.n_limit
        g.attrs["n_limit_units"] = "signal events"
        d = g.create_dataset("events", data=pt.events, compression="gzip")
        d.attrs["axes"] = "mass_gev,coupling"
        d.attrs["units"] = "expected signal events"
        d.attrs["pot"] = pt.pot
        g.attrs["background"] = pt.background
        g.attrs["background_uncertainty"] = pt.background_uncertainty
        _write_contour(g.create_group("contour"), pt.contour)
        for key, (n_q, c) in pt.expected.items():
            sub = _write_contour(g.create_group(f"expected/{key}"), c)
            sub.attrs["n_limit"] = n_q
        for name, c in zip(("pot_low", "pot_high"), pt.pot_band):
            _write_contour(g.create_group(f"pot_band/{name}"), c)
        for name, band in getattr(pt, "model_bands", {}).items():
            _write_model_band(g.create_group(f"{name}_band"), band)


def _write_model_band(group, band) -> None:
    """A model band (fipscan.bands.ModelBand) into ``group``: outer/ and inner/ contours, variations/<label>/
    one contour per variation (attributes label, source, options and factors as JSON); the group's
    attributes title, labels (JSON list, in order) and variations (JSON: label, source, options, factors)."""
    from fipscan.bands import describe_json

    group.attrs["title"] = band.title
    group.attrs["labels"] = json.dumps(list(band.variations))
    group.attrs["variations"] = describe_json(band)
    _write_contour(group.create_group("outer"), band.outer)
    _write_contour(group.create_group("inner"), band.inner)
    var = group.create_group("variations")
    for label, c in band.variations.items():
        d = band.descriptions[label].as_dict()
        sub = _write_contour(var.create_group(label.replace("/", "_")), c)
        sub.attrs["label"] = label
        sub.attrs["source"] = d["source"]
        sub.attrs["options"] = json.dumps(jsonable(d["options"]), sort_keys=True)
        sub.attrs["factors"] = json.dumps(d["factors"], sort_keys=True)


def _spectra_identity(experiment) -> tuple[str, str]:
    """(path, sha256 of the file) of the meson-spectra file the experiment's beam uses ("" for a file
    that cannot be read: the attribute then says nothing rather than something wrong)."""
    import hashlib

    from fipscan.spectra.registry import shipped_entry

    if getattr(experiment, "kind", "beam-dump") == "kaon":  # kaons decay in flight: no meson spectra
        return "", ""
    name = getattr(getattr(experiment, "beam", None), "spectra", "default")
    entry = shipped_entry(name)  # a shipped name ("default", "pp-70gev"), else a path
    path = entry.path() if entry is not None else Path(name)
    try:
        with open(path, "rb") as fh:
            return str(path), hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return str(path), ""


def _library_versions() -> dict:
    """Versions of the libraries a result depends on (those that are imported)."""
    out = {}
    for name in ("jax", "jaxlib", "numpy", "h5py", "matplotlib", "particle"):
        mod = sys.modules.get(name)
        if mod is not None:
            out[name] = str(getattr(mod, "__version__", "unknown"))
    return out


#: the formats of the plot a scan writes by default: contour.png, contour.pdf and contour.svg
PLOT_FORMATS = ("png", "pdf", "svg")


def save_scan(result, outdir, *, compare=None, formats=PLOT_FORMATS, polygon=True,
              hepdata=False, bounds=None) -> dict[str, Path]:
    """Write contour.csv (per mass), contour_pot<P>.csv (further POT), contour_polygon.csv (the
    traced closed region(s), if ``polygon``), scan.h5 and contour.<fmt> for each of ``formats`` into
    ``outdir`` (created if needed; InputError if it cannot be written), each atomically.  With
    ``hepdata``, also the HEPData submission in ``outdir/hepdata/`` (fipscan.io.hepdata; its polygon
    table only if ``polygon``), part of the same set.

    compare: a published curve to overlay on the plot (``fipscan.plotting.read_curve``).
    bounds: existing exclusion curves drawn in grey under the regions (``fipscan.bounds``; none if None).
    Returns {file name: path}; the HEPData files as ``hepdata/<name>.yaml``.
    """
    from fipscan.plotting import result_figure, write_figure

    names = ["contour.csv"] + [pot_file_name(pt.pot) for pt in result.points[1:]]
    if len(set(names)) != len(names):
        raise InputError("two POT values of this scan would be written to the same contour_pot<P>.csv; "
                         "give distinct POT values")

    def fill(staging: Path, written: dict) -> None:
        written["contour.csv"] = atomic_write_text(staging / "contour.csv", contour_csv(result.contour))
        for name, pt in zip(names[1:], result.points[1:]):
            written[name] = atomic_write_text(staging / name, contour_csv(pt.contour))
        regions = []
        if polygon:
            regions = save_polygon(result, staging, written)

        def write_h5(f):
            write_scan_h5(f, result)
            if polygon:
                write_polygon_h5(f.create_group("contour_polygon"), regions)

        written["scan.h5"] = atomic_write_h5(staging / "scan.h5", write_h5)
        if hepdata:
            from fipscan.io.hepdata import write_hepdata

            for name in write_hepdata(result, staging / HEPDATA_DIR, regions=regions if polygon else None):
                written[f"{HEPDATA_DIR}/{name}"] = staging / HEPDATA_DIR / name
        plots = write_figure(lambda: result_figure(result, compare=compare, bounds=bounds),
                             lambda fmt, save: atomic_write(staging / f"contour.{fmt}", save), formats)
        written.update({f"contour.{fmt}": path for fmt, path in plots.items()})

    return write_output_set(outdir, fill)


#: the figure written beside several output sets (a multi-experiment or kaon-mode scan)
COMPARISON_FORMATS = ("png", "pdf", "svg")


def check_result_sets_dir(outdir, name: str = "-o/--output") -> Path:
    """The folder of several output sets (one sub-folder each and comparison.<fmt>), checked before
    anything is computed: InputError naming ``name`` when it holds a file no such run wrote."""
    top = Path(outdir)
    if top.exists():
        if not top.is_dir():
            raise InputError(f"{name} {top} exists and is not a directory")
        allowed = {f"comparison.{fmt}" for fmt in COMPARISON_FORMATS}
        foreign = sorted(p.name for p in top.iterdir() if not (p.is_dir() or p.name in allowed
                                                               or p.name.startswith(".")))
        if foreign:
            raise InputError(f"{name} {top} holds '{foreign[0]}', not written by a multi-experiment scan (which "
                             "writes one sub-directory per experiment and comparison.png/.pdf/.svg): give a new or "
                             "empty folder")
    return top


def save_result_sets(results, outdir, *, names, compare=None, formats=PLOT_FORMATS, polygon=True, hepdata=False,
                     bounds=None) -> dict[str, Path]:
    """Each ScanResult of ``results`` as its own output set (:func:`save_scan`) in ``outdir/<name>/``
    (``names``: one per result) and every region on one figure, ``outdir/comparison.<fmt>``
    (fipscan.plotting.comparison_figure).  Returns {"<name>/<file>" and "comparison.<fmt>": path}."""
    from fipscan.plotting import comparison_figure, write_figure

    names = list(names)
    if len(names) != len(results) or len(set(names)) != len(names):
        raise InputError("save_result_sets needs one distinct name per result")
    top = check_result_sets_dir(outdir, "output directory")
    for n in names:
        check_output_set_dir(top / n)
    top.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for n, r in zip(names, results):
        for f, path in save_scan(r, top / n, compare=compare, formats=formats, polygon=polygon, hepdata=hepdata,
                                 bounds=bounds).items():
            written[f"{n}/{f}"] = path
    figures = write_figure(lambda: comparison_figure(results, compare=compare, bounds=bounds),
                           lambda fmt, save: atomic_write(top / f"comparison.{fmt}", save), COMPARISON_FORMATS)
    written.update({f"comparison.{fmt}": path for fmt, path in figures.items()})
    return written


def kaon_limits_table(doc: Mapping) -> str:
    """The CSV of ``fipscan kaon-limits`` (``doc``: its JSON document): '#' header lines (experiment, search,
    N_K, CL, what the numbers are), then ``m_gev`` and one column ``br_ul_ctau_<c tau>m`` per proper decay
    length; an empty cell where there is no limit."""
    ctau = list(doc["ctau_m"])
    names = [f"br_ul_ctau_{c if isinstance(c, str) else f'{c:g}'}m" for c in ctau]
    buf = io.StringIO()
    buf.write(f"# fipscan kaon-limits: {doc['experiment']} search {doc['search']} ({doc['statistics']}, X -> "
              f"{doc['signature']}), N_K = {doc['n_kaons']:.6g}, efficiency {doc['efficiency']:g}, "
              f"{100 * doc['cl']:g}% CL\n")
    buf.write("# upper limits on BR(K+ -> pi+ X) x BR(X -> signature) per X mass and proper decay length c tau "
              "[m]; empty: no limit (no acceptance, a mass outside the search, or a limit above 1)\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["m_gev", *names])
    for m, row in zip(doc["masses_gev"], doc["br_upper_limit"]):
        w.writerow([f"{m:.8g}", *("" if v is None or not math.isfinite(v) else f"{v:.6g}" for v in row)])
    return buf.getvalue()


def write_output_set(outdir, fill) -> dict[str, Path]:
    """Write a set of result files into ``outdir`` as a whole: ``fill(staging, written)`` writes every file
    into the new folder ``staging`` (through the atomic writers) and records {name: path} in ``written``;
    the folder is then swapped in for ``outdir`` (a kill or a full disk leaves the previous set or the new
    one, never a mixture or stale files).  ``outdir`` is checked first (:func:`check_output_set_dir`:
    InputError for a file, the working folder, a folder with files no fipscan run wrote).  Returns
    {file name: path under outdir}."""
    target = check_output_set_dir(outdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", suffix=".tmp", dir=target.parent))
    try:
        os.chmod(staging, dir_mode())
        written: dict[str, Path] = {}
        fill(staging, written)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {name: Path(outdir) / name for name in written}


def _contour_summary(contour) -> dict:
    rows = contour.rows()
    return {"n_masses_excluded": int(np.asarray(contour.excluded).sum()),
            "min_coupling": float(min(r[1] for r in rows)) if rows else None}


def scan_summary(result, written: Mapping[str, Any] = (), *, output=None, seconds=None, split=True) -> dict:
    """The machine-readable summary of a scan (what ``fipscan scan --json`` prints): output folder,
    files written, wall time, model, experiment and final states; per POT the limit, the number of
    excluded masses and the smallest excluded coupling (``None`` when nothing is excluded); per model band
    (``production_band``, ``decay_band``, when computed) the same for its outer and inner edges and each
    variation (with what it varies); with
    ``split``, per final state and per production channel (at the primary POT) the largest N on the
    grid and that part's own contour summary."""
    contours = [{"pot": float(pt.pot), "n_limit": float(pt.n_limit), **_contour_summary(pt.contour)}
                for pt in result.points]
    doc = {"output": None if output is None else str(output), "files": sorted(written),
           "seconds": seconds, "model": result.model.name, "experiment": result.experiment.name,
           "channels": list(result.channels), "contours": contours}
    for name, band in getattr(result.points[0], "model_bands", {}).items():
        doc[f"{name}_band"] = {
            "title": band.title, "outer": _contour_summary(band.outer), "inner": _contour_summary(band.inner),
            "variations": {label: {**_contour_summary(c), "varies": band.descriptions[label].describe(),
                                   "source": band.descriptions[label].source}
                           for label, c in band.variations.items()}}
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
