"""``fipscan bounds list`` and ``fipscan bounds check``: the shipped existing-bounds set (fipscan.bounds),
and the check of ``fipscan scan --bounds`` before a scan."""

from __future__ import annotations

import json
import sys

from fipscan.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("bounds", help="existing exclusion bounds drawn under the scan's curves",
                       description="The shipped set of existing exclusion curves (one CSV file each, with its "
                                   "source in a header; fipscan.bounds describes the format).")
    cmds = p.add_subparsers(dest="bounds_command", metavar="ACTION")
    q = cmds.add_parser("list", help="list the shipped curves (all, or one model's)")
    q.add_argument("--model", default=None, help="only the curves of this model (e.g. dark-photon)")
    q.add_argument("--json", action="store_true", help="a JSON object on stdout: version and the curves")
    q.set_defaults(func=run_list)
    r = cmds.add_parser("check", help="check bounds files (header, units, values; against --model if given)")
    r.add_argument("files", nargs="+", metavar="FILE")
    r.add_argument("--model", default=None, help="also check each file against this model's axes")
    r.add_argument("--json", action="store_true", help="a JSON list of the files' summaries on stdout")
    r.set_defaults(func=run_check)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_list(args) -> int:
    from fipscan.bounds import bounds_version, shipped_bounds

    if args.model is not None:
        from fipscan.cli import _args

        _args.model_name("--model", args.model)
    curves = shipped_bounds(model=args.model)
    version = bounds_version()
    if args.json:
        json.dump({"version": version, "bounds": [c.summary() for c in curves]}, sys.stdout)
        print()
        return 0
    print(f"existing bounds set {version}: {len(curves)} curve(s)" + (f" for {args.model}" if args.model else ""))
    for c in curves:
        lo, hi = c.masses.min(), c.masses.max()
        print(f"{c.benchmark:5s} {c.model:13s} {c.name:12s} {c.label:12s} {lo:.3g}-{hi:.3g} GeV  {c.meta['publication']}")
    return 0


def run_check(args) -> int:
    from fipscan.bounds import load_bounds
    from fipscan.cli import _args

    if args.model is not None:
        _args.model_name("--model", args.model)
    curves = []
    for f in args.files:
        _args.input_file("FILE", f)
        curves.append(load_bounds(f, args.model))
    if args.json:
        json.dump([c.summary() for c in curves], sys.stdout)
        print()
    else:
        for c in curves:
            print(f"{c.path}: ok ({c.model}, {c.label}, {c.masses.size} points)")
    return 0


def precheck_bounds(values, model: str) -> None:
    """The ``fipscan scan --bounds`` value, checked before the scan: ``none`` alone; each FILE readable and
    a valid bounds file for ``model`` (its name, coupling axis and unit).  ``default`` alone is the shipped
    set (checked by the tests) and costs nothing here; a FILE loads the model's class (JAX) to compare axes."""
    from fipscan.bounds import read_bounds, resolve_bounds
    from fipscan.cli import _args

    items = [str(v) for v in (values or ["default"])]
    if "none" in items and len(items) > 1:
        raise InputError("--bounds none draws no existing bound; it cannot be combined with "
                         f"{', '.join(x for x in items if x != 'none')}")
    files = [x for x in items if x not in ("default", "none")]
    try:
        for f in files:
            _args.input_file("--bounds", f)
            curve = read_bounds(f)
            if ":" not in model and curve.model != model:
                raise InputError(f"bounds file {f} is for model '{curve.model}', not '{model}'")
        if files:
            resolve_bounds(items, model)  # the axes and units against the model's coupling
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith("--bounds") else f"--bounds: {msg}") from None
