"""Expected-limit bands and protons-on-target (POT) projections.

Expected limits are computed exactly from the discrete distribution of the observed count under the
background-only hypothesis (no pseudo-experiments): the band at probability q is the upper limit
UL(n_q) of the q-quantile n_q of N, because UL(n) does not decrease with n (for CLs; the
Feldman-Cousins upper end also rises with n). This is the median/+-1,2 sigma "expected limit"
convention of Cowan, Cranmer, Gross & Vitells, Eur. Phys. J. C71 (2011) 1554 (there with
asymptotic formulae; here with the exact Poisson distribution of the count).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_background, as_choice, as_cl, as_nonnegative, as_positive
from ._poisson import WINDOW_MAX, log_pmf_range, normal_isf, normal_sf
from .limits import METHODS, _cls_upper, check_sizes, fc_interval

__all__ = [
    "BAND_QUANTILES",
    "expected_limits",
    "scale_background",
    "pot_band",
]

#: band name -> probability of the quantile of the background-only count: Phi(k) for k = -2..2
BAND_QUANTILES = {
    "-2": normal_sf(2.0),  # 0.02275
    "-1": normal_sf(1.0),  # 0.15866
    "0": 0.5,
    "+1": 1.0 - normal_sf(1.0),  # 0.84134
    "+2": 1.0 - normal_sf(2.0),  # 0.97725
}


def _quantile_counts(b: float, db: float) -> dict[str, int]:
    """Smallest n with P(N <= n | b) >= q for each band probability q (N background-only): the exact
    cdf over the bulk of N (a window of at most WINDOW_MAX counts), the Gaussian quantile beyond."""
    sd = math.sqrt(b + db * db)
    lo = max(0, int(b - 12.0 * sd - 20.0))
    hi = int(b + 12.0 * sd + 50.0 * (1.0 + (db * db / b if b > 0 else 0.0)) + 20.0)
    if hi - lo > WINDOW_MAX:
        return {k: max(0, math.ceil(b + normal_isf(1.0 - q) * sd - 0.5)) for k, q in BAND_QUANTILES.items()}
    while True:
        log_pmf = log_pmf_range(lo, hi, b, db)
        cdf = np.exp(np.logaddexp.accumulate(log_pmf))
        if cdf[-1] >= max(BAND_QUANTILES.values()):
            break
        hi = lo + 2 * (hi - lo)
    return {k: lo + int(np.searchsorted(cdf, q, side="left")) for k, q in BAND_QUANTILES.items()}


def expected_limits(background, background_uncertainty=0.0, cl=0.9, method="cls") -> dict:
    """Quantiles of the upper limit on s under the background-only hypothesis.

    Returns ``{"-2", "-1", "0", "+1", "+2"}`` -> upper limit (events) at the 2.275%, 15.87%, 50%,
    84.13% and 97.725% quantiles of N ~ Poisson(b) (negative binomial when ``background_uncertainty``
    > 0: the Gamma prior of Cousins & Highland 1992, as for the limit itself). Computed exactly by
    walking the discrete distribution of N. For b -> 0 every entry is -ln(1 - cl) = 2.30 (90% CL).
    ``method`` as in :func:`fipscan.stats.upper_limit`.
    """
    b, db = as_background(background, background_uncertainty)
    c = as_cl("cl", cl)
    m = as_choice("method", method, METHODS)
    if m == "fc" and db > 0.0:
        raise ValueError(
            "method='fc' supports a known background only (background_uncertainty=0); use method='cls'"
        )
    check_sizes(0, b, db, m)
    counts = _quantile_counts(b, db)
    cache: dict[int, float] = {}
    for n in set(counts.values()):
        cache[n] = float(_cls_upper(n, b, db, c)) if m == "cls" else fc_interval(n, b, c)[1]
    return {k: cache[n] for k, n in counts.items()}


def scale_background(background, pot, pot_ref, mode="scale"):
    """Background expected at ``pot`` protons on target from a value quoted at ``pot_ref``.

    ``mode="scale"``: b * pot / pot_ref (a background made by the beam, e.g. combinatorial or
    upstream muons, grows with the POT); ``mode="fixed"``: b unchanged (a background quoted as a
    fixed number or limit for the full data set). Scalars give a float, arrays an ndarray.
    """
    md = as_choice("mode", mode, ("scale", "fixed"))
    b = np.asarray(background, dtype=float)
    p = np.asarray(pot, dtype=float)
    p_ref = as_positive("pot_ref", pot_ref)
    if not np.all(np.isfinite(b)) or np.any(b < 0.0):
        raise ValueError(f"background must be finite and >= 0, got {background!r}")
    if not np.all(np.isfinite(p)) or np.any(p <= 0.0):
        raise ValueError(f"pot must be finite and > 0, got {pot!r}")
    out = b * (p / p_ref) if md == "scale" else np.broadcast_to(b, np.broadcast(b, p).shape).copy()
    return float(out) if out.ndim == 0 else out


def pot_band(pot, rel_uncertainty=0.2) -> tuple[float, float]:
    """Multiplicative (lo, hi) factors on any yield proportional to the POT, from its uncertainty.

    A POT count known to a relative uncertainty r (NA62 2021: (1.4 +- 0.28)e17, r = 0.2) moves every
    yield proportional to it by the factors (1 - r, 1 + r); a projection to ``pot`` carries the same
    relative band. ``pot`` must be > 0 and 0 <= r < 1.
    """
    as_positive("pot", pot)
    r = as_nonnegative("rel_uncertainty", rel_uncertainty)
    if r >= 1.0:
        raise ValueError(f"rel_uncertainty must be < 1 (a yield cannot go negative), got {rel_uncertainty!r}")
    return (1.0 - r, 1.0 + r)
