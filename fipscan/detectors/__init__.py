"""Detector kinds (the protocol is fipscan.detectors.base.Detector) and their registry.

``parse_detector(section)`` builds the detector of an experiment's ``[detector]`` table by its
``kind``.  Adding a kind: one file in this package, plus one line in ``KINDS``.
"""

from __future__ import annotations

from fipscan.detectors.base import Detector, SelectionCuts
from fipscan.detectors.calorimeter import Calorimeter
from fipscan.detectors.spectrometer import MagneticSpectrometer

__all__ = ["Detector", "SelectionCuts", "MagneticSpectrometer", "Calorimeter", "KINDS", "parse_detector"]

#: [detector] kind -> class
KINDS = {
    MagneticSpectrometer.kind: MagneticSpectrometer,
    Calorimeter.kind: Calorimeter,
}


def parse_detector(sec):
    """The detector of ``[detector]`` (a fipscan.experiments._reader.Section), validated; unknown keys refused."""
    kind = sec.string("kind", choices=tuple(KINDS))
    det = KINDS[kind].from_config(sec)
    sec.done()
    return det
