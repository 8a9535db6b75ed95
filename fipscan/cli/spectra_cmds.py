"""``fipscan spectra info|generate`` and ``fipscan cache list|info|clear`` (argument parsing only)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fipscan import checks
from fipscan.errors import CacheError, FipscanError, InputError


# ------------------------------------------------------------------------------------ helpers
def _int(name: str, value: str | None) -> int | None:
    """A non-negative integer from the command line; accepts 1e6 and 1_000_000."""
    return checks.optional(checks.count, name, None if value is None else value.replace("_", ""))


def _float(name: str, value: str | None) -> float | None:
    return checks.optional(checks.number, name, value)


def _print_json(doc: Any) -> None:
    from fipscan.io.results import write_json

    write_json(doc, default=str)


def _usage(parser: argparse.ArgumentParser):
    def handler(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def _human_size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)  # pragma: no cover


# ------------------------------------------------------------------------------------ spectra
def _spectra_info(args: argparse.Namespace) -> int:
    from fipscan.spectra import default_spectra_path, load_spectra
    from fipscan.spectra.registry import shipped_entry, spectra_path

    if args.file is not None and shipped_entry(args.file) is not None:  # a shipped name: pp-70gev, default
        path = spectra_path(args.file, where="FILE")
    elif args.file is not None:
        from fipscan.cli import _args

        _args.input_file("spectra file", args.file, what="spectra HDF5 file")
        path = args.file
    else:
        path = default_spectra_path()
    s = load_spectra(path)
    species = {sp: {"per_pot": s.per_pot[sp], "per_pp_collision": s.per_pp_collision[sp]} for sp in s.species}
    if args.json:
        _print_json(
            {
                "path": str(path),
                "species": species,
                "sigma_mb": dict(s.sigma_mb),
                "n_events": dict(s.n_events),
                "provenance": dict(s.provenance),
            }
        )
        return 0
    prov = s.provenance
    print(f"spectra file: {path}")
    print(f"{'species':<8} {'per POT':>12} {'per pp coll.':>13} {'MC counts':>10}")
    for sp in s.species:
        n = int(s.counts[sp].sum()) if sp in s.counts else -1
        print(f"{sp:<8} {s.per_pot[sp]:12.5g} {s.per_pp_collision[sp]:13.5g} {n:10d}")
    print("cross sections [mb]: " + ", ".join(f"{k} {v:.4g}" for k, v in s.sigma_mb.items()))
    print(f"generator: {prov.get('generator')} {prov.get('generator_version')} (pythia8mc {prov.get('pythia8mc_version')})")
    print("events: " + ", ".join(f"{k} {v}" for k, v in s.n_events.items()))
    settings = prov.get("settings", {})
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    f = prov.get("file", {})
    print(f"created {f.get('created')} by fipscan {f.get('fipscan_version')}; schema {f.get('schema_version')}; "
          f"checksum {prov.get('checksum')}")  # fmt: skip
    return 0


def _spectra_generate(args: argparse.Namespace) -> int:
    from fipscan.spectra import GenerationSettings, generate

    kw: dict[str, Any] = {}
    for opt, field in (("events", "n_events_soft"), ("ccbar_events", "n_events_ccbar"),
                       ("bbbar_events", "n_events_bbbar"), ("seed", "seed"), ("workers", "n_workers"),
                       ("chunk_events", "chunk_events")):  # fmt: skip
        v = _int("--" + opt.replace("_", "-"), getattr(args, opt))
        if v is not None:
            kw[field] = v
    for opt, field in (("beam_energy", "e_beam"), ("sigma_ccbar_ub", "sigma_ccbar_ub"),
                       ("sigma_bbbar_nb", "sigma_bbbar_nb")):  # fmt: skip
        v = _float("--" + opt.replace("_", "-"), getattr(args, opt))
        if v is not None:
            kw[field] = v
    if args.target is not None:
        kw["target"] = args.target
    if args.dump is not None:
        from fipscan.spectra.generation import canonical_target, dump_constants

        target = canonical_target(kw.get("target", "p"))
        if target != "p" and canonical_target(args.dump) != target:
            raise InputError(f"--dump {args.dump} contradicts --target {args.target}: a nucleus target is the dump")
        kw["target_a"], kw["sigma_pa_inel_mb"] = dump_constants(args.dump)
    if args.cascade:
        kw["cascade_enhancement"] = True
    if args.pythia:
        kw["pythia_settings"] = tuple(args.pythia)
    if args.output is not None:
        from fipscan.cli import _args

        _args.output_file("-o/--output", args.output, (".h5", ".hdf5"), "HDF5 file")
    try:
        settings = GenerationSettings(**kw)
    except FipscanError as exc:  # the API names its fields; the user typed options
        raise type(exc)(_option_names(str(exc))) from None
    s = generate(settings, out=args.output, progress=not args.quiet, resume=not args.no_resume)
    where = args.output if args.output else "the cache"
    print(f"wrote spectra to {where}")
    for sp in s.species:
        print(f"  {sp:<8} per POT {s.per_pot[sp]:.5g}   per pp collision {s.per_pp_collision[sp]:.5g}")
    return 0


#: GenerationSettings field -> the ``spectra generate`` option that sets it
_GENERATE_OPTIONS = {
    "n_events_soft": "--events", "n_events_ccbar": "--ccbar-events", "n_events_bbbar": "--bbbar-events",
    "seed": "--seed", "n_workers": "--workers", "chunk_events": "--chunk-events", "target": "--target",
    "sigma_ccbar_ub": "--sigma-ccbar-ub", "sigma_bbbar_nb": "--sigma-bbbar-nb", "e_beam": "--beam-energy",
    "n_events_ccbar = 0": "--ccbar-events 0", "n_events_bbbar = 0": "--bbbar-events 0",
    "pythia_settings": "--pythia", "pythia setting": "--pythia setting",
}


def _option_names(message: str) -> str:
    """``message`` with GenerationSettings field names replaced by the CLI options that set them."""
    import re

    pattern = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _GENERATE_OPTIONS), key=len,
                                                            reverse=True)) + r")(?![\w-])")
    return pattern.sub(lambda m: _GENERATE_OPTIONS[m.group(1)], message)


# ------------------------------------------------------------------------------------ cache
def _entry_line(e: dict) -> str:
    if not e["valid"]:
        state = f"BAD: {e['problem']}"
    elif e.get("stale"):
        state = f"STALE: {e['problem']}"
    else:
        state = "ok"
    return f"{e['kind']:<10} {e['key'][:16]}  {_human_size(e['size']):>9}  {e['created'] or '-':<25}  {state}"


def _cache_list(args: argparse.Namespace) -> int:
    from fipscan import cache

    entries = cache.list_entries(args.kind)
    if args.json:
        _print_json(entries)
        return 0
    for e in entries:
        print(_entry_line(e))
    if not entries:
        print(f"(no cache entries in {cache.cache_root()})", file=sys.stderr)
    return 0


def _find_entry(key: str, kind: str | None) -> dict:
    from fipscan import cache

    if len(key) < 4:
        raise InputError(f"cache key prefix {key!r} is too short; give at least 4 hex digits")
    matches = [e for e in cache.list_entries(kind) if e["key"].startswith(key.lower())]
    if not matches:
        raise CacheError(f"no cache entry with key {key!r}; see 'fipscan cache list'")
    if len(matches) > 1:
        raise InputError(f"cache key prefix {key!r} is ambiguous ({len(matches)} entries); give more digits")
    return matches[0]


def _cache_info(args: argparse.Namespace) -> int:
    import h5py

    from fipscan import cache

    e = dict(_find_entry(args.key, args.kind))
    attrs: dict[str, Any] = {}
    if e["valid"]:  # a damaged entry is described by its one line (its attributes may be unreadable)
        try:
            with h5py.File(e["path"], "r") as f:
                for k, v in f.attrs.items():
                    v = cache._as_str(v) if isinstance(v, (str, bytes)) else (v.item() if hasattr(v, "item") else v)
                    if k in ("settings", "provenance") and isinstance(v, str):
                        try:
                            v = json.loads(v)
                        except ValueError:
                            pass
                    attrs[k] = v
        except (OSError, KeyError, RuntimeError, ValueError, TypeError) as exc:  # removed or damaged meanwhile
            e.update(valid=False, problem=f"unreadable attributes ({' '.join(str(exc).split())})")
    e["attrs"] = attrs
    if args.json:
        _print_json(e)
        return 0
    print(_entry_line(e))
    if not e["valid"]:
        return 0
    print(f"path: {e['path']}")
    for k, v in attrs.items():
        text = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)
        if len(text) > 200:
            text = text[:197] + "..."
        print(f"{k}: {text}")
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from fipscan import cache

    n = cache.clear(args.kind)
    what = f"{args.kind} " if args.kind else ""
    jax = " and emptied the JAX compilation cache" if args.kind in (None, cache.JAX_CACHE_DIR) else ""
    print(f"removed {n} {what}cache entr{'y' if n == 1 else 'ies'}{jax} from {cache.cache_root()}")
    return 0


# ------------------------------------------------------------------------------------ parsers
#: the --target values (fipscan.spectra.generation.TARGETS: p, the nuclei, the alias angantyr-cu)
TARGET_CHOICES = ("p", "Fe", "Cu", "Mo", "W", "Pb", "angantyr-cu")


def _target_name(value: str) -> str:
    """--target as typed in any case (fe, FE, Fe) -> its spelling in TARGET_CHOICES."""
    for choice in TARGET_CHOICES:
        if value.strip().lower() == choice.lower():
            return choice
    return value


def register(subparsers) -> None:
    """Add ``spectra`` and ``cache`` to the ``fipscan`` command line."""
    sp = subparsers.add_parser(
        "spectra",
        help="meson spectra: inspect the shipped file, generate new ones with PYTHIA 8",
        description="Meson and photon spectra per proton on target (PYTHIA 8, HDF5 files).",
    )
    sp.set_defaults(func=_usage(sp))
    ssub = sp.add_subparsers(dest="spectra_command", metavar="SUBCOMMAND")

    info = ssub.add_parser("info", help="multiplicities and provenance of a spectra file",
                           description="Print per species the number per POT and per pp collision, and "
                           "the provenance (default file: the one shipped with fipscan).")  # fmt: skip
    info.add_argument("file", nargs="?", help="spectra HDF5 file, or the name of a shipped one (default, pp-400gev, "
                      "pp-70gev, pmo-400gev) [default]")
    info.add_argument("--json", action="store_true",
                      help='print {"species": {NAME: {"per_pot", "per_pp_collision"}}, "provenance": {...}, ...}')
    info.set_defaults(func=_spectra_info)

    gen = ssub.add_parser(
        "generate",
        help="generate spectra with PYTHIA 8 (needs pythia8mc)",
        description="Generate spectra with PYTHIA 8: an inelastic run for light mesons, hard c-cbar and "
        "b-bbar runs for D and B mesons, for a proton beam of --beam-energy GeV on protons (--target p) or on a "
        "nucleus (Angantyr). The heavy-flavour cross sections per nucleon have defaults only at 400 GeV "
        "(20 ub, 2.63 nb; ALPINIST, arXiv:2201.05170): at any other energy give --sigma-ccbar-ub and "
        "--sigma-bbbar-nb from a measurement you cite, or switch the run off with --ccbar-events 0 / "
        "--bbbar-events 0. Results are cached; an interrupted run resumes.",
    )
    gen.add_argument("--events", metavar="N", help="soft (inelastic) events [1e6]")
    gen.add_argument("--ccbar-events", metavar="N", help="hard c-cbar events [1e5]")
    gen.add_argument("--bbbar-events", metavar="N", help="hard b-bbar events [1e5]")
    gen.add_argument("--seed", metavar="S", help="base random seed [1]")
    gen.add_argument("--workers", metavar="K", help="worker processes [number of CPUs]")
    gen.add_argument("--chunk-events", metavar="N", help="events per chunk (resume granularity) [20000]")
    gen.add_argument("--beam-energy", metavar="E", help="proton beam energy in GeV (fixed target) [400]")
    gen.add_argument("--target", type=_target_name, choices=TARGET_CHOICES, metavar="MATERIAL",
                     help="p: pp collisions; or a nucleus (" + ", ".join(TARGET_CHOICES[1:-1]) + "): "
                     "proton-nucleus light mesons through PYTHIA's Angantyr (angantyr-cu = Cu) [p]")
    gen.add_argument("--dump", metavar="MATERIAL",
                     help="the dump whose A/sigma_inel(pA) turns heavy flavour per nucleon into per POT: "
                     + ", ".join(TARGET_CHOICES[1:-1]) + " [the --target nucleus; Cu for p]")
    gen.add_argument("--cascade", action="store_true", help="multiply charm (beauty) per POT by 2.3 (1.7)")
    gen.add_argument("--sigma-ccbar-ub", metavar="X",
                     help="c-cbar cross section per nucleon in microbarn [20 at 400 GeV only: at any other "
                     "--beam-energy there is no default, give it (or --ccbar-events 0)]")
    gen.add_argument("--sigma-bbbar-nb", metavar="X",
                     help="b-bbar cross section per nucleon in nanobarn [2.63 at 400 GeV only: at any other "
                     "--beam-energy there is no default, give it (or --bbbar-events 0)]")
    gen.add_argument("--pythia", metavar="SETTING", action="append", help="extra PYTHIA setting (repeatable)")
    gen.add_argument("-o", "--output", metavar="FILE", help="also write the HDF5 file here")
    gen.add_argument("--no-resume", action="store_true", help="ignore chunks left by an interrupted run")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_spectra_generate)

    cp = subparsers.add_parser("cache", help="list, inspect or clear the fipscan cache",
                               description="The content-addressed HDF5 cache ($FIPSCAN_CACHE).")  # fmt: skip
    cp.set_defaults(func=_usage(cp))
    csub = cp.add_subparsers(dest="cache_command", metavar="SUBCOMMAND")
    ls = csub.add_parser("list", help="one line per cache entry")
    ls.add_argument("--kind", help="only entries of this kind (e.g. spectra)")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=_cache_list)
    ci = csub.add_parser("info", help="details of one entry")
    ci.add_argument("key", help="the entry's key (a unique prefix will do)")
    ci.add_argument("--kind", help="look only among entries of this kind")
    ci.add_argument("--json", action="store_true", help="print JSON")
    ci.set_defaults(func=_cache_info)
    cc = csub.add_parser("clear", help="remove entries, temporary files of killed builds and the JAX compilation cache")
    cc.add_argument("--kind", help="only entries of this kind ('jax': only the JAX compilation cache)")
    cc.set_defaults(func=_cache_clear)
