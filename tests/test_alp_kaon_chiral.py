"""K -> pi a of the BC11 gluon-coupled ALP through the weak chiral Lagrangian (fipscan.models._alp_flavour)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan.models import _alp_flavour as fl

# inputs typed here (PDG 2024 unless stated), not imported from the code under test
HBAR = 6.582119569e-25  # GeV s
G_F = 1.1663788e-5  # GeV^-2
V_UD, V_US = 0.97373, 0.2243
G8 = 3.61  # |g_8|, Cirigliano et al. RMP 84 (2012) 399 (the value of the ALPaca transcription of arXiv:2102.13112)
F_PI = 0.0921  # F = f_pi/sqrt2, f_pi = 130.2 MeV
M_K, M_PI, TAU_K = 0.493677, 0.13957039, 1.2380e-8
M_K0, M_PI0, TAU_KL = 0.497611, 0.1349768, 5.116e-8
EPS_K = 2.228e-3


def _br_chiral(m, mk=M_K, mpi=M_PI, tau=TAU_K, eps=1.0):
    """BR per (1/f_G / GeV^-1)^2 from arXiv:2102.13112's c_GG term written as |N_8| 16 c_GG X / (4 f):
    N_8 = (G_F/sqrt2) |V_ud V_us| g_8 f_pi^2 with f_pi = sqrt2 F = 130 MeV, X = (m_K^2 - m_pi^2)(m_K^2 - m^2) /
    (4 m_K^2 - m_pi^2 - 3 m^2).  Normalisation conversion: the paper's c_GG (alpha_s/(4 pi)) (a/f) G G~ equals
    BC11's (alpha_s/(8 pi)) (a/f_G) G G~ for c_GG/f = 1/(2 f_G).  Gamma = |A|^2 lambda^1/2 / (16 pi m_K^3)."""
    m = np.asarray(m, float)
    n8 = G_F / math.sqrt(2) * V_UD * V_US * G8 * 2 * F_PI**2
    x = (mk**2 - mpi**2) * (mk**2 - m**2) / (4 * mk**2 - mpi**2 - 3 * m**2)
    amp = eps * n8 * 16 * x / 4 * 0.5  # c_GG/f = 1/(2 f_G) at 1/f_G = 1 GeV^-1
    lam = (mk**2 - (mpi + m) ** 2) * (mk**2 - (mpi - m) ** 2)
    width = amp**2 * np.sqrt(np.clip(lam, 0, None)) / (16 * math.pi * mk**3)
    return np.where(m < mk - mpi, width * tau / HBAR, 0.0)


def test_zero_mass_limit_and_conversion():
    # m -> 0: BR(K+ -> pi+ a) = 0.111 (1/f_G / GeV^-1)^2; in the papers' normalisation (c_GG/f = 1/(2 f_G))
    # this is BR = 4.4e-7 c_GG^2 (TeV/f)^2 (1/f_G = 2e-3 GeV^-1 for c_GG = 1, f = 1 TeV)
    br0 = float(fl.br_kplus_to_piplus_alp_chiral(1e-6, 1.0))
    assert br0 == pytest.approx(float(_br_chiral(1e-6)), rel=1e-6)
    assert br0 == pytest.approx(0.111, rel=5e-3)
    assert float(fl.br_kplus_to_piplus_alp_chiral(1e-6, 2e-3)) == pytest.approx(4.44e-7, rel=5e-3)
    # the old loop-only number of the module docstring, now ~1500x smaller than the chiral rate
    loop = float(fl.br_k_to_pi_alp(1e-6, fl.g_sd_bc11(1.0)))
    assert loop == pytest.approx(7.6e-5, rel=5e-3)
    assert 1e3 < br0 / loop < 2e3


@pytest.mark.parametrize("m, expected", [(0.01, 0.1110), (0.1, 0.1031), (0.2, 0.0795), (0.3, 0.0402)])
def test_mass_dependence(m, expected):
    br = float(fl.br_kplus_to_piplus_alp_chiral(m, 1.0))
    assert br == pytest.approx(float(_br_chiral(m)), rel=1e-6)  # the closed form
    assert br == pytest.approx(expected, rel=3e-3)  # the numbers quoted in the module docstring


def test_amplitude_is_linear_and_signed_in_the_coupling():
    a1 = fl.amp_k_to_pi_alp_chiral(jnp.array([0.0, 0.2]), 1.0)
    a2 = fl.amp_k_to_pi_alp_chiral(jnp.array([0.0, 0.2]), -3e-4)
    np.testing.assert_allclose(np.asarray(a2), -3e-4 * np.asarray(a1), rtol=1e-14)
    # |A| at m = 0: 2 |G_8| f_pi^2 m_K^2 (m_K^2 - m_pi^2) / (4 m_K^2 - m_pi^2) = 1.26e-8 GeV per GeV^-1
    assert float(a1[0]) == pytest.approx(1.26e-8, rel=5e-3)


def test_zero_above_threshold_no_nan_and_g_squared_scaling():
    thr = M_K - M_PI
    m = jnp.concatenate([jnp.linspace(0.0, 0.6, 601), jnp.array([thr, 0.5643, 3.0])])  # incl. the GMO eta8 pole
    br = np.asarray(fl.br_kplus_to_piplus_alp_chiral(m, 1e-3))
    assert np.all(np.isfinite(br)) and np.all(br >= 0)
    assert np.all(br[np.asarray(m) >= thr] == 0) and np.all(br[np.asarray(m) < thr - 1e-3] > 0)
    np.testing.assert_allclose(np.asarray(fl.br_kplus_to_piplus_alp_chiral(m, 2e-3)), 4 * br, rtol=1e-12)
    brl = np.asarray(fl.br_klong_to_pi0_alp_chiral(m, 1e-3))
    assert np.all(np.isfinite(brl)) and np.all(brl[np.asarray(m) >= M_K0 - M_PI0] == 0)
    # the BR falls with m (X and the phase space both fall)
    inside = br[np.asarray(m) < thr][:-1]
    assert np.all(np.diff(inside[: 350]) < 0)


def test_gradients_finite_everywhere():
    grad = jax.vmap(jax.grad(fl.br_kplus_to_piplus_alp_chiral, argnums=(0, 1)))
    m = jnp.array([0.0, 1e-6, 0.2, M_K - M_PI, 0.5643, 1.0])
    gm, gg = grad(m, jnp.full_like(m, 1e-3))
    assert np.all(np.isfinite(np.asarray(gm))) and np.all(np.isfinite(np.asarray(gg)))
    assert float(gm[2]) < 0 and float(gg[2]) > 0
    gl = jax.vmap(jax.grad(lambda mm: fl.br_k_to_pi_alp_bc11(mm, 1e-3, charged=False)))(m)
    assert np.all(np.isfinite(np.asarray(gl)))
    check_grads(lambda mm, g: fl.br_kplus_to_piplus_alp_chiral(mm, 1e-3 * g), (jnp.array(0.25), jnp.array(1.0)),
                order=1, modes=("fwd", "rev"))


def test_float32_and_float64_and_jit():
    m32, g32 = jnp.float32(0.2), jnp.float32(1e-3)
    b32 = fl.br_kplus_to_piplus_alp_chiral(m32, g32)
    assert b32.dtype == jnp.float32
    assert fl.br_k_to_pi_alp_bc11(m32, g32).dtype == jnp.float32
    assert fl.br_klong_to_pi0_alp_chiral(m32, g32).dtype == jnp.float32
    b64 = fl.br_kplus_to_piplus_alp_chiral(0.2, 1e-3)
    assert b64.dtype == jnp.float64
    assert float(b32) == pytest.approx(float(b64), rel=1e-5)
    f = jax.jit(fl.br_k_to_pi_alp_bc11)
    f(jnp.array([0.1, 0.2]), 1e-3)
    f(jnp.array([0.15, 0.25]), 2e-3)
    assert f._cache_size() == 1


def test_klong_eps_k_term_and_combination():
    # K_L: only the CP-even admixture eps_K of the CP-conserving octet amplitude, K0 and pi0 masses
    for m in (1e-6, 0.2):
        assert float(fl.br_klong_to_pi0_alp_chiral(m, 1.0)) == pytest.approx(
            float(_br_chiral(m, M_K0, M_PI0, TAU_KL, EPS_K)), rel=1e-6)
        for charged in (True, False):
            chiral = (fl.br_kplus_to_piplus_alp_chiral if charged else fl.br_klong_to_pi0_alp_chiral)(m, 1e-4)
            loop = fl.br_k_to_pi_alp(m, fl.g_sd_bc11(1e-4), charged=charged)
            assert float(fl.br_k_to_pi_alp_bc11(m, 1e-4, charged)) == pytest.approx(float(chiral + loop), rel=1e-12)
    assert float(fl.br_klong_to_pi0_alp_chiral(1e-6, 1.0)) == pytest.approx(2.37e-6, rel=5e-3)


def test_bc11_model_kaon_channels_use_the_combined_rate():
    from fipscan.models import get_model
    from fipscan.searches.kaon import kaon_channel

    model = get_model("alp-gluon")
    ch = kaon_channel(model)
    assert ch.name == "kplus->piplus"
    m = jnp.array([0.01, 0.1, 0.2, 0.3])
    for g in (1e-5, 1e-3):
        rate = np.asarray(ch.rate(m, g))
        np.testing.assert_allclose(rate, np.asarray(fl.br_k_to_pi_alp_bc11(m, g)), rtol=1e-12)
        np.testing.assert_allclose(rate, g**2 * (_br_chiral(m) + np.asarray(fl.br_k_to_pi_alp(m, fl.g_sd_bc11(1.0)))),
                                   rtol=1e-6)
    (kl,) = get_model("alp-gluon", production_channels=("klong->pi0",)).production()
    assert kl.name == "klong->pi0"
    np.testing.assert_allclose(np.asarray(kl.rate(m, 1e-4)), np.asarray(fl.br_k_to_pi_alp_bc11(m, 1e-4, False)),
                               rtol=1e-12)
    # BC10 keeps the loop-only rate
    (kf,) = get_model("alp-fermion", production_channels=("kplus->piplus",)).production()
    np.testing.assert_allclose(np.asarray(kf.rate(m, 1.0)), np.asarray(fl.br_k_to_pi_alp(m, fl.g_sd_bc10(1.0))),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="kaon_brs"):
        fl.flavour_channels(fl.g_bs_bc11, fl.g_sd_bc11, lambda mk, tk: None, kaon_brs={"bplus->kplus": abs})
