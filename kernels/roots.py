"""Root finding for exclusion contours: safeguarded Newton on log coupling.

The contour at fixed mass is where log N(log g) = log N_limit.  Per mass we bracket each crossing on
a coarse grid and refine it with Newton steps that use the exact autodiff derivative, falling back to
bisection whenever a Newton step would leave the bracket (the "rtsafe" strategy of Press et al.,
Numerical Recipes, 3rd ed., section 9.4).  The loop stops when the step or the bracket is below ``xtol`` (at most ``n_iter`` steps); under
vmap it runs until every lane has converged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def bracketed_newton(fun, x_lo, x_hi, args=(), n_iter=60, xtol=1e-10, x_init=None):
    """Root of ``fun(x, *args)`` in [x_lo, x_hi], where fun(x_lo) and fun(x_hi) have opposite signs.

    Returns (x, f(x), converged).  ``converged`` is True when the bracket or the last step is below
    ``xtol`` (absolute, in x = log g; 1e-4 relative in g means xtol = 1e-4).  ``x_init``: the first
    iterate (clipped into the bracket; default its midpoint), e.g. the secant root of the grid values
    that gave the bracket, from which Newton converges in two or three steps.  A bracket of zero
    width (x_lo == x_hi) takes no step: under vmap, lanes without a root cost nothing.
    """
    value_and_grad = jax.value_and_grad(lambda x: fun(x, *args))
    f_lo = fun(x_lo, *args)
    if x_init is None:
        x0 = 0.5 * (x_lo + x_hi)
    else:
        x0 = jnp.clip(x_init, jnp.minimum(x_lo, x_hi), jnp.maximum(x_lo, x_hi))
    f0, g0 = value_and_grad(x0)
    # orient so that f(a) < 0 < f(b)
    increasing = f_lo < 0
    a = jnp.where(increasing, x_lo, x_hi)
    b = jnp.where(increasing, x_hi, x_lo)

    def body(state):
        a, b, x, f, g, step, it = state
        a = jnp.where(f < 0, x, a)
        b = jnp.where(f < 0, b, x)
        newton = x - f / jnp.where(g == 0, 1.0, g)
        lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
        # the bracket ends count as inside: at the root itself the Newton step is zero and lands on
        # the end that the last iterate just became (taking bisection there would throw the root away)
        ok = (g != 0) & jnp.isfinite(newton) & (newton >= lo) & (newton <= hi)
        x_new = jnp.where(ok, newton, 0.5 * (a + b))
        f_new, g_new = value_and_grad(x_new)
        return a, b, x_new, f_new, g_new, jnp.abs(x_new - x), it + 1

    def not_done(state):
        a, b, x, f, g, step, it = state
        return (it < n_iter) & (step >= xtol) & (jnp.abs(b - a) >= xtol) & (f != 0)

    init = (a, b, x0, f0, g0, jnp.abs(x_hi - x_lo), jnp.asarray(0))
    a, b, x, f, g, step, _ = jax.lax.while_loop(not_done, body, init)
    converged = (step < xtol) | (jnp.abs(b - a) < xtol) | (f == 0)
    return x, f, converged


def sign_change_brackets(x_grid, f_grid):
    """Masks of grid intervals [x_i, x_{i+1}] where f changes sign.

    Returns (rising, falling): boolean arrays of shape (..., Ng - 1); ``rising`` where f goes from
    below to above zero with increasing x (a lower contour edge), ``falling`` the reverse.
    """
    above = f_grid >= 0
    rising = (~above[..., :-1]) & above[..., 1:]
    falling = above[..., :-1] & (~above[..., 1:])
    return rising, falling
