"""BC9 photophilic axion-like particle a (mass m, coupling g = g_agammagamma [GeV^-1]).

PBC benchmark BC9 (Beacham et al., arXiv:1901.09966; FIPs 2022, Antel et al., arXiv:2305.01715):
a pseudoscalar coupled only to photons,

    L = 1/2 (d a)^2 - 1/2 m^2 a^2 - (g_agammagamma / 4) a F_{mu nu} F~^{mu nu},  F~^{mu nu} = 1/2 eps^{mu nu rho sigma} F_{rho sigma},

with the coupling axis g_agammagamma in GeV^-1.  Every function is a pure JAX function of arrays
(broadcasting over (m, g), differentiable, keeping the dtype of its inputs).  Units: GeV, GeV^-1, metres.

Decay
-----
Gamma(a -> gamma gamma) = g^2 m^3 / (64 pi) (e.g. ALPtraum, arXiv:1512.03069; the PBC definition of BC9),
and BR(a -> gamma gamma) = 1: at the scale of the benchmark the ALP couples to photons only; decays to
e+e- or hadrons arise only at loop level from the photon coupling (suppressed by alpha^2 and further
by m_e^2 / m^2 for leptons) and are neglected, as in the PBC definition of BC9.

Production (fipscan.production.primakoff)
-----------------------------------------
Primakoff conversion gamma N -> a N in the dump (copper: the NA62 TAX) of the photons of pi0 -> gamma
gamma and eta -> gamma gamma, the mesons taken from the shipped spectra (default channels
``primakoff(pi0)``, ``primakoff(eta)``; optional ``primakoff(etap)`` (eta' -> gamma gamma, 0.02% of the
pi0 photons) and ``primakoff(omega)`` (the photon of omega -> pi0 gamma, ~0.5%)).  Each photon of energy
E converts with probability P = sigma_Primakoff(E, m, g; Z, A) / sigma_pair (module
fipscan.production.primakoff), exactly proportional to g^2; the ALP takes the photon's energy and
direction.  The target is a model option (``target_z``, ``target_a``, ``target_x0``; default copper, the
[target] of na62_bd.toml, X0 = 12.86 g/cm^2 from the PDG table of atomic and nuclear properties).

Not modelled: the photons of the electromagnetic shower and of secondary mesons in the dump (Doebrich,
Jaeckel, Spadaro arXiv:1904.02091 show they enhance the flux), Primakoff production off the beam
proton's photon field (ALPtraum, arXiv:1512.03069), and meson decays P -> gamma a.  The last vanish for
the pseudoscalars pi0, eta, eta' twice over: a spin-0 meson cannot decay into a spin-0 ALP and a real
photon (angular momentum: the photon's helicity +-1 has no orbital counterpart along the decay axis),
and the decay violates C, which a F F~ conserves: C(pi0) = C(eta) = +1, while C(gamma a) = (-1)(+1) = -1
(the ALP is C-even since it decays into two photons).  Vector-meson decays V -> gamma a (C(V) = -1) are
allowed but proceed through g times the V-photon mixing and are neglected, as in the PBC BC9 curves.

Coupling conventions
--------------------
Other tools write the coupling as L = e^2 C_gammagamma (a / Lambda) F F~ (Bauer, Neubert, Thamm,
arXiv:1708.00443), used by ALPINIST (Jerhot et al., arXiv:2201.05170): its a -> gamma gamma
width e^4 (C_gammagamma / Lambda)^2 m^3 / (4 pi) = 4 pi alpha^2 m^3 (C_gammagamma / Lambda)^2 equals
g^2 m^3 / (64 pi) for ``|g_agammagamma|`` = 4 e^2 C_gammagamma / Lambda = 16 pi alpha C_gammagamma / Lambda
(:func:`g_from_c_gammagamma`, :func:`c_gammagamma_from_g`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from fipscan import constants as C
from fipscan.kernels.numerics import float_dtype
from fipscan.models.base import Coupling, production_channel_names
from fipscan.production.channels import PhotonConversion
from fipscan.production.primakoff import ConversionTarget

__all__ = [
    "ALPPhoton", "PRODUCTION_CHANNELS", "OPTIONAL_CHANNELS", "width_gammagamma", "total_width",
    "branching_ratios", "ctau", "g_from_c_gammagamma", "c_gammagamma_from_g",
]

#: the default production channels: Primakoff conversion of the pi0 and eta photons
PRODUCTION_CHANNELS = ("primakoff(pi0)", "primakoff(eta)")
#: channels a user may add with production_channels=...: eta' -> gamma gamma and omega -> pi0 gamma photons
OPTIONAL_CHANNELS = ("primakoff(etap)", "primakoff(omega)")

#: parent -> (mass [GeV], companion mass [GeV], BR of the photon mode, photons per decay) (constants: PDG)
_PHOTON_SOURCES = {
    "pi0": (C.M_PI0, 0.0, C.BR_PI0_GG, 2),
    "eta": (C.M_ETA, 0.0, C.BR_ETA_GG, 2),
    "etap": (C.M_ETAP, 0.0, C.BR_ETAP_GG, 2),
    "omega": (C.M_OMEGA, C.M_PI0, C.BR_OMEGA_PI0G, 1),
}


def _as_arrays(m, g):
    dtype = float_dtype(m, g)
    return jnp.asarray(m, dtype), jnp.asarray(g, dtype)


def width_gammagamma(m, g):
    """Gamma(a -> gamma gamma) = g^2 m^3 / (64 pi) [GeV]; m [GeV], g [GeV^-1]."""
    m, g = _as_arrays(m, g)
    return g * g * m * m * m / (64.0 * C.PI)


def total_width(m, g):
    """Total width [GeV] = Gamma(a -> gamma gamma) (BR(gamma gamma) = 1 in BC9)."""
    return width_gammagamma(m, g)


def branching_ratios(m) -> dict:
    """{"gammagamma": 1} (shape and dtype of m)."""
    m = jnp.asarray(m)
    return {"gammagamma": jnp.ones_like(m, dtype=float_dtype(m))}


def ctau(m, g):
    """c tau [m] = hbar c / Gamma."""
    return C.HBARC / total_width(m, g)


def g_from_c_gammagamma(c_over_lambda):
    """g_agammagamma [GeV^-1] = 4 e^2 C_gammagamma / Lambda = 16 pi alpha C_gammagamma / Lambda, from
    C_gammagamma / Lambda [GeV^-1] of L = e^2 C_gammagamma (a / Lambda) F F~ (module docstring)."""
    return 16.0 * C.PI * C.ALPHA * jnp.asarray(c_over_lambda)


def c_gammagamma_from_g(g):
    """C_gammagamma / Lambda [GeV^-1] = g_agammagamma / (16 pi alpha) (inverse of :func:`g_from_c_gammagamma`)."""
    return jnp.asarray(g) / (16.0 * C.PI * C.ALPHA)


@dataclass(frozen=True)
class ALPPhoton(ConversionTarget):
    """BC9 photophilic ALP: coupling g_agammagamma [GeV^-1] (PBC arXiv:1901.09966; module docstring).

    Options (``--model-option KEY=VALUE``): production_channels -- names among
    :data:`PRODUCTION_CHANNELS` (default) and :data:`OPTIONAL_CHANNELS`; target_z, target_a, target_x0
    -- atomic number, mass number [g/mol] and radiation length [g/cm^2] of the dump in which the photons
    convert (default copper, the NA62 TAX).
    """

    production_channels: tuple[str, ...] = PRODUCTION_CHANNELS

    name: ClassVar[str] = "alp-photon"
    benchmark: ClassVar[str] = "BC9"
    label: ClassVar[str] = "BC9 photophilic ALP"
    symbol: ClassVar[str] = "a"
    definition: ClassVar[str] = r"$\mathcal{L}\supset-\frac{g_{a\gamma\gamma}}{4}aF_{\mu\nu}\tilde F^{\mu\nu}$"
    #: scan range: at NA62-BD the upper (short-lifetime) edge reaches ~0.07 GeV^-1 at m = 2 MeV
    coupling: ClassVar[Coupling] = Coupling("g_agammagamma", r"$g_{a\gamma\gamma}$", production_power=2.0,
                                             width_power=2.0, unit="GeV^-1", scan_range=(1e-8, 1.0))
    spin: ClassVar[int] = 0
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 2.0)
    #: masses ``fipscan scan`` takes without --masses: from the model's lowest mass, since the NA62-BD
    #: region continues below 10 MeV (the upper edge reaches 0.16 GeV^-1 at 1 MeV)
    scan_masses: ClassVar[tuple[float, float]] = (1e-3, 1.0)
    default_final_states: ClassVar[tuple[str, ...]] = ("gammagamma",)

    def __post_init__(self):
        chans = production_channel_names("alp-photon", self.production_channels,
                                         PRODUCTION_CHANNELS + OPTIONAL_CHANNELS)
        object.__setattr__(self, "production_channels", chans)
        self._check_target()

    def settings(self) -> dict:
        return {"model": self.name, "production_channels": list(self.production_channels),
                **self.target_settings(), "physics_version": 1}

    def production_variations(self) -> dict[str, dict]:
        """No production alternatives today: {} (fipscan.bands).  The photophilic ALP's options are not
        uncertainties: production_channels chooses channels (its optional ones are additions, not other
        estimates of a channel in the model), and the target options (target_z, target_a, target_x0) describe the dump in which the photons
        convert (experiment inputs)."""
        return {}

    def total_width(self, m, g):
        """Total width [GeV] (:func:`total_width`)."""
        return total_width(m, g)

    def branching_ratios(self, m) -> dict:
        """{"gammagamma": 1} (:func:`branching_ratios`)."""
        return branching_ratios(m)

    def conversion(self, E, m, g):
        """P(gamma -> a) per photon of energy E [GeV] in this model's target (fipscan.production.primakoff)."""
        return self.convert(E, m, g)

    def production(self) -> tuple:
        """Declarations of the production channels (fipscan.production.channels.PhotonConversion)."""
        out = []
        for name in self.production_channels:
            parent = name[len("primakoff("):-1]
            m_parent, m_companion, br, n_photons = _PHOTON_SOURCES[parent]
            out.append(PhotonConversion(parent, m_parent, m_companion, br, n_photons, self.conversion))
        return tuple(out)
