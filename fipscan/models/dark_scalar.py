"""BC4 dark scalar S (mass m, mixing angle theta with the Higgs; coupling axis sin^2 theta).

PBC benchmark BC4 (Beacham et al., arXiv:1901.09966, sec. 3.2.1): a real singlet scalar that mixes
with the Higgs; S couples to every Standard-Model field like a Higgs of mass m, times sin(theta).  The
coupling axis is g = sin^2(theta) (~ theta^2 for the small angles scanned): every partial width and
every production rate is proportional to g.

Every function is a pure JAX function of arrays: vectorised by broadcasting over (m, g),
differentiable (thresholds use the double-where pattern) and it keeps the dtype of its inputs (float64
is switched on by the caller).  Units: masses and widths in GeV, lengths in metres, lifetimes in s.

Decays (Gamma = g x the widths below; "unit" means at g = 1)
-----------------------------------------------------------
* leptons: Gamma(S -> l l) = g G_F m_l^2 m beta_l^3 / (4 sqrt2 pi), beta_l = sqrt(1 - 4 m_l^2/m^2)
  (the Higgs width; e.g. Winkler arXiv:1809.01876 eq. (4); Boiarska et al. arXiv:1904.10447 eq. (3.1)).
* photons: the one-loop Higgs width (Djouadi, Phys. Rept. 457 (2008) 1, hep-ph/0503172, eqs. (2.18)-(2.20),
  (2.45)) with the leptons, the c, b, t quarks and the W in the loop; the light-quark (hadronic) loop
  is left out (non-perturbative; the gamma gamma BR it would change is < 1e-2 above 2 m_mu).
* pi pi and K K below 2 GeV: the dispersive widths of Winkler, arXiv:1809.01876 (Fig. 3, the
  Gamma(S -> pi pi) and Gamma(S -> K K) curves), used as data: :data:`WINKLER_PIPI` and
  :data:`WINKLER_KK` give Gamma/sin^2 theta at nodes of a digitisation of that figure (the numbers,
  rounded to three digits, of the digitised curves published with the scalar_portal package of J.-L.
  Tastet, files decay/winkler_pi.txt and decay/winkler_K.txt; data only),
  interpolated linearly in m of log(Gamma / beta), beta of the charged pair (the s-wave threshold
  behaviour), constant below the first node.  Isospin: pi+pi- : pi0pi0 = 2 : 1, K+K- : K0 K0bar = 1 : 1,
  each with its own threshold (beta of its own pair).
* above 2 GeV, perturbatively: S -> g g at one loop (Spira, Djouadi, Graudenz, Zerwas, hep-ph/9504378,
  heavy-quark loops with the full A_1/2, NLO factor 1 + (95/4 - 7 N_F/6) alpha_s/pi, N_F = 3) plus
  S -> s sbar and c cbar (3 G_F m_q^2 m beta^3/(4 sqrt2 pi), MSbar masses, beta of the lightest meson pair:
  2 m_K, 2 m_D), alpha_s at one loop from alpha_s(m_tau) = 0.312 (PDG 2024 QCD review).
* 1.4-2.0 GeV, where dispersive and perturbative treatments disagree (by up to ~5x at 2 GeV): a
  documented interpolation, log Gamma_had = (1 - w) log Gamma_disp + w log Gamma_pert with the smooth
  step w(m) = 3x^2 - 2x^3, x = (m - 1.4)/(2.0 - 1.4); inside it the pi pi and K K shares of the hadronic
  width fall as (1 - w) Gamma_ch/Gamma_disp and the rest (w) goes to "other" (multi-hadron states of
  the quark/gluon hadronisation: 4 pi and more, not separately modelled).
* tau pairs (threshold 3.55 GeV) as a lepton pair.

Final states (fipscan.final_states): ee, mumu, tautau, gammagamma, pipi, pi0pi0, kk (K+K-), other
(K0 K0bar, which is K_S K_S or K_L K_L for a CP-even scalar, and the perturbative hadrons).

Production (declarations of fipscan.production.channels)
--------------------------------------------------------
The flavour-changing coupling of a Higgs-like scalar from the top-W loop (Batell, Pospelov, Ritz,
arXiv:0911.4938; Boiarska et al. arXiv:1904.10447 eq. (A.17)):
L = theta C_qq' (m_q/v) S qbar'_L q_R + h.c.,  C_qq' = 3 sqrt2 G_F m_t^2 V_tq'* V_tq / (16 pi^2).
With <P'|qbar' q|P> = (m_P^2 - m_P'^2)/(m_q - m_q') f0(q^2) and <P'|qbar' gamma5 q|P> = 0:
Gamma(P -> P' S) = theta^2 |C|^2 (m_q/v)^2 (m_P^2 - m_P'^2)^2 f0(m^2)^2 lambda^1/2(m_P^2, m_P'^2, m^2)
                   / (64 pi m_P^3 (m_q - m_q')^2).
* B+ -> K+ S, B0 -> K0 S ("bplus->kplus", "b0->k0"): f0(q^2) = 0.330/(1 - q^2/37.46 GeV^2) (Ball &
  Zwicky, hep-ph/0406232, Table 8).  BR(B+ -> K+ S)/theta^2 = 0.39 at m -> 0 (0.43 quoted by Winkler
  arXiv:1809.01876 and Boiarska et al.; the spread is the choice of m_t and |V_ts|).
* K+ -> pi+ S, K_L -> pi0 S ("kplus->piplus", "klong->pi0"): f0(q^2) = 0.9698 (1 + 0.0134 q^2/m_pi^2)
  (f+(0) FLAG 2021 arXiv:2111.09849; linear slope lambda_0 of the PDG K_l3 review); |V_ts* V_td| for
  K+, Im(V_ts* V_td) for the CP-violating K_L amplitude.  BR(K+ -> pi+ S)/theta^2 at m -> 0 is
  1.3e-3 here (Bezrukov & Gorbunov arXiv:0912.0390 quote 1.3e-3; Boiarska et al. 1.4e-3).
  The kaons of the dump decay only if they do so before interacting: each parent spectrum bin is
  weighted by the decay fraction lambda/(lambda + beta gamma c tau) (:func:`kaon_decay_fraction`), with
  lambda the kaon nuclear interaction length in the copper of the TAX (option
  ``kaon_interaction_length``).  The top-loop term is the whole K -> pi S amplitude here (the chiral
  octet term of Leutwyler & Shifman is subleading and left out).
The top mass in the loop is the MSbar m_t(m_t) = 162.5 GeV (PDG 2024), which makes both the B and the
K numbers land within 10% of the literature's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.kernels.numerics import float_dtype
from fipscan.models.base import Coupling, production_channel_names
from fipscan.production.channels import MesonDecay

__all__ = [
    "DarkScalar",
    "PRODUCTION_CHANNELS",
    "WINKLER_PIPI",
    "WINKLER_KK",
    "width_ll",
    "width_gammagamma",
    "width_pipi_dispersive",
    "width_kk_dispersive",
    "width_hadrons_perturbative",
    "alpha_s",
    "partial_widths",
    "total_width",
    "branching_ratios",
    "ctau",
    "br_meson_to_meson_scalar",
    "br_b_to_k_scalar",
    "br_k_to_pi_scalar",
    "kaon_decay_fraction",
]

# --- parameters (PDG 2024 unless stated) -----------------------------------------------------
M_W = 80.3692  # W mass
M_T_POLE = 172.57  # top pole mass (loops of the gamma gamma / g g widths)
M_T_MSBAR = 162.5  # top MSbar mass m_t(m_t) (the FCNC top-W loop)
M_B_QUARK = 4.18  # b MSbar mass m_b(m_b)
M_B_POLE = 4.78  # b pole mass (loops)
M_C_QUARK = 1.27  # c MSbar mass m_c(m_c)
M_C_POLE = 1.67  # c pole mass (loops)
M_S_QUARK = 0.0935  # s MSbar mass at 2 GeV
M_D_QUARK = 0.00470  # d MSbar mass at 2 GeV
M_D0 = 1.86484  # D0 mass (the c cbar hadronic threshold 2 m_D)
M_BPLUS = 5.27934  # B+
M_B0 = 5.27966  # B0
TAU_BPLUS = 1.638e-12  # B+ lifetime [s]
TAU_B0 = 1.517e-12  # B0 lifetime [s]
TAU_KPLUS = 1.2380e-8  # K+ lifetime [s]
TAU_KLONG = 5.116e-8  # K_L lifetime [s]
V_TS = 0.0415  # |V_ts|
V_TB = 0.999  # |V_tb| (CKM unitarity fit)
V_TD = 0.0086  # |V_td|
IM_VTS_VTD = 1.37e-4  # Im(V_ts* V_td) = A^2 lambda^5 eta_bar (PDG CKM review: A 0.826, lambda 0.22501, eta_bar 0.348)
ALPHA_S_MTAU = 0.312  # alpha_s(m_tau) (PDG 2024 QCD review, tau decays)
F0_BK_0, M_FIT2_BK = 0.330, 37.46  # B -> K scalar form factor (Ball & Zwicky hep-ph/0406232, Table 8)
F0_KPI_0, LAMBDA0_KPI = 0.9698, 0.0134  # K -> pi: f+(0) (FLAG 2021), linear slope of f0 (PDG K_l3 review)
#: kaon nuclear interaction length in copper [m]: PDG lambda_I(Cu) = 15.32 cm for nucleons, scaled by
#: the ratio of the absorption cross sections on Cu of protons and K+ at 60-280 GeV/c (~780 mb vs
#: ~600 mb; Carroll et al., Phys. Lett. B 80 (1979) 319)
LAMBDA_INT_KAON_CU = 0.197

# --- Winkler's dispersive pi pi and K K widths, arXiv:1809.01876 Fig. 3 ----------------------
#: (m [GeV], Gamma(S -> pi pi)/sin^2 theta [GeV], pi+pi- and pi0pi0 together), nodes of Winkler's curve
WINKLER_PIPI = np.array([
    (0.2806, 5.78e-10), (0.2830, 1.00e-9), (0.2863, 1.43e-9), (0.2915, 1.99e-9), (0.3004, 2.88e-9),
    (0.3171, 4.19e-9), (0.3399, 6.05e-9), (0.3765, 9.04e-9), (0.4192, 1.33e-8), (0.4714, 1.89e-8),
    (0.5328, 2.62e-8), (0.5915, 3.32e-8), (0.6617, 4.39e-8), (0.7404, 6.09e-8), (0.8150, 9.08e-8),
    (0.8757, 1.42e-7), (0.9156, 2.15e-7), (0.9449, 3.26e-7), (0.9693, 4.91e-7), (0.9883, 6.43e-7),
    (0.9960, 7.46e-7), (1.0037, 5.41e-7), (1.0135, 3.82e-7), (1.0245, 2.59e-7), (1.0399, 1.80e-7),
    (1.0641, 1.05e-7), (1.0872, 6.45e-8), (1.1181, 3.88e-8), (1.1524, 2.32e-8), (1.1952, 1.29e-8),
    (1.2437, 9.41e-9), (1.3144, 1.08e-8), (1.3900, 1.04e-8), (1.4340, 8.26e-9), (1.4747, 5.34e-9),
    (1.5067, 3.08e-9), (1.5291, 2.55e-9), (1.5685, 3.76e-9), (1.6078, 6.08e-9), (1.6542, 7.64e-9),
    (1.6935, 7.42e-9), (1.7521, 5.36e-9), (1.8093, 3.78e-9), (1.9077, 3.36e-9), (2.0063, 3.61e-9),
])
#: (m [GeV], Gamma(S -> K K)/sin^2 theta [GeV], K+K- and K0 K0bar together), nodes of Winkler's curve
WINKLER_KK = np.array([
    (0.9909, 4.19e-9), (0.9951, 7.79e-9), (0.9961, 1.20e-8), (0.9971, 1.83e-8), (0.9981, 2.81e-8),
    (0.9990, 4.32e-8), (1.0000, 6.62e-8), (1.0008, 9.13e-8), (1.0030, 1.06e-7), (1.0048, 1.22e-7),
    (1.0098, 1.44e-7), (1.0380, 1.39e-7), (1.0630, 1.25e-7), (1.0900, 1.12e-7), (1.1206, 1.02e-7),
    (1.1521, 9.47e-8), (1.1845, 8.99e-8), (1.2179, 8.72e-8), (1.2523, 8.62e-8), (1.2878, 8.75e-8),
    (1.3244, 9.24e-8), (1.3619, 9.32e-8), (1.4003, 9.12e-8), (1.4398, 8.81e-8), (1.4804, 8.53e-8),
    (1.5221, 8.24e-8), (1.5650, 7.92e-8), (1.6091, 7.49e-8), (1.6543, 6.91e-8), (1.6964, 6.23e-8),
    (1.7395, 5.60e-8), (1.7882, 5.06e-8), (1.8384, 4.62e-8), (1.8900, 4.22e-8), (1.9430, 3.84e-8),
    (1.9925, 3.52e-8), (2.0331, 3.35e-8),
])
#: the band where dispersive and perturbative hadronic widths are interpolated [GeV]
HADRONIC_BAND = (1.4, 2.0)


def _as_arrays(m, g):
    m = jnp.asarray(m)
    g = jnp.asarray(g)
    dtype = float_dtype(m, g)
    return m.astype(dtype), g.astype(dtype)


def _beta(m, m_daughter):
    """sqrt(1 - 4 m_d^2/m^2) above threshold, 0 below (double-where: finite gradients everywhere)."""
    m_safe = jnp.where(m > 0, m, 1.0)
    x = 1.0 - 4.0 * (m_daughter / m_safe) ** 2
    above = (x > 0) & (m > 0)
    return jnp.where(above, jnp.sqrt(jnp.where(above, x, 1.0)), 0.0)


def width_ll(m, m_l, g):
    """Gamma(S -> l+ l-) [GeV] = g G_F m_l^2 m beta^3/(4 sqrt2 pi); 0 below 2 m_l.

    m, m_l [GeV]; g = sin^2 theta.  Winkler arXiv:1809.01876 eq. (4); Boiarska et al. arXiv:1904.10447 eq. (3.1).
    """
    m, g = _as_arrays(m, g)
    b = _beta(m, m_l)
    return g * C.G_F * m_l * m_l * m * b**3 / (4.0 * math.sqrt(2.0) * C.PI)


def _loop_f(tau):
    """(Re f, Im f) of the Higgs loop function f(tau) (Djouadi hep-ph/0503172 eq. (2.20)):
    arcsin^2 sqrt(tau) for tau <= 1, -(1/4)[log((1 + r)/(1 - r)) - i pi]^2, r = sqrt(1 - 1/tau), above."""
    below = tau <= 1.0
    tb = jnp.where(below, tau, 0.5)
    re_below = jnp.arcsin(jnp.sqrt(tb)) ** 2
    ta = jnp.where(below, 2.0, tau)
    r = jnp.sqrt(1.0 - 1.0 / ta)
    L = jnp.log((1.0 + r) / (1.0 - r))
    re_above = -0.25 * (L * L - C.PI**2)
    im_above = 0.5 * C.PI * L
    return jnp.where(below, re_below, re_above), jnp.where(below, 0.0, im_above)


def _a_half(tau):
    """(Re, Im) of the spin-1/2 amplitude A_1/2(tau) = 2[tau + (tau - 1) f(tau)]/tau^2 (-> 4/3 as tau -> 0;
    the series 4/3 + 14 tau/45 below tau = 1e-3 avoids the cancellation).  Djouadi eq. (2.19)."""
    small = tau < 1e-3
    t = jnp.where(small, 0.5, tau)
    fr, fi = _loop_f(t)
    re = 2.0 * (t + (t - 1.0) * fr) / t**2
    im = 2.0 * (t - 1.0) * fi / t**2
    return jnp.where(small, 4.0 / 3.0 + 14.0 * tau / 45.0, re), jnp.where(small, 0.0, im)


def _a_one(tau):
    """(Re, Im) of the W amplitude A_1(tau) = -[2 tau^2 + 3 tau + 3(2 tau - 1) f(tau)]/tau^2 (-> -7;
    series -7 - 22 tau/15 below tau = 1e-3).  Djouadi eq. (2.19)."""
    small = tau < 1e-3
    t = jnp.where(small, 0.5, tau)
    fr, fi = _loop_f(t)
    re = -(2.0 * t * t + 3.0 * t + 3.0 * (2.0 * t - 1.0) * fr) / t**2
    im = -3.0 * (2.0 * t - 1.0) * fi / t**2
    return jnp.where(small, -7.0 - 22.0 * tau / 15.0, re), jnp.where(small, 0.0, im)


#: (mass [GeV], N_c Q^2) of the charged fermions in the gamma gamma loop (light quarks left out)
_PHOTON_LOOP = ((C.M_E, 1.0), (C.M_MU, 1.0), (C.M_TAU, 1.0), (M_C_POLE, 4.0 / 3.0), (M_B_POLE, 1.0 / 3.0),
                (M_T_POLE, 4.0 / 3.0))


def width_gammagamma(m, g):
    """Gamma(S -> gamma gamma) [GeV] = g G_F alpha^2 m^3/(128 sqrt2 pi^3) |sum_f N_c Q_f^2 A_1/2(tau_f) + A_1(tau_W)|^2,
    tau_i = m^2/(4 m_i^2); f = e, mu, tau, c, b, t (pole masses).  Djouadi hep-ph/0503172 eq. (2.45)."""
    m, g = _as_arrays(m, g)
    re, im = _a_one(m * m / (4.0 * M_W**2))
    for mf, nq2 in _PHOTON_LOOP:
        ar, ai = _a_half(m * m / (4.0 * mf * mf))
        re, im = re + nq2 * ar, im + nq2 * ai
    pref = C.G_F * C.ALPHA**2 * m**3 / (128.0 * math.sqrt(2.0) * C.PI**3)
    return g * pref * (re * re + im * im)


def _dispersive(m, table, m_pair):
    """Gamma/sin^2 theta of a tabulated dispersive width, divided by the charged-pair beta: the
    interpolant exp(interp(m, nodes, log(Gamma/beta))) (constant outside the nodes)."""
    nodes_m = table[:, 0]
    beta_nodes = np.sqrt(1.0 - 4.0 * m_pair**2 / nodes_m**2)
    log_reduced = np.log(table[:, 1] / beta_nodes)
    order = np.argsort(nodes_m)
    return jnp.exp(jnp.interp(m, jnp.asarray(nodes_m[order], m.dtype), jnp.asarray(log_reduced[order], m.dtype)))


def width_pipi_dispersive(m, g):
    """(Gamma(S -> pi+ pi-), Gamma(S -> pi0 pi0)) [GeV] from Winkler's dispersive width (arXiv:1809.01876
    Fig. 3, :data:`WINKLER_PIPI`), split 2 : 1 by isospin, each with the beta of its own pair."""
    m, g = _as_arrays(m, g)
    red = g * _dispersive(m, WINKLER_PIPI, C.M_PI)
    return (2.0 / 3.0) * red * _beta(m, C.M_PI), (1.0 / 3.0) * red * _beta(m, C.M_PI0)


def width_kk_dispersive(m, g):
    """(Gamma(S -> K+ K-), Gamma(S -> K0 K0bar)) [GeV] from Winkler's dispersive width (arXiv:1809.01876
    Fig. 3, :data:`WINKLER_KK`), split 1 : 1 by isospin, each with the beta of its own pair."""
    m, g = _as_arrays(m, g)
    red = g * _dispersive(m, WINKLER_KK, C.M_K)
    return 0.5 * red * _beta(m, C.M_K), 0.5 * red * _beta(m, C.M_K0)


def alpha_s(m):
    """alpha_s(m) at one loop with 3 flavours from alpha_s(m_tau) = 0.312 (PDG 2024 QCD review).  m [GeV] > 1."""
    b0 = (33.0 - 6.0) / (12.0 * C.PI)
    return ALPHA_S_MTAU / (1.0 + ALPHA_S_MTAU * b0 * jnp.log(m * m / C.M_TAU**2))


def width_hadrons_perturbative(m, g):
    """Perturbative hadronic width [GeV] (meaningful above ~2 GeV): Gamma(S -> g g) + Gamma(S -> s sbar)
    + Gamma(S -> c cbar).

    g g: g G_F alpha_s^2 m^3/(36 sqrt2 pi^3) |sum_q (3/4) A_1/2(tau_q)|^2 (q = s, c, b, t, pole masses
    for c, b, t) x (1 + (95/4 - 7 N_F/6) alpha_s/pi), N_F = 3 (Spira, Djouadi, Graudenz, Zerwas,
    hep-ph/9504378; Djouadi hep-ph/0503172 eqs. (2.64), (2.68)).  q qbar: 3 g G_F m_q^2 m beta^3/(4 sqrt2 pi)
    with the MSbar masses m_s(2 GeV), m_c(m_c) and beta of the lightest meson pair (2 m_K, 2 m_D).
    """
    m, g = _as_arrays(m, g)
    m_ok = jnp.where(m > 1.0, m, 1.0)  # alpha_s at one loop is used above 1 GeV only
    a_s = alpha_s(m_ok)
    re, im = 0.0, 0.0
    for mq in (M_S_QUARK, M_C_POLE, M_B_POLE, M_T_POLE):
        ar, ai = _a_half(m * m / (4.0 * mq * mq))
        re, im = re + 0.75 * ar, im + 0.75 * ai
    k_factor = 1.0 + (95.0 / 4.0 - 7.0 * 3.0 / 6.0) * a_s / C.PI
    gg = C.G_F * a_s**2 * m**3 / (36.0 * math.sqrt(2.0) * C.PI**3) * (re * re + im * im) * k_factor
    qq = 0.0
    for mq, m_meson in ((M_S_QUARK, C.M_K), (M_C_QUARK, M_D0)):
        qq = qq + 3.0 * C.G_F * mq * mq * m * _beta(m, m_meson) ** 3 / (4.0 * math.sqrt(2.0) * C.PI)
    return jnp.where(m > 1.0, g * (gg + qq), 0.0)


def _band_weight(m):
    """w(m): 0 below HADRONIC_BAND, 1 above, the smooth step 3x^2 - 2x^3 inside."""
    lo, hi = HADRONIC_BAND
    x = jnp.clip((m - lo) / (hi - lo), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def partial_widths(m, g) -> dict:
    """Partial widths [GeV] keyed by final-state name (fipscan.final_states): ee, mumu, tautau,
    gammagamma, pipi, pi0pi0, kk (K+K-), other (K0 K0bar and the perturbative / multi-hadron part).
    Hadrons: dispersive below 1.4 GeV, perturbative above 2 GeV, the interpolation of the module
    docstring in between."""
    m, g = _as_arrays(m, g)
    pipi, pi0pi0 = width_pipi_dispersive(m, g)
    kk, k0k0 = width_kk_dispersive(m, g)
    disp = pipi + pi0pi0 + kk + k0k0
    pert = width_hadrons_perturbative(m, g)
    w = _band_weight(m)
    # log-interpolation only where w > 0 (both widths positive there); double-where for the logs
    mix = w > 0
    d_safe = jnp.where(mix, disp, 1.0)
    p_safe = jnp.where(mix, pert, 1.0)
    had_mix = jnp.exp((1.0 - w) * jnp.log(d_safe) + w * jnp.log(p_safe))
    had = jnp.where(mix, had_mix, disp)
    scale = jnp.where(mix, (1.0 - w) * had / d_safe, 1.0)  # the dispersive channels' factor
    return {
        "ee": width_ll(m, C.M_E, g),
        "mumu": width_ll(m, C.M_MU, g),
        "tautau": width_ll(m, C.M_TAU, g),
        "gammagamma": width_gammagamma(m, g),
        "pipi": scale * pipi,
        "pi0pi0": scale * pi0pi0,
        "kk": scale * kk,
        "other": scale * k0k0 + jnp.where(mix, w * had, 0.0),
    }


def total_width(m, g):
    """Total width Gamma(S) [GeV] at mass m [GeV] and g = sin^2 theta (the sum of :func:`partial_widths`)."""
    return sum(partial_widths(m, g).values())


def branching_ratios(m) -> dict:
    """Branching ratios (g-independent) keyed by final-state name; they sum to one."""
    m, one = _as_arrays(m, 1.0)
    widths = partial_widths(m, one)
    tot = sum(widths.values())
    tot_safe = jnp.where(tot > 0, tot, 1.0)
    return {k: v / tot_safe for k, v in widths.items()}


def ctau(m, g):
    """Proper decay length c tau [m] = hbar c / Gamma_total."""
    return C.HBARC / total_width(m, g)


# --- production ----------------------------------------------------------------------------------

def br_meson_to_meson_scalar(m, g, m_parent, m_daughter, tau_parent, coupling, m_q, m_q2, f0):
    """BR(P -> P' S) = tau_P / hbar x g |C|^2 (m_q/v)^2 (m_P^2 - m_P'^2)^2 f0(m^2)^2 lambda^1/2 /
    (64 pi m_P^3 (m_q - m_q')^2), 0 above m_P - m_P' (module docstring; Boiarska et al. arXiv:1904.10447
    eqs. (A.17), (B.5)).  coupling: |C_qq'| (dimensionless); m_q, m_q2: the decaying and produced quark
    masses [GeV]; f0: callable q^2 -> scalar form factor; tau_parent [s]."""
    m, g = _as_arrays(m, g)
    mp2, md2 = m_parent**2, m_daughter**2
    lam = (mp2 - md2 - m * m) ** 2 - 4.0 * md2 * m * m
    open_ = (lam > 0) & (m < m_parent - m_daughter)
    sqrt_lam = jnp.where(open_, jnp.sqrt(jnp.where(open_, lam, 1.0)), 0.0)
    amp2 = (coupling * m_q / C.V_HIGGS) ** 2 * (mp2 - md2) ** 2 / (m_q - m_q2) ** 2 * f0(m * m) ** 2
    width = amp2 * sqrt_lam / (64.0 * C.PI * m_parent**3)
    return g * width * tau_parent / C.HBAR


def _c_top(ckm):
    """|C| = 3 sqrt2 G_F m_t^2 |ckm| / (16 pi^2) with the MSbar top mass (top-W loop)."""
    return 3.0 * math.sqrt(2.0) * C.G_F * M_T_MSBAR**2 * ckm / (16.0 * C.PI**2)


def _f0_bk(q2):
    return F0_BK_0 / (1.0 - q2 / M_FIT2_BK)


def _f0_kpi(q2):
    return F0_KPI_0 * (1.0 + LAMBDA0_KPI * q2 / C.M_PI**2)


def br_b_to_k_scalar(m, g, charged=True):
    """BR(B+ -> K+ S) (charged) or BR(B0 -> K0 S) at mass m [GeV], g = sin^2 theta; 0.39 g as m -> 0."""
    mb, mk, tau = (M_BPLUS, C.M_K, TAU_BPLUS) if charged else (M_B0, C.M_K0, TAU_B0)
    return br_meson_to_meson_scalar(m, g, mb, mk, tau, _c_top(V_TS * V_TB), M_B_QUARK, M_S_QUARK, _f0_bk)


def br_k_to_pi_scalar(m, g, charged=True):
    """BR(K+ -> pi+ S) (charged; |V_ts* V_td|) or BR(K_L -> pi0 S) (Im(V_ts* V_td), the CP-violating
    amplitude) at mass m [GeV], g = sin^2 theta; 1.3e-3 g for K+ as m -> 0."""
    mk, mpi, tau, ckm = ((C.M_K, C.M_PI, TAU_KPLUS, V_TS * V_TD) if charged
                         else (C.M_K0, C.M_PI0, TAU_KLONG, IM_VTS_VTD))
    return br_meson_to_meson_scalar(m, g, mk, mpi, tau, _c_top(ckm), M_S_QUARK, M_D_QUARK, _f0_kpi)


def kaon_decay_fraction(p, m_kaon, tau_kaon, interaction_length):
    """Fraction of kaons of momentum p [GeV] made in the dump that decay before interacting:
    lambda/(lambda + beta gamma c tau) = lambda m/(lambda m + p c tau) (competing exponential
    processes, the thick-target limit; -> 1 for p -> 0, -> lambda m/(p c tau) for p c tau >> lambda).
    m_kaon [GeV], tau_kaon [s], interaction_length [m]."""
    p = jnp.asarray(p)
    ctau_k = C.C_LIGHT * tau_kaon
    return interaction_length * m_kaon / (interaction_length * m_kaon + p * ctau_k)


#: every production channel of the dark scalar (the default of ``DarkScalar.production_channels``)
PRODUCTION_CHANNELS = ("bplus->kplus", "b0->k0", "kplus->piplus", "klong->pi0")


@dataclass(frozen=True)
class DarkScalar:
    """BC4 dark scalar: Higgs mixing angle theta, coupling axis sin^2 theta (PBC arXiv:1901.09966, sec. 3.2).

    Options (``--model-option KEY=VALUE``): production_channels -- names among
    :data:`PRODUCTION_CHANNELS` (default all); kaon_interaction_length -- the kaon nuclear interaction
    length [m] in the dump material that decides which kaons decay before interacting (default
    :data:`LAMBDA_INT_KAON_CU`, copper).
    """

    production_channels: tuple[str, ...] = PRODUCTION_CHANNELS
    kaon_interaction_length: float = LAMBDA_INT_KAON_CU

    name: ClassVar[str] = "dark-scalar"
    benchmark: ClassVar[str] = "BC4"
    label: ClassVar[str] = r"BC4 dark scalar (Higgs mixing $\theta$)"
    coupling: ClassVar[Coupling] = Coupling("sin2theta", r"$\sin^2\theta$", production_power=1.0, width_power=1.0)
    spin: ClassVar[int] = 0
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 4.5)
    default_final_states: ClassVar[tuple[str, ...]] = ("ee", "mumu", "pipi")

    def __post_init__(self):
        chans = production_channel_names("dark-scalar", self.production_channels, PRODUCTION_CHANNELS)
        object.__setattr__(self, "production_channels", chans)
        lam = self.kaon_interaction_length
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not (0 < lam < math.inf):
            raise ConfigError(f"dark-scalar kaon_interaction_length must be a positive length in metres, not {lam!r}")
        object.__setattr__(self, "kaon_interaction_length", float(lam))

    def settings(self) -> dict:
        return {"model": self.name, "production_channels": list(self.production_channels),
                "kaon_interaction_length": self.kaon_interaction_length, "physics_version": 1}

    def total_width(self, m, g):
        """Total width [GeV] (:func:`total_width`)."""
        return total_width(m, g)

    def branching_ratios(self, m) -> dict:
        """Branching ratios keyed by final-state name (:func:`branching_ratios`)."""
        return branching_ratios(m)

    def production(self) -> tuple:
        """Declarations of the production channels (fipscan.production.channels)."""
        lam = self.kaon_interaction_length

        def kaon_weight(m_k, tau_k):
            return lambda p: kaon_decay_fraction(p, m_k, tau_k, lam)

        chans = {
            "bplus->kplus": MesonDecay("bplus", "kplus", M_BPLUS, C.M_K,
                                       lambda m, g: br_b_to_k_scalar(m, g, charged=True)),
            "b0->k0": MesonDecay("b0", "k0", M_B0, C.M_K0, lambda m, g: br_b_to_k_scalar(m, g, charged=False)),
            "kplus->piplus": MesonDecay("kplus", "piplus", C.M_K, C.M_PI,
                                        lambda m, g: br_k_to_pi_scalar(m, g, charged=True),
                                        parent_weight=kaon_weight(C.M_K, TAU_KPLUS)),
            "klong->pi0": MesonDecay("klong", "pi0", C.M_K0, C.M_PI0,
                                     lambda m, g: br_k_to_pi_scalar(m, g, charged=False),
                                     parent_weight=kaon_weight(C.M_K0, TAU_KLONG)),
        }
        return tuple(chans[name] for name in self.production_channels)
