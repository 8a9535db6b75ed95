"""Detector acceptance of FIP final states: geometry, cuts and the Monte Carlo kernel.

Pure JAX functions of arrays (no I/O, no globals).  Lengths in metres, momenta and energies in GeV,
angles in radians; z along the beam, the beam axis is x = y = 0, and the FIPs are produced at
(0, y_prod, z_prod).

Track model
-----------
Each daughter is a straight line from the decay vertex v with slopes t = (p_x/p_z, p_y/p_z).  The
spectrometer magnet is a thin horizontal kick at z_magnet (the magnet's centre): a track of charge q
gets p_x -> p_x + q p_T,kick with p_z unchanged, so downstream of the magnet

    x(z) = v_x + t_x (z - v_z) + (q p_T,kick / p_z) (z - z_magnet),   z > z_magnet,

i.e. a displacement dx = (p_T,kick / p_z)(z - z_magnet) (thin-lens approximation of the dipole, e.g.
PDG RPP "Passage of particles"/"Detectors" reviews: p_T kick = 0.3 B L [GeV, T, m]; 0.3 x 0.6928 T x 1.3 m
= 0.270 GeV for NA62).  Daughter 1 has charge +charge_sign, daughter 2 -charge_sign.

Selection (NA62 beam-dump; geometry of NA62 JINST 12 (2017) P05025 as used in ALPINIST, arXiv:2201.05170)
---------------------------------------------------------------------------------------------------------
both tracks move forward (p_z > 0), the vertex lies upstream of STRAW1, and each track is inside the straw
annulus r_min < r < r_max at STRAW1 (before the magnet) and at STRAW4 (after it); then

* ``detector="lkr"``: each track hits the LKr inside the octagon ``|x|, |y| < half_width``,
  ``|x| + |y| < octagon_sum``, at r > max(lkr_r_min, min_radius), has E > min_energy, and the two impact points
  are more than min_separation apart;
* ``detector="muv3"``: each track is inside ``|x|, |y| < muv3_half_width`` at r > max(muv3_r_min, min_radius)
  at MUV3 and has E > min_energy (min_separation is not used).

Smooth relaxation (:func:`pair_accepted_smooth`): every hard cut x > c becomes the logistic sigmoid
sigma((x - c)/w) with w = 1/sharpness in the natural unit of the cut (metres for positions, GeV for
energies), and the acceptance is the product of the sigmoids; sharpness -> infinity recovers the hard
acceptance almost everywhere.  The forward (p_z > 0) and vertex-upstream-of-STRAW1 requirements stay hard
(the track model is undefined there).

Decay angular distribution
--------------------------
In the FIP rest frame, with the flight direction as the axis, a transversely polarised vector (helicity
+-1, as for a dark photon radiated from a photon-like vertex) decaying to a fermion pair has
(helicity amplitudes, Jacob & Wick, Ann. Phys. 7 (1959) 404: ``|d^1_{1,+-1}|^2 = (1 +- cos)^2/4`` for the
helicity-conserving amplitudes and the lepton-mass suppressed helicity-flip amplitude ~ (2 m_l/m) d^1_{1,0})

    dGamma/dcos(theta*) ~ 1 + cos^2(theta*) + (4 m_l^2/m^2) sin^2(theta*)  ~  1 + k cos^2(theta*),
    k = (1 - r)/(1 + r),  r = 4 m_l^2/m^2  (``angular="vector"``);

to two spin-0 daughters (pi+ pi-) only the helicity-0 final state exists: ``~ |d^1_{1,0}|^2 ~ sin^2(theta*)``,
k = -1 (``angular="vector_scalars"``); a spin-0 FIP decays isotropically, k = 0 (``angular="isotropic"``).
cos(theta*) is drawn exactly by inverting the CDF (see :func:`cos_star_from_uniform`).

Any final state (``decay=DecaySpec(...)``)
-------------------------------------------
:func:`acceptance_mc` with a :class:`DecaySpec` handles 2 to 4 daughters, charged, photons, pi0/eta seen
as two photons (decaying at the FIP vertex, isotropically in their rest frame) and invisible neutrals.
Two-body decays follow the angular options above; three and four bodies are flat in phase space
(GENBOD, :mod:`.phasespace`, F. James CERN 68-15), each event weighted, the acceptance being
sum(w acc) / sum(w) -- matrix elements are not modelled yet.  Photons travel in straight lines (no magnet
kick).  Two detector kinds share the entry point, chosen by the type of the geometry (static under jit):
the NA62-like :class:`Geometry` (straws, magnet, LKr, MUV3; see :func:`acceptance_mc`) and a flat
:class:`CalorimeterGeometry` face (rectangle, beam hole, no magnet), e.g. for CHARM-like experiments.
With ``decay=None`` the two-track code path above is used unchanged.

Mass reconstruction (:func:`mass_resolution_mc`, :func:`smeared_mass`)
-----------------------------------------------------------------------
The same DecaySpec events, their visible daughters measured with the detector resolutions of a
:class:`Resolution` (track momenta: NA62 STRAW, photon energies: NA62 LKr; JINST 12 (2017) P05025), give
the reconstructed mass m_reco per event; the entry point returns per input point the acceptance A and
A <m_reco - m>, A <(m_reco - m)^2> over the accepted events, so that resolution and acceptance come from
the same events and sums over points stay linear.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .kinematics import cos_star_from_uniform, two_body_energy, two_body_momentum
from .numerics import float_dtype
from .phasespace import _phase_space_t, _two_photon_t

__all__ = [
    "Geometry",
    "Selection",
    "DecaySpec",
    "CalorimeterGeometry",
    "DAUGHTER_KINDS",
    "DETECTORS",
    "ANGULAR",
    "SAMPLING",
    "pair_accepted",
    "pair_accepted_smooth",
    "cos_star_from_uniform",
    "angular_k",
    "sample_unit_points",
    "acceptance_mc",
    "acceptance_mc_smooth",
    "Resolution",
    "visible_objects",
    "smearing_normals",
    "smeared_mass",
    "mass_resolution_mc",
]

DETECTORS = ("lkr", "muv3", "straws")
ANGULAR = ("vector", "vector_scalars", "isotropic")
SAMPLING = ("qmc", "random")


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Detector geometry (metres, GeV); a pytree whose every number is a differentiable leaf."""

    z_prod: float
    y_prod: float
    z_dv_start: float
    z_dv_end: float
    z_straw1: float
    z_straw4: float
    straw_r_min: float
    straw_r_max: float
    z_magnet: float  # kick plane: centre of the magnet
    pt_kick: float
    z_lkr: float
    lkr_half_width: float
    lkr_octagon_sum: float
    lkr_r_min: float
    z_muv3: float
    muv3_half_width: float
    muv3_r_min: float


_GEOMETRY_FIELDS = [f.name for f in dataclasses.fields(Geometry)]
jax.tree_util.register_dataclass(Geometry, data_fields=_GEOMETRY_FIELDS, meta_fields=[])


@dataclasses.dataclass(frozen=True)
class Selection:
    """Event selection of one final state (GeV, metres); ``detector`` ("lkr" | "muv3" | "straws") is static.

    m_daughter: daughter mass of the two-track path (``decay=None``; a :class:`DecaySpec` carries its own
    masses); min_energy: lab energy of every charged track; min_separation: distance between any two
    objects on the LKr (or calorimeter face); min_radius: radius of every object on the LKr / MUV3 /
    calorimeter face (on top of the detector's own hole); min_photon_energy: lab energy of every photon
    (used only with a :class:`DecaySpec`; the default 0 keeps older selections' meaning).
    """

    m_daughter: float
    min_energy: float
    min_separation: float
    min_radius: float
    detector: str = "lkr"
    min_photon_energy: float = 0.0

    def __post_init__(self):
        if self.detector not in DETECTORS:
            raise ValueError(f"Selection.detector must be one of {DETECTORS}, not {self.detector!r}")


jax.tree_util.register_dataclass(
    Selection,
    data_fields=["m_daughter", "min_energy", "min_separation", "min_radius", "min_photon_energy"],
    meta_fields=["detector"],
)


DAUGHTER_KINDS = ("charged", "photon", "two_photon", "invisible")


@dataclasses.dataclass(frozen=True)
class DecaySpec:
    """A FIP final state for the Monte Carlo (static and hashable: a jit static argument).

    masses: daughter masses [GeV] (2 to 4 daughters); charges: their charges [e]; two_photon: whether a
    daughter is seen through its two-photon decay (pi0, eta; default: none).  Each daughter is

    * "charged" (charge != 0): a track (straws; LKr or MUV3 per ``Selection.detector``);
    * "photon" (neutral, mass 0): a straight line to the LKr / calorimeter face;
    * "two_photon" (neutral, ``two_photon`` True): decays at the FIP vertex (its own flight is neglected:
      c tau = 25 nm for the pi0, 0.15 nm for the eta) into two photons, isotropic in its rest frame;
    * "invisible" (any other neutral): carries momentum, no requirement.

    The decay's branching ratio to two photons is not applied here (the caller multiplies it in).
    """

    masses: tuple
    charges: tuple
    two_photon: tuple | None = None

    def __post_init__(self):
        masses = tuple(float(v) for v in self.masses)
        charges = tuple(int(v) for v in self.charges)
        tp = (False,) * len(masses) if self.two_photon is None else tuple(bool(v) for v in self.two_photon)
        if not 2 <= len(masses) <= 4:
            raise ValueError(f"DecaySpec supports 2 to 4 daughters, not {len(masses)}")
        if len(charges) != len(masses) or len(tp) != len(masses):
            raise ValueError(
                f"DecaySpec: masses {masses}, charges {charges} and two_photon {tp} must have one entry per daughter"
            )
        if any(not (math.isfinite(v) and v >= 0.0) for v in masses):
            raise ValueError(f"DecaySpec masses must be finite and >= 0, not {masses}")
        for mass, q, t in zip(masses, charges, tp):
            if t and (q != 0 or mass <= 0.0):
                raise ValueError(
                    f"DecaySpec: only neutral massive daughters decay to two photons (mass {mass}, charge {q})"
                )
        object.__setattr__(self, "masses", masses)
        object.__setattr__(self, "charges", charges)
        object.__setattr__(self, "two_photon", tp)

    @classmethod
    def from_daughters(cls, daughters):
        """From objects with ``mass`` [GeV], ``charge`` and ``seen_as_photons`` attributes (duck-typed: the
        daughters of a registered final state)."""
        ds = tuple(daughters)
        return cls(tuple(d.mass for d in ds), tuple(d.charge for d in ds), tuple(bool(d.seen_as_photons) for d in ds))

    @property
    def n(self):
        return len(self.masses)

    @property
    def kinds(self):
        """One of DAUGHTER_KINDS per daughter (class docstring)."""
        out = []
        for mass, q, t in zip(self.masses, self.charges, self.two_photon):
            out.append("charged" if q != 0 else "two_photon" if t else "photon" if mass == 0.0 else "invisible")
        return tuple(out)

    @property
    def threshold(self):
        """Sum of the daughter masses [GeV]; the acceptance is 0 at and below it."""
        return float(sum(self.masses))

    @property
    def has_charged(self):
        return any(q != 0 for q in self.charges)

    @property
    def n_visible(self):
        """Objects the detector sees: charged daughters, photons, two per two-photon daughter."""
        return sum({"charged": 1, "photon": 1, "two_photon": 2, "invisible": 0}[k] for k in self.kinds)

    @property
    def n_dims(self):
        """Unit coordinates per event: FIP azimuth, 3n - 4 of the phase space, decay position, 2 per
        two-photon daughter."""
        return 3 * self.n - 2 + 2 * sum(self.two_photon)


@dataclasses.dataclass(frozen=True)
class CalorimeterGeometry:
    """A calorimeter (or any flat detector face without magnet) downstream of a decay volume; every number
    is a differentiable pytree leaf.  Metres.

    z_prod, y_prod: the FIP production point (0, y_prod, z_prod); z_face: the face plane; x_centre,
    y_centre: the centre of the rectangular face (off-axis detectors, e.g. CHARM); half_width_x,
    half_width_y: its half widths; r_min: radius of a hole around the beam axis x = y = 0 (0 for none).
    """

    z_prod: float
    y_prod: float
    z_face: float
    x_centre: float
    y_centre: float
    half_width_x: float
    half_width_y: float
    r_min: float = 0.0


jax.tree_util.register_dataclass(
    CalorimeterGeometry, data_fields=[f.name for f in dataclasses.fields(CalorimeterGeometry)], meta_fields=[]
)


# ----------------------------------------------------------------------------------------------------
# cuts
# ----------------------------------------------------------------------------------------------------
def _sqrt0(x):
    """sqrt(x) with a finite (zero) gradient at x <= 0 (double-where)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, jnp.ones_like(x))), jnp.zeros_like(x))


class _Cuts:
    """Accumulates cuts 'value > threshold' as a hard AND or a product of sigmoids((value - thr) * sharpness)."""

    def __init__(self, sharpness=None):
        self.sharpness = sharpness
        self.result = True if sharpness is None else 1.0

    def gt(self, value, threshold):
        if self.sharpness is None:
            self.result = self.result & (value > threshold)
        else:
            self.result = self.result * jax.nn.sigmoid((value - threshold) * self.sharpness)

    def lt(self, value, threshold):
        self.gt(-value, -threshold)

    def radius_gt(self, x, y, r):
        if self.sharpness is None:  # compare squares: no square root in the hard path
            self.result = self.result & (x * x + y * y > r * r)
        else:
            self.gt(_sqrt0(x * x + y * y), r)

    def radius_lt(self, x, y, r):
        if self.sharpness is None:
            self.result = self.result & (x * x + y * y < r * r)
        else:
            self.lt(_sqrt0(x * x + y * y), r)


def _on_lkr(cuts, geom, x, y, r_min):
    """An impact point (x, y) on the LKr face: inside the octagon |x|, |y| < half_width,
    |x| + |y| < octagon_sum, and outside the beam hole r > r_min."""
    ax, ay = jnp.abs(x), jnp.abs(y)
    cuts.lt(ax, geom.lkr_half_width)
    cuts.lt(ay, geom.lkr_half_width)
    cuts.lt(ax + ay, geom.lkr_octagon_sum)
    cuts.radius_gt(x, y, r_min)


def _apply_cuts(geom, sel, vx, vy, vz, t1, t2, e1, e2, forward, sharpness=None):
    """Acceptance from the vertex (vx, vy, vz), per-track slopes and energies.

    t1, t2: tuples (t_x, t_y, dt_x) of the slopes before the magnet and the slope change dt_x = q p_kick/p_z
    of daughters 1 and 2; e1, e2 lab energies; forward: both p_z > 0.  Every array broadcasts.
    """
    cuts = _Cuts(sharpness)

    def at(t, z):  # position of a track at plane z (kick applied downstream of the magnet)
        tx, ty, dtx = t
        x = vx + tx * (z - vz)
        y = vy + ty * (z - vz)
        x = x + dtx * jnp.maximum(z - geom.z_magnet, 0.0)
        return x, y

    for t in (t1, t2):
        for z in (geom.z_straw1, geom.z_straw4):
            x, y = at(t, z)
            cuts.radius_gt(x, y, geom.straw_r_min)
            cuts.radius_lt(x, y, geom.straw_r_max)
    for e in (e1, e2):
        cuts.gt(e, sel.min_energy)
    if sel.detector == "lkr":
        r_min = jnp.maximum(geom.lkr_r_min, sel.min_radius)
        pts = []
        for t in (t1, t2):
            x, y = at(t, geom.z_lkr)
            _on_lkr(cuts, geom, x, y, r_min)
            pts.append((x, y))
        cuts.radius_gt(pts[0][0] - pts[1][0], pts[0][1] - pts[1][1], sel.min_separation)
    elif sel.detector == "muv3":
        r_min = jnp.maximum(geom.muv3_r_min, sel.min_radius)
        for t in (t1, t2):
            x, y = at(t, geom.z_muv3)
            cuts.lt(jnp.abs(x), geom.muv3_half_width)
            cuts.lt(jnp.abs(y), geom.muv3_half_width)
            cuts.radius_gt(x, y, r_min)
    elif sel.detector == "straws":  # tracks in the spectrometer only
        pass
    else:  # pragma: no cover - Selection validates
        raise ValueError(f"unknown detector {sel.detector!r}")
    hard = forward & (vz < geom.z_straw1)
    if sharpness is None:
        return cuts.result & hard
    return jnp.where(hard, cuts.result, jnp.zeros_like(cuts.result))


def _slopes(p, q, pt_kick):
    """(t_x, t_y, dt_x) of a track with momentum components p = (px, py, pz) and charge q; pz guarded."""
    px, py, pz = p
    fwd = pz > 0
    pz_safe = jnp.where(fwd, pz, jnp.ones_like(pz))
    return (px / pz_safe, py / pz_safe, q * pt_kick / pz_safe), fwd


def _pair(geom, sel, vertex, p1, p2, charge_sign, sharpness):
    vertex, p1, p2 = jnp.asarray(vertex), jnp.asarray(p1), jnp.asarray(p2)
    q = jnp.asarray(charge_sign, dtype=p1.dtype)
    t1, f1 = _slopes((p1[..., 0], p1[..., 1], p1[..., 2]), q, geom.pt_kick)
    t2, f2 = _slopes((p2[..., 0], p2[..., 1], p2[..., 2]), -q, geom.pt_kick)
    md2 = jnp.asarray(sel.m_daughter, p1.dtype) ** 2
    e1 = _sqrt0(jnp.sum(p1 * p1, axis=-1) + md2)
    e2 = _sqrt0(jnp.sum(p2 * p2, axis=-1) + md2)
    return _apply_cuts(
        geom, sel, vertex[..., 0], vertex[..., 1], vertex[..., 2], t1, t2, e1, e2, f1 & f2, sharpness
    )


def pair_accepted(geom, sel, vertex, p1, p2, charge_sign=1):
    """Whether a two-track decay is accepted (bool array of the broadcast batch shape).

    vertex (..., 3) [m]; p1, p2 (..., 3) lab momenta [GeV] of daughters 1 (charge +charge_sign) and 2
    (charge -charge_sign).  Straight tracks with a thin magnet kick and the cuts of the module docstring;
    energies ``E = sqrt(|p|^2 + m_daughter^2)`` with ``sel.m_daughter``.
    """
    return _pair(geom, sel, vertex, p1, p2, charge_sign, None)


def pair_accepted_smooth(geom, sel, vertex, p1, p2, charge_sign=1, sharpness=1.0e3):
    """Sigmoid-relaxed acceptance in [0, 1]: each hard cut x > c becomes sigma((x - c) * sharpness).

    ``sharpness`` = 1/w is in 1/m for positions and 1/GeV for energies (default 1e3: 1 mm, 1 MeV).
    Differentiable in the geometry, the selection and the kinematics; p_z > 0 and the vertex upstream
    of STRAW1 stay hard requirements.
    """
    return _pair(geom, sel, vertex, p1, p2, charge_sign, sharpness)


# ----------------------------------------------------------------------------------------------------
# sampling
# ----------------------------------------------------------------------------------------------------
def angular_k(m, m_daughter, angular="vector"):
    """k of dGamma/dcos(theta*) ~ 1 + k cos^2(theta*) (module docstring).

    "vector": k = (1 - r)/(1 + r), r = 4 m_l^2/m^2 clipped to [0, 1] (k = 0 at and below threshold);
    "vector_scalars": k = -1; "isotropic": k = 0.
    """
    if angular not in ANGULAR:
        raise ValueError(f"angular must be one of {ANGULAR}, not {angular!r}")
    m = jnp.asarray(m)
    if angular == "isotropic":
        return jnp.zeros_like(m * 1.0)
    if angular == "vector_scalars":
        return -jnp.ones_like(m * 1.0)
    pos = m > 0
    m_safe = jnp.where(pos, m, jnp.ones_like(m))
    r = jnp.where(pos, jnp.clip(4.0 * m_daughter**2 / (m_safe * m_safe), 0.0, 1.0), 1.0)
    return (1.0 - r) / (1.0 + r)


@functools.lru_cache(maxsize=None)
def _kronecker_alpha(d):
    """Generalised golden ratio g (g^(d+1) = g + 1) and alpha_j = g^-(j+1): the R_d sequence.

    M. Roberts, "The unreasonable effectiveness of quasirandom sequences" (2018); Kronecker lattice
    x_i = frac(i alpha + shift) with a random shift (Cranley & Patterson, SIAM J. Numer. Anal. 13 (1976) 904)
    is an unbiased randomised QMC rule.
    """
    g = 2.0
    for _ in range(100):
        g = g - (g ** (d + 1) - g - 1.0) / ((d + 1) * g**d - 1.0)
    return np.array([math.fmod(g ** -(j + 1), 1.0) for j in range(d)])


def _uniform24(key, shape, dtype):
    """Uniform numbers k 2^-24 (k < 2^24) from 32 random bits: exact and identical in float32 and float64,
    so a key gives the same sample in either precision."""
    bits = jax.random.bits(key, shape, dtype=jnp.uint32) >> 8
    return bits.astype(dtype) * jnp.asarray(2.0**-24, dtype)


def sample_unit_points(key, n_mc, dim=4, dtype=None, sampling="qmc"):
    """(n_mc, dim) points in [0, 1)^dim.

    "qmc": randomly shifted R_d Kronecker lattice (the lattice is a float64 constant, the shift is drawn
    from ``key``; every coordinate is uniform and the rule is unbiased, with errors falling faster than
    1/sqrt(n) for smooth integrands); "random": i.i.d. uniform from ``key``.  The random numbers have
    24-bit resolution and are the same in float32 and float64 for a given key.
    """
    if sampling not in SAMPLING:
        raise ValueError(f"sampling must be one of {SAMPLING}, not {sampling!r}")
    dtype = jnp.dtype(dtype) if dtype is not None else jnp.result_type(float)
    if sampling == "random":
        return _uniform24(key, (n_mc, dim), dtype)
    lattice = np.mod(np.arange(n_mc, dtype=np.float64)[:, None] * _kronecker_alpha(dim)[None, :], 1.0)
    shift = _uniform24(key, (dim,), dtype)
    x = jnp.asarray(lattice, dtype=dtype) + shift
    x = x - jnp.floor(x)
    return jnp.where(x >= 1.0, jnp.zeros_like(x), x)


# ----------------------------------------------------------------------------------------------------
# Monte Carlo acceptance
# ----------------------------------------------------------------------------------------------------
def _accept_events(geom, sel, m, p, theta, z, z_width, pts, m_daughter, angular, charge_sign, sharpness):
    """Per-event acceptance (..., n_mc) from unit points pts (n_mc, 4) = (u_phi, u_cos*, u_phi*, u_z).

    Written so that each intermediate only has the shape of the inputs it depends on: the rest-frame
    decay and boost depend on (m, p); the rotation to the lab on theta and the FIP azimuth; only the
    vertex and the track positions carry z.  Broadcasting m (Nm,1,1,1), p (Np,1,1), theta (Nt,1), z (Nz,)
    therefore computes a whole table at the cost of the geometry alone.
    """
    dtype = pts.dtype
    m, p, theta, z, z_width = (jnp.asarray(v, dtype)[..., None] for v in (m, p, theta, z, z_width))
    md = jnp.asarray(m_daughter, dtype)
    u_phi, u_c, u_phs, u_z = pts[:, 0], pts[:, 1], pts[:, 2], pts[:, 3]

    # rest frame -> FIP frame (axis = flight direction)             [PDG Kinematics sec. 49.1, 49.4.2]
    cos_star = cos_star_from_uniform(u_c, angular_k(m, md, angular))
    pstar = two_body_momentum(m, md, md)
    estar = two_body_energy(m, md, md)
    pos = m > 0
    m_safe = jnp.where(pos, m, jnp.ones_like(m))
    gamma = _sqrt0(p * p + m * m) / m_safe
    betagamma = p / m_safe
    sin_star = _sqrt0((1.0 - cos_star) * (1.0 + cos_star))
    par1 = gamma * pstar * cos_star + betagamma * estar
    par2 = -gamma * pstar * cos_star + betagamma * estar
    # phi* = 2 pi (u_phs - u_phi) mod 2 pi is uniform and independent of phi (a measure-preserving change of
    # variables); the daughters' lab azimuth ~ phi + phi* then follows u_phs alone, which keeps the QMC
    # lattice from lining up with the integrand's dominant direction (measured: ~3x smaller errors).
    phs = 2.0 * jnp.pi * (u_phs - u_phi)
    a = pstar * sin_star * jnp.cos(phs)  # transverse momentum along e_theta
    b = pstar * sin_star * jnp.sin(phs)  # ... along e_phi
    e1 = _sqrt0(par1 * par1 + a * a + b * b + md * md)
    e2 = _sqrt0(par2 * par2 + a * a + b * b + md * md)

    # FIP frame -> lab: n = (st cf, st sf, ct), e_theta = (ct cf, ct sf, -st), e_phi = (-sf, cf, 0)
    phi = 2.0 * jnp.pi * u_phi
    st, ct, sf, cf = jnp.sin(theta), jnp.cos(theta), jnp.sin(phi), jnp.cos(phi)

    def lab(par, a, b):
        return (par * st * cf + a * ct * cf - b * sf, par * st * sf + a * ct * sf + b * cf, par * ct - a * st)

    q = jnp.asarray(charge_sign, dtype)
    t1, f1 = _slopes(lab(par1, a, b), q, geom.pt_kick)
    t2, f2 = _slopes(lab(par2, -a, -b), -q, geom.pt_kick)

    # decay vertex on the FIP line from (0, y_prod, z_prod); z uniform in [z - w/2, z + w/2]
    zv = z + (u_z - 0.5) * z_width
    tan_t = st / ct
    path = zv - geom.z_prod
    vx = tan_t * cf * path
    vy = geom.y_prod + tan_t * sf * path
    acc = _apply_cuts(geom, sel, vx, vy, zv, t1, t2, e1, e2, f1 & f2, sharpness)
    above = m > 2.0 * md
    if sharpness is None:
        return acc & above
    return jnp.where(above, acc, jnp.zeros_like(acc))


# ----------------------------------------------------------------------------------------------------
# any registered final state (DecaySpec): n-body phase space, photons, two detector kinds
# ----------------------------------------------------------------------------------------------------
def _nbody_events(geom, m, p, theta, z, z_width, pts, decay, angular, charge_sign, lab=False):
    """Lab objects of a :class:`DecaySpec` decay from unit points pts (n_mc, decay.n_dims).

    Columns: u_phi (FIP azimuth), the 3n - 4 phase-space coordinates (:mod:`.phasespace` layout), u_z,
    then (u_cos, u_phi) of each two-photon daughter's decay.  As in :func:`_accept_events` each
    intermediate carries only the axes it depends on: the rest-frame event depends on (m, u), the boost
    on p, the rotation on theta; only the vertex (and the detector positions computed from it) carry z.

    Returns (objs, (vx, vy, vz), forward, weight, above): objs a list of (kind, (t_x, t_y), q, e) per
    visible object ("charged" | "photon"), with slopes, charge (times ``charge_sign``) and lab energy;
    weight the phase-space weight (None for n = 2, where it does not depend on the event).  With
    ``lab=True`` a sixth item follows: the lab 3-momenta (p_x, p_y, p_z) [GeV] of the visible objects in
    the same order (the numbers of the first five items are the same either way).
    """
    dtype = pts.dtype
    m, p, theta, z, z_width = (jnp.asarray(v, dtype)[..., None] for v in (m, p, theta, z, z_width))
    n = decay.n
    nps = 3 * n - 4
    u_phi, u_z = pts[:, 0], pts[:, 1 + nps]
    k = angular_k(m, decay.masses[0], angular) if n == 2 else None
    parts, weight = _phase_space_t(m, decay.masses, [pts[:, 1 + i] for i in range(nps)], k)

    # visible objects in the FIP rest frame (z axis = flight direction, x = e_theta, y = e_phi)
    vis = []
    col = 2 + nps
    for kind, q, mass, v in zip(decay.kinds, decay.charges, decay.masses, parts):
        if kind == "two_photon":
            g1, g2 = _two_photon_t(v, mass, pts[:, col], pts[:, col + 1])
            col += 2
            vis += [("photon", g1, 0), ("photon", g2, 0)]
        elif kind != "invisible":
            vis.append((kind, v, q * jnp.asarray(charge_sign, dtype)))

    # rotate the event by -phi about the flight axis (the azimuth trick of _accept_events: for n = 2 the
    # daughters' rest-frame azimuth is 2 pi (u_phs - u_phi) exactly as there), boost along it, rotate to
    # the lab: n = (st cf, st sf, ct), e_theta = (ct cf, ct sf, -st), e_phi = (-sf, cf, 0)
    phi = 2.0 * jnp.pi * u_phi
    sf, cf = jnp.sin(phi), jnp.cos(phi)
    st, ct = jnp.sin(theta), jnp.cos(theta)
    m_safe = jnp.where(m > 0, m, jnp.ones_like(m))
    gamma = _sqrt0(p * p + m * m) / m_safe
    betagamma = p / m_safe
    objs = []
    moms = []
    forward = True
    for kind, (e, px, py, pz), q in vis:
        a = px * cf + py * sf
        b = py * cf - px * sf
        par = gamma * pz + betagamma * e
        energy = gamma * e + betagamma * pz
        lx = par * st * cf + a * ct * cf - b * sf
        ly = par * st * sf + a * ct * sf + b * cf
        lz = par * ct - a * st
        fwd = lz > 0
        lz_safe = jnp.where(fwd, lz, jnp.ones_like(lz))
        objs.append((kind, (lx / lz_safe, ly / lz_safe), q, lz_safe, energy))
        moms.append((lx, ly, lz))
        forward = forward & fwd

    zv = z + (u_z - 0.5) * z_width
    tan_t = st / ct
    path = zv - geom.z_prod
    vertex = (tan_t * cf * path, geom.y_prod + tan_t * sf * path, zv)
    above = m > decay.threshold
    out = (objs, vertex, forward, (None if n == 2 else weight), above)
    return (out + (moms,)) if lab else out


def _separations(cuts, points, d):
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            cuts.radius_gt(points[i][0] - points[j][0], points[i][1] - points[j][1], d)


def _spectrometer_cuts(geom, sel, decay, objs, vertex, forward, sharpness):
    """The NA62 selection of the module docstring, extended to photons (straight to the LKr)."""
    vx, vy, vz = vertex
    cuts = _Cuts(sharpness)

    def at(obj, zp):
        kind, (tx, ty), q, lz, _ = obj
        x = vx + tx * (zp - vz)
        y = vy + ty * (zp - vz)
        if kind == "charged":  # thin magnet kick dt_x = q p_kick / p_z downstream of the magnet
            x = x + (q * geom.pt_kick / lz) * jnp.maximum(zp - geom.z_magnet, 0.0)
        return x, y

    r_lkr = jnp.maximum(geom.lkr_r_min, sel.min_radius)
    on_lkr = []

    def lkr(obj):
        x, y = at(obj, geom.z_lkr)
        _on_lkr(cuts, geom, x, y, r_lkr)
        on_lkr.append((x, y))

    for obj in objs:
        kind, energy = obj[0], obj[-1]
        if kind == "photon":
            cuts.gt(energy, sel.min_photon_energy)
            lkr(obj)
            continue
        for zp in (geom.z_straw1, geom.z_straw4):
            x, y = at(obj, zp)
            cuts.radius_gt(x, y, geom.straw_r_min)
            cuts.radius_lt(x, y, geom.straw_r_max)
        cuts.gt(energy, sel.min_energy)
        if sel.detector == "lkr":
            lkr(obj)
        elif sel.detector == "muv3":
            r_min = jnp.maximum(geom.muv3_r_min, sel.min_radius)
            x, y = at(obj, geom.z_muv3)
            cuts.lt(jnp.abs(x), geom.muv3_half_width)
            cuts.lt(jnp.abs(y), geom.muv3_half_width)
            cuts.radius_gt(x, y, r_min)
    _separations(cuts, on_lkr, sel.min_separation)
    z_max = geom.z_straw1 if decay.has_charged else geom.z_lkr
    return cuts.result, forward & (vz < z_max)


def _calorimeter_cuts(geom, sel, decay, objs, vertex, forward, sharpness):
    """Every visible object on the face rectangle, outside the hole, above its energy threshold, and
    pairwise separated; straight lines (no magnet); the vertex upstream of the face."""
    vx, vy, vz = vertex
    cuts = _Cuts(sharpness)
    r_min = jnp.maximum(geom.r_min, sel.min_radius)
    dz = geom.z_face - vz
    pts = []
    for kind, (tx, ty), _, _, energy in objs:
        cuts.gt(energy, sel.min_photon_energy if kind == "photon" else sel.min_energy)
        x = vx + tx * dz
        y = vy + ty * dz
        cuts.lt(jnp.abs(x - geom.x_centre), geom.half_width_x)
        cuts.lt(jnp.abs(y - geom.y_centre), geom.half_width_y)
        cuts.radius_gt(x, y, r_min)
        pts.append((x, y))
    _separations(cuts, pts, sel.min_separation)
    return cuts.result, forward & (vz < geom.z_face)


def _nbody_flags(geom, sel, m, p, theta, z, z_width, pts, decay, angular, charge_sign, sharpness, lab=False):
    """Per-event acceptance (..., n_mc) of a DecaySpec decay (0/1 in the dtype of pts, or the smooth
    product of sigmoids), the phase-space weight (None for n = 2) and, with ``lab=True``, the lab
    3-momenta of the visible objects (:func:`_nbody_events`; None otherwise)."""
    objs, vertex, forward, weight, above, *moms = _nbody_events(
        geom, m, p, theta, z, z_width, pts, decay, angular, charge_sign, lab
    )
    if isinstance(geom, CalorimeterGeometry):
        acc, hard = _calorimeter_cuts(geom, sel, decay, objs, vertex, forward, sharpness)
    else:
        acc, hard = _spectrometer_cuts(geom, sel, decay, objs, vertex, forward, sharpness)
    if sharpness is None:
        acc = (acc & hard & above).astype(pts.dtype)
    else:
        acc = jnp.where(hard & above, acc, jnp.zeros_like(acc))
    return acc, weight, (moms[0] if lab else None)


def _event_mean(x, weight):
    """Mean over the last (event) axis: plain (weight None, n = 2) or the phase-space weighted mean
    sum(w x) / sum(w) (n >= 3), 0 where sum(w) = 0 (at and below threshold)."""
    if weight is None:
        return jnp.mean(x, axis=-1)
    sw = jnp.sum(weight, axis=-1)
    pos = sw > 0
    est = jnp.sum(weight * x, axis=-1) / jnp.where(pos, sw, jnp.ones_like(sw))
    return jnp.where(pos, est, jnp.zeros_like(est))


def _accept_nbody(geom, sel, m, p, theta, z, z_width, pts, decay, angular, charge_sign, sharpness):
    """Acceptance estimate (...,) of a DecaySpec decay: mean over the n_mc events (n = 2) or the
    phase-space weighted mean sum(w acc) / sum(w) (n >= 3); 0 at and below threshold."""
    acc, weight, _ = _nbody_flags(geom, sel, m, p, theta, z, z_width, pts, decay, angular, charge_sign, sharpness)
    return _event_mean(acc, weight)


def _nbody_setup(geom, sel, m_daughter, decay):
    if not isinstance(decay, DecaySpec):
        raise TypeError(f"decay must be a DecaySpec or None, not {type(decay).__name__}")
    if m_daughter is not None:
        raise ValueError("m_daughter is not used with decay=DecaySpec(...) (the spec carries the masses)")
    if decay.n_visible == 0:
        raise ValueError(f"{decay} has no visible daughter: no detector reconstructs it")
    if not isinstance(geom, (Geometry, CalorimeterGeometry)):
        raise TypeError(f"geom must be a Geometry or a CalorimeterGeometry, not {type(geom).__name__}")


def _check_options(n_mc, angular, sampling):
    if not isinstance(n_mc, (int, np.integer)) or n_mc < 1:
        raise ValueError(f"n_mc must be a positive integer, not {n_mc!r}")
    if angular not in ANGULAR:
        raise ValueError(f"angular must be one of {ANGULAR}, not {angular!r}")
    if sampling not in SAMPLING:
        raise ValueError(f"sampling must be one of {SAMPLING}, not {sampling!r}")


@functools.partial(jax.jit, static_argnames=("n_mc", "angular", "sampling", "decay"))
def acceptance_mc(
    geom,
    sel,
    m,
    p,
    theta,
    z,
    key,
    n_mc,
    m_daughter=None,
    *,
    z_width=0.0,
    angular="vector",
    sampling="qmc",
    charge_sign=1,
    decay=None,
):
    """Fraction of FIP decays X -> d+ d- at decay position z that pass the selection (MC estimate).

    m [GeV] FIP mass, p [GeV] momentum, theta [rad] polar angle of its flight line from the production
    point (0, y_prod, z_prod), z [m] the decay position along the beam (uniform in [z - z_width/2,
    z + z_width/2] when ``z_width`` > 0, i.e. the average over a cell).  The FIP azimuth is uniform in
    [0, 2 pi); cos(theta*) follows 1 + k cos^2 (``angular``, module docstring) and phi* is uniform.
    ``m_daughter`` defaults to ``sel.m_daughter``.  n_mc points per input point, ``sampling`` "qmc"
    (randomly shifted lattice, default) or "random"; the same points (common random numbers) are used for
    every input, so tables are smooth in (m, p, theta, z).  Zero at and below threshold m <= 2 m_daughter.

    m, p, theta, z, z_width broadcast against each other; result has their broadcast shape and the
    floating dtype of the inputs.  Jitted (n_mc, angular, sampling static); reproducible with ``key``;
    works under vmap.

    ``decay`` (static): None for the two-track final state d+ d- above (bit for bit the same numbers as
    before the keyword existed; ``geom`` must then be a :class:`Geometry`), or a :class:`DecaySpec` for any
    final state of 2 to 4 daughters on either detector kind, dispatched on the type of ``geom``:

    * :class:`Geometry` (NA62-like spectrometer): charged tracks as above (straw annulus at STRAW1 and
      STRAW4, then the ``sel.detector`` requirement: "lkr", "muv3" or "straws" = none beyond the straws;
      E > min_energy); photons (direct, or from a pi0/eta daughter) go straight (no kick) to the LKr:
      inside the octagon, r > max(lkr_r_min, min_radius), E > min_photon_energy; every two objects on the
      LKr (photons, plus the tracks when detector == "lkr") more than min_separation apart.  The vertex
      must lie upstream of STRAW1 when the final state has a charged daughter, of the LKr otherwise.
    * :class:`CalorimeterGeometry`: every visible daughter (charged or photon; straight lines) hits the
      face inside the rectangle and at r > max(r_min, min_radius) from the beam axis, has
      E > min_energy (charged) / min_photon_energy (photons), and every two are more than min_separation
      apart on the face; the vertex lies upstream of the face.  ``sel.detector`` is not used.

    Angular distribution: n = 2 follows ``angular`` as above (k from the first daughter's mass for
    "vector"); n >= 3 is flat phase space (GENBOD, :mod:`.phasespace`; matrix elements are not modelled
    yet), the estimate being the weighted mean sum(w acc) / sum(w).  ``m_daughter`` must be None (the
    spec carries the masses).  Zero at and below m <= sum of the daughter masses.
    """
    _check_options(n_mc, angular, sampling)
    if decay is not None:
        _nbody_setup(geom, sel, m_daughter, decay)
        dtype = float_dtype(m, p, theta, z)
        pts = sample_unit_points(key, n_mc, decay.n_dims, dtype, sampling)
        return _accept_nbody(geom, sel, m, p, theta, z, z_width, pts, decay, angular, charge_sign, None)
    if not isinstance(geom, Geometry):
        raise TypeError("decay=None is the two-track NA62 path and needs a Geometry; pass decay=DecaySpec(...)")
    if m_daughter is None:
        m_daughter = sel.m_daughter
    dtype = float_dtype(m, p, theta, z)
    pts = sample_unit_points(key, n_mc, 4, dtype, sampling)
    acc = _accept_events(geom, sel, m, p, theta, z, z_width, pts, m_daughter, angular, charge_sign, None)
    return jnp.mean(acc.astype(dtype), axis=-1)


@functools.partial(jax.jit, static_argnames=("n_mc", "angular", "sampling", "decay"))
def acceptance_mc_smooth(
    geom,
    sel,
    m,
    p,
    theta,
    z,
    key,
    n_mc,
    m_daughter=None,
    *,
    z_width=0.0,
    angular="vector",
    sampling="qmc",
    charge_sign=1,
    sharpness=1.0e3,
    decay=None,
):
    """:func:`acceptance_mc` with the sigmoid-relaxed cuts of :func:`pair_accepted_smooth`.

    Differentiable in the geometry and selection numbers (for design optimisation); same sampling, so
    with the same key it tends to :func:`acceptance_mc` as ``sharpness`` grows.  ``decay`` as there.
    """
    _check_options(n_mc, angular, sampling)
    if decay is not None:
        _nbody_setup(geom, sel, m_daughter, decay)
        dtype = float_dtype(m, p, theta, z)
        pts = sample_unit_points(key, n_mc, decay.n_dims, dtype, sampling)
        return _accept_nbody(geom, sel, m, p, theta, z, z_width, pts, decay, angular, charge_sign, sharpness)
    if not isinstance(geom, Geometry):
        raise TypeError("decay=None is the two-track NA62 path and needs a Geometry; pass decay=DecaySpec(...)")
    if m_daughter is None:
        m_daughter = sel.m_daughter
    dtype = float_dtype(m, p, theta, z)
    pts = sample_unit_points(key, n_mc, 4, dtype, sampling)
    acc = _accept_events(geom, sel, m, p, theta, z, z_width, pts, m_daughter, angular, charge_sign, sharpness)
    return jnp.mean(acc, axis=-1)


# ----------------------------------------------------------------------------------------------------
# mass reconstruction: the daughters as the detector measures them
# ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Resolution:
    """Detector resolutions for :func:`smeared_mass` and :func:`mass_resolution_mc`; a pytree whose
    numbers are differentiable leaves (``mass_constraint`` is static).  All default to 0: a perfect
    detector, m_reco = m.

    Charged tracks (magnetic spectrometer), p in GeV [NA62, JINST 12 (2017) P05025, STRAW section]:
    sigma_p / p = straw_a (+) straw_b p  (quadrature sum; NA62: 0.0030 and 0.00005 /GeV);
    straw_angle [rad]: Gaussian spread of each of the two projected angles of a track (default 0: the
    track direction is taken as exact -- see :func:`smeared_mass` for why and what it costs).

    Photons (electromagnetic calorimeter), E in GeV [same paper, LKr section]:
    sigma_E / E = lkr_stochastic / sqrt(E) (+) lkr_noise / E (+) lkr_constant
    (NA62: 0.048, 0.11 GeV, 0.009).

    mass_constraint (static bool): the two photons of each pi0 / eta daughter are scaled to the nominal
    mass (:func:`smeared_mass`).  Values are not validated here (they may be tracers); the experiment
    reader (fipscan.resolution) refuses negative ones.
    """

    straw_a: float = 0.0
    straw_b: float = 0.0
    lkr_stochastic: float = 0.0
    lkr_noise: float = 0.0
    lkr_constant: float = 0.0
    straw_angle: float = 0.0
    mass_constraint: bool = False

    def __post_init__(self):
        if not isinstance(self.mass_constraint, (bool, np.bool_)):
            raise TypeError(f"Resolution.mass_constraint must be a bool (static), not {self.mass_constraint!r}")


jax.tree_util.register_dataclass(
    Resolution,
    data_fields=["straw_a", "straw_b", "lkr_stochastic", "lkr_noise", "lkr_constant", "straw_angle"],
    meta_fields=["mass_constraint"],
)

#: fold_in constant of the smearing stream: the Gaussian numbers come from jax.random.fold_in(key, this),
#: independent of the unit points that acceptance_mc draws from ``key`` itself
_SMEARING_STREAM = 0x6D617373  # "mass"


def visible_objects(decay):
    """The visible objects of a :class:`DecaySpec` in the order of :func:`smeared_mass` and of the Monte
    Carlo: a tuple of (kind, mass [GeV], daughter index) -- kind "charged" (mass: the daughter's, the
    mass hypothesis of the track) or "photon" (mass 0; a direct photon or one of the two photons of a
    pi0/eta daughter, which follow each other).  Invisible daughters are skipped.  Static (Python)."""
    out = []
    for i, (kind, mass) in enumerate(zip(decay.kinds, decay.masses)):
        if kind == "two_photon":
            out += [("photon", 0.0, i), ("photon", 0.0, i)]
        elif kind == "charged":
            out.append(("charged", mass, i))
        elif kind == "photon":
            out.append(("photon", 0.0, i))
    return tuple(out)


def _constraint_pairs(decay):
    """(j, j + 1, nominal mass) of the two photons of each pi0/eta daughter (indices of visible_objects)."""
    objs = visible_objects(decay)
    pairs = []
    for j in range(len(objs) - 1):
        if objs[j][2] == objs[j + 1][2] and decay.kinds[objs[j][2]] == "two_photon":
            pairs.append((j, j + 1, decay.masses[objs[j][2]]))
    return tuple(pairs)


def smearing_normals(key, n_mc, n_objects, dtype=None):
    """(n_mc, n_objects, 3) standard normal numbers for :func:`smeared_mass`: column 0 smears ``|p|`` (tracks)
    or E (photons), columns 1, 2 the two projected angles of a track (unused for photons).

    Drawn from ``jax.random.fold_in(key, _SMEARING_STREAM)`` (so the acceptance's own points from
    ``key`` are untouched) as the inverse normal CDF of 23-bit uniforms (2 k + 1) 2^-24, which are exact
    and identical in float32 and float64 (the same key gives the same sample to rounding in either
    precision); ``|g| < 5.3`` (the 2^-24 quantile).  Independent i.i.d. numbers, not a lattice: a second
    Kronecker lattice indexed like the first would correlate the smearing with the kinematics.
    """
    dtype = jnp.dtype(dtype) if dtype is not None else jnp.result_type(float)
    k = jax.random.fold_in(key, _SMEARING_STREAM)
    bits = jax.random.bits(k, (n_mc, n_objects, 3), dtype=jnp.uint32) >> 9
    u = (2.0 * bits.astype(dtype) + 1.0) * jnp.asarray(2.0**-24, dtype)
    return jax.scipy.special.ndtri(u)


def _smeared_mass_t(moms, gs, res, decay, dtype):
    """Tuple form of :func:`smeared_mass`: moms a list of (p_x, p_y, p_z) per visible object, gs a list
    of (g0, g1, g2) normal numbers per object; every component broadcasts."""
    objs = visible_objects(decay)
    one = jnp.ones((), dtype)
    big_p, dirs, masses = [], [], []
    for (kind, mass, _), (px, py, pz), (g0, g1, g2) in zip(objs, moms, gs):
        pabs = _sqrt0(px * px + py * py + pz * pz)
        pos = pabs > 0
        inv = jnp.where(pos, 1.0 / jnp.where(pos, pabs, one), jnp.zeros_like(pabs))
        nx, ny, nz = px * inv, py * inv, pz * inv
        if kind == "charged":  # sigma_p/p = a (+) b p; direction: the x, y components perturbed
            rel = _sqrt0(res.straw_a**2 + (res.straw_b * pabs) ** 2)
            nx = nx + res.straw_angle * g1
            ny = ny + res.straw_angle * g2
            norm = _sqrt0(nx * nx + ny * ny + nz * nz)
            ok = norm > 0
            inv_n = jnp.where(ok, 1.0 / jnp.where(ok, norm, one), jnp.zeros_like(norm))
            nx, ny, nz = nx * inv_n, ny * inv_n, nz * inv_n
        else:  # sigma_E/E = s/sqrt(E) (+) n/E (+) c, E = |p|; direction exact
            e_safe = jnp.where(pos, pabs, one)
            rel = jnp.where(pos, _sqrt0(res.lkr_stochastic**2 / e_safe + (res.lkr_noise / e_safe) ** 2
                                        + res.lkr_constant**2), jnp.zeros_like(pabs))
        big_p.append(jnp.maximum(pabs * (1.0 + rel * g0), 0.0))
        dirs.append((nx, ny, nz))
        masses.append(jnp.asarray(mass, dtype))

    def one_minus_cos_x2(i, j):  # |n_i - n_j|^2 = 2 (1 - cos theta_ij), without the cancellation
        return sum((a - b) ** 2 for a, b in zip(dirs[i], dirs[j]))

    if res.mass_constraint:  # the photon pair of each pi0/eta scaled to the nominal mass
        for i, j, m0 in _constraint_pairs(decay):
            mgg = _sqrt0(big_p[i] * big_p[j] * one_minus_cos_x2(i, j))
            ok = mgg > 0
            s = jnp.where(ok, m0 / jnp.where(ok, mgg, one), jnp.ones_like(mgg))
            big_p[i] = big_p[i] * s
            big_p[j] = big_p[j] * s

    # E - |p| = m^2 / (E + |p|), so E_i E_j - p_i.p_j = P_i d_j + d_i P_j + d_i d_j + P_i P_j (1 - cos)
    d = []
    for pp, mass in zip(big_p, masses):
        e_plus_p = _sqrt0(pp * pp + mass * mass) + pp
        ok = e_plus_p > 0
        d.append(jnp.where(ok, mass * mass / jnp.where(ok, e_plus_p, one), jnp.zeros_like(e_plus_p)))
    m2 = sum(mass * mass for mass in masses)
    k = len(objs)
    for i in range(k):
        for j in range(i + 1, k):
            pair = big_p[i] * d[j] + d[i] * big_p[j] + d[i] * d[j]
            m2 = m2 + 2.0 * pair + big_p[i] * big_p[j] * one_minus_cos_x2(i, j)
    return _sqrt0(m2)


def smeared_mass(p4, normals, resolution, decay):
    """Reconstructed invariant mass [GeV] of the visible daughters of ``decay`` as the detector measures them.

    p4 (..., k, 4): true lab four-momenta (E, p_x, p_y, p_z) [GeV] of the k = decay.n_visible visible
    objects in the order of :func:`visible_objects` (charged daughters, photons, two photons per pi0/eta
    daughter; invisible daughters absent); only the 3-momenta are read (the true energies follow from
    them and the masses).  normals (..., k, 3): standard normal numbers (:func:`smearing_normals`);
    resolution: a :class:`Resolution`; decay: the :class:`DecaySpec` (static).  Returns (...) with the
    floating dtype of the inputs; jit-able and vmap-able.

    * Charged track (magnetic spectrometer): ``|p| -> |p| (1 + sigma_p/p g0)``, ``sigma_p/p = a (+) b |p|``
      (NA62 STRAW, JINST 12 (2017) P05025: a = 0.30%, b = 0.005%/GeV), clipped at 0; energy from the mass
      hypothesis = the true daughter mass.  Direction: the x and y components of the unit vector get
      straw_angle g1, straw_angle g2 (then renormalised), i.e. the projected angles of a forward track.
      With the default straw_angle = 0 the direction is exact: the momentum term is the STRAW resolution
      the paper quotes, and no angular resolution is configured.  The angular term enters m only through
      the opening angle, sigma_m/m ~ sqrt(2) sigma_theta/theta_12 with theta_12 ~ 2 m/p: negligible for
      slow or heavy messengers, comparable to the momentum term for light, fast ones (measured with an
      illustrative, not NA62-quoted, 30 urad: pi+ pi- at m = 0.5 GeV, p = 100 GeV, sigma_m/m 0.19% ->
      0.37%); hence a parameter, 0 until a measured value is configured.
    * Photon (electromagnetic calorimeter): E -> E (1 + sigma_E/E g0), sigma_E/E = s/sqrt(E) (+) n/E (+) c
      (NA62 LKr, same paper: 4.8%, 0.11 GeV, 0.9%), clipped at 0.  Direction: from the true decay vertex
      to the impact point on the calorimeter, i.e. the true direction (the cluster position resolution,
      ~1 mm over ~50 m of flight, and the vertex resolution are neglected).
    * ``resolution.mass_constraint``: the two photons of each pi0/eta daughter have their energies scaled
      by m_nominal / m_gammagamma, so that the pair has the nominal mass exactly.  This is the solution of
      the one-constraint least-squares (kinematic) fit of the two energies with equal relative errors
      (in log E the constraint is ln E_1 + ln E_2 = const, and equal errors share the correction equally;
      P. Avery, "Applied fitting theory I", CLEO note CBX 91-72): fipscan applies it as the pi0/eta mass
      constraint of the analyses, not the full fit with per-photon errors.  With unequal relative errors
      (a soft photon dominated by the noise term) the common scale is not that fit's optimum and can
      be slightly worse than no constraint (measured for K+ K- pi0 at m = 1.9 GeV, p = 100 GeV: 0.33%
      against 0.31%); it halves the pi+ pi- pi0 resolution at m = 0.5 GeV.

    The mass is m^2 = sum m_i^2 + 2 sum_{i<j} (E_i E_j - p_i.p_j), each pair term written as
    ``P_i d_j + d_i P_j + d_i d_j + P_i P_j |n_i - n_j|^2 / 2`` with d = E - P = m^2/(E + P), a sum of
    non-negative terms without the cancellation of E^2 - p^2 at large boosts (float32 keeps ~1e-7).
    """
    if not isinstance(decay, DecaySpec):
        raise TypeError(f"decay must be a DecaySpec, not {type(decay).__name__}")
    if not isinstance(resolution, Resolution):
        raise TypeError(f"resolution must be a Resolution, not {type(resolution).__name__}")
    dtype = float_dtype(p4, normals)
    p4, normals = jnp.asarray(p4, dtype), jnp.asarray(normals, dtype)
    k = decay.n_visible
    if p4.shape[-2:] != (k, 4) or normals.shape[-2:] != (k, 3):
        raise ValueError(f"{decay} has {k} visible objects: p4 must be (..., {k}, 4) and normals (..., {k}, 3), "
                         f"not {p4.shape} and {normals.shape}")
    moms = [(p4[..., i, 1], p4[..., i, 2], p4[..., i, 3]) for i in range(k)]
    gs = [(normals[..., i, 0], normals[..., i, 1], normals[..., i, 2]) for i in range(k)]
    return _smeared_mass_t(moms, gs, resolution, decay, dtype)


@functools.partial(jax.jit, static_argnames=("n_mc", "angular", "sampling", "decay"))
def mass_resolution_mc(
    geom,
    sel,
    m,
    p,
    theta,
    z,
    key,
    n_mc,
    resolution,
    *,
    z_width=0.0,
    angular="vector",
    sampling="qmc",
    charge_sign=1,
    decay,
):
    """Acceptance and the first two moments of the mass error over the accepted decays (MC estimate).

    Arguments as :func:`acceptance_mc` with ``decay`` a :class:`DecaySpec` (required: every final state,
    two-track ones included, takes the DecaySpec path) and ``resolution`` a :class:`Resolution`.
    Returns the triple (A, A <dm>, A <dm^2>), each of the broadcast shape of (m, p, theta, z, z_width) and
    the floating dtype of the inputs, where dm = m_reco - m [GeV] (:func:`smeared_mass`) and <.> is the
    mean over the *accepted* events with the phase-space weights for n >= 3 bodies, i.e.

        A = sum(w acc) / sum(w),  A <dm> = sum(w acc dm) / sum(w),  A <dm^2> = sum(w acc dm^2) / sum(w)

    (w = 1 for n = 2).  The three are linear in the events, so sums over points weighted by production
    stay linear; the mean shift and the resolution of a sum follow from fipscan.resolution.mass_resolution.
    All three are 0 where A = 0 (at and below threshold, outside the detector).

    The events (and therefore A) are those of ``acceptance_mc(..., decay=decay)`` with the same key and
    n_mc: A equals it to rounding.  For the two-track final states (pipi, kk, ee, mumu), whose default
    acceptance_mc path is decay=None with its own sampling, A is this path's own estimate, equal to that
    one within Monte Carlo noise only.  The acceptance uses the true kinematics (the smearing does not move
    events across the energy cuts; a second-order effect at the per-mille resolutions here).  The Gaussian
    numbers come from :func:`smearing_normals` (key folded in, i.i.d., the same for every input point:
    common random numbers, so tables are smooth).  Jitted (n_mc, angular, sampling, decay and
    resolution.mass_constraint static); works under vmap.
    """
    _check_options(n_mc, angular, sampling)
    if decay is None:
        raise TypeError("mass_resolution_mc needs decay=DecaySpec(...) for every final state (two-track ones too)")
    _nbody_setup(geom, sel, None, decay)
    if not isinstance(resolution, Resolution):
        raise TypeError(f"resolution must be a Resolution, not {type(resolution).__name__}")
    dtype = float_dtype(m, p, theta, z)
    pts = sample_unit_points(key, n_mc, decay.n_dims, dtype, sampling)
    acc, weight, moms = _nbody_flags(geom, sel, m, p, theta, z, z_width, pts, decay, angular, charge_sign, None,
                                     lab=True)
    g = smearing_normals(key, n_mc, decay.n_visible, dtype)
    gs = [(g[:, i, 0], g[:, i, 1], g[:, i, 2]) for i in range(decay.n_visible)]
    m_reco = _smeared_mass_t(moms, gs, resolution, decay, dtype)
    dm = m_reco - jnp.asarray(m, dtype)[..., None]
    accepted = acc > 0
    dm = jnp.where(accepted, dm, jnp.zeros_like(dm))
    first = acc * dm
    return _event_mean(acc, weight), _event_mean(first, weight), _event_mean(first * dm, weight)
