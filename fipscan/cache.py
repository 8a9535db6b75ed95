"""A content-addressed, crash-safe HDF5 cache shared by every part of fipscan.

An entry is one HDF5 file ``cache_root()/<kind>/<key>.h5`` where ``key`` is the SHA-256 of the
canonical JSON of ``{"kind", "schema_version", "settings"}`` (:func:`canonical_key`): change any
setting, or bump the schema version of a kind, and a new entry is built next to the old one.

Guarantees
----------
* **Atomic**: an entry is written by fipscan's one atomic writer (:mod:`fipscan.io.atomic`): a
  uniquely named temporary file in the same directory, flushed, ``fsync``'d and moved onto its
  final name with ``os.replace`` (then the directory is ``fsync``'d).
  A reader sees either no file or a complete one; a process killed mid-write leaves at most a
  hidden ``.<key>.h5.<random>.tmp`` file, which the next build of that key (or ``clear``) removes.
* **Verified**: every file carries the attributes ``kind``, ``schema_version``, ``fipscan_version``,
  ``created`` (UTC, ISO 8601) and ``checksum`` (see :func:`content_checksum`).  :func:`verify_h5`
  recomputes the checksum and names the problem (truncated, checksum mismatch, foreign schema, not
  HDF5) in a :class:`~fipscan.errors.CacheError`.
* **Built once**: :func:`get_or_build` holds an exclusive lock (:class:`filelock.FileLock`) on
  ``<key>.lock`` while it checks and builds, so N processes asking for one key at once build it
  once and all get the same file.

Where the cache lives: ``$FIPSCAN_CACHE`` if set, else the user's cache folder given by
``platformdirs`` (``$XDG_CACHE_HOME/fipscan`` or ``~/.cache/fipscan`` on Linux,
``~/Library/Caches/fipscan`` on macOS, ``%LOCALAPPDATA%\\fipscan\\Cache`` on Windows).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import hashlib
import json
import logging
import math
import os
import pathlib
import re
import shutil
from collections.abc import Callable, Mapping
from typing import Any

import h5py
import numpy as np
import platformdirs
from filelock import FileLock

from fipscan.errors import CacheError, InputError
from fipscan.io import atomic as _atomic

__all__ = [
    "cache_root",
    "canonical_key",
    "canonical_json",
    "entry_path",
    "atomic_write_h5",
    "content_checksum",
    "verify_h5",
    "get_or_build",
    "list_entries",
    "clear",
    "shipped_entry",
]

log = logging.getLogger("fipscan.cache")

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_KIND_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
#: attributes written by :func:`atomic_write_h5` itself
RESERVED_ATTRS = ("kind", "schema_version", "fipscan_version", "created", "checksum")


# --------------------------------------------------------------------------------------------
# where, and under which name
# --------------------------------------------------------------------------------------------
def cache_root() -> pathlib.Path:
    """The cache folder (created on demand).

    ``$FIPSCAN_CACHE`` if set; else ``platformdirs.user_cache_dir("fipscan")``:
    ``$XDG_CACHE_HOME/fipscan`` or ``~/.cache/fipscan`` on Linux, ``~/Library/Caches/fipscan`` on
    macOS, ``%LOCALAPPDATA%\\fipscan\\Cache`` on Windows.
    """
    env = os.environ.get("FIPSCAN_CACHE")
    if env:
        root = pathlib.Path(env).expanduser()
    else:
        root = pathlib.Path(platformdirs.user_cache_dir("fipscan", appauthor=False))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(
            f"cannot create the cache folder {root} ({exc.strerror or exc}); "
            "set FIPSCAN_CACHE to a writable folder"
        ) from exc
    return root


def _plain(obj: Any, where: str = "settings") -> Any:
    """``obj`` as plain JSON types: numpy scalars/arrays → Python, tuples → lists, paths → str.

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` (JSON has no NaN).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        return _plain(obj.item(), where)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist(), where)
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if isinstance(k, np.generic):
                k = k.item()
            if not isinstance(k, (str, int, float, bool)):
                raise InputError(f"{where}: key {k!r} is not a string or number")
            out[str(k)] = _plain(v, f"{where}.{k}")
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return sorted((_plain(v, where) for v in obj), key=repr)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return _plain(dataclasses.asdict(obj), where)
    raise InputError(f"{where}: value {obj!r} of type {type(obj).__name__} cannot go into a cache key")


def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, floats by ``repr`` (shortest exact round trip).

    ``1`` and ``1.0`` differ (int vs float); callers normalise types in their settings objects.
    """
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


#: significant digits a computed float keeps in a cache key (see :func:`key_floats`)
KEY_DIGITS = 12


def key_floats(values) -> list[float]:
    """``values`` (floats, any shape) as a flat list rounded to :data:`KEY_DIGITS` significant digits.

    For settings computed with transcendental functions, e.g. log-spaced masses: ``np.geomspace``
    gives results that differ in the last bit between CPUs (numpy's SIMD ``pow``/``exp`` are not
    correctly rounded, and which one runs depends on the CPU), so keying on the exact bits would give
    the same table another key on another machine (measured: one mass of the shipped main-job grid,
    0.013219411484660288 vs ...286).  Twelve digits are far above that noise and far below any mass
    step a scan takes.
    """
    return [float(f"{float(v):.{KEY_DIGITS}g}") for v in np.ravel(np.asarray(values, dtype=float))]


def canonical_key(kind: str, settings: Mapping, schema_version: int) -> str:
    """SHA-256 hex digest of the canonical JSON of ``{"kind", "schema_version", "settings"}``."""
    _check_kind(kind)
    doc = {"kind": kind, "schema_version": int(schema_version), "settings": settings}
    return hashlib.sha256(canonical_json(doc).encode("ascii")).hexdigest()


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise InputError(f"cache kind {kind!r} must be 1-64 characters of letters, digits, '_', '-', '.'")


#: entries shipped inside the package (read-only; built by ``python -m fipscan.shipped``): the default
#: experiment's acceptance tables, so that a first run need not rebuild them
SHIPPED_ROOT = pathlib.Path(__file__).resolve().parent / "data" / "cache"


def shipped_entry(kind: str, key: str) -> pathlib.Path | None:
    """The verified shipped entry ``SHIPPED_ROOT/kind/key.h5`` for this key, or None.

    A shipped file that is damaged or was written for other settings (its stored key differs) is
    logged and ignored: the entry is then built in the user's cache as usual.
    """
    path = SHIPPED_ROOT / kind / f"{key}.h5"
    if not path.is_file():
        return None
    ident = _file_identity(path)
    if ident is not None and ident in _SHIPPED_VERIFIED:  # verified in this process, unchanged since
        return path
    try:
        verify_h5(path, kind=kind, key=key)
    except CacheError as exc:
        log.warning("fipscan cache: ignoring a bad shipped entry: %s", exc)
        return None
    if ident is not None and ident == _file_identity(path):
        _SHIPPED_VERIFIED.add(ident)
    return path


#: identities (:func:`_file_identity`) of shipped entries verified in this process
_SHIPPED_VERIFIED: set = set()


def entry_path(kind: str, key: str) -> pathlib.Path:
    """``cache_root()/kind/key.h5`` (the folder is not created here)."""
    _check_kind(kind)
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise InputError(f"cache key {key!r} is not a 64-digit lowercase hex SHA-256")
    return cache_root() / kind / f"{key}.h5"


# --------------------------------------------------------------------------------------------
# checksums, atomic writes, verification
# --------------------------------------------------------------------------------------------
def _hash_value(h: "hashlib._Hash", value: Any) -> None:
    arr = np.asarray(value)
    if arr.dtype.kind == "O":  # variable-length strings / bytes
        for item in arr.reshape(-1):
            b = item if isinstance(item, bytes) else str(item).encode("utf-8")
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)
    elif arr.dtype.kind == "U":
        h.update(np.ascontiguousarray(arr).astype("<U").tobytes())
    else:
        h.update(np.ascontiguousarray(arr).tobytes())


def content_checksum(f: h5py.File) -> str:
    """SHA-256 over the file's content, in sorted order of names.

    For every dataset: its name, dtype (``dtype.str``), shape and raw bytes; then for every object
    (root included) its attributes' names and values, except the ``checksum`` attribute itself.
    So a flipped byte in the data and an edited provenance attribute are both detected.
    """
    datasets: list[str] = []
    objects: list[str] = ["/"]

    def visit(name: str, obj: Any) -> None:
        objects.append("/" + name)
        if isinstance(obj, h5py.Dataset):
            datasets.append("/" + name)

    f.visititems(visit)
    h = hashlib.sha256()
    for name in sorted(datasets):
        ds = f[name]
        h.update(b"D" + name.encode("utf-8") + b"\0")
        h.update(ds.dtype.str.encode("ascii") + b"\0")
        h.update(repr(ds.shape).encode("ascii") + b"\0")
        if ds.shape is None:  # h5py.Empty
            continue
        if ds.size:
            _hash_value(h, ds[()])
    for name in sorted(objects):
        attrs = f[name].attrs
        for a in sorted(attrs.keys()):
            if name == "/" and a == "checksum":
                continue
            h.update(b"A" + name.encode("utf-8") + b"\0" + a.encode("utf-8") + b"\0")
            _hash_value(h, attrs[a])
    return h.hexdigest()


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _fipscan_version() -> str:
    try:
        from fipscan import __version__

        return str(__version__)
    except Exception:  # pragma: no cover - partial installs
        return "unknown"


def atomic_write_h5(
    path: str | os.PathLike,
    write: Callable[[h5py.File], None],
    *,
    kind: str,
    schema_version: int,
    attrs: Mapping | None = None,
) -> None:
    """Write a stamped, checksummed fipscan HDF5 file atomically (:func:`fipscan.io.atomic.atomic_write_h5`).

    ``write(f)`` fills it; the file gets the attributes ``attrs`` (JSON-encoded when not a string
    or number) plus ``kind``, ``schema_version``, ``fipscan_version``, ``created`` and ``checksum``,
    which :func:`verify_h5` checks.
    """
    for name in attrs or {}:
        if name in RESERVED_ATTRS:
            raise InputError(f"attribute {name!r} is reserved for the cache")

    def stamped(f: h5py.File) -> None:
        write(f)
        for name, value in (attrs or {}).items():
            f.attrs[name] = _attr_value(value)
        f.attrs["kind"] = str(kind)
        f.attrs["schema_version"] = int(schema_version)
        f.attrs["fipscan_version"] = _fipscan_version()
        f.attrs["created"] = _utc_now()
        f.attrs["checksum"] = content_checksum(f)

    _atomic.atomic_write_h5(path, stamped)


def _attr_value(value: Any) -> Any:
    if isinstance(value, (str, bytes, bool, int, float, np.generic, np.ndarray)):
        return value
    return canonical_json(value)


def _as_str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _as_str(value.item())
    return str(value)


def verify_h5(
    path: str | os.PathLike, *, kind: str | None = None, schema_version: int | None = None,
    key: str | None = None,
) -> None:
    """Check that ``path`` is a complete fipscan HDF5 file; raise :class:`CacheError` naming why not.

    Checks, in order: it exists; it is HDF5 (signature); HDF5 can open it (else truncated /
    damaged); it carries a checksum; ``kind``, ``schema_version`` and the entry's stored ``key`` (its
    identity: a valid entry of another key copied over this one's path is refused) match when given;
    the recomputed content checksum matches.
    """
    _open_verified(path, kind=kind, schema_version=schema_version, key=key).close()


def _open_verified(
    path: str | os.PathLike, *, kind: str | None = None, schema_version: int | None = None,
    key: str | None = None,
) -> h5py.File:
    """The open ``h5py.File`` of ``path`` after the checks of :func:`verify_h5` (the caller closes it).

    Reading through this one handle makes check-then-read safe against a concurrent ``clear``: an
    unlinked file stays readable while it is open.
    """
    path = pathlib.Path(path)
    fix = "delete or regenerate it (for cache entries: 'fipscan cache clear')"
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise CacheError(f"missing file: {path} does not exist") from None
    except OSError as exc:
        raise CacheError(f"bad fipscan file: {path} cannot be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise CacheError(f"bad fipscan file: {path} is not a regular file")
    if size == 0:
        raise CacheError(f"bad fipscan file: {path} is truncated (empty); {fix}")
    if head != _HDF5_SIGNATURE:
        raise CacheError(f"bad fipscan file: {path} is not an HDF5 file (no HDF5 signature); {fix}")
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise CacheError(f"missing file: {path} does not exist") from None
    except OSError as exc:
        msg = str(exc)
        what = "is truncated" if "truncated" in msg.lower() or "eof" in msg.lower() else "is damaged"
        raise CacheError(f"bad fipscan file: {path} {what} (HDF5: {' '.join(msg.split())}); {fix}") from exc
    try:
        if "checksum" not in f.attrs:
            raise CacheError(f"bad fipscan file: {path} has no checksum attribute (not written by fipscan)")
        got_kind = _as_str(f.attrs.get("kind", ""))
        if kind is not None and got_kind != kind:
            raise CacheError(f"bad fipscan file: {path} holds kind {got_kind!r}, expected {kind!r}")
        got_schema = int(f.attrs.get("schema_version", -1))
        if schema_version is not None and got_schema != int(schema_version):
            raise CacheError(
                f"bad fipscan file: {path} has schema {got_schema} != {int(schema_version)} "
                f"(written by fipscan {_as_str(f.attrs.get('fipscan_version', '?'))}); {fix}"
            )
        if key is not None:
            got_key = _as_str(f.attrs.get("key", ""))
            if got_key != key:
                raise CacheError(f"bad fipscan file: {path} holds key {got_key[:16] or '(none)'}..., not "
                                 f"{key[:16]}... (an entry of another key, copied or renamed); {fix}")
        stored = _as_str(f.attrs["checksum"])
        try:
            actual = content_checksum(f)
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            raise CacheError(
                f"bad fipscan file: {path} has unreadable data ({' '.join(str(exc).split())}); {fix}"
            ) from exc
        if actual != stored:
            raise CacheError(f"bad fipscan file: {path} fails its checksum (checksum mismatch); {fix}")
    except CacheError:
        f.close()
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        f.close()
        raise CacheError(f"bad fipscan file: {path} is damaged ({' '.join(str(exc).split())}); {fix}") from exc
    return f


# --------------------------------------------------------------------------------------------
# locking
# --------------------------------------------------------------------------------------------
def _locked(lock_path: pathlib.Path) -> FileLock:
    """Exclusive inter-process lock on ``lock_path`` (created if needed), as a context manager.

    :func:`clear` may remove a lock file while another process waits on it.  filelock copes: on
    Unix, after locking it checks that the file still has a name on disk (else it closes it and
    locks the new file), and on Windows a lock file that is open cannot be removed; so two
    processes never both hold "the" lock.
    """
    return FileLock(lock_path)


# --------------------------------------------------------------------------------------------
# get, list, clear
# --------------------------------------------------------------------------------------------
def _remove_stale_temps(path: pathlib.Path) -> None:
    for tmp in path.parent.glob(_atomic.temp_pattern(path)):
        with contextlib.suppress(OSError):
            tmp.unlink()


#: a temporary file of no known key older than this is a killed writer's leftover
STALE_TMP_SECONDS = 3600.0


def _remove_orphan_temps(directory: pathlib.Path) -> None:
    """Remove the temporary files that killed builds left in ``directory`` (one kind's folder).

    A ``.<key>.h5.<random>.tmp`` is stale when nobody holds ``<key>.lock`` (every build writes under
    that lock), so the check is exact, not a guess by age; other ``.tmp`` files go when older than
    :data:`STALE_TMP_SECONDS`.
    """
    import time

    from filelock import Timeout

    now = time.time()
    for tmp in directory.glob(".*.tmp"):
        key = tmp.name[1:65]
        try:
            if _KEY_RE.match(key) and tmp.name[65:69] == ".h5.":
                lock = FileLock(directory / f"{key}.lock", timeout=0)
                try:
                    with lock:
                        tmp.unlink()
                except Timeout:
                    continue  # that key is being built right now
            elif now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                tmp.unlink()
        except OSError:
            continue


def _read_entry(path: pathlib.Path, read, memo: bool = False, **checks):
    """``read(f)`` on the verified entry ``path`` (one open handle), or ``path`` when ``read`` is None.

    ``memo``: keep ``read(f)`` in this process (:data:`_MEMO`), and return it again without opening the
    file while the file is the same one (same inode, size, modification and change times): a file
    replaced, rewritten, touched or removed is opened, verified and read as usual.
    """
    ident = _file_identity(path) if memo and read is not None else None
    if ident is not None:
        hit = _MEMO.get((ident, read))
        if hit is not None:
            _MEMO.move_to_end((ident, read))
            return hit
    f = _open_verified(path, **checks)
    with f:
        value = path if read is None else read(f)
    if ident is not None and ident == _file_identity(path):  # unchanged while it was read
        _MEMO[(ident, read)] = value
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


#: verified entries already read in this process, by (file identity, reader); least recently used out
_MEMO: "collections.OrderedDict" = collections.OrderedDict()
#: at most this many (a full NA62-BD acceptance table is ~10 MB)
_MEMO_SIZE = 32


def _file_identity(path: pathlib.Path):
    """(path, inode, size, mtime_ns, ctime_ns) of ``path``, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def get_or_build(
    kind: str,
    settings: Mapping,
    schema_version: int,
    build: Callable[[h5py.File], None],
    *,
    attrs: Mapping | None = None,
    on_corrupt: str = "rebuild",
    read: Callable[[h5py.File], Any] | None = None,
    memo: bool = False,
) -> Any:
    """The valid entry for ``(kind, settings, schema_version)``, building it if needed.

    ``build(f)`` fills an open, writable ``h5py.File``; it runs at most once across processes
    that ask at the same time.  A corrupt entry, or a valid entry of another key found under this
    key's name (the entry stores its key and schema version; both are compared on every read), is
    logged (one line, ``logging``, to stderr) and rebuilt, or raises :class:`CacheError` when
    ``on_corrupt="raise"``.  The settings' canonical JSON is stored as the attribute ``settings``
    and the key as ``key``.

    ``read``: return ``read(f)`` of the verified entry, read through the same open handle that was
    verified, so that a concurrent ``fipscan cache clear`` cannot remove the file between the check
    and the read (an entry removed before it was opened is rebuilt).  Without ``read`` the path is
    returned (the caller opens it again: racy against ``clear``).

    ``memo``: the value ``read`` returns is kept in this process and returned again, without reading,
    while the entry's file is unchanged (same inode, size and times): for entries read many times per
    process whose value is immutable (the caller must not modify it in place).  Verifying and reading a
    full acceptance table takes ~0.1 s, and a yield-table build reads five of them.
    """
    if on_corrupt not in ("rebuild", "raise"):
        raise InputError(f"on_corrupt must be 'rebuild' or 'raise', not {on_corrupt!r}")
    key = canonical_key(kind, settings, schema_version)
    path = entry_path(kind, key)
    checks = {"kind": kind, "schema_version": schema_version, "key": key}
    with contextlib.suppress(CacheError):  # fast path, no lock: entries appear atomically
        return _read_entry(path, read, memo, **checks)
    shipped = shipped_entry(kind, key)  # the key covers the schema version and every setting
    if shipped is not None:
        with contextlib.suppress(CacheError):
            return _read_entry(shipped, read, memo, **checks)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_suffix(".lock")):
        if path.exists():
            try:
                return _read_entry(path, read, **checks)
            except CacheError as exc:
                if on_corrupt == "raise":
                    raise
                log.warning("fipscan cache: rebuilding a bad entry: %s", " ".join(str(exc).split()))
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        _remove_stale_temps(path)
        _remove_orphan_temps(path.parent)
        all_attrs = dict(attrs or {})
        all_attrs["settings"] = canonical_json(settings)
        all_attrs["key"] = key
        atomic_write_h5(path, build, kind=kind, schema_version=schema_version, attrs=all_attrs)
        if read is None:
            return path
        with h5py.File(path, "r") as f:  # under the lock: clear() waits for it
            return read(f)


def _kind_dirs(kind: str | None) -> list[pathlib.Path]:
    root = cache_root()
    if kind is not None:
        _check_kind(kind)
        d = root / kind
        return [d] if d.is_dir() else []
    return sorted(d for d in root.iterdir() if d.is_dir() and _KIND_RE.match(d.name))


#: the schema version each kind of entry is built with today (the builders' own constants:
#: fipscan.acceptance.SCHEMA_VERSION, fipscan.yields.YIELDS_SCHEMA_VERSION, fipscan.spectra.core
#: SCHEMA_VERSION; a test keeps them equal).  Kept here so that ``cache list`` needs no JAX.  An entry
#: of another version is never read again (the version is part of its key): ``cache list`` marks it.
SCHEMA_VERSIONS = {"acceptance": 2, "yields": 3, "spectra": 1}

#: the folder under cache_root() of JAX's persistent compilation cache (fipscan.runtime.configure)
JAX_CACHE_DIR = "jax"


def list_entries(kind: str | None = None) -> list[dict]:
    """Every entry (of ``kind``, or all): dicts with kind, key, path, size, created, schema_version,
    valid, stale, problem.  ``valid``: complete, checksum and stored key right; ``stale``: valid but
    of another schema version than this fipscan builds (never read again; ``clear`` removes it)."""
    out = []
    for d in _kind_dirs(kind):
        if d.name == JAX_CACHE_DIR:
            continue
        for p in sorted(d.glob("*.h5")):
            if p.name.startswith(".") or not _KEY_RE.match(p.stem):
                continue
            created, schema, stale = None, None, False
            try:
                with _open_verified(p, kind=d.name, key=p.stem) as f:
                    created = _as_str(f.attrs.get("created", "")) or None
                    schema = int(f.attrs.get("schema_version", -1))
                valid, problem = True, None
                current = SCHEMA_VERSIONS.get(d.name)
                if current is not None and schema != current:
                    stale = True
                    problem = (f"schema {schema}, this fipscan builds schema {current}: an unused entry of "
                               "another fipscan version ('fipscan cache clear' removes it)")
            except CacheError as exc:
                valid, problem = False, str(exc)
            try:
                size = p.stat().st_size
            except OSError:
                size = 0
            out.append(
                {
                    "kind": d.name,
                    "key": p.stem,
                    "path": str(p),
                    "size": size,
                    "created": created,
                    "schema_version": schema,
                    "valid": valid,
                    "stale": stale,
                    "problem": problem,
                }
            )
    return out


def clear(kind: str | None = None) -> int:
    """Remove every entry (of ``kind``, or all), each under its lock; returns how many were removed.

    Stale temporary files of killed writers, ``<key>.partial`` folders of unfinished builds
    (e.g. interrupted spectra generations), ``<key>/`` folders (PYTHIA initialisation files) and
    lock files go too; only ``.h5`` entries are counted.  Without ``kind`` (or with ``kind="jax"``)
    the JAX compilation cache under the cache root (``jax/``) is emptied as well: a truncated
    compiled program there would otherwise be warned about in every run.  A process reading an
    entry while it is removed keeps reading it (see ``get_or_build(read=...)``).
    """
    removed = 0
    if kind is None or kind == JAX_CACHE_DIR:
        _clear_jax_cache(cache_root() / JAX_CACHE_DIR)
        if kind == JAX_CACHE_DIR:
            return 0
    for d in _kind_dirs(kind):
        if d.name == JAX_CACHE_DIR:
            continue
        keys = {p.stem for p in d.glob("*.h5") if _KEY_RE.match(p.stem)}
        keys |= {p.name[1:65] for p in d.glob(".*.h5.*.tmp") if _KEY_RE.match(p.name[1:65])}
        keys |= {p.stem for p in d.glob("*.lock") if _KEY_RE.match(p.stem)}
        keys |= {p.stem for p in d.glob("*.partial") if _KEY_RE.match(p.stem)}
        keys |= {p.name for p in d.iterdir() if p.is_dir() and _KEY_RE.match(p.name)}
        for key in sorted(keys):
            path = d / f"{key}.h5"
            lock = path.with_suffix(".lock")
            with _locked(lock):
                if path.is_dir() and not path.is_symlink():  # a folder in an entry's name: not ours to
                    shutil.rmtree(path, ignore_errors=True)  # keep, and never a reason to stop halfway
                elif path.exists() or path.is_symlink():
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    removed += 1
                _remove_stale_temps(path)
                shutil.rmtree(path.with_suffix(".partial"), ignore_errors=True)
                shutil.rmtree(d / key, ignore_errors=True)  # folder entries (e.g. pythia-init)
                with contextlib.suppress(OSError):
                    lock.unlink()
        for tmp in d.glob(".*.tmp"):  # temporary files of no key (other writers)
            with contextlib.suppress(OSError):
                tmp.unlink()
    return removed


def _clear_jax_cache(directory: pathlib.Path) -> None:
    """Empty JAX's compilation-cache folder (kept itself: a running process may be writing into it)."""
    if not directory.is_dir():
        return
    for p in directory.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()
