"""BC1 minimal dark photon A' (mass m, kinetic mixing eps): decay widths, branching ratios, c*tau.

PBC benchmark BC1 (Beacham et al., arXiv:1901.09966, sec. 3.1.1).  Every function is a pure JAX
function of arrays: vectorised by broadcasting over (m, eps), differentiable (thresholds use the
double-where pattern), and it keeps the dtype of its inputs (float64 is switched on by the caller).

Units: masses and widths in GeV, c*tau in metres.

Widths
------
* leptons:  Gamma(A' -> l l) = (alpha eps^2 m / 3) (1 + 2 r) sqrt(1 - 4 r),  r = m_l^2 / m^2
  (e.g. Batell, Pospelov, Ritz, arXiv:0906.5614; DarkCast arXiv:1801.04847 eq. (2.13)).
* hadrons:  Gamma(A' -> F) = (alpha eps^2 m / 3) R_F(m^2)  (DarkCast sec. 2 (eqs. (2.17)-(2.18)):
  Gamma_F = Gamma_mumu R_mu^F with R_mu^F = sigma_F / sigma_mumu; the muon phase-space factor
  cancels, leaving the standard R = sigma / sigma_pt).  R_F is the data-driven VMD description of
  fipscan.models._vmd: the pion form factor of Czyz, Grzelinska, Kuhn arXiv:1002.0279 (BaBar fit,
  dual-QCD rho tower with rho-omega mixing), pi+pi-pi0 in the Czyz-Grzelinska-Kuhn-Rodrigo current
  (EPJC 47 (2006) 617), K+K- and K_S K_L in the Bruch-Khodjamirian-Kuhn form (arXiv:1002.0279 fit 2),
  radiative lines normalised to PDG Gamma_ee x BR, effective 4pi / KKpi / eta pi pi shapes, the
  remainder up to pQCD phased in from 1.3 to 1.8 GeV.
* three photons, only below 2 m_e (where nothing else is open): the Euler-Heisenberg result
  Gamma(A' -> 3 gamma) = 17 alpha^3 (alpha eps^2) m^9 / (2^7 3^6 5^3 pi^3 m_e^8) (Pospelov, Ritz,
  Voloshin, Phys. Rev. D 78 (2008) 115012, arXiv:0807.3279) times the next two orders in m^2/m_e^2 of
  McDermott, Patel, Ramani arXiv:1705.00619 (:func:`width_3gamma`); switched off above 2 m_e where
  e+e- dominates by > 10^6.  It keeps the lifetime finite for 1 MeV <= m < 2 m_e.
* tau pairs (threshold 3.55 GeV) and charm are not included: they are irrelevant below 2 GeV, the
  range fipscan scans.

The total width reproduces the DarkCast table (arXiv:1801.04847, data-driven) to 0.2% at 0.01-0.78 GeV,
0.6% on the phi peak (1.02 GeV), 4.4% at 1.5 GeV (low) and 0.3% at 2 GeV (tests/test_dark_photon_widths.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from fipscan import constants as C
from fipscan.kernels.numerics import float_dtype
from fipscan.models import _vmd
from fipscan.production import meson_decays as md
from fipscan.production.bremsstrahlung import brems_pt_theta_table, brems_total, p_support
from fipscan.errors import ConfigError
from fipscan.models.base import Coupling, production_channel_names
from fipscan.production.channels import Bremsstrahlung, MesonDecay

__all__ = [
    "DarkPhoton",
    "PRODUCTION_CHANNELS",
    "width_ll",
    "width_ee",
    "width_mumu",
    "hadronic_r_ratio",
    "width_3gamma",
    "width_hadrons",
    "hadronic_channel_widths",
    "hadronic_exclusive_widths",
    "total_width",
    "branching_ratios",
    "ctau",
]

# coarse hadronic channels (keys of hadronic_channel_widths) -> exclusive channels of _vmd
_COARSE = {
    "pipi": ("pi+pi-",),
    "3pi": ("pi+pi-pi0",),
    "4pi": ("2pi+2pi-", "pi+pi-2pi0"),
    "kk": ("K+K-", "KSKL"),
    "kkpi": ("KKpi",),
    "other_hadrons": ("pi0gamma", "etagamma", "etapi+pi-", "other"),
}


def _as_arrays(m, eps):
    m = jnp.asarray(m)
    eps = jnp.asarray(eps)
    dtype = float_dtype(m, eps)
    return m.astype(dtype), eps.astype(dtype)


def _prefactor(m, eps):
    """alpha eps^2 m / 3 [GeV]: the A' -> point-like pair width for massless final states."""
    return C.ALPHA * eps * eps * m / 3.0


def width_ll(m, m_l, eps):
    """Gamma(A' -> l+ l-) [GeV] = (alpha eps^2 m / 3)(1 + 2r) sqrt(1 - 4r), r = m_l^2/m^2; 0 below 2 m_l.

    m, m_l [GeV]; eps dimensionless.  arXiv:0906.5614 / arXiv:1801.04847 eq. (2.13).
    """
    m, eps = _as_arrays(m, eps)
    m_l = jnp.asarray(m_l, dtype=m.dtype)
    m_safe = jnp.where(m > 0, m, 1.0)
    r = (m_l / m_safe) ** 2
    x = 1.0 - 4.0 * r
    above = (x > 0) & (m > 0)
    root = jnp.sqrt(jnp.where(above, x, 1.0))
    return jnp.where(above, _prefactor(m, eps) * (1.0 + 2.0 * r) * root, 0.0)


def width_ee(m, eps):
    """Gamma(A' -> e+ e-) [GeV]; m [GeV]."""
    return width_ll(m, C.M_E, eps)


def width_mumu(m, eps):
    """Gamma(A' -> mu+ mu-) [GeV]; m [GeV]."""
    return width_ll(m, C.M_MU, eps)


def width_3gamma(m, eps):
    """Gamma(A' -> 3 gamma) [GeV] below 2 m_e (0 above), electron loop beyond the Euler-Heisenberg limit:

    17 alpha^4 eps^2 m^9 / (2^7 3^6 5^3 pi^3 m_e^8) [1 + (335/714) r + (2589/16660) r^2],  r = m^2/m_e^2
    (McDermott, Patel, Ramani, arXiv:1705.00619, eq. (8); the leading term is Pospelov, Ritz,
    Voloshin, arXiv:0807.3279).  The series has radius r = 4 (m = 2 m_e); at m = 1 MeV the two
    corrections multiply the leading term by 5.1.
    """
    m, eps = _as_arrays(m, eps)
    coef = 17.0 * C.ALPHA**4 / (2.0**7 * 3.0**6 * 5.0**3 * C.PI**3)
    below = m < 2.0 * C.M_E
    x = jnp.where(below, m / C.M_E, 0.0)
    r = x * x
    series = 1.0 + r * (335.0 / 714.0 + r * (2589.0 / 16660.0))
    return jnp.where(below, coef * eps * eps * C.M_E * x**9 * series, 0.0)


def hadronic_r_ratio(m):
    """R(s = m^2) = sigma(e+e- -> hadrons)/sigma_pt (dimensionless), fipscan.models._vmd. m [GeV]."""
    m = jnp.asarray(m)
    return _vmd.r_total(m * m)


def width_hadrons(m, eps):
    """Gamma(A' -> hadrons) [GeV] = (alpha eps^2 m / 3) R(m^2).  arXiv:1801.04847 sec. 2 (eqs. (2.17)-(2.18))."""
    m, eps = _as_arrays(m, eps)
    return _prefactor(m, eps) * _vmd.r_total(m * m)


def hadronic_exclusive_widths(m, eps) -> dict:
    """Widths [GeV] of the exclusive hadronic channels of the R description (they sum to width_hadrons).

    Keys: "pi+pi-", "pi+pi-pi0", "pi0gamma", "etagamma", "K+K-", "KSKL", "2pi+2pi-", "pi+pi-2pi0",
    "KKpi" (all charge states), "etapi+pi-", "other" (multi-hadron remainder up to pQCD, > 1.3 GeV).
    """
    m, eps = _as_arrays(m, eps)
    pref = _prefactor(m, eps)
    return {k: pref * v for k, v in _vmd.r_channels(m * m).items()}


def hadronic_channel_widths(m, eps) -> dict:
    """Widths [GeV] of the hadronic channel groups; they sum to width_hadrons.

    Keys: "pipi" (pi+pi-), "3pi" (pi+pi-pi0), "4pi" (2pi+2pi- and pi+pi-2pi0), "kk" (K+K- and
    K_S K_L), "kkpi" (K K pi), "other_hadrons" (pi0 gamma, eta gamma, eta pi+pi-, >= 5 hadrons).
    """
    ex = hadronic_exclusive_widths(m, eps)
    return {k: sum(ex[c] for c in chans) for k, chans in _COARSE.items()}


def total_width(m, eps):
    """Total width Gamma(A') = Gamma_ee + Gamma_mumu + Gamma_hadrons (+ Gamma_3gamma below 2 m_e) [GeV].

    No tau pairs (threshold 3.55 GeV).
    """
    m, eps = _as_arrays(m, eps)
    return width_ee(m, eps) + width_mumu(m, eps) + width_hadrons(m, eps) + width_3gamma(m, eps)


def branching_ratios(m) -> dict:
    """Branching ratios (eps-independent) of A' at mass m [GeV], keyed by final-state name
    (fipscan.final_states); they sum to one.

    ee, mumu; gammagammagamma (only below 2 m_e, where it is 1); the exclusive hadronic channels of
    fipscan.models._vmd: pipi, pipipi0, pi0gamma, etagamma, kk (K+K-), kskl, pipipipi (2pi+2pi-),
    pipipi0pi0, pipieta, other (the multi-hadron remainder); the K K pi channel of _vmd (all charge
    states) split by isospin into kkpi0 (K+K-pi0, 1/6) and k0kpi (the K0 states, 5/6) -- the
    K*(892) K-bar isospin factors (K+K-pi0 : K0K0bar pi0 : K K0 pi = 1 : 1 : 4).
    """
    m, one = _as_arrays(m, 1.0)
    widths = {"ee": width_ee(m, one), "mumu": width_mumu(m, one), "gammagammagamma": width_3gamma(m, one)}
    ex = hadronic_exclusive_widths(m, one)
    for key, name in _VMD_TO_FINAL_STATE.items():
        widths[name] = widths.get(name, 0.0) + ex[key]
    kkpi = ex["KKpi"]
    widths["kkpi0"] = kkpi / 6.0
    widths["k0kpi"] = kkpi * (5.0 / 6.0)
    tot = sum(widths.values())
    tot_safe = jnp.where(tot > 0, tot, 1.0)
    return {k: v / tot_safe for k, v in widths.items()}


#: exclusive channels of fipscan.models._vmd -> final-state names (KKpi is split in branching_ratios)
_VMD_TO_FINAL_STATE = {
    "pi+pi-": "pipi", "pi+pi-pi0": "pipipi0", "pi0gamma": "pi0gamma", "etagamma": "etagamma",
    "K+K-": "kk", "KSKL": "kskl", "2pi+2pi-": "pipipipi", "pi+pi-2pi0": "pipipi0pi0",
    "etapi+pi-": "pipieta", "other": "other",
}


def ctau(m, eps):
    """Proper decay length c*tau [m] = hbar c / Gamma_total (hbar c = 1.973270e-16 GeV m)."""
    return C.HBARC / total_width(m, eps)


# --- the model as fipscan scans it -------------------------------------------------------------

def _meson_channels() -> dict:
    """The light-meson decay channels: name -> declaration (fipscan.production.channels.MesonDecay)."""

    def pseudo(m_p, br_gg):
        return lambda m, eps: md.br_pseudoscalar_to_gamma_aprime(m, eps, m_p, br_gg)

    chans = (
        MesonDecay("pi0", "gamma", C.M_PI0, 0.0, pseudo(C.M_PI0, C.BR_PI0_GG)),
        MesonDecay("eta", "gamma", C.M_ETA, 0.0, pseudo(C.M_ETA, C.BR_ETA_GG)),
        MesonDecay("etap", "gamma", C.M_ETAP, 0.0, pseudo(C.M_ETAP, C.BR_ETAP_GG)),
        MesonDecay("omega", "pi0", C.M_OMEGA, C.M_PI0,
                   lambda m, eps: md.br_vector_to_pseudoscalar_aprime(m, eps, C.M_OMEGA, C.M_PI0, C.BR_OMEGA_PI0G)),
    )
    return {c.name: c for c in chans}


#: every production channel of the dark photon (the default of ``DarkPhoton.production_channels``)
PRODUCTION_CHANNELS = ("pi0->gamma", "eta->gamma", "etap->gamma", "omega->pi0", "brems")


@dataclass(frozen=True)
class DarkPhoton:
    """BC1 dark photon: kinetic mixing epsilon with the photon (PBC, arXiv:1901.09966, sec. 3.1).

    Options (``--model-option KEY=VALUE``): form_factor -- the time-like proton form factor in proton
    bremsstrahlung (NA62 publishes both); production_channels -- the production channels to include
    (names of :data:`PRODUCTION_CHANNELS`; default all).
    """

    form_factor: bool = True
    production_channels: tuple[str, ...] = PRODUCTION_CHANNELS

    name: ClassVar[str] = "dark-photon"
    benchmark: ClassVar[str] = "BC1"
    label: ClassVar[str] = "BC1 dark photon"
    symbol: ClassVar[str] = "A'"
    definition: ClassVar[str] = r"$\mathcal{L}\supset-\frac{\varepsilon}{2}F'_{\mu\nu}F^{\mu\nu}$"
    coupling: ClassVar[Coupling] = Coupling("epsilon", r"$\varepsilon$", production_power=2.0, width_power=2.0,
                                             max=1.0)
    spin: ClassVar[int] = 1
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 2.0)
    default_final_states: ClassVar[tuple[str, ...]] = ("ee", "mumu")
    #: narrow structures of the width (hadronic R ratio) and of bremsstrahlung (time-like form factor):
    #: scans refine the mass grid around them (fipscan.grid.refine_masses); PDG masses and widths
    resonances: ClassVar[tuple[tuple[str, float, float], ...]] = (
        ("rho(770)", C.M_RHO, C.GAMMA_RHO), ("omega(782)", C.M_OMEGA, C.GAMMA_OMEGA),
        ("phi(1020)", C.M_PHI, C.GAMMA_PHI))

    def __post_init__(self):
        chans = production_channel_names("dark-photon", self.production_channels, PRODUCTION_CHANNELS)
        object.__setattr__(self, "production_channels", chans)
        if not isinstance(self.form_factor, bool):
            raise ConfigError(f"dark-photon form_factor must be true or false, not {self.form_factor!r}")

    def settings(self) -> dict:
        return {"model": self.name, "form_factor": self.form_factor,
                "production_channels": list(self.production_channels)}

    def production_variations(self) -> dict[str, dict]:
        """The production alternatives (fipscan.bands): proton bremsstrahlung with and without the
        time-like proton form factor, the two estimates NA62 publishes (JHEP 09 (2023) 035; the
        form factor's rho/omega peak raises the rate near 0.78 GeV, Foroughi-Abari & Ritz
        arXiv:2108.05900): {"form_factor=false": {"form_factor": False}} for the default model (the
        opposite for form_factor=false); {} when "brems" is not among the production channels (the
        form factor then changes nothing)."""
        if "brems" not in self.production_channels:
            return {}
        flip = not self.form_factor
        return {f"form_factor={str(flip).lower()}": {"form_factor": flip}}

    def total_width(self, m, eps):
        """Total width [GeV] (:func:`total_width`)."""
        return total_width(m, eps)

    def branching_ratios(self, m) -> dict:
        """Branching ratios keyed by final-state name (:func:`branching_ratios`)."""
        return branching_ratios(m)

    def production(self) -> tuple:
        """Declarations of the production channels (fipscan.production.channels)."""
        mesons = _meson_channels()
        ff = self.form_factor
        out = []
        for name in self.production_channels:
            if name == "brems":
                out.append(Bremsstrahlung(
                    table=lambda m, ep, et, e_beam, _ff=ff: brems_pt_theta_table(m, ep, et, e_beam=e_beam,
                                                                                form_factor=_ff, eps=1.0),
                    total=lambda m, eps, e_beam, _ff=ff: brems_total(m, eps, e_beam, form_factor=_ff),
                    p_support=p_support))
            else:
                out.append(mesons[name])
        return tuple(out)
