"""Spread a scan's mass axis over every device: one host or many (``jax.distributed``).

Each N(m, g) depends on its own mass's table only, so the (Nm, Ng) grid splits along the masses
with no communication: the weights (Nm, Nb, Nz) and log inverse decay lengths (Nm, Nb) are placed
with ``NamedSharding(Mesh(devices, ("mass",)), PartitionSpec("mass"))``, the coupling axis and the
decay cells are replicated, and every device runs the single-device kernel
(``fipscan.kernels.yields``) on its block under ``jax.shard_map``.  The mass axis is padded with
empty masses (zero weights, which give N = 0 exactly) to a multiple of the device count and cut
back afterwards, so the numbers equal the single-device ones.

Multi-host: call ``jax.distributed.initialize()`` in every process first (see bench/README.md);
``jax.devices()`` then lists the devices of all processes, the inputs are built with
``jax.make_array_from_callback`` (each process supplies only its own blocks, from the same tables),
and ``gather=True`` brings the full grid to every process.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from fipscan.kernels import yields as kyields

__all__ = ["mass_mesh", "shard_masses", "events_grid_sharded", "MASS_AXIS"]

#: name of the mesh axis the masses are split over
MASS_AXIS = "mass"


def mass_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-dimensional mesh with axis ``"mass"`` over ``devices`` (default: all, of all processes)."""
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("no devices to build a mesh on")
    return Mesh(np.asarray(devices, dtype=object), (MASS_AXIS,))


def _padded_global(host, n_pad, mesh):
    """``host`` (Nm, ...) padded with zeros to Nm + n_pad rows, as a global array sharded by rows.

    ``make_array_from_callback`` asks each process only for the blocks of its own devices, so the
    same code runs on one host and on many (each process holds the same, small, tables).
    """
    host = np.asarray(host)
    if n_pad:
        host = np.concatenate([host, np.zeros((n_pad,) + host.shape[1:], host.dtype)])
    spec = P(MASS_AXIS, *([None] * (host.ndim - 1)))
    return jax.make_array_from_callback(host.shape, NamedSharding(mesh, spec), lambda idx: host[idx])


def shard_masses(weights, log_s1, mesh: Mesh):
    """(weights, log_s1, n_masses) with the mass axis padded to a multiple of the mesh size and sharded."""
    nm = int(np.shape(weights)[0])
    n_dev = mesh.devices.size
    pad = (-nm) % n_dev
    return _padded_global(weights, pad, mesh), _padded_global(log_s1, pad, mesh), nm


def _replicated(x, mesh):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, NamedSharding(mesh, P()), lambda idx: x[idx])


def events_grid_sharded(tables, log_g, pot, *, devices=None, chunk=16, dlogg=False, gather=True,
                        uniform=None):
    """N(m, g) on the (Nm, Ng) grid with the masses split over ``devices`` (default: all).

    tables: a ``fipscan.yields.YieldTables`` (or any object with ``weights`` (Nm, Nb, Nz),
    ``log_s1`` (Nm, Nb), ``a_edges`` (Nz + 1,) and optional ``n_prod``/``n_width``; tables with several
    production powers, YieldTables.power_groups, are one pass per power, summed); log_g (Ng,)
    log couplings; pot: protons on target.  The same numbers as
    ``fipscan.kernels.yields.events_grid`` on one device (every point is the same expression;
    tests/test_sharding.py checks it on 4 CPU devices).  dlogg=True returns (N, dN/dlog g) from
    one forward-mode pass.  gather=True returns numpy arrays holding the full grid on every
    process; gather=False returns the global (mass-sharded) jax arrays.  chunk: at most this many
    masses per step on each device (None: the memory budget alone, see kernels.yields.plan_steps).
    The tables pass through host memory once to be laid out over the devices (set-up, not the
    hot loop).
    """
    groups = tables.power_groups() if hasattr(tables, "power_groups") else ()
    if len(groups) > 1:  # production channels with different coupling powers: one pass per power, summed
        from types import SimpleNamespace

        parts = [events_grid_sharded(SimpleNamespace(weights=W, log_s1=tables.log_s1, a_edges=tables.a_edges,
                                                     n_prod=n, n_width=getattr(tables, "n_width", 2.0)),
                                     log_g, pot, devices=devices, chunk=chunk, dlogg=dlogg, gather=gather,
                                     uniform=uniform) for n, W in groups]
        return tuple(sum(p[k] for p in parts) for k in range(2)) if dlogg else sum(parts)
    mesh = mass_mesh(devices)
    weights = np.asarray(tables.weights)
    log_s1 = np.asarray(tables.log_s1)
    a_edges = np.asarray(tables.a_edges)
    n_prod = float(getattr(tables, "n_prod", 2.0))
    n_width = float(getattr(tables, "n_width", 2.0))
    dtype = weights.dtype
    log_g = np.asarray(log_g, dtype)
    if log_g.ndim != 1:
        raise ValueError(f"log_g must be one-dimensional, got shape {log_g.shape}")
    uniform = kyields.uniform_cells(a_edges) if uniform is None else bool(uniform)
    w_g, s_g, nm = shard_masses(weights, log_s1, mesh)
    per_device = w_g.shape[0] // mesh.devices.size
    m_step, g_step = kyields.plan_steps(per_device, log_g.size, weights.shape[1], dtype.itemsize,
                                        per_device if chunk is None else chunk)
    static = (n_prod, n_width, m_step, g_step, uniform)
    fn = _sharded_kernel(tuple(mesh.devices.flat), static, bool(dlogg))
    out = fn(w_g, s_g, _replicated(log_g, mesh), _replicated(a_edges, mesh),
             _replicated(np.asarray(pot, dtype), mesh))
    outs = out if dlogg else (out,)
    if gather:
        outs = tuple(_gather(o)[:nm] for o in outs)
    else:
        outs = tuple(jax.jit(lambda o: o[:nm])(o) for o in outs)
    return outs if dlogg else outs[0]


@functools.lru_cache(maxsize=32)
def _sharded_kernel(devices, static, dlogg):
    """The jitted shard_map of the single-device kernel, built once per (devices, static arguments)."""
    mesh = mass_mesh(devices)

    def local(w, ls, lg, a, p):
        if dlogg:
            return kyields._events_grid_and_dlogg_impl(lg, w, ls, a, p, *static)
        return kyields._events_grid_impl(lg, w, ls, a, p, *static)

    out_spec = (P(MASS_AXIS, None), P(MASS_AXIS, None)) if dlogg else P(MASS_AXIS, None)
    return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(P(MASS_AXIS), P(MASS_AXIS), P(), P(), P()),
                                 out_specs=out_spec))


def _gather(x):
    """The full array on every process (a plain numpy conversion on one host)."""
    if jax.process_count() == 1:
        return np.asarray(x)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))
