"""Malformed invocations of every subcommand: each must exit with code 2, print exactly one line on
stderr that names the argument, file or key (the needle), print no traceback and write nothing.

Every invocation runs through ``fipscan.cli.main.main`` (the console script's entry point) in ONE
batch child process, each in its own fresh working directory and with file descriptor 2 redirected
to its own file (so that C-level writes to stderr are caught too).  A representative subset (the
first invocation of every subcommand and every 16th one) also runs through the real ``fipscan``
console script, one process each, where it must in addition stay under 20 s and 2 GB (peak RSS from
``os.wait4`` in a small wrapper process; the address space is capped at 8 GB with RLIMIT_AS so that a
runaway allocation fails inside the child instead of taking the machine).  Refusals are cheap
(arguments are checked before JAX is imported); the batch keeps the file's cost to a few seconds
instead of one interpreter start-up per invocation.  A failure lists every offending invocation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

FIPSCAN = str(Path(sys.executable).with_name("fipscan"))
TOML = Path(__file__).resolve().parents[1] / "fipscan" / "experiments" / "na62_bd.toml"
S = ["--masses", "0.1:0.5:8", "--couplings", "1e-7:1e-4:10"]
WALL_LIMIT_S = 20.0
RSS_LIMIT_KB = 2 * 1024 * 1024

# (arguments, needles): {d} is a fresh folder per invocation (also its working directory), {f} an
# existing text file, {bin} a binary file, {toml:...} an experiment TOML with one edit, {ro} a folder
# nothing can be written to.
CASES: list[tuple[list[str], list[str]]] = [
    # --- scan: grids
    (["scan", "--masses", "0.5:0.1:10"], ["--masses", "lo < hi"]),
    (["scan", "--masses", "0.1:0.5"], ["--masses", "lo:hi:n"]),
    (["scan", "--masses", "0.1:0.5:8:9"], ["--masses"]),
    (["scan", "--masses", "a:0.5:8"], ["--masses", "numbers"]),
    (["scan", "--masses", "0.1:0.5:x"], ["--masses", "integer"]),
    (["scan", "--masses", "0.1:0.5:2.5"], ["--masses", "integer"]),
    (["scan", "--masses", "0.1:0.5:1"], ["--masses", "n >= 2"]),
    (["scan", "--masses", "0:0.5:8"], ["--masses", "positive"]),
    (["scan", "--masses=-0.1:0.5:8"], ["--masses", "positive"]),
    (["scan", "--masses", "0.1:inf:8"], ["--masses"]),
    (["scan", "--masses", ""], ["--masses"]),
    (["scan", "--masses", "0.1:1:1000000000"], ["--masses", "points"]),
    (["scan", "--masses", "0.1:1:100000", "--couplings", "1e-9:1e-3:100000"], ["--masses", "gib"]),
    (["scan", "--masses", "0.1:1:5000", "--couplings", "1e-9:1e-3:90000"], ["cells"]),
    (["scan", "--couplings", "0:1e-3:10"], ["--couplings", "positive"]),
    (["scan", "--couplings", "1e-3:1e-7:10"], ["--couplings", "lo < hi"]),
    (["scan", "--couplings", "1e-7:1e-3"], ["--couplings", "lo:hi:n"]),
    (["scan", "--couplings", "1e-7:1e-3:1"], ["--couplings", "n >= 2"]),
    (["scan", "--couplings", "1e-7:1e-3:10000000"], ["--couplings", "points"]),
    (["scan", "--couplings", "-1e-7:1e-3:10"], ["--couplings"]),
    # --- scan: numbers
    (["scan", *S, "--pot", "0"], ["--pot", "positive"]),
    (["scan", *S, "--pot", "nan"], ["--pot", "nan"]),
    (["scan", *S, "--pot", "inf"], ["--pot"]),
    (["scan", *S, "--pot", "1e300"], ["--pot", "physical"]),
    (["scan", *S, "--pot", "lots"], ["--pot", "invalid float"]),
    (["scan", *S, "--projection", "0"], ["--projection", "positive"]),
    (["scan", *S, "--projection", "1e300"], ["--projection"]),
    (["scan", *S, "--projection", "1e18", "--projection", "1e18"], ["--projection", "contour_pot1e18.csv"]),
    (["scan", *S, "--projection", "1.23441e18", "--projection", "1.23449e18"], ["--projection", "contour_pot1.234e18.csv"]),
    (["scan", *S, "--observed", "-1"], ["--observed"]),
    (["scan", *S, "--observed", "2.5"], ["--observed", "invalid int"]),
    (["scan", *S, "--background", "-1"], ["--background", "non-negative"]),
    (["scan", *S, "--background", "nan"], ["--background"]),
    (["scan", *S, "--background-uncertainty", "0.5"], ["--background-uncertainty", "--background"]),
    (["scan", *S, "--background", "1", "--background-uncertainty", "-0.5"], ["--background-uncertainty"]),
    (["scan", *S, "--background", "0", "--background-uncertainty", "0.5"], ["--background-uncertainty"]),
    (["scan", *S, "--method", "fc", "--background", "1", "--background-uncertainty", "0.5"],
     ["--background-uncertainty", "--method cls"]),
    (["scan", *S, "--cl", "0"], ["--cl"]),
    (["scan", *S, "--cl", "90"], ["--cl"]),
    (["scan", *S, "--method", "bayes"], ["--method", "invalid choice"]),
    (["scan", *S, "--background-mode", "double"], ["--background-mode"]),
    # --- scan: names
    (["scan", *S, "--channels", "MUMU"], ["final state", "mumu"]),
    (["scan", *S, "--channels", "mumu,mumu"], ["--channels", "twice"]),
    (["scan", *S, "--channels", ""], ["--channels", "empty"]),
    (["scan", *S, "--channels", ",mumu"], ["--channels", "empty"]),
    (["scan", *S, "--channels", "electrons"], ["final state", "electrons"]),
    (["scan", *S, "--channels", "all,ee"], ["final state", "all"]),
    (["scan", *S, "--model", "nope"], ["--model", "nope"]),
    (["scan", *S, "--model", ""], ["--model"]),
    (["scan", *S, "--model", "no_such_module:Model"], ["model", "no_such_module"]),
    (["scan", *S, "--experiment", "ship-of-theseus"], ["experiment", "ship-of-theseus"]),
    (["scan", *S, "--experiment", "{d}/missing.toml"], ["missing.toml"]),
    (["scan", *S, "--experiment", "{bin}"], ["bin"]),
    (["scan", *S, "--experiment", "{toml:pot = 1.4e17=>pot = \"1.4e17\"}"], ["beam.pot"]),
    (["scan", *S, "--experiment", "{toml:pot = 1.4e17=>pot = -1.4e17}"], ["beam.pot"]),
    (["scan", *S, "--experiment", "{toml:pot = 1.4e17=>pot = 1e31}"], ["beam.pot"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--experiment", "{toml:energy_gev = 400.0=>energy_gev = 1e300}"],
     ["beam.energy_gev"]),
    (["scan", *S, "--experiment", "{toml:pot = 1.4e17=>}"], ["beam.pot"]),
    (["scan", *S, "--experiment", "{toml:pot = 1.4e17=>pot = 1.4e17\nbogus_key = 1}"], ["bogus_key"]),
    # --- scan: experiment values of the wrong type, range or relation (kind 1), refused at load
    (["scan", *S, "--experiment", "{toml:production_z = 23.070=>production_z = [1, 2]}"],
     ["geometry.production_z", "must be a number"]),
    (["scan", *S, "--experiment", "{toml:r_min = 0.10\nr_max = 1.0=>r_min = 2.0\nr_max = 1.0}"],
     ["detector.straw1.r_min", "below r_max"]),
    (["scan", *S, "--experiment",
      "{toml:[efficiency]\nee = 0.14=>[efficiency_renamed]\nee = 0.14}"],
     ["missing key 'efficiency'"]),
    (["scan", *S, "--experiment", "{toml:mass_max_gev = 2.0=>mass_max_gev = 0.2}"],
     ["binning.acceptance.mass_max_gev", "threshold"]),
    (["scan", *S, "--experiment", "{toml:n_z = 32=>n_z = 4000}"], ["binning.n_momentum", "bins"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--experiment", "{toml:charged = [102.425, 182.0]=>charged = [102.425, 200.0]}"],
     ["geometry.decay_volumes.charged", "beyond"]),
    (["scan", *S, "--bogus-flag"], ["unrecognized", "--bogus-flag"]),
    (["scan", *S, "--masses"], ["--masses", "expected one argument"]),
    # --- scan: output targets and files
    (["scan", *S, "-o", ""], ["-o/--output", "empty"]),
    (["scan", *S, "-o", "{f}"], ["-o/--output", "not a directory"]),
    (["scan", *S, "-o", "{f}/sub"], ["-o/--output"]),
    (["scan", *S, "-o", "{ro}/out"], ["-o/--output", "cannot write"]),
    (["scan", *S, "-o", "{notaset}"], ["-o/--output", "not written by a fipscan scan"]),  # kind 9
    (["scan", *S, "-o", "."], ["-o/--output", "working folder"]),
    (["scan", *S, "--compare", "{d}/none.csv"], ["--compare", "does not exist"]),
    (["scan", *S, "--compare", "{bin}"], ["--compare", "utf-8"]),
    (["scan", *S, "--compare", "{d}"], ["--compare", "directory"]),
    (["scan", *S, "--compare", "/dev/null"], ["--compare", "regular file"]),
    (["scan", *S, "--compare", "{f}"], ["comparison curve", "two points"]),
    (["scan", *S, "--compare", "{nancurve}"], ["{nancurve}", "line 2", "finite and positive"]),
    (["scan", *S, "--compare", "{negcurve}"], ["{negcurve}", "line 3", "finite and positive"]),
    (["scan", *S, "-o", "{dangling}"], ["-o/--output", "dangling"]),
    (["scan", *S, "--experiment", "{d}"], ["--experiment", "is a directory"]),
    (["scan", *S, "--pot", "1e18", "--projection", "1e18"], ["--projection", "primary POT"]),
    (["scan", *S, "--projection", "1.4e17"], ["--projection", "primary POT"]),  # the experiment's POT
    (["scan", *S, "--method", "fc", "--background", "1e14"], ["--method fc", "--background", "--method cls"]),
    (["scan", *S, "--method", "fc", "--background", "900", "--projection", "1.4e18"],
     ["--method fc", "--background", "1.4e+18 POT"]),
    (["scan", *S, "--method", "fc", "--observed", "5000"], ["--method fc", "--observed 5000"]),
    # --- scan: checks that need the model (JAX), still before the first progress line
    (["scan", "--masses", "0.0001:0.5:10", "--couplings", "1e-7:1e-4:10"], ["--masses", "outside"]),
    (["scan", "--masses", "0.1:2.0000001:10", "--couplings", "1e-7:1e-4:10"], ["--masses", "2.0000001"]),
    (["scan", "--masses", "0.1:0.5:8", "--couplings", "1e-7:1e300:10"], ["--couplings", "physical bound"]),
    (["scan", "--model", "dark-scalar", "--masses", "0.1:0.5:8", "--couplings", "1e-9:2:10"],
     ["--couplings", "physical bound"]),
    (["scan", "--model", "dark-scalar", "--masses", "1:3:4", "--couplings", "1e-9:1e-6:10"],
     ["--masses", "mass_max_gev"]),
    (["scan", *S, "--model-option", "colour=red"], ["option", "colour"]),
    # --- info
    (["info", "--mass", "-0.1", "--coupling", "1e-6"], ["--mass", "positive"]),
    (["info", "--mass", "0", "--coupling", "1e-6"], ["--mass"]),
    (["info", "--mass", "nan", "--coupling", "1e-6"], ["--mass", "nan"]),
    (["info", "--mass", "abc", "--coupling", "1e-6"], ["--mass", "number"]),
    (["info", "--mass", "", "--coupling", "1e-6"], ["--mass"]),
    (["info", "--mass", "0.3", "--coupling", "0"], ["--coupling", "positive"]),
    (["info", "--mass", "0.3", "--coupling=-1e-6"], ["--coupling"]),
    (["info", "--mass", "0.3"], ["required", "--coupling"]),
    (["info", "--coupling", "1e-6"], ["required", "--mass"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--model", "axion-of-doom"], ["--model", "axion-of-doom"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--experiment", "nowhere"], ["experiment", "nowhere"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--experiment", "{d}"], ["--experiment", "is a directory"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--experiment", "{toml:energy_gev = 400=>energy_gev = -400}"], ["beam.energy_gev"]),
    (["info", "--mass", "5", "--coupling", "1e-6"], ["--mass", "outside"]),
    (["info", "--mass", "0.3", "--coupling", "1e300"], ["--coupling", "physical bound"]),
    (["info", "--mass", "0.3", "--coupling", "1e-6", "--bogus"], ["unrecognized"]),
    # --- list
    (["list"], ["the following arguments are required", "what"]),
    (["list", "detectors"], ["invalid choice", "detectors"]),
    (["list", "models", "extra"], ["unrecognized", "extra"]),
    (["list", "models", "--bogus"], ["unrecognized"]),
    # --- limit
    (["limit"], ["required", "--observed"]),
    (["limit", "--observed", "-1"], ["--observed"]),
    (["limit", "--observed", "2.5"], ["--observed", "integer"]),
    (["limit", "--observed", "abc"], ["--observed"]),
    (["limit", "--observed", "inf"], ["--observed"]),
    (["limit", "--observed", "1e16"], ["n_obs", "1e+15"]),
    (["limit", "--observed", "3", "--background", "-1"], ["--background"]),
    (["limit", "--observed", "3", "--background", "nan"], ["--background"]),
    (["limit", "--observed", "3", "--background", "inf"], ["--background"]),
    (["limit", "--observed", "3", "--background", "1e300"], ["background", "1e+300"]),
    (["limit", "--observed", "3", "--background-uncertainty", "-1"], ["--background-uncertainty"]),
    (["limit", "--observed", "3", "--background-uncertainty", "1"], ["--background-uncertainty", "--background >"]),
    (["limit", "--observed", "3", "--cl", "1.5"], ["--cl"]),
    (["limit", "--observed", "3", "--cl", "nan"], ["--cl"]),
    (["limit", "--observed", "3", "--method", "bayes"], ["--method", "invalid choice"]),
    (["limit", "--observed", "3", "--method", "fc", "--background", "1", "--background-uncertainty", "0.5"],
     ["--background-uncertainty", "--method fc"]),
    (["limit", "--observed", "3", "--method", "fc", "--background-uncertainty", "0.5"],
     ["--background-uncertainty", "--method fc"]),
    (["limit", "--observed", "3", "--method", "fc", "--background", "1e6"], ["--method fc", "--background 1000000.0", "--method cls"]),
    (["limit", "--observed", "5000", "--method", "fc"], ["--method fc", "--observed 5000"]),
    # --- discovery
    (["discovery"], ["required", "--background"]),
    (["discovery", "--background", "-1"], ["--background"]),
    (["discovery", "--background", "nan"], ["--background"]),
    (["discovery", "--background", "1e300"], ["background", "1e+300"]),
    (["discovery", "--background", "1", "--sigma", "0"], ["--sigma", "positive"]),
    (["discovery", "--background", "1", "--sigma", "nan"], ["--sigma"]),
    (["discovery", "--background", "1", "--sigma", "1e300"], ["sigma", "100"]),
    (["discovery", "--background", "1", "--background-uncertainty", "-2"], ["--background-uncertainty"]),
    (["discovery", "--background", "0", "--background-uncertainty", "2"], ["background_uncertainty"]),
    (["discovery", "--background", "1", "--global"], ["--global", "--mass-window"]),
    (["discovery", "--background", "1", "--global", "--mass-window", "0.1:1"], ["--global", "--resolution"]),
    (["discovery", "--background", "1", "--global", "--mass-window", "1", "--resolution", "0.01"],
     ["--mass-window"]),
    (["discovery", "--background", "1", "--global", "--mass-window", "a:b", "--resolution", "0.01"],
     ["--mass-window"]),
    (["discovery", "--background", "1", "--global", "--mass-window", "1:0.1", "--resolution", "0.01"],
     ["--mass-window", "LO < HI"]),
    (["discovery", "--background", "1", "--global", "--mass-window=-1:1", "--resolution", "0.01"],
     ["--mass-window", "non-negative"]),
    (["discovery", "--background", "1", "--mass-window", "0.1:1"], ["--mass-window", "needs --global"]),
    (["discovery", "--background", "1", "--resolution", "0.01"], ["--resolution", "needs --global"]),
    (["discovery", "--background", "1", "--global", "--mass-window", "0.1:1", "--resolution", "0"],
     ["--resolution"]),
    # --- contour / optimise
    (["contour", "--tables", "old-tables.npz"], ["--tables", ".h5"]),
    (["contour", "--tables", "{d}/none.h5"], ["--tables", "does not exist"]),
    (["contour", "--tables", "{d}"], ["--tables"]),
    (["contour", "--save-tables", "tables.npz"], ["--save-tables", ".h5"]),
    (["contour", "--save-tables", "x.txt"], ["--save-tables", ".h5"]),
    (["contour", "--save-tables", "{d}/no/such/t.h5"], ["--save-tables", "does not exist"]),
    (["contour", "--save-tables", "{ro}/t.h5"], ["--save-tables"]),
    (["contour", "--save-tables", ""], ["--save-tables", "empty"]),
    (["contour", "-o", "x.png"], ["-o/--output", ".csv"]),
    (["contour", "-o", ""], ["-o/--output", "empty"]),
    (["contour", "-o", "{d}/no/such/p.csv"], ["-o/--output", "does not exist"]),
    (["contour", "-o", "{ro}/p.csv"], ["-o/--output"]),
    (["contour", "--pot", "nan"], ["--pot", "nan"]),
    (["contour", "--pot", "1e300"], ["--pot"]),
    (["contour", "--n-limit", "0"], ["--n-limit", "positive"]),
    (["contour", "--masses", "0.1:1:2"], ["--masses", "n >= 3"]),
    (["contour", "--masses", "0.1:1:10000000"], ["--masses", "points"]),
    (["contour", "--couplings", "1e-9:1e-3:4"], ["--couplings", "n >= 8"]),
    (["contour", "--couplings", "1e-3:1e-9"], ["--couplings"]),
    (["contour", "--channels", "ee,ee"], ["--channels", "twice"]),
    (["contour", "--channels", "EE"], ["final state", "EE"]),
    (["contour", "--max-steps", "0"], ["--max-steps"]),
    (["contour", "--max-steps", "1e3"], ["--max-steps", "invalid int"]),
    (["contour", "--model", "nope"], ["--model", "nope"]),
    (["contour", "--experiment", "nope"], ["experiment", "nope"]),
    (["optimise", "--objective", "reach"], ["--objective reach", "--mass"]),
    (["optimise", "--mass", "0.1"], ["--mass", "reach"]),
    (["optimise", "--steps", "0"], ["--steps"]),
    (["optimise", "--steps", "100000"], ["--steps"]),
    (["optimise", "--range", "5"], ["--range"]),
    (["optimise", "--range", "90:80"], ["--range"]),
    (["optimise", "--constraint", "length-fixed", "--length", "-3"], ["--length", "positive"]),
    (["optimise", "--length", "30"], ["--length", "length-fixed"]),
    (["optimise", "--parameter", "magnet"], ["--parameter", "invalid choice"]),
    (["optimise", "--objective", "reach", "--mass", "-1"], ["--mass"]),
    (["optimise", "--save-tables", "t.npz"], ["--save-tables", ".h5"]),
    (["optimize", "--couplings", "1e-9:1e-3:2"], ["--couplings"]),
    # optimise: design range, length and mass against the experiment's decay cells / the mass grid,
    # refused before the yield tables are built
    (["optimise", *S, "--range", "10:100000", "--steps", "2"], ["--range", "102.425"]),
    (["optimise", *S, "--constraint", "length-fixed", "--length", "1e9", "--steps", "2"], ["--length", "79.575"]),
    (["optimise", *S, "--objective", "reach", "--mass", "1.5", "--steps", "2"], ["--mass 1.5", "--masses"]),
    # --- spectra
    (["spectra", "info", "/dev/null"], ["/dev/null", "regular file"]),
    (["spectra", "info", "{d}/none.h5"], ["none.h5", "does not exist"]),
    (["spectra", "info", "{d}"], ["directory"]),
    (["spectra", "info", "{f}"], ["{f}"]),
    (["spectra", "info", "{bin}"], ["{bin}"]),
    (["spectra", "bogus"], ["invalid choice", "bogus"]),
    (["spectra", "generate", "--events", "-5"], ["--events"]),
    (["spectra", "generate", "--events", "2.5"], ["--events"]),
    (["spectra", "generate", "--seed", "-1"], ["--seed"]),
    (["spectra", "generate", "--workers", "100000", "--events", "1000"], ["--workers", "per CPU"]),
    (["spectra", "generate", "--sigma-ccbar-ub", "nan"], ["--sigma-ccbar-ub"]),
    (["spectra", "generate", "--target", "lead"], ["--target", "invalid choice"]),
    (["spectra", "generate", "-o", "{d}/spectra.txt"], ["-o/--output", ".h5"]),
    (["spectra", "generate", "-o", "{d}/no/such/s.h5"], ["-o/--output", "does not exist"]),
    (["spectra", "generate", "-o", ""], ["-o/--output", "empty"]),
    # kind 7: option names, not the API's field names
    (["spectra", "generate", "--chunk-events", "0"], ["--chunk-events"]),
    (["spectra", "generate", "--events", "0", "--ccbar-events", "0", "--bbbar-events", "0"], ["--events"]),
    (["spectra", "generate", "--workers", "0"], ["--workers"]),
    (["spectra", "generate", "--events", "1e40"], ["--events", "1e+12"]),
    # --- cache
    (["cache", "info", "ab"], ["cache key", "ab"]),
    (["cache", "info", "ffffffffffff"], ["ffffffffffff"]),
    (["cache", "info"], ["required", "key"]),
    (["cache", "bogus"], ["invalid choice", "bogus"]),
    (["cache", "list", "--bogus"], ["unrecognized"]),
    (["cache", "clear", "extra"], ["unrecognized", "extra"]),
    # --- top level
    (["bench", "--quick"], ["invalid choice", "bench"]),
    (["--bogus"], ["unrecognized"]),
    (["scna"], ["invalid choice", "scna"]),
]


#: a small wrapper process: sets the limits, forks and execs the fipscan command, waits for it with
#: os.wait4 and writes its peak RSS [kB] and CPU seconds to the file named by argv[1], then exits with
#: its exit code.  Not ``preexec_fn`` (that runs Python between fork and exec in a multithreaded JAX
#: process, which can deadlock), and not a direct exec from the test process: Linux carries the parent's
#: peak RSS at fork into the child's ru_maxrss across exec, so the command would be charged with the
#: memory of the pytest worker that started it; forked from this small wrapper it is measured alone.
_LIMITS = ("import os, resource, sys; "
           "resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30)); "
           "resource.setrlimit(resource.RLIMIT_CPU, (60, 60)); "
           "pid = os.fork()\n"
           "if pid == 0:\n    os.execv(sys.argv[2], sys.argv[2:])\n"
           "_, status, u = os.wait4(pid, 0)\n"
           "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime + u.ru_stime}')\n"
           "sys.exit(os.waitstatus_to_exitcode(status))")


def _materialise(arg: str, d: Path, shared: dict) -> str:
    if arg.startswith("{toml:") and arg.endswith("}"):  # {toml:OLD=>NEW}: the shipped TOML with one edit
        target, _, replacement = arg[len("{toml:"):-1].partition("=>")
        text = TOML.read_text()
        assert target in text, target
        edited = d.parent / (d.name + ".toml")
        edited.write_text(text.replace(target, replacement, 1))
        return str(edited)
    return arg.format(d=d, **shared)


def _run(case, root: Path, shared: dict):
    args, needles = case
    d = Path(tempfile.mkdtemp(dir=root))
    argv = [_materialise(a, d, shared) for a in args]
    needles = [n.format(d=d, **shared) for n in needles]
    env = dict(os.environ, FIPSCAN_CACHE=str(root / "cache"))
    t0 = time.perf_counter()
    with open(d.parent / (d.name + ".err"), "w+b") as err, open(os.devnull, "wb") as out:
        usage_file = d.parent / (d.name + ".usage")
        proc = subprocess.Popen([sys.executable, "-c", _LIMITS, str(usage_file), FIPSCAN, *argv], stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL, cwd=d, env=env)
        killer = threading.Timer(3 * WALL_LIMIT_S, proc.kill)
        killer.start()
        try:
            proc.wait()
        finally:
            killer.cancel()
        # no usage file: the wrapper was killed (the wall-time guard) before the command ended
        maxrss_kb, cpu = ((float(x) for x in usage_file.read_text().split()) if usage_file.is_file()
                          else (0.0, 0.0))
        wall = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    problems = _check(proc.returncode, stderr, needles, d)
    if wall > WALL_LIMIT_S:
        problems.append(f"{wall:.1f} s")
    if maxrss_kb > RSS_LIMIT_KB:
        problems.append(f"{maxrss_kb / 1024:.0f} MB")
    return argv, problems, stderr.strip(), cpu, wall


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad-input-files")
    f = base / "notes.txt"
    f.write_text("just one line of text\n")
    b = base / "blob.bin"
    b.write_bytes(bytes(range(256)) * 4)
    if os.geteuid() == 0:
        ro = "/proc/fipscan-not-writable"  # root ignores permission bits; /proc takes no new files
    else:
        ro_dir = base / "read-only"
        ro_dir.mkdir()
        ro_dir.chmod(0o555)
        ro = str(ro_dir)
    nan_curve = base / "nan-curve.csv"
    nan_curve.write_text("mass,coupling\n0.1,nan\n0.2,1e-6\n0.3,2e-6\n")
    neg_curve = base / "neg-curve.csv"
    neg_curve.write_text("0.1,1e-6\n0.2,1e-6\n0.3,-1e-6\n")
    dangling = base / "dangling"
    dangling.symlink_to(base / "nowhere")
    return {"f": str(f), "bin": str(b), "ro": ro, "notaset": str(base),  # base holds notes.txt
            "nancurve": str(nan_curve), "negcurve": str(neg_curve), "dangling": str(dangling)}


def test_at_least_150_invocations_cover_every_subcommand():
    assert len(CASES) >= 150
    firsts = {args[0] for args, _ in CASES}
    assert {"scan", "info", "list", "limit", "discovery", "contour", "optimise", "spectra", "cache"} <= firsts


#: the batch runner: argv[1] is a JSON file of [[argv, folder], ...]; for each it changes into the
#: folder, points fd 2 at <folder>.err, calls fipscan.cli.main.main(argv) and records the exit code
#: (an exception escaping main is printed as a traceback into that file and recorded as exit 99);
#: the results go to argv[2] as JSON [[code, seconds], ...].
_BATCH = """
import json, os, sys, time, traceback
from fipscan.cli.main import main
cases = json.load(open(sys.argv[1]))
out = []
saved = os.dup(2)
for argv, folder in cases:
    os.chdir(folder)
    sys.stderr.flush()
    with open(folder + '.err', 'wb') as err:
        os.dup2(err.fileno(), 2)
        t0 = time.perf_counter()
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 99
        sys.stderr.flush()
        os.dup2(saved, 2)
    out.append([code, time.perf_counter() - t0])
json.dump(out, open(sys.argv[2], 'w'))
"""


def _check(returncode: int, stderr: str, needles, d: Path) -> list[str]:
    problems = []
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if returncode != 2:
        problems.append(f"exit {returncode}")
    if len(lines) != 1:
        problems.append(f"{len(lines)} stderr lines")
    if "Traceback" in stderr:
        problems.append("traceback")
    for n in needles:
        if not lines or n.lower() not in lines[0].lower():
            problems.append(f"no {n!r} in the message")
    left = sorted(p.name for p in d.iterdir())
    if left:
        problems.append(f"left files {left}")
    return problems


def _subset() -> list:
    """The invocations also run through the console script: each subcommand's first and every 16th."""
    firsts = {}
    for i, (args, _) in enumerate(CASES):
        firsts.setdefault(args[0], i)
    return [c for i, c in enumerate(CASES) if i in firsts.values() or i % 16 == 0]


def test_every_bad_invocation_is_refused_in_one_line(shared, tmp_path):
    root = tmp_path / "batch"
    root.mkdir()
    prepared = []
    for args, needles in CASES:
        d = Path(tempfile.mkdtemp(dir=root))
        prepared.append(([_materialise(a, d, shared) for a in args], [n.format(d=d, **shared) for n in needles], d))
    todo, done = root / "cases.json", root / "results.json"
    todo.write_text(json.dumps([[argv, str(d)] for argv, _, d in prepared]))
    env = dict(os.environ, FIPSCAN_CACHE=str(root / "cache"))
    proc = subprocess.run([sys.executable, "-c", _BATCH, str(todo), str(done)], env=env, cwd=root,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(done.read_text())
    assert len(results) == len(CASES)
    failures = []
    for (argv, needles, d), (code, _seconds) in zip(prepared, results):
        stderr = Path(str(d) + ".err").read_text(errors="replace")
        problems = _check(code, stderr, needles, d)
        if problems:
            failures.append(f"fipscan {' '.join(argv)}: {', '.join(problems)}\n    stderr: {stderr.strip()[-400:]}")
    print(f"{len(results)} invocations in one process, slowest {max(r[1] for r in results):.2f} s")
    assert not failures, f"{len(failures)} of {len(CASES)} invocations misbehaved:\n" + "\n".join(failures)


def test_bad_invocations_through_the_console_script_within_time_and_memory(shared, tmp_path):
    subset = _subset()
    assert len(subset) >= 20 and {a[0] for a, _ in subset} == {a[0] for a, _ in CASES}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: _run(c, tmp_path, shared), subset))
    failures = [f"fipscan {' '.join(argv)}: {', '.join(problems)}\n    stderr: {stderr[-400:]}"
                for argv, problems, stderr, _cpu, _wall in results if problems]
    cpu = sum(r[3] for r in results)
    print(f"{len(results)} invocations, {cpu:.1f} CPU-s, slowest {max(r[4] for r in results):.1f} s")
    assert not failures, f"{len(failures)} of {len(subset)} invocations misbehaved:\n" + "\n".join(failures)
