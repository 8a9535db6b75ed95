"""Generating spectra with PYTHIA 8: agreement with the shipped file, determinism, resuming, keys.

Every generation here is small (a few thousand events) and runs in its own cache folder.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import jax.scipy.stats
import numpy as np
import pytest

import fipscan.spectra.generation as gen
from fipscan import cache
from fipscan.errors import ConfigError, InputError
from fipscan.spectra import SPECIES, GenerationSettings, generate, load_spectra
from fipscan.spectra.core import KIND, SCHEMA_VERSION

pythia8mc = pytest.importorskip("pythia8mc", reason="PYTHIA 8 (pythia8mc) is not installed")

#: p-value below which the small regeneration is said to disagree with the shipped shapes
P_VALUE_MIN = 1e-3
#: merge neighbouring bins until each holds at least this many counts in both samples together
MIN_COUNTS_PER_BIN = 25


def small_settings(**change) -> GenerationSettings:
    """The shipped file's settings with few events, another seed and small chunks."""
    shipped = dict(load_spectra().provenance["settings"])
    shipped.update(n_events_soft=3000, n_events_ccbar=300, n_events_bbbar=300, chunk_events=1500, seed=424242)
    shipped.update(change)
    return GenerationSettings.from_dict(shipped)


@pytest.fixture(scope="module")
def shared_init():
    """PYTHIA initialisation files, shared by the tests' separate cache folders (saves ~2 s a run).

    They live in the session's cache folder (set by conftest), so every test module shares them.
    """
    d = Path(os.environ["FIPSCAN_CACHE"]) / gen.INIT_KIND
    d.mkdir(parents=True, exist_ok=True)
    return d


def _fresh_cache(root, shared_init):
    root.mkdir(parents=True)
    (root / gen.INIT_KIND).symlink_to(shared_init, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def regen(tmp_path_factory, shared_init):
    """A 2-worker regeneration with the shipped settings (its own cache folder)."""
    d = _fresh_cache(tmp_path_factory.mktemp("regen") / "cache", shared_init)
    old = os.environ["FIPSCAN_CACHE"]
    os.environ["FIPSCAN_CACHE"] = str(d)
    try:
        return generate(small_settings(n_workers=2), progress=False)
    finally:
        os.environ["FIPSCAN_CACHE"] = old


@pytest.fixture()
def own_cache(tmp_path, monkeypatch, shared_init):
    d = _fresh_cache(tmp_path / "cache", shared_init)
    monkeypatch.setenv("FIPSCAN_CACHE", str(d))
    return d


def _rebin(a: np.ndarray, b: np.ndarray, min_counts: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge neighbouring bins (left to right) until each has >= min_counts in a + b."""
    out_a, out_b, acc_a, acc_b = [], [], 0, 0
    for x, y in zip(a, b):
        acc_a, acc_b = acc_a + x, acc_b + y
        if acc_a + acc_b >= min_counts:
            out_a.append(acc_a)
            out_b.append(acc_b)
            acc_a = acc_b = 0
    if out_a:  # the remainder joins the last bin
        out_a[-1] += acc_a
        out_b[-1] += acc_b
    return np.array(out_a, dtype=float), np.array(out_b, dtype=float)


def two_sample_chi2_pvalue(n: np.ndarray, m: np.ndarray) -> tuple[float, int, float]:
    """Chi-square test that two histograms of counts come from one shape (unequal totals).

    chi2 = sum (sqrt(M/N) n_i - sqrt(N/M) m_i)^2 / (n_i + m_i), k - 1 degrees of freedom.
    """
    n, m = _rebin(n, m, MIN_COUNTS_PER_BIN)
    big_n, big_m = n.sum(), m.sum()
    chi2 = float(np.sum((np.sqrt(big_m / big_n) * n - np.sqrt(big_n / big_m) * m) ** 2 / (n + m)))
    dof = n.size - 1
    return chi2, dof, float(jax.scipy.stats.chi2.sf(chi2, dof))


@pytest.mark.parametrize("species", ["pi0", "eta"])
@pytest.mark.parametrize("axis", ["p", "theta"])
def test_regeneration_agrees_with_shipped_shapes(regen, species, axis):
    shipped = load_spectra()
    sum_over = 1 if axis == "p" else 0
    n = regen.raw_counts(species).sum(axis=sum_over)
    m = shipped.raw_counts(species).sum(axis=sum_over)
    chi2, dof, p = two_sample_chi2_pvalue(n, m)
    assert dof >= 5, "too few bins for a shape test"
    assert p > P_VALUE_MIN, f"{species} {axis}: chi2 = {chi2:.1f} for {dof} dof, p = {p:.2g}"


def test_regeneration_agrees_with_shipped_multiplicities(regen):
    shipped = load_spectra()
    for sp in ("pi0", "eta", "omega", "gamma"):
        n = regen.per_pp_collision[sp] * regen.n_events["soft"]
        sigma = np.sqrt(n) / regen.n_events["soft"] * 3  # Poisson-ish, generous for correlated pi0s
        assert abs(regen.per_pp_collision[sp] - shipped.per_pp_collision[sp]) < 5 * sigma + 0.02 * shipped.per_pp_collision[sp], sp
    for sp in ("d0", "b0"):
        assert regen.per_pot[sp] == pytest.approx(shipped.per_pot[sp], rel=0.3), sp


def _same(a, b) -> bool:
    return all(np.array_equal(a.raw_counts(sp), b.raw_counts(sp)) for sp in SPECIES) and all(
        a.per_pot[sp] == b.per_pot[sp] for sp in SPECIES
    )


def test_same_seed_identical_for_any_number_of_workers(regen, own_cache):
    again = generate(small_settings(n_workers=1), progress=False)
    assert _same(again, regen)


def test_different_seed_differs(regen, own_cache):
    other = generate(small_settings(seed=424243, n_workers=1), progress=False)
    assert not np.array_equal(other.raw_counts("pi0"), regen.raw_counts("pi0"))
    assert not np.array_equal(other.raw_counts("d0"), regen.raw_counts("d0"))


def test_cache_hit_returns_stored_file(regen, own_cache, monkeypatch):
    s = small_settings(n_workers=1, n_events_soft=500, n_events_ccbar=0, n_events_bbbar=0, chunk_events=500)
    first = generate(s, progress=False)
    monkeypatch.setattr(gen, "_run_all", lambda *a, **k: pytest.fail("regenerated a cached result"))
    assert _same(generate(s, progress=False), first)


def test_resume_after_interruption_equals_uninterrupted(regen, own_cache, monkeypatch, tmp_path):
    settings = small_settings(n_workers=1)
    seen = []

    def interrupt_after_two(res):
        seen.append((res["run"], res["index"]))
        if len(seen) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(gen, "_report_chunk", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        generate(settings, progress=False)
    work = gen.partial_dir(settings)
    assert len(list(work.glob("*.npz"))) == 2
    assert cache.list_entries(KIND) == []  # nothing under a final name

    second = []
    monkeypatch.setattr(gen, "_report_chunk", lambda res: second.append((res["run"], res["index"])))
    resumed = generate(settings, progress=False, out=tmp_path / "resumed.h5")
    assert not set(second) & set(seen), "finished chunks were generated again"
    assert len(second) + len(seen) == len(gen._chunk_plan(settings))
    assert _same(resumed, regen)
    assert not work.exists(), "the partial folder is removed once the file is written"
    assert _same(load_spectra(tmp_path / "resumed.h5"), regen)


def test_cache_key_changes_with_every_setting():
    base = GenerationSettings()
    changes = {
        "n_events_soft": 7, "n_events_ccbar": 7, "n_events_bbbar": 7, "seed": 2, "e_beam": 450.0,
        "target": "angantyr-cu", "sigma_ccbar_ub": 18.1, "sigma_bbbar_nb": 1.7, "cascade_enhancement": True,
        "cascade_ccbar": 2.0, "cascade_bbbar": 1.5, "target_a": 55.85, "sigma_pa_inel_mb": 700.0,
        "chunk_events": 999, "pythia_settings": ("Tune:pp = 14",),
    }  # fmt: skip
    fields = {f.name for f in dataclasses.fields(GenerationSettings)} - {"n_workers"}
    assert set(changes) == fields, "every setting must be tested"
    key = cache.canonical_key(KIND, base.cache_settings(), SCHEMA_VERSION)
    keys = {cache.canonical_key(KIND, dataclasses.replace(base, **{k: v}).cache_settings(), SCHEMA_VERSION)
            for k, v in changes.items()}  # fmt: skip
    assert key not in keys and len(keys) == len(changes)
    assert cache.canonical_key(KIND, base.cache_settings(), SCHEMA_VERSION + 1) != key
    # the number of workers does not change the result, so it does not change the key
    assert cache.canonical_key(KIND, dataclasses.replace(base, n_workers=7).cache_settings(), SCHEMA_VERSION) == key
    # an int where a float is expected is the same setting
    assert GenerationSettings(e_beam=400).cache_settings() == base.cache_settings()


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"n_events_soft": -1}, InputError),
        ({"n_events_soft": 0, "n_events_ccbar": 0, "n_events_bbbar": 0}, InputError),
        ({"seed": 1.5}, InputError),
        ({"e_beam": float("nan")}, InputError),
        ({"sigma_ccbar_ub": 0}, InputError),
        ({"target": "lead"}, ConfigError),
        ({"chunk_events": 0}, InputError),
        ({"n_workers": 0}, InputError),
        ({"pythia_settings": ("nonsense",)}, InputError),
    ],
)
def test_bad_settings_are_rejected(bad, error):
    with pytest.raises(error):
        GenerationSettings(**bad)


def test_missing_pythia_is_a_config_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pythia8mc", None)
    with pytest.raises(ConfigError, match=r"PYTHIA 8 is not installed: pip install 'fipscan\[pythia\]'"):
        generate(GenerationSettings(n_events_soft=10), progress=False)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("FIPSCAN_SLOW_TESTS"),
    reason="Angantyr p+Cu initialisation (nucleon cross-section fit) takes ~20 s; set FIPSCAN_SLOW_TESTS=1",
)
def test_angantyr_p_cu(own_cache):
    s = generate(GenerationSettings(n_events_soft=300, n_events_ccbar=0, n_events_bbbar=0, chunk_events=150,
                                    target="angantyr-cu", n_workers=1), progress=False)  # fmt: skip
    # a p+Cu collision makes ~2x the pions of a pp collision (about 2.5 wounded nucleons)
    assert 6.0 < s.per_pp_collision["pi0"] < 14.0
    assert s.provenance["settings"]["target"] == "Cu"  # the old name angantyr-cu is stored as the nucleus
    assert "Beams:idB = 1000290630" in s.provenance["pythia_settings"]["soft"]
