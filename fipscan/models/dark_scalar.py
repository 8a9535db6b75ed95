"""BC4 dark scalar S (mass m, mixing angle theta with the Higgs; coupling axis sin^2 theta).

PBC benchmark BC4 (Beacham et al., arXiv:1901.09966, sec. 3.2.1): a real singlet scalar that mixes
with the Higgs; S couples to every Standard-Model field like a Higgs of mass m, times sin(theta).  The
coupling axis is g = sin^2(theta) (~ theta^2 for the small angles scanned): every partial width and
every production rate is proportional to g.

Every function is a pure JAX function of arrays: vectorised by broadcasting over (m, g),
differentiable (thresholds use the double-where pattern) and it keeps the dtype of its inputs (float64
is switched on by the caller).  Units: masses and widths in GeV, lengths in metres, lifetimes in s.

Decays (Gamma = g x the widths below; "unit" means at g = 1)
------------------------------------------------------------
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
* 4 pi (the multi-meson states) below 2 GeV: the ansatz of Boiarska et al. arXiv:1904.10447 (sec. 3,
  the "multi-meson" channel; as in the authors' public scalar_portal code): Gamma_4pi = g C m^3 beta_4pi,
  beta_4pi = sqrt(1 - (4 m_pi)^2/m^2) (zero below 4 m_pi+-), with C fixed so that the hadronic width is
  continuous at Lambda = 2 GeV (:data:`MULTIMESON_MATCH_GEV`): Gamma_pipi + Gamma_KK + Gamma_4pi = the
  perturbative width there (C = 1.6e-8 GeV^-2 with the widths of this module).  Dispersive and
  perturbative treatments disagree by ~4x at 2 GeV (Gamma_disp = 3.8e-8, Gamma_pert = 1.6e-7 GeV at
  g = 1); this matching is the documented interpolation between them.  Above 2 GeV the hadrons are the
  perturbative width alone ("other": the quark/gluon hadronisation is not split into final states).
  Charge split (an isobar assumption, not taken from a paper): the isospin-0 4 pi system is half
  rho rho (rho+rho- : rho0rho0 = 2 : 1 -> pi+pi-pi0pi0 2/3, 2pi+2pi- 1/3) and half sigma sigma ((pi pi)_S
  pairs, pi+pi- : pi0pi0 = 2 : 1 each -> 2pi+2pi- 4/9, pi+pi-pi0pi0 4/9, 4pi0 1/9):
  :data:`FOUR_PI_SHARES`, pi+pi-pi0pi0 5/9, 2pi+2pi- 7/18, 4pi0 1/18 (to "other").  The shares are
  constant above the threshold (the rho rho threshold and the pion-mass differences are not modelled).
* tau pairs (threshold 3.55 GeV) as a lepton pair.
* Uncertainty band (model option ``width_variation``): in 1-2 GeV (:data:`WIDTH_BAND`) the hadronic
  widths are uncertain by about a factor of two (Gorbunov, Kriukova, Teryaev arXiv:2303.12847, "a factor
  of two uncertainty" in Gamma(S -> pi pi); Bezrukov, Gorbunov, Timiryasov arXiv:1812.08088 on the
  dispersive method).  "low" / "high" multiply every hadronic partial width (pi pi, K K, 4 pi, other) by
  2^(-s(m)) / 2^(+s(m)), s(m) = 1 on 1.1-1.9 GeV, 0 outside 1-2 GeV, the smooth step 3x^2 - 2x^3 over
  the 0.1 GeV at each end (:func:`width_variation_factor`); "nominal" is the width above.  Leptons and
  photons are unchanged, so the band moves both the lifetime and the hadronic branching ratios.

Final states (fipscan.final_states): ee, mumu, tautau, gammagamma, pipi, pi0pi0, kk (K+K-), pipipi0pi0,
pipipipi, other (K0 K0bar, which is K_S K_S or K_L K_L for a CP-even scalar, 4 pi0 and the perturbative
hadrons above 2 GeV).

Production (declarations of fipscan.production.channels)
--------------------------------------------------------
The flavour-changing coupling of a Higgs-like scalar from the top-W loop (Batell, Pospelov, Ritz,
arXiv:0911.4938; Boiarska et al. arXiv:1904.10447 eq. (A.17))::

    L = theta C_qq' (m_q/v) S qbar'_L q_R + h.c.,  C_qq' = 3 sqrt2 G_F m_t^2 V_tq'* V_tq / (16 pi^2).
    With <P'|qbar' q|P> = (m_P^2 - m_P'^2)/(m_q - m_q') f0(q^2) and <P'|qbar' gamma5 q|P> = 0:
    Gamma(P -> P' S) = theta^2 |C|^2 (m_q/v)^2 (m_P^2 - m_P'^2)^2 f0(m^2)^2 lambda^1/2(m_P^2, m_P'^2, m^2)
                       / (64 pi m_P^3 (m_q - m_q')^2).

* B+ -> K+ S, B0 -> K0 S ("bplus->kplus", "b0->k0"): f0(q^2) = 0.330/(1 - q^2/37.46 GeV^2) (Ball &
  Zwicky, hep-ph/0406232, Table 8).  BR(B+ -> K+ S)/theta^2 = 0.39 at m -> 0 (0.43 quoted by Winkler
  arXiv:1809.01876 and Boiarska et al.; the spread is the choice of m_t and ``|V_ts|``).
* K+ -> pi+ S, K_L -> pi0 S ("kplus->piplus", "klong->pi0"): f0(q^2) = 0.9698 (1 + 0.0134 q^2/m_pi^2)
  (f+(0) FLAG 2021 arXiv:2111.09849; linear slope lambda_0 of the PDG K_l3 review); ``|V_ts* V_td|`` for
  K+, Re(V_ts* V_td) for K_L: S is CP-even and couples through the scalar density (the d-bar s + s-bar d
  combination, CP-even for a real coefficient), pi0 S in an s wave is CP-odd like K_L, so K_L -> pi0 S is
  CP-conserving and takes the real part (unlike K_L -> pi0 nu nu-bar or K_L -> pi0 a of a CP-odd ALP,
  which take the imaginary one; Leutwyler & Shifman, Nucl. Phys. B 343 (1990) 369; Bezrukov & Gorbunov
  arXiv:0912.0390).  The isospin factor 1/sqrt2 of K0 -> pi0 and the sqrt2 of K_L = (K0 + K0bar)/sqrt2
  cancel, so Gamma(K_L -> pi0 S) = Gamma(K+ -> pi+ S) ``(Re/|V_ts* V_td|)^2`` up to the masses:
  BR(K_L -> pi0 S)/theta^2 = 4.9e-3 at m -> 0.  BR(K+ -> pi+ S)/theta^2 at m -> 0 is
  1.3e-3 here (Bezrukov & Gorbunov arXiv:0912.0390 quote 1.3e-3; Boiarska et al. 1.4e-3).
  The kaons of the dump decay only if they do so before interacting: each parent spectrum bin is
  weighted by the decay fraction lambda/(lambda + beta gamma c tau) (:func:`kaon_decay_fraction`), with
  lambda the kaon nuclear interaction length in the copper of the TAX (option
  ``kaon_interaction_length``).  The top-loop term is the whole K -> pi S amplitude here (the chiral
  octet term of Leutwyler & Shifman is subleading and left out).
* B+ -> K*+ S, B0 -> K*0 S, B_s -> phi S ("bplus->kstarplus", "b0->kstar0", "bs->phi"; in the default list,
  beside B -> K S):
  the pseudoscalar density with A0(q^2) of Ball & Zwicky hep-ph/0412079 Table 8
  (:func:`br_meson_to_vector_scalar`); BR(B+ -> K*+ S)/theta^2 = 0.43 at m -> 0.  The shipped spectra
  carry B_s.
* Inclusive B -> X_s S ("bplus->xs", "b0->xs", "bs->xs"; option ``b_production="inclusive"``, which
  replaces every exclusive B channel: never both): the free-quark b -> s S rate normalised to the
  semileptonic width (Grinstein, Hall, Randall 1988; :func:`br_b_to_xs_scalar`), 6.1 theta^2 at m -> 0,
  with the scalar's B-frame momentum that of the free-quark decay (:func:`inclusive_recoil_mass`).
* Proton bremsstrahlung p p -> p X S ("brems"; OPTIONAL, not in the default list: add it with
  ``production_channels=...,brems``): the quasi-real (Fermi-Weizsaecker-Williams) splitting function of a
  proton into S with the effective Yukawa y = g_SNN theta, g_SNN = 1.2e-3 (Boiarska et al.
  arXiv:1904.10447 App. D), normalised as Foroughi-Abari & Ritz arXiv:2108.05900 (half the 1904.10447
  prefactor; derivation in :mod:`fipscan.production.scalar_bremsstrahlung`), times
  sigma_pp(s')/sigma_pp(s), z in [0.1, 0.9], pT < 1 GeV, no form factor; S per proton interaction
  ~ sin^2 theta.

The top mass in the loop is the MSbar m_t(m_t) = 162.5 GeV (PDG 2024), the mass that enters one-loop
short-distance FCNC coefficients in the usual B-physics convention (it absorbs the leading QCD
correction of the top-W loop).  This is a scheme choice with a sizeable spread: the pole mass
(172.6 GeV) gives (172.6/162.5)^4 = 1.27 times larger rates.  With it (and PDG 2024 CKM) BR(B+ -> K+ S)
/ theta^2 -> 0.392 and BR(K+ -> pi+ S) / theta^2 -> 1.32e-3 as m_S -> 0, against the 0.43 and 1.4e-3
quoted by Winkler arXiv:1809.01876 and Boiarska et al. arXiv:1904.10447 (pole m_t with older CKM
values gives 0.45 and 1.35e-3; pole m_t with PDG 2024 CKM 0.50 and 1.67e-3): the literature values lie
inside that spread, ours 9% and 6% below them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.kernels.numerics import float_dtype
from fipscan.models.base import Coupling, production_channel_names
from fipscan.production.channels import Bremsstrahlung, MesonDecay, RecoilDecay
from fipscan.production.scalar_bremsstrahlung import (
    scalar_brems_p_support,
    scalar_brems_pt_theta_table,
    scalar_brems_total,
)

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
    "width_4pi_multimeson",
    "multimeson_coefficient",
    "width_variation_factor",
    "FOUR_PI_SHARES",
    "WIDTH_VARIATIONS",
    "alpha_s",
    "partial_widths",
    "total_width",
    "branching_ratios",
    "ctau",
    "br_meson_to_meson_scalar",
    "br_b_to_k_scalar",
    "br_k_to_pi_scalar",
    "kaon_decay_fraction",
    "br_meson_to_vector_scalar",
    "br_b_to_kstar_scalar",
    "br_bs_to_phi_scalar",
    "br_b_to_xs_scalar",
    "inclusive_recoil_mass",
    "b_channel_declarations",
    "resolve_production_channels",
    "EXCLUSIVE_B_CHANNELS",
    "INCLUSIVE_B_CHANNELS",
    "OPTIONAL_CHANNELS",
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
RE_VTS_VTD = 3.31e-4  # |Re(V_ts* V_td)| = A^2 lambda^5 (1 - rho_bar) (PDG CKM review: A 0.826, lambda 0.22501, rho_bar 0.159)
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
#: Lambda [GeV]: the multi-meson (4 pi) width is matched to the perturbative hadronic width here and
#: the hadrons are perturbative above (Boiarska et al. arXiv:1904.10447 sec. 3)
MULTIMESON_MATCH_GEV = 2.0
#: shares of the 4 pi width by charge (module docstring: half rho rho, half sigma sigma, isospin 0)
FOUR_PI_SHARES = {"pipipi0pi0": 5.0 / 9.0, "pipipipi": 7.0 / 18.0, "pi0pi0pi0pi0": 1.0 / 18.0}
#: the mass band [GeV] of the hadronic-width uncertainty (option ``width_variation``), its edge ramps
#: [GeV] and the factor of the "low" / "high" variations (x 1/2, x 2)
WIDTH_BAND = (1.0, 2.0)
WIDTH_BAND_RAMP = 0.1
WIDTH_BAND_FACTOR = 2.0
#: width_variation option -> exponent of WIDTH_BAND_FACTOR inside the band
WIDTH_VARIATIONS = {"nominal": 0.0, "low": -1.0, "high": 1.0}


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
    """Gamma(S -> gamma gamma) [GeV] = ``g G_F alpha^2 m^3/(128 sqrt2 pi^3) |sum_f N_c Q_f^2 A_1/2(tau_f) + A_1(tau_W)|^2``,
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

    g g: ``g G_F alpha_s^2 m^3/(36 sqrt2 pi^3) |sum_q (3/4) A_1/2(tau_q)|^2`` (q = s, c, b, t, pole masses
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


def width_4pi_multimeson(m, g):
    """Gamma(S -> 4 pi) [GeV], all charge states: g C m^3 beta_4pi for 4 m_pi+- < m < Lambda = 2 GeV, 0
    elsewhere; beta_4pi = sqrt(1 - 16 m_pi^2/m^2).  C [GeV^-2] makes Gamma_pipi + Gamma_KK + Gamma_4pi
    equal the perturbative hadronic width at Lambda (continuity).  The multi-meson ansatz of Boiarska
    et al. arXiv:1904.10447 sec. 3 (module docstring); C from :func:`multimeson_coefficient`."""
    m, g = _as_arrays(m, g)
    coeff = multimeson_coefficient(str(m.dtype))
    return jnp.where(m < MULTIMESON_MATCH_GEV, g * coeff * m**3 * _beta(m, 2.0 * C.M_PI), 0.0)


@functools.lru_cache(maxsize=None)
def multimeson_coefficient(dtype="float64") -> float:
    """C [GeV^-2] of :func:`width_4pi_multimeson`: (Gamma_pert - Gamma_pipi - Gamma_KK)/(Lambda^3 beta_4pi) at
    Lambda = 2 GeV and unit coupling, evaluated once per float precision (a constant: memoised so that
    it is not part of every compiled program; concrete also when called while tracing)."""
    with jax.ensure_compile_time_eval():
        lam = jnp.asarray(MULTIMESON_MATCH_GEV, dtype)
        one = jnp.ones((), dtype)
        a, b = width_pipi_dispersive(lam, one)
        c, d = width_kk_dispersive(lam, one)
        coeff = (width_hadrons_perturbative(lam, one) - (a + b + c + d)) / (lam**3 * _beta(lam, 2.0 * C.M_PI))
        return float(coeff)


def _smooth_step(x):
    x = jnp.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def width_variation_factor(m, variation="nominal"):
    """Factor on every hadronic partial width [dimensionless]: WIDTH_BAND_FACTOR ** (k s(m)), k = 0, -1, +1
    for "nominal", "low", "high"; s(m) = 1 on (1.1, 1.9) GeV, 0 outside WIDTH_BAND = (1, 2) GeV, smooth
    steps 3x^2 - 2x^3 over the WIDTH_BAND_RAMP at each end.  The factor-of-two band of Gorbunov,
    Kriukova, Teryaev arXiv:2303.12847 (module docstring)."""
    if variation not in WIDTH_VARIATIONS:
        raise ConfigError(f"dark-scalar width_variation must be one of {', '.join(WIDTH_VARIATIONS)}, "
                          f"not {variation!r}")
    m = jnp.asarray(m)
    k = WIDTH_VARIATIONS[variation]
    if k == 0.0:
        return jnp.ones_like(m, dtype=float_dtype(m))
    lo, hi = WIDTH_BAND
    s = _smooth_step((m - lo) / WIDTH_BAND_RAMP) * (1.0 - _smooth_step((m - hi + WIDTH_BAND_RAMP) / WIDTH_BAND_RAMP))
    return WIDTH_BAND_FACTOR ** (k * s)


def partial_widths(m, g, variation="nominal") -> dict:
    """Partial widths [GeV] keyed by final-state name (fipscan.final_states): ee, mumu, tautau,
    gammagamma, pipi, pi0pi0, kk (K+K-), pipipi0pi0, pipipipi, other (K0 K0bar, 4 pi0, and the
    perturbative hadrons above 2 GeV).  Hadrons: Winkler's dispersive pi pi, K K plus the multi-meson
    4 pi of Boiarska et al. below Lambda = 2 GeV, perturbative above (module docstring); every hadronic
    width times :func:`width_variation_factor` (``variation``: "nominal", "low", "high")."""
    m, g = _as_arrays(m, g)
    pipi, pi0pi0 = width_pipi_dispersive(m, g)
    kk, k0k0 = width_kk_dispersive(m, g)
    four = width_4pi_multimeson(m, g)
    below = m < MULTIMESON_MATCH_GEV
    f = width_variation_factor(m, variation).astype(m.dtype)

    def low(x):  # a channel of the non-perturbative regime: f x below Lambda, 0 above
        return jnp.where(below, f * x, 0.0)

    other = jnp.where(below, k0k0 + FOUR_PI_SHARES["pi0pi0pi0pi0"] * four, width_hadrons_perturbative(m, g))
    return {
        "ee": width_ll(m, C.M_E, g),
        "mumu": width_ll(m, C.M_MU, g),
        "tautau": width_ll(m, C.M_TAU, g),
        "gammagamma": width_gammagamma(m, g),
        "pipi": low(pipi),
        "pi0pi0": low(pi0pi0),
        "kk": low(kk),
        "pipipi0pi0": FOUR_PI_SHARES["pipipi0pi0"] * f * four,
        "pipipipi": FOUR_PI_SHARES["pipipipi"] * f * four,
        "other": f * other,
    }


def total_width(m, g, variation="nominal"):
    """Total width Gamma(S) [GeV] at mass m [GeV] and g = sin^2 theta (the sum of :func:`partial_widths`;
    ``variation``: the hadronic-width band, "nominal", "low" or "high")."""
    return sum(partial_widths(m, g, variation).values())


def branching_ratios(m, variation="nominal") -> dict:
    """Branching ratios (g-independent) keyed by final-state name; they sum to one."""
    m, one = _as_arrays(m, 1.0)
    widths = partial_widths(m, one, variation)
    tot = sum(widths.values())
    tot_safe = jnp.where(tot > 0, tot, 1.0)
    return {k: v / tot_safe for k, v in widths.items()}


def ctau(m, g, variation="nominal"):
    """Proper decay length c tau [m] = hbar c / Gamma_total."""
    return C.HBARC / total_width(m, g, variation)


# --- production ----------------------------------------------------------------------------------

def br_meson_to_meson_scalar(m, g, m_parent, m_daughter, tau_parent, coupling, m_q, m_q2, f0):
    """BR(P -> P' S) = ``tau_P / hbar x g |C|^2 (m_q/v)^2 (m_P^2 - m_P'^2)^2 f0(m^2)^2 lambda^1/2 /
    (64 pi m_P^3 (m_q - m_q')^2)``, 0 above m_P - m_P' (module docstring; Boiarska et al. arXiv:1904.10447
    eqs. (A.17), (B.5)).  coupling: ``|C_qq'|`` (dimensionless); m_q, m_q2: the decaying and produced quark
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
    """BR(K+ -> pi+ S) (charged; ``|V_ts* V_td|``) or BR(K_L -> pi0 S) (Re(V_ts* V_td): a CP-conserving
    decay, see the module docstring) at mass m [GeV], g = sin^2 theta; 1.3e-3 g for K+ and 4.9e-3 g for
    K_L as m -> 0."""
    mk, mpi, tau, ckm = ((C.M_K, C.M_PI, TAU_KPLUS, V_TS * V_TD) if charged
                         else (C.M_K0, C.M_PI0, TAU_KLONG, RE_VTS_VTD))
    return br_meson_to_meson_scalar(m, g, mk, mpi, tau, _c_top(ckm), M_S_QUARK, M_D_QUARK, _f0_kpi)


def kaon_decay_fraction(p, m_kaon, tau_kaon, interaction_length, length=math.inf):
    """Fraction of kaons of momentum p [GeV] made in the dump that decay in it before interacting.

    Decay (mean path l_d = beta gamma c tau = p c tau / m) and nuclear interaction (mean path lambda)
    compete along the kaon's path; within a dump of ``length`` L [m] a fraction::

        f = (1/l_d) / (1/l_d + 1/lambda) * (1 - exp(-L (1/l_d + 1/lambda)))

    decays (written with expm1).  Thick target (L -> inf, the default: NA62's TAX is ~20 interaction
    lengths): f = lambda m / (lambda m + p c tau), -> 1 for p -> 0 and -> lambda m/(p c tau) for
    p c tau >> lambda m.  Thin target (L << l_d, lambda): f -> L / l_d.  Kaons leaving a finite dump are
    not counted (they do not come from the dump).  p [GeV] (array), m_kaon [GeV], tau_kaon [s],
    interaction_length [m], length [m] (> 0, inf allowed)."""
    p = jnp.asarray(p)
    ctau_k = C.C_LIGHT * tau_kaon
    thick = interaction_length * m_kaon / (interaction_length * m_kaon + p * ctau_k)
    if math.isinf(length):
        return thick
    rate = m_kaon / (p * ctau_k) + 1.0 / interaction_length  # 1/l_d + 1/lambda [1/m]
    return thick * -jnp.expm1(-length * rate)


# B -> vector meson S and the inclusive b -> s S (options of the production; not in the BC4 default list)
M_KSTAR_PLUS = 0.89167  # K*(892)+ (PDG 2024)
M_KSTAR0 = 0.89555  # K*(892)0
M_PHI = 1.019461  # phi(1020)
M_BS = 5.36692  # B_s
TAU_BS = 1.520e-12  # B_s mean lifetime [s] (PDG 2024)
#: A0(q^2) = r1/(1 - q^2/m_R^2) + r2/(1 - q^2/m_fit^2): (r1, r2, m_R^2 [GeV^2], m_fit^2 [GeV^2]) of the
#: light-cone sum-rule fits of Ball & Zwicky, hep-ph/0412079, Table 8 (A0(0) = 0.374 for B -> K*,
#: 0.474 for B_s -> phi), with m_R = 5.28 GeV as in Boiarska et al. arXiv:1904.10447 App. C.2.1
A0_BKSTAR = (1.364, -0.990, 5.28**2, 36.78)
A0_BSPHI = (3.310, -2.835, 5.28**2, 31.57)
V_CB = 0.0411  # |V_cb| (PDG 2024 CKM review)
BR_B_XCLNU = 0.1065  # BR(B -> X_c l nu), B+/B0 average (PDG 2024)
PHASE_SPACE_BCENU = 0.5  # f(m_c/m_b) of Gamma(b -> c e nu) = G_F^2 m_b^5 |V_cb|^2 f/(192 pi^3) (Bezrukov & Gorbunov)


def _a0(params):
    r1, r2, mr2, mfit2 = params
    return lambda q2: r1 / (1.0 - q2 / mr2) + r2 / (1.0 - q2 / mfit2)


def br_meson_to_vector_scalar(m, g, m_parent, m_vector, tau_parent, coupling, m_q, m_q2, a0):
    """BR(P -> V S) = ``tau_P / hbar x g |C|^2 (m_q/v)^2 lambda^3/2(m_P^2, m_V^2, m^2) A0(m^2)^2 /
    (64 pi m_P^3 (m_q + m_q')^2)``, 0 above m_P - m_V.

    The pseudoscalar density of the flavour-changing coupling (module docstring) between a pseudoscalar
    and a vector meson, ``<V(eps)| qbar' gamma5 q |P> = -i 2 m_V (eps*.q) A0(q^2)/(m_q + m_q')`` (equation of
    motion of the axial current), summed over the vector's polarisations, ``sum |eps*.q|^2 =
    lambda/(4 m_V^2)``: ``|M|^2 = g |C|^2 (m_q/v)^2 lambda A0^2/(4 (m_q + m_q')^2)`` and ``Gamma = |M|^2
    lambda^1/2/(16 pi m_P^3)`` (Boiarska et al. arXiv:1904.10447 App. B.2, the vector case; Winkler
    arXiv:1809.01876 sec. 4.1 for B -> K* S).  Arguments as :func:`br_meson_to_meson_scalar`; a0:
    callable q^2 -> A0.
    """
    m, g = _as_arrays(m, g)
    mp2, mv2 = m_parent**2, m_vector**2
    lam = (mp2 - mv2 - m * m) ** 2 - 4.0 * mv2 * m * m
    open_ = (lam > 0) & (m < m_parent - m_vector)
    lam_ok = jnp.where(open_, lam, 0.0)
    amp2 = (coupling * m_q / C.V_HIGGS) ** 2 * lam_ok * a0(m * m) ** 2 / (4.0 * (m_q + m_q2) ** 2)
    width = amp2 * jnp.where(open_, jnp.sqrt(jnp.where(open_, lam, 1.0)), 0.0) / (16.0 * C.PI * m_parent**3)
    return g * width * tau_parent / C.HBAR


def br_b_to_kstar_scalar(m, g, charged=True):
    """BR(B+ -> K*+ S) (charged) or BR(B0 -> K*0 S) at mass m [GeV], g = sin^2 theta
    (:func:`br_meson_to_vector_scalar` with A0 of Ball & Zwicky, :data:`A0_BKSTAR`); 0.43 g as m -> 0."""
    mb, mv, tau = (M_BPLUS, M_KSTAR_PLUS, TAU_BPLUS) if charged else (M_B0, M_KSTAR0, TAU_B0)
    return br_meson_to_vector_scalar(m, g, mb, mv, tau, _c_top(V_TS * V_TB), M_B_QUARK, M_S_QUARK, _a0(A0_BKSTAR))


def br_bs_to_phi_scalar(m, g):
    """BR(B_s -> phi S) at mass m [GeV], g = sin^2 theta (A0 of Ball & Zwicky, :data:`A0_BSPHI`; the
    shipped spectra carry B_s)."""
    return br_meson_to_vector_scalar(m, g, M_BS, M_PHI, TAU_BS, _c_top(V_TS * V_TB), M_B_QUARK, M_S_QUARK,
                                     _a0(A0_BSPHI))


def br_b_to_xs_scalar(m, g):
    """Inclusive BR(B -> X_s S) at mass m [GeV], g = sin^2 theta, any B hadron (spectator model)::

        BR = BR(B -> X_c l nu) x 27 sqrt2 G_F m_t^4 |V_ts* V_tb|^2 / (64 pi^2 f m_b^2 |V_cb|^2) (1 - m^2/m_b^2)^2

    the free-quark rate ``Gamma(b -> s S) = g |C|^2 m_b^3 (1 - m^2/m_b^2)^2/(32 pi v^2)`` (massless s) over the
    semileptonic ``Gamma(b -> c e nu) = G_F^2 m_b^5 |V_cb|^2 f/(192 pi^3)``, f = :data:`PHASE_SPACE_BCENU`
    (Grinstein, Hall, Randall, Phys. Lett. B 211 (1988) 363; Bezrukov & Gorbunov arXiv:0912.0390 eq. (3.3);
    Boiarska et al. arXiv:1904.10447 App. B.1), with the MSbar m_t, m_b of this module; 0 above m_b.
    6.1 g as m -> 0.  Never used together with the exclusive B channels (option ``b_production``).
    """
    m, g = _as_arrays(m, g)
    x = jnp.clip(1.0 - (m / M_B_QUARK) ** 2, 0.0, None)
    ratio = (27.0 * math.sqrt(2.0) * C.G_F * M_T_MSBAR**4 * (V_TS * V_TB / V_CB) ** 2
             / (64.0 * C.PI**2 * PHASE_SPACE_BCENU * M_B_QUARK**2))
    return g * BR_B_XCLNU * ratio * x * x


def inclusive_recoil_mass(m, m_meson):
    """The recoil mass m_X [GeV] that gives the scalar of B -> X_s S (B of mass ``m_meson``) the
    momentum of the free-quark decay b -> s S in the b rest frame, p = (m_b^2 - m^2)/(2 m_b):
    m_X^2 = m_B^2 + m^2 - 2 m_B sqrt(p^2 + m^2).  The approximation of the inclusive kinematics: the b
    quark at rest in the B (no Fermi motion), a massless s quark, the B mass for the boost."""
    m = jnp.minimum(jnp.asarray(m), 0.999 * M_B_QUARK)
    p = (M_B_QUARK**2 - m * m) / (2.0 * M_B_QUARK)
    return jnp.sqrt(m_meson**2 + m * m - 2.0 * m_meson * jnp.sqrt(p * p + m * m))


def b_channel_declarations(b_production="exclusive") -> dict:
    """{name: declaration} of the B-meson channels of one production mode: "exclusive" (B -> K S,
    B -> K* S, B_s -> phi S) or "inclusive" (B -> X_s S of B+, B0 and B_s, one recoil node at
    :func:`inclusive_recoil_mass`)."""
    if b_production == "inclusive":
        def decl(parent, m_b):
            return RecoilDecay(f"{parent}->xs", parent, m_b, lambda m, g: br_b_to_xs_scalar(m, g),
                               lambda m: (jnp.reshape(inclusive_recoil_mass(m, m_b), (1,)),
                                          jnp.ones((1,), jnp.result_type(m, float))),
                               threshold_mass=M_B_QUARK)

        return {c.name: c for c in (decl("bplus", M_BPLUS), decl("b0", M_B0), decl("bs", M_BS))}
    return {
        "bplus->kplus": MesonDecay("bplus", "kplus", M_BPLUS, C.M_K, lambda m, g: br_b_to_k_scalar(m, g, charged=True)),
        "b0->k0": MesonDecay("b0", "k0", M_B0, C.M_K0, lambda m, g: br_b_to_k_scalar(m, g, charged=False)),
        "bplus->kstarplus": MesonDecay("bplus", "kstarplus", M_BPLUS, M_KSTAR_PLUS,
                                       lambda m, g: br_b_to_kstar_scalar(m, g, charged=True)),
        "b0->kstar0": MesonDecay("b0", "kstar0", M_B0, M_KSTAR0,
                                 lambda m, g: br_b_to_kstar_scalar(m, g, charged=False)),
        "bs->phi": MesonDecay("bs", "phi", M_BS, M_PHI, br_bs_to_phi_scalar),
    }


#: every production channel of the dark scalar (the default of ``DarkScalar.production_channels``): the
#: exclusive B -> K S, B -> K* S and B_s -> phi S (the two-body B channels of Boiarska et al.
#: arXiv:1904.10447 sec. 2.1 with the largest rates; their K_0*(700), K_1 channels are not modelled) and the kaon decays
PRODUCTION_CHANNELS = ("bplus->kplus", "b0->k0", "bplus->kstarplus", "b0->kstar0", "bs->phi",
                       "kplus->piplus", "klong->pi0")
#: the exclusive B channels (``b_production="exclusive"``, the default)
EXCLUSIVE_B_CHANNELS = ("bplus->kplus", "b0->k0", "bplus->kstarplus", "b0->kstar0", "bs->phi")
#: the inclusive B channels (``b_production="inclusive"``), replacing every exclusive one
INCLUSIVE_B_CHANNELS = ("bplus->xs", "b0->xs", "bs->xs")
#: channels a user may add with production_channels=... but which are not in the default list: proton
#: bremsstrahlung "brems" (fipscan.production.scalar_bremsstrahlung)
OPTIONAL_CHANNELS = ("brems",)
B_PRODUCTION_MODES = ("exclusive", "inclusive")


def resolve_production_channels(model_name, chosen, b_production, default, extra=()) -> tuple[str, ...]:
    """A dark-scalar model's production_channels for its b_production mode: the default list with its
    exclusive B channels replaced by :data:`INCLUSIVE_B_CHANNELS` in inclusive mode; an explicit list
    checked against the names of its mode (exclusive and inclusive B channels never together).
    ConfigError (one line) otherwise."""
    if b_production not in B_PRODUCTION_MODES:
        raise ConfigError(f"{model_name} b_production must be one of {', '.join(B_PRODUCTION_MODES)}, "
                          f"not {b_production!r}")
    others = (tuple(c for c in PRODUCTION_CHANNELS if c not in EXCLUSIVE_B_CHANNELS) + tuple(extra)
              + OPTIONAL_CHANNELS)
    if b_production == "inclusive":
        if tuple(chosen) == tuple(default):
            chosen = INCLUSIVE_B_CHANNELS + tuple(c for c in default if c not in EXCLUSIVE_B_CHANNELS)
        known = INCLUSIVE_B_CHANNELS + others
    else:
        known = EXCLUSIVE_B_CHANNELS + others
    return production_channel_names(f"{model_name} (b_production={b_production})", chosen, known)


def _b_parent(channel: str) -> str:
    return channel.split("->")[0]


def switch_b_production(chosen, mode) -> tuple[str, ...] | None:
    """The production channels ``chosen`` with their B channels in b_production ``mode`` ("exclusive" or
    "inclusive"): the B channels of the other mode replaced, in place of the first of them, by every
    channel of ``mode`` with one of the same B parents (bplus, b0, bs); None when ``chosen`` has no B
    channel of the other mode."""
    own = INCLUSIVE_B_CHANNELS if mode == "exclusive" else EXCLUSIVE_B_CHANNELS
    new = EXCLUSIVE_B_CHANNELS if mode == "exclusive" else INCLUSIVE_B_CHANNELS
    chosen = tuple(chosen)
    parents = {_b_parent(c) for c in chosen if c in own}
    if not parents:
        return None
    first = min(i for i, c in enumerate(chosen) if c in own)
    rest = [c for c in chosen if c not in own]
    k = sum(1 for c in chosen[:first] if c not in own)
    return tuple(rest[:k]) + tuple(c for c in new if _b_parent(c) in parents) + tuple(rest[k:])


@dataclass(frozen=True)
class DarkScalar:
    """BC4 dark scalar: Higgs mixing angle theta, coupling axis sin^2 theta (PBC arXiv:1901.09966, sec. 3.2).

    Options (``--model-option KEY=VALUE``): production_channels -- names among
    :data:`PRODUCTION_CHANNELS` (default all) and :data:`OPTIONAL_CHANNELS` ("brems", proton
    bremsstrahlung, only when listed); kaon_interaction_length -- the kaon nuclear interaction
    length [m] in the dump material that decides which kaons decay before interacting (default
    :data:`LAMBDA_INT_KAON_CU`, copper); kaon_dump_length -- the length [m] of the dump along the beam
    for the same purpose (default inf, the thick-target limit; :func:`kaon_decay_fraction`);
    width_variation -- "nominal" (default), "low" or "high": the
    hadronic widths in 1-2 GeV x 1/2 or x 2 (:func:`width_variation_factor`), to draw the band;
    b_production -- "exclusive" (default: B -> K S, B -> K* S, B_s -> phi S,
    :data:`EXCLUSIVE_B_CHANNELS`) or "inclusive" (B -> X_s S, :data:`INCLUSIVE_B_CHANNELS`, which then
    replace the exclusive ones; never both).
    """

    production_channels: tuple[str, ...] = PRODUCTION_CHANNELS
    kaon_interaction_length: float = LAMBDA_INT_KAON_CU
    kaon_dump_length: float = math.inf
    width_variation: str = "nominal"
    b_production: str = "exclusive"

    #: production channels a subclass adds to the dark scalar's (names, and :meth:`_extra_production`)
    extra_channels: ClassVar[tuple[str, ...]] = ()
    name: ClassVar[str] = "dark-scalar"
    benchmark: ClassVar[str] = "BC4"
    label: ClassVar[str] = r"BC4 dark scalar (Higgs mixing $\theta$)"
    symbol: ClassVar[str] = "S"
    definition: ClassVar[str] = r"$\mathcal{L}\supset-\sin\theta\,\frac{m_f}{v}S\bar ff$"
    #: scan range up to the physical bound: below 2 m_mu the scalar is so long-lived that the region
    #: reaches sin^2 theta = 1 at NA62-BD
    coupling: ClassVar[Coupling] = Coupling("sin2theta", r"$\sin^2\theta$", production_power=1.0, width_power=1.0,
                                         max=1.0, scan_range=(1e-12, 1.0))
    spin: ClassVar[int] = 0
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 4.5)
    default_final_states: ClassVar[tuple[str, ...]] = ("ee", "mumu", "pipi")

    def __post_init__(self):
        default = type(self).__dataclass_fields__["production_channels"].default
        chans = resolve_production_channels(self.name, self.production_channels, self.b_production, default,
                                            self.extra_channels)
        object.__setattr__(self, "production_channels", chans)
        lam = self.kaon_interaction_length
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not (0 < lam < math.inf):
            raise ConfigError(f"dark-scalar kaon_interaction_length must be a positive length in metres, not {lam!r}")
        object.__setattr__(self, "kaon_interaction_length", float(lam))
        length = self.kaon_dump_length
        if isinstance(length, bool) or not isinstance(length, (int, float)) or not 0 < length <= math.inf:
            raise ConfigError(f"dark-scalar kaon_dump_length must be a positive length in metres (or inf), "
                              f"not {length!r}")
        object.__setattr__(self, "kaon_dump_length", float(length))
        if self.width_variation not in WIDTH_VARIATIONS:
            raise ConfigError(f"dark-scalar width_variation must be one of {', '.join(WIDTH_VARIATIONS)}, "
                              f"not {self.width_variation!r}")

    def settings(self) -> dict:
        return {"model": self.name, "production_channels": list(self.production_channels),
                "kaon_interaction_length": self.kaon_interaction_length,
                **({"kaon_dump_length": self.kaon_dump_length} if math.isfinite(self.kaon_dump_length) else {}),
                "width_variation": self.width_variation, "physics_version": 2,
                **({"b_production": self.b_production} if self.b_production != "exclusive" else {})}

    def production_variations(self) -> dict[str, dict]:
        """The production alternatives (fipscan.bands): the B-meson channels exclusive (B -> K S, K* S,
        B_s -> phi S; Boiarska et al. arXiv:1904.10447 sec. 2.1) <-> inclusive (B -> X_s S, the free-quark
        rate of Grinstein, Hall, Randall 1988, :func:`br_b_to_xs_scalar`): {"b_production=inclusive":
        {"b_production": "inclusive", "production_channels": (...)}} for the default model, the channels of
        the same B parents in the other mode replacing this model's (:func:`switch_b_production`); {} when
        no B channel is chosen.  Not variations: "brems" (an optional extra channel, not an alternative
        estimate of a channel in the model), kaon_interaction_length and kaon_dump_length (the dump's
        material and length, inputs rather than uncertainties), br_h_to_ss of BC5 (its definition)."""
        other = "inclusive" if self.b_production == "exclusive" else "exclusive"
        chans = switch_b_production(self.production_channels, other)
        if chans is None:
            return {}
        return {f"b_production={other}": {"b_production": other, "production_channels": chans}}

    def decay_variations(self) -> dict[str, dict]:
        """The decay-width alternatives (the "decay" band of fipscan.bands): the hadronic widths in 1-2 GeV
        x 1/2 and x 2 (``width_variation`` "low" / "high", :func:`width_variation_factor`: the factor-two
        uncertainty of Gorbunov, Kriukova, Teryaev arXiv:2303.12847), the two values other than this
        model's."""
        return {f"width_variation={v}": {"width_variation": v} for v in WIDTH_VARIATIONS if v != self.width_variation}

    def total_width(self, m, g):
        """Total width [GeV] (:func:`total_width`, with this model's ``width_variation``)."""
        return total_width(m, g, self.width_variation)

    def branching_ratios(self, m) -> dict:
        """Branching ratios keyed by final-state name (:func:`branching_ratios`, ``width_variation``)."""
        return branching_ratios(m, self.width_variation)

    def production(self) -> tuple:
        """Declarations of the production channels (fipscan.production.channels)."""
        lam, length = self.kaon_interaction_length, self.kaon_dump_length

        def kaon_weight(m_k, tau_k):
            return lambda p: kaon_decay_fraction(p, m_k, tau_k, lam, length)

        chans = {
            **b_channel_declarations(self.b_production),
            "kplus->piplus": MesonDecay("kplus", "piplus", C.M_K, C.M_PI,
                                        lambda m, g: br_k_to_pi_scalar(m, g, charged=True),
                                        parent_weight=kaon_weight(C.M_K, TAU_KPLUS)),
            "klong->pi0": MesonDecay("klong", "pi0", C.M_K0, C.M_PI0,
                                     lambda m, g: br_k_to_pi_scalar(m, g, charged=False),
                                     parent_weight=kaon_weight(C.M_K0, TAU_KLONG)),
            "brems": Bremsstrahlung(
                table=lambda m, ep, et, e_beam: scalar_brems_pt_theta_table(m, ep, et, e_beam=e_beam,
                                                                            sin2theta=1.0),
                total=lambda m, g, e_beam: scalar_brems_total(m, g, e_beam),
                p_support=scalar_brems_p_support),
            **self._extra_production(),
        }
        return tuple(chans[name] for name in self.production_channels)

    def _extra_production(self) -> dict:
        """{name: declaration} of the channels a subclass adds (:attr:`extra_channels`); none here."""
        return {}
