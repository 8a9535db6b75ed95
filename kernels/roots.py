"""Root finding for exclusion contours: safeguarded Newton (rtsafe), the one JAX root finder.

The contour at fixed mass is where log N(log g) = log N_limit.  Per mass we bracket each crossing on
a coarse grid and refine it with Newton steps that use the exact (autodiff or analytic) derivative,
falling back to bisection whenever a Newton step would leave the bracket (the "rtsafe" strategy of
Press et al., Numerical Recipes, 3rd ed., section 9.4).  :func:`rtsafe` is that loop, jittable and
vmappable, in two modes:

* ``fixed=False``: a ``while_loop`` that stops when the last step or the bracket is below ``xtol``
  (at most ``n_iter + 1`` evaluations); under vmap it runs until every lane has converged;
* ``fixed=True``: exactly ``n_iter`` evaluations (``fori_loop``): a fixed trip count for solves that
  sit inside a program compiled once and differentiated by implicit-function rules.

The function being solved appears once in the traced loop (compile time grows with every place a
yield kernel appears in a program).  :func:`bracketed_newton` is the convenience form for a function
of x alone (orientation of the bracket found, derivative by autodiff).  Scalar host-side roots use
the one scalar solver, ``fipscan.stats._poisson.brentq``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["RootResult", "rtsafe", "bracketed_newton", "sign_change_brackets"]


class RootResult(NamedTuple):
    """x: the last evaluated point (the root once converged); f, df, aux: fdf there; converged: the last
    step or the bracket below xtol, or f == 0; n_eval: evaluations of fdf (int32)."""

    x: jax.Array
    f: jax.Array
    df: jax.Array
    aux: object
    converged: jax.Array
    n_eval: jax.Array


def rtsafe(fdf, lo, hi, *, n_iter=60, xtol=0.0, x_init=None, fixed=False) -> RootResult:
    """Root of f in the bracket with f(lo) < 0 <= f(hi) (``lo`` may lie above ``hi``).

    fdf(x) -> (f, f', aux) with aux any pytree carried out of the loop (e.g. a second quantity computed
    in the same pass; ``()`` for none).  Each iteration evaluates fdf at the current point, shrinks the
    bracket to the side where f changes sign, and takes the Newton step if it stays inside the bracket
    (ends included: once converged the step is ~0 and lands on the end the iterate just became), else
    bisects; at f == 0 the point is kept.  x_init: the first point (clipped into the bracket; default
    the midpoint), e.g. the secant root of the grid values that gave the bracket.

    fixed=False: stop when the last step or the bracket before it is below ``xtol`` (absolute) or
    f == 0, after at most ``n_iter + 1`` evaluations; a zero-width bracket (lo == hi) costs one.
    fixed=True: exactly ``n_iter`` evaluations.  Returns a :class:`RootResult` at the last evaluated
    point, so callers need no extra evaluation.
    """
    lo = jnp.asarray(lo)
    hi = jnp.asarray(hi, lo.dtype)
    if x_init is None:
        x0 = 0.5 * (lo + hi)
    else:
        x0 = jnp.clip(jnp.asarray(x_init, lo.dtype), jnp.minimum(lo, hi), jnp.maximum(lo, hi))
    f_s, g_s, aux_s = jax.eval_shape(fdf, x0)
    zeros = lambda s: jnp.zeros(s.shape, s.dtype)  # noqa: E731
    xtol = jnp.asarray(xtol, lo.dtype)

    def body(st):
        a, b, x, xe, _f, _g, _aux, _step, _width, k = st
        f, g, aux = fdf(x)
        width = jnp.abs(b - a)  # the bracket before this evaluation
        step = jnp.where(k == 0, width, jnp.abs(x - xe))
        a = jnp.where(f < 0, x, a)
        b = jnp.where(f < 0, b, x)
        newton = x - f / jnp.where(g == 0, 1.0, g)
        inside = (g != 0) & jnp.isfinite(newton) & (newton >= jnp.minimum(a, b)) & (newton <= jnp.maximum(a, b))
        x_new = jnp.where(inside, newton, 0.5 * (a + b))
        x_new = jnp.where(f == 0, x, x_new)
        return a, b, x_new, x, f, g, aux, step, width, k + 1

    init = (lo, hi, x0, x0, zeros(f_s), zeros(g_s), jax.tree_util.tree_map(zeros, aux_s),
            jnp.zeros_like(lo), jnp.zeros_like(lo), jnp.asarray(0, jnp.int32))
    if fixed:
        st = jax.lax.fori_loop(0, n_iter, lambda _, s: body(s), init)
    else:
        def not_done(st):
            *_, f, _g, _aux, step, width, k = st
            return (k == 0) | ((k <= n_iter) & (step >= xtol) & (width >= xtol) & (f != 0))

        st = jax.lax.while_loop(not_done, body, init)
    _, _, _, x, f, g, aux, step, width, k = st
    converged = (step < xtol) | (width < xtol) | (f == 0)
    return RootResult(x, f, g, aux, converged, k)


def bracketed_newton(fun, x_lo, x_hi, args=(), n_iter=60, xtol=1e-10, x_init=None):
    """Root of ``fun(x, *args)`` in [x_lo, x_hi], where fun(x_lo) and fun(x_hi) have opposite signs.

    Returns (x, f(x), converged).  ``converged`` is True when the bracket or the last step is below
    ``xtol`` (absolute, in x = log g; 1e-4 relative in g means xtol = 1e-4).  ``x_init``: the first
    iterate (clipped into the bracket; default its midpoint), e.g. the secant root of the grid values
    that gave the bracket, from which Newton converges in two or three steps.  A bracket of zero
    width (x_lo == x_hi) takes no step: under vmap, lanes without a root cost nothing.  The derivative
    is autodiff's; :func:`rtsafe` with ``fixed=False``.
    """
    value_and_grad = jax.value_and_grad(lambda x: fun(x, *args))

    def fdf(x):
        f, g = value_and_grad(x)
        return f, g, ()

    increasing = fun(x_lo, *args) < 0  # orient so that f(a) < 0 <= f(b)
    a = jnp.where(increasing, x_lo, x_hi)
    b = jnp.where(increasing, x_hi, x_lo)
    if x_init is None:
        x_init = 0.5 * (x_lo + x_hi)
    r = rtsafe(fdf, a, b, n_iter=n_iter, xtol=xtol, x_init=x_init)
    return r.x, r.f, r.converged


def sign_change_brackets(x_grid, f_grid):
    """Masks of grid intervals [x_i, x_{i+1}] where f changes sign.

    Returns (rising, falling): boolean arrays of shape (..., Ng - 1); ``rising`` where f goes from
    below to above zero with increasing x (a lower contour edge), ``falling`` the reverse.
    """
    above = f_grid >= 0
    rising = (~above[..., :-1]) & above[..., 1:]
    falling = above[..., :-1] & (~above[..., 1:])
    return rising, falling
