"""Spectra files registered by beam: the names an experiment TOML's ``beam.spectra`` may give.

Each shipped file lives in ``fipscan/spectra/data/`` (package data, ``pyproject.toml``), was made by the
``fipscan spectra generate`` command recorded here (its settings are inside the file too) and is named
``<collision>-<energy>gev``: ``pp-400gev`` (alias ``default``, what ``beam.spectra`` defaults to),
``pp-70gev``, ``pcu-400gev`` (protons on copper, Angantyr: the production band's alternative to
pp-400gev) and ``pmo-400gev`` (protons on molybdenum, SHiP's target).  Adding a beam is one generated
file plus one :data:`SHIPPED` entry.

Package-size budget: each shipped file at most :data:`SIZE_BUDGET_BYTES` (400 kB, the size of the first,
400 GeV file), i.e. ~10^6 inelastic events; ``tests/test_nucal_spectra.py`` checks it.

``beam.spectra`` may also be a path to any file made by ``fipscan spectra generate``.  A name that is
neither (or a shipped file missing from the installation) is a one-line :class:`ConfigError` naming the
command that makes it (:func:`spectra_path`).  Light module: no numpy, h5py or PYTHIA.
"""

from __future__ import annotations

import importlib.resources
import os
import pathlib
import re
import shlex
from dataclasses import dataclass

from fipscan.errors import ConfigError

__all__ = ["ShippedSpectra", "SHIPPED", "ALIASES", "SIZE_BUDGET_BYTES", "shipped_names", "shipped_entry",
           "shipped_for_energy", "alternative_spectra", "spectra_path", "make_command", "generate_command_for",
           "placeholder_note"]

#: most bytes a shipped spectra file may take (the package-size budget of each file)
SIZE_BUDGET_BYTES = 400_000


@dataclass(frozen=True)
class ShippedSpectra:
    """One shipped spectra file: ``name`` (what ``beam.spectra`` says), ``filename`` in
    ``fipscan/spectra/data/``, the beam it is for (``beam_energy_gev``, ``target`` as ``--target`` takes
    it), ``arguments`` of ``fipscan spectra generate`` that made it (``-o`` added by :meth:`command`),
    and ``note``: the event counts, the size budget and the source of every non-default number."""

    name: str
    filename: str
    beam_energy_gev: float
    target: str
    arguments: tuple[str, ...]
    note: str

    def path(self) -> pathlib.Path:
        """Where the file is in this installation (it may be missing)."""
        return pathlib.Path(str(importlib.resources.files("fipscan.spectra") / "data" / self.filename))

    def command(self, out: str | os.PathLike | None = None) -> str:
        """The exact shell command that makes the file, written to ``out`` (default: its installed path)."""
        out = self.path() if out is None else out
        return shlex.join(["fipscan", "spectra", "generate", *self.arguments, "-o", str(out)])


SHIPPED: dict[str, ShippedSpectra] = {
    "pp-400gev": ShippedSpectra(
        name="pp-400gev", filename="default_spectra.h5", beam_energy_gev=400.0, target="p",
        arguments=("--beam-energy", "400", "--target", "p"),
        note="SPS: 400 GeV protons, pp collisions (PYTHIA 8); the defaults of 'fipscan spectra generate': "
             "1e6 inelastic, 1e5 c-cbar and 1e5 b-bbar events, seed 1; sigma_cc = 20 ub, sigma_bb = 2.63 nb per "
             "nucleon (ALPINIST, arXiv:2201.05170); copper's A/sigma_inel(pA) for heavy flavour per POT; "
             "~600 s on 2 cores, 398 kB (the 400 kB budget per file)",
    ),
    "pp-70gev": ShippedSpectra(
        name="pp-70gev", filename="pp_70gev.h5", beam_energy_gev=70.0, target="p",
        arguments=("--beam-energy", "70", "--target", "p", "--dump", "Fe", "--sigma-ccbar-ub", "1.6",
                   "--bbbar-events", "0"),
        note="U70 (Serpukhov, NuCal): 70 GeV protons, pp collisions (PYTHIA 8); 1e6 inelastic and 1e5 c-cbar "
             "events (the defaults), no b-bbar run (sqrt(s) = 11.5 GeV is 1 GeV above the B Bbar threshold: "
             "beauty is left out, its per-POT numbers are 0); seed 1. sigma_cc = 1.6 ub, the SVD measurement "
             "in pp at 70 GeV/c (1.6 +1.1 -0.7 (stat) +- 0.3 (syst) ub; SVD Collaboration, Phys. Atom. Nucl. 64 "
             "(2001) 891); SVD-2 measured 7.1 +- 2.3 +- 1.4 ub per nucleon in pA at 70 GeV (PoS ICHEP2016 "
             "(2017) 720), a factor 4 above: the charm of this file is uncertain by that much. Heavy flavour per "
             "POT with iron's A = 55.845 and sigma_inel(p Fe) = 702 mb (PDG lambda_I = 132.1 g/cm2; NuCal's "
             "dump is iron). Budget: <= 15 min on 1-2 cores and <= 400 kB (the 400 GeV file's size); made in "
             "172 s with 2 workers on a shared 2-core machine, 300 kB",
    ),
    "pmo-400gev": ShippedSpectra(
        name="pmo-400gev", filename="pmo_400gev.h5", beam_energy_gev=400.0, target="Mo",
        arguments=("--beam-energy", "400", "--target", "Mo", "--events", "200000"),
        note="SPS at ECN3 (SHiP): 400 GeV protons on molybdenum, the TZM blocks at the front of SHiP's target where "
             "the primary interactions happen (fipscan/experiments/ship.toml). Choice: proton-nucleus light mesons "
             "through PYTHIA 8's Angantyr (p + Mo-96), not pp spectra with '--dump Mo', because the shipped file "
             "should hold the collision SHiP's target makes, and a p+Mo collision differs from a pp one exactly "
             "where SHiP looks: 1.8x the pi0 per POT in all (8.9 vs 5.0), +17% at p > 10 GeV and theta < 30 mrad, "
             "-30% above 100 GeV; it was affordable: 0.6 ms per p+Mo event on one core (1000 events in 16 s "
             "including Angantyr's ~14 s initialisation), so 2e5 soft events take ~2 min, within the 15 min "
             "budget on one core (the pp convention stays one command away: '--target p --dump Mo'). Heavy "
             "flavour is the same in both options: pp hard runs at the 400 GeV defaults (sigma_cc = 20 ub, "
             "sigma_bb = 2.63 nb per nucleon, ALPINIST arXiv:2201.05170) per POT with "
             "molybdenum's A = 95.95 and sigma_inel(p Mo) = 1042 mb (PDG lambda_I = 152.9 g/cm2). Counts: 2e5 "
             "p+Mo inelastic events (soft), 1e5 c-cbar and 1e5 b-bbar pp events (the defaults), seed 1. Made by "
             "'fipscan spectra generate --beam-energy 400 --target Mo --events 200000 --workers 1 -o "
             "fipscan/spectra/data/pmo_400gev.h5' (the result does not depend on the workers): 162 s on one core "
             "of a shared 2-core machine with Angantyr's initialisation already cached (~14 s more without), "
             "361486 bytes (the 400 kB budget per file)",
    ),
    "pcu-400gev": ShippedSpectra(
        name="pcu-400gev", filename="pcu_400gev.h5", beam_energy_gev=400.0, target="Cu",
        arguments=("--beam-energy", "400", "--target", "Cu", "--events", "200000"),
        note="SPS: 400 GeV protons on copper (NA62's TAX, CHARM's dump), light mesons from p + Cu-63 collisions "
             "through PYTHIA 8's Angantyr: the proton-nucleus alternative of pp-400gev for the production band "
             "(fipscan.bands: pp against p-Cu). Per POT 1.64x the pi0, 1.60x the eta, 1.58x the eta', 1.55x the "
             "K+ of pp-400gev (one primary p-Cu collision per POT against one pp collision). Heavy flavour "
             "identical to pp-400gev (the same pp hard runs and seeds, copper's A/sigma_inel). Counts: 2e5 p+Cu "
             "inelastic events, 1e5 c-cbar and 1e5 b-bbar pp events, seed 1. Made with '--workers 1' (the "
             "result does not depend on the workers) in 160 s on one core of a shared 2-core machine "
             "(Angantyr's initialisation included), 360073 bytes (the 400 kB budget per file)",
    ),
}

#: other names of shipped files
ALIASES: dict[str, str] = {"default": "pp-400gev"}


def shipped_names() -> tuple[str, ...]:
    """Every name ``beam.spectra`` may give for a shipped file (aliases included), sorted."""
    return tuple(sorted({*SHIPPED, *ALIASES}))


def shipped_entry(name: str) -> ShippedSpectra | None:
    """The :class:`ShippedSpectra` of ``name`` (or its alias), None for any other string."""
    if not isinstance(name, str):
        return None
    return SHIPPED.get(ALIASES.get(name, name))


def shipped_for_energy(energy_gev: float) -> ShippedSpectra | None:
    """The shipped pp file for a beam of ``energy_gev`` [GeV] (relative tolerance 1e-6), or None."""
    for entry in SHIPPED.values():
        if entry.target == "p" and abs(entry.beam_energy_gev - float(energy_gev)) <= 1e-6 * entry.beam_energy_gev:
            return entry
    return None


def alternative_spectra(name: str, beam_energy_gev: float, target_material: str) -> tuple[str, ...]:
    """The other shipped spectra for an experiment whose ``beam.spectra`` is ``name``: files for the same
    beam energy [GeV] (relative 1e-6) made with pp collisions or with collisions on the experiment's own
    ``target_material`` (e.g. "Cu"), the file ``name`` itself excluded (an unshipped ``name``: every such
    file).  The production band's spectra variations (fipscan.bands): pp against proton-nucleus."""
    own = shipped_entry(name)
    out = []
    for key, entry in SHIPPED.items():
        if own is not None and key == own.name:
            continue
        if abs(entry.beam_energy_gev - float(beam_energy_gev)) > 1e-6 * entry.beam_energy_gev:
            continue
        if entry.target == "p" or entry.target.lower() == str(target_material).strip().lower():
            out.append(key)
    return tuple(out)


def _looks_like_path(name: str) -> bool:
    return name.endswith((".h5", ".hdf5")) or os.sep in name or "/" in name


def generate_command_for(name: str, beam_energy_gev: float | None) -> str:
    """The ``fipscan spectra generate`` command that makes spectra for an unregistered ``name``: the
    beam energy of the experiment (or of a ``<collision>-<E>gev`` name), pp collisions, and, away from
    400 GeV, the heavy-flavour cross sections the user must choose (they have no default there)."""
    energy = beam_energy_gev
    if energy is None:
        m = re.fullmatch(r"[a-z]+-(\d+(?:\.\d+)?)gev", name.lower())
        energy = float(m.group(1)) if m else 400.0
    out = name if _looks_like_path(name) else f"{name}.h5"
    args = ["fipscan", "spectra", "generate", "--beam-energy", f"{energy:g}", "--target", "p"]
    if abs(energy - 400.0) > 1e-6 * 400.0:
        args += ["--sigma-ccbar-ub", "SIGMA_CC_UB", "--sigma-bbbar-nb", "SIGMA_BB_NB"]
    return shlex.join([*args, "-o", out])


def placeholder_note(beam_energy_gev: float | None) -> str:
    """What the placeholders of :func:`generate_command_for` stand for ("" at 400 GeV, where the heavy-flavour
    cross sections have defaults)."""
    if beam_energy_gev is None or abs(beam_energy_gev - 400.0) <= 1e-6 * 400.0:
        return ""
    return (f" (SIGMA_CC_UB, SIGMA_BB_NB: the c-cbar [ub] and b-bbar [nb] cross sections per nucleon at "
            f"{beam_energy_gev:g} GeV, which have no default there; or --ccbar-events 0 --bbbar-events 0)")


def make_command(name: str, beam_energy_gev: float | None = None) -> str:
    """The command that makes the spectra ``name`` (the recorded one for a shipped name)."""
    entry = shipped_entry(name)
    return entry.command() if entry is not None else generate_command_for(name, beam_energy_gev)


def spectra_path(name: str, *, beam_energy_gev: float | None = None, where: str = "spectra") -> pathlib.Path:
    """The file of a shipped spectra ``name`` or of a path; ConfigError naming the command that makes it
    when the shipped file is missing or ``name`` is neither shipped nor an existing file.

    ``beam_energy_gev`` (the experiment's beam) goes into the command for an unregistered name; ``where``
    starts the message (e.g. "<file>: 'beam.spectra'", the default "spectra").
    """
    entry = shipped_entry(name)
    if entry is not None:
        path = entry.path()
        if not path.is_file():
            raise ConfigError(f"{where} names the shipped spectra '{name}', whose file {path} is missing from this "
                              f"installation; make it with: {entry.command()}")
        return path
    path = pathlib.Path(name)
    if path.is_file():
        return path
    hint = ("" if _looks_like_path(name)
            else f" and set beam.spectra = '{name}.h5'" if where.endswith("'beam.spectra'") else "")
    hint += placeholder_note(beam_energy_gev)
    raise ConfigError(f"{where} names no file and no shipped spectra: '{name}' (shipped: "
                      f"{', '.join(shipped_names())}); make it with: {generate_command_for(name, beam_energy_gev)}{hint}")
