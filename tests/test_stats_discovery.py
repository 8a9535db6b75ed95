"""Discovery thresholds: local p-values, the minimum observed count for Z sigma, the look-elsewhere
(global) variant, and the NA62 hadronic table (EPJC 85 (2025) 571)."""

from __future__ import annotations

import json
import math

import pytest

from fipscan.stats import (
    background_only_pvalue,
    discovery_report,
    local_pvalue_threshold,
    min_observed_for_discovery,
    min_observed_global,
    pvalue_to_sigma,
    sigma_to_pvalue,
    trials_factor,
)

P5 = 2.866515718791939e-07  # one-sided 5 sigma tail, 1 - Phi(5)


def _poisson_tail(n: int, b: float, terms: int = 60) -> float:
    """P(N >= n | b) by an explicit series (independent of the package)."""
    return sum(math.exp(j * math.log(b) - b - math.lgamma(j + 1.0)) for j in range(n, n + terms))


def test_sigma_pvalue_conversion():
    assert sigma_to_pvalue(5.0) == pytest.approx(P5, rel=1e-9)
    assert sigma_to_pvalue(3.0) == pytest.approx(1.3498980316301e-3, rel=1e-9)
    assert sigma_to_pvalue(0.0) == pytest.approx(0.5, abs=1e-15)
    for z in (0.5, 2.0, 5.0, 7.5):
        assert pvalue_to_sigma(sigma_to_pvalue(z)) == pytest.approx(z, abs=1e-9)


def test_local_pvalues_of_tiny_background():
    # b = 0.007: P(N >= 2) = 2.44e-5 (above the 5 sigma tail), P(N >= 3) = 5.69e-8 (below)
    assert background_only_pvalue(2, 0.007) == pytest.approx(2.4385966e-5, rel=1e-6)
    assert background_only_pvalue(3, 0.007) == pytest.approx(_poisson_tail(3, 0.007), rel=1e-12)
    assert background_only_pvalue(3, 0.007) == pytest.approx(5.6867e-8, rel=1e-4)
    assert background_only_pvalue(0, 0.007) == 1.0
    # far below double precision's 1 - cdf resolution
    assert background_only_pvalue(6, 1e-4) == pytest.approx(_poisson_tail(6, 1e-4), rel=1e-12)
    assert background_only_pvalue(6, 1e-4) < 1e-26


def test_local_pvalue_with_background_uncertainty_matches_negative_binomial():
    stats = pytest.importorskip("scipy.stats")
    for n, b, db in [(3, 0.007, 0.005), (4, 0.038, 0.020), (12, 5.0, 2.0), (40, 20.0, 3.0)]:
        k, theta = (b / db) ** 2, db * db / b
        ref = stats.nbinom.sf(n - 1, k, 1.0 / (1.0 + theta))
        assert background_only_pvalue(n, b, db) == pytest.approx(ref, rel=1e-9)
        # the prior fattens the tail
        assert background_only_pvalue(n, b, db) > background_only_pvalue(n, b)


@pytest.mark.parametrize(
    ("b", "expected"),
    [
        (0.0, 1),  # no background: one event
        (2.5e-7, 1),  # P(N >= 1) ~ b < 2.87e-7
        (4.6e-7, 2),  # P(N >= 1) ~ 4.6e-7 > 2.87e-7: one event is only 4.9 sigma
        (0.007, 3),  # 2.44e-5 > P5 > 5.69e-8
        (0.020, 4),  # P(N >= 3) = 1.3e-6, P(N >= 4) = 6.6e-9
        (0.038, 4),  # P(N >= 4) = 8.7e-8
    ],
)
def test_min_observed_local(b, expected):
    n = min_observed_for_discovery(b)
    assert n == expected
    assert _poisson_tail(n, b) < P5 if b > 0 else True
    if n > 1:
        assert _poisson_tail(n - 1, b) >= P5


def test_min_observed_local_large_background_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for b in (0.3, 3.0, 25.0, 400.0):
        ref = int(stats.poisson.isf(P5, b)) + 1  # smallest n with sf(n - 1) < P5
        while stats.poisson.sf(ref - 2, b) < P5:
            ref -= 1
        assert min_observed_for_discovery(b) == ref
    # monotone in the background and in the significance
    ns = [min_observed_for_discovery(b) for b in (1e-9, 1e-4, 0.01, 0.1, 1.0, 10.0, 100.0)]
    assert ns == sorted(ns)
    assert min_observed_for_discovery(1.0, sigma=3.0) < min_observed_for_discovery(1.0, sigma=5.0)


# NA62 Collaboration, Eur. Phys. J. C 85 (2025) 571, hadronic final states in beam-dump mode (as
# presented at WIN 2025): expected background (68% CL) in the control region (CR) and signal region
# (SR), and the published minimum N_obs for a 5 sigma "global significance" in SR and in SR+CR.
# (channel, (b_CR, db_CR), (b_SR, db_SR), N_SR, N_SR+CR); asymmetric errors are symmetrised as the
# mean of the two sides.
NA62_HADRONIC = [
    ("pi+pi-", (0.013, 0.007), (0.007, 0.005), 3, 4),
    ("pi+pi-gamma", (0.031, 0.016), (0.007, 0.004), 3, 5),
    ("pi+pi-pi0", (1.3e-7, 2.7e-7), (1.2e-7, 2.65e-7), 1, 1),
    ("pi+pi-pi0pi0", (1.6e-8, 4.5e-8), (1.6e-8, 4.4e-8), 1, 1),
    ("pi+pi-eta", (7.3e-8, 16.55e-8), (7.0e-8, 16.0e-8), 1, 1),
    ("K+K-", (4.7e-7, 9.8e-7), (4.6e-7, 9.5e-7), 1, 2),
    ("K+K-pi0", (1.6e-9, 2.2e-9), (1.5e-9, 2.15e-9), 1, 1),
]


@pytest.mark.parametrize(("channel", "cr", "sr", "n_sr", "n_srcr"), NA62_HADRONIC)
def test_na62_hadronic_table(channel, cr, sr, n_sr, n_srcr):
    """Our documented method: the local p-value of the count in the whole region, the background
    integrated over its Gamma prior; for SR+CR the backgrounds and their (correlated) uncertainties
    are added linearly. It gives the published number in 13 of the 14 entries; the exception is K+K-
    in the SR, where one event has p = 4.6e-7 (4.9 sigma) and we need 2 (published: 1)."""
    ours_sr = min_observed_for_discovery(sr[0], sr[1])
    ours_srcr = min_observed_for_discovery(sr[0] + cr[0], sr[1] + cr[1])
    assert ours_srcr == n_srcr
    if channel == "K+K-":
        assert ours_sr == 2 and n_sr == 1
        assert pvalue_to_sigma(background_only_pvalue(1, sr[0], sr[1])) == pytest.approx(4.91, abs=0.01)
    else:
        assert ours_sr == n_sr


def test_na62_hadronic_searches_are_background_free_at_1e17_and_1e18_pot():
    """NA62 (EPJC 85 (2025) 571): background-free both at 1.4e17 POT and for the full Run 2 (1e18 POT), the
    signal-region backgrounds scaled with the POT.  At 90% CL: P(N >= 1 | b) <= 0.1 in every SR; pi+ pi- at
    1e18 POT (b = 0.05 +- 0.036) is the closest, P = 0.048.  SR+CR is not background-free at 1e18 for pi+ pi-
    and pi+ pi- gamma (b = 0.14 and 0.27: P = 0.13 and 0.24), as the larger SR+CR discovery thresholds say."""
    from fipscan.stats.discovery import background_free, scaled_background

    for channel, cr, sr, _, _ in NA62_HADRONIC:
        for pot in (1.4e17, 1e18):
            b, db = scaled_background(*sr, 1.4e17, pot)
            assert background_free(b, db), (channel, pot, b)
    b, db = scaled_background(0.007, 0.005, 1.4e17, 1e18)
    assert (b, db) == pytest.approx((0.05, 0.0357142857), rel=1e-9)
    assert background_only_pvalue(1, b, db) == pytest.approx(0.048, abs=0.002)
    for channel, cr, sr in (("pi+pi-", (0.013, 0.007), (0.007, 0.005)), ("pi+pi-gamma", (0.031, 0.016), (0.007, 0.004))):
        b, db = scaled_background(cr[0] + sr[0], cr[1] + sr[1], 1.4e17, 1e18)
        assert not background_free(b, db), channel
    assert background_free(0.0) and not background_free(0.2) and background_free(0.2, cl=0.8)


def test_na62_needs_the_background_uncertainty_for_pipigamma_srcr():
    # b = 0.038 alone gives 4 (P(N >= 4) = 8.7e-8 < P5); with its uncertainty 0.020 the tail of
    # 4 events is 3.2e-7 > P5 and 5 events are needed, as published
    assert min_observed_for_discovery(0.038) == 4
    assert background_only_pvalue(4, 0.038, 0.020) > P5
    assert min_observed_for_discovery(0.038, 0.020) == 5


# --------------------------------------------------------------------------------------------------
# Look-elsewhere
# --------------------------------------------------------------------------------------------------


def test_trials_factor():
    # constant resolution: (hi - lo) / (2 k sigma) = 1.5 / (2 * 2 * 0.005) = 75
    assert trials_factor((0.3, 1.8), 0.005, window_sigmas=2.0) == pytest.approx(75.0, rel=1e-12)
    # sigma = 1% of m: integral dm / (2 k 0.01 m) = ln(6) / 0.04
    assert trials_factor((0.3, 1.8), lambda m: 0.01 * m) == pytest.approx(math.log(6.0) / 0.04, rel=1e-8)
    # a search narrower than one signal window is a single trial
    assert trials_factor((1.0, 1.01), 0.05) == 1.0


def test_local_threshold_is_sidak():
    p_loc = local_pvalue_threshold(P5, 75.0)
    assert -math.expm1(75.0 * math.log1p(-p_loc)) == pytest.approx(P5, rel=1e-9)
    assert p_loc == pytest.approx(P5 / 75.0, rel=1e-6)
    assert local_pvalue_threshold(P5, 75.0, method="bonferroni") == pytest.approx(P5 / 75.0, rel=1e-15)
    assert local_pvalue_threshold(0.3, 1.0) == pytest.approx(0.3, rel=1e-14)


def test_min_observed_global_worked_example():
    # b = 0.020 flat over 0.3-1.8 GeV, sigma = 5 MeV, windows of +-2 sigma: N = 75 windows with
    # b_w = 0.02/75 = 2.67e-4 each; p_local = P5/75 = 3.82e-9. Two events: b_w^2/2 = 3.6e-8 > p_local;
    # three: b_w^3/6 = 3.2e-12 < p_local -> 3 (the local count over the whole window needs 4)
    n = min_observed_global(0.020, sigma=5.0, mass_window=(0.3, 1.8), mass_resolution=0.005)
    assert n == 3
    assert min_observed_for_discovery(0.020) == 4
    # one event in a window: p ~ b_w must beat P5/N, i.e. b < P5 whatever N (b_w = b/N)
    assert min_observed_global(2.5e-7, mass_window=(0.3, 1.8), mass_resolution=0.005) == 1
    assert min_observed_global(3.0e-7, mass_window=(0.3, 1.8), mass_resolution=0.005) == 2


def test_min_observed_global_reduces_to_local_for_one_window():
    # window width = 2 k sigma: one trial, background per window = total
    for b in (1e-7, 0.007, 0.5, 4.0):
        for db in (0.0, 0.4 * b):
            assert min_observed_global(b, mass_window=(0.0, 1.0), mass_resolution=0.25, background_uncertainty=db) == (
                min_observed_for_discovery(b, db)
            )


def test_min_observed_global_mass_dependent_resolution_uses_worst_window():
    # sigma = 1% of m over 0.3-1.8: the widest window (at 1.8 GeV) holds b * 4 * 0.018 / 1.5
    b = 0.5
    n = min_observed_global(b, mass_window=(0.3, 1.8), mass_resolution=lambda m: 0.01 * m)
    n_trials = math.log(6.0) / 0.04
    b_w = b * 4 * 0.018 / 1.5
    p_loc = -math.expm1(math.log1p(-P5) / n_trials)
    assert _poisson_tail(n, b_w) < p_loc <= _poisson_tail(n - 1, b_w)


def test_srcr_is_the_same_call_with_summed_background():
    b_sr, b_cr = 0.007, 0.013
    assert min_observed_for_discovery(b_sr + b_cr) == 4
    kw = dict(mass_window=(0.3, 1.8), mass_resolution=0.005)
    assert min_observed_global(b_sr + b_cr, **kw) == min_observed_global(0.020, **kw)


# --------------------------------------------------------------------------------------------------
# Reports and bad input
# --------------------------------------------------------------------------------------------------


def test_discovery_report_local_and_global():
    rep = discovery_report(0.007, 0.005, 5.0)
    assert rep["min_observed"] == 3 and rep["mode"] == "local"
    assert rep["p_threshold"] == pytest.approx(P5, rel=1e-9)
    assert rep["p_value_at_min"] < rep["p_threshold"]
    json.dumps(rep)
    rep_g = discovery_report(0.020, mode="global", mass_window=(0.3, 1.8), mass_resolution=0.005)
    assert rep_g["min_observed"] == 3 and rep_g["n_trials"] == pytest.approx(75.0)
    assert rep_g["background_per_window"] == pytest.approx(0.02 / 75.0)
    assert rep_g["p_value_at_min"] < rep_g["p_local_threshold"] < rep_g["p_threshold"]
    json.dumps(rep_g)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: min_observed_for_discovery(-0.1), "background"),
        (lambda: min_observed_for_discovery(float("nan")), "background"),
        (lambda: min_observed_for_discovery(0.1, -0.1), "background_uncertainty"),
        (lambda: min_observed_for_discovery(0.0, 0.1), "background_uncertainty"),
        (lambda: min_observed_for_discovery(0.1, sigma=0.0), "sigma"),
        (lambda: min_observed_for_discovery(0.1, sigma=float("nan")), "sigma"),
        (lambda: background_only_pvalue(1.5, 0.1), "n_obs"),
        (lambda: background_only_pvalue(-1, 0.1), "n_obs"),
        (lambda: pvalue_to_sigma(1.0), "pvalue"),
        (lambda: min_observed_global(0.1), "mass_window"),
        (lambda: min_observed_global(0.1, mass_window=(1.0, 0.5), mass_resolution=0.01), "mass_window"),
        (lambda: min_observed_global(0.1, mass_window=(0.3, 1.8)), "mass_resolution"),
        (lambda: min_observed_global(0.1, mass_window=(0.3, 1.8), mass_resolution=-0.01), "mass_resolution"),
        (lambda: min_observed_global(0.1, mass_window=(0.3, 1.8), mass_resolution=0.01, method="x"), "method"),
        (lambda: trials_factor((0.3, 1.8), 0.01, window_sigmas=0.0), "window_sigmas"),
        (lambda: discovery_report(0.1, mode="somewhere"), "mode"),
        (lambda: local_pvalue_threshold(P5, 0.0), "n_trials"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name) as err:
        call()
    assert "\n" not in str(err.value)
