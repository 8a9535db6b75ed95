"""Final states: the one registry of what a FIP decays into and what a detector sees of it.

A final state is named once here; model branching ratios, experiment TOML tables (``[selection.NAME]``,
``[efficiency]``, ``[backgrounds.NAME]``), yield tables and plot labels all use these names and no
others.  Each entry lists its daughters (PDG name, mass, charge, spin from the ``particle`` package,
i.e. the PDG Review of Particle Physics), which of them the detector sees (a pi0 or eta is seen as its
two photons, ``photons_from``), a LaTeX label and the decay-volume class that applies ("charged" when
at least one charged track is reconstructed, "neutral" for all-photon final states, which NA62 accepts
up to the LKr).

Final states that a model's width contains but no detector model reconstructs (``detectable=False``:
K_S K_L, the multi-hadron remainder, three photons) are registered too, so that branching ratios sum
to one in registry names; scanning them is refused with a message.

Adding a final state: one ``_register(...)`` line below.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fipscan.errors import InputError

__all__ = ["Daughter", "FinalState", "get_final_state", "list_final_states", "FINAL_STATES",
           "parse_final_states"]


@dataclass(frozen=True)
class Daughter:
    """One decay product: PDG name, mass [GeV], charge [e], spin [hbar], and whether the detector sees it
    through its two-photon decay (pi0, eta: ``two_photon_br`` is that BR, PDG)."""

    name: str
    mass: float
    charge: int
    spin: float
    two_photon_br: float = 0.0

    @property
    def seen_as_photons(self) -> bool:
        return self.two_photon_br > 0.0


@dataclass(frozen=True)
class FinalState:
    """A registered final state (see the module docstring).

    name: the registry key; daughters: the decay products; label: LaTeX (without $); volume: "charged"
    or "neutral"; detectable: whether fipscan's detector kinds reconstruct it.
    """

    name: str
    daughters: tuple[Daughter, ...]
    label: str
    volume: str
    detectable: bool = True

    @property
    def n_body(self) -> int:
        return len(self.daughters)

    @property
    def masses(self) -> tuple[float, ...]:
        """Daughter masses [GeV]."""
        return tuple(d.mass for d in self.daughters)

    @property
    def charges(self) -> tuple[int, ...]:
        return tuple(d.charge for d in self.daughters)

    @property
    def threshold(self) -> float:
        """Sum of the daughter masses [GeV]: the FIP mass below which the decay is closed."""
        return float(sum(self.masses))

    @property
    def all_scalar_daughters(self) -> bool:
        """True when every daughter has spin 0 (the vector -> two scalars angular distribution applies)."""
        return all(d.spin == 0 for d in self.daughters)

    @property
    def n_charged(self) -> int:
        return sum(1 for d in self.daughters if d.charge != 0)

    @property
    def n_photons(self) -> int:
        """Photons reaching the detector: direct photons plus two per pi0/eta."""
        return sum(2 if d.seen_as_photons else (1 if d.name == "gamma" else 0) for d in self.daughters)

    @property
    def visible_br(self) -> float:
        """Product of the two-photon BRs of the pi0/eta daughters (PDG): the fraction of decays in which
        the detector sees the final state as registered (1 for final states without pi0/eta)."""
        out = 1.0
        for d in self.daughters:
            if d.seen_as_photons:
                out *= d.two_photon_br
        return out


#: PDG Monte Carlo numbers of the daughters used below: a lookup by number is a dict access, a search by
#: name scans the whole table (~0.2 s a name, seconds at import); names not listed are searched
_PDG_ID = {"e-": 11, "e+": -11, "mu-": 13, "mu+": -13, "tau-": 15, "tau+": -15, "gamma": 22, "pi0": 111,
           "pi+": 211, "pi-": -211, "K+": 321, "K-": -321, "eta": 221, "K(S)0": 310, "K(L)0": 130}


@functools.lru_cache(maxsize=None)
def _pdg(name: str) -> tuple[float, int, float]:
    """(mass [GeV], charge, spin) of a particle by PDG name, from the ``particle`` package."""
    from particle import Particle

    if name in _PDG_ID:
        p = Particle.from_pdgid(_PDG_ID[name])
        if p.name != name:  # pragma: no cover - the table above is checked by tests/test_final_states.py
            raise KeyError(name)
    else:
        found = Particle.findall(name=name)
        if len(found) != 1:
            raise KeyError(name)
        p = found[0]
    return (float(p.mass or 0.0) / 1000.0, int(p.charge), float(p.J))


def _two_photon_br() -> dict:
    """BR(pi0 -> gamma gamma), BR(eta -> gamma gamma) of the photon-decaying daughters (fipscan.constants, PDG)."""
    from fipscan import constants as C

    return {"pi0": C.BR_PI0_GG, "eta": C.BR_ETA_GG}


def _d(name: str) -> Daughter:
    mass, charge, spin = _pdg(name)
    return Daughter(name, mass, charge, spin, _two_photon_br().get(name, 0.0))


FINAL_STATES: dict[str, FinalState] = {}


def _register(name, daughters, label, volume=None, detectable=True):
    ds = tuple(_d(n) for n in daughters)
    if volume is None:
        volume = "charged" if any(d.charge for d in ds) else "neutral"
    FINAL_STATES[name] = FinalState(name, ds, label, volume, detectable)


_register("ee", ("e+", "e-"), r"e^+e^-")
_register("mumu", ("mu+", "mu-"), r"\mu^+\mu^-")
_register("pipi", ("pi+", "pi-"), r"\pi^+\pi^-")
_register("kk", ("K+", "K-"), r"K^+K^-")
_register("gammagamma", ("gamma", "gamma"), r"\gamma\gamma")
_register("pipipi0", ("pi+", "pi-", "pi0"), r"\pi^+\pi^-\pi^0")
_register("pipigamma", ("pi+", "pi-", "gamma"), r"\pi^+\pi^-\gamma")
_register("pipipi0pi0", ("pi+", "pi-", "pi0", "pi0"), r"\pi^+\pi^-\pi^0\pi^0")
_register("pipipipi", ("pi+", "pi-", "pi+", "pi-"), r"2\pi^+2\pi^-")
_register("pipieta", ("pi+", "pi-", "eta"), r"\pi^+\pi^-\eta")
_register("kkpi0", ("K+", "K-", "pi0"), r"K^+K^-\pi^0")
_register("pi0gamma", ("pi0", "gamma"), r"\pi^0\gamma")
_register("etagamma", ("eta", "gamma"), r"\eta\gamma")
_register("pi0pi0", ("pi0", "pi0"), r"\pi^0\pi^0")
_register("pi0pi0pi0", ("pi0", "pi0", "pi0"), r"3\pi^0")
_register("pi0pi0eta", ("pi0", "pi0", "eta"), r"\pi^0\pi^0\eta")  # ALP-gluon (BC11) eta pi0 pi0
# registered so that branching ratios sum to one in registry names; not reconstructed
_register("kskl", ("K(S)0", "K(L)0"), r"K_SK_L", volume="charged", detectable=False)
_register("gammagammagamma", ("gamma", "gamma", "gamma"), r"3\gamma", detectable=False)
_register("k0kpi", ("K(S)0", "K+", "pi-"), r"K^0K\pi", volume="charged", detectable=False)
_register("other", (), r"\mathrm{other\ hadrons}", volume="charged", detectable=False)
_register("tautau", ("tau+", "tau-"), r"\tau^+\tau^-", detectable=False)  # no tau selection anywhere


def list_final_states(detectable_only: bool = False) -> list[str]:
    """Registered final-state names (registry order)."""
    return [n for n, fs in FINAL_STATES.items() if fs.detectable or not detectable_only]


def get_final_state(name) -> FinalState:
    """The registered :class:`FinalState` ``name`` (a FinalState is returned as it is); InputError naming
    the known ones otherwise."""
    if isinstance(name, FinalState):
        return name
    try:
        return FINAL_STATES[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown final state {name!r} (known: {', '.join(FINAL_STATES)})") from None


def parse_final_states(text, *, allowed=None, what="--channels") -> tuple[str, ...]:
    """A comma-separated list of final-state names -> tuple, refusing empty, unknown and repeated names.

    ``allowed``: the names acceptable here (e.g. those the model and the experiment both have); "all"
    expands to them.  InputError (one line naming ``what``) on any problem.
    """
    if text is None:
        raise InputError(f"{what} is empty; give final states such as ee,mumu (or 'all')")
    items = [t.strip() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise InputError(f"{what} has an empty entry: {text!r}; give final states such as ee,mumu (or 'all')")
    if items == ["all"]:
        if not allowed:
            raise InputError(f"{what} all: no final state is available here")
        return tuple(allowed)
    seen = set()
    for t in items:
        get_final_state(t)
        if t in seen:
            raise InputError(f"{what} names final state {t!r} twice")
        seen.add(t)
        if allowed is not None and t not in allowed:
            raise InputError(f"{what}: final state {t!r} is not available here (available: {', '.join(allowed)})")
    return tuple(items)
