"""The Gamma-Gamma model of monetary value.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using
iso-value curves for customer base analysis. *Journal of Marketing Research*
42(4), 415-430; Fader, P. S. & Hardie, B. G. S. (2013). "The Gamma-Gamma
Model of Monetary Value" (http://brucehardie.com/notes/025/).

Transaction values of a customer are i.i.d. ``Gamma(p, nu)``; across customers
``nu ~ Gamma(q, v)``. The model is fitted on the mean repeat-transaction value
``m`` (``monetary_value``) and the number of repeat transactions ``x`` of the
customers with ``x > 0``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crm_analysis._validate import check_columns
from crm_analysis.exceptions import CRMAnalysisWarning, InputError, SpendCorrelationWarning

from ._special import _LARGE, digamma_difference, log_beta, trigamma_difference
from ._validation import as_weights as _as_weights
from ._validation import (
    as_frame, data_moments, distinct_values, refuse_bad_frequency, spend_exclusions_by_reason, spend_of_repeat_buyers,
)
from ._validation import numeric_column as _numeric_column
from .base import BaseLikelihoodModel, collapse_rows, wdot

#: What to do with customers whose mean repeat purchase value is zero or negative (issue #12, pt 4).
_NONPOSITIVE_FIX = (
    "Leave them out of the spend fit, counted, and value them with the population mean spend: "
    "crm_analysis.clv.fit_spend_model (fit) and crm_analysis.clv.expected_spend (values) do both, "
    "spend_exclusions gives the mask and the counts."
)

__all__ = ["GammaGammaModel"]


def _spend_correlation(x: np.ndarray, m: np.ndarray) -> float:
    """Pearson's correlation of frequency ``x`` and mean spend ``m`` (1-d, the same length, at least 2), NaN where
    either is constant.

    ``np.corrcoef`` without a warning: a constant column has variance 0 and the correlation is 0 / 0, NaN. The same
    value as a guard by ``np.std(.) > 0`` of both columns before ``np.corrcoef`` (~50 us of a fit of a few thousand
    repeat buyers; both are zero exactly where all deviations from the mean are).
    """
    with np.errstate(all="ignore"):
        value = float(np.corrcoef(x, m)[0, 1])
    return float("nan") if math.isnan(value) else value  # (0 / 0 is a NaN with the sign bit set)


class GammaGammaModel(BaseLikelihoodModel):
    """Gamma-Gamma spend model.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).
    correlation_threshold : float, default 0.3
        A :class:`~crm_analysis.exceptions.SpendCorrelationWarning` (a ``CRMAnalysisWarning``, a ``UserWarning``) is issued when the absolute Pearson correlation of
        frequency and monetary value among repeat buyers exceeds this value:
        the model assumes spend is independent of the transaction process.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v``.
    n_excluded_ : int
        Rows excluded from the fit because they have no repeat purchases.
    exclusions_ : dict
        Excluded rows counted by reason; ``"of which monetary value missing (NaN)"``: those without repeat
        purchases whose ``monetary_value`` is missing (allowed there, refused for repeat buyers).
    correlation_ : float
        Pearson correlation of frequency and monetary value among the repeat
        buyers used in the fit.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.
    """

    _param_names = ("p", "q", "v")
    _analytic_gradient = True
    _analytic_hessian = True

    _saved_attributes = ("columns_", "not_identified_", "n_excluded_", "exclusions_", "correlation_")

    def __init__(self, *, penalizer: float = 0.0, correlation_threshold: float = 0.3) -> None:
        super().__init__(penalizer=penalizer)
        self.correlation_threshold = correlation_threshold

    def fit(
        self,
        data: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        monetary_value_col: str = "monetary_value",
        weights: Any = None,
    ) -> "GammaGammaModel":
        """Fit on the repeat buyers of ``data``.

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary with the number of repeat purchases and their
            mean value.
        frequency_col, monetary_value_col : str
            Column names; remembered as defaults of the prediction methods.
        weights : None, str or array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Missing/NaN/negative values, no repeat buyers, non-positive
            monetary value for a repeat buyer, all repeat buyers alike (one
            distinct ``(frequency, monetary_value)``, e.g. a single customer)
            or all with the same mean spend: the parameters are then not
            identified.
        ModelFitError
            The optimiser failed.
        """
        data = as_frame(data, columns=(frequency_col, monetary_value_col))
        x, m, n_missing = self._arrays(data, frequency_col, monetary_value_col, allow_negative=True)
        w = _as_weights(data, weights)
        rep = x > 0
        if not np.any(rep & (w > 0)):
            raise InputError("no repeat buyers (frequency > 0): the Gamma-Gamma model cannot be fitted")
        n_bad = int((rep & (m <= 0)).sum())
        if n_bad:
            raise InputError(
                f"{n_bad} repeat buyer(s) have a zero or negative {monetary_value_col!r} (e.g. a return booked on a "
                f"later day than the purchase; smallest {float(m[rep].min()):g}); the Gamma-Gamma model needs "
                f"positive spend. {_NONPOSITIVE_FIX}"
            )
        self.n_excluded_ = int((~rep).sum())
        self.exclusions_ = spend_exclusions_by_reason(x, n_missing)
        xr, mr, wr = x[rep], m[rep], w[rep]
        self.correlation_ = _spend_correlation(xr, mr) if rep.sum() > 2 else float("nan")
        if abs(self.correlation_) > self.correlation_threshold:
            warnings.warn(
                f"GammaGammaModel: correlation between frequency and monetary value among repeat buyers is "
                f"{self.correlation_:.3f} (threshold {self.correlation_threshold}); the model assumes they are independent",
                SpendCorrelationWarning,
                stacklevel=2,
            )
        (xu, mu), counts = collapse_rows([xr, mr], wr)
        self.columns_ = {"frequency": frequency_col, "monetary_value": monetary_value_col}
        self.not_identified_ = []
        n_rep = float(counts.sum())
        self._n_spend_buyers = n_rep
        self._fit_info = (
            f"{n_rep:g} repeat buyer(s) with positive spend, {len(counts)} distinct (frequency, monetary value) row(s)"
        )
        if len(counts) == 1:
            raise InputError(
                f"GammaGammaModel: all {n_rep:g} repeat buyer(s) have the same frequency {xu[0]:g} and mean spend "
                f"{mu[0]:g}; the model describes how spend varies between customers and between a customer's "
                "transactions, which identical customers cannot show. Fit on more (and different) customers."
            )
        if bool((mu == mu[0]).all()):  # one distinct mean spend (a comparison: no sort)
            raise InputError(
                f"GammaGammaModel: all {n_rep:g} repeat buyers have the same mean spend {mu[0]:g}: with no variation "
                "in spend the likelihood grows without bound as the spread parameters shrink (p, q -> inf), so "
                "p, q, v are not identified. Check the monetary values (a constant price?)."
            )
        self._data_moments = data_moments([xu, mu], counts)
        self._fit_arrays(self._prepare(xu, mu), counts)
        return self

    @staticmethod
    def _arrays(
        data: pd.DataFrame, frequency_col: str, monetary_value_col: str, *, allow_negative: bool = False
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Validated ``x`` and ``m`` (missing spend of customers without repeat purchases set to 0) and the number
        of those missing values (:func:`._validation.spend_of_repeat_buyers`)."""
        check_columns({"frequency column": frequency_col, "monetary_value column": monetary_value_col}, data.columns,
                      table="data")
        x = _numeric_column(data, frequency_col, "frequency")
        m = _numeric_column(data, monetary_value_col, "monetary_value", allow_nan=True)
        refuse_bad_frequency(data, x, frequency_col)
        m, n_missing = spend_of_repeat_buyers(data, x, m, monetary_value_col)  # NaN allowed where frequency is 0
        if not allow_negative and np.any(m < 0):
            raise InputError(
                f"column {monetary_value_col!r} has {int((m < 0).sum())} negative value(s) (smallest "
                f"{float(m.min()):g}). {_NONPOSITIVE_FIX}"
            )
        return x, m, n_missing

    @staticmethod
    def _prepare(x: np.ndarray, m: np.ndarray) -> tuple:
        """Parameter-free parts of the likelihood: distinct ``x`` and row index, total spend ``x m``."""
        ux, ix = distinct_values(x)
        return (x, m, ux, ix, x * m, {})

    def _subset(self, arrays, idx: np.ndarray) -> tuple:
        return self._prepare(arrays[0][idx], arrays[1][idx])

    @staticmethod
    def _weight_terms(arrays, weights: np.ndarray) -> dict:
        """Weighted sums that do not depend on the parameters, cached per weight array."""
        cache = arrays[-1]
        if cache.get("weights") is not weights:
            x, m, ux, ix = arrays[:4]
            wx = weights * x
            lm, lx = np.log(m), np.log(x)
            cache.clear()
            cache.update(
                weights=weights,
                wx=wx,
                Wx=np.bincount(ix, weights=weights, minlength=ux.size),
                Wtot=float(weights.sum()),
                A=wdot(wx, lm) + wdot(wx, lx),  # sum w x (log m + log x)
                B=wdot(weights, lm),  # sum w log m
                Swx=float(wx.sum()),
            )
        return cache

    def _weighted_loglik(
        self, log_params: np.ndarray, arrays, weights: np.ndarray, keep: dict | None = None, gradient: bool = True
    ) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood (Fader & Hardie 2013, eq. 3) and gradient.

        The gamma and digamma functions depend on ``x`` only and are evaluated
        per distinct ``x``; per row only ``log1p(x m / v)`` and ``1/(v + x m)``
        remain. The ``q log v`` terms cancel analytically, which keeps the sums
        accurate when ``q`` and ``v`` are large; so do ``log Gamma(p x + q) -
        log Gamma(p x) - log Gamma(q) = -log B(p x, q)`` and the digamma
        differences, evaluated by :func:`._special.log_beta` and
        :func:`._special.digamma_difference` (the plain ``gammaln`` sum is wrong
        by 6e-5 relatively at ``p x = 1, q = 1e12``).

        ``keep``: a dict that receives intermediate values (``pux``, ``rv``,
        the log-scale gradient parts ``g_p``, ``g_q``) for
        :meth:`_weighted_loglik_hessian`. ``gradient=False``: the log-likelihood only (the same operations, the
        digamma functions and the ``v`` terms left out; the gradient ``None``).
        """
        ux = arrays[2]
        total = arrays[4]
        p, q, v = np.exp(log_params)
        c = self._weight_terms(arrays, weights)
        Wx, wx, Swx = c["Wx"], c["wx"], c["Swx"]
        pux = p * ux
        lv = np.log(v)
        L = np.log1p(total / v)  # log(v + x m) - log(v)
        sL, sxL = wdot(weights, L), wdot(wx, L)
        scipy_range = q < _LARGE and pux[-1] < _LARGE  # (ux is sorted) scipy's range: the same values as the general
        lb = special.betaln(pux, q) if scipy_range else log_beta(pux, q)  # path, psi(p x + q) once for both below
        ll = wdot(Wx, -lb) + p * (c["A"] - lv * Swx - sxL) - c["B"] - q * sL
        if not gradient:
            return float(ll), None
        rv = total / (v + total)  # x m / (v + x m)
        if scipy_range:
            psi_s = special.digamma(pux + q)
            d_p, d_q = psi_s - special.digamma(pux), psi_s - special.digamma(q)
        else:
            d_p, d_q = digamma_difference(pux, q), digamma_difference(q, pux)
        g_p = wdot(Wx * ux, d_p) + c["A"] - lv * Swx - sxL
        g_q = wdot(Wx, d_q) - sL
        # v d/dv = sum w [q x m - p x v] / (v + x m)
        swrv, sxrv = wdot(weights, rv), wdot(wx, rv)
        vg_v = q * swrv - p * (Swx - sxrv)
        if keep is not None:
            keep.update(pux=pux, rv=rv, swrv=swrv, sxrv=sxrv)
        return float(ll), np.array([p * g_p, q * g_q, vg_v])

    def _weighted_loglik_value(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> float:
        """Weighted log-likelihood without the gradient (:meth:`_weighted_loglik` with ``gradient=False``: the same
        value bit for bit; the fit's starts are chosen by it)."""
        return self._weighted_loglik(log_params, arrays, weights, gradient=False)[0]

    def _weighted_loglik_hessian(
        self, log_params: np.ndarray, arrays, weights: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Weighted log-likelihood (Fader & Hardie 2013, eq. 3) with its gradient and Hessian in the log parameters.

        With ``a = p x``, ``psi'`` the trigamma function and ``r = x m / (v + x m)``, the second
        derivatives are ``sum w x^2 [psi'(a + q) - psi'(a)]`` (``p p``), ``sum w x psi'(a + q)``
        (``p q``), ``sum w [psi'(a + q) - psi'(q)]`` (``q q``), and in ``log v`` directly
        ``-p sum w x (1 - r)``, ``q sum w r`` and ``-sum w (q + a) r (1 - r)``. The trigamma
        differences are taken by :func:`._special.trigamma_difference` (stable where ``p x`` or
        ``q`` is huge), per distinct ``x``. Checked against mpmath (30 digits) in
        ``tests/clv/test_gamma_gamma.py``.
        """
        keep: dict = {}
        ll, g_log = self._weighted_loglik(log_params, arrays, weights, keep=keep)
        p, q, v = np.exp(log_params)
        ux = arrays[2]
        c = self._weight_terms(arrays, weights)
        Wx, wx = c["Wx"], c["wx"]
        pux, rv = keep["pux"], keep["rv"]
        tri_s = special.zeta(2.0, pux + q)  # psi'(p x + q): no cancellation, also for huge arguments
        if q < _LARGE and pux[-1] < _LARGE:  # (ux is sorted) the plain differences, with psi'(p x + q) once
            t_p, t_q = tri_s - special.zeta(2.0, pux), tri_s - special.zeta(2.0, q)
        else:
            t_p = trigamma_difference(pux, q)  # psi'(p x + q) - psi'(p x)
            t_q = trigamma_difference(q, pux)  # psi'(p x + q) - psi'(q)
        Wxx = Wx * ux
        H = np.empty((3, 3))
        H[0, 0] = p * p * wdot(Wxx * ux, t_p) + g_log[0]
        H[0, 1] = H[1, 0] = p * q * wdot(Wxx, tri_s)
        H[1, 1] = q * q * wdot(Wx, t_q) + g_log[1]
        H[0, 2] = H[2, 0] = -p * (c["Swx"] - keep["sxrv"])
        H[1, 2] = H[2, 1] = q * keep["swrv"]
        H[2, 2] = -wdot(weights * (q + p * arrays[0]), rv * (1.0 - rv))
        return ll, g_log, H

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        m = arrays[1]
        mean_m = wdot(weights, m) / float(weights.sum())
        starts = []
        for p in (1.0, 5.0):
            for q in (2.0, 5.0):
                # population mean p v / (q - 1) matched to the sample mean
                starts.append(np.log([p, q, mean_m * (q - 1.0) / p]))
        starts.append(np.zeros(3))
        return starts

    def _few_data_count(self) -> tuple[float, str, str, str] | None:
        """The repeat buyers with positive spend for the few-data note (findings_12u F6: with 2 or 3 of them the
        warning's "Why", q and v growing together, is because there are too few customers to show any variation)."""
        n = getattr(self, "_n_spend_buyers", None)
        if n is None:
            return None
        return (n, "customer(s) with repeat purchases of positive value", "spend model",
                "the heterogeneity of the spend scale is estimated from the differences between these customers' "
                "mean spends")

    def _not_identified_advice(self, weak: list[str], values: dict[str, float]) -> str:
        """The spend model's own advice for an IdentificationWarning (not the purchase models' "NBDModel" text).

        With q and v growing together (no between-customer heterogeneity of the spend scale), the conditional
        expected spend ``(p v + p x mbar) / (p x + q - 1)`` tends to the population mean ``p v / (q - 1)`` for
        every customer (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 5: the weight of the customer's own mean
        ``p x / (p x + q - 1)`` goes to 0).
        """
        p, q, v = (values.get(n, float("nan")) for n in ("p", "q", "v"))
        if {"q", "v"} <= set(weak) and q > 100.0:
            mean = p * v / (q - 1.0)
            return (
                "For the spend model this is the limit of one spend scale for everyone: every customer's expected "
                f"spend per purchase is then the population mean p v / (q - 1) = {mean:.4g}, whatever their own mean "
                f"repeat purchase value (the weight p x / (p x + q - 1) of their own mean tends to 0 as q grows; q = {q:.3g} "
                "here). The population "
                "mean spend and the CLV totals stay usable; the spread of CLV between customers then comes from "
                "their purchases only. If customers' mean spends do differ, check that the amounts are each "
                "customer's own (not e.g. one basket price for everyone), fit on more repeat buyers or a longer "
                "period; else report the spend as one mean for everyone."
            )
        return (
            "The expected spend of customers with few repeat purchases (which leans on these parameters) is "
            "unreliable; fit on more repeat buyers (customers with a repeat purchase of positive value) or a longer "
            "period, and rely on the population mean spend p v / (q - 1) rather than on per-customer spends."
        )

    def _singular_hessian_advice(self, free: list[str], values: dict[str, float]) -> str:
        """The spend model's advice after a singular Hessian (all of ``free`` then count as not identified)."""
        return self._not_identified_advice(list(free), values)

    def population_mean_spend(self) -> float:
        """Mean transaction value in the population, ``p v / (q - 1)`` (``inf`` if ``q <= 1``)."""
        self._check_fitted()
        p, q, v = self.params_.to_numpy()
        return float(p * v / (q - 1.0)) if q > 1 else float("inf")

    def expected_average_spend(
        self, data: pd.DataFrame, *, frequency_col: str | None = None, monetary_value_col: str | None = None
    ) -> np.ndarray:
        """Conditional expected mean transaction value per customer.

        ``E[Z | x, m] = (p (v + x m)) / (p x + q - 1)``, a weighted average of
        the population mean ``p v/(q-1)`` and the observed mean ``m`` (Fader &
        Hardie 2013, eq. 5); the population mean for ``x = 0``. Where
        ``p x + q <= 1`` (``x = 0`` and ``q <= 1``) the mean does not exist:
        ``inf``, with a :class:`~crm_analysis.exceptions.CRMAnalysisWarning`.
        Repeat buyers with a zero or negative mean value (returns) lie outside
        the model; they get the population mean spend, the package's spend
        rule (:func:`crm_analysis.clv.expected_spend`), with a warning.

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary.
        frequency_col, monetary_value_col : str, optional
            Column names (default: those used in ``fit``).

        Returns
        -------
        numpy.ndarray
            One value per row.

        Raises
        ------
        ValueError
            Missing or non-finite values, or a negative frequency.

        Warns
        -----
        CRMAnalysisWarning
            Repeat buyers with a zero or negative mean value (valued with the
            population mean), or an infinite population mean (``q <= 1``).
        """
        self._check_fitted()
        cols = getattr(self, "columns_", {"frequency": "frequency", "monetary_value": "monetary_value"})
        mcol = monetary_value_col or cols["monetary_value"]
        data = as_frame(data, columns=(frequency_col or cols["frequency"], mcol))
        x, m, _ = self._arrays(data, frequency_col or cols["frequency"], mcol, allow_negative=True)
        p, q, v = self.params_.to_numpy()
        nonpositive = (x > 0) & (m <= 0)
        if nonpositive.any():  # the package's spend rule (crm_analysis.clv.value): the population mean
            warnings.warn(
                f"GammaGammaModel: {int(nonpositive.sum())} repeat buyer(s) have a zero or negative {mcol!r} "
                f"(smallest {float(m[nonpositive].min()):g}), outside the model (positive spend); they are valued "
                "with the population mean spend p v / (q - 1), as fit_clv_models, customer_value_table and the "
                "report do (reason 'mean repeat purchase value <= 0'; crm_analysis.clv.expected_spend gives "
                "each customer's basis).",
                CRMAnalysisWarning,
                stacklevel=2,
            )
            x = np.where(nonpositive, 0.0, x)
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1.0
        undefined = denom <= 0  # only x = 0 with q <= 1: the prior mean p v / (q - 1) does not exist
        if undefined.any():
            warnings.warn(
                f"GammaGammaModel: q = {q:.4g} <= 1, so the population mean spend p v / (q - 1) is infinite and the "
                f"expected spend of the {int(undefined.sum())} customer(s) without repeat purchases (or with p x + q <= 1) "
                "is infinite; their values are inf. The fitted spend distribution has too heavy a tail for a mean.",
                CRMAnalysisWarning,
                stacklevel=2,
            )
        with np.errstate(divide="ignore"):
            return np.where(undefined, np.inf, p * (v + x * m) / np.where(undefined, 1.0, denom))
