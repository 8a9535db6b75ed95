"""Primakoff conversion of a photon into an axion-like particle in the dump: gamma N -> a N.

Pure JAX functions of arrays (jittable, vmappable, differentiable; they keep the dtype of their inputs).
Units: energies, masses and momentum transfers in GeV, couplings in GeV^-1, cross sections in GeV^-2
(1 GeV^-2 = 0.3894 mb), radiation lengths in g/cm^2.

Cross section
-------------
A photon of energy E converts coherently in the Coulomb field of a nucleus of charge Z (mass number A)
through L = -(g/4) a F F~ (g = g_agammagamma).  For a static (infinitely heavy) nucleus, E_a = E, and
with ``Q^2 = -t = |k - p_a|^2`` the three-momentum transfer::

    dsigma/dQ^2 = (alpha g^2 Z^2 / 8) |F(Q^2)|^2 (Q^2 - Q^2_min)(Q^2_max - Q^2) / (4 E^2 Q^4),

    Q_min = E - p_a = m^2 / (E + p_a),  Q_max = E + p_a,  p_a = sqrt(E^2 - m^2).

This is the classic Primakoff cross section ``dsigma/dOmega = Gamma_gg (8 alpha Z^2 / m^3) beta^3 E^4
sin^2(theta) |F|^2 / Q^4`` (Primakoff, Phys. Rev. 81 (1951) 899; the form used by PrimEx and for ALPs by
Aloni, Fanelli, Soreq, Williams, arXiv:1903.03586) with Gamma(a -> gamma gamma) = g^2 m^3 / (64 pi),
rewritten in Q^2 (dOmega = pi dQ^2 / (E p_a) and p_a^2 sin^2 theta = (Q^2 - Q^2_min)(Q^2_max - Q^2) /
(4 E^2)); equivalently the direct tree-level result with sum over photon polarisations ``|(k x p_a)|^2 / 2``.
For Q^2 << 4 E^2 it is the familiar ``(alpha g^2 Z^2 / 8) |F|^2 (Q^2 - Q^2_min) / Q^4``, i.e. the
"dsigma/dt ~ alpha g^2 Z^2 F^2 (t - t_min) / t^2" of Tsai, Phys. Rev. D 34 (1986) 1326 and of Doebrich
et al. (ALPtraum), arXiv:1512.03069 sec. 2-3, with t_min = (m^2 / (2E))^2 at E >> m; the exact Q_min
above is used here (no cancellation: m^2 / (E + p_a) instead of E - p_a).

Form factor F = F_atom x F_nucleus:

* atomic screening by the electrons, F_atom = a^2 Q^2 / (1 + a^2 Q^2), a = 111 Z^-1/3 / m_e (Tsai, Rev.
  Mod. Phys. 46 (1974) 815, the Thomas-Fermi screening of elastic form factors; in this form in Bjorken,
  Essig, Schuster, Toro, arXiv:0906.0580 App. A).  It matters for Q_min < 1/a ~ 14 keV (Cu), i.e. light
  ALPs: m^2 < 2 E / a.
* the Helm nuclear form factor F_nucleus = 3 j1(Q R1) / (Q R1) exp(-Q^2 s^2 / 2), R1^2 = c^2 + 7/3 pi^2
  a_n^2 - 5 s^2, c = 1.23 A^1/3 - 0.60 fm, a_n = 0.52 fm, s = 0.9 fm (Lewin & Smith, Astropart. Phys. 6
  (1996) 87, sec. 4; the parameters ALPtraum uses).  For Cu R1 = 4.55 fm: coherence is lost above
  Q ~ 50 MeV, and the integral is cut at Q^2 = :data:`Q2_CUT` where ``|F|^2 < 1e-8``.

The integral over Q^2 is a fixed composite Gauss-Legendre quadrature in ln Q^2 from Q^2_min to
min(Q^2_max, Q2_CUT) (:data:`N_PANELS` x :data:`N_NODES` nodes; checked against a dense independent
quadrature in tests/test_alp_photon.py).  Limits: sigma -> 0 as E -> m (the range closes); in the window
1/a << Q_min << 1/R1 sigma grows as (alpha g^2 Z^2 / 4) ln E; for E -> infinity (Q_min << 1/a) screening
stops the growth and sigma tends to the constant ``(alpha g^2 Z^2 / 8) Int dQ^2 / Q^2 |F(Q^2)|^2``.

Conversion probability
----------------------
In a thick dump every photon is eventually absorbed, so the probability that it converts into an ALP is
P = sigma_Primakoff / sigma_gamma,total, with sigma_gamma,total = (7/9) A / (N_A X0) the asymptotic
pair-production cross section (PDG RPP, "Passage of particles through matter", the high-energy limit of
pair production in its sec. on photon interactions); for Cu, X0 =
12.86 g/cm^2 (PDG atomic and nuclear properties), sigma = 6.38 b.  Pair production reaches this limit
within ~10% above a few GeV; below it the absorption is a little weaker (P slightly underestimated).
Photonuclear absorption (~0.1%) is neglected.  P is exactly proportional to g^2 and zero for E <= m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from fipscan import constants as C
from fipscan.kernels.numerics import float_dtype

__all__ = [
    "N_AVOGADRO", "X0_CU", "Q2_CUT", "screening_radius", "helm_radius", "atomic_form_factor",
    "helm_form_factor", "q2_limits", "primakoff_dsigma_dq2", "primakoff_cross_section",
    "pair_cross_section", "conversion_probability", "GEV2_TO_CM2", "checked_target", "ConversionTarget",
]

N_AVOGADRO = 6.02214076e23  # [1/mol] (SI, exact)
X0_CU = 12.86  # radiation length of copper [g/cm^2] (PDG "Atomic and nuclear properties of materials": Cu)
GEV2_TO_CM2 = (C.HBARC * 100.0) ** 2  # 1 GeV^-2 in cm^2 ((hbar c)^2, hbar c in GeV cm)
FM_TO_INV_GEV = 1.0 / (C.HBARC * 1e15)  # 1 fm in GeV^-1
HELM_S_FM = 0.9  # Helm skin thickness s [fm] (Lewin & Smith 1996)
HELM_A_FM = 0.52  # Helm surface parameter a_n [fm] (Lewin & Smith 1996)
SCREENING_CONST = 111.0  # a = 111 Z^-1/3 / m_e (Tsai 1974)
Q2_CUT = 1.0  # [GeV^2]: the upper end of the Q^2 integral (|F_Helm|^2 < 1e-8 there for A >= 12)
N_PANELS = 8  # panels of the composite Gauss-Legendre quadrature in ln Q^2
N_NODES = 12  # Gauss-Legendre nodes per panel

_GL_X, _GL_W = np.polynomial.legendre.leggauss(N_NODES)


def screening_radius(Z) -> float:
    """The Thomas-Fermi screening length a = 111 Z^-1/3 / m_e [GeV^-1] of an atom of charge Z."""
    return SCREENING_CONST * Z ** (-1.0 / 3.0) / C.M_E


def helm_radius(A) -> float:
    """R1 [GeV^-1] of the Helm form factor of a nucleus of mass number A (module docstring)."""
    c = 1.23 * A ** (1.0 / 3.0) - 0.60
    r1 = math.sqrt(c * c + 7.0 / 3.0 * math.pi**2 * HELM_A_FM**2 - 5.0 * HELM_S_FM**2)
    return r1 * FM_TO_INV_GEV


def atomic_form_factor(q2, Z):
    """Screening factor a^2 Q^2 / (1 + a^2 Q^2) of the atomic electrons (Q^2 [GeV^2]); -> 1 above 1/a."""
    a2 = screening_radius(Z) ** 2
    return a2 * q2 / (1.0 + a2 * q2)


def helm_form_factor(q2, A):
    """Helm nuclear form factor 3 j1(Q R1)/(Q R1) exp(-Q^2 s^2/2) at Q^2 [GeV^2]; F(0) = 1.  The small-x
    branch is the series 1 - x^2/10 + x^4/280 (double-where: finite values and gradients at Q = 0)."""
    q2 = jnp.asarray(q2)
    r1 = helm_radius(A)
    s = HELM_S_FM * FM_TO_INV_GEV
    x2 = q2 * r1 * r1
    small = x2 < 0.09  # x < 0.3
    x = jnp.sqrt(jnp.where(small, 1.0, x2))
    exact = 3.0 * (jnp.sin(x) - x * jnp.cos(x)) / (x * x * x)
    series = 1.0 - x2 / 10.0 + x2 * x2 / 280.0
    return jnp.where(small, series, exact) * jnp.exp(-0.5 * q2 * s * s)


def q2_limits(E, m):
    """(Q^2_min, Q^2_max, above) [GeV^2] of gamma N -> a N at photon energy E, ALP mass m [GeV]:
    Q_min = m^2/(E + p_a), Q_max = E + p_a; ``above`` = E > m (below it both limits are E^2, harmless)."""
    E, m = jnp.asarray(E), jnp.asarray(m)
    above = E > m
    p = jnp.sqrt(jnp.where(above, (E - m) * (E + m), 0.0))
    p = jnp.where(above, p, 0.0)
    e_plus_p = E + p
    q_min = jnp.where(above, m * m / e_plus_p, E)
    return q_min * q_min, e_plus_p * e_plus_p, above


def primakoff_dsigma_dq2(q2, E, m, g, Z, A):
    """dsigma/dQ^2 [GeV^-4] of gamma N -> a N (module docstring); zero outside [Q^2_min, Q^2_max]."""
    q2 = jnp.asarray(q2)
    q2min, q2max, above = q2_limits(E, m)
    inside = above & (q2 > q2min) & (q2 < q2max)
    q2s = jnp.where(inside, q2, 1.0)
    ff = atomic_form_factor(q2s, Z) * helm_form_factor(q2s, A)
    kin = (q2s - q2min) * (q2max - q2s) / (4.0 * E * E * q2s * q2s)
    return jnp.where(inside, C.ALPHA * g * g * Z * Z / 8.0 * ff * ff * kin, 0.0)


def primakoff_cross_section(E, m, g, Z, A):
    """sigma(gamma N -> a N) [GeV^-2] at photon energy E [GeV], ALP mass m [GeV], coupling g [GeV^-1], on
    a nucleus (Z, A) with atomic screening; 0 for E <= m.  Broadcasts over E, m, g; keeps their dtype.

    Quadrature: composite Gauss-Legendre (N_PANELS x N_NODES) in u = ln Q^2 from Q^2_min to
    min(Q^2_max, Q2_CUT); the integrand Q^2 dsigma/dQ^2 is smooth in u (steps of width ~1 at Q_min, 1/a
    and 1/R1).
    """
    dtype = float_dtype(E, m, g)
    E, m, g = (jnp.asarray(v, dtype) for v in (E, m, g))
    q2min, q2max, above = q2_limits(E, m)
    u_lo = jnp.log(q2min)
    u_hi = jnp.log(jnp.minimum(q2max, jnp.asarray(Q2_CUT, dtype)))
    width = jnp.where(above, jnp.maximum(u_hi - u_lo, 0.0), 0.0)
    h = width / N_PANELS
    x = jnp.asarray(_GL_X, dtype)
    w = jnp.asarray(_GL_W, dtype)
    # node positions: panel j, node i -> u_lo + h (j + (1 + x_i)/2)
    offs = (jnp.arange(N_PANELS, dtype=dtype)[:, None] + 0.5 * (1.0 + x)[None, :]).reshape(-1)
    ws = jnp.tile(w, N_PANELS)
    u = u_lo[..., None] + h[..., None] * offs
    q2 = jnp.exp(u)
    f = q2 * primakoff_dsigma_dq2(q2, E[..., None], m[..., None], g[..., None], Z, A)
    total = 0.5 * h * jnp.sum(ws * f, axis=-1)
    return jnp.where(above, total, 0.0)


def pair_cross_section(A, X0):
    """The asymptotic photon absorption (pair production) cross section (7/9) A / (N_A X0) [GeV^-2] of a
    material of molar mass A [g/mol] and radiation length X0 [g/cm^2] (PDG RPP, "Passage of particles through matter")."""
    return 7.0 / 9.0 * A / (N_AVOGADRO * X0) / GEV2_TO_CM2


def conversion_probability(E, m, g, Z=29.0, A=63.546, X0=X0_CU):
    """P(gamma -> a) = sigma_Primakoff / sigma_pair for a photon of energy E [GeV] absorbed in a thick
    target (Z, A, radiation length X0 [g/cm^2]; default copper); ALP mass m [GeV], coupling g [GeV^-1].
    Exactly proportional to g^2, zero for E <= m."""
    return primakoff_cross_section(E, m, g, Z, A) / pair_cross_section(A, X0)


@dataclass(frozen=True)
class ConversionTarget:
    """The dump in which a model's photons convert (Primakoff production): options target_z, target_a
    [g/mol], target_x0 [g/cm^2], default copper (the NA62 TAX; X0 from the PDG table of atomic and
    nuclear properties).  A model dataclass inherits these fields; its ``__post_init__`` calls
    :meth:`_check_target`, its ``settings()`` includes :meth:`target_settings`."""

    target_z: float = 29.0
    target_a: float = 63.546
    target_x0: float = X0_CU

    def _check_target(self) -> None:
        """Check the target options (:func:`checked_target`) and store them as floats."""
        z, a, x0 = checked_target(self.name, self.target_z, self.target_a, self.target_x0)
        object.__setattr__(self, "target_z", z)
        object.__setattr__(self, "target_a", a)
        object.__setattr__(self, "target_x0", x0)

    def target_settings(self) -> dict:
        """The target options as plain JSON (part of the model's settings)."""
        return {"target_z": self.target_z, "target_a": self.target_a, "target_x0": self.target_x0}

    def convert(self, E, m, g_agammagamma):
        """P(gamma -> a) per photon of energy E [GeV] in this target at photon coupling g_agammagamma
        [GeV^-1] (:func:`conversion_probability`)."""
        return conversion_probability(E, m, g_agammagamma, self.target_z, self.target_a, self.target_x0)


def checked_target(model_name: str, target_z, target_a, target_x0) -> tuple[float, float, float]:
    """The (Z, A [g/mol], X0 [g/cm^2]) of a model's conversion target as floats, checked: each a positive
    finite number, Z <= A, and a radiation length given with any target other than copper (copper's X0
    with another nucleus would mis-normalise P by up to ~2x).  ConfigError (one line naming the model and
    the option) otherwise."""
    from fipscan.errors import ConfigError

    out = []
    for key, v in (("target_z", target_z), ("target_a", target_a), ("target_x0", target_x0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
            raise ConfigError(f"{model_name} {key} must be a positive number, not {v!r}")
        out.append(float(v))
    z, a, x0 = out
    if z > a:
        raise ConfigError(f"{model_name} target_z = {z:g} exceeds target_a = {a:g}")
    if (z, a) != (29.0, 63.546) and x0 == X0_CU:
        raise ConfigError(f"{model_name} target_z/target_a describe a target other than copper: give its "
                          "radiation length too (target_x0 in g/cm^2, PDG atomic and nuclear properties)")
    return z, a, x0
