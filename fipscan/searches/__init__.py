"""Searches: what the contour code consumes, log N on (mass, coupling), one module per kind of search.

* :mod:`~fipscan.searches.base`: the :class:`Search` protocol (shapes, units, contract) and
  :class:`SignalRange`;
* :mod:`~fipscan.searches.beam_dump`: :class:`BeamDumpSearch`, FIPs decaying in a beam dump's decay
  volume, from the yield tables of ``fipscan.yields.precompute``.

:func:`as_search` turns yield tables into a BeamDumpSearch and returns a Search unchanged.
"""

from .base import Search, SignalRange
from .beam_dump import BeamDumpSearch, as_search

__all__ = ["Search", "SignalRange", "BeamDumpSearch", "as_search"]
