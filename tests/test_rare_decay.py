"""Rare-decay branching-ratio limits (fipscan.stats.rare_decay, ``fipscan rare-decay``).

Published inputs are in this file, each with its source.  Closed forms and brute-force integrals
are written here independently of the library.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fipscan.cli.main import main as cli_main
from fipscan.errors import InputError
from fipscan.stats import fc_interval, upper_limit
from fipscan.stats.rare_decay import (
    METHOD,
    br_upper_limit,
    n_kaons_from_normalisation,
    rare_decay_report,
    signal_upper_limit,
)
from fipscan.testing import cli_json

# --------------------------------------------------------------------------------------------------
# NA62, K+ -> pi- e+ e+ (2017-2018 data): Phys. Lett. B 830 (2022) 137172, arXiv:2202.00331
# ("Searches for lepton number violating K+ -> pi-(pi0) e+ e+ decays"); the numbers as quoted in the
# NA62 seed talk of the project's reference notes. Normalisation K+ -> pi+ e+ e-.
# --------------------------------------------------------------------------------------------------
PIEE_NORM_CANDIDATES = 11041
PIEE_NORM_BR, PIEE_NORM_DBR = 3.00e-7, 0.09e-7
PIEE_N_K, PIEE_DN_K = 1.015e12, 0.031e12  # effective K+ decays in the fiducial volume
PIEE_BACKGROUND, PIEE_DBACKGROUND = 0.43, 0.09
PIEE_OBSERVED = 0
PIEE_BR_LIMIT = 5.3e-11  # 90% CL
# NOT in the sources above as we hold them: the two acceptances. The normalisation acceptance follows
# from N_K = N_norm / (B_norm A_norm); the signal acceptance is INFERRED from the published limit and the
# CLs n = 0 signal limit (ln 10 events), i.e. B_SES = 5.3e-11 / ln 10 = 2.30e-11.  With it the test
# checks the rest of the chain (background integrated out, normalisation route, uncertainty folding),
# not the acceptance itself.
PIEE_NORM_ACCEPTANCE = PIEE_NORM_CANDIDATES / (PIEE_NORM_BR * PIEE_N_K)  # 0.03626
PIEE_SIGNAL_ACCEPTANCE = math.log(10.0) / (PIEE_BR_LIMIT * PIEE_N_K)  # 0.04280 (inferred)
#: the published limit has two digits: 5.3 stands for [5.25, 5.35), +-0.94%
REL_TOL_PUBLISHED = 0.01
#: dN_K: our propagation adds the normalisation's Poisson 1/sqrt(11041) = 0.95% to the 3.0% of B_norm in
#: quadrature (3.15%: 0.0320e12); NA62 quote 0.031e12 (3.05%)
ABS_TOL_DN_K = 0.0015e12

# --------------------------------------------------------------------------------------------------
# NA62, K+ -> pi0 pi-+ mu+- e-+ (2016-2018 data): arXiv:2409.12981 ("First search for K+ -> pi0 pi mu e
# decays"). (name, background, its uncertainty, observed, 90% CL BR limit). The acceptances and N_K of
# this analysis are not in our sources: only what follows from n = 0 is tested.
# --------------------------------------------------------------------------------------------------
PI0PIMUE_ROWS = (
    ("K+ -> pi0 pi- mu+ e+", 0.33, 0.07, 0, 2.9e-10),
    ("K+ -> pi0 pi+ mu- e+", 0.004, 0.003, 0, 3.1e-10),
    ("K+ -> pi0 pi+ mu+ e-", 0.29, 0.07, 0, 5.0e-10),
)

LN10 = math.log(10.0)  # CLs / classical Poisson 90% CL limit for 0 events: exp(-s) = 0.1


def _poisson_upper_b0(n: int, cl: float) -> float:
    """Classical Poisson upper limit for n events, no background: sum_{k<=n} e^-s s^k/k! = 1 - cl,
    by bisection (independent of the library)."""
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        cdf = sum(math.exp(-mid) * mid**k / math.factorial(k) for k in range(n + 1))
        lo, hi = (mid, hi) if cdf > 1.0 - cl else (lo, mid)
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------------------------------
# the worked case
# --------------------------------------------------------------------------------------------------


def test_normalisation_gives_the_published_number_of_kaon_decays():
    nk, dnk = n_kaons_from_normalisation(PIEE_NORM_CANDIDATES, PIEE_NORM_BR, PIEE_NORM_DBR, PIEE_NORM_ACCEPTANCE)
    assert nk == pytest.approx(PIEE_N_K, rel=1e-12)
    assert abs(dnk - PIEE_DN_K) < ABS_TOL_DN_K
    # the relative uncertainty is the quadrature sum of 1/sqrt(N_norm) and dB/B (written out here)
    assert dnk / nk == pytest.approx(math.hypot(1.0 / math.sqrt(PIEE_NORM_CANDIDATES), PIEE_NORM_DBR / PIEE_NORM_BR))


def test_worked_case_pi_minus_e_plus_e_plus_api():
    report = rare_decay_report(PIEE_OBSERVED, PIEE_BACKGROUND, PIEE_DBACKGROUND, PIEE_SIGNAL_ACCEPTANCE,
                               n_kaons=PIEE_N_K, n_kaons_uncertainty=PIEE_DN_K)
    assert report["br_upper_limit"] == pytest.approx(PIEE_BR_LIMIT, rel=REL_TOL_PUBLISHED)
    assert report["method"] == METHOD
    # 0 observed: the background (0.43 +- 0.09) drops out of CLs; the 3.05% on N_K adds ~0.1%
    assert report["single_event_sensitivity"] == pytest.approx(1.0 / (PIEE_N_K * PIEE_SIGNAL_ACCEPTANCE))
    assert LN10 < report["signal_upper_limit"] < LN10 * 1.002
    no_background = br_upper_limit(0, 0.0, 0.0, PIEE_SIGNAL_ACCEPTANCE, PIEE_N_K, PIEE_DN_K)
    assert report["br_upper_limit"] == pytest.approx(no_background, rel=1e-12)
    # the method matters for this row: Feldman-Cousins (background known) would give 2.01 events, 13% lower
    assert fc_interval(0, PIEE_BACKGROUND)[1] / report["signal_upper_limit"] < 0.9


def test_worked_case_through_the_cli_with_the_normalisation_channel():
    out = cli_json("rare-decay", "--observed", PIEE_OBSERVED, "--background", PIEE_BACKGROUND,
                   "--background-uncertainty", PIEE_DBACKGROUND, "--acceptance", PIEE_SIGNAL_ACCEPTANCE,
                   "--normalisation-candidates", PIEE_NORM_CANDIDATES, "--normalisation-br", PIEE_NORM_BR,
                   "--normalisation-br-uncertainty", PIEE_NORM_DBR,
                   "--normalisation-acceptance", PIEE_NORM_ACCEPTANCE, "--projection", 10 * PIEE_N_K)
    assert out["br_upper_limit"] == pytest.approx(PIEE_BR_LIMIT, rel=REL_TOL_PUBLISHED)
    assert out["n_kaons"] == pytest.approx(PIEE_N_K, rel=1e-9)
    assert out["n_kaons_source"] == "normalisation"
    assert {"signal_upper_limit", "single_event_sensitivity", "method"} <= set(out)
    # the projection: ten times the kaons, the same counts -> a ten times smaller limit
    assert out["projection"]["br_upper_limit"] == pytest.approx(out["br_upper_limit"] / 10.0, rel=1e-12)


# --------------------------------------------------------------------------------------------------
# the other rows of the LFV/LNV table with inputs: K+ -> pi0 pi mu e (0 observed)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,b,db,n,br_pub", PI0PIMUE_ROWS)
def test_pi0_pi_mu_e_rows_depend_only_on_the_normalisation(name, b, db, n, br_pub):
    """With 0 candidates the CLs signal limit is ln 10 whatever the background: the three published
    limits differ only through N_K * A, which this implies (N_K A = ln 10 / B_UL; 4.6e9 to 7.9e9
    effective K+ decays times acceptance). Feldman-Cousins would make them depend on b instead."""
    s_up = signal_upper_limit(n, b, db, 0.0)
    assert s_up == pytest.approx(LN10, rel=1e-12)
    nk_times_a = s_up / br_pub
    assert 4e9 < nk_times_a < 8e9
    # round trip: any split of N_K A (here A = 1%) returns the published limit
    assert br_upper_limit(n, b, db, 0.01, nk_times_a / 0.01) == pytest.approx(br_pub, rel=1e-12)


def test_pi0_pi_mu_e_backgrounds_would_matter_for_feldman_cousins():
    fc = [fc_interval(0, b)[1] for _, b, _, _, _ in PI0PIMUE_ROWS]
    assert max(fc) / min(fc) > 1.1  # CLs: exactly 1


# --------------------------------------------------------------------------------------------------
# closed forms and independent integrals
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_zero_uncertainty_is_the_plain_poisson_limit(n):
    expected = _poisson_upper_b0(n, 0.9)  # 2.302585, 3.889720, 5.322320, 9.274704
    assert signal_upper_limit(n, 0.0, 0.0, 0.0, cl=0.9) == pytest.approx(expected, rel=1e-9)
    assert br_upper_limit(n, 0.0, 0.0, 0.5, 1e10) == pytest.approx(expected / 5e9, rel=1e-9)


def test_zero_uncertainty_n0_is_ln10():
    assert signal_upper_limit(0, 0.0, 0.0, 0.0) == pytest.approx(2.302585093, abs=1e-9)
    assert signal_upper_limit(0, 3.0, 0.0, 0.0, cl=0.95) == pytest.approx(-math.log(0.05), rel=1e-12)


@pytest.mark.parametrize("n,b,db", [(1, 0.5, 0.0), (3, 2.0, 0.7), (0, 0.43, 0.09)])
def test_zero_normalisation_uncertainty_is_fipscan_cls(n, b, db):
    assert signal_upper_limit(n, b, db, 0.0) == upper_limit(n, b, db, method="cls")


@pytest.mark.parametrize("r", [0.03, 0.2, 0.5])
def test_n0_with_normalisation_prior_closed_form(r):
    """n = 0: CLs = E[exp(-s kappa)] = (1 + s r^2)^(-1/r^2) for kappa ~ Gamma(mean 1, sd r)."""
    expected = (0.1 ** (-r * r) - 1.0) / (r * r)
    assert signal_upper_limit(0, 1.0, 0.2, r) == pytest.approx(expected, rel=1e-10)


def test_normalisation_prior_against_brute_force_integral():
    """n = 2 over b = 1 (known), r = 25%: CL_{s+b}(s) = int Gamma(k; mean 1, sd r) P(N <= 2 | s k + b) dk
    by the trapezoid rule on a fine grid, solved for CLs = 0.1 by bisection."""
    n, b, r = 2, 1.0, 0.25
    shape = 1.0 / r**2
    kappa = np.linspace(1e-6, 4.0, 200_001)
    log_pdf = (shape - 1.0) * np.log(kappa) - shape * kappa + shape * math.log(shape) - math.lgamma(shape)
    pdf = np.exp(log_pdf)

    def cdf(mean):
        return np.exp(-mean) * (1.0 + mean + mean**2 / 2.0)

    cl_b = float(cdf(b))

    def cls(s):
        return float(np.trapezoid(pdf * cdf(s * kappa + b), kappa)) / cl_b

    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cls(mid) > 0.1 else (lo, mid)
    assert signal_upper_limit(n, b, 0.0, r) == pytest.approx(0.5 * (lo + hi), rel=1e-6)


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------


def test_br_limit_scales_as_one_over_n_kaons():
    base = br_upper_limit(2, 0.8, 0.2, 0.05, 1e11, 0.03e11)
    for factor in (0.1, 3.0, 250.0):  # the same relative uncertainty
        assert br_upper_limit(2, 0.8, 0.2, 0.05, factor * 1e11, factor * 0.03e11) == pytest.approx(base / factor,
                                                                                                   rel=1e-12)
    rep = rare_decay_report(2, 0.8, 0.2, 0.05, n_kaons=1e11, n_kaons_uncertainty=0.03e11, projection=4e11)
    assert rep["projection"]["br_upper_limit"] == pytest.approx(base / 4.0, rel=1e-12)
    assert rep["projection"]["single_event_sensitivity"] == pytest.approx(rep["single_event_sensitivity"] / 4.0)
    # the expected (median) limit of the future sample has its background scaled: 3.2 events
    assert rep["projection"]["background"] == pytest.approx(3.2)
    assert rep["projection"]["br_upper_limit_expected"] > 0.0


def test_projection_expected_limit_without_background_is_the_same_counts_limit():
    rep = rare_decay_report(0, 0.0, 0.0, 0.1, n_kaons=1e10, projection=1e12)
    assert rep["projection"]["median_observed"] == 0
    assert rep["projection"]["br_upper_limit_expected"] == pytest.approx(LN10 / (0.1 * 1e12), rel=1e-12)


def test_limit_grows_with_the_observed_count():
    for r in (0.0, 0.1):
        limits = [br_upper_limit(n, 2.0, 0.5, 0.04, 1e12, r * 1e12) for n in range(0, 12)]
        assert all(b > a for a, b in zip(limits, limits[1:]))


def test_limit_grows_with_the_background_uncertainty_and_falls_with_the_background():
    """Documented directions: for n >= 1 a less certain background (db up) raises the limit, a larger
    background lowers it (CLs); for n = 0 neither matters."""
    for n in (1, 3, 8):
        by_db = [signal_upper_limit(n, 2.0, db, 0.05) for db in (0.0, 0.3, 0.8, 1.5, 2.0)]
        assert all(b > a for a, b in zip(by_db, by_db[1:]))
        by_b = [signal_upper_limit(n, b, 0.0, 0.05) for b in (0.0, 0.5, 2.0, 5.0)]
        assert all(b < a for a, b in zip(by_b, by_b[1:]))
    assert signal_upper_limit(0, 5.0, 2.0, 0.0) == signal_upper_limit(0, 0.1, 0.0, 0.0)


def test_limit_grows_with_the_normalisation_uncertainty():
    by_r = [br_upper_limit(2, 1.0, 0.3, 0.04, 1e12, r * 1e12) for r in (0.0, 0.05, 0.2, 0.5)]
    assert all(b > a for a, b in zip(by_r, by_r[1:]))
    # the signal acceptance uncertainty enters the same prior, in quadrature with dN_K / N_K
    combined = br_upper_limit(2, 1.0, 0.3, 0.04, 1e12, 0.03e12, acceptance_uncertainty=0.04 * 0.04)
    assert combined == pytest.approx(br_upper_limit(2, 1.0, 0.3, 0.04, 1e12, 0.05e12), rel=1e-12)


# --------------------------------------------------------------------------------------------------
# bad input: one line, exit code 2
# --------------------------------------------------------------------------------------------------

_GOOD = ["rare-decay", "--observed", "0", "--background", "0.4", "--background-uncertainty", "0.1",
         "--acceptance", "0.04"]


@pytest.mark.parametrize("argv,fragment", [
    (["--observed", "-1", "--acceptance", "0.1", "--n-kaons", "1e12"], "--observed"),
    (["--observed", "2.5", "--acceptance", "0.1", "--n-kaons", "1e12"], "--observed"),
    (["--observed", "0", "--acceptance", "0", "--n-kaons", "1e12"], "--acceptance"),
    (["--observed", "0", "--acceptance", "1.5", "--n-kaons", "1e12"], "--acceptance"),
    (["--observed", "0", "--acceptance", "nan", "--n-kaons", "1e12"], "NaN"),
    (["--observed", "0", "--acceptance", "0.1", "--n-kaons", "nan"], "NaN"),
    (["--observed", "0", "--acceptance", "0.1", "--n-kaons", "1e12", "--background", "-1"], "--background"),
    (["--observed", "0", "--acceptance", "0.1"], "--n-kaons"),
    (["--observed", "0", "--acceptance", "0.1", "--n-kaons", "1e12", "--normalisation-candidates", "5"], "not both"),
    (["--observed", "0", "--acceptance", "0.1", "--normalisation-candidates", "5"], "--normalisation-br"),
    (["--observed", "0", "--acceptance", "0.1", "--normalisation-candidates", "5", "--normalisation-br", "2",
      "--normalisation-acceptance", "0.1"], "--normalisation-br"),
    (["--observed", "0", "--acceptance", "0.1", "--n-kaons", "1e12", "--n-kaons-uncertainty", "2e12"], "100%"),
])
def test_bad_input_is_one_line_and_exit_code_2(argv, fragment, capsys):
    assert cli_main(["rare-decay", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fipscan") and fragment in lines[0]


def test_bad_input_exit_code_2_in_a_real_process():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "fipscan.cli.main", "rare-decay", "--observed", "0",
                          "--acceptance", "0.1", "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1


def test_api_refuses_bad_input():
    with pytest.raises(InputError, match="acceptance"):
        br_upper_limit(0, 0.0, 0.0, 1.2, 1e12)
    with pytest.raises(InputError, match="not both"):
        rare_decay_report(0, 0.0, 0.0, 0.1, n_kaons=1e12, normalisation={"candidates": 5, "br": 0.1, "acceptance": 0.1})
    with pytest.raises(InputError, match="neither"):
        rare_decay_report(0, 0.0, 0.0, 0.1)
    with pytest.raises(InputError, match="at least 1"):
        n_kaons_from_normalisation(0, 1e-7, 0.0, 0.1)


def test_human_readable_table(capsys):
    assert cli_main([*_GOOD, "--n-kaons", "1e12", "--n-kaons-uncertainty", "3e10", "--projection", "1e13"]) == 0
    out = capsys.readouterr().out
    assert "BR upper limit (90% CL)" in out and "single-event sensitivity" in out and "projection" in out
    assert "{" not in out
