"""FIP momentum samples per POT from production channels (meson decays, bremsstrahlung).

Every production channel offers two views of the FIPs it makes at mass m:

* samples: ``channel(m) -> (p, theta, weight)`` arrays: lab momentum [GeV], polar angle to the beam
  [rad] and the number of FIPs per POT at unit coupling carried by each sample;
* a histogram: ``channel.binned(data, m, p_edges, t_edges) -> (H, w_over_p)``, the same FIPs on
  nearest log10-p bins x cloud-in-cell log10-theta bins (fipscan.kernels.binning), with
  ``data = channel.binned_data(t_edges)`` the mass-independent arrays it needs (passed in as an
  argument, so that they are inputs of the compiled program and not constants folded into it).

Both are jnp functions of the mass (jittable, vmappable); the meson spectra enter as arrays.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.kernels import binning
from fipscan.kernels.kinematics import daughter_p_theta

__all__ = ["MesonSampler", "RecoilSampler", "PhotonConversionSampler", "TableSampler",
           "MixingSampler", "decay_directions",
           "grid_samples", "histogram_samples", "alp_momentum", "cos_midpoints"]


def cos_midpoints(n: int, dtype):
    """The n midpoints of equal bins of cos theta* in [-1, 1] (rest-frame decay angles of the binned
    two-body kinematics): (n,) of ``dtype``."""
    return -1.0 + (jnp.arange(n, dtype=dtype) + 0.5) * (2.0 / n)


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
    lp = 0.5 * (jnp.asarray(log10p_edges)[1:] + jnp.asarray(log10p_edges)[:-1])
    lt = 0.5 * (jnp.asarray(log10theta_edges)[1:] + jnp.asarray(log10theta_edges)[:-1])
    P, T = jnp.meshgrid(10.0**lp, 10.0**lt, indexing="ij")
    return P.ravel(), T.ravel(), jnp.ravel(table)


def histogram_samples(p, theta, w, p_edges, t_edges):
    """FIP samples -> (H (Nb, Nt) per POT, production-weighted sum of w/p per momentum bin (Nb,)).

    Nearest bin in log10 p (the momentum bins are the decay-length bins); cloud-in-cell sharing between
    the two nearest bin centres in log10 theta (kernels.binning.log_theta_cic), which makes H a
    continuous function of the sample angles.  Samples below the first momentum edge or above the last
    angle centre are dropped.
    """
    nb, nt = p_edges.shape[0] - 1, t_edges.shape[0] - 1
    j0, j1, f1, keep_t = binning.log_theta_cic(theta, t_edges)
    ib = binning.log_bin_index(p, p_edges)
    keep = keep_t & (ib >= 0)
    ib = jnp.clip(ib, 0, nb - 1)
    wk = jnp.where(keep, w, 0.0)
    H = jax.ops.segment_sum(wk * (1 - f1), ib * nt + j0, num_segments=nb * nt)
    H = H + jax.ops.segment_sum(wk * f1, ib * nt + j1, num_segments=nb * nt)
    w_over_p = jax.ops.segment_sum(wk / p, ib, num_segments=nb)
    return H.reshape(nb, nt), w_over_p


class MesonSampler:
    """FIPs from the two-body decay of a meson, parent -> companion + FIP, e.g. pi0 -> gamma A'.

    The parent spectrum is a histogram per POT in (log10 p, log10 theta) (fipscan.spectra); every
    non-empty bin is represented by its centre.  Parents below ``min_parent_p`` [GeV] or above
    ``max_parent_theta`` [rad] cannot give a FIP inside a forward detector at O(100 m) and are left
    out (``dropped_fraction``).  Weights: parent per POT x BR(parent -> companion FIP)(m).  The decay
    is isotropic in the parent rest frame (a pseudoscalar parent, or an unpolarised vector summed over
    spins); the parent azimuth is irrelevant (azimuthally symmetric spectra and acceptance).

    Samples (``__call__``, the reference): each parent bin decayed in the fixed stratified set of
    ``n_cos`` x ``n_phi`` rest-frame directions, exact Lorentz boost (kernels.kinematics).

    Histogram (``binned``, the fast path of the yield tables): per parent momentum and rest-frame
    angle (``n_cos_binned`` midpoints in cos theta*) the FIP momentum and opening angle alpha are
    computed exactly (kernels.binning.two_body_p_alpha); the distribution of the FIP polar angle
    over the parent angular spectrum and the azimuth around the parent (``n_psi`` midpoints on
    [0, pi)) is the mass-independent ring kernel (kernels.binning.ring_kernel) contracted with the
    spectrum once, tabulated on ``n_alpha`` nodes uniform in log(alpha + alpha0) and interpolated
    linearly in alpha per mass.  Work per mass: (parent momenta) x n_cos_binned rows of Nt bins,
    independent of the number of angular parent bins.
    """

    def __init__(self, hist, log10p_edges, log10theta_edges, m_parent, m_companion, br, *,
                 n_cos=16, n_phi=8, min_fraction=1e-7, min_parent_p=1.0, max_parent_theta=0.3,
                 n_cos_binned=64, n_psi=16, n_alpha=1000, alpha0=1e-7):
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
        # the kept spectrum as a dense (parent momentum, parent angle) matrix for the binned path; its
        # angles are all those allowed by max_parent_theta, so that every sampler on the same spectra
        # binning shares one ring kernel
        rows, cols = np.unique(ip), np.nonzero(10.0 ** lt <= max_parent_theta)[0]
        self._kept_p = 10.0 ** lp[rows]
        self._kept_theta = 10.0 ** lt[cols]
        self._kept_w = np.where(keep, hist, 0.0)[np.ix_(rows, cols)]
        self.n_cos_binned, self.n_psi, self.n_alpha, self.alpha0 = int(n_cos_binned), int(n_psi), int(n_alpha), float(alpha0)

    def _m_ok(self, m):
        # below threshold the kinematics are clamped to a valid mass and the weight is zero
        return jnp.minimum(m, 0.999 * (self.m_parent - self.m_companion))

    def __call__(self, m):
        """(p, theta, weight) of the FIP samples for mass m [GeV] at unit coupling."""
        dtype = jnp.result_type(m, float)
        p, theta = daughter_p_theta(
            self.parent_p.astype(dtype), self.parent_theta.astype(dtype), jnp.zeros((), dtype),
            jnp.asarray(self.m_parent, dtype), self._m_ok(m), jnp.asarray(self.m_companion, dtype),
            self.cos_star.astype(dtype), self.phi_star.astype(dtype),
        )
        w = self.parent_w.astype(dtype) * self.br(m)
        return p, theta, w

    def _alpha_max(self, t_edges):
        # beyond the widest kept parent plus the last angle centre the ring misses every bin
        last_centre = 10.0 ** (float(t_edges[-1]) - 0.5 * float(t_edges[1] - t_edges[0]))
        return 1.01 * (float(self._kept_theta.max(initial=0.0)) + last_centre)

    def ring_args(self, t_edges) -> tuple:
        """Everything the ring kernel of :meth:`ring` depends on (hashable: samplers with equal
        ring_args can share one kernel)."""
        return (tuple(self._kept_theta.tolist()), self._alpha_max(t_edges), self.n_alpha, self.alpha0,
                tuple(np.asarray(t_edges, dtype=float).tolist()), self.n_psi)

    def ring(self, t_edges, dtype=jnp.float64):
        """The ring kernel K[j, a, t] (kernels.binning.ring_kernel) of the kept parent angles on the
        opening-angle nodes of this sampler, for the log10-theta bins ``t_edges``."""
        t_edges = jnp.asarray(t_edges, dtype)
        alphas = binning.alpha_nodes(self._alpha_max(t_edges), self.n_alpha, self.alpha0).astype(dtype)
        return binning.ring_kernel(jnp.asarray(self._kept_theta, dtype), alphas, t_edges, self.n_psi)

    def binned_data(self, t_edges, dtype=jnp.float64, ring=None) -> dict:
        """Mass-independent arrays of :meth:`binned`: the parent momenta P (Np,) and the spectrum
        contracted with the ring kernel, F[i, a, t] = sum_j w[i, j] K[j, a, t] (Np, n_alpha, Nt).
        ``ring``: K if already computed (:meth:`ring`, for samplers with the same :meth:`ring_args`)."""
        K = self.ring(t_edges, dtype) if ring is None else ring
        F = jnp.einsum("ij,jat->iat", jnp.asarray(self._kept_w, dtype), K)
        return {"P": jnp.asarray(self._kept_p, dtype), "F": F}

    def binned(self, data, m, p_edges, t_edges):
        """(H (Nb, Nt), sum of w/p per p bin (Nb,)) of the FIPs at mass m [GeV] per POT at unit
        coupling on the bins of (p_edges, t_edges) (log10 GeV, log10 rad); see the class docstring."""
        P, F = data["P"], data["F"]
        dtype = F.dtype
        n = self.n_cos_binned
        c = cos_midpoints(n, dtype)
        p, alpha = binning.two_body_p_alpha(P[:, None], self.m_parent, self._m_ok(m).astype(dtype),
                                            self.m_companion, c[None, :])
        a0, f = binning.alpha_node_position(alpha, self._alpha_max(t_edges), self.n_alpha, self.alpha0)
        i = jnp.arange(P.shape[0])[:, None]
        rows = (1.0 - f)[..., None] * F[i, a0] + f[..., None] * F[i, a0 + 1]  # (Np, n, Nt)
        H, w_over_p = binning.bin_rows(rows, p, p_edges)
        scale = (self.br(m) / n).astype(dtype)  # applied after the binning (cheaper than to every row)
        return H * scale, w_over_p * scale


class RecoilSampler(MesonSampler):
    """FIPs from parent -> FIP + recoiling system of distributed invariant mass (a three-body decay seen
    from one FIP, e.g. B -> K S S, or an inclusive B -> X_s S); ``n_fips`` FIPs per decay.

    Exact decomposition, not an approximation of the kinematics: in the rest frame of a spin-0 parent
    every daughter is emitted isotropically, and its momentum is fixed by the invariant mass of what
    recoils against it (p* = lambda^1/2(M^2, m^2, m_r^2)/(2M), PDG RPP "Kinematics" sec. 49.4), so the
    FIP's distribution is the mixture over the recoil mass m_r of two-body decays M -> m + m_r.
    ``recoil(m) -> (m_r (n_r,), weights (n_r,))`` is a quadrature of that mixture (the model computes it
    from its Dalitz density); every node reuses the parent spectrum's ring kernel of
    :class:`MesonSampler` (work per mass: n_r x the two-body one).  Weights per POT at unit coupling:
    parent x n_fips x BR x node weight.  The expected number of FIP decays is counted (each FIP of a
    decay may decay in the volume; the two FIPs of a pair enter through the same marginal).
    """

    def __init__(self, hist, log10p_edges, log10theta_edges, m_parent, recoil, br, *, n_fips=1, **kwargs):
        super().__init__(hist, log10p_edges, log10theta_edges, m_parent, 0.0, br, **kwargs)
        self.recoil = recoil
        self.n_fips = int(n_fips)

    def _nodes(self, m, dtype):
        m_r, w_r = self.recoil(m)
        return jnp.asarray(m_r, dtype), jnp.asarray(w_r, dtype)

    def _m_ok(self, m):  # the model's recoil quadrature keeps the kinematics valid; only m < M here
        return jnp.minimum(m, 0.999 * self.m_parent)

    def __call__(self, m):
        """(p, theta, weight) of the FIP samples for mass m [GeV] at unit coupling."""
        dtype = jnp.result_type(m, float)
        m_r, w_r = self._nodes(m, dtype)
        p, theta = daughter_p_theta(
            self.parent_p.astype(dtype)[:, None], self.parent_theta.astype(dtype)[:, None], jnp.zeros((), dtype),
            jnp.asarray(self.m_parent, dtype), self._m_ok(m), m_r[None, :],
            self.cos_star.astype(dtype)[:, None], self.phi_star.astype(dtype)[:, None],
        )
        w = self.parent_w.astype(dtype)[:, None] * w_r[None, :] * (self.n_fips * self.br(m))
        return p.ravel(), theta.ravel(), w.ravel()

    def binned(self, data, m, p_edges, t_edges):
        """(H (Nb, Nt), sum of w/p per p bin (Nb,)) at mass m [GeV] per POT at unit coupling: the
        two-body rows of :meth:`MesonSampler.binned` for every recoil node, weighted by the node."""
        P, F = data["P"], data["F"]
        dtype = F.dtype
        n = self.n_cos_binned
        c = cos_midpoints(n, dtype)
        m_r, w_r = self._nodes(m, dtype)
        p, alpha = binning.two_body_p_alpha(P[:, None, None], self.m_parent, self._m_ok(m).astype(dtype),
                                            m_r[None, :, None], c[None, None, :])  # (Np, n_r, n)
        a0, f = binning.alpha_node_position(alpha, self._alpha_max(t_edges), self.n_alpha, self.alpha0)
        i = jnp.arange(P.shape[0])[:, None, None]
        rows = ((1.0 - f)[..., None] * F[i, a0] + f[..., None] * F[i, a0 + 1]) * w_r[None, :, None, None]
        H, w_over_p = binning.bin_rows(rows, p, p_edges)
        scale = (self.n_fips * self.br(m) / n).astype(dtype)
        return H * scale, w_over_p * scale


def alp_momentum(E, m):
    """``|p| = sqrt(E^2 - m^2)`` [GeV] of a FIP of mass m that takes the energy E of a photon; where E <= m
    (no FIP is made, the weight is zero) E itself, so that momenta stay positive for the log binning
    (double-where: finite gradients at E = m)."""
    above = E > m
    return jnp.where(above, jnp.sqrt(jnp.where(above, (E - m) * (E + m), 1.0)), E)


class PhotonConversionSampler(MesonSampler):
    """FIPs made by the photons of a meson decay converting in the dump (e.g. pi0 -> gamma gamma, each
    photon gamma N -> a N by the Primakoff effect).

    The photon spectrum is the parent's histogram decayed as a two-body decay parent -> gamma +
    companion (a massless "FIP" and a companion of mass ``m_companion``: 0 for gamma gamma, m_pi0 for
    omega -> pi0 gamma) with the machinery of :class:`MesonSampler` (kept parents, isotropic rest-frame
    directions, the shared ring kernel of the parent angles).  Per photon of energy E the FIP takes the
    photon's energy and direction, momentum sqrt(E^2 - m^2) (:func:`alp_momentum`; the Primakoff angle
    ~ sqrt(Q^2)/E <~ 50 MeV / E is far below the photon's own angle to the beam, ~ m_parent / E, and
    is neglected), and the weight is parent per POT x ``photon_weight`` (photons per decay x BR) x
    ``conversion(E, m)`` (the conversion probability at unit coupling, zero for E <= m).  The photon
    kinematics do not depend on m: the mass enters only through the FIP momentum and the conversion
    probability, evaluated exactly at each photon energy (each parent momentum x rest-frame angle row).
    """

    def __init__(self, hist, log10p_edges, log10theta_edges, m_parent, m_companion, conversion, *,
                 photon_weight, **kwargs):
        super().__init__(hist, log10p_edges, log10theta_edges, m_parent, m_companion,
                         lambda m: 1.0, **kwargs)  # the weight is the photon's conversion, not a BR
        self.conversion = conversion
        self.photon_weight = float(photon_weight)

    def __call__(self, m):
        """(p, theta, weight) of the FIP samples for mass m [GeV] at unit coupling."""
        dtype = jnp.result_type(m, float)
        m = jnp.asarray(m, dtype)
        k, theta = daughter_p_theta(
            self.parent_p.astype(dtype), self.parent_theta.astype(dtype), jnp.zeros((), dtype),
            jnp.asarray(self.m_parent, dtype), jnp.zeros((), dtype), jnp.asarray(self.m_companion, dtype),
            self.cos_star.astype(dtype), self.phi_star.astype(dtype),
        )
        w = self.parent_w.astype(dtype) * self.photon_weight * self.conversion(k, m)
        return alp_momentum(k, m), theta, w

    def binned(self, data, m, p_edges, t_edges):
        """(H (Nb, Nt), sum of w/p per p bin (Nb,)) of the FIPs at mass m [GeV] per POT at unit
        coupling: the photon rows of :meth:`MesonSampler.binned` (massless daughter), each weighted by
        its conversion probability and binned at the FIP momentum."""
        P, F = data["P"], data["F"]
        dtype = F.dtype
        m = jnp.asarray(m, dtype)
        n = self.n_cos_binned
        c = cos_midpoints(n, dtype)
        k, alpha = binning.two_body_p_alpha(P[:, None], self.m_parent, jnp.zeros((), dtype), self.m_companion,
                                            c[None, :])
        a0, f = binning.alpha_node_position(alpha, self._alpha_max(t_edges), self.n_alpha, self.alpha0)
        i = jnp.arange(P.shape[0])[:, None]
        conv = tabulated_conversion(self.conversion, k, m).astype(dtype)  # (Np, n)
        rows = ((1.0 - f) * conv)[..., None] * F[i, a0] + (f * conv)[..., None] * F[i, a0 + 1]
        H, w_over_p = binning.bin_rows(rows, alp_momentum(k, m), p_edges)
        scale = jnp.asarray(self.photon_weight / n, dtype)
        return H * scale, w_over_p * scale


#: nodes of :func:`tabulated_conversion` in ln(E/m - 1) (max error 0.5% at m = 1 GeV, mean 3e-5)
CONVERSION_NODES = 512
#: its first node: E - m = 1e-5 m (photons closer to the threshold convert with P ~ 0 and are dropped)
CONVERSION_S_MIN = float(np.log(1e-5))


def tabulated_conversion(conversion, E, m, n_nodes: int = CONVERSION_NODES):
    """``conversion(E, m)`` (a photon's conversion probability, zero for E <= m) at the photon energies
    ``E`` [GeV] (any shape) for one mass ``m`` [GeV], from ``n_nodes`` exact evaluations: ln P is
    interpolated linearly in s = ln(E/m - 1) between s = ln(1e-5) and the largest E of the call.

    Why: the exact Primakoff probability is a 96-node quadrature with atomic and nuclear form factors per
    photon energy; a meson decay's photon rows are ~10^4 energies per mass, so the exact form made the
    ALP yield tables ~2x slower than the dark photon's.  P(E) is smooth in s: measured against the exact
    form at 2e4 random energies per mass (tests/test_alp_photon.py), the largest relative error is 3e-4
    at m = 0.01-0.1 GeV and 0.5-2% at 0.4-1 GeV (where the nuclear form factor's cut-off crosses Q_min),
    the mean error weighted by P ~3e-5 to 1e-4: far below the acceptance tables' Monte Carlo noise.
    The unbinned samples (``__call__``, the "direct" method) keep the exact form.  P = 0 below the first
    node (E - m < 1e-5 m) and for E <= m; ln P is floored at the dtype's smallest normal number, so a
    vanishing coupling gives 0, not NaN.
    """
    E = jnp.asarray(E)
    dtype = E.dtype
    m = jnp.asarray(m, dtype)
    s_lo = jnp.asarray(CONVERSION_S_MIN, dtype)
    s_hi = jnp.log(jnp.maximum(jnp.max(E) / m - 1.0, 2.0 * jnp.exp(s_lo)))
    s_nodes = jnp.linspace(s_lo, s_hi, n_nodes, dtype=dtype)
    tiny = jnp.finfo(dtype).tiny
    log_p = jnp.log(jnp.maximum(conversion(m * (1.0 + jnp.exp(s_nodes)), m).astype(dtype), tiny))
    above = E > m * (1.0 + jnp.exp(s_lo))
    s = jnp.log(jnp.where(above, E / m - 1.0, 1.0))
    p = jnp.exp(jnp.interp(s, s_nodes, log_p))
    return jnp.where(above & (p > 4.0 * tiny), p, 0.0)  # a floored node interpolates to ~tiny: 0


class TableSampler:
    """FIPs given as a histogram per POT on the (log10 p, log10 theta) bins of the spectra, computed
    per mass by ``table_fn(m, log10p_edges, log10theta_edges) -> (Np, Nt)`` (e.g. bremsstrahlung),
    where each bin depends only on its own edges.  Samples sit at the bin centres.

    ``binned`` evaluates the table only on the bins whose centres can enter the target histogram
    (momentum at or above its first edge, angle at or below its last angle centre) and, when
    ``p_support = (p_lo, p_hi)`` [GeV] says where the table can be non-zero, on the momentum bins that
    overlap it: the same histogram as binning all samples, for a fraction of the work.
    """

    def __init__(self, table_fn, log10p_edges, log10theta_edges, p_support=None):
        self.table_fn = table_fn
        self.log10p_edges = np.asarray(log10p_edges, dtype=float)
        self.log10theta_edges = np.asarray(log10theta_edges, dtype=float)
        self.p_support = None if p_support is None else (float(p_support[0]), float(p_support[1]))

    def __call__(self, m):
        table = self.table_fn(m, self.log10p_edges, self.log10theta_edges)
        return grid_samples(self.log10p_edges, self.log10theta_edges, table)

    def _window(self, p_edges, t_edges):
        ep, et = self.log10p_edges, self.log10theta_edges
        cp, ct = 0.5 * (ep[1:] + ep[:-1]), 0.5 * (et[1:] + et[:-1])
        last_t = float(t_edges[-1]) - 0.5 * float(t_edges[1] - t_edges[0])
        use_p = cp >= float(p_edges[0])
        if self.p_support is not None:
            lo, hi = np.log10(self.p_support[0]), np.log10(self.p_support[1])
            use_p &= (ep[1:] >= lo) & (ep[:-1] <= hi)
        ip = np.nonzero(use_p)[0]
        it = np.nonzero(ct <= last_t)[0]
        if ip.size == 0 or it.size == 0:
            raise ValueError("the table has no bin inside the target histogram")
        return ep[ip[0]:ip[-1] + 2], et[it[0]:it[-1] + 2]

    def binned_data(self, t_edges, dtype=jnp.float64, ring=None) -> dict:
        """No mass-independent arrays (the table is computed per mass)."""
        return {}

    def binned(self, data, m, p_edges, t_edges):
        """(H (Nb, Nt), sum of w/p per p bin (Nb,)) at mass m [GeV]; see the class docstring."""
        ep, et = self._window(np.asarray(p_edges), np.asarray(t_edges))
        table = self.table_fn(m, ep, et)
        return histogram_samples(*grid_samples(ep, et, table), p_edges, t_edges)


class MixingSampler:
    """FIPs made in place of the mesons of a spectrum (meson-FIP mixing): the parent histogram per POT
    on the (log10 p, log10 theta) bins of the spectra, each non-empty bin a sample at its centre with
    the parent's momentum and angle, weighted by ``mixing_sq(m)`` (``|theta|^2`` at unit coupling).  The
    kinematics do not depend on the mass (the FIP takes the meson's momentum vector;
    fipscan.production.channels.MesonMixing), so the histogram on the target bins is the parent's,
    binned once per call, times the mass-dependent weight.
    """

    def __init__(self, hist, log10p_edges, log10theta_edges, mixing_sq):
        hist = np.asarray(hist, dtype=float)
        lp = 0.5 * (np.asarray(log10p_edges)[1:] + np.asarray(log10p_edges)[:-1])
        lt = 0.5 * (np.asarray(log10theta_edges)[1:] + np.asarray(log10theta_edges)[:-1])
        ip, it = np.nonzero(hist > 0)
        self.parent_p = 10.0 ** lp[ip]
        self.parent_theta = 10.0 ** lt[it]
        self.parent_w = hist[ip, it]
        self.mixing_sq = mixing_sq

    def __call__(self, m):
        """(p, theta, weight) of the FIP samples for mass m [GeV] at unit coupling."""
        dtype = jnp.result_type(m, float)
        w = jnp.asarray(self.parent_w, dtype) * jnp.asarray(self.mixing_sq(m), dtype)
        return jnp.asarray(self.parent_p, dtype), jnp.asarray(self.parent_theta, dtype), w

    def binned_data(self, t_edges, dtype=jnp.float64, ring=None) -> dict:
        """The parent samples (p, theta, w) as arrays of ``dtype`` (inputs of the compiled program)."""
        return {"p": jnp.asarray(self.parent_p, dtype), "theta": jnp.asarray(self.parent_theta, dtype),
                "w": jnp.asarray(self.parent_w, dtype)}

    def binned(self, data, m, p_edges, t_edges):
        """(H (Nb, Nt), sum of w/p per p bin (Nb,)) at mass m [GeV] per POT at unit coupling."""
        dtype = data["w"].dtype
        H, w_over_p = histogram_samples(data["p"], data["theta"], data["w"], jnp.asarray(p_edges, dtype),
                                        jnp.asarray(t_edges, dtype))
        scale = jnp.asarray(self.mixing_sq(m), dtype)
        return H * scale, w_over_p * scale
