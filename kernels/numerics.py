"""Numerically stable building blocks (pure jax.numpy, dtype-preserving)."""

from __future__ import annotations

import jax.numpy as jnp


def float_dtype(*xs):
    """The floating dtype the inputs promote to (Python numbers are weak: float32 arrays stay
    float32); the default float where they are all integers or booleans."""
    dtype = jnp.result_type(*xs)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


def safe_log(x):
    """log(x) with log(0) = -inf and a finite (zero) gradient there (double-where pattern)."""
    positive = x > 0
    safe = jnp.where(positive, x, jnp.ones_like(x))
    return jnp.where(positive, jnp.log(safe), -jnp.inf)


def log1mexp(x):
    """log(1 - exp(-x)) for x >= 0, accurate for all x.

    Maechler, "Accurately computing ``log(1 - exp(-|a|))``" (CRAN Rmpfr vignette, 2012), eq. (7):
    use log(-expm1(-x)) for x <= ln 2 and log1p(-exp(-x)) above.  x = 0 gives -inf.
    """
    x = jnp.asarray(x)
    ln2 = jnp.log(jnp.asarray(2.0, dtype=x.dtype))
    small = x <= ln2
    x_small = jnp.where(small, x, ln2)  # keep each branch finite where it is not used
    x_large = jnp.where(small, ln2 * 2, x)
    return jnp.where(small, safe_log(-jnp.expm1(-x_small)), jnp.log1p(-jnp.exp(-x_large)))


#: x below which :func:`log1mexp_from_log` uses the series of log((1 - e^-x)/x) (error < x^4/2880)
_SERIES_X = 1e-3


def log1mexp_from_log(log_x):
    """log(1 - exp(-x)) given log x: :func:`log1mexp` for arguments that may lie below the float range.

    Series log((1 - e^-x)/x) = -x/2 + x^2/24 - x^4/2880 + ... (Taylor expansion) for x < 1e-3, so that
    log x = -1000 (x = 0 in floating point) still gives the exact -1000; :func:`log1mexp` above.  Both
    branches are kept finite (double-where), so the gradient is finite everywhere.
    """
    log_x = jnp.asarray(log_x)
    x = jnp.exp(log_x)
    small = x < _SERIES_X
    xs = jnp.where(small, x, 0.0)
    series = log_x - 0.5 * xs + xs * xs / 24.0
    return jnp.where(small, series, log1mexp(jnp.where(small, 1.0, x)))
