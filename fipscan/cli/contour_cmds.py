"""``fipscan contour`` (traced exclusion polygon) and ``fipscan optimise`` (decay-volume design).

Argument parsing and file writing only; the work is fipscan.contour.  Both commands build the yield
tables with ``fipscan.yields.precompute`` (or reuse a table file written by ``--save-tables``: the
HDF5 yield-table format of :mod:`fipscan.io.tables`).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from fipscan import checks
from fipscan.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("contour", help="trace the exclusion contour as closed polygon(s)",
                       description="Trace the boundary of the excluded (mass, coupling) region by "
                                   "pseudo-arclength continuation on the continuous yield surface; write "
                                   "the ordered polygon(s) to CSV (region,mass_gev,coupling) or JSON.")
    _common(p)
    p.add_argument("--max-steps", type=int, default=20000, help="continuation steps per region (default 20000)")
    p.add_argument("-o", "--output", default="contour_polygon.csv",
                   help="output file: .csv (region,mass_gev,coupling) or .json (default: contour_polygon.csv)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=run_contour)

    q = sub.add_parser("optimise", aliases=["optimize"], help="optimise a geometry parameter for the largest exclusion",
                       description="Maximise the excluded log-log area (or the reach at one mass) over the "
                                   "decay-volume start with projected Adam on the differentiable contour; "
                                   "reported numbers use the hard acceptance cuts.")
    _common(q)
    q.add_argument("--parameter", default="decay-volume-start", choices=("decay-volume-start",),
                   help="design parameter (default: decay-volume-start)")
    q.add_argument("--constraint", default="end-fixed", choices=("end-fixed", "length-fixed"),
                   help="end-fixed: start + length = const (default); length-fixed: the volume slides")
    q.add_argument("--length", type=float, default=None, help="decay-volume length [m] for length-fixed")
    q.add_argument("--range", dest="zrange", default=None, help="LO:HI allowed start [m] (default: tabulated range)")
    q.add_argument("--objective", default="area", choices=("area", "reach"),
                   help="area: excluded log-log area; reach: lowest coupling at --mass")
    q.add_argument("--mass", type=float, default=None, help="mass [GeV] for --objective reach")
    q.add_argument("--steps", type=int, default=60, help="Adam iterations (default 60)")
    q.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    q.set_defaults(func=run_optimise)


def _common(p) -> None:
    from fipscan.cli.scan_cmds import _model_option_arg, _no_refine_arg

    p.add_argument("--model", default="dark-photon", help="model name or module:Class (default: dark-photon)")
    _model_option_arg(p)
    p.add_argument("--experiment", default="na62-bd", help="experiment name or TOML file (default: na62-bd)")
    p.add_argument("--pot", type=float, default=None, help="protons on target (default: the experiment's)")
    p.add_argument("--masses", default="0.01:1.0:60",
                   help="LO:HI:N log-spaced mass nodes in GeV (default 0.01:1.0:60; ignored with --tables)")
    _no_refine_arg(p)
    p.add_argument("--couplings", default="1e-10:1e-2:64",
                   help="LO:HI[:N] coupling box; N points per mass bracket the roots (default 1e-10:1e-2:64)")
    p.add_argument("--channels", default=None, help="detected final states, comma separated (default: model's)")
    p.add_argument("--n-limit", type=float, default=None,
                   help="excluded signal events (default: 2.3, 90%% CL with nothing observed)")
    p.add_argument("--tables", default=None, metavar="FILE.h5",
                   help="reuse a yield-table file (.h5 from --save-tables, or a yield cache entry)")
    p.add_argument("--save-tables", default=None, metavar="FILE.h5", help="write the yield tables to this .h5 file")


def _enable_x64():
    import jax

    jax.config.update("jax_enable_x64", True)  # the CLI is the process owner


def _couplings(text: str) -> tuple[float, float, int]:
    from fipscan.cli import _args

    return _args.grid_axis("--couplings", text, "coupling", min_points=8, default_n=64)


def _precheck(args, output: tuple[str, tuple[str, ...], str] | None = None):
    """Every argument of the common options (and the output file ``(value, suffixes, what)``) checked
    before JAX is imported or a table is built; returns (experiment, coupling axis, mass axis, tables
    file)."""
    from fipscan.cli import _args

    _args.model_name("--model", args.model)
    _args.pot("--pot", args.pot)
    checks.optional(checks.positive, "--n-limit", args.n_limit)
    g_axis = _couplings(args.couplings)
    m_axis = None
    if args.tables:
        _args.input_file("--tables", args.tables, (".h5", ".hdf5"), "yield-table HDF5 file")
    else:
        m_axis = _args.grid_axis("--masses", args.masses, "mass", min_points=3)
        _args.grid_size(m_axis[2], g_axis[2])
        _args.final_states("--channels", args.channels)
    if args.save_tables is not None:  # before the work, not after
        _check_table_path(args.save_tables)
    if output is not None:
        _args.output_file("-o/--output", *output)
    experiment = _args.beam_dump_experiment("--experiment", args.experiment, "contour")
    return experiment, g_axis, m_axis


def _check_table_path(path) -> None:
    """The --save-tables file name: an .h5 file in an existing, writable folder (InputError otherwise)."""
    from fipscan.cli import _args

    _args.output_file("--save-tables", path, (".h5", ".hdf5"), "HDF5 file")


def _setup(args, pre, check=None):
    """Model, experiment, POT, limit, coupling box and the tables, from the common options (after
    :func:`_precheck`).  ``check(z_edges, (m_lo, m_hi))`` is called with the decay-cell edges [m] and the
    mass range of the tables before they are built (so that a refusal comes before the work)."""
    from fipscan.cli.scan_cmds import _coupling_max, load_model, refined_masses
    from fipscan.grid import check_coupling, check_mass

    experiment, (g_lo, g_hi, n_g), m_axis = pre
    _enable_x64()
    model = load_model(args)
    check_coupling(g_lo, "--couplings: coupling", upper=_coupling_max(model))
    check_coupling(g_hi, "--couplings: coupling", upper=_coupling_max(model))
    pot = float(args.pot if args.pot is not None else experiment.pot)
    n_limit = float(args.n_limit) if args.n_limit is not None else -math.log(0.1)
    if args.tables:
        from fipscan.io.tables import load_tables

        tables = load_tables(args.tables, model=model, experiment=experiment)
        if check is not None:
            import numpy as np

            masses = np.asarray(tables.masses, float)
            check(np.asarray(tables.a_edges, float) + float(experiment.production_z),
                  (float(masses[0]), float(masses[-1])))
    else:
        from fipscan.yields import precompute, resolve_final_states

        m_lo, m_hi, n_m = m_axis
        for m in (m_lo, m_hi):
            check_mass(m, *model.mass_range, what="--masses: mass")
        channels = resolve_final_states(model, experiment, args.channels)
        import numpy as np

        if check is not None:
            check(np.asarray(experiment.cell_edges(channels), float), (float(m_lo), float(m_hi)))
        masses, note = refined_masses(model, np.geomspace(m_lo, m_hi, n_m), args)
        print(f"fipscan: building yield tables of {model.name} at {experiment.name} ({masses.size} masses"
              f"{note})", file=sys.stderr)
        tables = precompute(model, experiment, masses, channels=channels)
    if args.save_tables is not None:
        from fipscan.io.tables import save_tables

        save_tables(tables, args.save_tables, model=model, experiment=experiment)
    return model, experiment, pot, n_limit, (g_lo, g_hi, n_g), tables


def _region_dict(k, r) -> dict:
    import numpy as np

    return {"region": k, "closed": r.closed, "touches_edge": r.touches_edge, "edges": list(r.edges),
            "hole": r.hole, "area_lnln": r.area, "n_vertices": int(len(r.vertices)),
            "n_evaluations": r.n_evaluations, "tip_mass_gev": r.tip[0], "tip_coupling": r.tip[1],
            "message": r.message, "mass_gev": np.exp(r.vertices[:, 0]).tolist(),
            "coupling": np.exp(r.vertices[:, 1]).tolist()}


def run_contour(args) -> int:
    out = Path(args.output)
    if not 1 <= args.max_steps <= 1_000_000:
        raise InputError(f"--max-steps must be an integer in [1, 1000000], got {args.max_steps}")
    pre = _precheck(args, (args.output, (".csv", ".json"), "polygon file"))

    from fipscan.contour.trace import trace_tables
    from fipscan.io.atomic import atomic_write_text
    from fipscan.io.polygon import polygon_csv
    from fipscan.io.results import write_json

    model, experiment, pot, n_limit, (g_lo, g_hi, n_g), tables = _setup(args, pre)
    t0 = time.perf_counter()
    res = trace_tables(tables, pot, n_limit, couplings=(g_lo, g_hi), n_seed_grid=n_g,
                       max_steps=args.max_steps)
    dt = time.perf_counter() - t0
    regions = res.regions
    if out.suffix == ".csv":
        atomic_write_text(out, polygon_csv(regions))
    else:
        write_json({"model": model.name, "experiment": experiment.name, "pot": pot, "n_limit": n_limit,
                    "regions": [_region_dict(k, r) for k, r in enumerate(regions)]}, out, indent=1)
    if not regions:
        print(f"fipscan: nothing is excluded at {pot:.3g} POT in the coupling box [{g_lo:g}, {g_hi:g}]",
              file=sys.stderr)
    print(f"fipscan: traced {len(regions)} region(s) with {res.n_evaluations} yield evaluations "
          f"({res.n_seed_evaluations} for seeds) in {dt:.1f} s; wrote {out}", file=sys.stderr)
    if args.json:
        summary = {"output": str(out), "pot": pot, "n_limit": n_limit, "n_regions": len(regions),
                   "area_lnln": res.area, "n_evaluations": res.n_evaluations,
                   "n_seed_evaluations": res.n_seed_evaluations,
                   "regions": [{k: v for k, v in _region_dict(i, r).items() if k not in ("mass_gev", "coupling")}
                               for i, r in enumerate(regions)]}
        write_json(summary)
    return 0


def run_optimise(args) -> int:
    if args.objective == "reach" and args.mass is None:
        raise InputError("--objective reach needs --mass M (GeV)")
    if args.objective == "area" and args.mass is not None:
        raise InputError("--mass is only used with --objective reach")
    if args.steps < 1 or args.steps > 10000:
        raise InputError(f"--steps must lie in [1, 10000], got {args.steps}")
    bounds = None
    if args.zrange is not None:
        parts = args.zrange.split(":")
        try:
            bounds = tuple(float(v) for v in parts)
        except ValueError:
            raise InputError(f"--range must be LO:HI in metres, got '{args.zrange}'") from None
        if len(bounds) != 2 or not all(math.isfinite(b) for b in bounds) or bounds[0] >= bounds[1]:
            raise InputError(f"--range must be LO:HI with LO < HI, got '{args.zrange}'")
    checks.optional(checks.positive, "--length", args.length)
    if args.length is not None and args.constraint != "length-fixed":
        raise InputError("--length is only used with --constraint length-fixed")
    if args.mass is not None:
        from fipscan.grid import check_mass

        check_mass(args.mass, what="--mass")
    pre = _precheck(args)
    from fipscan.contour.design import optimise_decay_volume_start
    from fipscan.contour.differentiable import contour_problem
    from fipscan.io.results import write_json

    def check(z_edges, mass_range):  # the design range of fipscan.contour.design._bounds, named by option
        z0, z1 = float(z_edges[0]), float(z_edges[-1])
        span = f"the decay cells of {pre[0].name} span [{z0:.6g}, {z1:.6g}] m"
        if args.constraint == "length-fixed":
            length = 0.5 * (z1 - z0) if args.length is None else args.length
            if length > z1 - z0:
                raise InputError(f"--length {length!r} m is longer than the tabulated {z1 - z0:.6g} m ({span})")
            hi_max = z1 - length
        else:
            hi_max = z1 - 1e-3 * (z1 - z0)
        if bounds is not None and (bounds[0] < z0 - 1e-9 or bounds[1] > hi_max + 1e-9):
            raise InputError(f"--range {args.zrange} leaves the allowed decay-volume starts [{z0:.6g}, "
                             f"{hi_max:.6g}] m of --constraint {args.constraint} ({span})")
        if args.mass is not None and not mass_range[0] <= args.mass <= mass_range[1]:
            where = "--tables" if args.tables else "--masses"
            raise InputError(f"--mass {args.mass!r} GeV is outside the tabulated masses [{mass_range[0]!r}, "
                             f"{mass_range[1]!r}] GeV ({where})")

    model, experiment, pot, n_limit, (g_lo, g_hi, n_g), tables = _setup(args, pre, check)
    if args.mass is not None:
        check_mass(args.mass, *model.mass_range, what="--mass")
    problem = contour_problem(tables, experiment, pot=pot, n_limit=n_limit, couplings=(g_lo, g_hi), n_grid=n_g)
    t0 = time.perf_counter()
    res = optimise_decay_volume_start(problem, constraint=args.constraint, objective=args.objective,
                                      mass=args.mass, bounds=bounds, length=args.length, steps=args.steps)
    dt = time.perf_counter() - t0
    print(f"fipscan: {res.n_steps} Adam steps in {dt:.1f} s", file=sys.stderr)
    if args.json:
        d = res.as_dict()
        d.update({"model": model.name, "experiment": experiment.name, "pot": pot, "n_limit": n_limit})
        write_json(d)
        return 0
    what = "excluded area [ln m x ln g]" if res.objective == "area" else f"ln g_lower at {res.mass:g} GeV"
    print(f"optimal decay-volume start: {res.optimum:.3f} m ({res.constraint}, length {res.length:.2f} m)"
          f"{'  [at the bound of the allowed range]' if res.at_bound else ''}")
    print(f"  {what}: {res.objective_hard:.6g} (hard cuts), {res.objective_smooth:.6g} (smooth)")
    print(f"  reference start {res.reference_start:.3f} m: {res.reference_objective_hard:.6g} (hard cuts)")
    print(f"  allowed range [{res.bounds[0]:.3f}, {res.bounds[1]:.3f}] m; {model.name} at {experiment.name}, "
          f"{pot:.3g} POT")
    return 0
