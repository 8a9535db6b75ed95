"""Experiments as data: one TOML file per experiment, parsed once into typed parts.

``load_experiment("na62-bd")`` finds ``na62_bd.toml`` in this folder; a path to any TOML file of the
same layout works too.  The file is read once, every key validated (type, range, relations such as
r_min < r_max and decay volumes inside the detector's reach) and unknown or missing keys refused with
one line naming the file and the key.  The :class:`Experiment` owns everything below it: the beam
(energy, particle, POT, the spectra file it needs), the target, the production point, the decay
volume of each final-state class ("charged", "neutral"), the detector (fipscan.detectors), the
selection, efficiency and background of each final state, the statistics and the binning of the
yield and acceptance tables.  Nothing downstream reads the TOML again.

Layout (see ``na62_bd.toml`` for a full example)::

    name, title, kind = "beam-dump", references
    [beam]       particle, energy_gev, pot, pot_uncertainty, pot_projection, spectra, cascade_enhancement
    [target]     material, mass_number, atomic_number
    [geometry]   production_z, production_y;  [geometry.decay_volumes] charged = [z0, z1], neutral = [...]
    [detector]   kind = "magnetic-spectrometer" | "calorimeter", and that kind's tables
    [selection.<final state>]  detector, min_energy_gev, min_photon_energy_gev, min_separation_m, min_radius_m
    [efficiency]  <final state> = selection x trigger efficiency (required for every selected final state)
    [efficiency_uncertainty]  <final state> = its relative uncertainty u, 0 <= u < 1 (optional; none if absent):
                  the "efficiency low/high" variations of the production band (fipscan.bands) scale N by 1 -+ u
    [backgrounds.<final state>]  expected, uncertainty
    [resolution]  straw_momentum_constant, straw_momentum_linear_per_gev, lkr_stochastic, lkr_noise_gev,
                  lkr_constant, mass_constraint (all required), straw_angle_rad (optional, 0): the detector
                  resolutions of the mass reconstruction (fipscan.resolution; optional table: none if absent)
    [statistics]  observed, cl
    [binning]     yield-table momentum/angle bins, decay cells; [binning.acceptance] acceptance grid

Adding an experiment is adding one TOML file.  ``kind = "kaon"`` files (K+ decays in flight and the
searches done with them, e.g. ``na62_kaon.toml``) have a layout of their own, parsed into a
:class:`fipscan.experiments.kaon.KaonExperiment` (see that module).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from fipscan import checks
from fipscan.detectors import SelectionCuts, parse_detector

#: upper bounds of the beam keys (a TOML beyond them is refused at load, naming the key)
MAX_BEAM_ENERGY_GEV = 1e5
MAX_POT = checks.MAX_POT
from fipscan.errors import ConfigError
from fipscan.experiments._reader import Section

__all__ = ["Experiment", "Beam", "Target", "Binning", "Background", "DetectorResolution", "load_experiment",
           "list_experiments", "parse_experiment"]

KINDS = ("beam-dump", "kaon")
#: the largest yield-table binning (momentum x angle x decay cells, per mass and final state: 8 bytes
#: each, several arrays of it) and acceptance Monte Carlo (decays per final state) a file may ask for;
#: na62_bd.toml has 1.0e5 and 1.3e7
MAX_TABLE_BINS = 10_000_000
MAX_ACCEPTANCE_POINTS = 2e9


@dataclass(frozen=True)
class Background:
    """Expected background (events at the experiment's reference POT) and its uncertainty."""

    expected: float
    uncertainty: float = 0.0


@dataclass(frozen=True)
class DetectorResolution:
    """The detector resolutions of the mass reconstruction ([resolution]; fipscan.resolution).

    Charged tracks: sigma_p/p = straw_momentum_constant (+) straw_momentum_linear_per_gev x p [GeV]
    (quadrature); straw_angle_rad: spread of each projected track angle (0: neglected).  Photons:
    sigma_E/E = lkr_stochastic/sqrt(E) (+) lkr_noise_gev/E (+) lkr_constant, E in GeV.  mass_constraint:
    the photon pair of each pi0/eta is scaled to the nominal mass (fipscan.kernels.acceptance.smeared_mass).
    """

    straw_momentum_constant: float
    straw_momentum_linear_per_gev: float
    lkr_stochastic: float
    lkr_noise_gev: float
    lkr_constant: float
    mass_constraint: bool
    straw_angle_rad: float = 0.0


@dataclass(frozen=True)
class Beam:
    """particle ("proton"); energy_gev; pot (the data sample); pot_uncertainty (relative);
    pot_projection (a future sample); spectra: the name of a shipped meson-spectra file of this beam
    ("default" = "pp-400gev", "pp-70gev", "pmo-400gev"; fipscan.spectra.registry) or a path to a file made by
    ``fipscan spectra generate``; cascade_enhancement: the
    charm and beauty of the spectra are multiplied by the cascade factors of the file's settings
    (cascade_ccbar, cascade_bbbar: 2.3 and 1.7 by default) for the hadrons of the shower in a thick dump
    that make heavy flavour too (:meth:`fipscan.spectra.Spectra.with_cascade_enhancement`), unless the
    file has them already."""

    particle: str
    energy_gev: float
    pot: float
    pot_uncertainty: float
    pot_projection: float
    spectra: str
    cascade_enhancement: bool = False


@dataclass(frozen=True)
class Target:
    """The dump or target material: name, mass number A, atomic number Z."""

    material: str
    mass_number: float
    atomic_number: float


@dataclass(frozen=True)
class Binning:
    """Bins of the yield tables and points of the acceptance tables.

    log10p_edges (Nb + 1,) [log10 GeV] and log10theta_edges (Nt + 1,) [log10 rad]: the FIP momentum and
    polar-angle bins of the yield tables; n_z: decay cells over the shortest decay volume (all volumes
    share that cell width).  Acceptance tables: n_mass points from each final state's threshold to
    mass_max_gev, momentum and angle points acc_log10p, acc_log10theta, n_mc Monte Carlo points each.
    """

    log10p_edges: tuple
    log10theta_edges: tuple
    n_z: int
    n_mass: int
    mass_max_gev: float
    acc_log10p: tuple
    acc_log10theta: tuple
    n_mc: int


@dataclass(frozen=True)
class Experiment:
    """A parsed, validated experiment (module docstring).  Frozen; ``with_pot`` returns a copy."""

    name: str
    title: str
    kind: str
    references: tuple[str, ...]
    beam: Beam
    target: Target
    production_z: float
    production_y: float
    decay_volumes: Mapping[str, tuple[float, float]]
    detector: Any
    selections: Mapping[str, SelectionCuts]
    efficiency: Mapping[str, float]
    backgrounds: Mapping[str, Background]
    observed: int
    cl: float
    binning: Binning
    config: Mapping[str, Any] = field(repr=False, default_factory=dict)
    source: str = ""
    #: what the exposure counts (plots and files); a kaon-mode experiment counts K+ decays
    exposure_unit = "POT"
    #: relative uncertainty of each final state's efficiency ([efficiency_uncertainty]; empty: none given).
    #: Not part of :meth:`settings`: it re-weights N in the bands (fipscan.bands), it never changes N itself
    efficiency_uncertainty: Mapping[str, float] = field(default_factory=dict)
    #: detector resolutions of the mass reconstruction ([resolution]; None: the file has none).  Not part of
    #: :meth:`settings` (it changes no yield); the resolution tables put it in their own cache key
    resolution: DetectorResolution | None = None

    # -- conveniences -----------------------------------------------------------------------------
    @property
    def energy_gev(self) -> float:
        return self.beam.energy_gev

    @property
    def pot(self) -> float:
        return self.beam.pot

    @property
    def pot_uncertainty(self) -> float:
        return self.beam.pot_uncertainty

    @property
    def pot_projection(self) -> float:
        return self.beam.pot_projection

    @property
    def final_states(self) -> tuple[str, ...]:
        """Final states with a selection (the ones this experiment can detect)."""
        return tuple(self.selections)

    channels = final_states

    @property
    def decay_volume(self) -> tuple[float, float]:
        """The charged-track decay volume (z_start, z_end) [m]."""
        return self.decay_volumes["charged"]

    def check_masses(self, masses, what: str = "masses") -> None:
        """InputError unless every mass [GeV] lies at or below the acceptance tables' upper end
        (``[binning.acceptance] mass_max_gev``): above it the acceptance would be the last node's,
        extrapolated flat, which is not a number fipscan stands behind."""
        from fipscan.errors import InputError

        top = float(np.max(masses))
        if top > self.binning.mass_max_gev * (1 + 1e-12):
            raise InputError(f"{what} {top:.10g} GeV is above the {self.name} acceptance range: its tables end at "
                             f"mass_max_gev = {self.binning.mass_max_gev:g} ({self.source}, [binning.acceptance])")

    def with_pot(self, pot: float) -> "Experiment":
        """The same experiment at another number of protons on target."""
        try:
            x = float(pot)
        except (TypeError, ValueError):
            raise ConfigError(f"pot must be a number, got {pot!r}") from None
        if not math.isfinite(x) or x <= 0:
            raise ConfigError(f"pot must be a positive finite number, got {pot!r}")
        return replace(self, beam=replace(self.beam, pot=x))

    def decay_volume_for(self, final_state) -> tuple[float, float]:
        """(z_start, z_end) [m] of the decay volume of ``final_state``'s class."""
        from fipscan.final_states import get_final_state

        fs = get_final_state(final_state)
        if fs.volume not in self.decay_volumes:
            raise ConfigError(f"{self.source}: final state {fs.name} needs geometry.decay_volumes.{fs.volume}")
        return self.decay_volumes[fs.volume]

    def cell_width(self) -> float:
        """The decay-cell width [m]: the shortest decay volume over ``binning.n_z``."""
        return min(b - a for a, b in self.decay_volumes.values()) / self.binning.n_z

    def cell_edges(self, final_states) -> np.ndarray:
        """z edges [m] of the decay cells covering the union of the decay volumes of ``final_states``.

        All cells of an experiment lie on one lattice (origin the earliest volume start, width
        :meth:`cell_width`), so that every final state's acceptance cells are cells of any union.
        """
        vols = [self.decay_volume_for(fs) for fs in final_states]
        origin = min(a for a, _ in self.decay_volumes.values())
        d = self.cell_width()
        k0 = math.floor((min(a for a, _ in vols) - origin) / d + 1e-9)
        k1 = math.ceil((max(b for _, b in vols) - origin) / d - 1e-9)
        return origin + d * np.arange(k0, k1 + 1, dtype=float)

    def settings(self) -> dict:
        """Every number of the experiment as plain JSON (cache keys and result files)."""
        from dataclasses import asdict

        return {
            "name": self.name, "kind": self.kind, "beam": asdict(self.beam), "target": asdict(self.target),
            "production_z": self.production_z, "production_y": self.production_y,
            "decay_volumes": {k: list(v) for k, v in self.decay_volumes.items()},
            "detector": self.detector.settings(),
            "selections": {k: asdict(v) for k, v in self.selections.items()},
            "efficiency": dict(self.efficiency),
            "backgrounds": {k: asdict(v) for k, v in self.backgrounds.items()},
            "observed": self.observed, "cl": self.cl,
            "binning": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.binning).items()},
        }

    def load_spectra(self, name: str | None = None):
        """The meson spectra of this experiment's beam (``beam.spectra``, or ``name``: a shipped name such
        as ``pp-70gev`` or a file; :mod:`fipscan.spectra.registry`), checked against the beam's energy,
        with the beam's cascade factors applied."""
        from fipscan.spectra import load_spectra
        from fipscan.spectra.registry import spectra_path

        name = self.beam.spectra if name is None else name
        s = load_spectra(spectra_path(name, beam_energy_gev=self.beam.energy_gev,
                                      where=f"{self.source}: 'beam.spectra'"))
        e = _spectra_beam_energy(s)
        if e is not None and abs(e - self.beam.energy_gev) > 1e-6 * self.beam.energy_gev:
            raise ConfigError(
                f"{self.source}: beam.spectra '{name}' holds spectra for a {e:g} GeV beam, the "
                f"experiment's beam is {self.beam.energy_gev:g} GeV; {_right_spectra_hint(self.beam.energy_gev)}")
        return s.with_cascade_enhancement() if self.beam.cascade_enhancement else s


def _check_spectra(beam: Beam, source: str, sec: Section) -> None:
    """beam.spectra names a shipped file (fipscan.spectra.registry) or an existing file: otherwise one line
    naming the command that makes it.  (Whether the file's beam is the experiment's is checked when the
    spectra are loaded: :meth:`Experiment.load_spectra`.)"""
    from fipscan.spectra.registry import spectra_path

    spectra_path(beam.spectra, beam_energy_gev=beam.energy_gev, where=f"{source}: '{sec.key('spectra')}'")


def _right_spectra_hint(energy_gev: float) -> str:
    """How to get spectra for an ``energy_gev`` beam: the shipped name, if any, and the command."""
    from fipscan.spectra.registry import generate_command_for, placeholder_note, shipped_for_energy

    right = shipped_for_energy(energy_gev)
    if right is not None:
        return (f"name '{right.name}' (shipped for {energy_gev:g} GeV) in beam.spectra; it was made by: "
                f"{right.command()}")
    command = generate_command_for(f"pp-{energy_gev:g}gev", energy_gev)
    return f"make a file with: {command} and name it in beam.spectra{placeholder_note(energy_gev)}"


def _spectra_beam_energy(spectra):
    prov = spectra.provenance or {}
    settings = prov.get("settings", {}) if isinstance(prov, Mapping) else {}
    e = settings.get("e_beam") if isinstance(settings, Mapping) else None
    return float(e) if e is not None else None


def _packaged() -> dict[str, Path]:
    folder = resources.files("fipscan.experiments")
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            out[entry.name[: -len(".toml")].replace("_", "-")] = Path(str(entry))
    return out


def list_experiments() -> list[str]:
    """Names of the experiments shipped with fipscan."""
    return sorted(_packaged())


def load_experiment(name_or_path) -> Experiment:
    """Load a shipped experiment by name (``na62-bd``) or any experiment TOML file by path.

    Raises ConfigError (one line naming the file and the key) for an unknown name, an unreadable or
    malformed file, a missing or unknown key, a value of the wrong type or range.
    """
    from fipscan.experiments.kaon import KaonExperiment

    if isinstance(name_or_path, (Experiment, KaonExperiment)):
        return name_or_path
    known = _packaged()
    key = str(name_or_path)
    if key in known:
        path = known[key]
    elif key.endswith(".toml") or Path(key).is_file():
        path = Path(key)
        if not path.is_file():
            raise ConfigError(f"experiment file not found: {path}")
    else:
        raise ConfigError(f"unknown experiment '{key}' (known: {', '.join(sorted(known))}; or a TOML file path)")
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML in {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read experiment file {path}: {exc}") from None
    return parse_experiment(cfg, str(path))


def _edges(sec: Section, name: str, n_name: str) -> tuple:
    """n + 1 bin edges linspace(lo, hi, n + 1)."""
    lo, hi = sec.interval(name)
    n = sec.number(n_name, integer=True, lo=1, hi=100000)
    return tuple(np.linspace(lo, hi, int(n) + 1).tolist())


def parse_experiment(cfg: Mapping, source: str = "<experiment>") -> Experiment:
    """The :class:`Experiment` of a parsed TOML mapping (``source`` names the file in messages)."""
    from fipscan.final_states import FINAL_STATES, get_final_state

    top = Section(cfg, "", source)
    name = top.string("name")
    title = top.string("title", name)
    kind = top.string("kind", "beam-dump", choices=KINDS)
    refs = top.strings("references", ())
    if kind == "kaon":  # K+ decays in flight: its own layout (fipscan.experiments.kaon)
        from fipscan.experiments.kaon import parse_kaon_experiment

        return parse_kaon_experiment(top, name, title, refs, source)

    b = top.section("beam")
    beam = Beam(
        particle=b.string("particle", choices=("proton",)),
        # bounds: a fixed-target beam below 100 TeV (above any accelerator's); POT below 1e30, as the CLI's --pot
        energy_gev=b.number("energy_gev", positive=True, hi=MAX_BEAM_ENERGY_GEV),
        pot=b.number("pot", positive=True, hi=MAX_POT),
        pot_uncertainty=b.number("pot_uncertainty", 0.0, nonnegative=True, hi=1.0),
        pot_projection=0.0,
        spectra=b.string("spectra", "default"),
        cascade_enhancement=b.flag("cascade_enhancement", False),
    )
    beam = replace(beam, pot_projection=b.number("pot_projection", beam.pot, positive=True, hi=MAX_POT))
    _check_spectra(beam, source, b)
    b.done()

    t = top.section("target")
    target = Target(material=t.string("material"), mass_number=t.number("mass_number", positive=True),
                    atomic_number=t.number("atomic_number", positive=True))
    if target.atomic_number > target.mass_number:
        raise t.error("atomic_number", f"= {target.atomic_number:g} exceeds mass_number = {target.mass_number:g}")
    t.done()

    g = top.section("geometry")
    z0 = g.number("production_z")
    y0 = g.number("production_y", 0.0)
    dv = g.section("decay_volumes")
    volumes = {}
    for cls in dv.names():
        if cls not in ("charged", "neutral"):
            raise ConfigError(f"{source}: unknown key '{dv.key(cls)}' (decay-volume classes: charged, neutral)")
        volumes[cls] = dv.interval(cls)
        if not z0 < volumes[cls][0]:
            raise dv.error(cls, f"must start after geometry.production_z = {z0}")
    if "charged" not in volumes:
        raise ConfigError(f"{source}: missing key 'geometry.decay_volumes.charged'")
    dv.done()
    g.done()

    detector = parse_detector(top.section("detector"))

    sel = top.section("selection")
    selections = {}
    for fs_name in sel.names():
        s = sel.section(fs_name)
        if fs_name not in FINAL_STATES:
            raise ConfigError(f"{source}: 'selection.{fs_name}' is not a registered final state "
                              f"(known: {', '.join(FINAL_STATES)})")
        fs = get_final_state(fs_name)
        if not fs.detectable:
            raise ConfigError(f"{source}: 'selection.{fs_name}': final state {fs_name} is not reconstructed "
                              "by any detector kind")
        cuts = SelectionCuts(
            detector=s.string("detector", choices=detector.track_detectors),
            min_energy_gev=s.number("min_energy_gev", 0.0, nonnegative=True),
            min_photon_energy_gev=s.number("min_photon_energy_gev", 0.0, nonnegative=True),
            min_separation_m=s.number("min_separation_m", 0.0, nonnegative=True),
            min_radius_m=s.number("min_radius_m", 0.0, nonnegative=True),
        )
        s.done()
        if fs.volume not in volumes:
            raise ConfigError(f"{source}: 'selection.{fs_name}' needs geometry.decay_volumes.{fs.volume}")
        end = volumes[fs.volume][1]
        if end > detector.z_limit(fs) + 1e-9:
            raise ConfigError(f"{source}: 'geometry.decay_volumes.{fs.volume}' ends at {end} m, beyond where "
                              f"{fs_name} can be detected ({detector.z_limit(fs)} m)")
        selections[fs_name] = cuts
    if not selections:
        raise ConfigError(f"{source}: missing key 'selection' (at least one final state)")
    sel.done()

    e = top.section("efficiency")
    efficiency = {}
    for fs_name in e.names():
        if fs_name not in selections:
            e.raw(fs_name)
            raise e.error(fs_name, "has no [selection] of that final state")
        efficiency[fs_name] = e.number(fs_name, positive=True, hi=1.0)
    for fs_name in selections:
        if fs_name not in efficiency:
            raise ConfigError(f"{source}: missing key 'efficiency.{fs_name}' (selection x trigger efficiency; "
                              "1.0 for a geometry-only estimate, said so in the file)")
    e.done()

    eu = top.section("efficiency_uncertainty", {})
    efficiency_uncertainty = {}
    for fs_name in eu.names():
        if fs_name not in selections:
            eu.raw(fs_name)
            raise eu.error(fs_name, "has no [selection] of that final state")
        u = eu.number(fs_name, nonnegative=True)
        if not u < 1:  # 1 - u scales N: u >= 1 would make a non-positive efficiency
            raise eu.error(fs_name, f"must be a relative uncertainty in [0, 1), not {u!r}")
        efficiency_uncertainty[fs_name] = u
    eu.done()

    bk = top.section("backgrounds", {})
    backgrounds = {}
    for fs_name in bk.names():
        s = bk.section(fs_name)
        if fs_name not in selections:
            raise bk.error(fs_name, "has no [selection] of that final state")
        backgrounds[fs_name] = Background(s.number("expected", nonnegative=True),
                                          s.number("uncertainty", 0.0, nonnegative=True))
        s.done()
    bk.done()

    resolution = _resolution(top.section("resolution")) if top.has("resolution") else None

    st = top.section("statistics", {})
    observed = int(st.number("observed", 0, integer=True, lo=0))
    cl = st.number("cl", 0.9)
    if not 0 < cl < 1:
        raise st.error("cl", f"must lie in (0, 1), not {cl}")
    st.done()

    bn = top.section("binning")
    ac = bn.section("acceptance")
    binning = Binning(
        log10p_edges=_edges(bn, "log10_momentum_gev", "n_momentum"),
        log10theta_edges=_edges(bn, "log10_theta_rad", "n_theta"),
        n_z=int(bn.number("n_z", integer=True, lo=1, hi=4096)),
        n_mass=int(ac.number("n_mass", integer=True, lo=2, hi=10000)),
        mass_max_gev=ac.number("mass_max_gev", positive=True),
        acc_log10p=_points(ac, "log10_momentum_gev", "n_momentum"),
        acc_log10theta=_points(ac, "log10_theta_rad", "n_theta"),
        n_mc=int(ac.number("n_mc", integer=True, lo=1, hi=1 << 20)),
    )
    for fs_name in selections:  # the acceptance grid starts at each final state's threshold
        fs = get_final_state(fs_name)
        if not max(fs.threshold * 1.001, 1e-3) < binning.mass_max_gev:
            raise ac.error("mass_max_gev", f"= {binning.mass_max_gev} is below the threshold of {fs_name} "
                                           f"({fs.threshold:.6g} GeV)")
    for sec, key, pts in ((bn, "log10_theta_rad", binning.log10theta_edges),
                          (ac, "log10_theta_rad", binning.acc_log10theta)):
        if pts[-1] > math.log10(math.pi):
            raise sec.error(key, f"ends at 10^{pts[-1]:g} rad, beyond pi (polar angles are in [0, pi])")
    n_yield = (len(binning.log10p_edges) - 1) * (len(binning.log10theta_edges) - 1) * binning.n_z
    if n_yield > MAX_TABLE_BINS:
        raise bn.error("n_momentum", f"x n_theta x n_z = {n_yield} bins per mass and final state; at most "
                                     f"{MAX_TABLE_BINS} (the yield tables would not fit in memory)")
    n_points = binning.n_mass * len(binning.acc_log10p) * len(binning.acc_log10theta) * binning.n_mc
    if n_points > MAX_ACCEPTANCE_POINTS:
        raise ac.error("n_mc", f"x n_mass x n_momentum x n_theta = {n_points:.3g} Monte Carlo decays per final "
                               f"state; at most {MAX_ACCEPTANCE_POINTS:.0e} (hours of acceptance Monte Carlo)")
    ac.done()
    bn.done()
    top.done()
    return Experiment(
        name=name, title=title, kind=kind, references=refs, beam=beam, target=target, production_z=z0,
        production_y=y0, decay_volumes=volumes, detector=detector, selections=selections,
        efficiency=efficiency, backgrounds=backgrounds, observed=observed, cl=cl, binning=binning,
        config=cfg, source=source, efficiency_uncertainty=efficiency_uncertainty, resolution=resolution,
    )


def _resolution(rs: Section) -> DetectorResolution:
    """[resolution]: every number non-negative and below a sanity bound (a relative resolution of 100%,
    a calorimeter noise of 1 GeV, a track angle of 10 mrad), mass_constraint true or false."""
    out = DetectorResolution(
        straw_momentum_constant=rs.number("straw_momentum_constant", nonnegative=True, hi=1.0),
        straw_momentum_linear_per_gev=rs.number("straw_momentum_linear_per_gev", nonnegative=True, hi=1.0),
        lkr_stochastic=rs.number("lkr_stochastic", nonnegative=True, hi=1.0),
        lkr_noise_gev=rs.number("lkr_noise_gev", nonnegative=True, hi=1.0),
        lkr_constant=rs.number("lkr_constant", nonnegative=True, hi=1.0),
        mass_constraint=rs.flag("mass_constraint"),
        straw_angle_rad=rs.number("straw_angle_rad", 0.0, nonnegative=True, hi=0.01),
    )
    rs.done()
    return out


def _points(sec: Section, name: str, n_name: str) -> tuple:
    """n points linspace(lo, hi, n) (the acceptance grids are points, not bin edges)."""
    lo, hi = sec.interval(name)
    n = sec.number(n_name, integer=True, lo=2, hi=100000)
    return tuple(np.linspace(lo, hi, int(n)).tolist())
