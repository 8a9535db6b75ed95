"""Flat n-body phase space from unit points, Lorentz boosts and two-photon decays (pure JAX).

Conventions: natural units (GeV); four-vectors are (E, p_x, p_y, p_z) on the last axis.  Every function
maps points u in [0, 1)^d to momenta deterministically, so quasi-Monte Carlo points and common random
numbers carry over (the same u gives a smoothly varying event as the masses change).  The floating dtype
of the inputs is kept; gradients are finite everywhere (guarded square roots and divisions).

Phase space
-----------
The (2 pi)-free Lorentz-invariant phase space of n particles of a parent of mass M at rest,

    R_n(M; m_1..m_n) = integral prod_i d^3p_i / (2 E_i)  delta^4(P - sum_i p_i),

obeys the recursion R_n(M) = integral dM_{n-1}^2 R_2(M; M_{n-1}, m_n) R_{n-1}(M_{n-1}; m_1..m_{n-1}) with
R_2(M; m_1, m_2) = pi p*/M, p* the two-body momentum.  With M_k the invariant mass of particles 1..k
(M_1 = m_1, M_n = M) this gives

    R_n = pi^(n-1) 2^(n-2) T^(n-2) / ((n-2)! M)  E[ prod_{k=2..n} p*(M_k; M_{k-1}, m_k) ],
    T = M - sum_i m_i,

where the expectation is over M_k = m_1 + ... + m_k + r_(k-1) T with r_(1) < ... < r_(n-2) the sorted
n-2 uniform numbers (the ordered region has volume 1/(n-2)!).  This is the GENBOD method of
F. James, "Monte Carlo phase space", CERN 68-15 (1968) (the Raubold-Lynch sequential two-body
decomposition): each step M_k -> M_{k-1} + m_k is an isotropic two-body decay in the M_k rest frame, the
subsystem 1..k-1 is boosted along its direction, and each event carries the weight above, whose mean is
R_n.  In the (2 pi)^(4-3n) convention of the PDG (Phi_n = (2 pi)^(4 - 3n) R_n) the massless three-body
volume R_3 = pi^2 s / 8 is Phi_3 = s / (256 pi^3).

Layout of u (..., 3n - 4) for :func:`phase_space`: columns (2j, 2j+1), j = 0..n-2, are (u_cos, u_phi) of
step k = n - j (j = 0 is the outermost decay M -> M_{n-1} + m_n): the direction of the subsystem
1..k-1 in the M_k rest frame, cos = 2 u_cos - 1 (or the 1 + k cos^2 law for n = 2), phi = 2 pi u_phi;
particle k moves opposite.  Columns 2(n-1) .. 3n-5 are the n-2 uniforms of the intermediate masses.  For
n = 2 this is (u_cos, u_phi) of daughter 1.

Boost
-----
A four-vector (e, q) in the rest frame of a system of mass M and four-momentum (E, P) in a frame F
has, in F [PDG Review of Particle Physics, "Kinematics", sec. 49.1, with beta = P/E, gamma = E/M],

    E' = (E e + P.q) / M,     q' = q + P [ (P.q) / (M (E + M)) + e / M ],

a form without the gamma - 1 cancellation of the textbook expression.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .kinematics import cos_star_from_uniform, two_body_momentum
from .numerics import float_dtype

__all__ = [
    "phase_space",
    "phase_space_volume",
    "boost",
    "boost_to_frame",
    "two_photon_decay",
    "n_phase_space_dims",
    "pair_dalitz_width",
    "pair_recoil_nodes",
]


def _sqrt0(x):
    """sqrt(x) with a finite (zero) gradient at x <= 0 (double-where)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, jnp.ones_like(x))), jnp.zeros_like(x))


def _safe_pos(x):
    """x where x > 0, 1 elsewhere (for divisions guarded by a later where)."""
    return jnp.where(x > 0, x, jnp.ones_like(x))


def n_phase_space_dims(n):
    """Number of unit coordinates :func:`phase_space` takes for n bodies: 3n - 4."""
    return 3 * int(n) - 4


# ----------------------------------------------------------------------------------------------------
# boosts (tuple forms (E, px, py, pz) are used internally so that each component keeps its own shape)
# ----------------------------------------------------------------------------------------------------
def _boost_to_frame_t(v, P, M):
    """Tuple form of :func:`boost_to_frame`: v = (e, qx, qy, qz), P = (E, Px, Py, Pz), M the system mass."""
    e, qx, qy, qz = v
    E, Px, Py, Pz = P
    Ms = _safe_pos(M)
    pq = Px * qx + Py * qy + Pz * qz
    c = pq / (Ms * (E + Ms)) + e / Ms
    return ((E * e + pq) / Ms, qx + c * Px, qy + c * Py, qz + c * Pz)


def boost_to_frame(p4, P4, M=None):
    """Four-vectors p4 (..., 4) given in the rest frame of a system, expressed in the frame where that
    system has four-momentum P4 (..., 4) and mass M (default sqrt(P4^2)); module docstring formula.

    The boost axis is the direction of P4's 3-momentum (arbitrary); M = 0 is guarded (finite output).
    """
    dtype = float_dtype(p4, P4) if M is None else float_dtype(p4, P4, M)
    p4, P4 = jnp.asarray(p4, dtype), jnp.asarray(P4, dtype)
    if M is None:
        M = _sqrt0(P4[..., 0] ** 2 - jnp.sum(P4[..., 1:] ** 2, axis=-1))
    M = jnp.asarray(M, dtype)
    out = _boost_to_frame_t(tuple(p4[..., i] for i in range(4)), tuple(P4[..., i] for i in range(4)), M)
    return jnp.stack(jnp.broadcast_arrays(*out), axis=-1)


def boost(p4, beta):
    """Lorentz boost of four-vectors p4 (..., 4) by the velocity vector beta (..., 3), ``|beta| < 1``, along
    an arbitrary axis: the vector seen from a frame moving with -beta, i.e. a particle at rest goes to
    velocity beta [PDG "Kinematics" sec. 49.1]:

        E' = gamma (E + beta.p),   p' = p + beta gamma [ gamma beta.p / (gamma + 1) + E ].

    Same as :func:`boost_to_frame` with P = M gamma (1, beta).
    """
    dtype = float_dtype(p4, beta)
    p4, beta = jnp.asarray(p4, dtype), jnp.asarray(beta, dtype)
    b2 = jnp.sum(beta * beta, axis=-1)
    gamma = 1.0 / jnp.sqrt(1.0 - b2)
    bp = jnp.sum(beta * p4[..., 1:], axis=-1)
    e = p4[..., 0]
    e_out = gamma * (e + bp)
    c = gamma * (gamma * bp / (gamma + 1.0) + e)
    return jnp.concatenate([e_out[..., None], p4[..., 1:] + c[..., None] * beta], axis=-1)


def _direction(cos_t, phi):
    sin_t = _sqrt0((1.0 - cos_t) * (1.0 + cos_t))
    return sin_t * jnp.cos(phi), sin_t * jnp.sin(phi), cos_t


def _back_to_back(M, m1, m2, cos_t, phi):
    """Rest-frame four-vectors (tuples) of a two-body decay M -> m1 m2, daughter 1 along (cos_t, phi)."""
    q = two_body_momentum(M, m1, m2)
    nx, ny, nz = _direction(cos_t, phi)
    e1 = _sqrt0(q * q + m1 * m1)
    e2 = _sqrt0(q * q + m2 * m2)
    return (e1, q * nx, q * ny, q * nz), (e2, -q * nx, -q * ny, -q * nz), q


# ----------------------------------------------------------------------------------------------------
# n-body phase space
# ----------------------------------------------------------------------------------------------------
def _phase_space_t(M, masses, u_cols, k=None):
    """Tuple form of :func:`phase_space`: u_cols is a list of the 3n - 4 unit columns; returns
    ([(E, px, py, pz) per particle], weight) with every component broadcast only as far as it needs."""
    n = len(masses)
    if n < 2:
        raise ValueError(f"phase space needs at least two particles, not {n}")
    if len(u_cols) != 3 * n - 4:
        raise ValueError(f"{n}-body phase space needs {3 * n - 4} unit coordinates, not {len(u_cols)}")
    dtype = float_dtype(M, *u_cols)
    M = jnp.asarray(M, dtype)
    ms = [jnp.asarray(mi, dtype) for mi in masses]
    two_pi = 2.0 * math.pi

    def cos_of(u):
        if n == 2 and k is not None:
            return cos_star_from_uniform(u, k)
        return 2.0 * u - 1.0

    # intermediate invariant masses M_1 = m_1 < M_2 < ... < M_n = M from the sorted uniforms
    T = jnp.maximum(M - sum(ms), 0.0)
    if n > 2:
        r = [u_cols[2 * (n - 1) + i] for i in range(n - 2)]
        if n == 3:
            r_sorted = r
        elif n == 4:
            r_sorted = [jnp.minimum(r[0], r[1]), jnp.maximum(r[0], r[1])]
        else:
            rs = jnp.sort(jnp.stack(jnp.broadcast_arrays(*r), axis=-1), axis=-1)
            r_sorted = [rs[..., i] for i in range(n - 2)]
    Mk = [ms[0]]
    partial = ms[0]
    for kk in range(2, n + 1):  # kk = 2..n
        partial = partial + ms[kk - 1]
        Mk.append(M if kk == n else partial + r_sorted[kk - 2] * T)

    # step kk = 2: particles 1 and 2 back to back in the M_2 frame
    j = n - 2
    p1, p2, q = _back_to_back(Mk[1], ms[0], ms[1], cos_of(u_cols[2 * j]), two_pi * u_cols[2 * j + 1])
    parts = [p1, p2]
    weight = q
    for kk in range(3, n + 1):  # subsystem 1..kk-1 (mass M_{kk-1}) and particle kk in the M_kk frame
        j = n - kk
        sub, pk, q = _back_to_back(Mk[kk - 1], Mk[kk - 2], ms[kk - 1], cos_of(u_cols[2 * j]),
                                   two_pi * u_cols[2 * j + 1])
        parts = [_boost_to_frame_t(v, sub, Mk[kk - 2]) for v in parts] + [pk]
        weight = weight * q
    pre = math.pi ** (n - 1) * 2.0 ** (n - 2) / math.factorial(n - 2)
    weight = pre * T ** (n - 2) * weight / _safe_pos(M)
    weight = jnp.where(M > 0, weight, jnp.zeros_like(weight))
    return parts, weight


def phase_space(M, masses, u, k=None):
    """Rest-frame four-momenta (..., n, 4) of a decay M -> m_1 ... m_n (n >= 2, GENBOD: module docstring)
    and the event weight (...) whose mean over uniform u is the phase-space volume R_n(M) [GeV^(2n-4)].

    M [GeV] broadcasts against u[..., 0]; masses: a sequence of n daughter masses [GeV] (n static);
    u (..., 3n - 4) unit points in the layout of the module docstring.  Weighted events are distributed
    flat in phase space (the estimate of a mean is sum(w f) / sum(w)); for n = 2 the weight pi p*/M does
    not depend on u.  k (n = 2 only): cos(theta*) of daughter 1 along the z axis follows 1 + k cos^2
    (:func:`fipscan.kernels.kinematics.cos_star_from_uniform`), otherwise it is isotropic; k is ignored
    for n >= 3.  At and below threshold (M <= sum m_i) the momenta are those of the closed decay (zero
    relative momenta) and the weight is 0.
    """
    n = len(masses)
    dtype = float_dtype(M, u)
    u = jnp.asarray(u, dtype)
    if u.shape[-1] != 3 * n - 4:
        raise ValueError(f"{n}-body phase space needs u (..., {3 * n - 4}), not {u.shape}")
    parts, w = _phase_space_t(M, masses, [u[..., i] for i in range(u.shape[-1])], k)
    comps = [c for v in parts for c in v] + [w]
    comps = jnp.broadcast_arrays(*comps)
    p4 = jnp.stack([jnp.stack(comps[4 * i: 4 * i + 4], axis=-1) for i in range(n)], axis=-2)
    return p4, comps[-1]


def phase_space_volume(M, masses, u):
    """Monte Carlo estimate of R_n(M; masses) [GeV^(2n-4)] (module docstring convention) from unit points
    u (N, 3n - 4): the mean event weight of :func:`phase_space`."""
    _, w = phase_space(M, masses, u)
    return jnp.mean(w, axis=-1)


# ----------------------------------------------------------------------------------------------------
# three-body decays M -> m3 + X + X (a pair of identical particles X of mass m): Dalitz integrals
# ----------------------------------------------------------------------------------------------------
def _sin2_nodes(a, b, n, dtype):
    """Nodes s_k and weights dw_k of int_a^b f(s) ds ~ sum_k dw_k f(s_k) by the substitution
    s = a + (b - a) sin^2(u/2), u in (0, pi), and the midpoint rule in u (n nodes): square-root ends
    of a Dalitz-plot boundary at both limits make the integrand sin^2 u x smooth, which the midpoint
    rule integrates to spectral accuracy; a plain (non-vanishing) end leaves an O(n^-2) error (1e-4
    at n = 64 for a flat massless Dalitz plot)."""
    u = (jnp.arange(n, dtype=dtype) + 0.5) * (math.pi / n)
    s = a + (b - a) * jnp.sin(0.5 * u) ** 2
    return s, (b - a) * 0.5 * jnp.sin(u) * (math.pi / n)


def _kallen_sqrt(x, y, z):
    lam = x * x + y * y + z * z - 2.0 * (x * y + y * z + z * x)
    return _sqrt0(lam)


def pair_dalitz_width(amp2, M, m3, m, n=64):
    """Gamma(M -> m3 X X) [GeV] for a pair of identical spin-0 particles X (mass m) when the spin-summed
    ``|amplitude|^2`` depends on the pair invariant mass only, amp2(q^2), q^2 = m_XX^2 [GeV^2]:

        Gamma = 1/2 x 1/(256 pi^3 M^3) int_{4m^2}^{(M - m3)^2} dq^2 amp2(q^2) lambda^1/2(M^2, m3^2, q^2) beta(q^2),

    beta = sqrt(1 - 4 m^2/q^2): the Dalitz form ``dGamma = |A|^2 dm12^2 dm23^2 / ((2 pi)^3 32 M^3)`` (PDG RPP,
    "Kinematics", sec. 49.4.3, eq. (49.22)) integrated over m_(X m3)^2 at fixed q^2, whose range is
    lambda^1/2 beta (ibid. eq. (49.23)); the 1/2 is the identical-particle factor.  M, m3, m [GeV]
    scalars (m traced); n: nodes of :func:`_sin2_nodes`.  0 at and above the threshold m = (M - m3)/2.
    """
    dtype = float_dtype(m)
    m = jnp.asarray(m, dtype)
    top = (M - m3) ** 2
    open_ = 2.0 * m < M - m3
    m_ok = jnp.where(open_, m, 0.25 * (M - m3))
    q2, dq = _sin2_nodes(4.0 * m_ok * m_ok, top, n, dtype)
    beta = _sqrt0(1.0 - 4.0 * m_ok * m_ok / q2)
    integral = jnp.sum(dq * amp2(q2) * _kallen_sqrt(M * M, m3 * m3, q2) * beta)
    return jnp.where(open_, 0.5 * integral / (256.0 * math.pi**3 * M**3), 0.0)


def pair_recoil_nodes(amp2, M, m3, m, n_r=8, n_q=6):
    """Quadrature of the invariant mass m_r of the system recoiling against ONE particle X of the
    decay M -> m3 X X (pair X X of mass m; amplitude as :func:`pair_dalitz_width`): (m_r (n_r,) [GeV],
    weights (n_r,) summing to 1).

    The X is emitted isotropically (a spin-0 parent) with the two-body momentum of M -> m + m_r, so
    these nodes fix its whole distribution.  Density in s = m_r^2 = m_(X m3)^2 (the other X with the
    m3 particle): rho(s) = int amp2(q^2) dq^2 over the Dalitz range at fixed s, q^2 between
    (E1 + E2)^2 - (p1 -+ p2)^2 with E1 = (M^2 - s - m^2)/(2 sqrt s), E2 = (s + m^2 - m3^2)/(2 sqrt s) the
    energies of the tracked X and the other X in the recoil rest frame (PDG RPP "Kinematics" eq.
    (49.23)); Gauss-Legendre (n_q nodes) in q^2 and the sin^2 substitution (n_r midpoints) in s.
    Below threshold only (m < (M - m3)/2; the caller keeps m there).
    """
    import numpy as np

    dtype = float_dtype(m)
    m = jnp.asarray(m, dtype)
    s, ds = _sin2_nodes((m + m3) ** 2, (M - m) ** 2, n_r, dtype)
    rs = jnp.sqrt(s)
    e1 = (M * M - s - m * m) / (2.0 * rs)
    e2 = (s + m * m - m3 * m3) / (2.0 * rs)
    p1, p2 = _sqrt0(e1 * e1 - m * m), _sqrt0(e2 * e2 - m * m)
    lo = (e1 + e2) ** 2 - (p1 + p2) ** 2
    hi = (e1 + e2) ** 2 - (p1 - p2) ** 2
    x, w = np.polynomial.legendre.leggauss(int(n_q))
    x, w = jnp.asarray(x, dtype), jnp.asarray(w, dtype)
    q2 = 0.5 * (lo + hi)[:, None] + 0.5 * (hi - lo)[:, None] * x[None, :]
    rho = 0.5 * (hi - lo) * jnp.sum(w[None, :] * amp2(q2), axis=1)
    weights = ds * rho
    total = jnp.sum(weights)
    return rs, weights / jnp.where(total > 0, total, 1.0)


# ----------------------------------------------------------------------------------------------------
# two-photon decays (pi0, eta)
# ----------------------------------------------------------------------------------------------------
def _two_photon_t(P, m, u_cos, u_phi):
    """Tuple form of :func:`two_photon_decay`: photons of a parent of mass m with four-momentum P."""
    m = jnp.asarray(m, u_cos.dtype)
    half = 0.5 * m
    nx, ny, nz = _direction(2.0 * u_cos - 1.0, 2.0 * math.pi * u_phi)
    g1 = (half + 0.0 * nz, half * nx, half * ny, half * nz)
    g2 = (half + 0.0 * nz, -half * nx, -half * ny, -half * nz)
    return _boost_to_frame_t(g1, P, m), _boost_to_frame_t(g2, P, m)


def two_photon_decay(P4, m, u):
    """Four-momenta (..., 2, 4) of the photons of X -> gamma gamma for a parent of mass m [GeV] and
    four-momentum P4 (..., 4): isotropic in the parent's rest frame (spin 0: pi0, eta), photon 1 along
    (cos = 2 u[..., 0] - 1, phi = 2 pi u[..., 1]) there, photon 2 opposite, then boosted with
    :func:`boost_to_frame`."""
    dtype = float_dtype(P4, m, u)
    P4, u = jnp.asarray(P4, dtype), jnp.asarray(u, dtype)
    g1, g2 = _two_photon_t(tuple(P4[..., i] for i in range(4)), m, u[..., 0], u[..., 1])
    comps = jnp.broadcast_arrays(*g1, *g2)
    return jnp.stack([jnp.stack(comps[:4], axis=-1), jnp.stack(comps[4:], axis=-1)], axis=-2)
