"""``fipscan limit`` and ``fipscan discovery``: thin wrappers around fipscan.stats."""

from __future__ import annotations

import sys

from fipscan import checks


def register(sub) -> None:
    p = sub.add_parser("limit", help="upper limit on signal events for n observed over a background")
    p.add_argument("--observed", required=True, type=str, help="observed events (integer >= 0)")
    p.add_argument("--background", type=str, default="0", help="expected background events")
    p.add_argument("--background-uncertainty", type=str, default="0", help="its absolute uncertainty")
    p.add_argument("--cl", type=str, default="0.9", help="confidence level in (0, 1) (default 0.9)")
    p.add_argument("--method", choices=("cls", "fc"), default="cls", help="CLs (default) or Feldman-Cousins")
    p.add_argument("--json", action="store_true", help="machine-readable output (key upper_limit)")
    p.set_defaults(func=run_limit)

    q = sub.add_parser("discovery", help="minimum observed events for a Z-sigma discovery")
    q.add_argument("--background", type=str, required=True, help="expected background events")
    q.add_argument("--background-uncertainty", type=str, default="0", help="its absolute uncertainty")
    q.add_argument("--sigma", type=str, default="5", help="significance Z (one-sided; default 5)")
    q.add_argument("--global", dest="global_", action="store_true",
                   help="global significance with a look-elsewhere trials factor (needs --mass-window, --resolution)")
    q.add_argument("--mass-window", default=None, help="LO:HI in GeV, the peak-search window (with --global)")
    q.add_argument("--resolution", type=str, default=None, help="mass resolution in GeV (with --global)")
    q.add_argument("--json", action="store_true", help="machine-readable output (key min_observed)")
    q.set_defaults(func=run_discovery)


def run_limit(args) -> int:
    from fipscan.io.results import write_json
    from fipscan.stats import limit_report

    from fipscan.cli import _args
    from fipscan.errors import InputError

    n = checks.count("--observed", args.observed)
    b = checks.nonnegative("--background", args.background)
    db = checks.nonnegative("--background-uncertainty", args.background_uncertainty)
    cl = checks.probability("--cl", args.cl)
    if db > 0 and args.method == "fc":
        raise InputError("--background-uncertainty needs --method cls: Feldman-Cousins (--method fc) takes a "
                         "known background")
    if db > 0 and b == 0:
        raise InputError("--background-uncertainty > 0 needs --background > 0 (a prior with mean 0 has no width)")
    if args.method == "fc":
        _args.fc_counts(n, [(b, "")])
    report = limit_report(n, b, db, cl=cl, method=args.method)
    if args.json:
        write_json(report)
    else:  # every digit (1e15 + 2 is not 1e+15), and never -0
        print(repr(float(report["upper_limit"]) + 0.0))
    return 0


def run_discovery(args) -> int:
    from fipscan.io.results import write_json
    from fipscan.stats import discovery_report

    from fipscan.errors import InputError

    kwargs = {}
    if not args.global_:
        for option, value in (("--mass-window", args.mass_window), ("--resolution", args.resolution)):
            if value is not None:
                raise InputError(f"{option} needs --global (it sets the look-elsewhere trials factor of a peak "
                                 "search); add --global or drop it")
    if args.global_:
        if args.mass_window is None or args.resolution is None:
            raise InputError("--global needs --mass-window LO:HI and --resolution")
        parts = args.mass_window.split(":")
        if len(parts) != 2:
            raise InputError(f"--mass-window must be LO:HI, got '{args.mass_window}'")
        lo, hi = (checks.nonnegative(f"--mass-window {which}", x) for which, x in zip(("LO", "HI"), parts))
        if not lo < hi:
            raise InputError(f"--mass-window must be LO:HI with LO < HI, got '{args.mass_window}'")
        kwargs = dict(mode="global", mass_window=(lo, hi),
                      mass_resolution=checks.positive("--resolution", args.resolution))
    report = discovery_report(checks.nonnegative("--background", args.background),
                              checks.nonnegative("--background-uncertainty", args.background_uncertainty),
                              sigma=checks.positive("--sigma", args.sigma), **kwargs)
    if args.json:
        write_json(report)
    else:
        print(report["min_observed"])
    return 0
