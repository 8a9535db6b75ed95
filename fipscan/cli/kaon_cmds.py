"""``fipscan kaon-limits``: BR(K+ -> pi+ X) upper limits versus m_X for several X lifetimes, for one search
of a kaon-mode experiment (fipscan.searches.kaon.br_upper_limits): the model-independent (generic X)
result of the kaon mode, whose axes are BR(K+ -> pi+ X) and the X proper decay length c tau."""

from __future__ import annotations

import math

from fipscan import checks


def register(sub) -> None:
    p = sub.add_parser(
        "kaon-limits",
        help="90%% CL upper limits on BR(K+ -> pi+ X) vs m_X for several X lifetimes (kaon mode)",
        description="Upper limits on BR(K+ -> pi+ X) x BR(X -> signature) at each mass and proper decay length "
                    "c tau of X, for one search of a kaon-mode experiment: N_up(m) / (N_K x efficiency x "
                    "A(m, c tau)), with N_up the search's limit (a peak search's window at m, or its counting "
                    "limit) and A the acceptance Monte Carlo of fipscan.kernels.kaon. inf: no limit there.")
    p.add_argument("--experiment", default="na62-kaon", help="kaon-mode experiment name or TOML (default na62-kaon)")
    p.add_argument("--search", required=True, help="the experiment's search (e.g. pigammagamma, pinunu)")
    p.add_argument("--masses", default=None, help="lo:hi:n log-spaced masses [GeV] (default: a peak search's "
                                                     "window centres, else 0.001-0.354 GeV in 200 points)")
    p.add_argument("--ctau", default="0.001,1,100,inf",
                   help="comma-separated X proper decay lengths c tau [m] (> 0, 'inf': never decays; "
                        "default 0.001,1,100,inf)")
    p.add_argument("--cl", default=None, help="confidence level (default: the experiment's)")
    p.add_argument("-o", "--output", default=None, help="write the table to this .csv (or .json) file")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(func=run_kaon_limits)


def _ctau_list(text) -> list[float]:
    from fipscan.errors import InputError

    out = []
    for part in str(text).split(","):
        part = part.strip()
        if part.lower() in ("inf", "infinity"):
            out.append(math.inf)
            continue
        try:
            x = float(part)
        except ValueError:
            raise InputError(f"--ctau: '{part}' is not a number (give c tau in metres, or inf)") from None
        if not (math.isfinite(x) and x > 0):
            raise InputError(f"--ctau values must be positive numbers of metres (or inf), got '{part}'")
        out.append(x)
    if not out:
        raise InputError("--ctau needs at least one value")
    return out


def run_kaon_limits(args) -> int:
    import numpy as np

    from fipscan import constants as C
    from fipscan.cli import _args
    from fipscan.errors import InputError
    from fipscan.experiments import load_experiment
    from fipscan.io.results import kaon_limits_table, write_json

    ctau = _ctau_list(args.ctau)
    axis = _args.grid_axis("--masses", args.masses, "mass") if args.masses is not None else None
    cl = checks.optional(checks.probability, "--cl", args.cl)
    out = None
    if args.output is not None:
        out = _args.output_file("-o/--output", args.output, (".csv", ".json"), "table")
    _args.experiment("--experiment", args.experiment)
    experiment = load_experiment(args.experiment)
    if getattr(experiment, "kind", "beam-dump") != "kaon":
        raise InputError(f"--experiment {experiment.name} is not a kaon-mode experiment (kind {experiment.kind!r})")
    experiment.search(args.search)  # one line naming the known searches
    from fipscan.runtime import configure

    configure(x64=True)
    from fipscan.searches.kaon import br_upper_limits, search_masses

    masses = (search_masses(experiment, args.search) if axis is None
              else np.geomspace(float(axis[0]), float(axis[1]), int(axis[2])))
    if np.all(masses >= C.M_K - C.M_PI):
        raise InputError(f"--masses: every mass is at or above m_K - m_pi = {C.M_K - C.M_PI:.4f} GeV, where "
                         "K+ -> pi+ X is closed")
    limits = br_upper_limits(experiment, args.search, masses, ctau, cl=cl)
    s = experiment.search(args.search)
    doc = {"experiment": experiment.name, "search": args.search, "signature": s.signature,
           "statistics": s.statistics, "n_kaons": experiment.n_kaons(args.search), "efficiency": s.efficiency,
           "cl": float(experiment.cl if cl is None else cl),
           "ctau_m": [c if math.isfinite(c) else "inf" for c in ctau], "masses_gev": masses.tolist(),
           "br_upper_limit": np.where(np.isfinite(limits) & (limits <= 1.0), limits, np.nan).tolist(),
           "note": "BR(K+ -> pi+ X) x BR(X -> signature) upper limits; null: no limit (no acceptance, a mass "
                   "outside the search, or a limit above 1)"}
    if out is not None:
        if out.suffix == ".json":
            write_json(doc, out)
        else:
            from fipscan.io.atomic import atomic_write_text

            atomic_write_text(out, kaon_limits_table(doc))
    if args.json:
        write_json(doc)
    elif out is None:
        print(kaon_limits_table(doc), end="")
    return 0
