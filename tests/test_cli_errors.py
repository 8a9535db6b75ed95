"""Bad input on the command line: one line on stderr naming the problem, exit code 2, no traceback,
nothing half-written.  These run the ``fipscan`` entry point (``fipscan.cli.main.main``) in this process
(an uncaught exception fails the test); a sample also runs as the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_real(*args, cwd=None):
    """The real command in a subprocess."""
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "fipscan.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def run(*args, cwd=None):
    """The same entry point in this process: (returncode, stdout, stderr) like subprocess.run's result."""
    from fipscan.testing import run_cli

    return run_cli(*args, cwd=cwd)


def assert_one_line_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["info", "--mass", "-0.1", "--coupling", "1e-6"], ["mass", "positive"]),
        (["info", "--mass", "0", "--coupling", "1e-6"], ["mass"]),
        (["info", "--mass", "nan", "--coupling", "1e-6"], ["mass", "nan"]),
        (["info", "--mass", "5", "--coupling", "1e-6"], ["outside"]),
        (["info", "--mass", "0.3", "--coupling", "0"], ["coupling", "positive"]),
        (["info", "--mass", "0.3", "--coupling=-1e-6"], ["coupling"]),
        (["info", "--mass", "0.3", "--coupling", "-1e-6"], ["coupling", "expected one argument"]),
        (["info", "--mass", "0.3"], ["required", "--coupling"]),
        (["scan", "--bogus-flag"], ["unrecognized"]),
        (["info", "--mass", "0.3", "--coupling", "abc"], ["coupling", "number"]),
        (["info", "--model", "axion-of-doom", "--mass", "0.3", "--coupling", "1e-6"], ["unknown model"]),
        (["scan", "--masses", "0.5:0.1:10"], ["lo < hi"]),
        (["scan", "--masses", "0.1:0.5"], ["lo:hi:n"]),
        (["scan", "--couplings", "0:1e-3:10"], ["positive"]),
        (["scan", "--masses", "0.1:0.5:1"], ["n >= 2"]),
        (["scan", "--experiment", "ship-of-theseus"], ["unknown experiment"]),
        (["scan", "--model", "nope"], ["unknown model"]),
        (["scan", "--masses", "0.0001:0.5:10"], ["outside"]),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needles, tmp_path):
    res = run(*args, "-o", str(tmp_path / "out")) if args[0] == "scan" else run(*args)
    assert_one_line_error(res, *needles)
    if args[0] == "scan":
        assert not (tmp_path / "out" / "contour.csv").exists()


@pytest.mark.parametrize("args, needles", [
    (["info", "--mass", "nan", "--coupling", "1e-6"], ["mass", "nan"]),
    (["scan", "--bogus-flag"], ["unrecognized"]),
    (["scan", "--masses", "0.0001:0.5:10", "-o", "unused"], ["outside"]),
])
def test_bad_input_as_the_real_command(args, needles, tmp_path):
    """The same refusals from the installed command in its own process (exit status, stderr)."""
    assert_one_line_error(run_real(*args, cwd=tmp_path), *needles)


def test_malformed_toml_is_reported(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("name = 'x'\n[beam\nenergy_gev = 400\n")
    res = run("scan", "--experiment", str(bad), "-o", str(tmp_path / "out"))
    assert_one_line_error(res, "malformed toml", "broken.toml")


def test_missing_key_in_experiment_toml_is_named(tmp_path):
    src = Path(__file__).resolve().parents[1] / "fipscan" / "experiments" / "na62_bd.toml"
    text = src.read_text().replace("pot = 1.4e17", "")
    bad = tmp_path / "nopot.toml"
    bad.write_text(text)
    res = run("scan", "--experiment", str(bad), "-o", str(tmp_path / "out"))
    assert_one_line_error(res, "beam.pot")


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    res = run("scan", "--masses", "0.2:0.5:4", "--couplings", "1e-8:1e-4:8", "-o", str(blocker / "out"))
    assert_one_line_error(res, "output")
    assert blocker.read_text() == "not a directory"


def test_version_and_help():
    from fipscan import __version__

    res = run("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"fipscan {__version__}"
    res = run("-h")
    assert res.returncode == 0
    for cmd in ("scan", "info"):
        assert cmd in res.stdout



@pytest.mark.parametrize("args, needles", [
    (["contour", "--tables", "old-tables.npz"], ["old-tables.npz", "hdf5", ".h5"]),
    (["contour", "--save-tables", "tables.npz"], ["--save-tables", "tables.npz", ".h5"]),
    (["contour", "--pot", "nan"], ["--pot", "nan"]),
    (["contour", "--n-limit", "0"], ["--n-limit", "positive"]),
    (["optimise", "--constraint", "length-fixed", "--length", "-3"], ["--length", "positive"]),
])
def test_contour_table_files_and_numbers(args, needles, tmp_path):
    res = run(*args, cwd=tmp_path)
    assert_one_line_error(res, *needles)
    assert list(tmp_path.iterdir()) == []  # nothing written, no table built


def test_contour_refuses_a_foreign_table_file(tmp_path):
    import h5py

    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f.create_dataset("masses", data=[0.1, 0.2])
    res = run("contour", "--tables", str(tmp_path / "foreign.h5"), "-o", str(tmp_path / "p.csv"))
    assert_one_line_error(res, "foreign.h5", "not written by fipscan")
    assert not (tmp_path / "p.csv").exists()


def test_bench_is_not_a_cli_command():
    res = run("bench", "--quick")
    assert_one_line_error(res, "invalid choice", "bench")
    assert "bench" not in run("-h").stdout



# ------------------------------------------------------------------ issue 18: kinds 4, 6, 7, 10
def _refusal_without_jax(*args, cwd):
    """Run the entry point in a fresh interpreter; report (exit code, stderr, whether JAX got imported)."""
    code = ("import sys; from fipscan.cli.main import main; rc = main(sys.argv[1:]); "
            "print('jax' in sys.modules); sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    return res.returncode, res.stderr, res.stdout.strip() == "True"


@pytest.mark.parametrize("args, needles", [
    (["scan", "--channels", "MUMU"], ["mumu"]),                       # issue example (took ~8 s)
    (["scan", "--channels", "mumu,mumu"], ["--channels", "twice"]),    # kind 4
    (["scan", "-o", ""], ["-o/--output", "empty"]),                    # kind 4: was the current folder
    (["scan", "--background-uncertainty", "0.3"], ["--background"]),   # kind 4: was dropped
    (["scan", "--projection", "1e18", "--projection", "1.0e18"], ["contour_pot1e18.csv"]),
    (["contour", "--save-tables", "x.txt"], ["--save-tables"]),        # kind 6
    (["scan", "--compare", "/dev/null"], ["--compare", "regular file"]),
])
def test_refused_before_jax_is_imported(args, needles, tmp_path):
    """Kind 6: arguments that need no model are checked before JAX is imported (a refusal costs well
    under a second), so nothing is built and no progress line is printed."""
    code, err, jax_loaded = _refusal_without_jax(*args, cwd=tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert not jax_loaded
    for n in needles:
        assert n.lower() in err.lower()
    assert list(tmp_path.iterdir()) == []


def test_read_only_output_refused_before_the_work(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/fipscan-read-only/out"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = str(ro / "out")
    code, err, jax_loaded = _refusal_without_jax("scan", "-o", target, cwd=tmp_path)
    assert code == 2 and "-o/--output" in err and "cannot write" in err and not jax_loaded


def test_projection_file_names_keep_distinct_values_apart():
    from fipscan.io.results import pot_file_name

    assert pot_file_name(1e18) == "contour_pot1e18.csv"
    assert pot_file_name(1.4e18) == "contour_pot1.4e18.csv"
    assert pot_file_name(1.00001e18) != pot_file_name(1e18)
    assert pot_file_name(2.5e17) == "contour_pot2.5e17.csv"


@pytest.mark.parametrize("mass, shown", [("2.0000001", "2.0000001"), ("0.00099999", "0.00099999"),
                                         ("2.000000000001", "2.000000000001")])
def test_mass_at_the_range_edge_is_printed_with_its_digits(mass, shown):
    """Kind 7: %g printed 2.0000001 as 2, hiding why it is outside [0.001, 2]."""
    from fipscan.errors import InputError
    from fipscan.grid import check_mass

    with pytest.raises(InputError, match=shown.replace(".", r"\.")):
        check_mass(float(mass), 0.001, 2.0, what="--mass")


@pytest.mark.parametrize("args, needles", [
    (["spectra", "info", "/dev/null"], ["/dev/null", "regular file"]),  # issue: "does not exist"
    (["spectra", "info", "."], ["directory"]),
    (["scan", "--compare", "blob.bin"], ["--compare", "utf-8"]),       # issue: a codec message
])
def test_errors_name_the_file_and_the_rule(args, needles, tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"\x00\xff\xfe" * 50)
    assert_one_line_error(run(*args, cwd=tmp_path), *needles)


@pytest.mark.parametrize("coupling", ["1e-300", "1e-200", "5e-324"])
def test_info_json_is_strict_json_at_tiny_couplings(coupling):
    """Kind 10: `info --coupling 1e-300 --json` printed Infinity (c tau of a zero width)."""
    import json

    def refuse(token):
        raise AssertionError(f"non-JSON constant {token}")

    res = run("info", "--mass", "0.3", "--coupling", coupling, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout, parse_constant=refuse)
    assert doc["coupling"] == float(coupling)


@pytest.mark.parametrize("coupling", ["1e300", "1.5", "1.0000001"])
def test_coupling_above_the_physical_bound_is_refused(coupling):
    """Kind 3: epsilon <= 1 for the dark photon (BC1); 1e300 gave inf production rates."""
    assert_one_line_error(run("info", "--mass", "0.3", "--coupling", coupling), "--coupling", "physical bound")


@pytest.mark.parametrize("model, couplings", [("dark-photon", (1e-6, 2.0)), ("dark-scalar", (1e-9, 1.5))])
def test_api_scan_refuses_couplings_above_the_physical_bound(model, couplings):
    """Kind 3 in the API: epsilon <= 1 (BC1), sin^2 theta <= 1 (BC4), before any table is built."""
    from fipscan.errors import InputError
    from fipscan.grid import Grid
    from fipscan.scanner import scan

    with pytest.raises(InputError, match="coupling"):
        scan(model, "na62-bd", Grid.log(0.1, 0.3, 3, *couplings, 4))


def test_api_scan_refuses_masses_beyond_the_acceptance_tables():
    """The NA62-BD acceptance tables end at 2 GeV; the dark scalar's range goes to 4.5 GeV."""
    from fipscan.errors import InputError
    from fipscan.grid import Grid
    from fipscan.scanner import scan

    with pytest.raises(InputError, match="mass_max_gev = 2"):
        scan("dark-scalar", "na62-bd", Grid.log(1.0, 3.0, 3, 1e-9, 1e-6, 4))


def test_comparison_curve_needs_finite_positive_points_named_by_line(tmp_path):
    from fipscan.errors import InputError
    from fipscan.plotting import read_curve

    for rows, line in (("0.1,nan\n0.2,1e-6\n0.3,1e-6\n", 1), ("0.1,1e-6\n0.2,1e-6\n0.3,-1e-6\n", 3),
                       ("m,g\n0.1,1e-6\ninf,1e-6\n", 3), ("0.1,1e-6\n0,1e-6\n", 2)):
        f = tmp_path / "curve.csv"
        f.write_text(rows)
        with pytest.raises(InputError, match=rf"curve.csv line {line}: .*finite and positive"):
            read_curve(f)
    f.write_text("mass,coupling\n0.1,1e-6\n0.2,2e-6\n")
    assert read_curve(f).shape == (2, 2)


def test_pre_jax_checks_of_paths_and_fc_counts(tmp_path):
    from fipscan.cli import _args
    from fipscan.errors import InputError

    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    for check in (lambda: _args.output_dir("-o/--output", link),
                  lambda: _args.output_file("-o/--output", link, (".csv",))):
        with pytest.raises(InputError, match="-o/--output .* dangling symbolic link"):
            check()
    with pytest.raises(InputError, match="--experiment .* is a directory"):
        _args.experiment("--experiment", tmp_path)
    _args.experiment("--experiment", "na62-bd")
    _args.fc_counts(1000, [(1000.0, ""), (None, "")])
    with pytest.raises(InputError, match="--observed 1001 .*--method fc"):
        _args.fc_counts(1001, [])
    with pytest.raises(InputError, match=r"--background 2000.0 \(at 2 POT\) .*--method cls"):
        _args.fc_counts(0, [(2000.0, " (at 2 POT)")])


def test_a_failed_first_scan_leaves_no_empty_output_folder(tmp_path, monkeypatch, capsys):
    """A full disk (or any failure) during a first run: one line, and no empty -o folder left behind;
    a folder that existed before is kept."""
    import errno

    from fipscan.cli.main import main

    def full_disk(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x" / "scan.h5"))

    monkeypatch.setattr("fipscan.scanner.scan", full_disk)
    out = tmp_path / "new"
    assert main(["scan", "--masses", "0.1:0.5:4", "--couplings", "1e-7:1e-4:6", "-o", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err and not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    assert main(["scan", "--masses", "0.1:0.5:4", "--couplings", "1e-7:1e-4:6", "-o", str(kept)]) == 2
    assert kept.is_dir()
