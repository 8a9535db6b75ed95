"""A beam-dump search: FIPs produced in the dump that decay in a decay volume, from yield tables.

:class:`BeamDumpSearch` implements :class:`fipscan.searches.base.Search` around the coupling-independent
yield tables of :func:`fipscan.yields.precompute` (fields masses, weights, log_s1, a_edges, n_prod,
n_width, channels): N(m, g) = N_POT g^n_prod sum_bk W_bk P_k(s_b), s_b = s1_b g^n_width, evaluated by
the fused kernels of :mod:`fipscan.kernels.yields`.  Tables whose production channels scale with
different powers of the coupling (YieldTables.power_groups) add one term per further power,
N = N_POT sum_n g^n sum_bk W^(n)_bk P_k(s_b) (``extra_weights``, ``extra_n_prod``); a single power is
one kernel call as before.  The decay-volume design of
:mod:`fipscan.contour.design` also reads the weights and cell edges (it moves the decay volume).

Kinematic thresholds: a mass node whose weights are all zero has N = 0 at every coupling.  Between a
zero node and a non-zero one the signal switches on at the lowest decay threshold of the tables'
final states (``fipscan.final_states``: the sum of the daughter masses) that lies between them, or at
the non-zero node itself when none does (e.g. a production channel closing).  :meth:`signal_ranges`
reports those intervals, and :meth:`surface` with a ``mass_range`` extends the nearest node's
ingredients as constants to a threshold between nodes, so that the traced region has its vertical
edge at the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.errors import InputError
from fipscan.kernels import yields as kyields

from .base import Search, SignalRange

__all__ = ["BeamDumpSearch", "as_search", "final_state_thresholds"]

#: the fields a yield-table object must have to become a BeamDumpSearch
TABLE_FIELDS = ("masses", "weights", "log_s1", "a_edges")


def final_state_thresholds(channels) -> tuple[float, ...]:
    """Kinematic thresholds [GeV] (sum of the daughter masses) of the registered final states among
    ``channels``, sorted; names the registry does not know are skipped (their threshold is then found
    only at the mass nodes)."""
    try:
        from fipscan.final_states import get_final_state
    except ImportError:  # pragma: no cover - the registry is part of fipscan
        return ()
    out = []
    for name in channels or ():
        try:
            out.append(float(get_final_state(str(name)).threshold))
        except (InputError, KeyError, ValueError, AttributeError):
            continue
    return tuple(sorted(set(out)))


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class BeamDumpSearch:
    """A :class:`~fipscan.searches.base.Search` over beam-dump yield tables (module docstring).

    masses (Nm,) [GeV] increasing; weights (Nm, Nb, Nz) FIPs per POT at unit coupling x acceptance x
    BR x efficiency per (momentum bin, decay cell); log_s1 (Nm, Nb) log inverse decay length [1/m] at
    unit coupling; a_edges (Nz + 1,) decay-cell edges [m] from the production point (array leaves).
    Static: n_prod, n_width (powers of the coupling in production and width), channels (final
    states), thresholds (their kinematic thresholds [GeV]), uniform_cells (equal cell widths: the
    fast kernel path).  extra_weights (tuple of (Nm, Nb, Nz), leaves) and extra_n_prod (static): the
    weights of production channels that scale with other powers of the coupling (empty for most
    models).  Build it with :meth:`from_tables` or :func:`as_search`.
    """

    masses: jax.Array
    weights: jax.Array
    log_s1: jax.Array
    a_edges: jax.Array
    n_prod: float = field(metadata=dict(static=True), default=2.0)
    n_width: float = field(metadata=dict(static=True), default=2.0)
    channels: tuple[str, ...] = field(metadata=dict(static=True), default=())
    thresholds: tuple[float, ...] = field(metadata=dict(static=True), default=())
    uniform_cells: bool = field(metadata=dict(static=True), default=False)
    extra_weights: tuple = ()
    extra_n_prod: tuple[float, ...] = field(metadata=dict(static=True), default=())

    @classmethod
    def from_tables(cls, tables) -> "BeamDumpSearch":
        """The search of a YieldTables (or any object with its fields masses, weights, log_s1, a_edges,
        n_prod, n_width and optionally channels)."""
        missing = [f for f in TABLE_FIELDS if not hasattr(tables, f)]
        if missing:
            raise InputError(f"yield tables need the fields {', '.join(TABLE_FIELDS)}; missing {', '.join(missing)}")
        channels = tuple(getattr(tables, "channels", ()) or ())
        groups = (tables.power_groups() if hasattr(tables, "power_groups")
                  else ((float(getattr(tables, "n_prod", 2.0)), tables.weights),))
        (n_prod, weights), extra = groups[0], groups[1:]
        return cls(masses=tables.masses, weights=weights, log_s1=tables.log_s1, a_edges=tables.a_edges,
                   n_prod=float(n_prod), n_width=float(getattr(tables, "n_width", 2.0)),
                   channels=channels, thresholds=final_state_thresholds(channels),
                   uniform_cells=bool(kyields.uniform_cells(tables.a_edges)),
                   extra_weights=tuple(W for _, W in extra), extra_n_prod=tuple(float(n) for n, _ in extra))

    def groups(self) -> tuple:
        """((n_prod, weights), ...) of every power group, the main one first."""
        return ((self.n_prod, self.weights), *zip(self.extra_n_prod, self.extra_weights))

    @property
    def dtype(self):
        return self.weights.dtype

    def _log_pot(self, pot):
        return jnp.log(jnp.asarray(pot, self.weights.dtype))

    # ---- the Search protocol -----------------------------------------------------------------------
    def log_events_grid(self, log_g, pot, *, finite=False, chunk=16):
        """log N on the (Nm, Ng) grid.  finite=False: the log of the plain grid kernel (-inf where N
        underflows; ~5x faster); finite=True: the log kernel (finite where N underflows)."""
        log_g = jnp.asarray(log_g)
        if finite:
            return kyields.sum_power_terms((kyields.log_events_grid(log_g, W, self.log_s1, self.a_edges,
                                                                    self._log_pot(pot), n, self.n_width)
                                            for n, W in self.groups()), log=True)
        return jnp.log(kyields.sum_power_terms(kyields.events_grid(log_g, W, self.log_s1, self.a_edges, pot, n,
                                                                   self.n_width, chunk)
                                               for n, W in self.groups()))

    def log_events_at(self, i, log_g, pot):
        """log N at mass node ``i`` (int or traced integer) and scalar ``log_g`` (the fast log kernel;
        differentiable in log_g, finite where N underflows)."""
        log_g = jnp.asarray(log_g)
        return kyields.sum_power_terms((kyields.log_events_at(log_g[None], W[i][None], self.log_s1[i][None],
                                                              self.a_edges, self._log_pot(pot), n, self.n_width,
                                                              uniform=self.uniform_cells)[0]
                                        for n, W in self.groups()), log=True)

    def surface(self, pot, mass_range=None):
        """The continuous yield surface (fipscan.contour.differentiable.make_surface) at ``pot``.

        mass_range: (lo, hi) [GeV] restricts it to the nodes inside; an end that is not a node gets a
        node with the ingredients of the nearest node inside (constant in m up to a threshold)."""
        from fipscan.contour.differentiable import make_surface

        masses = np.asarray(self.masses, float)
        if np.any(np.diff(masses) <= 0):
            raise InputError("the yield tables' masses must be strictly increasing for the yield surface")
        log_pot = self._log_pot(pot)
        extra = tuple(zip(self.extra_n_prod, self.extra_weights))
        if mass_range is None:
            return make_surface(self.masses, self.weights, self.log_s1, self.a_edges, log_pot,
                                self.n_prod, self.n_width, extra=extra)
        lo, hi = (float(v) for v in mass_range)
        rel = 1e-12
        idx = np.nonzero((masses >= lo * (1 - rel)) & (masses <= hi * (1 + rel)))[0]
        if idx.size == 0 or not lo < hi:
            raise InputError(f"no mass node in [{lo:.6g}, {hi:.6g}] GeV for the yield surface")
        pick = list(idx)
        m_nodes = list(masses[idx])
        if lo < masses[idx[0]] * (1 - rel):  # threshold below the first node: constant continuation
            pick.insert(0, idx[0])
            m_nodes.insert(0, lo)
        if hi > masses[idx[-1]] * (1 + rel):
            pick.append(idx[-1])
            m_nodes.append(hi)
        if len(pick) < 2:
            raise InputError(f"the yield surface on [{lo:.6g}, {hi:.6g}] GeV needs two mass nodes, has one")
        if len(pick) == masses.size and idx.size == masses.size:
            return make_surface(self.masses, self.weights, self.log_s1, self.a_edges, log_pot,
                                self.n_prod, self.n_width, extra=extra)
        pick = jnp.asarray(pick)
        return make_surface(jnp.asarray(m_nodes, self.masses.dtype), self.weights[pick], self.log_s1[pick],
                            self.a_edges, log_pot, self.n_prod, self.n_width,
                            extra=tuple((n, W[pick]) for n, W in extra))

    def signal_ranges(self) -> tuple[SignalRange, ...]:
        """Maximal runs of mass nodes with non-zero weights, each widened to the decay threshold that
        switches the signal on below its first node (module docstring)."""
        masses = np.asarray(self.masses, float)
        nonzero = np.any([np.asarray(jnp.any(W > 0, axis=(-2, -1))) for _, W in self.groups()], axis=0)
        out = []
        n = masses.size
        i = 0
        while i < n:
            if not nonzero[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and nonzero[j + 1]:
                j += 1
            lo, lo_thr = masses[i], False
            if i > 0:
                opening = [t for t in self.thresholds if masses[i - 1] < t < masses[i]]
                lo, lo_thr = (min(opening) if opening else masses[i]), True
            hi, hi_thr = masses[j], j < n - 1
            out.append(SignalRange(float(lo), float(hi), lo_thr, hi_thr))
            i = j + 1
        return tuple(out)


def as_search(obj) -> Search:
    """A Search for ``obj``: a Search is returned as it is; yield tables (fipscan.yields.YieldTables or
    anything with their fields masses, weights, log_s1, a_edges, n_prod, n_width) become a
    :class:`BeamDumpSearch`."""
    if isinstance(obj, BeamDumpSearch):
        return obj
    if all(hasattr(obj, f) for f in TABLE_FIELDS):
        return BeamDumpSearch.from_tables(obj)
    if isinstance(obj, Search):
        return obj
    raise InputError(f"expected yield tables or a Search (masses, log_events_grid, log_events_at, surface, "
                     f"signal_ranges), got {type(obj).__name__}")

