"""Per-mass contour roots: the safeguarded Newton iteration and its brackets."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.contour.per_mass import log_events_grid, per_mass_contour
from fipscan.kernels import yields as kyields
from fipscan.kernels.roots import bracketed_newton
from fipscan.testing import toy_tables

POT = 1e18
N_LIMIT = 2.3


def _cubic(x, c):
    return x**3 - c


@pytest.mark.parametrize("x_init", [None, 1.30])
def test_bracketed_newton_finds_the_cube_root(x_init):
    """x^3 = 2 in [0, 3]: the root to xtol from the midpoint or from a close first iterate."""
    x, f, ok = bracketed_newton(_cubic, jnp.asarray(0.0), jnp.asarray(3.0), args=(2.0,), xtol=1e-12,
                                x_init=None if x_init is None else jnp.asarray(x_init))
    assert bool(ok) and abs(float(x) - 2.0 ** (1 / 3)) < 1e-12


def test_a_close_first_iterate_saves_steps_and_empty_lanes_take_none():
    """Count the function evaluations: from the secant guess Newton needs fewer steps than from the
    midpoint; a zero-width bracket (a mass without a crossing) takes no step at all under vmap."""
    calls = []

    def fun(x, c):
        jax.debug.callback(lambda: calls.append(1))
        return x**3 - c

    def run(lo, hi, x0):
        calls.clear()
        jax.block_until_ready(bracketed_newton(fun, jnp.asarray(lo), jnp.asarray(hi), args=(2.0,), xtol=1e-12,
                                               x_init=None if x0 is None else jnp.asarray(x0)))
        return len(calls)

    mid, close = run(1.0, 2.0, None), run(1.0, 2.0, 1.26)
    assert close < mid
    x, _, ok = bracketed_newton(_cubic, jnp.asarray(1.5), jnp.asarray(1.5), args=(2.0,))
    assert bool(ok) and float(x) == 1.5  # no step: the bracket had no width


def test_roots_do_not_depend_on_how_the_grid_was_logged():
    """per_mass_contour from log_events_grid (finite everywhere) and from log(events_grid) (-inf where N
    underflows, as fipscan.scan does) gives the same roots, and each root solves N = N_limit."""
    t = toy_tables()
    log_g = jnp.log(jnp.geomspace(1e-10, 1e-2, 300))
    a = per_mass_contour(t, POT, N_LIMIT, log_g, logn=log_events_grid(t, log_g, POT))
    with np.errstate(divide="ignore"):
        logn = np.log(np.asarray(t.events_grid(log_g, POT)))
    assert np.isneginf(logn).any()  # the toy's short-lived corner underflows
    b = per_mass_contour(t, POT, N_LIMIT, log_g, logn=logn)
    assert a.excluded.sum() > 5
    np.testing.assert_array_equal(a.excluded, b.excluded)
    ok = a.excluded & ~a.lower_at_edge & ~a.upper_at_edge
    assert np.allclose(a.lower[ok], b.lower[ok], rtol=1e-6) and np.allclose(a.upper[ok], b.upper[ok], rtol=1e-6)
    assert a.converged[ok].all() and b.converged[ok].all()
    log_pot = jnp.log(POT)
    for edge in (b.lower, b.upper):
        n = np.exp(np.asarray(kyields.log_events_at(jnp.log(jnp.asarray(edge[ok])), t.weights[ok], t.log_s1[ok],
                                                    t.a_edges, log_pot, t.n_prod, t.n_width)))
        assert np.allclose(n, N_LIMIT, rtol=1e-6)
