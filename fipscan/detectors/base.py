"""The detector protocol: what an experiment's detector offers the acceptance Monte Carlo.

A detector *kind* is a frozen dataclass with the numbers of its TOML table ``[detector]`` (parsed and
validated by ``from_config``) that turns itself into the pure-JAX geometry pytree of
fipscan.kernels.acceptance (``kernel_geometry``) and a final state's selection cuts into the kernel's
``Selection`` (``kernel_selection``).  The kernel does the rest (tracks, photons, cuts).

Adding a detector kind: one file in this package with the class, plus one line in
``fipscan.detectors.KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

__all__ = ["Detector", "SelectionCuts"]


@dataclass(frozen=True)
class SelectionCuts:
    """The event selection of one final state (from ``[selection.<final state>]``).

    detector: which detector the charged tracks must reach ("lkr" | "muv3" | "straws" for the
    magnetic spectrometer, "face" for a calorimeter); min_energy_gev: each charged daughter's energy;
    min_photon_energy_gev: each photon's energy; min_separation_m: between the impact points of every
    pair of visible particles on the calorimeter; min_radius_m: each impact point's distance from the
    beam axis.
    """

    detector: str
    min_energy_gev: float = 0.0
    min_photon_energy_gev: float = 0.0
    min_separation_m: float = 0.0
    min_radius_m: float = 0.0


@runtime_checkable
class Detector(Protocol):
    """A detector kind (see the module docstring).

    kind: the TOML ``[detector] kind`` value; track_detectors: the values ``[selection.X] detector``
    may take; ``kernel_geometry(production_z, production_y, decay_volume)`` -> the kernel geometry
    pytree for decays in ``decay_volume`` = (z_start, z_end) [m]; ``kernel_selection(final_state,
    cuts)`` -> the kernel Selection; ``z_limit(final_state)`` -> the last z [m] where a decay of that
    final state can still be seen; ``settings()`` -> plain-JSON numbers (cache keys).
    """

    kind: ClassVar[str]
    track_detectors: ClassVar[tuple[str, ...]]

    def kernel_geometry(self, production_z: float, production_y: float, decay_volume): ...

    def kernel_selection(self, final_state, cuts: SelectionCuts): ...

    def z_limit(self, final_state) -> float: ...

    def settings(self) -> dict: ...
