"""Conformance of every registered model (and the toy spin-0 model) with fipscan.models.base.Model."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.errors import ConfigError
from fipscan.final_states import FINAL_STATES
from fipscan.models import get_model, list_models, parse_model_options
from fipscan.models.base import Model, check_model
from fipscan.production.channels import MesonDecay, channel_power

MODELS = [*list_models(), "fipscan.testing:ToyScalar"]


@pytest.mark.parametrize("name", MODELS)
def test_model_conforms(name):
    model = get_model(name)
    assert isinstance(model, Model)
    assert check_model(model) == []
    lo, hi = model.mass_range
    m = jnp.geomspace(lo, hi, 57)
    brs = model.branching_ratios(m)
    assert set(brs) <= set(FINAL_STATES), "branching-ratio keys must be registered final-state names"
    total = sum(np.asarray(v) for v in brs.values())
    np.testing.assert_allclose(total, 1.0, rtol=1e-10)
    for v in brs.values():
        assert np.all(np.asarray(v) >= 0)
    # every partial width scales as g^width_power: the total width too
    w1, w2 = model.total_width(m, 1e-4), model.total_width(m, 2e-4)
    np.testing.assert_allclose(np.asarray(w2) / np.asarray(w1), 2.0 ** model.coupling.width_power, rtol=1e-10)
    for ch in model.production():  # each channel scales with its own power (default: the model's)
        r1 = float(ch.rate(jnp.asarray(lo * 1.5), 1e-3, 400.0))
        r2 = float(ch.rate(jnp.asarray(lo * 1.5), 2e-3, 400.0))
        if r1 > 0:
            assert r2 / r1 == pytest.approx(2.0 ** channel_power(ch, model.coupling.production_power), rel=1e-9)
    assert isinstance(model.settings(), dict) and model.settings()["model"] == model.name


def test_dark_photon_meson_channels_named_by_species():
    names = [c.name for c in get_model("dark-photon").production()]
    assert names == ["pi0->gamma", "eta->gamma", "etap->gamma", "omega->pi0", "brems"]
    eta = next(c for c in get_model("dark-photon").production() if c.name == "eta->gamma")
    assert isinstance(eta, MesonDecay) and eta.threshold() == pytest.approx(0.547862)
    # BR(eta -> gamma A') = 2 eps^2 (1 - m^2/m_eta^2)^3 BR(eta -> gamma gamma): 2.70186e-7 at m = 0.3, eps = 1e-3
    assert float(eta.rate(jnp.asarray(0.3), 1e-3)) == pytest.approx(2.70186e-7, rel=1e-5)


def test_model_options_parse_and_refuse():
    assert parse_model_options("dark-photon", ["form_factor=false"]) == {"form_factor": False}
    opts = parse_model_options("dark-photon", ["production_channels=pi0->gamma,brems"])
    assert get_model("dark-photon", **opts).production_channels == ("pi0->gamma", "brems")
    for bad, word in ((["form_factor=maybe"], "true or false"), (["nonsense=1"], "no such option"),
                      (["form_factor"], "KEY=VALUE"), (["form_factor=1", "form_factor=0"], "twice")):
        with pytest.raises(ConfigError, match=word):
            parse_model_options("dark-photon", bad)
    with pytest.raises(ConfigError, match="production_channels"):
        get_model("dark-photon", production_channels=("pi0->gamma", "rho->pi"))
    with pytest.raises(ConfigError, match="unknown model 'axion'"):
        get_model("axion")


def test_toy_scalar_is_spin_zero_and_photon_width_closed_form():
    toy = get_model("fipscan.testing:ToyScalar")
    assert toy.spin == 0
    # Gamma = g^2 m^3 / (64 pi): 4.97359e-16 GeV at g = 1e-5 GeV^-1, m = 0.1 GeV (the BC9 closed form)
    assert float(toy.total_width(0.1, 1e-5)) == pytest.approx(4.97359e-16, rel=1e-5)
    assert math.isclose(float(toy.branching_ratios(0.1)["gammagamma"]), 0.7)


_USER_MODELS = '''
import dataclasses
from typing import ClassVar
import jax.numpy as jnp
from fipscan.testing import ToyScalar


@dataclasses.dataclass(frozen=True)
class NoSpin:
    name: ClassVar[str] = "no-spin"
    label: ClassVar[str] = "no spin"


@dataclasses.dataclass(frozen=True)
class TypoBR(ToyScalar):
    def branching_ratios(self, m):
        return {"e+e-": jnp.ones_like(jnp.asarray(m, float))}


@dataclasses.dataclass(frozen=True)
class BrokenBR(ToyScalar):
    def branching_ratios(self, m):
        raise RuntimeError("table file not found")
'''


@pytest.mark.parametrize("cls, words", [
    ("NoSpin", ["missing attribute benchmark"]),
    ("TypoBR", ["e+e-", "not registered final states"]),
    ("BrokenBR", ["branching_ratios() raised RuntimeError", "table file not found"]),
    ("collections:OrderedDict", ["missing attribute name"]),
])
def test_a_user_model_class_that_breaks_the_protocol_is_refused_in_one_line(cls, words, tmp_path, monkeypatch,
                                                                             capsys):
    """--model module:Class: a class that does not follow the protocol is named with what is wrong, exit 2
    before any work (was an AttributeError traceback from deep inside the yield tables)."""
    from fipscan.cli.main import main

    (tmp_path / "usermodels.py").write_text(_USER_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    name = cls if ":" in cls else f"usermodels:{cls}"
    with pytest.raises(ConfigError) as exc:
        get_model(name)
    for w in words:
        assert w in str(exc.value)
    assert main(["info", "--model", name, "--mass", "0.1", "--coupling", "1e-5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words[0] in err[0]
