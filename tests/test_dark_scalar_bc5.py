"""BC5 dark scalar (fipscan.models.dark_scalar_bc5): pair production B -> K S S through an off-shell
Higgs, its three-body kinematics, and production channels with different powers of the coupling in the
yield tables, searches and surfaces."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
from fipscan import constants as C
from fipscan.kernels.phasespace import pair_dalitz_width, pair_recoil_nodes
from fipscan.models import dark_scalar as ds
from fipscan.models import dark_scalar_bc5 as bc5
from fipscan.models import get_model
from fipscan.production.channels import RecoilDecay, channel_power

END_BK = 0.5 * (ds.M_BPLUS - C.M_K)  # B+ -> K+ S S closes at m = (m_B - m_K)/2
#: the brute-force Dalitz grids below (400 x 400 midpoints) resolve the integrals to ~2e-4; the 8-node
#: recoil quadrature the mean energy to ~2e-3 (near m = 0, where the Dalitz boundary has a plain end)
BRUTE_FORCE_TOLERANCE = 2e-3


def _dalitz_brute_force(amp2, M, m3, m, n=400):
    """Width (identical-pair 1/2 included) and mean energy of one X of M -> m3 X X on a midpoint grid of
    the Dalitz plot (m_(X m3)^2, m_XX^2): dGamma = |A|^2 ds dq^2 / ((2 pi)^3 32 M^3) (PDG eq. (49.22))."""
    s = np.linspace((m + m3) ** 2, (M - m) ** 2, n + 1)
    s = 0.5 * (s[1:] + s[:-1])
    q2 = np.linspace(4 * m * m, (M - m3) ** 2, n + 1)
    dq, ds_ = q2[1] - q2[0], s[1] - s[0]
    q2 = 0.5 * (q2[1:] + q2[:-1])
    S, Q = np.meshgrid(s, q2, indexing="ij")
    rs = np.sqrt(S)
    e1 = (M * M - S - m * m) / (2 * rs)
    e2 = (S + m * m - m3 * m3) / (2 * rs)
    p1, p2 = np.sqrt(np.clip(e1**2 - m * m, 0, None)), np.sqrt(np.clip(e2**2 - m * m, 0, None))
    inside = (Q > (e1 + e2) ** 2 - (p1 + p2) ** 2) & (Q < (e1 + e2) ** 2 - (p1 - p2) ** 2)
    w = np.where(inside, np.asarray(amp2(jnp.asarray(Q))), 0.0) * ds_ * dq
    width = 0.5 * w.sum() / ((2 * math.pi) ** 3 * 32 * M**3)
    energy = (M * M + m * m - S) / (2 * M)  # of the tracked X, whose recoil has mass^2 S
    return width, float((w * energy).sum() / w.sum())


def test_hss_vertex_gives_the_bc5_higgs_branching_ratio():
    a2 = float(bc5.hss_vertex_squared(0.5))
    beta = math.sqrt(1 - 4 * 0.25 / bc5.M_H**2)
    gamma_ss = a2 * beta / (32 * math.pi * bc5.M_H)
    assert gamma_ss / (bc5.GAMMA_H_SM + gamma_ss) == pytest.approx(1e-2, rel=1e-12)


def test_pair_rate_is_independent_of_theta_and_falls_to_zero_at_the_end():
    m = jnp.asarray([1e-3, 0.5, 1.5, 0.999 * END_BK, 1.001 * END_BK])
    br = jax.jit(bc5.br_b_to_k_scalar_pair)
    a = np.asarray(br(m, 1e-12))
    b = np.asarray(br(m, 1e-4))
    np.testing.assert_array_equal(a, b)  # no sin^2 theta in pair production
    # m -> 0: 6.6e-11 (module docstring), the dense Dalitz grid of the same |M|^2 agrees
    amp2 = lambda q2: bc5.amp2_b_to_k_pair(q2, 1e-3, ds.M_BPLUS, C.M_K)  # noqa: E731
    width, _ = _dalitz_brute_force(amp2, ds.M_BPLUS, C.M_K, 1e-3)
    assert a[0] == pytest.approx(width * ds.TAU_BPLUS / C.HBAR, rel=BRUTE_FORCE_TOLERANCE)
    assert a[0] == pytest.approx(6.56e-11, rel=1e-2)
    assert np.all(np.diff(a[:4]) < 0) and a[3] < 1e-4 * a[0] and a[4] == 0.0
    # the neutral B has the same amplitude and its own lifetime and kaon mass
    assert float(bc5.br_b_to_k_scalar_pair(1e-3, charged=False)) / a[0] == pytest.approx(
        ds.TAU_B0 / ds.TAU_BPLUS, rel=0.01)


@pytest.mark.parametrize("m", [0.3, 1.8])
def test_pair_kinematics_against_a_brute_force_dalitz_plot(m):
    amp2 = lambda q2: bc5.amp2_b_to_k_pair(q2, m, ds.M_BPLUS, C.M_K)  # noqa: E731
    width, mean_e = _dalitz_brute_force(amp2, ds.M_BPLUS, C.M_K, m)
    assert float(pair_dalitz_width(amp2, ds.M_BPLUS, C.M_K, m)) == pytest.approx(width, rel=BRUTE_FORCE_TOLERANCE)
    m_r, w = bc5.pair_recoil(m)
    assert float(jnp.sum(w)) == pytest.approx(1.0, rel=1e-12) and bool(jnp.all(w >= 0))
    e_nodes = (ds.M_BPLUS**2 + m * m - m_r**2) / (2 * ds.M_BPLUS)
    assert float(jnp.sum(w * e_nodes)) == pytest.approx(mean_e, rel=BRUTE_FORCE_TOLERANCE)


def test_flat_massless_three_body_limits():
    one = lambda q2: jnp.ones_like(q2)  # noqa: E731
    M = 5.0
    # |A|^2 = 1, massless: Gamma = 1/2 x M^4/2 /(256 pi^3 M^3); each of three massless bodies has <E> = M/3
    assert float(pair_dalitz_width(one, M, 0.0, 1e-9)) == pytest.approx(M / (1024 * math.pi**3), rel=2e-4)
    m_r, w = pair_recoil_nodes(one, M, 0.0, 1e-9, n_r=16)
    assert float(jnp.sum(w * (M * M - m_r**2) / (2 * M))) == pytest.approx(M / 3, rel=2e-3)


def test_bc5_declares_pair_channels_with_their_own_power():
    model = get_model("dark-scalar-bc5")
    chans = {c.name: c for c in model.production()}
    assert set(bc5.PAIR_CHANNELS) <= set(chans) and set(ds.PRODUCTION_CHANNELS) <= set(chans)
    pair = chans["bplus->kplus_pair"]
    assert isinstance(pair, RecoilDecay) and pair.n_fips == 2 and pair.threshold() == pytest.approx(END_BK)
    assert channel_power(pair, model.coupling.production_power) == 0.0
    assert channel_power(chans["bplus->kplus"], model.coupling.production_power) == 1.0
    # decays as BC4: every width ~ sin^2 theta
    w = np.asarray(model.total_width(0.5, jnp.asarray([1e-8, 2e-8])))
    assert w[1] / w[0] == pytest.approx(2.0, rel=1e-12)
    assert type(model).total_width is ds.DarkScalar.total_width
    with pytest.raises(fipscan.errors.ConfigError, match="br_h_to_ss"):
        get_model("dark-scalar-bc5", br_h_to_ss=1.5)


def test_recoil_sampler_binned_matches_its_samples():
    from fipscan.experiments import load_experiment
    from fipscan.production.samples import RecoilSampler, histogram_samples

    exp = load_experiment("na62-bd")
    spectra = exp.load_spectra()
    hist = np.asarray(spectra.histogram("bplus"), float)
    hist = np.where(hist >= np.sort(hist.ravel())[-40], hist, 0.0)  # the 40 most populated B+ bins: fast
    br = lambda m: bc5.br_b_to_k_scalar_pair(m)  # noqa: E731
    s = RecoilSampler(hist, spectra.log10p_edges, spectra.log10theta_edges, ds.M_BPLUS,
                      lambda m: bc5.pair_recoil(m), br, n_fips=2)
    pe = np.asarray(exp.binning.log10p_edges, float)
    te = np.asarray(exp.binning.log10theta_edges, float)
    m = jnp.asarray(0.8)
    p, theta, w = jax.jit(s)(m)
    # two scalars per decay: the samples carry 2 x BR x the B's
    assert float(jnp.sum(w)) == pytest.approx(2 * float(br(0.8)) * hist.sum(), rel=1e-9)
    H_ref, _ = jax.jit(histogram_samples)(p, theta, w, jnp.asarray(pe), jnp.asarray(te))
    H, _ = jax.jit(lambda d, mm: s.binned(d, mm, pe, te))(s.binned_data(te), m)
    assert float(jnp.sum(H)) == pytest.approx(float(jnp.sum(H_ref)), rel=0.04)
    # mean log10 p: the two views of the two-body MesonSampler differ by ~0.02 dex too (64 binned
    # rest-frame polar nodes against 16 sample directions); B+ -> K+ S at 0.8 GeV: 1.977 vs 1.997
    lp = 0.5 * (pe[1:] + pe[:-1])
    mean_lp = lambda h: float(np.sum(np.asarray(h).sum(1) * lp) / np.sum(h))  # noqa: E731
    assert mean_lp(H) == pytest.approx(mean_lp(H_ref), abs=0.03)


@pytest.fixture(scope="module")
def tables():
    # one B+ parent (single and pair), two masses, mu mu (the shipped acceptance table: nothing to build)
    model = get_model("dark-scalar-bc5", production_channels=("bplus->kplus", "bplus->kplus_pair"))
    return fipscan.precompute(model, "na62-bd", [0.3, 1.2], channels="mumu")


def test_long_lived_limit_pair_as_sin2_single_as_sin4(tables):
    assert dict(tables.channel_powers) == {"bplus->kplus": 1.0, "bplus->kplus_pair": 0.0}
    g = jnp.asarray([1e-15, 1e-14])
    parts = tables.split_events_grid(jnp.log(g), 1e18, by="production")
    pair, single = np.asarray(parts["bplus->kplus_pair"]), np.asarray(parts["bplus->kplus"])
    assert np.all(pair > 0) and np.all(single > 0)
    # decay probability ~ sin^2 theta; pair production ~ 1, single ~ sin^2 theta
    np.testing.assert_allclose(pair[:, 1] / pair[:, 0], 10.0, rtol=1e-3)
    np.testing.assert_allclose(single[:, 1] / single[:, 0], 100.0, rtol=1e-3)
    n = np.asarray(tables.events_grid(jnp.log(g), 1e18))
    np.testing.assert_allclose(pair + single, n, rtol=1e-10)


@pytest.fixture(scope="module")
def mixed():
    """Small synthetic tables with a channel ~ g (n = 1) and one ~ g^0, the width ~ g (as BC5)."""
    from dataclasses import replace

    from fipscan.testing import random_yield_tables

    t = random_yield_tables(3, 8, 6, production=("single", "pair"), channels=("mumu",))
    return replace(t, n_prod=1.0, n_width=1.0, channel_powers=(("single", 1.0), ("pair", 0.0)))


def test_multi_power_tables_search_surface_and_file_agree(mixed, tmp_path):
    from fipscan.contour.differentiable import log_events_at
    from fipscan.io.tables import load_tables, save_tables
    from fipscan.searches import as_search

    lg = jnp.log(jnp.asarray([1e-16, 1e-13, 1e-12]))  # long-lived to near the upper edge
    n = np.asarray(mixed.events_grid(lg, 1e18))
    assert np.all(n > 0)
    # N = POT sum_n g^n sum_bk W^(n)_bk exp(-s_b a_k)(1 - exp(-s_b Delta_k)), s_b = g s1_b (numpy)
    g = np.exp(np.asarray(lg))[None, :, None, None]
    a = np.asarray(mixed.a_edges)
    s_ = g * np.exp(np.asarray(mixed.log_s1))[:, None, :, None]
    prob = np.exp(-s_ * a[:-1]) * -np.expm1(-s_ * np.diff(a))
    ref = sum(1e18 * g[..., 0, 0] ** power * np.sum(np.asarray(mixed.per_channel[k])[:, None] * prob, axis=(2, 3))
              for k, power in (("single", 1.0), ("pair", 0.0)))
    np.testing.assert_allclose(n, ref, rtol=1e-12)
    search = as_search(mixed)
    assert search.extra_n_prod == (0.0,)
    assert float(search.log_events_at(1, lg[1], 1e18)) == pytest.approx(math.log(n[1, 1]), rel=1e-10)
    surface = search.surface(1e18)  # the continuous surface equals the tables at the nodes
    assert float(log_events_at(surface, jnp.log(mixed.masses[1]), lg[1])) == pytest.approx(math.log(n[1, 1]),
                                                                                           rel=1e-10)
    one = mixed.select("pair", by="production")  # a part alone keeps its own power
    assert one.n_prod == 0.0 and one.channel_powers == ()
    parts = mixed.split_events_grid(lg, 1e18, by="production")
    np.testing.assert_allclose(sum(np.asarray(v) for v in parts.values()), n, rtol=1e-12)
    back = load_tables(save_tables(mixed, tmp_path / "mixed.h5"))
    assert back.channel_powers == mixed.channel_powers
    np.testing.assert_allclose(np.asarray(back.events_grid(lg, 1e18)), n, rtol=1e-12)
