"""The model-independent ("generic") FIP X of NA62's hadronic beam-dump analysis: one production channel of a
parent model at a fixed reference coupling, one final state with BR = 1, and the total width Gamma_X as the
coupling axis.

NA62, "Search for hadronic decays of feebly-interacting particles at NA62", Eur. Phys. J. C 85 (2025) 571
(arXiv:2502.04241), its model-independent interpretation: with BR(X -> final state) = 1,

    N_exp(M_X, Gamma_X) = N_POT . chi_pp->X(C_ref) . P_rd(M_X, Gamma_X) . A_acc . A_trig,

chi_pp->X the number of X per proton on dump from ONE production mechanism (proton bremsstrahlung, light-meson
decays, B-meson decays, Primakoff conversion, mixing with pi0/eta/eta') evaluated at a reference coupling
C_ref of the model that defines that mechanism, and P_rd the probability that X decays inside the fiducial
volume, which depends on (M_X, Gamma_X, the X momentum) only.  Production is therefore independent of
Gamma_X and the decay probability follows Gamma_X.

How fipscan builds it (one declaration per production channel, fipscan.production.channels):

* the coupling axis g = Gamma_X [GeV]: ``total_width(m, g) = g`` (width_power = 1: the lab decay length is
  (p/m) hbar c / Gamma_X, PDG RPP "Kinematics"), ``production_power = 0`` (chi at C_ref for every Gamma_X);
* production: the parent model's declaration of the chosen channel with every coupling argument replaced by
  C_ref (:class:`_AtReference`); tables given at unit coupling (bremsstrahlung, tabulated channels) are
  multiplied by C_ref**n, n the channel's power of the parent coupling (fipscan.production.channels.channel_power);
  kinematics, parent spectra and weights (the dump's kaons that decay before interacting) are the parent's;
* decay: BR(X -> final_state) = 1 and nothing else; the decay angular distribution follows the parent's spin
  (fipscan.acceptance.angular_for: transverse vector for the dark photon, isotropic for spin 0).

The recast identity this gives (tests/test_generic_model.py): for the parent's channel and final state,
N_generic(m, Gamma_parent(m, C_ref)) x BR_parent(m, final state) = N_parent(m, C_ref) restricted to that
channel and final state.  Any other model with the same production mechanism is then recast by
N = N_generic(m, Gamma) x BR(final state) x chi(C)/chi(C_ref).

Options (``--model-option KEY=VALUE``; ``fipscan scan --production``/``--final-state`` set
``production_channel`` and ``final_state``):

* ``production_channel`` (not ``production``, which is the protocol's method): a production channel of the
  parent, its optional channels included (e.g. "brems" of dark-scalar, "primakoff(etap)" of alp-photon,
  "bplus->xs" of dark-scalar, which switches the parent to ``b_production=inclusive``), or a production
  *mechanism* (:data:`MECHANISMS`: NA62's "brems", "meson-decays", "b-decays", "primakoff", "mixing", and
  fipscan's "kaon-decays", "b-pair-decays"), which takes every channel of that mechanism the parent offers (optional ones too)
  (e.g. "b-decays" of dark-scalar: B+ -> K+ S, B0 -> K0 S, B+ -> K*+ S, B0 -> K*0 S, Bs -> phi S; chi is
  their sum, each at C_ref);
* ``final_state``: a registered final state that detectors reconstruct (fipscan list final-states);
* ``parent``: a registered model name (default dark-scalar);
* defaults: an empty ``parent``, ``production_channel`` or ``final_state`` takes dark-scalar, the parent's
  first channel (B+ -> K+ S for dark-scalar) and pi+pi- (else the parent's first default final state that
  is open); the instance stores the resolved values (so settings and plot titles name them);
* ``reference_coupling``: C_ref on the parent's axis; 0 (default) takes :data:`REFERENCE_COUPLINGS` of the
  parent.  These defaults are choices of this module, near each benchmark's NA62-BD sensitivity (the paper's
  own C_ref values are not reproduced): chi is linear in C_ref**n for every shipped channel, so C_ref only
  fixes the normalisation that is quoted with the result;
* ``parent_options``: options of the parent, "KEY=VALUE" items (comma separated; e.g.
  ``parent_options=form_factor=false`` for the dark photon's bremsstrahlung); the parent's production
  channels are set by ``production_channel``, not here.

Checks (ConfigError, one line): the final state must be open somewhere in the parent's production range, i.e.
threshold(final state) < min(parent's mass_range upper end, m_parent - m_companion of a two-body decay, the
threshold of a decay with recoil); a spin-1 parent (the dark photon) cannot give gamma gamma (Landau-Yang:
Landau, Dokl. Akad. Nauk SSSR 60 (1948) 207; Yang, Phys. Rev. 77 (1950) 242) nor pi0 pi0 (Bose symmetry: two
identical spin-0 bosons from a J = 1 state would need the odd orbital wave L = 1, antisymmetric).  The mass
range is [max(parent's lower end, threshold), that upper end].

Only Gamma_X is offered as the axis.  A c tau axis (Gamma = hbar c / c tau, a width power of -1) would turn
the long-lived side of the region to large values of the axis, which the contour code does not assume; plot
c tau [m] = 1.973e-16 GeV m / Gamma_X instead.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass
from typing import Callable, ClassVar

import jax.numpy as jnp

from fipscan.errors import ConfigError
from fipscan.kernels.numerics import float_dtype
from fipscan.models.base import Coupling
from fipscan.production.channels import (Bremsstrahlung, MesonDecay, MesonMixing, PhotonConversion, RecoilDecay,
                                        Tabulated, channel_power)

__all__ = ["GenericFIP", "DEFAULT_PARENT", "REFERENCE_COUPLINGS", "parent_channel_names", "SPIN1_FORBIDDEN",
           "at_reference", "MECHANISMS", "mechanism_channels"]

#: default reference coupling C_ref per parent (on the parent's axis): choices near each benchmark's NA62-BD
#: sensitivity (module docstring); epsilon = 1e-6 for BC1 as in the brief of the generic mode
REFERENCE_COUPLINGS = {
    "dark-photon": 1e-6,  # epsilon
    "dark-scalar": 1e-8,  # sin^2 theta
    "dark-scalar-bc5": 1e-8,  # sin^2 theta (the pair channels do not depend on it)
    "alp-photon": 1e-5,  # g_agammagamma [GeV^-1]
    "alp-fermion": 1e-4,  # g_Y
    "alp-gluon": 1e-5,  # 1/f_G [GeV^-1]
}
#: the parent when none is given (its first production channel, B+ -> K+ S, is the default channel)
DEFAULT_PARENT = "dark-scalar"
#: final states a spin-1 X cannot decay into, with the reason (module docstring)
SPIN1_FORBIDDEN = {"gammagamma": "Landau-Yang theorem", "pi0pi0": "Bose symmetry (two identical spin-0 bosons)"}
#: NA62's production mechanisms (EPJC 85 (2025) 571: bremsstrahlung, light-meson decays, B-meson decays,
#: Primakoff, mixing with pi0/eta/eta'; and fipscan's kaon decays K -> pi X of the scalar and ALP models and
#: BC5's pair production) -> (what it is, which channel names belong to it).  Inclusive B -> X_s is in no group.
MECHANISMS = {
    "brems": ("proton bremsstrahlung", lambda n: n == "brems"),
    "meson-decays": ("light-meson decays pi0/eta/eta' -> gamma X, omega -> pi0 X",
                     lambda n: n in ("pi0->gamma", "eta->gamma", "etap->gamma", "omega->pi0")),
    "b-decays": ("exclusive B-meson decays B -> K(*) X, Bs -> phi X",
                 lambda n: n.startswith(("bplus->", "b0->", "bs->")) and not n.endswith(("->xs", "_pair"))),
    "b-pair-decays": ("B -> K X X through the h-X-X coupling (BC5)", lambda n: n.endswith("_pair")),
    "kaon-decays": ("kaon decays K+ -> pi+ X, K_L -> pi0 X", lambda n: n in ("kplus->piplus", "klong->pi0")),
    "primakoff": ("Primakoff conversion of the dump's photons", lambda n: n.startswith("primakoff(")),
    "mixing": ("mixing with pi0, eta, eta'", lambda n: n.startswith("mixing(")),
}


def mechanism_channels(parent_cls, mechanism: str) -> tuple[str, ...]:
    """Every production channel of the parent (its optional ones included, :func:`parent_channel_names`) that
    belongs to ``mechanism`` (a key of :data:`MECHANISMS`); empty when it has none."""
    belongs = MECHANISMS[mechanism][1]
    return tuple(n for n in parent_channel_names(parent_cls) if belongs(n))


#: the parent options this model sets itself
_OWN_PARENT_OPTIONS = ("production_channels", "b_production")


def parent_channel_names(parent_cls) -> tuple[str, ...]:
    """Every production channel a parent model class offers: its default list, its subclass channels
    (``extra_channels``) and the module-level OPTIONAL_CHANNELS and INCLUSIVE_B_CHANNELS of the model modules
    in its class hierarchy (e.g. dark-scalar-bc5 inherits dark-scalar's "brems")."""
    names = []
    fields = {f.name: f for f in dataclasses.fields(parent_cls)} if dataclasses.is_dataclass(parent_cls) else {}
    if "production_channels" in fields:
        names += list(fields["production_channels"].default)
    names += list(getattr(parent_cls, "extra_channels", ()))
    for klass in parent_cls.__mro__:
        module = sys.modules.get(klass.__module__)
        if module is None or not klass.__module__.startswith("fipscan.models."):
            continue
        for attr in ("OPTIONAL_CHANNELS", "INCLUSIVE_B_CHANNELS"):
            names += list(getattr(module, attr, ()))
    return tuple(dict.fromkeys(names))


def _reference_like(g, value):
    """``value`` with the shape and floating dtype of ``g`` (so that rates keep broadcasting over g)."""
    g = jnp.asarray(g)
    return jnp.full(jnp.shape(g), value, dtype=float_dtype(g))


@dataclass(frozen=True)
class _AtReference:
    """f(m, g) -> f(m, C_ref): a parent's rate at the reference coupling whatever g (hashable, picklable)."""

    fn: Callable
    reference: float

    def __call__(self, m, g):
        return self.fn(m, _reference_like(g, self.reference))


@dataclass(frozen=True)
class _ConversionAtReference:
    """conversion(E, m, g) -> conversion(E, m, C_ref) (Primakoff photons of the parent)."""

    fn: Callable
    reference: float

    def __call__(self, E, m, g):
        return self.fn(E, m, _reference_like(g, self.reference))


@dataclass(frozen=True)
class _TotalAtReference:
    """total(m, g, e_beam) -> total(m, C_ref, e_beam) (bremsstrahlung and tabulated channels)."""

    fn: Callable
    reference: float

    def __call__(self, m, g, e_beam):
        return self.fn(m, _reference_like(g, self.reference), e_beam)


@dataclass(frozen=True)
class _ScaledTable:
    """table(m, log10p_edges, log10theta_edges, e_beam) at unit coupling x C_ref**n."""

    fn: Callable
    factor: float

    def __call__(self, m, ep, et, e_beam):
        return self.factor * self.fn(m, ep, et, e_beam)


def at_reference(channel, reference: float, power: float):
    """The declaration ``channel`` of a parent with its rate fixed at coupling ``reference`` (C_ref) and
    production_power 0; ``power``: the channel's power of the parent coupling (for unit-coupling tables)."""
    if isinstance(channel, (MesonDecay, RecoilDecay)):
        return dataclasses.replace(channel, br=_AtReference(channel.br, reference), production_power=0.0)
    if isinstance(channel, PhotonConversion):
        return dataclasses.replace(channel, conversion=_ConversionAtReference(channel.conversion, reference),
                                   production_power=0.0)
    if isinstance(channel, MesonMixing):
        return dataclasses.replace(channel, mixing_sq=_AtReference(channel.mixing_sq, reference), production_power=0.0)
    if isinstance(channel, (Bremsstrahlung, Tabulated)):
        return dataclasses.replace(channel, table=_ScaledTable(channel.table, float(reference) ** power),
                                   total=_TotalAtReference(channel.total, reference), production_power=0.0)
    raise ConfigError(f"generic: production channel kind {type(channel).__name__} is not supported")


def _production_limit(channel):
    """(largest X mass [GeV] the channel makes, its description) or (inf, "") when only the parent's range limits it."""
    if isinstance(channel, MesonDecay):
        return channel.threshold(), f"m_{channel.parent} - m_{channel.companion}"
    if isinstance(channel, RecoilDecay):
        return channel.threshold(), f"the threshold of {channel.name}"
    return math.inf, ""


@dataclass(frozen=True)
class GenericFIP:
    """Model-independent X (NA62 EPJC 85 (2025) 571): coupling axis Gamma_X [GeV], one production channel of a
    parent model at its reference coupling, BR(X -> final_state) = 1 (module docstring for the options)."""

    parent: str = ""
    production_channel: str = ""
    reference_coupling: float = 0.0
    final_state: str = ""
    parent_options: tuple[str, ...] = ()

    name: ClassVar[str] = "generic"
    benchmark: ClassVar[str] = "generic"
    label: ClassVar[str] = r"generic $X$ (one production channel, BR = 1)"
    symbol: ClassVar[str] = "X"
    #: Gamma_X [GeV]: the width is the axis (width_power 1), production is fixed at C_ref (production_power 0).
    #: Scan range: at NA62-BD the short-lived edge lies near (p/m) hbar c / (a few m) ~ 1e-15..1e-12 GeV and
    #: the long-lived edge at 1e-22..1e-16 GeV for 1e2..1e8 X produced; the range leaves margin on both sides
    coupling: ClassVar[Coupling] = Coupling("Gamma_X", r"$\Gamma_X$", production_power=0.0, width_power=1.0,
                                             unit="GeV", scan_range=(1e-24, 1e-10))
    # spin, mass_range, default_final_states, scan_masses, resonances: set per instance from the options
    spin: ClassVar[int] = 0
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 5.0)
    default_final_states: ClassVar[tuple[str, ...]] = ("pipi",)

    def __post_init__(self):
        from fipscan.final_states import FINAL_STATES
        from fipscan.models import _model_class, _REGISTRY, get_model, parse_model_options

        parents = sorted(k for k in _REGISTRY if k != self.name)
        # "" options resolve to the defaults, and are stored resolved: plot titles show what was scanned
        object.__setattr__(self, "parent", self.parent or DEFAULT_PARENT)
        if self.parent not in parents:
            raise ConfigError(f"generic parent must be a registered model ({', '.join(parents)}), not {self.parent!r}")
        cls = _model_class(self.parent)
        known = parent_channel_names(cls)
        object.__setattr__(self, "production_channel", self.production_channel or known[0])
        if self.production_channel in MECHANISMS:
            chosen = mechanism_channels(cls, self.production_channel)
            if not chosen:
                offered = [k for k in MECHANISMS if mechanism_channels(cls, k)]
                raise ConfigError(f"generic: {self.parent} has no {self.production_channel} production channel "
                                  f"(its mechanisms: {', '.join(offered)})")
        elif self.production_channel in known:
            chosen = (self.production_channel,)
        else:
            raise ConfigError(f"generic production_channel {self.production_channel!r} is not a production channel "
                              f"of {self.parent} (known: {', '.join(known)}) or a mechanism ({', '.join(MECHANISMS)})")
        scannable = [k for k, fs in FINAL_STATES.items() if fs.detectable]
        if self.final_state and self.final_state not in scannable:
            raise ConfigError(f"generic final_state must be a registered final state that detectors reconstruct "
                              f"({', '.join(scannable)}), not {self.final_state!r}")
        items = (self.parent_options,) if isinstance(self.parent_options, str) else tuple(self.parent_options)
        options = parse_model_options(self.parent, items)
        for key in _OWN_PARENT_OPTIONS:
            if key in options:
                raise ConfigError(f"generic parent_options cannot set {key}: the production_channel option chooses "
                                  "the channel")
        fields = {f.name for f in dataclasses.fields(cls)}
        if "b_production" in fields and self.production_channel.endswith("->xs"):  # B -> X_s: inclusive mode
            options["b_production"] = "inclusive"
        parent = get_model(self.parent, production_channels=chosen, **options)
        ref = self.reference_coupling
        if isinstance(ref, bool) or not isinstance(ref, (int, float)) or not (0 <= ref < math.inf):
            raise ConfigError(f"generic reference_coupling must be a positive number (0: the parent's default), "
                              f"not {ref!r}")
        ref = float(ref) if ref > 0 else REFERENCE_COUPLINGS.get(self.parent, 0.0)
        top = float(getattr(parent.coupling, "max", math.inf))
        if not 0 < ref <= top:
            raise ConfigError(f"generic reference_coupling {ref:g} must lie in (0, {top:g}] ({parent.coupling.name} "
                              f"of {self.parent})")
        spin = int(parent.spin)
        declared = tuple(parent.production())
        limit, why = max(_production_limit(c) for c in declared)
        p_lo, p_hi = (float(x) for x in parent.mass_range)
        hi = min(p_hi, limit)
        if not self.final_state:  # pi pi, else the parent's first default final state that is open and allowed
            fits = [k for k in ("pipi", *parent.default_final_states) if FINAL_STATES[k].threshold < hi
                    and not (spin == 1 and k in SPIN1_FORBIDDEN)]
            object.__setattr__(self, "final_state", fits[0] if fits else "pipi")
        fs = FINAL_STATES[self.final_state]
        if spin == 1 and self.final_state in SPIN1_FORBIDDEN:
            raise ConfigError(f"generic: a spin-1 X ({self.parent}) cannot decay into {self.final_state} "
                              f"({SPIN1_FORBIDDEN[self.final_state]}); choose another final state or parent")
        lo = max(p_lo, fs.threshold)
        if not lo < hi:
            where = f"{why} = {limit:.6g} GeV" if limit < p_hi else f"{self.parent}'s range {p_lo:g}-{p_hi:g} GeV"
            raise ConfigError(f"generic: final state {self.final_state} (threshold {fs.threshold:.6g} GeV) is closed "
                              f"for {self.production_channel} of {self.parent} (X lighter than {where})")
        powers = [channel_power(c, parent.coupling.production_power) for c in declared]
        object.__setattr__(self, "reference_coupling", ref)
        object.__setattr__(self, "parent_options", items)
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_channels", tuple(at_reference(c, ref, n) for c, n in zip(declared, powers)))
        object.__setattr__(self, "spin", spin)
        object.__setattr__(self, "mass_range", (lo, hi))
        object.__setattr__(self, "default_final_states", (self.final_state,))
        s_lo, s_hi = getattr(parent, "scan_masses", (0.01, 1.0))
        s_lo, s_hi = max(lo, s_lo), min(hi, s_hi)
        object.__setattr__(self, "scan_masses", (s_lo, s_hi) if s_lo < s_hi else (lo, hi))
        object.__setattr__(self, "resonances", tuple(r for r in getattr(parent, "resonances", ()) if lo < r[1] < hi))
        object.__setattr__(self, "label", rf"generic $X$: {self.production_channel} of {self.parent} at "
                                          rf"{parent.coupling.name} = {ref:g}, $X\to {fs.label}$")

    @property
    def parent_model(self):
        """The parent model instance (with the chosen production channel only)."""
        return self._parent

    def settings(self) -> dict:
        return {"model": self.name, "parent": self._parent.settings(), "production": self.production_channel,
                "production_channels": list(self.production_channels),
                "final_state": self.final_state, "reference_coupling": self.reference_coupling,
                "reference_coupling_name": self._parent.coupling.name, "spin": self.spin, "physics_version": 1}

    def total_width(self, m, g):
        """Total width [GeV]: the axis itself, Gamma_X = g (broadcast over m)."""
        dtype = float_dtype(m, g)
        m, g = jnp.asarray(m, dtype), jnp.asarray(g, dtype)
        return g * jnp.ones_like(m)

    def branching_ratios(self, m) -> dict:
        """{final_state: 1} (shape and floating dtype of m)."""
        m = jnp.asarray(m)
        return {self.final_state: jnp.ones_like(m, dtype=float_dtype(m))}

    def production(self) -> tuple:
        """The parent's declarations of the chosen channel (or of every channel of the chosen mechanism) at
        C_ref, production_power 0 (:func:`at_reference`)."""
        return self._channels

    @property
    def production_channels(self) -> tuple[str, ...]:
        """Names of the parent's channels this X is produced by (one, or a mechanism's)."""
        return tuple(c.name for c in self._channels)
