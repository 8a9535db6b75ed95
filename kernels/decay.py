"""Decay-in-volume probabilities in stable forms.

A particle of mass m, momentum p and total width Gamma has the lab decay length
lambda = (p/m) * hbar c / Gamma (PDG Review of Particle Physics, "Kinematics", eq. 49.xx: L = beta gamma c tau).
We never divide by lambda: the kernels take the inverse decay length s = 1/lambda = m Gamma / (p hbar c)
[1/m], which is finite (and tends to zero) as the coupling goes to zero.

The probability to decay between path lengths a and b (a <= b) along the flight line is::

    P = exp(-s a) - exp(-s b) = exp(-s a) * (-expm1(-s (b - a))),

and the second form is used everywhere: the plain difference cancels to exactly zero in the
long-lived regime (s b << 1), which is where the lower edge of every exclusion contour lies.
"""

from __future__ import annotations

import jax.numpy as jnp

from .numerics import log1mexp, safe_log

#: hbar c in GeV m (CODATA 2018), also in the shared reference table
HBARC_GEV_M = 1.973270e-16


def inverse_decay_length(m, p, width):
    """s = 1/lambda = m Gamma / (p hbar c) in 1/m for mass m [GeV], momentum p [GeV], width Gamma [GeV].

    Lab-frame decay length lambda = beta gamma c tau with beta gamma = p/m and c tau = hbar c/Gamma
    (PDG RPP, Kinematics review).  Written as a product so that Gamma -> 0 gives s -> 0, never 0 * inf.
    """
    return m * width / (p * HBARC_GEV_M)


def decay_probability(s, a, b):
    """Probability to decay between path lengths a <= b [m] for inverse decay length s [1/m].

    P = exp(-s a) * (-expm1(-s (b - a)))  (exponential decay law; stable form, no difference of
    exponentials).  Limits: s b << 1 gives s (b - a); s a >> 1 gives 0 without NaN.
    """
    return jnp.exp(-s * a) * (-jnp.expm1(-s * (b - a)))


def log_decay_probability(s, a, b):
    """log of :func:`decay_probability`, finite far into the short-lived regime (s a ~ 1e5).

    log P = -s a + log(1 - exp(-s (b - a))), with log1mexp accurate for all arguments.
    s = 0 gives -inf (no decay), with finite gradients elsewhere.
    """
    return -s * a + log1mexp(s * (b - a))


def cell_log_probabilities(log_s, a_edges):
    """log P_k of decaying in each of the cells [a_k, a_{k+1}] of path length, given log s.

    log_s: (...,) log inverse decay length; a_edges: (Nz + 1,) increasing path lengths [m] from the
    production point.  Returns (..., Nz).  Working with log s keeps tiny couplings (s ~ 1e-30)
    representable in float32.
    """
    s = jnp.exp(log_s)[..., None]
    a = a_edges[:-1]
    width = a_edges[1:] - a_edges[:-1]
    # log(1 - exp(-s w)) = log(s w) + log((1 - exp(-s w)) / (s w)); for s w -> 0 use log s + log w.
    x = s * width
    tiny = x < 1e-6
    log_small = log_s[..., None] + safe_log(width) + jnp.log1p(-0.5 * jnp.where(tiny, x, 0.0))
    log_big = log1mexp(jnp.where(tiny, 1.0, x))
    return -s * a + jnp.where(tiny, log_small, log_big)
