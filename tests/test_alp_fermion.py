"""BC10 ALP with Yukawa-like fermion couplings (fipscan.models.alp_fermion)."""

from __future__ import annotations

import cmath
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.final_states import FINAL_STATES
from fipscan.models import alp_fermion as af
from fipscan.models import get_model
from fipscan.models.base import check_model
from fipscan.production.channels import MesonDecay

V = 246.2196
ALPHA = 1 / 137.035999


def _forget_traces():
    """Drop what was traced or remembered with the hadronic module as it was: the jitted functions of the
    model modules (a jitted function keeps the trace of its first call, patched or not) and the final-state
    names the yield tables remember per model.  Without this the patched widths leak into later tests."""
    import sys

    from fipscan import yields

    for name, module in list(sys.modules.items()):
        if name.startswith("fipscan.models"):
            for obj in vars(module).values():
                if callable(getattr(obj, "clear_cache", None)) and hasattr(obj, "lower"):  # a jax.jit function
                    obj.clear_cache()
    yields._final_state_keys.cache_clear()


@pytest.fixture
def no_hadrons(monkeypatch):
    """The fermion-loop widths alone (the hadronic module adds g_had and the hadronic widths)."""
    _forget_traces()
    monkeypatch.setattr(af.H, "gamma_amplitude", lambda m, inv_fg: jnp.zeros_like(m))
    monkeypatch.setattr(af.H, "partial_widths", lambda m, inv_fg: {})
    yield
    monkeypatch.undo()
    _forget_traces()


def test_leptonic_width_closed_form():
    # shared reference: g_Y = 1e-4, m_a = 0.3 GeV -> Gamma(a -> mu mu) = 1.56023e-17 GeV (half unit of the last digit)
    assert float(af.width_ll(0.3, C.M_MU, 1e-4)) == pytest.approx(1.56023e-17, abs=0.5e-22)
    # g_Y^2 m_l^2 m beta/(8 pi v^2) for electrons at 0.05 GeV, typed
    m, me = 0.05, 0.51099895e-3
    expected = 1e-8 * me**2 * m * math.sqrt(1 - 4 * me**2 / m**2) / (8 * math.pi * V**2)
    assert float(af.width_ll(m, C.M_E, 1e-4)) == pytest.approx(expected, rel=1e-12)
    assert float(af.width_ll(0.2, C.M_MU, 1e-4)) == 0.0  # below 2 m_mu


def _bnt_gammagamma(m, g_y):
    """Gamma(a -> gamma gamma) of Bauer, Neubert, Thamm arXiv:1708.00443 eq. (22), typed independently (cmath):
    4 pi alpha^2 m^3/Lambda^2 |C_gg + sum_f N_c Q^2 c B1(tau_f)/(16 pi^2)|^2, B1 = 1 - tau f(tau)^2, with the
    Yukawa-form C_gg = -sum_f N_c Q^2 c/(16 pi^2) and c/Lambda = g_Y/v."""
    lam = 1000.0
    c = g_y * lam / V
    fermions = ((C.M_E, 1), (C.M_MU, 1), (C.M_TAU, 1), (1.67, 4 / 3), (4.78, 1 / 3), (172.57, 4 / 3))

    def f(tau):
        if tau >= 1:
            return complex(math.asin(1 / math.sqrt(tau)))
        r = math.sqrt(1 - tau)
        return math.pi / 2 + 0.5j * cmath.log((1 + r) / (1 - r))

    c_eff = -sum(n for _, n in fermions) * c / (16 * math.pi**2)
    for mf, n in fermions:
        tau = 4 * mf**2 / m**2
        c_eff += n * c * (1 - tau * f(tau) ** 2) / (16 * math.pi**2)
    return 4 * math.pi * ALPHA**2 * m**3 / lam**2 * abs(c_eff) ** 2


@pytest.mark.parametrize("m", [0.005, 0.15, 0.3, 0.9, 1.8])
def test_photon_width_against_the_derivative_basis_formula(m, no_hadrons):
    assert float(af.width_gammagamma(m, 1e-4)) == pytest.approx(_bnt_gammagamma(m, 1e-4), rel=1e-8)


def test_loop_function_limits_and_continuity():
    tau = jnp.array([1e-14, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 1e4 * (1 - 1e-12), 1e4 * (1 + 1e-12), 1e12])
    re, im = af.loop_function(tau)
    re, im = np.asarray(re), np.asarray(im)
    assert abs(re[0]) < 1e-11 and abs(im[0]) < 1e-11  # light fermions decouple
    assert re[1:4] == pytest.approx(math.pi**2 / 4, abs=1e-3) and abs(im[1]) < 1e-3 and im[2] == im[3] == 0
    assert re[4] == pytest.approx(re[5], rel=1e-12)  # series switch
    assert re[6] == pytest.approx(1.0, rel=1e-12)  # heavy fermions: F -> 1
    # the effective gluon coupling -> (c, b, t) x g_Y/v for a light ALP
    assert float(af.inv_fg_eff(1e-3, 1.0)) == pytest.approx(3.0 / V, rel=1e-6)


def test_coupling_map_both_ways():
    g = 3e-4
    c = float(af.c_over_lambda_from_g_y(g))
    assert c == pytest.approx(g / V, rel=1e-14)
    assert float(af.g_y_from_c_over_lambda(c)) == pytest.approx(g, rel=1e-14)
    # the lepton width of the derivative coupling c_ll/2 (d a/Lambda) lbar gamma gamma5 l: m m_l^2 c^2 beta/(8 pi)
    m = 0.4
    beta = math.sqrt(1 - 4 * C.M_MU**2 / m**2)
    assert float(af.width_ll(m, C.M_MU, g)) == pytest.approx(m * C.M_MU**2 * c**2 * beta / (8 * math.pi), rel=1e-12)


def test_branching_ratios_sum_to_one_no_nan_and_continuous():
    # with the hadronic widths when fipscan.models._alp_hadronic exists: one compiled program, two couplings
    widths = jax.jit(af.partial_widths)
    edges = [2 * C.M_E * (1 - 1e-9), 2 * C.M_E * (1 + 1e-9), 2 * C.M_MU * (1 - 1e-9), 2 * C.M_MU * (1 + 1e-9)]
    m = jnp.concatenate([jnp.logspace(-3, math.log10(2.0), 400), jnp.array(edges)])
    w1, w2 = widths(m, 1e-4), widths(m, 2e-4)
    assert set(w1) <= set(FINAL_STATES)
    tot = sum(np.asarray(v) for v in w1.values())
    assert np.all(np.isfinite(tot)) and np.all(tot > 0)
    assert all(np.all(np.asarray(v) >= 0) for v in w1.values())
    for k in w1:  # every width ~ g_Y^2
        assert np.asarray(w2[k]) == pytest.approx(4 * np.asarray(w1[k]), rel=1e-10, abs=1e-300)
    brs = sum(np.asarray(v) / tot for v in w1.values())
    assert brs == pytest.approx(1.0, abs=1e-12)
    # continuity of the total width across the lepton thresholds
    assert tot[401] == pytest.approx(tot[400], rel=1e-3) and tot[403] == pytest.approx(tot[402], rel=1e-3)


def test_fermion_widths_scale_dtypes_and_brs(no_hadrons):
    m = jnp.logspace(-3, math.log10(2.0), 200)
    brs = af.branching_ratios(m.astype(jnp.float32))  # float64: test_branching_ratios_sum_to_one_...
    assert all(v.dtype == jnp.float32 for v in brs.values())
    total = sum(np.asarray(v, np.float64) for v in brs.values())
    assert np.all(np.isfinite(total)) and total == pytest.approx(1.0, abs=1e-5)
    m = jnp.array([0.05, 0.3, 1.2])
    assert np.asarray(af.total_width(m, 2e-4)) == pytest.approx(4 * np.asarray(af.total_width(m, 1e-4)), rel=1e-12)
    w32 = af.total_width(m.astype(jnp.float32), jnp.float32(1e-4))
    assert w32.dtype == jnp.float32
    assert np.asarray(w32) == pytest.approx(np.asarray(af.total_width(m, 1e-4)), rel=1e-4)
    assert float(af.ctau(0.3, 1e-4)) == pytest.approx(C.HBARC / float(af.total_width(0.3, 1e-4)), rel=1e-12)


def test_jit_and_gradients(no_hadrons):
    f = jax.jit(af.total_width)
    m = jnp.array([0.1, 0.5])
    f(m, 1e-4)
    f(m * 1.1, 2e-4)
    assert f._cache_size() == 1
    check_grads(lambda m, g: af.total_width(m, 1e-4 * g) * 1e17, (jnp.array(0.5), jnp.array(1.0)), order=1,
                modes=("fwd", "rev"))
    check_grads(lambda m: af.width_gammagamma(m, 1e-4) * 1e21, (jnp.array(0.4),), order=1)


def test_model_conforms_and_production():
    model = get_model("alp-fermion")
    assert check_model(model) == []
    assert (model.name, model.benchmark, model.spin) == ("alp-fermion", "BC10", 0)
    assert model.coupling.name == "g_Y" and model.coupling.production_power == 2.0 and model.coupling.width_power == 2.0
    chans = model.production()
    assert [c.name for c in chans] == list(af.PRODUCTION_CHANNELS)
    assert all(isinstance(c, MesonDecay) for c in chans)
    by_name = {c.name: c for c in chans}
    # BR / g_Y^2 as m -> 0 (fipscan.models._alp_flavour): B+ -> K+ a 0.559, K+ -> pi+ a 1.77e-3
    assert float(by_name["bplus->kplus"].rate(1e-6, 1.0)) == pytest.approx(0.559, rel=2e-3)
    assert float(by_name["kplus->piplus"].rate(1e-6, 1.0)) == pytest.approx(1.77e-3, rel=5e-3)
    assert float(by_name["bplus->kplus"].rate(0.5, 2e-4)) == pytest.approx(
        4 * float(by_name["bplus->kplus"].rate(0.5, 1e-4)), rel=1e-12)
    assert by_name["kplus->piplus"].parent_weight is not None and by_name["bplus->kplus"].parent_weight is None
    assert 0 < float(by_name["klong->pi0"].parent_weight(jnp.array(50.0))) < 1
    assert model.settings()["model"] == "alp-fermion"
    if af.OPTIONAL_CHANNELS:  # ALP-meson mixing at 1/f_G = inv_fg_eff, only on request
        mix = af.ALPFermion(production_channels=("mixing(eta)",)).production()[0]
        assert mix.name == "mixing(eta)" and float(mix.mixing_sq(0.4, 2e-4)) == pytest.approx(
            4 * float(mix.mixing_sq(0.4, 1e-4)), rel=1e-10)
        assert all(0 < r[1] < 2.0 for r in model.resonances)


def test_options_refused_in_one_line():
    with pytest.raises(ConfigError, match="production_channels"):
        get_model("alp-fermion", production_channels=("pi0->gamma",))
    with pytest.raises(ConfigError, match="kaon_interaction_length"):
        af.ALPFermion(kaon_interaction_length=-1.0)
    model = af.ALPFermion(production_channels=("kplus->piplus",))
    assert [c.name for c in model.production()] == ["kplus->piplus"]


def test_events_scale_as_g4_when_long_lived():
    """N ~ g_Y^4 far below the lower edge (BR(B -> K a) ~ g_Y^2, decay probability ~ Gamma ~ g_Y^2), with one
    production channel and one final state (the CLI output set of the ALPs is tested with alp-gluon)."""
    import fipscan

    model = get_model("alp-fermion", production_channels=("bplus->kplus",))
    # the default acceptance (shipped with the package: read, not simulated)
    t = fipscan.precompute(model, "na62-bd", [0.3, 0.6], channels=("mumu",))
    n = np.asarray(t.events_grid(jnp.log(jnp.asarray([1e-9, 1e-8])), 1.4e17))
    assert np.all(n > 0) and np.all(np.isfinite(n))
    np.testing.assert_allclose(n[:, 1] / n[:, 0], 1e4, rtol=1e-3)
