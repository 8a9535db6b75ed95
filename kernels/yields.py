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

Fast grid kernel (``events_grid``).  For equally spaced cells, a_k = a_0 + k Delta, the exponential
factorises, exp(-s a_k) = exp(-s a_0) q^k with q = exp(-s Delta), so per momentum bin

    sum_k W_k exp(-s a_k) (1 - exp(-s Delta)) = exp(-s a_0) (-expm1(-s Delta)) P(q),
    P(q) = sum_k W_k q^k,

an exact rewriting (law of exponents) that replaces Nz exponentials by two and a polynomial in
q in (0, 1] with non-negative coefficients.  P is evaluated by Horner's rule (Knuth, TAOCP vol. 2,
sec. 4.6.4), split into independent chains of length L recombined in powers of q^L (the
"second-order Horner" of Knuth 4.6.4 / Estrin's idea) so the CPU pipelines several chains at once.
With q >= 0 and W >= 0 every partial sum is a sum of non-negative terms: no cancellation, the
relative error is bounded by ~2 Nz ulp (Higham, "Accuracy and Stability of Numerical Algorithms",
2nd ed., sec. 5.1, eq. (5.3) with condition number 1 for same-sign terms).  (1 - q) is always
-expm1(-s Delta) (STYLE: never a plain difference of exponentials).

Non-uniform cells use the nested product form (the same law of exponents, cell by cell):

    H_{Nz} = 0,   H_k = W_k (-expm1(-s Delta_k)) + exp(-s Delta_k) H_{k+1},   sum = exp(-s a_0) H_0,

again a sum of non-negative terms (two transcendentals per cell, as the direct form, but fused
without (Ng, Nb, Nz) temporaries).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from .decay import cell_log_probabilities
from .numerics import log1mexp_from_log, safe_log


def sum_power_terms(terms, log=False):
    """The sum over the power groups of a yield: ``terms`` a sequence of equally shaped arrays, one per
    power of the coupling (N = sum_n g^n ..., see fipscan.yields.YieldTables.power_groups); their sum,
    or with ``log`` their log-sum-exp (the terms are logs).  One term is returned as it is."""
    terms = list(terms)
    if len(terms) == 1:
        return terms[0]
    if log:
        return logsumexp(jnp.stack(terms), axis=0)
    return sum(terms[1:], terms[0])


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



#: length of one Horner chain; several independent chains run in parallel (see module docstring)
HORNER_CHAIN = 8


def uniform_cells(a_edges, rtol=None) -> bool:
    """True when the concrete cell edges ``a_edges`` are equally spaced, a_k = a_0 + k Delta.

    Decided on the host (outside jit): a traced array gives False (the general path is exact for
    any edges).  The default tolerance, 8 ulp of ``max |a|`` in the edges' dtype, is the rounding of a
    ``linspace``; it moves exp(-s a_k) by at most ``s * 8 ulp * max|a|`` relative (< 1e-12 in float64
    wherever s a_k < 700, i.e. wherever exp(-s a_k) is representable).
    """
    try:
        a = np.asarray(a_edges)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return False
    if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)):
        return False
    n = a.size - 1
    delta = (a[-1] - a[0]) / n
    if not delta > 0:
        return False
    eps = np.finfo(a.dtype).eps if np.issubdtype(a.dtype, np.floating) else np.finfo(float).eps
    scale = float(np.max(np.abs(a)))
    tol = (8 * eps if rtol is None else rtol) * scale
    return bool(np.max(np.abs(a - (a[0] + delta * np.arange(n + 1)))) <= tol)


def _poly_nonneg(q, coef, chain=HORNER_CHAIN):
    """P(q) = sum_k coef[k] q^k for q >= 0, coef[k] >= 0 (a list of arrays broadcasting with q).

    Horner's rule (Knuth, TAOCP vol. 2, sec. 4.6.4) on blocks of ``chain`` coefficients,
    P = C_0(q) + q^L (C_1(q) + q^L (C_2(q) + ...)), L = chain, q^L by repeated squaring when L is
    a power of two.  Independent blocks give instruction-level parallelism; every term is
    non-negative so the evaluation is as accurate as plain Horner (Higham 2002, sec. 5.1).
    The loops run at trace time over the static Nz: the compiled kernel is one fused loop.
    """
    nz = len(coef)
    L = max(1, min(chain, nz))

    def horner(cs):
        acc = cs[-1]
        for c in cs[-2::-1]:
            acc = acc * q + c
        return acc

    blocks = [horner(coef[i:i + L]) for i in range(0, nz, L)]
    if len(blocks) == 1:
        return blocks[0]
    if L & (L - 1) == 0:
        qL = q
        for _ in range(L.bit_length() - 1):
            qL = qL * qL
    else:
        qL = q ** L
    acc = blocks[-1]
    for b in blocks[-2::-1]:
        acc = acc * qL + b
    return acc


def _bin_sums_uniform(s, w, a0, delta):
    """sum_k W_k exp(-s a_k)(1 - exp(-s Delta)) per (.., b) for a_k = a0 + k Delta (module docstring).

    s: (c, Ng, Nb) inverse decay lengths [1/m]; w: (c, Nz, Nb) weights with the cell axis second.
    exp(-s a_k) = exp(-s a0) q^k, q = exp(-s Delta) (law of exponents); 1 - q = -expm1(-s Delta).
    """
    nz = w.shape[1]
    x = s * delta
    one_minus_q = -jnp.expm1(-x)
    q = jnp.exp(-x)  # not 1 - (1 - q): that loses q's relative precision when q << 1
    poly = _poly_nonneg(q, [w[:, None, k, :] for k in range(nz)])
    return jnp.exp(-s * a0) * one_minus_q * poly


def _bin_sums_general(s, w, a_edges):
    """The same bin sums for arbitrary increasing edges, by the nested form of the module docstring.

    H_k = W_k (-expm1(-s Delta_k)) + exp(-s Delta_k) H_{k+1}, result exp(-s a_0) H_0 (law of
    exponents cell by cell; all terms non-negative).  exp(-s Delta_k) is its own exp, not
    1 + expm1(...), which would lose its relative precision where it is small.
    """
    nz = w.shape[1]
    width = a_edges[1:] - a_edges[:-1]
    h = None
    for k in range(nz - 1, -1, -1):
        em1 = jnp.expm1(-s * width[k])
        term = w[:, None, k, :] * (-em1)
        h = term if h is None else term + jnp.exp(-s * width[k]) * h
    return jnp.exp(-s * a_edges[0]) * h


def _sum_bins(t):
    """sum over the last (momentum-bin) axis as a matrix-vector product at full precision.

    A dot keeps XLA:CPU's elementwise fusion in one loop (a plain reduce was offloaded to a slower
    library fusion in jaxlib 0.10), and Precision.HIGHEST forbids TF32 on GPUs (1e-3 relative).
    """
    ones = jnp.ones(t.shape[-1], t.dtype)
    return jnp.einsum("...b,b->...", t, ones, precision=jax.lax.Precision.HIGHEST)


#: bytes of (masses x couplings x bins) temporaries per step: a few MB stay in a CPU's L2/L3
#: caches; on accelerators a step should be large (many threads), so the budget is larger there
STEP_BUDGET_BYTES = {"cpu": 2 << 20, "default": 256 << 20}


def plan_steps(n_masses, n_couplings, n_bins, itemsize=8, chunk=16, budget_bytes=None):
    """(masses per step, couplings per step) of the grid kernels.

    At most ``chunk`` masses per step (the caller's memory bound), fewer when one step's
    (masses, couplings, bins) temporaries would exceed ``budget_bytes`` (default: by backend,
    :data:`STEP_BUDGET_BYTES`); the coupling axis is tiled too when a single mass exceeds it.
    Results do not depend on the plan: every (m, g) point is computed by the same expression.
    """
    if budget_bytes is None:
        budget_bytes = STEP_BUDGET_BYTES.get(jax.default_backend(), STEP_BUDGET_BYTES["default"])
    per_mass = max(1, int(n_couplings) * int(n_bins) * int(itemsize))
    if per_mass <= budget_bytes:
        return int(max(1, min(int(chunk), int(n_masses), budget_bytes // per_mass))), int(n_couplings)
    g_max = max(1, int(budget_bytes) // (int(n_bins) * int(itemsize)))
    n_tiles = -(-int(n_couplings) // g_max)
    return 1, -(-int(n_couplings) // n_tiles)  # equal tiles: the least padding


def _tiled(per_tile, log_g, weights, log_s1, m_step, g_step):
    """Apply ``per_tile(w (m, Nz, Nb), s1 (m, Nb), lg (g,)) -> (m, g)`` over (mass, coupling) tiles.

    Masses are padded with zero weights, couplings with log g = 0; both are sliced off again.
    Two nested ``lax.map`` loops: one compiled loop, temporaries bounded by one tile.
    """
    nm, nb, nz = weights.shape
    ng = log_g.shape[0]
    pm, pg = (-nm) % m_step, (-ng) % g_step
    # cell axis second, so that a coefficient slice W[:, k, :] is contiguous along the bins
    w = jnp.swapaxes(weights, 1, 2)
    w = jnp.pad(w, ((0, pm), (0, 0), (0, 0))).reshape((-1, m_step, nz, nb))
    s1 = jnp.exp(jnp.pad(log_s1, ((0, pm), (0, 0)))).reshape((-1, m_step, nb))
    lg = jnp.pad(log_g, (0, pg)).reshape((-1, g_step))

    def per_mass_step(args):
        wc, s1c = args
        if lg.shape[0] == 1:
            return per_tile(wc, s1c, lg[0])
        out = jax.lax.map(lambda lgt: per_tile(wc, s1c, lgt), lg)  # (tiles, m, g)
        return jnp.moveaxis(out, 0, 1).reshape((m_step, -1))

    out = jax.lax.map(per_mass_step, (w, s1))
    return out.reshape((-1, lg.size))[:nm, :ng]


@partial(jax.jit, static_argnames=("n_prod", "n_width", "m_step", "g_step", "uniform"))
def _events_grid_impl(log_g, weights, log_s1, a_edges, pot, n_prod, n_width, m_step, g_step, uniform):
    nz = weights.shape[2]
    a0 = a_edges[0]
    delta = (a_edges[-1] - a_edges[0]) / nz

    def per_tile(wc, s1c, lgt):
        s = s1c[:, None, :] * jnp.exp(n_width * lgt)[None, :, None]  # s = s1 g^n_width, as `events`
        if uniform:
            t = _bin_sums_uniform(s, wc, a0, delta)
        else:
            t = _bin_sums_general(s, wc, a_edges)
        return _sum_bins(t)  # (m, g)

    out = _tiled(per_tile, log_g, weights, log_s1, m_step, g_step)
    return pot * jnp.exp(n_prod * log_g) * out


def _static_args(log_g, weights, a_edges, chunk, uniform, budget_bytes):
    """Host-side decisions (outside jit): uniform cells? and the step plan."""
    if uniform is None:
        uniform = uniform_cells(a_edges)
    n_masses = weights.shape[0]
    m_step, g_step = plan_steps(n_masses, log_g.shape[0], weights.shape[1], jnp.dtype(weights.dtype).itemsize,
                                n_masses if chunk is None else chunk, budget_bytes)
    return m_step, g_step, bool(uniform)


def events_grid(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0, chunk=16, *, uniform=None,
                budget_bytes=None):
    """N on an (Nm, Ng) grid: weights (Nm, Nb, Nz), log_s1 (Nm, Nb), log_g (Ng,), a_edges (Nz + 1,) [m].

    N(m, g) = pot g^n_prod sum_{b,k} W[m,b,k] exp(-s a_k)(-expm1(-s Delta_k)), s = g^n_width exp(log_s1)
    (module docstring; Bondarenko et al. arXiv:1903.11918 eq. (2.1)): the numbers of :func:`events`
    mass by mass, to rounding (~1e-14 relative in float64).

    uniform: equally spaced cells (two transcendentals and a polynomial per (m, g, b), module
    docstring); None detects it from concrete ``a_edges`` (:func:`uniform_cells`); a traced
    ``a_edges`` takes the general path unless you pass True (a promise that is not checked).
    At most ``chunk`` masses per ``lax.map`` step, fewer (and the couplings tiled) when a step
    would exceed ``budget_bytes`` of temporaries (:func:`plan_steps`): memory stays bounded and
    the result does not depend on the tiling.  chunk=None leaves the step size to the budget alone
    (the better choice on a GPU, where the default budget is 256 MB).  Keeps the dtype of the inputs; no host
    round-trips and no Python loop at run time, so it runs unchanged on a GPU and inside a jit.
    """
    log_g = jnp.asarray(log_g)
    m_step, g_step, uniform = _static_args(log_g, weights, a_edges, chunk, uniform, budget_bytes)
    return _events_grid_impl(log_g, weights, log_s1, a_edges, pot, float(n_prod), float(n_width),
                             m_step, g_step, uniform)


@partial(jax.jit, static_argnames=("n_prod", "n_width", "m_step", "g_step", "uniform"))
def _events_grid_and_dlogg_impl(log_g, weights, log_s1, a_edges, pot, n_prod, n_width, m_step, g_step,
                                uniform):
    def f(lg):
        return _events_grid_impl(lg, weights, log_s1, a_edges, pot, n_prod, n_width, m_step, g_step,
                                 uniform)

    return jax.jvp(f, (log_g,), (jnp.ones_like(log_g),))


def events_grid_and_dlogg(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0, chunk=16, *,
                          uniform=None, budget_bytes=None):
    """(N, dN/dlog g) on the (Nm, Ng) grid, in one forward-mode pass (``jax.jvp``).

    Each N[m, j] depends on log_g[j] only, so the jvp with a tangent of ones along the coupling
    axis is exactly the diagonal derivative dN[m, j]/dlog g_j (STYLE.md, "Numerics"); the
    logarithmic derivative is (dN/dlog g) / N.  Arguments as :func:`events_grid`.
    """
    log_g = jnp.asarray(log_g)
    m_step, g_step, uniform = _static_args(log_g, weights, a_edges, chunk, uniform, budget_bytes)
    return _events_grid_and_dlogg_impl(log_g, weights, log_s1, a_edges, pot, float(n_prod),
                                       float(n_width), m_step, g_step, uniform)


def _shift_leading_zeros(w):
    """(w', j): per (m, b) the cell index j of the first non-zero weight and w' shifted down by j.

    w: (Nm, Nz, Nb) weights, cell axis second.  P(q) = sum_k w_k q^k = q^j P'(q) with
    P'(q) = sum_k w'_k q^k and w'_0 = w_j > 0, so log P = j log q + log P' never underflows
    (an empty bin has j = 0, P' = 0 and log P = -inf, which log-sum-exp ignores).
    """
    nz = w.shape[1]
    nonzero = w > 0
    j = jnp.argmax(nonzero, axis=1)  # (Nm, Nb): 0 when the bin is empty
    k = jnp.arange(nz)[None, :, None] + j[:, None, :]
    shifted = jnp.take_along_axis(w, jnp.minimum(k, nz - 1), axis=1)
    return jnp.where(k < nz, shifted, 0.0), j.astype(w.dtype)


def _log_bin_terms_uniform(log_s, coef, j, a0, delta):
    """log of the bin sums of :func:`_bin_sums_uniform`, finite where they underflow.

    log T_b = -s a_0 + log(1 - q) - s Delta j + log P'(q),  q = exp(-s Delta)  (module docstring and
    :func:`_shift_leading_zeros`); coef: the Nz shifted coefficient arrays broadcasting with log_s.
    """
    s = jnp.exp(log_s)
    x = s * delta
    poly = _poly_nonneg(jnp.exp(-x), coef)
    return -s * a0 + log1mexp_from_log(log_s + jnp.log(delta)) - x * j + safe_log(poly)


@partial(jax.jit, static_argnames=("n_prod", "n_width", "m_step", "g_step", "uniform"))
def _log_events_grid_impl(log_g, weights, log_s1, a_edges, log_pot, n_prod, n_width, m_step, g_step, uniform):
    nm, nb, nz = weights.shape
    if not uniform:  # the per-cell log-sum-exp form, mass by mass
        return jax.lax.map(lambda args: log_events(log_g, args[0], args[1], a_edges, log_pot, n_prod, n_width),
                           (weights, log_s1))
    a0 = a_edges[0]
    delta = (a_edges[-1] - a_edges[0]) / nz
    wt, j = _shift_leading_zeros(jnp.swapaxes(weights, 1, 2))
    # pack j as one more "cell" row so that the tiling helper carries it along with the weights
    packed = jnp.concatenate([wt, j[:, None, :]], axis=1)  # (Nm, Nz + 1, Nb)
    ng = log_g.shape[0]
    pm, pg = (-nm) % m_step, (-ng) % g_step
    packed = jnp.pad(packed, ((0, pm), (0, 0), (0, 0))).reshape((-1, m_step, nz + 1, nb))
    ls = jnp.pad(log_s1, ((0, pm), (0, 0))).reshape((-1, m_step, nb))
    lg = jnp.pad(log_g, (0, pg)).reshape((-1, g_step))

    def per_tile(wc, lsc, lgt):
        log_s = lsc[:, None, :] + n_width * lgt[None, :, None]  # (m, g, Nb)
        coef = [wc[:, None, k, :] for k in range(nz)]
        terms = _log_bin_terms_uniform(log_s, coef, wc[:, None, nz, :], a0, delta)
        return logsumexp(terms, axis=-1)

    def per_mass_step(args):
        wc, lsc = args
        out = jax.lax.map(lambda lgt: per_tile(wc, lsc, lgt), lg)
        return jnp.moveaxis(out, 0, 1).reshape((m_step, -1))

    out = jax.lax.map(per_mass_step, (packed, ls)).reshape((-1, lg.size))[:nm, :ng]
    return log_pot + n_prod * log_g + out


def log_events_grid(log_g, weights, log_s1, a_edges, log_pot, n_prod=2.0, n_width=2.0, chunk=16, *,
                    uniform=None, budget_bytes=None):
    """log N on the (Nm, Ng) grid, finite where N underflows (e.g. log N = -1e5 deep in the short-lived regime).

    The log of :func:`events_grid` (module docstring) by log-sum-exp over the momentum bins of
    log T_b = -s a_0 + log(-expm1(-s Delta)) + log P_b(q), with leading empty cells factored out
    of P_b (:func:`_shift_leading_zeros`) so nothing underflows; the same numbers as
    :func:`log_events` mass by mass (to ~1e-13 relative in N) at a fraction of its cost.
    Non-uniform cells fall back to :func:`log_events` per mass.  Arguments as
    :func:`events_grid`, with log_pot = log N_POT.
    """
    log_g = jnp.asarray(log_g)
    m_step, g_step, uniform = _static_args(log_g, weights, a_edges, chunk, uniform, budget_bytes)
    return _log_events_grid_impl(log_g, weights, log_s1, a_edges, log_pot, float(n_prod), float(n_width),
                                 m_step, g_step, uniform)


@partial(jax.jit, static_argnames=("n_prod", "n_width", "uniform"))
def _log_events_at_impl(log_g, weights, log_s1, a_edges, log_pot, n_prod, n_width, uniform):
    nz = weights.shape[2]
    if not uniform:
        return jax.vmap(lambda lg, w, ls: log_events(lg, w, ls, a_edges, log_pot, n_prod, n_width))(
            log_g, weights, log_s1)
    a0 = a_edges[0]
    delta = (a_edges[-1] - a_edges[0]) / nz
    wt, j = _shift_leading_zeros(jnp.swapaxes(weights, 1, 2))
    log_s = log_s1 + n_width * log_g[:, None]  # (Nm, Nb)
    terms = _log_bin_terms_uniform(log_s, [wt[:, k, :] for k in range(nz)], j, a0, delta)
    return log_pot + n_prod * log_g + logsumexp(terms, axis=-1)


def log_events_at(log_g, weights, log_s1, a_edges, log_pot, n_prod=2.0, n_width=2.0, *, uniform=None):
    """log N(m_i, g_i) for one log coupling per mass: log_g (Nm,) -> (Nm,).

    The pointwise form of :func:`log_events_grid` for root finding (Newton on log g for every mass
    at once); differentiable with jax.grad/jvp, dtype-preserving.
    """
    log_g = jnp.asarray(log_g)
    uniform = uniform_cells(a_edges) if uniform is None else bool(uniform)
    return _log_events_at_impl(log_g, weights, log_s1, a_edges, log_pot, float(n_prod), float(n_width),
                               uniform)


def events_grid_direct(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0, chunk=16):
    """N on an (Nm, Ng) grid, the straightforward way: one exp and one expm1 per (m, g, b, k) cell.

    weights (Nm, Nb, Nz), log_s1 (Nm, Nb), log_g (Ng,).  Same formula as :func:`events` (module
    docstring); kept as the reference that :func:`events_grid` is tested against.

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
