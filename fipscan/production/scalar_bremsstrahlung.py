"""Proton bremsstrahlung of the Higgs-mixed dark scalar, p p -> p X S (pure JAX).

The scalar couples to the proton through the effective Yukawa interaction L = -y S pbar p, with
y = g_SNN theta (theta the mixing angle; the axis sin^2 theta ~ theta^2 for the small angles scanned):

* g_SNN = 1.2e-3 (:data:`G_SNN`): the value used with the bremsstrahlung formula of Boiarska et al.,
  "Phenomenology of GeV-scale scalar portal", JHEP 11 (2019) 162, arXiv:1904.10447 (App. D; the value
  as it appears in the public ALPINIST implementation of both papers below, the paper text not re-read
  here), from the trace anomaly, g_SNN = (m_N/v) (2/9 + 7/9 sum_q f_Tq) (Shifman, Vainshtein, Zakharov,
  Phys. Lett. B 78 (1978) 443; m_N/v = 3.8e-3, and 1.2e-3 needs sum_q f_Tq ~ 0.12).  With the smaller
  lattice strange content Cheng & Chiang, JHEP 07 (2012) 009, arXiv:1202.1292, find g_hpp = 1.1e-3
  (keyword ``g_snn``; the rate scales as g_SNN^2: -16%).

Splitting function (Fermi-Weizsaecker-Williams / quasi-real approximation; S takes the fraction z of the
beam momentum P along the beam and the transverse momentum pT; M the proton mass, m the scalar mass):

    w_S(z, pT^2) = y^2 / (16 pi^2) * z * [pT^2 + M^2 (2 - z)^2] / H^2,
    H = pT^2 + (1 - z) m^2 + z^2 M^2                                           [GeV^-2].

Sources and conventions:

* Foroughi-Abari & Ritz, "Dark sector production via proton bremsstrahlung", Phys. Rev. D 105 (2022)
  095045, arXiv:2108.05900, give the scalar splitting function as y^2/(8 pi^2) z/(2H) [1 + (1-z)(4M^2 - m^2)/H]
  (their scalar FWW splitting function, sec. 2; the form as transcribed in the public ALPINIST
  implementation of that paper, Jerhot et al. arXiv:2201.05170, file ALP_production/modes/bremsstrahlung.py;
  the paper text itself could not be consulted here, so its equation number is not quoted).  Since
  H + (1-z)(4M^2 - m^2) = pT^2 + M^2 (2-z)^2 this is the formula above, term by term.
* Boiarska et al. arXiv:1904.10447 App. D (D.1, "splitting probability derivation") write the same z and
  pT dependence with the prefactor (g_SNN theta)^2/(8 pi^2), twice the one above (again as transcribed in
  ALPINIST, ALP_production/modes/brems_functions.py; equation number not checked here).
* Independent derivation (light-cone perturbation theory, done for this module): with the Fock-state
  measure dz d^2pT/(16 pi^3 z(1-z)) and energy denominator (s - M^2) = H/(z(1-z)), the spin-AVERAGED
  vertex (1/2) Tr[(p'/ + M)(p/ + M)] = 2(p.p' + M^2) = [pT^2 + M^2 (2-z)^2]/(1-z) gives exactly w_S above;
  the same measure applied to photon emission gives alpha/(2 pi) (1 + (1-z)^2)/z dpT^2/pT^2, the QED
  splitting function, which fixes the normalisation (both checked numerically with explicit Dirac
  traces).  A factor 2 like that of the Boiarska form is what summing instead of averaging over the
  incoming proton's two spin states would give; we take 1/(16 pi^2) (the derivation, and Foroughi-Abari &
  Ritz), so the scalar yields here are half those of the arXiv:1904.10447 formula for the same g_SNN.
  Collinear limit: w_S -> y^2 z / (16 pi^2 pT^2) for pT >> M, m.

Number of scalars per inelastic proton interaction (as for the dark photon, Bluemlein & Brunner
arXiv:1311.3870 sec. 2, and Boiarska et al. App. D):

    d^2N/(dz dpT^2) = sigma_pp(s') / sigma_pp(s) * w_S(z, pT^2)                        [GeV^-2]

(:func:`fipscan.production.bremsstrahlung.sigma_ratio`, the same PDG sigma_pp fit as the dark photon).
No form factor: Boiarska et al. use the point-like Yukawa vertex; Foroughi-Abari & Ritz multiply by a
time-like scalar form factor of the proton and an off-shellness cutoff of the intermediate proton
(Lambda ~ 1-2 GeV), which lower the rate and are not modelled here.  Validity cuts as for the dark
photon: z in [0.1, 0.9] and pT < 1 GeV (keyword arguments).

Units: GeV everywhere, angles in rad.  All functions are jittable, vmappable over m and keep the float
dtype of m (float32 or float64).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from fipscan import constants as C
from fipscan.production.bremsstrahlung import (
    PT_MAX,
    Z_MAX,
    Z_MIN,
    integrate_pt_theta_table,
    integrate_total,
    p_support,
    sigma_ratio,
)

__all__ = [
    "G_SNN",
    "scalar_splitting_function",
    "scalar_brems_differential",
    "scalar_brems_total",
    "scalar_brems_pt_theta_table",
    "scalar_brems_p_support",
]

#: effective scalar-proton Yukawa coupling per unit mixing angle, y = G_SNN theta (arXiv:1904.10447)
G_SNN = 1.2e-3

_M = C.M_P


def scalar_splitting_function(z, pt2, m, sin2theta, g_snn=G_SNN):
    """w_S(z, pT^2) [GeV^-2]: probability density in (z, pT^2) that a proton emits S (module docstring;
    arXiv:2108.05900 normalisation, arXiv:1904.10447 App. D shape).

    z: momentum fraction of S along the beam; pt2: pT^2 [GeV^2]; m: scalar mass [GeV]; sin2theta:
    mixing (y^2 = g_snn^2 sin2theta); broadcasting; 0 where z <= 0.
    """
    z, pt2, m, sin2theta = jnp.asarray(z), jnp.asarray(pt2), jnp.asarray(m), jnp.asarray(sin2theta)
    M2 = _M * _M
    h = pt2 + (1.0 - z) * m * m + z * z * M2
    ok = (z > 0) & (h > 0)
    h_safe = jnp.where(ok, h, 1.0)
    val = g_snn * g_snn * sin2theta / (16.0 * math.pi**2) * z * (pt2 + M2 * (2.0 - z) ** 2) / (h_safe * h_safe)
    return jnp.where(ok, val, 0.0)


def scalar_brems_differential(z, pt2, m, sin2theta, e_beam, g_snn=G_SNN):
    """d^2N/(dz dpT^2) [GeV^-2]: S per proton interaction, sigma_pp(s')/sigma_pp(s) * w_S.

    z, pt2 [GeV^2], m [GeV], sin2theta broadcasting; e_beam: proton beam energy [GeV].  No validity cuts
    here (see :func:`scalar_brems_total`, :func:`scalar_brems_pt_theta_table`).
    """
    return sigma_ratio(z, pt2, m, e_beam) * scalar_splitting_function(z, pt2, m, sin2theta, g_snn)


def scalar_brems_total(m, sin2theta, e_beam, *, g_snn=G_SNN, z_min=Z_MIN, z_max=Z_MAX, pt_max=PT_MAX,
                       n_z=64, n_pt=48):
    """Number of S per proton interaction in z in [z_min, z_max], pT < pt_max (dimensionless), shape of m.

    m [GeV] (any shape; sin2theta broadcasts with it), e_beam [GeV].  Proportional to sin2theta exactly.
    Gauss-Legendre quadrature in z and ln H (:func:`fipscan.production.bremsstrahlung.integrate_total`).
    """
    s2_ = jnp.asarray(sin2theta)[..., None, None]
    return integrate_total(lambda z, pt2, m_: scalar_brems_differential(z, pt2, m_, s2_, e_beam, g_snn), m,
                           z_min=z_min, z_max=z_max, pt_max=pt_max, n_z=n_z, n_pt=n_pt)


def scalar_brems_pt_theta_table(m, log10p_edges, log10theta_edges, e_beam=400.0, sin2theta=1.0, n_sub=6, *,
                                g_snn=G_SNN, z_min=Z_MIN, z_max=Z_MAX, pt_max=PT_MAX):
    """S per proton interaction in bins of (log10 p/GeV, log10 theta/rad): array (n_p, n_theta), at unit
    coupling by default (sin2theta = 1).

    log10p_edges (n_p + 1,), log10theta_edges (n_theta + 1,); m [GeV] scalar (vmap for many masses);
    e_beam [GeV]; n_sub x n_sub Gauss-Legendre nodes per bin, the cuts applied node by node
    (:func:`fipscan.production.bremsstrahlung.integrate_pt_theta_table`).
    """
    return integrate_pt_theta_table(
        lambda z, pt2, m_: scalar_brems_differential(z, pt2, m_, sin2theta, e_beam, g_snn),
        m, log10p_edges, log10theta_edges, e_beam, n_sub, z_min=z_min, z_max=z_max, pt_max=pt_max)


def scalar_brems_p_support(e_beam):
    """(p_lo, p_hi) [GeV] outside which :func:`scalar_brems_pt_theta_table` vanishes (default cuts)."""
    return p_support(e_beam)
