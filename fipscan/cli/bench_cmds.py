"""``fipscan bench``: run the benchmark suite of a source checkout (bench/, not installed).

Argument parsing only; the suite lives in bench/run.py (``python -m bench`` runs the same).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from fipscan.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark the grid kernel, contour and scan on this machine",
                       description="Time the 1000 x 1000 scan (precompute, compile, run), the kernel's throughput "
                                   "against numpy and the machine's exp ceiling, the per-mass contour, the default "
                                   "scan and peak memory; print a table and write a JSON record.")
    p.add_argument("--quick", action="store_true", help="a smoke run: 128 x 256, synthetic tables, no main job")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="write the JSON record to FILE ('-' for stdout; default bench/results/bench-*.json)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="device kind (default: cpu)")
    p.add_argument("--synthetic", action="store_true", help="synthetic tables even when precompute works")
    p.add_argument("--no-main-job", action="store_true", help="skip timing `fipscan scan` as a subprocess")
    p.set_defaults(func=run_bench_cmd)


def _bench_module():
    """bench.run from the source checkout this fipscan was installed from (editable installs)."""
    try:
        return importlib.import_module("bench.run")
    except ModuleNotFoundError:
        pass
    root = Path(__file__).resolve().parents[2]
    if (root / "bench" / "run.py").is_file():
        sys.path.insert(0, str(root))
        return importlib.import_module("bench.run")
    raise InputError("fipscan bench needs the source checkout's bench/ folder (it is not installed); "
                     "run it from a clone: python -m bench")


def run_bench_cmd(args) -> int:
    bench = _bench_module()
    bench.select_device(args.device)  # fail in one line (exit 2) before any work
    bench.run_bench(quick=args.quick, json_path=args.json, device=args.device, synthetic=args.synthetic,
                    main_job=not args.no_main_job)
    return 0
