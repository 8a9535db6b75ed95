"""The Search protocol: what the contour code (per-mass roots, tracing, differentiable features) consumes.

A search is the expected signal count N(m, g) of one experiment and one way of looking for a FIP
(a beam dump's decay volume, a kaon decay-in-flight mode, ...) at the mass nodes it was built for,
as a function of the coupling g and the number of protons on target.  The contour code never reads
tables: it asks a Search for log N.  Units: masses in GeV, couplings dimensionless (log g is the
natural log), pot the number of protons on target; N is in events.

Implementing a new search (e.g. kaon decays in flight) means providing

* ``masses``: (Nm,) strictly increasing mass nodes [GeV];
* ``log_events_grid(log_g, pot, *, finite=False)``: log N on the (Nm, Ng) grid of the mass nodes and
  the log couplings ``log_g`` (Ng,) -- -inf where N underflows or vanishes; ``finite=True`` asks
  for a log that stays finite where N underflows (when the search can give one; otherwise the same);
* ``log_events_at(i, log_g, pot)``: log N at mass node i (a Python int or a traced integer: callers
  vmap over masses) and scalar log_g, differentiable in log_g (forward mode, jvp: Newton roots use
  d log N / d log g), jittable;
* ``surface(pot, mass_range=None)``: the continuous surface log N(x = ln m, y = ln g) between the
  nodes, a :class:`fipscan.contour.differentiable.YieldSurface` (``make_surface`` builds one from
  per-mass ingredients), optionally restricted to ``mass_range`` = (lo, hi) [GeV], whose ends may lie
  between nodes where a threshold bounds the signal (the surface is then constant in m between the
  threshold and the nearest node);
* ``signal_ranges()``: the mass intervals on which N is not identically zero, as
  :class:`SignalRange` (lo, hi [GeV] and whether each end is a kinematic threshold, where N drops
  to exactly 0, or just the end of the tabulated masses).  The tracer closes a region bounded by a
  threshold with a vertical edge at that mass.

A search must be a JAX pytree (its arrays leaves, the rest static) so that it can be passed to jitted
functions.  :func:`fipscan.searches.as_search` turns yield tables into a
:class:`fipscan.searches.beam_dump.BeamDumpSearch` and returns a Search unchanged.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["Search", "SignalRange"]


class SignalRange(NamedTuple):
    """Masses [lo, hi] [GeV] where the signal is not identically zero; ``lo_threshold`` /
    ``hi_threshold``: that end is a kinematic threshold (N = 0 beyond it), not the end of the masses."""

    lo: float
    hi: float
    lo_threshold: bool = False
    hi_threshold: bool = False


@runtime_checkable
class Search(Protocol):
    """Expected signal events log N(m, g) of one search (module docstring: shapes, units, contract)."""

    @property
    def masses(self):
        """(Nm,) strictly increasing mass nodes [GeV]."""
        ...

    def log_events_grid(self, log_g, pot, *, finite: bool = False):
        """log N on the (Nm, Ng) grid of the mass nodes and log couplings ``log_g`` (Ng,) at ``pot``
        protons on target; -inf where N underflows (``finite=True``: finite there when possible)."""
        ...

    def log_events_at(self, i, log_g, pot):
        """log N at mass node ``i`` (int or traced integer) and scalar ``log_g``; differentiable in log_g."""
        ...

    def surface(self, pot, mass_range=None):
        """The continuous yield surface (a YieldSurface) over the nodes, or over ``mass_range`` [GeV]."""
        ...

    def signal_ranges(self) -> tuple[SignalRange, ...]:
        """Mass intervals where N is not identically zero, with their threshold ends."""
        ...
