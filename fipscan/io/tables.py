"""Yield tables on disk: one HDF5 format, the layout of the yield cache entries.

``fipscan contour --save-tables FILE.h5`` writes, ``--tables FILE.h5`` reads, and so can a yield
cache entry (``fipscan cache list``) be read directly.  The layout (:func:`write_tables`):

================================= =====================================================================
``masses``                        (Nm,) FIP masses [GeV]
``log_s1``                        (Nm, Nb) log of the inverse decay length [1/m] at unit coupling
``a_edges``                       (Nz + 1,) path length [m] of the decay-cell edges from production
``per_channel/<production>``      (Nm, Nb, Nz) weights per production channel; their sum is the table
``per_final_state/<final state>`` (Nm, Nb, Nz) weights per final state; their sum is the table too
attrs ``channels``                detected final states, comma separated (the names under ``per_final_state/``)
attrs ``production``              production channels in order (the names under ``per_channel/``)
attrs ``n_prod``, ``n_width``     powers of the coupling in production and in the width
attrs ``production_powers``       (only when channels scale differently) the power of each production
                                  channel, comma separated in the order of ``production``
attrs ``model``, ``experiment``   what the tables were built for (files of :func:`save_tables` only)
================================= =====================================================================

Files written by :func:`save_tables` are stamped and checksummed like cache entries (kind
``yield-tables``; :func:`fipscan.cache.verify_h5`) and written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from fipscan.errors import CacheError, InputError

__all__ = ["save_tables", "load_tables", "write_tables", "read_tables", "TABLES_KIND", "TABLES_SCHEMA_VERSION",
           "TABLE_SUFFIXES"]

#: the ``kind`` stamp of a table file, and its layout version
TABLES_KIND = "yield-tables"
TABLES_SCHEMA_VERSION = 2
#: accepted file-name suffixes
TABLE_SUFFIXES = (".h5", ".hdf5")
#: cache entries of fipscan.yields.precompute share the layout
_CACHE_KIND = "yields"


def write_tables(f, tables) -> None:
    """Fill an open, writable ``h5py.File`` (or group) with YieldTables in the layout above."""
    if not tables.per_channel:
        raise InputError("yield tables without production channels (per_channel is empty) cannot be saved")
    names = [str(k) for k in tables.per_channel]
    bad = [k for k in names if not k or "," in k or "/" in k]
    if bad:
        raise InputError(f"production channel name(s) {bad} cannot be stored (no ',' or '/', not empty)")
    f.create_dataset("masses", data=np.asarray(tables.masses))
    f.create_dataset("log_s1", data=np.asarray(tables.log_s1))
    f.create_dataset("a_edges", data=np.asarray(tables.a_edges))
    for name, W in tables.per_channel.items():
        f.create_dataset(f"per_channel/{name}", data=np.asarray(W), compression="gzip", compression_opts=1)
    for name, W in tables.per_final_state.items():
        f.create_dataset(f"per_final_state/{name}", data=np.asarray(W), compression="gzip", compression_opts=1)
    f.attrs["channels"] = ",".join(tables.channels)
    f.attrs["production"] = ",".join(names)
    f.attrs["n_prod"], f.attrs["n_width"] = float(tables.n_prod), float(tables.n_width)
    powers = dict(getattr(tables, "channel_powers", ()) or ())
    if powers:
        f.attrs["production_powers"] = ",".join(repr(float(powers.get(k, tables.n_prod))) for k in names)


def _attr_str(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def read_tables(f, dtype=None, *, where="table file"):
    """YieldTables from an open ``h5py.File`` (or group) in the layout above (weights = the sum
    over production channels).  ``dtype``: of the arrays (default float64).  InputError naming
    ``where`` on a missing or inconsistent member."""
    import jax.numpy as jnp

    from fipscan.yields import YieldTables

    dtype = jnp.float64 if dtype is None else dtype
    missing = [k for k in ("masses", "log_s1", "a_edges", "per_channel") if k not in f]
    missing += [a for a in ("channels", "production", "n_prod", "n_width") if a not in f.attrs]
    if missing:
        raise InputError(f"{where} lacks {', '.join(missing)} (not a yield-table file)")
    names = [k for k in _attr_str(f.attrs["production"]).split(",") if k]
    absent = [k for k in names if k not in f["per_channel"]]
    if not names or absent:
        raise InputError(f"{where} lacks per_channel/{','.join(absent) or '*'}")
    per_channel = {k: jnp.asarray(f[f"per_channel/{k}"][...], dtype) for k in names}
    masses = jnp.asarray(f["masses"][...], dtype)
    log_s1 = jnp.asarray(f["log_s1"][...], dtype)
    a_edges = jnp.asarray(f["a_edges"][...], dtype)
    W = sum(per_channel.values())
    if (W.ndim != 3 or any(w.shape != W.shape for w in per_channel.values()) or masses.shape != W.shape[:1]
            or log_s1.shape != W.shape[:2] or a_edges.shape != (W.shape[2] + 1,)):
        raise InputError(f"{where} has inconsistent shapes (masses {masses.shape}, log_s1 {log_s1.shape}, "
                         f"a_edges {a_edges.shape}, weights {W.shape})")
    channels = tuple(c for c in _attr_str(f.attrs["channels"]).split(",") if c)
    per_fs = {}
    if "per_final_state" in f:
        absent = [k for k in channels if k not in f["per_final_state"]]
        if absent:
            raise InputError(f"{where} lacks per_final_state/{','.join(absent)}")
        per_fs = {k: jnp.asarray(f[f"per_final_state/{k}"][...], dtype) for k in channels}
        if any(w.shape != W.shape for w in per_fs.values()):
            raise InputError(f"{where} has per_final_state weights of another shape than {W.shape}")
    channel_powers = ()
    if "production_powers" in f.attrs:
        try:
            powers = [float(v) for v in _attr_str(f.attrs["production_powers"]).split(",")]
        except ValueError:
            powers = []
        if len(powers) != len(names):
            raise InputError(f"{where} has production_powers that do not match its production channels")
        channel_powers = tuple(zip(names, powers))
    return YieldTables(masses=masses, weights=W, log_s1=log_s1, a_edges=a_edges, per_channel=per_channel,
                       per_final_state=per_fs, channels=channels,
                       n_prod=float(f.attrs["n_prod"]), n_width=float(f.attrs["n_width"]),
                       channel_powers=channel_powers)


def _check_suffix(path: Path, what: str) -> None:
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{what} {path} must be an HDF5 file named *.h5, got the suffix '{path.suffix}'")


def _identity(thing) -> tuple[str, str]:
    """(name, canonical JSON of its settings(), "" for a bare name) of a model or experiment."""
    from fipscan.cache import canonical_json

    if thing is None or isinstance(thing, str):
        return ("" if thing is None else thing), ""
    return str(thing.name), canonical_json(thing.settings())


def save_tables(tables, path: str | os.PathLike, *, model="", experiment="") -> Path:
    """Write YieldTables to the HDF5 file ``path`` (``.h5``/``.hdf5``; the folder must exist),
    atomically, with the model and experiment they were built for (names, or instances: then also
    their settings, which :func:`load_tables` compares).

    The weights must be the sum of ``tables.per_channel`` (as precompute builds them); InputError
    otherwise, and for a wrong suffix or a missing folder.
    """
    from fipscan.cache import atomic_write_h5

    path = Path(path)
    _check_suffix(path, "table file")
    if not path.parent.is_dir():
        raise InputError(f"cannot write table file {path}: folder {path.parent} does not exist")
    W = np.asarray(tables.weights)
    total = sum(np.asarray(w, dtype=np.float64) for w in tables.per_channel.values()) if tables.per_channel else None
    if total is None or np.shape(total) != W.shape or not np.allclose(total, W, rtol=1e-6, atol=0.0):
        raise InputError("cannot save yield tables whose weights are not the sum of their per_channel tables")
    (m_name, m_set), (e_name, e_set) = _identity(model), _identity(experiment)
    atomic_write_h5(path, lambda f: write_tables(f, tables), kind=TABLES_KIND, schema_version=TABLES_SCHEMA_VERSION,
                    attrs={"model": m_name, "experiment": e_name, "model_settings": m_set,
                           "experiment_settings": e_set})
    return path


def load_tables(path: str | os.PathLike, *, model=None, experiment=None, dtype=None):
    """YieldTables from a file of :func:`save_tables` (or a yield cache entry).

    model, experiment: names or instances; when given, a file built for another model or experiment
    is refused, and with instances also one built with other settings of them (an option of the model,
    any number of the experiment's TOML), as far as the file records them (cache entries and files
    of ``save_tables`` given instances do).
    Every problem (wrong suffix, missing, not HDF5, foreign or damaged file, other model) is an
    InputError of one line naming the file.
    """
    import h5py

    from fipscan.cache import verify_h5

    path = Path(path)
    _check_suffix(path, "table file")
    if not path.is_file():
        raise InputError(f"cannot read table file {path}: it does not exist")
    try:
        verify_h5(path)
    except CacheError as exc:
        reason = str(exc).removeprefix("bad fipscan file: ").split("; delete or regenerate")[0]
        raise InputError(f"cannot read table file {path}: {reason.replace(str(path), 'it', 1)}") from None
    with h5py.File(path, "r") as f:
        kind = _attr_str(f.attrs.get("kind", ""))
        schema = int(f.attrs.get("schema_version", -1))
        if kind == _CACHE_KIND:
            from fipscan.yields import YIELDS_SCHEMA_VERSION as expected_schema
        elif kind == TABLES_KIND:
            expected_schema = TABLES_SCHEMA_VERSION
        else:
            raise InputError(f"table file {path} holds a fipscan '{kind}' file, not yield tables")
        if schema != expected_schema:
            raise InputError(f"table file {path} has layout version {schema}, this fipscan reads {expected_schema}")
        recorded = {}  # what the file says it was built for: (name, settings JSON) per model / experiment
        if kind == _CACHE_KIND:  # a cache entry: its key's settings
            from fipscan.cache import canonical_json

            try:
                settings = json.loads(_attr_str(f.attrs.get("settings", "")) or "{}")
            except ValueError:
                settings = {}
            for what in ("model", "experiment"):
                if isinstance(settings.get(what), dict):
                    sub = settings[what]
                    recorded[what] = (str(sub.get("model" if what == "model" else "name", "")), canonical_json(sub))
        else:
            for what in ("model", "experiment"):
                recorded[what] = (_attr_str(f.attrs.get(what, "")), _attr_str(f.attrs.get(f"{what}_settings", "")))
        for what, want in (("model", model), ("experiment", experiment)):
            if want is None:
                continue
            w_name, w_set = _identity(want)
            got_name, got_set = recorded.get(what, ("", ""))
            if got_name and got_name != w_name:
                raise InputError(f"table file {path} was built for {what} '{got_name}', not '{w_name}'")
            if w_set and got_set and got_set != w_set:
                raise InputError(f"table file {path} was built for other settings of {what} '{w_name}' "
                                 f"(its options or numbers differ): build the tables again")
        return read_tables(f, dtype, where=f"table file {path}")
