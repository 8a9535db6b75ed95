"""Dark-photon production in light-meson decays: branching ratios (pure JAX).

Only the branching ratios live here; the two-body decay kinematics of the mesons belongs to
fipscan.kernels.kinematics.  Masses in GeV; branching ratios dimensionless.  Functions broadcast over
all arguments, are differentiable and keep the dtype of their inputs.
"""

from __future__ import annotations

import jax.numpy as jnp

from fipscan.kernels.numerics import float_dtype

__all__ = ["br_pseudoscalar_to_gamma_aprime", "br_vector_to_pseudoscalar_aprime"]


def _float_arrays(*xs):
    arrs = [jnp.asarray(x) for x in xs]
    dtype = float_dtype(*arrs)
    return [a.astype(dtype) for a in arrs]


def br_pseudoscalar_to_gamma_aprime(m, eps, m_p, br_gg):
    """BR(P -> gamma A') = 2 eps^2 (1 - m^2/m_P^2)^3 BR(P -> gamma gamma); 0 for m >= m_P.

    m: A' mass [GeV]; eps: kinetic mixing; m_p: pseudoscalar (pi0, eta, eta') mass [GeV];
    br_gg: BR(P -> gamma gamma).  Batell, Pospelov, Ritz, Phys. Rev. D 80 (2009) 095024,
    arXiv:0906.5614, sec. III (pi0 -> gamma V); the same form for eta, eta' (Bluemlein & Brunner,
    Phys. Lett. B 701 (2011) 155, arXiv:1104.2747).
    """
    m, eps, m_p, br_gg = _float_arrays(m, eps, m_p, br_gg)
    x = 1.0 - (m / m_p) ** 2
    open_ = m < m_p
    return jnp.where(open_, 2.0 * eps * eps * x**3 * br_gg, 0.0)


def br_vector_to_pseudoscalar_aprime(m, eps, m_v, m_p, br_pgamma):
    """BR(V -> P A') = eps^2 BR(V -> P gamma) [lambda(m_V^2, m_P^2, m^2) / lambda(m_V^2, m_P^2, 0)]^(3/2).

    lambda the Kallen function (lambda(m_V^2, m_P^2, 0) = (m_V^2 - m_P^2)^2); 0 for m >= m_V - m_P.
    m, m_v, m_p [GeV]; e.g. omega -> pi0 A' with BR(omega -> pi0 gamma) = 0.084.
    Magnetic-dipole (P-wave) transition: the rate scales as the cube of the final momentum.
    Gninenko, Phys. Lett. B 713 (2012) 244, arXiv:1204.3583 (omega, phi -> pi0/eta A');
    Berlin, Gori, Schuster, Toro, Phys. Rev. D 98 (2018) 035011, arXiv:1804.00661, appendix A.
    """
    m, eps, m_v, m_p, br = _float_arrays(m, eps, m_v, m_p, br_pgamma)
    mv2, mp2, m2 = m_v * m_v, m_p * m_p, m * m
    lam = (mv2 - (m_p + m) ** 2) * (mv2 - (m_p - m) ** 2)
    lam0 = (mv2 - mp2) ** 2
    open_ = (m < m_v - m_p) & (lam > 0)
    ratio = jnp.where(open_, lam / lam0, 1.0)
    return jnp.where(open_, eps * eps * br * ratio**1.5, 0.0)
