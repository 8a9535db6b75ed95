"""Meson spectra of protons on a fixed target, generated with PYTHIA 8 (``pythia8mc``).

Physics
-------
* Beams: ``Beams:frameType = 2`` (fixed target), ``idA = 2212`` with ``eA = e_beam`` (GeV, default
  400, the SPS) on ``idB = 2212`` at rest (``target="p"``), or on a nucleus through PYTHIA's Angantyr
  model (``target`` = ``"Fe"``, ``"Cu"``, ``"Mo"``, ``"W"``, ``"Pb"``: one isotope each, :data:`NUCLEI`;
  ``"angantyr-cu"`` is the older name of ``"Cu"``).
* Three independent runs:

  - ``soft``: ``SoftQCD:inelastic = on`` (non-diffractive + single/double/central diffractive)
    fills the light mesons and photons: π⁰, η, η′, ω, ρ⁰, φ, K±, K_L and γ;
  - ``ccbar``: ``HardQCD:hardccbar = on`` fills D⁺, D⁰, D_s (and their antiparticles);
  - ``bbbar``: ``HardQCD:hardbbbar = on`` fills B⁺, B⁰, B_s.

  Heavy-flavour hadrons are counted only in the hard runs and light mesons only in the soft run,
  so nothing is counted twice.  The hard runs use ``PhaseSpace:mHatMin = 0`` (the default 4 GeV
  would cut into the c c̄ threshold at √s = 27.4 GeV) and ``PhaseSpace:pTHatMin = 0`` (the
  heavy-quark masses regularise the matrix elements).
* Every entry of the event record with a matching ``|PDG id|`` is counted, **including particles that
  decayed** (status < 0): π⁰ from η, η′, ω, K_S, Λ, Σ … decays (feed-down) are counted, as are D⁰
  from D*⁺ decays; π⁰ and K_S decay as in PYTHIA's defaults.  Photons are counted only when final
  (status > 0), i.e. mostly π⁰/η → γγ photons.  An entry whose mother is the same species (a copy
  made by the event-record bookkeeping) is not counted again.
* θ is the polar angle to the beam (z) axis, p the lab momentum.

Normalisation (per proton on target, thick dump)
------------------------------------------------
Each proton makes one inelastic primary interaction in the dump, and secondary interactions
are neglected for light mesons, so for them ``per_pot = per_pp_collision`` (per p–nucleus
collision with Angantyr).  PYTHIA's leading-order heavy-flavour cross sections are 3–4 times below the
measurements (σ_cc̄ ≈ 5.4 μb, σ_bb̄ ≈ 0.86 nb at √s = 27.4 GeV), so the hard runs are normalised
to measured cross sections per nucleon, scaling ∝ A for a hard process::

    per_pot(D)          = N_D / N_events(cc̄) · σ_cc̄ · A / σ_inel(pA)   [× 2.3 with cascade_enhancement]
    per_pp_collision(D) = N_D / N_events(cc̄) · σ_cc̄ / σ_inel(pp)

(the same for B with σ_bb̄ and ×1.7).  Defaults at ``e_beam`` = 400 GeV only: σ_cc̄ = 20 μb and
σ_bb̄ = 2.63 nb per nucleon (the values used for 400 GeV by ALPINIST, Jerhot et al.,
arXiv:2201.05170; 20 μb is close to the 18.1 μb per nucleon that SHiP derived from the fixed-target
compilation of Lourenço & Wöhri, Phys. Rept. 433 (2006) 127).  Heavy-flavour cross sections fall
steeply towards threshold, so at any other beam energy no default is guessed: ``sigma_ccbar_ub``
(``sigma_bbbar_nb``) must be given whenever the c c̄ (b b̄) run has events (InputError otherwise); a
run without events needs none, and its cross section is then recorded as None and left out of
``sigma_mb``.  A and σ_inel(pA) are those of the dump: for a nucleus ``target`` that nucleus, for
``target="p"`` copper (NA62's and CHARM's dumps): A = 63.546 and σ_inel(p Cu) = 769 mb (PDG nuclear
inelastic length of Cu, 137.3 g cm⁻²), unless ``target_a`` and ``sigma_pa_inel_mb`` are given
(:func:`dump_constants` gives them for a material of :data:`NUCLEI`); σ_inel(pp) = 32.9 mb at 400 GeV
is PYTHIA's own (σ_tot − σ_el at √s = 27.4 GeV).  The cascade
factors (secondary production in the thick dump, from the SensCalc/ALPINIST estimates) by
``cascade_enhancement``, ``cascade_ccbar`` and ``cascade_bbbar``.  Heavy flavour always comes
from pp hard runs, also in the Angantyr mode.

Reproducibility, parallelism, resuming
--------------------------------------
Each run is cut into chunks of ``chunk_events`` events; chunk ``i`` of run ``r`` gets its own
PYTHIA seed, a hash of ``(seed, r, i)`` (so different workers never share a stream), and a fresh
PYTHIA instance initialised from MPI (and Angantyr) initialisation files made once per set of
physics settings (with a fixed seed, and kept in the cache under ``pythia-init/``).  The
result is therefore a function of the settings only: it does not depend on the number of workers
or on interruptions.  Workers (``n_workers`` processes, one per core by default) bin each batch of
events into numpy count arrays; no per-particle list outlives a batch, so memory is flat in the
number of events.  Each finished chunk is written atomically into
``<cache>/spectra/<key>.partial/``; an interrupted run (Ctrl-C) restarts from the chunks on disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import pathlib
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from fipscan import cache
from fipscan.errors import CacheError, ConfigError, FipscanError, InputError
from fipscan.io.atomic import atomic_copy, atomic_write, atomic_write_json
from fipscan.spectra.core import KIND, SCHEMA_VERSION, Spectra, _frozen, _readonly, load_spectra, write_spectra
from fipscan.spectra.species import (
    LOG10P_EDGES,
    LOG10THETA_EDGES,
    N_P,
    N_THETA,
    PDG_IDS,
    RUN_KINDS,
    RUN_SPECIES,
    SPECIES,
)

__all__ = ["GenerationSettings", "generate", "chunk_seed", "PYTHIA_MISSING", "NUCLEI", "Nucleus", "TARGETS",
           "canonical_target", "dump_constants"]

PYTHIA_MISSING = "PYTHIA 8 is not installed: pip install 'fipscan[pythia]'"
PROTON_ID = 2212
#: the beam energy [GeV] at which the default heavy-flavour cross sections hold (the SPS)
DEFAULT_E_BEAM = 400.0
#: σ_cc̄ [μb] and σ_bb̄ [nb] per nucleon at DEFAULT_E_BEAM (ALPINIST, arXiv:2201.05170)
DEFAULT_SIGMA_CCBAR_UB = 20.0
DEFAULT_SIGMA_BBBAR_NB = 2.63
#: Avogadro's number [mol⁻¹] (SI 2019, exact)
AVOGADRO = 6.02214076e23


@dataclass(frozen=True)
class Nucleus:
    """A dump material as a proton–nucleus target.

    ``a``: standard atomic weight [g/mol] (the A of the heavy-flavour scaling); ``z``: atomic number;
    ``lambda_i``: nuclear inelastic interaction length [g cm⁻²] (PDG, Atomic and Nuclear Properties of
    Materials, pdg.lbl.gov/AtomicNuclearProperties); ``pdg_id``: the one isotope Angantyr collides with
    (PDG code 100ZZZAAA0: the most abundant isotope, or the one nearest the mean A); ``isotope_mass_u``:
    its atomic mass [u] (AME2020, Wang et al., Chin. Phys. C 45 (2021) 030003) when PYTHIA's particle
    data lack the isotope (None: PYTHIA defines it).
    """

    symbol: str
    z: int
    a: float
    lambda_i: float
    pdg_id: int
    isotope_mass_u: float | None = None

    @property
    def sigma_inel_mb(self) -> float:
        """σ_inel(pA) [mb] = A / (N_A λ_I), rounded to 1 mb (Cu: 768.5 → 769)."""
        return float(round(self.a / (AVOGADRO * self.lambda_i) * 1e27))


#: proton–nucleus targets; A and λ_I from the PDG tables cited in :class:`Nucleus`; the isotopes' natural
#: abundances in the comments are IUPAC's (CIAAW isotopic compositions)
NUCLEI: dict[str, Nucleus] = {
    "Fe": Nucleus("Fe", 26, 55.845, 132.1, 1000260560),  # Fe-56 (91.8%)
    "Cu": Nucleus("Cu", 29, 63.546, 137.3, 1000290630),  # Cu-63 (69.2%)
    "Mo": Nucleus("Mo", 42, 95.95, 152.9, 1000420960, 95.90467612),  # Mo-96, nearest the mean A 95.95
    "W": Nucleus("W", 74, 183.84, 191.9, 1000741840, 183.95093092),  # W-184 (30.6%)
    "Pb": Nucleus("Pb", 82, 207.2, 199.6, 1000822080),  # Pb-208 (52.4%)
}
#: older target names kept working (the first version knew only p and p+Cu)
TARGET_ALIASES = {"angantyr-cu": "Cu"}
#: the accepted values of ``target``: pp, or a nucleus of NUCLEI (its symbol), or an alias
TARGETS = ("p", *NUCLEI, *TARGET_ALIASES)
#: the dump of pp spectra (the heavy-flavour A/σ_inel(pA) when target = "p"): copper, NA62's TAX
DEFAULT_DUMP = "Cu"
#: atomic mass unit [GeV] (CODATA 2018)
_U_GEV = 0.93149410242


def canonical_target(name) -> str:
    """``"p"`` or the symbol of a :data:`NUCLEI` entry for ``name`` (case-insensitive; aliases resolved);
    ConfigError naming the choices otherwise."""
    if isinstance(name, str):
        key = name.strip()
        for known in ("p", *NUCLEI):
            if key.lower() == known.lower():
                return known
        if key.lower() in TARGET_ALIASES:
            return TARGET_ALIASES[key.lower()]
    raise ConfigError(f"unknown target {name!r}; choose p (pp collisions) or a nucleus: "
                      f"{', '.join(NUCLEI)} ({', '.join(TARGET_ALIASES)} is {', '.join(TARGET_ALIASES.values())})")


def dump_constants(material: str) -> tuple[float, float]:
    """(A, σ_inel(pA) [mb]) of a dump material of :data:`NUCLEI` (``target_a``, ``sigma_pa_inel_mb``)."""
    symbol = canonical_target(material)
    if symbol == "p":
        raise ConfigError("a dump material must be a nucleus: " + ", ".join(NUCLEI))
    nucleus = NUCLEI[symbol]
    return nucleus.a, nucleus.sigma_inel_mb


#: events binned together (arrays are built per batch, then histogrammed)
BATCH_EVENTS = 500
#: PYTHIA's seed range is 0..900 000 000
_MAX_SEED = 900_000_000
#: seed of PYTHIA's initialisation (MPI tables), shared by all runs so the files can be cached
INIT_SEED = 1
#: cache kind (a folder of the cache) holding PYTHIA initialisation files
INIT_KIND = "pythia-init"
#: most events of one run (1e12 is years of PYTHIA on a cluster) and most chunks of one run (files)
MAX_EVENTS = 10**12
MAX_CHUNKS = 1_000_000
#: version of the chunking/seeding/counting rules; chunks left by another version are not resumed
ALGORITHM_VERSION = 2


@dataclass(frozen=True)
class GenerationSettings:
    """Everything that determines a spectra file (all but ``n_workers`` enter the cache key).

    ``e_beam`` is the proton beam energy [GeV]; ``target`` ``"p"`` (pp) or a nucleus of :data:`NUCLEI`
    (Angantyr; ``"angantyr-cu"`` is read as ``"Cu"``).  ``sigma_ccbar_ub`` and ``sigma_bbbar_nb`` are
    heavy-flavour cross sections per nucleon at ``e_beam``: None takes the 400 GeV defaults (20 μb,
    2.63 nb) at 400 GeV and is refused at any other energy for a run with events (module docstring).
    ``target_a`` / ``sigma_pa_inel_mb`` (None: the target nucleus', or copper's for pp) convert them
    to production per POT; ``cascade_enhancement`` multiplies charm (beauty) per POT by
    ``cascade_ccbar`` (``cascade_bbbar``).  ``pythia_settings`` are extra ``readString`` lines
    applied to every run (tunes).  ``chunk_events`` fixes the chunking and hence the random
    streams: changing it changes the (statistically equivalent) result.  The resolved values are
    stored, so the settings of a 400 GeV pp run are those (and have the cache key) of earlier versions.
    """

    n_events_soft: int = 1_000_000
    n_events_ccbar: int = 100_000
    n_events_bbbar: int = 100_000
    seed: int = 1
    e_beam: float = DEFAULT_E_BEAM
    target: str = "p"
    sigma_ccbar_ub: float | None = None
    sigma_bbbar_nb: float | None = None
    cascade_enhancement: bool = False
    cascade_ccbar: float = 2.3
    cascade_bbbar: float = 1.7
    target_a: float | None = None
    sigma_pa_inel_mb: float | None = None
    chunk_events: int = 20_000
    pythia_settings: tuple[str, ...] = ()
    n_workers: int | None = None

    def __post_init__(self) -> None:
        def _set(name, value):
            object.__setattr__(self, name, value)

        for name in ("n_events_soft", "n_events_ccbar", "n_events_bbbar", "seed", "chunk_events"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) and not (
                isinstance(v, float) and v.is_integer()
            ):
                raise InputError(f"{name} must be an integer, not {v!r}")
            _set(name, int(v))
        for name in ("n_events_soft", "n_events_ccbar", "n_events_bbbar"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0, not {getattr(self, name)}")
            if getattr(self, name) > MAX_EVENTS:  # the chunk list alone would not fit in memory
                raise InputError(f"{name} = {getattr(self, name):.3g} is above {MAX_EVENTS:.0e} events (years of "
                                 "PYTHIA); give fewer")
        if self.n_events_soft + self.n_events_ccbar + self.n_events_bbbar == 0:
            raise InputError("at least one of n_events_soft, n_events_ccbar, n_events_bbbar must be > 0")
        if not 0 <= self.seed < 2**63:
            raise InputError(f"seed must be a non-negative integer, not {self.seed}")
        if self.chunk_events < 1:
            raise InputError(f"chunk_events must be >= 1, not {self.chunk_events}")
        n_chunks = max(-(-self.n_events(r) // self.chunk_events) for r in ("soft", "ccbar", "bbbar"))
        if n_chunks > MAX_CHUNKS:
            raise InputError(f"chunk_events = {self.chunk_events} makes {n_chunks} chunks of one run (at most "
                             f"{MAX_CHUNKS}); give larger chunks")
        _set("target", canonical_target(self.target))
        for name in ("e_beam", "sigma_ccbar_ub", "sigma_bbbar_nb", "cascade_ccbar", "cascade_bbbar",
                     "target_a", "sigma_pa_inel_mb"):  # fmt: skip
            v = getattr(self, name)
            if v is None and name != "e_beam":  # resolved below
                continue
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{name} must be a number, not {v!r}") from None
            if isinstance(v, bool) or not math.isfinite(fv) or fv <= 0:
                raise InputError(f"{name} must be a finite positive number, not {v!r}")
            _set(name, fv)
        default_energy = self.e_beam == DEFAULT_E_BEAM
        for name, run, default, unit in (("sigma_ccbar_ub", "ccbar", DEFAULT_SIGMA_CCBAR_UB, "microbarn"),
                                          ("sigma_bbbar_nb", "bbbar", DEFAULT_SIGMA_BBBAR_NB, "nanobarn")):
            if getattr(self, name) is not None:
                continue
            if default_energy:
                _set(name, default)
            elif self.n_events(run) > 0:
                raise InputError(
                    f"{name} has a default only at e_beam = {DEFAULT_E_BEAM:g} GeV; give the {run} cross section "
                    f"per nucleon in {unit} at e_beam = {self.e_beam:g} GeV (with its source), or n_events_{run} = 0")
        dump = NUCLEI[DEFAULT_DUMP if self.target == "p" else self.target]
        if self.target_a is None:
            _set("target_a", dump.a)
        if self.sigma_pa_inel_mb is None:
            _set("sigma_pa_inel_mb", dump.sigma_inel_mb)
        _set("cascade_enhancement", bool(self.cascade_enhancement))
        if isinstance(self.pythia_settings, str):
            raise InputError("pythia_settings must be a sequence of 'Key = value' lines, not one string")
        lines = tuple(str(s).strip() for s in self.pythia_settings)
        for line in lines:
            if "=" not in line:
                raise InputError(f"pythia setting {line!r} is not of the form 'Key = value'")
        _set("pythia_settings", lines)
        if self.n_workers is not None:
            if isinstance(self.n_workers, bool) or int(self.n_workers) != self.n_workers or self.n_workers < 1:
                raise InputError(f"n_workers must be a positive integer, not {self.n_workers!r}")
            most = 4 * (os.cpu_count() or 1)  # each worker is a PYTHIA process of ~0.3 GB
            if self.n_workers > most:
                raise InputError(f"n_workers = {self.n_workers} is more than 4 per CPU ({most} on this machine)")
            _set("n_workers", int(self.n_workers))

    def n_events(self, run: str) -> int:
        return {"soft": self.n_events_soft, "ccbar": self.n_events_ccbar, "bbbar": self.n_events_bbbar}[run]

    def cache_settings(self) -> dict:
        """The settings that determine the result (the cache key): all but ``n_workers``, plus the
        generator version."""
        d = dataclasses.asdict(self)
        d.pop("n_workers")
        d["pythia_settings"] = list(self.pythia_settings)
        d["generator"] = f"pythia8mc {_pythia_version()}"
        return d

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["pythia_settings"] = list(self.pythia_settings)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> "GenerationSettings":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields - {"generator"}
        if unknown:
            raise ConfigError(f"unknown generation setting(s): {', '.join(sorted(unknown))}")
        kw = {k: v for k, v in d.items() if k in fields}
        if "pythia_settings" in kw:
            kw["pythia_settings"] = tuple(kw["pythia_settings"])
        return cls(**kw)


# ------------------------------------------------------------------------------- PYTHIA access
def _pythia_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("pythia8mc")
    except PackageNotFoundError:
        return "not-installed"


def _import_pythia():
    try:
        import pythia8mc
    except ImportError as exc:
        raise ConfigError(PYTHIA_MISSING) from exc
    return pythia8mc


def chunk_seed(seed: int, run: str, index: int) -> int:
    """PYTHIA seed (1 … 900 000 000) of chunk ``index`` of ``run``; index -1 is the initialisation."""
    h = hashlib.sha256(f"fipscan-spectra:{int(seed)}:{run}:{int(index)}".encode()).digest()
    return 1 + int.from_bytes(h[:8], "little") % (_MAX_SEED - 1)


def _is_ion(run: str, settings: GenerationSettings) -> bool:
    """Whether ``run`` collides with a nucleus (Angantyr): the soft run of a nucleus target (heavy
    flavour always comes from pp hard runs, scaled by A)."""
    return run == "soft" and settings.target != "p"


def _init_files(run: str, settings: GenerationSettings, initdir: pathlib.Path) -> dict[str, pathlib.Path]:
    files = {"mpi": initdir / "init.mpi"}
    if _is_ion(run, settings):
        files["sigfit"] = initdir / "init.sigfit"
        files["sasd"] = initdir / "init.sasd.mpi"
    return files


def pythia_lines(settings: GenerationSettings, run: str, seed: int, initdir: pathlib.Path,
                 *, prepare: bool) -> list[str]:  # fmt: skip
    """The ``readString`` lines of one PYTHIA instance.

    ``prepare=True`` initialises from scratch and saves the initialisation files (MPI tables,
    Angantyr's nucleon cross-section fit) into ``initdir``; otherwise they are read back
    (``reuseInit = 2``), so every chunk starts from the same initialisation whatever process
    runs it.
    """
    ion = _is_ion(run, settings)
    nucleus = NUCLEI[settings.target] if ion else None
    lines = []
    if nucleus is not None and nucleus.isotope_mass_u is not None:
        # an isotope PYTHIA's particle data lack: id:all = name antiName spinType chargeType colType m0
        # (an even-even nucleus: spin 0, spinType 1; chargeType = 3 Z; m0 the atomic mass in GeV)
        sym = f"{nucleus.pdg_id // 10 % 1000}{nucleus.symbol}"
        lines.append(f"{nucleus.pdg_id}:all = {sym} {sym}bar 1 {3 * nucleus.z} 0 "
                     f"{nucleus.isotope_mass_u * _U_GEV:.6f}")
    lines += [
        "Beams:frameType = 2",
        f"Beams:idA = {PROTON_ID}",
        f"Beams:idB = {nucleus.pdg_id if ion else PROTON_ID}",
        f"Beams:eA = {settings.e_beam!r}",
        "Beams:eB = 0.",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Print:quiet = on",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowInfo = 0",
        "Next:numberShowProcess = 0",
    ]
    if run == "soft":
        lines.append("SoftQCD:inelastic = on")
    else:
        lines += [f"HardQCD:hard{run} = on", "PhaseSpace:mHatMin = 0.", "PhaseSpace:pTHatMin = 0."]
    mode = 1 if prepare else 2
    files = _init_files(run, settings, initdir)
    lines += [f"MultipartonInteractions:reuseInit = {mode}", f"MultipartonInteractions:initFile = {files['mpi']}"]
    if ion:
        lines += [
            "HeavyIon:mode = 1",
            f"HeavyIon:SigFitReuseInit = {mode}",
            f"HeavyIon:SigFitInitFile = {files['sigfit']}",
            f"HeavyIon:SasdMpiReuseInit = {mode}",
            f"HeavyIon:SasdMpiInitFile = {files['sasd']}",
        ]
    lines += list(settings.pythia_settings)
    return lines


def _make_pythia(lines: list[str]):
    p8 = _import_pythia()
    py = p8.Pythia("", False)
    for line in lines:
        if not py.readString(line):
            raise ConfigError(f"PYTHIA rejected the setting {line!r}")
    if not py.init():
        raise FipscanError("PYTHIA failed to initialise (settings: " + "; ".join(lines) + ")")
    return py


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send C-level stdout (PYTHIA's banners) to stderr, so ``--json`` output stays clean."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real file descriptor (embedded interpreters)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# ----------------------------------------------------------------------------- chunk generation
def _bin_batch(j, px, py, pz, n_species: int, counts, under, over) -> None:
    """Add one batch of particles (species index j, momentum components) to the count arrays."""
    j = np.asarray(j, dtype=np.int64)
    px, py, pz = (np.asarray(a, dtype=np.float64) for a in (px, py, pz))
    pt = np.hypot(px, py)
    p = np.hypot(pt, pz)
    theta = np.arctan2(pt, pz)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.log10(p)
        lt = np.log10(theta)
    ip = np.searchsorted(LOG10P_EDGES, lp, side="right") - 1
    it = np.searchsorted(LOG10THETA_EDGES, lt, side="right") - 1
    low = (ip < 0) | (it < 0)
    high = ~low & ((ip >= N_P) | (it >= N_THETA))
    ok = ~(low | high)
    flat = (j[ok] * N_P + ip[ok]) * N_THETA + it[ok]
    counts += np.bincount(flat, minlength=counts.size).reshape(counts.shape)
    under += np.bincount(j[low], minlength=n_species)
    over += np.bincount(j[high], minlength=n_species)


def _chunk_name(run: str, index: int) -> str:
    return f"{run}-{index:05d}.npz"


def _chunk_plan(settings: GenerationSettings) -> list[tuple[str, int, int]]:
    plan = []
    for run in RUN_KINDS:
        n = settings.n_events(run)
        for i, start in enumerate(range(0, n, settings.chunk_events)):
            plan.append((run, i, min(settings.chunk_events, n - start)))
    return plan


def init_dir(settings: GenerationSettings, run: str) -> pathlib.Path:
    """Cache folder of PYTHIA's initialisation files for ``run`` with these settings.

    The initialisation (MPI tables; Angantyr's fit) uses the fixed seed :data:`INIT_SEED`, so it
    depends on the physics settings only and is shared by runs with any seed.
    """
    lines = pythia_lines(settings, run, INIT_SEED, pathlib.Path("<init>"), prepare=True)
    key = cache.canonical_key(INIT_KIND, {"lines": lines, "pythia8mc": _pythia_version()}, 1)
    return cache.cache_root() / INIT_KIND / key


def _prepared_info(settings: GenerationSettings, run: str) -> dict | None:
    idir = init_dir(settings, run)
    marker = idir / "prepared.json"
    if not marker.exists() or not all(p.exists() for p in _init_files(run, settings, idir).values()):
        return None
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):
        return None


def _prepare_run(task: tuple[str, dict]) -> dict:
    """Initialise PYTHIA for ``run`` from scratch once, saving the initialisation files.

    Runs under a lock on the initialisation folder, so concurrent generations share the work.
    """
    run, settings_d = task
    settings = GenerationSettings.from_dict(settings_d)
    idir = init_dir(settings, run)
    with cache._locked(idir.with_suffix(".lock")):
        info = _prepared_info(settings, run)
        if info is not None:
            return info
        shutil.rmtree(idir, ignore_errors=True)
        idir.mkdir(parents=True)
        t0 = time.monotonic()
        py = _make_pythia(pythia_lines(settings, run, INIT_SEED, idir, prepare=True))
        info = {
            "run": run,
            "pythia_version": f"{py.parm('Pythia:versionNumber'):.3f}",
            "init_seconds": round(time.monotonic() - t0, 3),
        }
        if not _is_ion(run, settings):
            # PYTHIA's pp cross sections at this energy (SaS/DL parametrisation): total, elastic
            sig_tot, sig_el = py.getSigmaPartial(0), py.getSigmaPartial(2)
            info["sigma_pp_total_mb"] = sig_tot
            info["sigma_pp_inelastic_mb"] = sig_tot - sig_el
        for path in _init_files(run, settings, idir).values():
            if not path.exists():
                raise FipscanError(f"PYTHIA did not write its initialisation file {path}")
        atomic_write_json(idir / "prepared.json", info)
    return info


def _run_chunk(task: tuple[str, int, int, dict, str]) -> dict:
    """Generate one chunk and write its count arrays to ``workdir/<run>-<index>.npz``."""
    run, index, n_events, settings_d, workdir_s = task
    settings = GenerationSettings.from_dict(settings_d)
    workdir = pathlib.Path(workdir_s)
    seed = chunk_seed(settings.seed, run, index)
    t0 = time.monotonic()
    py = _make_pythia(pythia_lines(settings, run, seed, init_dir(settings, run), prepare=False))
    names = RUN_SPECIES[run]
    lut = {abs(pid): k for k, sp in enumerate(names) for pid in PDG_IDS[sp]}
    j_gamma = names.index("gamma") if "gamma" in names else -1
    n_sp = len(names)
    counts = np.zeros((n_sp, N_P, N_THETA), dtype=np.int64)
    under = np.zeros(n_sp, dtype=np.int64)
    over = np.zeros(n_sp, dtype=np.int64)
    failed = 0
    max_failed = 100 + n_events // 10
    done = 0
    # pythia8mc's array interface (Pythia.nextBatch) returns Awkward arrays and needs the awkward
    # package, which fipscan does not depend on; so loop over the event record, keep only the
    # matching entries, and build numpy arrays per batch of events
    next_event, event = py.next, py.event
    while done < n_events:
        n_batch = min(BATCH_EVENTS, n_events - done)
        js: list[int] = []
        pxs: list[float] = []
        pys: list[float] = []
        pzs: list[float] = []
        for _ in range(n_batch):
            while not next_event():
                failed += 1
                if failed > max_failed:
                    raise FipscanError(f"PYTHIA failed {failed} times in chunk {index} of the {run} run")
            parts = event.particles()
            for prt in parts:
                k = lut.get(prt.idAbs())
                if k is None:
                    continue
                if k == j_gamma:
                    if prt.status() <= 0:
                        continue
                else:
                    m = prt.mother1()
                    if m > 0 and parts[m].idAbs() == prt.idAbs() and prt.mother2() in (0, m):
                        continue  # a bookkeeping copy of a particle already counted
                js.append(k)
                pxs.append(prt.px())
                pys.append(prt.py())
                pzs.append(prt.pz())
        _bin_batch(js, pxs, pys, pzs, n_sp, counts, under, over)
        done += n_batch
    info = py.infoPython()
    result = {
        "run": run,
        "index": index,
        "n_events": n_events,
        "n_failed": failed,
        "seed": seed,
        "sigma_gen_mb": float(info.sigmaGen()),
        "seconds": time.monotonic() - t0,
    }
    arrays = {"counts": counts, "under": under, "over": over, "species": np.array(names),
              "meta": np.array(json.dumps(result))}
    atomic_write(workdir / _chunk_name(run, index), lambda fh: np.savez_compressed(fh, **arrays))
    return result


def _load_chunk(path: pathlib.Path, run: str, index: int, n_events: int, seed: int):
    """The arrays of a finished chunk, or None when it is missing or damaged (then regenerated)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in ("counts", "under", "over")}
            species = tuple(str(s) for s in z["species"])
    except Exception:  # missing, truncated, not a zip: regenerate
        return None
    n_sp = len(RUN_SPECIES[run])
    if (meta.get("run"), meta.get("index"), meta.get("n_events"), meta.get("seed")) != (run, index, n_events, seed) \
            or species != RUN_SPECIES[run] or arrays["counts"].shape != (n_sp, N_P, N_THETA):  # fmt: skip
        return None
    return meta, arrays


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    with contextlib.suppress(OSError):
        os.dup2(2, 1)  # PYTHIA banners to stderr


def _report_chunk(result: dict) -> None:
    """Called in the parent after every finished chunk (a hook for tests)."""


def _say(show: bool, text: str) -> None:
    """A message on stderr (when ``show``) that does not break a progress bar being drawn."""
    if show:
        tqdm.write(f"fipscan: {text}", file=sys.stderr)


# --------------------------------------------------------------------------------- the driver
def _run_all(settings: GenerationSettings, workdir: pathlib.Path, show: bool, n_workers: int) -> dict:
    plan = _chunk_plan(settings)
    runs = [r for r in RUN_KINDS if settings.n_events(r) > 0]
    manifest = workdir / "manifest.json"
    want = {"settings": settings.cache_settings(), "schema_version": SCHEMA_VERSION, "algorithm": ALGORITHM_VERSION}
    if manifest.exists():
        try:
            same = json.loads(manifest.read_text()) == json.loads(json.dumps(want))
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(manifest, want)

    prepared: dict[str, dict] = {}
    for run in runs:
        info = _prepared_info(settings, run)
        if info is not None:
            prepared[run] = info
    to_prepare = [r for r in runs if r not in prepared]

    results: dict[tuple[str, int], dict] = {}
    missing = []
    n_resumed = 0
    for run, index, n in plan:
        got = _load_chunk(workdir / _chunk_name(run, index), run, index, n, chunk_seed(settings.seed, run, index))
        if got is not None:
            results[(run, index)] = got[0]
            n_resumed += n
            continue
        missing.append((run, index, n, settings.to_dict(), str(workdir)))
    if results:
        _say(show, f"resuming: {len(results)} of {len(plan)} chunks already done in {workdir}")
    prep_tasks = [(r, settings.to_dict()) for r in to_prepare]
    if to_prepare:
        _say(show, "initialising PYTHIA for the " + ", ".join(to_prepare) + " run(s)")
    # events already on disk are the bar's start (they do not count towards the rate); off a
    # terminal (batch logs) the bar is redrawn every 10 s only
    bar = tqdm(total=sum(n for *_, n in plan), initial=n_resumed, unit="ev", desc="fipscan", disable=not show,
               file=sys.stderr, mininterval=0.1 if sys.stderr.isatty() else 10.0)  # fmt: skip

    def on_done(res: dict) -> None:
        results[(res["run"], res["index"])] = res
        bar.set_postfix_str(res["run"], refresh=False)
        bar.update(res["n_events"])
        _report_chunk(res)

    n_workers = max(1, min(n_workers, len(missing) or 1))
    with bar:
        if n_workers == 1:
            with _stdout_to_stderr():
                for t in prep_tasks:
                    prepared[t[0]] = _prepare_run(t)
                for t in missing:
                    on_done(_run_chunk(t))
        else:
            ctx = multiprocessing.get_context("spawn")
            pool = ctx.Pool(n_workers, initializer=_worker_init)
            try:
                for info in pool.imap_unordered(_prepare_run, prep_tasks):
                    prepared[info["run"]] = info
                for res in pool.imap_unordered(_run_chunk, missing):
                    on_done(res)
                pool.close()
            except BaseException:
                pool.terminate()
                raise
            finally:
                pool.join()
    return {"prepared": prepared, "results": results, "plan": plan}


def _merge(settings: GenerationSettings, workdir: pathlib.Path, state: dict) -> tuple[dict, dict]:
    """Sum the chunk files (in a fixed order, integer counts: exact) per run."""
    sums = {}
    for run in RUN_KINDS:
        n_sp = len(RUN_SPECIES[run])
        tot = {
            "counts": np.zeros((n_sp, N_P, N_THETA), dtype=np.int64),
            "under": np.zeros(n_sp, dtype=np.int64),
            "over": np.zeros(n_sp, dtype=np.int64),
            "n_events": 0,
            "n_failed": 0,
            "sigma_gen_weighted": 0.0,
            "seeds": [],
        }
        for r, index, n in state["plan"]:
            if r != run:
                continue
            got = _load_chunk(workdir / _chunk_name(run, index), run, index, n, chunk_seed(settings.seed, run, index))
            if got is None:
                raise CacheError(f"chunk {index} of the {run} run in {workdir} vanished or is damaged; rerun to resume")
            meta, arrays = got
            for k in ("counts", "under", "over"):
                tot[k] += arrays[k]
            tot["n_events"] += n
            tot["n_failed"] += int(meta["n_failed"])
            tot["sigma_gen_weighted"] += float(meta["sigma_gen_mb"]) * n
            tot["seeds"].append(int(meta["seed"]))
        sums[run] = tot
    return sums, state["prepared"]


def _build_spectra(settings: GenerationSettings, sums: dict, prepared: dict, extra_prov: Mapping) -> Spectra:
    sig_pp = next(
        (info["sigma_pp_inelastic_mb"] for info in prepared.values() if "sigma_pp_inelastic_mb" in info), None
    )
    if sig_pp is None:  # only an Angantyr soft run: ask PYTHIA for the pp value without generating
        with _stdout_to_stderr():
            py = _make_pythia(
                ["Beams:frameType = 2", f"Beams:idA = {PROTON_ID}", f"Beams:idB = {PROTON_ID}",
                 f"Beams:eA = {settings.e_beam!r}", "Beams:eB = 0.", "SoftQCD:inelastic = on",
                 "Print:quiet = on", "PartonLevel:all = off", "HadronLevel:all = off"]  # fmt: skip
            )
            sig_pp = py.getSigmaPartial(0) - py.getSigmaPartial(2)
    sigma = {"inelastic": float(sig_pp)}
    if settings.sigma_ccbar_ub is not None:  # None: a run without events away from 400 GeV
        sigma["ccbar"] = settings.sigma_ccbar_ub * 1e-3
    if settings.sigma_bbbar_nb is not None:
        sigma["bbbar"] = settings.sigma_bbbar_nb * 1e-6
    sigma["pA_inelastic"] = settings.sigma_pa_inel_mb
    hist, counts, under, over, per_pot, per_pp = {}, {}, {}, {}, {}, {}
    for run in RUN_KINDS:
        tot = sums[run]
        n = tot["n_events"]
        if run == "soft":
            w_pot = w_pp = 1.0 / n if n else 0.0
        else:
            sig_qq = sigma.get(run, 0.0)  # absent only when the run has no events
            cascade = (settings.cascade_ccbar if run == "ccbar" else settings.cascade_bbbar) \
                if settings.cascade_enhancement else 1.0  # fmt: skip
            w_pot = (sig_qq * settings.target_a / settings.sigma_pa_inel_mb * cascade / n) if n else 0.0
            w_pp = (sig_qq / sig_pp / n) if n else 0.0
        for k, sp in enumerate(RUN_SPECIES[run]):
            c = tot["counts"][k]
            total = int(c.sum()) + int(tot["under"][k]) + int(tot["over"][k])
            counts[sp] = c
            hist[sp] = _readonly(c * w_pot)
            under[sp] = float(tot["under"][k] * w_pot)
            over[sp] = float(tot["over"][k] * w_pot)
            per_pot[sp] = float(total * w_pot)
            per_pp[sp] = float(total * w_pp)
    sigma_gen = {
        run: (sums[run]["sigma_gen_weighted"] / sums[run]["n_events"]) if sums[run]["n_events"] else None
        for run in RUN_KINDS
    }
    prov = {
        "generator": "PYTHIA 8",
        "generator_version": next((i["pythia_version"] for i in prepared.values()), None),
        "pythia8mc_version": _pythia_version(),
        "settings": settings.cache_settings(),
        "pythia_settings": {
            run: pythia_lines(settings, run, chunk_seed(settings.seed, run, 0), pathlib.Path("<init>"),
                              prepare=False)
            for run in RUN_KINDS if settings.n_events(run)  # fmt: skip
        },
        "seeds": {
            "base": settings.seed,
            "rule": "chunk i of run r: 1 + (int.from_bytes(sha256(f'fipscan-spectra:{seed}:{r}:{i}')[:8], "
            "'little') mod 899999999); the initialisation (MPI tables) of every run uses seed "
            f"{INIT_SEED}",
            **{run: sums[run]["seeds"] for run in RUN_KINDS},
        },
        "n_events": {run: sums[run]["n_events"] for run in RUN_KINDS},
        "n_failed_events": {run: sums[run]["n_failed"] for run in RUN_KINDS},
        "sigma_pythia_mb": {
            "pp_total": next((i["sigma_pp_total_mb"] for i in prepared.values() if "sigma_pp_total_mb" in i), None),
            "pp_inelastic": sig_pp,
            "soft_generated": sigma_gen["soft"],
            "ccbar_LO": sigma_gen["ccbar"],
            "bbbar_LO": sigma_gen["bbbar"],
        },
        "normalisation": (
            "light mesons and photons: per_pot = per_pp_collision = count / N_soft (one inelastic primary "
            "interaction per POT; per p-nucleus collision for a nucleus target); heavy flavour: per_pot = count / "
            "N_hard * sigma_QQ * A / sigma_inel(pA) [* cascade factor], per_pp_collision = count / N_hard * "
            "sigma_QQ / sigma_inel(pp)"
        ),
        "counting": (
            "every event-record entry with a matching |PDG id| (decayed ones included, so feed-down such as "
            "eta/omega/K_S -> pi0 and D* -> D is counted); photons only when final; light mesons and photons "
            "from the soft run only, charm from the ccbar run only, beauty from the bbbar run only"
        ),
        "fipscan_version": _fipscan_version(),
        **dict(extra_prov),
    }
    n_events = {run: sums[run]["n_events"] for run in RUN_KINDS}
    return Spectra(
        log10p_edges=_readonly(LOG10P_EDGES),
        log10theta_edges=_readonly(LOG10THETA_EDGES),
        hist=_frozen({sp: hist[sp] for sp in SPECIES}),
        underflow=_frozen({sp: under[sp] for sp in SPECIES}),
        overflow=_frozen({sp: over[sp] for sp in SPECIES}),
        per_pot=_frozen({sp: per_pot[sp] for sp in SPECIES}),
        per_pp_collision=_frozen({sp: per_pp[sp] for sp in SPECIES}),
        sigma_mb=_frozen(sigma),
        provenance=_frozen(prov),
        counts=_frozen({sp: counts[sp] for sp in SPECIES}),
        n_events=_frozen(n_events),
    )


def _fipscan_version() -> str:
    from fipscan import __version__

    return __version__


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (batch systems, ``kill``) like Ctrl-C: stop workers, keep finished chunks."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def partial_dir(settings: GenerationSettings) -> pathlib.Path:
    """Where the finished chunks of an unfinished generation are kept (for resuming)."""
    key = cache.canonical_key(KIND, settings.cache_settings(), SCHEMA_VERSION)
    return cache.entry_path(KIND, key).with_suffix(".partial")


def generate(
    settings: GenerationSettings | None = None,
    *,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    resume: bool = True,
) -> Spectra:
    """Generate spectra with PYTHIA 8 (or return them from the cache), optionally copied to ``out``.

    The result is stored in the cache (kind ``"spectra"``, keyed by
    :meth:`GenerationSettings.cache_settings`); an identical request later returns it at once.
    With ``resume`` (default), chunks left by an interrupted run with the same settings are
    reused; ``resume=False`` starts afresh.  Progress goes to stderr.  Raises
    :class:`~fipscan.errors.ConfigError` when PYTHIA (``pythia8mc``) is not installed.
    """
    settings = GenerationSettings() if settings is None else settings
    if not isinstance(settings, GenerationSettings):
        raise InputError(f"settings must be a GenerationSettings, not {type(settings).__name__}")
    _import_pythia()
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ConfigError(
            "generate() was called while a worker process was importing the main module; "
            "guard the calling script with: if __name__ == '__main__':"
        )
    n_workers = settings.n_workers or os.cpu_count() or 1
    workdir = partial_dir(settings)
    built = []

    def build(f) -> None:
        if not resume and workdir.exists():
            shutil.rmtree(workdir)
        t0 = time.monotonic()
        try:
            state = _run_all(settings, workdir, progress, n_workers)
        except KeyboardInterrupt:
            n_done = len(list(workdir.glob("*.npz"))) if workdir.exists() else 0
            _say(progress, f"interrupted: {n_done} finished chunk(s) kept in {workdir}; run the same command to resume")
            raise
        sums, prepared = _merge(settings, workdir, state)
        spectra = _build_spectra(
            settings, sums, prepared, {"n_workers": n_workers, "wall_seconds": round(time.monotonic() - t0, 3)}
        )
        write_spectra(f, spectra)
        built.append(True)

    with _sigterm_as_interrupt():
        path = cache.get_or_build(KIND, settings.cache_settings(), SCHEMA_VERSION, build)
    if built:
        shutil.rmtree(workdir, ignore_errors=True)
    elif progress:
        print(f"fipscan: spectra found in the cache: {path}", file=sys.stderr)
    if out is not None:
        atomic_copy(path, pathlib.Path(out))
    return load_spectra(path)
