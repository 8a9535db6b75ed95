"""A calorimeter face without a magnet (the detector kind ``calorimeter``): CHARM- and NuCal-like
detectors, or NA62's LKr seen on its own.

TOML (metres along the beam from the target)::

    [detector]
    kind = "calorimeter"
    z_face = 480.0          # the calorimeter's front face
    x_centre = 5.0          # centre of the face (an off-axis detector has x_centre != 0)
    y_centre = 0.0
    half_width_x = 1.5
    half_width_y = 1.5
    r_min = 0.0             # a hole around the beam axis (0: none)

Every visible daughter (charged particles and photons, straight lines) must hit the face inside the
rectangle and outside the hole, with the energies and the pairwise separation of its final state's
``[selection.X]`` (``detector = "face"``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from fipscan.detectors.base import SelectionCuts
from fipscan.errors import ConfigError

__all__ = ["Calorimeter"]


@dataclass(frozen=True)
class Calorimeter:
    """The numbers of ``[detector]`` (module docstring); metres."""

    z_face: float
    x_centre: float
    y_centre: float
    half_width_x: float
    half_width_y: float
    r_min: float = 0.0

    kind: ClassVar[str] = "calorimeter"
    track_detectors: ClassVar[tuple[str, ...]] = ("face",)

    @classmethod
    def from_config(cls, sec) -> "Calorimeter":
        det = cls(
            z_face=sec.number("z_face", positive=True), x_centre=sec.number("x_centre", 0.0),
            y_centre=sec.number("y_centre", 0.0), half_width_x=sec.number("half_width_x", positive=True),
            half_width_y=sec.number("half_width_y", positive=True), r_min=sec.number("r_min", 0.0, nonnegative=True),
        )
        far = ((abs(det.x_centre) + det.half_width_x) ** 2 + (abs(det.y_centre) + det.half_width_y) ** 2) ** 0.5
        if det.r_min >= far:
            raise sec.error("r_min", f"= {det.r_min} covers the whole face (its farthest point is {far:.4g} m from "
                                     "the beam axis)")
        return det

    def kernel_geometry(self, production_z: float, production_y: float, decay_volume):
        """fipscan.kernels.acceptance.CalorimeterGeometry (decay_volume is not part of it)."""
        from fipscan.kernels.acceptance import CalorimeterGeometry

        return CalorimeterGeometry(
            z_prod=float(production_z), y_prod=float(production_y), z_face=self.z_face,
            x_centre=self.x_centre, y_centre=self.y_centre, half_width_x=self.half_width_x,
            half_width_y=self.half_width_y, r_min=self.r_min,
        )

    def kernel_selection(self, final_state, cuts: SelectionCuts):
        from fipscan.kernels.acceptance import Selection

        if cuts.detector not in self.track_detectors:
            raise ConfigError(f"selection.{final_state.name}.detector must be 'face' for a calorimeter, "
                              f"not {cuts.detector!r}")
        return Selection(
            m_daughter=float(final_state.daughters[0].mass), min_energy=cuts.min_energy_gev,
            min_separation=cuts.min_separation_m, min_radius=cuts.min_radius_m, detector="lkr",
            min_photon_energy=cuts.min_photon_energy_gev,
        )

    def z_limit(self, final_state) -> float:
        return self.z_face

    def settings(self) -> dict:
        return {"kind": self.kind, **{k: float(v) for k, v in asdict(self).items()}}
