"""NA62's hadronic analysis view (fipscan.combinations, ``fipscan combinations``): the list of production x
decay combinations, the acceptance and resolution maps, and the recast of each benchmark from the N_exp maps."""

from __future__ import annotations

import csv
import json
import os

import h5py
import jax.numpy as jnp
import numpy as np
import pytest

import fipscan
from fipscan.combinations import (DEFAULT_PARENTS, NOT_IN_NA62_LIST, Combination, compute_combination,
                                  list_combinations, long_lived_weight, recast_events)
from fipscan.errors import InputError


@pytest.fixture(scope="module")
def combos():
    return {c.name: c for c in list_combinations("na62-bd")}


def test_na62s_36_combinations_and_a_reason_for_every_excluded_one(combos):
    """NA62 (EPJC 85 (2025) 571) quotes 36 production x decay combinations for its four benchmark models and
    five production mechanisms; fipscan finds the same number from the models' own widths and kinematics, plus
    three through its kaon-decay channels."""
    allowed = [c for c in combos.values() if c.allowed]
    na62 = [c for c in allowed if c.mechanism not in NOT_IN_NA62_LIST]
    assert {c.parent for c in combos.values()} == set(DEFAULT_PARENTS)
    assert len(na62) == 36
    assert len(allowed) == 39 and {c.mechanism for c in allowed if c not in na62} == {"kaon-decays"}
    assert all(c.reason for c in combos.values() if not c.allowed)
    # one of each kind of exclusion
    assert combos["alp-gluon/mixing/pipi"].reason.startswith("parity")  # 0-+ -> two pseudoscalars
    assert combos["dark-scalar/b-decays/pipipi0"].reason.startswith("parity")  # 0++ -> three pseudoscalars
    assert "closed" in combos["dark-photon/meson-decays/kk"].reason  # eta' -> gamma X stops below 2 m_K
    assert "not modelled" in combos["dark-photon/brems/pipigamma"].reason
    # per mechanism: the parent's channels of that mechanism
    assert combos["alp-gluon/b-decays/pipipi0"].channels == ("bplus->kplus", "b0->k0", "bplus->kstarplus",
                                                            "b0->kstar0", "bs->phi")
    assert combos["dark-photon/meson-decays/pipi"].channels == ("pi0->gamma", "eta->gamma", "etap->gamma",
                                                               "omega->pi0")


def test_unknown_parent_or_final_state_and_excluded_combination_refused(combos):
    with pytest.raises(InputError, match="unknown parent"):
        list_combinations(parents=("dark-axion",))
    with pytest.raises(InputError, match="not one of the hadronic"):
        list_combinations(final_states=("ee",))
    with pytest.raises(InputError, match="excluded: parity"):
        compute_combination(combos["alp-gluon/mixing/pipi"])


@pytest.fixture(scope="module")
def kaon_pipi(combos):
    """dark-scalar/kaon-decays/pipi on a small grid (0.28-0.36 GeV: K -> pi S above 2 m_pi)."""
    return compute_combination(combos["dark-scalar/kaon-decays/pipi"], n_masses=6, n_widths=40, n_map=5,
                               resolution_n_mc=256)  # 256 decays a point: 4x faster than the default, noisier


def test_acceptance_between_zero_and_one_and_resolution_at_the_per_cent_level(kaon_pipi):
    r = kaon_pipi
    assert r.masses[0] > 2 * 0.13957 and r.masses[-1] < 0.49761 - 0.13498  # above 2 m_pi, below m_KL - m_pi0
    assert np.all((r.acceptance > 0) & (r.acceptance < 1))
    assert r.efficiency == pytest.approx(fipscan.load_experiment("na62-bd").efficiency["pipi"])
    # the paper: "if observed, the mass of the messenger would be resolved at the per-cent level".  With the
    # STRAW resolution (0.3% + 0.005%/GeV x p) sigma_M / M of pi+ pi- from K -> pi S (0.28-0.36 GeV) is
    # 1e-5 to 1e-3, growing from the threshold (M_reco - M -> 0 with the pions' momenta in the X frame; the
    # first map mass is 1e-4 above it) as the X-frame momentum q grows (sigma_M ~ q^2/E sigma_p/p at rest)
    rel = r.resolution / r.map_masses
    assert np.all(rel < 0.01) and rel[0] < 0.2 * rel[-1], rel
    assert np.all((rel[1:] > 1e-5) & (np.diff(rel) > 0)), rel
    assert np.all(np.abs(r.mass_shift) < r.resolution)
    s = r.summary()
    assert s["peak_events"] == pytest.approx(r.events.max()) and s["production"] == "kaon-decays"


def test_long_lived_weight_is_the_kernels_small_width_limit(kaon_pipi):
    """sum W s Delta (the linear form the acceptance and resolution maps use) equals the fused kernel's N at
    a width far below the lower edge, N = N_POT g**n_width sum W s1 Delta (exp(-s a)(1 - exp(-s Delta)) ->
    s Delta): to 1e-6 at Gamma = 1e-26 GeV (s a ~ 1e-10)."""
    model = kaon_pipi.combination.model()
    exp = fipscan.load_experiment("na62-bd")
    tables = fipscan.precompute(model, exp, kaon_pipi.map_masses)
    gamma = 1e-26
    n = np.asarray(tables.events_grid(jnp.log(jnp.asarray([gamma])), exp.pot))[:, 0]
    np.testing.assert_allclose(exp.pot * gamma * long_lived_weight(tables), n, rtol=1e-6)


def _iou(a, b):
    """Intersection over union of two boolean masks on a log-uniform grid (= of the areas in log-log)."""
    return np.logical_and(a, b).sum() / max(np.logical_or(a, b).sum(), 1)


#: (parent, final state(s), coupling range, mechanisms): the two production families (B and K decays; mixing and
#: Primakoff) in the default run; BC1 (two final states summed), BC5 (pair production) and BC10, and every
#: other (model, hadronic final state) pair, with FIPSCAN_SLOW_TESTS=1 (23 cases, ~5 min; all pass).  BC9's
#: ALP has no hadronic decays (its width is gamma gamma only)
RECASTS = [
    ("dark-scalar", "pipi", (1e-12, 1e-2), ("b-decays", "kaon-decays")),
    ("alp-gluon", "pipipi0", (1e-8, 1e-2), ("mixing", "primakoff")),
]
_SLOW = pytest.mark.skipif(not os.environ.get("FIPSCAN_SLOW_TESTS"),
                           reason="every (model, hadronic final state) recast: set FIPSCAN_SLOW_TESTS=1")
_MORE = [
    ("dark-photon", ("pipi", "pipipi0"), (1e-8, 1e-3), ("brems", "meson-decays")),  # two final states summed
    ("dark-scalar-bc5", "kk", (1e-12, 1e-2), ("b-decays", "b-pair-decays")),
    ("alp-fermion", "pipigamma", (1e-6, 1e-2), ("b-decays", "mixing")),
]
_RANGES = {p: r for p, _, r, _ in RECASTS + _MORE}
_MECHS = {p: m for p, _, _, m in RECASTS + _MORE}
_STATES = {"dark-photon": ("pipi", "pipipi0", "pipipi0pi0", "pipieta", "kk", "kkpi0"),
           "dark-scalar": ("kk", "pipipi0pi0"), "dark-scalar-bc5": ("pipi", "pipipi0pi0"),
           "alp-fermion": ("pipipi0", "pipieta", "kkpi0"), "alp-gluon": ("pipieta", "pipigamma", "kkpi0")}
SLOW_RECASTS = ([pytest.param(*case, marks=_SLOW) for case in _MORE]
                + [pytest.param(p, fs, _RANGES[p], _MECHS[p], marks=_SLOW) for p, states in _STATES.items()
                   for fs in states])


@pytest.mark.parametrize("parent, final_state, coupling_range, mechanisms", RECASTS + SLOW_RECASTS)
def test_benchmark_contour_recast_from_the_maps(parent, final_state, coupling_range, mechanisms):
    """NA62's re-weighting: N_model(m, g) = sum over mechanisms (and final states) of N_exp(m, Gamma_model(m, g))
    x BR x (g / C_ref)**n.  The recast region agrees with the direct model scan (same production channels and
    final states): IoU >= 0.98 in log-log, and N within 3% above 1% of its peak (the map's 200 Gamma_X values)."""
    states = (final_state,) if isinstance(final_state, str) else final_state
    listed = list_combinations("na62-bd", parents=(parent,), final_states=states)
    mine = [c for c in listed if c.mechanism in mechanisms and c.allowed]
    assert mine, listed
    channels = tuple(dict.fromkeys(ch for c in mine for ch in c.channels))
    model = fipscan.get_model(parent, production_channels=channels)
    exp = fipscan.load_experiment("na62-bd")
    lo = max(c.model().mass_range[0] for c in mine) * 1.001
    hi = min(min(c.model().mass_range[1] for c in mine) * 0.999, exp.binning.mass_max_gev)
    masses = np.geomspace(lo, hi, 9)
    g = np.geomspace(*coupling_range, 60)
    # at the full Run 2 (1e18 POT): a region wide enough on this 9 x 60 grid
    direct = fipscan.scan(model, exp, fipscan.Grid(masses, g), channels=states, bands=False, pot=1e18)
    recast = sum(recast_events(compute_combination(c, exp, masses=masses, n_widths=200, maps=False, pot=1e18),
                               model, g) for c in mine)
    # the 90% CL region, or where the model excludes little (BC5, BC10 at some final states) the region above
    # a tenth of its peak: the comparison is of N(m, g) level sets either way
    level = min(direct.points[0].n_limit, 0.1 * direct.events.max())
    a, b = direct.events >= level, recast >= level
    assert a.sum() > 10  # a real region on this grid
    assert _iou(a, b) >= 0.98, _iou(a, b)
    big = direct.events > 0.01 * direct.events.max()
    np.testing.assert_allclose(recast[big], direct.events[big], rtol=0.03)


def test_recast_off_the_map_long_lived_below_and_nothing_above(kaon_pipi):
    """Below the map's Gamma_X range N ~ Gamma (long-lived), so N ~ g**(n_prod + n_width) = (sin^2 theta)^2;
    above it the short-lived side has fallen to zero (sin^2 theta = 1: Gamma ~ 1e-8 GeV)."""
    model = fipscan.get_model("dark-scalar")
    n = recast_events(kaon_pipi, model, [1e-16, 1e-15, 1.0])
    assert np.all(n[:, 0] > 0)
    np.testing.assert_allclose(n[:, 1] / n[:, 0], 100.0, rtol=1e-6)  # P_decay ~ Gamma L to 1e-7 here
    assert np.all(n[:, 2] == 0.0)
    import dataclasses
    young = dataclasses.replace(kaon_pipi, events=kaon_pipi.events * np.linspace(1, 2, kaon_pipi.widths.size))
    with pytest.raises(InputError, match="not yet long-lived"):
        recast_events(young, model, [1e-16])
    with pytest.raises(InputError, match="recasts dark-scalar, not 'dark-photon'"):
        recast_events(kaon_pipi, fipscan.get_model("dark-photon"), [1e-6])
    for bad in (-1e-8, float("nan"), 2.0):
        with pytest.raises(InputError):
            recast_events(kaon_pipi, model, [1e-8, bad])


def test_cli_list_and_the_files_of_a_combination(tmp_path, kaon_pipi):
    """`fipscan combinations --list` (no maps: the table of combinations) through the CLI, then the whole
    output set of a computed combination through the writer the CLI uses."""
    from fipscan.cli.main import main
    from fipscan.io.combinations import save_combinations

    out = tmp_path / "comb"
    assert main(["combinations", "--parents", "dark-scalar", "--final-states", "kk,pipi", "--list", "-o", str(out)]) == 0
    with open(out / "combinations.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    pinned = ["production", "final_state", "reference_coupling", "peak_events", "peak_mass_gev"]
    assert all(k in rows[0] for k in pinned)
    by = {(r["production"], r["final_state"]): r for r in rows}
    assert set(by) == {(m, fs) for m in ("brems", "b-decays", "kaon-decays") for fs in ("kk", "pipi")}
    closed = by[("kaon-decays", "kk")]  # X from K -> pi X is lighter than 2 m_K
    assert closed["status"] == "excluded" and "closed" in closed["reason"] and closed["in_na62_list"] == "False"
    assert by[("b-decays", "kk")]["status"] == "allowed" and by[("b-decays", "kk")]["peak_events"] == ""  # listed only

    combos = list_combinations("na62-bd", parents=("dark-scalar",), final_states=("pipi",))
    written = save_combinations(combos, [kaon_pipi], tmp_path / "set", experiment=fipscan.load_experiment("na62-bd"))
    assert {"combinations.csv", "combinations.json", "combinations.h5", "combinations.png",
            "combinations_acceptance.pdf", "combinations.svg"} <= set(written)
    with open(tmp_path / "set" / "combinations.csv", newline="") as f:
        row = {r["production"]: r for r in csv.DictReader(f)}["kaon-decays"]
    assert row["status"] == "allowed" and float(row["peak_events"]) == pytest.approx(kaon_pipi.events.max(), rel=1e-12)
    assert float(row["reference_coupling"]) == 1e-8 and row["reference_coupling_name"] == "sin2theta"
    doc = json.loads((tmp_path / "set" / "combinations.json").read_text())
    assert doc["allowed_count"] == 3 and doc["experiment"] == "na62-bd"
    with h5py.File(tmp_path / "set" / "combinations.h5") as f:
        g = f["dark-scalar/kaon-decays/pipi"]
        assert g["events"].shape == kaon_pipi.events.shape and g.attrs["reference_coupling"] == 1e-8
        np.testing.assert_array_equal(g["resolution_gev"][()], kaon_pipi.resolution)


@pytest.mark.parametrize("argv, words", [
    (["--parents", "dark-axion"], "--parents: unknown 'dark-axion'"),
    (["--final-states", "pipi,pipi"], "twice"),
    (["--masses", "1"], "--masses must lie between"),
    (["--widths", "x"], "--widths"),
    (["--pot", "-3"], "--pot"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, capsys, argv, words):
    from fipscan.cli.main import main

    out = tmp_path / "keep"
    out.mkdir()
    (out / "combinations.csv").write_text("previous\n")
    assert main(["combinations", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err
    assert (out / "combinations.csv").read_text() == "previous\n"


def test_foreign_output_folder_refused_before_computing(tmp_path, capsys):
    from fipscan.cli.main import main

    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert main(["combinations", "--parents", "dark-scalar", "-o", str(out)]) == 2
    assert "not written by a fipscan" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine\n"


def test_generic_mechanism_option_sums_the_mechanisms_channels():
    """--production b-decays of the generic model = the sum of its five exclusive B channels, each alone."""
    exp = fipscan.load_experiment("na62-bd")
    masses = np.array([0.5, 1.5])
    whole = fipscan.precompute(fipscan.get_model("generic", parent="dark-scalar", production_channel="b-decays"),
                               exp, masses)
    assert set(whole.per_channel) == {"bplus->kplus", "b0->k0", "bplus->kstarplus", "b0->kstar0", "bs->phi"}
    one = fipscan.precompute(fipscan.get_model("generic", parent="dark-scalar", production_channel="b0->kstar0"),
                             exp, masses)
    np.testing.assert_allclose(np.asarray(one.weights), np.asarray(whole.per_channel["b0->kstar0"]), rtol=1e-10)
    assert isinstance(Combination("dark-scalar", "b-decays", "pipi", (), True).model().production(), tuple)
