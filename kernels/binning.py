"""Binning of FIP samples on (log10 p, log10 theta) and the azimuthal-ring kernel of two-body decays.

Pure jax.numpy; every function is a function of arrays (no state) and keeps the floating dtype of its
inputs.  Angles in radians, momenta in GeV.

Why a ring kernel.  A FIP from the two-body decay of a parent with lab polar angle Theta leaves at a lab
opening angle alpha to the parent's flight direction and at an azimuth psi around it; psi is uniform for
an isotropic (or spin-averaged) decay.  Its polar angle to the beam follows from the spherical law of
cosines, written in haversines (hav x = sin^2(x/2)), which has no cancellation at small angles:

    hav(theta) = hav(Theta - alpha) + sin(Theta) sin(alpha) hav(psi),                     (R1)

psi = 0 being the azimuth towards the beam axis (``theta = |Theta - alpha|``).  [Spherical law of
cosines: e.g. W. M. Smart, Textbook on Spherical Astronomy, 6th ed. (1977), ch. 1, eq. (1.12); the
haversine form ibid. sec. 1.13.]  The lab momentum p and alpha depend on the parent momentum, the
rest-frame polar angle and the FIP mass, but not on Theta or psi.  Binning theta over psi and over the
parent's angular spectrum is therefore a mass-independent operator K[j, a, t] on a grid of alpha
nodes a: per mass only (p, alpha) of each (parent momentum, rest-frame angle) pair are needed, and
the histogram is a sum of interpolated rows of K contracted with the parent spectrum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .numerics import float_dtype

__all__ = [
    "log_theta_cic",
    "ring_polar_angle",
    "ring_kernel",
    "alpha_nodes",
    "alpha_node_position",
    "two_body_p_alpha",
    "log_bin_index",
    "bin_rows",
]


def log_theta_cic(theta, t_edges):
    """Cloud-in-cell shares of angles ``theta`` [rad] on uniform log10-theta bins with edges ``t_edges``.

    Returns (j0, j1, f1, keep): the sample's weight goes (1 - f1) to bin j0 and f1 to bin j1 = j0 + 1
    (clipped).  Shares are linear in log10 theta between the bin centres, so a histogram is a continuous
    function of the angles.  Angles below the first centre go wholly to the first bin (the theta -> 0
    limit is flat); angles above the last centre are not kept (keep = False).
    """
    nt = t_edges.shape[0] - 1
    step = t_edges[1] - t_edges[0]
    # position in units of bin centres: centre j at t_edges[0] + (j + 0.5) step
    u = (jnp.log10(jnp.maximum(theta, 1e-30)) - t_edges[0]) / step - 0.5
    u = jnp.maximum(u, 0.0)
    keep = u <= nt - 1
    j0 = jnp.clip(jnp.floor(u).astype(jnp.int32), 0, nt - 1)
    j1 = jnp.clip(j0 + 1, 0, nt - 1)
    f1 = jnp.clip(u - j0, 0.0, 1.0)
    return j0, j1, f1, keep


def ring_polar_angle(theta_parent, alpha, psi):
    """Polar angle [rad] to the beam of a direction at angle ``alpha`` to a parent direction of polar
    angle ``theta_parent`` and azimuth ``psi`` around it (psi = 0 towards the beam axis), from (R1) of
    the module docstring: theta = 2 asin(sqrt(hav(Theta - alpha) + sin Theta sin alpha hav psi)).
    Accurate to rounding at all angles (no 1 - cos cancellation); broadcasts.
    """
    h = jnp.sin(0.5 * (theta_parent - alpha)) ** 2 + jnp.sin(theta_parent) * jnp.sin(alpha) * jnp.sin(0.5 * psi) ** 2
    return 2.0 * jnp.arcsin(jnp.sqrt(jnp.clip(h, 0.0, 1.0)))


def ring_kernel(theta_parent, alphas, t_edges, n_psi):
    """K[j, a, t]: cloud-in-cell histogram (:func:`log_theta_cic`) on the log10-theta bins ``t_edges``
    of the FIP polar angle for a parent at polar angle theta_parent[j] and a FIP at lab opening angle
    alphas[a] to it, averaged over the azimuth psi with ``n_psi`` midpoints on [0, pi) (the ring is
    symmetric under psi -> 2 pi - psi, so these are the midpoints of 2 n_psi points on [0, 2 pi)).

    Rows sum to the fraction of the ring kept (angles up to the last bin centre).  Shape
    (Nj, Na, Nt); memory Nj Na Nt floats, work Nj Na n_psi.
    """
    dtype = float_dtype(theta_parent, alphas)
    nt = t_edges.shape[0] - 1
    psi = (jnp.arange(n_psi, dtype=dtype) + 0.5) * (jnp.pi / n_psi)

    na = alphas.shape[0]
    rows = jnp.arange(na)[:, None] * nt

    def one_parent(th):
        theta = ring_polar_angle(th, alphas[:, None], psi[None, :])  # (Na, n_psi)
        j0, j1, f1, keep = log_theta_cic(theta, t_edges)
        w = jnp.where(keep, 1.0 / n_psi, 0.0).astype(dtype)
        out = jax.ops.segment_sum((w * (1.0 - f1)).ravel(), (rows + j0).ravel(), num_segments=na * nt)
        out = out + jax.ops.segment_sum((w * f1).ravel(), (rows + j1).ravel(), num_segments=na * nt)
        return out.reshape(na, nt)

    return jax.lax.map(one_parent, jnp.asarray(theta_parent, dtype))


def alpha_nodes(alpha_max, n, alpha0):
    """n interpolation nodes of the opening angle on [0, alpha_max]: uniform in s = log(alpha + alpha0)
    (logarithmic spacing above alpha0, linear below it, where the ring kernel is flat in alpha)."""
    s = jnp.linspace(jnp.log(alpha0), jnp.log(alpha_max + alpha0), n)
    return jnp.exp(s) - alpha0


def alpha_node_position(alpha, alpha_max, n, alpha0):
    """(a0, f): alpha lies between nodes a0 and a0 + 1 of :func:`alpha_nodes` with linear weight f on
    a0 + 1 (in s = log(alpha + alpha0)); alpha above alpha_max is clamped to the last node."""
    s0 = jnp.log(alpha0)
    ds = (jnp.log(alpha_max + alpha0) - s0) / (n - 1)
    x = jnp.clip((jnp.log(jnp.maximum(alpha, 0.0) + alpha0) - s0) / ds, 0.0, n - 1.0)
    a0 = jnp.clip(jnp.floor(x).astype(jnp.int32), 0, n - 2)
    return a0, x - a0


def two_body_p_alpha(parent_p, M, m1, m2, cos_star):
    """Lab momentum ``|p_1|`` [GeV] and lab opening angle alpha [rad] to the parent's flight direction of
    daughter 1 (mass m1) of a parent (mass M, momentum ``parent_p``) decaying to m1 + m2, emitted at
    rest-frame polar angle theta* (``cos_star``) to the flight direction.

    Boost along the flight direction [PDG RPP, "Kinematics", sec. 49.1]: p_par = gamma p* cos theta*
    + beta gamma E1*, p_T = p* sin theta*, with p*, E1* of the two-body decay [ibid. sec. 49.4.2];
    alpha = atan2(p_T, p_par) in [0, pi].  Below threshold p* = 0 (alpha = 0).
    """
    dtype = float_dtype(parent_p, M, m1, m2, cos_star)
    parent_p, M, m1, m2, c = (jnp.asarray(v, dtype) for v in (parent_p, M, m1, m2, cos_star))
    m2sum, m2dif = (m1 + m2) ** 2, (m1 - m2) ** 2
    lam = (M * M - m2sum) * (M * M - m2dif)
    open_ = lam > 0
    pstar = jnp.where(open_, jnp.sqrt(jnp.where(open_, lam, 1.0)), 0.0) / (2.0 * M)
    e1s = (M * M + m1 * m1 - m2 * m2) / (2.0 * M)
    gamma = jnp.sqrt(parent_p * parent_p + M * M) / M
    betagamma = parent_p / M
    s = jnp.sqrt(jnp.clip((1.0 - c) * (1.0 + c), 0.0, None))
    p_par = gamma * pstar * c + betagamma * e1s
    p_t = pstar * s
    return jnp.hypot(p_par, p_t), jnp.arctan2(p_t, p_par)


def log_bin_index(x, log10_edges):
    """Index of the uniform log10 bin holding each x: floor((log10 x - e_0) / (e_1 - e_0)) (int32,
    unclipped: negative below the first edge, >= the number of bins above the last)."""
    step = log10_edges[1] - log10_edges[0]
    return jnp.floor((jnp.log10(x) - log10_edges[0]) / step).astype(jnp.int32)


def bin_rows(rows, p, p_edges):
    """Sum rows (..., Nt) of weight per row into nearest log10-p bins: (H (Nb, Nt), sum of row weight /
    p per bin (Nb,)).  Rows below the first edge are dropped, rows above the last go to the last bin."""
    nb = p_edges.shape[0] - 1
    nt = rows.shape[-1]
    rows = rows.reshape(-1, nt)
    p = p.reshape(-1)
    ib = log_bin_index(p, p_edges)
    # rows below the first edge go to an extra bin nb that is dropped (cheaper in XLA than masking)
    ib = jnp.where(ib >= 0, jnp.minimum(ib, nb - 1), nb)
    H = jax.ops.segment_sum(rows, ib, num_segments=nb + 1)[:nb]
    w_over_p = jax.ops.segment_sum(jnp.sum(rows, axis=1) / p, ib, num_segments=nb + 1)[:nb]
    return H, w_over_p
