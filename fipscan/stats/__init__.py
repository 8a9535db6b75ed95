"""fipscan.stats: limits, expected-limit bands and discovery thresholds for counting experiments.

Pure numpy and the standard library (scalar statistics; no JAX needed). Every function validates
its arguments and raises ``ValueError`` naming the bad one.

Limits (:mod:`fipscan.stats.limits`)
    :func:`upper_limit` (CLs by default, Feldman-Cousins with ``method="fc"``), :func:`fc_interval`,
    :func:`cls_value`, :func:`limit_report` (CLI-facing dict).
Bands and projections (:mod:`fipscan.stats.bands`)
    :func:`expected_limits`, :func:`scale_background`, :func:`pot_band`.
Peak searches (:mod:`fipscan.stats.peak_search`)
    per-window counts and backgrounds (:class:`~fipscan.stats.peak_search.PeakSearchData`, CSV files),
    local limits, the look-elsewhere effect (trials factor and toys), BR(K+ -> pi+ X) limits.
Discovery (:mod:`fipscan.stats.discovery`)
    :func:`min_observed_for_discovery`, :func:`min_observed_global`, :func:`trials_factor`,
    :func:`local_pvalue_threshold`, :func:`background_only_pvalue`, :func:`sigma_to_pvalue`,
    :func:`pvalue_to_sigma`, :func:`discovery_report` (CLI-facing dict).
"""

from .bands import BAND_QUANTILES, expected_limits, pot_band, scale_background
from .discovery import (
    background_only_pvalue,
    discovery_report,
    local_pvalue_threshold,
    min_observed_for_discovery,
    min_observed_global,
    pvalue_to_sigma,
    sigma_to_pvalue,
    trials_factor,
)
from .limits import cls_value, fc_interval, limit_report, upper_limit
from .rare_decay import br_upper_limit, n_kaons_from_normalisation, rare_decay_report
from . import peak_search  # noqa: E402  (per-window limits and the look-elsewhere effect of a peak search)

__all__ = [
    "BAND_QUANTILES",
    "background_only_pvalue",
    "br_upper_limit", "n_kaons_from_normalisation", "rare_decay_report",  # rare-decay BR limits
    "peak_search",
    "cls_value",
    "discovery_report",
    "expected_limits",
    "fc_interval",
    "limit_report",
    "local_pvalue_threshold",
    "min_observed_for_discovery",
    "min_observed_global",
    "pot_band",
    "pvalue_to_sigma",
    "scale_background",
    "sigma_to_pvalue",
    "trials_factor",
    "upper_limit",
]
