"""The meson-mixing production kind (fipscan.production.channels.MesonMixing and its MixingSampler)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan import constants as C
from fipscan.experiments import load_experiment
from fipscan.production.channels import MesonMixing, ProductionChannel
from fipscan.production.samples import MixingSampler, histogram_samples
from fipscan.production.sources import mixing_rate, sources


def _toy_mixing(m, g):
    # a Breit-Wigner-like |theta|^2 peaked at the pi0 mass, times g^2 (the machinery is tested, not a model)
    d = m * m - C.M_PI0**2
    return g * g * 1e-2 * C.M_PI0**4 / (d * d + (1e-3) ** 2)


@pytest.fixture(scope="module")
def spectra():
    return load_experiment("na62-bd").load_spectra()


def test_declaration():
    ch = MesonMixing("pi0", C.M_PI0, _toy_mixing)
    assert isinstance(ch, ProductionChannel) and ch.name == "mixing(pi0)" and ch.rate_unit == "per POT"


def test_samples_take_the_meson_momentum_and_rate(spectra):
    ch = MesonMixing("eta", C.M_ETA, _toy_mixing)
    s = sources((ch,), spectra, 400.0)[ch.name]
    assert isinstance(s, MixingSampler)
    hist = np.asarray(spectra.histogram("eta"), dtype=float)
    for m in (0.01, 0.3, 1.5):
        p, theta, w = s(m)
        # every non-empty parent bin is one sample at its centre, weighted by |theta|^2 at unit coupling
        assert p.shape == (np.count_nonzero(hist),)
        np.testing.assert_allclose(float(jnp.sum(w)), hist.sum() * _toy_mixing(m, 1.0), rtol=1e-10)
        lp = 0.5 * (np.asarray(spectra.log10p_edges)[1:] + np.asarray(spectra.log10p_edges)[:-1])
        assert set(np.round(np.log10(np.asarray(p)), 9)) <= set(np.round(lp, 9))  # the meson's momenta
        # the rate: all parents x |theta|^2, exactly proportional to g^2
        r1, r2 = float(mixing_rate(ch, m, 1e-3, 400.0, spectra)), float(mixing_rate(ch, m, 2e-3, 400.0, spectra))
        assert r1 == pytest.approx(hist.sum() * _toy_mixing(m, 1e-3), rel=1e-12)
        assert r2 / r1 == pytest.approx(4.0, rel=1e-12)


def test_binned_equals_histogram_of_samples_and_float32(spectra):
    ch = MesonMixing("pi0", C.M_PI0, _toy_mixing)
    s = sources((ch,), spectra, 400.0)[ch.name]
    pe, te = np.linspace(0.0, 2.64, 23), np.linspace(-5.0, -1.8, 9)
    data = s.binned_data(te)
    masses = jnp.asarray([0.01, C.M_PI0, 0.5])
    H, wp = jax.jit(jax.vmap(lambda m: s.binned(data, m, pe, te)))(masses)
    for k, m in enumerate(masses):
        Hd, wpd = histogram_samples(*s(m), jnp.asarray(pe), jnp.asarray(te))
        np.testing.assert_allclose(np.asarray(H[k]), np.asarray(Hd), rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.asarray(wp[k]), np.asarray(wpd), rtol=1e-12, atol=0)
    assert np.all(np.isfinite(np.asarray(H))) and float(jnp.sum(H[1])) > float(jnp.sum(H[0]))  # the resonance
    data32 = s.binned_data(te, jnp.float32)
    H32, _ = jax.jit(lambda m: s.binned(data32, m, pe, te))(jnp.float32(0.5))
    assert H32.dtype == jnp.float32
    np.testing.assert_allclose(float(jnp.sum(H32)), float(jnp.sum(H[2])), rtol=1e-5)
