"""``fipscan rare-decay``: a branching-ratio upper limit for a rare-decay search (fipscan.stats.rare_decay)."""

from __future__ import annotations

from fipscan import checks

#: the normalisation-channel options, (flag, attribute, required)
_NORMALISATION = (
    ("--normalisation-candidates", "normalisation_candidates", True),
    ("--normalisation-br", "normalisation_br", True),
    ("--normalisation-br-uncertainty", "normalisation_br_uncertainty", False),
    ("--normalisation-acceptance", "normalisation_acceptance", True),
    ("--normalisation-acceptance-uncertainty", "normalisation_acceptance_uncertainty", False),
)


def register(sub) -> None:
    p = sub.add_parser(
        "rare-decay",
        help="90%% CL branching-ratio upper limit of a rare-decay search (CLs, uncertainties integrated)",
        description="BR upper limit from an observed count, an expected background, the signal acceptance and "
                    "the number of kaon decays N_K (given, or from a normalisation channel: N_K = N_norm / "
                    "(BR_norm A_norm)). CLs (Read 2002) with the background and the normalisation N_K A "
                    "integrated over Gamma priors (Cousins-Highland).")
    p.add_argument("--observed", required=True, help="observed candidates (integer >= 0)")
    p.add_argument("--background", default="0", help="expected background events (default 0)")
    p.add_argument("--background-uncertainty", default="0", help="its absolute uncertainty (default 0)")
    p.add_argument("--acceptance", required=True, help="signal acceptance in (0, 1]")
    p.add_argument("--acceptance-uncertainty", default="0", help="its absolute uncertainty (default 0)")
    p.add_argument("--n-kaons", default=None, help="number of kaon decays in the fiducial volume")
    p.add_argument("--n-kaons-uncertainty", default=None, help="its absolute uncertainty (default 0)")
    p.add_argument("--normalisation-candidates", default=None, help="candidates of the normalisation channel")
    p.add_argument("--normalisation-br", default=None, help="branching ratio of the normalisation channel")
    p.add_argument("--normalisation-br-uncertainty", default=None, help="its absolute uncertainty (default 0)")
    p.add_argument("--normalisation-acceptance", default=None, help="acceptance of the normalisation channel")
    p.add_argument("--normalisation-acceptance-uncertainty", default=None,
                   help="its absolute uncertainty (default 0)")
    p.add_argument("--cl", default="0.9", help="confidence level in (0, 1) (default 0.9)")
    p.add_argument("--projection", default=None, metavar="NK_FUTURE",
                   help="also the limit for a future sample of NK_FUTURE kaon decays")
    p.add_argument("--json", action="store_true", help="machine-readable output (key br_upper_limit)")
    p.set_defaults(func=run_rare_decay)


def _fraction(flag: str, value) -> float:
    """A probability in (0, 1] (an acceptance, a branching ratio), checked under the flag's name."""
    from fipscan.errors import InputError

    x = checks.positive(flag, value)
    if x > 1.0:
        raise InputError(f"{flag} must lie in (0, 1] (it is a probability), got {value!r}")
    return x


def run_rare_decay(args) -> int:
    from fipscan.errors import InputError
    from fipscan.io.results import write_json
    from fipscan.stats.rare_decay import rare_decay_report

    given = [flag for flag, attr, _ in _NORMALISATION if getattr(args, attr) is not None]
    if args.n_kaons is not None and given:
        raise InputError(f"give --n-kaons or the normalisation channel ({given[0]} ...), not both")
    if args.n_kaons is None and not given:
        raise InputError("give the number of kaon decays: --n-kaons NK, or --normalisation-candidates N "
                         "--normalisation-br BR --normalisation-br-uncertainty DBR --normalisation-acceptance A")
    normalisation = None
    if given:
        if args.n_kaons_uncertainty is not None:
            raise InputError("--n-kaons-uncertainty goes with --n-kaons; with a normalisation channel the "
                             "uncertainty of N_K follows from --normalisation-br-uncertainty")
        missing = [flag for flag, attr, required in _NORMALISATION if required and getattr(args, attr) is None]
        if missing:
            raise InputError(f"the normalisation channel also needs {', '.join(missing)}")
        normalisation = {
            "candidates": checks.count("--normalisation-candidates", args.normalisation_candidates),
            "br": _fraction("--normalisation-br", args.normalisation_br),
            "br_uncertainty": checks.nonnegative("--normalisation-br-uncertainty",
                                                 args.normalisation_br_uncertainty or "0"),
            "acceptance": _fraction("--normalisation-acceptance", args.normalisation_acceptance),
            "acceptance_uncertainty": checks.nonnegative("--normalisation-acceptance-uncertainty",
                                                         args.normalisation_acceptance_uncertainty or "0"),
        }
    report = rare_decay_report(
        checks.count("--observed", args.observed),
        checks.nonnegative("--background", args.background),
        checks.nonnegative("--background-uncertainty", args.background_uncertainty),
        _fraction("--acceptance", args.acceptance),
        n_kaons=checks.optional(checks.positive, "--n-kaons", args.n_kaons),
        n_kaons_uncertainty=checks.nonnegative("--n-kaons-uncertainty", args.n_kaons_uncertainty or "0"),
        normalisation=normalisation,
        acceptance_uncertainty=checks.nonnegative("--acceptance-uncertainty", args.acceptance_uncertainty),
        cl=checks.probability("--cl", args.cl),
        projection=checks.optional(checks.positive, "--projection", args.projection),
    )
    if args.json:
        write_json(report)
    else:
        print(_table(report))
    return 0


def _table(r: dict) -> str:
    pct = f"{100.0 * r['cl']:g}% CL"
    rows = [
        ("observed / background", f"{r['observed']} / {r['background']:g} +- {r['background_uncertainty']:g}"),
        ("N_K (" + r["n_kaons_source"] + ")", f"{r['n_kaons']:.4g} +- {r['n_kaons_uncertainty']:.2g}"),
        ("acceptance", f"{r['acceptance']:.4g} +- {r['acceptance_uncertainty']:.2g}"),
        ("single-event sensitivity", f"{r['single_event_sensitivity']:.4g} +- "
                                     f"{r['single_event_sensitivity_uncertainty']:.2g}"),
        (f"signal upper limit ({pct})", f"{r['signal_upper_limit']:.4g} events"),
        (f"BR upper limit ({pct})", f"{r['br_upper_limit']:.3g}"),
    ]
    if "projection" in r:
        p = r["projection"]
        rows += [
            (f"projection: N_K = {p['n_kaons']:.4g}", f"BR < {p['br_upper_limit']:.3g} (same counts)"),
            ("  expected (median, background x" + f"{p['scale']:.3g})", f"BR < {p['br_upper_limit_expected']:.3g}"),
        ]
    rows.append(("method", "CLs, background and N_K*A integrated over Gamma priors (Cousins-Highland)"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
