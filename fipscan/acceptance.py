"""Acceptance tables: the two-track detector acceptance on a (mass, momentum, angle, z-cell) grid, cached.

A table holds, for one final state (``channel``), the fraction A(m, p, theta, z-cell) of FIP decays
X -> d+ d- in each decay-volume cell that pass the geometric selection (kernel:
:func:`fipscan.kernels.acceptance.acceptance_mc`; z is sampled uniformly inside each cell, so a value
is the cell average).  Tables are built once per configuration and stored in the fipscan cache
(:func:`fipscan.cache.get_or_build`, kind ``"acceptance"``): every input that changes the numbers
(geometry, selection, grids, n_mc, seed, angular distribution, sampling, float precision, schema)
is part of the key.

Grids: log10 m (masses, GeV), log10 p and log10 theta are *points* (bin centres) at which the
acceptance is evaluated; z_edges are the edges of the decay-volume cells [m].
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.errors import ConfigError, InputError
from fipscan.experiments import config_value
from fipscan.kernels.acceptance import Geometry, Selection, acceptance_mc

__all__ = [
    "AcceptanceTable",
    "CHANNELS",
    "DAUGHTER_MASSES",
    "SCHEMA_VERSION",
    "geometry_from_config",
    "selection_from_config",
    "default_grids",
    "build_acceptance_table",
    "table_settings",
    "load_acceptance_table",
]

log = logging.getLogger("fipscan.acceptance")

#: daughter masses [GeV] per two-body channel (PDG 2024: m_e, m_mu, m_pi+-)
DAUGHTER_MASSES = {"ee": 0.51099895e-3, "mumu": 0.1056583755, "pipi": 0.13957039}
CHANNELS = tuple(DAUGHTER_MASSES)
#: daughter spin per channel: fermion pairs use the vector -> f fbar angular distribution, pions the
#: vector -> two scalars one (kernels.acceptance module docstring)
_SCALAR_DAUGHTERS = {"pipi"}
SCHEMA_VERSION = 1
_KIND = "acceptance"
# the algorithm behind the numbers (bump when the kernel's sampling or track model changes)
_ALGORITHM = "thin-kick straight tracks; R4 Kronecker QMC with Cranley-Patterson shift; v1"


# ------------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------------
def _safe_log10(x):
    """log10(x) with -inf (and a zero gradient) for x <= 0 (double-where)."""
    x = jnp.asarray(x)
    pos = x > 0
    return jnp.where(pos, jnp.log10(jnp.where(pos, x, jnp.ones_like(x))), -jnp.inf)


def _linear_weights(grid, x):
    """Lower index i, upper index i1 and weight t of x on the increasing grid, clamped at both ends."""
    n = grid.shape[0]
    i = jnp.clip(jnp.searchsorted(grid, x, side="right") - 1, 0, max(n - 2, 0))
    i1 = jnp.minimum(i + 1, n - 1)
    g0, g1 = grid[i], grid[i1]
    wide = g1 > g0
    t = jnp.where(wide, (x - g0) / jnp.where(wide, g1 - g0, jnp.ones_like(g1)), jnp.zeros_like(x))
    return i, i1, jnp.clip(t, 0.0, 1.0)


@dataclasses.dataclass(frozen=True, eq=False)
class AcceptanceTable:
    """Acceptance of one channel on a grid; a pytree (``channel`` static) so it can enter jitted code.

    channel: "ee" | "mumu" | "pipi"; log10m (Nm,) masses [log10 GeV]; log10p (Np,) momentum points
    [log10 GeV]; log10theta (Nt,) polar-angle points [log10 rad]; z_edges (Nz+1,) decay-volume cell
    edges [m]; values (Nm, Np, Nt, Nz) in [0, 1] (cell averages over z).
    """

    channel: str
    log10m: np.ndarray
    log10p: np.ndarray
    log10theta: np.ndarray
    z_edges: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        arrays = (self.log10m, self.log10p, self.log10theta, self.z_edges, self.values)
        if not all(isinstance(a, np.ndarray) for a in arrays):
            return  # traced / transformed leaves inside jax transformations: nothing to check
        shape = (self.log10m.size, self.log10p.size, self.log10theta.size, self.z_edges.size - 1)
        if self.values.shape != shape:
            raise InputError(f"AcceptanceTable.values has shape {self.values.shape}, the grids need {shape}")
        for name in ("log10m", "log10p", "log10theta", "z_edges"):
            g = getattr(self, name)
            if g.ndim != 1 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0):
                raise InputError(f"AcceptanceTable.{name} must be a finite, strictly increasing 1-D array")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(np.shape(self.values))

    @property
    def z_centres(self):
        return 0.5 * (self.z_edges[1:] + self.z_edges[:-1])

    def at_mass(self, m):
        """Acceptance (Np, Nt, Nz) at mass m [GeV] (scalar): linear in log10 m, clamped outside the table.

        jnp throughout (jitted; the table is a pytree argument), so it can be used inside jit, vmapped
        over m and differentiated in m.
        """
        return _at_mass(self, m)

    def interpolate(self, m, p, theta):
        """Acceptance (..., Nz) at (m [GeV], p [GeV], theta [rad]), which broadcast against each other.

        Multilinear in (log10 m, log10 p, log10 theta); clamped outside the mass and momentum ranges and
        for theta below the first point (the theta -> 0 limit is flat), zero for theta above the last
        point (beyond the detector; the default range ends at 1.6e-2 rad; A = 0 above ~6e-3 rad for NA62).
        Jitted, differentiable in (m, p, theta), finite gradients also at theta = 0.
        """
        return _interpolate(self, m, p, theta)


@jax.jit
def _at_mass(table: AcceptanceTable, m):
    grid = jnp.asarray(table.log10m)
    values = jnp.asarray(table.values)
    i, i1, t = _linear_weights(grid, _safe_log10(m))
    return (1.0 - t) * values[i] + t * values[i1]


@jax.jit
def _interpolate(table: AcceptanceTable, m, p, theta):
    m, p, theta = jnp.broadcast_arrays(jnp.asarray(m), jnp.asarray(p), jnp.asarray(theta))
    values = jnp.asarray(table.values)
    lt = _safe_log10(theta)
    gt = jnp.asarray(table.log10theta)
    im, im1, tm = _linear_weights(jnp.asarray(table.log10m), _safe_log10(m))
    ip, ip1, tp = _linear_weights(jnp.asarray(table.log10p), _safe_log10(p))
    it, it1, tt = _linear_weights(gt, lt)
    out = 0.0
    for a, wa in ((im, 1.0 - tm), (im1, tm)):
        for b, wb in ((ip, 1.0 - tp), (ip1, tp)):
            for c, wc in ((it, 1.0 - tt), (it1, tt)):
                out = out + (wa * wb * wc)[..., None] * values[a, b, c]
    inside = (lt <= gt[-1])[..., None]
    return jnp.where(inside, out, jnp.zeros_like(out))


jax.tree_util.register_dataclass(
    AcceptanceTable,
    data_fields=["log10m", "log10p", "log10theta", "z_edges", "values"],
    meta_fields=["channel"],
)


# ------------------------------------------------------------------------------------------------
# configuration -> kernel parameters
# ------------------------------------------------------------------------------------------------
def _get(cfg: Mapping, dotted: str) -> Any:
    return config_value(cfg, dotted, "experiment configuration")


def _num(cfg: Mapping, dotted: str) -> float:
    value = _get(cfg, dotted)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"experiment configuration: '{dotted}' must be a finite number, not {value!r}")
    return float(value)


def geometry_from_config(cfg: Mapping) -> Geometry:
    """The detector :class:`Geometry` from a parsed experiment TOML (e.g. ``na62_bd.toml``) dict.

    z_dv_start/z_dv_end from ``geometry.decay_volume_charged``; the straw annulus from
    ``geometry.straw1`` (``geometry.straw4`` must have the same radii); z_magnet is the centre of
    ``geometry.magnet.z_start`` .. ``z_end`` (thin-kick plane).
    """
    dv = _get(cfg, "geometry.decay_volume_charged")
    if not (isinstance(dv, (list, tuple)) and len(dv) == 2 and all(isinstance(v, (int, float)) for v in dv)):
        raise ConfigError(f"geometry.decay_volume_charged must be [z_start, z_end], not {dv!r}")
    if not dv[0] < dv[1]:
        raise ConfigError(f"geometry.decay_volume_charged must be increasing, not {dv!r}")
    for key in ("r_min", "r_max"):
        a, b = _num(cfg, f"geometry.straw1.{key}"), _num(cfg, f"geometry.straw4.{key}")
        if a != b:
            raise ConfigError(
                f"geometry.straw1.{key} = {a} differs from geometry.straw4.{key} = {b}; "
                "the acceptance model uses one straw annulus"
            )
    z0, z1 = _num(cfg, "geometry.magnet.z_start"), _num(cfg, "geometry.magnet.z_end")
    if not z0 <= z1:
        raise ConfigError(f"geometry.magnet: z_start {z0} must not exceed z_end {z1}")
    return Geometry(
        z_prod=_num(cfg, "geometry.production_z"),
        y_prod=_num(cfg, "geometry.production_y"),
        z_dv_start=float(dv[0]),
        z_dv_end=float(dv[1]),
        z_straw1=_num(cfg, "geometry.straw1.z"),
        z_straw4=_num(cfg, "geometry.straw4.z"),
        straw_r_min=_num(cfg, "geometry.straw1.r_min"),
        straw_r_max=_num(cfg, "geometry.straw1.r_max"),
        z_magnet=0.5 * (z0 + z1),
        pt_kick=_num(cfg, "geometry.magnet.pt_kick_gev"),
        z_lkr=_num(cfg, "geometry.lkr.z"),
        lkr_half_width=_num(cfg, "geometry.lkr.half_width"),
        lkr_octagon_sum=_num(cfg, "geometry.lkr.octagon_sum"),
        lkr_r_min=_num(cfg, "geometry.lkr.r_min"),
        z_muv3=_num(cfg, "geometry.muv3.z"),
        muv3_half_width=_num(cfg, "geometry.muv3.half_width"),
        muv3_r_min=_num(cfg, "geometry.muv3.r_min"),
    )


def _check_channel(channel: str) -> None:
    if channel not in DAUGHTER_MASSES:
        raise InputError(f"unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}")


def selection_from_config(cfg: Mapping, channel: str) -> Selection:
    """The :class:`Selection` of ``channel`` ("ee" | "mumu" | "pipi") from ``[selection.<channel>]``."""
    _check_channel(channel)
    detector = _get(cfg, f"selection.{channel}.detector")
    if detector not in ("lkr", "muv3"):
        raise ConfigError(f"selection.{channel}.detector must be 'lkr' or 'muv3', not {detector!r}")
    return Selection(
        m_daughter=DAUGHTER_MASSES[channel],
        min_energy=_num(cfg, f"selection.{channel}.min_energy_gev"),
        min_separation=_num(cfg, f"selection.{channel}.min_separation_m"),
        min_radius=_num(cfg, f"selection.{channel}.min_radius_m"),
        detector=detector,
    )


# ------------------------------------------------------------------------------------------------
# building
# ------------------------------------------------------------------------------------------------
def default_grids(channel: str) -> dict[str, np.ndarray]:
    """Default log10 m (40 points, 2 m_d x 1.001 .. 2 GeV), log10 p (36, 1 .. 400 GeV),
    log10 theta (36, 1e-5 .. 10^-1.8 ~ 1.6e-2 rad: NA62's acceptance is exactly zero above ~6e-3 rad,
    and the 0.09-dex spacing resolves the drop between 4e-3 and 5.5e-3 rad)."""
    _check_channel(channel)
    m_thr = 2.0 * DAUGHTER_MASSES[channel] * 1.001
    return {
        "log10m": np.linspace(math.log10(m_thr), math.log10(2.0), 40),
        "log10p": np.linspace(0.0, math.log10(400.0), 36),
        "log10theta": np.linspace(-5.0, -1.8, 36),
    }


def _grid(name: str, value, default: np.ndarray) -> np.ndarray:
    g = default if value is None else np.asarray(value, dtype=np.float64)
    g = np.atleast_1d(np.asarray(g, dtype=np.float64))
    if g.ndim != 1 or g.size < 1 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0):
        raise InputError(f"{name} must be a finite, strictly increasing 1-D sequence, not {value!r}")
    return g


def _kernel_angular(channel: str, angular: str) -> str:
    if angular == "vector":
        return "vector_scalars" if channel in _SCALAR_DAUGHTERS else "vector"
    if angular in ("isotropic", "vector_scalars"):
        return angular
    raise InputError(f"angular must be 'vector' or 'isotropic' (or 'vector_scalars'), not {angular!r}")


def table_settings(
    geom: Geometry,
    sel: Selection,
    channel: str,
    log10m: np.ndarray,
    log10p: np.ndarray,
    log10theta: np.ndarray,
    z_edges: np.ndarray,
    n_mc: int,
    seed: int,
    angular: str,
    sampling: str,
    dtype: str,
) -> dict:
    """Everything that determines a table's numbers, as the cache settings (plain JSON types)."""
    return {
        "channel": channel,
        "geometry": {k: float(v) for k, v in dataclasses.asdict(geom).items()},
        "selection": {
            "m_daughter": float(sel.m_daughter),
            "min_energy": float(sel.min_energy),
            "min_separation": float(sel.min_separation),
            "min_radius": float(sel.min_radius),
            "detector": sel.detector,
        },
        "log10m": [float(v) for v in log10m],
        "log10p": [float(v) for v in log10p],
        "log10theta": [float(v) for v in log10theta],
        "z_edges": [float(v) for v in z_edges],
        "n_mc": int(n_mc),
        "seed": int(seed),
        "angular": angular,
        "sampling": sampling,
        "dtype": dtype,
        "algorithm": _ALGORITHM,
    }


def _compute_values(geom, sel, log10m, log10p, log10theta, z_edges, n_mc, seed, angular, sampling):
    """values (Nm, Np, Nt, Nz): one jitted, broadcast kernel call per mass (compiled once)."""
    dtype = jnp.result_type(float)
    key = jax.random.PRNGKey(seed)
    p = jnp.asarray(10.0**log10p, dtype)[:, None, None]
    theta = jnp.asarray(10.0**log10theta, dtype)[:, None]
    z = jnp.asarray(0.5 * (z_edges[1:] + z_edges[:-1]), dtype)
    width = jnp.asarray(np.diff(z_edges), dtype)
    out = np.empty((log10m.size, log10p.size, log10theta.size, z_edges.size - 1), dtype=np.float64)
    for i, lm in enumerate(log10m):
        m = jnp.asarray(10.0**lm, dtype)
        out[i] = np.asarray(
            acceptance_mc(geom, sel, m, p, theta, z, key, n_mc, z_width=width, angular=angular, sampling=sampling)
        )
    return out


def build_acceptance_table(
    cfg: Mapping,
    channel: str,
    *,
    log10m=None,
    log10p=None,
    log10theta=None,
    n_z: int = 32,
    n_mc: int = 256,
    seed: int = 0,
    angular: str = "vector",
    z_range=None,
    cache: bool = True,
    sampling: str = "qmc",
) -> AcceptanceTable:
    """The acceptance table of ``channel`` for the experiment ``cfg`` (parsed TOML dict), cached.

    Grids default to :func:`default_grids`; z: ``n_z`` uniform cells over ``z_range`` (default the
    charged decay volume ``geometry.decay_volume_charged``).  ``angular="vector"`` is the decay of a
    transversely polarised vector (1 + cos^2 + (4 m_l^2/m^2) sin^2 for lepton pairs, sin^2 for pi+ pi-);
    "isotropic" for spin-0 FIPs.  With ``cache=True`` the table is stored under
    ``fipscan.cache.get_or_build("acceptance", settings, SCHEMA_VERSION, ...)`` and later calls with the
    same settings read it back without recomputing.  Computed in the process' float precision (float64
    when jax_enable_x64 is on), which is part of the key.
    """
    _check_channel(channel)
    geom = geometry_from_config(cfg)
    sel = selection_from_config(cfg, channel)
    defaults = default_grids(channel)
    log10m = _grid("log10m", log10m, defaults["log10m"])
    log10p = _grid("log10p", log10p, defaults["log10p"])
    log10theta = _grid("log10theta", log10theta, defaults["log10theta"])
    if isinstance(n_z, bool) or not isinstance(n_z, (int, np.integer)) or n_z < 1:
        raise InputError(f"n_z must be a positive integer, not {n_z!r}")
    if isinstance(n_mc, bool) or not isinstance(n_mc, (int, np.integer)) or n_mc < 1:
        raise InputError(f"n_mc must be a positive integer, not {n_mc!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer, not {seed!r}")
    if sampling not in ("qmc", "random"):
        raise InputError(f"sampling must be 'qmc' or 'random', not {sampling!r}")
    kernel_angular = _kernel_angular(channel, angular)
    if z_range is None:
        z_range = (geom.z_dv_start, geom.z_dv_end)
    try:
        z0, z1 = (float(v) for v in z_range)
    except (TypeError, ValueError) as exc:
        raise InputError(f"z_range must be (z_start, z_end) in metres, not {z_range!r}") from exc
    if not (math.isfinite(z0) and math.isfinite(z1) and z0 < z1):
        raise InputError(f"z_range must be finite and increasing, not {z_range!r}")
    z_edges = np.linspace(z0, z1, int(n_z) + 1)
    dtype = str(jnp.dtype(jnp.result_type(float)))
    args = (geom, sel, log10m, log10p, log10theta, z_edges, int(n_mc), int(seed), kernel_angular, sampling)

    def compute() -> np.ndarray:
        t0 = time.perf_counter()
        values = _compute_values(*args)
        log.info(
            "acceptance table %s %s built in %.1f s (n_mc=%d)", channel, values.shape, time.perf_counter() - t0, n_mc
        )
        return values

    if not cache:
        return AcceptanceTable(channel, log10m, log10p, log10theta, z_edges, compute())

    import h5py  # the cache's file format

    from fipscan.cache import get_or_build

    settings = table_settings(
        geom, sel, channel, log10m, log10p, log10theta, z_edges, n_mc, seed, kernel_angular, sampling, dtype
    )

    def build(f: h5py.File) -> None:
        values = compute()
        f.create_dataset("log10m", data=log10m)
        f.create_dataset("log10p", data=log10p)
        f.create_dataset("log10theta", data=log10theta)
        f.create_dataset("z_edges", data=z_edges)
        f.create_dataset("values", data=values, compression="gzip", shuffle=True)

    path = get_or_build(_KIND, settings, SCHEMA_VERSION, build, attrs={"channel": channel})
    return load_acceptance_table(path)


def load_acceptance_table(path) -> AcceptanceTable:
    """Read an acceptance table written by :func:`build_acceptance_table` (a verified cache entry)."""
    import h5py

    with h5py.File(path, "r") as f:
        ch = f.attrs["channel"]
        channel = ch.decode() if isinstance(ch, bytes) else str(ch)
        return AcceptanceTable(
            channel=channel,
            log10m=np.asarray(f["log10m"][()], dtype=np.float64),
            log10p=np.asarray(f["log10p"][()], dtype=np.float64),
            log10theta=np.asarray(f["log10theta"][()], dtype=np.float64),
            z_edges=np.asarray(f["z_edges"][()], dtype=np.float64),
            values=np.asarray(f["values"][()], dtype=np.float64),
        )
