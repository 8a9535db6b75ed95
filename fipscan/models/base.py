"""The model protocol: what every benchmark model offers fipscan, written down once.

A model is a frozen dataclass (its options are fields, e.g. the dark photon's ``form_factor``) with
the class attributes and methods of :class:`Model`.  It knows physics only: widths, branching ratios
and *declarations* of its production channels (fipscan.production.channels).  It never touches
spectra files or an experiment: the pipeline (fipscan.production.sources, fipscan.yields) turns the
declarations into binned FIP sources for a given beam.  ``tests/test_model_protocol.py`` checks every
registered model against this protocol.

Adding a model: one file in this package with the class, plus one line in ``fipscan.models._REGISTRY``.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import ClassVar, Mapping, Protocol, runtime_checkable

__all__ = ["Coupling", "Model", "check_model", "production_channel_names"]


@dataclass(frozen=True)
class Coupling:
    """The coupling axis of a model.

    name: ASCII name used in files ("epsilon", "sin2theta", "g_agg"); label: LaTeX for plots (with $);
    unit: "" or e.g. "GeV^-1"; production_power: production rates scale as g**production_power (a
    production channel may declare its own, e.g. the coupling-independent pair production of the BC5
    scalar: fipscan.production.channels.channel_power);
    width_power: every partial width scales as g**width_power (so c tau ~ g**-width_power);
    max: the physical upper bound of the axis (epsilon <= 1, sin^2 theta <= 1; inf when there is none):
    a larger coupling is refused with a message, not computed into overflowing rates;
    scan_range: the (lo, hi) coupling range ``fipscan scan`` uses when ``--couplings`` is not given
    (wide enough for the model's contour at the shipped experiments, at most ``max``).
    """

    name: str
    label: str
    production_power: float = 2.0
    width_power: float = 2.0
    unit: str = ""
    max: float = float("inf")
    scan_range: tuple[float, float] = (1e-9, 1e-3)

    @property
    def axis_label(self) -> str:
        """Plot axis label: the LaTeX label with the unit, e.g. r"$g_{a\\gamma\\gamma}$ [GeV$^{-1}$]"."""
        if not self.unit:
            return self.label
        return f"{self.label} [{self.unit.replace('^-1', '$^{-1}$')}]"


@runtime_checkable
class Model(Protocol):
    """What fipscan needs from a benchmark model (class attributes and methods).

    * ``name`` (registry key, e.g. "dark-photon"), ``benchmark`` (PBC name, "BC1"), ``label`` (for
      plots), ``coupling`` (:class:`Coupling`), ``spin`` (0 or 1: fixes the decay angular
      distribution in the acceptance), ``mass_range`` ((lo, hi) GeV), ``default_final_states``.
    * ``production()`` -> tuple of production-channel declarations (fipscan.production.channels).
    * ``total_width(m, g)`` [GeV], jnp, broadcasting over m and g.
    * ``branching_ratios(m)`` -> {final-state name (fipscan.final_states): BR}, coupling-independent,
      summing to one over the registered final states.
    * ``settings()`` -> plain-JSON dict of every option that changes a number (cache keys, files).
    * optional ``scan_masses``: (lo, hi) [GeV] of the masses ``fipscan scan`` takes without ``--masses``
      (default (0.01, 1.0));
    * optional ``resonances``: ((name, mass, width) [GeV], ...) of the narrow structures of the model's
      widths or production, around which scans refine the mass grid (fipscan.grid.refine_masses);
      none if absent.
    * optional ``production_variations()`` -> {label: {option: value}}: the model-option overrides that
      give the real alternatives of the production model (e.g. the dark photon without the time-like
      proton form factor), each a model of its own (``dataclasses.replace(model, **overrides)``); the
      production band of a scan (fipscan.bands) is their envelope.  {} (or absent) when the model has none.
    * optional ``decay_variations()`` -> {label: {option: value}}: the same for the decay widths (the
      "decay" band; e.g. the dark scalar's hadronic widths x 1/2, x 2).
    * optional ``symbol`` (mathtext, "A'") and ``definition`` (mathtext, the interaction term that
      defines the coupling): the plots' mass label m_X and the legend's second title line.
    """

    name: ClassVar[str]
    benchmark: ClassVar[str]
    label: ClassVar[str]
    coupling: ClassVar[Coupling]
    spin: ClassVar[int]
    mass_range: ClassVar[tuple[float, float]]
    default_final_states: ClassVar[tuple[str, ...]]

    def production(self) -> tuple: ...

    def total_width(self, m, g): ...

    def branching_ratios(self, m) -> Mapping: ...

    def settings(self) -> dict: ...


def production_channel_names(model_name: str, chosen, known) -> tuple[str, ...]:
    """A model's ``production_channels`` option as a tuple, checked against its ``known`` channel names:
    non-empty, distinct, each known; ConfigError (one line naming the model and the known names) otherwise."""
    from fipscan.errors import ConfigError

    chans = tuple(chosen)
    unknown = [c for c in chans if c not in known]
    if unknown or not chans or len(set(chans)) != len(chans):
        raise ConfigError(f"{model_name} production_channels must be distinct names among "
                          f"{', '.join(known)}, not {','.join(chans) or 'nothing'}")
    return chans


def check_model(model) -> list[str]:
    """Problems of ``model`` against :class:`Model` (an empty list when it conforms)."""
    from fipscan.final_states import FINAL_STATES
    from fipscan.production.channels import ProductionChannel

    problems = []
    for attr in ("name", "benchmark", "label", "coupling", "spin", "mass_range", "default_final_states"):
        if not hasattr(model, attr):
            problems.append(f"missing attribute {attr}")
    if problems:
        return problems
    if not isinstance(model.coupling, Coupling):
        problems.append("coupling is not a Coupling")
    if model.spin not in (0, 1):
        problems.append(f"spin must be 0 or 1, not {model.spin!r}")
    lo, hi = model.mass_range
    if not 0 < lo < hi:
        problems.append(f"mass_range {model.mass_range} is not 0 < lo < hi")
    for fs in model.default_final_states:
        if fs not in FINAL_STATES:
            problems.append(f"default final state {fs!r} is not registered")
    try:
        chans = list(model.production())
    except Exception as exc:  # a user's model: report, do not crash
        return problems + [f"production() raised {type(exc).__name__}: {exc}"]
    if not chans:
        problems.append("production() declares no channel")
    names = [c.name for c in chans]
    if len(set(names)) != len(names):
        problems.append(f"production channel names repeat: {names}")
    for c in chans:
        if not isinstance(c, ProductionChannel):
            problems.append(f"production channel {c!r} is not a declaration of fipscan.production.channels")
    for method in ("total_width", "branching_ratios", "settings"):
        if not callable(getattr(model, method, None)):
            problems.append(f"missing method {method}()")
    for item in getattr(model, "resonances", ()):
        ok = (isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)
              and all(isinstance(x, (int, float)) and 0 < x < math.inf for x in item[1:]))
        if not ok:
            problems.append(f"resonances entry {item!r} is not (name, mass > 0, width > 0)")
    if problems or not 0 < lo < hi:
        return problems
    try:  # branching ratios keyed by registered final-state names, at a mass inside the range
        brs = model.branching_ratios(math.sqrt(lo * hi))
        unknown = sorted(str(k) for k in brs if k not in FINAL_STATES)
        if unknown:
            problems.append(f"branching_ratios() keys {', '.join(unknown)} are not registered final states "
                            "(fipscan list final-states)")
    except Exception as exc:
        problems.append(f"branching_ratios() raised {type(exc).__name__}: {exc}")
    return problems
