"""BC1 dark photon widths, branching ratios and c*tau (fipscan.models.dark_photon)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan import constants as C
from fipscan.models import _vmd
from fipscan.models import dark_photon as dp

# DarkCast total width at eps = 1 (Ilten, Soreq, Williams, Xue, arXiv:1801.04847, data-driven VMD),
# as tabulated in shared/reference/README.md.
DARKCAST_TOTAL = {
    0.010: 2.43235e-5,
    0.100: 2.43245e-4,
    0.300: 1.38865e-3,
    0.500: 3.03098e-3,
    0.780: 3.78979e-2,
    1.020: 1.15256e-1,
    2.000: 2.03357e-2,
}
DARKCAST_BR = {  # same source: (ee, mumu, hadrons)
    0.300: (0.5255, 0.4655, 0.0090),
    0.780: (0.0501, 0.0500, 0.900),
}

# jitted once for the module (eager evaluation of the ~1200-op hadronic description is slow)
_TOTAL = jax.jit(dp.total_width)
_CTAU = jax.jit(dp.ctau)
_BR = jax.jit(dp.branching_ratios)
_HAD = jax.jit(dp.hadronic_channel_widths)
_WHAD = jax.jit(dp.width_hadrons)


def _same_6_digits(x, ref):
    """The published worked numbers carry 6 significant digits: agree to 1e-6 at that precision."""
    return f"{float(x):.5e}" == f"{ref:.5e}"


# ---------------------------------------------------------------- leptonic closed forms
def test_leptonic_widths_worked_numbers():
    # shared reference worked numbers for Gamma = (alpha eps^2 m/3)(1+2r) sqrt(1-4r), 6 digits
    assert _same_6_digits(dp.width_ee(0.4, 1e-6), 9.72980e-16)
    assert _same_6_digits(dp.width_mumu(0.4, 1e-6), 9.41404e-16)
    lept = dp.width_ee(0.4, 1e-6) + dp.width_mumu(0.4, 1e-6)
    assert _same_6_digits(C.HBARC / lept, 0.103076)
    assert _same_6_digits(dp.width_ee(0.05, 1e-6), 1.21623e-16)
    assert _same_6_digits(C.HBARC / dp.width_ee(0.05, 1e-6), 1.62245)
    # below 2 m_mu the hadronic width is only the pi0 gamma tail (< 1e-6 relative): ctau ~ leptonic one
    assert float(dp.ctau(0.05, 1e-6)) == pytest.approx(1.62245, rel=1e-5)


def test_width_ll_threshold_and_generic_lepton():
    m = jnp.array([0.1, 2 * C.M_MU * 0.999, 2 * C.M_MU * 1.001, 0.5])
    g = dp.width_ll(m, C.M_MU, 1.0)
    assert float(g[0]) == 0.0 and float(g[1]) == 0.0
    assert 0.0 < float(g[2]) < 0.05 * float(g[3])
    # massless limit is alpha m / 3
    assert float(dp.width_ll(1.0, 0.0, 1.0)) == pytest.approx(C.ALPHA / 3.0, rel=1e-12)


# ---------------------------------------------------------------- DarkCast table
@pytest.mark.parametrize("m", [0.010, 0.100, 0.300, 0.500, 0.780])
def test_total_width_matches_darkcast_below_0p9(m):
    ratio = float(_TOTAL(m, 1.0)) / DARKCAST_TOTAL[m]
    assert ratio == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("m", [1.020, 2.000])
def test_total_width_matches_darkcast_phi_and_2gev(m):
    ratio = float(_TOTAL(m, 1.0)) / DARKCAST_TOTAL[m]
    assert ratio == pytest.approx(1.0, abs=0.10)


_LEPTONIC = ("ee", "mumu", "gammagammagamma")


def _hadrons(br):
    """BR(A' -> hadrons): every final state that is not a lepton pair or three photons."""
    return sum(v for k, v in br.items() if k not in _LEPTONIC)


@pytest.mark.parametrize("m", [0.300, 0.780])
def test_branching_ratios_match_darkcast(m):
    br = _BR(m)
    br["hadrons"] = _hadrons(br)
    ee, mumu, had = DARKCAST_BR[m]
    assert float(br["ee"]) == pytest.approx(ee, abs=0.02)
    assert float(br["mumu"]) == pytest.approx(mumu, abs=0.02)
    assert float(br["hadrons"]) == pytest.approx(had, abs=0.02)


def test_phi_peak_is_mostly_hadronic():
    # DarkCast: BR(hadrons) = 0.957 at 1.02 GeV; phi -> KK dominates
    br = _BR(1.02)
    assert float(_hadrons(br)) == pytest.approx(0.957, abs=0.02)
    assert float(br["kk"] + br["kskl"]) > 0.7
    # phi -> K+K- 49.1%, K_S K_L 33.9% (PDG): the charged pair is the larger
    assert 1.2 < float(br["kk"] / br["kskl"]) < 1.7


def test_r_ratio_close_to_pqcd_at_2gev():
    # perturbative R = 3 sum_q Q_q^2 (1 + alpha_s/pi) for u, d, s with alpha_s(2 GeV) ~ 0.30
    r_pqcd = 2.0 * (1.0 + 0.30 / np.pi)
    assert float(dp.hadronic_r_ratio(2.0)) == pytest.approx(r_pqcd, rel=0.15)
    assert float(_vmd.r_pqcd(4.0)) == pytest.approx(r_pqcd, rel=0.01)


def test_pion_form_factor_normalisation_and_rho_peak():
    assert abs(complex(_vmd.pion_form_factor(0.3**2))) ** 2 == pytest.approx(1.43, rel=0.05)
    peak = max(abs(complex(_vmd.pion_form_factor(x * x))) ** 2 for x in np.linspace(0.74, 0.80, 61))
    assert 40.0 < peak < 50.0  # measured |F_pi|^2 peaks at ~45 (BaBar, CMD-2, KLOE)


# ---------------------------------------------------------------- structure and invariants
def test_branching_ratios_sum_to_one_and_channels_sum_to_hadrons():
    from fipscan.final_states import FINAL_STATES

    m = jnp.geomspace(1e-3, 2.0, 57)
    br = _BR(m)
    assert set(br) <= set(FINAL_STATES)  # keyed by registered final-state names only
    np.testing.assert_allclose(sum(br.values()), 1.0, rtol=1e-12)
    assert float(br["gammagammagamma"][0]) == pytest.approx(1.0)  # m = 1 MeV < 2 m_e: only A' -> 3 gamma
    assert float(jnp.max(br["gammagammagamma"][1:])) == 0.0
    # the final states of each coarse hadronic group add up to that group's share of the width
    groups = _HAD(m, 1.0)
    tot = _TOTAL(m, 1.0)
    np.testing.assert_allclose(br["pipipipi"] + br["pipipi0pi0"], groups["4pi"] / tot, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(br["kkpi0"] + br["k0kpi"], groups["kkpi"] / tot, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(br["kkpi0"], (br["kkpi0"] + br["k0kpi"]) / 6.0, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(_hadrons(br), _WHAD(m, 1.0) / tot, rtol=1e-10, atol=1e-15)
    for v in br.values():
        assert bool(jnp.all((v >= 0) & (v <= 1)))


def test_hadronic_width_zero_below_two_pion_threshold_except_radiative():
    m = jnp.array([0.01, 0.1, 0.2])
    had = _HAD(m, 1.0)
    assert float(jnp.max(had["pipi"])) == 0.0
    assert float(jnp.max(had["3pi"])) == 0.0
    # the only open hadronic channel is pi0 gamma (through the omega tail): tiny
    assert float(jnp.max(_WHAD(m, 1.0) / _TOTAL(m, 1.0))) < 1e-4


def test_eps_squared_scaling_and_ctau():
    m = jnp.array([0.05, 0.3, 0.78, 1.5])
    g1 = _TOTAL(m, 1e-3)
    g2 = _TOTAL(m, 1e-6)
    np.testing.assert_allclose(g2 / g1, 1e-6, rtol=1e-10)
    np.testing.assert_allclose(_CTAU(m, 1e-3) * g1, C.HBARC, rtol=1e-12)


def test_broadcasting():
    m = jnp.geomspace(0.01, 2.0, 5)[:, None]
    eps = jnp.array([1e-8, 1e-5, 1e-3])[None, :]
    assert _TOTAL(m, eps).shape == (5, 3)
    assert dp.width_ee(m, eps).shape == (5, 3)


# ---------------------------------------------------------------- numerics
def test_no_nan_or_inf_on_grid_values_and_mass_gradients():
    m = jnp.geomspace(1e-3, 2.0, 301)
    eps = jnp.geomspace(1e-12, 1.0, 13)
    mm, ee = jnp.meshgrid(m, eps, indexing="ij")

    @jax.jit
    def everything(a, b):
        vals = {"total_width": dp.total_width(a, b), "ctau": dp.ctau(a, b), "width_hadrons": dp.width_hadrons(a, b)}
        grad_log_total = jax.vmap(jax.grad(lambda x, y: jnp.log(dp.total_width(x, y)), argnums=(0, 1)))
        return vals, grad_log_total(a.ravel(), b.ravel())

    vals, grads = everything(mm, ee)
    for name, val in vals.items():
        assert bool(jnp.all(jnp.isfinite(val))), name
        assert bool(jnp.all(val >= 0)), name
        if name != "width_hadrons":  # hadrons: exactly 0 below m_pi0
            assert bool(jnp.all(val > 0)), name
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


def test_check_grads_widths():
    # one vectorised call (masses below, on and between the resonances); log for O(1) derivatives.
    # eps = 1e-6 finite-difference step in float64; atol/rtol 1e-4 (the omega/phi lines have
    # d ln Gamma / dm ~ 1e3 per GeV).
    masses = jnp.array([0.05, 0.3, 0.5, 0.7, 0.78, 0.9, 1.02, 1.3, 1.6, 1.95])
    eps = jnp.full_like(masses, 1e-4)
    @jax.jit
    def f(a, b):
        return jnp.log(dp.total_width(a, b))

    check_grads(f, (masses, eps), order=1, modes=("fwd", "rev"), eps=1e-6, atol=1e-4, rtol=1e-4)



def test_float32_matches_float64():
    # tolerance: 1e-3 relative (complex Breit-Wigner sums in single precision; measured ~1e-4)
    m64 = np.geomspace(1e-3, 2.0, 97)
    m32 = jnp.asarray(m64, dtype=jnp.float32)
    g32 = _TOTAL(m32, jnp.float32(1e-5))
    g64 = _TOTAL(jnp.asarray(m64), 1e-5)
    assert g32.dtype == jnp.float32 and g64.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(g32, np.float64), np.asarray(g64), rtol=1e-3)
    assert _CTAU(m32, 1e-5).dtype == jnp.float32
    assert _BR(m32)["ee"].dtype == jnp.float32
    # float32 holds eps down to 1e-12 above 2 m_e; below it the 3-gamma width (~1e-17 eps^2 GeV)
    # underflows for eps < 1e-10 (denormals are flushed), so check there at eps = 1e-8
    ct = _CTAU(m32, jnp.float32(1e-12))
    assert bool(jnp.all(jnp.isfinite(ct) | (m32 < 2 * C.M_E)))
    assert bool(jnp.all(jnp.isfinite(_CTAU(m32, jnp.float32(1e-8)))))


def test_jit_does_not_recompile():
    f = jax.jit(dp.total_width)
    f(jnp.array([0.3, 0.5]), 1e-4)
    n = f._cache_size()
    f(jnp.array([0.4, 0.9]), 2e-4)
    assert f._cache_size() == n


# ---------------------------------------------------------------- exclusive fits (published parameters)
# Tolerances named after the issue's targets: the DarkCast total width within 1% below 1.1 GeV and
# within 5% up to 2 GeV; an exclusive channel within 5% where its BR exceeds 1%.
TOL_BELOW_1P1 = 0.01
TOL_TO_2GEV = 0.05
TOL_CHANNEL = 0.05


@pytest.mark.parametrize("m", sorted(DARKCAST_TOTAL))
def test_total_width_within_issue_tolerance_of_darkcast(m):
    tol = TOL_BELOW_1P1 if m < 1.1 else TOL_TO_2GEV
    assert float(_TOTAL(m, 1.0)) / DARKCAST_TOTAL[m] == pytest.approx(1.0, abs=tol)


def test_widths_just_above_the_omega_match_darkcast_channels():
    # DarkCast (arXiv:1801.04847) public R_mu^F grids at 0.79 GeV: pi+pi- 6.014, pi+pi-pi0 3.159, i.e.
    # Gamma = 1.156e-2 and 6.07e-3 GeV at eps = 1; total 2.200e-2 GeV (+-2%)
    ex = jax.jit(dp.hadronic_exclusive_widths)(0.79, 1.0)
    assert float(_TOTAL(0.79, 1.0)) == pytest.approx(2.200e-2, rel=0.02)
    assert float(ex["pi+pi-"]) == pytest.approx(1.156e-2, rel=TOL_CHANNEL)
    assert float(ex["pi+pi-pi0"]) == pytest.approx(6.07e-3, rel=TOL_CHANNEL)


def test_three_pion_ratio_has_no_spurious_dip_at_1p5_gev():
    # e+e- -> pi+pi-pi0 (BaBar/SND) stays ~0.1 in R between the omega(1420) and omega(1650)
    r = _vmd.r_3pi(jnp.linspace(1.2, 1.8, 25) ** 2)
    assert float(jnp.min(r)) > 0.03
    assert float(_vmd.r_3pi(1.5**2)) == pytest.approx(0.10, rel=0.3)


def test_kaon_form_factor_sum_rules():
    # F_K+(0) = 1 (charge), F_K0(0) = 0: arXiv:1002.0279 fit 2 satisfies them to 1% (the constant
    # widths of its omega tower leave a small imaginary part at s = 0)
    assert abs(complex(_vmd._kaon_ff(jnp.asarray(1e-4), True)) - 1.0) < 1e-2
    assert abs(complex(_vmd._kaon_ff(jnp.asarray(1e-4), False))) < 1e-2


def test_narrow_resonances_resolved():
    # the omega (8.7 MeV) and phi (4.2 MeV) lines: the maximum of R on a 0.25 MeV grid sits within
    # 1 MeV of the meson masses and the line is not smeared (half width below 6 MeV)
    for lo, hi, m0, fn in ((0.770, 0.795, C.M_OMEGA, _vmd.r_3pi), (1.010, 1.030, C.M_PHI, _vmd.r_kk_charged)):
        m = jnp.arange(lo, hi, 2.5e-4)
        r = fn(m * m)
        i = int(jnp.argmax(r))
        assert abs(float(m[i]) - m0) < 1e-3
        half = m[r > 0.5 * r[i]]
        assert float(half[-1] - half[0]) < 0.012


def test_three_photon_width_beyond_euler_heisenberg():
    # McDermott, Patel, Ramani, arXiv:1705.00619 eq. (8): 1.45e-16 GeV at m = 1 MeV, eps = 1
    assert float(dp.width_3gamma(1e-3, 1.0)) == pytest.approx(1.45e-16, rel=0.02)


def test_continuity_across_the_join_to_the_inclusive_ratio():
    # 'other' switches on smoothly from 1.4 GeV: no step in R_total on a 1 MeV grid from 1.3 to 2.0 GeV
    m = jnp.arange(1.3, 2.0, 1e-3)
    r = _vmd.r_total(m * m)
    assert float(jnp.max(jnp.abs(jnp.diff(r)))) < 0.02
    other = _vmd.r_channels(m * m)["other"]
    assert float(other[0]) == 0.0 and bool(jnp.all(jnp.isfinite(other)))


# DarkCast total width at m = 1.5 GeV, eps = 1: 1.547e-2 GeV, the value quoted in the issue (DarkCast,
# arXiv:1801.04847); it is not in shared/reference/README.md, whose table stops at 1.02 and 2.0 GeV.
DARKCAST_TOTAL_1P5_ISSUE = 1.547e-2


def test_total_width_at_1p5_gev_within_issue_tolerance():
    assert float(_TOTAL(1.5, 1.0)) / DARKCAST_TOTAL_1P5_ISSUE == pytest.approx(1.0, abs=TOL_TO_2GEV)


def test_four_pion_share_at_1p5_gev():
    # BaBar: sigma(2pi+2pi-) ~ 29 nb, sigma(pi+pi-2pi0) ~ 30-35 nb near 1.5 GeV (sigma_mumu = 38.6 nb),
    # i.e. R_4pi ~ 1.6 of R_had ~ 2.1: the two 4pi final states carry 0.3-0.5 of the total width
    br = _BR(1.5)
    four_pi = float(br["pipipipi"] + br["pipipi0pi0"])
    assert 0.3 < four_pi < 0.5
    assert four_pi < float(_hadrons(br))
