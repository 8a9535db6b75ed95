"""Branching-ratio upper limits for rare and forbidden decays (counting searches normalised to N_K).

A search for a decay K -> f observes ``n`` candidates over an expected background ``b +- db``; with
``N_K`` kaon decays in the fiducial volume and a signal acceptance ``A`` the expected signal is

    s = BR * N_K * A = BR / B_SES,       B_SES = 1 / (N_K * A)   (the single-event sensitivity).

``N_K`` is either given directly or measured with a normalisation channel of known branching ratio:
N_K = N_norm / (BR_norm * A_norm), its relative uncertainty the quadrature sum of the normalisation's
Poisson term 1/sqrt(N_norm), dBR_norm/BR_norm and dA_norm/A_norm (:func:`n_kaons_from_normalisation`).

Method: CLs with the nuisance parameters integrated (hybrid Bayesian-frequentist)
---------------------------------------------------------------------------------
The limit is the BR at which CLs(BR) = CL_{s+b}(BR) / CL_b = 1 - CL (Read, J. Phys. G 28 (2002)
2693), the observed count itself the test statistic: CL_{s+b}(BR) = P(N <= n | BR), CL_b = P(N <= n | 0).
Both probabilities are averaged over the priors of the nuisance parameters (Cousins & Highland,
Nucl. Instrum. Meth. A320 (1992) 331):

* the background mean over a Gamma prior of mean b and sd db, as in :mod:`fipscan.stats.limits`
  (:mod:`fipscan.stats._poisson`: the Poisson-Gamma mixture is a negative binomial, summed exactly);
* the normalisation N_K * A over a Gamma prior of mean N_K * A and relative sd
  r = sqrt((dN_K/N_K)^2 + (dA/A)^2). For a given BR the signal count is then Poisson(s * kappa),
  kappa ~ Gamma(mean 1, sd r), i.e. again a negative binomial of mean s and prior sd s * r, so
  CL_{s+b} = sum_j P_B(j) P(S <= n - j) is an exact finite sum as well (no numerical integral).

With r = 0 this *is* :func:`fipscan.stats.limits.upper_limit` (method ``"cls"``): the code calls it,
so a zero-uncertainty normalisation reproduces the plain CLs / Poisson numbers (n = 0: -ln(1 - CL)
= 2.302585 events at 90% CL, whatever b). For n = 0 the background cancels from CLs altogether and the
normalisation prior gives the closed form s_up = ((1 - CL)^(-r^2) - 1) / r^2 (-> -ln(1 - CL) as r -> 0).

NA62's LFV/LNV limits (e.g. K+ -> pi- e+ e+ < 5.3e-11 at 90% CL, Phys. Lett. B 830 (2022) 137172,
arXiv:2202.00331) are, as we read those papers, CLs limits; with 0 candidates that is 2.30 signal
events times B_SES whatever the background, the normalisation uncertainty adding ~0.1% (3% on N_K).
Feldman-Cousins would differ here (2.0 events for n = 0 over b = 0.43), which the published numbers
cannot decide without the signal acceptances.

Monotonicity (tested): the BR limit grows with n at fixed b, db, r; it grows with r (a wider
normalisation prior always costs); it does not depend on b or db when n = 0; for n >= 1 it falls as
b rises (the CLs property) and grows with db (checked numerically for
n <= 39, b from 0.05 to 30 events, 0 <= db <= b); it scales as 1/(N_K A) at fixed n, b, db and r.

All functions take plain numbers and return Python floats; bad input raises
:class:`~fipscan.errors.InputError` (a ``ValueError``) naming the argument.
"""

from __future__ import annotations

import math

import numpy as np

from fipscan.errors import InputError

from ._checks import as_background, as_cl, as_count, as_nonnegative, as_positive
from ._poisson import WINDOW_MAX, brentq, log_pmf_range
from .bands import _quantile_counts
from .limits import _cls_upper, check_sizes

__all__ = [
    "METHOD",
    "n_kaons_from_normalisation",
    "signal_upper_limit",
    "br_upper_limit",
    "rare_decay_report",
]

#: the method string of the reports: CLs (Read 2002) with the nuisance parameters integrated over
#: their priors (Cousins & Highland 1992)
METHOD = "cls-cousins-highland"

#: a relative normalisation uncertainty at or above this leaves no meaningful limit (the Gamma
#: prior of N_K * A would put most of its weight near zero)
MAX_RELATIVE_UNCERTAINTY = 1.0


def _acceptance(name: str, value) -> float:
    """An acceptance (probability that a decay is selected): a number in (0, 1]."""
    a = as_positive(name, value)
    if a > 1.0:
        raise InputError(f"{name} must lie in (0, 1] (it is a probability), got {value!r}")
    return a


def _relative(name: str, value: float, uncertainty: float) -> float:
    r = uncertainty / value
    if r >= MAX_RELATIVE_UNCERTAINTY:
        raise InputError(f"{name} is {100.0 * r:.4g}% of its value: a relative uncertainty of 100% or more "
                         "leaves no meaningful limit")
    return r


def n_kaons_from_normalisation(candidates, br, br_uncertainty=0.0, acceptance=1.0,
                               acceptance_uncertainty=0.0) -> tuple[float, float]:
    """(N_K, dN_K): the number of kaon decays measured with a normalisation channel.

    N_K = N_norm / (BR_norm A_norm), with the relative uncertainties added in quadrature:
    (dN_K/N_K)^2 = 1/N_norm + (dBR_norm/BR_norm)^2 + (dA_norm/A_norm)^2 (the first the Poisson
    uncertainty of the normalisation count). ``candidates`` is a count >= 1, ``br`` in (0, 1],
    ``acceptance`` in (0, 1]; uncertainties are absolute standard deviations >= 0.
    """
    n_norm = as_count("normalisation candidates", candidates)
    if n_norm == 0:
        raise InputError("normalisation candidates must be at least 1 (no candidates measure no kaon flux)")
    br_n = _acceptance("normalisation branching ratio", br)
    dbr = as_nonnegative("normalisation branching-ratio uncertainty", br_uncertainty)
    a_n = _acceptance("normalisation acceptance", acceptance)
    da = as_nonnegative("normalisation acceptance uncertainty", acceptance_uncertainty)
    n_k = n_norm / (br_n * a_n)
    rel = math.sqrt(1.0 / n_norm + (dbr / br_n) ** 2 + (da / a_n) ** 2)
    return n_k, n_k * rel


def _log_cl_sb(n: int, s: float, r: float, b: float, db: float) -> float:
    """log P(S + B <= n): S ~ Poisson(s kappa), kappa ~ Gamma(mean 1, sd r) (a negative binomial of
    mean s and prior sd s r); B the Gamma-prior-integrated background (mean b, sd db). Exact sum."""
    log_ps = log_pmf_range(0, n, s, s * r)
    log_cdf_s = np.logaddexp.accumulate(log_ps)
    log_pb = log_pmf_range(0, n, b, db)
    terms = log_pb + log_cdf_s[::-1]  # P_B(j) P(S <= n - j), j = 0..n
    top = float(np.max(terms))
    if top == -math.inf:
        return -math.inf
    return min(0.0, top + math.log(float(np.exp(terms - top).sum())))


def _signal_upper(n: int, b: float, db: float, r: float, cl: float) -> float:
    """The signal limit (events at the nominal normalisation) for validated arguments."""
    s0 = float(_cls_upper(n, b, db, cl))  # the r = 0 answer (fipscan.stats.limits)
    if r == 0.0:
        return s0
    log_alpha = math.log1p(-cl)
    if n == 0:  # CLs = P(S = 0) = (1 + s r^2)^(-1/r^2): closed form
        return math.expm1(-(r * r) * log_alpha) / (r * r)
    if n > WINDOW_MAX:
        raise InputError(f"observed {n} is above {WINDOW_MAX} events: with a normalisation uncertainty the "
                         "limit sums over every count; at such counts the rare-decay limit is not the tool")
    log_cl_b = _log_cl_sb(n, 0.0, r, b, db)

    def f(s: float) -> float:
        return _log_cl_sb(n, s, r, b, db) - log_cl_b - log_alpha

    lo, hi = s0, 2.0 * s0 + 1.0  # a normalisation prior only widens the signal: the limit is >= s0
    while f(hi) > 0.0:
        lo, hi = hi, 2.0 * hi
    return brentq(f, lo, hi, xtol=1e-12, rtol=1e-13)


def signal_upper_limit(n_obs, background=0.0, background_uncertainty=0.0, normalisation_uncertainty=0.0,
                       cl=0.9) -> float:
    """Upper limit on the expected signal (events, at the nominal normalisation) by CLs with the
    background (Gamma prior, mean ``background``, sd ``background_uncertainty``) and the normalisation
    (Gamma prior on N_K A, relative sd ``normalisation_uncertainty`` in [0, 1)) integrated out
    (module docstring). ``normalisation_uncertainty = 0`` gives :func:`fipscan.stats.upper_limit`.
    """
    n = as_count("observed", n_obs)
    b, db = as_background(background, background_uncertainty)
    r = as_nonnegative("normalisation_uncertainty", normalisation_uncertainty)
    if r >= MAX_RELATIVE_UNCERTAINTY:
        raise InputError(f"normalisation_uncertainty must be below 1 (relative), got {normalisation_uncertainty!r}")
    c = as_cl("cl", cl)
    check_sizes(n, b, db, "cls")
    return float(_signal_upper(n, b, db, r, c))


def br_upper_limit(n_obs, background, background_uncertainty, acceptance, n_kaons, n_kaons_uncertainty=0.0,
                   acceptance_uncertainty=0.0, cl=0.9) -> float:
    """Upper limit on the branching ratio: :func:`signal_upper_limit` times B_SES = 1/(N_K A).

    ``acceptance`` in (0, 1]; ``n_kaons`` > 0 kaon decays in the fiducial volume; the uncertainties
    are absolute standard deviations (their relative sizes add in quadrature into the normalisation
    prior). Scales exactly as 1/N_K when the relative uncertainty is kept.
    """
    return rare_decay_report(n_obs, background, background_uncertainty, acceptance, n_kaons=n_kaons,
                             n_kaons_uncertainty=n_kaons_uncertainty, acceptance_uncertainty=acceptance_uncertainty,
                             cl=cl)["br_upper_limit"]


def rare_decay_report(n_obs, background, background_uncertainty, acceptance, *, n_kaons=None,
                      n_kaons_uncertainty=0.0, normalisation=None, acceptance_uncertainty=0.0, cl=0.9,
                      projection=None) -> dict:
    """Machine-readable rare-decay limit (the CLI's ``--json``): inputs echoed plus the results.

    Give exactly one of ``n_kaons`` (with ``n_kaons_uncertainty``) or ``normalisation``, a mapping with
    keys ``candidates``, ``br``, ``br_uncertainty``, ``acceptance`` and optionally
    ``acceptance_uncertainty`` (:func:`n_kaons_from_normalisation`). ``projection``: a future N_K.

    Keys: ``br_upper_limit``; ``signal_upper_limit`` (events at the nominal N_K A);
    ``single_event_sensitivity`` 1/(N_K A) and its ``single_event_sensitivity_uncertainty``; ``method``
    (:data:`METHOD`); ``observed``, ``background``, ``background_uncertainty``, ``acceptance``,
    ``acceptance_uncertainty``, ``n_kaons``, ``n_kaons_uncertainty``, ``n_kaons_source`` ("direct" or
    "normalisation", then also ``normalisation``), ``relative_normalisation_uncertainty``, ``cl``,
    ``background_prior`` / ``normalisation_prior`` ("gamma" or "none"). With ``projection``, a
    ``projection`` dict: ``n_kaons``, ``scale`` (its ratio to N_K), ``single_event_sensitivity``,
    ``br_upper_limit`` (the same n, b, db and relative uncertainties: exactly the present limit / scale)
    and ``br_upper_limit_expected`` (the median expected limit with the background and its sd scaled by
    ``scale``, from the median count of the background-only distribution), with that
    ``background``, ``background_uncertainty`` and ``median_observed``.
    """
    n = as_count("observed", n_obs)
    b, db = as_background(background, background_uncertainty)
    a = _acceptance("acceptance", acceptance)
    da = as_nonnegative("acceptance_uncertainty", acceptance_uncertainty)
    c = as_cl("cl", cl)
    check_sizes(n, b, db, "cls")
    if (n_kaons is None) == (normalisation is None):
        raise InputError("give either the number of kaon decays (n_kaons) or a normalisation channel, "
                         + ("not both" if n_kaons is not None else "neither was given"))
    report: dict = {"observed": n, "background": b, "background_uncertainty": db, "acceptance": a,
                    "acceptance_uncertainty": da}
    if normalisation is not None:
        norm = dict(normalisation)
        unknown = set(norm) - {"candidates", "br", "br_uncertainty", "acceptance", "acceptance_uncertainty"}
        missing = {"candidates", "br", "acceptance"} - set(norm)
        if unknown or missing:
            raise InputError(f"normalisation needs candidates, br, acceptance (and optionally br_uncertainty, "
                             f"acceptance_uncertainty); missing {sorted(missing)}, unknown {sorted(unknown)}")
        nk, dnk = n_kaons_from_normalisation(norm["candidates"], norm["br"], norm.get("br_uncertainty", 0.0),
                                             norm["acceptance"], norm.get("acceptance_uncertainty", 0.0))
        report["n_kaons_source"] = "normalisation"
        report["normalisation"] = {
            "candidates": as_count("normalisation candidates", norm["candidates"]),
            "br": float(norm["br"]), "br_uncertainty": float(norm.get("br_uncertainty", 0.0)),
            "acceptance": float(norm["acceptance"]),
            "acceptance_uncertainty": float(norm.get("acceptance_uncertainty", 0.0))}
    else:
        nk = as_positive("n_kaons", n_kaons)
        dnk = as_nonnegative("n_kaons_uncertainty", n_kaons_uncertainty)
        report["n_kaons_source"] = "direct"
    r_nk = _relative("n_kaons_uncertainty", nk, dnk)
    r_a = _relative("acceptance_uncertainty", a, da)
    r = math.hypot(r_nk, r_a)
    if r >= MAX_RELATIVE_UNCERTAINTY:
        raise InputError(f"the relative normalisation uncertainty {100.0 * r:.4g}% is 100% or more: no "
                         "meaningful limit")
    ses = 1.0 / (nk * a)
    if not (math.isfinite(ses) and ses > 0.0):
        raise InputError(f"n_kaons * acceptance = {nk * a!r} gives no finite single-event sensitivity")
    s_up = _signal_upper(n, b, db, r, c)
    report.update({
        "n_kaons": nk, "n_kaons_uncertainty": dnk, "relative_normalisation_uncertainty": r, "cl": c,
        "method": METHOD,
        "background_prior": "gamma" if db > 0.0 else "none",
        "normalisation_prior": "gamma" if r > 0.0 else "none",
        "single_event_sensitivity": ses, "single_event_sensitivity_uncertainty": ses * r,
        "signal_upper_limit": s_up, "br_upper_limit": s_up * ses,
    })
    if projection is not None:
        nk_f = as_positive("projection", projection)
        scale = nk_f / nk
        b_f, db_f = b * scale, db * scale
        check_sizes(0, b_f, db_f, "cls")
        n_med = _quantile_counts(b_f, db_f)["0"] if b_f > 0.0 else 0
        ses_f = 1.0 / (nk_f * a)
        report["projection"] = {
            "n_kaons": nk_f, "scale": scale, "single_event_sensitivity": ses_f,
            "br_upper_limit": s_up * ses_f,
            "background": b_f, "background_uncertainty": db_f, "median_observed": int(n_med),
            "br_upper_limit_expected": _signal_upper(int(n_med), b_f, db_f, r, c) * ses_f,
        }
    return report
