"""Uncertainty bands of the signal model: the contour under each variation and their envelope.

A *variation* is one alternative of the inputs that make N(m, g), with everything else held fixed:

* a **model variation**: model-option overrides that give the alternative model (the model's
  ``production_variations()`` or ``decay_variations()``, fipscan.models.base.Model; e.g. the dark photon
  without the time-like proton form factor, the dark scalar with inclusive B -> X_s S).  The varied
  model is ``dataclasses.replace(model, **overrides)`` and its yield tables are built by
  :func:`fipscan.yields.precompute` (cached by the model's settings, so a second scan reuses them);
* a **spectra variation**: the same model with the meson spectra of another shipped file for the same
  beam (``spectra``: its registered name, fipscan.spectra.registry): pp collisions (PYTHIA 8) against
  proton-nucleus collisions on the experiment's own target material (PYTHIA 8 Angantyr), e.g. NA62's
  pp-400gev against pcu-400gev, SHiP's pmo-400gev against pp-400gev.  Its tables are built by
  :func:`fipscan.yields.precompute` with those spectra (cached by their checksum);
* an **experiment re-weighting**: a factor per final state on N that needs no new tables, as the POT
  band is a factor on the POT.  Today the selection efficiency +- its relative uncertainty u (the
  experiment's ``[efficiency_uncertainty]``): "efficiency low" / "efficiency high" scale the N of each
  final state by (1 - u) / (1 + u).  (The spectra's per-POT vs per-pp-collision normalisation is not a
  variation: for the light mesons they are the same number, for heavy flavour they differ by the
  dump's A/sigma_inel(pA) scaling and the cascade factors, which are physics of the dump, not an
  alternative normalisation; fipscan/spectra/generation.py.)

Each variation gives a per-mass contour at the primary POT and the same limit (N_limit) as the nominal
one (fipscan.contour.per_mass).  The band is their envelope together with the nominal contour, per mass:

* ``outer`` = the union of the excluded intervals: excluded where any member excludes, lower edge the
  smallest lower edge, upper edge the largest upper edge of the members that exclude there;
* ``inner`` = the intersection: excluded where every member excludes, lower edge the largest lower
  edge, upper edge the smallest upper edge (nothing where they do not overlap).

With the nominal contour a member, ``inner`` <= nominal <= ``outer`` mass by mass, and with no variation
both are the nominal contour.  (The per-mass contour keeps the first lower and the last upper crossing;
islands are merged as in the contour itself.)  Bands: "production" (the model's production variations
and the experiment re-weightings) and "decay" (the model's decay-width variations); with "expected"
and "pot" (fipscan.scanner) they are the names :func:`parse_bands` accepts.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from fipscan.errors import ConfigError, InputError

if TYPE_CHECKING:  # the contour code imports JAX; parse_bands (the CLI's precheck) must not
    from fipscan.contour.per_mass import PerMassContour

__all__ = ["BAND_NAMES", "DEFAULT_BANDS", "MODEL_BANDS", "Variation", "ModelBand", "parse_bands",
           "band_variations", "envelope", "model_band", "variation_contour", "describe_json"]

#: every band a scan can compute: expected-limit quantiles, POT uncertainty, production model, decay widths
BAND_NAMES = ("expected", "pot", "production", "decay")
#: the bands of ``scan(..., bands=True)`` and of ``fipscan scan`` without --bands
DEFAULT_BANDS = frozenset({"expected", "pot"})
#: the bands built from variations of the signal model (this module); the others are fipscan.scanner's
MODEL_BANDS = ("production", "decay")
#: the plot and table words of each model band
BAND_TITLES = {"production": "production model", "decay": "decay widths"}


def parse_bands(bands) -> frozenset[str]:
    """The set of band names of ``bands``: True -> :data:`DEFAULT_BANDS`, False/None -> none, a string
    "production,expected,pot" (or "none") or a collection of names among :data:`BAND_NAMES`.
    InputError (one line) for an unknown or empty name."""
    if bands is True:
        return DEFAULT_BANDS
    if bands is False or bands is None:
        return frozenset()
    if isinstance(bands, str):
        items = [b.strip() for b in bands.split(",")]
        if items == ["none"]:
            return frozenset()
    else:
        try:
            items = list(bands)
        except TypeError:
            raise InputError(f"bands must be True, False or band names among {', '.join(BAND_NAMES)}, "
                             f"not {bands!r}") from None
    for b in items:
        if not isinstance(b, str) or b not in BAND_NAMES:
            if b == "":
                raise InputError(f"an empty band name in the list (known: {', '.join(BAND_NAMES)}; or none)")
            raise InputError(f"unknown band '{b}' (known: {', '.join(BAND_NAMES)}; or none)")
    return frozenset(items)


@dataclass(frozen=True)
class Variation:
    """One variation of a band: ``label``; ``options``: the model-option overrides of a model variation
    ({} for a re-weighting); ``factors``: final state -> factor on N of a re-weighting ({} for a model
    variation); ``source``: "model" or "experiment"."""

    label: str
    options: Mapping[str, Any] = field(default_factory=dict)
    factors: Mapping[str, float] = field(default_factory=dict)
    source: str = "model"
    spectra: str | None = None

    def describe(self) -> str:
        """One line: the overrides (``form_factor=false``), the spectra (``spectra=pcu-400gev``) or the
        factors (``N(ee) x 0.9, N(mumu) x 0.9``)."""
        if self.options:
            return ", ".join(f"{k}={_text(v)}" for k, v in self.options.items())
        if self.spectra:
            return f"spectra={self.spectra}"
        return ", ".join(f"N({k}) x {v:g}" for k, v in self.factors.items())

    def as_dict(self) -> dict:
        """Plain JSON: label, source, options, factors, spectra."""
        return {"label": self.label, "source": self.source,
                "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.items()},
                "factors": dict(self.factors), "spectra": self.spectra}


def _text(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (tuple, list)):
        return ",".join(map(str, v))
    return str(v)


def _model_variations(model, band: str) -> dict[str, dict]:
    """The model's ``<band>_variations()`` ({} when it has none), checked: {non-empty label: non-empty
    {option: value}}; ConfigError (one line) otherwise."""
    method = getattr(model, f"{band}_variations", None)
    if method is None:
        return {}
    out = method()
    if not isinstance(out, Mapping) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, Mapping) and v for k, v in out.items()):
        raise ConfigError(f"model {model.name}: {band}_variations() must return {{label: {{option: value}}}}, "
                          f"not {out!r}")
    return {k: dict(v) for k, v in out.items()}


def band_variations(band: str, model, experiment, channels) -> dict[str, Variation]:
    """The variations of model band ``band`` ("production" or "decay") for ``model`` at ``experiment``
    with the final states ``channels``: the model's own (``production_variations()`` /
    ``decay_variations()``) and, for "production", the other shipped spectra of the experiment's beam
    (:func:`fipscan.spectra.registry.alternative_spectra`: pp against proton-nucleus on the experiment's
    target material; "spectra=<name>") when the model has a production channel that uses the spectra, and
    "efficiency low" / "efficiency high" when some final state of ``channels`` has a relative efficiency
    uncertainty u > 0 (N of each final state x (1 -+ u), those without one x 1)."""
    from fipscan.spectra.registry import alternative_spectra

    if band not in MODEL_BANDS:
        raise InputError(f"unknown model band '{band}' (known: {', '.join(MODEL_BANDS)})")
    out = {label: Variation(label, options=opts) for label, opts in _model_variations(model, band).items()}
    if band == "production":
        if _uses_spectra(model):
            for name in alternative_spectra(experiment.beam.spectra, experiment.beam.energy_gev,
                                            experiment.target.material):
                out[f"spectra={name}"] = Variation(f"spectra={name}", spectra=name, source="spectra")
        u = {c: float(experiment.efficiency_uncertainty.get(c, 0.0)) for c in channels}
        if any(x > 0 for x in u.values()):
            for label, sign in (("efficiency low", -1.0), ("efficiency high", 1.0)):
                out[label] = Variation(label, factors={c: 1.0 + sign * x for c, x in u.items()}, source="experiment")
    return out


@dataclass(frozen=True)
class ModelBand:
    """A band of the signal model at the primary POT: ``outer`` (union) and ``inner`` (intersection) of
    the nominal and the varied contours, each variation's contour (``variations``, label ->
    PerMassContour) and what it varies (``descriptions``, label -> :class:`Variation`).
    ``band["outer"]``, ``band["inner"]``, ``band["variations"]`` read the same."""

    name: str
    nominal: PerMassContour
    outer: PerMassContour
    inner: PerMassContour
    variations: Mapping[str, PerMassContour]
    descriptions: Mapping[str, Variation]

    def __getitem__(self, key):
        if key not in ("outer", "inner", "variations", "descriptions", "nominal"):
            raise KeyError(key)
        return getattr(self, key)

    @property
    def title(self) -> str:
        """The legend text: "production model (N variations)"."""
        n = len(self.variations)
        return f"{BAND_TITLES.get(self.name, self.name)} ({n} variation{'' if n == 1 else 's'})"


def envelope(nominal: PerMassContour, members) -> tuple[PerMassContour, PerMassContour]:
    """(outer, inner) of ``nominal`` and the contours ``members`` (same masses), per mass: outer the union
    (min lower edge, max upper edge over the members that exclude there), inner the intersection (max
    lower, min upper where every member excludes and they overlap).  The grid-edge flags follow the
    member whose edge is taken; ``converged`` is the AND over the members that exclude there."""
    from fipscan.contour.per_mass import PerMassContour

    cs = [nominal, *members]
    for c in cs[1:]:
        if np.shape(c.masses) != np.shape(nominal.masses) or not np.allclose(c.masses, nominal.masses, rtol=1e-12):
            raise InputError("the contours of a band must share the nominal contour's masses")
    ex = np.stack([np.asarray(c.excluded, bool) for c in cs])
    lo = np.stack([np.asarray(c.lower, float) for c in cs])
    hi = np.stack([np.asarray(c.upper, float) for c in cs])
    lo_edge = np.stack([np.asarray(c.lower_at_edge, bool) for c in cs])
    hi_edge = np.stack([np.asarray(c.upper_at_edge, bool) for c in cs])
    conv = np.all(np.stack([np.asarray(c.converged, bool) for c in cs]) | ~ex, axis=0)
    cols = np.arange(ex.shape[1])

    def pick(ok, reduce_lo, reduce_hi):
        i_lo = reduce_lo(np.where(ex, lo, np.inf if reduce_lo is np.argmin else -np.inf), axis=0)
        i_hi = reduce_hi(np.where(ex, hi, -np.inf if reduce_hi is np.argmax else np.inf), axis=0)
        lower = np.where(ok, lo[i_lo, cols], np.nan)
        upper = np.where(ok, hi[i_hi, cols], np.nan)
        return PerMassContour(np.asarray(nominal.masses), lower, upper, ok & lo_edge[i_lo, cols],
                              ok & hi_edge[i_hi, cols], conv.copy(), float(nominal.n_limit))

    outer = pick(ex.any(axis=0), np.argmin, np.argmax)
    inner = pick(ex.all(axis=0), np.argmax, np.argmin)
    overlap = ~(inner.lower <= inner.upper)  # the members' intervals do not overlap: nothing in common
    if overlap.any():
        inner = dataclasses.replace(inner, lower=np.where(overlap, np.nan, inner.lower),
                                    upper=np.where(overlap, np.nan, inner.upper),
                                    lower_at_edge=inner.lower_at_edge & ~overlap,
                                    upper_at_edge=inner.upper_at_edge & ~overlap)
    return outer, inner


def _uses_spectra(model) -> bool:
    """Whether a production channel of ``model`` takes the beam's meson spectra (meson decays, mixing,
    photon conversion; not proton bremsstrahlung, which takes the beam proton)."""
    from fipscan.production.channels import MesonDecay, MesonMixing, PhotonConversion, RecoilDecay

    declared = getattr(model, "production", None)
    kinds = (MesonDecay, RecoilDecay, PhotonConversion, MesonMixing)
    return declared is not None and any(isinstance(ch, kinds) for ch in declared())


def _varied_model(model, options):
    """``model`` with the option overrides ``options`` (its __post_init__ checks them); ConfigError (one
    line) for a model that is not a dataclass or an option it does not have."""
    if not dataclasses.is_dataclass(model):
        raise ConfigError(f"model {model.name} is not a dataclass: its variations cannot be built")
    known = {f.name for f in dataclasses.fields(model)}
    unknown = [k for k in options if k not in known]
    if unknown:
        raise ConfigError(f"model {model.name} has no option '{unknown[0]}' (a variation overrides one of: "
                          f"{', '.join(sorted(known)) or 'none'})")
    return dataclasses.replace(model, **options)


def _reweighted(tables, factors: Mapping[str, float]):
    """The yield tables with the weights of each final state times its factor: weights and per_final_state
    exact; per_channel (used by tables whose channels scale with different powers of the coupling) takes
    each cell's factor W'/W, the same share rule as YieldTables._final_state_groups."""
    import jax.numpy as jnp

    parts = dict(tables.per_final_state)
    if set(parts) != set(factors):
        raise InputError(f"the yield tables are split into final states {','.join(parts) or 'none'}, the "
                         f"re-weighting names {','.join(factors)}")
    W = sum(float(factors[k]) * v for k, v in parts.items())
    has = tables.weights > 0
    ratio = jnp.where(has, W / jnp.where(has, tables.weights, 1.0), 0.0)
    return dataclasses.replace(tables, weights=W, per_channel={k: v * ratio for k, v in tables.per_channel.items()},
                               per_final_state={k: float(factors[k]) * v for k, v in parts.items()})


def variation_contour(variation: Variation, model, experiment, tables, log_g, pot: float, n_limit: float, *,
                      channels, logn=None, spectra=None, dtype=None) -> PerMassContour:
    """The per-mass contour of one :class:`Variation` at ``pot`` and limit ``n_limit`` on the masses of
    ``tables`` (the nominal yield tables): a model variation builds (or reads from the cache) the varied
    model's tables; a re-weighting scales N of the nominal tables (``logn``: their log N at ``pot``, to
    reuse) -- by a shift of the POT when every final state has the same factor (N is proportional to the
    POT, as for the POT band), else with re-weighted tables."""
    import jax.numpy as jnp

    from fipscan.contour.per_mass import per_mass_contour
    from fipscan.yields import precompute

    if variation.spectra:
        other = experiment.load_spectra(variation.spectra)
        vt = precompute(model, experiment, np.asarray(tables.masses), channels=channels, spectra=other,
                        dtype=dtype or jnp.result_type(tables.weights))
        return per_mass_contour(vt, pot, n_limit, log_g)
    if variation.options:
        varied = _varied_model(model, variation.options)
        vt = precompute(varied, experiment, np.asarray(tables.masses), channels=channels, spectra=spectra,
                        dtype=dtype or jnp.result_type(tables.weights))
        return per_mass_contour(vt, pot, n_limit, log_g)
    f = {c: float(variation.factors.get(c, 1.0)) for c in channels}
    if not all(0 < x < math.inf for x in f.values()):
        raise InputError(f"variation {variation.label}: the factors on N must be positive, not {f}")
    common = set(f.values())
    if len(common) == 1:
        x = common.pop()
        shifted = None if logn is None else np.asarray(logn) + math.log(x)
        return per_mass_contour(tables, pot * x, n_limit, log_g, logn=shifted)
    return per_mass_contour(_reweighted(tables, f), pot, n_limit, log_g)


def model_band(band: str, model, experiment, tables, log_g, pot: float, n_limit: float, *, channels,
               nominal: PerMassContour | None = None, logn=None, spectra=None, dtype=None,
               variations: Mapping[str, Variation] | None = None) -> ModelBand:
    """The :class:`ModelBand` ``band`` ("production" or "decay") at ``pot`` and limit ``n_limit``:
    every variation's contour (:func:`variation_contour`; ``variations`` default
    :func:`band_variations`) and the envelope with the ``nominal`` contour (computed here if not given).
    ``tables``: the nominal yield tables of ``model`` at ``experiment`` for the final states ``channels``;
    ``log_g``: the natural-log coupling grid; ``logn``: log N of ``tables`` on it at ``pot`` (optional)."""
    from fipscan.contour.per_mass import per_mass_contour

    if variations is None:
        variations = band_variations(band, model, experiment, channels)
    if nominal is None:
        nominal = per_mass_contour(tables, pot, n_limit, log_g, logn=logn)
    contours = {label: variation_contour(v, model, experiment, tables, log_g, pot, n_limit, channels=channels,
                                         logn=logn, spectra=spectra, dtype=dtype)
                for label, v in variations.items()}
    outer, inner = envelope(nominal, contours.values())
    return ModelBand(band, nominal, outer, inner, contours, dict(variations))


def describe_json(band: ModelBand) -> str:
    """The variations of ``band`` as a JSON list (label, source, options, factors) for file attributes."""
    return json.dumps([band.descriptions[k].as_dict() for k in band.variations], sort_keys=True)
