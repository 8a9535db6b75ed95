"""NA62-like magnetic spectrometer: straw chambers around a dipole, an electromagnetic calorimeter and a
muon detector (the detector kind ``magnetic-spectrometer``).

TOML (lengths in metres along the beam from the target, momenta in GeV)::

    [detector]
    kind = "magnetic-spectrometer"
    [detector.straw1]  z, r_min, r_max      # first straw chamber, before the magnet
    [detector.straw4]  z, r_min, r_max      # last straw chamber, after the magnet (same annulus)
    [detector.magnet]  z_start, z_end, field_t, pt_kick_gev
    [detector.lkr]     z, half_width, octagon_sum, r_min
    [detector.muv3]    z, half_width, r_min

The dipole is a thin horizontal kick at its centre; ``pt_kick_gev`` must equal 0.2998 B L (PDG RPP,
"Passage of particles through matter": p_T = 0.3 B[T] L[m] GeV) to 2%, which checks that field and
length belong together.  Geometry of NA62: JINST 12 (2017) P05025, as used in ALPINIST
(arXiv:2201.05170).  Charged tracks must cross STRAW1 and STRAW4 inside the annulus and then reach
the LKr ("lkr"), MUV3 ("muv3") or nothing more ("straws"); photons must reach the LKr.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from fipscan.detectors.base import SelectionCuts
from fipscan.errors import ConfigError

__all__ = ["MagneticSpectrometer"]

_C_KICK = 0.299792458  # GeV / (T m)


@dataclass(frozen=True)
class MagneticSpectrometer:
    """The numbers of ``[detector]`` (module docstring); metres, GeV, tesla."""

    straw1_z: float
    straw4_z: float
    straw_r_min: float
    straw_r_max: float
    magnet_z_start: float
    magnet_z_end: float
    field_t: float
    pt_kick_gev: float
    lkr_z: float
    lkr_half_width: float
    lkr_octagon_sum: float
    lkr_r_min: float
    muv3_z: float
    muv3_half_width: float
    muv3_r_min: float

    kind: ClassVar[str] = "magnetic-spectrometer"
    track_detectors: ClassVar[tuple[str, ...]] = ("lkr", "muv3", "straws")

    @classmethod
    def from_config(cls, sec) -> "MagneticSpectrometer":
        """Parse and check ``[detector]`` (a fipscan.experiments._reader.Section)."""
        s1, s4 = sec.section("straw1"), sec.section("straw4")
        mag, lkr, muv3 = sec.section("magnet"), sec.section("lkr"), sec.section("muv3")
        r = {}
        for s in (s1, s4):
            r[s.path] = (s.number("z", positive=True), s.number("r_min", nonnegative=True),
                         s.number("r_max", positive=True))
            if not r[s.path][1] < r[s.path][2]:
                raise s.error("r_min", f"= {r[s.path][1]} must be below r_max = {r[s.path][2]}")
        (z1, rmin1, rmax1), (z4, rmin4, rmax4) = r[s1.path], r[s4.path]
        if (rmin1, rmax1) != (rmin4, rmax4):
            raise s4.error("r_min", "and r_max must equal those of straw1 (one straw annulus is modelled)")
        det = cls(
            straw1_z=z1, straw4_z=z4, straw_r_min=rmin1, straw_r_max=rmax1,
            magnet_z_start=mag.number("z_start", positive=True), magnet_z_end=mag.number("z_end", positive=True),
            field_t=mag.number("field_t", positive=True), pt_kick_gev=mag.number("pt_kick_gev", positive=True),
            lkr_z=lkr.number("z", positive=True), lkr_half_width=lkr.number("half_width", positive=True),
            lkr_octagon_sum=lkr.number("octagon_sum", positive=True), lkr_r_min=lkr.number("r_min", nonnegative=True),
            muv3_z=muv3.number("z", positive=True), muv3_half_width=muv3.number("half_width", positive=True),
            muv3_r_min=muv3.number("r_min", nonnegative=True),
        )
        for s in (s1, s4, mag, lkr, muv3):
            s.done()
        if not z1 < det.magnet_z_start <= det.magnet_z_end < z4:
            raise mag.error("z_start", f"and z_end must lie between straw1.z = {z1} and straw4.z = {z4}")
        if not z4 < det.lkr_z < det.muv3_z:
            raise lkr.error("z", f"must lie between straw4.z = {z4} and muv3.z = {det.muv3_z}")
        kick = _C_KICK * det.field_t * (det.magnet_z_end - det.magnet_z_start)
        if abs(kick - det.pt_kick_gev) > 0.02 * det.pt_kick_gev:
            raise mag.error("pt_kick_gev", f"= {det.pt_kick_gev} disagrees with 0.2998 B L = {kick:.4f} GeV "
                                           "(field_t and the magnet length)")
        if det.lkr_r_min >= det.lkr_half_width:
            raise lkr.error("r_min", f"= {det.lkr_r_min} leaves no calorimeter inside half_width")
        if not det.lkr_half_width <= det.lkr_octagon_sum <= 2 * det.lkr_half_width:
            raise lkr.error("octagon_sum", f"= {det.lkr_octagon_sum} must lie between half_width and 2 x half_width "
                                           f"({det.lkr_half_width} .. {2 * det.lkr_half_width}: |x| + |y| cuts the corners)")
        if det.muv3_r_min >= det.muv3_half_width:
            raise muv3.error("r_min", f"= {det.muv3_r_min} leaves no muon detector inside half_width")
        return det

    def kernel_geometry(self, production_z: float, production_y: float, decay_volume):
        """fipscan.kernels.acceptance.Geometry for decays in ``decay_volume`` = (z_start, z_end) [m]."""
        from fipscan.kernels.acceptance import Geometry

        return Geometry(
            z_prod=float(production_z), y_prod=float(production_y),
            z_dv_start=float(decay_volume[0]), z_dv_end=float(decay_volume[1]),
            z_straw1=self.straw1_z, z_straw4=self.straw4_z, straw_r_min=self.straw_r_min,
            straw_r_max=self.straw_r_max, z_magnet=0.5 * (self.magnet_z_start + self.magnet_z_end),
            pt_kick=self.pt_kick_gev, z_lkr=self.lkr_z, lkr_half_width=self.lkr_half_width,
            lkr_octagon_sum=self.lkr_octagon_sum, lkr_r_min=self.lkr_r_min, z_muv3=self.muv3_z,
            muv3_half_width=self.muv3_half_width, muv3_r_min=self.muv3_r_min,
        )

    def kernel_selection(self, final_state, cuts: SelectionCuts):
        """fipscan.kernels.acceptance.Selection of ``final_state`` with ``cuts``."""
        from fipscan.kernels.acceptance import Selection

        if cuts.detector not in self.track_detectors:
            raise ConfigError(f"selection.{final_state.name}.detector must be one of "
                              f"{', '.join(self.track_detectors)}, not {cuts.detector!r}")
        return Selection(
            m_daughter=float(final_state.daughters[0].mass), min_energy=cuts.min_energy_gev,
            min_separation=cuts.min_separation_m, min_radius=cuts.min_radius_m, detector=cuts.detector,
            min_photon_energy=cuts.min_photon_energy_gev,
        )

    def z_limit(self, final_state) -> float:
        """Decays must happen before STRAW1 (charged final states) or the LKr (all-neutral ones)."""
        return self.straw1_z if final_state.n_charged else self.lkr_z

    def settings(self) -> dict:
        return {"kind": self.kind, **{k: float(v) for k, v in asdict(self).items()}}
