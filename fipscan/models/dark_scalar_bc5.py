"""BC5 dark scalar: the BC4 scalar (mixing angle theta, coupling axis sin^2 theta) plus a Higgs-scalar
coupling h S S fixed so that BR(h -> S S) = 10^-2.

PBC benchmark BC5 (Beacham et al., arXiv:1901.09966, sec. 3.2.1; FIPs 2022 report, Antel et al.,
arXiv:2305.01715, the Higgs-portal benchmarks): the real singlet S of BC4 with, in addition, the
quartic term of the Higgs portal, which after electroweak symmetry breaking gives a trilinear vertex
h S S.  BC5 fixes it by BR(h -> S S) = 0.01 and scans (m_S, sin^2 theta) as BC4 does.  Decays, widths
and lifetimes are BC4's (every width ~ sin^2 theta: :mod:`fipscan.models.dark_scalar`); production is
BC4's single-scalar production (~ sin^2 theta) plus pair production through an off-shell Higgs, whose
rate does not depend on theta.

Pair production, B -> K S S (derived here from the cited ingredients)
----------------------------------------------------------------------
* The h S S vertex: write the Feynman rule -i A (A [GeV], convention-free: for L = -(alpha/2) S^2 H^+H
  of Boiarska et al. arXiv:1904.10447 sec. 2.2, A = alpha v).  Then Gamma(h -> S S) = A^2 beta_h /
  (32 pi m_h) (two-body width with the identical-particle 1/2; beta_h = sqrt(1 - 4 m^2/m_h^2)), and
  BR(h -> S S) = B fixes A^2 = 32 pi m_h Gamma_SM B/((1 - B) beta_h) with the Standard-Model width
  Gamma_SM = 4.1 MeV (LHC Higgs cross-section WG, arXiv:1610.07922, 4.088 MeV at m_h = 125.09 GeV;
  the cos^2 theta reduction of the Higgs' own widths is neglected).  A = 0.72 GeV for B = 10^-2.
* The b -> s h vertex is the top-W loop of the BC4 production (Boiarska et al. eq. (A.17) with theta S
  replaced by h): L = C (m_b/v) h sbar_L b_R + h.c., C = 3 sqrt2 G_F m_t^2 V_ts* V_tb/(16 pi^2).
* The off-shell Higgs joins them: for B -> K S S with pair mass q^2 = m_SS^2::

      |M|^2(q^2) = |M_BKS(q^2)|^2/sin^2 theta x A^2/(m_h^2 - q^2)^2,
      |M_BKS|^2/sin^2 theta = |C|^2 (m_b/v)^2 (m_B^2 - m_K^2)^2 f0(q^2)^2/(4 (m_b - m_s)^2),

  the BC4 amplitude of B -> K S (:func:`fipscan.models.dark_scalar.br_meson_to_meson_scalar`, whose
  width is ``|M_BKS|^2 lambda^1/2/(16 pi m_B^3)``) evaluated at the pair mass.
* Three-body phase space with two identical scalars (PDG RPP "Kinematics" eqs. (49.22)-(49.23);
  :func:`fipscan.kernels.phasespace.pair_dalitz_width`)::

      Gamma(B -> K S S) = 1/(512 pi^3 m_B^3) int_{4 m^2}^{(m_B - m_K)^2} dq^2 |M|^2(q^2)
                          lambda^1/2(m_B^2, m_K^2, q^2) sqrt(1 - 4 m^2/q^2),

  the same structure as Boiarska et al. sec. 2.2 (their three-body quartic channel).  BR(B+ -> K+ S S)
  = 6.6e-11 as m -> 0 for B = 10^-2 (:func:`br_b_to_k_scalar_pair`; 6.1e-11 for B0), falling to zero at
  m = (m_B - m_K)/2 = 2.39 GeV.  Two scalars per decay equal the single production BR(B+ -> K+ S) =
  0.39 sin^2 theta at sin^2 theta ~ 3e-10: below that, pair production dominates.

Counting the two scalars
------------------------
Each decay makes two scalars; each can decay in the volume.  The yield counts the expected number of
scalar decays in the volume: the declaration has ``n_fips = 2`` and the weight of the channel is
2 x BR x (the distribution of ONE scalar).  The two scalars have the same marginal distribution
(exchange symmetry), so this expectation is exact; what it does not do is count events with both
scalars decaying inside once: that double decay has probability ~ P^2 for a per-scalar decay
probability P, negligible wherever the signal is near the limit (P << 1 on the long-lived edge, P
exponentially small on the short-lived one).  Since the S decay probability in the long-lived limit
is ~ sin^2 theta, N_pair ~ sin^2 theta there while N_single ~ sin^4 theta.

Kinematics: no two-body stand-in.  One scalar's distribution is the mixture, over the invariant mass
m_r of the system recoiling against it (the K and the other S), of isotropic two-body decays
B -> S + m_r (exact for a spin-0 parent); :func:`fipscan.kernels.phasespace.pair_recoil_nodes` gives
a quadrature of the m_r distribution from the Dalitz density, and
:class:`fipscan.production.samples.RecoilSampler` folds it with the B spectra.

Options: every option of :class:`fipscan.models.dark_scalar.DarkScalar` (the pair channels are added to
its production_channels: :data:`PAIR_CHANNELS`), and br_h_to_ss (default 10^-2, the BC5 definition).
With ``b_production="inclusive"`` the single-scalar B channels become B -> X_s S while pair
production stays the exclusive B -> K S S (the inclusive b -> s S S is not modelled).

Not modelled: pair production with a K*, phi or in B_s decays (B -> K* S S, B_s -> phi S S) and the
inclusive b -> s S S, so the pair rate is below the full b -> s S S one by about 2x (its inclusive
free-quark estimate is ~1.4e-10 at m -> 0).  At NA62-BD this is immaterial: pair production beats the
single channels only below sin^2 theta ~ 3e-10, where fewer than 1e-3 events are expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.kernels.phasespace import pair_dalitz_width, pair_recoil_nodes
from fipscan.models import dark_scalar as ds
from fipscan.production.channels import RecoilDecay

__all__ = [
    "DarkScalarBC5",
    "PAIR_CHANNELS",
    "BR_H_SS",
    "hss_vertex_squared",
    "amp2_b_to_k_pair",
    "br_b_to_k_scalar_pair",
    "pair_recoil",
]

M_H = 125.20  # Higgs mass [GeV] (PDG 2024)
GAMMA_H_SM = 4.1e-3  # Standard-Model Higgs width [GeV] (LHC Higgs XS WG, arXiv:1610.07922)
#: BR(h -> S S) of the BC5 definition (PBC arXiv:1901.09966)
BR_H_SS = 1e-2
#: the pair-production channels (B -> K S S), in the order of the model's production
PAIR_CHANNELS = ("bplus->kplus_pair", "b0->k0_pair")
#: recoil-mass nodes of the pair channels' scalar kinematics (:func:`pair_recoil`)
N_RECOIL = 8


def hss_vertex_squared(m, br_h_to_ss=BR_H_SS):
    """A^2 [GeV^2] of the h S S vertex (Feynman rule -i A) that gives BR(h -> S S) = br_h_to_ss:
    A^2 = 32 pi m_h Gamma_SM B/((1 - B) beta_h), beta_h = sqrt(1 - 4 m^2/m_h^2) (module docstring).
    m [GeV] (jnp)."""
    m = jnp.asarray(m)
    beta = jnp.sqrt(jnp.clip(1.0 - 4.0 * m * m / M_H**2, 1e-12, None))
    width_ss = GAMMA_H_SM * br_h_to_ss / (1.0 - br_h_to_ss)
    return 32.0 * C.PI * M_H * width_ss / beta


def _c_bs():
    """|C| of the b -> s h vertex, 3 sqrt2 G_F m_t^2 |V_ts V_tb|/(16 pi^2) (MSbar top, as BC4)."""
    return 3.0 * math.sqrt(2.0) * C.G_F * ds.M_T_MSBAR**2 * ds.V_TS * ds.V_TB / (16.0 * C.PI**2)


def amp2_b_to_k_pair(q2, m, m_meson, m_kaon, br_h_to_ss=BR_H_SS):
    """``|M|^2`` of B -> K S S at pair mass squared q2 [GeV^2] (module docstring): the BC4 amplitude of
    B -> K S at q^2 over sin^2 theta, times A^2/(m_h^2 - q^2)^2.  m: the scalar mass [GeV] (in A^2)."""
    q2 = jnp.asarray(q2)
    f0 = ds.F0_BK_0 / (1.0 - q2 / ds.M_FIT2_BK)
    mb, ms = ds.M_B_QUARK, ds.M_S_QUARK
    amp2_bks = (_c_bs() * mb / C.V_HIGGS) ** 2 * (m_meson**2 - m_kaon**2) ** 2 * f0 * f0 / (4.0 * (mb - ms) ** 2)
    return amp2_bks * hss_vertex_squared(m, br_h_to_ss) / (M_H**2 - q2) ** 2


def _meson(charged):
    return (ds.M_BPLUS, C.M_K, ds.TAU_BPLUS) if charged else (ds.M_B0, C.M_K0, ds.TAU_B0)


def br_b_to_k_scalar_pair(m, g=1.0, charged=True, br_h_to_ss=BR_H_SS):
    """BR(B+ -> K+ S S) (charged) or BR(B0 -> K0 S S) at scalar mass m [GeV]: tau_B/hbar x the width of
    the module docstring (:func:`fipscan.kernels.phasespace.pair_dalitz_width`).  Independent of
    g = sin^2 theta (it broadcasts with g); 6.6e-11 for B+ as m -> 0 at BR(h -> S S) = 1e-2; 0 from
    m = (m_B - m_K)/2.  Per decay: each decay gives two scalars."""
    m_b, m_k, tau = _meson(charged)
    m = jnp.asarray(m, jnp.result_type(m, float))

    def one(mm):
        width = pair_dalitz_width(lambda q2: amp2_b_to_k_pair(q2, mm, m_b, m_k, br_h_to_ss), m_b, m_k, mm)
        return width * tau / C.HBAR

    br = jnp.vectorize(one)(m)
    return br * jnp.ones_like(jnp.asarray(g, br.dtype))


def pair_recoil(m, charged=True, br_h_to_ss=BR_H_SS, n_r=N_RECOIL):
    """(recoil masses (n_r,) [GeV], weights (n_r,)) of one scalar of B -> K S S at scalar mass m [GeV]
    (:func:`fipscan.kernels.phasespace.pair_recoil_nodes` with :func:`amp2_b_to_k_pair`); m is kept
    below the threshold (m_B - m_K)/2 so the kinematics stay valid where the rate is zero."""
    m_b, m_k, _ = _meson(charged)
    m = jnp.minimum(jnp.asarray(m, jnp.result_type(m, float)), 0.499 * (m_b - m_k))
    return pair_recoil_nodes(lambda q2: amp2_b_to_k_pair(q2, m, m_b, m_k, br_h_to_ss), m_b, m_k, m, n_r=n_r)


@dataclass(frozen=True)
class DarkScalarBC5(ds.DarkScalar):
    """BC5 dark scalar: BC4 plus h S S with BR(h -> S S) = 10^-2 (PBC arXiv:1901.09966; module docstring).

    Options: those of :class:`fipscan.models.dark_scalar.DarkScalar` (production_channels also among
    :data:`PAIR_CHANNELS`, which the default includes), br_h_to_ss (default :data:`BR_H_SS`).
    """

    production_channels: tuple[str, ...] = ds.PRODUCTION_CHANNELS + PAIR_CHANNELS
    br_h_to_ss: float = BR_H_SS

    extra_channels: ClassVar[tuple[str, ...]] = PAIR_CHANNELS
    name: ClassVar[str] = "dark-scalar-bc5"
    benchmark: ClassVar[str] = "BC5"
    label: ClassVar[str] = r"BC5 dark scalar (Higgs mixing $\theta$, BR$(h\to SS) = 10^{-2}$)"

    def __post_init__(self):
        super().__post_init__()
        b = self.br_h_to_ss
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not (0.0 < b < 1.0):
            raise ConfigError(f"dark-scalar-bc5 br_h_to_ss must be a branching ratio in (0, 1), not {b!r}")
        object.__setattr__(self, "br_h_to_ss", float(b))

    def settings(self) -> dict:
        return {**super().settings(), "br_h_to_ss": self.br_h_to_ss, "bc5_version": 1}

    def _extra_production(self) -> dict:
        """The pair channels B -> K S S (production_power 0: independent of sin^2 theta; two scalars
        per decay)."""
        b = self.br_h_to_ss
        out = {}
        for name, charged in zip(PAIR_CHANNELS, (True, False)):
            m_b, m_k, _ = _meson(charged)
            out[name] = RecoilDecay(
                name, "bplus" if charged else "b0", m_b,
                lambda m, g, _c=charged: br_b_to_k_scalar_pair(m, g, charged=_c, br_h_to_ss=b),
                lambda m, _c=charged: pair_recoil(m, charged=_c, br_h_to_ss=b),
                threshold_mass=0.5 * (m_b - m_k), n_fips=2, production_power=0.0,
                rate_unit="branching ratio (2 S per decay)")
        return out
