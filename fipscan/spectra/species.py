"""Species recorded in the meson spectra, their PDG ids, the binning, and which run fills them."""

from __future__ import annotations

import numpy as np

#: every species stored in a spectra file, in file order
SPECIES = (
    "pi0", "eta", "etap", "omega", "rho0", "phi", "kplus", "klong",
    "dplus", "d0", "ds", "bplus", "b0", "bs", "gamma",
)  # fmt: skip

#: species -> ``|PDG id|s`` counted for it; particle and antiparticle are summed (e.g. kplus = K+ and K-)
PDG_IDS: dict[str, list[int]] = {
    "pi0": [111],
    "eta": [221],
    "etap": [331],
    "omega": [223],
    "rho0": [113],
    "phi": [333],
    "kplus": [321],
    "klong": [130],
    "dplus": [411],
    "d0": [421],
    "ds": [431],
    "bplus": [521],
    "b0": [511],
    "bs": [531],
    "gamma": [22],
}

#: which PYTHIA run fills which species: light mesons and photons from the inelastic (soft) run,
#: charm only from the hard c c̄ run, beauty only from the hard b b̄ run (no double counting)
RUN_SPECIES: dict[str, tuple[str, ...]] = {
    "soft": ("pi0", "eta", "etap", "omega", "rho0", "phi", "kplus", "klong", "gamma"),
    "ccbar": ("dplus", "d0", "ds"),
    "bbbar": ("bplus", "b0", "bs"),
}
RUN_KINDS = tuple(RUN_SPECIES)
SPECIES_RUN = {sp: run for run, sps in RUN_SPECIES.items() for sp in sps}

#: log10(p / GeV) bin edges: 0.1 GeV to 501 GeV in steps of 0.05 dex (74 bins)
LOG10P_EDGES = np.linspace(-1.0, 2.7, 75)
#: log10(theta / rad) bin edges: 1e-5 rad to 3.16 rad (> pi, so no particle overflows in theta; 110 bins)
LOG10THETA_EDGES = np.linspace(-5.0, 0.5, 111)
for _edges in (LOG10P_EDGES, LOG10THETA_EDGES):
    _edges.setflags(write=False)
N_P = LOG10P_EDGES.size - 1
N_THETA = LOG10THETA_EDGES.size - 1

assert set(PDG_IDS) == set(SPECIES) == set(SPECIES_RUN)
