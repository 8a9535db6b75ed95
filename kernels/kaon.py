"""NA62 in kaon mode: acceptance tables of K+ -> pi+ X with X decaying in flight (pure JAX).

Pure functions of arrays (no I/O, no globals, never imports fipscan).  Lengths in metres, momenta,
energies and masses in GeV (c = 1), angles in radians; z along the beam measured from the T10 target.

Beam
----
A K+ of momentum p_K = p_mean (1 + p_rel_rms g), g standard normal (the 75 GeV/c beam with 1% rms spread;
NA62, JINST 12 (2017) P05025, and arXiv:2312.17188), flies along +z on the axis x = y = 0: the beam's
divergence, its ~mrad angles and its transverse size are neglected, and so is the beam tracker's (GTK)
position resolution.  It decays at z_K drawn from the exponential law exp(-(z - z_beam_start)/L_K),
L_K = (p_K/m_K) c tau_K, truncated to the fiducial region [z_lo, z_hi], by inverting the truncated CDF:

    z_K = z_0 - L_K log1p(u expm1(-(z_hi - z_0)/L_K)),   z_0 = max(z_lo, z_beam_start),

(stable for L_K >> z_hi - z_0, where it tends to z_0 + u (z_hi - z_0)).  Because the exponential law has no
memory, z_beam_start enters the shape only through z_0.  The tables are per K+ decay in the fiducial
region (the normalisation NA62 quotes as the number of K+ decays in the fiducial volume, N_K); the
momentum spectrum of those kaons is the beam's Gaussian: the ~1/p_K dependence of the probability to
decay in the region tilts it by ~ -p_rel_rms^2 (1e-4 relative), which is neglected.

Decay K+ -> pi+ X
-----------------
Isotropic in the K+ rest frame (spin 0 -> spin 0 + anything), ``|p*| = lambda^(1/2)(m_K^2, m_pi^2, m_X^2)/(2 m_K)``
and E* = (m_K^2 + m_i^2 - m_j^2)/(2 m_K) [PDG Review of Particle Physics, "Kinematics", sec. 49.4.2], then
the exact boost along z with gamma = E_K/m_K, beta gamma = p_K/m_K (sec. 49.1).  X is emitted at
(cos theta* = 2 u - 1, phi* = 2 pi u'), the pi+ opposite, so p_K = p_pi + p_X exactly.

X decays (``SIGNATURES``)
-------------------------
The X flies in a straight line from the K+ vertex (0, 0, z_K) along its lab momentum and decays after a
flight distance d; the decay cells are intervals [a_k, a_(k+1)] of d (``a_edges``), d uniform inside a
cell (one draw per event and cell).  The last cell is "beyond": it stands for an X that leaves the
detector (the caller passes a_edges[-1] = 1e30), no position is drawn for it, and its acceptance is 0 for
the visible signatures and the pi+ acceptance (with the missing-mass windows) for "invisible".  The
caller must therefore place a_edges[-2] beyond the detector (an X with d > a_edges[-2] is taken to
escape); decays in the other cells are always placed where they happen.

Every signature requires the pi+ (charge +1) to move forward, to lie inside the straw annulus
r_min < r < r_max at STRAW1 and at STRAW4 (straight line, thin horizontal kick p_x -> p_x + p_T,kick at the
magnet's centre, as in :mod:`~fipscan.kernels.acceptance`) and to have ``pi_p_min < |p_pi| < pi_p_max`` (true momentum).  Then

* "gammagamma": X -> gamma gamma isotropic in the X rest frame; the X decays upstream of the LKr
  (z < z_lkr); each photon goes straight to the LKr face and lands inside the octagon ``|x|, |y| < half
  width``, ``|x| + |y| < octagon sum``, outside the beam hole r > lkr_r_min (:func:`.acceptance._on_lkr`), with
  E > min_photon_energy; the two photons are more than min_separation apart on the LKr face, and each is
  more than min_separation from the pi+ track's impact point extrapolated (with the kick) to the LKr plane
  (the pi+ itself is not required to reach the LKr);
* "ee", "mumu": X -> l+ l- isotropic (a spin-0 X); the X decays upstream of STRAW1; both leptons move
  forward, lie inside the straw annulus at STRAW1 and STRAW4 (l+ kicked like the pi+, l- opposite) and
  have E > lepton_min_energy (no track-separation requirement);
* "invisible": the X decays at z > z_escape (or in the beyond cell); the cuts are the pi+ ones above plus
  the reconstructed missing mass squared m_miss^2 = (P_K - P_pi)^2 inside one of ``mm2_windows``
  (lo < m^2 < hi).

Only the kick plane, the straws and the LKr of the :class:`.acceptance.Geometry` are used (z_straw1,
z_straw4, straw_r_min, straw_r_max, z_magnet, pt_kick, z_lkr, lkr_half_width, lkr_octagon_sum, lkr_r_min);
its z_prod, y_prod, z_dv_start, z_dv_end and the MUV3 numbers are not.  The straw beam hole is centred on
the axis x = y = 0 (in NA62 the K+ beam itself passes through it; its displacement downstream of the
magnet is not modelled).

Mass reconstruction
-------------------
m_reco^2 = (P_K - P_pi)^2 with P_K measured by the beam tracker (GTK: relative momentum and angular
resolution) and P_pi by the STRAW spectrometer (sigma_p/p = a (+) b p and an angular resolution); NA62,
JINST 12 (2017) P05025.  This is the missing mass of the K+ -> pi+ nu nu analyses (arXiv:2103.15389,
JHEP 06 (2021) 093, whose Run 1 signal regions are 0 < m^2 < 0.01 and 0.026 < m^2 < 0.068 GeV^2) and the
m_a of the K+ -> pi+ a, a -> gamma gamma peak search.  It is computed without the cancellation of
``(E_K - E_pi)^2 - |p_K - p_pi|^2`` at 75 GeV (:func:`m_miss2`), so float32 keeps ~1e-7 of m_K^2.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .acceptance import Geometry, _Cuts, _on_lkr, _sqrt0, sample_unit_points, smearing_normals
from .kinematics import two_body_energy, two_body_momentum
from .numerics import float_dtype
from .phasespace import _back_to_back, _boost_to_frame_t

__all__ = [
    "SIGNATURES",
    "KaonBeam",
    "KaonSelection",
    "KaonResolution",
    "KaonEvents",
    "KaonTables",
    "kaon_events",
    "kaon_mode_tables",
    "m_miss2",
    "reconstructed_m2",
]

SIGNATURES = ("gammagamma", "ee", "mumu", "invisible")

#: lepton masses [GeV], PDG Review of Particle Physics 2024 (electron, muon)
M_E = 0.51099895e-3
M_MU = 0.1056583755

#: daughter mass of each visible signature's X decay [GeV]
_DAUGHTER_MASS = {"gammagamma": 0.0, "ee": M_E, "mumu": M_MU}

#: columns of the unit points of :func:`kaon_events` and :func:`kaon_mode_tables` (see :func:`_table_points`)
_N_EVENT_COLS = 4
_N_FIXED_COLS = 6


# ----------------------------------------------------------------------------------------------------
# configuration (pytrees)
# ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class KaonBeam:
    """The K+ beam and its decay region; every number is a differentiable pytree leaf.

    p_mean [GeV]: central K+ momentum (NA62: 75); p_rel_rms: relative rms of the Gaussian momentum spread
    (0.01); z_lo, z_hi [m]: accepted K+ decay positions (fiducial region, e.g. 105-165 for the pi nu nu
    selection); z_beam_start [m]: where the kaons start to decay freely (end of the beam line, GTK3 at
    ~102.4); m_k [GeV], ctau_k [m]: K+ mass and c tau (PDG: 0.493677, 3.712); m_pi [GeV]: pi+ mass
    (0.13957039).  The K+ flies along +z at x = y = 0 (divergence and beam angles neglected; module
    docstring).
    """

    p_mean: float
    p_rel_rms: float
    z_lo: float
    z_hi: float
    z_beam_start: float
    m_k: float
    ctau_k: float
    m_pi: float


jax.tree_util.register_dataclass(KaonBeam, data_fields=[f.name for f in dataclasses.fields(KaonBeam)],
                                 meta_fields=[])


@dataclasses.dataclass(frozen=True)
class KaonSelection:
    """Kaon-mode selection (GeV, metres); ``mm2_windows`` is static (a pytree meta field), the rest leaves.

    pi_p_min, pi_p_max [GeV]: pi+ momentum window (pi nu nu Run 1: 15-35); min_photon_energy [GeV]: each
    photon of "gammagamma"; min_separation [m]: between the two photon clusters on the LKr face and
    between each photon and the pi+ impact point extrapolated to the LKr plane; lepton_min_energy [GeV]:
    each lepton of "ee"/"mumu"; z_escape [m]: an X decaying at z > z_escape counts as escaping (the
    "invisible" signature); mm2_windows: tuple of (lo, hi) missing-mass-squared windows [GeV^2] of the
    "invisible" signature, lo < m_miss^2 < hi (pi nu nu Run 1, arXiv:2103.15389: (0, 0.01) and
    (0.026, 0.068)).
    """

    pi_p_min: float
    pi_p_max: float
    min_photon_energy: float
    min_separation: float
    lepton_min_energy: float
    z_escape: float
    mm2_windows: tuple = ((0.0, 0.01), (0.026, 0.068))

    def __post_init__(self):
        try:
            windows = tuple((float(lo), float(hi)) for lo, hi in self.mm2_windows)
        except (TypeError, ValueError):
            raise ValueError(f"KaonSelection.mm2_windows must be a sequence of (lo, hi) pairs, not "
                             f"{self.mm2_windows!r}") from None
        for lo, hi in windows:
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"KaonSelection.mm2_windows: each window needs finite lo < hi, not ({lo}, {hi})")
        object.__setattr__(self, "mm2_windows", windows)


jax.tree_util.register_dataclass(
    KaonSelection,
    data_fields=["pi_p_min", "pi_p_max", "min_photon_energy", "min_separation", "lepton_min_energy", "z_escape"],
    meta_fields=["mm2_windows"],
)


@dataclasses.dataclass(frozen=True)
class KaonResolution:
    """Resolutions of the missing-mass reconstruction; a pytree of differentiable leaves, all default 0
    (a perfect detector: m_reco = m_X to rounding).

    gtk_p_rel: relative K+ momentum resolution of the beam tracker; gtk_angle_rad [rad]: its resolution on
    each projected angle (NA62 GTK, JINST 12 (2017) P05025: about 0.2% and 16 urad as commonly quoted);
    straw_momentum_constant, straw_momentum_linear_per_gev [1/GeV]: sigma_p/p = constant (+)
    linear * p of the pi+ (NA62 STRAW, same paper: 0.0030 and 0.00005); straw_angle_rad [rad]: the pi+
    resolution on each projected angle.  Not validated here (they may be tracers).
    """

    gtk_p_rel: float = 0.0
    gtk_angle_rad: float = 0.0
    straw_momentum_constant: float = 0.0
    straw_momentum_linear_per_gev: float = 0.0
    straw_angle_rad: float = 0.0


jax.tree_util.register_dataclass(KaonResolution, data_fields=[f.name for f in dataclasses.fields(KaonResolution)],
                                 meta_fields=[])


class KaonEvents(NamedTuple):
    """K+ -> pi+ X events: z_k (n,) [m] K+ decay position; p_k, p_pi, p_x (n, 3) lab 3-momenta [GeV]."""

    z_k: jax.Array
    p_k: jax.Array
    p_pi: jax.Array
    p_x: jax.Array


class KaonTables(NamedTuple):
    """Coupling-independent kaon-mode acceptance (:func:`kaon_mode_tables`).

    weights (Nb, Nz): (1/n_mc) sum over events with ``|p_X|`` in bin b of the acceptance (0/1) when X decays
    in cell k; inv_p_mean (Nb,) [1/GeV]: mean of ``1/|p_X|`` over all events of bin b (0 for an empty bin);
    mass_sum [GeV], mass_sq_sum [GeV^2]: (1/n_mc) sum over events and cells of acceptance x (m_reco - m_X)
    and x (m_reco - m_X)^2; total: sum of weights.
    """

    weights: jax.Array
    inv_p_mean: jax.Array
    mass_sum: jax.Array
    mass_sq_sum: jax.Array
    total: jax.Array


def _cast_tree(tree, dtype):
    """Every leaf of a config pytree as an array of ``dtype`` (so float64 leaves do not promote float32)."""
    return jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype), tree)


# ----------------------------------------------------------------------------------------------------
# missing mass
# ----------------------------------------------------------------------------------------------------
def _norm_dir(v, one):
    """(|v|, unit vector) of a tuple 3-vector; the zero vector gives (0, (0, 0, 0)) with finite gradients."""
    vx, vy, vz = v
    n = _sqrt0(vx * vx + vy * vy + vz * vz)
    ok = n > 0
    inv = jnp.where(ok, 1.0 / jnp.where(ok, n, one), jnp.zeros_like(n))
    return n, (vx * inv, vy * inv, vz * inv)


def _mm2_t(pk, nk, ppi, npi, m_k, m_pi):
    """(P_K - P_pi)^2 from magnitudes and unit directions (tuples).

    P_K.P_pi = E_K E_pi - p_K.p_pi = P_K d_pi + d_K P_pi + d_K d_pi + P_K P_pi |n_K - n_pi|^2 / 2 with
    d = E - P = m^2/(E + P): a sum of non-negative terms without the cancellation at large momenta; then
    m^2 = m_K^2 + m_pi^2 - 2 P_K.P_pi.
    """
    one = jnp.ones((), jnp.result_type(pk, ppi))

    def d_of(p, m):
        e_plus_p = _sqrt0(p * p + m * m) + p
        ok = e_plus_p > 0
        return jnp.where(ok, m * m / jnp.where(ok, e_plus_p, one), jnp.zeros_like(e_plus_p))

    dk, dpi = d_of(pk, m_k), d_of(ppi, m_pi)
    open2 = sum((a - b) ** 2 for a, b in zip(nk, npi))  # 2 (1 - cos theta)
    dot = pk * dpi + dk * ppi + dk * dpi + 0.5 * pk * ppi * open2
    return m_k * m_k + m_pi * m_pi - 2.0 * dot


def m_miss2(p_k, p_pi, m_k, m_pi):
    """Missing mass squared (P_K - P_pi)^2 [GeV^2] of lab 3-momenta p_k, p_pi (..., 3) [GeV] with masses
    m_k, m_pi [GeV] (PDG "Kinematics": invariant mass of a four-vector).

    Exact, in the cancellation-free form of the module docstring (m^2 = m_K^2 + m_pi^2 - 2 P_K.P_pi with
    P_K.P_pi written as a sum of non-negative terms).  Returns (...) in the floating dtype of the inputs;
    broadcasting, jit- and vmap-able.
    """
    dtype = float_dtype(p_k, p_pi, m_k, m_pi)
    p_k, p_pi = jnp.asarray(p_k, dtype), jnp.asarray(p_pi, dtype)
    one = jnp.ones((), dtype)
    pk, nk = _norm_dir((p_k[..., 0], p_k[..., 1], p_k[..., 2]), one)
    ppi, npi = _norm_dir((p_pi[..., 0], p_pi[..., 1], p_pi[..., 2]), one)
    return _mm2_t(pk, nk, ppi, npi, jnp.asarray(m_k, dtype), jnp.asarray(m_pi, dtype))


def _smear_t(v, g, rel, angle, one):
    """|p| -> |p| (1 + rel g0) clipped at 0; direction n + angle (g1, g2, 0) renormalised (tuple forms)."""
    p, (nx, ny, nz) = _norm_dir(v, one)
    g0, g1, g2 = g
    _, n = _norm_dir((nx + angle * g1, ny + angle * g2, nz), one)
    return jnp.maximum(p * (1.0 + rel * g0), 0.0), n


def _reco_m2_t(pk_vec, ppi_vec, gk, gpi, res, m_k, m_pi, one):
    pk, nk = _smear_t(pk_vec, gk, res.gtk_p_rel, res.gtk_angle_rad, one)
    p_pi_abs = _sqrt0(sum(c * c for c in ppi_vec))
    rel_pi = _sqrt0(res.straw_momentum_constant**2 + (res.straw_momentum_linear_per_gev * p_pi_abs) ** 2)
    ppi, npi = _smear_t(ppi_vec, gpi, rel_pi, res.straw_angle_rad, one)
    return _mm2_t(pk, nk, ppi, npi, m_k, m_pi)


def reconstructed_m2(p_k, p_pi, normals, resolution, m_k, m_pi):
    """Missing mass squared (P_K - P_pi)^2 [GeV^2] as the detector measures it.

    p_k, p_pi (..., 3): true lab 3-momenta [GeV]; normals (..., 2, 3): standard normal numbers, row 0 for
    the K+ and row 1 for the pi+, column 0 smearing ``|p|`` and columns 1, 2 the two projected angles (e.g.
    :func:`.acceptance.smearing_normals` with 2 objects); resolution: a :class:`KaonResolution`; m_k, m_pi
    [GeV] the mass hypotheses.  Each momentum becomes ``|p| (1 + sigma_p/p g0)`` (clipped at 0) with
    sigma_p/p = gtk_p_rel for the K+ (GTK) and ``straw_momentum_constant (+) straw_momentum_linear_per_gev |p|``
    (quadrature) for the pi+ (STRAW); its unit vector gets angle x (g1, g2) added to its x, y components
    and is renormalised (NA62, JINST 12 (2017) P05025).  Then :func:`m_miss2`.  All resolutions 0 gives
    :func:`m_miss2` of the true momenta to rounding.  Returns (...) in the floating dtype of the inputs.
    """
    if not isinstance(resolution, KaonResolution):
        raise TypeError(f"resolution must be a KaonResolution, not {type(resolution).__name__}")
    dtype = float_dtype(p_k, p_pi, normals, m_k, m_pi)
    p_k, p_pi, normals = (jnp.asarray(v, dtype) for v in (p_k, p_pi, normals))
    if normals.shape[-2:] != (2, 3):
        raise ValueError(f"normals must be (..., 2, 3) (K+ and pi+ rows), not {normals.shape}")
    res = _cast_tree(resolution, dtype)
    one = jnp.ones((), dtype)
    pk_vec = (p_k[..., 0], p_k[..., 1], p_k[..., 2])
    ppi_vec = (p_pi[..., 0], p_pi[..., 1], p_pi[..., 2])
    gk = (normals[..., 0, 0], normals[..., 0, 1], normals[..., 0, 2])
    gpi = (normals[..., 1, 0], normals[..., 1, 1], normals[..., 1, 2])
    return _reco_m2_t(pk_vec, ppi_vec, gk, gpi, res, jnp.asarray(m_k, dtype), jnp.asarray(m_pi, dtype), one)


# ----------------------------------------------------------------------------------------------------
# events
# ----------------------------------------------------------------------------------------------------
def _normal_from_uniform(u):
    """Standard normal quantile of u, with u clipped to [2^-24, 1 - 2^-24] (|g| < 5.3; u = 0 occurs)."""
    eps = jnp.asarray(2.0**-24, u.dtype)
    return jax.scipy.special.ndtri(jnp.clip(u, eps, 1.0 - eps))


def _kaon_decay_t(cols, m_x, beam):
    """K+ -> pi+ X from unit columns (u_p, u_z, u_cos, u_phi), each (n,) (module docstring).

    Returns (z_k, p_k, (px, py, pz) of the pi+, (px, py, pz) of the X, above) with ``above`` the scalar
    m_x < m_K - m_pi (the caller adds the signature's own threshold)."""
    u_p, u_z, u_c, u_f = cols
    p_k = beam.p_mean * (1.0 + beam.p_rel_rms * _normal_from_uniform(u_p))
    p_k = jnp.maximum(p_k, jnp.asarray(1e-6, p_k.dtype) * beam.p_mean)  # never at rest (|g| < 5.3 anyway)
    length = p_k / beam.m_k * beam.ctau_k  # beta gamma c tau                  [PDG Kinematics sec. 49.1]
    z0 = jnp.maximum(beam.z_lo, beam.z_beam_start)
    span = jnp.maximum(beam.z_hi - z0, 0.0)
    z_k = z0 - length * jnp.log1p(u_z * jnp.expm1(-span / length))

    pstar = two_body_momentum(beam.m_k, beam.m_pi, m_x)  # [PDG Kinematics sec. 49.4.2]
    e_x = two_body_energy(beam.m_k, m_x, beam.m_pi)
    e_pi = two_body_energy(beam.m_k, beam.m_pi, m_x)
    gamma = _sqrt0(p_k * p_k + beam.m_k**2) / beam.m_k
    betagamma = p_k / beam.m_k
    cos_t = 2.0 * u_c - 1.0
    sin_t = _sqrt0((1.0 - cos_t) * (1.0 + cos_t))
    phi = 2.0 * jnp.pi * u_f
    pt_x, pt_y = pstar * sin_t * jnp.cos(phi), pstar * sin_t * jnp.sin(phi)
    p_x = (pt_x, pt_y, gamma * pstar * cos_t + betagamma * e_x)
    p_pi = (-pt_x, -pt_y, -gamma * pstar * cos_t + betagamma * e_pi)
    above = (m_x >= 0) & (m_x < beam.m_k - beam.m_pi)
    return z_k, p_k, p_pi, p_x, above


@functools.partial(jax.jit, static_argnames=("n", "dtype"))
def kaon_events(key, n, m_x, beam, dtype=None):
    """n K+ -> pi+ X decays in flight (module docstring): a :class:`KaonEvents` of z_k (n,) [m] and lab
    3-momenta p_k, p_pi, p_x (n, 3) [GeV].

    key: a jax PRNG key; n (static): number of events; m_x [GeV]: X mass (a scalar, may be traced);
    beam: a :class:`KaonBeam`; dtype (static): floating dtype (default that of m_x).  p_K along +z with
    the beam's Gaussian spread, z_K from the truncated exponential law, the two-body decay isotropic in
    the K+ rest frame with ``|p*| = lambda^(1/2)(m_K^2, m_pi^2, m_X^2)/(2 m_K)`` [PDG Kinematics sec. 49.4.2]
    and an exact boost; p_K = p_pi + p_X.  Unit points ``sample_unit_points(key, n, 4, dtype)`` (randomly
    shifted lattice) with columns (u_p, u_z, u_cos, u_phi).  At and above threshold (m_x >= m_K - m_pi)
    p* = 0: both move with the K+ velocity (no NaN).
    """
    dtype = jnp.dtype(dtype) if dtype is not None else float_dtype(m_x)
    m_x = jnp.asarray(m_x, dtype)
    beam = _cast_tree(beam, dtype)
    pts = sample_unit_points(key, n, _N_EVENT_COLS, dtype)
    z_k, p_k, p_pi, p_x, _ = _kaon_decay_t([pts[:, i] for i in range(4)], m_x, beam)
    zero = jnp.zeros_like(p_k)
    return KaonEvents(z_k, jnp.stack([zero, zero, p_k], axis=-1), jnp.stack(jnp.broadcast_arrays(*p_pi), axis=-1),
                      jnp.stack(jnp.broadcast_arrays(*p_x), axis=-1))


def _table_points(key, n_mc, n_cells, dtype):
    """(n_mc, 6 + n_cells - 1) unit points of :func:`kaon_mode_tables`: columns 0-3 (u_p, u_z, u_cos,
    u_phi) of the K+ decay (:func:`kaon_events`' layout), 4-5 (u_cos, u_phi) of the first X daughter in the
    X rest frame, then one column per decay cell but the last (the position inside the cell).  Independent
    uniform points (:func:`.acceptance.sample_unit_points` "random"): with one column per cell the points
    have ~70 dimensions, where the R_d lattice's low-dimensional projections are correlated (measured: at
    2048 points its spread of the prompt two-photon acceptance was twice the binomial one, 0.020 vs 0.011,
    over 8 shifts)."""
    return sample_unit_points(key, n_mc, _N_FIXED_COLS + n_cells - 1, dtype, sampling="random")


# ----------------------------------------------------------------------------------------------------
# cuts
# ----------------------------------------------------------------------------------------------------
def _track_at(vertex, p, q, geom, zp, one):
    """(x, y) at plane zp of a track from vertex (tuple) with momentum p (tuple) and charge q: straight line,
    plus the thin kick dt_x = q p_T,kick / p_z downstream of the magnet centre; p_z guarded (the caller
    requires p_z > 0)."""
    vx, vy, vz = vertex
    px, py, pz = p
    pz_safe = jnp.where(pz > 0, pz, one)
    x = vx + px / pz_safe * (zp - vz)
    y = vy + py / pz_safe * (zp - vz)
    if q != 0:
        x = x + (q * geom.pt_kick / pz_safe) * jnp.maximum(zp - geom.z_magnet, 0.0)
    return x, y


def _in_straws(cuts, geom, vertex, p, q, one):
    for zp in (geom.z_straw1, geom.z_straw4):
        x, y = _track_at(vertex, p, q, geom, zp, one)
        cuts.radius_gt(x, y, geom.straw_r_min)
        cuts.radius_lt(x, y, geom.straw_r_max)


def _x_daughters(p_x, m_x, m_d, u_cos, u_phi):
    """Lab 4-momenta (tuples) of X -> d d isotropic in the X rest frame (daughter 1 along (2 u_cos - 1,
    2 pi u_phi) there), boosted with the X 4-momentum [PDG Kinematics sec. 49.1; :mod:`.phasespace`]."""
    e_x = _sqrt0(sum(c * c for c in p_x) + m_x * m_x)
    big_p = (e_x,) + tuple(p_x)
    d1, d2, _ = _back_to_back(m_x, m_d, m_d, 2.0 * u_cos - 1.0, 2.0 * jnp.pi * u_phi)
    return _boost_to_frame_t(d1, big_p, m_x), _boost_to_frame_t(d2, big_p, m_x)


def _check_table_args(geom, beam, sel, resolution, a_edges, p_edges, signature, n_mc):
    if signature not in SIGNATURES:
        raise ValueError(f"signature must be one of {SIGNATURES}, not {signature!r}")
    if not isinstance(n_mc, (int, np.integer)) or n_mc < 1:
        raise ValueError(f"n_mc must be a positive integer, not {n_mc!r}")
    for name, obj, cls in (("geom", geom, Geometry), ("beam", beam, KaonBeam), ("sel", sel, KaonSelection),
                           ("resolution", resolution, KaonResolution)):
        if not isinstance(obj, cls):
            raise TypeError(f"{name} must be a {cls.__name__}, not {type(obj).__name__}")
    if jnp.ndim(a_edges) != 1 or jnp.shape(a_edges)[0] < 2:
        raise ValueError(f"a_edges must be 1-d with at least 2 edges (one cell: beyond), "
                         f"not shape {jnp.shape(a_edges)}")
    if jnp.ndim(p_edges) != 1 or jnp.shape(p_edges)[0] < 2:
        raise ValueError(f"p_edges must be 1-d with at least 2 edges, not shape {jnp.shape(p_edges)}")


@functools.partial(jax.jit, static_argnames=("signature", "n_mc", "dtype"))
def kaon_mode_tables(key, m_x, beam, geom, sel, resolution, a_edges, p_edges, signature, n_mc, dtype=None):
    """Acceptance table of K+ -> pi+ X, X -> ``signature``, in (X momentum bin, decay cell): a :class:`KaonTables`.

    key: jax PRNG key; m_x [GeV]: X mass (scalar, may be traced: vmap over masses); beam: :class:`KaonBeam`;
    geom: :class:`.acceptance.Geometry` (straws, magnet, LKr only); sel: :class:`KaonSelection`; resolution:
    :class:`KaonResolution`; a_edges (Nz + 1,) [m]: increasing edges of the X flight distance d from the K+
    vertex, the last cell [a_edges[-2], a_edges[-1]] being "beyond" (a_edges[-1] = 1e30: the X leaves the
    detector; module docstring); p_edges (Nb + 1,) [GeV]: increasing edges of ``|p_X|``; signature (static):
    one of ``SIGNATURES``; n_mc (static): number of events; dtype (static): floating dtype (default: that
    of m_x, a_edges, p_edges).

    Returns weights (Nb, Nz) with weights[b, k] = (1/n_mc) sum over events with ``p_edges[b] <= |p_X| <
    p_edges[b+1]`` of the acceptance (0 or 1) when X decays in cell k at a position d drawn uniformly in the
    cell (one draw per event and cell; none for the beyond cell).  A caller gets the expected number

        N = N_K BR(K+ -> pi+ X) BR(X -> signature) sum_bk weights[b, k] P_k(s_b),
        P_k(s) = exp(-s a_k) (-expm1(-s (a_(k+1) - a_k))),  s_b = m Gamma/(hbar c) inv_p_mean[b],

    N_K the number of K+ decays in [z_lo, z_hi].  (For s = 0 exactly, an X without visible width, that
    formula gives P_beyond = exp(0) (-expm1(-0 x 1e30)) = 0 instead of 1: the caller sets P_beyond = 1
    there.)  Events with ``|p_X|`` outside p_edges go nowhere (they count in n_mc only).  inv_p_mean (Nb,) [1/GeV]: the mean of ``1/|p_X|`` over all events of bin b, accepted or not
    (independent of the signature and of the cuts; 0 for an empty bin, whose weights are 0).

    Mass moments: with m_reco = sqrt(max(m_reco^2, 0)) from :func:`reconstructed_m2` (the missing mass, for
    every signature; Gaussian numbers from ``smearing_normals(key, n_mc, 2)``),

        mass_sum = (1/n_mc) sum_events sum_k acc_ek (m_reco - m_x),  mass_sq_sum = ... (m_reco - m_x)^2,

    over the events inside p_edges, i.e. the same (event, cell) pairs and normalisation as the weights,
    and total = sum of the weights: mass_sum/total is the mean shift and mass_sq_sum/total the mean
    squared error of m_reco over accepted (event, cell) pairs, every cell counting equally (the resolution
    barely depends on where X decays: it comes from the K+ and pi+ measurements).  For "invisible" the
    accepted events are those inside the mm2_windows, so near a window edge these moments are truncated.

    The acceptance uses the true kinematics except the missing-mass windows, which cut on the
    reconstructed m^2.  All zeros (never NaN) at and above m_x >= m_K - m_pi, and at and below the
    signature's threshold (m_x <= 0 for gamma gamma, 2 m_e, 2 m_mu; m_x < 0 for "invisible").  Common
    random numbers: the same key gives the same unit points (:func:`_table_points`) for every m_x, so
    tables are smooth in m_x.  Jitted (signature, n_mc, dtype static); float32 and float64.
    """
    _check_table_args(geom, beam, sel, resolution, a_edges, p_edges, signature, n_mc)
    dtype = jnp.dtype(dtype) if dtype is not None else float_dtype(m_x, a_edges, p_edges)
    one = jnp.ones((), dtype)
    m_x = jnp.asarray(m_x, dtype)
    a_edges, p_edges = jnp.asarray(a_edges, dtype), jnp.asarray(p_edges, dtype)
    beam, geom, sel, res = (_cast_tree(t, dtype) for t in (beam, geom, sel, resolution))
    n_cells = a_edges.shape[0] - 1
    n_bins = p_edges.shape[0] - 1

    pts = _table_points(key, n_mc, n_cells, dtype)
    z_k, p_k, p_pi, p_x, above = _kaon_decay_t([pts[:, i] for i in range(4)], m_x, beam)
    k_vertex = (jnp.zeros_like(z_k), jnp.zeros_like(z_k), z_k)

    # pi+ (every signature)
    pi_cuts = _Cuts()
    pi_cuts.gt(p_pi[2], 0.0)
    _in_straws(pi_cuts, geom, k_vertex, p_pi, 1, one)
    p_pi_abs = _sqrt0(sum(c * c for c in p_pi))
    pi_cuts.gt(p_pi_abs, sel.pi_p_min)
    pi_cuts.lt(p_pi_abs, sel.pi_p_max)
    pi_ok = pi_cuts.result & (z_k < geom.z_straw1)

    # reconstructed missing mass (K+ along z)
    g = smearing_normals(key, n_mc, 2, dtype)
    zero = jnp.zeros_like(p_k)
    m2_reco = _reco_m2_t((zero, zero, p_k), p_pi, (g[:, 0, 0], g[:, 0, 1], g[:, 0, 2]),
                         (g[:, 1, 0], g[:, 1, 1], g[:, 1, 2]), res, beam.m_k, beam.m_pi, one)
    dm = _sqrt0(m2_reco) - m_x

    # X decay vertices: d uniform in each finite cell (n, Nz - 1); the beyond cell has none
    p_x_abs, n_x = _norm_dir(p_x, one)
    d = a_edges[:-2] + pts[:, _N_FIXED_COLS:] * (a_edges[1:-1] - a_edges[:-2])
    vertex = tuple(c[:, None] + d * nc[:, None] for c, nc in zip(k_vertex, n_x))

    if signature == "invisible":
        threshold = m_x >= 0
        windows = False
        for lo, hi in sel.mm2_windows:
            windows = windows | ((m2_reco > lo) & (m2_reco < hi))
        event_ok = pi_ok & windows
        inside = vertex[2] > sel.z_escape
        acc = jnp.concatenate([event_ok[:, None] & inside, event_ok[:, None]], axis=1)
    else:
        m_d = _DAUGHTER_MASS[signature]
        threshold = m_x > 2.0 * m_d
        d1, d2 = _x_daughters(p_x, m_x, jnp.asarray(m_d, dtype), pts[:, 4], pts[:, 5])
        d1 = tuple(c[:, None] for c in d1)
        d2 = tuple(c[:, None] for c in d2)
        cuts = _Cuts()
        cuts.gt(d1[3], 0.0)
        cuts.gt(d2[3], 0.0)
        if signature == "gammagamma":
            cuts.lt(vertex[2], geom.z_lkr)
            spots = []
            for ph in (d1, d2):
                cuts.gt(ph[0], sel.min_photon_energy)
                x, y = _track_at(vertex, ph[1:], 0, geom, geom.z_lkr, one)
                _on_lkr(cuts, geom, x, y, geom.lkr_r_min)
                spots.append((x, y))
            pi_spot = tuple(c[:, None] for c in _track_at(k_vertex, p_pi, 1, geom, geom.z_lkr, one))
            for a, b in ((spots[0], spots[1]), (spots[0], pi_spot), (spots[1], pi_spot)):
                cuts.radius_gt(a[0] - b[0], a[1] - b[1], sel.min_separation)
        else:
            cuts.lt(vertex[2], geom.z_straw1)
            for lep, q in ((d1, 1), (d2, -1)):
                cuts.gt(lep[0], sel.lepton_min_energy)
                _in_straws(cuts, geom, vertex, lep[1:], q, one)
        visible = cuts.result & pi_ok[:, None]
        acc = jnp.concatenate([visible, jnp.zeros((n_mc, 1), bool)], axis=1)

    acc = (acc & above & threshold).astype(dtype)  # (n, Nz)

    # momentum bins of |p_X|; events outside p_edges get an all-zero one-hot row
    b = jnp.searchsorted(p_edges, p_x_abs, side="right") - 1
    onehot = jax.nn.one_hot(b, n_bins, dtype=dtype)  # index -1 or n_bins -> zeros
    hi = jax.lax.Precision.HIGHEST
    weights = jnp.einsum("eb,ek->bk", onehot, acc, precision=hi) / n_mc
    count = jnp.sum(onehot, axis=0)
    inv_p = jnp.where(p_x_abs > 0, 1.0 / jnp.where(p_x_abs > 0, p_x_abs, one), jnp.zeros_like(p_x_abs))
    inv_sum = jnp.einsum("eb,e->b", onehot, inv_p, precision=hi)
    inv_p_mean = jnp.where(count > 0, inv_sum / jnp.where(count > 0, count, one), jnp.zeros_like(count))

    per_event = jnp.sum(acc, axis=1) * jnp.sum(onehot, axis=1)  # accepted cells, 0 outside p_edges
    dm = jnp.where(per_event > 0, dm, jnp.zeros_like(dm))  # no NaN/inf leaks from rejected events
    mass_sum = jnp.sum(per_event * dm) / n_mc
    mass_sq_sum = jnp.sum(per_event * dm * dm) / n_mc
    return KaonTables(weights, inv_p_mean, mass_sum, mass_sq_sum, jnp.sum(weights))
