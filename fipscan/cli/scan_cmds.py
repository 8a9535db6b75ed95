"""``fipscan scan`` and ``fipscan info``: argument parsing only; the work is fipscan.scanner / the models."""

from __future__ import annotations

import json
import math
import sys
import time

from fipscan.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("scan", help="expected events on an (m, coupling) grid and the exclusion contour",
                       description="Scan N(m, coupling) for a model at an experiment; write contour.csv, "
                                   "scan.h5 and contour.png/.pdf into the output directory.")
    p.add_argument("--model", default="dark-photon", help="model name (default: dark-photon)")
    p.add_argument("--experiment", default="na62-bd", help="experiment name or TOML file (default: na62-bd)")
    p.add_argument("--pot", type=float, default=None,
                   help="protons on target (default: the experiment's, plus its projection)")
    p.add_argument("--projection", type=float, action="append", default=None,
                   help="extra POT value(s) for projected contours (repeatable)")
    p.add_argument("--channels", default=None, help="detected final states, comma separated (default: ee,mumu)")
    p.add_argument("--masses", default="0.01:1.0:100", help="LO:HI:N log-spaced masses in GeV")
    p.add_argument("--couplings", default="1e-9:1e-3:120", help="LO:HI:N log-spaced couplings")
    p.add_argument("--no-form-factor", action="store_true", help="bremsstrahlung without the time-like form factor")
    p.add_argument("--observed", type=int, default=None, help="observed events (default: the experiment's)")
    p.add_argument("--background", type=float, default=None, help="expected background events at --pot")
    p.add_argument("--background-uncertainty", type=float, default=None, help="its absolute uncertainty")
    p.add_argument("--background-mode", choices=("scale", "fixed"), default="scale",
                   help="background in projections: scaled with POT (default) or held fixed")
    p.add_argument("--no-bands", action="store_true", help="skip the expected-limit and POT-uncertainty bands")
    p.add_argument("--method", choices=("cls", "fc"), default="cls", help="limit method (default: cls)")
    p.add_argument("--cl", type=float, default=None, help="confidence level (default: 0.9)")
    p.add_argument("--compare", default=None, help="overlay a published curve (two columns: mass, coupling)")
    p.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    p.add_argument("-o", "--output", default="fipscan-out", help="output directory (default: fipscan-out)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=run_scan)

    q = sub.add_parser("info", help="widths, lifetime, branching ratios and production rates at one point")
    q.add_argument("--model", default="dark-photon")
    q.add_argument("--mass", required=True, help="mass in GeV")
    q.add_argument("--coupling", required=True, help="coupling (epsilon for the dark photon)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_info)


def _enable_precision(float32: bool):
    """The CLI is the process owner: it decides the precision and the compilation cache."""
    import jax.numpy as jnp

    from fipscan.runtime import configure

    configure(x64=not float32)
    return jnp.float32 if float32 else jnp.float64


def run_scan(args) -> int:
    from fipscan.experiments import load_experiment
    from fipscan.grid import Grid, check_coupling
    from fipscan.models import get_model
    from fipscan.scanner import prepare_output_dir, scan

    dtype = _enable_precision(args.float32)
    options = {"form_factor": False} if args.no_form_factor else {}
    model = get_model(args.model, **options)
    experiment = load_experiment(args.experiment)
    grid = Grid.from_ranges(args.masses, args.couplings).validate(model.mass_range)
    channels = tuple(c.strip() for c in args.channels.split(",")) if args.channels else None
    for name in ("pot", "background", "background_uncertainty"):
        v = getattr(args, name)
        if v is not None and (math.isnan(v) or v < 0 or (name == "pot" and v == 0)):
            raise InputError(f"--{name.replace('_', '-')} must be {'positive' if name == 'pot' else 'non-negative'}, got {v}")
    if args.observed is not None and args.observed < 0:
        raise InputError(f"--observed must be a non-negative integer, got {args.observed}")
    if args.cl is not None and not 0 < args.cl < 1:
        raise InputError(f"--cl must lie in (0, 1), got {args.cl}")
    if args.projection is not None:
        projections = tuple(check_coupling(p, "--projection") for p in args.projection)
    else:
        projections = () if args.pot is not None else (experiment.pot_projection,)
    if args.compare is not None:
        from fipscan.plotting import read_curve

        read_curve(args.compare)  # fail before the scan, not after
    prepare_output_dir(args.output)
    t0 = time.perf_counter()
    print(f"fipscan: scanning {model.name} at {experiment.name} ({grid.masses.size} x {grid.couplings.size})",
          file=sys.stderr)
    result = scan(model, experiment, grid, pot=args.pot, projections=projections, channels=channels,
                  observed=args.observed, background=args.background,
                  background_uncertainty=args.background_uncertainty, background_mode=args.background_mode,
                  cl=args.cl, method=args.method, bands=not args.no_bands, dtype=dtype)
    written = result.save(args.output, compare=args.compare)
    dt = time.perf_counter() - t0
    print(f"fipscan: wrote {', '.join(sorted(written))} to {args.output} in {dt:.1f} s", file=sys.stderr)
    if args.json:
        summary = {
            "output": str(args.output), "files": sorted(written), "seconds": dt,
            "contours": [{"pot": pt.pot, "n_limit": pt.n_limit, "n_masses_excluded": int(pt.contour.excluded.sum()),
                          "min_coupling": float(min((r[1] for r in pt.contour.rows()), default=float("nan")))}
                         for pt in result.points],
        }
        json.dump(summary, sys.stdout, indent=2)
        print()
    return 0


def run_info(args) -> int:
    from fipscan.grid import check_coupling, check_mass
    from fipscan.models import get_model

    _enable_precision(False)
    model = get_model(args.model)
    info = point_info(model, check_mass(args.mass, *model.mass_range), check_coupling(args.coupling))
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
        return 0
    print(f"{model.label}: m = {info['mass_gev']:g} GeV, {model.coupling_name} = {info['coupling']:g}")
    print(f"  total width   {info['total_width_gev']:.6e} GeV")
    print(f"  c tau         {info['ctau_m']:.6e} m")
    print("  branching ratios:")
    for k, v in info["branching_ratios"].items():
        print(f"    {k:<14s} {v:.6e}")
    print("  production (per meson decay; bremsstrahlung per proton interaction):")
    for k, v in info["production"].items():
        print(f"    {k:<14s} {v:.6e}")
    return 0


def point_info(model, m: float, g: float) -> dict:
    """Total width, c tau, branching ratios and production rates of ``model`` at (m, g)."""
    import jax.numpy as jnp

    from fipscan.kernels.decay import HBARC_GEV_M

    mj, gj = jnp.asarray(m, jnp.float64), jnp.asarray(g, jnp.float64)
    width = float(model.total_width(mj, gj))
    brs = {k: float(v) for k, v in model.branching_ratios(mj).items()}
    prod = {k: float(v) for k, v in model.production_branching_ratios(mj, gj).items()}
    if hasattr(model, "production_totals"):
        prod.update({k: float(v) for k, v in model.production_totals(mj, gj).items()})
    return {
        "model": model.name, "mass_gev": m, "coupling": g,
        "total_width_gev": width,
        "ctau_m": HBARC_GEV_M / width if width > 0 else float("inf"),
        "branching_ratios": brs,
        "production": prod,
    }
