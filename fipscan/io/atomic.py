"""The one atomic writer of fipscan: a file appears whole under its name, or not at all.

Every result, table, cache entry and spectra file goes through :func:`atomic_write` (or its thin
variants below):

1. a uniquely named temporary file ``.<name>.<random>.tmp`` is created in the destination folder
   (same file system, so the rename below is atomic);
2. the caller fills it; it is flushed and ``fsync``'d;
3. its mode is set to ``0o666 & ~umask`` (``tempfile.mkstemp`` creates 0600 files; a result file
   gets the permissions any other new file of the process would get);
4. it is moved onto the final name with ``os.replace`` and the folder is ``fsync``'d, so the rename
   itself survives a power cut.

On any failure, ``KeyboardInterrupt`` included, the temporary file is removed and the destination
keeps its previous content.  A process killed outright leaves at most the hidden temporary file,
which :func:`temp_pattern` matches for clean-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_write_h5",
    "atomic_copy",
    "temp_pattern",
    "file_mode",
    "dir_mode",
]

_UMASK_LOCK = threading.Lock()


def _current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:  # elsewhere: set and restore (the lock keeps our own threads consistent)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """Permission bits of a new regular file under the current umask: ``0o666 & ~umask``."""
    return 0o666 & ~_current_umask()


def dir_mode() -> int:
    """Permission bits of a new folder under the current umask: ``0o777 & ~umask``."""
    return 0o777 & ~_current_umask()


def temp_pattern(path: str | os.PathLike) -> str:
    """Glob pattern (relative to the folder of ``path``) of the temporary files of its writers."""
    return f".{pathlib.Path(path).name}.*.tmp"


def _fsync_dir(directory: pathlib.Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _replacing(path: pathlib.Path) -> Iterator[tuple[int, pathlib.Path]]:
    """Yield ``(fd, tmp)`` of a fresh temporary file beside ``path``; on normal exit make it
    durable, give it the umask's mode and rename it onto ``path``; on any exception remove it."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = pathlib.Path(name)
    try:
        yield fd, tmp
        fd2 = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd2)
        finally:
            os.close(fd2)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "wb") -> pathlib.Path:
    """Write ``path`` whole or not at all: ``write(fh)`` fills a file object opened with ``mode``
    (``"wb"``, ``"w"`` for text, ``"w+b"`` when the writer also reads, e.g. h5py on a file object).

    The folder must exist.  Returns ``path`` as a :class:`pathlib.Path`.
    """
    path = pathlib.Path(path)
    if "b" in mode:
        kwargs: dict = {}
    else:
        kwargs = {"encoding": "utf-8", "newline": ""}
    try:
        with _replacing(path) as (fd, _tmp):
            with os.fdopen(fd, mode, **kwargs) as fh:
                write(fh)
                fh.flush()
    except OSError as exc:
        if exc.filename is None:  # e.g. ENOSPC from write(): say which file it was
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """``text`` into ``path`` (UTF-8, newlines as given), atomically."""
    return atomic_write(path, lambda fh: fh.write(text), "w")


def atomic_write_json(path: str | os.PathLike, doc: Mapping | list, *, indent: int | None = 1,
                      sort_keys: bool = True) -> pathlib.Path:
    """``doc`` as JSON (strict: NaN/inf refused) plus a final newline into ``path``, atomically."""
    text = json.dumps(doc, indent=indent, sort_keys=sort_keys, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def atomic_write_h5(path: str | os.PathLike, write: Callable[[Any], None]) -> pathlib.Path:
    """An HDF5 file, atomically: ``write(f)`` fills an open, writable ``h5py.File``.  Creates the folder
    if needed.

    The file is built in memory and its bytes are written by Python (:func:`atomic_write`): HDF5 never
    writes to the disk itself, because its own I/O meeting a full disk ends the process (a crash in
    the library's close, seen with h5py 3 on ENOSPC), where Python's write raises an OSError that is
    reported in one line naming the file.  The memory cost is one copy of the file.

    For the stamped and checksummed files of the cache see :func:`fipscan.cache.atomic_write_h5`,
    which is built on this.
    """
    import io

    import h5py

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write(f)
        f.flush()
    return atomic_write(path, lambda fh: fh.write(buf.getbuffer()))


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike) -> pathlib.Path:
    """Copy the bytes of ``src`` onto ``dst`` atomically (the folder of ``dst`` is created)."""
    dst = pathlib.Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin:
        return atomic_write(dst, lambda fh: shutil.copyfileobj(fin, fh))
