"""BC4 dark scalar (fipscan.models.dark_scalar): closed forms, production limits, dispersive widths,
branching ratios, the long-lived limit of the yields and the info CLI."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
from fipscan import constants as C
from fipscan.models import dark_scalar as ds
from fipscan.models import get_model
from fipscan.testing import cli_json

#: the literature values of the m_S -> 0 production rates (BR/theta^2) depend on m_t^4 |V|^2 and the
#: form factor at q^2 = 0; the spread between the quoted numbers is ~10%
LITERATURE_SPREAD = 0.10
#: read-off precision of the dispersive widths from Winkler's Fig. 3 (log-scale figure) plus the error
#: of the log-linear interpolation between the nodes
DISPERSIVE_TOLERANCE = 0.05


def test_lepton_widths_closed_form():
    # Gamma(S -> mu mu) = theta^2 G_F m_mu^2 m_S beta^3/(4 sqrt2 pi): shared reference, theta = 1e-3
    assert float(ds.width_ll(0.5, C.M_MU, 1e-6)) == pytest.approx(2.72715e-15, rel=1e-6)
    assert float(ds.width_ll(0.3, C.M_MU, 1e-6)) == pytest.approx(7.86100e-16, rel=1e-6)
    # zero below threshold, with a finite gradient there (double-where)
    assert float(ds.width_ll(0.2, C.M_MU, 1e-6)) == 0.0
    grad = jax.grad(lambda m: ds.width_ll(m, C.M_MU, 1.0))(2 * C.M_MU)
    assert np.isfinite(float(grad))
    # the model's own partial width is the same closed form
    assert float(ds.partial_widths(0.5, 1e-6)["mumu"]) == pytest.approx(2.72715e-15, rel=1e-6)


def test_widths_keep_float32():
    w = ds.total_width(jnp.asarray([0.3, 1.2, 3.0], jnp.float32), jnp.float32(1e-6))
    assert w.dtype == jnp.float32 and np.all(np.isfinite(np.asarray(w)))


def test_gammagamma_heavy_loop_limit():
    # far below every loop threshold but the electron's: heavy quarks give 4/3 N_c Q^2 each and the W
    # -7, i.e. |sum|^2 = (-7 + 4/3 (4/3 + 1/3 + 4/3) + 3 x ~0)^2; at m = 1 MeV the electron loop is
    # tau_e = 0.96 (A_1/2 ~ 1.9) and the muon/tau give 4/3 each: sum = -7 + 4 + 1.9 + 8/3 = 1.6
    w = float(ds.width_gammagamma(1e-3, 1.0))
    pref = C.G_F * C.ALPHA**2 * 1e-9 / (128 * np.sqrt(2) * np.pi**3)
    assert 1.0 < np.sqrt(w / pref) < 2.2


def test_b_to_k_scalar_limits():
    # BR(B+ -> K+ S) ~ 0.43 theta^2 as m_S -> 0 (Winkler arXiv:1809.01876; Boiarska et al.
    # arXiv:1904.10447); a code 4x too large fails
    br0 = float(ds.br_b_to_k_scalar(1e-4, 1.0))
    assert br0 == pytest.approx(0.43, rel=LITERATURE_SPREAD)
    # linear in sin^2 theta
    assert float(ds.br_b_to_k_scalar(1e-4, 1e-8)) == pytest.approx(1e-8 * br0, rel=1e-12)
    # falls to zero at the kinematic end m_B - m_K, monotonically over its last 0.8 GeV (below, the form
    # factor f0(m^2), rising towards its pole, outweighs the shrinking phase space)
    end = ds.M_BPLUS - C.M_K
    m = jnp.linspace(end - 0.8, end - 1e-4, 200)
    br = np.asarray(ds.br_b_to_k_scalar(m, 1.0))
    assert np.all(np.diff(br) < 0) and br[-1] < 3e-2 * br0
    assert float(ds.br_b_to_k_scalar(end + 1e-3, 1.0)) == 0.0
    # B0 -> K0 S: same physics, shorter lifetime
    assert float(ds.br_b_to_k_scalar(1e-4, 1.0, charged=False)) / br0 == pytest.approx(
        ds.TAU_B0 / ds.TAU_BPLUS, rel=0.02)


def test_k_to_pi_scalar_limits():
    # BR(K+ -> pi+ S) ~ 1.4e-3 theta^2 as m_S -> 0 (Boiarska et al. arXiv:1904.10447; 1.3e-3 in
    # Bezrukov & Gorbunov arXiv:0912.0390)
    br0 = float(ds.br_k_to_pi_scalar(1e-4, 1.0))
    assert br0 == pytest.approx(1.4e-3, rel=LITERATURE_SPREAD)
    end = C.M_K - C.M_PI
    m = jnp.linspace(0.01, end - 1e-4, 100)
    br = np.asarray(ds.br_k_to_pi_scalar(m, 1.0))
    assert np.all(np.diff(br) < 0) and br[-1] < 0.05 * br0
    assert float(ds.br_k_to_pi_scalar(end + 1e-3, 1.0)) == 0.0
    grad = jax.grad(lambda x: ds.br_k_to_pi_scalar(x, 1.0))(jnp.asarray(end))
    assert np.isfinite(float(grad))


def test_klong_to_pi0_scalar_is_cp_conserving():
    # S is CP-even and pi0 S (s wave) is CP-odd like K_L: K_L -> pi0 S goes with Re(V_ts* V_td)
    # (Leutwyler & Shifman 1990; Bezrukov & Gorbunov arXiv:0912.0390).  At m -> 0 the two kaon rates
    # differ only by the lifetimes, (Re/|V_ts* V_td|)^2 and the phase space (M^2 - m^2)^3 / M^3.
    m_kl, m_pi0, m_kp, m_pip = 0.497611, 0.1349768, 0.493677, 0.13957039  # PDG 2024
    tau_l, tau_p = 5.116e-8, 1.2380e-8
    re, mod = 0.826**2 * 0.22501**5 * (1 - 0.159), 0.0415 * 0.0086  # PDG CKM review (A, lambda, rho_bar)
    space = ((m_kl**2 - m_pi0**2) ** 3 / m_kl**3) / ((m_kp**2 - m_pip**2) ** 3 / m_kp**3)
    expected = tau_l / tau_p * (re / mod) ** 2 * space
    ratio = float(ds.br_k_to_pi_scalar(1e-5, 1.0, charged=False) / ds.br_k_to_pi_scalar(1e-5, 1.0))
    assert ratio == pytest.approx(expected, rel=2e-3)
    assert 3.5 < ratio < 4.5  # the CP-violating (Im) amplitude would give ~0.6


def test_kaon_decay_fraction_between_its_limits():
    lam = ds.LAMBDA_INT_KAON_CU
    f = ds.kaon_decay_fraction(jnp.asarray([1e-9, 1.0, 10.0, 100.0]), C.M_K, ds.TAU_KPLUS, lam)
    f = np.asarray(f)
    assert f[0] == pytest.approx(1.0, abs=1e-6)  # a kaon at rest decays (thin-target limit)
    assert np.all(np.diff(f) < 0)
    # thick-target limit: lambda / (beta gamma c tau) for p c tau >> lambda m
    assert f[-1] == pytest.approx(lam * C.M_K / (100.0 * C.C_LIGHT * ds.TAU_KPLUS), rel=1e-3)
    # a dump of finite length L: thin target (L << decay and interaction lengths) f -> L / (beta gamma c tau);
    # the fraction grows with L towards the thick-target value and never exceeds it
    p = jnp.asarray([1.0, 10.0, 100.0])
    l_d = np.asarray(p) * C.C_LIGHT * ds.TAU_KPLUS / C.M_K
    thin = np.asarray(ds.kaon_decay_fraction(p, C.M_K, ds.TAU_KPLUS, lam, 1e-4))
    np.testing.assert_allclose(thin, 1e-4 / l_d, rtol=1e-3)
    thick = np.asarray(ds.kaon_decay_fraction(p, C.M_K, ds.TAU_KPLUS, lam))
    lengths = (1e-4, 0.1, 1.0, 3.0, 100.0)
    fs = np.array([np.asarray(ds.kaon_decay_fraction(p, C.M_K, ds.TAU_KPLUS, lam, L)) for L in lengths])
    assert np.all(np.diff(fs, axis=0) > 0) and np.all(fs <= thick * (1 + 1e-12))
    np.testing.assert_allclose(fs[-1], thick, rtol=1e-12)  # 100 m = 500 interaction lengths
    # as a model option: the kaon channels' rate follows it
    from fipscan.errors import ConfigError
    from fipscan.models import get_model, parse_model_options

    opts = parse_model_options("dark-scalar", ["kaon_dump_length=0.5"])
    assert get_model("dark-scalar", **opts).settings()["kaon_dump_length"] == 0.5
    assert "kaon_dump_length" not in get_model("dark-scalar").settings()  # the default keeps its cache keys
    with pytest.raises(ConfigError, match="kaon_dump_length"):
        get_model("dark-scalar", kaon_dump_length=-1.0)


# Winkler arXiv:1809.01876 Fig. 3 (Gamma(S -> pi pi)/sin^2 theta [GeV]) at masses between the nodes of
# ds.WINKLER_PIPI (read off the same curve)
WINKLER_PIPI_CHECK = [(0.5012, 2.229e-8), (0.6999, 5.101e-8), (0.8351, 1.014e-7), (1.1005, 5.056e-8),
                      (1.4146, 9.343e-9)]
# Gamma(S -> K K)/sin^2 theta [GeV] of the same figure
WINKLER_KK_CHECK = [(1.1206, 1.018e-7), (1.4804, 8.531e-8), (1.8900, 4.217e-8)]


@pytest.mark.parametrize("m, ref", WINKLER_PIPI_CHECK)
def test_pipi_width_against_winkler(m, ref):
    charged, neutral = ds.width_pipi_dispersive(m, 1.0)
    assert float(charged + neutral) == pytest.approx(ref, rel=DISPERSIVE_TOLERANCE)
    # isospin: pi+pi- : pi0pi0 = 2 : 1 up to the phase-space difference of the pion masses
    bc, bn = np.sqrt(1 - 4 * C.M_PI**2 / m**2), np.sqrt(1 - 4 * C.M_PI0**2 / m**2)
    assert float(charged / neutral) == pytest.approx(2.0 * bc / bn, rel=1e-9)


@pytest.mark.parametrize("m, ref", WINKLER_KK_CHECK)
def test_kk_width_against_winkler(m, ref):
    charged, neutral = ds.width_kk_dispersive(m, 1.0)
    assert float(charged + neutral) == pytest.approx(ref, rel=DISPERSIVE_TOLERANCE)


def test_branching_ratios_sum_to_one_and_thresholds():
    m = jnp.geomspace(1e-3, 4.5, 300)
    brs = ds.branching_ratios(m)
    np.testing.assert_allclose(np.asarray(sum(brs.values())), 1.0, rtol=1e-12)
    m_np = np.asarray(m)
    for name, threshold in (("ee", 2 * C.M_E), ("mumu", 2 * C.M_MU), ("pipi", 2 * C.M_PI),
                            ("pi0pi0", 2 * C.M_PI0), ("kk", 2 * C.M_K), ("tautau", 2 * C.M_TAU)):
        assert np.all(np.asarray(brs[name])[m_np < threshold] == 0.0), name
    # pi pi dominates between 2 m_pi and the K K threshold (Winkler Fig. 4): more than 80% at 0.5 GeV
    at = ds.branching_ratios(jnp.asarray(0.5))
    assert 0.8 < float(at["pipi"] + at["pi0pi0"]) < 0.95
    # mu mu is the whole width between 2 m_mu and 2 m_pi0
    assert float(ds.branching_ratios(0.25)["mumu"]) == pytest.approx(1.0, rel=1e-3)


def test_total_width_is_smooth_through_the_hadronic_band():
    lam = ds.MULTIMESON_MATCH_GEV  # dispersive + 4 pi below, perturbative above
    m = jnp.linspace(1.35, lam + 0.05, 400)
    w = np.log(np.asarray(ds.total_width(m, 1.0)))
    assert np.max(np.abs(np.diff(w))) < 0.05  # no jump where the treatments meet
    g = jax.vmap(jax.grad(lambda x: ds.total_width(x, 1.0)))(m)
    assert np.all(np.isfinite(np.asarray(g)))


def test_long_lived_limit_scales_as_sin4theta():
    # the default acceptance: shipped with the package, read instead of simulated (a coarser n_mc would be a
    # new table, ~20 s to build)
    t = fipscan.precompute("dark-scalar", "na62-bd", [0.3, 0.6, 1.2], channels="mumu")
    g = jnp.asarray([1e-14, 1e-13])
    n = np.asarray(t.events_grid(jnp.log(g), 1.4e17))
    assert np.all(n > 0)
    # production ~ sin^2 theta and the decay probability ~ sin^2 theta: N ~ sin^4 theta
    np.testing.assert_allclose(n[:, 1] / n[:, 0], 100.0, rtol=1e-3)
    # the split by production channel sums to the total, and B decays dominate above the kaon end
    parts = t.split_events_grid(jnp.log(g), 1.4e17, by="production")
    np.testing.assert_allclose(sum(parts.values()), n, rtol=1e-10)
    assert float(parts["kplus->piplus"][2, 0]) == 0.0 and float(parts["bplus->kplus"][2, 0]) > 0


def test_kaon_parent_weight_reduces_the_kaon_yield():
    spectra = fipscan.experiments.load_experiment("na62-bd").load_spectra()
    from fipscan.production.sources import sources

    full = get_model("dark-scalar", kaon_interaction_length=1e6)  # every kaon decays
    dump = get_model("dark-scalar")
    edges = np.asarray(spectra.log10p_edges)
    (k_full,) = [s for n, s in sources(full.production(), spectra, 400.0).items() if n == "kplus->piplus"]
    (k_dump,) = [s for n, s in sources(dump.production(), spectra, 400.0).items() if n == "kplus->piplus"]
    w_full = float(np.sum(k_full(jnp.asarray(0.2))[2]))
    w_dump = float(np.sum(k_dump(jnp.asarray(0.2))[2]))
    # typical dump kaons of O(10-100) GeV travel beta gamma c tau ~ 70-700 m: a fraction ~1e-3 decays
    assert 1e-5 < w_dump / w_full < 1e-2
    assert edges.size > 2


def test_info_json_reports_b_and_k_production():
    info = cli_json("info", "--model", "dark-scalar", "--mass", "0.5", "--coupling", "1e-6")
    assert info["production"]["bplus->kplus"] == pytest.approx(float(ds.br_b_to_k_scalar(0.5, 1e-6)), rel=1e-9)
    assert info["production"]["bplus->kplus"] == pytest.approx(1e-6 * 0.39, rel=0.05)
    assert info["production"]["kplus->piplus"] == 0.0  # closed above m_K - m_pi
    assert sum(info["branching_ratios"].values()) == pytest.approx(1.0, rel=1e-12)
    # partial widths: the closed form of Gamma(S -> mu mu) (Winkler arXiv:1809.01876 eq. (4)), and their sum
    beta = math.sqrt(1 - 4 * C.M_MU**2 / 0.25)
    gamma_mumu = 1e-6 * C.G_F * C.M_MU**2 * 0.5 * beta**3 / (4 * math.sqrt(2) * math.pi)
    assert info["partial_widths_gev"]["mumu"] == pytest.approx(gamma_mumu, rel=1e-9)
    assert sum(info["partial_widths_gev"].values()) == pytest.approx(info["total_width_gev"], rel=1e-12)


def test_b_to_kstar_and_bs_to_phi_scalar_limits():
    br_k = float(ds.br_b_to_k_scalar(1e-4, 1.0))
    br_v = float(ds.br_b_to_kstar_scalar(1e-4, 1.0))
    # m -> 0: B -> K* S / B -> K S is fixed by the published form factors at q^2 = 0, A0^{B->K*}(0) = 0.374
    # (Ball & Zwicky hep-ph/0412079) and f0^{B->K}(0) = 0.330 (hep-ph/0406232); with the literature's
    # BR(B+ -> K+ S) = 0.43 theta^2 (Winkler; Boiarska et al.) that is BR(B+ -> K*+ S) ~ 0.48 theta^2
    # (rates at m = 0: (m_B^2 - m_K^2)^3 f0^2/(m_b - m_s)^2 against (m_B^2 - m_K*^2)^3 A0^2/(m_b + m_s)^2)
    ratio = (((ds.M_BPLUS**2 - ds.M_KSTAR_PLUS**2) / (ds.M_BPLUS**2 - C.M_K**2)) ** 3 * (0.374 / 0.330) ** 2
             * ((ds.M_B_QUARK - ds.M_S_QUARK) / (ds.M_B_QUARK + ds.M_S_QUARK)) ** 2)
    assert br_v / br_k == pytest.approx(ratio, rel=1e-3)
    assert br_v == pytest.approx(0.43 * ratio, rel=LITERATURE_SPREAD)
    assert float(ds.br_b_to_kstar_scalar(1e-4, 1e-8)) == pytest.approx(1e-8 * br_v, rel=1e-12)
    for fn, end in ((ds.br_b_to_kstar_scalar, ds.M_BPLUS - ds.M_KSTAR_PLUS),
                    (ds.br_bs_to_phi_scalar, ds.M_BS - ds.M_PHI)):
        br = np.asarray(fn(jnp.linspace(end - 0.5, end - 1e-4, 50), 1.0))
        assert np.all(np.diff(br) < 0) and br[-1] < 1e-4 * br[0]  # P-wave: lambda^3/2 at the end
        assert float(fn(end + 1e-3, 1.0)) == 0.0
    # the shipped spectra carry B_s, so B_s -> phi S is a usable channel
    from fipscan.experiments import load_experiment

    assert "bs" in load_experiment("na62-bd").load_spectra().species
    names = [c.name for c in get_model("dark-scalar", production_channels=("bplus->kstarplus", "b0->kstar0",
                                                                             "bs->phi")).production()]
    assert names == ["bplus->kstarplus", "b0->kstar0", "bs->phi"]


def test_inclusive_b_production_replaces_the_exclusive_channels():
    from fipscan.errors import ConfigError

    inc = get_model("dark-scalar", b_production="inclusive")
    assert inc.production_channels == ds.INCLUSIVE_B_CHANNELS + ("kplus->piplus", "klong->pi0")
    assert inc.settings()["b_production"] == "inclusive" and "b_production" not in get_model("dark-scalar").settings()
    with pytest.raises(ConfigError, match="b_production=inclusive"):  # never both at once
        get_model("dark-scalar", b_production="inclusive", production_channels=("bplus->kplus", "bplus->xs"))
    with pytest.raises(ConfigError, match="b_production=exclusive"):
        get_model("dark-scalar", production_channels=("bplus->xs",))
    # b -> s S (Grinstein, Hall, Randall): the inclusive rate holds the exclusive ones, falls as
    # (1 - m^2/m_b^2)^2 and closes at m_b
    br0 = float(ds.br_b_to_xs_scalar(1e-4, 1.0))
    assert br0 > float(ds.br_b_to_k_scalar(1e-4, 1.0) + ds.br_b_to_kstar_scalar(1e-4, 1.0))
    assert float(ds.br_b_to_xs_scalar(2.0, 1.0)) / br0 == pytest.approx((1 - (2.0 / ds.M_B_QUARK) ** 2) ** 2, rel=1e-6)
    assert float(ds.br_b_to_xs_scalar(ds.M_B_QUARK + 0.01, 1.0)) == 0.0
    # the recoil mass gives the scalar the free-quark momentum (m_b^2 - m^2)/(2 m_b) in the B frame
    m, mx = 1.0, float(ds.inclusive_recoil_mass(1.0, ds.M_BPLUS))
    lam = (ds.M_BPLUS**2 - (m + mx) ** 2) * (ds.M_BPLUS**2 - (m - mx) ** 2)
    assert math.sqrt(lam) / (2 * ds.M_BPLUS) == pytest.approx((ds.M_B_QUARK**2 - m * m) / (2 * ds.M_B_QUARK), rel=1e-9)


def test_cli_scan_writes_the_bc4_outputs_on_the_model_coupling_range(tmp_path, capsys):
    """`fipscan scan --model dark-scalar` (no --couplings): the outputs of BC1 on the sin^2 theta axis,
    whose default range reaches the physical bound sin^2 theta = 1 (below 2 m_mu the region does)."""
    import h5py

    from fipscan.cli.main import main

    out = tmp_path / "bc4"
    assert main(["scan", "--model", "dark-scalar", "--masses", "0.05:0.5:6", "-o", str(out)]) == 0
    capsys.readouterr()
    assert {"contour.csv", "contour_pot1e18.csv", "contour_polygon.csv", "scan.h5", "contour.png",
            "contour.pdf"} <= {p.name for p in out.iterdir()}
    with h5py.File(out / "scan.h5") as f:
        g = f["coupling"]
        assert g.attrs["name"] == "sin2theta" and g.shape == (120,)
        assert (g[0], g[-1]) == (pytest.approx(1e-12), pytest.approx(1.0))
        assert {"-2", "-1", "0", "+1", "+2"} <= set(f["pot_0/expected"])  # expected bands
        assert f["pot_1"].attrs["pot"] == 1e18
        assert "kplus->piplus" in f["events_by_production"]
    rows = list(csv_rows(out / "contour.csv"))
    assert rows[0][:2] == ["mass_gev", "coupling_lower"]
    low = [r for r in rows[1:] if float(r[0]) < 0.2]
    assert low and all(float(r[2]) == 1.0 for r in low)  # the region reaches the bound sin^2 theta = 1


def csv_rows(path):
    import csv

    with open(path, newline="") as f:
        yield from csv.reader(f)


def test_plot_title_names_the_model_options_that_differ_from_the_defaults():
    from fipscan.plotting import model_options_text

    assert model_options_text(get_model("dark-scalar")) == ""
    text = model_options_text(get_model("dark-scalar", b_production="inclusive", kaon_dump_length=3.0))
    assert text.startswith("kaon_dump_length=3, b_production=inclusive, production_channels=bplus->xs")
    assert len(text) <= 90 and text.endswith("…")
    assert model_options_text(get_model("dark-photon", form_factor=False)) == "form_factor=False"
