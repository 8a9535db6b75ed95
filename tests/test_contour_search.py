"""The Search protocol: the contour code reads yields only through it (as_search, BeamDumpSearch)."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.contour import contour_problem, per_mass_contour, surface_from_tables, trace_tables
from fipscan.contour.per_mass import log_events_grid
from fipscan.errors import InputError
from fipscan.searches import BeamDumpSearch, Search, SignalRange, as_search
from fipscan.testing import toy_tables

POT = 1e18
N_LIMIT = 2.3
COUPLINGS = (1e-10, 1e-2)
LOG_G = np.linspace(math.log(COUPLINGS[0]), math.log(COUPLINGS[1]), 64)


@pytest.fixture(scope="module")
def tables():
    return toy_tables(np.geomspace(0.01, 2.0, 24), n_p=16, n_z=8)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Wrapped:
    """A Search that is not a table (no weights field): only the protocol methods, delegated."""

    inner: BeamDumpSearch

    @property
    def masses(self):
        return self.inner.masses

    def log_events_grid(self, log_g, pot, *, finite=False):
        return self.inner.log_events_grid(log_g, pot, finite=finite)

    def log_events_at(self, i, log_g, pot):
        return self.inner.log_events_at(i, log_g, pot)

    def surface(self, pot, mass_range=None):
        return self.inner.surface(pot, mass_range)

    def signal_ranges(self):
        return self.inner.signal_ranges()


def test_as_search_wraps_tables_and_passes_searches_through(tables):
    s = as_search(tables)
    assert isinstance(s, BeamDumpSearch) and isinstance(s, Search)
    assert as_search(s) is s
    w = Wrapped(s)
    assert isinstance(w, Search) and as_search(w) is w
    assert s.channels == ("ee",) and s.thresholds == pytest.approx((2 * 0.51099895e-3,), rel=1e-6)
    with pytest.raises(InputError, match="yield tables or a Search"):
        as_search(object())


def test_log_events_grid_and_at_agree_and_derivative_is_exact(tables):
    s = as_search(tables)
    exact = np.asarray(s.log_events_grid(LOG_G, POT, finite=True))
    fast = np.asarray(s.log_events_grid(LOG_G, POT))
    ok = np.isfinite(fast)
    assert ok.sum() > 0.5 * ok.size and np.all(np.isfinite(exact))
    np.testing.assert_allclose(fast[ok], exact[ok], rtol=1e-10, atol=1e-10)
    i, y = 5, float(LOG_G[20])
    assert float(s.log_events_at(i, y, POT)) == pytest.approx(exact[i, 20], rel=1e-12, abs=1e-12)
    _, dy = jax.jvp(lambda v: s.log_events_at(i, v, POT), (jnp.asarray(y),), (jnp.asarray(1.0),))
    h = 1e-5
    fd = (float(s.log_events_at(i, y + h, POT)) - float(s.log_events_at(i, y - h, POT))) / (2 * h)
    assert float(dy) == pytest.approx(fd, rel=1e-6)
    # the per-mass helper is the finite log kernel
    np.testing.assert_allclose(np.asarray(log_events_grid(tables, LOG_G, POT)), exact, rtol=0, atol=0)


def test_contour_code_reads_only_the_protocol(tables):
    """A Search without table fields gives the same per-mass contour, polygon and surface."""
    w = Wrapped(as_search(tables))
    a = per_mass_contour(tables, POT, N_LIMIT, LOG_G)
    b = per_mass_contour(w, POT, N_LIMIT, LOG_G)
    assert a.excluded.sum() >= 10
    np.testing.assert_array_equal(a.lower, b.lower)
    np.testing.assert_array_equal(a.upper, b.upper)
    ra = trace_tables(tables, POT, N_LIMIT, couplings=COUPLINGS, n_seed_grid=32)
    rb = trace_tables(w, POT, N_LIMIT, couplings=COUPLINGS, n_seed_grid=32)
    assert len(ra.regions) == len(rb.regions) == 1
    assert rb.area == pytest.approx(ra.area, rel=1e-12) and ra.area > 1.0
    sa, sb = surface_from_tables(tables, POT), surface_from_tables(w, POT)
    np.testing.assert_array_equal(np.asarray(sa.log_a), np.asarray(sb.log_a))
    np.testing.assert_array_equal(np.asarray(sa.dlog_s1), np.asarray(sb.dlog_s1))
    with pytest.raises(InputError, match="beam-dump"):
        contour_problem(w)


def test_signal_ranges_of_tables_without_zero_nodes(tables):
    (r,) = as_search(tables).signal_ranges()
    m = np.asarray(tables.masses)
    assert r == SignalRange(float(m[0]), float(m[-1]), False, False)
