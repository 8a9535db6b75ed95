"""Proton bremsstrahlung of the BC4 dark scalar (fipscan.production.scalar_bremsstrahlung) and its
optional "brems" channel of the dark-scalar models."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan import constants as C
from fipscan.errors import ConfigError
from fipscan.models.dark_scalar import PRODUCTION_CHANNELS, DarkScalar
from fipscan.models.dark_scalar_bc5 import DarkScalarBC5
from fipscan.production import scalar_bremsstrahlung as sb
from fipscan.production.channels import Bremsstrahlung

E_BEAM = 400.0
_TOTAL = jax.jit(lambda m, s2: sb.scalar_brems_total(m, s2, E_BEAM))


def _closed_form(z, pt2, m, y2):
    """y^2/(16 pi^2) z [pT^2 + M^2 (2-z)^2] / H^2, H = pT^2 + (1-z) m^2 + z^2 M^2 (light-cone derivation,
    module docstring), in plain numpy."""
    M = C.M_P
    h = pt2 + (1.0 - z) * m * m + z * z * M * M
    return y2 / (16.0 * np.pi**2) * z * (pt2 + M * M * (2.0 - z) ** 2) / h**2


def test_splitting_function_against_closed_form():
    pts = np.array([(0.2, 0.05, 0.1), (0.5, 0.4, 0.8), (0.85, 0.9, 1.7)])
    z, pt2, m = pts.T
    got = np.asarray(jax.jit(sb.scalar_splitting_function)(z, pt2, m, 0.3))
    np.testing.assert_allclose(got, _closed_form(z, pt2, m, sb.G_SNN**2 * 0.3), rtol=1e-12)
    # the form written with H + (1-z)(4M^2 - m^2) (arXiv:2108.05900) is the same function
    M2, h = C.M_P**2, pt2 + (1 - z) * m * m + z * z * C.M_P**2
    alt = sb.G_SNN**2 * 0.3 / (8 * np.pi**2) * z / (2 * h) * (1 + (1 - z) * (4 * M2 - m * m) / h)
    np.testing.assert_allclose(got, alt, rtol=1e-12)
    # arXiv:1904.10447 App. D writes the prefactor 1/(8 pi^2): twice this one (module docstring)
    boiarska = sb.G_SNN**2 * 0.3 / (8 * np.pi**2) * z * (M2 * (2 - z) ** 2 + pt2) / h**2
    np.testing.assert_allclose(boiarska / got, 2.0, rtol=1e-12)


def test_collinear_massless_limit():
    # pT >> M, m: w_S -> y^2 z / (16 pi^2 pT^2); corrections O(M^2/pT^2) ~ 1e-6 at pT = 1 TeV
    z = jnp.array([0.1, 0.5, 0.9])
    pt2 = 1e6
    got = sb.scalar_splitting_function(z, pt2, 0.5, 1.0)
    ref = sb.G_SNN**2 * z / (16 * math.pi**2 * pt2)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-5)


def test_total_is_exactly_proportional_to_sin2theta():
    m = jnp.array([0.05, 0.5, 1.5])
    n1 = _TOTAL(m, 1.0)
    n2 = _TOTAL(m, 1e-7)
    np.testing.assert_allclose(np.asarray(n2 / n1), 1e-7, rtol=1e-12)
    assert bool(jnp.all(jnp.diff(n1) < 0))  # falls with the mass


def test_table_sums_to_total_over_the_support():
    lp = np.linspace(1.5, 2.7, 25)  # 31.6 .. 501 GeV covers p in [40, 360] GeV
    lt = np.linspace(-8.0, -1.0, 36)  # pT < 1 GeV and p_z > 40 GeV: theta < 0.025 rad
    lo, hi = sb.scalar_brems_p_support(E_BEAM)
    assert 10 ** lp[0] < lo and hi < 10 ** lp[-1]
    table = jax.jit(jax.vmap(lambda mass: sb.scalar_brems_pt_theta_table(mass, lp, lt, e_beam=E_BEAM, n_sub=6)))
    m = jnp.array([0.1, 1.0])
    tab = table(m)
    assert tab.shape == (2, 24, 35)
    assert bool(jnp.all(tab >= 0))
    # bins cut by z = 0.1, 0.9 and pT = 1 GeV converge as 1/n_sub: 1% at n_sub = 6
    np.testing.assert_allclose(np.asarray(tab.sum(axis=(1, 2))), np.asarray(_TOTAL(m, 1.0)), rtol=1e-2)


def test_float32_matches_float64():
    m64 = jnp.array([0.01, 0.3, 1.0, 3.0])
    n64 = _TOTAL(m64, 1.0)
    n32 = _TOTAL(m64.astype(jnp.float32), jnp.float32(1.0))
    assert n32.dtype == jnp.float32 and n64.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(n32, np.float64), np.asarray(n64), rtol=1e-4)


def test_finite_and_positive_on_the_mass_grid():
    m = jnp.geomspace(1e-3, 4.0, 40)
    n = _TOTAL(m, 1.0)
    assert bool(jnp.all(jnp.isfinite(n) & (n > 0)))
    grad = jax.jit(jax.vmap(jax.grad(lambda x: jnp.log(sb.scalar_brems_total(x, 1.0, E_BEAM, n_z=16,
                                                                              n_pt=16)))))(m)
    assert bool(jnp.all(jnp.isfinite(grad)))
    # size: g_SNN^2/(16 pi^2) x O(1-10) per unit sin^2 theta (~1e-8 at 0.1 GeV)
    assert 1e-9 < float(n[0]) < 1e-7


def test_channel_absent_by_default_and_present_when_selected():
    assert "brems" not in PRODUCTION_CHANNELS
    assert "brems" not in [c.name for c in DarkScalar().production()]
    model = DarkScalar(production_channels=("kplus->piplus", "brems"))
    chans = {c.name: c for c in model.production()}
    assert set(chans) == {"kplus->piplus", "brems"}
    brems = chans["brems"]
    assert isinstance(brems, Bremsstrahlung) and brems.rate_unit == "per proton interaction"
    assert float(brems.rate(0.5, 1e-6, E_BEAM)) == pytest.approx(1e-6 * float(_TOTAL(0.5, 1.0)), rel=1e-9)
    assert brems.p_support(E_BEAM) == sb.scalar_brems_p_support(E_BEAM)
    # the BC5 subclass accepts it too, and inclusive B production does not exclude it
    bc5 = DarkScalarBC5(production_channels=("brems",))
    assert [c.name for c in bc5.production()] == ["brems"]
    assert "brems" not in [c.name for c in DarkScalarBC5().production()]
    incl = DarkScalar(production_channels=("bplus->xs", "brems"), b_production="inclusive")
    assert [c.name for c in incl.production()] == ["bplus->xs", "brems"]
    with pytest.raises(ConfigError):
        DarkScalar(production_channels=("brems", "brems"))
