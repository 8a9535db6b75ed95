"""The (log10 p, log10 theta) binning of FIPs: the ring kernel of two-body decays and its exactness.

The binned path of the yield tables (fipscan.production.samples.MesonSampler.binned) replaces per-mass
sample kinematics and scatter-histogramming by a mass-independent ring kernel interpolated in the
opening angle.  These tests tie it to the exact per-sample reference: same quadrature -> same
histogram up to the opening-angle interpolation; default quadrature -> converged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
from fipscan.kernels import binning
from fipscan.kernels.kinematics import boost_decay, direction
from fipscan.production.samples import MesonSampler, TableSampler, histogram_samples
from fipscan.experiments import load_experiment

#: the yield-table bins of the shipped NA62-BD experiment ([binning] of na62_bd.toml)
P_BIN_EDGES = np.asarray(load_experiment("na62-bd").binning.log10p_edges)
THETA_BIN_EDGES = np.asarray(load_experiment("na62-bd").binning.log10theta_edges)

#: linear interpolation of the ring kernel in the opening angle (eta -> gamma A', 16 x 4 directions):
#: binwise L1 |H_ring - H_samples| / sum H measured 2.1-2.3e-3 at 1000 nodes (the default), 6-8e-4
#: at 4000, 0.4-1.6e-4 at 16000 (first order: the kernel has kinks in alpha where ring edges cross bin
#: centres).  After the acceptance-weighted sum over the angle
#: bins the effect on N is far smaller (the yield tables of the two paths agree to ~1e-6).
RING_INTERP_TOL = {1000: 4e-3, 4000: 1.2e-3}
RING_TOTAL_TOL = 2e-3  # measured up to 5e-4 (H) and 1.4e-3 (sum w/p) at 1000 nodes


def _polar_angle_vector(theta_parent, alpha, psi):
    """Independent reference: rotate the unit vector at angle alpha, azimuth psi about the parent
    direction (psi = 0 towards the beam axis), return its polar angle."""
    tp = np.asarray(theta_parent, float)
    n = np.stack([np.sin(tp), np.zeros_like(tp), np.cos(tp)], -1)
    e_toward_axis = np.stack([-np.cos(tp), np.zeros_like(tp), np.sin(tp)], -1)
    e_side = np.array([0.0, 1.0, 0.0])
    v = (np.cos(alpha)[..., None] * n + np.sin(alpha)[..., None]
         * (np.cos(psi)[..., None] * e_toward_axis + np.sin(psi)[..., None] * e_side))
    return np.arctan2(np.hypot(v[..., 0], v[..., 1]), v[..., 2])


@pytest.mark.parametrize("dtype,tol", [(jnp.float64, 1e-11), (jnp.float32, 3e-5)])
def test_ring_polar_angle_matches_rotated_vector(dtype, tol):
    rng = np.random.default_rng(1)
    tp = 10 ** rng.uniform(-5, 0, 2000)
    al = 10 ** rng.uniform(-7, 0.3, 2000)
    psi = rng.uniform(0, np.pi, 2000)
    ref = _polar_angle_vector(tp, al, psi)
    got = np.asarray(jax.jit(binning.ring_polar_angle)(jnp.asarray(tp, dtype), jnp.asarray(al, dtype),
                                                       jnp.asarray(psi, dtype)))
    assert got.dtype == np.dtype(dtype)
    # relative to the angle itself, also where it is tiny (no 1 - cos cancellation)
    big = ref > 1e-9
    assert np.max(np.abs(got[big] / ref[big] - 1)) < tol
    # the ring's extremes: psi = 0 -> |Theta - alpha|, psi = pi -> Theta + alpha (below pi)
    t0 = np.asarray(binning.ring_polar_angle(jnp.asarray(0.01), jnp.asarray(0.003), jnp.asarray(0.0)))
    t1 = np.asarray(binning.ring_polar_angle(jnp.asarray(0.01), jnp.asarray(0.003), jnp.asarray(np.pi)))
    assert abs(t0 - 0.007) < 1e-15 and abs(t1 - 0.013) < 1e-15


def test_two_body_p_alpha_matches_the_boost():
    """|p| and the opening angle to the parent agree with the full Lorentz boost (kernels.kinematics)."""
    rng = np.random.default_rng(2)
    P = 10 ** rng.uniform(-0.5, 2.6, 500)
    c = rng.uniform(-1, 1, 500)
    for M, m1, m2 in ((0.1349768, 0.02, 0.0), (0.78266, 0.3, 0.1349768), (0.54786, 0.5, 0.0)):
        p, alpha = binning.two_body_p_alpha(jnp.asarray(P), M, m1, m2, jnp.asarray(c))
        p1, _ = boost_decay(jnp.asarray(P), 0.0, 0.0, M, m1, m2, jnp.asarray(c), 0.0)
        p1 = np.asarray(p1)
        ref_p = np.linalg.norm(p1, axis=-1)
        ref_alpha = np.arctan2(np.hypot(p1[:, 0], p1[:, 1]), p1[:, 2])  # parent along z
        assert np.allclose(np.asarray(p), ref_p, rtol=1e-12)
        assert np.allclose(np.asarray(alpha), ref_alpha, rtol=1e-10, atol=1e-15)


def test_ring_kernel_rows_and_the_collinear_limit():
    t_edges = jnp.asarray(THETA_BIN_EDGES)
    thetas = jnp.asarray([2e-5, 1e-3, 5e-3, 0.05])
    alphas = binning.alpha_nodes(0.3, 200, 1e-7)
    K = np.asarray(binning.ring_kernel(thetas, alphas, t_edges, 16))
    assert K.shape == (4, 200, 40) and np.all(K >= 0)
    # every row sums to the kept fraction of its ring, at most 1; rings wholly inside sum to 1
    assert np.all(K.sum(-1) <= 1 + 1e-12)
    assert np.allclose(K[1, :50].sum(-1), 1.0, atol=1e-12)  # alpha <= ~1e-5 around 1e-3
    # alpha -> 0: the FIP flies along the parent: the row is the parent's own cloud-in-cell
    j0, j1, f1, keep = (np.asarray(x) for x in binning.log_theta_cic(thetas, t_edges))
    for j in range(3):
        ref = np.zeros(40)
        ref[j0[j]] += 1 - f1[j]
        ref[j1[j]] += f1[j]
        assert np.allclose(K[j, 0], ref, atol=1e-6)
    # a parent at 0.05 rad reaches the bins (up to 1.4e-2 rad) only with alpha > 0.0355
    a = np.asarray(alphas)
    assert np.all(K[3, a < 0.035] == 0) and K[3, (a > 0.04) & (a < 0.06)].sum() > 0


def test_bin_rows_edges():
    p_edges = jnp.asarray([0.0, 1.0, 2.0])  # 1-10 GeV, 10-100 GeV
    rows = jnp.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    p = jnp.asarray([0.5, 2.0, 50.0, 1e4])  # below the first edge (dropped), bin 0, bin 1, above (last)
    H, wp = binning.bin_rows(rows, p, p_edges)
    assert np.allclose(np.asarray(H), [[3, 4], [12, 14]])
    assert np.allclose(np.asarray(wp), [7 / 2.0, 11 / 50.0 + 15 / 1e4])


@pytest.fixture(scope="module")
def eta_setup():
    spectra = fipscan.load_spectra()
    hist = spectra.histogram("eta")
    br = lambda m: jnp.where(m < 0.547862, 2.0 * (1 - (m / 0.547862) ** 2) ** 3 * 0.3936, 0.0)  # noqa: E731
    return spectra, hist, br


def test_ring_path_equals_per_sample_histogram_at_equal_quadrature(eta_setup):
    """With the sample directions of the reference (16 cos theta* x 8 phi* = 16 x 4 distinct psi by the
    psi -> 2 pi - psi symmetry) the binned histogram equals histogramming the boosted samples, up to the
    opening-angle interpolation."""
    spectra, hist, br = eta_setup
    pe, te = jnp.asarray(P_BIN_EDGES), jnp.asarray(THETA_BIN_EDGES)
    for n_alpha, tol in RING_INTERP_TOL.items():
        s = MesonSampler(hist, spectra.log10p_edges, spectra.log10theta_edges, 0.547862, 0.0, br,
                         n_cos=16, n_phi=8, n_cos_binned=16, n_psi=4, n_alpha=n_alpha)
        data = s.binned_data(THETA_BIN_EDGES)
        for m in (0.001, 0.2, 0.45):
            H, wp = s.binned(data, jnp.asarray(m), P_BIN_EDGES, THETA_BIN_EDGES)
            H_ref, wp_ref = histogram_samples(*s(jnp.asarray(m)), pe, te)
            H, H_ref, wp, wp_ref = (np.asarray(x) for x in (H, H_ref, wp, wp_ref))
            assert H_ref.sum() > 0
            assert np.abs(H - H_ref).sum() / H_ref.sum() < tol, (n_alpha, m)
            assert abs(H.sum() / H_ref.sum() - 1) < RING_TOTAL_TOL
            assert abs(wp.sum() / wp_ref.sum() - 1) < RING_TOTAL_TOL
    # above threshold: nothing
    H, _ = s.binned(data, jnp.asarray(0.6), P_BIN_EDGES, THETA_BIN_EDGES)
    assert float(np.asarray(H).sum()) == 0.0


def test_default_quadrature_is_converged(eta_setup):
    """The default binned quadrature (64 cos theta* x 16 psi, 1000 alpha nodes) against 256 x 64 with
    4000 nodes: the kept FIP yield within 0.2% per mass; binwise (L1) within 10%, measured 6%: the
    midpoint nodes in cos theta* give each parent momentum a comb of FIP momenta, which the 0.033-dex
    momentum bins alias (the decay probability, smooth in p, averages it out: N moves by <= 0.2%)."""
    spectra, hist, br = eta_setup
    args = (hist, spectra.log10p_edges, spectra.log10theta_edges, 0.547862, 0.0, br)
    s = MesonSampler(*args)
    fine = MesonSampler(*args, n_cos_binned=256, n_psi=64, n_alpha=4000)
    d, dfine = s.binned_data(THETA_BIN_EDGES), fine.binned_data(THETA_BIN_EDGES)
    for m in (0.01, 0.3):
        H = np.asarray(s.binned(d, jnp.asarray(m), P_BIN_EDGES, THETA_BIN_EDGES)[0])
        Hf = np.asarray(fine.binned(dfine, jnp.asarray(m), P_BIN_EDGES, THETA_BIN_EDGES)[0])
        assert abs(H.sum() / Hf.sum() - 1) < 2e-3
        assert np.abs(H - Hf).sum() / Hf.sum() < 0.10


def test_table_sampler_window_is_lossless():
    """Evaluating a table only on the bins that can enter the target histogram gives the histogram of
    all its samples exactly."""
    ep = np.linspace(-1.0, 2.7, 75)
    et = np.linspace(-5.0, 0.5, 111)

    def table(m, ep_, et_):
        lp = 0.5 * (jnp.asarray(ep_)[1:] + jnp.asarray(ep_)[:-1])
        lt = 0.5 * (jnp.asarray(et_)[1:] + jnp.asarray(et_)[:-1])
        return m * jnp.exp(-((lp[:, None] - 1.8) ** 2) - (lt[None, :] + 3.0) ** 2)

    pe, te = jnp.asarray(P_BIN_EDGES), jnp.asarray(THETA_BIN_EDGES)
    for support in (None, (30.0, 400.0)):
        ts = TableSampler(table, ep, et, p_support=support)
        H, wp = ts.binned({}, 2.0, P_BIN_EDGES, THETA_BIN_EDGES)
        p, th, w = ts(2.0)
        if support is not None:  # the reference: the table zeroed on bins wholly outside 30-400 GeV
            lp = jnp.log10(p)
            w = jnp.where((lp + 0.025 >= np.log10(30.0)) & (lp - 0.025 <= np.log10(400.0)), w, 0.0)
        H_ref, wp_ref = histogram_samples(p, th, w, pe, te)
        assert np.allclose(np.asarray(H), np.asarray(H_ref), rtol=1e-12, atol=0)
        assert np.allclose(np.asarray(wp), np.asarray(wp_ref), rtol=1e-12, atol=0)


def test_float32_build_keeps_dtype_and_agrees(eta_setup):
    """Kernels keep float32; the float32 histogram agrees with float64 to 1e-4 on the kept total and
    3e-3 binwise (L1) at m = 0.2 GeV (opening-angle node positions round differently)."""
    spectra, hist, br = eta_setup
    p, alpha = binning.two_body_p_alpha(jnp.asarray([10.0], jnp.float32), 0.547862, 0.2, 0.0,
                                        jnp.asarray([0.3], jnp.float32))
    assert p.dtype == jnp.float32 and alpha.dtype == jnp.float32
    K = binning.ring_kernel(jnp.asarray([1e-3], jnp.float32), binning.alpha_nodes(0.3, 50, 1e-7).astype(jnp.float32),
                            jnp.asarray(THETA_BIN_EDGES, jnp.float32), 8)
    assert K.dtype == jnp.float32
    s = MesonSampler(hist, spectra.log10p_edges, spectra.log10theta_edges, 0.547862, 0.0, br)
    H64 = np.asarray(s.binned(s.binned_data(THETA_BIN_EDGES), jnp.asarray(0.2), P_BIN_EDGES, THETA_BIN_EDGES)[0])
    H32 = s.binned(s.binned_data(THETA_BIN_EDGES, jnp.float32), jnp.asarray(0.2, jnp.float32), P_BIN_EDGES,
                   THETA_BIN_EDGES)[0]
    assert H32.dtype == jnp.float32
    H32 = np.asarray(H32, float)
    assert abs(H32.sum() / H64.sum() - 1) < 1e-4
    assert np.abs(H32 - H64).sum() / H64.sum() < 3e-3
