"""Statistics at extreme counts (issue 18, kinds 2 and 3): tails in log space, sums over a window of the
bulk instead of arrays as long as the count, Gaussian tails beyond ~1e8 events, and one-line refusals of
counts float64 cannot resolve.  Each must finish in well under a second and a few MB."""

from __future__ import annotations

import math
import time

import pytest

from fipscan.stats import expected_limits, min_observed_for_discovery, upper_limit
from fipscan.stats._poisson import log_normal_sf, log_sf_background, sf_background


def _quick(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    assert time.perf_counter() - t0 < 5.0
    return out


@pytest.mark.parametrize("b, sigma", [(1.0, 40.0), (5.0, 60.0), (0.01, 38.0), (1e6, 45.0)])
def test_discovery_beyond_the_smallest_double_terminates(b, sigma):
    """Issue example: --background 1 --sigma 40 looped forever (the normal tail underflows to 0)."""
    n = _quick(min_observed_for_discovery, b, sigma=sigma)
    log_p = log_normal_sf(sigma)
    assert log_p < math.log(1e-300)
    assert log_sf_background(n, b) < log_p <= log_sf_background(n - 1, b)


def test_log_normal_tail_matches_the_textbook_values():
    assert math.exp(log_normal_sf(5.0)) == pytest.approx(2.8665157e-7, rel=1e-7)
    assert log_normal_sf(40.0) == pytest.approx(-804.6084420137539, rel=1e-12)  # scipy.stats.norm.logsf(40)


@pytest.mark.parametrize("n, b, db, lo, hi", [
    (3, 800.0, 0.0, 2.302585, 2.33),   # issue example: "math domain error"
    (3, 800.0, 100.0, 2.302585, 2.6),
    (5, 1e5, 0.0, 2.302585, 2.31),
    (0, 1e12, 0.0, 2.302585, 2.302586),
])
def test_cls_with_few_events_over_a_large_background(n, b, db, lo, hi):
    """P(N <= n | b) underflows far below b: the ratio is taken in log space (the limit tends to
    -ln(0.1) = 2.3026 events when n << b)."""
    assert lo <= _quick(upper_limit, n, b, db) <= hi


@pytest.mark.parametrize("n, b, expected, rel", [
    (1_000_000_000, 0.0, 1e9 + 1.2816 * math.sqrt(1e9), 1e-5),  # issue example: 7.45 GiB before
    (99_999_999_999, 0.0, 99_999_999_999 + 1.2816 * math.sqrt(1e11), 1e-6),
    # n = b: CLs = Phi(-s / sqrt(b + s)) / (1/2) = 0.1, s = 1.6449 sqrt(b + s)
    (1_000_000_000, 1e9, 1.6449 * math.sqrt(1e9 + 52_016), 2e-4),
])
def test_cls_with_a_billion_events_is_gaussian_and_small_in_memory(n, b, expected, rel):
    assert _quick(upper_limit, n, b) == pytest.approx(expected, rel=rel)


def test_expected_bands_at_large_backgrounds_are_ordered_and_finite():
    for b in (1e3, 1e9, 1e14):
        band = _quick(expected_limits, b)
        values = [band[k] for k in ("-2", "-1", "0", "+1", "+2")]
        assert all(math.isfinite(v) and v > 0 for v in values)
        assert values == sorted(values)


@pytest.mark.parametrize("call, needle", [
    (lambda: upper_limit(5, 1e300), "background"),
    (lambda: upper_limit(10**16), "n_obs"),
    (lambda: upper_limit(3, 1e6, method="fc"), "method='fc'"),
    (lambda: expected_limits(1e20), "background"),
    (lambda: min_observed_for_discovery(1.0, sigma=1e300), "sigma"),
    (lambda: min_observed_for_discovery(1e300), "background"),
])
def test_counts_beyond_float64_or_construction_are_refused_with_the_name(call, needle):
    with pytest.raises(ValueError, match=needle):
        _quick(call)


def test_tail_far_below_1e308_is_finite_in_log_space():
    assert sf_background(200, 1.0) == 0.0  # underflows as a double ...
    assert -1000.0 < log_sf_background(200, 1.0) < -700.0  # ... but not in log space
