"""``fipscan combinations``: NA62's production x decay combinations of a model-independent X (fipscan.combinations)."""

from __future__ import annotations

import sys

from fipscan import checks


def register(sub) -> None:
    p = sub.add_parser(
        "combinations",
        help="every production x hadronic decay combination: N_exp(M_X, Gamma_X), acceptance, mass resolution",
        description="For each (parent model, production mechanism, hadronic final state) with BR = 1: N_exp on "
                    "(M_X, Gamma_X) at the parent's reference coupling, the acceptance given a decay in the "
                    "fiducial volume and the reconstructed-mass resolution versus M_X (NA62, EPJC 85 (2025) 571). "
                    "Writes DIR/combinations.csv (one row per combination, excluded ones with the reason), "
                    "combinations.json, combinations.h5 and the figures.")
    p.add_argument("--experiment", default="na62-bd", help="experiment name or TOML file (default: na62-bd)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (replaced as a whole)")
    p.add_argument("--masses", default="200", metavar="N", help="masses of each N_exp map (default 200)")
    p.add_argument("--widths", default="200", metavar="N", help="Gamma_X values of each N_exp map (default 200)")
    p.add_argument("--map-masses", default="24", metavar="N",
                   help="masses of the acceptance and resolution curves (default 24)")
    p.add_argument("--parents", default=None, metavar="LIST",
                   help="comma-separated parent models among dark-photon, dark-scalar, dark-scalar-bc5, alp-photon, "
                        "alp-fermion, alp-gluon (default: NA62's four, dark-photon, dark-scalar, alp-fermion, "
                        "alp-gluon)")
    p.add_argument("--final-states", default=None, metavar="LIST",
                   help="comma-separated hadronic final states (default: all seven)")
    p.add_argument("--pot", default=None, help="protons on target (default: the experiment's)")
    p.add_argument("--no-resolution", action="store_true", help="skip the mass-resolution Monte Carlo")
    p.add_argument("--list", action="store_true", help="only list the combinations and why any is excluded")
    p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    p.set_defaults(func=run_combinations)


def _names(flag, text, known):
    from fipscan.errors import InputError

    if text is None:
        return None
    items = [t.strip() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise InputError(f"{flag} has an empty entry: {text!r}")
    for t in items:
        if t not in known:
            raise InputError(f"{flag}: unknown {t!r} (known: {', '.join(known)})")
    if len(set(items)) != len(items):
        raise InputError(f"{flag} names an entry twice: {text!r}")
    return tuple(items)


def _size(flag, value, lo, hi):
    from fipscan.errors import InputError

    n = checks.count(flag, value)
    if not lo <= n <= hi:
        raise InputError(f"{flag} must lie between {lo} and {hi}, got {n}")
    return n


def run_combinations(args) -> int:
    import time

    from fipscan.cli import _args
    from fipscan.combinations import HADRONIC_FINAL_STATES, PARENTS, compute_combinations, list_combinations
    from fipscan.io.combinations import combination_rows, save_combinations
    from fipscan.io.results import check_output_set_dir, write_json
    from fipscan.runtime import configure

    # every argument and the output folder checked before anything is computed
    _args.experiment("--experiment", args.experiment)
    parents = _names("--parents", args.parents, tuple(PARENTS))
    states = _names("--final-states", args.final_states, HADRONIC_FINAL_STATES)
    n_m = _size("--masses", args.masses, 2, 2000)
    n_g = _size("--widths", args.widths, 2, 2000)
    n_k = _size("--map-masses", args.map_masses, 2, 500)
    pot = _args.pot("--pot", args.pot)
    _args.output_dir("--output", args.output)
    check_output_set_dir(args.output, "--output")
    configure(x64=True)
    exp = _args.beam_dump_experiment("--experiment", args.experiment, "combinations")
    if pot is not None:
        exp = exp.with_pot(pot)
    t0 = time.perf_counter()
    if args.list:
        combos, results = list_combinations(exp, parents=parents, final_states=states), []
    else:
        def progress(i, n, c):
            print(f"fipscan: combination {i + 1}/{n}: {c.name}", file=sys.stderr, flush=True)

        combos, results = compute_combinations(exp, parents=parents, final_states=states, progress=progress,
                                               n_masses=n_m, n_widths=n_g, n_map=n_k,
                                               resolution=not args.no_resolution)
    allowed = [c for c in combos if c.allowed]
    written = save_combinations(combos, results, args.output, experiment=exp)
    seconds = time.perf_counter() - t0
    print(f"fipscan: {len(allowed)} allowed and {len(combos) - len(allowed)} excluded combinations at "
          f"{exp.name}; wrote {', '.join(sorted(written))} to {args.output} in {seconds:.1f} s", file=sys.stderr)
    if args.json:
        write_json({"experiment": exp.name, "pot": float(exp.pot), "output": str(args.output),
                    "files": sorted(written), "seconds": seconds, "combinations": combination_rows(combos, results)})
    return 0
