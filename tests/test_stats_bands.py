"""Expected-limit bands (exact walk over the background-only count) and POT projections."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fipscan.stats import BAND_QUANTILES, expected_limits, fc_interval, pot_band, scale_background, upper_limit

KEYS = {"-2", "-1", "0", "+1", "+2"}


def test_band_probabilities():
    assert BAND_QUANTILES["-2"] == pytest.approx(0.022750131948179, rel=1e-9)
    assert BAND_QUANTILES["-1"] == pytest.approx(0.158655253931457, rel=1e-9)
    assert BAND_QUANTILES["0"] == 0.5
    assert BAND_QUANTILES["+1"] == pytest.approx(0.841344746068543, rel=1e-9)
    assert BAND_QUANTILES["+2"] == pytest.approx(0.977249868051821, rel=1e-9)


@pytest.mark.parametrize("b", [0.0, 1e-9, 1e-4, 0.007])
def test_vanishing_background_gives_ln10_everywhere(b):
    # P(N = 0) = exp(-b) >= 0.993 > 0.97725: every quantile is n = 0, and UL(0) = ln 10
    bands = expected_limits(b)
    assert set(bands) == KEYS
    for v in bands.values():
        assert v == pytest.approx(math.log(10.0), abs=1e-12)


def test_bands_for_b3_follow_the_poisson_quantiles():
    # Poisson(3) cdf: F(0)=0.0498, F(1)=0.1991, F(2)=0.4232, F(3)=0.6472, F(4)=0.8153, F(5)=0.9161,
    # F(6)=0.9665, F(7)=0.9881 -> quantile counts 0 (2.275%), 1 (15.87%), 3 (50%), 5 (84.13%), 7 (97.725%)
    bands = expected_limits(3.0)
    for key, n in {"-2": 0, "-1": 1, "0": 3, "+1": 5, "+2": 7}.items():
        assert bands[key] == pytest.approx(upper_limit(n, 3.0), rel=1e-12)
    assert bands["-2"] == pytest.approx(math.log(10.0), abs=1e-12)
    assert bands["0"] == pytest.approx(4.3624, abs=1e-3)
    vals = [bands[k] for k in ("-2", "-1", "0", "+1", "+2")]
    assert vals == sorted(vals)


def test_bands_with_background_uncertainty_use_the_negative_binomial():
    stats = pytest.importorskip("scipy.stats")
    b, db = 3.0, 1.5
    k, theta = (b / db) ** 2, db * db / b
    dist = stats.nbinom(k, 1.0 / (1.0 + theta))
    bands = expected_limits(b, db)
    for key, q in BAND_QUANTILES.items():
        n = int(dist.ppf(q))
        assert bands[key] == pytest.approx(upper_limit(n, b, db), rel=1e-12)
    # the uncertainty widens the band (the +2 sigma count is larger)
    assert bands["+2"] > expected_limits(b)["+2"]


def test_bands_with_feldman_cousins():
    # b = 3: the -2 band is n = 0 -> FC98 Table IV [0, 1.08]; the median is n = 3 -> [0, 4.42]
    bands = expected_limits(3.0, method="fc")
    assert bands["-2"] == pytest.approx(fc_interval(0, 3.0)[1], rel=1e-12)
    assert abs(bands["-2"] - 1.08) < 0.006 and abs(bands["0"] - 4.42) < 0.006


def test_expected_limits_bad_input():
    for kwargs, name in [
        (dict(background=-1.0), "background"),
        (dict(background=float("nan")), "background"),
        (dict(background=1.0, background_uncertainty=-1.0), "background_uncertainty"),
        (dict(background=1.0, cl=1.0), "cl"),
        (dict(background=1.0, method="toys"), "method"),
        (dict(background=1.0, background_uncertainty=0.2, method="fc"), "fc"),
    ]:
        with pytest.raises(ValueError, match=name):
            expected_limits(**kwargs)


def test_scale_background():
    # NA62 BD mu+mu- combinatorial: 0.016 at 1.4e17 POT -> 0.1143 at 1e18 POT
    assert scale_background(0.016, 1e18, 1.4e17) == pytest.approx(0.016 / 0.14, rel=1e-12)
    assert scale_background(0.016, 1e18, 1.4e17, mode="fixed") == 0.016
    out = scale_background(np.array([0.016, 0.0094]), np.array([1.4e17, 2.8e17]), 1.4e17)
    np.testing.assert_allclose(out, [0.016, 0.0188], rtol=1e-12)
    assert isinstance(scale_background(0.1, 2.0, 1.0), float)
    with pytest.raises(ValueError, match="pot_ref"):
        scale_background(0.1, 1e18, 0.0)
    with pytest.raises(ValueError, match="pot"):
        scale_background(0.1, -1e18, 1e17)
    with pytest.raises(ValueError, match="background"):
        scale_background(-0.1, 1e18, 1e17)
    with pytest.raises(ValueError, match="mode"):
        scale_background(0.1, 1e18, 1e17, mode="linear")


def test_pot_band():
    lo, hi = pot_band(1.4e17, 0.2)  # (1.4 +- 0.28)e17
    assert (lo, hi) == pytest.approx((0.8, 1.2), rel=1e-15)
    assert pot_band(1e18, 0.0) == (1.0, 1.0)
    with pytest.raises(ValueError, match="pot"):
        pot_band(0.0)
    with pytest.raises(ValueError, match="rel_uncertainty"):
        pot_band(1e18, 1.0)
    with pytest.raises(ValueError, match="rel_uncertainty"):
        pot_band(1e18, -0.1)
