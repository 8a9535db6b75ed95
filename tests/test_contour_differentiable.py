"""The continuous yield surface and implicit-function-theorem derivatives of the contour features."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.contour import (
    contour_features,
    contour_problem,
    edges_at,
    feature_jacobian,
    interpolation_error,
    log_events_and_dy,
    log_events_at,
    make_surface,
    surface_from_tables,
    trace_surface,
)
from fipscan.contour.differentiable import pchip_eval, pchip_slopes
from fipscan.errors import InputError
from fipscan.testing import toy_tables

POT = 1e18
N_LIMIT = 2.3
MASSES = np.geomspace(0.01, 2.0, 24)
#: the brief's tolerance for IFT derivatives against central finite differences
FD_RTOL = 1e-3
#: tests use contour_features / feature_jacobian with these two masses: one compile each
TWO_MASSES = jnp.array([0.02, 0.3])


@pytest.fixture(scope="module")
def tables():
    return toy_tables(MASSES, n_p=16, n_z=8)


@pytest.fixture(scope="module")
def problem(tables):
    return contour_problem(tables, None, pot=POT, n_limit=N_LIMIT, couplings=(1e-10, 1e-2))


# ----------------------------------------------------------------------------------------------------
# interpolation
# ----------------------------------------------------------------------------------------------------
def test_pchip_is_exact_for_lines_monotone_and_free_of_overshoot():
    x = jnp.array([0.0, 0.5, 1.5, 2.0, 3.5])
    line = 2.0 * x - 1.0
    d = pchip_slopes(x, line)
    xs = jnp.linspace(0.0, 3.5, 71)
    assert np.allclose(jax.vmap(lambda t: pchip_eval(x, line, d, t))(xs), 2.0 * xs - 1.0, atol=1e-12)
    step = jnp.array([-690.0, -690.0, -10.0, -10.0, -10.0])  # a floored empty cell turning on
    d = pchip_slopes(x, step)
    v = jax.vmap(lambda t: pchip_eval(x, step, d, t))(xs)
    assert np.all(np.diff(np.asarray(v)) >= -1e-12) and float(v.max()) <= -10.0 + 1e-12


def test_pchip_is_c1_at_the_nodes():
    x = jnp.array([0.0, 0.4, 1.0, 1.7, 2.0])
    v = jnp.array([0.0, 1.0, 1.5, 3.0, 3.1])
    d = pchip_slopes(x, v)
    f = lambda t: pchip_eval(x, v, d, t)
    for node in x[1:-1]:
        left = jax.grad(f)(node - 1e-9)
        right = jax.grad(f)(node + 1e-9)
        assert abs(left - right) < 1e-6


def test_surface_equals_the_tables_at_the_nodes(tables):
    surface = surface_from_tables(tables, POT)
    log_g = jnp.log(jnp.geomspace(1e-9, 1e-3, 13))
    column = jax.jit(jax.vmap(lambda x, y: log_events_at(surface, x, y), in_axes=(None, 0)))
    for i in (0, 7, 23):
        exact = tables.log_events(i, log_g, POT)
        interp = column(surface.x_nodes[i], log_g)
        assert np.all(np.abs(np.asarray(exact - interp)) <= 1e-12 * (1 + np.abs(np.asarray(exact))))


def test_interpolation_error_between_nodes_is_small():
    # nodes every other mass of a 2x finer table; compare at the skipped masses with the exact tables
    fine = toy_tables(np.geomspace(0.01, 2.0, 47), n_p=16, n_z=8)
    coarse = make_surface(fine.masses[::2], fine.weights[::2], fine.log_s1[::2], fine.a_edges, math.log(POT))
    err = interpolation_error(coarse, np.asarray(fine.masses[1::2]), fine.weights[1::2], fine.log_s1[1::2],
                              jnp.log(jnp.geomspace(1e-9, 1e-3, 61)))
    print(f"\nmax |log N interpolated - exact| between nodes (24 nodes over 2.3 decades): {err:.2e}")
    assert err < 5e-3


def test_analytic_dy_and_uniform_cell_shortcut(tables):
    uni = surface_from_tables(tables, POT)
    gen = make_surface(tables.masses, tables.weights, tables.log_s1, tables.a_edges, math.log(POT),
                       uniform_cells=False)
    assert uni.uniform_cells and not gen.uniform_cells
    pts = [(math.log(0.03), math.log(3e-7)), (math.log(0.3), math.log(2e-6)), (math.log(0.05), math.log(5e-5))]
    xs, ys = (jnp.array(v) for v in zip(*pts))
    f, fy = jax.jit(jax.vmap(lambda x, y: log_events_and_dy(uni, x, y)))(xs, ys)
    g, gy = jax.jit(jax.vmap(jax.value_and_grad(lambda x, y: log_events_at(gen, x, y), argnums=1)))(xs, ys)
    assert np.max(np.abs(f - g)) < 1e-11 and np.max(np.abs(fy - gy)) < 1e-9


def test_reference_parameters_reproduce_the_tables(problem, tables):
    # re-interpolated cells (smooth) and the hard cells both reduce to the tabulated cells
    for smooth in (True, False):
        s = problem.surface(problem.reference, smooth=smooth)
        assert np.allclose(s.a_edges, tables.a_edges, rtol=0, atol=1e-9)
        assert np.allclose(s.node_weights(), tables.weights, rtol=1e-12, atol=1e-300)


def test_float32_agrees_with_float64(problem):
    t32 = toy_tables(MASSES, n_p=16, n_z=8, dtype=jnp.float32)
    p32 = contour_problem(t32, None, pot=POT, n_limit=N_LIMIT)
    lo, up = edges_at(p32, p32.reference, TWO_MASSES)
    assert lo.dtype == jnp.float32 and up.dtype == jnp.float32
    ref = contour_features(problem, problem.reference, TWO_MASSES)
    assert np.allclose(lo, ref["log_g_lower"], atol=2e-3) and np.allclose(up, ref["log_g_upper"], atol=2e-3)


# ----------------------------------------------------------------------------------------------------
# features and their derivatives
# ----------------------------------------------------------------------------------------------------
def test_roots_tip_and_area_are_consistent(problem, tables):
    surface = problem.surface(problem.reference)
    lnl = math.log(N_LIMIT)
    feat = contour_features(problem, problem.reference, TWO_MASSES)
    for m, a, b in zip(TWO_MASSES, feat["log_g_lower"], feat["log_g_upper"]):
        for y in (a, b):
            assert abs(log_events_at(surface, jnp.log(m), y) - lnl) < 1e-9
    x_t, y_t = feat["log_m_tip"], feat["log_g_tip"]
    f, fy = log_events_and_dy(surface, x_t, y_t)
    assert abs(f - lnl) < 1e-9 and abs(fy) < 1e-7  # F = 0 and F_y = 0 jointly
    res = trace_surface(surface, lnl, (math.log(1e-10), math.log(1e-2)))
    assert abs(float(feat["area"]) / res.area - 1) < 1e-3  # quadrature vs traced polygon (single region)
    assert abs(float(x_t) - res.regions[0].vertices[:, 0].max()) < 1e-3


def test_nothing_excluded_gives_nan_edges_zero_area_and_finite_derivatives(problem):
    p = problem.reference.replace(pot=jnp.asarray(1e8))
    feat = contour_features(problem, p, TWO_MASSES)
    assert np.isnan(feat["log_g_lower"]).all() and np.isnan(feat["log_g_upper"]).all()
    assert np.isnan(feat["log_m_tip"]) and float(feat["area"]) == 0.0
    jac = feature_jacobian(problem, p, TWO_MASSES)
    assert all(np.all(np.asarray(v) == 0) for v in jax.tree_util.tree_leaves(jac))


def test_decay_volume_outside_the_table_is_refused(problem):
    ref = problem.reference
    with pytest.raises(InputError, match="tabulated acceptance"):
        problem.check(ref.replace(dv_start=ref.dv_start - 5.0))
    with pytest.raises(InputError, match="upstream"):
        problem.check(ref.replace(production_z=ref.dv_start + 1.0))
    problem.check(ref.replace(dv_start=ref.dv_start + 5.0, dv_length=ref.dv_length - 5.0))


STEPS = {"production_z": 1e-3, "dv_start": 1e-3, "dv_length": 1e-3, "pot": 1e13, "efficiency": 1e-5}


def test_ift_derivatives_match_finite_differences(problem):
    """Every feature x every parameter at a geometry off the tabulated one (cells re-interpolated)."""
    p = problem.reference.replace(production_z=jnp.asarray(1.7), dv_start=jnp.asarray(90.3),
                                  dv_length=jnp.asarray(60.2), efficiency=jnp.asarray(0.8))
    masses = TWO_MASSES
    jac = feature_jacobian(problem, p, masses)
    rows = []
    for name, h in STEPS.items():
        v = getattr(p, name)
        fp = contour_features(problem, p.replace(**{name: v + h}), masses)
        fm = contour_features(problem, p.replace(**{name: v - h}), masses)
        for key in fp:
            fd = (np.asarray(fp[key]) - np.asarray(fm[key])) / (2 * h)
            ift = np.asarray(getattr(jac[key], name))
            scale = np.maximum(np.abs(ift), 1e-6 * np.abs(ift).max() if np.abs(ift).max() > 0 else 1.0)
            rel = float(np.max(np.abs(fd - ift) / scale))
            rows.append((name, key, float(np.ravel(ift)[0]), float(np.ravel(fd)[0]), rel))
            assert rel < FD_RTOL, (name, key, ift, fd)
    print("\nparameter     feature       IFT            FD             rel")
    for r in rows:
        print(f"{r[0]:13s} {r[1]:13s} {r[2]:+.6e} {r[3]:+.6e} {r[4]:.1e}")


