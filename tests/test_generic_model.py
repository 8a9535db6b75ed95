"""The model-independent ("generic") mode of NA62's hadronic analysis (fipscan.models.generic): coupling axis
Gamma_X, one production channel of a parent model at C_ref, BR(X -> final state) = 1 (NA62 EPJC 85 (2025) 571)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.errors import ConfigError
from fipscan.models import get_model, list_models, parse_model_options
from fipscan.models.base import check_model
from fipscan.models.generic import REFERENCE_COUPLINGS
from fipscan.production.channels import channel_power

#: the masses of the yield-table tests and of the CLI run (the CLI's --masses 0.3:1.5:3 is np.geomspace too,
#: so the CLI reads the tables the fixture put in the session cache)
MASSES = np.geomspace(0.3, 1.5, 3)
POT = 1e18
#: Gamma_X [GeV] of the scaling test and of the CLI run (--couplings 1e-24:1e-12:4)
GAMMAS = np.geomspace(1e-24, 1e-12, 4)


def test_registered_and_conforms():
    assert "generic" in list_models()
    model = get_model("generic")
    assert check_model(model) == []
    # defaults: dark-scalar, its first channel B+ -> K+ S at sin^2 theta = 1e-8, X -> pi+ pi-
    assert (model.parent, model.production_channel, model.final_state) == ("dark-scalar", "bplus->kplus", "pipi")
    assert model.reference_coupling == REFERENCE_COUPLINGS["dark-scalar"] == 1e-8
    assert model.coupling.production_power == 0 and model.coupling.width_power == 1
    assert model.coupling.axis_label == r"$\Gamma_X$ [GeV]"
    assert model.spin == 0 and get_model("generic", parent="dark-photon", production_channel="brems",
                                         final_state="ee").spin == 1
    # mass range: 2 m_pi+ .. the parent's 4.5 GeV (below m_B+ - m_K+); K+ -> pi+ S closes at m_K+ - m_pi+
    lo, hi = model.mass_range
    assert lo == pytest.approx(2 * 0.13957039, rel=1e-6) and hi == 4.5
    kaon = get_model("generic", production_channel="kplus->piplus")
    assert kaon.mass_range[1] == pytest.approx(0.493677 - 0.13957039, rel=1e-6)
    # BR = 1 into the one final state; Gamma_X is the width itself
    brs = model.branching_ratios(jnp.array([0.4, 1.0]))
    assert list(brs) == ["pipi"] and np.all(np.asarray(brs["pipi"]) == 1.0)
    np.testing.assert_allclose(np.asarray(model.total_width(jnp.array([0.4, 1.0]), 3e-17)), 3e-17, rtol=0)
    s = model.settings()
    assert s["model"] == "generic" and s["parent"]["production_channels"] == ["bplus->kplus"]
    # options through the CLI's parser: a number for reference_coupling, a list for parent_options
    opts = parse_model_options("generic", ["parent=dark-photon", "production_channel=brems", "final_state=mumu",
                                           "reference_coupling=2e-6", "parent_options=form_factor=false"])
    dp = get_model("generic", **opts)
    assert dp.reference_coupling == 2e-6 and dp.parent_model.form_factor is False


@pytest.mark.parametrize("options, words", [
    (dict(parent="axion"), "parent must be a registered model"),
    (dict(parent="generic"), "parent must be a registered model"),
    (dict(production_channel="rho->pi"), "not a production channel of dark-scalar"),
    (dict(final_state="e+e-"), "registered final state"),
    (dict(final_state="other"), "registered final state"),  # registered, but no detector reconstructs it
    (dict(parent="dark-photon", production_channel="pi0->gamma", final_state="pipi"),
     "closed for pi0->gamma of dark-photon"),  # 2 m_pi > m_pi0
    (dict(production_channel="kplus->piplus", final_state="kk"), "closed for kplus->piplus"),  # 2 m_K > m_K - m_pi
    (dict(parent="dark-photon", production_channel="brems", final_state="gammagamma"), "Landau-Yang"),
    (dict(parent="dark-photon", production_channel="brems", final_state="pi0pi0"), "Bose symmetry"),
    (dict(reference_coupling=-1.0), "reference_coupling"),
    (dict(parent="dark-photon", production_channel="brems", final_state="ee", reference_coupling=2.0),
     "reference_coupling 2 must lie in"),  # epsilon <= 1
    (dict(parent_options=("production_channels=brems",)), "parent_options cannot set production_channels"),
    (dict(parent_options=("nonsense=1",)), "no such option"),
])
def test_bad_options_refused_in_one_line(options, words):
    with pytest.raises(ConfigError, match=words) as exc:
        get_model("generic", **options)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("parent, channel, fs", [
    ("dark-scalar", "bplus->kplus", "pipi"),  # a two-body meson decay
    ("dark-scalar", "bplus->xs", "pipi"),  # a decay with a recoil-mass distribution (inclusive mode)
])
def test_production_fixed_at_the_reference_coupling(parent, channel, fs):
    """Each kind of declaration: the generic rate does not depend on the axis (Gamma_X), equals the parent's rate
    at C_ref, and scales as C_ref**n with the parent's power n when C_ref changes."""
    model = get_model("generic", parent=parent, production_channel=channel, final_state=fs)
    (ch,) = model.production()
    (pch,) = model.parent_model.production()
    assert ch.name == channel and ch.production_power == 0
    m, ref = jnp.asarray(0.5 * (model.mass_range[0] + min(model.mass_range[1], 1.0))), model.reference_coupling
    rates = [float(ch.rate(m, g, 400.0)) for g in (1e-22, 1e-15, 1.0)]
    assert rates[0] > 0 and rates[0] == rates[1] == rates[2]
    assert rates[0] == pytest.approx(float(pch.rate(m, ref, 400.0)), rel=1e-12)
    n = channel_power(pch, model.parent_model.coupling.production_power)
    (ch2,) = get_model("generic", parent=parent, production_channel=channel, final_state=fs,
                       reference_coupling=3 * ref).production()
    assert float(ch2.rate(m, 1e-18, 400.0)) == pytest.approx(3.0**n * rates[0], rel=1e-9)


def test_every_declaration_kind_is_fixed_at_the_reference_coupling():
    """fipscan.models.generic.at_reference on declarations of every kind with closed-form rates ~ g**2 (the real
    bremsstrahlung, Primakoff and mixing rates cost seconds of compilation; the wrappers are what is tested)."""
    from fipscan.models.generic import at_reference
    from fipscan.production.channels import Bremsstrahlung, MesonMixing, PhotonConversion, Tabulated

    ref = 1e-3
    brems = at_reference(Bremsstrahlung(table=lambda m, ep, et, e: m * jnp.ones((2, 3)),
                                        total=lambda m, g, e: g**2 * m * e), ref, 2.0)
    tab = at_reference(Tabulated("tab", table=lambda m, ep, et, e: m * jnp.ones((2, 3)),
                                 total=lambda m, g, e: g**2 * m), ref, 2.0)
    conv = at_reference(PhotonConversion("pi0", 0.135, 0.0, 0.988, 2, lambda E, m, g: g**2 * E / m), ref, 2.0)
    mix = at_reference(MesonMixing("eta", 0.548, lambda m, g: g**2 / m), ref, 2.0)
    for ch in (brems, tab, conv, mix):
        assert ch.production_power == 0
    for g in (1e-20, 1.0, jnp.array([1e-20, 1.0])):
        np.testing.assert_allclose(brems.total(0.5, g, 400.0), ref**2 * 0.5 * 400.0, rtol=1e-12)
        np.testing.assert_allclose(tab.total(0.5, g, 400.0), ref**2 * 0.5, rtol=1e-12)
        np.testing.assert_allclose(conv.conversion(20.0, 0.5, g), ref**2 * 40.0, rtol=1e-12)
        np.testing.assert_allclose(mix.mixing_sq(0.5, g), ref**2 / 0.5, rtol=1e-12)
    assert np.shape(mix.mixing_sq(0.5, jnp.array([1e-20, 1.0]))) == (2,)  # broadcasts over the axis
    # unit-coupling tables carry C_ref**n (the pipeline reads them at g = 1 and scales by g**0)
    np.testing.assert_allclose(brems.table(0.5, None, None, 400.0), ref**2 * 0.5, rtol=1e-12)
    np.testing.assert_allclose(tab.table(0.5, None, None, 400.0), ref**2 * 0.5, rtol=1e-12)


@pytest.fixture(scope="module")
def tables():
    """Yield tables at NA62-BD of the generic X (B+ -> K+ of dark-scalar, X -> pi+ pi-) and of its parent
    restricted to that channel and final state (shipped pi pi acceptance, spin 0)."""
    from fipscan.yields import precompute

    model = get_model("generic", production_channel="bplus->kplus", final_state="pipi")
    gen = precompute(model, "na62-bd", MASSES)
    par = precompute(model.parent_model, "na62-bd", MASSES, channels=("pipi",))
    return model, gen, par


def _events(tables, i, g, n_prod, pot=POT):
    """N at mass index i and coupling g, typed from the kernel's formula (fipscan.kernels.yields.events):
    POT g^n_prod sum_bk W_bk exp(-s_b a_k) (-expm1(-s_b (a_k+1 - a_k))), s_b = g^n_width exp(log_s1_b)."""
    W, a = np.asarray(tables.weights[i]), np.asarray(tables.a_edges)
    s = g**tables.n_width * np.exp(np.asarray(tables.log_s1[i]))[:, None]
    return pot * g**n_prod * np.sum(W * np.exp(-s * a[:-1]) * -np.expm1(-s * np.diff(a)))


def test_recast_identity_with_the_parent(tables):
    """N_generic(m, Gamma_parent(m, C_ref)) x BR_parent(m, pipi) = N_parent(m, C_ref) of B+ -> K+ S alone,
    X -> pi pi, to 1e-6 (the recast identity of the generic mode)."""
    model, gen, par = tables
    parent, ref = model.parent_model, model.reference_coupling
    assert gen.n_prod == 0 and gen.n_width == 1 and tuple(gen.per_channel) == ("bplus->kplus",)
    assert par.n_prod == 1 and par.n_width == 1
    for i, m in enumerate(MASSES):
        width = float(parent.total_width(m, ref))
        br = float(parent.branching_ratios(m)["pipi"])
        n_par = _events(par, i, ref, par.n_prod)
        assert n_par > 0 and _events(gen, i, width, 0.0) * br == pytest.approx(n_par, rel=1e-6)
        # and at 10 x C_ref, short-lived at every mass here (N falls by 1e-2..1e-13 while production rises x 10)
        n_par = _events(par, i, 10 * ref, par.n_prod) / 10
        assert n_par > 0 and _events(gen, i, 10 * width, 0.0) * br == pytest.approx(n_par, rel=1e-6)


def test_events_follow_gamma_and_not_the_coupling(tables):
    """N ~ Gamma_X in the long-lived limit (P_decay ~ Gamma, production fixed), exponentially suppressed in the
    short-lived one; the derivative of the contour code's surface, d log N/d log Gamma, -> 1 there."""
    from fipscan.contour.differentiable import log_events_and_dy, surface_from_tables

    model, gen, _ = tables
    lg = jnp.log(jnp.asarray(GAMMAS))  # the CLI test's grid: the compiled kernel is shared
    n = np.asarray(gen.events_grid(lg, POT))
    assert np.all(n[:, 0] > 0)
    np.testing.assert_allclose(n[:, 1] / n[:, 0], 1e4, rtol=1e-3)  # decay length ~ 1e6 m >> 160 m: linear
    assert np.all(n[:, 3] < 1e-30 * n[:, 2])  # decay length ~ cm: nothing reaches the volume
    for i in range(len(MASSES)):
        np.testing.assert_allclose(n[i], [_events(gen, i, g, 0.0) for g in GAMMAS], rtol=1e-9)
    surface = surface_from_tables(gen, POT)
    value, slope = jax.jit(log_events_and_dy)(surface, jnp.log(MASSES[1]), jnp.log(GAMMAS[0]))
    assert float(slope) == pytest.approx(1.0, abs=1e-6)
    assert float(value) == pytest.approx(np.log(n[1, 0]), abs=1e-6)
    # a 10x larger reference coupling multiplies N by 10 (B -> K S ~ sin^2 theta) at every Gamma_X: the
    # decay probability depends on Gamma_X alone
    big = get_model("generic", production_channel="bplus->kplus", final_state="pipi",
                    reference_coupling=10 * model.reference_coupling)
    (ch,), (ch_big,) = model.production(), big.production()
    assert float(ch_big.rate(0.5, 1e-20)) / float(ch.rate(0.5, 1e-20)) == pytest.approx(10.0, rel=1e-12)


def test_cli_scan_and_errors(tables, tmp_path, capsys):
    """``fipscan scan --model generic --production ... --final-state ...`` on a 3 x 4 grid (the CLI's own entry
    point, in this process: the tables and kernels of the tests above are reused): exit 0, the per_production
    key, Gamma_X [GeV] in scan.h5; a bad --production exits 2 with one stderr line, and so do the shorthands with
    another model; ``fipscan info --model generic`` works."""
    import json

    import h5py

    from fipscan.cli.main import main

    out = tmp_path / "gen"
    assert main(["scan", "--model", "generic", "--production", "bplus->kplus", "--final-state", "pipi",
                 "--masses", "0.3:1.5:3", "--couplings", "1e-24:1e-12:4", "--no-refine", "--no-bands",
                 "--bounds", "none", "--pot", "1e21", "--json", "-o", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "generic" and doc["channels"] == ["pipi"]
    assert list(doc["per_production"]) == ["bplus->kplus"]
    (contour,) = doc["contours"]
    assert contour["n_masses_excluded"] == 3
    with h5py.File(out / "scan.h5") as f:
        assert f["coupling"].attrs["units"] == "GeV"
        n = np.asarray(f["pot_0/events"])
        settings = json.loads(f.attrs["model_settings"])
    assert n.shape == (3, 4) and np.all(np.isfinite(n)) and settings["production"] == "bplus->kplus"
    # the region's edges are the roots of N(Gamma_X) = N_limit (production power 0, width power 1), here found by
    # bisection in log Gamma on the formula typed above; near the lower edge N ~ Gamma_X (linear estimate)
    rows = np.loadtxt(out / "contour.csv", delimiter=",", skiprows=1, ndmin=2)
    _, gen, _ = tables
    for i in range(len(MASSES)):
        def events(lg, i=i):
            return _events(gen, i, np.exp(lg), 0.0, 1e21)

        peak = max(np.linspace(np.log(1e-24), np.log(1e-12), 400), key=events)
        edges = []
        for a, b in ((np.log(1e-24), peak), (peak, np.log(1e-12))):
            for _ in range(60):
                mid = 0.5 * (a + b)
                if (events(mid) > contour["n_limit"]) == (events(a) > contour["n_limit"]):
                    a = mid
                else:
                    b = mid
            edges.append(np.exp(0.5 * (a + b)))
        np.testing.assert_allclose(rows[i, 1:3], edges, rtol=1e-3)
    np.testing.assert_allclose(rows[0, 1], GAMMAS[0] * contour["n_limit"] / n[0, 0], rtol=1e-2)
    for args, word in ((["--model", "generic", "--production", "rho->pi"], "not a production channel"),
                       (["--model", "dark-scalar", "--production", "brems"], "--model generic only"),
                       (["--model", "generic", "--final-state", "pipi", "--model-option", "final_state=ee"],
                        "both given")):
        assert main(["scan", *args, "--masses", "0.3:1.5:3", "--couplings", "1e-22:1e-13:4",
                     "-o", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and word in err[0], err
    assert not (tmp_path / "bad").exists()
    assert main(["info", "--model", "generic", "--production", "brems", "--model-option", "parent=dark-photon",
                 "--final-state", "ee", "--mass", "0.1", "--coupling", "1e-18", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_width_gev"] == pytest.approx(1e-18) and doc["branching_ratios"] == {"ee": 1.0}
    assert main(["list", "models"]) == 0 and "generic" in capsys.readouterr().out.split()
