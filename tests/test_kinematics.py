"""Two-body decay kinematics (fipscan.kernels.kinematics): invariants, closed forms, dtypes, gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy import stats

from fipscan.kernels.kinematics import (
    boost_decay,
    daughter_p_theta,
    direction,
    kallen,
    two_body_energy,
    two_body_momentum,
)

# PDG 2024 masses [GeV]
M_PI0 = 0.1349768
M_PI = 0.13957039
M_MU = 0.1056583755
M_E = 0.51099895e-3


def _random_decays(n, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.uniform(0.01, 3.0, n)
    m1 = M * rng.uniform(0.0, 0.5, n)
    m2 = M * rng.uniform(0.0, 0.49, n)
    return dict(
        parent_p=10 ** rng.uniform(-2, np.log10(400.0), n),
        parent_theta=rng.uniform(0, np.pi, n),
        parent_phi=rng.uniform(0, 2 * np.pi, n),
        M=M,
        m1=m1,
        m2=m2,
        cos_star=rng.uniform(-1, 1, n),
        phi_star=rng.uniform(0, 2 * np.pi, n),
    )


def test_energy_momentum_conservation_float64():
    d = _random_decays(2000)
    p1, p2 = jax.jit(boost_decay)(**d)
    p1, p2 = np.asarray(p1), np.asarray(p2)
    P = d["parent_p"][:, None] * np.asarray(direction(d["parent_theta"], d["parent_phi"]))
    E = np.sqrt(d["parent_p"] ** 2 + d["M"] ** 2)
    E1 = np.sqrt(np.sum(p1**2, -1) + d["m1"] ** 2)
    E2 = np.sqrt(np.sum(p2**2, -1) + d["m2"] ** 2)
    np.testing.assert_allclose(E1 + E2, E, rtol=1e-12)
    np.testing.assert_allclose(p1 + p2, P, rtol=0, atol=1e-12 * E.max())
    # invariant mass of the pair is the parent mass: (E1 + E2)^2 - |p1 + p2|^2 = M^2
    m_pair2 = (E1 + E2) ** 2 - np.sum((p1 + p2) ** 2, -1)
    np.testing.assert_allclose(m_pair2, d["M"] ** 2, rtol=0, atol=1e-10 * E.max() ** 2)


def test_extreme_boost_conserves_energy():
    # a 5 MeV A' at 400 GeV (gamma ~ 8e4) decaying to e+e-, backward emission included
    cos = jnp.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    p1, p2 = boost_decay(400.0, 1e-3, 0.3, 0.005, M_E, M_E, cos, 1.0)
    E1 = jnp.sqrt(jnp.sum(p1**2, -1) + M_E**2)
    E2 = jnp.sqrt(jnp.sum(p2**2, -1) + M_E**2)
    np.testing.assert_allclose(E1 + E2, np.sqrt(400.0**2 + 0.005**2), rtol=1e-12)
    assert np.all(np.asarray(p1[:, 2]) > 0) and np.all(np.asarray(p2[:, 2]) > 0)


def test_rest_frame_momentum_closed_forms():
    # pi+ -> mu+ nu at rest: p* = (m_pi^2 - m_mu^2) / (2 m_pi) = 29.79 MeV (PDG Kinematics, two-body decays)
    assert float(two_body_momentum(M_PI, M_MU, 0.0)) == pytest.approx((M_PI**2 - M_MU**2) / (2 * M_PI), rel=1e-14)
    assert float(two_body_momentum(M_PI, M_MU, 0.0)) == pytest.approx(0.02979, abs=5e-6)
    # general: p* = lambda^(1/2)(M^2, m1^2, m2^2) / (2M) with the Kallen function
    M, m1, m2 = 0.493677, 0.13957039, 0.1349768
    ref = np.sqrt(kallen(M**2, m1**2, m2**2)) / (2 * M)
    assert float(two_body_momentum(M, m1, m2)) == pytest.approx(float(ref), rel=1e-13)
    # E1* + E2* = M and E* ^2 - p*^2 = m^2
    e1, e2, ps = two_body_energy(M, m1, m2), two_body_energy(M, m2, m1), two_body_momentum(M, m1, m2)
    assert float(e1 + e2) == pytest.approx(M, rel=1e-15)
    assert float(e1**2 - ps**2) == pytest.approx(m1**2, rel=1e-12)
    # parent at rest: daughters back to back with |p| = p* in the requested direction
    p1, p2 = boost_decay(0.0, 0.0, 0.0, M, m1, m2, 0.6, 0.0)
    np.testing.assert_allclose(np.asarray(p1), float(ps) * np.array([0.8, 0.0, 0.6]), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(p2), -np.asarray(p1), rtol=1e-14)


def test_threshold_is_zero_with_finite_gradients():
    M = jnp.array([0.0, 0.1, 0.2113167, 2 * M_MU, 0.3])
    p = two_body_momentum(M, M_MU, M_MU)
    assert np.all(np.asarray(p[:4]) == 0.0) and float(p[4]) > 0
    g = jax.vmap(jax.grad(lambda x: two_body_momentum(x, M_MU, M_MU)))(M)
    assert np.all(np.isfinite(np.asarray(g)))
    # below threshold both daughters move with the parent (no NaN anywhere)
    p1, p2 = boost_decay(10.0, 0.01, 0.0, 0.1, M_MU, M_MU, 0.3, 0.2)
    assert np.all(np.isfinite(np.asarray(p1))) and np.all(np.isfinite(np.asarray(p2)))
    grads = jax.grad(lambda M: jnp.sum(boost_decay(10.0, 0.01, 0.0, M, M_MU, M_MU, 0.3, 0.2)[0]))(0.1)
    assert np.isfinite(float(grads))


def test_pi0_photon_energy_range():
    # pi0 -> gamma gamma in flight: E_gamma = E (1 + beta cos*) / 2 spans [E(1 - beta)/2, E(1 + beta)/2]
    p = 3.0
    E = np.hypot(p, M_PI0)
    beta = p / E
    cos = np.linspace(-1, 1, 101)
    p1, _ = boost_decay(p, 0.2, 1.0, M_PI0, 0.0, 0.0, cos, 0.7)
    Eg = np.linalg.norm(np.asarray(p1), axis=-1)
    np.testing.assert_allclose(Eg, E * (1 + beta * cos) / 2, rtol=1e-12)
    assert Eg.min() == pytest.approx(E * (1 - beta) / 2, rel=1e-12)
    assert Eg.max() == pytest.approx(E * (1 + beta) / 2, rel=1e-12)


def test_isotropic_decay_gives_flat_lab_energy():
    # isotropic in the rest frame <=> dN/dE_1 flat between E(1-beta)... (PDG Kinematics, two-body decays)
    n, nbins = 40000, 25
    rng = np.random.default_rng(7)
    cos = rng.uniform(-1, 1, n)
    phs = rng.uniform(0, 2 * np.pi, n)
    M, m1, m2, p = 0.5, M_MU, M_MU, 20.0
    p1, _ = boost_decay(p, 0.003, 0.4, M, m1, m2, cos, phs)
    E1 = np.sqrt(np.sum(np.asarray(p1) ** 2, -1) + m1**2)
    gamma, bg = np.hypot(p, M) / M, p / M
    es, ps = float(two_body_energy(M, m1, m2)), float(two_body_momentum(M, m1, m2))
    lo, hi = gamma * es - bg * ps, gamma * es + bg * ps
    assert E1.min() >= lo * (1 - 1e-12) and E1.max() <= hi * (1 + 1e-12)
    counts, _ = np.histogram(E1, bins=nbins, range=(lo, hi))
    chi2 = np.sum((counts - n / nbins) ** 2 / (n / nbins))
    assert stats.chi2.sf(chi2, nbins - 1) > 1e-3, chi2


def test_rotation_covariance_and_transverse_momentum():
    d = _random_decays(200, seed=3)
    p1, _ = boost_decay(**d)
    n = np.asarray(direction(d["parent_theta"], d["parent_phi"]))
    par = np.sum(np.asarray(p1) * n, -1)
    perp = np.linalg.norm(np.asarray(p1) - par[:, None] * n, axis=-1)
    ps = np.asarray(two_body_momentum(d["M"], d["m1"], d["m2"]))
    es = np.asarray(two_body_energy(d["M"], d["m1"], d["m2"]))
    gamma = np.hypot(d["parent_p"], d["M"]) / d["M"]
    bg = d["parent_p"] / d["M"]
    sin = np.sqrt(1 - d["cos_star"] ** 2)
    np.testing.assert_allclose(perp, ps * sin, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(par, gamma * ps * d["cos_star"] + bg * es, rtol=1e-11, atol=1e-13)


def test_daughter_p_theta():
    # parent along z: theta_1 = atan(p* sin / p_par), |p_1| from the boost
    M, m1, m2, p = M_PI0, 0.05, 0.0, 10.0  # pi0 -> A'(50 MeV) gamma
    cos = np.array([-0.9, 0.0, 0.5, 1.0])
    pa, th = daughter_p_theta(p, 0.0, 0.0, M, m1, m2, cos, 0.3)
    ps, es = float(two_body_momentum(M, m1, m2)), float(two_body_energy(M, m1, m2))
    par = np.hypot(p, M) / M * ps * cos + p / M * es
    pt = ps * np.sqrt(1 - cos**2)
    np.testing.assert_allclose(np.asarray(th), np.arctan2(pt, par), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(pa), np.hypot(par, pt), rtol=1e-12)
    # gradient is finite on the axis (cos* = 1, parent along z)
    g = jax.grad(lambda c: daughter_p_theta(p, 0.0, 0.0, M, m1, m2, c, 0.3)[1])(1.0)
    assert np.isfinite(float(g))


def test_float32_matches_float64_and_keeps_dtype():
    d = _random_decays(300, seed=11)
    d32 = {k: np.asarray(v, np.float32) for k, v in d.items()}
    f = jax.jit(boost_decay)
    p1_64, p2_64 = f(*d.values())
    p1_32, p2_32 = f(*d32.values())
    assert p1_32.dtype == jnp.float32 and p1_64.dtype == jnp.float64
    scale = np.hypot(d["parent_p"], d["M"])[:, None]
    assert np.max(np.abs(np.asarray(p1_32, np.float64) - np.asarray(p1_64)) / scale) < 1e-5
    assert np.max(np.abs(np.asarray(p2_32, np.float64) - np.asarray(p2_64)) / scale) < 1e-5
    assert two_body_momentum(np.float32(0.5), np.float32(0.1), np.float32(0.1)).dtype == jnp.float32
    assert daughter_p_theta(*[np.float32(v) for v in (5.0, 0.01, 0.0, 0.5, 0.1, 0.1, 0.2, 0.1)])[1].dtype == jnp.float32


def test_check_grads():
    check_grads(jax.jit(two_body_momentum), (0.7, 0.13, 0.1), order=1, modes=["fwd", "rev"])
    args = (25.0, 0.002, 0.4, 0.7, 0.13, 0.1, 0.3, 1.1)
    check_grads(jax.jit(boost_decay), args, order=1, modes=["fwd", "rev"])
    check_grads(jax.jit(daughter_p_theta), args, order=1, modes=["fwd", "rev"])


def test_jit_does_not_recompile():
    traces = []

    def counted(*args):
        traces.append(1)  # runs only while tracing
        return boost_decay(*args)

    f = jax.jit(counted)
    for seed in (1, 2, 3):
        f(*_random_decays(50, seed=seed).values())
    assert len(traces) == 1 and f._cache_size() == 1
