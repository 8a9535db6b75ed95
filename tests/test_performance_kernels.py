"""The fast grid kernels (issue 6): equal to the straightforward kernel, stable, differentiable.

No timing assertions here: speed is measured by ``python -m bench``.
"""

from __future__ import annotations

import importlib.util
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.kernels import yields

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]

#: float64 agreement of two exact rewritings of the same sum (rounding only)
RTOL_F64 = 1e-12
#: below this N the sum passes through subnormal numbers and the relative error is meaningless
N_FLOOR_F64 = 1e-250
#: float32 fast path: 1e-3 relative wherever N >= 1e-3 events (issue 6)
RTOL_F32, N_MIN_F32 = 1e-3, 1e-3
POT = 1e18


def _load_bench_module(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", REPO / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tables(nm=7, nb=12, nz=16, seed=0, edges=None):
    """Random positive tables with realistic scales: s1 = m Gamma_1 / (p hbar c), Gamma_1 = alpha m / 3."""
    rng = np.random.default_rng(seed)
    m = np.geomspace(0.005, 2.0, nm)
    p = np.geomspace(2.0, 400.0, nb)
    W = rng.uniform(0.0, 1e-5, (nm, nb, nz))
    W[:, :, :3] *= rng.uniform(size=(nm, nb, 1)) < 0.5  # some empty leading cells
    W[1] = 0.0  # a mass with nothing detected
    log_s1 = np.log(m[:, None] * (m[:, None] / 137.036 / 3) / (p[None, :] * 1.97327e-16))
    a_edges = np.linspace(79.355, 158.93, nz + 1) if edges is None else edges
    return jnp.asarray(W), jnp.asarray(log_s1), jnp.asarray(a_edges)


#: couplings from 1e-12 to 1: both the long-lived (N ~ g^4) and the deeply short-lived regime
LOG_G = jnp.log(jnp.geomspace(1e-12, 1.0, 97))


def _rel_close(a, b, rtol, floor):
    a, b = np.asarray(a), np.asarray(b)
    ok = np.abs(b) > floor
    return np.max(np.abs(a[ok] / b[ok] - 1.0), initial=0.0) <= rtol


def test_fast_kernel_equals_direct_kernel_float64():
    W, ls, a = _tables()
    fast = yields.events_grid(LOG_G, W, ls, a, POT)
    direct = yields.events_grid_direct(LOG_G, W, ls, a, POT)
    assert yields.uniform_cells(a)
    assert np.all(np.isfinite(fast)) and np.all(np.asarray(fast) >= 0)
    assert _rel_close(fast, direct, RTOL_F64, N_FLOOR_F64)
    assert np.all(np.asarray(fast)[1] == 0.0)  # no weights, no events, no NaN
    # both regimes are really exercised: N spans many decades, and underflows at g = 1
    n = np.asarray(direct)
    assert n.max() > 1e4 and (n[n > 0].min() < 1e-30) and np.all(n[:, -1] < 1e-250)


def test_general_path_equals_direct_for_uniform_and_nonuniform_cells():
    W, ls, a = _tables(seed=1)
    assert _rel_close(yields.events_grid(LOG_G, W, ls, a, POT, uniform=False),
                      yields.events_grid_direct(LOG_G, W, ls, a, POT), RTOL_F64, N_FLOOR_F64)
    edges = np.concatenate([np.geomspace(79.355, 120.0, 9), np.linspace(120.0, 158.93, 9)[1:]])
    W, ls, a = _tables(nz=16, seed=2, edges=edges)
    assert not yields.uniform_cells(a)
    fast = yields.events_grid(LOG_G, W, ls, a, POT)  # detects: general path
    assert np.all(np.isfinite(fast))
    assert _rel_close(fast, yields.events_grid_direct(LOG_G, W, ls, a, POT), RTOL_F64, N_FLOOR_F64)


def test_uniform_detection():
    a = np.linspace(79.355, 158.93, 33)
    assert yields.uniform_cells(a) and yields.uniform_cells(a.astype(np.float32))
    b = a.copy()
    b[5] += 1e-9
    assert not yields.uniform_cells(b)
    assert not yields.uniform_cells(a[::-1])
    assert jax.jit(lambda x: jnp.asarray(yields.uniform_cells(x)))(jnp.asarray(a)) == False  # noqa: E712


def test_float32_fast_path_within_1e3():
    W, ls, a = _tables(seed=3)
    ref = yields.events_grid(LOG_G, W, ls, a, POT)
    f32 = yields.events_grid(LOG_G.astype(jnp.float32), W.astype(jnp.float32), ls.astype(jnp.float32),
                             a.astype(jnp.float32), POT)
    assert f32.dtype == jnp.float32
    assert np.all(np.isfinite(f32))
    big = np.asarray(ref) >= N_MIN_F32
    assert big.sum() > 100
    assert np.allclose(np.asarray(f32)[big], np.asarray(ref)[big], rtol=RTOL_F32, atol=0)
    d32 = yields.events_grid_and_dlogg(LOG_G.astype(jnp.float32), W.astype(jnp.float32),
                                       ls.astype(jnp.float32), a.astype(jnp.float32), POT)[1]
    assert d32.dtype == jnp.float32 and np.all(np.isfinite(d32))


def test_jvp_derivative_equals_finite_differences():
    W, ls, a = _tables(seed=4)
    lg = jnp.log(jnp.geomspace(1e-10, 1e-2, 41))
    n, dn = yields.events_grid_and_dlogg(lg, W, ls, a, POT)
    assert np.allclose(n, yields.events_grid(lg, W, ls, a, POT), rtol=0, atol=0)
    h = 1e-5
    fd = (yields.events_grid(lg + h, W, ls, a, POT) - yields.events_grid(lg - h, W, ls, a, POT)) / (2 * h)
    ok = np.asarray(n) > 1e-200
    # central difference error ~ h^2 |N'''| / 6 plus rounding eps |N| / h: 1e-8 relative is ample
    assert np.allclose(np.asarray(dn)[ok], np.asarray(fd)[ok], rtol=1e-7, atol=1e-9 * np.asarray(n)[ok].max())
    # long-lived limit: N ~ g^4, so dN/dlog g = 4 N
    m0 = np.asarray(n)[:, 0] > 0
    assert np.allclose(np.asarray(dn)[m0, 0], 4 * np.asarray(n)[m0, 0], rtol=1e-4)
    # far in the short-lived regime everything underflows to 0 with finite derivatives
    n1, d1 = yields.events_grid_and_dlogg(jnp.log(jnp.asarray([0.3, 1.0])), W, ls, a, POT)
    assert np.all(np.isfinite(n1)) and np.all(np.isfinite(d1))


@pytest.mark.parametrize("uniform", [True, False])
def test_chunking_and_tiling_do_not_change_results(uniform):
    W, ls, a = _tables(nm=11, seed=5)
    ref = np.asarray(yields.events_grid(LOG_G, W, ls, a, POT, chunk=16, uniform=uniform))
    for chunk, budget in ((1, None), (3, None), (4, 1 << 30), (None, 1 << 30), (16, 12 * 8 * 10), (5, 12 * 8 * 7)):
        got = np.asarray(yields.events_grid(LOG_G, W, ls, a, POT, chunk=chunk, uniform=uniform,
                                            budget_bytes=budget))
        assert got.shape == ref.shape
        assert np.allclose(got, ref, rtol=1e-15, atol=0), (chunk, budget)


def test_plan_steps_bounds_memory():
    assert yields.plan_steps(1000, 1000, 80, 8, chunk=16, budget_bytes=2 << 20) == (3, 1000)
    m, g = yields.plan_steps(1000, 10**6, 80, 8, chunk=16, budget_bytes=2 << 20)
    assert m == 1 and g * 80 * 8 <= 2 << 20 and math.ceil(10**6 / g) * g - 10**6 < math.ceil(10**6 / g)
    assert yields.plan_steps(5, 10, 80, 4, chunk=16, budget_bytes=1 << 30) == (5, 10)


def test_jit_and_no_recompile():
    W, ls, a = _tables(seed=6)
    f = jax.jit(lambda lg, W, ls, a, pot: yields.events_grid(lg, W, ls, a, pot, uniform=True))
    n1 = f(LOG_G, W, ls, a, 1e17)
    size = f._cache_size()
    n2 = f(LOG_G + 0.1, W * 2, ls + 0.5, a, 3e17)
    assert f._cache_size() == size
    assert np.allclose(n1, yields.events_grid(LOG_G, W, ls, a, 1e17), rtol=1e-14, atol=0)
    assert np.allclose(n2, yields.events_grid(LOG_G + 0.1, W * 2, ls + 0.5, a, 3e17), rtol=1e-14, atol=0)


def test_numpy_reference_equals_jax_kernel():
    ref = _load_bench_module("numpy_reference")
    W, ls, a = _tables(seed=7)
    jx = np.asarray(yields.events_grid(LOG_G, W, ls, a, POT))
    npd = ref.events_grid(np.asarray(LOG_G), np.asarray(W), np.asarray(ls), np.asarray(a), POT)
    nph = ref.events_grid_horner(np.asarray(LOG_G), np.asarray(W), np.asarray(ls), np.asarray(a), POT)
    assert _rel_close(npd, jx, RTOL_F64, N_FLOOR_F64)
    assert _rel_close(nph, jx, RTOL_F64, N_FLOOR_F64)


def test_numpy_contour_reference_brackets_the_jax_grid():
    """The numpy per-mass roots satisfy N(root) = n_limit in the JAX kernel."""
    ref = _load_bench_module("numpy_reference")
    W, ls, a = _tables(seed=8)
    n_limit = 2.3
    lo, hi = ref.per_mass_contour(np.asarray(LOG_G), np.asarray(W), np.asarray(ls), np.asarray(a), POT, n_limit)
    ok = np.isfinite(lo) & (lo > float(jnp.exp(LOG_G[0]))) & (hi < 1.0)
    assert ok.sum() >= 3
    for i in np.flatnonzero(ok):
        n = yields.events_grid(jnp.log(jnp.asarray([lo[i], hi[i]])), W[i:i + 1], ls[i:i + 1], a, POT)
        assert np.allclose(np.asarray(n)[0], n_limit, rtol=1e-6)


def test_log_grid_kernel_equals_per_cell_log_sum_exp():
    """log_events_grid: the per-mass log_events numbers, finite deep in the short-lived regime."""
    W, ls, a = _tables(seed=9)
    log_pot = jnp.log(POT)
    fast = np.asarray(yields.log_events_grid(LOG_G, W, ls, a, log_pot))
    ref = np.stack([np.asarray(yields.log_events(LOG_G, W[i], ls[i], a, log_pot)) for i in range(W.shape[0])])
    assert np.array_equal(np.isneginf(fast), np.isneginf(ref))  # the empty mass: log 0 = -inf
    ok = np.isfinite(ref)
    assert np.all(np.isfinite(fast[ok]))
    # 1e-12 relative in N <=> 1e-12 absolute in log N (relative to max(1, |log N|) where log N is huge)
    assert np.max(np.abs(fast[ok] - ref[ok]) / np.maximum(1.0, np.abs(ref[ok]))) <= 1e-12
    assert fast[ok].min() < -1e4  # N underflows there, log N does not
    lin = np.asarray(yields.events_grid(LOG_G, W, ls, a, POT))
    pos = lin > N_FLOOR_F64
    assert np.allclose(fast[pos], np.log(lin[pos]), rtol=0, atol=1e-11)
    # non-uniform cells: the per-cell fallback
    edges = np.concatenate([np.geomspace(79.355, 120.0, 9), np.linspace(120.0, 158.93, 9)[1:]])
    W2, ls2, a2 = _tables(nz=16, seed=10, edges=edges)
    got = np.asarray(yields.log_events_grid(LOG_G, W2, ls2, a2, log_pot))
    ref2 = np.stack([np.asarray(yields.log_events(LOG_G, W2[i], ls2[i], a2, log_pot)) for i in range(W2.shape[0])])
    assert np.allclose(got[np.isfinite(ref2)], ref2[np.isfinite(ref2)], rtol=1e-13, atol=0)


def test_log_events_at_pointwise_and_gradient():
    W, ls, a = _tables(seed=12)
    log_pot = jnp.log(POT)
    lg = jnp.log(jnp.geomspace(1e-9, 1e-2, W.shape[0]))
    got = yields.log_events_at(lg, W, ls, a, log_pot)
    ref = [float(yields.log_events(lg[i], W[i], ls[i], a, log_pot)) for i in range(W.shape[0])]
    fin = np.isfinite(ref)
    assert np.allclose(np.asarray(got)[fin], np.asarray(ref)[fin], rtol=1e-13, atol=0)
    diag = np.diagonal(np.asarray(yields.log_events_grid(lg, W, ls, a, log_pot)))  # the grid form agrees
    assert np.allclose(diag[fin], np.asarray(got)[fin], rtol=1e-13, atol=0)
    nz = [i for i in range(W.shape[0]) if fin[i]]
    f = lambda x: yields.log_events_at(x, W[jnp.asarray(nz)], ls[jnp.asarray(nz)], a, log_pot)  # noqa: E731
    x0 = lg[jnp.asarray(nz)]
    d = jax.jvp(f, (x0,), (jnp.ones_like(x0),))[1]
    h = 1e-6
    fd = (f(x0 + h) - f(x0 - h)) / (2 * h)
    assert np.all(np.isfinite(d)) and np.allclose(d, fd, rtol=1e-6, atol=1e-6)


def _has_gpu():
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU")
def test_bench_cli_missing_device_is_one_line_exit_2():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "bench", "--device", "gpu"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("bench: error: --device gpu: no gpu device")


@pytest.mark.slow
def test_bench_quick_writes_json(tmp_path):
    """``python -m bench --quick`` runs end to end and records the fields issue 6 asks for (no timing checks)."""
    import json
    import subprocess
    import sys

    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "targets met" in proc.stdout
    r = json.loads(out.read_text())
    m = r["machine"]
    for key in ("cpu_model", "logical_cpus", "ram_bytes", "jax", "jaxlib", "numpy", "devices", "openblas_env_set"):
        assert key in m
    g = r["stages"]["grid"]
    assert g["numpy_direct"]["max_rel_vs_jax"] <= 1e-6 and g["numpy_horner"]["max_rel_vs_jax"] <= 1e-6
    assert g["fast_float64"]["compile_s"] > 0 and g["fast_float64"]["min_s"] > 0
    assert r["stages"]["sharded"]["bitwise_equal_single_device"]
    assert r["stages"]["ceilings"]["exp_float64"]["exp_per_s"] > 0
    assert r["peak_rss_bytes"]["after_grid"] > 0 and "h100_estimate" in r["stages"]
    # the API scan on the same grid: limit, expected bands and POT band contours
    assert r["stages"]["scan_api"]["warm_s"] > 0 and r["stages"]["scan_api"]["contours"] >= 3
