"""Process-level JAX settings, applied by the process owner (CLI, tests' conftest, notebooks).

Never called at library import: a library must not change a user's JAX configuration.
"""

from __future__ import annotations

import os
import time

__all__ = ["configure", "drop_unreadable_jax_entries"]


def configure(*, x64: bool = True, compilation_cache: bool = True) -> None:
    """Switch float64 on (``x64``) and keep compiled XLA programs in the fipscan cache directory.

    The persistent compilation cache (``$FIPSCAN_CACHE/jax``, or FIPSCAN_JAX_CACHE) saves the
    several seconds the yield-table builder takes to compile in every new process.  Every program is
    kept, also the ~100 small ones of the contour tracing and statistics that compile in ~50 ms each:
    together they were half of a warm ``fipscan scan`` (9 s -> 6 s with them cached; ~30 MB on disk).
    Entries left truncated by a killed process are removed first (:func:`drop_unreadable_jax_entries`).
    Set FIPSCAN_NO_JAX_CACHE=1 to switch it off; ``fipscan cache clear`` empties the folder under the
    cache root (a FIPSCAN_JAX_CACHE elsewhere is left alone).
    """
    import jax

    if x64:
        jax.config.update("jax_enable_x64", True)
    if compilation_cache and not os.environ.get("FIPSCAN_NO_JAX_CACHE"):
        from fipscan.cache import JAX_CACHE_DIR, cache_root

        path = os.environ.get("FIPSCAN_JAX_CACHE") or str(cache_root() / JAX_CACHE_DIR)
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            return  # an unwritable cache only costs compile time
        drop_unreadable_jax_entries(path)
        _one_warning_for_cache_errors()
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


#: JAX's warnings about one entry of its compilation cache (it warns per program: dozens in a run)
_CACHE_WARNINGS = ("Error writing persistent compilation cache entry",
                   "Error reading persistent compilation cache entry")


def _one_warning_for_cache_errors() -> None:
    """Show the first of JAX's per-program compilation-cache warnings of this process (e.g. a full disk
    under the cache) with what it costs, and none after it: a failing cache only costs compile time."""
    import warnings

    show = warnings.showwarning
    if getattr(show, "_fipscan_cache_filter", False):
        return
    seen = []

    def filtered(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if text.startswith(_CACHE_WARNINGS):
            if seen:
                return
            seen.append(text)
            message = (f"{' '.join(text.split())} (JAX's compilation cache; programs are compiled again, "
                       "which only costs time; further such warnings of this run are not shown)")
            line = ""  # one line: not the source line of JAX's warnings.warn call
        show(message, category, filename, lineno, file, line)

    filtered._fipscan_cache_filter = True
    warnings.showwarning = filtered


#: the stamp file of :func:`drop_unreadable_jax_entries` (entries older than it were checked)
_CHECKED_STAMP = ".fipscan-checked"


def drop_unreadable_jax_entries(path) -> list[str]:
    """Remove the entries of JAX's compilation cache in ``path`` that cannot be decompressed.

    JAX writes its entries in place, without a lock when the cache is unbounded: a process killed
    during a write leaves a truncated entry, which JAX then fails to read, with a warning, in every
    later run, and never replaces.  Here every entry written since the last check (newer than the
    stamp file ``.fipscan-checked``) is decompressed with JAX's own codec; one that fails is removed
    (JAX compiles and stores it again).  Only new entries are read, so a warm start reads none.
    Returns the names removed.  Never raises: a cache that cannot be checked is left as it is.
    """
    import pathlib

    try:
        from jax._src.compilation_cache import decompress_executable
    except ImportError:  # pragma: no cover - another JAX layout: do not guess its format
        return []
    root = pathlib.Path(path)
    stamp = root / _CHECKED_STAMP
    removed = []
    try:
        since = stamp.stat().st_mtime - 1.0 if stamp.exists() else -1.0
        started = time.time()
        for entry in root.glob("*-cache"):
            try:
                if entry.stat().st_mtime < since:
                    continue
                decompress_executable(entry.read_bytes())
            except FileNotFoundError:
                continue
            except Exception:
                entry.unlink(missing_ok=True)
                removed.append(entry.name)
        stamp.touch()
        os.utime(stamp, (started, started))
    except OSError:
        pass
    return removed
