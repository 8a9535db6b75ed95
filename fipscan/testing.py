"""Synthetic fixtures and brute-force references for tests, benchmarks and notebooks.

Nothing here is physics: the tables have realistic shapes and scales and known structure, so that
code which consumes yield tables (file formats, contour finders, kernels) can be checked quickly
without building acceptance tables or spectra.  Each section is independent.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cli_json", "run_cli", "random_yield_tables", "toy_tables", "toml_variant", "registered_command_settings"]


def toml_variant(source, directory, old: str, new: str, name: str = "variant.toml"):
    """A copy of the text file ``source`` in ``directory`` (as ``name``) with the first ``old`` replaced by
    ``new``: an edited experiment TOML for the tests of malformed or changed inputs.  AssertionError
    when ``source`` does not contain ``old`` (so a test never checks an unchanged copy)."""
    from pathlib import Path

    text = Path(source).read_text()
    assert old in text, old
    path = Path(directory) / name
    path.write_text(text.replace(old, new, 1))
    return path


def registered_command_settings(entry, spectra):
    """The generation settings that ``fipscan spectra generate`` parses from the registered command of a
    shipped spectra file (``entry``: fipscan.spectra.registry), without generating anything: the
    generator is replaced by one that returns ``spectra`` for the duration of the call.  A test compares
    them with the settings recorded in the file, i.e. checks that the file is what its command makes."""
    import fipscan.spectra
    from fipscan.cli.main import main

    parsed = {}

    def keep(settings, **kwargs):
        parsed["settings"] = settings
        return spectra

    real = fipscan.spectra.generate
    fipscan.spectra.generate = keep
    try:
        code = main(["spectra", *entry.command().split()[2:-2], "-q"])  # without "-o PATH"
    finally:
        fipscan.spectra.generate = real
    assert code == 0, f"'{entry.command()}' exited with {code}"
    return parsed["settings"]


# ----------------------------------------------------------------------------------------------------
# random yield tables (file formats, round trips)
# ----------------------------------------------------------------------------------------------------
#: fine-structure constant and hbar c [GeV m], only for the scale of the synthetic decay lengths
_ALPHA = 1 / 137.035999
_HBARC_GEV_M = 1.973269804e-16


def run_cli(*args, cwd=None):
    """The ``fipscan`` entry point (fipscan.cli.main.main) in this process, in folder ``cwd``: a
    subprocess.CompletedProcess with its exit code, stdout and stderr (an uncaught exception propagates)."""
    import contextlib
    import io
    import os
    import subprocess

    from fipscan.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def cli_json(*args, timeout: float = 300.0):
    """Run ``fipscan ARGS --json`` in a fresh process (the installed CLI, as a user would) and return
    its parsed JSON output; AssertionError with the stderr when it exits non-zero."""
    import json
    import os
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "fipscan.cli.main", *map(str, args), "--json"],
                         capture_output=True, text=True, env=dict(os.environ), timeout=timeout)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def random_yield_tables(n_masses: int = 5, n_p: int = 8, n_z: int = 6, *,
                        production: tuple[str, ...] = ("meson", "brems"), channels: tuple[str, ...] = ("ee", "mumu"),
                        seed: int = 0, dtype=None):
    """YieldTables with random positive weights split over ``production`` channels (weights = their
    sum, as ``fipscan.yields.precompute`` builds them), a falling momentum spectrum, empty first
    decay cells, NA62-like cells (79.355 to 158.93 m) and s1 = m Gamma_1 / (p hbar c) with
    Gamma_1 = alpha m / 3 (the leptonic width of a dark photon at unit coupling, m >> m_lepton).

    Different ``seed`` give different tables; the same seed gives identical ones.
    """
    import jax.numpy as jnp

    from fipscan.yields import YieldTables

    dtype = jnp.float64 if dtype is None else dtype
    rng = np.random.default_rng(seed)
    masses = np.geomspace(0.01, 1.0, n_masses)
    p = np.geomspace(2.0, 400.0, n_p)
    per_channel = {}
    for name in production:
        w = rng.uniform(0.0, 1e-6, (n_masses, n_p, n_z)) * np.exp(-p / 40.0)[None, :, None]
        w[:, :, :1] = 0.0
        per_channel[name] = jnp.asarray(w, dtype)
    log_s1 = np.log(masses[:, None] * (_ALPHA * masses[:, None] / 3.0) / (p[None, :] * _HBARC_GEV_M))
    return YieldTables(masses=jnp.asarray(masses, dtype), weights=sum(per_channel.values()),
                       log_s1=jnp.asarray(log_s1, dtype), a_edges=jnp.asarray(np.linspace(79.355, 158.93, n_z + 1), dtype),
                       per_channel=per_channel, channels=tuple(channels), n_prod=2.0, n_width=2.0)


# ----------------------------------------------------------------------------------------------------
# BC1-like toy tables (contour finders, decay-volume design; moved from fipscan.contour)
# ----------------------------------------------------------------------------------------------------
def toy_tables(masses=None, *, n_p=80, n_z=32, mass_factor=None, acceptance_rise=20.0, dtype=None):
    """Synthetic BC1-like yield tables of realistic shape (tests, examples; not physics results).

    W(m, p, k) = F(m) f(p) A(p, z_k): F(m) = 1e-3 exp(-(m / 0.35 GeV)^2) FIPs per POT at unit coupling,
    f(p) ~ (p/30) exp(-p/30 GeV) on 80 log bins of 1-440 GeV, acceptance A = (1 - exp(-p/15 GeV))
    (1 - 0.9 exp(-(a_k - a_0)/acceptance_rise)) (rising downstream to a plateau, a_k the cell
    centres); log s1 = log(m Gamma_1 / (p hbar c)) with
    Gamma_1 = alpha m / 3 (the e+e- width of a dark photon at unit coupling far above threshold,
    PBC arXiv:1901.09966); decay cells a = 79.355 ... 158.93 m from the production point (NA62 decay
    volume from the TAX).  ``mass_factor(m)`` multiplies F(m) (dips make a region split in two, bumps
    islands).  With N_POT = 1e18 and N_limit = 2.3 this gives the classic beam-dump shape: lower edge
    ~3e-7, upper edge ~1e-4 at 10 MeV, a tip near 0.6 GeV.
    """
    import jax
    import jax.numpy as jnp

    from fipscan.kernels.decay import HBARC_GEV_M
    from fipscan.yields import YieldTables

    dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    m = np.geomspace(0.01, 2.0, 60) if masses is None else np.asarray(masses, float)
    log10p = np.linspace(0.0, 2.64, n_p + 1)
    p = 10 ** (0.5 * (log10p[1:] + log10p[:-1]))
    dp = np.diff(10 ** log10p)
    a_edges = np.linspace(79.355, 158.93, n_z + 1)
    zc = 0.5 * (a_edges[1:] + a_edges[:-1])
    acc = (1 - np.exp(-p / 15.0))[:, None] * (1 - 0.9 * np.exp(-(zc - a_edges[0]) / acceptance_rise))[None, :]
    fp = (p / 30.0) * np.exp(-p / 30.0) * dp
    fp = fp / fp.sum()
    Fm = 1e-3 * np.exp(-(m / 0.35) ** 2)
    if mass_factor is not None:
        Fm = Fm * np.asarray([mass_factor(mi) for mi in m], float)
    W = Fm[:, None, None] * fp[None, :, None] * acc[None]
    alpha = 1 / 137.035999
    log_s1 = np.log(m[:, None] * (alpha * m[:, None] / 3.0) / (p[None, :] * HBARC_GEV_M))
    W = jnp.asarray(W, dtype)
    return YieldTables(masses=jnp.asarray(m, dtype), weights=W, log_s1=jnp.asarray(log_s1, dtype),
                       a_edges=jnp.asarray(a_edges, dtype), per_channel={"toy": W}, channels=("ee",))


# ----------------------------------------------------------------------------------------------------
# a toy spin-0 model (the extension points end to end: a model outside the registry, a photon final
# state, a calorimeter experiment; used as --model fipscan.testing:ToyScalar)
# ----------------------------------------------------------------------------------------------------
def _toy_scalar_class():
    from dataclasses import dataclass
    from typing import ClassVar

    import jax.numpy as jnp

    from fipscan import constants as C
    from fipscan.models.base import Coupling
    from fipscan.production.channels import MesonDecay

    def br_meson(m_p):
        # BR(P -> gamma X) = 2 g^2 (1 - m^2/m_P^2)^3: the dark-photon form (arXiv:0906.5614) reused as a toy
        def br(m, g):
            x = 1.0 - (jnp.asarray(m) / m_p) ** 2
            return jnp.where(x > 0, 2.0 * jnp.asarray(g) ** 2 * jnp.where(x > 0, x, 0.0) ** 3, 0.0)
        return br

    @dataclass(frozen=True)
    class ToyScalar:
        """A toy spin-0 FIP (not a benchmark, and not physical: a spin-0 meson cannot decay to a photon and
        a spin-0 particle): made in pi0/eta -> gamma X with BR = 2 g^2 (1 - m^2/m_P^2)^3,
        decaying to gamma gamma (BR 0.7) and e+e- (0.3) with Gamma = g^2 m^3 / (64 pi) (the BC9 form,
        g in GeV^-1).  ``photon_fraction`` changes the gamma gamma BR."""

        photon_fraction: float = 0.7

        name: ClassVar[str] = "toy-scalar"
        benchmark: ClassVar[str] = "toy"
        label: ClassVar[str] = "toy scalar"
        coupling: ClassVar[Coupling] = Coupling("g_toy", r"$g_\mathrm{toy}$", 2.0, 2.0, "GeV^-1")
        spin: ClassVar[int] = 0
        mass_range: ClassVar[tuple[float, float]] = (2e-3, 0.5)
        default_final_states: ClassVar[tuple[str, ...]] = ("gammagamma",)

        def settings(self) -> dict:
            return {"model": self.name, "photon_fraction": float(self.photon_fraction)}

        def total_width(self, m, g):
            m, g = jnp.asarray(m), jnp.asarray(g)
            return g * g * m**3 / (64.0 * jnp.pi)

        def branching_ratios(self, m) -> dict:
            one = jnp.ones_like(jnp.asarray(m, float))
            f = float(self.photon_fraction)
            return {"gammagamma": f * one, "ee": (1.0 - f) * one}

        def production(self) -> tuple:
            return (MesonDecay("pi0", "gamma", C.M_PI0, 0.0, br_meson(C.M_PI0)),
                    MesonDecay("eta", "gamma", C.M_ETA, 0.0, br_meson(C.M_ETA)))

    return ToyScalar


def __getattr__(name):
    if name == "ToyScalar":  # built on first use: importing fipscan.testing stays free of JAX
        cls = _toy_scalar_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'fipscan.testing' has no attribute '{name}'")
