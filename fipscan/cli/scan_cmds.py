"""``fipscan scan`` and ``fipscan info``: argument parsing only; the work is fipscan.scanner / the models."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time

from fipscan import checks
from fipscan.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("scan", help="expected events on an (m, coupling) grid and the exclusion contour",
                       description="Scan N(m, coupling) for a model at an experiment; write contour.csv, "
                                   "scan.h5 and contour.png/.pdf/.svg into the output directory.")
    p.add_argument("--model", default="dark-photon", help="model name (default: dark-photon)")
    p.add_argument("--experiment", default="na62-bd",
                   help="experiment name or TOML file (default: na62-bd); several, comma separated "
                        "(na62-bd,charm,shadows), scan each into <output>/<name>/ and draw every region on "
                        "<output>/comparison.png/.pdf/.svg; a kaon-mode experiment (na62-kaon) writes one "
                        "sub-directory per search")
    p.add_argument("--pot", type=float, default=None,
                   help="protons on target (default: the experiment's, plus its projection); for a kaon-mode "
                        "experiment the number of K+ decays of its first search's sample (every sample scaled "
                        "alike; a peak search is then left out)")
    p.add_argument("--projection", type=float, action="append", default=None,
                   help="extra POT value(s) for projected contours (repeatable); kaon mode: K+ decays as for "
                        "--pot, the counting searches' median expected limits")
    p.add_argument("--channels", default=None,
                   help="final states, comma separated, or 'all' (every final state the model and the experiment "
                        "both have; default: the model's default ones, ee,mumu for the dark photon)")
    p.add_argument("--masses", default=None,
                   help="LO:HI:N log-spaced masses in GeV (default: the model's scan_masses with 100 points, "
                        "0.01:1.0 for most models, 0.001:1.0 for alp-photon)")
    _no_refine_arg(p)
    p.add_argument("--couplings", default=None,
                   help="LO:HI:N log-spaced couplings (default: the model's range with 120 points, 1e-9:1e-3 for "
                        "the dark photon, 1e-12:1 for the dark scalar)")
    _model_option_arg(p)
    _generic_flags(p)
    p.add_argument("--observed", type=int, default=None, help="observed events (default: the experiment's)")
    p.add_argument("--background", type=float, default=None, help="expected background events at --pot")
    p.add_argument("--background-uncertainty", type=float, default=None, help="its absolute uncertainty")
    p.add_argument("--background-mode", choices=("scale", "fixed"), default="scale",
                   help="background in projections: scaled with POT (default) or held fixed")
    p.add_argument("--no-bands", action="store_true", help="skip the expected-limit and POT-uncertainty bands")
    p.add_argument("--bands", default=None, metavar="NAMES",
                   help="bands to compute, comma separated among expected, pot, production, decay, or none "
                        "(default: expected,pot; production: the envelope of the contours under the model's "
                        "production variations and the efficiency uncertainty, decay: under its width "
                        "variations, fipscan.bands)")
    p.add_argument("--method", choices=("cls", "fc"), default="cls",
                   help="limit method (default: cls, which integrates over the background uncertainty); fc "
                        "(Feldman-Cousins) needs a known background: it uses the central value of the "
                        "experiment's backgrounds (a note says so, scan.h5 records it) and refuses "
                        "--background-uncertainty")
    p.add_argument("--cl", type=float, default=None, help="confidence level (default: 0.9)")
    p.add_argument("--compare", default=None, help="overlay a published curve (two columns: mass, coupling)")
    p.add_argument("--bounds", nargs="+", default=["default"], metavar="default|none|FILE",
                   help="existing exclusion bounds drawn in grey under the curves: default (the shipped curves of "
                        "the model's benchmark, 'fipscan bounds list'), none, or bounds files (with default: both)")
    p.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    p.add_argument("-o", "--output", default="fipscan-out",
                   help="output directory (default: fipscan-out): new, empty or a previous scan's; the set of "
                        "files is written beside it and swapped in whole")
    p.add_argument("--format", choices=("standard", "hepdata"), default="standard",
                   help="output set: standard (the CSV files, scan.h5 and plots; default) or hepdata (the "
                        "same plus a HEPData submission, <output>/hepdata/submission.yaml and its tables)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=run_scan)

    q = sub.add_parser("info", help="widths, lifetime, branching ratios and production rates at one point")
    q.add_argument("--model", default="dark-photon", help="model name or module:Class (default: dark-photon)")
    q.add_argument("--experiment", default="na62-bd",
                   help="experiment whose beam energy the production rates use (default: na62-bd)")
    _model_option_arg(q)
    _generic_flags(q)
    q.add_argument("--mass", required=True, help="mass in GeV")
    q.add_argument("--coupling", required=True,
                   help="coupling on the model's axis: epsilon (dark-photon), sin^2 theta (dark-scalar)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_info)

    r = sub.add_parser("list", help="list the registered models, experiments or final states",
                       description="One name a line (or a JSON list with --json).")
    r.add_argument("what", choices=("models", "experiments", "final-states"))
    r.add_argument("--json", action="store_true", help="a JSON list on stdout")
    r.set_defaults(func=run_list)


#: points of the coupling axis when --couplings is not given (the range is the model's scan_range)
DEFAULT_COUPLING_POINTS = 120
#: points and range of the mass axis when --masses is not given (the range: the model's scan_masses if
#: it has them)
DEFAULT_MASS_POINTS = 100
DEFAULT_SCAN_MASSES = (0.01, 1.0)


def _no_refine_arg(p) -> None:
    p.add_argument("--no-refine", action="store_true",
                   help="keep the mass grid as given (default: masses are added around the model's narrow "
                        "resonances, e.g. omega(782) and phi(1020) of the dark photon, so that the contour "
                        "does not depend on the grid)")


def refined_masses(model, masses, args):
    """(masses, progress-line note): ``masses`` refined around the model's narrow resonances
    (fipscan.grid.refine_masses) unless ``--no-refine``; the note says how many were added around which."""
    from fipscan.grid import refine_masses

    if args.no_refine:
        return masses, ""
    out, names = refine_masses(masses, getattr(model, "resonances", ()), with_names=True)
    added = len(out) - len(masses)
    note = f"; {added} masses added around {', '.join(names)} (--no-refine to keep the grid as given)" if added else ""
    return out, note


def _model_option_arg(p) -> None:
    p.add_argument("--model-option", action="append", default=None, metavar="KEY=VALUE",
                   help="a model option, e.g. form_factor=false or production_channels=pi0->gamma,brems (repeatable)")


def _generic_flags(p) -> None:
    p.add_argument("--production", default=None, metavar="CHANNEL",
                   help="--model generic only: the parent model's production channel (shorthand for "
                        "--model-option production_channel=CHANNEL), e.g. bplus->kplus, brems, mixing(eta)")
    p.add_argument("--final-state", default=None, metavar="FS",
                   help="--model generic only: the final state with BR = 1 (shorthand for "
                        "--model-option final_state=FS), e.g. pipi")


#: the shorthand flags of the generic model: (args attribute, flag, model option, what other models use)
_GENERIC_FLAGS = (("production", "--production", "production_channel", "--model-option production_channels=..."),
                  ("final_state", "--final-state", "final_state", "--channels"))


def load_model(args):
    """The model of ``--model`` with its ``--model-option`` values (ConfigError naming the bad one), and for
    ``--model generic`` the ``--production``/``--final-state`` shorthands (refused for other models)."""
    from fipscan.errors import ConfigError
    from fipscan.models import get_model, parse_model_options

    options = parse_model_options(args.model, args.model_option)
    for attr, flag, key, other in _GENERIC_FLAGS:
        value = getattr(args, attr, None)
        if value is None:
            continue
        if args.model != "generic":
            raise ConfigError(f"{flag} applies to --model generic only (for {args.model} use {other})")
        if key in options:
            raise ConfigError(f"{flag} and --model-option {key}= are both given; give one")
        options[key] = value
    return get_model(args.model, **options)


def run_list(args) -> int:
    if args.what == "models":
        from fipscan.models import list_models as names
    elif args.what == "experiments":
        from fipscan.experiments import list_experiments as names
    else:
        from fipscan.final_states import list_final_states as names
    items = names()
    if args.json:
        json.dump(items, sys.stdout)
        print()
    else:
        print("\n".join(items))
    return 0


def _enable_precision(float32: bool):
    """The CLI is the process owner: it decides the precision and the compilation cache."""
    import jax.numpy as jnp

    from fipscan.runtime import configure

    configure(x64=not float32)
    return jnp.float32 if float32 else jnp.float64


def _precheck_scan(args):
    """Every argument of ``scan`` that needs no JAX and no model, and every output target, checked before
    anything expensive: (experiment, (masses, couplings) axes, channels, projections, compare curve)."""
    from fipscan.cli import _args
    from fipscan.experiments import load_experiment

    _args.model_name("--model", args.model)
    _bands_arg(args)  # an unknown band name fails before anything is computed
    m_axis = _args.grid_axis("--masses", args.masses, "mass") if args.masses is not None else None
    g_axis = _args.grid_axis("--couplings", args.couplings, "coupling") if args.couplings is not None else None
    pot = _args.pot("--pot", args.pot)
    projections = _args.projections("--projection", args.projection) if args.projection is not None else None
    _args.grid_size(m_axis[2] if m_axis else DEFAULT_MASS_POINTS, g_axis[2] if g_axis else DEFAULT_COUPLING_POINTS,
                    1 + len(projections or (1,)))
    channels = _args.final_states("--channels", args.channels)
    checks.optional(checks.nonnegative, "--background", args.background)
    checks.optional(checks.nonnegative, "--background-uncertainty", args.background_uncertainty)
    if args.background_uncertainty is not None and args.background is None:
        raise InputError("--background-uncertainty needs --background (the uncertainty of which background?); "
                         "without --background the experiment's backgrounds and their uncertainties are used")
    if args.background is not None and args.background == 0 and (args.background_uncertainty or 0) > 0:
        raise InputError("--background-uncertainty > 0 needs --background > 0")
    if args.method == "fc" and (args.background_uncertainty or 0) > 0:
        raise InputError("--background-uncertainty needs --method cls: Feldman-Cousins (--method fc) takes a "
                         "known background")
    if args.observed is not None:
        checks.count("--observed", args.observed)
    if args.cl is not None:
        checks.probability("--cl", args.cl)
    curve = None
    if args.compare is not None:
        _args.text_file("--compare", args.compare)
        from fipscan.plotting import read_curve

        curve = read_curve(args.compare)  # fail before the scan, not after
    from fipscan.cli.bounds_cmds import precheck_bounds

    precheck_bounds(args.bounds, args.model)  # a bad --bounds file fails before the scan
    _args.output_dir("-o/--output", args.output)
    from fipscan.io.results import check_output_set_dir, check_result_sets_dir

    _args.experiment("--experiment", args.experiment)
    experiment = load_experiment(args.experiment)
    if getattr(experiment, "kind", "beam-dump") == "kaon":  # one output set per search in <output>/<search>/
        check_result_sets_dir(args.output, "-o/--output")
        for name in experiment.searches:
            check_output_set_dir(os.path.join(args.output, name), "-o/--output")
        if args.channels is not None:
            raise InputError(f"--channels does not apply to the kaon-mode experiment {experiment.name}: its searches "
                             f"({', '.join(experiment.searches)}) fix their signatures")
        if args.format == "hepdata":
            raise InputError(f"--format hepdata is written for beam-dump experiments; {experiment.name} is a "
                             "kaon-mode experiment (its scan.h5, CSV and JSON outputs hold the same numbers)")
    else:
        check_output_set_dir(args.output, "-o/--output")
    primary = pot if pot is not None else float(experiment.pot)
    if projections is None:
        same = experiment.pot_projection == experiment.pot
        projections = () if pot is not None or same else (experiment.pot_projection,)
    for x in projections:  # a projection at the primary POT duplicates contour.csv
        if _args.pot_file_name(x) == _args.pot_file_name(primary):
            given = "--pot" if pot is not None else f"the POT of {experiment.name},"
            raise InputError(f"--projection {x!r} is the primary POT ({given} {primary!r}) whose contour is "
                             "contour.csv; give a different POT")
    if args.method == "fc":  # the belt's size limit, before the scan (counts scale with POT)
        observed = args.observed if args.observed is not None else int(experiment.observed)
        scaled = args.background is not None and args.background_mode == "scale"
        _args.fc_counts(observed, [(args.background, "")] + [
            (args.background * p / primary, f" (scaled to {p!r} POT by --background-mode scale)")
            for p in (projections if scaled else ())])
    return experiment, m_axis, g_axis, channels, projections, curve


def run_scan(args) -> int:
    if "," in str(args.experiment):  # several experiments: one sub-directory each and a comparison figure
        return run_multi_scan(args)
    result, written, dt = _scan_one(args, _precheck_scan(args))
    if args.json:
        from fipscan.io.results import write_json

        write_json(_summary(result, written, args.output, dt))
    return 0


def _summary(result, written, output, seconds) -> dict:
    """``--json`` of one experiment: the scan summary, or for a kaon-mode experiment (a KaonScanResult)
    the files, the comparison figure and one summary per search (its folder ``<output>/<search>``)."""
    from fipscan.io.results import scan_summary

    if not hasattr(result, "results"):
        return scan_summary(result, written, output=output, seconds=seconds)
    searches = []
    for name, r in zip(result.searches, result.results):
        files = {k.split("/", 1)[1]: v for k, v in written.items() if k.startswith(name + "/")}
        inp = r.inputs
        searches.append({"search": name, "statistics": inp["statistics"], "signature": inp["signature"],
                         "exposure_unit": "K+ decays", "sample_n_kaons": inp["sample_n_kaons"],
                         "n_limit_per_mass_range": [min(inp["n_limit_per_mass"]), max(inp["n_limit_per_mass"])],
                         **scan_summary(r, files, output=os.path.join(str(output), name))})
    return {"output": str(output), "files": sorted(written), "seconds": seconds, "model": result.model.name,
            "experiment": result.experiment.name, "searches": searches}


def _scan_one(args, prechecked):
    """Scan one experiment (``prechecked``: what :func:`_precheck_scan` returned for ``args``) and save the
    output set into ``args.output``: (ScanResult, files written, seconds)."""
    experiment, m_axis, g_axis, channels, projections, _ = prechecked

    from fipscan.grid import Grid
    from fipscan.scanner import prepare_output_dir, scan
    from fipscan.yields import resolve_final_states

    dtype = _enable_precision(args.float32)
    model = load_model(args)
    if g_axis is None:
        g_axis = (*model.coupling.scan_range, DEFAULT_COUPLING_POINTS)
    if m_axis is None:
        m_axis = (*getattr(model, "scan_masses", DEFAULT_SCAN_MASSES), DEFAULT_MASS_POINTS)
    grid = Grid.log(*m_axis, *g_axis).validate(model.mass_range, coupling_max=_coupling_max(model),
                                                names=("--masses: mass", "--couplings: coupling"))
    masses, note = refined_masses(model, grid.masses, args)
    grid = Grid(masses, grid.couplings)
    experiment.check_masses(grid.masses, what="--masses: mass")
    kaon = getattr(experiment, "kind", "beam-dump") == "kaon"
    if kaon:  # a model without K+ -> pi+ X fails here, in one line, before anything is computed
        from fipscan.searches.kaon import kaon_channel

        kaon_channel(model)
    channels = None if kaon else resolve_final_states(model, experiment, args.channels)
    new_dir = not os.path.lexists(args.output)
    prepare_output_dir(args.output)
    t0 = time.perf_counter()
    print(f"fipscan: scanning {model.name} at {experiment.name} ({grid.masses.size} x {grid.couplings.size}"
          f"{note})", file=sys.stderr)
    try:
        result = scan(model, experiment, grid, pot=args.pot, projections=projections, channels=channels,
                      observed=args.observed, background=args.background,
                      background_uncertainty=args.background_uncertainty, background_mode=args.background_mode,
                      cl=args.cl, method=args.method, bands=_bands_arg(args), dtype=dtype)
        for part in getattr(result, "results", (result,)):
            for note in part.inputs.get("notes", ()):
                print(f"fipscan: note: {note}", file=sys.stderr)
        from fipscan.bounds import resolve_bounds

        written = result.save(args.output, compare=args.compare, hepdata=args.format == "hepdata",
                              bounds=resolve_bounds(args.bounds, model))
    except BaseException:
        if new_dir:  # a failed first run leaves no empty output folder behind
            with contextlib.suppress(OSError):
                os.rmdir(args.output)
        raise
    dt = time.perf_counter() - t0
    print(f"fipscan: wrote {', '.join(sorted(written))} to {args.output} in {dt:.1f} s", file=sys.stderr)
    return result, written, dt


#: options that set one number for a single experiment; refused with several (each keeps its own)
_PER_EXPERIMENT_OPTIONS = (("pot", "--pot"), ("projection", "--projection"), ("observed", "--observed"),
                           ("background", "--background"), ("background_uncertainty", "--background-uncertainty"))


def run_multi_scan(args) -> int:
    """``--experiment a,b,c``: scan each experiment into ``<output>/<experiment name>/`` (the usual output
    set) and draw every experiment's region on one figure, ``<output>/comparison.png``, ``.pdf`` and ``.svg``.
    Every argument and every output folder is checked before the first scan."""
    import copy

    from fipscan.cli import _args
    from fipscan.experiments import load_experiment
    from fipscan.io.atomic import atomic_write
    from fipscan.plotting import comparison_figure, write_figure

    names = [n.strip() for n in str(args.experiment).split(",")]
    if any(not n for n in names):
        raise InputError(f"--experiment {args.experiment!r} has an empty name in its comma-separated list")
    for attr, flag in _PER_EXPERIMENT_OPTIONS:
        if getattr(args, attr) is not None:
            raise InputError(f"{flag} sets one number for one experiment; with several experiments each uses its "
                             "own (its TOML): scan them one at a time to change it")
    from fipscan.io.results import COMPARISON_FORMATS, check_result_sets_dir

    top = check_result_sets_dir(_args.output_dir("-o/--output", args.output), "-o/--output")
    subs, seen = [], {}
    for name in names:
        _args.experiment("--experiment", name)
        experiment = load_experiment(name)
        if experiment.name in seen:
            raise InputError(f"--experiment names {experiment.name} twice ({seen[experiment.name]!r} and {name!r})")
        seen[experiment.name] = name
        sub = copy.copy(args)
        sub.experiment, sub.output, sub.json = name, str(top / experiment.name), False
        subs.append((sub, _precheck_scan(sub)))  # every sub-directory checked before the first scan
    top.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done = []
    for sub, prechecked in subs:
        done.append((sub, *_scan_one(sub, prechecked)))
    results = []  # a kaon-mode experiment contributes one region per search
    for _, r, _, _ in done:
        results.extend(getattr(r, "results", (r,)))
    from fipscan.bounds import resolve_bounds

    bounds = resolve_bounds(args.bounds, results[0].model)
    figures = {f"comparison.{fmt}": path for fmt, path in write_figure(
        lambda: comparison_figure(results, compare=args.compare, bounds=bounds),
        lambda fmt, save: atomic_write(top / f"comparison.{fmt}", save), COMPARISON_FORMATS).items()}
    dt = time.perf_counter() - t0
    print(f"fipscan: wrote {', '.join(sorted(figures))} and {len(done)} experiment folders to {top} in {dt:.1f} s",
          file=sys.stderr)
    if args.json:
        from fipscan.io.results import scan_summary, write_json

        write_json({"output": str(top), "files": sorted(figures), "seconds": dt,
                    "experiments": [_summary(r, w, s.output, t) for s, r, w, t in done]})
    return 0


def _coupling_max(model) -> float:
    """The physical upper bound of the model's coupling axis (``Coupling.max``; inf if it has none)."""
    return float(getattr(model.coupling, "max", math.inf))


def run_info(args) -> int:
    from fipscan.cli import _args
    from fipscan.grid import check_coupling, check_mass

    _args.model_name("--model", args.model)
    check_mass(args.mass, what="--mass")
    check_coupling(args.coupling, "--coupling")
    experiment = _args.beam_dump_experiment("--experiment", args.experiment, "info")
    _enable_precision(False)
    model = load_model(args)
    info = point_info(model, check_mass(args.mass, *model.mass_range, what="--mass"),
                      check_coupling(args.coupling, "--coupling", upper=_coupling_max(model)),
                      e_beam=experiment.energy_gev)
    if args.json:
        from fipscan.io.results import write_json

        write_json(info)
        return 0
    print(f"{model.label}: m = {info['mass_gev']:g} GeV, {model.coupling.name} = {info['coupling']:g}")
    print(f"  total width   {info['total_width_gev']:.6e} GeV")
    print(f"  c tau         {info['ctau_m']:.6e} m" if info["ctau_m"] is not None else "  c tau         infinite (zero width)")
    print("  branching ratios:")
    for k, v in info["branching_ratios"].items():
        print(f"    {k:<14s} {v:.6e}")
    print(f"  production ({info['beam_energy_gev']:g} GeV beam):")
    for k, v in info["production"].items():
        print(f"    {k:<14s} {v:.6e}  {info['production_units'][k]}")
    return 0


def point_info(model, m: float, g: float, e_beam: float = 400.0) -> dict:
    """Total width, partial widths and branching ratios (final-state name -> Gamma [GeV], BR), c tau, and production rates (channel name
    -> rate, with its unit in ``production_units``; a meson decay ``parent->companion`` is its BR at g)
    of ``model`` at (m, g), for a beam of ``e_beam`` GeV.  Every value is finite (JSON-safe): c tau of a
    FIP with zero width is reported as null."""
    import jax.numpy as jnp

    from fipscan.kernels.decay import HBARC_GEV_M

    mj, gj = jnp.asarray(m, jnp.float64), jnp.asarray(g, jnp.float64)
    width = float(model.total_width(mj, gj))
    brs = {k: float(v) for k, v in model.branching_ratios(mj).items()}
    prod, units = {}, {}
    for ch in model.production():
        prod[ch.name] = float(ch.rate(mj, gj, e_beam))
        units[ch.name] = ch.rate_unit
    ctau = HBARC_GEV_M / width if width > 0 else None
    return {
        "model": model.name, "benchmark": model.benchmark, "mass_gev": m, "coupling": g,
        "coupling_name": model.coupling.name, "beam_energy_gev": e_beam,
        "total_width_gev": width,
        "partial_widths_gev": {k: v * width for k, v in brs.items()},
        "ctau_m": ctau if ctau is None or math.isfinite(ctau) else None,
        "branching_ratios": brs,
        "production": prod,
        "production_units": units,
    }


def _bands_arg(args) -> frozenset:
    """The bands of ``--bands`` (fipscan.bands.parse_bands; default expected,pot) and ``--no-bands`` (none);
    InputError (one line) for an unknown name or for both options given."""
    from fipscan.bands import DEFAULT_BANDS, parse_bands

    given = getattr(args, "bands", None)
    if getattr(args, "no_bands", False):
        if given is not None and parse_bands(given):
            raise InputError(f"--no-bands and --bands {given} are both given; give one (--bands none is --no-bands)")
        return frozenset()
    if given is None:
        return DEFAULT_BANDS
    try:
        return parse_bands(given)
    except InputError as exc:
        raise InputError(f"--bands {given}: {exc}") from None
