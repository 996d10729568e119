"""The BG/BB model of discrete-time repeat transactions (Fader, Hardie & Shang 2010).

Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in
a discrete-time noncontractual setting. *Marketing Science* 29(6),
1086-1108. Equation numbers below refer to that paper.

Setting: transactions can only happen at discrete *opportunities* (an
annual appeal of a charity, a yearly conference, a weekly event). After the
first transaction (period 0), at each of the ``n`` following opportunities a
customer who is still *alive* transacts with probability ``p`` and, at the
start of each opportunity, *dies* (leaves for good) with probability
``theta``; ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``
across customers. A customer is summarised by ``x`` (repeat transactions),
``t_x`` (the opportunity of the last one, 0 if none) and ``n``
(opportunities observed).
"""

from __future__ import annotations

from crm_analysis.exceptions import BoundaryWarning, InputError, InputTypeError, shown

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._validation import (
    as_frame, as_weights, collapse_rows, numeric_column, refuse_recency_without_repeat, refuse_rows,
    warn_unused_count_column,
)
from .base import BaseLikelihoodModel

__all__ = ["BetaGeoBetaBinomModel", "check_discrete_data", "simulate_bgbb"]


def _integer_column(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    arr = numeric_column(data, col, what)
    subject = f"{what} column {col!r}"
    refuse_rows(data, arr < 0, "negative value(s)", "counts of opportunities are >= 0; check how the column was "
                "computed", subject=subject)
    refuse_rows(data, arr != np.round(arr), "non-integer value(s)", "the BG/BB counts discrete transaction "
                "opportunities: use whole numbers of periods", subject=subject)
    return arr


def check_discrete_data(
    data: pd.DataFrame,
    *,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    n_periods_col: str = "n_periods",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a discrete-time summary ``(x, t_x, n)`` in the conventions of Fader, Hardie & Shang (2010).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer (or group of identical customers).
    frequency_col, recency_col, n_periods_col : str
        Columns of ``x`` (repeat transactions), ``t_x`` (opportunity of the
        last repeat transaction, 0 when ``x = 0``) and ``n`` (opportunities
        observed after the first transaction).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``x``, ``t_x``, ``n`` as floats, shape ``(len(data),)``.

    Raises
    ------
    ValueError
        Missing or non-numeric columns, missing, negative or non-integer
        values, ``t_x > n``, ``x > t_x`` (at most one transaction per
        opportunity), or ``t_x > 0`` with ``x = 0``; the message names the
        column, the number of rows, their first labels and the fix (the
        wording of :func:`~crm_analysis.clv.check_transaction_data`).
    """
    data = as_frame(data, columns=(frequency_col, recency_col, n_periods_col))
    x = _integer_column(data, frequency_col, "frequency")
    t_x = _integer_column(data, recency_col, "recency")
    n = _integer_column(data, n_periods_col, "n_periods")
    refuse_rows(data, t_x > n, f"recency ({recency_col!r}) greater than the number of opportunities "
                f"({n_periods_col!r})", "recency is the opportunity of the last repeat transaction, one of the n "
                "observed after the first, so recency <= n; check that both count the same periods")
    refuse_rows(data, x > t_x, f"frequency ({frequency_col!r}) greater than recency ({recency_col!r})",
                "at most one transaction per opportunity, so x <= t_x; check that frequency counts opportunities "
                "with a transaction, not transactions")
    refuse_recency_without_repeat(data, x, t_x, recency_col)
    return x, t_x, n


class BetaGeoBetaBinomModel(BaseLikelihoodModel):
    """Beta-geometric/beta-Bernoulli model of discrete-time repeat transactions (BG/BB).

    Pick it when transactions can only occur at fixed, shared opportunities
    (or are recorded per period) and customers can leave unseen:
    yes/no per period (donations per annual appeal, attendance per yearly
    event). For continuous time use :class:`BetaGeoModel` or
    :class:`ParetoNBDModel`; for contracts with observed cancellations,
    :class:`ShiftedBetaGeoModel`.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta`` (transaction probability ``p ~ Beta(alpha,
        beta)``), ``gamma``, ``delta`` (dropout probability ``theta ~
        Beta(gamma, delta)``).
    fit_result_ : FitResult
        Log-likelihood, AIC, BIC, standard errors, covariance.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Examples
    --------
    >>> m = BetaGeoBetaBinomModel().fit(donations, n_periods_col="periods", weights="weights")  # doctest: +SKIP
    >>> m.expected_purchases(5, donations)  # doctest: +SKIP
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _analytic_gradient = True
    _saved_attributes = ("columns_", "not_identified_")

    def __init__(self, *, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)

    def fit(
        self,
        data: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_periods_col: str = "n_periods",
        weights: Any = None,
    ) -> "BetaGeoBetaBinomModel":
        """Fit by maximum likelihood (eq. 5).

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer, or per group of identical customers with
            ``weights`` (the usual recency/frequency table).
        frequency_col, recency_col, n_periods_col : str
            Columns of ``x``, ``t_x`` and ``n`` (see
            :func:`check_discrete_data`); remembered as defaults of the
            prediction methods.
        weights : None, str or array-like, optional
            Number of customers per row (a column name or one value per row).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid data (see :func:`check_discrete_data`), no customers, no
            repeat transaction at all, or one distinct ``(x, t_x, n)`` row.
        ModelFitError
            The optimiser failed.
        """
        data = as_frame(data, columns=(frequency_col, recency_col, n_periods_col))
        x, t_x, n = check_discrete_data(data, frequency_col=frequency_col, recency_col=recency_col, n_periods_col=n_periods_col)
        warn_unused_count_column(data, weights, type(self).__name__)
        w = as_weights(data, weights)
        if len(x) == 0 or w.sum() <= 0:
            raise InputError("no customers to fit (empty data or all weights zero)")
        if not np.any((x > 0) & (w > 0)):
            raise InputError(
                f"no repeat transactions (all {w.sum():g} customers have frequency 0): the transaction and "
                "dropout probabilities cannot be separated from these data"
            )
        (xu, tu, nu), counts = collapse_rows([x, t_x, n], w)
        self._fit_info = f"{counts.sum():g} customer(s), {len(counts)} distinct (frequency, recency, n_periods) row(s)"
        if len(counts) == 1:
            raise InputError(
                f"BetaGeoBetaBinomModel: all customers have the same (frequency, recency, n_periods) = "
                f"({xu[0]:g}, {tu[0]:g}, {nu[0]:g}); the model describes how customers differ, which identical "
                "customers cannot show"
            )
        self.columns_ = {"frequency": frequency_col, "recency": recency_col, "n_periods": n_periods_col}
        self.not_identified_ = []
        self._fit_arrays((xu, tu, nu), counts)
        self._warn_if_homogeneous()
        return self

    def _warn_if_homogeneous(self) -> None:
        """Both parameters of a beta mixing distribution huge: no heterogeneity, the optimum lies at infinity.

        ``alpha, beta -> inf`` (or ``gamma, delta``) with their ratio fixed is
        the limit where every customer has the same ``p`` (or ``theta``);
        the optimiser stops somewhere along that ridge and the two values
        are arbitrary, only their mean is estimated.
        """
        for a, b, what in (("alpha", "beta", "transaction probability p"), ("gamma", "delta", "dropout probability theta")):
            va, vb = float(self.params_[a]), float(self.params_[b])
            if min(va, vb) > 1e4:
                warnings.warn(
                    f"BetaGeoBetaBinomModel: {a} = {va:.3g} and {b} = {vb:.3g} run off to infinity together: the data "
                    f"show no variation of the {what} between customers (it is {va / (va + vb):.4g} for everyone); "
                    f"only that mean is estimated, not {a} and {b} ({self._fit_info}). If each row stands for "
                    "several customers, pass weights=",
                    BoundaryWarning,
                    stacklevel=3,
                )

    # ---- likelihood (written once: eq. 5 with its gradient) ----------------
    @staticmethod
    def _terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Log terms of eq. (5), shape ``(rows, 1 + max(n - t_x))`` (``-inf`` where absent), and their gradients.

        Column 0: alive through all ``n`` opportunities,
        ``B(a+x, b+n-x) B(g, d+n) / (B(a, b) B(g, d))``; column ``1 + i``:
        died at the start of opportunity ``t_x + i + 1``,
        ``B(a+x, b+t_x-x+i) B(g+1, d+t_x+i) / (B(a, b) B(g, d))``.
        Gradients w.r.t. ``(alpha, beta, gamma, delta)`` on the natural scale.
        """
        a, b, g, d = params
        K = int(np.max(n - t_x)) if x.size else 0
        i = np.arange(K)[None, :]
        valid = i < (n - t_x)[:, None]
        bb = np.concatenate([(b + n - x)[:, None], b + (t_x - x)[:, None] + i], axis=1)  # second beta argument, p
        g1 = np.concatenate([np.full((x.size, 1), g), np.full((x.size, K), g + 1.0)], axis=1)
        dd = np.concatenate([(d + n)[:, None], d + t_x[:, None] + i], axis=1)
        ax = (a + x)[:, None]
        logt = special.betaln(ax, bb) - special.betaln(a, b) + special.betaln(g1, dd) - special.betaln(g, d)
        mask = np.concatenate([np.ones((x.size, 1), bool), valid], axis=1)
        logt = np.where(mask, logt, -np.inf)
        dig_ab, dig_gd = special.digamma(a + b), special.digamma(g + d)
        psi_p = special.digamma(ax + bb)
        psi_q = special.digamma(g1 + dd)
        grads = [
            special.digamma(ax) - psi_p - special.digamma(a) + dig_ab,
            special.digamma(bb) - psi_p - special.digamma(b) + dig_ab,
            special.digamma(g1) - psi_q - special.digamma(g) + dig_gd,
            special.digamma(dd) - psi_q - special.digamma(d) + dig_gd,
        ]
        return logt, grads

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, np.ndarray]:
        """Log-likelihood per row (eq. 5) and its gradient w.r.t. the log parameters."""
        x, t_x, n = arrays
        params = np.exp(log_params)
        logt, grads = self._terms(params, x, t_x, n)
        ll = special.logsumexp(logt, axis=1)
        wts = np.exp(logt - ll[:, None])  # share of each latent path in the likelihood
        g = np.column_stack([params[j] * np.sum(wts * np.where(np.isfinite(logt), grads[j], 0.0), axis=1) for j in range(4)])
        return ll, g

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        x, t_x, n = arrays
        pbar = float(np.clip(weights @ x / max(weights @ np.maximum(t_x, 1.0), 1e-12), 0.05, 0.95))
        starts = [np.log([pbar * s, (1 - pbar) * s, g, d]) for s in (1.0, 3.0) for g, d in ((0.5, 2.0), (1.0, 5.0))]
        starts.append(np.zeros(4))
        return starts

    # ---- predictions --------------------------------------------------------
    def _data(self, data: pd.DataFrame, **columns: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        cols = getattr(self, "columns_", {"frequency": "frequency", "recency": "recency", "n_periods": "n_periods"})
        unknown = set(columns) - {"frequency_col", "recency_col", "n_periods_col"}
        if unknown:
            raise InputTypeError(f"unknown column argument(s) {sorted(unknown)}; use frequency_col, recency_col, n_periods_col")
        return check_discrete_data(
            data,
            frequency_col=columns.get("frequency_col") or cols["frequency"],
            recency_col=columns.get("recency_col") or cols["recency"],
            n_periods_col=columns.get("n_periods_col") or cols["n_periods"],
        )

    def _log_likelihood_rows(self, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> np.ndarray:
        logt, _ = self._terms(self.params_.to_numpy(dtype=float), x, t_x, n)
        return special.logsumexp(logt, axis=1)

    def probability_alive(self, data: pd.DataFrame, *, future: int = 1, **columns: str) -> np.ndarray:
        """Probability that each customer is alive at opportunity ``n + future`` (eq. 11 for ``future = 1``).

        ``P(alive at n+m | x, t_x, n) = B(a+x, b+n-x)/B(a, b) B(g, d+n+m)/B(g, d) / L(x, t_x, n)``:
        alive through the ``n`` observed opportunities (the first term of
        eq. 5) and not dying at the starts of the next ``m``.

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary.
        future : int, default 1
            ``m >= 0``: 1 is the paper's P(alive) "in period n + 1"; 0 gives
            the probability of having been alive through opportunity ``n``.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``n_periods_col``.

        Returns
        -------
        numpy.ndarray
            One probability per row.

        Raises
        ------
        ValueError
            Invalid data or a negative / non-integer ``future``.
        """
        m = _check_periods(future, "future")
        x, t_x, n = self._data(data, **columns)
        a, b, g, d = self.params_.to_numpy(dtype=float)
        num = special.betaln(a + x, b + n - x) - special.betaln(a, b) + special.betaln(g, d + n + m) - special.betaln(g, d)
        return np.exp(num - self._log_likelihood_rows(x, t_x, n))

    def _survival_sum(self, start: np.ndarray, horizon: int) -> np.ndarray:
        """``sum_{t=start+1}^{start+horizon} B(g, d+t)/B(g, d)`` per row (expected alive opportunities)."""
        _, _, g, d = self.params_.to_numpy(dtype=float)
        if horizon == 0:
            return np.zeros(np.shape(start))
        t = np.asarray(start, float)[:, None] + np.arange(1, horizon + 1)[None, :]
        return np.exp(special.betaln(g, d + t) - special.betaln(g, d)).sum(axis=1)

    def expected_purchases(self, n_future: int, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Expected transactions in the next ``n_future`` opportunities, given the history (eq. 13).

        ``E[X(n, n+n*) | x, t_x, n] = B(a+x+1, b+n-x)/B(a, b) / L *
        sum_{t=n+1}^{n+n*} B(g, d+t)/B(g, d)``, the sum form of eq. (13)
        (equal to its gamma-function form for ``gamma != 1``, and finite at
        ``gamma = 1``, where that form is 0/0).

        Parameters
        ----------
        n_future : int
            Number of future opportunities, ``>= 0``.
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``n_periods_col``.

        Returns
        -------
        numpy.ndarray
            One expectation per row.
        """
        h = _check_periods(n_future, "n_future")
        x, t_x, n = self._data(data, **columns)
        a, b, _, _ = self.params_.to_numpy(dtype=float)
        lead = special.betaln(a + x + 1.0, b + n - x) - special.betaln(a, b) - self._log_likelihood_rows(x, t_x, n)
        (un,), _ = collapse_rows([n], np.ones(n.size))
        sums = {float(v): s for v, s in zip(un, self._survival_sum(un, h))}
        return np.exp(lead) * np.array([sums[float(v)] for v in n])

    def expected_purchases_new(self, n: int | np.ndarray) -> float | np.ndarray:
        """Expected repeat transactions of a new customer in the first ``n`` opportunities (eq. 8, sum form).

        ``E[X(n)] = alpha/(alpha+beta) sum_{t=1}^{n} B(g, d+t)/B(g, d)``.

        Parameters
        ----------
        n : int or array-like of int
            Opportunities, ``>= 0``.

        Returns
        -------
        float or numpy.ndarray
            Shaped like ``n``.
        """
        self._check_fitted()
        n_arr = np.asarray(n)
        flat = np.array([_check_periods(v, "n") for v in n_arr.ravel()], dtype=int)
        a, b, g, d = self.params_.to_numpy(dtype=float)
        top = int(flat.max()) if flat.size else 0
        cum = np.concatenate([[0.0], np.cumsum(np.exp(special.betaln(g, d + np.arange(1, top + 1)) - special.betaln(g, d)))])
        out = (a / (a + b) * cum[flat]).reshape(n_arr.shape)
        return float(out) if out.ndim == 0 else out

    def expected_transactions_per_period(self, n_periods: int, *, n_customers: float = 1.0) -> pd.Series:
        """Expected repeat transactions of a cohort in each opportunity ``1..n_periods``.

        ``n_customers * alpha/(alpha+beta) * B(g, d+t)/B(g, d)`` for
        opportunity ``t`` (the increments of :meth:`expected_purchases_new`;
        the model line of the paper's annual-transactions tracking plot).

        Parameters
        ----------
        n_periods : int
            Number of opportunities after the first transaction.
        n_customers : float, default 1
            Cohort size.

        Returns
        -------
        pandas.Series
            Indexed by opportunity ``t = 1..n_periods``.
        """
        self._check_fitted()
        h = _check_periods(n_periods, "n_periods")
        if not (np.isfinite(n_customers) and n_customers >= 0):
            raise InputError(f"n_customers must be finite and >= 0, got {shown(n_customers)}")
        a, b, g, d = self.params_.to_numpy(dtype=float)
        t = np.arange(1, h + 1)
        vals = n_customers * a / (a + b) * np.exp(special.betaln(g, d + t) - special.betaln(g, d))
        return pd.Series(vals, index=pd.Index(t, name="period"), name="expected_transactions")

    def probability_of_purchases(self, x: int | np.ndarray, n: int) -> np.ndarray:
        """``P(X(n) = x)`` for a new customer (eq. 7).

        ``C(n, x) B(a+x, b+n-x)/B(a, b) B(g, d+n)/B(g, d)
        + sum_{i=x}^{n-1} C(i, x) B(a+x, b+i-x)/B(a, b) B(g+1, d+i)/B(g, d)``.

        Parameters
        ----------
        x : int or array-like of int
            Numbers of repeat transactions, ``0 <= x <= n``.
        n : int
            Opportunities.

        Returns
        -------
        numpy.ndarray
            Probabilities, shaped like ``x``.
        """
        self._check_fitted()
        nn = _check_periods(n, "n")
        x_arr = np.asarray(x)
        xs = np.array([_check_periods(v, "x") for v in x_arr.ravel()], dtype=float)
        if np.any(xs > nn):
            raise InputError(f"x must be <= n = {nn}, got {xs[xs > nn][:3].tolist()}")
        a, b, g, d = self.params_.to_numpy(dtype=float)
        lab, lgd = special.betaln(a, b), special.betaln(g, d)
        lcomb = lambda k, j: special.gammaln(k + 1) - special.gammaln(j + 1) - special.gammaln(k - j + 1)  # noqa: E731
        out = np.exp(lcomb(nn, xs) + special.betaln(a + xs, b + nn - xs) - lab + special.betaln(g, d + nn) - lgd)
        i = np.arange(nn)[None, :].astype(float)
        xs2 = xs[:, None]
        with np.errstate(invalid="ignore"):
            terms = np.exp(lcomb(i, xs2) + special.betaln(a + xs2, b + np.maximum(i - xs2, 0.0)) - lab
                           + special.betaln(g + 1.0, d + i) - lgd)
        out = out + np.where(i >= xs2, terms, 0.0).sum(axis=1)
        return out.reshape(x_arr.shape)

    def sample(self, n_customers: int, n_periods: int, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate customers from the fitted model (see :func:`simulate_bgbb`)."""
        self._check_fitted()
        a, b, g, d = self.params_.to_numpy(dtype=float)
        return simulate_bgbb(a, b, g, d, n_customers=n_customers, n_periods=n_periods, seed=seed)


def _check_periods(v: Any, name: str) -> int:
    """A whole non-negative number of periods, as int."""
    try:
        f = float(v)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a whole number of periods >= 0, got {shown(v)}") from exc
    if not np.isfinite(f) or f < 0 or f != round(f):
        raise InputError(f"{name} must be a whole number of periods >= 0, got {shown(v)}")
    return int(round(f))


def simulate_bgbb(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    *,
    n_customers: int,
    n_periods: int,
    n_future: int = 0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Draw customers from the BG/BB model's generative story.

    Each customer gets ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma,
    delta)``; at the start of each opportunity ``1, 2, ...`` a living
    customer dies with probability ``theta``, and a customer alive at an
    opportunity transacts with probability ``p``.

    Parameters
    ----------
    alpha, beta, gamma, delta : float
        Positive parameters.
    n_customers : int
        Number of customers.
    n_periods : int
        Calibration opportunities ``n``.
    n_future : int, default 0
        Further opportunities whose transactions are counted in
        ``future_transactions``.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``n_periods``, ``future_transactions``,
        ``alive`` (alive at opportunity ``n + 1``), ``p``, ``theta``.
    """
    for name, v in (("alpha", alpha), ("beta", beta), ("gamma", gamma), ("delta", delta)):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"{name} must be a positive number, got {shown(v)}")
    n = _check_periods(n_periods, "n_periods")
    h = _check_periods(n_future, "n_future")
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, n_customers)
    theta = rng.beta(gamma, delta, n_customers)
    # number of opportunities survived: geometric, alive at opportunities 1..life
    life = rng.geometric(theta) - 1  # dies at the start of opportunity life + 1
    horizon = n + h
    t = np.arange(1, horizon + 1)[None, :]
    buys = (rng.random((n_customers, horizon)) < p[:, None]) & (t <= life[:, None])
    cal = buys[:, :n]
    freq = cal.sum(axis=1)
    rec = np.where(freq > 0, n - np.argmax(cal[:, ::-1], axis=1), 0) if n else np.zeros(n_customers, int)
    return pd.DataFrame(
        {
            "frequency": freq.astype(float),
            "recency": rec.astype(float),
            "n_periods": np.full(n_customers, float(n)),
            "future_transactions": buys[:, n:].sum(axis=1).astype(float),
            "alive": life >= n + 1,
            "p": p,
            "theta": theta,
        }
    )
