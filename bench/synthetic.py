"""Synthetic yield tables of realistic shape, for benchmarks and tests before (or besides) ``precompute``.

The shapes and scales follow fipscan.yields.precompute for the dark photon at NA62 in beam-dump
mode: Nb = 80 momentum bins of 0.033 dex from 1 to 440 GeV, Nz = 32 equal decay cells between
79.355 m and 158.93 m from the target, and an inverse decay length at unit coupling
s1 = m Gamma_1 / (p hbar c) (PDG kinematics: lambda = beta gamma c tau, as kernels.decay) with
Gamma_1 = alpha m / 3, the e+e- width of a dark photon at eps = 1 for m >> m_e
(Gamma(A' -> l l) = alpha eps^2 m / 3 (1 + 2 r) sqrt(1 - 4 r), r = m_l^2/m^2; e.g. Bjorken, Essig,
Schuster, Toro, arXiv:0906.0580).  Weights are random
positive numbers with the first cells left empty, as in a real acceptance table.
"""

from __future__ import annotations

import numpy as np

ALPHA = 1 / 137.035999
HBARC_GEV_M = 1.973270e-16
#: NA62 beam-dump decay-volume cells [m] from the production point (shared reference geometry)
A_EDGES = np.linspace(79.355, 158.93, 33)
P_BIN_EDGES = np.linspace(0.0, 2.64, 81)  # log10(p / GeV)


def synthetic_tables(n_masses, seed=0, m_lo=0.01, m_hi=1.0, n_cells=32, dtype=np.float64):
    """(masses, weights (Nm, 80, Nz), log_s1 (Nm, 80), a_edges (Nz + 1,)) as numpy arrays."""
    rng = np.random.default_rng(seed)
    masses = np.geomspace(m_lo, m_hi, n_masses)
    p = 10.0 ** (0.5 * (P_BIN_EDGES[1:] + P_BIN_EDGES[:-1]))
    nb = p.size
    spectrum = np.exp(-p / 40.0)[None, :, None]  # falling momentum spectrum
    weights = rng.uniform(0.0, 1.0, (n_masses, nb, n_cells)) * spectrum * 1e-6
    weights[:, :, :2] = 0.0  # empty first cells
    width1 = ALPHA * masses / 3.0
    log_s1 = np.log(masses[:, None] * width1[:, None] / (p[None, :] * HBARC_GEV_M))
    a_edges = np.linspace(A_EDGES[0], A_EDGES[-1], n_cells + 1)
    return (masses.astype(dtype), weights.astype(dtype), log_s1.astype(dtype), a_edges.astype(dtype))
