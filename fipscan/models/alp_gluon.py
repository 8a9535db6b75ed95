"""BC11 axion-like particle coupled to gluons (mass m, coupling g = 1/f_G [GeV^-1]).

PBC benchmark BC11 (Beacham et al. arXiv:1901.09966; FIPs 2022, Antel et al. arXiv:2305.01715): a
pseudoscalar whose only coupling at the scale of the benchmark is to gluons,

    L = 1/2 (d a)^2 - 1/2 m^2 a^2 + (alpha_s / (8 pi)) (a / f_G) G^b_{mu nu} G~^{b mu nu},

with the coupling axis 1/f_G in GeV^-1.  1/f_G = 32 pi^2 C_GG / Lambda for L = g_s^2 C_GG (a/Lambda) G G~
(Bauer, Neubert, Thamm arXiv:1708.00443) and for c_g / Lambda of Aloni, Soreq, Williams arXiv:1811.03474
(fipscan.models._alp_hadronic: c_gg_from_inv_fg, inv_fg_from_c_gg; what could and could not be verified
about the PBC normalisation is said there).

Decays: fipscan.models._alp_hadronic (the data-driven description of Aloni, Soreq, Williams): gamma gamma
(chiral rotation + vector-meson dominance of the admixed pi0, eta, eta'), pi+ pi- pi0, 3 pi0, pi+ pi- gamma,
pi+ pi- eta, pi0 pi0 eta, K+ K- pi0, the other K K pi modes ("k0kpi"), and "other" (the rest of the ASW
total width above 1 GeV, including their match to perturbative a -> g g).  Every width ~ (1/f_G)^2.

Production (declarations of fipscan.production.channels)
--------------------------------------------------------
* ALP-meson mixing ``mixing(pi0)``, ``mixing(eta)``, ``mixing(etap)`` (:class:`MesonMixing`): a fraction
  ``|theta_aP(m, 1/f_G)|^2`` of the pi0, eta, eta' of the spectra becomes ALPs with the meson's momentum
  (ASW; the production mode of the BC11 curves of ALPINIST, Jerhot et al. arXiv:2201.05170).  theta_aP from
  _alp_hadronic.mixing_angles (finite at m = m_P through the meson widths; :attr:`ALPGluon.resonances`
  makes scans refine the mass grid there).
* Primakoff conversion ``primakoff(pi0)``, ``primakoff(eta)`` (optional ``primakoff(etap)``) of the meson
  photons in the dump, as for BC9 (fipscan.models.alp_photon), with the effective two-photon coupling
  g_eff(m) = _alp_hadronic.g_agammagamma_eff(m, 1/f_G) at the ALP mass (the on-shell coupling is used for
  the slightly virtual photon of the nucleus' field).
* optional, not in the default list (:data:`FLAVOUR_CHANNELS`): B -> K(*) a, B_s -> phi a through the
  flavour-changing coupling the gluon coupling induces at two loops (fipscan.models._alp_flavour.g_bs_bc11):
  BR(B+ -> K+ a) = 0.024 (1/f_G / GeV^-1)^2; and K+ -> pi+ a, K_L -> pi0 a, dominated by the long-distance
  amplitude of the weak chiral Lagrangian (the ALP in the octet operator, arXiv:2102.13112) with the two-loop
  s -> d term added (_alp_flavour.br_k_to_pi_alp_bc11): BR(K+ -> pi+ a) = 0.111 (1/f_G / GeV^-1)^2 at m -> 0
  (the loop term alone: 7.6e-5), BR(K_L -> pi0 a) = 5.1e-5 (1/f_G)^2.  At 1/f_G = 1e-4 GeV^-1: 2.4e-10 and
  1.1e-9, i.e. per POT <~1e-13 ALPs against ~1e-8 from mixing, so negligible at NA62-BD (offered for
  comparisons with tools that include them); K+ -> pi+ a is the channel of the kaon mode
  (fipscan.searches.kaon.kaon_channel).  The dump's kaons count with the fraction that decays before
  interacting in copper (dark_scalar.kaon_decay_fraction).

Not modelled: proton bremsstrahlung of ALPs (via the a-eta/eta' mixing), gluon fusion, D and B decays
other than B -> K a.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar


from fipscan import constants as C
from fipscan.models import _alp_flavour as fl
from fipscan.models import _alp_hadronic as H
from fipscan.models import dark_scalar as ds
from fipscan.models.base import Coupling, production_channel_names
from fipscan.production.channels import MesonMixing, PhotonConversion
from fipscan.production.primakoff import ConversionTarget

__all__ = ["ALPGluon", "PRODUCTION_CHANNELS", "OPTIONAL_CHANNELS", "FLAVOUR_CHANNELS", "partial_widths",
           "total_width", "branching_ratios", "ctau"]

#: the default production channels: mixing with pi0, eta, eta' and Primakoff conversion of the pi0, eta photons
PRODUCTION_CHANNELS = ("mixing(pi0)", "mixing(eta)", "mixing(etap)", "primakoff(pi0)", "primakoff(eta)")
#: the B -> K(*) a, B_s -> phi a, K -> pi a channels of the two-loop flavour-changing coupling (optional)
FLAVOUR_CHANNELS = fl.FLAVOUR_CHANNEL_NAMES
#: channels a user may add with production_channels=...
OPTIONAL_CHANNELS = ("primakoff(etap)",) + FLAVOUR_CHANNELS

#: mixing parent -> mass [GeV]
_MIXING_PARENTS = {"pi0": C.M_PI0, "eta": C.M_ETA, "etap": C.M_ETAP}
#: photon parent -> (mass [GeV], companion mass [GeV], BR of the photon mode, photons per decay) (PDG)
_PHOTON_SOURCES = {
    "pi0": (C.M_PI0, 0.0, C.BR_PI0_GG, 2),
    "eta": (C.M_ETA, 0.0, C.BR_ETA_GG, 2),
    "etap": (C.M_ETAP, 0.0, C.BR_ETAP_GG, 2),
}


def partial_widths(m, g) -> dict:
    """{final-state name: Gamma [GeV]} at m [GeV], g = 1/f_G [GeV^-1] (fipscan.models._alp_hadronic)."""
    return H.partial_widths(m, g)


def total_width(m, g):
    """Total width [GeV]."""
    return H.total_width(m, g)


def branching_ratios(m) -> dict:
    """{final-state name: BR}, coupling-independent, summing to one."""
    return H.branching_ratios(m)


def ctau(m, g):
    """c tau [m] = hbar c / Gamma."""
    return C.HBARC / total_width(m, g)


def _copper_kaon_weight(m_kaon, tau_kaon):
    """parent_weight(p) of the dump's kaons: the fraction that decays before interacting in a thick copper dump."""
    return lambda p: ds.kaon_decay_fraction(p, m_kaon, tau_kaon, ds.LAMBDA_INT_KAON_CU, math.inf)


@dataclass(frozen=True)
class _MixingSq:
    """|theta_aP(m, g)|^2 of one parent (a hashable, picklable callable for MesonMixing)."""

    parent: str

    def __call__(self, m, g):
        return H.mixing_sq(m, g, self.parent)


@dataclass(frozen=True)
class ALPGluon(ConversionTarget):
    """BC11 ALP coupled to gluons: coupling 1/f_G [GeV^-1] (PBC arXiv:1901.09966; module docstring).

    Options (``--model-option KEY=VALUE``): production_channels -- names among :data:`PRODUCTION_CHANNELS`
    (default) and :data:`OPTIONAL_CHANNELS`; target_z, target_a, target_x0 -- the dump in which the meson
    photons convert (default copper, the NA62 TAX), as for alp-photon.
    """

    production_channels: tuple[str, ...] = PRODUCTION_CHANNELS

    name: ClassVar[str] = "alp-gluon"
    benchmark: ClassVar[str] = "BC11"
    label: ClassVar[str] = "BC11 ALP coupled to gluons"
    symbol: ClassVar[str] = "a"
    definition: ClassVar[str] = r"$\mathcal{L}\supset\frac{\alpha_s}{8\pi}\frac{a}{f_G}G^b_{\mu\nu}\tilde G^{b\mu\nu}$"
    #: scan range: N ~ g^4 in the long-lived limit; at NA62-BD (estimate: ~3 pi0/POT, 1e18 POT) the lower
    #: edge lies near 1e-5 GeV^-1 at 0.3 GeV and the upper (short-lifetime) edge rises from ~5e-6 at 1 GeV
    #: to ~1e-2 at 0.1 GeV (Gamma ~ m^3 below the hadronic thresholds)
    coupling: ClassVar[Coupling] = Coupling("inv_f_G", r"$1/f_G$", production_power=2.0, width_power=2.0,
                                             unit="GeV^-1", scan_range=(1e-8, 1.0))
    spin: ClassVar[int] = 0
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 2.0)
    scan_masses: ClassVar[tuple[float, float]] = (0.01, 2.0)
    default_final_states: ClassVar[tuple[str, ...]] = ("gammagamma", "pipipi0", "pipigamma", "pipieta", "kkpi0")
    #: the pi0, eta, eta' poles of the ALP-meson mixing: scans refine the mass grid there (widths floored at
    #: 1e-5 of the mass, as the regulator of the poles: _alp_hadronic.MIXING_RESONANCES)
    resonances: ClassVar[tuple] = H.MIXING_RESONANCES

    def __post_init__(self):
        chans = production_channel_names("alp-gluon", self.production_channels,
                                         PRODUCTION_CHANNELS + OPTIONAL_CHANNELS)
        object.__setattr__(self, "production_channels", chans)
        self._check_target()

    def settings(self) -> dict:
        return {"model": self.name, "production_channels": list(self.production_channels),
                **self.target_settings(), "physics_version": 1}

    def production_variations(self) -> dict[str, dict]:
        """No production alternatives today: {} (fipscan.bands).  The gluon-coupled ALP's options are not
        uncertainties: production_channels chooses channels (its optional ones are additions, not other
        estimates of a channel in the model), and the target options (target_z, target_a, target_x0) describe the dump in which the photons
        convert (experiment inputs)."""
        return {}

    def total_width(self, m, g):
        """Total width [GeV] (:func:`total_width`)."""
        return total_width(m, g)

    def partial_widths(self, m, g) -> dict:
        """{final-state name: Gamma [GeV]} (:func:`partial_widths`)."""
        return partial_widths(m, g)

    def branching_ratios(self, m) -> dict:
        """{final-state name: BR} (:func:`branching_ratios`)."""
        return branching_ratios(m)

    def conversion(self, E, m, g):
        """P(gamma -> a) per photon of energy E [GeV] in this model's target, with g_eff(m, 1/f_G)."""
        g_eff = H.g_agammagamma_eff(m, g)
        return self.convert(E, m, g_eff)

    def production(self) -> tuple:
        """Declarations of the production channels (fipscan.production.channels)."""
        out = []
        # K+ -> pi+ a, K_L -> pi0 a: the weak-chiral amplitude of the gluon coupling plus the two-loop s -> d term
        flavour = fl.flavour_channels(fl.g_bs_bc11, fl.g_sd_bc11, _copper_kaon_weight, kaon_brs=fl.BC11_KAON_BRS)
        for name in self.production_channels:
            if name in flavour:
                out.append(flavour[name])
                continue
            kind, parent = name[:-1].split("(")
            if kind == "mixing":
                out.append(MesonMixing(parent, _MIXING_PARENTS[parent], _MixingSq(parent)))
            elif kind == "primakoff":
                m_parent, m_companion, br, n_photons = _PHOTON_SOURCES[parent]
                out.append(PhotonConversion(parent, m_parent, m_companion, br, n_photons, self.conversion))
        return tuple(out)
