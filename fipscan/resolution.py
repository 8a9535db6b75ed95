"""Mass-resolution tables: the reconstructed FIP mass from its daughters as the detector measures them.

For one registered final state at one experiment, three tables on the grid of the acceptance table
(fipscan.acceptance: log10 m, log10 p, log10 theta points and z cells) hold, from the *same* Monte Carlo
events (kernel :func:`fipscan.kernels.acceptance.mass_resolution_mc`):

* ``acceptance``: A, the fraction of decays in the cell that pass the selection;
* ``first``:  A <dm>   [GeV],
* ``second``: A <dm^2> [GeV^2],

with dm = m_reco - m over the accepted decays (phase-space weighted for three and four bodies).  The
three are linear in the events, so a yield-weighted sum over cells (sum_c N_c X_c / A_c ... or, as the
yield tables do, sum_c w_c X_c with the production weights w_c) stays a sum; :func:`mass_resolution`
turns sums into the mean shift and the resolution sigma.  The detector resolutions come from the
experiment's ``[resolution]`` table (:func:`resolution_parameters`; NA62: JINST 12 (2017) P05025).

The ``acceptance`` table comes from the DecaySpec path of the kernel for every final state; for the
two-track final states (pipi, kk, ee, mumu), whose acceptance table (fipscan.acceptance) uses the
two-track path with its own sampling, it agrees with that table within Monte Carlo noise only: use the
acceptance table for yields and this one to normalise the moments.

Tables are built once per configuration and cached (:func:`fipscan.cache.get_or_build`, kind
``"resolution"``): every input that changes the numbers (geometry, selection, final state, resolution
parameters, grids, n_mc, seed, angular distribution, sampling, float precision, schema and algorithm
tag) is part of the key.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.acceptance import AcceptanceTable, _cell_overlaps, _plan, read_tables, table_settings, write_grids
from fipscan.errors import ConfigError, InputError
from fipscan.kernels.acceptance import DecaySpec, Resolution, mass_resolution_mc

__all__ = [
    "ResolutionTable",
    "SCHEMA_VERSION",
    "resolution_parameters",
    "build_resolution_table",
    "load_resolution_table",
    "mass_resolution",
]

log = logging.getLogger("fipscan.resolution")

SCHEMA_VERSION = 1
_KIND = "resolution"
# the algorithm behind the numbers (bump when the smearing, the mass formula or the sampling changes)
_ALGORITHM = ("DecaySpec events of the acceptance MC; |p| (tracks) and E (photons) Gaussian-smeared, clipped at 0, "
              "directions exact unless straw_angle; pi0/eta pair scaled to the nominal mass; i.i.d. normals from "
              "fold_in(key, 'mass') via ndtri of 23-bit uniforms; v1")


@dataclasses.dataclass(frozen=True, eq=False)
class ResolutionTable:
    """Acceptance and mass-error moments of one final state on one grid (module docstring).

    acceptance: A (values in [0, 1]); first: A <dm> [GeV]; second: A <dm^2> [GeV^2]; three
    :class:`fipscan.acceptance.AcceptanceTable` with identical grids (log10m (Nm,), log10p (Np,),
    log10theta (Nt,), z_edges (Nz+1,); values (Nm, Np, Nt, Nz)), so each interpolates like an acceptance
    table (``interpolate``, ``at_mass``, ``on_points``).
    """

    acceptance: AcceptanceTable
    first: AcceptanceTable
    second: AcceptanceTable

    def __post_init__(self):
        a = self.acceptance
        for name in ("first", "second"):
            t = getattr(self, name)
            same = (t.channel == a.channel and t.values.shape == a.values.shape
                    and all(np.array_equal(getattr(t, g), getattr(a, g))
                            for g in ("log10m", "log10p", "log10theta", "z_edges")))
            if not same:
                raise InputError(f"ResolutionTable.{name} must have the channel and grids of its acceptance")

    @property
    def channel(self) -> str:
        return self.acceptance.channel


def mass_resolution(acc_sum, first_sum, second_sum):
    """(mean shift [GeV], sigma [GeV]) of the reconstructed mass from sums of the three tables.

    acc_sum = sum A, first_sum = sum A <dm>, second_sum = sum A <dm^2> over any set of cells (with the
    same non-negative weights, e.g. production yields); arrays broadcast, the result has their broadcast
    shape and floating dtype.  mean = first/acc; sigma = sqrt(max(second/acc - mean^2, 0)) (the maximum
    guards the rounding of a difference of nearly equal numbers).  Where acc_sum <= 0 (nothing accepted)
    both are returned as 0, not NaN: callers mask those entries by acc_sum > 0.  jnp throughout (jit-able,
    finite gradients: double-where guards).
    """
    acc, first, second = jnp.broadcast_arrays(*(jnp.asarray(x) for x in (acc_sum, first_sum, second_sum)))
    dtype = jnp.result_type(acc, first, second, float)
    acc, first, second = (x.astype(dtype) for x in (acc, first, second))
    pos = acc > 0
    safe = jnp.where(pos, acc, jnp.ones_like(acc))
    mean = jnp.where(pos, first / safe, jnp.zeros_like(acc))
    var = jnp.where(pos, second / safe - mean * mean, jnp.zeros_like(acc))
    var_pos = var > 0
    sigma = jnp.where(var_pos, jnp.sqrt(jnp.where(var_pos, var, jnp.ones_like(var))), jnp.zeros_like(var))
    return mean, sigma


def resolution_parameters(experiment) -> Resolution:
    """The kernel's :class:`~fipscan.kernels.acceptance.Resolution` of ``experiment`` (an Experiment or its
    name) from its ``[resolution]`` table (fipscan.experiments.DetectorResolution; NA62: JINST 12 (2017)
    P05025).  ConfigError (one line, naming the experiment file) when the experiment has none.
    """
    from fipscan.experiments import load_experiment

    experiment = load_experiment(experiment)
    r = experiment.resolution
    if r is None:
        raise ConfigError(f"{experiment.source}: experiment {experiment.name} has no [resolution] table (detector "
                          "resolutions of the mass reconstruction); add one as in na62_bd.toml")
    return Resolution(
        straw_a=float(r.straw_momentum_constant),
        straw_b=float(r.straw_momentum_linear_per_gev),
        lkr_stochastic=float(r.lkr_stochastic),
        lkr_noise=float(r.lkr_noise_gev),
        lkr_constant=float(r.lkr_constant),
        straw_angle=float(r.straw_angle_rad),
        mass_constraint=bool(r.mass_constraint),
    )


def _resolution_settings(res: Resolution) -> dict:
    return {f.name: (bool(getattr(res, f.name)) if f.name == "mass_constraint" else float(getattr(res, f.name)))
            for f in dataclasses.fields(Resolution)}


def _plan_resolution(experiment, final_state, spin, angular, log10m, log10p, log10theta, z_edges, n_mc, seed,
                     sampling):
    """(final state, kernel arguments, resolution, DecaySpec, cache settings): the acceptance table's plan
    (so grids, geometry and selection agree exactly) with the DecaySpec path for every final state."""
    fs, args, acc_settings = _plan(experiment, final_state, spin, angular, log10m, log10p, log10theta, z_edges,
                                   n_mc, seed, sampling)
    res = resolution_parameters(experiment)
    geom, sel, _ = args[:3]
    decay = DecaySpec.from_daughters(fs.daughters)
    settings = table_settings(geom, sel, decay, fs.name, *args[3:], acc_settings["dtype"])
    settings["resolution"] = _resolution_settings(res)
    settings["resolution_algorithm"] = _ALGORITHM
    return fs, args, res, decay, settings


def _compute_moments(geom, sel, decay, res, log10m, log10p, log10theta, z_edges, volume, n_mc, seed, angular,
                     sampling):
    """(A, A <dm>, A <dm^2>), each (Nm, Np, Nt, Nz): one jitted kernel call per mass (compiled once), a cell
    averaged over its overlap with the decay volume and weighted by the overlap fraction (as
    fipscan.acceptance does), which keeps the three linear."""
    dtype = jnp.result_type(float)
    key = jax.random.PRNGKey(seed)
    p = jnp.asarray(10.0**log10p, dtype)[:, None, None]
    theta = jnp.asarray(10.0**log10theta, dtype)[:, None]
    centre, width, frac = _cell_overlaps(np.asarray(z_edges, float), volume)
    z = jnp.asarray(centre, dtype)
    width = jnp.asarray(width, dtype)
    shape = (log10m.size, log10p.size, log10theta.size, z_edges.size - 1)
    out = [np.empty(shape, dtype=np.float64) for _ in range(3)]
    for i, lm in enumerate(log10m):
        m = jnp.asarray(10.0**lm, dtype)
        moments = mass_resolution_mc(geom, sel, m, p, theta, z, key, n_mc, res, z_width=width, angular=angular,
                                     sampling=sampling, decay=decay)
        for o, v in zip(out, moments):
            o[i] = np.asarray(v)
    if np.any(frac < 1.0):
        for o in out:
            o *= frac
    return tuple(out)


def build_resolution_table(
    experiment,
    final_state: str,
    *,
    spin: int = 1,
    angular: str | None = None,
    log10m=None,
    log10p=None,
    log10theta=None,
    z_edges=None,
    n_mc: int | None = None,
    seed: int = 0,
    cache: bool = True,
    sampling: str = "qmc",
) -> ResolutionTable:
    """The :class:`ResolutionTable` of ``final_state`` at ``experiment`` (an Experiment or its name), cached.

    Arguments, defaults and grids exactly as :func:`fipscan.acceptance.build_acceptance_table` (the same
    plan: without overrides the grids equal that table's); the resolutions from the experiment's
    [resolution] table (:func:`resolution_parameters`).  Values (Nm, Np, Nt, Nz): A, A <dm> [GeV],
    A <dm^2> [GeV^2] (module docstring; kernel :func:`fipscan.kernels.acceptance.mass_resolution_mc`,
    computed in the process' float precision, part of the key).  With ``cache=True`` the table is stored
    under ``fipscan.cache.get_or_build("resolution", settings, SCHEMA_VERSION, ...)`` (atomic HDF5) and read
    back by later calls with the same settings.  ConfigError when the experiment has no [resolution] table
    or no selection for the final state; InputError for malformed grids, n_mc, seed or sampling.
    """
    fs, args, res, decay, settings = _plan_resolution(experiment, final_state, spin, angular, log10m, log10p,
                                                      log10theta, z_edges, n_mc, seed, sampling)
    geom, sel = args[:2]
    log10m, log10p, log10theta, z_edges = args[3:7]
    n_mc = args[8]

    def compute():
        t0 = time.perf_counter()
        moments = _compute_moments(geom, sel, decay, res, *args[3:])
        log.info("resolution table %s %s built in %.1f s (n_mc=%d)", fs.name, moments[0].shape,
                 time.perf_counter() - t0, n_mc)
        return moments

    def table(moments) -> ResolutionTable:
        return ResolutionTable(*(AcceptanceTable(fs.name, log10m, log10p, log10theta, z_edges, v) for v in moments))

    if not cache:
        return table(compute())

    import h5py  # the cache's file format

    from fipscan.cache import get_or_build

    def build(f: h5py.File) -> None:
        write_grids(f, log10m, log10p, log10theta, z_edges, dict(zip(_TABLES, compute())))

    # read through the verified handle: a concurrent 'fipscan cache clear' cannot pull the file away
    return get_or_build(_KIND, settings, SCHEMA_VERSION, build, attrs={"channel": fs.name}, read=_read_table)


def load_resolution_table(path) -> ResolutionTable:
    """Read a resolution table written by :func:`build_resolution_table` (a verified cache entry)."""
    import h5py

    with h5py.File(path, "r") as f:
        return _read_table(f)


#: the value arrays of a resolution table file, in ResolutionTable's field order
_TABLES = ("acceptance", "first", "second")


def _read_table(f) -> ResolutionTable:
    return ResolutionTable(*read_tables(f, _TABLES))
