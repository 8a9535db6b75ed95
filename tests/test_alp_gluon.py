"""BC11 ALP coupled to gluons (fipscan.models.alp_gluon): protocol, branching ratios, production declarations."""

from __future__ import annotations

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.final_states import FINAL_STATES
from fipscan.models import _alp_hadronic as H
from fipscan.models import alp_gluon as ag
from fipscan.models import get_model
from fipscan.models.base import check_model
from fipscan.production import primakoff as pk
from fipscan.production.channels import MesonMixing, PhotonConversion, channel_power

MODEL = "alp-gluon"


def test_model_conforms_and_declares_the_benchmark():
    model = get_model(MODEL)  # module:Class runs the conformance check
    assert check_model(model) == []
    assert (model.name, model.benchmark, model.spin) == ("alp-gluon", "BC11", 0)
    c = model.coupling
    assert (c.name, c.label, c.unit) == ("inv_f_G", r"$1/f_G$", "GeV^-1")
    assert c.production_power == 2.0 and c.width_power == 2.0
    assert model.mass_range == (1e-3, 2.0)
    assert model.default_final_states[0] == "gammagamma"
    for fs in model.default_final_states:
        assert FINAL_STATES[fs].detectable
    assert [r[0] for r in model.resonances] == ["pi0", "eta", "etap"]
    json.dumps(model.settings())


def test_branching_ratios_sum_to_one_over_registered_names():
    model = get_model(MODEL)
    for m in (0.01, 0.5, 0.8, 1.1, 1.7):
        br = model.branching_ratios(m)
        assert set(br) <= set(FINAL_STATES)
        assert sum(float(v) for v in br.values()) == pytest.approx(1.0, rel=1e-12)
        assert all(float(v) >= 0 for v in br.values())
    assert float(model.branching_ratios(0.1)["gammagamma"]) == 1.0


def test_width_and_lifetime_scale():
    # Gamma ~ (1/f_G)^2; c tau = hbar c / Gamma
    model = get_model(MODEL)
    w1, w2 = float(model.total_width(0.6, 1e-3)), float(model.total_width(0.6, 1e-5))
    assert w1 == pytest.approx(1e4 * w2, rel=1e-10)
    assert float(ag.ctau(0.6, 1e-3)) == pytest.approx(C.HBARC / w1, rel=1e-12)


def test_default_production_channels():
    model = get_model(MODEL)
    chans = model.production()
    assert [c.name for c in chans] == ["mixing(pi0)", "mixing(eta)", "mixing(etap)", "primakoff(pi0)",
                                       "primakoff(eta)"]
    mix = [c for c in chans if isinstance(c, MesonMixing)]
    assert [(c.parent, c.m_parent) for c in mix] == [("pi0", C.M_PI0), ("eta", C.M_ETA), ("etap", C.M_ETAP)]
    for c in chans:
        assert channel_power(c, model.coupling.production_power) == 2.0
    opt = get_model(MODEL, production_channels=("mixing(eta)", "primakoff(etap)"))
    assert [c.name for c in opt.production()] == ["mixing(eta)", "primakoff(etap)"]
    with pytest.raises(ConfigError, match="alp-gluon production_channels"):
        get_model(MODEL, production_channels=("bplus->pi0",))
    # the optional two-loop flavour channels: BR(B+ -> K+ a) = 0.024 (1/f_G / GeV^-1)^2 at m -> 0
    # (fipscan.models._alp_flavour.g_bs_bc11; negligible against mixing at NA62-BD)
    (bk,) = get_model(MODEL, production_channels=("bplus->kplus",)).production()
    assert float(bk.rate(1e-3, 1e-4, 400.0)) == pytest.approx(0.024e-8, rel=0.05)
    with pytest.raises(ConfigError, match="radiation length"):
        get_model(MODEL, target_z=74.0, target_a=183.84)


def test_mixing_channels_scale_as_g_squared_and_stay_finite_at_the_poles():
    model = get_model(MODEL)
    mix = {c.parent: c for c in model.production() if isinstance(c, MesonMixing)}
    for parent, c in mix.items():
        for m in (0.05, 0.3, 0.7, 1.5):
            unit = float(c.mixing_sq(m, 1.0))
            assert float(c.mixing_sq(m, 1e-4)) == pytest.approx(1e-8 * unit, rel=1e-10)
            assert unit == pytest.approx(abs(complex(H.mixing_angles(m, 1.0)[parent])) ** 2, rel=1e-12)
        at_pole = float(c.mixing_sq(c.m_parent, 1e-5))
        assert math.isfinite(at_pole) and at_pole > float(c.mixing_sq(1.05 * c.m_parent, 1e-5))


def test_primakoff_uses_the_effective_photon_coupling():
    model = get_model(MODEL)
    conv = [c for c in model.production() if isinstance(c, PhotonConversion)]
    assert [(c.parent, c.n_photons, c.br) for c in conv] == [("pi0", 2, C.BR_PI0_GG), ("eta", 2, C.BR_ETA_GG)]
    E = jnp.array([5.0, 40.0, 200.0])
    m, g = 0.3, 1e-3
    g_eff = float(H.g_agammagamma_eff(m, g))
    # Gamma(gamma gamma) = g_eff^2 m^3 / (64 pi): the convention of conversion_probability (BC9)
    assert float(H.width_gammagamma(m, g)) == pytest.approx(g_eff**2 * m**3 / (64 * math.pi), rel=1e-12)
    p = np.asarray(conv[0].conversion(E, m, g))
    np.testing.assert_allclose(p, np.asarray(pk.conversion_probability(E, m, g_eff)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(conv[0].conversion(E, m, 1e-2 * g)), 1e-4 * p, rtol=1e-10)


def test_cli_scan_writes_every_output_and_events_scale_as_g4_when_long_lived(tmp_path):
    """``fipscan scan --model alp-gluon`` as a user runs it (a 2 x 2 grid deep in the long-lived regime):
    the output set, the per-channel split in --json and scan.h5, and N ~ (1/f_G)^4 (production ~ (1/f_G)^2
    through the mixing angle and the Primakoff coupling, decay probability ~ Gamma ~ (1/f_G)^2)."""
    import h5py

    from fipscan.testing import cli_json

    out = tmp_path / "bc11"
    doc = cli_json("scan", "--model", MODEL, "--masses", "0.3:0.6:2", "--couplings", "1e-9:1e-8:2",
                   "--channels", "gammagamma,pipipi0", "--no-refine", "--no-bands", "-o", out)
    assert doc["model"] == MODEL and doc["channels"] == ["gammagamma", "pipipi0"]
    assert {"contour.csv", "contour_polygon.csv", "scan.h5", "contour.png", "contour.pdf"} <= set(doc["files"])
    assert set(doc["per_production"]) == {"mixing(pi0)", "mixing(eta)", "mixing(etap)", "primakoff(pi0)",
                                          "primakoff(eta)"}
    assert all(c["n_masses_excluded"] == 0 for c in doc["contours"])  # ~1e-14 events: nothing excluded
    with h5py.File(out / "scan.h5") as f:
        n = np.asarray(f["pot_0/events"])
        parts = {k: np.asarray(v) for k, v in f["events_by_production"].items()}
        by_state = {k: np.asarray(v) for k, v in f["events_by_final_state"].items()}
    assert np.all(n > 0) and np.all(np.isfinite(n))
    np.testing.assert_allclose(n[:, 1] / n[:, 0], 1e4, rtol=1e-3)
    np.testing.assert_allclose(sum(parts.values()), n, rtol=1e-9)
    np.testing.assert_allclose(sum(by_state.values()), n, rtol=1e-9)
    assert np.all(parts["mixing(pi0)"] > parts["primakoff(pi0)"])  # mixing dominates the BC11 production
