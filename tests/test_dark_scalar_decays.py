"""BC4 dark scalar decays to 4 pi, the 1-2 GeV width band, and the K+K- / pi+pi-pi0pi0 selections of
NA62-BD (fipscan.models.dark_scalar, fipscan/experiments/na62_bd.toml)."""

import math

import jax
import numpy as np
import pytest

from fipscan import constants as C
from fipscan.acceptance import build_acceptance_table
from fipscan.errors import ConfigError
from fipscan.experiments import load_experiment
from fipscan.models import dark_scalar as ds
from fipscan.models import get_model, parse_model_options

#: the multi-meson width is a closed form in m once C is fixed: it is checked to rounding
CLOSED_FORM = 1e-9
#: C of Boiarska et al.'s matching by hand at Lambda = 2 GeV, g = 1: Gamma_pert = 1.618e-7 GeV (the
#: perturbative width of this module), Gamma_pipi + Gamma_KK = 3.61e-9 + 3.48e-8 GeV (Winkler
#: arXiv:1809.01876 Fig. 3, the nodes next to 2 GeV), beta_4pi(2 GeV) = 0.9603:
#: C = (1.618e-7 - 3.84e-8)/(8 x 0.9603) = 1.606e-8 GeV^-2, to the 3 digits of the inputs
C_BY_HAND, C_HAND_TOLERANCE = 1.606e-8, 0.01
#: one mass array for every vectorised check of this file (eager JAX compiles each operation once per
#: shape: one shape keeps the file fast)
M = np.geomspace(0.2, 4.5, 400)


def _beta4pi(m):
    return math.sqrt(1.0 - 16.0 * C.M_PI**2 / m**2)


@pytest.mark.parametrize("m", [1.2, 1.8])
def test_4pi_width_is_the_multimeson_ansatz(m):
    # Boiarska et al. arXiv:1904.10447 sec. 3: Gamma = C m^3 beta_4pi, C from continuity at 2 GeV
    c = ds.multimeson_coefficient("float64")
    assert c == pytest.approx(C_BY_HAND, rel=C_HAND_TOLERANCE)
    four = float(ds.width_4pi_multimeson(m, 1e-6))
    assert four == pytest.approx(1e-6 * c * m**3 * _beta4pi(m), rel=CLOSED_FORM)
    pw = ds.partial_widths(m, 1e-6)
    shares = ds.FOUR_PI_SHARES
    assert float(pw["pipipi0pi0"]) == pytest.approx(shares["pipipi0pi0"] * four, rel=CLOSED_FORM)
    assert float(pw["pipipipi"]) == pytest.approx(shares["pipipipi"] * four, rel=CLOSED_FORM)
    assert sum(shares.values()) == pytest.approx(1.0, rel=1e-15)


def test_hadronic_width_is_continuous_where_4pi_meets_the_perturbative_width():
    lam = ds.MULTIMESON_MATCH_GEV
    below, above = ds.total_width(lam - 1e-9, 1.0), ds.total_width(lam, 1.0)
    assert float(below) == pytest.approx(float(above), rel=1e-6)
    pw = ds.partial_widths(lam + 1e-3, 1.0)  # above: the perturbative width only, in "other"
    assert all(float(pw[k]) == 0.0 for k in ("pipi", "pi0pi0", "kk", "pipipi0pi0", "pipipipi"))


def test_branching_ratios_with_4pi_sum_to_one_and_open_at_4_mpi():
    m = M
    for variation in ds.WIDTH_VARIATIONS:
        brs = ds.branching_ratios(m, variation)
        assert {"pipipi0pi0", "pipipipi"} <= set(brs)
        np.testing.assert_allclose(np.asarray(sum(brs.values())), 1.0, rtol=1e-12)
    brs = ds.branching_ratios(m)
    closed = m <= 4 * C.M_PI
    for name in ("pipipi0pi0", "pipipipi"):
        assert np.all(np.asarray(brs[name])[closed] == 0.0) and np.all(np.asarray(brs[name])[~closed & (m < 2)] > 0)
    # pi+pi-pi0pi0 : 2pi+2pi- = 5/9 : 7/18 (half rho rho, half sigma sigma)
    at = ds.branching_ratios(1.5)
    assert float(at["pipipi0pi0"] / at["pipipipi"]) == pytest.approx(10.0 / 7.0, rel=1e-12)


def test_width_band_ordering_and_support():
    m = M
    nominal, low, high = (np.asarray(ds.total_width(m, 1e-8, v)) for v in ("nominal", "low", "high"))
    assert np.all(low <= nominal) and np.all(nominal <= high)
    lo, hi = ds.WIDTH_BAND
    outside = (m <= lo) | (m >= hi)
    assert np.all(low[~outside] < nominal[~outside]) and np.all(high[~outside] > nominal[~outside])
    np.testing.assert_array_equal(low[outside], nominal[outside])
    np.testing.assert_array_equal(high[outside], nominal[outside])
    # x 1/2 and x 2 on the hadronic widths in the plateau, leptons and photons unchanged
    m0 = 1.5
    f_lo, f_hi = float(ds.width_variation_factor(m0, "low")), float(ds.width_variation_factor(m0, "high"))
    assert (f_lo, f_hi) == pytest.approx((0.5, 2.0), rel=1e-12)
    n, h = ds.partial_widths(m0, 1.0), ds.partial_widths(m0, 1.0, "high")
    assert float(h["mumu"]) == float(n["mumu"]) and float(h["kk"]) == pytest.approx(2 * float(n["kk"]), rel=1e-12)
    # differentiable through the ramps: d 2^s/dm = ln2 2^s s'(m), mid-ramp s = 1/2, s' = 1.5/0.1 GeV^-1
    grad = jax.grad(lambda x: ds.width_variation_factor(x, "high"))
    mid = math.log(2.0) * math.sqrt(2.0) * 15.0
    assert [float(grad(x)) for x in (0.95, 1.05, 1.5, 1.95, 2.05)] == pytest.approx([0, mid, 0, -mid, 0], abs=1e-9)


def test_width_variation_is_a_model_option_seen_by_cache_keys():
    nominal, high = get_model("dark-scalar"), get_model("dark-scalar", width_variation="high")
    assert nominal.settings()["width_variation"] == "nominal" and high.settings() != nominal.settings()
    assert float(high.total_width(1.5, 1.0)) > float(nominal.total_width(1.5, 1.0))
    assert float(high.branching_ratios(1.5)["mumu"]) < float(nominal.branching_ratios(1.5)["mumu"])
    assert parse_model_options("dark-scalar", ["width_variation=low"]) == {"width_variation": "low"}
    with pytest.raises(ConfigError, match="width_variation"):
        get_model("dark-scalar", width_variation="x3")


def test_na62_hadronic_selections_and_backgrounds_come_from_the_toml():
    exp = load_experiment("na62-bd")
    kk, four = exp.selections["kk"], exp.selections["pipipi0pi0"]
    assert (kk.detector, kk.min_energy_gev) == ("lkr", 5.0)
    assert (four.detector, four.min_energy_gev, four.min_photon_energy_gev) == ("lkr", 5.0, 1.0)
    assert (four.min_separation_m, four.min_radius_m) == (0.10, 0.15)
    # EPJC 85 (2025) 571, expected background in the signal region (68% CL, the upper error)
    assert (exp.backgrounds["kk"].expected, exp.backgrounds["kk"].uncertainty) == (4.6e-7, 1.52e-6)
    assert (exp.backgrounds["pipipi0pi0"].expected, exp.backgrounds["pipipi0pi0"].uncertainty) == (1.6e-8, 7.4e-8)
    assert exp.efficiency["kk"] == exp.efficiency["pipipi0pi0"] == exp.efficiency["mumu"]
    # the other hadronic final states of the same paper: SR background (central, upper 68% error)
    published = {"pipipi0": (1.2e-7, 4.3e-7), "pipieta": (7.0e-8, 2.62e-7), "pipigamma": (0.007, 0.004),
                 "kkpi0": (1.5e-9, 3.1e-9)}
    for fs, (expected, upper) in published.items():
        b, sel = exp.backgrounds[fs], exp.selections[fs]
        assert (b.expected, b.uncertainty) == (expected, upper), fs
        assert (sel.detector, sel.min_energy_gev, sel.min_photon_energy_gev) == ("lkr", 5.0, 1.0), fs
        assert exp.efficiency[fs] == exp.efficiency["mumu"], fs
    # the dark photon's --channels all scans every hadronic final state it decays to and NA62-BD selects
    from fipscan.models import get_model
    from fipscan.yields import resolve_final_states

    every = resolve_final_states(get_model("dark-photon"), exp, "all")
    assert {"pipi", "pipipi0", "pipipi0pi0", "kk", "kkpi0", "pipieta"} <= set(every)
    assert "pipigamma" not in every  # no A' -> pi+ pi- gamma width in the model (an ALP final state)


#: a coarse acceptance: two decay cells, 64 decays per point (enough for zero / non-zero)
_COARSE = dict(spin=0, log10theta=np.log10([1e-3, 2e-3]), z_edges=[102.425, 140.0, 182.0], n_mc=64, cache=False)


def test_kk_acceptance_threshold_and_energy_cut():
    # m = 0.95 GeV is below 2 m_K; at m = 1.0 GeV and p = 8 GeV each kaon has E <= gamma E* + beta gamma p*
    # = 8.06 x 0.5 + 8 x 0.079 = 4.66 GeV < 5 GeV (the selection's cut): nothing passes, whatever the geometry
    t = build_acceptance_table("na62-bd", "kk", log10m=np.log10([0.95, 1.0]), log10p=np.log10([8.0, 150.0]),
                               **_COARSE)
    assert np.all(t.values[0] == 0.0)
    assert np.all(t.values[1, 0] == 0.0)
    assert t.values[1, 1].max() > 0.3  # 150 GeV kaons at 1-2 mrad reach STRAW1, STRAW4 and the LKr


def test_pipipi0pi0_acceptance_threshold_and_energy_budget():
    # below 2 m_pi + 2 m_pi0 = 0.5495 GeV: closed.  At p = 12 GeV, E_S < 2 x 5 GeV (pions) + 4 x 1 GeV
    # (photons) = 14 GeV: no decay can pass both energy cuts (energy conservation)
    t = build_acceptance_table("na62-bd", "pipipi0pi0", log10m=np.log10([0.5, 1.0]),
                               log10p=np.log10([12.0, 150.0]), **_COARSE)
    assert np.all(t.values[0] == 0.0)
    assert np.all(t.values[1, 0] == 0.0)
    assert t.values[1, 1].max() > 0.05
