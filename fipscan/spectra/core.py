"""The :class:`Spectra` container and its HDF5 file format (see ``SCHEMA.md`` next to this file)."""

from __future__ import annotations

import importlib.resources
import json
import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import h5py
import numpy as np

from fipscan import cache
from fipscan.errors import CacheError, ConfigError
from fipscan.spectra.species import N_P, N_THETA, SPECIES, SPECIES_RUN

#: version of the HDF5 layout written by :func:`write_spectra`; bump on any incompatible change
SCHEMA_VERSION = 1
#: cache kind (and the ``kind`` attribute of every spectra file)
KIND = "spectra"
_GZIP = {"compression": "gzip", "compression_opts": 6, "shuffle": True}


class FrozenMap(dict):
    """A read-only dict (picklable and JSON-serialisable, unlike ``types.MappingProxyType``)."""

    def _read_only(self, *args, **kwargs):
        raise TypeError("Spectra mappings are read-only")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"


def _frozen(mapping: Mapping) -> Mapping:
    return FrozenMap(mapping)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Spectra:
    """Meson (and photon) spectra per proton on target, binned in (log10 p, log10 θ).

    ``hist[s][i, j]`` is the number of particles of species ``s`` per POT with
    ``log10(p/GeV)`` in ``[log10p_edges[i], log10p_edges[i+1])`` and ``log10(θ/rad)`` in
    ``[log10theta_edges[j], log10theta_edges[j+1])``; θ is the polar angle to the beam (z) axis
    and p the lab momentum.  Particles outside the grid are in ``underflow`` (p or θ below the
    range) and ``overflow`` (above it), so for every species
    ``hist[s].sum() + underflow[s] + overflow[s] == per_pot[s]``.

    ``per_pp_collision`` is the multiplicity per primary collision (per inelastic pp collision;
    per p–Cu collision for Angantyr light-meson spectra) without the dump's A-scaling or cascade
    factors; ``counts`` are the raw Monte-Carlo counts behind ``hist`` (for statistical tests),
    ``n_events`` the events of each run (``soft``, ``ccbar``, ``bbbar``).  See ``SCHEMA.md``.
    """

    log10p_edges: np.ndarray
    log10theta_edges: np.ndarray
    hist: Mapping[str, np.ndarray]
    underflow: Mapping[str, float]
    overflow: Mapping[str, float]
    per_pot: Mapping[str, float]
    per_pp_collision: Mapping[str, float]
    sigma_mb: Mapping[str, float]
    provenance: Mapping
    counts: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    n_events: Mapping[str, int] = field(default_factory=dict)

    @property
    def species(self) -> tuple[str, ...]:
        """The species present, in the canonical order of :data:`SPECIES`."""
        return tuple(s for s in SPECIES if s in self.hist)

    def _check(self, species: str) -> None:
        if species not in self.hist:
            known = ", ".join(self.species)
            raise ConfigError(f"unknown species {species!r}; known species: {known}")

    def histogram(self, species: str) -> np.ndarray:
        """The (74, 110) per-POT histogram of ``species``; :class:`ConfigError` naming the known ones."""
        self._check(species)
        return self.hist[species]

    def raw_counts(self, species: str) -> np.ndarray:
        """The (74, 110) raw Monte-Carlo counts behind :meth:`histogram`."""
        self._check(species)
        return self.counts[species]

    def with_cascade_enhancement(self) -> "Spectra":
        """These spectra with their charm (beauty) per POT multiplied by the file's ``cascade_ccbar``
        (``cascade_bbbar``) -- heavy flavour made by the secondary hadrons of the shower in a thick dump, not
        only by the primary proton.  The factors are those of the spectra settings (defaults 2.3 and 1.7, the
        cascade enhancement of a thick target from the SHiP simulation, H. Dijkstra and T. Ruf,
        CERN-SHiP-NOTE-2015-009, as used in the field, e.g. SHiP physics case arXiv:1504.04855).  Spectra
        generated with ``cascade_enhancement`` already are returned unchanged; the result's settings say
        ``cascade_enhancement = True`` (with ``cascade_applied_at = "experiment"``), so its provenance and the
        yield-table cache keys (which hash the histograms) differ from the file's."""
        prov = dict(self.provenance or {})
        settings = dict(prov.get("settings", {}) or {})
        if settings.get("cascade_enhancement"):
            return self
        factor = {"ccbar": float(settings.get("cascade_ccbar", 2.3)), "bbbar": float(settings.get("cascade_bbbar", 1.7))}

        def scaled(mapping, array=False):
            out = {}
            for sp, v in mapping.items():
                f = factor.get(SPECIES_RUN.get(sp, "soft"), 1.0)
                out[sp] = _readonly(np.asarray(v) * f) if array else float(v) * f
            return _frozen(out)

        settings.update(cascade_enhancement=True, cascade_applied_at="experiment")
        prov["settings"] = _frozen(settings)
        return replace(self, hist=scaled(self.hist, True), underflow=scaled(self.underflow),
                       overflow=scaled(self.overflow), per_pot=scaled(self.per_pot), provenance=prov)

    @property
    def log10p_centers(self) -> np.ndarray:
        return 0.5 * (self.log10p_edges[1:] + self.log10p_edges[:-1])

    @property
    def log10theta_centers(self) -> np.ndarray:
        return 0.5 * (self.log10theta_edges[1:] + self.log10theta_edges[:-1])


# ------------------------------------------------------------------------------------ file I/O
def write_spectra(f: h5py.File, s: Spectra) -> None:
    """Fill an open, writable HDF5 file with ``s`` (layout of ``SCHEMA.md``).

    The attributes ``kind``, ``schema_version`` and ``checksum`` are added by
    :func:`fipscan.cache.atomic_write_h5`, which every writer goes through.
    """
    f.create_dataset("edges/log10p", data=np.asarray(s.log10p_edges, dtype="f8"))
    f.create_dataset("edges/log10theta", data=np.asarray(s.log10theta_edges, dtype="f8"))
    names = list(s.species)
    f.create_dataset("species", data=np.array(names, dtype=h5py.string_dtype()))
    for sp in names:
        f.create_dataset(f"hist/{sp}", data=np.asarray(s.hist[sp], dtype="f8"), **_GZIP)
        if sp in s.counts:
            f.create_dataset(f"counts/{sp}", data=np.asarray(s.counts[sp], dtype="i8"), **_GZIP)
    for group in ("underflow", "overflow", "per_pot", "per_pp_collision"):
        values = getattr(s, group)
        f.create_dataset(group, data=np.array([float(values[sp]) for sp in names], dtype="f8"))
    for name, value in s.sigma_mb.items():
        f.create_dataset(f"sigma_mb/{name}", data=float(value))
    for name, value in s.n_events.items():
        f.create_dataset(f"n_events/{name}", data=int(value))
    f.attrs["provenance"] = json.dumps(dict(s.provenance), sort_keys=True)
    f.attrs["units"] = "p in GeV, theta in rad (to the beam axis), hist in particles per POT per bin"


def default_spectra_path() -> pathlib.Path:
    """Path of the spectra file shipped with fipscan (``fipscan/spectra/data/default_spectra.h5``)."""
    return pathlib.Path(str(importlib.resources.files("fipscan.spectra") / "data" / "default_spectra.h5"))


def load_spectra(path: str | os.PathLike | None = None) -> Spectra:
    """Read a spectra file (default: the shipped one) after checking its schema and checksum.

    ``path`` may also be the name of a shipped file (``"pp-70gev"``, ``"default"``; see
    :mod:`fipscan.spectra.registry`): a shipped file missing from the installation is a
    :class:`~fipscan.errors.ConfigError` naming the command that makes it.  Raises
    :class:`~fipscan.errors.CacheError` naming the problem when the file is missing, truncated, corrupt,
    of another kind or of another schema version.
    """
    from fipscan.spectra.registry import shipped_entry, spectra_path

    if isinstance(path, str) and shipped_entry(path) is not None:
        path = spectra_path(path, where="the argument")
    path = default_spectra_path() if path is None else pathlib.Path(path)
    if not path.exists():
        hint = (
            "the shipped default spectra file is missing from the installation; reinstall fipscan "
            "or run 'fipscan spectra generate -o FILE'"
            if path == default_spectra_path()
            else "run 'fipscan spectra generate -o FILE' to make one"
        )
        raise CacheError(f"spectra file {path} does not exist; {hint}")
    cache.verify_h5(path, kind=KIND, schema_version=SCHEMA_VERSION)
    try:
        with h5py.File(path, "r") as f:
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["species"][()]]
            hist = {sp: _readonly(f[f"hist/{sp}"][()]) for sp in names}
            counts = {}
            for sp in names:
                if f"counts/{sp}" in f:
                    c = np.array(f[f"counts/{sp}"][()], dtype=np.int64)
                    c.setflags(write=False)
                    counts[sp] = c
            vec = {g: dict(zip(names, (float(v) for v in f[g][()]))) for g in
                   ("underflow", "overflow", "per_pot", "per_pp_collision")}  # fmt: skip
            sigma = {k: float(f[f"sigma_mb/{k}"][()]) for k in f["sigma_mb"]} if "sigma_mb" in f else {}
            n_events = {k: int(f[f"n_events/{k}"][()]) for k in f["n_events"]} if "n_events" in f else {}
            prov = json.loads(cache._as_str(f.attrs["provenance"]))
            for a in ("checksum", "fipscan_version", "created", "schema_version"):
                v = f.attrs[a]
                prov.setdefault("file", {})[a] = int(v) if a == "schema_version" else cache._as_str(v)
            prov["checksum"] = cache._as_str(f.attrs["checksum"])
            p_edges = _readonly(f["edges/log10p"][()])
            t_edges = _readonly(f["edges/log10theta"][()])
    except (KeyError, ValueError, json.JSONDecodeError) as exc:
        raise CacheError(f"bad spectra file: {path} lacks expected content ({exc}); regenerate it") from exc
    for sp, h in hist.items():
        if h.shape != (N_P, N_THETA) or h.shape != (p_edges.size - 1, t_edges.size - 1):
            raise CacheError(f"bad spectra file: {path} has hist/{sp} of shape {h.shape}, expected {(N_P, N_THETA)}")
    return Spectra(
        log10p_edges=p_edges,
        log10theta_edges=t_edges,
        hist=_frozen(hist),
        underflow=_frozen(vec["underflow"]),
        overflow=_frozen(vec["overflow"]),
        per_pot=_frozen(vec["per_pot"]),
        per_pp_collision=_frozen(vec["per_pp_collision"]),
        sigma_mb=_frozen(sigma),
        provenance=_frozen(prov),
        counts=_frozen(counts),
        n_events=_frozen(n_events),
    )
