"""Physical constants and PDG particle properties used across fipscan.

All masses and widths in GeV, lengths in metres. Values are stored as literal Python floats (so
importing this module is instant and they stay weakly typed: a float32 computation stays float32).

Sources
-------
* Shared reference numbers of the project (the values the tests reproduce): alpha, hbar*c, G_F, v,
  m_e, m_mu, m_pi0, m_eta, m_eta', BR(pi0/eta/eta' -> gamma gamma), BR(omega -> pi0 gamma).
* Everything else: Review of Particle Physics (PDG 2024, R.L. Workman et al. and S. Navas et al.,
  Phys. Rev. D 110 (2024) 030001), read at development time with the ``particle`` package (v1.1)
  and the PDG summary tables; copied here as literals.
"""

from __future__ import annotations

import math

# --- fundamental constants -------------------------------------------------------------------
ALPHA = 1.0 / 137.035999  # fine-structure constant at q^2 = 0 (shared reference; CODATA)
HBARC = 1.973270e-16  # hbar*c [GeV m] (shared reference)
HBAR = 6.582119569e-25  # hbar [GeV s] (CODATA 2018)
C_LIGHT = 299792458.0  # speed of light [m/s]
G_F = 1.1663788e-5  # Fermi constant [GeV^-2] (shared reference; PDG)
V_HIGGS = 246.2196  # Higgs vacuum expectation value (sqrt(2) G_F)^(-1/2) [GeV] (shared reference)
PI = math.pi

# --- leptons [GeV] ---------------------------------------------------------------------------
M_E = 0.51099895e-3  # electron (shared reference; PDG 0.51099895069 MeV)
M_MU = 0.1056583755  # muon (shared reference; PDG)
M_TAU = 1.77693  # tau (PDG 1776.93 +- 0.09 MeV)

# --- light pseudoscalars [GeV] ---------------------------------------------------------------
M_PI0 = 0.1349768  # pi0 (PDG 134.9768 +- 0.0005 MeV)
M_PI = 0.13957039  # pi+- (PDG 139.57039 +- 0.00018 MeV)
M_K = 0.493677  # K+- (PDG 493.677 +- 0.015 MeV)
M_K0 = 0.497611  # K0 (PDG 497.611 +- 0.013 MeV)
M_ETA = 0.547862  # eta (PDG 547.862 +- 0.017 MeV)
GAMMA_ETA = 1.31e-6  # eta total width (PDG 1.31 +- 0.05 keV)
M_ETAP = 0.95778  # eta'(958) (PDG 957.78 +- 0.06 MeV)
GAMMA_ETAP = 1.88e-4  # eta' total width (PDG 0.188 +- 0.006 MeV)

# --- light vectors [GeV] ---------------------------------------------------------------------
M_RHO = 0.77526  # rho(770)0 (PDG 775.26 +- 0.23 MeV)
GAMMA_RHO = 0.1474  # rho(770) width (PDG 147.4 +- 0.8 MeV)
M_OMEGA = 0.78266  # omega(782) (PDG 782.66 +- 0.13 MeV)
GAMMA_OMEGA = 0.00868  # omega width (PDG 8.68 +- 0.13 MeV)
M_PHI = 1.019461  # phi(1020) (PDG 1019.461 +- 0.016 MeV)
GAMMA_PHI = 0.004249  # phi width (PDG 4.249 +- 0.013 MeV)

# --- baryons [GeV] ---------------------------------------------------------------------------
M_P = 0.93827208943  # proton (PDG)
M_N = 0.9395654205  # neutron (PDG)

# --- branching fractions (PDG 2024 unless stated) --------------------------------------------
BR_PI0_GG = 0.98823  # pi0 -> gamma gamma (shared reference; PDG 98.823 +- 0.034 %)
BR_ETA_GG = 0.3936  # eta -> gamma gamma (shared reference; PDG 39.36 +- 0.18 %)
BR_ETAP_GG = 0.02307  # eta' -> gamma gamma (shared reference; PDG 2.307 +- 0.040 %)
BR_OMEGA_PI0G = 0.084  # omega -> pi0 gamma (shared reference; PDG 8.33 +- 0.25 % in 2024)

BR_OMEGA_EE = 7.38e-5  # omega -> e+e- (PDG 7.38 +- 0.22 e-5)
BR_OMEGA_3PI = 0.892  # omega -> pi+ pi- pi0 (PDG 89.2 +- 0.7 %)
BR_OMEGA_PIPI = 0.0153  # omega -> pi+ pi- (PDG 1.53 +0.11 -0.13 %)

BR_PHI_EE = 2.979e-4  # phi -> e+e- (PDG 2.979 +- 0.033 e-4)
BR_PHI_KPKM = 0.491  # phi -> K+ K- (PDG 49.1 +- 0.5 %)
BR_PHI_KSKL = 0.339  # phi -> K_L K_S (PDG 33.9 +- 0.4 %)
BR_PHI_3PI = 0.1524  # phi -> rho pi + pi+ pi- pi0 (PDG 15.24 +- 0.33 %)
BR_PHI_ETAG = 0.01303  # phi -> eta gamma (PDG 1.303 +- 0.025 %)
BR_PHI_PI0G = 1.32e-3  # phi -> pi0 gamma (PDG 1.32 +- 0.06 e-3)

BR_RHO_EE = 4.72e-5  # rho0 -> e+e- (PDG 4.72 +- 0.05 e-5)

__all__ = [name for name in dir() if name.isupper()]
