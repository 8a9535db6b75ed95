"""Benchmark of spectra generation and loading.

    python bench/bench_spectra.py [--quick] [--events N]

Measures PYTHIA 8 generation throughput (events per second of wall time, chunk initialisation
included, the one-off MPI initialisation excluded) for the soft, c c̄ and b b̄ runs separately with
1 and 2 worker processes, and the time to load (verify + read) the shipped default spectra file.
Prints a table; writes ``bench/results/spectra.json``.  Run it under ``nice`` on shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import tempfile
import time

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "spectra.json"


def _generate_rate(run: str, n_events: int, workers: int, cache_dir: pathlib.Path, seed: int) -> dict:
    from fipscan.spectra import GenerationSettings, generate

    counts = {"soft": 0, "ccbar": 0, "bbbar": 0}
    counts[run] = n_events
    settings = GenerationSettings(
        n_events_soft=counts["soft"], n_events_ccbar=counts["ccbar"], n_events_bbbar=counts["bbbar"],
        chunk_events=max(1, n_events // (2 * workers)), seed=seed, n_workers=workers,
    )  # fmt: skip
    os.environ["FIPSCAN_CACHE"] = str(cache_dir)
    t0 = time.perf_counter()
    generate(settings, progress=False)
    wall = time.perf_counter() - t0
    return {"run": run, "workers": workers, "events": n_events, "seconds": wall, "events_per_s": n_events / wall}


def _load_times(repeat: int) -> dict:
    from fipscan import cache
    from fipscan.spectra import default_spectra_path, load_spectra

    path = default_spectra_path()
    load, verify = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        load_spectra(path)
        load.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cache.verify_h5(path)
        verify.append(time.perf_counter() - t0)
    return {
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "load_s_min": min(load),
        "load_s_median": statistics.median(load),
        "verify_s_median": statistics.median(verify),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few events (a smoke test of the benchmark)")
    ap.add_argument("--events", type=int, default=None, help="soft events per measurement [40000; quick 4000]")
    args = ap.parse_args()
    n_soft = args.events or (4000 if args.quick else 40_000)
    n_hard = max(n_soft // 4, 200)

    import pythia8mc  # noqa: F401  (fail early with the import error)

    rows = []
    with tempfile.TemporaryDirectory(prefix="fipscan-bench-") as tmp:
        cache_dir = pathlib.Path(tmp) / "cache"
        # warm the shared PYTHIA initialisation files, so that the one-off MPI set-up is not timed
        for run in ("soft", "ccbar", "bbbar"):
            _generate_rate(run, 10, 1, cache_dir, seed=999)
        for workers in (1, 2):
            for run, n in (("soft", n_soft), ("ccbar", n_hard), ("bbbar", n_hard)):
                rows.append(_generate_rate(run, n, workers, cache_dir, seed=workers))
    load = _load_times(repeat=3 if args.quick else 10)

    print(f"{'run':<7} {'workers':>7} {'events':>8} {'seconds':>8} {'events/s':>9}")
    for r in rows:
        print(f"{r['run']:<7} {r['workers']:>7} {r['events']:>8} {r['seconds']:8.2f} {r['events_per_s']:9.0f}")
    print(f"default spectra file: {load['size_bytes'] / 1e6:.2f} MB, load {1e3 * load['load_s_median']:.1f} ms "
          f"(verify {1e3 * load['verify_s_median']:.1f} ms), median of repeats")  # fmt: skip

    import pythia8mc as p8

    doc = {
        "benchmark": "spectra",
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "pythia8mc": getattr(p8, "__version__", None) or _dist_version("pythia8mc"),
        "generation": rows,
        "load_default": load,
        "note": "wall-clock rates on a machine that may be shared; chunk initialisation included",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
