"""Plain but well-vectorised numpy implementations of the yield integral, for the benchmark only.

The same integral as ``fipscan.kernels.yields`` (Bondarenko et al., arXiv:1903.11918, eq. (2.1)),
on the same tables:

    N(m, g) = pot g^n_prod sum_{b,k} W[m,b,k] exp(-s a_k) (-expm1(-s Delta_k)),
    s = g^n_width exp(log_s1[m, b]),

written the way a careful numpy user would: whole-array ufuncs over (masses, couplings, bins,
cells) blocks with in-place operations, the (b, k) contraction as a batched BLAS matrix-vector
product, masses in blocks so the temporaries stay bounded.  Nothing here is used by fipscan
itself; the benchmark checks these numbers against the JAX kernels (1e-6 relative) and times both.

``events_grid`` is the direct form (one exp and one expm1 per cell); ``events_grid_horner`` is the
same algorithm as the fast JAX kernel (exp(-s a_k) = exp(-s a_0) q^k, Horner in q), so that the
benchmark can separate what the algorithm gains from what the compiler gains.
"""

from __future__ import annotations

import numpy as np

__all__ = ["events_grid", "events_grid_horner", "per_mass_contour", "transcendental_counts"]


def _blocks(n, step):
    for i in range(0, n, step):
        yield slice(i, min(n, i + step))


def _step(n_couplings, per_coupling_numbers, budget_bytes, itemsize=8):
    return max(1, int(budget_bytes) // max(1, n_couplings * per_coupling_numbers * itemsize))


def events_grid(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0, budget_bytes=64 << 20):
    """N on the (Nm, Ng) grid, direct form: exp(-s a_k) * (-expm1(-s Delta_k)) for every cell.

    log_g (Ng,), weights (Nm, Nb, Nz), log_s1 (Nm, Nb), a_edges (Nz + 1,) [m].  The decay factor is
    the stable product form (exponential decay law; never exp(-s a) - exp(-s b)).
    """
    log_g = np.asarray(log_g, float)
    W = np.asarray(weights, float)
    ls1 = np.asarray(log_s1, float)
    a = np.asarray(a_edges, float)
    nm, nb, nz = W.shape
    ng = log_g.size
    a_lo, width = a[:-1], np.diff(a)
    g_width = np.exp(n_width * log_g)
    out = np.empty((nm, ng))
    for sl in _blocks(nm, _step(ng, nb * nz, budget_bytes)):
        s = np.exp(ls1[sl])[:, None, :, None] * g_width[None, :, None, None]  # (c, Ng, Nb, 1)
        decay = np.exp(-s * a_lo)  # (c, Ng, Nb, Nz)
        tail = np.expm1(-s * width)
        np.negative(tail, out=tail)
        decay *= tail
        c = decay.shape[0]
        # sum_{b,k} W[m,b,k] P[m,g,b,k]: one batched matrix-vector product per mass block (BLAS)
        out[sl] = np.matmul(decay.reshape(c, ng, nb * nz), W[sl].reshape(c, nb * nz, 1))[..., 0]
    return pot * np.exp(n_prod * log_g) * out


def events_grid_horner(log_g, weights, log_s1, a_edges, pot, n_prod=2.0, n_width=2.0,
                       budget_bytes=8 << 20):
    """The same N for equally spaced cells, by the fast kernel's algorithm in numpy.

    sum_k W_k exp(-s a_k)(1 - q) = exp(-s a_0) (-expm1(-s Delta)) P(q), q = exp(-s Delta),
    P(q) = sum_k W_k q^k by Horner's rule (Knuth, TAOCP vol. 2, sec. 4.6.4): exact rewriting
    (law of exponents); all terms are non-negative, so it is as accurate as the direct form.
    """
    log_g = np.asarray(log_g, float)
    W = np.asarray(weights, float)
    ls1 = np.asarray(log_s1, float)
    a = np.asarray(a_edges, float)
    nm, nb, nz = W.shape
    ng = log_g.size
    delta = (a[-1] - a[0]) / nz
    if not np.allclose(np.diff(a), delta, rtol=1e-12, atol=0):
        raise ValueError("events_grid_horner needs equally spaced cells")
    Wt = np.ascontiguousarray(np.swapaxes(W, 1, 2))  # (Nm, Nz, Nb)
    g_width = np.exp(n_width * log_g)
    out = np.empty((nm, ng))
    for sl in _blocks(nm, _step(ng, nb, budget_bytes)):
        s = np.exp(ls1[sl])[:, None, :] * g_width[None, :, None]  # (c, Ng, Nb)
        q = np.exp(-delta * s)
        acc = np.broadcast_to(Wt[sl, None, nz - 1, :], s.shape).copy()
        for k in range(nz - 2, -1, -1):
            acc *= q
            acc += Wt[sl, None, k, :]
        acc *= np.exp(-a[0] * s)
        acc *= -np.expm1(-delta * s)
        out[sl] = acc.sum(axis=-1)
    return pot * np.exp(n_prod * log_g) * out


def _events_at(log_g, W, ls1, a, pot, n_prod, n_width):
    """N(m_i, g_i) for one coupling per mass: log_g (Nm,), W (Nm, Nb, Nz), ls1 (Nm, Nb)."""
    s = np.exp(ls1 + n_width * log_g[:, None])[..., None]  # (Nm, Nb, 1)
    p = np.exp(-s * a[:-1]) * -np.expm1(-s * np.diff(a))
    return pot * np.exp(n_prod * log_g) * np.einsum("mbk,mbk->m", W, p)


def per_mass_contour(log_g_grid, weights, log_s1, a_edges, pot, n_limit, n_prod=2.0, n_width=2.0,
                     xtol=1e-10, max_iter=200):
    """Lower and upper coupling per mass where N = n_limit, all masses at once (vectorised).

    Brackets as fipscan.contour.per_mass: the first rising and the last falling sign change of
    N - n_limit on the grid; each refined by bisection on log g (the root is bracketed, so it
    converges unconditionally) to ``xtol`` in log g.  Returns (lower, upper) with NaN where the
    mass has no excluded interval and the grid end where the interval reaches it.
    """
    lg = np.asarray(log_g_grid, float)
    W = np.asarray(weights, float)
    ls1 = np.asarray(log_s1, float)
    a = np.asarray(a_edges, float)
    n = events_grid(lg, W, ls1, a, pot, n_prod, n_width)
    above = n >= n_limit
    rising = ~above[:, :-1] & above[:, 1:]
    falling = above[:, :-1] & ~above[:, 1:]
    has = above.any(axis=1)
    r_idx = np.where(rising.any(axis=1), rising.argmax(axis=1), 0)
    f_idx = np.where(falling.any(axis=1), falling.shape[1] - 1 - falling[:, ::-1].argmax(axis=1), 0)

    def bisect(lo, hi, rising_edge):
        for _ in range(max_iter):
            if np.max(hi - lo) <= xtol:
                break
            mid = 0.5 * (lo + hi)
            up = _events_at(mid, W, ls1, a, pot, n_prod, n_width) >= n_limit
            go_left = up if rising_edge else ~up  # the root lies left of mid
            hi = np.where(go_left, mid, hi)
            lo = np.where(go_left, lo, mid)
        return 0.5 * (lo + hi)

    xl = bisect(lg[r_idx], lg[r_idx + 1], True)
    xu = bisect(lg[f_idx], lg[f_idx + 1], False)
    lower = np.where(above[:, 0], np.exp(lg[0]), np.exp(xl))
    upper = np.where(above[:, -1], np.exp(lg[-1]), np.exp(xu))
    return np.where(has, lower, np.nan), np.where(has, upper, np.nan)


def transcendental_counts(n_masses, n_couplings, n_bins, n_cells):
    """Transcendental function calls of each formulation, for throughput figures.

    direct: an exp and an expm1 per (m, g, b, k) plus one exp per (m, g, b) for s; horner: exp(-s a0),
    expm1(-s Delta), exp(-s Delta) per (m, g, b) (s = s1 g^n is a product); both + 2 per coupling.
    "cell terms" = Nm Ng Nb Nz, the exponentials the direct form evaluates (exp-equivalents).
    """
    mgb = n_masses * n_couplings * n_bins
    return {
        "cell_terms": mgb * n_cells,
        "direct": 2 * mgb * n_cells + mgb,
        "horner": 3 * mgb,
        "horner_fma": mgb * (n_cells + 3),
    }
