"""Upper limits: CLs (Read 2002) and Feldman-Cousins (FC98) against published numbers and an
independent computation, plus properties and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fipscan.stats import cls_value, fc_interval, limit_report, upper_limit

LN10 = math.log(10.0)  # the 90% CL CLs limit for n = 0, any background


def _close_to_published(value: float, published: float) -> bool:
    """Published to 2 decimals: accept 1% or the rounding half-unit (0.005), whichever is larger."""
    return abs(value - published) <= max(0.01 * abs(published), 0.0051)


# --------------------------------------------------------------------------------------------------
# Feldman-Cousins
# --------------------------------------------------------------------------------------------------

# Feldman & Cousins, Phys. Rev. D 57 (1998) 3873, Table IV (90% C.L. intervals for the Poisson signal
# mean, known background b): (n0, b, mu1, mu2).
FC98_TABLE_IV = [
    # b = 0 column, n0 = 0..10
    (0, 0.0, 0.00, 2.44),
    (1, 0.0, 0.11, 4.36),
    (2, 0.0, 0.53, 5.91),
    (3, 0.0, 1.10, 7.42),
    (4, 0.0, 1.47, 8.60),
    (5, 0.0, 1.84, 9.99),
    (10, 0.0, 5.50, 16.50),
    # n0 = 0 row: the upper end falls with b (b = 2 and 3 need FC's b-monotonicity correction: the
    # plain belt gives 1.08 and 0.95 there)
    (0, 0.5, 0.00, 1.94),
    (0, 1.0, 0.00, 1.61),
    (0, 2.0, 0.00, 1.26),
    (0, 3.0, 0.00, 1.08),
    (1, 0.5, 0.00, 3.86),
    (3, 1.0, 0.10, 6.42),
    (10, 0.5, 5.00, 16.00),
    # b = 3 column, n0 = 1..10
    (1, 3.0, 0.00, 1.88),
    (2, 3.0, 0.00, 3.04),
    (3, 3.0, 0.00, 4.42),
    (4, 3.0, 0.00, 5.60),
    (5, 3.0, 0.00, 6.99),
    (6, 3.0, 0.15, 8.47),
    (7, 3.0, 0.89, 9.53),
    (8, 3.0, 1.51, 10.99),
    (9, 3.0, 1.88, 12.30),
    (10, 3.0, 2.63, 13.50),
]


@pytest.mark.parametrize(("n0", "b", "lo", "hi"), FC98_TABLE_IV)
def test_fc_interval_matches_fc98_table_iv(n0, b, lo, hi):
    mu1, mu2 = fc_interval(n0, b, cl=0.9)
    assert _close_to_published(mu1, lo), (mu1, lo)
    assert _close_to_published(mu2, hi), (mu2, hi)


def test_fc_95_percent_zero_events():
    # FC98, 95% C.L. Poisson intervals, n0 = 0, b = 0: [0.00, 3.09]
    lo, hi = fc_interval(0, 0.0, cl=0.95)
    assert lo == 0.0
    assert _close_to_published(hi, 3.09)


def test_fc_upper_end_does_not_rise_with_background():
    # backgrounds around the places where the plain belt's upper end jumps up (n0 = 0: b ~ 2.32,
    # 3.46, 4.37, 5.22), where the correction must keep mu2 flat or falling
    bs = [0.0, 1.0, 1.75, 2.0, 2.25, 2.3, 2.5, 2.75, 3.0, 3.25, 3.45, 3.5, 3.75, 4.0, 4.45, 4.5, 5.0]
    uppers = [fc_interval(0, b)[1] for b in bs]
    assert all(u2 <= u1 + 1e-9 for u1, u2 in zip(uppers, uppers[1:]))
    # and it really decreases over the range (2.44 at b = 0, 0.98 at b = 5 in FC98 Table IV)
    assert _close_to_published(uppers[0], 2.44) and _close_to_published(uppers[-1], 0.98)
    # the correction is real: the same value over a whole tooth (b = 1.75..2.3 all give 1.265)
    assert uppers[2] == pytest.approx(uppers[5], abs=1e-6) and uppers[2] > 1.26


def test_fc_intervals_cover():
    """Exact coverage of the belt at b = 3: sum of P(n | mu + b) over the n whose interval holds mu."""
    b = 3.0
    intervals = {n: fc_interval(n, b) for n in range(0, 19)}
    for mu in (0.5, 2.0, 4.0):
        cov = sum(
            math.exp(n * math.log(mu + b) - (mu + b) - math.lgamma(n + 1.0))
            for n, (lo, hi) in intervals.items()
            if lo <= mu <= hi
        )
        assert 0.9 - 1e-9 <= cov < 0.99


def test_fc_upper_limit_method():
    assert upper_limit(0, 3.0, method="fc") == pytest.approx(fc_interval(0, 3.0)[1], rel=1e-12)
    assert _close_to_published(upper_limit(2, 0.0, method="fc"), 5.91)


# --------------------------------------------------------------------------------------------------
# CLs
# --------------------------------------------------------------------------------------------------

# Classical Poisson upper limits for b = 0 (PDG Review of Particle Physics, "Statistics", table of
# Poisson upper limits for n observed events, no background); CLs reduces to them at b = 0.
PDG_POISSON_UL_90 = [2.30, 3.89, 5.32, 6.68, 7.99, 9.27]
PDG_POISSON_UL_95 = [3.00, 4.74, 6.30, 7.75, 9.15, 10.51]


@pytest.mark.parametrize("n", range(6))
def test_cls_reduces_to_published_poisson_limits_at_zero_background(n):
    assert upper_limit(n, 0.0, cl=0.9) == pytest.approx(PDG_POISSON_UL_90[n], rel=0.01)
    assert upper_limit(n, 0.0, cl=0.95) == pytest.approx(PDG_POISSON_UL_95[n], rel=0.01)


@pytest.mark.parametrize(
    ("b", "db"), [(0.0, 0.0), (0.007, 0.0), (0.5, 0.0), (3.0, 0.0), (10.0, 0.0), (250.0, 0.0),
                  (0.007, 0.005), (0.5, 0.3), (3.0, 0.3), (10.0, 4.0), (250.0, 20.0)],
)
def test_cls_zero_events_is_ln10_whatever_the_background(b, db):
    assert abs(upper_limit(0, b, db) - LN10) < 1e-12
    assert abs(upper_limit(0, b, db, cl=0.95) - math.log(20.0)) < 1e-12


def _bayes_flat_prior_limit(n: int, b: float, cl: float) -> float:
    """Independent method: the Bayesian upper limit with a flat prior on s >= 0 (numerical quadrature
    of the posterior), which equals CLs for a counting experiment (Helene, Nucl. Instrum. Meth. 212
    (1983) 319; discussed in Read 2002)."""
    integrate = pytest.importorskip("scipy.integrate")
    optimize = pytest.importorskip("scipy.optimize")

    def post(s):
        return math.exp(n * math.log(s + b) - (s + b)) if s + b > 0 else (1.0 if n == 0 else 0.0)

    total = integrate.quad(post, 0.0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]

    def f(su):
        return integrate.quad(post, 0.0, su, epsabs=0, epsrel=1e-12, limit=200)[0] / total - cl

    return optimize.brentq(f, 1e-9, 60.0, xtol=1e-12)


@pytest.mark.parametrize("b", [0.0, 1.0, 2.0, 3.0])
def test_cls_table_matches_independent_bayesian_quadrature(b):
    ours = [upper_limit(n, b) for n in range(6)]
    ref = [_bayes_flat_prior_limit(n, b, 0.9) for n in range(6)]
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    # the limit tightens as the background grows (n >= 1) and loosens as n grows
    assert all(x < y for x, y in zip(ours, ours[1:]))


def test_cls_background_tightens_the_limit():
    # n = 3: 6.68 at b = 0 (PDG); CLs gives 5.71 at b = 1 and 4.36 at b = 3
    assert upper_limit(3, 1.0) == pytest.approx(5.7115, abs=1e-3)
    assert upper_limit(3, 3.0) == pytest.approx(4.3624, abs=1e-3)


def _gamma_prior_limit(n: int, b: float, db: float, cl: float) -> float:
    """Independent method: integrate P(N <= n | s + beta) over the Gamma(mean b, sd db) density with
    scipy quadrature (Cousins & Highland 1992), then root-find CLs = 1 - cl."""
    stats = pytest.importorskip("scipy.stats")
    integrate = pytest.importorskip("scipy.integrate")
    optimize = pytest.importorskip("scipy.optimize")
    k, theta = (b / db) ** 2, db * db / b
    prior = stats.gamma(a=k, scale=theta)
    hi = prior.ppf(1 - 1e-15)

    def cdf(s):
        return integrate.quad(lambda x: stats.poisson.cdf(n, s + x) * prior.pdf(x), 0.0, hi,
                              epsabs=0, epsrel=1e-11, limit=400, points=[b])[0]

    den = cdf(0.0)
    return optimize.brentq(lambda s: cdf(s) / den - (1 - cl), 1e-6, 80.0, xtol=1e-10)


@pytest.mark.parametrize(("n", "b", "db"), [(1, 1.0, 0.5), (3, 1.0, 0.5), (5, 3.0, 1.5), (2, 0.5, 0.4)])
def test_cls_with_background_uncertainty_matches_quadrature(n, b, db):
    assert upper_limit(n, b, db) == pytest.approx(_gamma_prior_limit(n, b, db, 0.9), rel=1e-6)


def test_cls_uncertainty_reduces_to_fixed_background():
    for n, b in [(1, 1.0), (4, 2.5), (7, 3.0)]:
        fixed = upper_limit(n, b, 0.0)
        assert upper_limit(n, b, 1e-7) == pytest.approx(fixed, rel=1e-8)
        assert upper_limit(n, b, 1e-3) == pytest.approx(fixed, rel=1e-3)
    # a wider prior lets the background fluctuate low: the limit on s loosens (n = 3, b = 1)
    assert upper_limit(3, 1.0, 0.5) > upper_limit(3, 1.0, 0.0) + 0.05


def test_cls_value_properties():
    assert cls_value(0.0, 3, 1.0) == pytest.approx(1.0, abs=1e-15)
    assert cls_value(LN10, 0, 7.0, 2.0) == pytest.approx(0.1, rel=1e-12)
    vals = [cls_value(s, 4, 2.0, 0.5) for s in np.linspace(0.0, 15.0, 31)]
    assert all(0.0 < v <= 1.0 for v in vals)
    assert all(v2 < v1 for v1, v2 in zip(vals, vals[1:]))
    ul = upper_limit(4, 2.0, 0.5)
    assert cls_value(ul, 4, 2.0, 0.5) == pytest.approx(0.1, rel=1e-8)


def test_upper_limit_vectorises():
    out = upper_limit(np.array([0, 1, 2]), np.array([0.0, 1.0, 2.0]))
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    np.testing.assert_allclose(out, [upper_limit(0, 0.0), upper_limit(1, 1.0), upper_limit(2, 2.0)], rtol=1e-14)
    assert isinstance(upper_limit(1, 0.5), float)
    assert isinstance(upper_limit(np.int64(3), np.float64(1.0)), float)


def test_large_counts_are_finite_and_sensible():
    ul = upper_limit(1000, 1000.0)
    assert 40.0 < ul < 60.0  # ~ 1.28 sigma * sqrt(1000) plus the CLs penalty
    assert upper_limit(1000, 1000.0, 30.0) > ul


# --------------------------------------------------------------------------------------------------
# Report and bad input
# --------------------------------------------------------------------------------------------------


def test_limit_report():
    rep = limit_report(2, 0.5, 0.1, 0.9, "cls")
    assert rep["upper_limit"] == pytest.approx(upper_limit(2, 0.5, 0.1), rel=1e-12)
    assert rep["n_obs"] == 2 and rep["background"] == 0.5 and rep["background_uncertainty"] == 0.1
    assert rep["cl"] == 0.9 and rep["method"] == "cls" and rep["background_prior"] == "gamma"
    json.dumps(rep)
    rep_fc = limit_report(0, 3.0, 0.0, 0.9, "fc")
    assert _close_to_published(rep_fc["upper_limit"], 1.08) and rep_fc["lower_limit"] == 0.0
    json.dumps(rep_fc)


BAD_INPUT = [
    (dict(n_obs=-1), "n_obs"),
    (dict(n_obs=2.5), "n_obs"),
    (dict(n_obs=float("nan")), "n_obs"),
    (dict(n_obs="three"), "n_obs"),
    (dict(n_obs=True), "n_obs"),
    (dict(background=-0.1), "background"),
    (dict(background=float("nan")), "background"),
    (dict(background=float("inf")), "background"),
    (dict(background_uncertainty=-0.1), "background_uncertainty"),
    (dict(background_uncertainty=float("nan")), "background_uncertainty"),
    (dict(background=0.0, background_uncertainty=0.1), "background_uncertainty"),
    (dict(cl=0.0), "cl"),
    (dict(cl=1.0), "cl"),
    (dict(cl=1.5), "cl"),
    (dict(cl=float("nan")), "cl"),
    (dict(method="bayes"), "method"),
    (dict(method="fc", background_uncertainty=0.1), "fc"),
]


@pytest.mark.parametrize(("override", "name"), BAD_INPUT)
def test_bad_input_raises_value_error_naming_the_argument(override, name):
    kwargs = dict(n_obs=2, background=1.0, background_uncertainty=0.0, cl=0.9, method="cls") | override
    with pytest.raises(ValueError, match=name) as err:
        upper_limit(**kwargs)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=name):
        limit_report(**kwargs)


def test_fc_interval_bad_input():
    with pytest.raises(ValueError, match="n_obs"):
        fc_interval(-2, 1.0)
    with pytest.raises(ValueError, match="background"):
        fc_interval(1, -1.0)
    with pytest.raises(ValueError, match="cl"):
        fc_interval(1, 1.0, cl=1.2)
