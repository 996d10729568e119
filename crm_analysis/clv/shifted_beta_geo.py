"""The shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007, 2010).

Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention.
*Journal of Interactive Marketing* 21(1), 76-90 (the model and its fit to
the "regular" and "high end" cohorts; there the parameters are called
alpha and beta).

Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a
contractual setting: the perils of ignoring heterogeneity. *Marketing
Science* 29(1), 85-93 (the discounted expected residual lifetime, DERL).

Setting: contracts renewed period by period (subscriptions, memberships)
where the firm sees each cancellation. At each renewal opportunity a
customer cancels with probability ``theta``, constant over time for that
customer, ``theta ~ Beta(gamma, delta)`` across customers. ``T`` is the
period in which a customer cancels (``T = 1`` at the first renewal):

* ``P(T = t) = B(gamma + 1, delta + t - 1) / B(gamma, delta)``
* ``S(t) = P(T > t) = B(gamma, delta + t) / B(gamma, delta)``
* retention rate ``r_t = S(t) / S(t - 1) = (delta + t - 1) / (gamma + delta + t - 1)``,
  rising with ``t`` because the customers prone to cancel leave first.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._validation import as_frame, as_weights, check_discount_rate, collapse_rows, numeric_column, warn_unused_count_column
from .base import BaseLikelihoodModel

__all__ = ["ShiftedBetaGeoModel", "survival_to_renewals"]


def survival_to_renewals(survival: Sequence[float], *, n_customers: float | None = None) -> pd.DataFrame:
    """Turn a cohort's survival curve into renewal records with counts.

    Parameters
    ----------
    survival : sequence of float
        Customers still active at the start and after each of ``t = 1..k``
        renewal opportunities: counts (first value = cohort size), or shares
        / percentages (relative to the first value) together with
        ``n_customers``.
    n_customers : float, optional
        Cohort size, needed when ``survival`` holds shares or percentages
        (the estimates do not depend on it; their standard errors do).

    Returns
    -------
    pandas.DataFrame
        ``renewals``, ``churned``, ``count``: ``N (S(t-1) - S(t))`` customers
        cancelled at opportunity ``t`` (``renewals = t - 1``), ``N S(k)``
        still active after ``k`` renewals (censored).

    Raises
    ------
    ValueError
        Fewer than two values, non-finite or negative values, a first value
        of 0, an increase (customers cannot come back), or counts that are
        not whole numbers without ``n_customers``.
    """
    s = np.asarray(survival, dtype=float)
    if s.ndim != 1 or s.size < 2:
        raise InputError(f"survival needs the active customers at t = 0 and at least one later period, got {shown(survival)}")
    if not np.all(np.isfinite(s)) or np.any(s < 0) or s[0] <= 0:
        raise InputError(f"survival values must be finite and >= 0 with a positive first value, got {s.tolist()}")
    up = np.flatnonzero(np.diff(s) > 1e-12 * s[0])
    if up.size:
        t = int(up[0]) + 1
        raise InputError(
            f"survival rises from {s[t - 1]:g} to {s[t]:g} at period {t}: a cohort's active customers can only fall "
            "(a survival curve of one acquisition cohort, not active customers of several cohorts)"
        )
    if n_customers is None:
        if np.any(s != np.round(s)):
            raise InputError(
                f"survival values {s.tolist()} are not whole counts: give n_customers (the cohort size) when they are "
                "shares or percentages"
            )
        counts = s
    else:
        if not (np.isfinite(n_customers) and n_customers > 0):
            raise InputError(f"n_customers must be a positive number, got {shown(n_customers)}")
        counts = float(n_customers) * s / s[0]
    k = s.size - 1
    lost = counts[:-1] - counts[1:]
    return pd.DataFrame(
        {
            "renewals": np.concatenate([np.arange(k), [k]]).astype(float),
            "churned": np.concatenate([np.ones(k, bool), [False]]),
            "count": np.concatenate([lost, [counts[-1]]]),
        }
    )


class ShiftedBetaGeoModel(BaseLikelihoodModel):
    """Shifted-beta-geometric model of contract renewals (sBG).

    Pick it for contractual settings with observed cancellations and
    discrete renewal periods (annual or monthly subscriptions): it projects
    a cohort's retention beyond the observed periods and values customers
    by their discounted expected residual lifetime (:meth:`derl`). Where
    customers leave unseen, use :class:`BetaGeoBetaBinomModel` (discrete
    opportunities) or :class:`BetaGeoModel` / :class:`ParetoNBDModel`.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters.

    Attributes
    ----------
    params_ : pandas.Series
        ``gamma``, ``delta`` of the beta distribution of the cancellation
        probability (the 2007 paper's alpha, beta).
    fit_result_ : FitResult
        Log-likelihood, AIC, BIC, standard errors, covariance.
    """

    _param_names = ("gamma", "delta")
    _analytic_gradient = True

    def __init__(self, *, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)

    def fit(
        self,
        data: pd.DataFrame,
        *,
        renewals_col: str = "renewals",
        churned_col: str = "churned",
        weights: Any = None,
    ) -> "ShiftedBetaGeoModel":
        """Fit on per-customer renewal records.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer (or group, with ``weights``).
        renewals_col : str
            Renewals made (whole number ``>= 0``).
        churned_col : str
            Whether the customer cancelled at the next opportunity (True /
            1: ``T = renewals + 1``) or is still active (False / 0:
            ``T > renewals``, censored).
        weights : None, str or array-like, optional
            Customers per row.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Missing columns, negative or non-integer renewals, churn flags
            other than True/False/1/0, no cancellation or no renewal in the
            data (then the parameters are not identified).
        ModelFitError
            The optimiser failed.
        """
        data = as_frame(data, columns=(renewals_col, churned_col))
        ren = numeric_column(data, renewals_col, "renewals")
        bad = (ren < 0) | (ren != np.round(ren))
        if bad.any():
            raise InputError(
                f"renewals column {renewals_col!r} has {int(bad.sum())} negative or non-integer value(s) "
                f"(e.g. {ren[bad][:3].tolist()}); it counts renewals made, 0, 1, 2, ..."
            )
        check_columns({"churned_col": churned_col}, data.columns, table="data")
        raw = data[churned_col]
        ch = pd.to_numeric(raw.astype("object").map({True: 1, False: 0, 1: 1, 0: 0, 1.0: 1, 0.0: 0}), errors="coerce")
        n_bad = int(ch.isna().sum())
        if n_bad:
            raise InputError(
                f"churned column {churned_col!r} has {n_bad} value(s) that are not True/False/1/0 "
                f"(e.g. {raw[ch.isna()].head(3).tolist()})"
            )
        churned = ch.to_numpy(dtype=float)
        warn_unused_count_column(data, weights, type(self).__name__)
        w = as_weights(data, weights)
        (r_u, c_u), counts = collapse_rows([ren, churned], w)
        if counts.sum() <= 0:
            raise InputError("no customers to fit (empty data or all weights zero)")
        n_churn = float(counts[c_u == 1].sum())
        n_renew = float(counts[r_u > 0].sum())
        if n_churn == 0 or n_renew == 0:
            raise InputError(
                f"ShiftedBetaGeoModel needs both cancellations and renewals to estimate how the cancellation "
                f"probability varies ({n_churn:g} cancellation(s), {n_renew:g} customer(s) with a renewal)"
            )
        self._fit_info = f"{counts.sum():g} customer(s), {n_churn:g} cancellation(s)"
        self.columns_ = {"renewals": renewals_col, "churned": churned_col}
        self.not_identified_ = []
        self._fit_arrays((r_u, c_u), counts)
        return self

    def fit_survival(self, survival: Sequence[float], *, n_customers: float | None = None) -> "ShiftedBetaGeoModel":
        """Fit on one cohort's survival curve (see :func:`survival_to_renewals`).

        Parameters
        ----------
        survival : sequence of float
            Active customers at ``t = 0, 1, ..., k`` (counts, or shares /
            percentages with ``n_customers``).
        n_customers : float, optional
            Cohort size when ``survival`` holds shares.

        Returns
        -------
        self
        """
        records = survival_to_renewals(survival, n_customers=n_customers)
        return self.fit(records, weights="count")

    # ---- likelihood (written once) -----------------------------------------
    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, np.ndarray]:
        """Per row: ``log P(T = r + 1)`` for a cancellation, ``log S(r)`` for an active customer; gradient in log params."""
        r, churned = arrays
        g, d = np.exp(log_params)
        c = churned > 0
        # P(T = r+1) = B(g+1, d+r)/B(g, d); S(r) = B(g, d+r)/B(g, d)
        ga = np.where(c, g + 1.0, g)
        ll = special.betaln(ga, d + r) - special.betaln(g, d)
        psi_all = special.digamma(ga + d + r)
        psi0 = special.digamma(g + d)
        dg = special.digamma(ga) - psi_all - special.digamma(g) + psi0
        dd = special.digamma(d + r) - psi_all - special.digamma(d) + psi0
        return ll, np.column_stack([g * dg, d * dd])

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        return [np.log([g, d]) for g, d in ((1.0, 1.0), (0.5, 2.0), (2.0, 10.0))]

    # ---- projections ------------------------------------------------------------
    def _gd(self) -> tuple[float, float]:
        self._check_fitted()
        g, d = self.params_.to_numpy(dtype=float)
        return float(g), float(d)

    def survival(self, t: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Share of a cohort still active after ``t`` renewal opportunities, ``S(t) = B(g, d+t)/B(g, d)``.

        Parameters
        ----------
        t : int or array-like of int
            Periods ``>= 0``.

        Returns
        -------
        numpy.ndarray
            Shaped like ``t``.
        """
        g, d = self._gd()
        t_arr = _periods(t, "t")
        return np.exp(special.betaln(g, d + t_arr) - special.betaln(g, d))

    def churn_probability(self, t: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """``P(T = t) = B(g+1, d+t-1)/B(g, d)``: share of the cohort cancelling at opportunity ``t >= 1``."""
        g, d = self._gd()
        t_arr = _periods(t, "t")
        if np.any(t_arr < 1):
            raise InputError("t must be >= 1 for P(T = t) (the first cancellation opportunity is t = 1)")
        return np.exp(special.betaln(g + 1.0, d + t_arr - 1.0) - special.betaln(g, d))

    def retention_rate(self, t: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Retention rate of the survivors at opportunity ``t >= 1``: ``(d + t - 1)/(g + d + t - 1)``."""
        g, d = self._gd()
        t_arr = _periods(t, "t")
        if np.any(t_arr < 1):
            raise InputError("t must be >= 1 for a retention rate (survivors of period t - 1 renewing at t)")
        return (d + t_arr - 1.0) / (g + d + t_arr - 1.0)

    def derl(self, discount_rate: float, *, renewals: int | Sequence[int] | np.ndarray = 0) -> np.ndarray:
        """Discounted expected residual lifetime of an active customer (Fader & Hardie 2010, eq. 6).

        For a customer who has made ``n - 1`` renewals and is just before
        the ``n``-th renewal decision,
        ``DERL = sum_{t>=n} P(T > t | T > n-1) / (1+d)^(t-n)
        = (delta+n-1)/(gamma+delta+n-1) * 2F1(1, delta+n; gamma+delta+n; 1/(1+d))``,
        the number of further payments expected, discounted to the decision
        point (the first one undiscounted). Multiply by the payment per
        period for the residual value.

        Parameters
        ----------
        discount_rate : float
            Discount rate per period ``d > 0``.
        renewals : int or array-like of int, default 0
            Renewals made so far, ``n - 1 >= 0``.

        Returns
        -------
        numpy.ndarray
            Shaped like ``renewals``.

        Raises
        ------
        ValueError
            ``discount_rate`` not positive and finite (the undiscounted sum
            diverges for ``gamma <= 1``), or invalid ``renewals``.
        """
        g, d = self._gd()
        discount_rate = check_discount_rate(discount_rate, per="period", allow_zero=False)
        n = _periods(renewals, "renewals") + 1.0
        z = 1.0 / (1.0 + float(discount_rate))
        return (d + n - 1.0) / (g + d + n - 1.0) * special.hyp2f1(1.0, d + n, g + d + n, z)

    def sample(self, n_customers: int, n_periods: int, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate renewal records: ``renewals`` and ``churned`` observed over ``n_periods`` opportunities."""
        g, d = self._gd()
        rng = np.random.default_rng(seed)
        theta = rng.beta(g, d, int(n_customers))
        T = rng.geometric(theta)
        k = int(_periods(n_periods, "n_periods"))
        churned = T <= k
        return pd.DataFrame({"renewals": np.where(churned, T - 1, k).astype(float), "churned": churned, "theta": theta})


def _periods(t: Any, name: str) -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise InputError(f"{name} must be whole numbers of periods >= 0, got {np.ravel(arr)[:5].tolist()}")
    return arr
