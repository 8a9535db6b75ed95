"""Relativistic two-body decay kinematics (pure jax.numpy; broadcasting, dtype-preserving, differentiable).

Conventions: natural units (GeV for masses, energies and momenta), angles in radians.  A direction with
polar angle theta and azimuth phi is n = (sin theta cos phi, sin theta sin phi, cos theta).  The rest-frame
direction of daughter 1, (cos theta*, phi*), is measured relative to the parent's flight direction n with
the transverse basis of the spherical coordinates of n,

    e_theta = (cos theta cos phi, cos theta sin phi, -sin theta),   e_phi = (-sin phi, cos phi, 0),

so (e_theta, e_phi, n) is right-handed and smooth in (theta, phi); phi* = 0 points along e_theta.

References
----------
[PDG-K] Particle Data Group, Review of Particle Physics, review "Kinematics" (ch. 49 in RPP 2024):
        sec. 49.1 "Lorentz transformations" (boost of (E, p_par) with gamma, beta gamma; p_T unchanged) and
        sec. 49.4.2 "Two-body decays" (E_1 = (M^2 - m_2^2 + m_1^2) / 2M, ``|p_1| = lambda^(1/2) / 2M``).
[Kallen] G. Kallen, "Elementary Particle Physics" (1964): the triangle function
        lambda(x, y, z) = x^2 + y^2 + z^2 - 2xy - 2yz - 2zx.
"""

from __future__ import annotations

import jax.numpy as jnp

from .numerics import float_dtype

__all__ = [
    "kallen",
    "two_body_momentum",
    "two_body_energy",
    "direction",
    "boost_decay",
    "daughter_p_theta",
    "safe_norm",
    "cos_star_from_uniform",
]


def kallen(x, y, z):
    """Kallen triangle function lambda(x, y, z) = x^2 + y^2 + z^2 - 2xy - 2yz - 2zx  [Kallen].

    Evaluated for two-body decays as lambda(M^2, m1^2, m2^2) = (M^2 - (m1 + m2)^2)(M^2 - (m1 - m2)^2)
    [PDG-K sec. 49.4.2] by the caller, which is the factorised (better conditioned) form.
    """
    return x * x + y * y + z * z - 2.0 * (x * y + y * z + z * x)


def two_body_momentum(M, m1, m2):
    """Daughter momentum p* [GeV] in the rest frame of a parent of mass M decaying to masses m1, m2.

    p* = lambda^(1/2)(M^2, m1^2, m2^2) / (2M),  lambda = (M^2 - (m1 + m2)^2)(M^2 - (m1 - m2)^2)
    [PDG-K sec. 49.4.2, two-body decays].  Zero at and below threshold (M <= m1 + m2); both the square root
    and the division are guarded (double-where), so gradients are finite everywhere, also at M = 0.
    """
    dtype = float_dtype(M, m1, m2)
    M, m1, m2 = (jnp.asarray(v, dtype) for v in (M, m1, m2))
    M2 = M * M
    lam = (M2 - (m1 + m2) ** 2) * (M2 - (m1 - m2) ** 2)
    open_ = (lam > 0) & (M > m1 + m2)
    lam_safe = jnp.where(open_, lam, jnp.ones_like(lam))
    M_safe = jnp.where(open_, M, jnp.ones_like(M))
    return jnp.where(open_, jnp.sqrt(lam_safe) / (2.0 * M_safe), jnp.zeros_like(lam))


def two_body_energy(M, m1, m2):
    """Rest-frame energy of daughter 1: E1* = (M^2 + m1^2 - m2^2) / (2M) [GeV]  [PDG-K sec. 49.4.2].

    M = 0 is guarded (returns m1, the value for a daughter at rest) so that gradients stay finite.
    """
    dtype = float_dtype(M, m1, m2)
    M, m1, m2 = (jnp.asarray(v, dtype) for v in (M, m1, m2))
    pos = M > 0
    M_safe = jnp.where(pos, M, jnp.ones_like(M))
    return jnp.where(pos, (M_safe * M_safe + m1 * m1 - m2 * m2) / (2.0 * M_safe), m1 + 0.0 * M)


def safe_norm(v, axis=-1):
    """Euclidean norm along ``axis`` with a finite (zero) gradient at v = 0 (double-where)."""
    sq = jnp.sum(v * v, axis=axis)
    pos = sq > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, jnp.ones_like(sq))), jnp.zeros_like(sq))


def direction(theta, phi):
    """Unit vector (..., 3) of polar angle theta and azimuth phi: (sin t cos f, sin t sin f, cos t)."""
    st, ct = jnp.sin(theta), jnp.cos(theta)
    sf, cf = jnp.sin(phi), jnp.cos(phi)
    return jnp.stack(jnp.broadcast_arrays(st * cf, st * sf, ct), axis=-1)


def _frame(theta, phi):
    """(n, e_theta, e_phi) of the module docstring, each (..., 3)."""
    st, ct = jnp.sin(theta), jnp.cos(theta)
    sf, cf = jnp.sin(phi), jnp.cos(phi)
    n = jnp.stack(jnp.broadcast_arrays(st * cf, st * sf, ct), axis=-1)
    e_t = jnp.stack(jnp.broadcast_arrays(ct * cf, ct * sf, -st), axis=-1)
    e_f = jnp.stack(jnp.broadcast_arrays(-sf, cf, jnp.zeros_like(sf + st)), axis=-1)
    return n, e_t, e_f


def _boost_components(parent_p, M, m1, m2, cos_star):
    """Lab momentum components (parallel, transverse) of daughters 1 and 2 along the flight direction.

    Boost along the flight direction with gamma = E/M and beta gamma = |p|/M [PDG-K sec. 49.1]:
        p_par = gamma p* cos(theta*) + beta gamma E*,   p_T = p* sin(theta*)   (unchanged).
    Daughter 2 has the opposite rest-frame momentum (cos -> -cos, transverse -> -transverse) and E2*.
    """
    dtype = float_dtype(parent_p, M, m1, m2, cos_star)
    parent_p, M, m1, m2, cos_star = (jnp.asarray(v, dtype) for v in (parent_p, M, m1, m2, cos_star))
    pstar = two_body_momentum(M, m1, m2)
    e1s = two_body_energy(M, m1, m2)
    e2s = two_body_energy(M, m2, m1)
    pos = M > 0
    M_safe = jnp.where(pos, M, jnp.ones_like(M))
    gamma = jnp.sqrt(parent_p * parent_p + M * M) / M_safe  # E / M
    betagamma = parent_p / M_safe  # |p| / M
    # sin(theta*) = sqrt(1 - cos^2) with a guarded square root (|cos| = 1 is a valid input)
    s2 = (1.0 - cos_star) * (1.0 + cos_star)
    spos = s2 > 0
    sin_star = jnp.where(spos, jnp.sqrt(jnp.where(spos, s2, jnp.ones_like(s2))), jnp.zeros_like(s2))
    p1_par = gamma * pstar * cos_star + betagamma * e1s
    p2_par = -gamma * pstar * cos_star + betagamma * e2s
    pt = pstar * sin_star
    return p1_par, p2_par, pt


def boost_decay(parent_p, parent_theta, parent_phi, M, m1, m2, cos_star, phi_star):
    """Lab 3-momenta (p1_vec, p2_vec), each (..., 3) [GeV], of the daughters of a two-body decay in flight.

    Parent: momentum ``|p|`` = ``parent_p``, polar angle ``parent_theta``, azimuth ``parent_phi``, mass M.
    Daughter 1 (mass m1) is emitted in the parent rest frame at polar angle theta* (``cos_star``) and azimuth
    ``phi_star`` relative to the parent flight direction n (basis of the module docstring); daughter 2
    (mass m2) back to back.  Exact Lorentz boost along n [PDG-K sec. 49.1]::

        p_i = (gamma p*_par,i + beta gamma E_i*) n + p*_T,i,   gamma = E/M, beta gamma = |p|/M,

    with p* from [PDG-K sec. 49.4.2].  Below threshold p* = 0 (both daughters move with the parent's
    velocity).  Every argument broadcasts; the result keeps the floating dtype of the inputs.
    """
    dtype = float_dtype(parent_p, parent_theta, parent_phi, M, m1, m2, cos_star, phi_star)
    parent_theta, parent_phi, phi_star = (jnp.asarray(v, dtype) for v in (parent_theta, parent_phi, phi_star))
    p1_par, p2_par, pt = _boost_components(parent_p, M, m1, m2, cos_star)
    n, e_t, e_f = _frame(parent_theta, parent_phi)
    perp = jnp.cos(phi_star)[..., None] * e_t + jnp.sin(phi_star)[..., None] * e_f
    pt_vec = pt[..., None] * perp
    p1 = p1_par[..., None] * n + pt_vec
    p2 = p2_par[..., None] * n - pt_vec
    return p1, p2


def daughter_p_theta(parent_p, parent_theta, parent_phi, M, m1, m2, cos_star, phi_star):
    """Lab momentum ``|p_1|`` [GeV] and polar angle theta_1 [rad] (w.r.t. the z axis) of daughter 1.

    Convenience over :func:`boost_decay` to turn meson spectra into FIP samples, e.g. pi0/eta/eta' -> gamma A'
    (daughter 1 = A', m2 = 0) or omega -> pi0 A' (m2 = m_pi0).  ``theta_1 = atan2(|p_T|, p_z)``, with a guarded
    transverse norm so that gradients stay finite on the axis.
    """
    p1, _ = boost_decay(parent_p, parent_theta, parent_phi, M, m1, m2, cos_star, phi_star)
    p_abs = safe_norm(p1)
    pt = safe_norm(p1[..., :2])
    return p_abs, jnp.arctan2(pt, p1[..., 2])


def cos_star_from_uniform(u, k):
    """Exact inverse CDF of dGamma/dc ~ 1 + k c^2 on c in [-1, 1], for -1 <= k <= 1.

    CDF F(c) = [(c + 1) + k (c^3 + 1)/3] / (2 + 2k/3) = u  <=>  k c^3 + 3c = D,  D = (2u - 1)(3 + k).
    The root in [-1, 1] of this cubic (Cardano in hyperbolic/trigonometric form; Abramowitz & Stegun 3.8.2)::

        k > 0:  c = (2/s) sinh( asinh(D s/2) / 3 ),  s = sqrt(k)
        k < 0:  c = (2/s) sin ( asin (D s/2) / 3 ),  s = sqrt(-k)
        k = 0:  c = D/3 = 2u - 1,

    from sinh(3y) = 3 sinh y + 4 sinh^3 y and sin(3y) = 3 sin y - 4 sin^3 y.  Both forms are free of
    cancellation as k -> 0 (they tend to D/3); the k = 0 branch is a guarded double-where.
    """
    u = jnp.asarray(u)
    k = jnp.asarray(k, dtype=u.dtype)
    D = (2.0 * u - 1.0) * (3.0 + k)
    nz = k != 0
    s_safe = jnp.sqrt(jnp.where(nz, jnp.abs(k), jnp.ones_like(k)))  # double-where: finite d/dk at k = 0
    arg = 0.5 * D * s_safe
    zero = jnp.zeros_like(arg)
    c_pos = jnp.sinh(jnp.arcsinh(jnp.where(k > 0, arg, zero)) / 3.0)
    c_neg = jnp.sin(jnp.arcsin(jnp.clip(jnp.where(k < 0, arg, zero), -1.0, 1.0)) / 3.0)
    c = 2.0 / s_safe * jnp.where(k > 0, c_pos, c_neg)
    return jnp.clip(jnp.where(nz, c, D / 3.0), -1.0, 1.0)
