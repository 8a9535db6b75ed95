"""Flat n-body phase space (GENBOD, F. James CERN 68-15), boosts and two-photon decays (kernels/phasespace.py)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

from fipscan.kernels.acceptance import sample_unit_points
from fipscan.kernels.phasespace import (
    boost,
    boost_to_frame,
    phase_space,
    phase_space_volume,
    two_photon_decay,
)

M_PI, M_PI0, M_K, M_E = 0.13957039, 0.1349768, 0.493677, 0.51099895e-3

#: float64 four-momentum conservation and mass shell, relative to the parent mass (rounding only)
TOL_F64 = 1e-12

CASES = [
    (0.5, (M_E, M_E)),
    (1.2, (M_PI, M_PI0)),
    (1.0, (0.0, 0.0, 0.0)),
    (1.1, (M_PI, M_PI, M_PI0)),
    (1.5, (M_PI, M_PI, M_PI0, M_PI0)),
    (2.0, (M_K, M_PI, 0.0, M_PI)),
]


def _uniform(n, d, seed=0):
    return jax.random.uniform(jax.random.PRNGKey(seed), (n, d), dtype=jnp.float64)


def _minv2(p4):
    return p4[..., 0] ** 2 - np.sum(p4[..., 1:] ** 2, axis=-1)


@pytest.mark.parametrize("M, masses", CASES)
def test_conservation_and_mass_shell(M, masses):
    n = len(masses)
    p4, w = jax.jit(phase_space, static_argnums=1)(M, masses, _uniform(4000, 3 * n - 4))
    p4, w = np.asarray(p4), np.asarray(w)
    assert p4.shape == (4000, n, 4) and w.shape == (4000,)
    total = p4.sum(axis=-2)
    np.testing.assert_allclose(total, np.broadcast_to([M, 0, 0, 0], total.shape), rtol=0, atol=TOL_F64 * M)
    # on shell: E^2 - p^2 = m^2 (and E >= 0)
    np.testing.assert_allclose(_minv2(p4), np.broadcast_to(np.square(masses), (4000, n)), rtol=0, atol=TOL_F64 * M * M)
    assert np.all(p4[..., 0] >= 0) and np.all(w >= 0) and np.all(np.isfinite(w))


def test_below_threshold_weight_zero_and_finite_gradient():
    masses = (M_PI, M_PI, M_PI0)
    u = _uniform(64, 5)
    _, w = phase_space(0.9 * sum(masses), masses, u)
    assert np.all(np.asarray(w) == 0.0)
    g = jax.jit(jax.grad(lambda M: jnp.sum(phase_space(M, masses, u)[0]) + jnp.sum(phase_space(M, masses, u)[1])))
    for M in (0.0, sum(masses), 1.0):
        assert np.isfinite(float(g(M)))


def test_three_body_volume_massless_closed_form():
    """R_3 = integral prod d^3p/(2E) delta^4 = pi^2 s / 8 for massless particles (equivalently the PDG
    convention Phi_3 = (2 pi)^-5 R_3 = s / (256 pi^3)); and R_4 = pi^3 s^2 / 96, from the massless
    R_n = (pi/2)^(n-1) s^(n-2) / ((n-1)! (n-2)!).  Tolerance: 5 standard errors of the weighted MC mean
    (random points)."""
    for n, M in ((3, 1.7), (4, 0.8)):
        u = np.asarray(sample_unit_points(jax.random.PRNGKey(11), 200_000, 3 * n - 4, sampling="random"))
        _, w = phase_space(M, (0.0,) * n, u)
        w = np.asarray(w)
        s = M * M
        exact = (math.pi / 2) ** (n - 1) * s ** (n - 2) / (math.factorial(n - 1) * math.factorial(n - 2))
        if n == 3:
            assert exact == pytest.approx(math.pi**2 * s / 8, rel=1e-15)
        assert abs(w.mean() - exact) < 5 * w.std() / math.sqrt(w.size), (n, w.mean(), exact)


def test_three_body_volume_massive_against_dalitz_area():
    """R_3 = pi^2 / (4 s) x (area of the Dalitz plot in (m12^2, m23^2)) (PDG "Kinematics" eq. 49.22 with
    Phi_3 = (2 pi)^-5 R_3); the area integrated independently with scipy.  QMC points: tolerance 1e-3
    relative (measured ~1e-4)."""
    M, masses = 1.1, (M_PI, M_PI, M_PI0)
    m1, m2, m3 = masses
    s = M * M

    def m23_range(m12sq):
        m12 = math.sqrt(m12sq)
        e2 = (m12sq - m1**2 + m2**2) / (2 * m12)
        e3 = (s - m12sq - m3**2) / (2 * m12)
        p2, p3 = math.sqrt(max(e2**2 - m2**2, 0)), math.sqrt(max(e3**2 - m3**2, 0))
        return (e2 + e3) ** 2 - (p2 + p3) ** 2, (e2 + e3) ** 2 - (p2 - p3) ** 2

    area, _ = integrate.quad(lambda x: np.subtract(*m23_range(x)[::-1]), (m1 + m2) ** 2, (M - m3) ** 2,
                             epsabs=0, epsrel=1e-10)
    expected = math.pi**2 / (4 * s) * area
    u = sample_unit_points(jax.random.PRNGKey(2), 2**16, 5)
    got = float(phase_space_volume(M, masses, u))
    assert got == pytest.approx(expected, rel=1e-3)


def test_three_body_dalitz_distribution_is_flat():
    """Weighted events fill the Dalitz plot uniformly: on the cells of a 16 x 16 grid that lie entirely
    inside the plot, the weighted counts agree with equal densities (weighted chi^2 with variance
    sum w^2 per cell; p-value > 1e-3)."""
    M, masses = 1.5, (M_PI, M_K, 0.0)
    u = np.asarray(sample_unit_points(jax.random.PRNGKey(5), 400_000, 5, sampling="random"))
    p4, w = (np.asarray(a) for a in phase_space(M, masses, u))
    m12sq = _minv2(p4[:, 0] + p4[:, 1])
    m23sq = _minv2(p4[:, 1] + p4[:, 2])
    x_edges = np.linspace((masses[0] + masses[1]) ** 2, (M - masses[2]) ** 2, 17)
    y_edges = np.linspace((masses[1] + masses[2]) ** 2, (M - masses[0]) ** 2, 17)
    sw, _, _ = np.histogram2d(m12sq, m23sq, bins=(x_edges, y_edges), weights=w)
    sw2, _, _ = np.histogram2d(m12sq, m23sq, bins=(x_edges, y_edges), weights=w * w)
    # cells fully inside: all four corners inside the Dalitz boundary, the m23^2 range at fixed m12^2
    # from the energies in the (12) rest frame (PDG "Kinematics", eq. 49.23)
    def inside(x, y):
        m1s, m2s, m3s = (v * v for v in masses)
        e2 = (x - m1s + m2s) / (2 * np.sqrt(x))
        e3 = (M * M - x - m3s) / (2 * np.sqrt(x))
        p2, p3 = np.sqrt(np.maximum(e2**2 - m2s, 0)), np.sqrt(np.maximum(e3**2 - m3s, 0))
        return ((e2 + e3) ** 2 - (p2 + p3) ** 2 < y) & (y < (e2 + e3) ** 2 - (p2 - p3) ** 2)

    X, Y = np.meshgrid(x_edges, y_edges, indexing="ij")
    ins = inside(X, Y)
    full = ins[:-1, :-1] & ins[1:, :-1] & ins[:-1, 1:] & ins[1:, 1:]
    assert full.sum() >= 40
    obs, var = sw[full], sw2[full]
    mean = obs.sum() / full.sum()
    chi2 = np.sum((obs - mean) ** 2 / var)
    assert stats.chi2.sf(chi2, full.sum() - 1) > 1e-3, (chi2, full.sum())


@pytest.mark.parametrize("k", [0.0, 0.6, -1.0])
def test_two_body_angular_distribution(k):
    """n = 2: cos(theta*) of daughter 1 along z follows 1 + k cos^2 (k = 0: isotropic) and phi* is
    uniform; chi^2 of 20-bin histograms, p-value > 1e-3."""
    u = np.asarray(sample_unit_points(jax.random.PRNGKey(8), 50_000, 2, sampling="random"))
    p4, w = phase_space(0.4, (M_PI, M_PI), u, k=k)
    p4 = np.asarray(p4)
    q = np.linalg.norm(p4[:, 0, 1:], axis=-1)
    c = p4[:, 0, 3] / q
    phi = np.arctan2(p4[:, 0, 2], p4[:, 0, 1])
    cdf = lambda x: (x + 1 + k * (x**3 + 1) / 3) / (2 + 2 * k / 3)  # noqa: E731
    edges = np.linspace(-1, 1, 21)
    counts, _ = np.histogram(c, edges)
    expected = c.size * np.diff(cdf(edges))
    assert stats.chi2.sf(np.sum((counts - expected) ** 2 / expected), 19) > 1e-3
    counts, _ = np.histogram(phi, np.linspace(-np.pi, np.pi, 21))
    assert stats.chisquare(counts).pvalue > 1e-3
    assert np.ptp(np.asarray(w)) == 0.0 and float(w[0]) == pytest.approx(math.pi * q[0] / 0.4, rel=1e-12)


def test_boosts():
    rng = np.random.default_rng(1)
    p3 = rng.normal(0, 1, (50, 3))
    m = rng.uniform(0.0, 1.0, 50)
    p4 = np.concatenate([np.sqrt(m**2 + np.sum(p3**2, -1))[:, None], p3], -1)
    beta = rng.normal(0, 1, (50, 3))
    beta *= rng.uniform(0, 0.999, (50, 1)) / np.linalg.norm(beta, axis=-1, keepdims=True)
    out = np.asarray(boost(p4, beta))
    np.testing.assert_allclose(_minv2(out), m**2, atol=1e-12 * np.max(out[..., 0] ** 2))
    back = np.asarray(boost(out, -beta))  # the inverse boost
    np.testing.assert_allclose(back, p4, atol=1e-12 * np.max(np.abs(out)))
    # boost_to_frame with P = M gamma (1, beta) is the same boost; a particle at rest goes to P
    M = 1.3
    gamma = 1 / np.sqrt(1 - np.sum(beta**2, -1))
    P = M * gamma[:, None] * np.concatenate([np.ones((50, 1)), beta], -1)
    np.testing.assert_allclose(np.asarray(boost_to_frame(p4, P)), out, rtol=1e-12, atol=1e-12)
    at_rest = np.broadcast_to([M, 0.0, 0.0, 0.0], (50, 4))
    np.testing.assert_allclose(np.asarray(boost_to_frame(at_rest, P, M)), P, rtol=1e-12, atol=1e-12)
    # dtype is kept
    assert boost(jnp.asarray(p4, jnp.float32), jnp.asarray(beta, jnp.float32)).dtype == jnp.float32


def test_two_photon_decay_conservation_and_isotropy():
    """pi0 -> gamma gamma: photons massless, sum = parent; in the parent rest frame (boosted back)
    photon 1 is isotropic (chi^2 p > 1e-3) and the photons are back to back."""
    u = np.asarray(sample_unit_points(jax.random.PRNGKey(4), 40_000, 2, sampling="random"))
    P3 = np.array([0.3, -0.2, 5.0])
    P = np.concatenate([[np.sqrt(M_PI0**2 + P3 @ P3)], P3])
    g = np.asarray(two_photon_decay(P, M_PI0, u))
    assert g.shape == (40_000, 2, 4)
    np.testing.assert_allclose(g.sum(-2), np.broadcast_to(P, (40_000, 4)), rtol=0, atol=TOL_F64 * P[0])
    np.testing.assert_allclose(_minv2(g), 0.0, atol=TOL_F64 * P[0] ** 2)
    rest = np.asarray(boost(g, -P3 / P[0]))
    np.testing.assert_allclose(rest[:, 0, 1:] + rest[:, 1, 1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(rest[..., 0], M_PI0 / 2, rtol=1e-11)
    c = rest[:, 0, 3] / rest[:, 0, 0]
    counts, _ = np.histogram(c, np.linspace(-1, 1, 21))
    assert stats.chisquare(counts).pvalue > 1e-3


def test_float32_and_jit():
    masses = (M_PI, M_PI, M_PI0, M_PI0)
    u = sample_unit_points(jax.random.PRNGKey(0), 512, 8)
    f = jax.jit(phase_space, static_argnums=1)
    p64, w64 = f(1.5, masses, u)
    p32, w32 = f(jnp.float32(1.5), masses, u.astype(jnp.float32))
    assert p32.dtype == w32.dtype == jnp.float32 and p64.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(p32), np.asarray(p64), atol=2e-5)
    np.testing.assert_allclose(np.asarray(w32), np.asarray(w64), rtol=2e-4)
