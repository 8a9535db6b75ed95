"""Meson and photon spectra at the proton dump: PYTHIA 8 generation, the HDF5 file, the shipped default.

>>> from fipscan.spectra import load_spectra
>>> s = load_spectra()                       # the file shipped with fipscan
>>> s.histogram("pi0").shape                 # (log10 p, log10 theta) bins, per POT
(74, 110)
>>> load_spectra("pp-70gev").provenance["settings"]["e_beam"]   # a shipped file by name
70.0

Generation needs the optional dependency ``pythia8mc`` (``pip install 'fipscan[pythia]'``); see
:func:`generate` for the physics and the normalisation, and ``SCHEMA.md`` for the file layout.
"""

from fipscan.spectra.core import SCHEMA_VERSION, Spectra, default_spectra_path, load_spectra
from fipscan.spectra.generation import GenerationSettings, generate
from fipscan.spectra.registry import SHIPPED, shipped_names, spectra_path
from fipscan.spectra.species import LOG10P_EDGES, LOG10THETA_EDGES, PDG_IDS, SPECIES

__all__ = [
    "SPECIES",
    "PDG_IDS",
    "LOG10P_EDGES",
    "LOG10THETA_EDGES",
    "SCHEMA_VERSION",
    "Spectra",
    "GenerationSettings",
    "default_spectra_path",
    "load_spectra",
    "generate",
    "SHIPPED",
    "shipped_names",
    "spectra_path",
]
