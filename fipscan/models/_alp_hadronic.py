"""Hadronic physics of an axion-like particle with a gluon coupling: ALP-meson mixing, two-photon and
hadronic widths (shared by BC11, fipscan.models.alp_gluon, and through an effective gluon coupling BC10).

Pure JAX functions of arrays (broadcasting over (m, inv_fg), differentiable, keeping the dtype of their
inputs; complex intermediate amplitudes are complex64 for float32 inputs).  Units: GeV, GeV^-1.

Coupling and normalisation
--------------------------
    L = (alpha_s / (8 pi)) (a / f_G) G^b_{mu nu} G~^{b mu nu},   G~^{mu nu} = 1/2 eps^{mu nu rho sigma} G_{rho sigma},

with the coupling axis 1/f_G [GeV^-1] (PBC BC11: Beacham et al. arXiv:1901.09966; FIPs 2022, Antel et al.
arXiv:2305.01715), the normalisation of the QCD axion's f_a.  What the search tool could and could not
confirm (see the report of this module's author): the Lagrangian of the PBC text itself was not
retrievable (only page openings of the reports are stored); the normalisation above is the one of the
brief.  It is the one of Aloni, Soreq, Williams (ASW, arXiv:1811.03474), whose PRL normalises the ALP as
Bauer-Neubert-Thamm (BNT, arXiv:1708.00443) do, L = g_s^2 C_GG (a/Lambda) G G~ = 4 pi alpha_s (c_g/Lambda) a G G~,
so that

    1/f_G = 32 pi^2 C_GG / Lambda = 32 pi^2 c_g / Lambda      (:func:`inv_fg_from_c_gg`, :func:`c_gg_from_inv_fg`).

Independent check of this map (tests/test_alp_hadronic.py): with it, the two-photon width computed here
reproduces the ASW a -> gamma gamma width (their partial-width figure as digitised and published with the
ALPINIST package at c_g/Lambda = 1 TeV^-1, i.e. 1/f_G = 0.316 GeV^-1) to 3% at 0.3 GeV, where no model
choice enters but the chiral rotation; with 1/f_G = 32 pi^2 c_g/Lambda replaced by the alternative below the
widths would be off by (2 pi/alpha_s)^2 ~ 10^2..10^3.  Caveat: the ALPaca package (Alda et al.) maps BC11 onto
c_G (alpha_s/4pi) a/f G G~ with c_G = (pi/alpha_s) f/f_G, i.e. L = a G G~ /(4 f_G), which differs from the
map above by alpha_s/(2 pi); the PBC text should decide.

ALP-meson mixing (:func:`mixing_angles`)
-----------------------------------------
The gluon coupling is removed by the chiral rotation q -> exp(i gamma5 kappa_q a/(2 f_G)) q, Tr kappa = 1,
kappa_q = m_q^-1 / sum m_q'^-1 (Georgi, Kaplan, Randall, Phys. Lett. B 169 (1986) 73; ASW's choice), which
leaves (i) a derivative coupling (d_mu a/(2 f_G)) qbar kappa gamma^mu gamma5 q and (ii) the ALP in the quark
mass matrix, M(a) = M exp(i kappa a / f_G).  In the leading-order U(3) chiral Lagrangian
(f^2/4) Tr(D U D U^+) + (f^2/2) B0 Tr(M(a) U^+ + h.c.) - m0^2 eta0^2 / 2, U = exp(i Pi / f),
Pi = sum_P P lambda_P, lambda_pi = diag(1,-1,0), lambda_8 = diag(1,1,-2)/sqrt3, lambda_0 = sqrt(2/3) 1,
this gives (derived for fipscan; the same structure as the kinetic and mass mixing of ASW's Supplemental
Material, whose mixing matrix elements S_PP' are their eq. (S8)):

    L ⊃ k_P d a d P + mu_P^2 a P,   k_P = -(f/(2 f_G)) Tr(kappa lambda_P),   mu_0^2 = sqrt6 B0 f / (f_G Tr M^-1),

(mu_pi = mu_8 = 0: with kappa ~ M^-1 only the singlet eta0 mixes through the mass term).  For an on-shell
ALP the meson fields contain P = theta_aP a with

    (M^2 - m_a^2) theta = k m_a^2 + mu^2,   i.e. theta_aP = (k_P m_a^2 + mu_P^2) / (m_P^2 - m_a^2 - i m_P Gamma_P)

in the basis of the physical pi0, eta, eta' (masses and widths from PDG, eta-eta' angle sin(theta_P) = -1/3,
eta = cos eta8 - sin eta0), to first order in 1/f_G and in the isospin breaking delta_I = (m_d - m_u)/(m_d + m_u):
the LO pi0-eta8 and pi0-eta0 mass terms -m_pi^2 delta_I / sqrt3, -m_pi^2 delta_I sqrt(2/3) (rotated to
eta, eta': -m_pi^2 delta_I sqrt(2/3) and -m_pi^2 delta_I / sqrt3, ASW eq. (S8)) feed the eta, eta' admixture
into the pi0 one and back.  The degeneracy m_a = m_P is regulated by the meson widths (the -i m_P Gamma_P),
floored at 1e-5 m_P (:data:`MIXING_POLE_FLOOR`: the pi0 and eta are narrower; without the floor |theta|
would exceed 1 at the pi0 pole for 1/f_G >~ 1e-6 GeV^-1): theta is complex, exactly linear in 1/f_G and
finite at m_a = m_P, where |theta| = |k m_P^2 + mu^2| / (m_P Gamma_reg) (first order in 1/f_G, valid for
|theta| << 1: at the poles for 1/f_G <~ 1e-5 GeV^-1, the couplings of the NA62-BD region).
Far from the resonances and for m_s -> infinity, theta_api -> -(f/(2 f_G)) delta_I m_a^2 / (m_pi^2 - m_a^2)
(the leading-order a-pi0 mixing of an ALP with a gluon coupling, BNT arXiv:1708.00443 sec. 3), tested; the
U(3) eta0 mass mixing fed through the isospin-breaking pi0-eta(') mass terms adds a constant
~5e-3 f/f_G that dominates below ~50 MeV (and moves theta_api by ~5% at 0.3 GeV).

Above ~1 GeV, ASW replace the chiral representation by a flavour-blind one whose strength follows alpha_s:
the ALP's U(3) matrix A = sum_P theta_aP lambda_P becomes (f/f_G) alpha~_s(m_a) diag(1,1,1) (ASW main text;
alpha~_s = 1 below 1 GeV, linear to alpha_s(1.5 GeV) at 1.5 GeV, alpha_s above, as in the transcription of
ASW in the ALPaca package); here the two are blended with a smooth step from 1.0 to 1.2 GeV
(:data:`BLEND_GEV`; the strength 1 in front of alpha~_s is fixed by the ASW gamma gamma curve at 1.3 GeV and
makes the blend nearly seamless).  Above 1.4 GeV every hadronic amplitude is multiplied by the data-driven
F(m_a) (ASW eq. (14); equation numbers of ASW as quoted by the ALPaca transcription): 1 below 1.4 GeV,
(1.4 GeV/m_a)^4 above 2 GeV, linear in between.  The exported
mixing angles include F.  Sign convention: theta_aP is the coefficient of a in the meson field P (the
ALP state contains -theta_aP P); mixing_sq = |theta|^2.

Widths (:func:`partial_widths`)
-------------------------------
* gamma gamma: L = (g/4) a F F~ with g = g_chiral (1 - w) + F(m) (alpha/(pi f)) N_c Tr(A Q^2): the chiral
  rotation's anomaly term g_chiral = -(alpha/(pi f_G)) N_c Tr(kappa Q^2) (the -1.92 of the QCD axion at LO,
  Grilli di Cortona et al. arXiv:1511.02867 sec. 2; it cancels the VMD term as m_a -> infinity in the chiral
  representation) switched off with the blend w as ASW do above m_eta' (ASW eq. (S26)), and the mixing/VMD
  term, which at LO equals the WZW anomaly of the admixed pi0, eta, eta' (ASW's a -> V V -> gamma gamma,
  eq. (S27)).
  Gamma = g^2 m^3 / (64 pi) (:func:`g_agammagamma_eff`; signed: :func:`gamma_amplitude`).  Not included:
  the two-loop C_gammagamma from the running of C_GG above the hadronic scale, which ASW add above 1.5 GeV
  (our gamma gamma width is ~2x below theirs at 1.5 GeV; irrelevant for BRs there, < 1e-4).
* pi+ pi- pi0, 3 pi0: LO chiral amplitudes of a pseudoscalar whose decay to three pions violates isospin
  through the quark masses, as eta -> 3 pi (Gasser, Leutwyler, Nucl. Phys. B 250 (1985) 539, the LO
  amplitude; for the ALP, ASW eqs. (S31)-(S33) and BNT arXiv:1708.00443 sec. 3, a -> 3 pi):
  M(a -> 3 pi0) = N = (m_pi^2 / f^2) (theta_pi - K delta_I abar),
  M(a -> pi+ pi- pi0) = (N/3) (3 s - 4 m_pi^2) / (m_a^2 - m_pi^2),  s = m^2(pi+ pi-),
  with theta_pi the pi0 admixture and abar = (A_uu + A_dd)/2 the isoscalar u ubar + d dbar content of the ALP
  (the term m_pi^2 delta_I abar is derived for fipscan from (f^2/2) B0 Tr(M U) at fourth order; the theta_pi
  term is ASW's eq. (S31); the s dependence of the charged mode is the one that makes the three charged
  amplitudes sum to the neutral one, as for eta -> 3 pi, and it removes the growth ~ s/f^2 that the
  off-shell pion alone would have and the direct ALP vertices of the chiral rotation cancel).
  K = :data:`K_ETA3PI` scales the isospin-breaking term so that the same formula, for the physical eta
  (abar = lambda_eta,uu, theta_pi its LO pi0 admixture), gives PDG Gamma(eta -> pi+ pi- pi0) (the LO chiral
  eta -> 3 pi is ~2x too small in amplitude; ASW use a rate factor 2.7).  One-dimensional Dalitz integral
  (Gauss-Legendre in s), PDG masses.
* pi+ pi- gamma, eta pi pi: the ASW widths (their partial-width figure, digitised in the ALPINIST package,
  Jerhot et al. arXiv:2201.05170, files widths/integrated/digitized_width_2PiGamma.dat and _2PiEta.dat, at
  c_g/Lambda = 1 TeV^-1; data only, nodes rounded to three digits below) divided by |abar|^2 of this module
  at the same coupling (a smooth "reduced width", since both channels proceed through the isoscalar
  u ubar + d dbar content: a -> rho gamma and a -> (sigma, f0, a0, f2) eta, ASW eqs. (S48)-(S51)),
  interpolated in log(m - threshold) and multiplied by |abar(m)|^2: the
  eta and eta' resonances come from the mixing here, finite at the poles.  eta pi pi is split into
  pi+ pi- eta : pi0 pi0 eta as in eta' decays (PDG: 42.5% : 22.4%).
* K K pi (above 1.12 GeV): the ASW curve (ALPINIST digitized_width_2KPi.dat) as a width, split by isospin
  for an I = 0 parent: K+ K- pi0 1/6, the rest (K0 K0bar pi0, K+- K0 pi-+) 5/6 ("k0kpi", not reconstructed).
* other: above 1 GeV, the ASW total width (ALPINIST digitized_width_total.dat: exclusive channels and, above
  ~1.5 GeV, their match to perturbative a -> g g) minus the sum of the channels above, floored at 0 and
  switched on with a smooth step from 1.0 to 1.2 GeV (rho rho, omega omega, K* K*, phi phi, 4 pi, eta' pi pi...).
Below 2 m_pi only gamma gamma is open (BR = 1).  Every width is exactly proportional to (1/f_G)^2.
Amplitudes are complex only through the width regulator of the mixing; |M|^2 is used throughout.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from fipscan import constants as C
from fipscan.kernels.kinematics import kallen
from fipscan.kernels.numerics import float_dtype

__all__ = [
    "F_PI", "DELTA_I", "KAPPA", "SIN_THETA_ETA", "K_ETA3PI", "BLEND_GEV", "GAMMA_PI0", "INV_FG_REF", "MIXING_RESONANCES",
    "c_gg_from_inv_fg", "inv_fg_from_c_gg", "alpha_s", "vmd_suppression",
    "mixing_angles", "mixing_sq", "u3_matrix", "gamma_amplitude", "g_agammagamma_eff", "width_gammagamma",
    "width_3pi", "partial_widths", "total_width", "branching_ratios", "FINAL_STATES",
]

# --- parameters ------------------------------------------------------------------------------
F_PI = 0.0921  #: pion decay constant [GeV], f = f_pi+/sqrt2 (PDG f_pi+ = 130.2 MeV)
MU_OVER_MD = 0.474  #: m_u/m_d (PDG 2024 quark-mass review: 0.47 +0.06 -0.07; FLAG 2021: 0.465(24))
MS_OVER_MUD = 27.33  #: m_s / ((m_u + m_d)/2) (FLAG 2021: 27.2-27.4)
_MQ = np.array([MU_OVER_MD, 1.0, MS_OVER_MUD * (1.0 + MU_OVER_MD) / 2.0])  # (u, d, s) in units of m_d
KAPPA = (1.0 / _MQ) / np.sum(1.0 / _MQ)  #: kappa_q = m_q^-1 / Tr M^-1 (u, d, s)
DELTA_I = (1.0 - MU_OVER_MD) / (1.0 + MU_OVER_MD)  #: (m_d - m_u) / (m_d + m_u)
SIN_THETA_ETA = -1.0 / 3.0  #: eta-eta' mixing angle (octet-singlet), theta = -19.5 deg (ASW)
_COS_T = math.sqrt(1.0 - SIN_THETA_ETA**2)
GAMMA_PI0 = 7.8e-9  #: pi0 total width [GeV] (PDG: tau = 8.43e-17 s)

#: relative floor of the width that regulates the mixing poles, Gamma_reg = max(Gamma_P, 1e-5 m_P).  The
#: mixing angle here is first order in 1/f_G; at m_a = m_P it is |theta| = |k m_P^2 + mu^2| / (m_P Gamma_reg),
#: which with the pi0's own width (6e-8 m_pi) exceeds 1 already at 1/f_G ~ 1e-6 GeV^-1 (a fraction
#: |theta|^2 > 1 of the pi0 would become ALPs: the exact 2 x 2 diagonalisation caps it at 1/2, but it is
#: not linear in 1/f_G^2, which the yield tables need).  With the floor |theta_api| <= 0.02 at the pole for
#: 1/f_G <= 1e-5 GeV^-1 (eta: the floor is 4x its width; eta': unchanged, 2e-4 m wide); the production
#: within ~1e-5 m_P of the pi0 and eta poles is underestimated by the floor, i.e. conservatively.
MIXING_POLE_FLOOR = 1e-5
#: the ALP-meson mixing poles as a model's ``resonances`` (name, M, Gamma_reg [GeV]): scans refine the
#: mass grid at M + t Gamma_reg (fipscan.grid.refine_masses), which resolves the regulated peak
MIXING_RESONANCES = tuple((name, mass, max(width, MIXING_POLE_FLOOR * mass)) for name, mass, width in
                          (("pi0", C.M_PI0, GAMMA_PI0), ("eta", C.M_ETA, C.GAMMA_ETA), ("etap", C.M_ETAP, C.GAMMA_ETAP)))
BLEND_GEV = (1.0, 1.2)  #: chiral -> flavour-blind U(3) representation (smooth step) [GeV]

#: flavour-diagonal generators (u, d, s) of the physical pi0, eta, eta' (Tr(lambda_a lambda_b) = 2 delta_ab)
_L8 = np.array([1.0, 1.0, -2.0]) / math.sqrt(3.0)
_L0 = np.array([1.0, 1.0, 1.0]) * math.sqrt(2.0 / 3.0)
LAMBDA = np.stack([np.array([1.0, -1.0, 0.0]), _COS_T * _L8 - SIN_THETA_ETA * _L0,
                   SIN_THETA_ETA * _L8 + _COS_T * _L0])
_MP = np.array([C.M_PI0, C.M_ETA, C.M_ETAP])
_GP = np.maximum(np.array([GAMMA_PI0, C.GAMMA_ETA, C.GAMMA_ETAP]), MIXING_POLE_FLOOR * _MP)  # Gamma_reg
_CKIN = LAMBDA @ KAPPA  # Tr(kappa lambda_P)
#: B0 / Tr M^-1 = m_pi^2 m_u m_d m_s / ((m_u + m_d) (m_u m_d + m_u m_s + m_d m_s))
_B0_OVER_TRMINV = C.M_PI0**2 * np.prod(_MQ) / ((_MQ[0] + _MQ[1])
                                                * (_MQ[0] * _MQ[1] + _MQ[0] * _MQ[2] + _MQ[1] * _MQ[2]))
_MU2_0 = math.sqrt(6.0) * _B0_OVER_TRMINV  # mu_0^2 f_G / f
_MU2 = np.array([0.0, -SIN_THETA_ETA, _COS_T]) * _MU2_0  # eta0 = -sin eta + cos eta'
_EPS_PI_ETA = -C.M_PI0**2 * DELTA_I * (_COS_T / math.sqrt(3.0) - SIN_THETA_ETA * math.sqrt(2.0 / 3.0))
_EPS_PI_ETAP = -C.M_PI0**2 * DELTA_I * (SIN_THETA_ETA / math.sqrt(3.0) + _COS_T * math.sqrt(2.0 / 3.0))
_Q2 = np.array([4.0 / 9.0, 1.0 / 9.0, 1.0 / 9.0])  # quark charges squared (u, d, s)
_NC = 3.0
ALPHA_S_MTAU = 0.33  # one-loop n_f = 3 alpha_s normalised at m_tau (PDG QCD review: 0.312-0.33)
_LAMBDA3 = C.M_TAU * math.exp(-2.0 * math.pi / (9.0 * ALPHA_S_MTAU))


def c_gg_from_inv_fg(x):
    """c_g / Lambda = C_GG / Lambda [GeV^-1] (ASW, BNT) from 1/f_G [GeV^-1]: 1/f_G / (32 pi^2) (module docstring)."""
    return jnp.asarray(x) / (32.0 * math.pi**2)


def inv_fg_from_c_gg(x):
    """1/f_G [GeV^-1] from C_GG / Lambda [GeV^-1] (BNT L = g_s^2 C_GG a/Lambda G G~): 32 pi^2 C_GG / Lambda."""
    return jnp.asarray(x) * (32.0 * math.pi**2)


def _as(m, g):
    dtype = float_dtype(m, g)
    return jnp.asarray(m, dtype), jnp.asarray(g, dtype)


def _smoothstep(x, lo, hi):
    t = jnp.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def alpha_s(m, xp=jnp):
    """One-loop n_f = 3 alpha_s(m) normalised to 0.33 at m_tau (Lambda = 0.21 GeV); m is clipped at 1 GeV."""
    m = xp.maximum(xp.asarray(m), 1.0)
    return 4.0 * math.pi / (9.0 * xp.log(m * m / _LAMBDA3**2))


def _alpha_tilde(m, xp=jnp):
    """ASW's alpha~_s: 1 below 1 GeV, linear to alpha_s(1.5 GeV) at 1.5 GeV, alpha_s above."""
    a15 = float(4.0 * math.pi / (9.0 * math.log(2.25 / _LAMBDA3**2)))
    lin = 1.0 + (m - 1.0) * (a15 - 1.0) / 0.5
    return xp.where(m < 1.0, 1.0, xp.where(m < 1.5, lin, alpha_s(m, xp)))


def vmd_suppression(m, xp=jnp):
    """ASW's data-driven F(m) (arXiv:1811.03474 eq. (14)): 1 below 1.4 GeV, (1.4/m)^4 above 2 GeV, linear between
    (ASW give the two limits; the linear join between 1.4 and 2 GeV is the one of the ALPaca transcription)."""
    m = xp.asarray(m)
    mid = 1.0 + (m - 1.4) * ((1.4 / 2.0) ** 4 - 1.0) / 0.6
    m_safe = xp.maximum(m, 2.0)
    return xp.where(m < 1.4, 1.0, xp.where(m <= 2.0, mid, (1.4 / m_safe) ** 4))


def _smoothstep_xp(x, lo, hi, xp):
    t = xp.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _theta_unit(m, xp=jnp):
    """Complex (theta_pi, theta_eta, theta_eta') per unit f/f_G (chiral representation, no F), shape (..., 3).
    xp: jax.numpy (the model) or numpy (tables at import)."""
    m2 = (m * m)[..., None]
    cdt = (jnp.complex64 if m.dtype == jnp.float32 else jnp.complex128) if xp is jnp else np.complex128
    d = (xp.asarray(_MP**2, m.dtype) - m2).astype(cdt) - 1j * xp.asarray(_MP * _GP, m.dtype)
    v = -0.5 * xp.asarray(_CKIN, m.dtype) * m2 + xp.asarray(_MU2, m.dtype)
    t0 = v / d  # leading order in delta_I
    dp, de, dq = d[..., 0], d[..., 1], d[..., 2]
    th_pi = (v[..., 0] - _EPS_PI_ETA * t0[..., 1] - _EPS_PI_ETAP * t0[..., 2]) / dp
    th_eta = (v[..., 1] - _EPS_PI_ETA * t0[..., 0]) / de
    th_etap = (v[..., 2] - _EPS_PI_ETAP * t0[..., 0]) / dq
    return xp.stack([th_pi, th_eta, th_etap], axis=-1)


def _theta_blend(m, xp=jnp):
    """theta per unit f/f_G with the chiral -> flavour-blind blend and F(m); complex, shape (..., 3)."""
    w = _smoothstep_xp(m, *BLEND_GEV, xp)[..., None]
    # flavour-blind A = alpha~ diag(1,1,1): theta_P = Tr(A lambda_P)/2
    high = _alpha_tilde(m, xp)[..., None] * xp.asarray(LAMBDA.sum(axis=1) / 2.0, m.dtype)
    th = (1.0 - w) * _theta_unit(m, xp) + w * high
    return th * vmd_suppression(m, xp)[..., None]


@jax.jit
def mixing_angles(m, inv_fg) -> dict:
    """{"pi0", "eta", "etap": theta_aP} (complex, dimensionless, linear in inv_fg [GeV^-1]); m [GeV].

    theta_aP is the coefficient of the ALP in the meson field (module docstring); imaginary parts arise only
    within a few widths of the meson poles (width regulator)."""
    m, g = _as(m, inv_fg)
    th = _theta_blend(m) * (F_PI * g)[..., None]
    return {"pi0": th[..., 0], "eta": th[..., 1], "etap": th[..., 2]}


def mixing_sq(m, inv_fg, parent):
    """|theta_aP|^2 for parent "pi0", "eta" or "etap" (real, dtype of the inputs)."""
    return _mixing_sq_all(m, inv_fg)[parent]


@jax.jit
def _mixing_sq_all(m, inv_fg):
    return {k: v.real**2 + v.imag**2 for k, v in mixing_angles(m, inv_fg).items()}


def u3_matrix(m, inv_fg):
    """Diagonal (u, d, s) of the ALP's U(3) matrix A = sum_P theta_aP lambda_P (complex, shape (..., 3))."""
    m, g = _as(m, inv_fg)
    th = _theta_blend(m) * (F_PI * g)[..., None]
    return th @ jnp.asarray(LAMBDA, m.dtype).astype(th.dtype)


def _abs2(z):
    return z.real**2 + z.imag**2


def _gamma_amp_unit(m, th=None):
    """g_agammagamma per unit 1/f_G (complex): chiral term (switched off with the blend) + VMD term.
    th: _theta_blend(m) when already computed."""
    w = _smoothstep(m, *BLEND_GEV)
    chiral = -(C.ALPHA / math.pi) * _NC * float(np.dot(KAPPA, _Q2))
    th = _theta_blend(m) if th is None else th  # per unit f/f_G
    nq = jnp.asarray(_NC * (LAMBDA @ _Q2), m.dtype)  # N_c Tr(lambda_P Q^2)
    vmd = (C.ALPHA / math.pi) * jnp.sum(th * nq, axis=-1)  # (alpha/(pi f)) N_c Tr(A Q^2), A ~ f/f_G
    return chiral * (1.0 - w) + vmd


def gamma_amplitude(m, inv_fg):
    """Signed (complex) two-photon coupling g [GeV^-1] of L = +(g/4) a F F~ for L = +(alpha_s/(8 pi)) (a/f_G) G G~
    (the chiral term -(alpha/(pi f_G)) N_c Tr(kappa Q^2) is negative; a heavy quark of Yukawa y gives the same
    sign to both couplings, so contributions from quark loops add to this coherently with those signs)."""
    m, g = _as(m, inv_fg)
    return _gamma_amp_unit(m) * g


@jax.jit
def g_agammagamma_eff(m, inv_fg):
    """Effective two-photon coupling |g| [GeV^-1] with Gamma(a -> gamma gamma) = g^2 m^3 / (64 pi)."""
    m, g = _as(m, inv_fg)
    amp = _gamma_amp_unit(m)
    return jnp.sqrt(_abs2(amp)) * jnp.abs(g)


@jax.jit
def width_gammagamma(m, inv_fg):
    """Gamma(a -> gamma gamma) [GeV] (module docstring)."""
    m, g = _as(m, inv_fg)
    return _abs2(_gamma_amp_unit(m)) * g * g * m**3 / (64.0 * math.pi)


# --- a -> 3 pi -------------------------------------------------------------------------------
_kallen = kallen  # fipscan.kernels.kinematics (works on numpy and jax arrays alike)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_GL_X = 0.5 * (_GL_X + 1.0)
_GL_W = 0.5 * _GL_W


def _dalitz_1d(m, m1, m3, amp2):
    """int ds |M(s)|^2 lambda^1/2(s, m1^2, m1^2) lambda^1/2(m^2, s, m3^2) / s / (256 pi^3 m^3) [GeV] for
    a -> (m1 m1)(s) m3; amp2(s) broadcasting against (..., n).  Zero (with finite gradients) below threshold.
    The substitution s = s_lo + (s_hi - s_lo) (1 - cos(pi u))/2 removes the square-root end points."""
    thr = 2.0 * m1 + m3
    above = m > thr
    ms = jnp.where(above, m, thr + 0.05)
    s_lo = 4.0 * m1 * m1
    s_hi = (ms - m3) ** 2
    u = jnp.asarray(_GL_X, m.dtype)
    c = 0.5 * (1.0 - jnp.cos(math.pi * u))
    jac = 0.5 * math.pi * jnp.sin(math.pi * u)
    s = s_lo + (s_hi - s_lo)[..., None] * c
    l1 = jnp.maximum(_kallen(s, m1 * m1, m1 * m1), 0.0)
    l2 = jnp.maximum(_kallen((ms * ms)[..., None], s, m3 * m3), 0.0)
    f = amp2(s, ms[..., None]) * jnp.sqrt(l1 * l2) / s
    integral = (s_hi - s_lo) * jnp.sum(jnp.asarray(_GL_W, m.dtype) * jac * f, axis=-1)
    return jnp.where(above, integral / (256.0 * math.pi**3 * ms**3), 0.0)


def _abar_from_theta(th):
    """(A_uu + A_dd)/2 from theta (..., 3): the isoscalar u ubar + d dbar content."""
    return th[..., 1] * float(LAMBDA[1, 0]) + th[..., 2] * float(LAMBDA[2, 0])


def _eta3pi_lo_width(k_factor):
    """Gamma(eta -> pi+ pi- pi0) [GeV] of the amplitude of :func:`width_3pi` for the physical eta
    (A = lambda_eta plus its LO pi0 admixture), with the isospin-breaking term times k_factor (numpy)."""
    th_pi = -_EPS_PI_ETA / (C.M_PI0**2 - C.M_ETA**2)
    abar = float(LAMBDA[1, 0])
    m, m1, m3 = C.M_ETA, C.M_PI, C.M_PI0
    x, w = np.polynomial.legendre.leggauss(200)
    s_lo, s_hi = 4 * m1 * m1, (m - m3) ** 2
    s = s_lo + (s_hi - s_lo) * 0.5 * (x + 1)
    n = C.M_PI0**2 * (th_pi - k_factor * DELTA_I * abar) / F_PI**2
    amp = n / 3.0 * (3.0 * s - 4.0 * C.M_PI0**2) / (m * m - C.M_PI0**2)
    l1 = np.clip(_kallen(s, m1 * m1, m1 * m1), 0, None)
    l2 = np.clip(_kallen(m * m, s, m3 * m3), 0, None)
    return float(np.sum(0.5 * (s_hi - s_lo) * w * amp**2 * np.sqrt(l1 * l2) / s) / (256 * math.pi**3 * m**3))


def _solve_k_eta3pi(target=C.GAMMA_ETA * 0.2292):
    """K such that :func:`_eta3pi_lo_width` = PDG Gamma(eta -> pi+ pi- pi0) (BR 22.92%, Gamma_eta 1.31 keV)."""
    lo, hi = 0.5, 10.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _eta3pi_lo_width(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


#: scale of the isospin-breaking a -> 3 pi amplitude reproducing PDG Gamma(eta -> pi+ pi- pi0)
K_ETA3PI = _solve_k_eta3pi()


@jax.jit
def width_3pi(m, inv_fg):
    """(Gamma(a -> pi+ pi- pi0), Gamma(a -> 3 pi0)) [GeV] (module docstring; ASW eqs. (S31)-(S33))."""
    m, g = _as(m, inv_fg)
    c, n = _width_3pi_unit(m, _theta_blend(m))
    return c * g * g, n * g * g


def _width_3pi_unit(m, th_unit):
    """(Gamma(pi+ pi- pi0), Gamma(3 pi0)) per unit (1/f_G)^2, from th_unit = _theta_blend(m)."""
    th = th_unit * F_PI  # per unit 1/f_G
    mpi2 = C.M_PI0**2
    n2 = _abs2(mpi2 * (th[..., 0] - K_ETA3PI * DELTA_I * _abar_from_theta(th)) / F_PI**2)[..., None]

    def amp_charged(s, ms):
        return n2 * ((3.0 * s - 4.0 * mpi2) / (3.0 * (ms * ms - mpi2))) ** 2

    def amp_neutral(s, ms):
        return n2 * jnp.ones_like(s)

    charged = _dalitz_1d(m, C.M_PI, C.M_PI0, amp_charged)
    neutral = _dalitz_1d(m, C.M_PI0, C.M_PI0, amp_neutral) / 6.0
    return charged, neutral


# --- tabulated ASW widths (data: ASW Fig. 2 as digitised in ALPINIST, eV at c_g/Lambda = 1 TeV^-1) ----
INV_FG_REF = 32.0 * math.pi**2 * 1e-3  #: the 1/f_G [GeV^-1] of the tabulated widths (c_g/Lambda = 1 TeV^-1)
_EV = 1e-9

ASW_PIPIGAMMA = np.array([  # (m [GeV], Gamma [eV]) pi+ pi- gamma
    (0.36, 1.0e-4), (0.4168, 1.08e-3), (0.4366, 3.48e-3), (0.4565, 1.17e-2), (0.4774, 4.08e-2),
    (0.4925, 0.110), (0.5042, 0.281), (0.5166, 0.740), (0.5264, 2.13), (0.5362, 10.8), (0.5413, 42.6),
    (0.5503, 80.7), (0.5536, 32.0), (0.5601, 15.0), (0.5667, 7.85), (0.5757, 4.54), (0.592, 2.76),
    (0.6195, 1.91), (0.6494, 1.75), (0.6943, 1.82), (0.7243, 1.94), (0.7543, 1.93), (0.7842, 1.56),
    (0.8049, 0.974), (0.8176, 0.508), (0.8261, 0.222), (0.8322, 0.0728), (0.8366, 0.0048), (0.8380, 0.00091),
    (0.8395, 0.0144), (0.8441, 0.0522), (0.8480, 0.300), (0.8559, 1.39), (0.8665, 5.05), (0.8751, 12.8),
    (0.8862, 37.6), (0.8974, 111.0), (0.9095, 265.0), (0.9210, 822.0), (0.9336, 5690.0), (0.9444, 16000.0),
    (0.9518, 25000.0), (0.9562, 42400.0), (0.9619, 25000.0), (0.9644, 4460.0), (0.9710, 2840.0),
    (0.9851, 1710.0), (1.0082, 1100.0), (1.0382, 814.0), (1.0682, 704.0), (1.0981, 656.0), (1.1281, 644.0),
    (1.1730, 710.0), (1.2179, 783.0), (1.2628, 861.0), (1.3078, 952.0), (1.3527, 1030.0), (1.3976, 1120.0),
    (1.4400, 1180.0), (1.5149, 1180.0), (1.5598, 1140.0), (1.6048, 1060.0), (1.6497, 943.0), (1.6947, 814.0),
    (1.7396, 681.0), (1.7846, 546.0), (1.8295, 422.0), (1.8745, 317.0), (1.9194, 233.0), (1.9644, 170.0),
    (2.0093, 132.0), (2.0542, 115.0), (2.0992, 100.0),
])
ASW_ETAPIPI = np.array([  # (m, Gamma [eV]) eta pi pi, both charge modes
    (0.8338, 5.85e-4), (0.8384, 5.63e-3), (0.8458, 3.24e-2), (0.8512, 0.111), (0.8560, 0.297), (0.8634, 0.897),
    (0.8709, 2.62), (0.8783, 6.54), (0.8857, 15.1), (0.8931, 34.4), (0.9005, 78.5), (0.9079, 183.0),
    (0.9154, 391.0), (0.9201, 761.0), (0.9251, 1580.0), (0.9295, 3500.0), (0.9326, 5720.0), (0.9350, 9400.0),
    (0.9487, 53600.0), (0.9516, 71200.0), (0.9538, 91200.0), (0.9562, 152000.0), (0.9596, 13980.0),
    (0.9625, 11130.0), (0.9668, 8760.0), (0.9721, 6990.0), (0.9831, 5620.0), (0.9981, 4930.0), (1.0131, 4890.0),
    (1.0280, 5190.0), (1.0430, 5840.0), (1.0580, 6650.0), (1.0817, 9130.0), (1.1028, 12900.0), (1.1253, 19200.0),
    (1.1477, 28400.0), (1.1751, 40800.0), (1.2100, 58900.0), (1.2400, 75300.0), (1.2699, 95100.0),
    (1.2998, 115000.0), (1.3298, 137000.0), (1.3597, 160000.0), (1.3896, 184000.0), (1.4196, 206000.0),
    (1.4495, 226000.0), (1.4795, 242000.0), (1.5094, 250000.0), (1.5543, 251000.0), (1.5992, 251000.0),
    (1.6292, 242000.0), (1.6591, 228000.0), (1.6891, 212000.0), (1.7190, 195000.0), (1.7490, 175000.0),
    (1.7790, 155000.0), (1.8090, 134000.0), (1.8389, 114000.0), (1.8689, 96000.0), (1.8989, 79700.0),
    (1.9288, 65900.0), (1.9588, 54400.0), (1.9888, 45700.0), (2.0188, 41400.0), (2.0487, 38500.0),
    (2.0787, 35900.0),
])
ASW_KKPI = np.array([  # (m, Gamma [eV]) K K pi, all charge modes
    (1.1391, 50.0), (1.1403, 151.0), (1.1433, 200.0), (1.1461, 270.0), (1.1491, 381.0), (1.1549, 560.0),
    (1.1607, 778.0), (1.1666, 1015.0), (1.1724, 1363.0), (1.1812, 1812.0), (1.1899, 2343.0), (1.2002, 3000.0),
    (1.2118, 3810.0), (1.2250, 4850.0), (1.2411, 6240.0), (1.2586, 7740.0), (1.2761, 9630.0), (1.2937, 11400.0),
    (1.3112, 13300.0), (1.3288, 15300.0), (1.3463, 17300.0), (1.3639, 19300.0), (1.3814, 21300.0),
    (1.3989, 22700.0), (1.4165, 23900.0), (1.4340, 24800.0), (1.4516, 25600.0), (1.4691, 25900.0),
    (1.5042, 26800.0), (1.5393, 27000.0), (1.5744, 26700.0), (1.6095, 25000.0), (1.6446, 23700.0),
    (1.6797, 21500.0), (1.7149, 18700.0), (1.7500, 15200.0), (1.7851, 12600.0), (1.8202, 10400.0),
    (1.8553, 9010.0), (1.8904, 8590.0), (1.9255, 9110.0), (1.9605, 10300.0), (1.9957, 11900.0),
    (2.0307, 14500.0), (2.0658, 16900.0),
])
ASW_TOTAL = np.array([  # (m, Gamma [eV]) total width above 1 GeV
    (1.0005, 6190.0), (1.0267, 5990.0), (1.0589, 7400.0), (1.0875, 10350.0), (1.1121, 15040.0),
    (1.1349, 22500.0), (1.1574, 32400.0), (1.1840, 47100.0), (1.2115, 63600.0), (1.2414, 83400.0),
    (1.2739, 105900.0), (1.3063, 131000.0), (1.3413, 159900.0), (1.3737, 189200.0), (1.4087, 221800.0),
    (1.4436, 251000.0), (1.4786, 273000.0), (1.5135, 286500.0), (1.5510, 299300.0), (1.5859, 308600.0),
    (1.6234, 309800.0), (1.6583, 308200.0), (1.6933, 297300.0), (1.7282, 278000.0), (1.7657, 252000.0),
    (1.8007, 227400.0), (1.8331, 198100.0), (1.8705, 205100.0), (1.9054, 211500.0), (1.9429, 215100.0),
    (1.9778, 218900.0), (2.0128, 223700.0), (2.0502, 226500.0), (2.0852, 233500.0),
])
ASW_GAMMAGAMMA = np.array([  # (m, Gamma [eV]) a -> gamma gamma (tests only)
    (0.1023, 3.93e-3), (0.2159, 1.65e-2), (0.3095, 7.87e-2), (0.4068, 0.345), (0.4917, 2.38), (0.6005, 1.25),
    (0.7213, 8.06e-2), (0.8086, 1.45), (0.9023, 27.7), (1.0121, 37.6), (1.1416, 11.4), (1.3053, 9.02),
    (1.5075, 7.43), (1.8045, 1.89), (1.9842, 0.378),
])
#: pi+ pi- eta share of eta pi pi (PDG eta' -> pi+ pi- eta 42.5%, pi0 pi0 eta 22.4%)
ETA_PIPI_CHARGED = 42.5 / (42.5 + 22.4)
#: K+ K- pi0 share of K K pi for an isoscalar parent (K+K-pi0 : K0K0bar pi0 : K+-K0 pi-+ = 1 : 1 : 4)
KKPI0_SHARE = 1.0 / 6.0
_M_KKPI0_THR = 2.0 * C.M_K + C.M_PI0


def _abar_unit_np(m):
    """|abar|^2 per unit (1/f_G)^2 at masses m (numpy float64, via the jnp functions)."""
    th = _theta_blend(np.asarray(m, np.float64), np) * F_PI
    a = th[..., 1] * LAMBDA[1, 0] + th[..., 2] * LAMBDA[2, 0]
    return np.abs(a) ** 2


def _log_table(table, thr, reduce):
    """(log(m - thr), log(Gamma / |abar|^2 per unit coupling^2) or log(Gamma per unit coupling^2)) nodes."""
    m, gam = table[:, 0], table[:, 1] * _EV / INV_FG_REF**2
    red = gam / _abar_unit_np(m) if reduce else gam
    return np.log(m - thr), np.log(red)


_TAB_PIPIGAMMA = _log_table(ASW_PIPIGAMMA, 2.0 * C.M_PI, True)
_M_ETAPIPI_THR = (C.M_ETA + 2.0 * C.M_PI, C.M_ETA + 2.0 * C.M_PI0)  # pi+ pi- eta, pi0 pi0 eta
_M_K0KPI_THR = C.M_K0 + C.M_K + C.M_PI  # K0 K+ pi- (the lightest of the modes in "k0kpi" is K0 K0bar pi0, 1.130)
_TAB_ETAPIPI = tuple(_log_table(ASW_ETAPIPI, thr, True) for thr in _M_ETAPIPI_THR)
_TAB_KKPI = (_log_table(ASW_KKPI, _M_KKPI0_THR, False), _log_table(ASW_KKPI, _M_K0KPI_THR, False))
_TAB_TOTAL = (ASW_TOTAL[:, 0], np.log(ASW_TOTAL[:, 1] * _EV / INV_FG_REF**2))


def _interp_threshold(m, thr, table):
    """exp of the table interpolated linearly in log(m - thr), the three-body power law (m - thr)^2 towards
    threshold below the first node, constant above the last; 0 at and below thr (double-where: finite
    gradients)."""
    x_nodes, y_nodes = (jnp.asarray(t, m.dtype) for t in table)
    above = m > thr
    x = jnp.log(jnp.where(above, m - thr, 1.0))
    y = jnp.interp(x, x_nodes, y_nodes)
    y = jnp.where(x < x_nodes[0], y_nodes[0] + 2.0 * (x - x_nodes[0]), y)
    return jnp.where(above, jnp.exp(y), 0.0)


#: the registry names of this module's widths (fipscan.final_states)
FINAL_STATES = ("gammagamma", "pipipi0", "pi0pi0pi0", "pipigamma", "pipieta", "pi0pi0eta", "kkpi0", "k0kpi",
                "other")


@jax.jit
def partial_widths(m, inv_fg) -> dict:
    """{final-state name: Gamma [GeV]} for ALP mass m [GeV] and 1/f_G [GeV^-1] (module docstring; jitted)."""
    m, g = _as(m, inv_fg)
    g2 = g * g
    th_unit = _theta_blend(m)
    gg = _abs2(_gamma_amp_unit(m, th_unit)) * g2 * m**3 / (64.0 * math.pi)
    c3, n3 = (w * g2 for w in _width_3pi_unit(m, th_unit))
    abar2 = _abs2(_abar_from_theta(th_unit * F_PI))
    ppg = _interp_threshold(m, 2.0 * C.M_PI, _TAB_PIPIGAMMA) * abar2 * g2
    epc = _interp_threshold(m, _M_ETAPIPI_THR[0], _TAB_ETAPIPI[0]) * abar2 * g2 * ETA_PIPI_CHARGED
    epn = _interp_threshold(m, _M_ETAPIPI_THR[1], _TAB_ETAPIPI[1]) * abar2 * g2 * (1.0 - ETA_PIPI_CHARGED)
    kk0 = _interp_threshold(m, _M_KKPI0_THR, _TAB_KKPI[0]) * g2 * KKPI0_SHARE
    kk1 = _interp_threshold(m, _M_K0KPI_THR, _TAB_KKPI[1]) * g2 * (1.0 - KKPI0_SHARE)
    out = {"gammagamma": gg, "pipipi0": c3, "pi0pi0pi0": n3, "pipigamma": ppg, "pipieta": epc,
           "pi0pi0eta": epn, "kkpi0": kk0, "k0kpi": kk1}
    exclusive = gg + c3 + n3 + ppg + epc + epn + kk0 + kk1
    total_asw = jnp.exp(jnp.interp(m, *(jnp.asarray(t, m.dtype) for t in _TAB_TOTAL))) * g2
    out["other"] = _smoothstep(m, 1.0, 1.2) * jnp.maximum(total_asw - exclusive, 0.0)
    return out


def total_width(m, inv_fg):
    """Total width [GeV] = sum of :func:`partial_widths`."""
    return sum(partial_widths(m, inv_fg).values())


def branching_ratios(m) -> dict:
    """{final-state name: BR} (coupling-independent: every width ~ (1/f_G)^2), summing to one."""
    widths = partial_widths(m, 1.0)
    tot = sum(widths.values())
    return {k: v / tot for k, v in widths.items()}
