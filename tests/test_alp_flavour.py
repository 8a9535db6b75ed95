"""Loop-induced flavour-changing ALP couplings and B -> K(*) a, K -> pi a (fipscan.models._alp_flavour)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan.models import _alp_flavour as fl

HBAR = 6.582119569e-25  # GeV s (CODATA)
V = 246.2196  # GeV
M_T, M_W = 162.5, 80.3692  # MSbar m_t(m_t), m_W (PDG 2024)


def _bc10_coupling(ckm):
    """|g_ij| / g_Y typed from arXiv:2012.12272 sec. 6:
    y_t^2/(16 pi^2) V [ln(Lambda/m_t) - 1/4 - 3/2 (1 - x + ln x)/(1 - x)^2] / v."""
    yt2 = 2 * M_T**2 / V**2
    x = M_T**2 / M_W**2
    bracket = math.log(1000.0 / M_T) - 0.25 - 1.5 * (1 - x + math.log(x)) / (1 - x) ** 2
    return ckm * yt2 / (16 * math.pi**2) * bracket / V


def test_bc10_couplings_closed_form():
    assert float(fl.g_bs_bc10(1.0)) == pytest.approx(_bc10_coupling(0.0415 * 0.999), rel=1e-12)
    assert float(fl.g_sd_bc10(1.0)) == pytest.approx(_bc10_coupling(0.0415 * 0.0086), rel=1e-12)
    assert float(fl.g_bs_bc10(1.0)) == pytest.approx(1.70e-6, rel=5e-3)  # the number quoted in the docstring
    assert float(fl.g_bs_bc10(-3e-4)) == pytest.approx(-3e-4 * float(fl.g_bs_bc10(1.0)), rel=1e-14)


def test_b_to_k_at_zero_mass_against_the_paper_formula():
    # arXiv:2110.10698: Gamma(B -> K a) = m_B^3 |g|^2/(64 pi) f0(m^2)^2 lambda^1/2(1, r_K, r_a) (1 - r_K)^2;
    # at m -> 0, lambda^1/2 = 1 - r_K; f0(0) = 0.330 (Ball & Zwicky); PDG B+ mass and lifetime
    g = _bc10_coupling(0.0415 * 0.999)  # g_Y = 1
    for charged, mb, mk, tau in ((True, 5.27934, 0.493677, 1.638e-12), (False, 5.27966, 0.497611, 1.517e-12)):
        r = mk**2 / mb**2
        gamma = mb**3 * g**2 / (64 * math.pi) * 0.330**2 * (1 - r) ** 3
        assert float(fl.br_b_to_k_alp(1e-7, fl.g_bs_bc10(1.0), charged)) == pytest.approx(gamma * tau / HBAR, rel=1e-6)
    assert float(fl.br_b_to_k_alp(1e-7, fl.g_bs_bc10(1.0))) == pytest.approx(0.559, rel=2e-3)


def test_b_to_kstar_at_zero_mass_against_the_paper_formula():
    # Gamma(B -> K* a) = m_B^3 |g|^2/(64 pi) A0^2 lambda^3/2(1, r_V, 0), A0(0) = 0.374 (Ball & Zwicky hep-ph/0412079)
    g = 2e-6
    mb, mv, tau = 5.27934, 0.89167, 1.638e-12
    gamma = mb**3 * g**2 / (64 * math.pi) * 0.374**2 * (1 - mv**2 / mb**2) ** 3
    assert float(fl.br_b_to_kstar_alp(1e-7, g)) == pytest.approx(gamma * tau / HBAR, rel=1e-6)
    # B_s -> phi: A0(0) = r1 + r2 = 3.310 - 2.835 = 0.475 (Ball & Zwicky hep-ph/0412079 Table 8 fit)
    mbs, mphi, tau_s = 5.36692, 1.019461, 1.520e-12
    gamma = mbs**3 * g**2 / (64 * math.pi) * 0.475**2 * (1 - mphi**2 / mbs**2) ** 3
    assert float(fl.br_bs_to_phi_alp(1e-7, g)) == pytest.approx(gamma * tau_s / HBAR, rel=1e-6)


def test_k_to_pi_at_zero_mass_against_the_paper_formula():
    # Gamma(K+ -> pi+ a) = m_K^3 |g|^2/(64 pi) f0(0)^2 (1 - r_pi)^3, f0(0) = f+(0) = 0.9698 (FLAG 2021)
    g = _bc10_coupling(0.0415 * 0.0086)
    mk, mpi, tau = 0.493677, 0.13957039, 1.2380e-8
    gamma = mk**3 * g**2 / (64 * math.pi) * 0.9698**2 * (1 - mpi**2 / mk**2) ** 3
    br = float(fl.br_k_to_pi_alp(1e-7, fl.g_sd_bc10(1.0)))
    assert br == pytest.approx(gamma * tau / HBAR, rel=1e-6)
    assert br == pytest.approx(1.77e-3, rel=5e-3)
    # K_L -> pi0 a: CP-violating, (Im lambda_t/|lambda_t|)^2 of the same rate with the K0, pi0 masses
    im = 0.826**2 * 0.22501**5 * 0.3523
    frac = im**2 / (im**2 + 3.31e-4**2)
    mk0, mpi0, tau_l = 0.497611, 0.1349768, 5.116e-8
    gamma_l = mk0**3 * g**2 / (64 * math.pi) * 0.9698**2 * (1 - mpi0**2 / mk0**2) ** 3
    assert float(fl.br_k_to_pi_alp(1e-7, fl.g_sd_bc10(1.0), charged=False)) == pytest.approx(
        frac * gamma_l * tau_l / HBAR, rel=1e-6)


def test_thresholds_scaling_and_no_nan():
    m = jnp.linspace(0.0, 6.0, 601)
    for br, thr in ((fl.br_b_to_k_alp(m, 1e-6), 5.27934 - 0.493677),
                    (fl.br_b_to_kstar_alp(m, 1e-6), 5.27934 - 0.89167),
                    (fl.br_k_to_pi_alp(m, 1e-8), 0.493677 - 0.13957039),
                    (fl.br_k_to_pi_alp(m, 1e-8, charged=False), 0.497611 - 0.1349768)):
        br = np.asarray(br)
        assert np.all(np.isfinite(br)) and np.all(br >= 0)
        assert np.all(br[np.asarray(m) >= thr] == 0) and np.all(br[np.asarray(m) < thr - 0.02] > 0)
    # BR ~ g^2
    assert float(fl.br_b_to_k_alp(1.0, 2e-6)) == pytest.approx(4 * float(fl.br_b_to_k_alp(1.0, 1e-6)), rel=1e-13)


def test_bc11_is_two_loop_and_negligible():
    # independent numerical integration of dc_tt/dln mu = 32 (alpha_s/4pi)^2 c~_GG (one-loop alpha_s, six flavours)
    # from Lambda = 1 TeV down to m_t, then d[k_D]/dln mu = -(y_t^2/16pi^2) c_tt V
    def alpha_s(mu):
        a_t = 1 / (1 / 0.1180 + (23 / 3) * math.log(172.57 / 91.1876) / (2 * math.pi))
        return 1 / (1 / a_t + 7 * np.log(mu / 172.57) / (2 * math.pi))

    t = np.linspace(math.log(M_T), math.log(1000.0), 20001)
    a = alpha_s(np.exp(t))
    dct = 32 * (a / (4 * math.pi)) ** 2  # per unit c~_GG, d c_tt / d ln mu (integrated downwards)
    c_tt = -np.concatenate([np.cumsum(((dct[1:] + dct[:-1]) / 2 * np.diff(t))[::-1])[::-1], [0.0]])
    integral = float(np.sum((c_tt[1:] + c_tt[:-1]) / 2 * np.diff(t)))
    x = M_T**2 / M_W**2
    expected = integral + c_tt[0] * (-0.25 - 1.5 * (1 - x + math.log(x)) / (1 - x) ** 2)
    assert fl.bc11_loop_integral() == pytest.approx(expected, rel=1e-6)
    # c~_GG / f = 1/(2 f_G)
    g11 = 0.0415 * 0.999 * 2 * M_T**2 / V**2 / (16 * math.pi**2) * abs(expected) / 2
    assert float(fl.g_bs_bc11(1.0)) == pytest.approx(g11, rel=1e-6)
    # negligible: BR(B+ -> K+ a) < 0.03 (1/f_G / GeV^-1)^2, BR(K+ -> pi+ a) < 1e-4 (1/f_G)^2
    assert float(fl.br_b_to_k_alp(1e-7, fl.g_bs_bc11(1.0))) < 0.03
    assert float(fl.br_k_to_pi_alp(1e-7, fl.g_sd_bc11(1.0))) < 1e-4


def test_dtype_jit_and_gradients():
    f32 = fl.br_b_to_k_alp(jnp.float32(1.0), jnp.float32(1e-6))
    assert f32.dtype == jnp.float32
    assert float(f32) == pytest.approx(float(fl.br_b_to_k_alp(1.0, 1e-6)), rel=1e-5)
    assert fl.br_k_to_pi_alp(jnp.float32(0.2), jnp.float32(1e-8)).dtype == jnp.float32
    f = jax.jit(lambda m, g: fl.br_b_to_kstar_alp(m, g) + fl.br_k_to_pi_alp(m, g))
    m = jnp.array([0.1, 0.3])
    f(m, 1e-6)
    f(m + 0.01, 2e-6)
    assert f._cache_size() == 1
    check_grads(lambda m, g: fl.br_b_to_k_alp(m, 1e-6 * g), (jnp.array(1.3), jnp.array(1.0)), order=1,
                modes=("fwd", "rev"))
    check_grads(lambda m: fl.br_k_to_pi_alp(m, 1e-8, charged=False), (jnp.array(0.2),), order=1)
