"""BC10 axion-like particle with universal Yukawa-like fermion couplings (mass m, coupling g_Y).

PBC benchmark BC10 (Beacham et al. arXiv:1901.09966; FIPs 2022, Antel et al. arXiv:2305.01715), following
Dolan, Kahlhoefer, McCabe, Schmidt-Hoberg arXiv:1412.5174 (sec. 2): a pseudoscalar a coupled to every
Standard-Model fermion in proportion to its mass,

    L ⊃ 1/2 (d a)^2 - 1/2 m^2 a^2 - i g_Y sum_f (m_f / v) a fbar gamma5 f,      v = 246.22 GeV,

with no tree-level coupling to gauge bosons (the couplings to photons and gluons arise from the fermion
loops) and a flavour-changing coupling induced at one loop with the UV scale Lambda = 1 TeV
(fipscan.models._alp_flavour).  Equivalent derivative form (Bauer, Neubert, Thamm arXiv:1708.00443,
L ⊃ sum_f (c_ff/2) (d^mu a/Lambda) fbar gamma_mu gamma5 f + e^2 C_gammagamma (a/Lambda) F F~
+ g_s^2 C_GG (a/Lambda) G G~,
the convention of ALPINIST, Jerhot et al. arXiv:2201.05170): by the equations of motion and the axial
anomaly, c_ff/Lambda = g_Y/v for every fermion *together with* C_gammagamma = -sum_f N_c Q_f^2 c_ff/(16 pi^2)
and C_GG = -sum_q c_qq/(32 pi^2) (:func:`c_over_lambda_from_g_y`, :func:`g_y_from_c_over_lambda`).  The
derivative couplings alone (without those two terms) are a different model: heavy fermions then decouple from
the photon and gluon couplings, while here they do not.
Pure JAX functions of arrays (broadcasting over (m, g), differentiable, keeping the input dtype).
Units: GeV, metres.

Decays (Gamma = g_Y^2 x the widths at g_Y = 1)
----------------------------------------------
* leptons: Gamma(a -> l l) = g_Y^2 m_l^2 m beta / (8 pi v^2), beta = sqrt(1 - 4 m_l^2/m^2) (a pseudoscalar
  Yukawa: Dolan et al. arXiv:1412.5174 sec. 2; Bauer, Neubert, Thamm arXiv:1708.00443, Gamma(a -> l l) with
  c_ll/Lambda = g_Y/v).
* photons through the fermion loops (e, mu, tau, c, b, t; pole masses of fipscan.models.dark_scalar)::

      Gamma(a -> gamma gamma) = |g_eff|^2 m^3 / (64 pi),   g_eff = (alpha/(pi v)) g_Y sum_f N_c Q_f^2 F(tau_f) + g_had,

  F(tau) = tau f(tau)^2, tau = 4 m_f^2/m^2, f = arcsin(1/sqrt(tau)) for tau >= 1 and
  pi/2 + (i/2) ln((1 + sqrt(1 - tau))/(1 - sqrt(1 - tau))) below (complex above the fermion pair threshold;
  F -> 1 for heavy fermions, -> 0 for light ones): the pseudoscalar loop of Djouadi, Phys. Rept. 459 (2008)
  1, arXiv:hep-ph/0503173, the A -> gamma gamma amplitude A^A_1/2 = 2 tau^-1 f (his tau = m^2/(4 m_f^2)),
  and Bauer, Neubert, Thamm arXiv:1708.00443 eq. (22) with B_1 = 1 - tau f^2 and the C_gammagamma above.
  The u, d, s quarks are not in the perturbative loop sum: below 2 GeV the hadronic contribution g_had is
  that of the ALP's effective gluon coupling through the chiral Lagrangian (fipscan.models._alp_hadronic at 1/f_G =
  :func:`inv_fg_eff`: its chiral-rotation and meson-mixing amplitude).  Interference: g_had is added to the
  fermion-loop amplitude coherently (complex), with the signs of L = +(g/4) a F F~ and L = +(alpha_s/(8 pi))
  (a/f_G) G G~ used by _alp_hadronic, in which one heavy quark with Yukawa coupling y gives both
  1/f_G = +y/m and g = +(alpha/pi) N_c Q^2 y/m (the same triangle), while the chiral rotation that removes
  a positive 1/f_G gives a negative g (_alp_hadronic's g_chiral); the signed amplitude is
  _alp_hadronic.gamma_amplitude.
* hadrons through the effective gluon coupling of the heavy-quark loops,
  1/f_G,eff = (g_Y/v) sum_{q = c, b, t} F(tau_q)      (:func:`inv_fg_eff`; normalisation of BC11,
  L ⊃ (alpha_s/(8 pi)) (a/f_G) G G~: one heavy quark with Yukawa coupling y gives (alpha_s/(8 pi)) (y/m_q)
  a G G~; Bauer, Neubert, Thamm arXiv:1708.00443, C_GG^eff (the gluon analogue of eq. (22)) with the C_GG
  above), fed into fipscan.models._alp_hadronic.partial_widths.  Left out (an O(1) uncertainty of the
  hadronic widths and of the gamma gamma interference, flagged for the lead): the direct Yukawa couplings of
  the u, d, s quarks (~ m_q/v).  In the chiral Lagrangian they are a common phase of the light-quark mass
  matrix, M -> M exp(i g_Y a/v), i.e. an ALP-meson mass mixing ~ (g_Y f_pi/v) B0 Tr(M lambda_P), dominated by
  m_s (a-eta_8/eta_0 mixing of the order of the gluon-induced one), which the gluon coupling alone (the
  kappa ~ 1/m_q rotation of _alp_hadronic) does not contain (arXiv:2012.12272 sec. 7, the chiral Lagrangian
  with quark couplings).

Final states (fipscan.final_states): ee, mumu, tautau, gammagamma, and the hadronic names of
_alp_hadronic.  Branching ratios sum to one.

Production (declarations of fipscan.production.channels)
--------------------------------------------------------
B+ -> K+ a, B0 -> K0 a, B+ -> K*+ a, B0 -> K*0 a, B_s -> phi a, K+ -> pi+ a, K_L -> pi0 a through the
loop-induced couplings g_bs = 1.70e-6 g_Y GeV^-1, g_sd = 1.46e-8 g_Y GeV^-1 (fipscan.models._alp_flavour).
As m -> 0: BR(B+ -> K+ a) = 0.559 g_Y^2, BR(K+ -> pi+ a) = 1.77e-3 g_Y^2, BR(K_L -> pi0 a) = 1.14e-3 g_Y^2.
The kaons of the dump count only the fraction that decays before interacting (dark_scalar.kaon_decay_fraction,
options kaon_interaction_length, kaon_dump_length as in DarkScalar).  Optional (not default): ALP-meson
mixing ``mixing(pi0)``, ``mixing(eta)``, ``mixing(etap)`` (MesonMixing) with ``|theta_aP|^2`` of _alp_hadronic
at 1/f_G = :func:`inv_fg_eff` (the light-quark Yukawas, which change these angles at O(1), are left out as
in the hadronic widths).  Not modelled: proton bremsstrahlung, D-meson decays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.final_states import FINAL_STATES
from fipscan.kernels.numerics import float_dtype
from fipscan.models import _alp_flavour as fl
from fipscan.models import _alp_hadronic as H
from fipscan.models import dark_scalar as ds
from fipscan.models.base import Coupling, production_channel_names
from fipscan.production.channels import MesonMixing

__all__ = [
    "ALPFermion", "PRODUCTION_CHANNELS", "OPTIONAL_CHANNELS", "loop_function", "width_ll",
    "photon_amplitude", "width_gammagamma", "inv_fg_eff", "partial_widths", "total_width", "branching_ratios", "ctau",
    "c_over_lambda_from_g_y", "g_y_from_c_over_lambda",
]

#: every production channel (the default of ``ALPFermion.production_channels``)
PRODUCTION_CHANNELS = fl.FLAVOUR_CHANNEL_NAMES
#: optional channels (not in the default list): ALP-meson mixing at 1/f_G = inv_fg_eff
OPTIONAL_CHANNELS = ("mixing(pi0)", "mixing(eta)", "mixing(etap)")
_MIXING_PARENTS = {"pi0": C.M_PI0, "eta": C.M_ETA, "etap": C.M_ETAP}
#: (mass [GeV], N_c Q^2) of the charged fermions in the photon loop (light quarks: hadronic part)
_PHOTON_LOOP = ((C.M_E, 1.0), (C.M_MU, 1.0), (C.M_TAU, 1.0), (ds.M_C_POLE, 4.0 / 3.0), (ds.M_B_POLE, 1.0 / 3.0),
                (ds.M_T_POLE, 4.0 / 3.0))
#: quark masses [GeV] of the effective gluon coupling (pole masses, as in the photon loop)
_GLUON_LOOP = (ds.M_C_POLE, ds.M_B_POLE, ds.M_T_POLE)
#: final states of the widths computed here (the hadronic module's own entries for them are not used)
_OWN_STATES = ("ee", "mumu", "tautau", "gammagamma")


def _as_arrays(m, g):
    dtype = float_dtype(m, g)
    return jnp.asarray(m, dtype), jnp.asarray(g, dtype)


def loop_function(tau):
    """(Re, Im) of F(tau) = tau f(tau)^2 [dimensionless], tau = 4 m_f^2/m^2 > 0: f = arcsin(1/sqrt tau) for
    tau >= 1; f = pi/2 + (i/2) L, L = ln((1 + r)/(1 - r)) = 2 ln(1 + r) - ln tau, r = sqrt(1 - tau), below.
    F -> 1 + 1/(3 tau) + 8/(45 tau^2) for tau -> inf (series above tau = 1e4), -> 0 for tau -> 0.
    Bauer, Neubert, Thamm arXiv:1708.00443 eq. (22) (B_1 = 1 - F); Djouadi hep-ph/0503173 (A^A_1/2 = 2F)."""
    tau = jnp.asarray(tau)
    above = tau >= 1.0
    big = tau > 1e4
    t_hi = jnp.where(above & ~big, tau, 2.0)
    re_hi = t_hi * jnp.arcsin(jnp.sqrt(1.0 / t_hi)) ** 2
    t_big = jnp.where(big, tau, 1e4)
    re_big = 1.0 + 1.0 / (3.0 * t_big) + 8.0 / (45.0 * t_big**2)
    t_lo = jnp.where(above, 0.5, jnp.maximum(tau, jnp.finfo(tau.dtype).tiny))
    r = jnp.sqrt(1.0 - t_lo)
    L = 2.0 * jnp.log1p(r) - jnp.log(t_lo)
    re_lo = t_lo * (C.PI**2 - L * L) / 4.0
    im_lo = t_lo * C.PI * L / 2.0
    re = jnp.where(big, re_big, jnp.where(above, re_hi, re_lo))
    im = jnp.where(above, 0.0, im_lo)
    return re, im


def _tau(m, m_f):
    m_safe = jnp.where(m > 0, m, 1.0)
    return 4.0 * m_f * m_f / (m_safe * m_safe)


_beta = ds._beta  # sqrt(1 - 4 m_d^2/m^2) above threshold, 0 below (double-where)


def width_ll(m, m_l, g_y):
    """Gamma(a -> l+ l-) [GeV] = g_Y^2 m_l^2 m beta / (8 pi v^2); 0 below 2 m_l.  m, m_l [GeV].
    Dolan et al. arXiv:1412.5174 sec. 2; Bauer, Neubert, Thamm arXiv:1708.00443 (c/Lambda = g_Y/v)."""
    m, g_y = _as_arrays(m, g_y)
    return g_y * g_y * m_l * m_l * m * _beta(m, m_l) / (8.0 * C.PI * C.V_HIGGS**2)


def inv_fg_eff(m, g_y):
    """The ALP-gluon coupling 1/f_G [GeV^-1] induced by the heavy-quark loops, in the BC11 normalisation
    L ⊃ (alpha_s/(8 pi)) (a/f_G) G G~: (g_Y/v) ``sum_{c, b, t} |F(tau_q)|`` (real below 2 m_c = 3.3 GeV)
    (:func:`loop_function`; module docstring: Bauer, Neubert, Thamm arXiv:1708.00443, C_GG^eff).  3.00-3.16 g_Y/v
    on 1e-3..2 GeV."""
    m, g_y = _as_arrays(m, g_y)
    total = 0.0
    for mq in _GLUON_LOOP:
        re, im = loop_function(_tau(m, mq))
        total = total + jnp.sqrt(re * re + im * im)
    return g_y * total / C.V_HIGGS


def photon_amplitude(m, g_y):
    """(Re, Im) of g_eff [GeV^-1] of L = (g/4) a F F~: the fermion loops (alpha/(pi v)) g_Y sum_f N_c Q_f^2
    F(tau_f) (f = e, mu, tau, c, b, t) plus the hadronic amplitude of _alp_hadronic at 1/f_G =
    :func:`inv_fg_eff`, added coherently (module docstring, for the interference)."""
    m, g_y = _as_arrays(m, g_y)
    re, im = 0.0, 0.0
    for mf, nq2 in _PHOTON_LOOP:
        fr, fi = loop_function(_tau(m, mf))
        re, im = re + nq2 * fr, im + nq2 * fi
    pref = C.ALPHA * g_y / (C.PI * C.V_HIGGS)
    re, im = pref * re, pref * im
    amp = H.gamma_amplitude(m, inv_fg_eff(m, g_y))  # signed, complex: coherent sum
    return re + jnp.real(amp).astype(m.dtype), im + jnp.imag(amp).astype(m.dtype)


def width_gammagamma(m, g_y):
    """Gamma(a -> gamma gamma) [GeV] = ``|g_eff|^2 m^3/(64 pi)`` (:func:`photon_amplitude`); without hadrons
    ``g_Y^2 alpha^2 m^3 |sum_f N_c Q_f^2 F(tau_f)|^2 / (64 pi^3 v^2)``.  Bauer, Neubert, Thamm arXiv:1708.00443
    eq. (22); Djouadi hep-ph/0503173 (pseudoscalar A -> gamma gamma)."""
    m, g_y = _as_arrays(m, g_y)
    re, im = photon_amplitude(m, g_y)
    return (re * re + im * im) * m**3 / (64.0 * C.PI)


@jax.jit
def partial_widths(m, g_y) -> dict:
    """Partial widths [GeV] keyed by final-state name: ee, mumu, tautau, gammagamma and the hadronic
    final states of _alp_hadronic.partial_widths(m, :func:`inv_fg_eff`) (its own ee/mumu/tautau/gammagamma
    entries are replaced by the ones computed here, and a name not registered in fipscan.final_states is
    added to "other")."""
    m, g_y = _as_arrays(m, g_y)
    out = {
        "ee": width_ll(m, C.M_E, g_y),
        "mumu": width_ll(m, C.M_MU, g_y),
        "tautau": width_ll(m, C.M_TAU, g_y),
        "gammagamma": width_gammagamma(m, g_y),
    }
    for name, width in H.partial_widths(m, inv_fg_eff(m, g_y)).items():
        if name in _OWN_STATES:
            continue
        key = name if name in FINAL_STATES else "other"
        out[key] = out.get(key, 0.0) + jnp.asarray(width).astype(m.dtype)
    return out


def total_width(m, g_y):
    """Total width [GeV] at mass m [GeV] and coupling g_Y (the sum of :func:`partial_widths`)."""
    return sum(partial_widths(m, g_y).values())


def branching_ratios(m) -> dict:
    """Branching ratios (g_Y-independent) keyed by final-state name; they sum to one."""
    m, one = _as_arrays(m, 1.0)
    widths = partial_widths(m, one)
    tot = sum(widths.values())
    tot_safe = jnp.where(tot > 0, tot, 1.0)
    return {k: v / tot_safe for k, v in widths.items()}


def ctau(m, g_y):
    """Proper decay length c tau [m] = hbar c / Gamma_total."""
    return C.HBARC / total_width(m, g_y)


def c_over_lambda_from_g_y(g_y):
    """c_ff / Lambda [GeV^-1] of the derivative couplings (Bauer, Neubert, Thamm arXiv:1708.00443 eq. (1);
    ALPINIST) equivalent to g_Y: g_Y / v, for every fermion, together with C_gammagamma = -sum_f N_c Q_f^2
    c_ff/(16 pi^2) and C_GG = -sum_q c_qq/(32 pi^2) (module docstring)."""
    return jnp.asarray(g_y) / C.V_HIGGS


def g_y_from_c_over_lambda(c_over_lambda):
    """g_Y = v c_ff/Lambda (inverse of :func:`c_over_lambda_from_g_y`); c_ff/Lambda in GeV^-1."""
    return jnp.asarray(c_over_lambda) * C.V_HIGGS


@dataclass(frozen=True)
class _MixingSq:
    """|theta_aP|^2 of one parent at 1/f_G = inv_fg_eff(m, g_Y) (a hashable, picklable callable for MesonMixing)."""

    parent: str

    def __call__(self, m, g):
        return H.mixing_sq(m, inv_fg_eff(m, g), self.parent)


def _check_length(key, value, allow_inf):
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and 0 < value <= math.inf
    if not ok or (not allow_inf and math.isinf(value)):
        raise ConfigError(f"alp-fermion {key} must be a positive length in metres"
                          f"{' (or inf)' if allow_inf else ''}, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class ALPFermion:
    """BC10 ALP with universal Yukawa-like fermion couplings g_Y (PBC arXiv:1901.09966; module docstring).

    Options (``--model-option KEY=VALUE``): production_channels -- names among :data:`PRODUCTION_CHANNELS`
    (default all) and :data:`OPTIONAL_CHANNELS` (ALP-meson mixing); kaon_interaction_length, kaon_dump_length --
    the kaon interaction length [m] in the dump
    and the dump length [m] that decide which kaons decay before interacting (as DarkScalar; defaults
    copper, thick target).
    """

    production_channels: tuple[str, ...] = PRODUCTION_CHANNELS
    kaon_interaction_length: float = ds.LAMBDA_INT_KAON_CU
    kaon_dump_length: float = math.inf

    name: ClassVar[str] = "alp-fermion"
    benchmark: ClassVar[str] = "BC10"
    label: ClassVar[str] = r"BC10 ALP (fermion couplings $g_Y$)"
    symbol: ClassVar[str] = "a"
    definition: ClassVar[str] = r"$\mathcal{L}\supset-i\,g_Y\sum_f\frac{m_f}{v}a\bar f\gamma_5f$"
    #: scan range: the NA62-BD region of B -> K a lies around g_Y ~ 1e-5 .. 1e-3 (N ~ g_Y^4 in the
    #: long-lived limit); the range leaves a decade or more on each side
    coupling: ClassVar[Coupling] = Coupling("g_Y", r"$g_Y$", production_power=2.0, width_power=2.0,
                                         scan_range=(1e-7, 1e-1))
    spin: ClassVar[int] = 0
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 2.0)
    scan_masses: ClassVar[tuple[float, float]] = (0.01, 2.0)
    default_final_states: ClassVar[tuple[str, ...]] = ("ee", "mumu", "gammagamma", "pipipi0", "pipigamma", "pipieta")
    #: the pi0, eta, eta' poles of the ALP-meson mixing: scans refine the mass grid there (widths floored at
    #: 1e-5 of the mass, as the regulator of the poles: _alp_hadronic.MIXING_RESONANCES)
    resonances: ClassVar[tuple] = H.MIXING_RESONANCES

    def __post_init__(self):
        chans = production_channel_names("alp-fermion", self.production_channels,
                                         PRODUCTION_CHANNELS + OPTIONAL_CHANNELS)
        object.__setattr__(self, "production_channels", chans)
        object.__setattr__(self, "kaon_interaction_length",
                           _check_length("kaon_interaction_length", self.kaon_interaction_length, False))
        object.__setattr__(self, "kaon_dump_length", _check_length("kaon_dump_length", self.kaon_dump_length, True))

    def settings(self) -> dict:
        return {"model": self.name, "production_channels": list(self.production_channels),
                "kaon_interaction_length": self.kaon_interaction_length,
                **({"kaon_dump_length": self.kaon_dump_length} if math.isfinite(self.kaon_dump_length) else {}),
                "lambda_uv": fl.LAMBDA_UV, "physics_version": 1}

    def production_variations(self) -> dict[str, dict]:
        """No production alternatives today: {} (fipscan.bands).  The fermion-coupled ALP's options are not
        uncertainties: production_channels chooses channels (its optional ones are additions, not other
        estimates of a channel in the model), and kaon_interaction_length and kaon_dump_length describe
        the dump in which the kaons decay or interact (experiment inputs)."""
        return {}

    def total_width(self, m, g):
        """Total width [GeV] (:func:`total_width`)."""
        return total_width(m, g)

    def branching_ratios(self, m) -> dict:
        """Branching ratios keyed by final-state name (:func:`branching_ratios`)."""
        return branching_ratios(m)

    def production(self) -> tuple:
        """Declarations of the production channels (fipscan.models._alp_flavour.flavour_channels; MesonMixing)."""
        lam, length = self.kaon_interaction_length, self.kaon_dump_length

        def kaon_weight(m_k, tau_k):
            return lambda p: ds.kaon_decay_fraction(p, m_k, tau_k, lam, length)

        chans = fl.flavour_channels(fl.g_bs_bc10, fl.g_sd_bc10, kaon_weight)
        for parent, m_parent in _MIXING_PARENTS.items():
            chans[f"mixing({parent})"] = MesonMixing(parent, m_parent, _MixingSq(parent))
        return tuple(chans[name] for name in self.production_channels)
