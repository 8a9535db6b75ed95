"""PBC benchmark BC1: the minimal dark photon (m_A', epsilon) as a fipscan model.

Glue between the physics functions of fipscan.models.dark_photon / fipscan.production and the scan:
which production channels exist, which final states are detectable, their branching ratios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from fipscan.models import dark_photon as dp
from fipscan.production import meson_decays as md
from fipscan.production.bremsstrahlung import brems_pt_theta_table
from fipscan.production.samples import MesonSampler, grid_samples

# PDG masses [GeV] and branching fractions (shared reference; PDG 2024)
M_PI0 = 0.1349768
M_ETA = 0.547862
M_ETAP = 0.95778
M_OMEGA = 0.78266
BR_PI0_GG = 0.98823
BR_ETA_GG = 0.3936
BR_ETAP_GG = 0.02307
BR_OMEGA_PI0G = 0.084


@dataclass(frozen=True)
class DarkPhoton:
    """BC1 dark photon: kinetic mixing epsilon with the photon (PBC, arXiv:1901.09966, sec. 3.1).

    form_factor: use the time-like proton form factor in proton bremsstrahlung (NA62 publishes both).
    production: the production channels to include (default: all).
    """

    form_factor: bool = True
    production: tuple[str, ...] = ("pi0", "eta", "etap", "omega", "brems")

    name: ClassVar[str] = "dark-photon"
    benchmark: ClassVar[str] = "BC1"
    label: ClassVar[str] = "BC1 dark photon"
    coupling_name: ClassVar[str] = "epsilon"
    coupling_label: ClassVar[str] = r"$\varepsilon$"
    mass_range: ClassVar[tuple[float, float]] = (1e-3, 2.0)
    default_channels: ClassVar[tuple[str, ...]] = ("ee", "mumu")
    decay_channels: ClassVar[tuple[str, ...]] = ("ee", "mumu", "pipi")
    n_prod: ClassVar[float] = 2.0  # production rates scale as eps^2
    n_width: ClassVar[float] = 2.0  # widths scale as eps^2

    def settings(self) -> dict:
        return {"model": self.name, "form_factor": self.form_factor, "production": list(self.production)}

    def total_width(self, m, eps):
        """Total width [GeV] (fipscan.models.dark_photon.total_width)."""
        return dp.total_width(m, eps)

    def branching_ratios(self, m) -> dict:
        """Branching ratios of the detectable final states (ee, mumu, pipi) and the inclusive ones."""
        brs = dict(dp.branching_ratios(m))
        if "pipi" not in brs:
            brs["pipi"] = jnp.zeros_like(jnp.asarray(m, float))
        return brs

    def production_branching_ratios(self, m, eps) -> dict:
        """Production branching ratios of the meson channels at coupling eps."""
        return {
            "pi0": md.br_pseudoscalar_to_gamma_aprime(m, eps, M_PI0, BR_PI0_GG),
            "eta": md.br_pseudoscalar_to_gamma_aprime(m, eps, M_ETA, BR_ETA_GG),
            "etap": md.br_pseudoscalar_to_gamma_aprime(m, eps, M_ETAP, BR_ETAP_GG),
            "omega": md.br_vector_to_pseudoscalar_aprime(m, eps, M_OMEGA, M_PI0, BR_OMEGA_PI0G),
        }

    def production_samplers(self, spectra, experiment) -> dict:
        """Callables m -> (p, theta, weight per POT at eps = 1) for each production channel."""
        e_beam = float(experiment.energy_gev)
        edges_p, edges_t = spectra.log10p_edges, spectra.log10theta_edges
        parents = {
            "pi0": ("pi0", M_PI0, 0.0, lambda m: md.br_pseudoscalar_to_gamma_aprime(m, 1.0, M_PI0, BR_PI0_GG)),
            "eta": ("eta", M_ETA, 0.0, lambda m: md.br_pseudoscalar_to_gamma_aprime(m, 1.0, M_ETA, BR_ETA_GG)),
            "etap": ("etap", M_ETAP, 0.0, lambda m: md.br_pseudoscalar_to_gamma_aprime(m, 1.0, M_ETAP, BR_ETAP_GG)),
            "omega": ("omega", M_OMEGA, M_PI0,
                      lambda m: md.br_vector_to_pseudoscalar_aprime(m, 1.0, M_OMEGA, M_PI0, BR_OMEGA_PI0G)),
        }
        out = {}
        for name in self.production:
            if name in parents:
                species, m_parent, m_comp, br = parents[name]
                out[name] = MesonSampler(spectra.histogram(species), edges_p, edges_t, m_parent, m_comp, br)
            elif name == "brems":
                ff = self.form_factor

                def brems(m, _ff=ff):
                    table = brems_pt_theta_table(m, edges_p, edges_t, e_beam=e_beam, form_factor=_ff, eps=1.0)
                    return grid_samples(edges_p, edges_t, table)

                out[name] = brems
            else:
                raise ValueError(f"unknown dark-photon production channel '{name}'")
        return out
