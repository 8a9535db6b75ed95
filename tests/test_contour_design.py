"""Design optimisation: projected Adam against a brute-force scan; constraints; the optimise CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fipscan.cli.main import main as cli_main
from fipscan.contour import contour_problem, optimise_decay_volume_start, scan_decay_volume_start
from fipscan.contour.design import design_objective
from fipscan.errors import InputError
from fipscan.testing import toy_tables

POT = 1e18
N_LIMIT = 2.3
LENGTH = 30.0  # m, the sliding decay volume of the length-fixed problem


@pytest.fixture(scope="module")
def tables():
    # acceptance rising to a plateau over ~20 m: an interior optimum for a sliding 30 m volume
    return toy_tables(np.geomspace(0.01, 2.0, 24), n_p=16, n_z=8, acceptance_rise=20.0)


@pytest.fixture(scope="module")
def problem(tables):
    return contour_problem(tables, None, pot=POT, n_limit=N_LIMIT, couplings=(1e-10, 1e-2), n_grid=48)


def _brute_optimum(problem, constraint, lo, hi, n=41, length=LENGTH):
    """Grid scan of the smooth objective, then a finer grid around the best point."""
    zs = np.linspace(lo, hi, n)
    v = scan_decay_volume_start(problem, zs, constraint=constraint, length=length)
    k = int(np.argmax(v))
    h = zs[1] - zs[0]
    fine = np.linspace(max(lo, zs[k] - h), min(hi, zs[k] + h), 21)
    vf = scan_decay_volume_start(problem, fine, constraint=constraint, length=length)
    return fine[int(np.argmax(vf))], float(vf.max()), fine[1] - fine[0]


def test_adam_finds_the_interior_optimum_of_a_sliding_volume(problem):
    res = optimise_decay_volume_start(problem, constraint="length-fixed", length=LENGTH, steps=50)
    z_best, v_best, h = _brute_optimum(problem, "length-fixed", *res.bounds)
    print(f"\nlength-fixed: Adam {res.optimum:.3f} m (area {res.objective_smooth:.5f}), "
          f"brute force {z_best:.3f} m (area {v_best:.5f}); hard cuts {res.objective_hard:.5f}")
    assert not res.at_bound
    assert res.bounds[0] + 1.0 < res.optimum < res.bounds[1] - 1.0
    assert abs(res.optimum - z_best) <= 2 * h + 0.1
    assert res.objective_smooth >= v_best - 1e-4
    assert abs(res.objective_hard / res.objective_smooth - 1) < 1e-2  # hard cuts vs smooth relaxation
    assert res.history.shape == (51, 2) and np.all(np.isfinite(res.history))


def test_end_fixed_optimum_is_the_upstream_bound(problem):
    """More decay volume never hurts when the end is fixed: the projection must hold z at the bound."""
    res = optimise_decay_volume_start(problem, constraint="end-fixed", steps=30)
    z_best, v_best, _ = _brute_optimum(problem, "end-fixed", *res.bounds, n=11)
    assert res.at_bound and res.optimum == pytest.approx(res.bounds[0])
    assert z_best == pytest.approx(res.bounds[0])
    assert res.objective_smooth == pytest.approx(v_best, rel=1e-9)
    # at the tabulated geometry the smooth relaxation and the hard cuts coincide
    assert res.objective_hard == pytest.approx(res.reference_objective_hard, rel=1e-9)
    assert res.objective_smooth == pytest.approx(res.objective_hard, rel=1e-6)


def test_design_gradient_matches_finite_differences(problem):
    vg = design_objective(problem, "length-fixed", "area", None, LENGTH)
    for z in (85.0, 100.0):
        v, g = vg(z)
        fd = (vg(z + 1e-3)[0] - vg(z - 1e-3)[0]) / 2e-3
        assert float(g) == pytest.approx(float(fd), rel=1e-4)


def test_bad_design_inputs(problem):
    with pytest.raises(InputError, match="needs a mass"):
        optimise_decay_volume_start(problem, objective="reach")
    with pytest.raises(InputError, match="outside the tabulated masses"):
        optimise_decay_volume_start(problem, objective="reach", mass=5.0)
    with pytest.raises(InputError, match="leaves the tabulated acceptance"):
        optimise_decay_volume_start(problem, bounds=(50.0, 100.0))
    with pytest.raises(InputError, match="unknown constraint"):
        optimise_decay_volume_start(problem, constraint="free")
    with pytest.raises(InputError, match="length"):
        optimise_decay_volume_start(problem, constraint="length-fixed", length=500.0)


# ----------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_file(tmp_path_factory, tables):
    from fipscan.io.tables import save_tables

    # the toy cells are NA62's decay volume seen from the TAX (z = 102.425 ... 182 m)
    path = tmp_path_factory.mktemp("tables") / "toy.h5"
    return save_tables(tables, path, model="dark-photon", experiment="na62-bd")


def test_cli_optimise_json(table_file, capsys):
    argv = ["optimise", "--tables", str(table_file), "--pot", "1e18", "--constraint", "length-fixed",
            "--length", "30", "--steps", "30", "--couplings", "1e-10:1e-2:48", "--json"]
    assert cli_main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["constraint"] == "length-fixed" and out["length_m"] == 30.0
    lo, hi = out["bounds_m"]
    assert lo == pytest.approx(102.425) and hi == pytest.approx(182.0 - 30.0)
    assert lo < out["optimum_m"] < hi and not out["at_bound"]
    assert out["objective_hard"] > 0


def test_cli_optimise_text_and_reach(table_file, capsys):
    argv = ["optimise", "--tables", str(table_file), "--pot", "1e18", "--objective", "reach", "--mass", "0.05",
            "--steps", "5", "--range", "110:150", "--couplings", "1e-10:1e-2:48"]
    assert cli_main(argv) == 0
    out = capsys.readouterr().out
    assert "optimal decay-volume start" in out and "ln g_lower at 0.05 GeV" in out


@pytest.mark.parametrize("argv, message", [
    (["--objective", "reach"], "needs --mass"),
    (["--range", "150:110"], "LO < HI"),
    (["--range", "a:b"], "LO:HI"),
    (["--length", "30"], "only used with --constraint length-fixed"),
    (["--steps", "0"], "--steps"),
])
def test_cli_optimise_errors_are_one_line_exit_2(argv, message, capsys):
    assert cli_main(["optimise", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_cli_optimise_range_outside_table(table_file, capsys):
    argv = ["optimise", "--tables", str(table_file), "--range", "50:120", "--couplings", "1e-10:1e-2:48"]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err  # refused before the work, naming the option and the allowed starts
    assert err.startswith("fipscan: error: --range 50:120") and "allowed decay-volume starts" in err
