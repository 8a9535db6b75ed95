"""The final-state registry: names, daughters from PDG, parsing of --channels."""

import pytest

from fipscan.errors import InputError
from fipscan.final_states import FINAL_STATES, get_final_state, list_final_states, parse_final_states

#: the final states the core-seams issue requires at least
REQUIRED = ("ee", "mumu", "pipi", "kk", "gammagamma", "pipipi0", "pipigamma", "pipipi0pi0", "pipipipi",
            "pipieta", "kkpi0", "pi0gamma")


def test_required_final_states_registered_and_detectable():
    for name in REQUIRED:
        fs = get_final_state(name)
        assert fs.detectable and fs.name == name and fs.label
    assert set(REQUIRED) <= set(list_final_states(detectable_only=True))


def test_daughters_from_pdg():
    # PDG 2024 masses (GeV) as the particle package gives them
    assert get_final_state("mumu").masses == pytest.approx((0.1056583755,) * 2, rel=1e-9)
    assert get_final_state("kk").threshold == pytest.approx(2 * 0.493677, rel=1e-6)
    fs = get_final_state("pipipi0pi0")
    assert fs.charges == (1, -1, 0, 0) and fs.n_photons == 4 and fs.n_charged == 2
    assert fs.visible_br == pytest.approx(0.98823**2, rel=1e-12)  # both pi0 -> gamma gamma
    assert get_final_state("pipieta").visible_br == pytest.approx(0.3936)
    assert get_final_state("ee").visible_br == 1.0


def test_volume_class_and_spins():
    assert get_final_state("gammagamma").volume == "neutral"
    assert get_final_state("pi0gamma").volume == "neutral"
    for name in ("ee", "mumu", "pipi", "pipigamma", "kkpi0"):
        assert get_final_state(name).volume == "charged"
    assert get_final_state("pipi").all_scalar_daughters
    assert not get_final_state("ee").all_scalar_daughters
    assert {d.spin for d in get_final_state("ee").daughters} == {0.5}


def test_parse_final_states_refuses_empty_unknown_repeated_unavailable():
    allowed = ("ee", "mumu")
    assert parse_final_states("ee,mumu", allowed=allowed) == ("ee", "mumu")
    assert parse_final_states(" mumu ", allowed=allowed) == ("mumu",)
    assert parse_final_states("all", allowed=allowed) == allowed
    for bad, word in (("", "empty"), ("ee,,mumu", "empty"), ("MUMU", "unknown"), ("mumu,mumu", "twice"),
                      ("pipi", "not available")):
        with pytest.raises(InputError, match=word):
            parse_final_states(bad, allowed=allowed)
    with pytest.raises(InputError, match="empty"):
        parse_final_states(None)


def test_unknown_final_state_names_the_known_ones():
    with pytest.raises(InputError, match="nunu.*known: ee, mumu"):
        get_final_state("nunu")
    assert "other" in FINAL_STATES and not FINAL_STATES["other"].detectable
