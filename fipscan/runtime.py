"""Process-level JAX settings, applied by the process owner (CLI, tests' conftest, notebooks).

Never called at library import: a library must not change a user's JAX configuration.
"""

from __future__ import annotations

import os

__all__ = ["configure"]

#: bound of the persistent compilation cache (least recently used programs are evicted beyond it)
_JAX_CACHE_BYTES = 2 * 1024**3


def configure(*, x64: bool = True, compilation_cache: bool = True) -> None:
    """Switch float64 on (``x64``) and keep compiled XLA programs in the fipscan cache directory.

    The persistent compilation cache (``$FIPSCAN_CACHE/jax``, or FIPSCAN_JAX_CACHE) saves the
    several seconds the yield-table builder takes to compile in every new process.  Every program is
    kept, also the ~100 small ones of the contour tracing and statistics that compile in ~50 ms each:
    together they were half of a warm ``fipscan scan`` (9 s -> 6 s with them cached; ~30 MB on disk).
    Reads and writes of it are locked (a 2 GB bound switches JAX's lock on), so concurrent runs can
    share it.  Set FIPSCAN_NO_JAX_CACHE=1 to switch it off.
    """
    import jax

    if x64:
        jax.config.update("jax_enable_x64", True)
    if compilation_cache and not os.environ.get("FIPSCAN_NO_JAX_CACHE"):
        from fipscan.cache import cache_root

        path = os.environ.get("FIPSCAN_JAX_CACHE") or str(cache_root() / "jax")
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            return  # an unwritable cache only costs compile time
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        # a size bound switches on JAX's file lock around every read and write of the cache, so that
        # concurrent runs sharing it never read a half-written program (without one, writes are plain)
        jax.config.update("jax_compilation_cache_max_size", _JAX_CACHE_BYTES)
