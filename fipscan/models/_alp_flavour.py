"""Loop-induced flavour-changing ALP couplings and the meson decays B -> K(*) a, B_s -> phi a, K -> pi a.

Shared by the BC10 ALP with Yukawa-like fermion couplings (fipscan.models.alp_fermion) and the BC11
gluon-coupled ALP.  Pure JAX functions of arrays (broadcasting over (m, g), differentiable, keeping the
dtype of their inputs).  Units: masses in GeV, couplings g_bs, g_sd and 1/f_G in GeV^-1.

The flavour-changing operator
-----------------------------
Below the weak scale an ALP whose couplings are flavour-diagonal at the UV scale Lambda acquires, at
one loop through the top Yukawa coupling and the W, the left-handed flavour-changing coupling

    L  ⊃  g_ij (d_mu a) dbar_Li gamma^mu d_Lj + h.c.,   g_ij = [k_D]_ij / Lambda_BNT   [GeV^-1]

(Bauer, Neubert, Renner, Schnubel, Thamm, "The low-energy effective theory of axions and ALPs",
arXiv:2012.12272, sec. 6 (flavour-changing couplings at the weak scale), and "Flavor probes of
axion-like particles", arXiv:2110.10698, sec. 2; the same one-loop structure for an ALP (a Yukawa-like
pseudoscalar) as Batell, Pospelov, Ritz arXiv:0911.4938, Freytsis, Ligeti, Thaler arXiv:0911.5355 and
Dolan, Kahlhoefer, McCabe, Schmidt-Hoberg arXiv:1412.5174 sec. 2).  The right-handed coupling [k_d]_ij
is suppressed by two down-type Yukawas and left out.  Throughout, Lambda = :data:`LAMBDA_UV` = 1 TeV,
the UV scale of the loop-induced couplings of the PBC benchmarks BC10/BC11 (PBC report Beacham et al.
arXiv:1901.09966; FIPs 2022 arXiv:2305.01715; Dolan et al. take the same scale).

* BC10 (universal Yukawa-like couplings, L = -i g_Y sum_f (m_f/v) a fbar gamma5 f, equivalently the
  derivative couplings c_ff/Lambda = g_Y/v of every fermion *without* separate gauge-boson terms: every
  basis-independent gauge coupling c~_GG, c~_WW, c~_BB of arXiv:2012.12272 vanishes): only the top
  Yukawa contributes,

      g_ij = V_ti* V_tj (y_t^2/(16 pi^2)) (g_Y/v)
             x [ (1/2) ln(Lambda^2/m_t^2) - 1/4 - (3/2)(1 - x_t + ln x_t)/(1 - x_t)^2 ],

  x_t = m_t^2/m_W^2, y_t = sqrt2 m_t/v: the leading logarithm of the Yukawa running of [k_D] from Lambda
  to m_t (d[k_D]_ij/d ln mu = -(y_t^2/(16 pi^2)) V_ti* V_tj c_tt for universal couplings) plus the
  one-loop weak-scale matching (arXiv:2012.12272 sec. 6; arXiv:1708.00443 sec. 6 (Bauer, Neubert, Thamm)).
  The running of c_tt itself (a few per cent) and the charm loop are left out.
  For m_t the MSbar m_t(m_t) of fipscan.models.dark_scalar, the B-physics convention also used there.
  Numbers: |g_bs| = 1.70e-6 g_Y GeV^-1, |g_sd| = 1.46e-8 g_Y GeV^-1 (:func:`g_bs_bc10`, :func:`g_sd_bc10`).
* BC11 (L ⊃ (alpha_s/(8 pi)) (a/f_G) G G~, the normalisation stated for fipscan.models._alp_hadronic;
  in arXiv:2012.12272's normalisation c_GG (alpha_s/(4 pi)) (a/f) G G~ this is c_GG/f = 1/(2 f_G)):
  the gluon coupling feeds c_tt at two loops, dc_tt/d ln mu = 32 (alpha_s/(4 pi))^2 c~_GG
  (arXiv:2012.12272 sec. 3, the O(alpha_s^2) mixing of c_GG into the quark couplings), and c_tt feeds
  [k_D] as above: a two-loop, doubly logarithmic effect.  With one-loop alpha_s (alpha_s(m_Z) = 0.1180)
  between m_t and Lambda:
      c_tt(mu) = -(4/(pi beta0)) (alpha_s(mu) - alpha_s(Lambda)) c~_GG,   beta0 = 7,
      [k_D]_ij = V_ti* V_tj (y_t^2/(16 pi^2)) [ int_{m_t}^{Lambda} c_tt d ln mu + c_tt(m_t) (-1/4 - (3/2) F(x_t)) ].
  |g_bs| = 3.5e-7 (1/f_G) and |g_sd| = 3.0e-9 (1/f_G): BR(B+ -> K+ a) = 0.024 (f_G^-1 / GeV^-1)^2
  and, from this loop term alone, BR(K+ -> pi+ a) = 7.6e-5 (f_G^-1 / GeV^-1)^2 at m -> 0.  For K -> pi a
  the long-distance amplitude of the weak chiral Lagrangian dominates (next section): BC11's
  BR(K+ -> pi+ a) = 0.111 (f_G^-1 / GeV^-1)^2 at m -> 0 (:func:`br_k_to_pi_alp_bc11`), i.e. 1.1e-9 at
  1/f_G = 1e-4 GeV^-1 (B+ -> K+ a: 2.4e-10): still negligible against the BC11 production by meson mixing
  at a beam dump, but the channel of the kaon mode (NA62's K+ -> pi+ a, a -> gamma gamma).
  The complete two-loop matching at the weak scale (Chakraborty, Kraus, Loladze, Okui, Tobioka
  arXiv:2102.04474) is not included; it is of the same order.

K -> pi a of a gluon-coupled ALP in the weak chiral Lagrangian (BC11)
---------------------------------------------------------------------
The gluon coupling enters the Delta S = 1 octet operator G_8 F^4 <lambda D_mu U^+ D^mu U> (|G_8| =
g_8 G_F |V_ud V_us|/sqrt2, g_8 = :data:`G8_OCTET`, F = f_pi/sqrt2) once the G G~ term is removed by the
chiral rotation q -> exp(i gamma5 kappa_q c_GG a/f) q (Tr kappa = 1): through the ALP in the quark mass
matrix, the ALP's axial currents in the covariant derivatives of the weak operator, the phase
exp(i (kappa_d - kappa_s) c_GG a/f) the rotation puts on the four-quark operator, and the a-pi0, a-eta8
mixing feeding the weak K pi pi0 / K pi eta8 vertices (Bauer, Neubert, Renner, Schnubel, Thamm, "Consistent
treatment of axions in the weak chiral Lagrangian", PRL 127 (2021) 081803, arXiv:2102.13112, their K- -> pi- a
amplitude at leading order; arXiv:2110.10698 sec. on K -> pi a).  The c_GG term:

    |A(K- -> pi- a)| = 8 |G_8| F^2 (c_GG/f) (m_K^2 - m_pi^2)(m_K^2 - m_a^2) / (4 m_K^2 - m_pi^2 - 3 m_a^2)
                     = 2 |G_8| f_pi^2 (m_K^2 - m_pi^2)(m_K^2 - m_a^2) / ((4 m_K^2 - m_pi^2 - 3 m_a^2) f_G),

i.e. |N_8| 16 c_GG (...)/(4 f) with N_8 = -(G_F/sqrt2) V_ud* V_us g_8 f_pi^2 (f_pi = 130 MeV), the form in which
the amplitude of arXiv:2102.13112 is transcribed in the ALPaca package (its equation number could not be
checked here: the paper text was not retrievable).  Re-derived for fipscan at leading order in SU(3) ChPT with
the rotation above: the result is independent of kappa, as it must be, and equal to the above (including the
factor 16/4 and the normalisation of N_8); the denominator is 3 (m_eta8^2 - m_a^2) with the Gell-Mann-Okubo
eta8 mass.  Gamma = |A|^2 lambda^1/2(m_K^2, m_pi^2, m_a^2) / (16 pi m_K^3).  Kept: only the c_GG term (BC11 has
no tree-level quark couplings at Lambda; the loop-induced ones are the s -> d term above; the loop-induced
flavour-diagonal c_qq, ~1e-3 c_GG, are left out).  Not included: NLO chiral corrections and the "weak mass
term" (Cornella, Galda, Neubert, Wyler arXiv:2308.16903), isospin breaking, the 27-plet (g_27/g_8 ~ 0.05).
The normalisation g_8 is the main uncertainty: 3.61 (NLO K -> pi pi fit) against ~5.1 at LO, a factor 2 in BR.
Numbers (1/f_G in GeV^-1): BR(K+ -> pi+ a) / (1/f_G)^2 = 0.111, 0.103, 0.0795, 0.0402 at m = 0.01, 0.1, 0.2,
0.3 GeV (loop term alone: 7.6e-5, 7.3e-5, 6.3e-5, 4.0e-5).
Combination (:func:`br_k_to_pi_alp_bc11`): the two rates are added.  The loop amplitude is 2.6% (m -> 0) to
3.5% (m = 0.35 GeV) of the chiral one, so their interference could move the K+ rate by at most +-5-7%
(2 x the amplitude ratio x |cos| of the relative phase of V_ts* V_td and V_ud* V_us g_8, |cos| ~ 0.92); it is
left out because neither the sign nor the size of the loop term is known to better than O(1) (the missing
two-loop matching above), and it lies well inside the g_8 uncertainty.
K_L -> pi0 a: pi0 a (s wave) is CP-even, so the CP-conserving octet amplitude reaches K_L only through its
CP-even admixture eps_K: |A(K_L -> pi0 a)| = |eps_K| |A|_(K0, pi0 masses) (|A(K_L)| = sqrt2 |eps_K| |A(K0bar)|
and |A(K0bar -> pi0 a)| = |A(K- -> pi- a)|/sqrt2; arXiv:2110.10698): BR = 2.4e-6 (1/f_G)^2 at m -> 0, against
4.9e-5 (1/f_G)^2 from the direct CP violation of the loop term (Im lambda_t).  Both are added (their
interference, up to +-44% of the K_L rate, is left out for the reason above); the direct CP violation of the
octet amplitude itself (Im g_8, of order eps'/eps) is negligible.

Hadronic matrix elements (q = p_P - p_P', the ALP momentum)
-----------------------------------------------------------
Only the vector half of dbar gamma^mu (1 - gamma5) d/2 connects two pseudoscalars, the axial half a
pseudoscalar and a vector meson (a pure pseudoscalar density dbar gamma5 d gives no B -> K a, by parity):
    q_mu <K| sbar gamma^mu b |B> = (m_B^2 - m_K^2) f0(q^2),
    q_mu <K*| sbar gamma^mu gamma5 b |B> = 2 m_K* (eps*.q) A0(q^2),
so that (arXiv:2110.10698 sec. 3, the B -> K a and B -> K* a widths; Izaguirre, Lin, Shuve arXiv:1611.09355)
    Gamma(P -> P' a) = |g|^2 (m_P^2 - m_P'^2)^2 f0(m^2)^2 lambda^1/2(m_P^2, m_P'^2, m^2) / (64 pi m_P^3),
    Gamma(P -> V a)  = |g|^2 A0(m^2)^2 lambda^3/2(m_P^2, m_V^2, m^2) / (64 pi m_P^3).
The form factors (f0 of B -> K, Ball & Zwicky hep-ph/0406232; A0 of B -> K*, B_s -> phi, hep-ph/0412079;
f0 of K -> pi, FLAG 2021 and the PDG K_l3 slope), masses, lifetimes and |V_ts|, |V_tb|, |V_td| are those
of fipscan.models.dark_scalar (imported, not copied).
K_L -> pi0 a: the ALP is CP-odd, pi0 a in an s wave is CP-even, so the decay of the (nearly CP-odd) K_L is
CP-violating and takes Im(V_ts* V_td) (as K_L -> pi0 nu nubar; dark_scalar's module docstring for the
CP-even case): Gamma(K_L -> pi0 a) = Gamma(K+ -> pi+ a)|_(K0, pi0 masses) x (Im lambda_t / |lambda_t|)^2,
lambda_t = V_ts* V_td (the isospin 1/sqrt2 of K0 -> pi0 and the sqrt2 of K_L cancel).
For BC10 the long-distance K -> pi a amplitude of the weak chiral Lagrangian (arXiv:2110.10698 sec. 3;
Cornella, Galda, Neubert, Wyler arXiv:2308.16903) is left out: for universal couplings it is ~6% of the
top-loop amplitude (our estimate with g_8 = 3.6).  For BC11 it is the dominant term and is included (above).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp

from fipscan import constants as C
from fipscan.kernels.kinematics import two_body_momentum
from fipscan.kernels.numerics import float_dtype
from fipscan.models import _alp_hadronic as H
from fipscan.models import dark_scalar as ds

__all__ = [
    "LAMBDA_UV", "ALPHA_S_MZ", "IM_VTS_VTD", "KL_CP_FRACTION",
    "top_loop_bracket", "bc11_loop_integral",
    "g_bs_bc10", "g_sd_bc10", "g_bs_bc11", "g_sd_bc11",
    "br_meson_to_pseudoscalar_alp", "br_meson_to_vector_alp",
    "br_b_to_k_alp", "br_b_to_kstar_alp", "br_bs_to_phi_alp", "br_k_to_pi_alp",
    "G8_OCTET", "V_UD", "V_US", "EPS_K", "amp_k_to_pi_alp_chiral", "br_kplus_to_piplus_alp_chiral",
    "br_klong_to_pi0_alp_chiral", "br_k_to_pi_alp_bc11", "BC11_KAON_BRS",
    "FLAVOUR_CHANNEL_NAMES", "flavour_channels",
]

#: UV scale Lambda [GeV] at which the ALP couplings are flavour-diagonal (PBC BC10/BC11; module docstring)
LAMBDA_UV = 1000.0
#: alpha_s(m_Z) (PDG 2024 QCD review) and m_Z [GeV] (PDG 2024), for the one-loop alpha_s of the BC11 running
ALPHA_S_MZ = 0.1180
M_Z = 91.1876
#: Im(V_ts* V_td) = A^2 lambda^5 eta_bar (PDG 2024 CKM fit: A 0.826, lambda 0.22501, eta_bar 0.3523); the
#: real part is dark_scalar.RE_VTS_VTD (same fit)
IM_VTS_VTD = 0.826**2 * 0.22501**5 * 0.3523
#: (Im lambda_t / |lambda_t|)^2: the fraction of |g_sd|^2 that drives the CP-violating K_L -> pi0 a
KL_CP_FRACTION = IM_VTS_VTD**2 / (IM_VTS_VTD**2 + ds.RE_VTS_VTD**2)
#: |g_8|, the octet coupling of the weak chiral Lagrangian G_8 F^4 <lambda D U^+ D U>, G_8 = -(G_F/sqrt2) V_ud V_us* g_8
#: (Cirigliano, Ecker, Neufeld, Pich, Portoles, Rev. Mod. Phys. 84 (2012) 399, arXiv:1107.6001: K -> pi pi at NLO;
#: a leading-order fit gives ~5.1); the value of the ALPaca transcription of arXiv:2102.13112
G8_OCTET = 3.61
#: |V_ud|, |V_us| (PDG 2024 CKM review: superallowed beta decays; K_l3)
V_UD, V_US = 0.97373, 0.2243
#: |eps_K| (PDG 2024), the CP-even admixture of K_L
EPS_K = 2.228e-3
#: 2 |G_8| f_pi^2 = 4 |G_8| F^2 [dimensionless]: |A(K -> pi a)| = _CHIRAL_NORM X(m^2) / f_G (amp_k_to_pi_alp_chiral)
_CHIRAL_NORM = 4.0 * G8_OCTET * C.G_F * V_UD * V_US / math.sqrt(2.0) * H.F_PI**2


def _as_arrays(m, g):
    dtype = float_dtype(m, g)
    return jnp.asarray(m, dtype), jnp.asarray(g, dtype)


def top_loop_bracket(lam=LAMBDA_UV, m_t=ds.M_T_MSBAR, m_w=ds.M_W) -> float:
    """[ (1/2) ln(Lambda^2/m_t^2) - 1/4 - (3/2)(1 - x_t + ln x_t)/(1 - x_t)^2 ], x_t = m_t^2/m_W^2 [dimensionless]:
    the top-loop factor of the BC10 flavour-changing coupling (module docstring; arXiv:2012.12272 sec. 6).
    1.831 for Lambda = 1 TeV and m_t(m_t) = 162.5 GeV."""
    x = m_t**2 / m_w**2
    return 0.5 * math.log(lam**2 / m_t**2) - 0.25 - 1.5 * (1.0 - x + math.log(x)) / (1.0 - x) ** 2


def _yt2_over_16pi2(m_t=ds.M_T_MSBAR) -> float:
    """y_t^2/(16 pi^2) with y_t = sqrt2 m_t/v."""
    return 2.0 * m_t**2 / C.V_HIGGS**2 / (16.0 * C.PI**2)


def _alpha_s_one_loop(mu, mu0, a0, n_f) -> float:
    """One-loop alpha_s(mu) from alpha_s(mu0) = a0 with n_f flavours: 1/a = 1/a0 + beta0 ln(mu/mu0)/(2 pi)."""
    beta0 = 11.0 - 2.0 * n_f / 3.0
    return 1.0 / (1.0 / a0 + beta0 * math.log(mu / mu0) / (2.0 * C.PI))


def bc11_loop_integral(lam=LAMBDA_UV, m_t=ds.M_T_MSBAR, m_w=ds.M_W) -> float:
    """J = int_{m_t}^{Lambda} c_tt(mu)/c~_GG d ln mu + c_tt(m_t)/c~_GG (-1/4 - (3/2) F(x_t)) [dimensionless], with
    c_tt(mu)/c~_GG = -(4/(pi beta0)) (alpha_s(mu) - alpha_s(Lambda)), beta0 = 7 (six flavours), one-loop
    alpha_s from alpha_s(m_Z) (five flavours up to the top pole mass).  The BC11 two-loop factor (module
    docstring; arXiv:2012.12272 secs. 3 and 6).  -3.08e-3 at Lambda = 1 TeV."""
    beta0 = 7.0
    a_t = _alpha_s_one_loop(ds.M_T_POLE, M_Z, ALPHA_S_MZ, 5)
    a_mt = _alpha_s_one_loop(m_t, ds.M_T_POLE, a_t, 6)
    a_lam = _alpha_s_one_loop(lam, ds.M_T_POLE, a_t, 6)
    log_lm = math.log(lam / m_t)
    # int_{ln m_t}^{ln Lambda} alpha_s d ln mu = (2 pi/beta0) ln(alpha_s(m_t)/alpha_s(Lambda))
    integral = -(4.0 / (C.PI * beta0)) * ((2.0 * C.PI / beta0) * math.log(a_mt / a_lam) - a_lam * log_lm)
    c_tt_mt = -(4.0 / (C.PI * beta0)) * (a_mt - a_lam)
    x = m_t**2 / m_w**2
    return integral + c_tt_mt * (-0.25 - 1.5 * (1.0 - x + math.log(x)) / (1.0 - x) ** 2)


#: |g_ij| / g_Y [GeV^-1] of BC10 for b -> s and s -> d (module docstring)
_BC10_FACTOR = _yt2_over_16pi2() * top_loop_bracket() / C.V_HIGGS
#: |g_ij| / (1/f_G) [dimensionless] of BC11: c~_GG/f = 1/(2 f_G) (module docstring)
_BC11_FACTOR = _yt2_over_16pi2() * abs(bc11_loop_integral()) * 0.5


def g_bs_bc10(g_y):
    """|g_bs| [GeV^-1] of BC10 at Lambda = 1 TeV: |V_ts V_tb| y_t^2/(16 pi^2) (g_Y/v) x :func:`top_loop_bracket`
    (module docstring; arXiv:2012.12272 sec. 6; Dolan et al. arXiv:1412.5174 sec. 2).  1.70e-6 g_Y."""
    return ds.V_TS * ds.V_TB * _BC10_FACTOR * jnp.asarray(g_y)


def g_sd_bc10(g_y):
    """|g_sd| [GeV^-1] of BC10: as :func:`g_bs_bc10` with |V_ts* V_td|.  1.46e-8 g_Y."""
    return ds.V_TS * ds.V_TD * _BC10_FACTOR * jnp.asarray(g_y)


def g_bs_bc11(inv_fg):
    """|g_bs| [GeV^-1] of BC11 (1/f_G [GeV^-1] of L ⊃ (alpha_s/(8 pi)) (a/f_G) G G~): two loops, the double
    logarithm of :func:`bc11_loop_integral` (module docstring; arXiv:2012.12272).  3.5e-7 / f_G: negligible
    (module docstring)."""
    return ds.V_TS * ds.V_TB * _BC11_FACTOR * jnp.asarray(inv_fg)


def g_sd_bc11(inv_fg):
    """|g_sd| [GeV^-1] of BC11: as :func:`g_bs_bc11` with |V_ts* V_td|.  3.0e-9 / f_G."""
    return ds.V_TS * ds.V_TD * _BC11_FACTOR * jnp.asarray(inv_fg)


def _sqrt_kallen(m, m_parent, m_daughter):
    """(lambda^1/2(m_P^2, m_D^2, m^2) = 2 m_P p* [GeV^2], open): 0 where the decay is closed (the guarded
    two-body momentum of fipscan.kernels.kinematics)."""
    p_star = two_body_momentum(m_parent, m_daughter, m)
    return 2.0 * m_parent * p_star, p_star > 0


def br_meson_to_pseudoscalar_alp(m, g, m_parent, m_daughter, tau_parent, f0):
    """BR(P -> P' a) = tau_P/hbar x |g|^2 (m_P^2 - m_P'^2)^2 f0(m^2)^2 lambda^1/2 / (64 pi m_P^3); 0 above
    m_P - m_P'.  g [GeV^-1]: the coupling of (d a) qbar'_L gamma q_L (module docstring; arXiv:2110.10698
    sec. 3).  m [GeV]; masses [GeV]; tau_parent [s]; f0: callable q^2 -> f0."""
    m, g = _as_arrays(m, g)
    sqrt_lam, open_ = _sqrt_kallen(m, m_parent, m_daughter)
    q2 = jnp.where(open_, m * m, 0.0)  # the form factor only where the decay is open (its pole lies beyond)
    width = g * g * (m_parent**2 - m_daughter**2) ** 2 * f0(q2) ** 2 * sqrt_lam / (64.0 * C.PI * m_parent**3)
    return width * tau_parent / C.HBAR


def br_meson_to_vector_alp(m, g, m_parent, m_vector, tau_parent, a0):
    """BR(P -> V a) = tau_P/hbar x |g|^2 A0(m^2)^2 lambda^3/2 / (64 pi m_P^3); 0 above m_P - m_V (module
    docstring: the axial half of the current, summed over the vector's polarisations; arXiv:2110.10698
    sec. 3).  a0: callable q^2 -> A0."""
    m, g = _as_arrays(m, g)
    sqrt_lam, open_ = _sqrt_kallen(m, m_parent, m_vector)
    q2 = jnp.where(open_, m * m, 0.0)
    width = g * g * a0(q2) ** 2 * sqrt_lam**3 / (64.0 * C.PI * m_parent**3)
    return width * tau_parent / C.HBAR


def br_b_to_k_alp(m, g_bs, charged=True):
    """BR(B+ -> K+ a) (charged) or BR(B0 -> K0 a) at ALP mass m [GeV], coupling g_bs [GeV^-1]
    (f0 of Ball & Zwicky; :func:`br_meson_to_pseudoscalar_alp`).  BR(B+ -> K+ a) -> 1.93e5 g_bs^2 GeV^2 as m -> 0."""
    mb, mk, tau = (ds.M_BPLUS, C.M_K, ds.TAU_BPLUS) if charged else (ds.M_B0, C.M_K0, ds.TAU_B0)
    return br_meson_to_pseudoscalar_alp(m, g_bs, mb, mk, tau, ds._f0_bk)


def br_b_to_kstar_alp(m, g_bs, charged=True):
    """BR(B+ -> K*+ a) (charged) or BR(B0 -> K*0 a) at mass m [GeV], g_bs [GeV^-1] (A0 of Ball & Zwicky,
    dark_scalar.A0_BKSTAR; :func:`br_meson_to_vector_alp`)."""
    mb, mv, tau = (ds.M_BPLUS, ds.M_KSTAR_PLUS, ds.TAU_BPLUS) if charged else (ds.M_B0, ds.M_KSTAR0, ds.TAU_B0)
    return br_meson_to_vector_alp(m, g_bs, mb, mv, tau, ds._a0(ds.A0_BKSTAR))


def br_bs_to_phi_alp(m, g_bs):
    """BR(B_s -> phi a) at mass m [GeV], g_bs [GeV^-1] (A0 of Ball & Zwicky, dark_scalar.A0_BSPHI)."""
    return br_meson_to_vector_alp(m, g_bs, ds.M_BS, ds.M_PHI, ds.TAU_BS, ds._a0(ds.A0_BSPHI))


def _chiral_mass_factor(m, m_kaon, m_pion):
    """(X(m^2), open): X = (m_K^2 - m_pi^2)(m_K^2 - m^2)/(4 m_K^2 - m_pi^2 - 3 m^2) [GeV^2], the mass dependence
    of the c_GG term of the weak-chiral K -> pi a amplitude (module docstring), with X = 0 where K -> pi a is
    closed.  The denominator, 3 (m_eta8^2 - m^2) with the Gell-Mann-Okubo eta8 mass (0.564 GeV), vanishes only
    beyond m_K - m_pi; m is replaced by 0 there before dividing (double-where), so values and gradients are
    finite for every m."""
    sqrt_lam, open_ = _sqrt_kallen(m, m_kaon, m_pion)
    m2 = jnp.where(open_, m * m, 0.0)
    mk2, mpi2 = m_kaon**2, m_pion**2
    x = (mk2 - mpi2) * (mk2 - m2) / (4.0 * mk2 - mpi2 - 3.0 * m2)
    return jnp.where(open_, x, 0.0), sqrt_lam


def amp_k_to_pi_alp_chiral(m, inv_fg, m_kaon=C.M_K, m_pion=C.M_PI):
    """|A(K- -> pi- a)| [GeV] of the gluon coupling through the weak octet operator at leading order in the chiral
    expansion (module docstring; Bauer, Neubert, Renner, Schnubel, Thamm arXiv:2102.13112, the c_GG term of
    their K- -> pi- a amplitude):

        A = 8 |G_8| F^2 (c_GG/f) X(m^2) = 2 |G_8| f_pi^2 X(m^2) / f_G,   |G_8| = g_8 G_F |V_ud V_us| / sqrt2,

    F = f_pi/sqrt2 = _alp_hadronic.F_PI, c_GG/f = 1/(2 f_G), X of :func:`_chiral_mass_factor`; 0 above
    m_K - m_pi.  m [GeV], inv_fg = 1/f_G [GeV^-1]; linear (and signed) in inv_fg."""
    m, g = _as_arrays(m, inv_fg)
    x, _ = _chiral_mass_factor(m, m_kaon, m_pion)
    return _CHIRAL_NORM * x * g


def br_kplus_to_piplus_alp_chiral(m, inv_fg):
    """BR(K+ -> pi+ a) of the BC11 gluon coupling through the weak chiral Lagrangian (leading order, octet):
    tau_K+/hbar x |A|^2 lambda^1/2(m_K^2, m_pi^2, m^2) / (16 pi m_K^3) with |A| of :func:`amp_k_to_pi_alp_chiral`
    (arXiv:2102.13112; module docstring).  m [GeV], inv_fg = 1/f_G [GeV^-1]; 0 above m_K - m_pi; finite with
    finite gradients everywhere (also m -> 0 and the closing point).  0.111 (f_G^-1 / GeV^-1)^2 as m -> 0."""
    m, g = _as_arrays(m, inv_fg)
    x, sqrt_lam = _chiral_mass_factor(m, C.M_K, C.M_PI)
    amp = _CHIRAL_NORM * x * g
    return amp * amp * sqrt_lam / (16.0 * C.PI * C.M_K**3) * ds.TAU_KPLUS / C.HBAR


def br_klong_to_pi0_alp_chiral(m, inv_fg):
    """BR(K_L -> pi0 a) of the BC11 gluon coupling through the weak chiral Lagrangian: only the CP-even K_1
    admixture of K_L decays to the CP-even pi0 a by the CP-conserving octet amplitude, |A(K_L -> pi0 a)| =
    |eps_K| |A(K_1 -> pi0 a)| = |eps_K| |A|_(K0, pi0 masses) (module docstring; arXiv:2110.10698), i.e.
    tau_KL/hbar x |eps_K|^2 |A|^2 lambda^1/2(m_K0^2, m_pi0^2, m^2) / (16 pi m_K0^3).  2.3e-6 (f_G^-1 / GeV^-1)^2
    as m -> 0.  m [GeV], inv_fg [GeV^-1]; 0 above m_K0 - m_pi0."""
    m, g = _as_arrays(m, inv_fg)
    x, sqrt_lam = _chiral_mass_factor(m, C.M_K0, C.M_PI0)
    amp = EPS_K * _CHIRAL_NORM * x * g
    return amp * amp * sqrt_lam / (16.0 * C.PI * C.M_K0**3) * ds.TAU_KLONG / C.HBAR


def br_k_to_pi_alp_bc11(m, inv_fg, charged=True):
    """BR(K+ -> pi+ a) (charged) or BR(K_L -> pi0 a) of BC11 [1/f_G in GeV^-1]: the weak-chiral (long-distance)
    rate (:func:`br_kplus_to_piplus_alp_chiral`, :func:`br_klong_to_pi0_alp_chiral`) plus the rate of the
    two-loop s -> d coupling (:func:`br_k_to_pi_alp` with :func:`g_sd_bc11`), added incoherently (module
    docstring: the loop amplitude is 2.6% of the chiral one for K+; their interference, at most +-5% of the
    K+ rate, is not included).  BR(K+ -> pi+ a) = 0.111 (f_G^-1 / GeV^-1)^2 as m -> 0."""
    loop = br_k_to_pi_alp(m, g_sd_bc11(inv_fg), charged=charged)
    chiral = br_kplus_to_piplus_alp_chiral(m, inv_fg) if charged else br_klong_to_pi0_alp_chiral(m, inv_fg)
    return chiral + loop


def br_k_to_pi_alp(m, g_sd, charged=True):
    """BR(K+ -> pi+ a) (charged) or BR(K_L -> pi0 a) at mass m [GeV]; g_sd [GeV^-1] is the modulus of the
    s -> d coupling (its phase is that of V_ts* V_td), so K_L takes the CP-violating fraction
    :data:`KL_CP_FRACTION` (module docstring).  BR(K+ -> pi+ a) -> 8.25e12 g_sd^2 GeV^2 as m -> 0."""
    if charged:
        return br_meson_to_pseudoscalar_alp(m, g_sd, C.M_K, C.M_PI, ds.TAU_KPLUS, ds._f0_kpi)
    return KL_CP_FRACTION * br_meson_to_pseudoscalar_alp(m, g_sd, C.M_K0, C.M_PI0, ds.TAU_KLONG, ds._f0_kpi)


#: the names of :func:`flavour_channels`, in their order
FLAVOUR_CHANNEL_NAMES = ("bplus->kplus", "b0->k0", "bplus->kstarplus", "b0->kstar0", "bs->phi", "kplus->piplus",
                         "klong->pi0")


@dataclass(frozen=True)
class _FlavourBR:
    """BR(parent -> daughter a)(m, g) of one channel at the coupling g of a model whose loop-induced
    b -> s or s -> d coupling is ``coupling(g)`` [GeV^-1] (hashable, picklable: a production declaration's br)."""

    channel: str
    coupling: Callable

    def __call__(self, m, g):
        c = self.coupling(g)
        if self.channel in ("bplus->kplus", "b0->k0"):
            return br_b_to_k_alp(m, c, charged=self.channel == "bplus->kplus")
        if self.channel in ("bplus->kstarplus", "b0->kstar0"):
            return br_b_to_kstar_alp(m, c, charged=self.channel == "bplus->kstarplus")
        if self.channel == "bs->phi":
            return br_bs_to_phi_alp(m, c)
        return br_k_to_pi_alp(m, c, charged=self.channel == "kplus->piplus")


@dataclass(frozen=True)
class _BC11KaonBR:
    """BR(K+ -> pi+ a) (charged) or BR(K_L -> pi0 a) of BC11 at (m, 1/f_G): :func:`br_k_to_pi_alp_bc11`
    (hashable, picklable: a production declaration's br)."""

    charged: bool

    def __call__(self, m, g):
        return br_k_to_pi_alp_bc11(m, g, charged=self.charged)


#: the BC11 K -> pi a rates (weak-chiral + two-loop s -> d), for flavour_channels(..., kaon_brs=BC11_KAON_BRS)
BC11_KAON_BRS = {"kplus->piplus": _BC11KaonBR(True), "klong->pi0": _BC11KaonBR(False)}


def flavour_channels(g_bs, g_sd, kaon_weight, kaon_brs=None) -> dict:
    """{name: fipscan.production.channels.MesonDecay} of B+ -> K+ a, B0 -> K0 a, B+ -> K*+ a, B0 -> K*0 a,
    B_s -> phi a (through ``g_bs(g)`` [GeV^-1]) and K+ -> pi+ a, K_L -> pi0 a (through ``g_sd(g)``) for a
    model of coupling g; ``kaon_weight(m_kaon, tau_kaon)`` -> the parent_weight(p) of the dump's kaons
    (the fraction that decays before interacting: dark_scalar.kaon_decay_fraction).  ``kaon_brs``:
    optional {"kplus->piplus" / "klong->pi0": br(m, g)} replacing the loop-only rate of those channels
    (BC11: :data:`BC11_KAON_BRS`, which adds the weak-chiral amplitude)."""
    from fipscan.production.channels import MesonDecay

    decl = {
        "bplus->kplus": ("bplus", "kplus", ds.M_BPLUS, C.M_K, g_bs, None),
        "b0->k0": ("b0", "k0", ds.M_B0, C.M_K0, g_bs, None),
        "bplus->kstarplus": ("bplus", "kstarplus", ds.M_BPLUS, ds.M_KSTAR_PLUS, g_bs, None),
        "b0->kstar0": ("b0", "kstar0", ds.M_B0, ds.M_KSTAR0, g_bs, None),
        "bs->phi": ("bs", "phi", ds.M_BS, ds.M_PHI, g_bs, None),
        "kplus->piplus": ("kplus", "piplus", C.M_K, C.M_PI, g_sd, kaon_weight(C.M_K, ds.TAU_KPLUS)),
        "klong->pi0": ("klong", "pi0", C.M_K0, C.M_PI0, g_sd, kaon_weight(C.M_K0, ds.TAU_KLONG)),
    }
    brs = dict(kaon_brs or {})
    unknown = set(brs) - {"kplus->piplus", "klong->pi0"}
    if unknown:
        raise ValueError(f"kaon_brs names {sorted(unknown)}: only 'kplus->piplus' and 'klong->pi0' can be replaced")
    return {name: MesonDecay(parent, daughter, mp, md, brs.get(name, _FlavourBR(name, coupling)), parent_weight=weight)
            for name, (parent, daughter, mp, md, coupling, weight) in decl.items()}
