"""NA62 kaon mode kernels (kernels.kaon): K+ -> pi+ X kinematics, the missing mass and the acceptance tables.

The test geometry is NA62's (JINST 12 (2017) P05025; STRAW1 183.0 m, STRAW4 218.7 m, magnet 196.35-197.65 m
with its kick plane at the centre, p_T kick 0.270 GeV, LKr at 241.495 m with its octagon and an r > 0.08 m
beam hole) with the kaon-mode straw annulus 0.06 < r < 1.0 m (the beam passes through the straw hole).  The
beam: 75 GeV/c K+ with 1% rms spread decaying in 105-165 m (the K+ -> pi+ nu nu Run 1 selection,
arXiv:2103.15389); m_K, m_pi, c tau_K from the PDG.  The resolutions below are illustrative, not quoted.

The reference acceptances are a small numpy implementation written here (straight lines, thin kick,
textbook Lorentz boosts), fed the same unit points as the kernel, so they agree event by event.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.kernels.acceptance import Geometry, smearing_normals
from fipscan.kernels.kaon import (
    SIGNATURES,
    KaonBeam,
    KaonResolution,
    KaonSelection,
    _table_points,
    kaon_events,
    kaon_mode_tables,
    m_miss2,
    reconstructed_m2,
)

KEY = jax.random.PRNGKey(7)
M_K, M_PI, CTAU_K = 0.493677, 0.13957039, 3.712  # PDG 2024
M_E, M_MU = 0.51099895e-3, 0.1056583755
GEOM = Geometry(
    z_prod=0.0, y_prod=0.0, z_dv_start=0.0, z_dv_end=0.0,  # not used in kaon mode
    z_straw1=183.0, z_straw4=218.7, straw_r_min=0.06, straw_r_max=1.0, z_magnet=0.5 * (196.35 + 197.65),
    pt_kick=0.270, z_lkr=241.495, lkr_half_width=1.13, lkr_octagon_sum=1.598, lkr_r_min=0.08,
    z_muv3=246.85, muv3_half_width=1.32, muv3_r_min=0.11,
)
BEAM = KaonBeam(p_mean=75.0, p_rel_rms=0.01, z_lo=105.0, z_hi=165.0, z_beam_start=102.4, m_k=M_K, ctau_k=CTAU_K,
                m_pi=M_PI)
SEL = KaonSelection(pi_p_min=15.0, pi_p_max=35.0, min_photon_energy=1.0, min_separation=0.10,
                    lepton_min_energy=1.0, z_escape=241.495, mm2_windows=((0.0, 0.01), (0.026, 0.068)))
PERFECT = KaonResolution()
#: GTK 0.2% and 16 urad, STRAW 0.30% (+) 0.005%/GeV (JINST 12 (2017) P05025); STRAW angle 30 urad illustrative
RES = KaonResolution(gtk_p_rel=0.002, gtk_angle_rad=16e-6, straw_momentum_constant=0.003,
                     straw_momentum_linear_per_gev=5e-5, straw_angle_rad=30e-6)
N_MC = 20000
#: flight-distance cells [m]: a prompt one, four inside the detector, one straddling z_escape, beyond
A_EDGES = np.array([0.0, 1e-6, 10.0, 30.0, 60.0, 100.0, 150.0, 1e30])
P_EDGES = np.linspace(0.0, 80.0, 33)  # every X of a 75 GeV K+ (p_X < p_K < 80 GeV) falls in a bin


def tables(m_x, signature, resolution=PERFECT, dtype=None, key=KEY):
    return kaon_mode_tables(key, m_x, BEAM, GEOM, SEL, resolution, A_EDGES, P_EDGES, signature, N_MC, dtype)


# --------------------------------------------------------------------------------------------------
# an independent numpy implementation of the kinematics and the cuts
# --------------------------------------------------------------------------------------------------
def lam_sqrt(a, b, c):
    """sqrt of the Kallen function lambda(a^2, b^2, c^2) in the factorised form."""
    return math.sqrt((a * a - (b + c) ** 2) * (a * a - (b - c) ** 2))


def boost(e, p, beta):
    """Textbook Lorentz boost of (e, p) (p (n, 3)) by velocity beta (n, 3): a particle at rest gets beta."""
    b2 = np.sum(beta * beta, axis=1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p, axis=1)
    e_out = gamma * (e + bp)
    coef = (gamma - 1.0) * bp / b2 + gamma * e
    return e_out, p + coef[:, None] * beta


def reference_events(u, m_x):
    """K+ -> pi+ X from unit points u[:, 0:4] (the layout kaon_mode_tables documents)."""
    inv = np.vectorize(NormalDist().inv_cdf)
    g = inv(np.clip(u[:, 0], 2.0**-24, 1.0 - 2.0**-24))
    p_k = 75.0 * (1.0 + 0.01 * g)
    length = p_k / M_K * CTAU_K
    span = 165.0 - 105.0
    z_k = 105.0 - length * np.log(1.0 - u[:, 1] * (1.0 - np.exp(-span / length)))  # truncated-exponential CDF^-1
    q = lam_sqrt(M_K, M_PI, m_x) / (2.0 * M_K)
    cos_t, phi = 2.0 * u[:, 2] - 1.0, 2.0 * np.pi * u[:, 3]
    sin_t = np.sqrt(1.0 - cos_t**2)
    dirn = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1)
    beta_k = np.stack([0 * p_k, 0 * p_k, p_k / np.sqrt(p_k**2 + M_K**2)], axis=1)
    e_x, p_x = boost(np.full_like(p_k, math.sqrt(q * q + m_x * m_x)), q * dirn, beta_k)
    e_pi, p_pi = boost(np.full_like(p_k, math.sqrt(q * q + M_PI * M_PI)), -q * dirn, beta_k)
    return p_k, z_k, (e_x, p_x), p_pi


def track_xy(vz, p, charge, z_plane):
    """(x, y) at z_plane of a track from (0, 0, vz) (or a vertex array (n, 3)), thin kick at 197.0 m."""
    v = np.stack([0 * vz, 0 * vz, vz], axis=1) if np.ndim(vz) == 1 else vz
    tx, ty = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
    x = v[:, 0] + tx * (z_plane - v[:, 2])
    y = v[:, 1] + ty * (z_plane - v[:, 2])
    if charge:
        x = x + charge * 0.270 / p[:, 2] * np.maximum(z_plane - 197.0, 0.0)
    return x, y


def in_straws(v, p, charge):
    ok = p[:, 2] > 0
    for z_plane in (183.0, 218.7):
        x, y = track_xy(v, p, charge, z_plane)
        r = np.hypot(x, y)
        ok &= (r > 0.06) & (r < 1.0)
    return ok


def on_lkr(x, y):
    ax, ay = np.abs(x), np.abs(y)
    return (ax < 1.13) & (ay < 1.13) & (ax + ay < 1.598) & (np.hypot(x, y) > 0.08)


def reference_acceptance(u, m_x, signature, cell):
    """Per-event acceptance (0/1) when X decays in ``cell`` of A_EDGES; cell None = at the K+ vertex (prompt)."""
    p_k, z_k, (e_x, p_x), p_pi = reference_events(u, m_x)
    p_pi_abs = np.linalg.norm(p_pi, axis=1)
    ok = in_straws(z_k, p_pi, +1) & (p_pi_abs > 15.0) & (p_pi_abs < 35.0)
    n_x = p_x / np.linalg.norm(p_x, axis=1)[:, None]
    if cell is None:
        d = np.zeros_like(z_k)
    else:
        d = A_EDGES[cell] + u[:, 6 + cell] * (A_EDGES[cell + 1] - A_EDGES[cell])
    vertex = np.stack([0 * z_k, 0 * z_k, z_k], axis=1) + d[:, None] * n_x
    if signature == "invisible":
        return ok & (vertex[:, 2] > 241.495)  # the perfect detector's m^2 = m_x^2 is checked by the caller
    m_d = {"gammagamma": 0.0, "ee": M_E, "mumu": M_MU}[signature]
    q = lam_sqrt(m_x, m_d, m_d) / (2.0 * m_x)
    cos_t, phi = 2.0 * u[:, 4] - 1.0, 2.0 * np.pi * u[:, 5]
    sin_t = np.sqrt(1.0 - cos_t**2)
    dirn = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1)
    e_star = np.full_like(z_k, math.sqrt(q * q + m_d * m_d))
    beta_x = p_x / e_x[:, None]
    e1, p1 = boost(e_star, q * dirn, beta_x)
    e2, p2 = boost(e_star, -q * dirn, beta_x)
    ok &= (p1[:, 2] > 0) & (p2[:, 2] > 0)
    if signature == "gammagamma":
        ok &= vertex[:, 2] < 241.495
        spots = [track_xy(vertex, p, 0, 241.495) for p in (p1, p2)] + [track_xy(z_k, p_pi, +1, 241.495)]
        for (x, y), e in zip(spots[:2], (e1, e2)):
            ok &= on_lkr(x, y) & (e > 1.0)
        for i, j in ((0, 1), (0, 2), (1, 2)):
            ok &= np.hypot(spots[i][0] - spots[j][0], spots[i][1] - spots[j][1]) > 0.10
    else:
        ok &= vertex[:, 2] < 183.0
        for p, e, charge in ((p1, e1, +1), (p2, e2, -1)):
            ok &= in_straws(vertex, p, charge) & (e > 1.0)
    return ok


def binned(acc, u, m_x):
    """(1/n) sum per |p_X| bin of P_EDGES, like the kernel's table column."""
    _, _, (_, p_x), _ = reference_events(u, m_x)
    counts, _ = np.histogram(np.linalg.norm(p_x, axis=1), bins=P_EDGES, weights=acc.astype(float))
    return counts / len(acc)


@pytest.fixture(scope="module")
def points():
    return np.asarray(_table_points(KEY, N_MC, len(A_EDGES) - 1, jnp.float64))


# --------------------------------------------------------------------------------------------------
# kinematics
# --------------------------------------------------------------------------------------------------
def four_dot(p, q, m_p, m_q):
    """E_p E_q - p.q of on-shell momenta (n, 3) as a sum of non-negative terms (no cancellation at 75 GeV)."""
    pa, qa = np.linalg.norm(p, axis=1), np.linalg.norm(q, axis=1)
    dp = m_p**2 / (np.sqrt(pa**2 + m_p**2) + pa)
    dq = m_q**2 / (np.sqrt(qa**2 + m_q**2) + qa)
    n2 = np.sum((p / pa[:, None] - q / qa[:, None]) ** 2, axis=1)
    return pa * dq + dp * qa + dp * dq + 0.5 * pa * qa * n2


def test_two_body_kinematics_rest_frame_momentum_and_conservation():
    m_x = 0.3
    ev = kaon_events(KEY, 4000, m_x, BEAM)
    p_k, p_pi, p_x = (np.asarray(v) for v in (ev.p_k, ev.p_pi, ev.p_x))
    assert ev.p_k.dtype == jnp.float64 and np.all(p_k[:, :2] == 0.0) and np.all(p_k[:, 2] > 70.0)
    # |p_pi| in the K rest frame from the invariant E_pi* = (P_K.P_pi)/m_K
    e_star = four_dot(p_k, p_pi, M_K, M_PI) / M_K
    p_star = np.sqrt(e_star**2 - M_PI**2)
    closed = lam_sqrt(M_K, M_PI, m_x) / (2.0 * M_K)  # PDG Kinematics sec. 49.4.2
    np.testing.assert_allclose(p_star, closed, rtol=0, atol=1e-12)
    # lab momentum and energy conservation
    np.testing.assert_allclose(p_pi + p_x, p_k, rtol=0, atol=1e-10)
    energy = lambda p, m: np.sqrt(np.sum(p * p, axis=1) + m * m)  # noqa: E731
    np.testing.assert_allclose(energy(p_pi, M_PI) + energy(p_x, m_x), energy(p_k, M_K), rtol=0, atol=1e-10)
    # isotropy in the K rest frame: <cos> = 0, <cos^2> = 1/3 within 5 sigma (sd 0.577 and 0.298)
    gamma, bg = energy(p_k, M_K) / M_K, p_k[:, 2] / M_K
    cos_pi = (gamma * p_pi[:, 2] - bg * energy(p_pi, M_PI)) / closed
    n = len(cos_pi)
    assert abs(cos_pi.mean()) < 5 * 0.577 / math.sqrt(n)
    assert abs(np.mean(cos_pi**2) - 1.0 / 3.0) < 5 * 0.298 / math.sqrt(n)


@pytest.mark.parametrize("ctau_k", [CTAU_K, 0.1 * CTAU_K])
def test_kaon_decay_z_follows_the_truncated_exponential(ctau_k):
    beam = KaonBeam(75.0, 0.01, 105.0, 165.0, 102.4, M_K, ctau_k, M_PI)
    z = np.asarray(kaon_events(KEY, N_MC, 0.2, beam).z_k)
    assert np.all((z >= 105.0) & (z <= 165.0))
    # closed form: mean of exp(-x/L) on [0, D] is L - D/(e^(D/L) - 1); averaged over the Gaussian p_K by
    # Gauss-Hermite quadrature (no memory: the start at 102.4 m does not change the shape)
    x, w = np.polynomial.hermite_e.hermegauss(40)
    length = 75.0 * (1.0 + 0.01 * x) / M_K * ctau_k
    span = 60.0
    mean = 105.0 + np.sum(w * (length - span / np.expm1(span / length))) / np.sum(w)
    sigma = z.std() / math.sqrt(len(z))  # MC error of the mean (the lattice does better)
    assert abs(z.mean() - mean) < 5 * sigma
    if ctau_k < 1.0:  # the short-lived case is far from uniform: the test can tell the shapes apart
        assert abs(135.0 - mean) > 20 * sigma


def reference_smeared_m2(p_k, p_pi, g, res):
    """The measured momenta (|p| (1 + sigma g0), direction + angle (g1, g2, 0) renormalised) and their m^2."""
    g = np.asarray(g)

    def measure(p, rel, angle, gg):
        p = np.asarray(p)
        pa = np.linalg.norm(p, axis=1)
        n = p / pa[:, None] + angle * np.stack([gg[:, 1], gg[:, 2], 0 * pa], axis=1)
        return (pa * (1.0 + rel * gg[:, 0]))[:, None] * n / np.linalg.norm(n, axis=1)[:, None]

    pa_pi = np.linalg.norm(np.asarray(p_pi), axis=1)
    rel_pi = np.hypot(res.straw_momentum_constant, res.straw_momentum_linear_per_gev * pa_pi)
    k = measure(p_k, res.gtk_p_rel, res.gtk_angle_rad, g[:, 0])
    pi = measure(p_pi, rel_pi, res.straw_angle_rad, g[:, 1])
    return M_K**2 + M_PI**2 - 2.0 * four_dot(k, pi, M_K, M_PI)


MASSES = (0.01, 0.12, 0.2, 0.3, 0.35)
RES_FIELDS = ("gtk_p_rel", "gtk_angle_rad", "straw_momentum_constant", "straw_momentum_linear_per_gev",
              "straw_angle_rad")


def test_missing_mass_perfect_detector_and_resolution():
    mm2, reco = jax.jit(m_miss2), jax.jit(reconstructed_m2)
    for m_x in MASSES:
        ev = kaon_events(KEY, 2000, m_x, BEAM)
        np.testing.assert_allclose(np.asarray(mm2(ev.p_k, ev.p_pi, M_K, M_PI)), m_x**2, rtol=1e-9)
        g = smearing_normals(KEY, 2000, 2)
        perfect = reco(ev.p_k, ev.p_pi, g, PERFECT, M_K, M_PI)
        np.testing.assert_allclose(np.asarray(perfect), m_x**2, rtol=1e-9)
        smeared = np.asarray(reco(ev.p_k, ev.p_pi, g, RES, M_K, M_PI))
        half = KaonResolution(*(0.5 * v for v in (0.002, 16e-6, 0.003, 5e-5, 30e-6)))
        smeared_half = np.asarray(reco(ev.p_k, ev.p_pi, g, half, M_K, M_PI))
        s, s_half = np.std(smeared - m_x**2), np.std(smeared_half - m_x**2)
        assert s > 1e-4  # NA62 quotes O(1e-3) GeV^2 for m_miss^2
        assert 0.45 < s_half / s < 0.55  # linear in the resolutions
        np.testing.assert_allclose(smeared, reference_smeared_m2(ev.p_k, ev.p_pi, g, RES), rtol=1e-9, atol=1e-12)
        if m_x == 0.2:  # every term alone smears m^2 (GTK p and angle, STRAW p constant and linear, angle)
            for field in RES_FIELDS:
                alone = KaonResolution(**{field: getattr(RES, field)})
                assert np.std(np.asarray(reco(ev.p_k, ev.p_pi, g, alone, M_K, M_PI)) - m_x**2) > 1e-5, field
    # float32: the cancellation-free form keeps m^2 to ~1e-6 GeV^2 (the naive (E_K - E_pi)^2 - |dp|^2 loses
    # 75^2 * 1e-7 ~ 5e-4)
    ev = kaon_events(KEY, 2000, 0.2, BEAM)
    m2_32 = mm2(ev.p_k.astype(jnp.float32), ev.p_pi.astype(jnp.float32), M_K, M_PI)
    assert m2_32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(m2_32), 0.04, rtol=0, atol=2e-6)


# --------------------------------------------------------------------------------------------------
# tables against the independent implementation
# --------------------------------------------------------------------------------------------------
def test_prompt_gammagamma_equals_independent_acceptance(points):
    m_x = 0.25
    t = tables(m_x, "gammagamma")
    w = np.asarray(t.weights)
    ref = binned(reference_acceptance(points, m_x, "gammagamma", None), points, m_x)
    # tau -> 0: the first cell (d < 1 um) is the prompt acceptance; the same unit points give the same
    # events, so the two agree event by event (allow one event decided differently by rounding)
    np.testing.assert_allclose(w[:, 0], ref, rtol=0, atol=1.01 / N_MC)
    assert 0.05 < ref.sum() < 0.9  # a real fraction, neither trivial pass nor fail
    # cells downstream, with the decay position drawn in them
    for cell in (3, 5):  # cell 5 (100-150 m) straddles the LKr
        ref_cell = binned(reference_acceptance(points, m_x, "gammagamma", cell), points, m_x)
        np.testing.assert_allclose(w[:, cell], ref_cell, rtol=0, atol=1.01 / N_MC)
    # <1/p> per bin over all events of the bin
    _, _, (_, p_x), _ = reference_events(points, m_x)
    p_abs = np.linalg.norm(p_x, axis=1)
    idx = np.digitize(p_abs, P_EDGES) - 1
    for b in range(len(P_EDGES) - 1):
        sel = idx == b
        expect = np.mean(1.0 / p_abs[sel]) if sel.any() else 0.0
        # a mean over ~10^3 events summed in another order: 1e-10 (float64 rounding, not physics)
        np.testing.assert_allclose(float(t.inv_p_mean[b]), expect, rtol=1e-10)
    # a perfect detector reconstructs m_X exactly: both mass moments vanish
    assert float(t.total) > 0
    assert abs(float(t.mass_sum)) < 1e-9 * float(t.total) and float(t.mass_sq_sum) < 1e-15


@pytest.mark.parametrize("signature, m_x", [("ee", 0.05), ("mumu", 0.3)])
def test_dilepton_cells_equal_independent_acceptance(points, signature, m_x):
    w = np.asarray(tables(m_x, signature).weights)
    for cell in (0, 2, 4):
        ref = binned(reference_acceptance(points, m_x, signature, cell), points, m_x)
        np.testing.assert_allclose(w[:, cell], ref, rtol=0, atol=1.01 / N_MC)
    assert w[:, 0].sum() > 0.1 and np.all(w[:, 5] == 0)  # cell 5 lies beyond STRAW1 for every K+ vertex


def test_long_lived_invisible_is_the_pion_acceptance_in_the_windows(points):
    # m_X = 0.2: m^2 = 0.04 in (0.026, 0.068); perfect detector: the windows pass every event
    t = tables(0.2, "invisible")
    w = np.asarray(t.weights)
    pion = reference_acceptance(points, 0.2, "invisible", None)  # d = 0: pi+ cuts, vertex never beyond
    assert not pion.any()
    _, z_k, _, p_pi = reference_events(points, 0.2)
    p_abs = np.linalg.norm(p_pi, axis=1)
    pion_only = in_straws(z_k, p_pi, +1) & (p_abs > 15.0) & (p_abs < 35.0)
    np.testing.assert_allclose(w[:, -1], binned(pion_only, points, 0.2), rtol=0, atol=1.01 / N_MC)
    for cell in range(len(A_EDGES) - 2):  # finite cells: the X must decay beyond z_escape
        ref = binned(reference_acceptance(points, 0.2, "invisible", cell), points, 0.2)
        np.testing.assert_allclose(w[:, cell], ref, rtol=0, atol=1.01 / N_MC)
    assert np.all(w[:, :4] == 0) and w[:, 5].sum() > 0  # z_K + d < 225 m < z_escape in the first four
    # m_X = 0.12 (m^2 = 0.0144) and 0.27 (0.0729) lie outside both windows: exactly zero; 0.09 inside
    for m_x in (0.12, 0.27):
        assert float(tables(m_x, "invisible").total) == 0.0
    assert float(tables(0.09, "invisible").weights[:, -1].sum()) > 0.1
    # with resolution, m^2 = 0.04 sits > 10 sigma from the window edges: (almost) nothing is lost
    smeared = np.asarray(tables(0.2, "invisible", RES).weights)[:, -1].sum()
    assert 0.99 * w[:, -1].sum() <= smeared <= w[:, -1].sum()


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("signature, m_x", [("gammagamma", 0.3), ("ee", 0.05), ("mumu", 0.25),
                                            ("invisible", 0.2)])
def test_weights_are_probabilities(signature, m_x):
    t = tables(m_x, signature)
    w = np.asarray(t.weights)
    assert w.shape == (len(P_EDGES) - 1, len(A_EDGES) - 1) and np.all(np.isfinite(w))
    assert np.all(w >= 0) and np.all(w.sum(axis=0) <= 1.0)  # each cell: a fraction of the decays
    if signature != "invisible":
        assert np.all(w[:, -1] == 0)  # visible signatures: an X beyond the detector is never seen
    # sum_k P_k = 1 for every s, so sum_bk W P_k(s_b) is a probability too (s from 1e-4 to 10 /m)
    a = A_EDGES
    inv_p = np.asarray(t.inv_p_mean)
    for s0 in (1e-4, 1e-2, 1.0, 10.0):
        s = s0 * inv_p[:, None] * 50.0
        prob = np.exp(-s * a[:-1]) * -np.expm1(-s * (a[1:] - a[:-1]))
        np.testing.assert_allclose(prob[inv_p > 0].sum(axis=1), 1.0, rtol=1e-12)
        assert 0.0 <= np.sum(w * prob) <= 1.0
    assert float(t.total) == pytest.approx(w.sum(), rel=1e-12)


def test_thresholds_give_zeros_without_nan():
    for signature in SIGNATURES:  # m_x = 0.36 GeV > m_K - m_pi = 0.354 GeV: K+ -> pi+ X is closed
        t = tables(0.36, signature)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in t)
        assert float(t.total) == 0.0 and np.all(np.asarray(t.weights) == 0.0)
        assert float(t.mass_sum) == 0.0 and float(t.mass_sq_sum) == 0.0
    for signature, m_x in (("mumu", 0.2), ("ee", 0.001)):  # below 2 m_mu = 0.2113 and 2 m_e = 0.00102 GeV
        t = tables(m_x, signature)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in t) and float(t.total) == 0.0
    assert float(tables(0.0015, "ee").total) > 0  # just above 2 m_e it opens


# --------------------------------------------------------------------------------------------------
# dtypes, jit, vmap
# --------------------------------------------------------------------------------------------------
def test_float32_agrees_with_float64():
    t64 = tables(0.25, "gammagamma", RES)
    t32 = tables(np.float32(0.25), "gammagamma", RES, dtype=jnp.float32)
    assert t32.weights.dtype == jnp.float32 and t32.mass_sum.dtype == jnp.float32
    # the same unit points to float32 rounding: at most a few of the 20000 events change their fate
    np.testing.assert_allclose(np.asarray(t32.weights), np.asarray(t64.weights), rtol=0, atol=3.01 / N_MC)
    np.testing.assert_allclose(float(t32.total), float(t64.total), rtol=1e-3)
    sigma64 = math.sqrt(float(t64.mass_sq_sum) / float(t64.total))
    sigma32 = math.sqrt(float(t32.mass_sq_sum) / float(t32.total))
    assert sigma32 == pytest.approx(sigma64, rel=2e-2) and 2e-4 < sigma64 < 5e-3  # ~1.5 MeV at 0.25 GeV
    np.testing.assert_allclose(np.asarray(t32.inv_p_mean), np.asarray(t64.inv_p_mean), rtol=1e-5)


def test_no_recompile_jit_and_vmap():
    tables(0.2, "gammagamma")
    before = kaon_mode_tables._cache_size()
    t = tables(0.31, "gammagamma", RES, key=jax.random.PRNGKey(3))  # other mass, resolution numbers and key
    assert kaon_mode_tables._cache_size() == before and float(t.total) > 0
    masses = jnp.array([0.22, 0.28, 0.33])
    batched = jax.jit(jax.vmap(lambda m: tables(m, "gammagamma", RES)))(masses)
    for i, m in enumerate(masses):
        single = tables(float(m), "gammagamma", RES)
        np.testing.assert_array_equal(np.asarray(batched.weights[i]), np.asarray(single.weights))
        np.testing.assert_allclose(float(batched.mass_sq_sum[i]), float(single.mass_sq_sum), rtol=1e-10)
    assert kaon_mode_tables._cache_size() == before


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="signature"):
        tables(0.2, "tautau")
    with pytest.raises(ValueError, match="mm2_windows"):
        KaonSelection(15.0, 35.0, 1.0, 0.1, 1.0, 241.5, mm2_windows=((0.05, 0.01),))
    with pytest.raises(TypeError, match="KaonResolution"):
        kaon_mode_tables(KEY, 0.2, BEAM, GEOM, SEL, None, A_EDGES, P_EDGES, "invisible", 16)
