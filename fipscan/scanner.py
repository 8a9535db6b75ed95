"""``scan(model, experiment, grid)``: expected events on an (m, coupling) grid and the exclusion contour."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jax.numpy as jnp
import numpy as np

from fipscan import constants as _C
from fipscan.contour.per_mass import PerMassContour, per_mass_contour
from fipscan.errors import InputError
from fipscan.experiments import Experiment, load_experiment
from fipscan.grid import Grid
from fipscan.io.results import PLOT_FORMATS, prepare_output_dir, save_scan
from fipscan.models import get_model
from fipscan.yields import YieldTables, precompute

__all__ = ["scan", "ScanResult", "ScanPoint", "KaonScanResult", "DEFAULT_N_LIMIT", "n_limit_for",
           "prepare_output_dir"]

#: K+ -> pi+ X closes at m_X = m_K - m_pi [GeV] (PDG masses of fipscan.constants)
C_KPI_THRESHOLD = _C.M_K - _C.M_PI
#: 90% CL upper limit on the signal mean for 0 observed events and no background: -ln(0.1)
DEFAULT_N_LIMIT = -math.log(0.1)


def n_limit_for(observed=0, background=0.0, background_uncertainty=0.0, cl=0.9, method="cls") -> float:
    """Signal events excluded at CL for ``observed`` events over the background (fipscan.stats;
    CLs gives -ln(1 - CL), 2.30 at 90% CL, for nothing observed whatever the background)."""
    from fipscan.stats import upper_limit

    return float(upper_limit(observed, background, background_uncertainty, cl=cl, method=method))


@dataclass(frozen=True)
class ScanPoint:
    """One contour at one POT: the per-mass edges and the limit it uses."""

    pot: float
    n_limit: float
    contour: PerMassContour
    events: np.ndarray  # (Nm, Ng)
    background: float = 0.0
    background_uncertainty: float = 0.0
    #: expected-limit contours under the background-only hypothesis: quantile key ("-2", "-1", "0",
    #: "+1", "+2", fipscan.stats.expected_limits) -> (n_limit at that quantile, contour)
    expected: Mapping[str, tuple[float, PerMassContour]] = field(default_factory=dict)
    #: contours at (1 - r) and (1 + r) times the POT, r the relative POT uncertainty
    pot_band: tuple[PerMassContour, ...] = ()
    #: the production-model band (fipscan.bands.ModelBand: ["outer"], ["inner"], ["variations"]); primary POT only
    production_band: Any = None
    #: the decay-width band (fipscan.bands.ModelBand), when asked for; primary POT only
    decay_band: Any = None

    @property
    def model_bands(self) -> dict:
        """{band name: ModelBand} of the model bands computed at this POT ("production", "decay")."""
        return {name: b for name, b in (("production", self.production_band), ("decay", self.decay_band))
                if b is not None}


@dataclass
class ScanResult:
    """Events grid(s), contour(s) and every input of a scan.  ``save(dir)`` writes the files."""

    model: Any
    experiment: Experiment
    grid: Grid
    channels: tuple[str, ...]
    points: list[ScanPoint]
    tables: YieldTables = field(repr=False)
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def events(self) -> np.ndarray:
        """N(m, coupling) at the primary POT, shape (n_masses, n_couplings)."""
        return self.points[0].events

    @property
    def contour(self) -> PerMassContour:
        return self.points[0].contour

    def events_by(self, by="final_state", pot=None) -> dict:
        """N(m, g) at ``pot`` (default the primary POT) split by final state (``by="final_state"``) or
        production channel (``by="production"``): {name: (Nm, Ng)}, summing to :attr:`events`."""
        pot = self.points[0].pot if pot is None else float(pot)
        log_g = jnp.log(jnp.asarray(self.grid.couplings, self.tables.weights.dtype))
        return {k: np.asarray(v) for k, v in self.tables.split_events_grid(log_g, pot, by=by).items()}

    def contour_by(self, by="final_state") -> dict:
        """The per-mass contour of each final state (or production channel) alone, at the primary POT
        and limit: {name: PerMassContour}."""
        pt = self.points[0]
        parts = self.tables.per_final_state if by == "final_state" else self.tables.per_channel
        log_g = jnp.log(jnp.asarray(self.grid.couplings, self.tables.weights.dtype))
        return {k: per_mass_contour(self.tables.select(k, by), pt.pot, pt.n_limit, log_g) for k in parts}

    def save(self, outdir, *, compare=None, formats=PLOT_FORMATS, polygon=True, hepdata=False,
             bounds=None) -> dict[str, Path]:
        """Write contour.csv, contour_polygon.csv, scan.h5, contour.png/.pdf/.svg and, with ``hepdata``, the
        HEPData submission in hepdata/ (fipscan.io.results.save_scan); ``bounds``: existing exclusion
        curves (fipscan.bounds) drawn in grey under the plot's regions."""
        return save_scan(self, outdir, compare=compare, formats=formats, polygon=polygon, hepdata=hepdata,
                         bounds=bounds)


def scan(model, experiment, grid: Grid, *, pot=None, projections=(), channels=None, spectra=None,
         observed=None, background=None, background_uncertainty=None, background_mode="scale", cl=None,
         method="cls", bands=True, tables: YieldTables | None = None, dtype=jnp.float64) -> ScanResult:
    """Expected events N(m, g) on ``grid`` and the per-mass exclusion contour.

    model: a model instance or registered name; experiment: an Experiment or a name/TOML path.
    pot: protons on target (default: the experiment's); projections: further POT values computed
    from the same tables.  The limit on the signal events comes from fipscan.stats: CLs (or
    ``method="fc"``) for ``observed`` events (default: the experiment's, 0) over the background
    (default: the experiment's expected backgrounds of the chosen final states, stated at its
    reference POT); 2.30 events at 90% CL when nothing is observed.  Feldman-Cousins takes a known
    background: with the experiment's backgrounds it uses their central value (``inputs["notes"]``
    says so, ``inputs["background_uncertainty_in_limit"]`` is False; a ``background_uncertainty``
    given with ``method="fc"`` is refused).  The background scales with POT
    (``background_mode="scale"``) or is held fixed (``"fixed"``).  ``bands``: True (the default) for
    "expected" and "pot", False for none, or a collection (or comma-separated string) of band names
    (fipscan.bands.parse_bands):
    "expected", the expected-limit contours (median, +-1 sigma, +-2 sigma under the background-only
    hypothesis); "pot", the contours at POT x (1 -+ the experiment's relative POT uncertainty);
    "production", the envelope of the contours under the model's production variations and the
    experiment's efficiency +- its uncertainty (fipscan.bands; ``points[0].production_band``, primary POT
    only: model variations build their own yield tables, cached); "decay", the same for the model's
    decay-width variations (``points[0].decay_band``).
    tables: reuse a ``precompute(...)`` result (its masses must equal the grid's).
    """
    from fipscan.bands import MODEL_BANDS, model_band, parse_bands
    from fipscan.yields import resolve_final_states

    chosen_bands = parse_bands(bands)
    model = get_model(model)
    experiment = load_experiment(experiment)
    if getattr(experiment, "kind", "beam-dump") == "kaon":
        if tables is not None or channels is not None or spectra is not None:
            raise InputError("a kaon-mode scan builds its own tables from its searches: tables, channels and "
                             "spectra do not apply (choose searches with experiment.for_search(name))")
        return scan_kaon(model, experiment, grid, pot=pot, projections=projections, observed=observed,
                         background=background, background_uncertainty=background_uncertainty,
                         background_mode=background_mode, cl=cl, method=method, bands=chosen_bands, dtype=dtype)
    grid.validate(model.mass_range, coupling_max=float(getattr(model.coupling, "max", math.inf)))
    experiment.check_masses(grid.masses)
    channels = resolve_final_states(model, experiment, channels)
    pot = float(experiment.pot if pot is None else pot)
    if not math.isfinite(pot) or pot <= 0:
        raise InputError(f"pot must be positive, got {pot}")
    given = tables is not None
    if method == "fc" and background is not None and (background_uncertainty or 0) > 0:
        raise InputError("method='fc' needs a known background (background_uncertainty > 0 given); use "
                         "method='cls', which integrates over the uncertainty")
    provenance = {}  # cache keys and checksums of the tables built or read here (scan.h5 records them)
    if tables is None:
        tables = precompute(model, experiment, grid.masses, channels=channels, spectra=spectra, dtype=dtype,
                            provenance=provenance)
    # also for tables from the cache: tables of other masses are never used for this grid
    if (np.shape(tables.masses) != grid.masses.shape
            or not np.allclose(np.asarray(tables.masses), grid.masses, rtol=1e-12)):
        raise InputError(f"the yield tables hold {np.size(tables.masses)} masses that are not the grid's "
                         f"{grid.masses.size}: build them with precompute(model, experiment, grid.masses)")
    if given and tables.channels and tuple(tables.channels) != channels:
        raise InputError(f"the yield tables are for final states {','.join(tables.channels)}, "
                         f"the scan asks for {','.join(channels)}")
    cl = experiment.cl if cl is None else float(cl)
    obs = experiment.observed if observed is None else int(observed)
    if obs < 0:
        raise InputError(f"observed events must be a non-negative integer, got {obs}")
    if background_mode not in ("scale", "fixed"):
        raise InputError(f"background_mode must be 'scale' or 'fixed', got '{background_mode}'")
    if background is None:  # the experiment's expected backgrounds of the chosen final states
        known = [experiment.backgrounds[c] for c in channels if c in experiment.backgrounds]
        b_ref = sum(b.expected for b in known)
        db_ref = math.sqrt(sum(b.uncertainty**2 for b in known))
        bkg_pot = experiment.pot  # stated at the experiment's reference POT
    else:
        b_ref = float(background)
        db_ref = 0.0 if background_uncertainty is None else float(background_uncertainty)
        bkg_pot = pot  # stated at the primary POT of this scan
    if not (math.isfinite(b_ref) and math.isfinite(db_ref)) or b_ref < 0 or db_ref < 0:
        raise InputError(f"background must be non-negative, got {b_ref} +- {db_ref}")
    notes = []
    fc_central = method == "fc" and db_ref > 0  # Feldman-Cousins: the background's central value
    if fc_central:
        notes.append(f"method fc uses the central background value {b_ref:g} (at {bkg_pot:g} POT); its "
                     f"uncertainty +-{db_ref:g} is not in the Feldman-Cousins belt (method cls integrates over it)")
    log_g = jnp.log(jnp.asarray(grid.couplings, dtype))
    # one grid pass: N is proportional to POT, so every POT is a rescaling; log N is -inf where N
    # underflows (deep in the short-lived regime), which only ever lies below a limit, so the
    # bracketing of the contours needs nothing finer there (Newton refines on the log kernel)
    events_ref = np.asarray(tables.events_grid(log_g, pot))
    with np.errstate(divide="ignore"):
        logn_ref = np.log(events_ref)
    points = []
    for p in (pot, *projections):
        scale = p / bkg_pot if background_mode == "scale" else 1.0
        b, db = b_ref * scale, db_ref * scale
        db_lim = 0.0 if fc_central else db
        n_lim = n_limit_for(obs, b, db_lim, cl, method)
        events = events_ref * (p / pot)
        logn = logn_ref + math.log(p / pot)
        contour = per_mass_contour(tables, p, n_lim, log_g, logn=logn)
        expected, pot_band, model_bands = {}, (), {}
        if chosen_bands:
            from fipscan.stats import expected_limits, pot_band as pot_factors

            for key, n_q in (expected_limits(b, db_lim, cl=cl, method=method).items()
                             if "expected" in chosen_bands else ()):
                same = abs(n_q - n_lim) < 1e-12 * n_lim
                expected[key] = (float(n_q), contour if same else
                                 per_mass_contour(tables, p, n_q, log_g, logn=logn))
            for name in MODEL_BANDS if not points else ():  # at the primary POT only
                if name in chosen_bands:
                    model_bands[f"{name}_band"] = model_band(name, model, experiment, tables, log_g, p, n_lim,
                                                             channels=channels, nominal=contour, logn=logn,
                                                             spectra=spectra, dtype=dtype)
            if "pot" in chosen_bands and experiment.pot_uncertainty > 0:
                pot_band = tuple(per_mass_contour(tables, p * f, n_lim, log_g, logn=logn + math.log(f))
                                 for f in pot_factors(p, experiment.pot_uncertainty))
        points.append(ScanPoint(pot=p, n_limit=n_lim, contour=contour, events=events, background=b,
                                background_uncertainty=db, expected=expected, pot_band=pot_band, **model_bands))
    inputs = {
        "pot": pot, "projections": list(projections), "channels": list(channels), "cl": cl,
        "observed": obs, "background": b_ref, "background_uncertainty": db_ref, "background_pot": bkg_pot,
        "background_mode": background_mode, "method": method,
        "background_uncertainty_in_limit": not fc_central, "notes": notes,
        "mass_range": [float(grid.masses[0]), float(grid.masses[-1]), int(grid.masses.size)],
        "coupling_range": [float(grid.couplings[0]), float(grid.couplings[-1]), int(grid.couplings.size)],
        "model": model.settings(), "experiment": experiment.name,
        "efficiency": {c: experiment.efficiency[c] for c in channels},
        "pot_uncertainty": experiment.pot_uncertainty,
        "provenance": provenance,
        "bands": sorted(chosen_bands),
    }
    for name, band in points[0].model_bands.items():
        inputs[f"{name}_variations"] = {k: band.descriptions[k].as_dict() for k in band.variations}
    if points[0].production_band is not None:
        inputs["efficiency_uncertainty"] = {c: float(experiment.efficiency_uncertainty.get(c, 0.0)) for c in channels}
    return ScanResult(model, experiment, grid, channels, points, tables, inputs)


@dataclass
class KaonScanResult:
    """The scan of a kaon-mode experiment: one :class:`ScanResult` per search (``results``, in the
    experiment's order; each with the single-search experiment ``experiment.for_search(name)``, N_K in
    the role of the POT).  ``save(dir)`` writes one output set per search in ``dir/<search>/`` and their
    regions on one figure, ``dir/comparison.png/.pdf/.svg``."""

    model: Any
    experiment: Any
    grid: Grid
    results: list

    @property
    def searches(self) -> tuple[str, ...]:
        return tuple(next(iter(r.experiment.searches)) for r in self.results)

    def result(self, search: str) -> ScanResult:
        for name, r in zip(self.searches, self.results):
            if name == search:
                return r
        raise InputError(f"no search '{search}' in this kaon-mode scan (searches: {', '.join(self.searches)})")

    def save(self, outdir, *, compare=None, formats=PLOT_FORMATS, polygon=True, hepdata=False,
             bounds=None) -> dict[str, Path]:
        """Each search's output set (:meth:`ScanResult.save`) in ``outdir/<search>/`` and the figure of
        every search's region, ``outdir/comparison.<fmt>``; returns {relative name: path}."""
        from fipscan.io.results import save_result_sets

        return save_result_sets(self.results, outdir, names=self.searches, compare=compare, formats=formats,
                                polygon=polygon, hepdata=hepdata, bounds=bounds)


def scan_kaon(model, experiment, grid: Grid, *, pot=None, projections=(), observed=None, background=None,
              background_uncertainty=None, background_mode="scale", cl=None, method="cls", bands=frozenset(),
              dtype=jnp.float64) -> KaonScanResult:
    """Scan ``model`` at every search of the kaon-mode ``experiment`` (fipscan.searches.kaon): per search
    the tables of K+ -> pi+ X (N_K in the role of the POT: ``pot`` sets the first search's N_K and scales
    every sample alike, ``projections`` are further N_K of it), the limit (a peak search's per-window
    limits, a counting search's from its observed count and background; ``observed``/``background``
    override a counting search's) and the per-mass contour.  Bands: "expected" and "pot" for counting
    searches (the N_K uncertainty of the sample); a peak search and the model bands ("production",
    "decay") get none, said in ``inputs["notes"]``.  Returns a :class:`KaonScanResult`."""
    from fipscan.searches.kaon import LimitNormalisedTables, kaon_channel, kaon_tables, search_limits
    from fipscan.stats import expected_limits, pot_band as pot_factors

    kaon_channel(model)  # one line naming the model when it has no K+ -> pi+ X
    grid.validate(model.mass_range, coupling_max=float(getattr(model.coupling, "max", math.inf)))
    if pot is not None:
        experiment = experiment.with_pot(pot)
    cl = float(experiment.cl if cl is None else cl)
    log_g = jnp.log(jnp.asarray(grid.couplings, dtype))
    results = []
    skipped = []
    for name, search in experiment.searches.items():
        exp1 = experiment.for_search(name)
        n_k = exp1.n_kaons(name)  # this scan's exposure of the search (a --pot scales every sample alike)
        base = exp1.samples[search.sample].n_kaons
        notes = []
        if search.statistics == "peak" and abs(n_k / base - 1.0) > 1e-9:
            skipped.append(f"{name}: a peak search over the observed counts of its sample ({base:.4g} K+ decays) "
                           f"is not computed at another exposure ({n_k:.4g})")
            continue
        tables = kaon_tables(model, exp1, name, grid.masses, dtype=dtype)
        n_up, used = search_limits(exp1, name, grid.masses, cl=cl, method=method, observed=observed,
                                   background=background, background_uncertainty=background_uncertainty)
        events_true = np.asarray(tables.events_grid(log_g, n_k))
        if search.statistics == "peak":
            n_ref = DEFAULT_N_LIMIT
            scale = np.where(np.isfinite(n_up), n_ref / n_up, 0.0)
            tables = LimitNormalisedTables.normalise(tables, scale)
            n_lim = n_ref
            notes.append(f"{name}: peak search; its tables are limit-normalised (N x {n_ref:.4f} / N_up(m)), "
                         "the contour is N = N_up(m); no expected or N_K bands")
            if projections:
                notes.append(f"{name}: projections do not apply to a peak search over observed counts")
            exposures = (n_k,)
        else:
            n_lim = float(n_up[0])
            # --projection values are exposures of the first search; every sample scales alike
            exposures = (n_k, *[float(p) * n_k / experiment.pot for p in projections])
            if projections:
                notes.append(f"{name}: a projection's limit is the median expected one for the background scaled "
                             "to its exposure (the observed count belongs to the sample)")
        if bands & {"production", "decay"}:
            notes.append(f"{name}: the production and decay bands are not computed in kaon mode")
        # N is proportional to N_K: one grid at n_k serves every exposure by a shift of log N
        with np.errstate(divide="ignore"):
            logn_k = np.log(np.asarray(tables.events_grid(log_g, n_k)))
        points = []
        for i, p in enumerate(exposures):
            f = p / n_k
            if i == 0:
                lim = n_lim
                b = used.get("background", 0.0)
                db = used.get("background_uncertainty", 0.0)
            else:
                b = used["background"] * (f if background_mode == "scale" else 1.0)
                db = used["background_uncertainty"] * (f if background_mode == "scale" else 1.0)
                lim = float(expected_limits(b, db, cl=cl, method=method)["0"])
            logn = logn_k + math.log(f)
            contour = per_mass_contour(tables, p, lim, log_g, logn=logn)
            expected, band = {}, ()
            if search.statistics == "counting" and i == 0:
                if "expected" in bands:
                    for key, n_q in expected_limits(b, db, cl=cl, method=method).items():
                        expected[key] = (float(n_q), contour if abs(n_q - lim) < 1e-12 * lim else
                                         per_mass_contour(tables, p, n_q, log_g, logn=logn))
                unc = exp1.pot_uncertainty
                if "pot" in bands and unc > 0:
                    band = tuple(per_mass_contour(tables, p * k, lim, log_g, logn=logn + math.log(k))
                                 for k in pot_factors(p, unc))
            points.append(ScanPoint(pot=p, n_limit=lim, contour=contour, events=events_true * f, background=b,
                                    background_uncertainty=db, expected=expected, pot_band=band))
        inputs = {"pot": n_k, "exposure_unit": "K+ decays", "sample_n_kaons": base, "projections": list(exposures[1:]),
                  "channels": list(tables.channels), "cl": cl, "method": method, "search": name,
                  "signature": search.signature, "statistics": search.statistics, "limit": used,
                  "n_limit_per_mass": [float(v) for v in n_up], "efficiency": search.efficiency,
                  "sample": search.sample, "observed": used.get("observed", 0),
                  "background": used.get("background", 0.0),
                  "background_uncertainty": used.get("background_uncertainty", 0.0), "background_pot": n_k,
                  "background_mode": background_mode, "notes": notes, "bands": sorted(bands),
                  "mass_range": [float(grid.masses[0]), float(grid.masses[-1]), int(grid.masses.size)],
                  "coupling_range": [float(grid.couplings[0]), float(grid.couplings[-1]), int(grid.couplings.size)],
                  "model": model.settings(), "experiment": exp1.name, "pot_uncertainty": exp1.pot_uncertainty,
                  "provenance": {}}
        results.append(ScanResult(model, exp1, grid, tables.channels, points, tables, inputs))
    if not results:
        raise InputError("no search of the kaon-mode experiment applies: " + "; ".join(skipped))
    for r in results:
        r.inputs["notes"] = list(r.inputs["notes"]) + skipped
    if np.all(np.asarray(grid.masses) >= C_KPI_THRESHOLD):
        for r in results:
            r.inputs["notes"].append(f"every mass lies at or above m_K - m_pi = {C_KPI_THRESHOLD:.4f} GeV: "
                                     "K+ -> pi+ X is closed, N = 0")
    return KaonScanResult(model, experiment, grid, results)
