"""fipscan benchmark suite: ``python -m bench`` (or ``python bench/run.py``), from a source checkout.

Measures, in one run on this machine, and writes a JSON record (bench/results/*.json):

* machine: CPU model, cores, RAM, load average before/after, jax/jaxlib/numpy versions, devices,
  the OPENBLAS_*/XLA_FLAGS/OMP_* variables in force;
* ceiling: a bare ``jnp.exp`` throughput (exp/s) in float64 and float32, measured in the same run;
* the 1000 masses x 1000 couplings dark-photon (BC1) scan at NA62-BD with every production channel:
  precompute (cold and warm cache) apart from the grid, the grid kernel's JIT compile apart from its
  run, throughput ((m, eps) points/s, exponentials/s) and its fraction of the ceilings, the
  forward-mode derivative, float32, the mass-sharded kernel, the per-mass contour;
* each against plain but well-vectorised numpy on the same tables (bench/numpy_reference.py),
  asserting the same numbers (1e-6 relative);
* the BC4 dark scalar (``dark-scalar --channels all``) on the same 1000 x 1000 grid: tables after
  compilation, grid, per-mass contour, and each as a ratio to the BC1 figure (full mode only);
* the default main job (``fipscan scan`` with defaults) as a subprocess, cold and warm cache;
* peak RSS (VmHWM high-water mark of this process after each stage, and of a fresh process that
  only holds the tables and runs the grid kernel and its jvp);
* an estimate of the 1000 x 1000 grid on one H100 from the operation counts.

Before ``fipscan.yields.precompute`` runs (spectra missing) or with ``--synthetic``, the tables are
synthetic with the real shapes (bench/synthetic.py) and the JSON says so.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # ``python bench/run.py`` from anywhere
    sys.path.insert(0, str(REPO))

#: the targets of issue 6
TARGETS = {"grid_1000x1000_warm_s": 10.0, "scan_1000x1000_warm_s": 10.0, "speedup_vs_numpy": 5.0, "fraction_of_exp_ceiling": 0.5,
           "peak_rss_gb": 2.0, "scan_process_1000x1000_warm_s": 5.0, "speedup_vs_foresee_per_point": 1000.0,
           "combinations_200x200_s": 300.0}

#: FORESEE (Kling, Trojanowski, arXiv:2105.07077; github.com/KlingFelix/FORESEE), its numpy loops, per
#: mass of a 1000-coupling scan on this 2-core machine, as measured for the performance issue (the
#: package is not installed here, so the figure is quoted, not re-measured).  Per point: this / 1000.
#: fipscan per point: the whole-process 1000 x 1000 scan (interpreter start to N and contours) / 1e6.
FORESEE_S_PER_MASS = 4.5
FORESEE_COUPLINGS_PER_MASS = 1000

#: NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100, "Technical
#: Specifications", dense, without sparsity): H100 SXM5 / H100 PCIe
H100 = {
    "SXM5": {"fp64_tflops": 34.0, "fp32_tflops": 67.0, "hbm_tb_s": 3.35},
    "PCIe": {"fp64_tflops": 26.0, "fp32_tflops": 51.0, "hbm_tb_s": 2.0},
}


# ----------------------------------------------------------------------------------------------
# small helpers


def _log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident set: VmHWM from /proc/self/status on Linux (reset
    by exec), else getrusage's ru_maxrss (KiB on Linux, bytes on macOS; on Linux it keeps the parent's
    value across fork + exec, so it would over-report for a small child of a large process)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kib * (1 if sys.platform == "darwin" else 1024))


@contextlib.contextmanager
def _cache_env(cache_dir):
    """FIPSCAN_CACHE set to ``cache_dir`` inside the block (restored after)."""
    old = os.environ.get("FIPSCAN_CACHE")
    os.environ["FIPSCAN_CACHE"] = str(cache_dir)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("FIPSCAN_CACHE", None)
        else:
            os.environ["FIPSCAN_CACHE"] = old


def _timed(fn, repeats):
    """(last result, {first, min, median, runs}) of ``repeats`` calls after one untimed warm-up call."""
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        runs.append(time.perf_counter() - t0)
    return out, {"first_s": first, "min_s": min(runs), "median_s": median(runs), "runs_s": runs}


def _max_rel(a, b, floor):
    import numpy as np

    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.abs(b) > floor
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] / b[ok] - 1.0)))


def machine_info():
    import jax
    import jaxlib
    import numpy as np

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    env_keys = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "MKL_NUM_THREADS", "XLA_FLAGS", "JAX_PLATFORMS", "JAX_ENABLE_X64")
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "cpu_model": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "ram_bytes": ram,
        "load_average_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "devices": [str(d) for d in jax.devices()],
        "default_backend": jax.default_backend(),
        "env": {k: os.environ.get(k) for k in env_keys},
        "openblas_env_set": any(os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")),
    }


# ----------------------------------------------------------------------------------------------
# ceilings


def exp_ceiling(dtype, n=1 << 24, repeats=5):
    """Bare ``jnp.exp`` throughput [exp/s]: the best of three forms (from memory + sum, from memory +
    dot, argument made in registers + sum), so that the ceiling is the machine's, not one layout's."""
    import jax
    import jax.numpy as jnp

    x = jnp.linspace(-30.0, 0.0, n, dtype=dtype)
    ones = jnp.ones(n, dtype)
    forms = {
        "memory_sum": (jax.jit(lambda x: jnp.sum(jnp.exp(x))), (x,)),
        "memory_dot": (jax.jit(lambda x, o: jnp.dot(jnp.exp(x), o, precision="highest")), (x, ones)),
        "register_sum": (jax.jit(lambda c: jnp.sum(jnp.exp(c * jnp.arange(n, dtype=dtype)))),
                         (jnp.asarray(-30.0 / n, dtype),)),
    }
    rates = {}
    for name, (f, args) in forms.items():
        _, t = _timed(lambda: f(*args), repeats)
        rates[name] = n / t["min_s"]
    return {"exp_per_s": max(rates.values()), "forms": rates, "n": n}


# ----------------------------------------------------------------------------------------------
# tables


def build_tables(n_masses, mass_range, synthetic, cache_dir, dtype):
    """(tables, info).  The real yield tables unless synthetic or they fail, timed in the stages a user
    meets (all in a fresh cache directory):

    * acceptance_cold_s: the acceptance tables of the detected final states built (cold cache);
    * precompute_cold_s: the yield tables built, acceptance and spectra from the (now warm) cache,
      first call in the process (tracing + compiling the builder included, persistent compilation
      cache cold);
    * precompute_warm_s: the yield tables built again (``cache=False``: no yield-table cache), with
      the builder's compiled program from the persistent compilation cache: the build after compilation;
    * precompute_cached_s: the yield tables loaded from the yield-table cache.
    """
    import jax.numpy as jnp
    import numpy as np

    from bench.synthetic import synthetic_tables

    info = {"source": "synthetic", "precompute_cold_s": None, "precompute_warm_s": None,
            "precompute_cached_s": None, "acceptance_cold_s": None}
    masses = np.geomspace(mass_range[0], mass_range[1], n_masses)
    if not synthetic:
        try:
            from fipscan.experiments import load_experiment
            from fipscan.models import get_model
            from fipscan.runtime import configure
            from fipscan.yields import _acceptance_tables, precompute, resolve_final_states

            with _cache_env(cache_dir):
                configure(x64=True)  # the persistent compilation cache inside the fresh cache directory
                model, exp = get_model("dark-photon"), load_experiment("na62-bd")
                channels = resolve_final_states(model, exp)
                _log(f"acceptance tables ({', '.join(channels)}), cold cache ({cache_dir}) ...")
                t0 = time.perf_counter()
                _acceptance_tables(model, exp, channels, None)
                info["acceptance_cold_s"] = time.perf_counter() - t0
                _log(f"  {info['acceptance_cold_s']:.1f} s")
                stages = (("precompute_cold_s", "first build", {}),
                          ("precompute_warm_s", "built again (compiled)", {"cache": False}),
                          ("precompute_cached_s", "loaded from the yield-table cache", {}))
                for key, label, kwargs in stages:
                    _log(f"  yield tables for {n_masses} masses, {label} ...")
                    t0 = time.perf_counter()
                    t = precompute(model, exp, masses, dtype=dtype, **kwargs)
                    jnp.asarray(t.weights).block_until_ready()
                    info[key] = time.perf_counter() - t0
                    _log(f"  {info[key]:.2f} s")
            info.update(source="precompute", channels=list(t.channels),
                        production_channels=sorted(t.per_channel), n_prod=t.n_prod, n_width=t.n_width)
            return t, info
        except Exception as exc:  # record why, and go on with synthetic tables of the same shape
            info["precompute_error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            _log(f"precompute unavailable ({info['precompute_error']}); using synthetic tables")
    m, W, ls, a = synthetic_tables(n_masses, m_lo=mass_range[0], m_hi=mass_range[1])
    from fipscan.yields import YieldTables

    t = YieldTables(masses=jnp.asarray(m, dtype), weights=jnp.asarray(W, dtype), log_s1=jnp.asarray(ls, dtype),
                    a_edges=jnp.asarray(a, dtype), per_channel={})
    return t, info


# ----------------------------------------------------------------------------------------------
# stages


def bench_grid(tables, log_g, pot, repeats, numpy_masses, horner_masses, info):
    """The grid kernel in float64 and float32, its jvp, the direct JAX kernel, and numpy."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from bench import numpy_reference as npref
    from fipscan.kernels import yields

    W, ls, a = tables.weights, tables.log_s1, tables.a_edges
    n_prod, n_width = tables.n_prod, tables.n_width
    nm, nb, nz = W.shape
    ng = log_g.shape[0]
    uniform = yields.uniform_cells(a)
    res = {"n_masses": nm, "n_couplings": ng, "n_bins": nb, "n_cells": nz, "uniform_cells": uniform,
           "plan_steps": list(yields.plan_steps(nm, ng, nb, 8))}
    counts = npref.transcendental_counts(nm, ng, nb, nz)
    res["counts"] = counts

    def compiled(fn, *args):
        t0 = time.perf_counter()
        lowered = jax.jit(fn).lower(*args)
        t1 = time.perf_counter()
        exe = lowered.compile()
        t2 = time.perf_counter()
        return exe, {"trace_lower_s": t1 - t0, "compile_s": t2 - t1}

    out = {}
    for name, dt in (("float64", jnp.float64), ("float32", jnp.float32)):
        args = tuple(jnp.asarray(x, dt) for x in (log_g, W, ls, a, pot))
        exe, comp = compiled(lambda lg, w, l, e, p: yields.events_grid(
            lg, w, l, e, p, n_prod, n_width, uniform=uniform), *args)
        n, t = _timed(lambda: exe(*args), repeats)
        r = {**comp, **t}
        r["points_per_s"] = nm * ng / t["min_s"]
        r["exp_equivalents_per_s"] = counts["cell_terms"] / t["min_s"]
        r["transcendentals_per_s"] = counts["horner"] / t["min_s"]
        r["fma_per_s"] = counts["horner_fma"] / t["min_s"]
        out[name] = (n, r)
        res[f"fast_{name}"] = r
        _log(f"grid {name}: compile {comp['compile_s']:.2f} s, run {t['min_s']:.3f} s (median {t['median_s']:.3f})")
    n64 = np.asarray(out["float64"][0])
    n32 = np.asarray(out["float32"][0])
    big = n64 >= 1e-3
    res["float32_max_rel_where_N_ge_1e-3"] = _max_rel(n32[big], n64[big], 0.0)

    # forward-mode derivative: one jvp pass
    args = tuple(jnp.asarray(x) for x in (log_g, W, ls, a, pot))
    exe, comp = compiled(lambda lg, w, l, e, p: yields.events_grid_and_dlogg(
        lg, w, l, e, p, n_prod, n_width, uniform=uniform), *args)
    (nj, dn), t = _timed(lambda: exe(*args), repeats)
    res["jvp_float64"] = {**comp, **t, "ratio_to_primal": t["min_s"] / res["fast_float64"]["min_s"],
                          "equal_to_primal": bool(np.array_equal(np.asarray(nj), n64))}
    _log(f"jvp: {t['min_s']:.3f} s ({res['jvp_float64']['ratio_to_primal']:.2f}x the primal)")

    # the direct JAX kernel (one exp + expm1 per cell) on a subset of masses, scaled linearly
    k = min(nm, numpy_masses * 2)
    sub = (jnp.asarray(log_g), W[:k], ls[:k], a)
    f_direct = jax.jit(lambda lg, w, l, e: yields.events_grid_direct(lg, w, l, e, pot, n_prod, n_width))
    nd, t = _timed(lambda: f_direct(*sub), max(1, repeats // 2))
    scale = nm / k
    direct_counts = npref.transcendental_counts(k, ng, nb, nz)
    res["direct_jax_float64"] = {
        **t, "masses_measured": k, "extrapolated_s": t["min_s"] * scale,
        "exp_equivalents_per_s": direct_counts["cell_terms"] / t["min_s"],
        "transcendentals_per_s": direct_counts["direct"] / t["min_s"],
        "max_rel_vs_fast": _max_rel(n64[:k], np.asarray(nd), 1e-250),
    }
    _log(f"direct JAX kernel: {t['min_s']:.3f} s for {k} masses -> {t['min_s'] * scale:.2f} s")

    # numpy, same tables (float64), subsets of masses, scaled linearly in the number of masses
    lg_np, W_np, ls_np, a_np = (np.asarray(x, float) for x in (log_g, W, ls, a))
    kd = min(nm, numpy_masses)
    t0 = time.perf_counter()
    nn = npref.events_grid(lg_np, W_np[:kd], ls_np[:kd], a_np, float(pot), n_prod, n_width)
    td = time.perf_counter() - t0
    kh = min(nm, horner_masses)
    t0 = time.perf_counter()
    nh = npref.events_grid_horner(lg_np, W_np[:kh], ls_np[:kh], a_np, float(pot), n_prod, n_width)
    th = time.perf_counter() - t0
    rel_d = _max_rel(nn, n64[:kd], 1e-250)
    rel_h = _max_rel(nh, n64[:kh], 1e-250)
    res["numpy_direct"] = {"masses_measured": kd, "measured_s": td, "extrapolated_s": td * nm / kd,
                           "max_rel_vs_jax": rel_d,
                           "exp_equivalents_per_s": kd * ng * nb * nz / td}
    res["numpy_horner"] = {"masses_measured": kh, "measured_s": th, "extrapolated_s": th * nm / kh,
                           "max_rel_vs_jax": rel_h}
    res["speedup_vs_numpy_direct"] = res["numpy_direct"]["extrapolated_s"] / res["fast_float64"]["min_s"]
    res["speedup_vs_numpy_horner"] = res["numpy_horner"]["extrapolated_s"] / res["fast_float64"]["min_s"]
    _log(f"numpy direct: {td:.2f} s for {kd} masses -> {td * nm / kd:.1f} s; horner: {th:.2f} s for {kh} "
         f"-> {th * nm / kh:.1f} s; max rel diff {rel_d:.1e}, {rel_h:.1e}")
    assert rel_d <= 1e-6 and rel_h <= 1e-6, f"numpy reference disagrees with JAX: {rel_d}, {rel_h}"
    return res, n64


def bench_sharded(tables, log_g, pot, n64, repeats):
    import jax
    import numpy as np

    from fipscan.sharding import events_grid_sharded

    _, t = _timed(lambda: events_grid_sharded(tables, log_g, pot), repeats)
    got = events_grid_sharded(tables, log_g, pot)
    return {**t, "n_devices": len(jax.devices()), "bitwise_equal_single_device": bool(np.array_equal(got, n64)),
            "max_rel": _max_rel(got, n64, 1e-250)}


def bench_contour(tables, log_g, pot, n_limit, numpy_masses):
    """fipscan.contour.per_mass.per_mass_contour on all masses, and the numpy reference on a subset."""
    import numpy as np

    from bench import numpy_reference as npref
    from fipscan.contour.per_mass import per_mass_contour

    res = {}
    t0 = time.perf_counter()
    c = per_mass_contour(tables, pot, n_limit, log_g)
    res["first_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    c = per_mass_contour(tables, pot, n_limit, log_g)
    res["warm_s"] = time.perf_counter() - t0
    res["masses"] = int(len(c.masses))
    res["masses_excluded"] = int(np.sum(c.excluded))
    _log(f"per_mass_contour: first {res['first_s']:.2f} s, warm {res['warm_s']:.2f} s")
    k = min(len(c.masses), numpy_masses)
    W, ls, a = (np.asarray(x, float) for x in (tables.weights[:k], tables.log_s1[:k], tables.a_edges))
    t0 = time.perf_counter()
    lo, hi = npref.per_mass_contour(np.asarray(log_g, float), W, ls, a, float(pot), n_limit,
                                    tables.n_prod, tables.n_width)
    tn = time.perf_counter() - t0
    inner = np.isfinite(lo) & ~c.lower_at_edge[:k] & ~c.upper_at_edge[:k] & np.isfinite(c.lower[:k])
    rel = max(_max_rel(c.lower[:k][inner], lo[inner], 0.0), _max_rel(c.upper[:k][inner], hi[inner], 0.0)) \
        if inner.any() else None
    res["numpy"] = {"masses_measured": k, "measured_s": tn, "extrapolated_s": tn * len(c.masses) / k,
                    "max_rel_roots_vs_jax": rel, "masses_compared": int(inner.sum())}
    res["speedup_vs_numpy"] = res["numpy"]["extrapolated_s"] / res["warm_s"]
    _log(f"numpy contour: {tn:.2f} s for {k} masses; roots agree to {rel}")
    # per_mass_contour promises 1e-4 relative in g (its docstring); we record the number
    return res


def bench_scan_api(tables, log_g, pot):
    """``fipscan.scan`` (the API a user calls) on the bench's grid with the tables given: the N grid,
    the per-mass contour, the expected-limit bands (median, +-1 sigma, +-2 sigma) and the POT band."""
    import numpy as np

    import fipscan
    from fipscan.grid import Grid

    grid = Grid(np.asarray(tables.masses, float), np.exp(np.asarray(log_g, float)))
    model, exp = fipscan.get_model("dark-photon"), fipscan.load_experiment("na62-bd")
    res = {}
    for key in ("first_s", "warm_s"):
        t0 = time.perf_counter()
        r = fipscan.scan(model, exp, grid, pot=pot, tables=tables)
        res[key] = time.perf_counter() - t0
    pt = r.points[0]
    res["contours"] = 1 + sum(c is not pt.contour for _, c in pt.expected.values()) + len(pt.pot_band)
    res["masses_excluded"] = int(np.sum(r.contour.excluded))
    _log(f"fipscan.scan with the tables given: first {res['first_s']:.2f} s, warm {res['warm_s']:.2f} s "
         f"({res['contours']} contours)")
    return res


#: the experiments of the every-model rows: NA62-BD and one other (issue: "at NA62-BD and one other
#: experiment"); rows of the second are keyed "<model>@<experiment>"
BENCH_EXPERIMENTS = ("na62-bd", "charm")

#: a fresh process that scans one model at one experiment on n_masses x n_couplings through the API
#: (fipscan.scan: N grid, limit contour, expected-band and POT-band contours) with the yield tables
#: in the warm cache: the "1000 x 1000 scan as a whole process with warm caches" of the issue
SCAN_PROCESS_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import fipscan
from fipscan.runtime import configure
configure(x64=True)  # as the CLI: float64 and the persistent compilation cache in FIPSCAN_CACHE
from fipscan.experiments import load_experiment
from fipscan.grid import Grid
from fipscan.models import get_model
t_import = time.perf_counter() - t0
model, exp = get_model(sys.argv[1]), load_experiment(sys.argv[2])
masses = np.asarray(json.loads(sys.argv[3]))
lo, hi = model.coupling.scan_range
grid = Grid(masses, np.geomspace(lo, hi, int(sys.argv[4])))
t1 = time.perf_counter()
tables = fipscan.precompute(model, exp, masses)
t_tables = time.perf_counter() - t1
t2 = time.perf_counter()
result = fipscan.scan(model, exp, grid, tables=tables)
np.asarray(result.events)
t_scan = time.perf_counter() - t2
print(json.dumps({"import_s": t_import, "tables_from_cache_s": t_tables, "scan_s": t_scan,
                  "n_excluded_masses": int(np.asarray(result.contour.excluded).sum())}))
"""


def bench_scan_process(model_name, experiment_name, masses, n_couplings, cache_dir, timeout=900):
    """Wall time of :data:`SCAN_PROCESS_SCRIPT` as a subprocess (interpreter start, imports, tables from
    the yield-table cache, compilation or the persistent compilation cache, scan) and its own breakdown,
    run twice: ``first`` compiles the scan's programs (the yield-table builder's are already in the
    persistent cache), ``wall_s`` (the reported figure) is the second run, every cache warm."""
    env = dict(os.environ, FIPSCAN_CACHE=str(cache_dir))
    runs = []
    for _ in range(2):
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-c", SCAN_PROCESS_SCRIPT, model_name, experiment_name,
                                   json.dumps([float(m) for m in masses]), str(int(n_couplings))],
                                  env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"wall_s": None, "error": f"timed out after {timeout} s"}
        out = {"wall_s": time.perf_counter() - t0, "exit_code": proc.returncode}
        if proc.returncode != 0:
            out["error"] = (proc.stderr.strip().splitlines() or [""])[-1][:300]
            return out
        out.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        runs.append(out)
    return {**runs[1], "first": runs[0]}


def bench_models(n_masses, log_g, cache_dir, experiments=BENCH_EXPERIMENTS):
    """Every registered model at each of ``experiments`` with its default final states: acceptance tables
    from a cold cache, the yield tables (first build, built again after compilation), the n_masses x
    n_couplings grid (compile, run) -- the same stages as the BC1 rows, one row per model and experiment
    -- and the whole-process scan with warm caches (:func:`bench_scan_process`).  A model the experiment
    cannot take (e.g. its masses) gets a row with the error."""
    import jax.numpy as jnp
    import numpy as np

    from fipscan.experiments import load_experiment
    from fipscan.models import get_model, list_models
    from fipscan.yields import _acceptance_tables, precompute, resolve_final_states

    out = {}
    with _cache_env(cache_dir):
        for exp_name in experiments:
            exp = load_experiment(exp_name)
            for name in list_models():
                key = name if exp_name == experiments[0] else f"{name}@{exp_name}"
                try:
                    out[key] = row = _bench_one_model(get_model(name), exp, n_masses, log_g, cache_dir,
                                                      _acceptance_tables, precompute, resolve_final_states, jnp, np)
                except Exception as exc:  # noqa: BLE001 - a bench row, not a crash
                    out[key] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                    _log(f"model {key}: {out[key]['error']}")
                    continue
                _log(f"model {key}: acceptance cold {row['acceptance_cold_s']:.1f} s, tables {row['tables_first_s']:.1f} s "
                     f"first / {row['tables_again_s']:.1f} s again, grid {row['grid_run_s']:.2f} s, whole-process "
                     f"scan {_f(row['scan_process'].get('wall_s'), ' s')}")
    return out


def _bench_one_model(model, exp, n_masses, log_g, cache_dir, _acceptance_tables, precompute, resolve_final_states,
                     jnp, np):
    lo, hi = model.mass_range
    masses = np.geomspace(max(lo, 0.01), min(hi, 2.0), n_masses)
    channels = resolve_final_states(model, exp)
    row = {"experiment": exp.name, "channels": list(channels), "n_masses": int(n_masses),
           "n_couplings": int(log_g.shape[0])}
    t0 = time.perf_counter()
    _acceptance_tables(model, exp, channels, None)
    row["acceptance_cold_s"] = time.perf_counter() - t0
    for key, kwargs in (("tables_first_s", {}), ("tables_again_s", {"cache": False})):
        t0 = time.perf_counter()
        t = precompute(model, exp, masses, **kwargs)
        jnp.asarray(t.weights).block_until_ready()
        row[key] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t.events_grid(log_g, exp.pot).block_until_ready()
    row["grid_first_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t.events_grid(log_g, exp.pot).block_until_ready()
    row["grid_run_s"] = time.perf_counter() - t0
    row["production_channels"] = list(t.per_channel)
    row["scan_process"] = bench_scan_process(model.name, exp.name, masses, log_g.shape[0], cache_dir)
    return row


#: models whose yield-table build is profiled per production channel (the issue benchmarks BC1, BC11)
PROFILED_MODELS = ("dark-photon", "alp-gluon")


def bench_channel_profile(n_masses, cache_dir, models=PROFILED_MODELS):
    """Where the yield-table build goes, per production channel: for each channel of each model in
    ``models`` (at NA62-BD, default final states, acceptance from the warm cache), the model restricted to
    that channel (``production_channels=(name,)``) is built twice with ``cache=False`` on n_masses masses:
    the first build includes tracing and compiling, the second is the build after compilation.  The
    channels' second builds add up to more than the whole model's (each repeats the per-mass set-up)."""
    import jax.numpy as jnp
    import numpy as np

    from fipscan.experiments import load_experiment
    from fipscan.models import get_model
    from fipscan.yields import precompute

    exp = load_experiment("na62-bd")
    out = {}
    with _cache_env(cache_dir):
        for name in models:
            model = get_model(name)
            lo, hi = model.mass_range
            masses = np.geomspace(max(lo, 0.01), min(hi, 2.0), n_masses)
            rows = {}
            for ch in model.production():
                try:
                    one = get_model(name, production_channels=(ch.name,))
                    times = []
                    for _ in range(2):
                        t0 = time.perf_counter()
                        t = precompute(one, exp, masses, cache=False)
                        jnp.asarray(t.weights).block_until_ready()
                        times.append(time.perf_counter() - t0)
                    rows[ch.name] = {"first_s": times[0], "after_compilation_s": times[1], "kind": type(ch).__name__}
                except Exception as exc:  # noqa: BLE001 - a bench row, not a crash
                    rows[ch.name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                _log(f"profile {name} / {ch.name}: {rows[ch.name]}")
            out[name] = rows
    return out


#: the final states of the BC4 scan of the issue that added the dark scalar (NA62-BD: e+e-, mu+mu-, and the
#: hadronic pi+pi-, K+K-, pi+pi-pi0pi0 of EPJC 85 (2025) 571)
BC4_FINAL_STATES = ("ee", "mumu", "pipi", "kk", "pipipi0pi0")


def bench_bc4(n_masses, log_g, pot, cache_dir):
    """The BC4 dark scalar (``dark-scalar`` with the charged final states of NA62's BC4 analysis,
    :data:`BC4_FINAL_STATES`) on n_masses x n_couplings at NA62-BD, the same stages as the BC1 rows:
    acceptance tables (cold cache: the shipped ones), yield tables first build and built again (after
    compilation), the grid (compile, run), the per-mass contour (first, warm); and the ratio of each to
    the BC1 figure of this run.  (``--channels all`` adds gamma gamma, whose neutral decay volume runs to
    the LKr: 56 decay cells instead of 32 for every final state, ~1.7x the table time.)"""
    import jax.numpy as jnp
    import numpy as np

    from fipscan.contour.per_mass import per_mass_contour
    from fipscan.experiments import load_experiment
    from fipscan.models import get_model
    from fipscan.yields import _acceptance_tables, precompute, resolve_final_states

    exp, model = load_experiment("na62-bd"), get_model("dark-scalar")
    m_hi = float(exp.binning.mass_max_gev)  # the experiment's acceptance tables end there (2 GeV)
    masses = np.geomspace(0.05, m_hi, n_masses)
    channels = resolve_final_states(model, exp, ",".join(BC4_FINAL_STATES))
    row = {"channels": list(channels), "n_masses": int(n_masses), "n_couplings": int(log_g.shape[0]),
           "mass_range_gev": [0.05, m_hi]}
    with _cache_env(cache_dir):
        t0 = time.perf_counter()
        _acceptance_tables(model, exp, channels, None)
        row["acceptance_cold_s"] = time.perf_counter() - t0
        for key, kwargs in (("tables_first_s", {}), ("tables_again_s", {"cache": False})):
            t0 = time.perf_counter()
            t = precompute(model, exp, masses, channels=channels, **kwargs)
            jnp.asarray(t.weights).block_until_ready()
            row[key] = time.perf_counter() - t0
        for key in ("grid_first_s", "grid_run_s"):
            t0 = time.perf_counter()
            t.events_grid(log_g, pot).block_until_ready()
            row[key] = time.perf_counter() - t0
        for key in ("contour_first_s", "contour_warm_s"):
            t0 = time.perf_counter()
            c = per_mass_contour(t, pot, -math.log(0.1), log_g)
            row[key] = time.perf_counter() - t0
        row["masses_excluded"] = int(np.sum(c.excluded))
        row["scan_after_compile_s"] = row["tables_again_s"] + row["grid_run_s"] + row["contour_warm_s"]
    _log(f"BC4 dark-scalar ({','.join(channels)}): tables {row['tables_first_s']:.1f} s first / "
         f"{row['tables_again_s']:.1f} s again, grid {row['grid_run_s']:.2f} s, contour {row['contour_warm_s']:.2f} s")
    return row


def _bc4_ratios(st):
    """BC4 over BC1 for the tables built after compilation, the grid run and the warm contour (the
    issue's target: within 2x)."""
    b4 = st.get("bc4") or {}
    if "tables_again_s" not in b4:
        return None
    bc1 = {"tables_again_s": st["tables"].get("precompute_warm_s"), "grid_run_s": st["grid"]["fast_float64"]["min_s"],
           "contour_warm_s": st["contour"]["warm_s"]}
    return {k: (b4[k] / v if v else None) for k, v in bc1.items()}


def bench_main_job(workdir, timeout):
    """``fipscan scan`` with its defaults, as a subprocess: cold (empty FIPSCAN_CACHE) then warm."""
    res = {}
    cache = Path(workdir) / "main-job-cache"
    for label in ("cold", "warm"):
        out = Path(workdir) / f"main-job-out-{label}"
        env = dict(os.environ, FIPSCAN_CACHE=str(cache))
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "fipscan.cli.main", "scan", "-o", str(out)], env=env,
                                  capture_output=True, text=True, timeout=timeout)
            dt = time.perf_counter() - t0
            r = {"wall_s": dt, "exit_code": proc.returncode}
            if proc.returncode != 0:
                r["error"] = (proc.stderr.strip().splitlines() or [""])[-1][:300]
        except subprocess.TimeoutExpired:
            r = {"wall_s": None, "exit_code": None, "error": f"timed out after {timeout} s"}
        res[label] = r
        _log(f"main job ({label} cache): {r}")
        if r.get("exit_code") != 0:
            break
    return res


def bench_combinations(cache_dir, workdir, timeout=3600):
    """``fipscan combinations`` (every allowed production x hadronic decay combination of NA62's four
    benchmark models, 200 M_X x 200 Gamma_X each, acceptance and mass-resolution curves) as a subprocess with
    the bench's cache, twice: "first" builds whatever acceptance and resolution tables the cache lacks; then
    the yield tables are removed from the cache and "tables_cached" times the run the issue's target is
    about (all combinations within 5 minutes on 2 cores with the acceptance tables cached)."""
    import shutil

    res = {}
    env = dict(os.environ, FIPSCAN_CACHE=str(cache_dir))
    for label in ("first", "tables_cached"):
        if label == "tables_cached":
            shutil.rmtree(Path(cache_dir) / "yields", ignore_errors=True)
        out = Path(workdir) / f"combinations-out-{label}"
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "fipscan.cli.main", "combinations", "-o", str(out), "--json"],
                                  env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            res[label] = {"wall_s": None, "error": f"timed out after {timeout} s"}
            break
        r = {"wall_s": time.perf_counter() - t0, "exit_code": proc.returncode}
        if proc.returncode != 0:
            r["error"] = (proc.stderr.strip().splitlines() or [""])[-1][:300]
            res[label] = r
            break
        doc = json.loads(proc.stdout)
        rows = [c for c in doc["combinations"] if c["status"] == "allowed"]
        r.update(n_allowed=len(rows), n_listed=len(doc["combinations"]),
                 slowest={f"{c['parent']}/{c['production']}/{c['final_state']}": c["seconds"]
                          for c in sorted(rows, key=lambda c: -c["seconds"])[:3]})
        res[label] = r
        _log(f"combinations ({label}): {r}")
    return res


#: the models with K+ -> pi+ X (fipscan.searches.kaon) timed at na62-kaon
KAON_MODELS = ("dark-scalar", "dark-scalar-bc5", "alp-fermion", "alp-gluon")


def bench_kaon(cache_dir, n_masses=200, n_couplings=200):
    """The kaon mode at na62-kaon (fipscan.searches.kaon): per search the acceptance Monte Carlo of a
    n_masses grid, cold (compilation included) and from the cache; per model with K+ -> pi+ X the whole
    scan (tables, limits, contours of every search) with the acceptance cached, and how many masses each
    search excludes; the models without K+ -> pi+ X are listed with the reason they are refused."""
    from fipscan.errors import InputError
    from fipscan.experiments import load_experiment
    from fipscan.grid import Grid
    from fipscan.models import get_model, list_models
    from fipscan.scanner import scan
    from fipscan.searches.kaon import kaon_acceptance, kaon_channel

    res = {"grid": [n_masses, n_couplings]}
    with _cache_env(cache_dir):
        e = load_experiment("na62-kaon")
        grid = Grid.log(0.001, 0.354, n_masses, 1e-13, 1e-2, n_couplings)
        for search in e.searches:
            t0 = time.perf_counter()
            kaon_acceptance(e, search, grid.masses)
            t1 = time.perf_counter()
            kaon_acceptance(e, search, grid.masses)
            res[f"acceptance_{search}"] = {"cold_s": t1 - t0, "cached_s": time.perf_counter() - t1,
                                           "n_mc": e.binning.n_mc}
        for name in KAON_MODELS:
            t0 = time.perf_counter()
            r = scan(name, e, grid, bands=False)
            res[name] = {"scan_s": time.perf_counter() - t0,
                         "excluded_masses": {s: int(x.contour.excluded.sum()) for s, x in zip(r.searches, r.results)}}
            _log(f"kaon mode {name}: {res[name]}")
        refused = {}
        for name in list_models():
            if name == "generic":
                continue
            try:
                kaon_channel(get_model(name))
            except InputError as exc:
                refused[name] = str(exc)
        res["refused"] = refused
    return res


GRID_RSS_SCRIPT = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
sys.path.insert(0, sys.argv[3])
from bench.run import peak_rss_bytes
from bench.synthetic import synthetic_tables
from fipscan.kernels import yields
nm, ng = int(sys.argv[1]), int(sys.argv[2])
m, W, ls, a = (jnp.asarray(x) for x in synthetic_tables(nm))
lg = jnp.log(jnp.geomspace(1e-9, 1e-3, ng))
jax.block_until_ready((W, ls, a, lg))
before = peak_rss_bytes()
n = yields.events_grid(lg, W, ls, a, 1e18).block_until_ready()
n, d = yields.events_grid_and_dlogg(lg, W, ls, a, 1e18)
jax.block_until_ready(d)
after = peak_rss_bytes()
print(json.dumps({"rss_before_grid_bytes": before, "peak_rss_bytes": after}))
"""


def bench_grid_memory(nm, ng):
    """Peak RSS of a fresh process that holds (nm, 80, 32) float64 tables and runs the grid and its
    jvp: the kernel's own memory, apart from precompute's (which sets the scan's high-water mark)."""
    proc = subprocess.run([sys.executable, "-c", GRID_RSS_SCRIPT, str(nm), str(ng), str(REPO)],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [""])[-1][:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def h100_estimate(grid):
    """1000 x 1000 grid time on one H100 from this run's operation counts (a roofline estimate).

    Assumptions (stated in the JSON): the fused Horner kernel is compute-bound; one FMA = 2 flops;
    one exp/expm1 costs ~20 flops in float64 (range reduction + polynomial, no hardware unit) and
    ~8 in float32 (ex2 on the special-function units + correction); 50% of the datasheet peak is
    reached; the (m, g, b) terms are written once and read once by the bin sum; tables and results
    cross PCIe 5 at ~25 GB/s effective; the kernel runs in a few steps (launch ~10 us each).
    """
    c = grid["counts"]
    mgb = c["horner"] / 3
    nm, ng, nb, nz = grid["n_masses"], grid["n_couplings"], grid["n_bins"], grid["n_cells"]
    est = {"assumptions": {
        "datasheet": "NVIDIA H100 Tensor Core GPU datasheet, Technical Specifications (dense)",
        "H100": H100, "flops_per_fma": 2, "flops_per_transcendental": {"float64": 20, "float32": 8},
        "efficiency_of_peak": 0.5, "pcie_gb_s": 25, "launch_overhead_s": 10e-6, "steps": 4}}
    for variant, spec in H100.items():
        for dt, item, peak, per_tr in (("float64", 8, spec["fp64_tflops"], 20), ("float32", 4, spec["fp32_tflops"], 8)):
            flops = 2 * c["horner_fma"] + per_tr * c["horner"] + 4 * mgb
            t_compute = flops / (peak * 1e12 * 0.5)
            bytes_hbm = 2 * mgb * item + nm * nb * nz * item + nm * ng * item
            t_mem = bytes_hbm / (spec["hbm_tb_s"] * 1e12)
            t_pcie = (nm * nb * nz * item + nm * nb * item + nm * ng * item) / 25e9
            est[f"{variant}_{dt}"] = {"flops": flops, "hbm_bytes": bytes_hbm, "compute_s": t_compute,
                                      "memory_s": t_mem, "kernel_s": max(t_compute, t_mem) + 4 * 10e-6,
                                      "with_transfers_s": max(t_compute, t_mem) + 4 * 10e-6 + t_pcie}
    return est


# ----------------------------------------------------------------------------------------------
# driver


def select_device(kind):
    """The first jax device of ``kind`` ('cpu' or 'gpu'); fipscan.errors.InputError if there is none."""
    import jax

    from fipscan.errors import InputError

    try:
        devs = jax.devices(kind)
    except RuntimeError:
        devs = []
    if not devs:
        have = sorted({d.platform for d in jax.devices()})
        raise InputError(f"--device {kind}: no {kind} device available (jax sees: {', '.join(have)})")
    return devs[0]


def run_bench(quick=False, json_path=None, device="cpu", synthetic=False, main_job=True, stream=None):
    """Run the suite and return the result dict (also written to ``json_path`` / bench/results/).

    The table goes to ``stream`` (stdout, or stderr when the JSON itself goes to stdout).
    """
    import jax

    if stream is None:
        stream = sys.stderr if json_path == "-" else sys.stdout

    jax.config.update("jax_enable_x64", True)  # the benchmark is the process owner
    import jax.numpy as jnp
    import numpy as np

    dev = select_device(device)
    nm, ng = (128, 256) if quick else (1000, 1000)
    repeats = 2 if quick else 3
    numpy_masses, horner_masses, contour_numpy = (8, 32, 32) if quick else (40, 100, 100)
    result = {"fipscan_bench": 1, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "mode": "quick" if quick else "full", "device": str(dev), "targets": TARGETS,
              "machine": machine_info(), "stages": {}, "peak_rss_bytes": {}}
    st = result["stages"]
    with jax.default_device(dev), tempfile.TemporaryDirectory(prefix="fipscan-bench-") as work:
        _log("ceilings ...")
        st["ceilings"] = {"exp_float64": exp_ceiling(jnp.float64), "exp_float32": exp_ceiling(jnp.float32)}
        result["peak_rss_bytes"]["after_ceilings"] = peak_rss_bytes()
        # quick mode never builds acceptance tables (minutes with a cold cache): synthetic tables
        tables, tinfo = build_tables(nm, (0.01, 1.0), synthetic or quick, Path(work) / "cache", jnp.float64)
        st["tables"] = tinfo
        result["peak_rss_bytes"]["after_precompute"] = peak_rss_bytes()
        from fipscan.experiments import load_experiment

        try:
            pot = float(load_experiment("na62-bd").pot)
        except Exception:  # noqa: BLE001 - the benchmark's numbers do not depend on it
            pot = 1e18
        log_g = jnp.log(jnp.geomspace(1e-9, 1e-3, ng))
        _log(f"grid {nm} x {ng} ({tinfo['source']} tables) ...")
        grid, n64 = bench_grid(tables, log_g, pot, repeats, numpy_masses, horner_masses, tinfo)
        st["grid"] = grid
        result["peak_rss_bytes"]["after_grid"] = peak_rss_bytes()
        st["sharded"] = bench_sharded(tables, log_g, pot, n64, repeats)
        st["grid_memory"] = bench_grid_memory(nm, ng)
        _log(f"grid memory (fresh process): {st['grid_memory']}")
        st["contour"] = bench_contour(tables, log_g, pot, -math.log(0.1), contour_numpy)
        st["scan_api"] = bench_scan_api(tables, log_g, pot)
        result["peak_rss_bytes"]["after_contour"] = peak_rss_bytes()
        if not quick and not synthetic:
            _log(f"every registered model at {', '.join(BENCH_EXPERIMENTS)} ...")
            st["models"] = bench_models(nm, log_g, Path(work) / "cache")
            _log("per-channel profile of the yield-table build ...")
            st["channel_profile"] = bench_channel_profile(nm, Path(work) / "cache")
            _log("BC4 dark scalar, the final states of the BC4 analysis, at NA62-BD ...")
            st["bc4"] = bench_bc4(nm, log_g, pot, Path(work) / "cache")
            st["bc4"]["ratio_to_bc1"] = _bc4_ratios(st)
        else:
            st["models"] = {"skipped": "quick mode" if quick else "--synthetic"}
            st["bc4"] = {"skipped": "quick mode" if quick else "--synthetic"}
        if not quick and not synthetic:
            _log("kaon mode at na62-kaon: acceptance Monte Carlo and scans of the models with K+ -> pi+ X ...")
            st["kaon"] = bench_kaon(Path(work) / "cache")
        else:
            st["kaon"] = {"skipped": "quick mode" if quick else "--synthetic"}
        if not quick and not synthetic:
            _log("fipscan combinations (every production x hadronic decay combination, 200 x 200) ...")
            st["combinations"] = bench_combinations(Path(work) / "cache", work)
        else:
            st["combinations"] = {"skipped": "quick mode" if quick else "--synthetic"}
        if main_job and not quick:
            _log("main job: fipscan scan (defaults), cold and warm cache ...")
            st["main_job"] = bench_main_job(work, timeout=1800)
        else:
            st["main_job"] = {"skipped": "quick mode" if quick else "--no-main-job"}
        st["h100_estimate"] = h100_estimate(grid)
    result["machine"]["load_average_end"] = list(os.getloadavg())
    result["summary"] = summarize(result)
    path = write_json(result, json_path)
    print(format_table(result), file=stream)
    if path != "-":
        print(f"\nJSON written to {path}", file=stream)
    return result


def summarize(r):
    st = r["stages"]
    g = st["grid"]
    fast = g["fast_float64"]
    ceil = st["ceilings"]["exp_float64"]["exp_per_s"]
    pre_warm = st["tables"].get("precompute_warm_s")
    s = {
        "grid_run_s": fast["min_s"],
        "grid_compile_s": fast["compile_s"],
        "grid_warm_total_s": fast["min_s"] + (pre_warm or 0.0),
        "scan_api_warm_s": st["scan_api"]["warm_s"],
        "scan_api_total_s": st["scan_api"]["warm_s"] + (pre_warm or 0.0),
        "scan_api_cold_cache_total_s": ((st["tables"].get("acceptance_cold_s") or 0.0)
                                        + (st["tables"].get("precompute_cold_s") or 0.0) + st["scan_api"]["first_s"]),
        "acceptance_cold_s": st["tables"].get("acceptance_cold_s"),
        "precompute_cold_s": st["tables"].get("precompute_cold_s"),
        "precompute_warm_s": pre_warm,
        "precompute_cached_s": st["tables"].get("precompute_cached_s"),
        "scan_cold_total_s": ((st["tables"].get("precompute_cold_s") or 0.0) + fast["compile_s"] + fast["min_s"]),
        "speedup_vs_numpy_direct": g["speedup_vs_numpy_direct"],
        "speedup_vs_numpy_horner": g["speedup_vs_numpy_horner"],
        "exp_equivalent_fraction_of_exp_ceiling": fast["exp_equivalents_per_s"] / ceil,
        "transcendental_fraction_of_exp_ceiling": fast["transcendentals_per_s"] / ceil,
        "direct_jax_fraction_of_exp_ceiling": g["direct_jax_float64"]["exp_equivalents_per_s"] / ceil,
        "peak_rss_gb_after_grid": r["peak_rss_bytes"]["after_grid"] / 1e9,
        "grid_process_peak_rss_gb": (st.get("grid_memory") or {}).get("peak_rss_bytes", float("nan")) / 1e9,
        "peak_rss_gb": max(r["peak_rss_bytes"].values()) / 1e9,
        "h100_sxm5_float64_kernel_s": st["h100_estimate"]["SXM5_float64"]["kernel_s"],
        "tables": st["tables"]["source"],
    }
    rows = {k: v for k, v in (st.get("models") or {}).items() if isinstance(v, dict) and "scan_process" in v}
    walls = {k: v["scan_process"].get("wall_s") for k, v in rows.items()}
    walls = {k: w for k, w in walls.items() if w is not None}
    if walls:
        worst = max(walls, key=walls.get)
        points = max(v["n_masses"] * v["n_couplings"] for v in rows.values())
        s["scan_process_warm_s"] = walls
        s["scan_process_warm_max_s"] = walls[worst]
        s["scan_process_warm_slowest"] = worst
        s["speedup_vs_foresee_per_point"] = ((FORESEE_S_PER_MASS / FORESEE_COUPLINGS_PER_MASS)
                                             / (walls[worst] / points))
    s["meets"] = {
        "grid_1000x1000_after_compile_le_10s": s["grid_run_s"] <= TARGETS["grid_1000x1000_warm_s"],
        "scan_1000x1000_built_after_compile_le_10s": (pre_warm is not None
                                                       and s["scan_api_total_s"] <= TARGETS["scan_1000x1000_warm_s"]),
        "speedup_vs_numpy_horner_ge_5": s["speedup_vs_numpy_horner"] >= TARGETS["speedup_vs_numpy"],
        "exp_ceiling_fraction_ge_0.5 (exp-equivalents)":
            s["exp_equivalent_fraction_of_exp_ceiling"] >= TARGETS["fraction_of_exp_ceiling"],
        "grid_process_peak_rss_le_2GB": s["grid_process_peak_rss_gb"] <= TARGETS["peak_rss_gb"],
        "whole_bench_incl_precompute_peak_rss_le_2GB": s["peak_rss_gb"] <= TARGETS["peak_rss_gb"],
    }
    comb = (st.get("combinations") or {}).get("tables_cached") or {}
    if comb.get("wall_s") is not None and comb.get("exit_code") == 0:
        s["combinations_s"] = comb["wall_s"]
        s["meets"]["all_combinations_200x200_le_5min"] = comb["wall_s"] <= TARGETS["combinations_200x200_s"]
    if "scan_process_warm_max_s" in s:
        s["meets"]["every_model_scan_1000x1000_whole_process_le_5s"] = (
            s["scan_process_warm_max_s"] <= TARGETS["scan_process_1000x1000_warm_s"])
        s["meets"]["speedup_vs_foresee_per_point_ge_1000 (slowest model)"] = (
            s["speedup_vs_foresee_per_point"] >= TARGETS["speedup_vs_foresee_per_point"])
    return s


def write_json(result, json_path):
    if json_path == "-":
        json.dump(result, sys.stdout, indent=2, default=str)
        print()
        return "-"
    if json_path is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        json_path = HERE / "results" / f"bench-{result['mode']}-{stamp}.json"
    from fipscan.io.atomic import atomic_write_text

    path = Path(json_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(result, indent=2, default=str) + "\n")
    return str(path)


def _f(x, unit="", digits=3):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
            return f"{x:.{digits - 1}e}{unit}"
        return f"{x:.{digits}g}{unit}"
    return f"{x}{unit}"


def format_table(r):
    st, s, m = r["stages"], r["summary"], r["machine"]
    g = st["grid"]
    nm, ng = g["n_masses"], g["n_couplings"]
    rows = [
        ("machine", f"{m['cpu_model']}, {m['usable_cpus']} cpus, {_f((m['ram_bytes'] or 0) / 2**30)} GiB, "
                    f"load {m['load_average_start'][0]:.2f}->{m['load_average_end'][0]:.2f}"),
        ("versions", f"jax {m['jax']} / jaxlib {m['jaxlib']} / numpy {m['numpy']}; devices {', '.join(m['devices'])}"),
        ("OPENBLAS_CORETYPE / L2_SIZE set", str(m["openblas_env_set"])),
        ("tables", f"{st['tables']['source']} ({nm} masses x {g['n_bins']} bins x {g['n_cells']} cells)"
                   + (f"; precompute error: {st['tables']['precompute_error']}" if "precompute_error" in st["tables"] else "")),
        ("acceptance tables, cold cache", _f(s["acceptance_cold_s"], " s")),
        ("yield tables: first build / built again / from cache",
         f"{_f(s['precompute_cold_s'], ' s')} / {_f(s['precompute_warm_s'], ' s')} / {_f(s['precompute_cached_s'], ' s')}"
         " (acceptance and spectra from the warm cache; the difference of the first two, "
         f"{_f((s['precompute_cold_s'] or 0.0) - (s['precompute_warm_s'] or 0.0), ' s')}, is tracing and compiling the builder)"),
        *[(f"model {k}: acceptance cold / tables first / again / grid / whole-process scan",
           f"{_f(v['acceptance_cold_s'], ' s')} / {_f(v['tables_first_s'], ' s')} / {_f(v['tables_again_s'], ' s')}"
           f" / {_f(v['grid_run_s'], ' s')} / {_f(v.get('scan_process', {}).get('wall_s'), ' s')}"
           f" ({','.join(v['channels'])})" if "error" not in v else f"error: {v['error']}")
          for k, v in st.get("models", {}).items() if isinstance(v, dict) and "skipped" not in v],
        (f"grid {nm}x{ng} f64: compile / run", f"{_f(g['fast_float64']['compile_s'], ' s')} / "
                                             f"{_f(g['fast_float64']['min_s'], ' s')} (median {_f(g['fast_float64']['median_s'], ' s')})"),
        (f"grid {nm}x{ng} f32: compile / run", f"{_f(g['fast_float32']['compile_s'], ' s')} / {_f(g['fast_float32']['min_s'], ' s')}"
                                             f"; max rel vs f64 (N>=1e-3) {_f(g['float32_max_rel_where_N_ge_1e-3'])}"),
        (f"scan {nm}x{ng}: tables built + grid, after compilation", _f(s["grid_warm_total_s"], " s")),
        (f"scan {nm}x{ng}: first build + grid compile + grid", _f(s["scan_cold_total_s"], " s")),
        ("jvp (N, dN/dlog g) f64", f"{_f(g['jvp_float64']['min_s'], ' s')} = {_f(g['jvp_float64']['ratio_to_primal'])} x primal"),
        ("throughput f64", f"{_f(g['fast_float64']['points_per_s'])} points/s, "
                           f"{_f(g['fast_float64']['exp_equivalents_per_s'])} exp-equivalents/s, "
                           f"{_f(g['fast_float64']['transcendentals_per_s'])} transcendentals/s"),
        ("exp ceiling f64 / f32", f"{_f(st['ceilings']['exp_float64']['exp_per_s'])} / "
                                  f"{_f(st['ceilings']['exp_float32']['exp_per_s'])} exp/s"),
        ("fraction of exp ceiling", f"{_f(s['exp_equivalent_fraction_of_exp_ceiling'])} (exp-equivalents), "
                                    f"{_f(s['transcendental_fraction_of_exp_ceiling'])} (exps actually evaluated); "
                                    f"direct kernel {_f(s['direct_jax_fraction_of_exp_ceiling'])}"),
        ("direct JAX kernel (per-cell exp)", f"{_f(g['direct_jax_float64']['extrapolated_s'], ' s')} "
                                             f"(from {g['direct_jax_float64']['masses_measured']} masses)"),
        ("numpy direct / Horner", f"{_f(g['numpy_direct']['extrapolated_s'], ' s')} / {_f(g['numpy_horner']['extrapolated_s'], ' s')} "
                                  f"(from {g['numpy_direct']['masses_measured']} / {g['numpy_horner']['masses_measured']} masses); "
                                  f"max rel diff {_f(g['numpy_direct']['max_rel_vs_jax'])} / {_f(g['numpy_horner']['max_rel_vs_jax'])}"),
        ("speed-up vs numpy direct / Horner", f"{_f(s['speedup_vs_numpy_direct'])} x / {_f(s['speedup_vs_numpy_horner'])} x"),
        ("sharded over all devices", f"{_f(st['sharded']['min_s'], ' s')} on {st['sharded']['n_devices']} device(s), "
                                     f"bitwise equal: {st['sharded']['bitwise_equal_single_device']}"),
        (f"per_mass_contour {st['contour']['masses']} masses", f"first {_f(st['contour']['first_s'], ' s')}, warm "
                                                               f"{_f(st['contour']['warm_s'], ' s')}; numpy "
                                                               f"{_f(st['contour']['numpy']['extrapolated_s'], ' s')} "
                                                               f"(roots agree to {_f(st['contour']['numpy']['max_rel_roots_vs_jax'])})"),
        (f"fipscan.scan {nm}x{ng}, tables given", f"first {_f(st['scan_api']['first_s'], ' s')}, warm "
                                                   f"{_f(st['scan_api']['warm_s'], ' s')} (N grid + "
                                                   f"{st['scan_api']['contours']} per-mass contours: limit, "
                                                   "expected bands, POT band)"),
        (f"fipscan.scan {nm}x{ng}, tables built + scan, after compilation", _f(s["scan_api_total_s"], " s")),
        (f"fipscan.scan {nm}x{ng}, cold cache (acceptance tables + first build + first scan)",
         _f(s["scan_api_cold_cache_total_s"], " s")),
    ]
    for mname, chans in (st.get("channel_profile") or {}).items():
        for cname, v in chans.items():
            rows.append((f"profile {mname}, {cname} alone: tables first / after compilation",
                         f"error: {v['error']}" if "error" in v else
                         f"{_f(v['first_s'], ' s')} / {_f(v['after_compilation_s'], ' s')} ({v['kind']})"))
    b4 = st.get("bc4") or {"skipped": "not run"}
    if "skipped" in b4:
        rows.append(("BC4 dark scalar (ee,mumu,pipi,kk,pipipi0pi0)", f"skipped ({b4['skipped']})"))
    else:
        r4 = b4.get("ratio_to_bc1") or {}
        rows.append((f"BC4 {b4['n_masses']}x{b4['n_couplings']}: tables first / after compilation",
                     f"{_f(b4['tables_first_s'], ' s')} / {_f(b4['tables_again_s'], ' s')} "
                     f"({_f(r4.get('tables_again_s'))} x BC1; {','.join(b4['channels'])})"))
        rows.append((f"BC4 {b4['n_masses']}x{b4['n_couplings']}: grid compile / run",
                     f"{_f(b4['grid_first_s'], ' s')} / {_f(b4['grid_run_s'], ' s')} ({_f(r4.get('grid_run_s'))} x BC1)"))
        rows.append((f"BC4 per_mass_contour {b4['n_masses']} masses", f"first {_f(b4['contour_first_s'], ' s')}, warm "
                     f"{_f(b4['contour_warm_s'], ' s')} ({_f(r4.get('contour_warm_s'))} x BC1)"))
        rows.append(("BC4 scan after compilation (tables + grid + contour)", _f(b4["scan_after_compile_s"], " s")))
    if "scan_process_warm_max_s" in s:
        rows.append(("whole-process 1000x1000 scan, warm caches: slowest model",
                     f"{_f(s['scan_process_warm_max_s'], ' s')} ({s['scan_process_warm_slowest']}); per point "
                     f"{_f(s['speedup_vs_foresee_per_point'])} x faster than FORESEE ({FORESEE_S_PER_MASS} s per "
                     f"mass of {FORESEE_COUPLINGS_PER_MASS} couplings)"))
    kaon = st.get("kaon") or {"skipped": "not run"}
    if "skipped" in kaon:
        rows.append(("kaon mode (na62-kaon)", f"skipped ({kaon['skipped']})"))
    else:
        nm, ng = kaon["grid"]
        for k, v in kaon.items():
            if k.startswith("acceptance_"):
                rows.append((f"kaon mode: acceptance {k[len('acceptance_'):]} ({nm} masses, n_mc {v['n_mc']})",
                             f"{_f(v['cold_s'], ' s')} cold, {_f(v['cached_s'], ' s')} cached"))
        for name in KAON_MODELS:
            if name in kaon:
                v = kaon[name]
                ex = ", ".join(f"{s} {n}" for s, n in v["excluded_masses"].items())
                rows.append((f"kaon mode: {name} scan {nm}x{ng} (acceptance cached)",
                             f"{_f(v['scan_s'], ' s')}; masses excluded: {ex}"))
        if kaon.get("refused"):
            rows.append(("kaon mode: refused (no K+ -> pi+ X)", ", ".join(sorted(kaon["refused"]))))
    comb = st.get("combinations") or {"skipped": "not run"}
    if "skipped" in comb:
        rows.append(("fipscan combinations (200 x 200 each)", f"skipped ({comb['skipped']})"))
    else:
        for label, c in comb.items():
            rows.append((f"fipscan combinations (200 x 200 each), {label.replace('_', ' ')}",
                         f"{_f(c.get('wall_s'), ' s')} for {c.get('n_allowed')} allowed of {c.get('n_listed')} "
                         f"listed (target {TARGETS['combinations_200x200_s']:g} s with tables cached)"
                         + (f" ({c['error']})" if c.get("error") else "")))
    mj = st["main_job"]
    if "skipped" in mj:
        rows.append(("main job (fipscan scan defaults)", f"skipped ({mj['skipped']})"))
    else:
        for k, v in mj.items():
            rows.append((f"main job, {k} cache", f"{_f(v.get('wall_s'), ' s')} exit {v.get('exit_code')}"
                         + (f" ({v['error']})" if v.get("error") else "")))
    h = st["h100_estimate"]
    rows.append(("H100 SXM5 estimate f64 / f32", f"{_f(h['SXM5_float64']['kernel_s'], ' s')} / {_f(h['SXM5_float32']['kernel_s'], ' s')}"
                                                 f" (+ PCIe: {_f(h['SXM5_float64']['with_transfers_s'], ' s')})"))
    gm = st.get("grid_memory") or {}
    rows.append(("peak RSS: grid+jvp alone / whole bench", f"{_f(s['grid_process_peak_rss_gb'], ' GB')} (tables loaded: "
                                                          f"{_f(gm.get('rss_before_grid_bytes', float('nan')) / 1e9, ' GB')}) / "
                                                          f"{_f(s['peak_rss_gb'], ' GB')} (whole bench process, incl. precompute)"))
    rows.append(("targets met", ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in s["meets"].items())))
    w = max(len(k) for k, _ in rows)
    lines = [f"fipscan bench ({r['mode']}, {r['device']}, {r['started']})", "-" * (w + 60)]
    lines += [f"{k.ljust(w)}  {v}" for k, v in rows]
    return "\n".join(lines)


def build_arg_parser(parser=None):
    p = parser or argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 128 x 256, synthetic tables, no main job")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="write the JSON record here ('-' for stdout; default bench/results/bench-*.json)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="device kind to run on (default cpu)")
    p.add_argument("--synthetic", action="store_true", help="synthetic tables even when precompute works")
    p.add_argument("--no-main-job", action="store_true", help="skip the `fipscan scan` subprocess timing")
    return p


def main(argv=None) -> int:
    args = build_arg_parser().parse_args(argv)
    from fipscan.errors import FipscanError

    try:
        run_bench(quick=args.quick, json_path=args.json, device=args.device, synthetic=args.synthetic,
                  main_job=not args.no_main_job)
    except FipscanError as exc:
        print(f"bench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except AssertionError as exc:
        traceback.print_exc()
        print(f"bench: check failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
