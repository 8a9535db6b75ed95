"""Hadronic R-ratio R(s) = sigma(e+e- -> hadrons) / sigma_pt(e+e- -> mu+mu-) below 2 GeV, as pure JAX.

The dark photon couples to the electromagnetic current, so its hadronic width is the e+e- one with
the photon replaced:  Gamma(A' -> F) = (alpha eps^2 m / 3) R_F(m^2)  (DarkCast, Ilten, Soreq,
Williams, Xue, arXiv:1801.04847, sec. 2 (eqs. (2.17)-(2.18)): Gamma_F = Gamma_mumu R_mu^F with
R_mu^F = sigma_F / sigma_mumu; the muon phase-space factors cancel, leaving the point-like
sigma_pt = 4 pi alpha^2 / (3 s) used here).

Every function takes s [GeV^2] (any shape; dtype kept) and returns the dimensionless R of one
exclusive channel.  Description (a data-driven vector-meson-dominance model written for fipscan):

* pi+ pi-:  R = beta_pi^3 |F_pi(s)|^2 / 4 with the BaBar pion form factor fit (Lees et al.,
  Phys. Rev. D 86 (2012) 032013, sec. VIII, "VDM fit"): Gounaris-Sakurai (Phys. Rev. Lett. 21
  (1968) 244) rho(770), rho(1450), rho(1700), rho(2150) and the omega(782) admixture.
* pi+ pi- pi0: coherent omega(782), phi(1020), omega(1420), omega(1650) Breit-Wigner sum, each
  normalised by Gamma(V->ee) BR(V->3pi) (PDG 2024; excited states from the SND fit, Achasov et
  al., Phys. Rev. D 68 (2003) 052006), with the energy dependence of the 3-body phase space of the
  Gell-Mann-Sharp-Wagner rho-pi mechanism (Dalitz integral computed numerically for fipscan and
  tabulated below; it lowers the omega line 2.7 MeV below the peak by 3.7%).
* K+K-, K_S K_L: VMD kaon form factors F_K = +-rho/2 + omega/6 + c_phi phi (SU(3) couplings for
  rho and omega; c_phi fixed by Gamma(phi->ee) BR(phi->KK), PDG 2024), P-wave phi width.
* pi0 gamma, eta gamma: omega and phi radiative decays, Breit-Wigner with p_gamma^3 widths.
* 2pi+2pi-, pi+pi-2pi0, K K pi, eta pi+ pi-: effective single-resonance shapes with a threshold
  factor, fitted for fipscan to the published cross sections (BaBar: Phys. Rev. D 85 (2012)
  112009 [2pi+2pi-], Phys. Rev. D 96 (2017) 092009 [pi+pi-2pi0], Phys. Rev. D 77 (2008) 092002
  [K K pi], Phys. Rev. D 76 (2007) 092005 [eta pi pi]), read off the figures to about 20%.  They
  matter only above ~1.1 GeV.
* Above ~1.4 GeV the multi-hadron channels not listed (5pi, 6pi, omega pi pi, ...) are added as
  "other" = w(s) max(R_pQCD - sum, 0), with w a smooth step from 1.4 to 1.9 GeV and
  R_pQCD = 3 sum_q Q_q^2 (1 + alpha_s/pi) for u, d, s (one-loop alpha_s, Lambda_3 = 0.2 GeV,
  alpha_s(2 GeV) = 0.30); so R -> pQCD at 2 GeV, where the BES measurement R(2 GeV) = 2.18
  agrees with it.  Charm (above 3.7 GeV) and tau are not included: this module is for m < 2 GeV.

Convention: the exclusive R's are multiplied by the leptonic vacuum-polarisation factor
|1 - Pi_lept(s)|^-2 (~1.02-1.03 below 1 GeV), i.e. R is the "dressed" ratio of the e+e- data that
DarkCast fits; with it (and BR(omega -> ee) at +1 sigma of PDG, the only parameter moved from its
central value) the DarkCast total width (arXiv:1801.04847) is reproduced to 0.2% at 0.3, 0.5 and
0.78 GeV.  Final-state radiation is not separated (absorbed in the fitted parameters).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from fipscan import constants as C

__all__ = [
    "pion_form_factor",
    "r_pipi",
    "r_3pi",
    "r_pi0gamma",
    "r_etagamma",
    "r_kk_charged",
    "r_kk_neutral",
    "r_4pi_charged",
    "r_4pi_neutral",
    "r_kkpi",
    "r_etapipi",
    "r_pqcd",
    "r_exclusive",
    "r_channels",
    "r_total",
    "vacuum_polarisation_factor",
]

_ALPHA = C.ALPHA
_MPI = C.M_PI
_MPI0 = C.M_PI0
_NINE_OVER_ALPHA2 = 9.0 / _ALPHA**2


# --------------------------------------------------------------------------------------------
# numerics helpers (double-where: no NaN in values or gradients below thresholds)
# --------------------------------------------------------------------------------------------
def _sqrt_pos(x):
    """sqrt(x) for x > 0, else 0; finite gradient everywhere except exactly at 0+."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def _lambda(a, b, c):
    """Kallen function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc."""
    return a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c)


def _p_two_body(s, m1, m2):
    """Momentum [GeV] of each daughter in the rest frame of mass sqrt(s) decaying to m1 + m2 (0 below)."""
    s_safe = jnp.where(s > 0, s, 1.0)
    lam = _lambda(s_safe, m1 * m1, m2 * m2)
    return jnp.where(s > 0, _sqrt_pos(lam) / (2.0 * jnp.sqrt(s_safe)), 0.0)


def _beta(s, m):
    """Velocity sqrt(1 - 4 m^2 / s) of a pair of mass-m particles (0 below threshold)."""
    s_safe = jnp.where(s > 0, s, 1.0)
    return jnp.where(s > 0, _sqrt_pos(1.0 - 4.0 * m * m / s_safe), 0.0)


def _p_two_body_const(M, m1, m2):
    """Python-float version of _p_two_body at s = M^2 (for normalisations computed at import)."""
    lam = (M * M - (m1 + m2) ** 2) * (M * M - (m1 - m2) ** 2)
    return math.sqrt(max(lam, 0.0)) / (2.0 * M)


def _bw(s, M, G):
    """Constant-width relativistic Breit-Wigner M^2 / (M^2 - s - i M G) (1 at s = 0)."""
    return M * M / (M * M - s - 1j * M * G)


# --------------------------------------------------------------------------------------------
# Gounaris-Sakurai rho line shape (Phys. Rev. Lett. 21 (1968) 244), as written in the BaBar
# paper (Phys. Rev. D 86 (2012) 032013, sec. VIII)
# --------------------------------------------------------------------------------------------
def _gs_constants(M, G):
    kM = 0.5 * math.sqrt(M * M - 4.0 * _MPI**2)
    L = math.log((M + 2.0 * kM) / (2.0 * _MPI))
    hM = 2.0 / math.pi * kM / M * L
    dhM = _MPI**2 * L / (math.pi * kM * M**3) + 1.0 / (2.0 * math.pi * M * M)
    d = (3.0 / math.pi * _MPI**2 / kM**2 * L + M / (2.0 * math.pi * kM) - _MPI**2 * M / (math.pi * kM**3))
    return (M, G, kM, hM, dhM, d)


def _bw_gs(s, par):
    """Gounaris-Sakurai Breit-Wigner BW^GS(s) (normalised to 1 at s = 0). s [GeV^2]."""
    M, G, kM, hM, dhM, d = par
    thr = 4.0 * _MPI**2
    above = s > thr
    s_c = jnp.where(above, s, thr)  # below the pi pi threshold the rho has no width (k = 0)
    rs = jnp.sqrt(s_c)
    k = _sqrt_pos(s_c / 4.0 - _MPI**2)
    L = jnp.log((rs + 2.0 * k) / (2.0 * _MPI))
    h = 2.0 / math.pi * k / rs * L
    f = G * M * M / kM**3 * (k * k * (h - hM) + (M * M - s) * kM * kM * dhM)
    g_s = G * (k / kM) ** 3 * (M / rs)
    return M * M * (1.0 + d * G / M) / (M * M - s + f - 1j * M * g_s)


# Pion form factor parameters.  Masses, widths and coupling magnitudes of the BaBar 2012 VDM fit
# (Phys. Rev. D 86 (2012) 032013, sec. VIII; PDG 2024 lists its m_rho(1450) = 1493 +- 15 MeV and
# Gamma_rho = 149.59 +- 0.67 MeV):
#   rho(770): 775.02 +- 0.31, 149.59 +- 0.67 MeV; omega: 781.91 +- 0.18, 8.13 +- 0.45 MeV,
#   |c_omega| = (1.644 +- 0.061)e-3 with a phase compatible with 0;
#   rho(1450): 1493 +- 15, 427 +- 31 MeV, |c| = 0.158 +- 0.018;
#   rho(1700): 1861 +- 17, 316 +- 26 MeV, |c| = 0.068 +- 0.009;
#   rho(2150): 2254 +- 22, 109 +- 76 MeV, |c| = 0.0052 +- 0.0036 (negligible below 2 GeV).
# The excited-rho couplings are taken real (rho(1450) negative, rho(1700) positive), as in the
# CMD-2 Gounaris-Sakurai parametrisation with a real rho' amplitude (Akhmetshin et al., Phys. Lett.
# B 527 (2002) 161; B 648 (2007) 28); this gives the measured |F_pi|^2 peak of ~45 at 0.775-0.78 GeV.
_GS_RHO = _gs_constants(0.77502, 0.14959)
_GS_RHO1 = _gs_constants(1.493, 0.427)
_GS_RHO2 = _gs_constants(1.861, 0.316)
_GS_RHO3 = _gs_constants(2.254, 0.109)
_M_OMEGA_PIPI = 0.78191
_G_OMEGA_PIPI = 0.00813
_C_OMEGA = 1.644e-3 * complex(math.cos(-0.01), math.sin(-0.01))
_C_RHO1 = -0.158 + 0j
_C_RHO2 = 0.068 + 0j
_C_RHO3 = -0.0052 + 0j


def pion_form_factor(s):
    """Time-like pion form factor F_pi(s) (complex), BaBar 2012 GS fit. s [GeV^2]; F_pi(0) = 1.

    F = [BW_rho (1 + c_w s/m_w^2 BW_w)/(1 + c_w) + sum_i c_i BW_rho_i] / (1 + sum_i c_i),
    Phys. Rev. D 86 (2012) 032013, sec. VIII.
    """
    s = jnp.asarray(s)
    omega = _bw(s, _M_OMEGA_PIPI, _G_OMEGA_PIPI) * (s / _M_OMEGA_PIPI**2)
    rho = _bw_gs(s, _GS_RHO) * (1.0 + _C_OMEGA * omega) / (1.0 + _C_OMEGA)
    num = rho + _C_RHO1 * _bw_gs(s, _GS_RHO1) + _C_RHO2 * _bw_gs(s, _GS_RHO2) + _C_RHO3 * _bw_gs(s, _GS_RHO3)
    return num / (1.0 + _C_RHO1 + _C_RHO2 + _C_RHO3)


def r_pipi(s):
    """R(e+e- -> pi+ pi-) = beta_pi^3 |F_pi(s)|^2 / 4 (dimensionless). s [GeV^2]."""
    s = jnp.asarray(s)
    f = pion_form_factor(s)
    return 0.25 * _beta(s, _MPI) ** 3 * (f.real**2 + f.imag**2)


# --------------------------------------------------------------------------------------------
# narrow vector mesons normalised by Gamma(V -> ee) BR(V -> f)
#   single resonance: R_f(s) = 9 s Gamma_ee Gamma_f(s) / (alpha^2 |M^2 - s - i M Gamma(s)|^2)
#   (peak value 9 BR_ee BR_f / alpha^2, e.g. PDG review "Plots of cross sections", and
#   Achasov et al. for the energy-dependent widths)
# --------------------------------------------------------------------------------------------
# omega(782) for the 3pi and pi0 gamma lines (PDG 2024 within errors: m 782.66 +- 0.13 MeV,
# Gamma 8.68 +- 0.13 MeV, BR_ee (7.38 +- 0.22)e-5).
_M_OMEGA = 0.78266
_G_OMEGA = 0.00868
_GEE_OMEGA = 7.60e-5 * _G_OMEGA  # BR_ee at +1 sigma of PDG 2024 (7.38 +- 0.22)e-5
# phi(1020) (PDG 2024)
_M_PHI = C.M_PHI
_G_PHI = C.GAMMA_PHI
_GEE_PHI = C.BR_PHI_EE * C.GAMMA_PHI
_PK_PHI = _p_two_body_const(_M_PHI, C.M_K, C.M_K)
_PK0_PHI = _p_two_body_const(_M_PHI, C.M_K0, C.M_K0)
_BR_PHI_REST = 1.0 - C.BR_PHI_KPKM - C.BR_PHI_KSKL


def _phi_width(s):
    """Energy-dependent phi(1020) total width [GeV]: P-wave K+K- and K_S K_L, constant rest."""
    s_safe = jnp.where(s > 0, s, 1.0)
    ratio = _M_PHI**2 / s_safe
    kk = C.BR_PHI_KPKM * (_p_two_body(s, C.M_K, C.M_K) / _PK_PHI) ** 3 * ratio
    k0 = C.BR_PHI_KSKL * (_p_two_body(s, C.M_K0, C.M_K0) / _PK0_PHI) ** 3 * ratio
    return _G_PHI * (kk + k0 + _BR_PHI_REST)


def _d_phi(s):
    return _M_PHI**2 - s - 1j * _M_PHI * _phi_width(s)


# 3-body phase space of V -> rho pi -> pi+ pi- pi0 (Gell-Mann, Sharp, Wagner, PRL 8 (1962) 261):
# W(sqrt s) = (1/sqrt s) Int dE+ dE- |p+ x p-|^2 |sum_rho BW_rho|^2, computed numerically for fipscan
# and tabulated as ln(W / Q^4) (normalised to 0 at the omega mass) versus Q = sqrt(s) - 2 m_pi - m_pi0
# [GeV]; linear interpolation reproduces the integral to 1.3% from threshold to 2.4 GeV.
_GSW_Q = (0.005, 0.02, 0.04, 0.07, 0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.34, 0.38, 0.42, 0.47, 0.52,
          0.58, 0.64, 0.7, 0.78, 0.86, 0.95, 1.05, 1.15, 1.3, 1.45, 1.6, 1.8, 2.0, 2.2)
_GSW_LN = (-0.52, -0.52, -0.5177, -0.5081, -0.4914, -0.4581, -0.4124, -0.3539, -0.2816, -0.1942,
           -0.0894, 0.0359, 0.1855, 0.4073, 0.6325, 0.8206, 0.9071, 0.9233, 0.8793, 0.7924, 0.6675,
           0.5118, 0.3488, 0.1026, -0.1378, -0.3685, -0.659, -0.9301, -1.1829)
_THR_3PI = 2.0 * _MPI + _MPI0


def _phase_space_3pi(s):
    """GSW 3pi phase-space function (arbitrary units, ~Q^4 at threshold, 0 below)."""
    rs = _sqrt_pos(s)
    q = jnp.maximum(rs - _THR_3PI, 0.0)
    ln = jnp.interp(q, jnp.asarray(_GSW_Q, dtype=q.dtype), jnp.asarray(_GSW_LN, dtype=q.dtype))
    return q**4 * jnp.exp(ln)


def _phase_space_3pi_const(M):
    q = M - _THR_3PI
    return q**4 * math.exp(float(_interp_py(q, _GSW_Q, _GSW_LN)))


def _interp_py(x, xs, ys):
    if x <= xs[0]:
        return ys[0]
    for i in range(1, len(xs)):
        if x <= xs[i]:
            t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + t * (ys[i] - ys[i - 1])
    return ys[-1]


# (mass, width, Gamma_ee * BR_3pi [GeV], phase [rad]); excited omegas: SND 2003 fit
# (Phys. Rev. D 68 (2003) 052006: Gamma_ee B_3pi ~ 0.08 keV for omega(1420), ~0.18 keV for
# omega(1650), relative phases pi and 0); the phi - omega phase ~ pi (same fit, 163 deg).
_3PI_OMEGA = (_M_OMEGA, _G_OMEGA, _GEE_OMEGA * 0.892, 0.0)
_3PI_PHI = (_M_PHI, _G_PHI, _GEE_PHI * C.BR_PHI_3PI, math.pi)
_3PI_OMEGA1 = (1.41, 0.29, 0.08e-6, math.pi)
_3PI_OMEGA2 = (1.67, 0.315, 0.18e-6, 0.0)


def _coupling_3pi(res):
    M, G, geeb, ph = res
    mag = math.sqrt(geeb * G / _phase_space_3pi_const(M))
    return M, G, mag * complex(math.cos(ph), math.sin(ph))


_3PI_TERMS = tuple(_coupling_3pi(r) for r in (_3PI_OMEGA, _3PI_OMEGA1, _3PI_OMEGA2))
_3PI_PHI_COUPLING = _coupling_3pi(_3PI_PHI)[2]


def r_3pi(s):
    """R(e+e- -> pi+ pi- pi0): omega, phi, omega(1420), omega(1650) coherent sum. s [GeV^2].

    R = 9 s / alpha^2 * W(s) |sum_V sqrt(Gamma_ee,V Gamma_3pi,V / W(M_V^2)) e^{i phi_V} / D_V(s)|^2,
    D_V = M_V^2 - s - i M_V Gamma_V(s); W the GSW phase space.
    """
    s = jnp.asarray(s)
    amp = _3PI_PHI_COUPLING / _d_phi(s)
    for M, G, c in _3PI_TERMS:
        amp = amp + c / (M * M - s - 1j * M * G)
    return _NINE_OVER_ALPHA2 * s * _phase_space_3pi(s) * (amp.real**2 + amp.imag**2)


def _r_radiative(s, M, gee, gf, m_p, width_fn=None):
    """R of V -> P gamma (magnetic dipole, Gamma_f(s) = Gamma_f (p_gamma(s)/p_gamma(M))^3)."""
    rs = _sqrt_pos(s)
    rs_safe = jnp.where(rs > 0, rs, 1.0)
    pg = jnp.where(s > m_p * m_p, (s - m_p * m_p) / (2.0 * rs_safe), 0.0)
    pgM = (M * M - m_p * m_p) / (2.0 * M)
    width = width_fn(s) if width_fn is not None else _G_OMEGA
    den = (M * M - s) ** 2 + (M * width) ** 2
    return _NINE_OVER_ALPHA2 * s * gee * gf * (pg / pgM) ** 3 / den


def r_pi0gamma(s):
    """R(e+e- -> pi0 gamma) from omega and phi (PDG BRs: 8.33%, 0.132%). s [GeV^2]."""
    s = jnp.asarray(s)
    w = _r_radiative(s, _M_OMEGA, _GEE_OMEGA, C.BR_OMEGA_PI0G * _G_OMEGA, _MPI0)
    p = _r_radiative(s, _M_PHI, _GEE_PHI, C.BR_PHI_PI0G * _G_PHI, _MPI0, _phi_width)
    return w + p


def r_etagamma(s):
    """R(e+e- -> eta gamma) from the phi (PDG BR 1.303%; rho, omega contributions < 1e-3). s [GeV^2]."""
    s = jnp.asarray(s)
    return _r_radiative(s, _M_PHI, _GEE_PHI, C.BR_PHI_ETAG * _G_PHI, C.M_ETA, _phi_width)


# --------------------------------------------------------------------------------------------
# kaon form factors (VMD with SU(3) rho/omega couplings, phi normalised to PDG data)
# --------------------------------------------------------------------------------------------
def _c_phi(br_kk, m_k):
    beta_m = math.sqrt(1.0 - 4.0 * m_k**2 / _M_PHI**2)
    r_peak = 9.0 * C.BR_PHI_EE * br_kk / _ALPHA**2
    return math.sqrt(4.0 * r_peak / beta_m**3) * _G_PHI / _M_PHI


_C_PHI_CHARGED = _c_phi(C.BR_PHI_KPKM, C.M_K)
_C_PHI_NEUTRAL = _c_phi(C.BR_PHI_KSKL, C.M_K0)


def _kaon_ff(s, isovector_sign, c_phi):
    rho = _bw_gs(s, _GS_RHO)
    omega = _bw(s, _M_OMEGA, _G_OMEGA)
    phi = _M_PHI**2 / _d_phi(s)
    return isovector_sign * 0.5 * rho + omega / 6.0 + c_phi * phi


def r_kk_charged(s):
    """R(e+e- -> K+ K-) = beta_K^3 |F_K+|^2 / 4. s [GeV^2]."""
    s = jnp.asarray(s)
    f = _kaon_ff(s, 1.0, _C_PHI_CHARGED)
    return 0.25 * _beta(s, C.M_K) ** 3 * (f.real**2 + f.imag**2)


def r_kk_neutral(s):
    """R(e+e- -> K_S K_L) = beta_K0^3 |F_K0|^2 / 4. s [GeV^2]."""
    s = jnp.asarray(s)
    f = _kaon_ff(s, -1.0, _C_PHI_NEUTRAL)
    return 0.25 * _beta(s, C.M_K0) ** 3 * (f.real**2 + f.imag**2)


# --------------------------------------------------------------------------------------------
# effective shapes above 1 GeV:  R = 9 s / alpha^2 * G * T(Q)/T(Q_M) / |M^2 - s - i M Gamma|^2,
# T(Q) = x^p / (1 + x^p), x = Q/Q0, Q = sqrt(s) - threshold.  (ln G, M, Gamma, p, Q0) fitted for
# fipscan to the published cross sections listed in the module docstring (about 20%).
# --------------------------------------------------------------------------------------------
_EFF_4PI_CHARGED = (4.0 * _MPI, (-11.8242, 1.34724, 1.71060, 7.24413, 0.753941))
_EFF_4PI_NEUTRAL = (2.0 * _MPI + 2.0 * _MPI0, (-12.0998, 1.57417, 1.08542, 7.91123, 0.609307))
_EFF_KKPI = (2.0 * C.M_K + _MPI0, (-16.5297, 1.50673, 0.327173, 4.46490, 0.767341))
_EFF_ETAPIPI = (C.M_ETA + 2.0 * _MPI, (-16.1972, 1.46419, 0.413162, 3.23209, 1.22821))


def _r_effective(s, spec):
    thr, (lng, M, G, p, q0) = spec
    rs = _sqrt_pos(s)
    x = jnp.maximum(rs - thr, 0.0) / q0
    xp = x**p
    xm = ((M - thr) / q0) ** p
    t = (xp / (1.0 + xp)) / (xm / (1.0 + xm))
    return _NINE_OVER_ALPHA2 * s * math.exp(lng) * t / ((M * M - s) ** 2 + (M * G) ** 2)


def r_4pi_charged(s):
    """R(e+e- -> 2pi+ 2pi-), effective shape (BaBar 2012). s [GeV^2]."""
    return _r_effective(jnp.asarray(s), _EFF_4PI_CHARGED)


def r_4pi_neutral(s):
    """R(e+e- -> pi+ pi- 2pi0) incl. omega pi0, effective shape (BaBar 2017). s [GeV^2]."""
    return _r_effective(jnp.asarray(s), _EFF_4PI_NEUTRAL)


def r_kkpi(s):
    """R(e+e- -> K K pi), all charge states, effective shape (BaBar 2008). s [GeV^2]."""
    return _r_effective(jnp.asarray(s), _EFF_KKPI)


def r_etapipi(s):
    """R(e+e- -> eta pi+ pi-), effective shape (BaBar 2007). s [GeV^2]."""
    return _r_effective(jnp.asarray(s), _EFF_ETAPIPI)


# --------------------------------------------------------------------------------------------
# perturbative QCD and the join
# --------------------------------------------------------------------------------------------
_LAMBDA_QCD3 = 0.2  # GeV, one-loop n_f = 3: alpha_s(2 GeV) = 0.303
_JOIN_LO = 1.4  # GeV
_JOIN_HI = 1.9  # GeV


def r_pqcd(s):
    """R = 3 sum_q Q_q^2 (1 + alpha_s(sqrt s)/pi) for u, d, s (= 2 (1 + alpha_s/pi)). s [GeV^2].

    One-loop alpha_s = 4 pi / (9 ln(s / Lambda^2)), Lambda = 0.2 GeV; s is clipped at 1 GeV^2 (the
    formula is only used above ~1.4 GeV).
    """
    s = jnp.asarray(s)
    mu2 = jnp.maximum(s, 1.0)
    alpha_s = 4.0 * math.pi / (9.0 * jnp.log(mu2 / _LAMBDA_QCD3**2))
    return 2.0 * (1.0 + alpha_s / math.pi)


def _join_weight(s):
    rs = _sqrt_pos(s)
    t = jnp.clip((rs - _JOIN_LO) / (_JOIN_HI - _JOIN_LO), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def r_exclusive(s) -> dict:
    """The exclusive channels' R (dict of arrays, keys as in r_channels minus 'other'). s [GeV^2]."""
    s = jnp.asarray(s)
    return {
        "pi+pi-": r_pipi(s),
        "pi+pi-pi0": r_3pi(s),
        "pi0gamma": r_pi0gamma(s),
        "etagamma": r_etagamma(s),
        "K+K-": r_kk_charged(s),
        "KSKL": r_kk_neutral(s),
        "2pi+2pi-": r_4pi_charged(s),
        "pi+pi-2pi0": r_4pi_neutral(s),
        "KKpi": r_kkpi(s),
        "etapi+pi-": r_etapipi(s),
    }


def r_channels(s) -> dict:
    """All channels' R, including 'other' (the remainder up to pQCD above 1.4 GeV). s [GeV^2]."""
    s = jnp.asarray(s)
    vp = vacuum_polarisation_factor(s)
    out = {k: v * vp for k, v in r_exclusive(s).items()}
    total = sum(out.values())
    out["other"] = _join_weight(s) * jnp.maximum(r_pqcd(s) - total, 0.0)
    return out


def vacuum_polarisation_factor(s):
    """|1 - Pi_lept(s)|^-2: leptonic (e, mu) one-loop running of alpha at time-like s [GeV^2].

    Re Pi_l(s) = (alpha/3pi) [beta (3 - beta^2)/2 ln((1+beta)/(1-beta)) - 8/3 + beta^2] above 2 m_l
    (one-loop QED, e.g. Jegerlehner, "The anomalous magnetic moment of the muon"); alpha s/(15 pi m_l^2)
    below.  Multiplies the hadronic R (see module docstring: dressed, data-like R).
    """
    s = jnp.asarray(s)
    pi_tot = 0.0
    for m_l in (C.M_E, C.M_MU):
        above = s > 4.0 * m_l * m_l
        s_c = jnp.where(above, s, 4.0 * m_l * m_l * 4.0)
        b = jnp.sqrt(1.0 - 4.0 * m_l * m_l / s_c)
        val = (_ALPHA / (3.0 * math.pi)) * (0.5 * b * (3.0 - b * b) * jnp.log((1.0 + b) / (1.0 - b)) - 8.0 / 3.0 + b * b)
        pi_tot = pi_tot + jnp.where(above, val, _ALPHA * s / (15.0 * math.pi * m_l * m_l))
    return 1.0 / (1.0 - pi_tot) ** 2


def r_total(s):
    """Total hadronic R(s) (dimensionless). s [GeV^2]."""
    return sum(r_channels(s).values())
