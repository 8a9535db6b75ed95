"""Decay-in-volume and yield kernels: closed forms, limits, stability, precision, gradients."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan.kernels import decay, yields
from fipscan.kernels.numerics import log1mexp, log1mexp_from_log
from fipscan.kernels.roots import rtsafe

ALPHA = 1 / 137.035999
M_E, M_MU = 0.51099895e-3, 0.1056583755
Z_TAX, Z_DV = 23.070, (102.425, 182.0)


def gamma_ll(m, ml, eps):
    """Gamma(A' -> l l) = (alpha eps^2 m / 3)(1 + 2r) sqrt(1 - 4r): written independently of the package."""
    r = ml**2 / m**2
    return ALPHA * eps**2 * m / 3 * (1 + 2 * r) * math.sqrt(1 - 4 * r)


def test_worked_decay_in_volume_number():
    """Shared reference: m = 0.4 GeV, eps = 1e-6, leptonic width, p = 100 GeV -> P = 0.043887."""
    m, eps, p = 0.4, 1e-6, 100.0
    width = gamma_ll(m, M_E, eps) + gamma_ll(m, M_MU, eps)
    assert decay.HBARC_GEV_M / width == pytest.approx(0.103076, rel=1e-5)
    s = decay.inverse_decay_length(m, p, width)
    prob = decay.decay_probability(s, Z_DV[0] - Z_TAX, Z_DV[1] - Z_TAX)
    assert float(prob) == pytest.approx(0.043887, rel=2e-5)
    assert float(jnp.exp(decay.log_decay_probability(s, Z_DV[0] - Z_TAX, Z_DV[1] - Z_TAX))) == pytest.approx(
        0.043887, rel=2e-5)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_long_and_short_lifetime_limits(dtype):
    a, b = jnp.asarray(80.0, dtype), jnp.asarray(160.0, dtype)
    # long-lived: P -> s (b - a), where exp(-sa) - exp(-sb) would cancel to zero in float32
    s = jnp.asarray(1e-12, dtype)
    p = decay.decay_probability(s, a, b)
    assert float(p) == pytest.approx(80e-12, rel=1e-5)
    naive = jnp.exp(-s * a) - jnp.exp(-s * b)
    if dtype == jnp.float32:
        assert float(naive) == 0.0  # the cancellation the stable form avoids
    # short-lived: P -> 0 without NaN, and log P ~ -s a stays finite
    s = jnp.asarray(50.0, dtype)
    assert float(decay.decay_probability(s, a, b)) == 0.0
    lp = decay.log_decay_probability(s, a, b)
    assert np.isfinite(float(lp)) and float(lp) == pytest.approx(-50.0 * 80.0, rel=1e-6)


def test_probability_bounds_and_monotonicity():
    s = jnp.geomspace(1e-30, 1e3, 400)
    p = decay.decay_probability(s, 80.0, 160.0)
    assert bool(jnp.all((p >= 0) & (p <= 1)))
    # rises ~ s for small s, maximal at s* = ln(b/a)/(b-a), then falls
    s_star = math.log(2.0) / 80.0
    i = int(jnp.argmax(p))
    assert float(s[i]) == pytest.approx(s_star, rel=0.1)
    assert bool(jnp.all(jnp.diff(p[: i - 1]) > 0)) and bool(jnp.all(jnp.diff(p[i + 1:]) <= 0))


def test_log1mexp_accuracy():
    x = np.geomspace(1e-20, 700, 500)
    # independent reference: direct form where it is accurate, the series -sum e^{-kx}/k above x = 8
    e = np.exp(-np.maximum(x, 8.0))
    series = -sum(e**k / k for k in range(1, 7))
    expected = np.where(x <= 8.0, np.log(-np.expm1(-np.minimum(x, 8.0))), series)
    assert np.allclose(np.asarray(log1mexp(jnp.asarray(x))), expected, rtol=1e-10, atol=0)
    assert float(log1mexp(jnp.asarray(0.0))) == -np.inf


def test_log1mexp_from_log_matches_and_survives_underflow():
    """The same function from log x: equal to log1mexp where x is representable (series below 1e-3,
    error < x^4/2880), exact log x where x underflows, finite gradient d/dlog x -> 1 there."""
    log_x = np.linspace(-40.0, 6.0, 400)
    got = np.asarray(log1mexp_from_log(jnp.asarray(log_x)))
    assert np.allclose(got, np.asarray(log1mexp(jnp.exp(jnp.asarray(log_x)))), rtol=1e-13, atol=0)
    assert float(log1mexp_from_log(jnp.asarray(-1000.0))) == -1000.0  # exp(-1000) = 0 in float64
    g = jax.grad(log1mexp_from_log)
    for lx in (-1000.0, -20.0, math.log(1e-3), 0.0, 5.0):
        x = math.exp(lx)
        assert float(g(jnp.asarray(lx))) == pytest.approx(x / math.expm1(x) if x > 0 else 1.0, rel=1e-12)
    f32 = log1mexp_from_log(jnp.asarray([-200.0, 0.0], jnp.float32))
    assert f32.dtype == jnp.float32 and float(f32[0]) == -200.0


def test_rtsafe_fixed_and_adaptive_modes():
    """x^3 = 2 from the bracket [3, 0] given as (f < 0 end, f >= 0 end): both modes find the root;
    the fixed mode evaluates exactly n_iter times and carries aux out, the adaptive mode stops early,
    and a zero-width bracket costs one evaluation (jit and vmap)."""
    def fdf(x):
        return x**3 - 2.0, 3 * x**2, {"twice": 2 * x}

    root = 2.0 ** (1 / 3)
    r = jax.jit(lambda a, b: rtsafe(fdf, a, b, n_iter=12, fixed=True))(jnp.asarray(0.0), jnp.asarray(3.0))
    assert int(r.n_eval) == 12 and abs(float(r.x) - root) < 1e-14 and float(r.aux["twice"]) == float(2 * r.x)
    r = rtsafe(fdf, jnp.asarray(0.0), jnp.asarray(3.0), n_iter=60, xtol=1e-12)
    assert bool(r.converged) and abs(float(r.x) - root) < 1e-12 and int(r.n_eval) < 12
    lo, hi = jnp.asarray([0.0, 1.5]), jnp.asarray([3.0, 1.5])
    rv = jax.vmap(lambda a, b: rtsafe(fdf, a, b, n_iter=60, xtol=1e-12))(lo, hi)
    assert abs(float(rv.x[0]) - root) < 1e-12 and float(rv.x[1]) == 1.5 and bool(rv.converged[1])
    assert int(rv.n_eval[1]) == 1
    # a decreasing function: the f < 0 end lies above the f >= 0 end
    r = rtsafe(lambda x: (2.0 - x**3, -3 * x**2, ()), jnp.asarray(3.0), jnp.asarray(0.0), n_iter=60, xtol=1e-12)
    assert abs(float(r.x) - root) < 1e-12


def test_cell_log_probabilities_sum_to_total():
    edges = jnp.linspace(79.355, 158.93, 33)
    for s in (1e-9, 1e-2, 0.3, 5.0):
        cells = jnp.exp(decay.cell_log_probabilities(jnp.log(jnp.asarray([s])), edges))[0]
        total = decay.decay_probability(s, edges[0], edges[-1])
        assert float(jnp.sum(cells)) == pytest.approx(float(total), rel=1e-10, abs=1e-300)


def test_gradients_finite_and_correct():
    f = lambda ls: decay.cell_log_probabilities(ls, jnp.linspace(80.0, 160.0, 9)).sum()
    for ls in (-60.0, -5.0, 0.5):
        check_grads(f, (jnp.asarray([ls]),), order=1, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6)
    g = jax.grad(lambda s: decay.decay_probability(s, 80.0, 160.0))
    for s in (0.0, 1e-30, 1e-3, 100.0, 1e4):
        assert np.isfinite(float(g(jnp.asarray(s))))


def _toy_tables(nb=5, nz=8, seed=0):
    rng = np.random.default_rng(seed)
    W = jnp.asarray(rng.uniform(0.1, 1.0, (nb, nz)))
    p = jnp.geomspace(5.0, 300.0, nb)
    width1 = gamma_ll(0.2, M_E, 1.0)
    log_s1 = jnp.log(0.2 * width1 / (p * decay.HBARC_GEV_M))
    a_edges = jnp.linspace(Z_DV[0] - Z_TAX, Z_DV[1] - Z_TAX, nz + 1)
    return W, log_s1, a_edges


def test_yield_matches_closed_form_for_constant_acceptance():
    """One sample, constant acceptance: N = pot * eps^2 * w * A * P(decay in [a, b])."""
    a_edges = jnp.linspace(79.355, 158.93, 17)
    W = jnp.full((1, 16), 0.37)
    m, p = 0.4, 100.0
    width1 = gamma_ll(m, M_E, 1.0) + gamma_ll(m, M_MU, 1.0)
    log_s1 = jnp.log(jnp.asarray([m * width1 / (p * decay.HBARC_GEV_M)]))
    eps = 1e-6
    n = yields.events(jnp.log(eps), W, log_s1, a_edges, 1e17)
    expected = 1e17 * eps**2 * 0.37 * 0.043887
    assert float(n) == pytest.approx(expected, rel=2e-5)
    assert float(jnp.exp(yields.log_events(jnp.log(eps), W, log_s1, a_edges, jnp.log(1e17)))) == pytest.approx(
        expected, rel=2e-5)


def test_eps_scaling_in_long_lived_limit():
    """Production ~ eps^2 and P(decay) ~ eps^2 for long lifetimes: N ~ eps^4."""
    W, log_s1, a_edges = _toy_tables()
    le = jnp.log(jnp.asarray([1e-12, 1e-11]))
    n = yields.events(le, W, log_s1, a_edges, 1e18)
    assert float(n[1] / n[0]) == pytest.approx(1e4, rel=1e-6)


def test_log_and_linear_forms_agree_and_log_survives_underflow():
    W, log_s1, a_edges = _toy_tables()
    le = jnp.log(jnp.geomspace(1e-9, 1e-5, 50))
    lin = yields.events(le, W, log_s1, a_edges, 1e17)
    log = yields.log_events(le, W, log_s1, a_edges, jnp.log(1e17))
    ok = lin > 1e-250
    assert np.allclose(np.log(np.asarray(lin)[ok]), np.asarray(log)[ok], rtol=1e-10)
    deep = yields.log_events(jnp.log(1e-2), W, log_s1, a_edges, jnp.log(1e17))
    assert np.isfinite(float(deep)) and float(deep) < -1e3  # N underflows, log N does not


def test_grid_kernel_equals_per_mass_kernel_and_float32_close():
    Ws, ls = [], []
    for k in range(7):
        W, l, a_edges = _toy_tables(seed=k)
        Ws.append(W * (k + 1))
        ls.append(l + 0.3 * k)
    W, ls = jnp.stack(Ws), jnp.stack(ls)
    le = jnp.log(jnp.geomspace(1e-9, 1e-4, 33))
    grid = yields.events_grid(le, W, ls, a_edges, 1e17, chunk=3)
    for k in range(7):
        assert np.allclose(grid[k], yields.events(le, W[k], ls[k], a_edges, 1e17), rtol=1e-12)
    g32 = yields.events_grid(le.astype(jnp.float32), W.astype(jnp.float32), ls.astype(jnp.float32),
                             a_edges.astype(jnp.float32), 1e17, chunk=3)
    assert g32.dtype == jnp.float32
    big = np.asarray(grid) >= 1e-3
    # float32 tolerance: 1e-3 relative wherever N >= 1e-3 events
    assert np.allclose(np.asarray(g32)[big], np.asarray(grid)[big], rtol=1e-3)


def test_no_recompile_on_second_call():
    W, log_s1, a_edges = _toy_tables()
    f = jax.jit(yields.log_events)
    f(jnp.log(1e-7), W, log_s1, a_edges, jnp.log(1e17))
    before = f._cache_size()
    f(jnp.log(3e-7), W * 2, log_s1 + 1, a_edges, jnp.log(2e17))
    assert f._cache_size() == before
