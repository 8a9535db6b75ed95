"""Process-level JAX settings, applied by the process owner (CLI, tests' conftest, notebooks).

Never called at library import: a library must not change a user's JAX configuration.
"""

from __future__ import annotations

import os

__all__ = ["configure"]


def configure(*, x64: bool = True, compilation_cache: bool = True) -> None:
    """Switch float64 on (``x64``) and keep compiled XLA programs in the fipscan cache directory.

    The persistent compilation cache (``$FIPSCAN_CACHE/jax``, or FIPSCAN_JAX_CACHE) saves the
    several seconds the yield-table builder takes to compile in every new process.  Every program is
    kept, also the ~100 small ones of the contour tracing and statistics that compile in ~50 ms each:
    together they were half of a warm ``fipscan scan`` (9 s -> 6 s with them cached; ~30 MB on disk).
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
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
