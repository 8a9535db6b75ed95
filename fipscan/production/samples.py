"""FIP momentum samples per POT from production channels (meson decays, bremsstrahlung).

Each builder returns ``(p, theta, weight)`` arrays for one FIP mass: lab momentum [GeV], polar angle
to the beam [rad] and the number of FIPs per POT at unit coupling carried by that sample.  They are
jnp functions of the mass (jittable, vmappable); the meson spectra enter as constant arrays.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from fipscan.kernels.kinematics import daughter_p_theta

__all__ = ["MesonSampler", "decay_directions", "grid_samples"]


def decay_directions(n_cos: int = 16, n_phi: int = 8):
    """A fixed, stratified set of rest-frame directions (cos θ*, φ*) with equal weights.

    Midpoints of n_cos equal bins in cos θ* and n_phi equal bins in φ*: for an isotropic two-body
    decay (a pseudoscalar parent, or an unpolarised vector summed over spins) this is a midpoint
    quadrature of the uniform solid-angle distribution.
    """
    cos = -1.0 + (np.arange(n_cos) + 0.5) * 2.0 / n_cos
    phi = (np.arange(n_phi) + 0.5) * 2.0 * np.pi / n_phi
    c, f = np.meshgrid(cos, phi, indexing="ij")
    return c.ravel(), f.ravel()


def grid_samples(log10p_edges, log10theta_edges, table):
    """Samples at the bin centres of a (log10 p, log10 theta) histogram ``table`` (Np, Nt)."""
    lp = 0.5 * (np.asarray(log10p_edges)[1:] + np.asarray(log10p_edges)[:-1])
    lt = 0.5 * (np.asarray(log10theta_edges)[1:] + np.asarray(log10theta_edges)[:-1])
    P, T = np.meshgrid(10.0**lp, 10.0**lt, indexing="ij")
    return jnp.asarray(P.ravel()), jnp.asarray(T.ravel()), jnp.ravel(table)


class MesonSampler:
    """FIPs from the two-body decay of a meson, parent -> companion + FIP, e.g. pi0 -> gamma A'.

    The parent spectrum is a histogram per POT in (log10 p, log10 theta) (fipscan.spectra); every
    non-empty bin is represented by its centre, decayed in a fixed stratified set of rest-frame
    directions (isotropic two-body decay).  The FIP direction is the exact Lorentz boost of the
    rest-frame one (kernels.kinematics).  Weights: parent per POT x BR(parent -> companion FIP)(m)
    / number of directions.  Parents below ``min_parent_p`` [GeV] or above ``max_parent_theta``
    [rad] cannot give a FIP inside a forward detector at O(100 m) and are left out.  Parent azimuths are set to zero: the spectra are azimuthally symmetric
    and the acceptance averages over the FIP azimuth.
    """

    def __init__(self, hist, log10p_edges, log10theta_edges, m_parent, m_companion, br, *,
                 n_cos=16, n_phi=8, min_fraction=1e-7, min_parent_p=1.0, max_parent_theta=0.3):
        hist = np.asarray(hist, dtype=float)
        total = hist.sum()
        lp = 0.5 * (np.asarray(log10p_edges)[1:] + np.asarray(log10p_edges)[:-1])
        lt = 0.5 * (np.asarray(log10theta_edges)[1:] + np.asarray(log10theta_edges)[:-1])
        # parents too slow (the FIP momentum is below the parent's) or too wide-angle to send a FIP
        # into a forward detector are dropped; the dropped fraction is kept in ``dropped_fraction``
        useful = (10.0 ** lp[:, None] >= min_parent_p) & (10.0 ** lt[None, :] <= max_parent_theta)
        keep = useful & (hist > min_fraction * total) if total > 0 else np.zeros_like(hist, dtype=bool)
        self.dropped_fraction = float(1.0 - hist[keep].sum() / total) if total > 0 else 0.0
        ip, it = np.nonzero(keep)
        cos, phi = decay_directions(n_cos, n_phi)
        self.parent_p = jnp.asarray(np.repeat(10.0 ** lp[ip], cos.size))
        self.parent_theta = jnp.asarray(np.repeat(10.0 ** lt[it], cos.size))
        self.parent_w = jnp.asarray(np.repeat(hist[ip, it], cos.size) / cos.size)
        self.cos_star = jnp.asarray(np.tile(cos, ip.size))
        self.phi_star = jnp.asarray(np.tile(phi, ip.size))
        self.m_parent = float(m_parent)
        self.m_companion = float(m_companion)
        self.br = br
        self.size = int(self.parent_p.size)

    def __call__(self, m):
        """(p, theta, weight) of the FIP samples for mass m [GeV] at unit coupling."""
        dtype = jnp.result_type(m, float)
        # below threshold the kinematics are clamped to a valid mass and the weight is zero
        m_ok = jnp.minimum(m, 0.999 * (self.m_parent - self.m_companion))
        p, theta = daughter_p_theta(
            self.parent_p.astype(dtype), self.parent_theta.astype(dtype), jnp.zeros((), dtype),
            jnp.asarray(self.m_parent, dtype), m_ok, jnp.asarray(self.m_companion, dtype),
            self.cos_star.astype(dtype), self.phi_star.astype(dtype),
        )
        w = self.parent_w.astype(dtype) * self.br(m)
        return p, theta, w
