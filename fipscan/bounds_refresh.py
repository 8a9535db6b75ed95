"""Rebuild the shipped existing-bounds set (fipscan/data/bounds/<benchmark>/<name>.csv) from its sources.

::

    python -m fipscan.bounds_refresh --fetch      # download each source at its pinned commit (GitHub)
    python -m fipscan.bounds_refresh --raw DIR    # or read copies of the source files from DIR
                                                  # (named as the source file, e.g. NA64.txt)

Every shipped curve is one entry of :data:`MANIFEST`: where its numbers come from (repository, path,
commit of a public compilation), the publication and figure behind them, and what is done to them on the
way to fipscan's axes (``kind``: the source format; ``ev_to_gev``; ``ceiling``: close an open region along
the coupling the compilation fills up to; clipping to the model's mass range).  The script writes each
file with its header (fipscan.bounds describes the format) and checks it with fipscan.bounds.load_bounds
against its model.  Bump fipscan/data/bounds/VERSION when the set changes; never edit numbers by hand.
Run from a source checkout: it writes into the package's data folder.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "data" / "bounds"

DARKCAST = ("DarkCast (Ilten, Soreq, Williams, Xue, arXiv:1801.04847), GitHub mirror micha-a-schmidt/darkcast",
            "micha-a-schmidt/darkcast", "e276886575d40cb27c9e9258ced4835f0c82694b")
AXIONLIMITS = ("AxionLimits (C. O'Hare, https://cajohare.github.io/AxionLimits/)", "cajohare/AxionLimits",
               "0906ec62debfae4fe905ff128c190771270dcdfb")
#: DarkCast's dark_photon model couples with x_f = Q_f e, so its global coupling g_x is epsilon itself
DARKCAST_CONVERSION = ("none in value: DarkCast rows (mass [GeV], lower, upper) are on epsilon (its dark_photon "
                       "model has x_f = Q_f e, so the global coupling is epsilon); the closed polygon is the lower "
                       "edge by increasing mass then the upper edge back; repeated rows dropped")

MANIFEST = [
    dict(benchmark="BC1", model="dark-photon", name="charm", label="CHARM", source=DARKCAST,
         path="darkcast/limits/CHARM_Bergsma1985qz.lmt", kind="darkcast2",
         experiment="CHARM (CERN SPS, 400 GeV protons on copper; eta, eta' -> gamma A', A' -> e+e-)",
         publication="F. Bergsma et al. (CHARM), Phys. Lett. B 157 (1985) 458, doi:10.1016/0370-2693(85)90400-9",
         figure="fig. 5 of J. Bluemlein, J. Brunner, Phys. Lett. B 731 (2014) 320, arXiv:1311.3870 (solid grey "
                "curve 'CHARM'), as digitised by DarkCast (limits/CHARM_Bergsma1985qz.py notes)",
         y="epsilon", y_unit="1", conversion=DARKCAST_CONVERSION),
    dict(benchmark="BC1", model="dark-photon", name="nucal", label="NuCal", source=DARKCAST,
         path="darkcast/limits/NuCAL_Blumlein1991xh.lmt", kind="darkcast2",
         experiment="nu-Cal I (IHEP U70, 70 GeV protons on iron; proton bremsstrahlung, A' -> e+e-)",
         publication="J. Bluemlein et al., Int. J. Mod. Phys. A 7 (1992) 3835, doi:10.1142/S0217751X9200171X",
         figure="fig. 5 of J. Bluemlein, J. Brunner, Phys. Lett. B 731 (2014) 320, arXiv:1311.3870 (solid red "
                "curve 'nu-Cal I (p-Bremsstrahlung)'), as digitised by DarkCast (limits/NuCAL_Blumlein1991xh.py)",
         y="epsilon", y_unit="1", conversion=DARKCAST_CONVERSION),
    dict(benchmark="BC1", model="dark-photon", name="e137", label="E137", source=DARKCAST,
         path="darkcast/limits/E137_Bjorken1988as.lmt", kind="darkcast2",
         experiment="SLAC E137 (20 GeV electron beam dump; electron bremsstrahlung, A' -> e+e-)",
         publication="J. D. Bjorken et al., Phys. Rev. D 38 (1988) 3375, doi:10.1103/PhysRevD.38.3375",
         figure="fig. 2 of S. Andreas, C. Niebuhr, A. Ringwald, Phys. Rev. D 86 (2012) 095019, arXiv:1209.6083 "
                "(red dashed curve 'E137'), as digitised by DarkCast (limits/E137_Bjorken1988as.py)",
         y="epsilon", y_unit="1", conversion=DARKCAST_CONVERSION),
    dict(benchmark="BC1", model="dark-photon", name="e141", label="E141", source=DARKCAST,
         path="darkcast/limits/E141_Riordan1987aw.lmt", kind="darkcast2",
         experiment="SLAC E141 (9 GeV electron beam dump; electron bremsstrahlung, A' -> e+e-)",
         publication="E. M. Riordan et al., Phys. Rev. Lett. 59 (1987) 755, doi:10.1103/PhysRevLett.59.755",
         figure="fig. 2 of S. Andreas, C. Niebuhr, A. Ringwald, Phys. Rev. D 86 (2012) 095019, arXiv:1209.6083 "
                "(purple dotted curve 'E141'), as digitised by DarkCast (limits/E141_Riordan1987aw.py)",
         y="epsilon", y_unit="1", conversion=DARKCAST_CONVERSION),
    dict(benchmark="BC9", model="alp-photon", name="na64", label="NA64", source=AXIONLIMITS,
         path="limit_data/AxionPhoton/NA64.txt", kind="xy", ev_to_gev=True, ceiling=1.0, mass_range=(1e-3, 2.0),
         experiment="NA64 (CERN SPS H4, 100 GeV electrons on an active dump; Primakoff production, a -> gamma gamma)",
         publication="D. Banerjee et al. (NA64), Phys. Rev. Lett. 125 (2020) 081801, arXiv:2005.02710 (the "
                     "compilation file names only 'NA64'; identified by its mass reach, below 55 MeV)",
         figure="not named by the compilation (its digitisation of the NA64 exclusion)",
         y="g_agammagamma", y_unit="GeV^-1",
         conversion="mass eV -> GeV (x 1e-9); the source region is open upwards and filled by AxionLimits up to "
                    "g = 1 GeV^-1: closed here along g = 1 GeV^-1 (the compilation's plot ceiling, not a bound); "
                    "clipped in log space to fipscan's alp-photon mass range 0.001-2 GeV (the source starts at "
                    "1e-20 eV)"),
    dict(benchmark="BC9", model="alp-photon", name="beam-dumps", label="beam dumps", source=AXIONLIMITS,
         path="limit_data/AxionPhoton/BeamDump.txt", kind="xy", ev_to_gev=True, ceiling=None, mass_range=(1e-3, 2.0),
         experiment="electron and proton beam dumps, combined by the compilation (file label 'Beam dump (LEP etc.)')",
         publication="not named by the compilation (a union of beam-dump bounds on g_agammagamma; the individual "
                     "searches are not listed in the source file, its README or PlotFuncs.py BeamDump())",
         figure="not named by the compilation",
         y="g_agammagamma", y_unit="GeV^-1",
         conversion="mass eV -> GeV (x 1e-9); the source rows are a closed outline (from ~1 GeV^-1 at 9 eV down "
                    "and back up to ~1 GeV^-1 at 1.8 MeV); clipped in log space to fipscan's alp-photon mass range "
                    "0.001-2 GeV (the source starts at 9 eV)"),
]


def _rows(text: str) -> list[list[float]]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append([float(x) for x in line.replace(",", " ").split()])
    return out


def _dedupe(points):
    out = []
    for p in points:
        if not out or p != out[-1]:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _clip(points, lo, hi):
    """Sutherland-Hodgman clipping of a closed polygon to lo <= mass <= hi, in (log m, log g)."""
    def clip(poly, inside, cross):
        out = []
        for i, cur in enumerate(poly):
            prev = poly[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at(x0):
        def cross(p, q):
            t = (x0 - p[0]) / (q[0] - p[0])
            return (x0, p[1] + t * (q[1] - p[1]))
        return cross

    poly = [(math.log(m), math.log(g)) for m, g in points]
    a, b = math.log(lo), math.log(hi)
    poly = clip(poly, lambda p: p[0] >= a, at(a))
    poly = clip(poly, lambda p: p[0] <= b, at(b)) if poly else poly
    return [(math.exp(x), math.exp(y)) for x, y in poly]


def polygon(entry: dict, text: str) -> list[tuple[float, float]]:
    rows = _rows(text)
    if entry["kind"] == "darkcast2":
        lower = [(r[0], r[1]) for r in rows]
        upper = [(r[0], r[2]) for r in rows]
        pts = _dedupe(lower + upper[::-1])
    elif entry["kind"] == "xy":
        scale = 1e-9 if entry.get("ev_to_gev") else 1.0
        pts = [(r[0] * scale, r[1]) for r in rows]
        if entry.get("ceiling") is not None:
            top = entry["ceiling"]
            if pts[-1][1] != top:
                pts.append((pts[-1][0], top))
            pts.append((pts[0][0], top))
        pts = _dedupe(pts)
    else:
        raise ValueError(f"unknown kind {entry['kind']}")
    if "mass_range" in entry:
        pts = _dedupe(_clip(pts, *entry["mass_range"]))
    return pts


def write(entry: dict, text: str, read: str) -> Path:
    label, repo, commit = entry["source"]
    pts = polygon(entry, text)
    header = {
        "format": "fipscan-bounds 1", "benchmark": entry["benchmark"], "model": entry["model"],
        "label": entry["label"], "experiment": entry["experiment"], "publication": entry["publication"],
        "figure": entry["figure"], "compilation": f"{label}: {repo} {entry['path']} @ {commit}",
        "x": "mass", "x_unit": "GeV", "y": entry["y"], "y_unit": entry["y_unit"], "region": "closed",
        "conversion": entry["conversion"], "read": read,
    }
    lines = [f"# {k}: {v}" for k, v in header.items()]
    lines.append("mass_gev,coupling")
    lines += [f"{m:.10g},{g:.10g}" for m, g in pts]
    path = OUT / entry["benchmark"] / f"{entry['name']}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--fetch", action="store_true", help="download the sources at their pinned commits")
    src.add_argument("--raw", type=Path, help="folder with copies of the source files")
    parser.add_argument("--read", default=datetime.date.today().isoformat(), help="the date the sources were read")
    args = parser.parse_args(argv)
    from fipscan.bounds import load_bounds

    for entry in MANIFEST:
        _, repo, commit = entry["source"]
        if args.fetch:
            url = f"https://raw.githubusercontent.com/{repo}/{commit}/{entry['path']}"
            with urllib.request.urlopen(url, timeout=30) as fh:
                text = fh.read().decode("utf-8")
        else:
            text = (args.raw / Path(entry["path"]).name).read_text()
        path = write(entry, text, args.read)
        curve = load_bounds(path, entry["model"])
        print(f"{path.relative_to(REPO)}: {curve.masses.size} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
