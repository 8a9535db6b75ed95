"""Acceptance of any registered final state (kernels.acceptance with decay=DecaySpec): the NA62
spectrometer with photons, and the calorimeter detector kind.

The kernel geometry is built here from the NA62 beam-dump numbers (NA62 JINST 12 (2017) P05025 as used in
ALPINIST, arXiv:2201.05170; the values of fipscan/experiments/na62_bd.toml), so that these kernel tests do
not depend on the configuration layer.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan.final_states import FINAL_STATES, list_final_states
from fipscan.kernels.acceptance import (
    CalorimeterGeometry,
    DecaySpec,
    Geometry,
    Selection,
    acceptance_mc,
    acceptance_mc_smooth,
)

KEY = jax.random.PRNGKey(42)
M_E, M_MU, M_PI = 0.51099895e-3, 0.1056583755, 0.13957039

GEOM = Geometry(
    z_prod=23.070, y_prod=-0.022, z_dv_start=102.425, z_dv_end=182.0, z_straw1=183.0, z_straw4=218.7,
    straw_r_min=0.10, straw_r_max=1.0, z_magnet=0.5 * (196.35 + 197.65), pt_kick=0.270, z_lkr=241.495,
    lkr_half_width=1.13, lkr_octagon_sum=1.598, lkr_r_min=0.08, z_muv3=246.85, muv3_half_width=1.32,
    muv3_r_min=0.11,
)
SEL_EE = Selection(M_E, 1.0, 0.10, 0.15, "lkr")
SEL_MUMU = Selection(M_MU, 5.0, 0.0, 0.0, "muv3")
SEL_HAD = Selection(M_PI, 1.0, 0.10, 0.15, "lkr", min_photon_energy=1.0)
#: a calorimeter 100 m downstream of the production point, 4 m x 4 m, with a 5 cm beam hole
CALO = CalorimeterGeometry(z_prod=0.0, y_prod=0.0, z_face=100.0, x_centre=0.0, y_centre=0.0,
                           half_width_x=2.0, half_width_y=2.0, r_min=0.05)
SEL_CALO = Selection(0.0, 1.0, 0.05, 0.0, "lkr", min_photon_energy=1.0)
NO_CUTS = Selection(0.0, 0.0, 0.0, 0.0, "lkr")


def spec(name):
    return DecaySpec.from_daughters(FINAL_STATES[name].daughters)


DETECTABLE = list_final_states(detectable_only=True)
CALO_SET = ("ee", "gammagamma", "pipipi0", "pipipi0pi0", "pi0gamma")


# --------------------------------------------------------------------------------------------------
# DecaySpec and dispatch
# --------------------------------------------------------------------------------------------------
def test_decay_spec_from_registry_and_validation():
    s = spec("pipipi0pi0")
    assert s.kinds == ("charged", "charged", "two_photon", "two_photon") and s.n == 4 and s.has_charged
    assert s.n_dims == 3 * 4 - 2 + 4 and s.threshold == pytest.approx(FINAL_STATES["pipipi0pi0"].threshold)
    assert spec("gammagamma").kinds == ("photon", "photon") and not spec("gammagamma").has_charged
    assert hash(s) == hash(spec("pipipi0pi0")) and s == spec("pipipi0pi0")  # a valid jit static argument
    assert DecaySpec((0.4976, 0.4976), (0, 0)).kinds == ("invisible", "invisible")
    with pytest.raises(ValueError, match="2 to 4"):
        DecaySpec((0.1,) * 5, (0,) * 5)
    with pytest.raises(ValueError, match="one entry per daughter"):
        DecaySpec((0.1, 0.1), (1,))
    with pytest.raises(ValueError, match="two photons"):
        DecaySpec((M_PI, M_PI), (1, -1), (True, False))
    with pytest.raises(ValueError, match="detector"):
        Selection(M_PI, 1.0, 0.1, 0.1, "hcal")
    with pytest.raises(TypeError, match="DecaySpec"):
        acceptance_mc(CALO, NO_CUTS, 0.3, 10.0, 0.0, 50.0, KEY, 16)
    with pytest.raises(ValueError, match="no visible daughter"):
        acceptance_mc(GEOM, NO_CUTS, 1.2, 10.0, 0.0, 150.0, KEY, 16, decay=DecaySpec((0.4976, 0.4976), (0, 0)))
    with pytest.raises(ValueError, match="m_daughter"):
        acceptance_mc(GEOM, SEL_EE, 0.3, 10.0, 0.0, 150.0, KEY, 16, M_E, decay=spec("ee"))


# --------------------------------------------------------------------------------------------------
# properties for every registered final state
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DETECTABLE)
def test_bounds_and_threshold_every_final_state(name):
    fs = FINAL_STATES[name]
    d = spec(name)
    thr = fs.threshold
    m = jnp.array([0.5 * thr, thr, thr + 0.02, thr + 0.3, thr + 1.0])[:, None, None, None]
    p = jnp.array([5.0, 30.0, 150.0])[:, None, None]
    th = jnp.array([0.0, 1e-3, 3e-3])[:, None]
    z = jnp.array([120.0, 170.0])
    # every final state on the spectrometer; on the calorimeter one of each topology (2-body charged,
    # photons only, 3 and 4 bodies with pi0 photons): each DecaySpec is its own compilation
    kinds = ((GEOM, SEL_HAD, z), (CALO, SEL_CALO, z - 100.0)) if name in CALO_SET else ((GEOM, SEL_HAD, z),)
    for geom, sel, zz in kinds:
        a = np.asarray(acceptance_mc(geom, sel, m, p, th, zz, KEY, 256, z_width=10.0, decay=d))
        assert a.shape == (5, 3, 3, 2)
        assert np.all(np.isfinite(a)) and np.all((a >= 0.0) & (a <= 1.0)), name
        assert np.all(a[:2] == 0.0), name  # at and below threshold
        assert a.max() > 0.05, (name, type(geom).__name__)


def test_two_body_spec_reproduces_two_track_path():
    """decay=DecaySpec(mumu/ee/pipi) uses the same unit-point layout as decay=None, so the two estimates
    differ only where rounding moves an event across a cut; required: within the MC noise, max |dA| <=
    1/sqrt(n_mc) = 0.031 at n_mc = 1024 (measured: identical)."""
    m = jnp.array([0.25, 0.4, 1.0])[:, None, None]
    p = jnp.array([10.0, 40.0, 150.0])[:, None]
    th = jnp.array([0.0, 1e-3, 2.5e-3])
    n_mc = 1024
    for name, sel, angular in (("ee", SEL_EE, "vector"), ("mumu", SEL_MUMU, "vector"),
                               ("pipi", SEL_HAD, "vector_scalars")):
        old = np.asarray(acceptance_mc(GEOM, sel, m, p, th, 150.0, KEY, n_mc, z_width=40.0, angular=angular))
        new = np.asarray(acceptance_mc(GEOM, sel, m, p, th, 150.0, KEY, n_mc, z_width=40.0, angular=angular,
                                       decay=spec(name)))
        assert old.max() > 0.3, name
        assert np.max(np.abs(new - old)) <= 1.0 / math.sqrt(n_mc), name


def test_straws_only_and_photon_energy_cut_are_looser_and_tighter():
    """Same events: dropping the LKr requirement can only gain, raising a photon threshold only lose."""
    args = (jnp.array([0.6, 1.2])[:, None, None], jnp.array([10.0, 50.0, 200.0])[:, None], jnp.array([0.0, 2e-3]),
            150.0, KEY, 512)
    for name in ("pipi", "pipipi0"):
        lkr = np.asarray(acceptance_mc(GEOM, SEL_HAD, *args, z_width=40.0, decay=spec(name)))
        straws = np.asarray(acceptance_mc(GEOM, dataclasses.replace(SEL_HAD, detector="straws"), *args,
                                          z_width=40.0, decay=spec(name)))
        assert np.all(straws >= lkr) and np.any(straws > lkr + 0.02), name
    no_e = np.asarray(acceptance_mc(GEOM, dataclasses.replace(SEL_HAD, min_photon_energy=0.0), *args,
                                    z_width=40.0, decay=spec("pipipi0")))
    hi_e = np.asarray(acceptance_mc(GEOM, dataclasses.replace(SEL_HAD, min_photon_energy=3.0), *args,
                                    z_width=40.0, decay=spec("pipipi0")))
    assert np.all(hi_e <= no_e) and np.any(hi_e < no_e - 0.02)


def test_vertex_limit_charged_vs_neutral():
    """All-photon final states decay up to the LKr, final states with a track only up to STRAW1."""
    z = jnp.array([190.0, 200.0])  # between STRAW1 (183) and the LKr (241.5)
    gg = np.asarray(acceptance_mc(GEOM, SEL_HAD, 0.3, 50.0, 2e-3, z, KEY, 512, decay=spec("gammagamma")))
    pp = np.asarray(acceptance_mc(GEOM, SEL_HAD, 0.3, 50.0, 2e-3, z, KEY, 512, decay=spec("pipi")))
    assert np.all(gg > 0.1) and np.all(pp == 0.0)
    late = acceptance_mc(GEOM, SEL_HAD, 0.3, 50.0, 2e-3, 242.0, KEY, 512, decay=spec("gammagamma"))
    assert float(late) == 0.0


# --------------------------------------------------------------------------------------------------
# angular distributions
# --------------------------------------------------------------------------------------------------
def test_spin0_vs_vector_ee():
    """Low momentum: the 1 + cos^2 law of a transverse vector puts more decays along the flight axis, so
    more pairs with one soft electron, lost to E > 1 GeV and to the magnet sweeping it out of the
    straws/LKr: the vector acceptance is lower by >= 0.04 (measured 0.08; QMC noise ~0.01 at 4096).
    The energy sharing E_1/E = (1 + beta cos theta*)/2 matters at any boost, so the ultra-boosted
    agreement is the geometric one: no magnet, no energy or separation cut, p = 10^6 GeV (gamma = 10^7):
    both tend to the acceptance of the FIP line itself, the fraction of azimuths at which the line passes
    the straw annulus and the LKr (computed here with numpy).  Tolerances: vector vs isotropic 2e-3
    (measured 0: the same points, both daughters on the FIP line to 1e-7 rad); each vs the line 5e-3 (the
    QMC quadrature of the azimuth, measured 2.4e-3 at n_mc = 4096)."""
    d = spec("ee")
    low = [float(acceptance_mc(GEOM, SEL_EE, 0.1, 50.0, 2e-3, 150.0, KEY, 4096, z_width=20.0, angular=a, decay=d))
           for a in ("vector", "isotropic")]
    assert low[1] - low[0] > 0.04, low
    flat = dataclasses.replace(GEOM, pt_kick=0.0)
    th = 5e-3
    high = [float(acceptance_mc(flat, NO_CUTS, 0.1, 1e6, th, 150.0, KEY, 4096, z_width=20.0, angular=a, decay=d))
            for a in ("vector", "isotropic")]
    phi = (np.arange(200_000) + 0.5) / 200_000 * 2 * np.pi
    ok = np.ones_like(phi, dtype=bool)
    for zp in (GEOM.z_straw1, GEOM.z_straw4, GEOM.z_lkr):
        x = math.tan(th) * np.cos(phi) * (zp - GEOM.z_prod)
        y = GEOM.y_prod + math.tan(th) * np.sin(phi) * (zp - GEOM.z_prod)
        r = np.hypot(x, y)
        if zp == GEOM.z_lkr:
            ok &= (np.abs(x) < GEOM.lkr_half_width) & (np.abs(y) < GEOM.lkr_half_width)
            ok &= (np.abs(x) + np.abs(y) < GEOM.lkr_octagon_sum) & (r > GEOM.lkr_r_min)
        else:
            ok &= (r > GEOM.straw_r_min) & (r < GEOM.straw_r_max)
    line = ok.mean()
    assert 0.5 < line < 0.99
    assert abs(high[0] - high[1]) < 2e-3 and abs(high[0] - line) < 5e-3 and abs(high[1] - line) < 5e-3, (high, line)


# --------------------------------------------------------------------------------------------------
# calorimeter kind
# --------------------------------------------------------------------------------------------------
def test_calorimeter_huge_face_no_cuts_sees_everything():
    """No cuts and an (almost) infinite face: every event whose visible daughters all move forward is
    seen.  For isotropic X -> gamma gamma exactly one photon moves backward when |cos theta*| > beta, so
    A = beta (1-D QMC in cos theta*: tolerance 4/n_mc); at 300 GeV every daughter moves forward: A = 1."""
    huge = CalorimeterGeometry(0.0, 0.0, 100.0, 0.0, 0.0, 1e6, 1e6, 0.0)
    m = jnp.array([0.01, 0.3, 1.5])[:, None, None]
    p = jnp.array([1.0, 20.0, 300.0])[:, None]
    th = jnp.array([0.0, 1e-2, 0.1])
    n_mc = 1024
    gg = np.asarray(acceptance_mc(huge, NO_CUTS, m, p, th, 50.0, KEY, n_mc, z_width=20.0, angular="isotropic",
                                  decay=spec("gammagamma")))
    beta = np.asarray(p / jnp.sqrt(p * p + m * m))
    np.testing.assert_allclose(gg, np.broadcast_to(beta, gg.shape), rtol=0, atol=4.0 / n_mc)
    for name in ("gammagamma", "pi0pi0", "pipigamma"):
        a = np.asarray(acceptance_mc(huge, NO_CUTS, m, p, th, 50.0, KEY, 256, z_width=20.0, decay=spec(name)))
        above = np.asarray(m)[:, 0, 0] > FINAL_STATES[name].threshold
        assert np.all(a[~above] == 0.0), name
        np.testing.assert_allclose(a[above, 2, :], 1.0, rtol=0, atol=1e-12)  # sum(w acc)/sum(w): rounding only


def test_off_axis_calorimeter():
    """A face centred at x = 5 m, 100 m away (half widths 1 m): FIPs at theta = 0 put at least one
    daughter near the axis, so nothing is seen; FIPs aimed at it (theta = atan(5/100), uniform azimuth)
    are seen in roughly (2 x 1 m)/(2 pi 5 m) ~ 6% of the azimuths."""
    off = CalorimeterGeometry(0.0, 0.0, 100.0, 5.0, 0.0, 1.0, 1.0, 0.0)
    for name in ("gammagamma", "pipi", "pipipi0"):
        a0 = np.asarray(acceptance_mc(off, NO_CUTS, jnp.array([0.5, 1.0])[:, None], jnp.array([10.0, 100.0]), 0.0,
                                      50.0, KEY, 1024, z_width=20.0, decay=spec(name)))
        assert np.all(a0 == 0.0), name
    aimed = float(acceptance_mc(off, NO_CUTS, 0.3, 100.0, math.atan(0.05), 50.0, KEY, 4096, z_width=20.0,
                                decay=spec("gammagamma")))
    assert 0.02 < aimed < 0.1, aimed


def test_gammagamma_separation_closed_form():
    """X -> gamma gamma on the axis (theta = 0), isotropic decay at a fixed vertex a distance L before a
    face without other cuts.  Photon i (cos theta* = c for photon 1) reaches the face at transverse
    distance L p_T/p_z,i with p_T = (m/2) sin theta*, p_z = gamma (m/2)(beta +- c), on opposite sides, so
    the separation is s(c) = 2 beta L sqrt(1 - c^2) / (gamma (beta^2 - c^2)) and P(s > d) = (1/2) integral
    of [s(c) > d] dc, integrated here with numpy.  Small-angle limit: s = 2 m L/(E sqrt(1 - c^2)) gives
    P = 1 - sqrt(1 - x0^2), x0 = 2 m L/(E d).  Tolerance 3e-3 (QMC, n_mc = 4096)."""
    m, p, L, d = 0.1, 50.0, 50.0, 0.3
    E = math.hypot(p, m)
    gamma, beta = E / m, p / E
    c = np.linspace(-1, 1, 2_000_001)[1:-1]
    s = 2 * beta * L * np.sqrt(1 - c * c) / (gamma * (beta * beta - c * c))
    expected = np.mean(s > d)
    x0 = 2 * m * L / (E * d)
    assert expected == pytest.approx(1 - math.sqrt(1 - x0 * x0), abs=1e-3)
    face = CalorimeterGeometry(0.0, 0.0, 100.0, 0.0, 0.0, 1e3, 1e3, 0.0)
    sel = dataclasses.replace(NO_CUTS, min_separation=d)
    got = float(acceptance_mc(face, sel, m, p, 0.0, 100.0 - L, KEY, 4096, angular="isotropic",
                              decay=spec("gammagamma")))
    assert got == pytest.approx(expected, abs=3e-3), (got, expected)


# --------------------------------------------------------------------------------------------------
# precision, jit, vmap, gradients
# --------------------------------------------------------------------------------------------------
def test_float32_agrees_with_float64():
    """The same key gives the same points in both precisions; only events within rounding of a cut
    differ: max |A32 - A64| < 1/sqrt(n_mc) (as for the two-track path)."""
    m, p = np.array([0.6, 1.0, 1.6]), np.geomspace(5, 300, 5)[:, None]
    th = np.array([1e-4, 1e-3, 3e-3])[:, None, None]
    n_mc = 1024
    for name, geom, sel, z in (("pipipi0", GEOM, SEL_HAD, 150.0), ("gammagamma", CALO, SEL_CALO, 50.0)):
        a64 = acceptance_mc(geom, sel, m, p, th, np.float64(z), KEY, n_mc, z_width=20.0, decay=spec(name))
        f32 = np.float32
        a32 = acceptance_mc(geom, sel, m.astype(f32), p.astype(f32), th.astype(f32), f32(z), KEY, n_mc,
                            z_width=20.0, decay=spec(name))
        assert a32.dtype == jnp.float32 and a64.dtype == jnp.float64
        assert np.asarray(a64).max() > 0.1, name
        assert np.max(np.abs(np.asarray(a32, np.float64) - np.asarray(a64))) < 1 / math.sqrt(n_mc), name


def test_jit_no_recompile_and_vmap():
    d = spec("pipipi0pi0")
    acceptance_mc(GEOM, SEL_HAD, 1.1, 30.0, 1e-3, 150.0, KEY, 96, decay=d)
    before = acceptance_mc._cache_size()
    acceptance_mc(GEOM, SEL_HAD, 1.3, 40.0, 2e-3, 160.0, jax.random.PRNGKey(1), 96, decay=d)
    geom2 = dataclasses.replace(GEOM, z_lkr=242.0)  # new numbers, same pytree structure; an equal new DecaySpec
    acceptance_mc(geom2, SEL_HAD, 1.2, 30.0, 1e-3, 150.0, KEY, 96, decay=spec("pipipi0pi0"))
    assert acceptance_mc._cache_size() == before
    m = jnp.array([0.9, 1.2, 1.6])
    p = jnp.array([20.0, 60.0, 150.0])
    th = jnp.array([2e-4, 1e-3, 2e-3])
    z = jnp.array([110.0, 140.0, 170.0])
    f = lambda m, p, th, z: acceptance_mc(GEOM, SEL_HAD, m, p, th, z, KEY, 256, decay=d)  # noqa: E731
    np.testing.assert_allclose(np.asarray(jax.vmap(f)(m, p, th, z)), np.asarray(f(m, p, th, z)), rtol=1e-12)


@pytest.mark.slow
def test_check_grads_three_body_smooth():
    """Sigmoid-relaxed acceptance of pi+ pi- pi0 (a weighted 3-body estimate): derivatives in the FIP
    mass (through the phase-space weights and momenta), momentum, angle, and in geometry and selection
    numbers, forward and reverse mode against finite differences."""
    d = spec("pipipi0")

    def f(x):
        m, p, th, hw, e_min = x
        geom = dataclasses.replace(GEOM, lkr_half_width=hw)
        sel = dataclasses.replace(SEL_HAD, min_photon_energy=e_min)
        return acceptance_mc_smooth(geom, sel, m, p, th, 150.0, KEY, 64, z_width=20.0, sharpness=20.0, decay=d)

    f = jax.jit(f)
    x = jnp.array([0.9, 100.0, 1e-3, 1.13, 1.0])
    assert 0.02 < float(f(x)) < 0.98
    check_grads(f, (x,), order=1, modes=("fwd", "rev"), eps=1e-6, atol=1e-5, rtol=1e-4)
    # and on a calorimeter, in the face position
    g = jax.grad(lambda xc: acceptance_mc_smooth(dataclasses.replace(CALO, x_centre=xc), SEL_CALO, 0.9, 30.0, 1e-2,
                                                 50.0, KEY, 64, sharpness=20.0, decay=d))(0.3)
    assert np.isfinite(float(g)) and float(g) != 0.0
