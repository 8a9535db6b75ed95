"""Expected signal yields: production x decay in volume x acceptance, integrated along z.

The yield of a FIP with mass m and coupling g (epsilon, theta, g_agg ...) at an experiment is
(e.g. Bondarenko et al., arXiv:1903.11918, eq. (2.1); Jerhot et al. ALPINIST, arXiv:2201.05170, eq. (3.1)):

    N(m, g) = N_POT * sum_i w_i(m) g^n_prod * integral dz  dP/dz(z; lambda_i) * A_i(z)

with w_i the number of FIPs per POT at unit coupling in momentum sample i (already multiplied by the
branching ratio of the detected final state and the selection efficiency), dP/dz the exponential decay
density and A_i(z) the acceptance of the final state for a decay at z.  With A piecewise constant on
cells [z_k, z_{k+1}] the z integral is exact:

    integral = sum_k A_ik exp(-s_i a_k) (1 - exp(-s_i (a_{k+1} - a_k))),   s_i = g^2 s1_i,

(a_k = z_k - z_prod).  Only the inverse decay length depends on the coupling, so per mass the
coupling-independent weights W_ik = w_i A_ik are built once and the (m, g) grid is one fused kernel.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

from .decay import cell_log_probabilities
from .numerics import safe_log


def log_events(log_g, weights, log_s1, a_edges, log_pot, n_prod=2.0, n_width=2.0):
    """log N for one mass at log coupling ``log_g`` (scalar or any shape).

    weights: (Nb, Nz) FIPs per POT at unit coupling times acceptance, BR and efficiency per cell;
    log_s1: (Nb,) log inverse decay length [log(1/m)] at unit coupling; a_edges: (Nz + 1,) path
    lengths [m] of the cell edges from the production point; log_pot: log N_POT.
    Production scales as g^n_prod and the total width as g^n_width.
    Finite far into the short-lived regime where N itself underflows (log-sum-exp).
    """
    log_g = jnp.asarray(log_g)
    log_w = safe_log(weights)  # (Nb, Nz)

    def one(lg):
        log_s = log_s1 + n_width * lg  # (Nb,)
        terms = log_w + cell_log_probabilities(log_s, a_edges)  # (Nb, Nz)
        return log_pot + n_prod * lg + logsumexp(terms)

    flat = jnp.ravel(log_g)
    return jax.vmap(one)(flat).reshape(log_g.shape)


def events(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0):
    """N for one mass at log coupling ``log_g`` (any shape), in linear form.

    N = pot * g^n_prod * sum_bk W_bk exp(-s_b a_k) (-expm1(-s_b (a_{k+1} - a_k))), s_b = g^n_width s1_b.
    Uses the stable product form of the decay probability (kernels.decay.decay_probability).
    """
    log_g = jnp.asarray(log_g)
    s1 = jnp.exp(log_s1)
    a = a_edges[:-1]
    width = a_edges[1:] - a_edges[:-1]

    def one(lg):
        s = (s1 * jnp.exp(n_width * lg))[:, None]  # (Nb, 1)
        prob = jnp.exp(-s * a) * (-jnp.expm1(-s * width))  # (Nb, Nz)
        return pot * jnp.exp(n_prod * lg) * jnp.sum(weights * prob)

    flat = jnp.ravel(log_g)
    return jax.vmap(one)(flat).reshape(log_g.shape)


def events_grid(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0, chunk=16):
    """N on an (Nm, Ng) grid: weights (Nm, Nb, Nz), log_s1 (Nm, Nb), log_g (Ng,).

    Masses are processed ``chunk`` at a time with ``lax.map`` so memory stays bounded
    (chunk * Ng * Nb * Nz temporaries at most).
    """
    nm = weights.shape[0]
    pad = (-nm) % chunk
    w = jnp.pad(weights, ((0, pad), (0, 0), (0, 0)))
    ls = jnp.pad(log_s1, ((0, pad), (0, 0)))
    w = w.reshape((-1, chunk) + weights.shape[1:])
    ls = ls.reshape((-1, chunk) + log_s1.shape[1:])

    def per_mass(args):
        wm, lsm = args
        return events(log_g, wm, lsm, a_edges, pot, n_prod, n_width)

    def per_chunk(args):
        return jax.vmap(per_mass)(args)

    out = jax.lax.map(per_chunk, (w, ls))
    return out.reshape((-1, log_g.shape[0]))[:nm]
