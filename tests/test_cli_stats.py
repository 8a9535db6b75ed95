"""``fipscan limit`` / ``fipscan discovery`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "fipscan.cli.main", *args], capture_output=True, text=True,
                          timeout=120)


def test_limit_json_zero_observed_is_2p30_whatever_background():
    for b in ("0", "0.016", "3"):
        res = run("limit", "--observed", "0", "--background", b, "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["upper_limit"] == pytest.approx(2.302585, rel=1e-6)


def test_limit_classic_poisson_value():
    # PDG RPP Statistics review, Table 40.3 (b = 0): n = 3 -> 6.68 at 90% CL
    res = run("limit", "--observed", "3", "--json")
    assert json.loads(res.stdout)["upper_limit"] == pytest.approx(6.68, abs=0.006)


def test_feldman_cousins_option():
    # Feldman & Cousins, PRD 57 (1998) 3873, Table IV: n = 0, b = 0 -> [0, 2.44]
    res = run("limit", "--observed", "0", "--background", "0", "--method", "fc", "--json")
    assert json.loads(res.stdout)["upper_limit"] == pytest.approx(2.44, abs=0.006)


def test_discovery_local_threshold():
    # b = 0.007: P(N >= 2) = 2.4e-5 > 2.87e-7 (5 sigma one-sided), P(N >= 3) = 5.7e-8 -> 3 events
    res = run("discovery", "--background", "0.007", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["min_observed"] == 3


@pytest.mark.parametrize("args", [
    ("limit", "--observed", "-1"),
    ("limit", "--observed", "1.5"),
    ("limit", "--observed", "1", "--background", "-0.1"),
    ("limit", "--observed", "1", "--cl", "1.2"),
    ("limit", "--observed", "1", "--background", "nan"),
    ("discovery", "--background", "-1"),
    ("discovery", "--background", "abc"),
])
def test_bad_statistics_input(args):
    res = run(*args)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_limit_text_output_keeps_every_digit_and_no_negative_zero():
    # %.6g printed 1e+15 for a limit of 1e15 + 4.05e7; repr round-trips the float
    res = run("limit", "--observed", "1000000000000000")
    assert res.returncode == 0, res.stderr
    assert float(res.stdout) > 1e15 + 4e7 and "e+" not in res.stdout
    # -ln(1 - cl) = cl (1 + cl/2 + ...) for tiny cl: 1e-300, not 0 (nor -0) as ln(1 - cl) in float64 gave
    res = run("limit", "--observed", "0", "--cl", "1e-300")
    assert res.returncode == 0, res.stderr
    assert float(res.stdout) == pytest.approx(1e-300, rel=1e-12) and not res.stdout.startswith("-")
