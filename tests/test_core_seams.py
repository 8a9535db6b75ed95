"""The extension points end to end: names in the API, the model's spin in the acceptance, a synthetic
calorimeter experiment with a photon final state and a toy spin-0 model outside the registry, per-final-
state and per-production yields, and the CLI's refusal of empty or unknown final states."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
from fipscan.acceptance import angular_for, build_acceptance_table

TOY = Path(__file__).resolve().parent / "data" / "toy_calorimeter.toml"


def run(*args, cwd=None):
    """The real ``fipscan`` command in a subprocess."""
    return subprocess.run([sys.executable, "-m", "fipscan.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ), timeout=600)


def run_here(*args):
    """The same entry point in this process (no second JAX start-up): (exit code, stdout, stderr)."""
    from fipscan.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_angular_distribution_follows_spin():
    assert angular_for(1, "ee") == "vector" and angular_for(1, "pipi") == "vector_scalars"
    assert angular_for(0, "ee") == "isotropic" and angular_for(0, "pipi") == "isotropic"
    assert angular_for(1, "pipipi0") == "isotropic"  # flat phase space for three bodies


def test_spin0_acceptance_differs_from_the_dark_photon_where_it_should():
    """NA62's ee selection (both clusters > 0.1 m apart, each E > 1 GeV, r > 0.15 m) prefers symmetric,
    wide-opening decays; the transversely polarised A' (1 + cos^2 theta*) puts more decays along the
    flight line, i.e. asymmetric and collimated pairs, than an isotropic spin-0 decay.  Measured: the
    vector's acceptance is 0.77-0.83 of the isotropic one at m = 0.2 GeV, 10-100 GeV."""
    grids = dict(log10m=[np.log10(0.2), np.log10(0.2) + 0.01], log10p=np.log10([10.0, 20.0, 50.0, 100.0]),
                 log10theta=[-4.0, -3.5], n_mc=2048, cache=False)
    vec = build_acceptance_table("na62-bd", "ee", spin=1, **grids).values[0].mean(axis=(1, 2))
    iso = build_acceptance_table("na62-bd", "ee", spin=0, **grids).values[0].mean(axis=(1, 2))
    assert np.all(iso > 0.005)
    ratio = vec / iso
    assert np.all((ratio > 0.7) & (ratio < 0.9)), ratio
    # and the same seed and settings give the same table (the difference is the physics, not noise)
    again = build_acceptance_table("na62-bd", "ee", spin=0, **grids).values[0].mean(axis=(1, 2))
    np.testing.assert_array_equal(iso, again)


def test_precompute_accepts_names_and_splits_by_final_state():
    t = fipscan.precompute("dark-photon", "na62-bd", [0.3, 0.4], channels="ee,mumu")
    assert t.channels == ("ee", "mumu") and set(t.per_final_state) == {"ee", "mumu"}
    np.testing.assert_allclose(np.asarray(sum(t.per_final_state.values())), np.asarray(t.weights), rtol=1e-12)
    lg = jnp.log(jnp.asarray([1e-7, 1e-6]))
    parts = t.split_events_grid(lg, 1.4e17)
    np.testing.assert_allclose(sum(parts.values()), np.asarray(t.events_grid(lg, 1.4e17)), rtol=1e-10)
    # BR(ee)/BR(mumu) = 1.03 at 0.4 GeV; the acceptances differ, but both final states contribute
    assert 0.2 < float(parts["ee"][1, 1] / parts["mumu"][1, 1]) < 5.0


def test_toy_scalar_at_the_calorimeter_end_to_end(tmp_path):
    """fipscan scan and fipscan contour with a model given as module:Class and an experiment as a TOML
    path; gamma gamma decays count up to the calorimeter face (the neutral volume), e+e- only in the
    charged volume."""
    out = tmp_path / "toy"
    code, stdout, err = run_here("scan", "--model", "fipscan.testing:ToyScalar", "--experiment", str(TOY),
                                 "--channels", "all", "--masses", "0.003:0.4:12", "--couplings", "1e-9:1e-2:40",
                                 "--no-bands", "-o", str(out), "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["channels"] == ["gammagamma", "ee"]
    assert set(summary["per_final_state"]) == {"gammagamma", "ee"}
    assert set(summary["per_production"]) == {"pi0->gamma", "eta->gamma"}
    assert summary["contours"][0]["n_masses_excluded"] >= 10
    for name in ("contour.csv", "contour_polygon.csv", "scan.h5", "contour.png"):
        assert (out / name).is_file(), name
    with h5py.File(out / "scan.h5") as f:
        assert f.attrs["model"] == "toy-scalar" and f["coupling"].attrs["name"] == "g_toy"
    rows = list(csv.DictReader(open(out / "contour_polygon.csv")))
    assert len(rows) > 20

    exp = fipscan.load_experiment(TOY)
    t = fipscan.precompute("fipscan.testing:ToyScalar", exp, np.geomspace(0.003, 0.4, 12), channels="all")
    z = np.asarray(t.a_edges) + exp.production_z
    beyond = z[:-1] >= 100.0 - 1e-9  # cells past the end of the charged volume
    assert beyond.any()
    assert float(np.asarray(t.per_final_state["ee"])[:, :, beyond].sum()) == 0.0
    assert float(np.asarray(t.per_final_state["gammagamma"])[:, :, beyond].sum()) > 0.0

    # the traced polygon (written by scan) is closed and lies inside the grid
    poly = np.array([[float(r["mass_gev"]), float(r["coupling"])] for r in rows])
    assert poly[:, 0].min() >= 0.003 * (1 - 1e-9) and poly[:, 0].max() <= 0.4 * (1 + 1e-9)


@pytest.mark.parametrize("args, needle", [
    (["--channels", ""], "--channels"),
    (["--channels", "mumu,mumu"], "twice"),
    (["--channels", "MUMU"], "unknown final state"),
    (["--channels", "gammagamma"], "not available"),
    (["--model-option", "form_factor=perhaps"], "true or false"),
    (["--model-option", "colour=red"], "no such option"),
    (["--model", "dark-photon-x"], "unknown model"),
])
def test_scan_refuses_bad_final_states_and_options(tmp_path, args, needle):
    code, _, err = run_here("scan", "--masses", "0.1:0.5:4", "--couplings", "1e-7:1e-4:5", "-o",
                            str(tmp_path / "o"), *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert not (tmp_path / "o" / "contour.csv").exists()


def test_list_and_info():
    res = run("list", "final-states", "--json")  # the real command once
    assert res.returncode == 0
    names = json.loads(res.stdout)
    assert {"ee", "mumu", "gammagamma", "pipipi0pi0"} <= set(names)
    assert run_here("list", "final-states")[1].split() == names
    assert "na62-bd" in run_here("list", "experiments")[1].split()
    assert "dark-photon" in run_here("list", "models")[1].split()
    code, out, _ = run_here("info", "--model", "dark-photon", "--mass", "0.3", "--coupling", "1e-3", "--json")
    assert code == 0
    info = json.loads(out)
    # BR(eta -> gamma A') = 2 eps^2 (1 - m^2/m_eta^2)^3 BR(eta -> gamma gamma) = 2.70186e-7 (m = 0.3, eps = 1e-3)
    assert info["production"]["eta->gamma"] == pytest.approx(2.70186e-7, rel=1e-5)
    assert info["production_units"]["brems"] == "per proton interaction"
    assert set(info["branching_ratios"]) >= {"ee", "mumu", "pipi"}
    assert sum(info["branching_ratios"].values()) == pytest.approx(1.0, rel=1e-12)
