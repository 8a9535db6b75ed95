"""Detector acceptance: the pair_accepted cuts, the MC kernel and the cached acceptance tables."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import fipscan.acceptance as facc
from fipscan.acceptance import AcceptanceTable, build_acceptance_table, table_settings
from fipscan.cache import canonical_key
from fipscan.errors import ConfigError, InputError
from fipscan.experiments import load_experiment, parse_experiment
from fipscan.final_states import get_final_state
from fipscan.kernels.acceptance import (
    Geometry,
    Selection,
    acceptance_mc,
    acceptance_mc_smooth,
    cos_star_from_uniform,
    sample_unit_points,
)
from fipscan.kernels.acceptance import pair_accepted as _pair_accepted
from fipscan.kernels.acceptance import pair_accepted_smooth as _pair_accepted_smooth

# kernels are tested under jit (one compilation serves every hand-built event of a shape)
pair_accepted = jax.jit(_pair_accepted)
pair_accepted_smooth = jax.jit(_pair_accepted_smooth)

TOML = Path(facc.__file__).parent / "experiments" / "na62_bd.toml"
M_E, M_MU = 0.51099895e-3, 0.1056583755


def geometry_from_config(cfg):
    """The kernel Geometry of a parsed experiment TOML (charged decay volume)."""
    exp = parse_experiment(cfg, "test")
    return exp.detector.kernel_geometry(exp.production_z, exp.production_y, exp.decay_volume_for("ee"))


def selection_from_config(cfg, channel):
    exp = parse_experiment(cfg, "test")
    return exp.detector.kernel_selection(get_final_state(channel), exp.selections[channel])


@pytest.fixture(scope="module")
def cfg():
    with open(TOML, "rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def exp(cfg):
    return parse_experiment(cfg, str(TOML))


@pytest.fixture(scope="module")
def geom(cfg):
    return geometry_from_config(cfg)


@pytest.fixture(scope="module")
def ee(cfg):
    return selection_from_config(cfg, "ee")


@pytest.fixture(scope="module")
def mumu(cfg):
    return selection_from_config(cfg, "mumu")


KEY = jax.random.PRNGKey(42)


# --------------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------------
def test_geometry_and_selection_from_config(cfg, geom, ee, mumu):
    # NA62 beam-dump geometry (ALPINIST, arXiv:2201.05170; values as in the experiment TOML)
    assert isinstance(geom, Geometry) and geom.z_prod == 23.070 and geom.y_prod == -0.022
    assert (geom.z_dv_start, geom.z_dv_end) == (102.425, 182.0)
    assert geom.z_magnet == pytest.approx(0.5 * (196.35 + 197.65))
    assert geom.pt_kick == 0.270 and geom.z_straw1 == 183.0 and geom.z_straw4 == 218.7
    assert (geom.straw_r_min, geom.straw_r_max) == (0.10, 1.0)
    assert (geom.lkr_half_width, geom.lkr_octagon_sum, geom.lkr_r_min) == (1.13, 1.598, 0.08)
    assert (geom.z_muv3, geom.muv3_half_width, geom.muv3_r_min) == (246.85, 1.32, 0.11)
    assert (ee.min_energy, ee.min_separation, ee.min_radius, ee.detector) == (1.0, 0.10, 0.15, "lkr")
    assert ee.m_daughter == pytest.approx(M_E, rel=1e-9)  # PDG via the particle package
    assert mumu.detector == "muv3" and mumu.m_daughter == pytest.approx(M_MU, rel=1e-12)
    assert selection_from_config(cfg, "pipi").m_daughter == pytest.approx(0.13957039, rel=1e-12)
    # pytrees: every number a leaf, the detector static
    assert len(jax.tree_util.tree_leaves(geom)) == 17
    assert len(jax.tree_util.tree_leaves(ee)) == 5  # m_daughter, min_energy, min_separation, min_radius, min_photon_energy
    with pytest.raises(InputError, match="unknown final state"):
        get_final_state("nunu")
    bad = {**cfg, "detector": {k: v for k, v in cfg["detector"].items() if k != "lkr"}}
    with pytest.raises(ConfigError, match="detector.lkr"):
        geometry_from_config(bad)
    with pytest.raises(ValueError):
        Selection(M_E, 1.0, 0.1, 0.15, "hcal")


# --------------------------------------------------------------------------------------------------
# pair_accepted with hand-built events
# --------------------------------------------------------------------------------------------------
def _mom(tx, ty, pz):
    return jnp.array([tx * pz, ty * pz, pz])


def _x_at(geom, v, tx, pz, q, z):
    """Expected x: straight line plus the thin-kick displacement dx = (q pt_kick / p_z)(z - z_magnet)."""
    return v[0] + tx * (z - v[2]) + q * geom.pt_kick / pz * max(z - geom.z_magnet, 0.0)


def test_pair_accepted_reference_event(geom, ee):
    v = jnp.array([0.0, 0.0, 150.0])
    p1, p2 = _mom(0.004, 0.002, 20.0), _mom(-0.004, -0.002, 20.0)
    assert bool(pair_accepted(geom, ee, v, p1, p2))
    # symmetric event: the kick pushes both outwards; swapping the charges pulls both inwards
    assert bool(pair_accepted(geom, ee, v, p1, p2, charge_sign=-1))
    # backward track, vertex behind STRAW1
    assert not bool(pair_accepted(geom, ee, v, p1, -p2))
    assert not bool(pair_accepted(geom, ee, jnp.array([0.0, 0.0, 183.5]), p1, p2))
    # batched: (..., 3) inputs broadcast
    batch = pair_accepted(geom, ee, v, jnp.stack([p1, p1]), jnp.stack([p2, -p2]))
    assert batch.shape == (2,) and batch.tolist() == [True, False]


def test_magnet_kick_displacement_at_lkr(geom, ee):
    """x at the LKr = straight line + (pt_kick/p_z)(z_lkr - z_magnet): place track 1 1 mm inside/outside."""
    v = jnp.array([0.0, 0.0, 150.0])
    pz = 20.0
    p2 = _mom(-0.004, -0.002, pz)
    kick = geom.pt_kick / pz * (geom.z_lkr - geom.z_magnet)
    for delta, expected in ((-1e-3, True), (+1e-3, False)):
        tx = (geom.lkr_half_width + delta - kick) / (geom.z_lkr - 150.0)
        assert _x_at(geom, v, tx, pz, +1, geom.z_lkr) == pytest.approx(geom.lkr_half_width + delta)
        assert bool(pair_accepted(geom, ee, v, _mom(tx, 0.0, pz), p2)) is expected
    # the same straight track without kick (or with the opposite charge) is well inside
    tx = (geom.lkr_half_width + 1e-3 - kick) / (geom.z_lkr - 150.0)
    no_kick = dataclasses.replace(geom, pt_kick=0.0)
    assert bool(pair_accepted(no_kick, ee, v, _mom(tx, 0.0, pz), p2))
    assert bool(pair_accepted(geom, ee, v, _mom(tx, 0.003, pz), _mom(-0.004, 0.006, pz), charge_sign=-1))


def test_straw_annulus_cuts(geom, ee):
    wide = dataclasses.replace(geom, lkr_half_width=10.0, lkr_octagon_sum=20.0)
    v = jnp.array([0.0, 0.0, 150.0])
    pz = 20.0
    p2 = _mom(-0.004, -0.002, pz)
    # STRAW1 inner radius (before the magnet): r = |t| (183 - 150)
    for r, expected in ((0.099, False), (0.101, True)):
        ty = r / (geom.z_straw1 - 150.0)  # x = 0 at STRAW1: y alone sets r there
        assert bool(pair_accepted(wide, ee, v, _mom(0.0, ty, pz), p2)) is expected
    # STRAW4 outer radius, after the kick
    kick4 = geom.pt_kick / pz * (geom.z_straw4 - geom.z_magnet)
    for x4, expected in ((0.999, True), (1.001, False)):
        tx = (x4 - kick4) / (geom.z_straw4 - 150.0)
        assert _x_at(geom, v, tx, pz, +1, geom.z_straw4) == pytest.approx(x4)
        assert bool(pair_accepted(wide, ee, v, _mom(tx, 0.0, pz), p2)) is expected
    # STRAW1 outer radius
    t = 1.001 / (geom.z_straw1 - 150.0)
    assert not bool(pair_accepted(wide, ee, v, _mom(0.0, t, pz), p2))


def test_lkr_octagon_radius_energy_separation(geom, ee):
    v = jnp.array([0.0, 0.0, 105.0])
    pz = 20.0
    dz = geom.z_lkr - 105.0
    kick = geom.pt_kick / pz * (geom.z_lkr - geom.z_magnet)
    p2 = _mom(-0.002, -0.002, pz)

    def track_to(x, y):  # track 1 (positive) hitting the LKr at (x, y)
        return _mom((x - kick) / dz, y / dz, pz)

    assert bool(pair_accepted(geom, ee, v, track_to(0.75, 0.75), p2))  # |x|+|y| = 1.50 < 1.598
    assert not bool(pair_accepted(geom, ee, v, track_to(0.85, 0.85), p2))  # 1.70: outside the octagon
    # r = 0.12 at the LKr: rejected by the ee cluster radius (0.15), accepted with only the hole (0.08)
    assert not bool(pair_accepted(geom, ee, v, track_to(0.0, 0.12), p2))
    assert bool(pair_accepted(geom, dataclasses.replace(ee, min_radius=0.0), v, track_to(0.0, 0.12), p2))
    # energy and separation (no magnet, so the positions do not depend on p_z)
    flat = dataclasses.replace(geom, pt_kick=0.0)
    t1 = (0.004, 0.002)
    for E, expected in ((0.9, False), (1.1, True)):
        p1 = jnp.array([t1[0], t1[1], 1.0]) * E / np.sqrt(1 + t1[0] ** 2 + t1[1] ** 2)
        assert bool(pair_accepted(flat, ee, v, p1, p2)) is expected
    # two clusters 5 cm apart: rejected at min_separation 0.1 m, accepted at 0.
    t2 = (t1[0] + 0.05 / dz, t1[1])
    p1, p2b = _mom(*t1, pz), _mom(*t2, pz)
    assert not bool(pair_accepted(flat, ee, v, p1, p2b))
    assert bool(pair_accepted(flat, dataclasses.replace(ee, min_separation=0.0), v, p1, p2b))


def test_muv3_cuts(geom, mumu):
    v = jnp.array([0.0, 0.0, 150.0])
    pz = 30.0
    dz = geom.z_muv3 - 150.0
    kick = geom.pt_kick / pz * (geom.z_muv3 - geom.z_magnet)
    p2 = _mom(-0.003, -0.002, pz)
    wide_straws = dataclasses.replace(geom, straw_r_max=5.0)

    def track_to(x, y):
        return _mom((x - kick) / dz, y / dz, pz)

    assert bool(pair_accepted(geom, mumu, v, track_to(0.5, 0.4), p2))
    assert bool(pair_accepted(wide_straws, mumu, v, track_to(1.31, 0.0), p2))
    assert not bool(pair_accepted(wide_straws, mumu, v, track_to(1.33, 0.0), p2))
    # MUV3 beam hole r > 0.11 (the straws alone would accept it)
    t_in = track_to(0.0, 0.105)
    assert not bool(pair_accepted(geom, mumu, v, t_in, p2))
    assert bool(pair_accepted(dataclasses.replace(geom, muv3_r_min=0.05), mumu, v, t_in, p2))


def test_smooth_pair_acceptance_tends_to_hard(geom, ee):
    rng = np.random.default_rng(5)
    n = 4000
    v = np.stack([rng.normal(0, 0.2, n), rng.normal(0, 0.2, n), rng.uniform(103, 182, n)], -1)
    t1 = rng.normal(0, 0.006, (n, 2))
    t2 = rng.normal(0, 0.006, (n, 2))
    pz1, pz2 = rng.uniform(0.5, 60, n), rng.uniform(0.5, 60, n)
    p1 = np.concatenate([t1 * pz1[:, None], pz1[:, None]], -1)
    p2 = np.concatenate([t2 * pz2[:, None], pz2[:, None]], -1)
    hard = np.asarray(pair_accepted(geom, ee, v, p1, p2), float)
    assert 0.05 < hard.mean() < 0.95
    diffs = [np.abs(np.asarray(pair_accepted_smooth(geom, ee, v, p1, p2, sharpness=s)) - hard).mean()
             for s in (1e1, 1e2, 1e3, 1e5)]
    assert all(a > b for a, b in zip(diffs, diffs[1:])), diffs
    assert diffs[-1] < 2e-3
    # differentiable in the geometry: gradients are finite and non-zero
    g = jax.grad(lambda gm: jnp.sum(pair_accepted_smooth(gm, ee, v, p1, p2, sharpness=1e2)))(geom)
    leaves = np.array(jax.tree_util.tree_leaves(g))
    assert np.all(np.isfinite(leaves)) and np.any(leaves != 0)


# --------------------------------------------------------------------------------------------------
# angular distribution and sampling
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [-1.0, -1e-9, 0.0, 1e-9, 0.3, 1.0])
def test_cos_star_inverse_cdf(k):
    u = jnp.linspace(0.0, 1.0, 2001)
    c = np.asarray(cos_star_from_uniform(u, k))
    assert c[0] == pytest.approx(-1.0, abs=1e-12) and c[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(c) > 0)
    # F(c) = [(c + 1) + k (c^3 + 1)/3] / (2 + 2k/3) reproduces u
    F = ((c + 1) + k * (c**3 + 1) / 3) / (2 + 2 * k / 3)
    np.testing.assert_allclose(F, np.asarray(u), atol=1e-12)


def test_cos_star_histogram_matches_vector_distribution():
    # dGamma/dcos ~ 1 + cos^2 + (4 m^2/M^2) sin^2 at M = 0.25 GeV, muons (r = 0.714)
    m, ml = 0.25, M_MU
    r = 4 * ml**2 / m**2
    k = (1 - r) / (1 + r)
    u = np.asarray(sample_unit_points(jax.random.PRNGKey(3), 50000, 1, sampling="random"))[:, 0]
    c = np.asarray(cos_star_from_uniform(u, k))
    counts, edges = np.histogram(c, bins=20, range=(-1, 1))
    pdf_int = lambda x: (1 + r) * x + (1 - r) * x**3 / 3  # noqa: E731
    expected = len(c) * (pdf_int(edges[1:]) - pdf_int(edges[:-1])) / (pdf_int(1.0) - pdf_int(-1.0))
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, 19) > 1e-3, chi2


# --------------------------------------------------------------------------------------------------
# Monte Carlo acceptance
# --------------------------------------------------------------------------------------------------
def test_acceptance_bounds_threshold_and_no_nan(geom, ee, mumu):
    m = jnp.array([0.05, 0.2, 2 * M_MU, 0.25, 0.5, 1.5])[:, None, None, None]
    p = jnp.geomspace(1.0, 400.0, 6)[:, None, None]
    th = jnp.array([0.0, 1e-4, 1e-3, 3e-3])[:, None]
    z = jnp.linspace(103.0, 181.0, 5)
    for sel in (ee, mumu):
        a = np.asarray(acceptance_mc(geom, sel, m, p, th, z, KEY, 256))
        assert a.shape == (6, 6, 4, 5)
        assert np.all(np.isfinite(a)) and np.all((a >= 0) & (a <= 1))
        assert a.max() > 0.2
    a_mm = np.asarray(acceptance_mc(geom, mumu, m, p, th, z, KEY, 256))
    assert np.all(a_mm[:3] == 0.0)  # at and below 2 m_mu
    # finite gradients of the relaxed acceptance below threshold and on the axis
    g = jax.grad(lambda mm: acceptance_mc_smooth(geom, mumu, mm, 20.0, 0.0, 150.0, KEY, 64))(0.15)
    assert np.isfinite(float(g))


def test_acceptance_zero_beyond_the_detector(geom, cfg):
    """theta >~ 6e-3 rad cannot reach the straws (r_max / (z_straw1 - z_prod) = 6.25e-3): A = 0,
    so the default theta range (up to 10^-1.3 = 5e-2 rad) covers everything NA62 sees.
    (Geometric statement: checked with isotropic decays, which reach the widest daughter angles.)"""
    m = jnp.geomspace(0.0015, 2.0, 8)[:, None, None, None]
    p = jnp.geomspace(1.0, 400.0, 8)[:, None, None]
    th = jnp.array([3e-3, 8e-3, 1.2e-2, 2e-2, 5e-2, 0.1])[:, None]
    ze = np.linspace(geom.z_dv_start, geom.z_dv_end, 9)
    zc, zw = 0.5 * (ze[1:] + ze[:-1]), np.diff(ze)
    for ch in ("ee", "mumu", "pipi"):
        sel = selection_from_config(cfg, ch)
        a = np.asarray(acceptance_mc(geom, sel, m, p, th, zc, KEY, 512, z_width=zw, angular="isotropic"))
        assert a[:, :, 1:].max() == 0.0, ch
        assert a[:, :, 0].max() > 0.3, ch  # ... while just inside it is not


def test_collinear_pairs_rejected_by_inner_radius(geom, ee, mumu):
    # FIP on the axis, decaying at the end of the volume with 400 GeV: the pair stays in the beam hole
    far = acceptance_mc(geom, ee, 0.02, 400.0, 1e-6, 181.5, KEY, 1024)
    mid = acceptance_mc(geom, ee, 0.02, 100.0, 1e-3, 130.0, KEY, 1024)
    assert float(far) < 0.02 and float(mid) > 0.2
    assert float(acceptance_mc(geom, mumu, 0.25, 400.0, 1e-6, 181.5, KEY, 1024)) < 0.02


def test_ee_separation_cut(geom, ee):
    """The LKr cluster separation (0.1 m) removes e+e- pairs whose opening angle undoes the magnet's
    opposite kicks (m ~ 0.1-0.3 GeV, high momentum).  Below ~50 MeV the kicks alone separate the
    clusters by >= 4 p_kick (z_lkr - z_magnet)/p = 0.12 m at p = 400 GeV, so the cut cannot act there;
    without the magnet the nearly collinear low-mass pairs are the ones it removes."""
    no_sep = dataclasses.replace(ee, min_separation=0.0)
    args = (jnp.array([0.1, 0.3, 0.3]), jnp.array([400.0, 200.0, 400.0]), 1e-3, 142.0, KEY, 2048)
    a_sep = np.asarray(acceptance_mc(geom, ee, *args, z_width=79.0))
    a_nosep = np.asarray(acceptance_mc(geom, no_sep, *args, z_width=79.0))
    assert np.all(a_nosep - a_sep > 0.01), a_nosep - a_sep
    low = (0.01, 300.0, 1e-3, 142.0, KEY, 2048)
    assert float(acceptance_mc(geom, ee, *low, z_width=79.0)) == float(acceptance_mc(geom, no_sep, *low, z_width=79.0))
    flat = dataclasses.replace(geom, pt_kick=0.0)
    a_sep, a_nosep = (float(acceptance_mc(flat, s, *low, z_width=79.0)) for s in (ee, no_sep))
    assert a_nosep - a_sep > 0.05, (a_sep, a_nosep)


def test_vmap_matches_broadcasting_and_reproducible(geom, mumu):
    m = jnp.array([0.3, 0.5, 0.8])
    p = jnp.array([20.0, 60.0, 150.0])
    th = jnp.array([2e-4, 1e-3, 2e-3])
    z = jnp.array([110.0, 140.0, 170.0])
    f = lambda m, p, th, z: acceptance_mc(geom, mumu, m, p, th, z, KEY, 512)  # noqa: E731
    a_vmap = jax.vmap(f)(m, p, th, z)
    a_bc = f(m, p, th, z)
    np.testing.assert_array_equal(np.asarray(a_vmap), np.asarray(a_bc))
    np.testing.assert_array_equal(np.asarray(a_bc), np.asarray(f(m, p, th, z)))
    other = acceptance_mc(geom, mumu, m, p, th, z, jax.random.PRNGKey(7), 512)
    assert not np.array_equal(np.asarray(other), np.asarray(a_bc))


def test_jit_no_recompile(geom, ee):
    before = acceptance_mc._cache_size()
    acceptance_mc(geom, ee, 0.31, 11.0, 1e-3, 150.0, KEY, 96)
    acceptance_mc(geom, ee, 0.41, 12.0, 2e-3, 160.0, jax.random.PRNGKey(1), 96)
    geom2 = dataclasses.replace(geom, z_lkr=242.0)  # new numbers, same pytree structure
    acceptance_mc(geom2, ee, 0.41, 12.0, 2e-3, 160.0, KEY, 96)
    assert acceptance_mc._cache_size() == before + 1


def test_float32_agrees_with_float64(geom, ee):
    f32 = np.float32
    m, p = np.array([0.02, 0.3, 1.0]), np.geomspace(2, 300, 6)[:, None]
    th, z = np.array([1e-4, 1e-3, 3e-3])[:, None, None], np.float64(150.0)
    a64 = acceptance_mc(geom, ee, m, p, th, z, KEY, 1024, z_width=20.0)
    a32 = acceptance_mc(geom, ee, m.astype(f32), p.astype(f32), th.astype(f32), f32(z), KEY, 1024, z_width=20.0)
    assert a32.dtype == jnp.float32 and a64.dtype == jnp.float64
    # the same key gives the same points in both precisions: only events within rounding of a cut differ
    noise = 1.0 / np.sqrt(1024)
    assert np.max(np.abs(np.asarray(a32, np.float64) - np.asarray(a64))) < noise


def test_smooth_acceptance_mc_tends_to_hard(geom, ee):
    args = (geom, ee, jnp.array([0.03, 0.3]), jnp.array([[10.0], [80.0]]), 1e-3, 150.0, KEY, 512)
    hard = np.asarray(acceptance_mc(*args))
    diffs = [np.abs(np.asarray(acceptance_mc_smooth(*args, sharpness=s)) - hard).max() for s in (10.0, 1e2, 1e4)]
    assert diffs[0] > diffs[1] > diffs[2] and diffs[2] < 0.01


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------
SMALL = dict(
    log10m=np.log10([0.02, 0.1, 0.3, 0.8]),
    log10p=np.log10([3.0, 10.0, 30.0, 100.0, 300.0]),
    log10theta=np.array([-4.0, -3.3, -3.0, -2.6, -2.3]),
    z_edges=np.linspace(102.425, 182.0, 7),
)


@pytest.fixture(scope="module")
def small_tables(exp):
    """The ee table on a small grid at n_mc = 64 ... 4096 (same seed)."""
    return {n: build_acceptance_table(exp, "ee", **SMALL, n_mc=n, cache=False) for n in (64, 256, 1024, 4096)}


def test_table_convergence_with_mc_size(small_tables):
    """Mean |A_n - A_4096| falls ~ 1/sqrt(n) or faster (randomised QMC): ratio 64 -> 1024 well above 2.5."""
    ref = small_tables[4096].values
    err = {n: np.mean(np.abs(small_tables[n].values - ref)) for n in (64, 256, 1024)}
    assert err[64] > err[256] > err[1024]
    assert err[64] / err[1024] > 2.5, err
    assert err[256] < 0.02, err


def test_table_cache_roundtrip_and_key(cfg, exp, monkeypatch):
    calls = []
    real = facc._compute_values

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(facc, "_compute_values", counting)
    kw = dict(SMALL, n_mc=64, seed=3)
    t1 = build_acceptance_table(exp, "mumu", **kw)
    t2 = build_acceptance_table(exp, "mumu", **kw)
    assert len(calls) == 1
    np.testing.assert_array_equal(t1.values, t2.values)
    np.testing.assert_array_equal(t1.z_edges, t2.z_edges)
    assert t1.channel == t2.channel == "mumu"
    assert t1.values.shape == (4, 5, 5, 6)
    uncached = build_acceptance_table(exp, "mumu", **kw, cache=False)  # computes: 2 calls
    np.testing.assert_array_equal(uncached.values, t1.values)
    # another geometry: another key, another build
    cfg2 = {**cfg, "detector": {**cfg["detector"], "lkr": {**cfg["detector"]["lkr"], "r_min": 0.09}}}
    exp2 = parse_experiment(cfg2, "variant")
    geom1, geom2 = geometry_from_config(cfg), geometry_from_config(cfg2)
    sel = selection_from_config(cfg, "mumu")
    grids = [np.asarray(SMALL[k]) for k in ("log10m", "log10p", "log10theta")]
    z = SMALL["z_edges"]
    s1 = table_settings(geom1, sel, None, "mumu", *grids, z, (102.425, 182.0), 64, 3, "vector", "qmc", "float64")
    s2 = table_settings(geom2, sel, None, "mumu", *grids, z, (102.425, 182.0), 64, 3, "vector", "qmc", "float64")
    assert canonical_key("acceptance", s1, 1) != canonical_key("acceptance", s2, 1)
    build_acceptance_table(exp2, "mumu", **kw)
    assert len(calls) == 3
    build_acceptance_table(exp, "mumu", **dict(kw, seed=4))
    assert len(calls) == 4
    build_acceptance_table(exp2, "mumu", **kw)  # now cached as well
    assert len(calls) == 4
    # the spin decides the angular distribution, and so the key
    build_acceptance_table(exp, "mumu", **kw, spin=0)
    assert len(calls) == 5


def test_table_interpolation(small_tables):
    t = small_tables[256]
    assert np.all((t.values >= 0) & (t.values <= 1))
    m, p, th = 10 ** t.log10m, 10 ** t.log10p, 10 ** t.log10theta
    # exact at the grid points
    np.testing.assert_allclose(np.asarray(t.at_mass(m[2])), t.values[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(t.interpolate(m[1], p[3], th[2])), t.values[1, 3, 2], atol=1e-12)
    # linear in log10 m halfway between points, clamped outside
    mid = 10 ** (0.5 * (t.log10m[0] + t.log10m[1]))
    np.testing.assert_allclose(np.asarray(t.at_mass(mid)), 0.5 * (t.values[0] + t.values[1]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(t.at_mass(5.0)), t.values[-1])
    np.testing.assert_allclose(np.asarray(t.interpolate(0.001, 1e4, th[0])), t.values[0, -1, 0], atol=1e-12)
    # theta: clamped below the range (flat theta -> 0 limit), zero above it
    np.testing.assert_allclose(np.asarray(t.interpolate(m[1], p[1], 0.0)), t.values[1, 1, 0], atol=1e-12)
    assert float(jnp.max(t.interpolate(m[1], p[1], 1.01 * th[-1]))) == 0.0
    # broadcasting, jit, vmap and finite gradients (also at theta = 0)
    out = jax.jit(t.interpolate)(jnp.array([0.05, 0.2]), jnp.array([[5.0], [50.0], [200.0]]), 1e-3)
    assert out.shape == (3, 2, 6)
    vm = jax.vmap(t.at_mass)(jnp.array([0.05, 0.2]))
    assert vm.shape == (2, 5, 5, 6)
    g = jax.grad(lambda x: jnp.sum(t.interpolate(x[0], x[1], x[2])))(jnp.array([0.2, 40.0, 0.0]))
    assert np.all(np.isfinite(np.asarray(g)))
    # the table is a pytree: it can be passed into jitted code
    total = jax.jit(lambda tab: jnp.sum(tab.at_mass(0.2)))(t)
    assert float(total) == pytest.approx(float(jnp.sum(t.at_mass(0.2))))


def test_table_default_grids_and_validation(exp):
    g = facc.default_grids(exp, "mumu")
    assert g["log10m"].size == 40 and g["log10p"].size == 36 and g["log10theta"].size == 36
    assert 10 ** g["log10m"][0] == pytest.approx(2 * M_MU * 1.001) and 10 ** g["log10m"][-1] == pytest.approx(2.0)
    assert 10 ** g["log10theta"][-1] == pytest.approx(0.01585, rel=1e-3)
    with pytest.raises(InputError):
        build_acceptance_table(exp, "ee", log10m=[0.0, -1.0], cache=False)
    with pytest.raises(InputError):
        build_acceptance_table(exp, "ee", n_mc=0, cache=False)
    with pytest.raises(InputError):
        build_acceptance_table(exp, "ee", angular="longitudinal", cache=False)
    with pytest.raises(ConfigError, match="no selection for final state pi0gamma"):
        build_acceptance_table(exp, "pi0gamma", cache=False)
    with pytest.raises(InputError):
        AcceptanceTable("ee", np.zeros(2), np.zeros(1), np.zeros(1), np.array([0.0, 1.0]), np.zeros((2, 1, 1, 1)))
