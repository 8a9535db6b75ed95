"""``scan(model, experiment, grid)``: expected events on an (m, coupling) grid and the exclusion contour."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import h5py
import jax.numpy as jnp
import numpy as np

from fipscan import __version__
from fipscan.cache import atomic_write
from fipscan.contour.per_mass import PerMassContour, per_mass_contour
from fipscan.errors import InputError
from fipscan.experiments import Experiment, load_experiment
from fipscan.grid import Grid
from fipscan.models import get_model
from fipscan.yields import YieldTables, precompute

__all__ = ["scan", "ScanResult", "ScanPoint", "DEFAULT_N_LIMIT", "n_limit_for", "prepare_output_dir"]

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

    def save(self, outdir, *, compare=None, formats=("png", "pdf"), polygon=True) -> dict[str, Path]:
        """Write contour.csv (per mass), contour_polygon.csv (the traced closed region(s)), scan.h5,
        contour.png/.pdf into ``outdir`` (each atomically)."""
        from fipscan.contour.trace import save_polygon, write_polygon_h5
        from fipscan.plotting import plot_result

        outdir = prepare_output_dir(outdir)
        written = {}
        written["contour.csv"] = _atomic_text(outdir / "contour.csv", contour_csv(self.contour))
        for pt in self.points[1:]:
            name = f"contour_pot{pt.pot:.0e}.csv".replace("+", "")
            written[name] = _atomic_text(outdir / name, contour_csv(pt.contour))
        regions = save_polygon(self, outdir, written) if polygon else []

        def write_h5(f):
            self._write_h5(f)
            if polygon:
                write_polygon_h5(f.create_group("contour_polygon"), regions)

        written["scan.h5"] = _atomic_h5(outdir / "scan.h5", write_h5)
        for fmt in formats:
            written[f"contour.{fmt}"] = _atomic_binary(
                outdir / f"contour.{fmt}", lambda fh, f=fmt: plot_result(self, fh, fmt=f, compare=compare))
        return written

    def _write_h5(self, f: h5py.File) -> None:
        f.attrs["fipscan_version"] = __version__
        f.attrs["model"] = self.model.name
        f.attrs["experiment"] = self.experiment.name
        f.attrs["channels"] = ",".join(self.channels)
        f.attrs["inputs"] = json.dumps(_jsonable(self.inputs), sort_keys=True)
        f.attrs["experiment_config"] = json.dumps(_jsonable(self.experiment.config), sort_keys=True)
        f.attrs["model_settings"] = json.dumps(_jsonable(self.model.settings()), sort_keys=True)
        f.create_dataset("mass_gev", data=self.grid.masses)
        f.create_dataset("coupling", data=self.grid.couplings)
        f["mass_gev"].attrs["units"] = "GeV"
        f["coupling"].attrs["name"] = self.model.coupling_name
        for i, pt in enumerate(self.points):
            g = f.create_group(f"pot_{i}")
            g.attrs["pot"] = pt.pot
            g.attrs["n_limit"] = pt.n_limit
            d = g.create_dataset("events", data=pt.events, compression="gzip")
            d.attrs["axes"] = "mass_gev,coupling"
            g.attrs["background"] = pt.background
            g.attrs["background_uncertainty"] = pt.background_uncertainty
            _write_contour(g.create_group("contour"), pt.contour)
            for key, (n_q, c) in pt.expected.items():
                sub = _write_contour(g.create_group(f"expected/{key}"), c)
                sub.attrs["n_limit"] = n_q
            for name, c in zip(("pot_low", "pot_high"), pt.pot_band):
                _write_contour(g.create_group(f"pot_band/{name}"), c)


def _write_contour(group: h5py.Group, contour: PerMassContour) -> h5py.Group:
    for key in ("masses", "lower", "upper", "lower_at_edge", "upper_at_edge", "converged"):
        group.create_dataset(key, data=getattr(contour, key))
    group.attrs["n_limit"] = contour.n_limit
    return group


def prepare_output_dir(outdir) -> Path:
    """Create ``outdir`` if needed and check that it is a writable directory (InputError otherwise)."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"output path {outdir} exists and is not a directory")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {outdir}: {exc.strerror}") from None
    try:  # os.access is not enough (root ignores permission bits; read-only mounts)
        fd, probe = tempfile.mkstemp(prefix=".fipscan-write-probe.", dir=outdir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"output directory {outdir} is not writable: {exc.strerror}") from None
    return outdir


def contour_csv(contour: PerMassContour) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["mass_gev", "coupling_lower", "coupling_upper"])
    for m, lo, hi in contour.rows():
        w.writerow([f"{m:.8g}", f"{lo:.8g}", f"{hi:.8g}"])
    return buf.getvalue()


def _jsonable(obj):
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def _atomic_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda fh: fh.write(text), "w")


def _atomic_binary(path: Path, write) -> Path:
    return atomic_write(path, write, "wb")


def _atomic_h5(path: Path, write) -> Path:
    def inner(fh):
        with h5py.File(fh, "w") as f:
            write(f)

    return atomic_write(path, inner, "w+b")


def scan(model, experiment, grid: Grid, *, pot=None, projections=(), channels=None, spectra=None,
         observed=None, background=None, background_uncertainty=None, background_mode="scale", cl=None,
         method="cls", bands=True, tables: YieldTables | None = None, dtype=jnp.float64) -> ScanResult:
    """Expected events N(m, g) on ``grid`` and the per-mass exclusion contour.

    model: a model instance or registered name; experiment: an Experiment or a name/TOML path.
    pot: protons on target (default: the experiment's); projections: further POT values computed
    from the same tables.  The limit on the signal events comes from fipscan.stats: CLs (or
    ``method="fc"``) for ``observed`` events (default: the experiment's, 0) over the background
    (default: the experiment's expected backgrounds of the chosen final states, stated at its
    reference POT); 2.30 events at 90% CL when nothing is observed.  The background scales with POT
    (``background_mode="scale"``) or is held fixed (``"fixed"``).  ``bands``: also the expected-limit
    contours (median, +-1 sigma, +-2 sigma under the background-only hypothesis) and the contours at
    POT x (1 -+ the experiment's relative POT uncertainty).
    tables: reuse a ``precompute(...)`` result (its masses must equal the grid's).
    """
    model = get_model(model)
    experiment = load_experiment(experiment)
    grid.validate(model.mass_range)
    channels = tuple(channels or model.default_channels)
    unknown = [c for c in channels if c not in model.decay_channels]
    if unknown:
        raise InputError(f"unknown decay channel(s) {','.join(unknown)} for {model.name} "
                         f"(known: {','.join(model.decay_channels)})")
    pot = float(experiment.pot if pot is None else pot)
    if not math.isfinite(pot) or pot <= 0:
        raise InputError(f"pot must be positive, got {pot}")
    if tables is None:
        tables = precompute(model, experiment, grid.masses, channels=channels, spectra=spectra, dtype=dtype)
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
        n_lim = n_limit_for(obs, b, db, cl, method)
        events = events_ref * (p / pot)
        logn = logn_ref + math.log(p / pot)
        contour = per_mass_contour(tables, p, n_lim, log_g, logn=logn)
        expected, pot_band = {}, ()
        if bands:
            from fipscan.stats import expected_limits, pot_band as pot_factors

            for key, n_q in expected_limits(b, db, cl=cl, method=method).items():
                same = abs(n_q - n_lim) < 1e-12 * n_lim
                expected[key] = (float(n_q), contour if same else
                                 per_mass_contour(tables, p, n_q, log_g, logn=logn))
            if experiment.pot_uncertainty > 0:
                pot_band = tuple(per_mass_contour(tables, p * f, n_lim, log_g, logn=logn + math.log(f))
                                 for f in pot_factors(p, experiment.pot_uncertainty))
        points.append(ScanPoint(pot=p, n_limit=n_lim, contour=contour, events=events, background=b,
                                background_uncertainty=db, expected=expected, pot_band=pot_band))
    inputs = {
        "pot": pot, "projections": list(projections), "channels": list(channels), "cl": cl,
        "observed": obs, "background": b_ref, "background_uncertainty": db_ref, "background_pot": bkg_pot,
        "background_mode": background_mode, "method": method,
        "mass_range": [float(grid.masses[0]), float(grid.masses[-1]), int(grid.masses.size)],
        "coupling_range": [float(grid.couplings[0]), float(grid.couplings[-1]), int(grid.couplings.size)],
        "model": model.settings(), "experiment": experiment.name, "efficiency": dict(experiment.efficiency),
        "pot_uncertainty": experiment.pot_uncertainty,
    }
    return ScanResult(model, experiment, grid, channels, points, tables, inputs)
