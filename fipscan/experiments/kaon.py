"""Kaon-mode experiments (``kind = "kaon"``): K+ decays in flight and the searches done with them.

A kaon-mode experiment is a beam of kaons decaying in a fiducial region upstream of a detector, and
a list of *searches*, each one analysis of one data sample: its signature (what the hidden particle
X of K+ -> pi+ X does: decay to two photons, to a lepton pair, or escape), its selection, its number
of K+ decays and efficiency, and its statistics (a peak search over per-window counts, or a single
counting experiment).  Parsed once from one TOML file, every key validated, unknown keys refused
with one line naming the file and the key (the rules of :mod:`fipscan.experiments`).

Layout (``na62_kaon.toml`` is the full example)::

    name, title, kind = "kaon", references
    [beam]       particle = "kaon", momentum_gev, momentum_rel_rms, kaon_fraction, start_z
    [detector]   kind = "magnetic-spectrometer" and its tables (fipscan.detectors)
    [resolution] the STRAW/LKr keys of fipscan.experiments (straw_angle_rad is used for the pi+)
    [beam_tracker] momentum_rel, angle_rad                       (the K+ measurement)
    [samples.<name>] n_kaons, n_kaons_uncertainty (relative), reference
    [searches.<name>] signature = "gammagamma" | "ee" | "mumu" | "invisible", title, sample,
                 statistics = "peak" | "counting", efficiency, decay_z = [z0, z1],
                 pi_momentum_gev = [p0, p1]; per signature: min_photon_energy_gev, min_separation_m,
                 lepton_min_energy_gev, escape_z, mm2_windows_gev2 = [[lo, hi], ...];
                 peak: data = "example" | path of a peak-search CSV (fipscan.stats.peak_search; relative
                 to the TOML file's folder; read and checked when the file is loaded);
                 counting: observed, background, background_uncertainty
    [statistics] cl
    [binning]    log10_momentum_gev = [lo, hi], n_momentum (X momentum bins), distance_edges_m (the X
                 flight-distance cells from the K+ vertex; a last cell to infinity is added), n_mc

The exposure of a kaon search is its number of K+ decays N_K (the role of the POT of a beam dump):
N = N_K x BR(K+ -> pi+ X) x A(m, tau) x efficiency x BR(X -> signature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from fipscan.errors import ConfigError
from fipscan.experiments._reader import Section

__all__ = ["KaonExperiment", "KaonBeam", "DataSample", "KaonSearch", "SIGNATURES", "SIGNATURE_LABELS", "STATISTICS",
           "parse_kaon_experiment"]

#: what X does in a kaon-mode search (fipscan.kernels.kaon.SIGNATURES)
SIGNATURES = ("gammagamma", "ee", "mumu", "invisible")
#: plot labels (LaTeX without $) of the signatures that are not registered final states
SIGNATURE_LABELS = {"invisible": r"\mathrm{invisible\ (escapes)}"}
#: how a search turns counts into a limit
STATISTICS = ("peak", "counting")
#: the number of K+ decays a file may state (NA62 collects ~1e13 per year)
MAX_KAONS = 1e16
#: the last distance edge of the X flight cells: "beyond" the detector (fipscan.kernels.kaon)
BEYOND_M = 1.0e30


@dataclass(frozen=True)
class KaonBeam:
    """The kaon beam: momentum_gev (mean K+ momentum), momentum_rel_rms (relative rms spread),
    kaon_fraction (K+ share of the beam, information only), start_z [m] (where the kaons' decays start
    to be counted: the last beam-tracker station; the decay position is exponential from there)."""

    particle: str
    momentum_gev: float
    momentum_rel_rms: float
    kaon_fraction: float
    start_z: float


@dataclass(frozen=True)
class DataSample:
    """A data sample: ``n_kaons`` effective K+ decays in the fiducial volume, its relative uncertainty,
    and the publication that states it."""

    name: str
    n_kaons: float
    n_kaons_uncertainty: float
    reference: str


@dataclass(frozen=True)
class KaonSearch:
    """One search of a kaon-mode experiment (module docstring).  Lengths in metres, momenta in GeV."""

    name: str
    title: str
    signature: str
    statistics: str
    sample: str
    efficiency: float
    decay_z: tuple[float, float]
    pi_momentum_gev: tuple[float, float]
    min_photon_energy_gev: float = 0.0
    min_separation_m: float = 0.0
    lepton_min_energy_gev: float = 0.0
    escape_z: float = math.inf
    mm2_windows_gev2: tuple = ()
    data: str = ""
    observed: int = 0
    background: float = 0.0
    background_uncertainty: float = 0.0
    reference: str = ""


@dataclass(frozen=True)
class KaonBinning:
    """X momentum bins (log10 edges) and flight-distance cells [m] of the acceptance tables, and the
    Monte Carlo events per mass."""

    log10p_edges: tuple
    distance_edges: tuple
    n_mc: int


@dataclass(frozen=True)
class KaonExperiment:
    """A parsed kaon-mode experiment (module docstring).  Frozen; ``with_pot`` rescales every sample."""

    name: str
    title: str
    kind: str
    references: tuple[str, ...]
    beam: KaonBeam
    detector: Any
    resolution: Any
    beam_tracker: tuple[float, float]
    samples: Mapping[str, DataSample]
    searches: Mapping[str, KaonSearch]
    cl: float
    binning: KaonBinning
    config: Mapping[str, Any] = field(repr=False, default_factory=dict)
    source: str = ""
    #: every sample's N_K is multiplied by this (a projection: fipscan's --pot / with_pot)
    exposure_scale: float = 1.0

    #: what the exposure counts (plots and files say "K+ decays" where a beam dump says "POT")
    exposure_unit = "K$^+$ decays"

    # -- conveniences shared with the beam-dump Experiment ---------------------------------------
    @property
    def observed(self) -> int:
        return 0

    @property
    def final_states(self) -> tuple[str, ...]:
        """The signatures of the searches (the analogue of a beam dump's final states)."""
        return tuple(dict.fromkeys(s.signature for s in self.searches.values()))

    def n_kaons(self, search: str) -> float:
        """N_K [K+ decays] of ``search``'s sample (times the exposure scale)."""
        s = self.search(search)
        return self.samples[s.sample].n_kaons * self.exposure_scale

    def search(self, name: str) -> KaonSearch:
        if name not in self.searches:
            raise ConfigError(f"unknown search '{name}' of {self.name} (known: {', '.join(self.searches)})")
        return self.searches[name]

    def for_search(self, name: str) -> "KaonExperiment":
        """The experiment reduced to its search ``name`` (title "<title>: <search title>"): what one
        kaon-mode scan result describes."""
        s = self.search(name)
        return replace(self, searches={name: s}, title=f"{self.title}: {s.title}")

    def check_masses(self, masses, what: str = "masses") -> None:
        """Nothing to refuse: above m_K - m_pi the kaon-mode signal is zero (K+ -> pi+ X is closed)."""

    @property
    def pot(self) -> float:
        """The exposure of the first search (N_K): kept under the beam dump's name for shared code."""
        return self.n_kaons(next(iter(self.searches)))

    @property
    def pot_projection(self) -> float:
        """No projection is configured for a kaon-mode experiment (``--projection`` gives one)."""
        return self.pot

    @property
    def pot_uncertainty(self) -> float:
        return self.samples[next(iter(self.searches.values())).sample].n_kaons_uncertainty

    def with_pot(self, pot: float) -> "KaonExperiment":
        """The same experiment with the first search's N_K set to ``pot`` and every other sample scaled
        alike (a projection to a larger data set)."""
        try:
            x = float(pot)
        except (TypeError, ValueError):
            raise ConfigError(f"the number of K+ decays must be a number, got {pot!r}") from None
        if not math.isfinite(x) or x <= 0:
            raise ConfigError(f"the number of K+ decays must be a positive finite number, got {pot!r}")
        base = self.samples[next(iter(self.searches.values())).sample].n_kaons
        return replace(self, exposure_scale=x / base)

    def geometry(self):
        """fipscan.kernels.acceptance.Geometry of the detector (the beam-dump fields z_prod, y_prod and
        the decay volume are not used by the kaon kernels: set to the beam start and the decay region)."""
        z0 = self.beam.start_z
        zs = [s.decay_z for s in self.searches.values()]
        return self.detector.kernel_geometry(z0, 0.0, (min(a for a, _ in zs), max(b for _, b in zs)))

    def settings(self) -> dict:
        """Every number of the experiment as plain JSON (cache keys and result files)."""
        from dataclasses import asdict

        return {
            "name": self.name, "kind": self.kind, "beam": asdict(self.beam), "detector": self.detector.settings(),
            "resolution": None if self.resolution is None else asdict(self.resolution),
            "beam_tracker": list(self.beam_tracker),
            "samples": {k: asdict(v) for k, v in self.samples.items()},
            "searches": {k: {f: (list(v) if isinstance(v, tuple) else v) for f, v in asdict(s).items()}
                         for k, s in self.searches.items()},
            "cl": self.cl, "exposure_scale": self.exposure_scale,
            "binning": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.binning).items()},
        }


def _windows(sec: Section, name: str) -> tuple:
    v = sec.raw(name, [])
    ok = isinstance(v, list) and all(
        isinstance(w, list) and len(w) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                   and math.isfinite(x) for x in w) and w[0] < w[1] for w in v)
    if not ok:
        raise sec.error(name, f"must be a list of [lo, hi] with lo < hi (GeV^2), not {v!r}")
    out = tuple((float(a), float(b)) for a, b in v)
    if any(out[i][1] > out[i + 1][0] for i in range(len(out) - 1)):
        raise sec.error(name, "must be increasing and non-overlapping")
    return out


def _search(sec: Section, name: str, samples, beam_z: float, det_z_lkr: float, det_z_straw1: float) -> KaonSearch:
    signature = sec.string("signature", choices=SIGNATURES)
    statistics = sec.string("statistics", choices=STATISTICS)
    sample = sec.string("sample", choices=tuple(samples))
    z0, z1 = sec.interval("decay_z", positive=True)
    if z0 < beam_z:
        raise sec.error("decay_z", f"starts at {z0} m, before the kaons do (beam.start_z = {beam_z} m)")
    if z1 > det_z_straw1:  # the pi+ is a track: the K+ decays upstream of the first straw chamber
        raise sec.error("decay_z", f"ends at {z1} m, beyond the detector's first straw chamber ({det_z_straw1} m, "
                                   "where the pi+ is measured)")
    p0, p1 = sec.interval("pi_momentum_gev", positive=True)
    kw: dict = {}
    if signature == "gammagamma":
        kw["min_photon_energy_gev"] = sec.number("min_photon_energy_gev", 0.0, nonnegative=True)
        kw["min_separation_m"] = sec.number("min_separation_m", 0.0, nonnegative=True)
    elif signature in ("ee", "mumu"):
        kw["lepton_min_energy_gev"] = sec.number("lepton_min_energy_gev", 0.0, nonnegative=True)
    else:
        kw["escape_z"] = sec.number("escape_z", positive=True)
        if not kw["escape_z"] > z1:
            raise sec.error("escape_z", f"= {kw['escape_z']} must lie downstream of decay_z's end {z1}")
        kw["mm2_windows_gev2"] = _windows(sec, "mm2_windows_gev2")
        if not kw["mm2_windows_gev2"]:
            raise sec.error("mm2_windows_gev2", "must give at least one missing-mass-squared window")
    if statistics == "peak":
        data = sec.string("data")
        if data != "example":
            path = Path(data)
            if not path.is_absolute() and Path(sec.source).is_file():  # relative to the TOML's folder
                path = Path(sec.source).resolve().parent / path
            if not path.is_file():
                raise sec.error("data", f"names no file: {data!r} (use \"example\" or a peak-search CSV; a relative "
                                        "path is taken from the TOML file's folder)")
            from fipscan.errors import InputError
            from fipscan.stats.peak_search import read_peak_search

            try:  # read once here: a bad file is refused with the experiment, before anything is computed
                read_peak_search(path)
            except InputError as exc:
                raise sec.error("data", f"is not a valid peak-search file: {exc}") from None
            data = str(path)
        kw["data"] = data
    else:
        kw["observed"] = int(sec.number("observed", integer=True, lo=0))
        kw["background"] = sec.number("background", nonnegative=True)
        kw["background_uncertainty"] = sec.number("background_uncertainty", 0.0, nonnegative=True)
    out = KaonSearch(
        name=name, title=sec.string("title", name), signature=signature, statistics=statistics, sample=sample,
        efficiency=sec.number("efficiency", positive=True, hi=1.0), decay_z=(z0, z1), pi_momentum_gev=(p0, p1),
        reference=sec.string("reference", ""), **kw)
    sec.done()
    return out


def parse_kaon_experiment(top: Section, name: str, title: str, refs: tuple, source: str) -> KaonExperiment:
    """The :class:`KaonExperiment` of a TOML whose top level (``top``, name, title and references read
    already) says ``kind = "kaon"``."""
    from fipscan.detectors import MagneticSpectrometer, parse_detector
    from fipscan.experiments import _resolution

    b = top.section("beam")
    beam = KaonBeam(
        particle=b.string("particle", choices=("kaon",)),
        momentum_gev=b.number("momentum_gev", positive=True, hi=1e4),
        momentum_rel_rms=b.number("momentum_rel_rms", nonnegative=True, hi=0.2),
        kaon_fraction=b.number("kaon_fraction", 1.0, positive=True, hi=1.0),
        start_z=b.number("start_z", positive=True),
    )
    b.done()

    detector = parse_detector(top.section("detector"))
    if not isinstance(detector, MagneticSpectrometer):
        raise ConfigError(f"{source}: 'detector.kind' of a kaon experiment must be magnetic-spectrometer "
                          "(the pi+ momentum is measured)")
    resolution = _resolution(top.section("resolution")) if top.has("resolution") else None
    bt = top.section("beam_tracker", {})
    beam_tracker = (bt.number("momentum_rel", 0.0, nonnegative=True, hi=0.1),
                    bt.number("angle_rad", 0.0, nonnegative=True, hi=0.01))
    bt.done()

    sm = top.section("samples")
    samples = {}
    for key in sm.names():
        s = sm.section(key)
        samples[key] = DataSample(name=key, n_kaons=s.number("n_kaons", positive=True, hi=MAX_KAONS),
                                  n_kaons_uncertainty=s.number("n_kaons_uncertainty", 0.0, nonnegative=True, hi=1.0),
                                  reference=s.string("reference", ""))
        s.done()
    if not samples:
        raise ConfigError(f"{source}: missing key 'samples' (at least one data sample)")
    sm.done()

    se = top.section("searches")
    searches = {key: _search(se.section(key), key, samples, beam.start_z, detector.lkr_z, detector.straw1_z)
                for key in se.names()}
    if not searches:
        raise ConfigError(f"{source}: missing key 'searches' (at least one search)")
    se.done()

    st = top.section("statistics", {})
    cl = st.number("cl", 0.9)
    if not 0 < cl < 1:
        raise st.error("cl", f"must lie in (0, 1), not {cl}")
    st.done()

    bn = top.section("binning")
    lo, hi = bn.interval("log10_momentum_gev")
    n_p = int(bn.number("n_momentum", integer=True, lo=1, hi=1000))
    d = bn.raw("distance_edges_m")
    if not (isinstance(d, list) and len(d) >= 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                         and math.isfinite(x) for x in d)
            and d[0] == 0 and all(d[i] < d[i + 1] for i in range(len(d) - 1))):
        raise bn.error("distance_edges_m", f"must be an increasing list of finite distances [m] from 0, not {d!r}")
    need = max(detector.lkr_z, max((s.escape_z for s in searches.values() if math.isfinite(s.escape_z)),
                                   default=0.0)) - min(s.decay_z[0] for s in searches.values())
    if d[-1] < need:
        raise bn.error("distance_edges_m", f"ends at {d[-1]} m; the cells must reach {need:.6g} m (from the "
                                           "earliest decay to the LKr or the escape plane)")
    binning = KaonBinning(log10p_edges=tuple(np.linspace(lo, hi, n_p + 1).tolist()),
                          distance_edges=tuple(float(x) for x in d) + (BEYOND_M,),
                          n_mc=int(bn.number("n_mc", integer=True, lo=100, hi=1 << 22)))
    bn.done()
    top.done()
    return KaonExperiment(name=name, title=title, kind="kaon", references=refs, beam=beam, detector=detector,
                          resolution=resolution, beam_tracker=beam_tracker, samples=samples, searches=searches,
                          cl=cl, binning=binning, config=top.data, source=source)
