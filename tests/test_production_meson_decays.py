"""Dark-photon production branching ratios in meson decays (fipscan.production.meson_decays)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan import constants as C
from fipscan.production.meson_decays import br_pseudoscalar_to_gamma_aprime, br_vector_to_pseudoscalar_aprime


@pytest.mark.parametrize(
    "m, m_p, br_gg, expected",
    [
        # shared reference worked numbers, eps = 1e-3 (BR(P->gg): pi0 0.98823, eta 0.3936, eta' 0.02307)
        (0.05, C.M_PI0, C.BR_PI0_GG, 1.26936e-6),
        (0.1, C.M_PI0, C.BR_PI0_GG, 1.81446e-7),
        (0.3, C.M_ETA, C.BR_ETA_GG, 2.70186e-7),
        (0.5, C.M_ETAP, C.BR_ETAP_GG, 1.77635e-8),
    ],
)
def test_pseudoscalar_worked_numbers(m, m_p, br_gg, expected):
    assert float(br_pseudoscalar_to_gamma_aprime(m, 1e-3, m_p, br_gg)) == pytest.approx(expected, rel=1e-5)


def test_pseudoscalar_limits_and_threshold():
    # m -> 0: 2 eps^2 BR(P -> gamma gamma); zero at and above m_P
    assert float(br_pseudoscalar_to_gamma_aprime(0.0, 1e-3, C.M_PI0, C.BR_PI0_GG)) == pytest.approx(
        2e-6 * C.BR_PI0_GG, rel=1e-12
    )
    m = jnp.array([C.M_PI0, 0.2, 1.0])
    assert float(jnp.max(br_pseudoscalar_to_gamma_aprime(m, 1e-3, C.M_PI0, C.BR_PI0_GG))) == 0.0
    # monotonic decrease in m
    br = br_pseudoscalar_to_gamma_aprime(jnp.linspace(0.001, 0.5, 50), 1e-3, C.M_ETA, C.BR_ETA_GG)
    assert bool(jnp.all(jnp.diff(br) < 0))


def test_vector_to_pseudoscalar():
    eps = 1e-3
    # m -> 0 gives eps^2 BR(omega -> pi0 gamma)
    assert float(br_vector_to_pseudoscalar_aprime(0.0, eps, C.M_OMEGA, C.M_PI0, 0.084)) == pytest.approx(
        eps**2 * 0.084, rel=1e-12
    )
    # a worked value of the lambda^(3/2) ratio at m = 0.4 GeV, computed by hand here
    mv2, mp2, m2 = C.M_OMEGA**2, C.M_PI0**2, 0.16
    lam = mv2**2 + mp2**2 + m2**2 - 2 * (mv2 * mp2 + mv2 * m2 + mp2 * m2)
    expected = eps**2 * 0.084 * (lam / (mv2 - mp2) ** 2) ** 1.5
    assert float(br_vector_to_pseudoscalar_aprime(0.4, eps, C.M_OMEGA, C.M_PI0, 0.084)) == pytest.approx(
        expected, rel=1e-12
    )
    # closed above m_V - m_P, monotonic below
    above = jnp.array([C.M_OMEGA - C.M_PI0, 0.7, 1.5])
    assert float(jnp.max(br_vector_to_pseudoscalar_aprime(above, eps, C.M_OMEGA, C.M_PI0, 0.084))) == 0.0
    br = br_vector_to_pseudoscalar_aprime(jnp.linspace(0.0, 0.64, 60), eps, C.M_OMEGA, C.M_PI0, 0.084)
    assert bool(jnp.all(jnp.diff(br) < 0))


def test_eps_squared_scaling_broadcasting_and_dtype():
    m = jnp.geomspace(1e-3, 2.0, 40)[:, None]
    eps = jnp.array([1e-12, 1e-6, 1.0])[None, :]
    br = br_pseudoscalar_to_gamma_aprime(m, eps, C.M_ETA, C.BR_ETA_GG)
    assert br.shape == (40, 3)
    np.testing.assert_allclose(br[:, 1], br[:, 2] * 1e-12, rtol=1e-10)
    np.testing.assert_allclose(br[:, 0], br[:, 2] * 1e-24, rtol=1e-10)
    brv = br_vector_to_pseudoscalar_aprime(m, eps, C.M_OMEGA, C.M_PI0, C.BR_OMEGA_PI0G)
    np.testing.assert_allclose(brv[:, 1], brv[:, 2] * 1e-12, rtol=1e-10)
    m32 = jnp.asarray([0.05, 0.3], dtype=jnp.float32)
    out32 = br_pseudoscalar_to_gamma_aprime(m32, jnp.float32(1e-3), C.M_ETA, C.BR_ETA_GG)
    assert out32.dtype == jnp.float32
    np.testing.assert_allclose(
        np.asarray(out32, np.float64),
        np.asarray(br_pseudoscalar_to_gamma_aprime(jnp.asarray([0.05, 0.3]), 1e-3, C.M_ETA, C.BR_ETA_GG)),
        rtol=1e-5,
    )
    assert br_vector_to_pseudoscalar_aprime(m32, 1e-3, C.M_OMEGA, C.M_PI0, 0.084).dtype == jnp.float32


def test_gradients_finite_and_correct():
    m = jnp.geomspace(1e-3, 2.0, 200)
    for f in (
        lambda x: br_pseudoscalar_to_gamma_aprime(x, 1e-3, C.M_ETA, C.BR_ETA_GG),
        lambda x: br_vector_to_pseudoscalar_aprime(x, 1e-3, C.M_OMEGA, C.M_PI0, 0.084),
    ):
        g = jax.jit(jax.vmap(jax.grad(f)))(m)
        assert bool(jnp.all(jnp.isfinite(g)))
    check_grads(
        lambda x, e: br_pseudoscalar_to_gamma_aprime(x, e, C.M_ETA, C.BR_ETA_GG) * 1e6,
        (0.3, 1e-3), order=1, modes=("fwd", "rev"), eps=1e-6, atol=1e-6, rtol=1e-5,
    )
    check_grads(
        lambda x, e: br_vector_to_pseudoscalar_aprime(x, e, C.M_OMEGA, C.M_PI0, 0.084) * 1e6,
        (0.4, 1e-3), order=1, modes=("fwd", "rev"), eps=1e-6, atol=1e-6, rtol=1e-5,
    )
