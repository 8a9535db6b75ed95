"""Production channels as declarations: what a model says about how its FIPs are made.

A model's ``production()`` returns a tuple of these frozen objects; it never opens a spectra file or
reads an experiment.  fipscan.production.sources turns each declaration into a binned FIP source for a
beam (the meson spectra of the experiment's beam, its energy) and fipscan.yields folds the sources with
the acceptance.  Kinds:

* :class:`MesonDecay` -- a two-body decay parent -> companion + FIP of a meson in the spectra
  (``pi0->gamma``: pi0 -> gamma A'), isotropic in the parent rest frame;
* :class:`Bremsstrahlung` -- a proton bremsstrahlung table per proton interaction, a function of
  (mass, log10 p bin edges, log10 theta bin edges, beam energy);
* :class:`Tabulated` -- any FIP table per POT given on the same bins (for channels whose spectrum a
  model computes itself; e.g. mixing or Primakoff later);
* :class:`RecoilDecay` -- parent -> FIP(s) + a recoiling system whose invariant mass has a distribution
  (a three-body decay B -> K S S seen from one S, or an inclusive B -> X_s S), isotropic in the parent
  rest frame;
* :class:`PhotonConversion` -- the photons of a meson decay (pi0 -> gamma gamma) converting into FIPs in
  the dump with a probability per photon P(E, m, g) (Primakoff production of ALPs);
* :class:`MesonMixing` -- a meson of the spectra (pi0, eta, eta') that is produced as a FIP through its
  mixing with it (ALP-meson mixing), the FIP taking the meson's momentum and direction.

Every declaration has ``name`` (unique within a model), ``rate(m, g, e_beam)`` (the number that
``fipscan info`` prints: a branching ratio for a meson decay, FIPs per proton interaction for a
table), ``rate_unit`` and ``scaling`` -- production at coupling g is the unit-coupling rate times g**n,
with n the declaration's ``production_power`` when it has one and model.coupling.production_power otherwise
(:func:`channel_power`; e.g. the BC5 scalar pair production does not depend on the mixing angle, n = 0,
while its single-scalar channels scale as sin^2 theta, n = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["ProductionChannel", "MesonDecay", "Bremsstrahlung", "Tabulated", "RecoilDecay", "PhotonConversion",
           "MesonMixing", "channel_power"]


class ProductionChannel:
    """Base class of the declarations (for isinstance checks and the conformance test)."""

    name: str
    rate_unit: str

    def rate(self, m, g, e_beam):  # pragma: no cover - every kind overrides it
        raise NotImplementedError


def channel_power(channel, default: float) -> float:
    """The power n of the coupling in the production rate of ``channel`` (rate ~ g**n): its own
    ``production_power`` when set, else ``default`` (the model's coupling.production_power)."""
    own = getattr(channel, "production_power", None)
    return float(default if own is None else own)


@dataclass(frozen=True)
class MesonDecay(ProductionChannel):
    """parent -> companion + FIP, e.g. ``MesonDecay("pi0", "gamma", m_pi0, 0.0, br)``.

    parent: the spectra species (fipscan.spectra.SPECIES: "pi0", "eta", "etap", "omega", ...);
    companion: the other daughter's name ("gamma", "pi0", "eta", "kplus"...); m_parent, m_companion
    [GeV]; br(m, g): BR(parent -> companion FIP) at mass m [GeV] and coupling g (jnp, broadcasting).
    parent_weight(p): optional fraction of the parents of momentum p [GeV] that decay at all (e.g. the
    kaons of a dump that decay before interacting); it multiplies the parent spectrum per momentum bin
    before the decay kinematics (None: every parent decays).  production_power: the power of the
    coupling in br (None: the model's).  The name is ``parent->companion``.
    """

    parent: str
    companion: str
    m_parent: float
    m_companion: float
    br: Callable
    rate_unit: str = "branching ratio"
    parent_weight: Optional[Callable] = None
    production_power: Optional[float] = None

    @property
    def name(self) -> str:
        return f"{self.parent}->{self.companion}"

    def rate(self, m, g, e_beam=None):
        """BR(parent -> companion FIP) at (m, g)."""
        return self.br(m, g)

    def threshold(self) -> float:
        """The FIP mass [GeV] above which the decay is closed: m_parent - m_companion."""
        return self.m_parent - self.m_companion


@dataclass(frozen=True)
class Bremsstrahlung(ProductionChannel):
    """Proton bremsstrahlung: ``table(m, log10p_edges, log10theta_edges, e_beam)`` -> FIPs per proton
    interaction at unit coupling on the bins (Np, Nt); ``total(m, g, e_beam)`` the integrated number per
    interaction at coupling g; ``p_support(e_beam)`` -> (p_lo, p_hi) [GeV] outside which the table
    vanishes (None: everywhere); ``name`` (default "brems")."""

    table: Callable
    total: Callable
    p_support: Optional[Callable] = None
    name: str = "brems"
    rate_unit: str = "per proton interaction"
    production_power: Optional[float] = None

    def rate(self, m, g, e_beam):
        return self.total(m, g, e_beam)


@dataclass(frozen=True)
class Tabulated(ProductionChannel):
    """A FIP table per POT: ``table(m, log10p_edges, log10theta_edges, e_beam)`` (Np, Nt) at unit
    coupling; ``total(m, g, e_beam)`` FIPs per POT at coupling g."""

    name: str
    table: Callable
    total: Callable
    p_support: Optional[Callable] = None
    rate_unit: str = "per POT"
    production_power: Optional[float] = None

    def rate(self, m, g, e_beam):
        return self.total(m, g, e_beam)


@dataclass(frozen=True)
class RecoilDecay(ProductionChannel):
    """parent -> ``n_fips`` FIP(s) + recoil, where the system recoiling against one FIP has an invariant
    mass with a distribution: e.g. B+ -> K+ S S (recoil = K+ and the other S, ``n_fips=2``) or the
    inclusive b -> s S of a B meson (recoil = X_s).

    name: the channel name (unique within the model); parent: the spectra species; m_parent [GeV];
    br(m, g): the branching ratio of the decay (once per decay, not per FIP); recoil(m) -> (masses (n,)
    [GeV], weights (n,) summing to 1): a quadrature of the distribution of the recoil invariant mass
    at FIP mass m (jnp, jittable), which fixes the FIP's rest-frame momentum node by node; the FIP
    direction is isotropic in the parent rest frame and independent of the recoil mass (a spin-0
    parent).  n_fips: FIPs per decay (each counted, with the same marginal distribution);
    parent_weight, production_power: as for :class:`MesonDecay`; threshold_mass [GeV]: the FIP mass
    above which the decay is closed.
    """

    name: str
    parent: str
    m_parent: float
    br: Callable
    recoil: Callable
    threshold_mass: float
    n_fips: int = 1
    rate_unit: str = "branching ratio"
    parent_weight: Optional[Callable] = None
    production_power: Optional[float] = None

    def rate(self, m, g, e_beam=None):
        """BR(parent -> FIP(s) + recoil) at (m, g) (per decay; the FIPs per decay are ``n_fips``)."""
        return self.br(m, g)

    def threshold(self) -> float:
        return float(self.threshold_mass)


@dataclass(frozen=True)
class PhotonConversion(ProductionChannel):
    """Photons of a meson decay that convert into FIPs in the dump, e.g. pi0 -> gamma gamma, each photon
    gamma N -> a N (Primakoff).

    parent: the spectra species ("pi0", "eta", "etap", "omega"); m_parent [GeV]; m_companion [GeV]: the
    mass of the photon's partner in the decay (0 for parent -> gamma gamma, m_pi0 for omega -> pi0
    gamma); br: BR(parent -> that mode) (a number); n_photons: photons per decay of that mode (2 for
    gamma gamma); conversion(E, m, g): the probability that a photon of energy E [GeV] becomes a FIP of
    mass m [GeV] at coupling g (jnp, broadcasting; zero for E <= m).  The decay is isotropic in the
    parent rest frame; the FIP takes the photon's energy and direction (momentum sqrt(E^2 - m^2)).
    production_power: the power of the coupling in ``conversion`` (None: the model's).  The name is
    ``primakoff(parent)``.  ``rate(m, g, e_beam)`` is the number of FIPs per POT made from the photons of
    this parent in the shipped default spectra of that beam energy
    (fipscan.production.sources.photon_conversion_rate).
    """

    parent: str
    m_parent: float
    m_companion: float
    br: float
    n_photons: int
    conversion: Callable
    rate_unit: str = "per POT"
    production_power: Optional[float] = None

    @property
    def name(self) -> str:
        return f"primakoff({self.parent})"

    def rate(self, m, g, e_beam):
        """FIPs per POT at (m, g) from this parent's photons (the shipped spectra of an ``e_beam`` GeV beam)."""
        from fipscan.production.sources import photon_conversion_rate

        return photon_conversion_rate(self, m, g, e_beam)


@dataclass(frozen=True)
class MesonMixing(ProductionChannel):
    """FIPs made in place of a meson through their mixing with it, e.g. the ALP-pi0/eta/eta' mixing of an
    ALP coupled to gluons (Aloni, Soreq, Williams arXiv:1811.03474): a fraction ``|theta_aP(m, g)|^2`` of the
    parent mesons of the spectra is produced as FIPs.

    parent: the spectra species ("pi0", "eta", "etap"); m_parent [GeV]; mixing_sq(m, g): ``|theta_aP|^2`` at
    FIP mass m [GeV] and coupling g (jnp, broadcasting; the model's mixing angle squared, including its
    resonant growth near m_parent); production_power: the power of the coupling in mixing_sq (None: the
    model's).  Kinematics: the FIP takes the momentum vector of the meson (an assumption, the one of the
    ALP-mixing production in ALPINIST, Jerhot et al. arXiv:2201.05170: the mixed state is produced with
    the meson's momentum), so its energy sqrt(p^2 + m^2) differs from the meson's when m != m_parent.
    The name is ``mixing(parent)``.  ``rate(m, g, e_beam)`` is the number of FIPs per POT made from the
    parents of the shipped default spectra of that beam energy (fipscan.production.sources.mixing_rate).
    """

    parent: str
    m_parent: float
    mixing_sq: Callable
    rate_unit: str = "per POT"
    production_power: Optional[float] = None

    @property
    def name(self) -> str:
        return f"mixing({self.parent})"

    def rate(self, m, g, e_beam):
        """FIPs per POT at (m, g) made through mixing with this parent (the shipped spectra of ``e_beam``)."""
        from fipscan.production.sources import mixing_rate

        return mixing_rate(self, m, g, e_beam)
