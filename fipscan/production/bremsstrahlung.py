"""Proton bremsstrahlung of a dark photon, p p -> p X A' (pure JAX).

Fermi-Weizsaecker-Williams description of Bluemlein & Brunner, Phys. Lett. B 731 (2014) 320,
arXiv:1311.3870 (sec. 2): the A' takes a fraction z of the beam momentum P along the beam and
a transverse momentum p_T, with the splitting function::

    w_ba(z, pT^2) = eps^2 alpha / (2 pi H) * [ (1 + (1-z)^2)/z
                    - 2 z (1-z) ((2 M^2 + m^2)/H - z^2 2 M^4 / H^2)
                    + 2 z (1-z) (1 + (1-z)^2) M^2 m^2 / H^2
                    + 2 z (1-z)^2 m^4 / H^2 ],
    H = pT^2 + (1-z) m^2 + z^2 M^2,

(M the proton mass, m the A' mass; the third term's (1 + (1-z)^2) is also what the ALPINIST
implementation of this paper uses (Jerhot et al., arXiv:2201.05170); some public implementations
write (z + (1-z)^2) there, which gives 2.7% (0.1 GeV) to 4.4% (0.3-0.5 GeV) fewer A' per
interaction at 400 GeV (brems_total, z in [0.1, 0.9], pT < 1 GeV)) and the number of A' per inelastic
proton interaction::

    d^2N / (dz dpT^2) = sigma_pp(s') / sigma_pp(s) * |F_1(m^2)|^2 * w_ba(z, pT^2)      [GeV^-2],

s = 2 M E_beam, s' = 2 M (E_beam - E_A'), E_A' = sqrt((z P)^2 + pT^2 + m^2).

* sigma_pp(s): the PDG fit of the total pp cross section (Review of Particle Physics, "Plots of cross
  sections and related quantities", COMPETE-type form):
  sigma = Z + B ln^2(s/s_M) + Y1 (s_M/s)^eta1 - Y2 (s_M/s)^eta2, s_M = (2 M + 2.1206 GeV)^2,
  Z = 34.41 mb, B = 0.2720 mb, Y1 = 13.07 mb, Y2 = 7.394 mb, eta1 = 0.4473, eta2 = 0.5486
  (39.9 mb at 400 GeV).  Only the ratio sigma(s')/sigma(s) enters.
* F_1(q^2): time-like proton Dirac form factor in the extended VMD fit of Faessler, Fuchs,
  Krivoruchenko, Martemyanov, Phys. Rev. C 81 (2010) 035201, arXiv:0910.5589:
  F_1(q^2) = sum_V f_V M_V^2 / (M_V^2 - q^2 - i M_V Gamma_V) with couplings
  f_rho = 0.616, f_rho' = 0.223, f_rho'' = -0.339, f_omega = 1.011, f_omega' = -0.881,
  f_omega'' = 0.369 (sum 1: F_1(0) = 1); rho(770), omega(782) at their PDG masses and widths,
  the excited states at 1.25 GeV (width 0.3 GeV) and 1.45 GeV (width 0.5 GeV) as in that fit.
  `form_factor=False` sets ``|F_1|^2 = 1``.
* Validity (Bluemlein & Brunner): E_beam, E_A', E_beam - E_A' >> M, m, pT; as in the paper we keep
  z in [z_min, z_max] = [0.1, 0.9] and pT < pt_max = 1 GeV (keyword arguments).

The quadrature is generic: :func:`integrate_total` and :func:`integrate_pt_theta_table` integrate any
density d^2N/(dz dpT^2)(z, pT^2, m) [GeV^-2] over the same variables and cuts (the dark scalar uses them
with its own splitting function, fipscan.production.scalar_bremsstrahlung), and :func:`sigma_ratio`
is the sigma_pp(s')/sigma_pp(s) factor both share.

Units: GeV everywhere, angles in rad.  All functions are jittable and vmappable over m.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from fipscan import constants as C
from fipscan.kernels.numerics import float_dtype

__all__ = [
    "proton_form_factor",
    "sigma_pp_total",
    "sigma_ratio",
    "splitting_function",
    "brems_differential",
    "brems_total",
    "brems_pt_theta_table",
    "integrate_total",
    "integrate_pt_theta_table",
    "p_support",
]

_M = C.M_P
_ALPHA = C.ALPHA

Z_MIN = 0.1
Z_MAX = 0.9
PT_MAX = 1.0  # GeV

# Faessler et al., arXiv:0910.5589: (coupling f_V, mass [GeV], width [GeV])
_VMD_PROTON = (
    (0.616, C.M_RHO, C.GAMMA_RHO),  # rho(770)
    (0.223, 1.25, 0.3),  # rho'
    (-0.339, 1.45, 0.5),  # rho''
    (1.011, C.M_OMEGA, C.GAMMA_OMEGA),  # omega(782)
    (-0.881, 1.25, 0.3),  # omega'
    (0.369, 1.45, 0.5),  # omega''
)

# PDG total pp cross-section fit [mb]
_PDG_Z, _PDG_B, _PDG_Y1, _PDG_Y2, _PDG_ETA1, _PDG_ETA2 = 34.41, 0.2720, 13.07, 7.394, 0.4473, 0.5486
_PDG_SM = (2.0 * _M + 2.1206) ** 2


def proton_form_factor(m):
    """``|F_1(q^2 = m^2)|^2`` of the proton, time-like VMD fit of arXiv:0910.5589 (dimensionless). m [GeV]."""
    m = jnp.asarray(m)
    q2 = m * m
    f = 0.0
    for fv, mv, gv in _VMD_PROTON:
        f = f + fv * mv * mv / (mv * mv - q2 - 1j * mv * gv)
    return f.real**2 + f.imag**2


def sigma_pp_total(s):
    """Total pp cross section [mb] at centre-of-mass energy squared s [GeV^2] (PDG fit)."""
    s = jnp.asarray(s)
    s_safe = jnp.maximum(s, _PDG_SM * 1e-3)
    x = _PDG_SM / s_safe
    return _PDG_Z + _PDG_B * jnp.log(s_safe / _PDG_SM) ** 2 + _PDG_Y1 * x**_PDG_ETA1 - _PDG_Y2 * x**_PDG_ETA2


def splitting_function(z, pt2, m, eps):
    """w_ba(z, pT^2) [GeV^-2] of Bluemlein & Brunner, arXiv:1311.3870 sec. 2. z, pt2 [GeV^2], m [GeV]."""
    z, pt2, m, eps = jnp.asarray(z), jnp.asarray(pt2), jnp.asarray(m), jnp.asarray(eps)
    M2 = _M * _M
    m2 = m * m
    omz = 1.0 - z
    h = pt2 + omz * m2 + z * z * M2
    z_safe = jnp.where(z > 0, z, 1.0)
    bracket = (
        (1.0 + omz * omz) / z_safe
        - 2.0 * z * omz * ((2.0 * M2 + m2) / h - z * z * 2.0 * M2 * M2 / (h * h))
        + 2.0 * z * omz * (1.0 + omz * omz) * M2 * m2 / (h * h)
        + 2.0 * z * omz * omz * m2 * m2 / (h * h)
    )
    return jnp.where(z > 0, eps * eps * _ALPHA / (2.0 * math.pi * h) * bracket, 0.0)


def _beam_momentum(e_beam):
    return jnp.sqrt(e_beam * e_beam - _M * _M)


def sigma_ratio(z, pt2, m, e_beam):
    """sigma_pp(s') / sigma_pp(s) (dimensionless): the proton's interaction after it radiated a particle of
    mass m [GeV] with momentum fraction z along the beam and pT^2 [GeV^2]; s = 2 M E_beam,
    s' = 2 M (E_beam - E_X), E_X = sqrt((z P)^2 + pT^2 + m^2) (arXiv:1311.3870 sec. 2); e_beam [GeV]."""
    z, pt2, m = jnp.asarray(z), jnp.asarray(pt2), jnp.asarray(m)
    p_beam = _beam_momentum(e_beam)
    e_a = jnp.sqrt((z * p_beam) ** 2 + pt2 + m * m)
    s = 2.0 * _M * e_beam
    s_prime = 2.0 * _M * jnp.maximum(e_beam - e_a, 0.0)
    return sigma_pp_total(s_prime) / sigma_pp_total(s)


def brems_differential(z, pt2, m, eps, e_beam, form_factor=True):
    """d^2N/(dz dpT^2) [GeV^-2]: A' per proton interaction, arXiv:1311.3870 sec. 2.

    z: fraction of the beam momentum along the beam (p_z = z P); pt2: pT^2 [GeV^2]; m [GeV]; eps;
    e_beam: proton beam energy [GeV]; form_factor: multiply by ``|F_1(m^2)|^2`` (arXiv:0910.5589).
    No validity cuts are applied here (see brems_total / brems_pt_theta_table).
    """
    z, pt2, m = jnp.asarray(z), jnp.asarray(pt2), jnp.asarray(m)
    out = sigma_ratio(z, pt2, m, e_beam) * splitting_function(z, pt2, m, eps)
    if form_factor:
        out = out * proton_form_factor(m)
    return out


def _gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(int(n))
    return x, w


def brems_total(m, eps, e_beam, form_factor=True, *, z_min=Z_MIN, z_max=Z_MAX, pt_max=PT_MAX, n_z=64, n_pt=48):
    """Number of A' per proton interaction in z in [z_min, z_max], pT < pt_max (dimensionless).

    :func:`integrate_total` of :func:`brems_differential`.  m [GeV] (any shape; eps broadcasts with
    it); e_beam [GeV].
    """
    eps_ = jnp.asarray(eps)[..., None, None]
    return integrate_total(lambda z, pt2, m_: brems_differential(z, pt2, m_, eps_, e_beam, form_factor), m,
                           z_min=z_min, z_max=z_max, pt_max=pt_max, n_z=n_z, n_pt=n_pt)


def integrate_total(density, m, *, z_min=Z_MIN, z_max=Z_MAX, pt_max=PT_MAX, n_z=64, n_pt=48):
    """Integral of ``density`` over z in [z_min, z_max], pT < pt_max: shape of m (dimensionless when the
    density is d^2N/(dz dpT^2) [GeV^-2]).

    ``density(z, pt2, m_)`` -> d^2N/(dz dpT^2) [GeV^-2], called with z (n_z, 1), pt2 [GeV^2] and
    ``m_ = m[..., None, None]`` [GeV] broadcasting to (..., n_z, n_pt).  Gauss-Legendre quadrature: n_z
    nodes in z and n_pt nodes in u = ln H(z, pT^2), H = pT^2 + (1-z) m^2 + z^2 M^2 (dpT^2 = H du, which
    flattens the 1/H peak at small pT).
    """
    m = jnp.asarray(m)
    xz, wz = _gauss_legendre(n_z)
    xu, wu = _gauss_legendre(n_pt)
    dtype = float_dtype(m)
    z = 0.5 * (z_max - z_min) * jnp.asarray(xz, dtype) + 0.5 * (z_max + z_min)
    wz = 0.5 * (z_max - z_min) * jnp.asarray(wz, dtype)
    m_ = m[..., None, None]
    zz = z[:, None]
    h0 = (1.0 - zz) * m_ * m_ + zz * zz * _M * _M
    lo = jnp.log(h0)
    hi = jnp.log(h0 + pt_max * pt_max)
    u = 0.5 * (hi - lo) * jnp.asarray(xu, dtype) + 0.5 * (hi + lo)
    wu_ = 0.5 * (hi - lo) * jnp.asarray(wu, dtype)
    h = jnp.exp(u)
    pt2 = jnp.maximum(h - h0, 0.0)
    dens = density(zz, pt2, m_)
    return jnp.sum(dens * h * wu_ * wz[:, None], axis=(-2, -1))


def brems_pt_theta_table(
    m,
    log10p_edges,
    log10theta_edges,
    e_beam=400.0,
    form_factor=True,
    eps=1.0,
    n_sub=6,
    *,
    z_min=Z_MIN,
    z_max=Z_MAX,
    pt_max=PT_MAX,
):
    """A' per proton interaction in bins of (log10 p/GeV, log10 theta/rad): array (n_p, n_theta).

    :func:`integrate_pt_theta_table` of :func:`brems_differential`.  m [GeV] scalar (vmap for many
    masses); e_beam [GeV].
    """
    return integrate_pt_theta_table(
        lambda z, pt2, m_: brems_differential(z, pt2, m_, eps, e_beam, form_factor),
        m, log10p_edges, log10theta_edges, e_beam, n_sub, z_min=z_min, z_max=z_max, pt_max=pt_max)


def integrate_pt_theta_table(
    density,
    m,
    log10p_edges,
    log10theta_edges,
    e_beam=400.0,
    n_sub=6,
    *,
    z_min=Z_MIN,
    z_max=Z_MAX,
    pt_max=PT_MAX,
):
    """Integral of ``density`` in bins of (log10 p/GeV, log10 theta/rad): array (n_p, n_theta).

    density(z, pt2, m) -> d^2N/(dz dpT^2) [GeV^-2] (z, pt2 [GeV^2] of shape (n_p, n_sub, n_theta, n_sub),
    m [GeV] scalar).  The particle's momentum is p = sqrt(p_z^2 + pT^2) with p_z = z P (P the beam
    momentum) and the angle to the beam theta = atan(pT / p_z).  In each bin the density is integrated
    with n_sub x n_sub Gauss-Legendre nodes (default 6) in (log10 p, log10 theta), using::

        dz dpT^2 = (2 p^2 sin(theta) / P) dp dtheta = (2 ln(10)^2 p^3 theta sin(theta) / P) dlog10p dlog10theta,

    and the validity cuts z in [z_min, z_max], pT < pt_max are applied at each node (bins cut by them
    converge as 1/n_sub; outside the cuts the density is evaluated at z = 0.5, pT = 0 and discarded).
    m [GeV] scalar (vmap for many masses); e_beam [GeV].
    """
    m = jnp.asarray(m)
    dtype = float_dtype(m)
    lp = jnp.asarray(log10p_edges, dtype)
    lt = jnp.asarray(log10theta_edges, dtype)
    x, w = _gauss_legendre(n_sub)
    x = jnp.asarray(0.5 * (x + 1.0), dtype)  # nodes on [0, 1]
    w = jnp.asarray(0.5 * w, dtype)

    def nodes(edges):
        lo, width = edges[:-1], jnp.diff(edges)
        return lo[:, None] + width[:, None] * x[None, :], width[:, None] * w[None, :]

    up, wp = nodes(lp)  # (n_p, n_sub)
    ut, wt = nodes(lt)  # (n_t, n_sub)
    p = 10.0 ** up[:, :, None, None]
    th = 10.0 ** ut[None, None, :, :]
    p_beam = _beam_momentum(e_beam)
    pz = p * jnp.cos(th)
    pt = p * jnp.sin(th)
    z = pz / p_beam
    pt2 = pt * pt
    inside = (z >= z_min) & (z <= z_max) & (pt < pt_max)
    z_in = jnp.where(inside, z, 0.5)
    pt2_in = jnp.where(inside, pt2, 0.0)
    dens = density(z_in, pt2_in, m)
    jac = 2.0 * math.log(10.0) ** 2 * p**3 * th * jnp.sin(th) / p_beam
    integrand = jnp.where(inside, dens * jac, 0.0)
    weights = wp[:, :, None, None] * wt[None, None, :, :]
    return jnp.sum(integrand * weights, axis=(1, 3))


def p_support(e_beam, *, z_min=Z_MIN, z_max=Z_MAX, pt_max=PT_MAX):
    """(p_lo, p_hi) [GeV] outside which a table of :func:`integrate_pt_theta_table` vanishes:
    z_min P <= p_z and p <= sqrt((z_max P)^2 + pt_max^2), P the beam momentum; e_beam [GeV] (a number)."""
    p_beam = math.sqrt(e_beam * e_beam - _M * _M)
    return (z_min * p_beam, math.hypot(z_max * p_beam, pt_max))
