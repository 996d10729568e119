"""Prediction intervals for future purchases and revenue, per customer and in total.

Two sources of uncertainty are combined by simulation:

* **process uncertainty** - given the parameters, a customer's future is
  random: the model's posterior for the customer (alive or not, purchase
  rate, dropout) given the history ``(x, t_x, T)``, then the purchase (and
  spend) process over the horizon;
* **parameter uncertainty** - the estimates are uncertain: each simulated
  future uses its own parameter vector, drawn from the estimates' asymptotic
  normal distribution on the log scale (:meth:`sample_params`).

Exact posterior draws, per model (the likelihood of a history is a mixture of
"alive at T" and "dropped out after the last purchase"; only the first has a
future):

* BG/NBD: alive with P(alive); then ``lambda ~ Gamma(r+x, alpha+T)``,
  ``p ~ Beta(a, b+x)`` (MBG/NBD: ``b+x+1``); future purchases
  ``min(Poisson(lambda t), Geometric(p))`` (the customer leaves right after
  the purchase on which the coin comes up).
* Pareto/NBD: alive with P(alive); then ``lambda ~ Gamma(r+x, alpha+T)``,
  ``mu ~ Gamma(s, beta+T)``; lifetime ``tau ~ Exp(mu)`` (memoryless);
  purchases ``Poisson(lambda min(tau, t))``.
* NBD (and boundary fits): ``lambda ~ Gamma(r+x, alpha+T)``, ``Poisson(lambda t)``.
* Gamma-Gamma spend: ``nu ~ Gamma(p x + q, v + x m)`` for a repeat buyer with
  mean spend ``m > 0``, the prior ``Gamma(q, v)`` otherwise (the package's
  spend rule); ``k`` purchases cost ``Gamma(p k, nu)``.

Counts are discrete, so a central interval of nominal level ``level`` holds
at least that much predictive probability; :class:`PredictionIntervals`
reports for each customer the probability it actually holds
(``content``), estimated from the same draws.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, OperationError, shown
from crm_analysis._validate import check_columns

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_discount_rate, numeric_column, spend_of_repeat_buyers
from .base import BaseTransactionModel
from .beta_geo import BetaGeoModel
from .common_dropout import ExponentialNBDModel, GeometricNBDModel
from .gamma_gamma import GammaGammaModel
from .nbd import NBDModel
from .pareto_nbd import ParetoNBDModel
from .two_point_dropout import TwoPointGeometricNBDModel

__all__ = ["PredictionIntervals", "prediction_intervals"]


@dataclass(frozen=True)
class PredictionIntervals:
    """Result of :func:`prediction_intervals`.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer (index of the input): ``purchases_mean``,
        ``purchases_lower``, ``purchases_upper``, ``purchases_content``
        (simulated probability that the purchases fall in the interval,
        ``>= level`` up to simulation error) and, with a spend model, the
        same for ``revenue``.
    total : pandas.DataFrame
        Rows ``purchases`` (and ``revenue``): ``mean``, ``lower``, ``upper``
        of the sum over all customers.
    level : float
        Nominal level of the central intervals.
    horizon : float
        Length of the future period (model time units).
    n_draws : int
        Simulated futures per customer.
    parameter_uncertainty : bool
        Whether parameter draws were included.
    draws : dict of str to numpy.ndarray or None
        The simulated futures, shape ``(n_customers, n_draws)`` per quantity,
        when ``keep_draws=True`` (needed by :meth:`coverage`).
    """

    customers: pd.DataFrame
    total: pd.DataFrame
    level: float
    horizon: float
    n_draws: int
    parameter_uncertainty: bool
    draws: dict[str, np.ndarray] | None = None

    def coverage(
        self,
        actual: Any,
        *,
        quantity: str = "purchases",
        randomized: bool = True,
        seed: int | np.random.Generator | None = None,
    ) -> float:
        """Share of customers whose actual value falls in their central interval of level :attr:`level`.

        Parameters
        ----------
        actual : array-like
            Observed values (e.g. holdout purchases), one per customer: in the
            customers' order, or a Series indexed by customer (matched by
            label, in any order).
        quantity : {"purchases", "revenue"}
        randomized : bool, default True
            For counts: the randomised probability integral transform of
            Czado, Gneiting & Held (2009, Biometrics 65(4), "Predictive model
            assessment for count data"), ``u = F(y-1) + V (F(y) - F(y-1))``,
            ``V ~ U(0, 1)``, counted as covered when it lies in the central
            ``level`` band; for a calibrated model this covers ``level``
            exactly, where the integer intervals cover at least ``level``
            (their ``content``). False: ``lower <= y <= upper``.
        seed : int or numpy.random.Generator, optional
            Seed of ``V``.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            No draws kept (``keep_draws=False``), unknown quantity, or
            ``actual`` of the wrong length or with missing values.
        """
        if self.draws is None or quantity not in self.draws:
            raise InputError(
                f"coverage needs the simulated draws of {quantity!r}: call prediction_intervals(..., keep_draws=True)"
                + ("" if self.draws is None else f" (quantities kept: {sorted(self.draws)})")
            )
        sims = self.draws[quantity]
        if isinstance(actual, pd.Series) and not actual.index.equals(self.customers.index):
            # a Series is matched by customer, not by position (another order would pair other customers)
            idx = self.customers.index
            if idx.has_duplicates or actual.index.has_duplicates:
                raise InputError("actual is a Series whose index does not equal the customers' index, and one of "
                                 "them has duplicate labels: pass it in the customers' order (e.g. .to_numpy())")
            missing = idx.difference(actual.index)
            extra = actual.index.difference(idx)
            if len(missing) or len(extra):
                raise InputError(
                    f"actual is a Series indexed by other customers than the intervals: {len(missing):,} of the "
                    f"intervals' customers missing (e.g. {list(missing[:3])}), {len(extra):,} not among them "
                    f"(e.g. {list(extra[:3])}); pass one value per customer of the intervals"
                )
            actual = actual.reindex(idx)
        y = np.asarray(actual, dtype=float).ravel()
        if y.shape != (sims.shape[0],) or not np.all(np.isfinite(y)):
            raise InputError(f"actual must hold {sims.shape[0]} finite values (one per customer), got shape {y.shape}")
        lo_q, hi_q = (1 - self.level) / 2, 1 - (1 - self.level) / 2
        if not randomized:
            c = self.customers
            return float(np.mean((y >= c[f"{quantity}_lower"].to_numpy()) & (y <= c[f"{quantity}_upper"].to_numpy())))
        below = (sims < y[:, None]).mean(axis=1)
        at_most = (sims <= y[:, None]).mean(axis=1)
        u = below + np.random.default_rng(seed).random(y.size) * (at_most - below)
        return float(np.mean((u >= lo_q) & (u <= hi_q)))


def _posterior_future(model: BaseTransactionModel, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                      horizon: float, rng: np.random.Generator, with_times: bool = False
                      ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """One simulated future per customer at the parameters ``params``.

    Returns the number of purchases in ``(T, T + horizon]`` per customer and,
    with ``with_times``, (customer index, time after ``T``) of each of those
    purchases: given ``N`` purchases of a Poisson process in ``(0, L]`` their
    times are ``N`` sorted uniforms on ``(0, L]``; the BG/NBD keeps the first
    ``min(N, K)`` (dropout after the ``K``-th).
    """
    m = model._with_params(params)
    n = x.size
    if isinstance(model, NBDModel) or (not isinstance(model, (GeometricNBDModel, ExponentialNBDModel, TwoPointGeometricNBDModel))
                                       and m._at_dropout_limit()):
        r, alpha = params[0], params[1]
        lam = rng.gamma(r + x, 1.0 / (alpha + T))
        n_events = rng.poisson(lam * horizon)
        span, keep = np.full(n, horizon), n_events
    else:
        alive = rng.random(n) < m._p_alive(x, t_x, T)
        if isinstance(model, ParetoNBDModel):
            r, alpha, s, beta = params
            lam = rng.gamma(r + x, 1.0 / (alpha + T))
            mu = rng.gamma(s, 1.0 / (beta + T))
            span = np.minimum(rng.exponential(1.0 / mu), horizon)
            n_events = np.where(alive, rng.poisson(lam * span), 0)
            keep = n_events
        elif isinstance(model, TwoPointGeometricNBDModel):  # a share pi drops out for certain, the rest never
            r, alpha, pi = params
            lam = rng.gamma(r + x, 1.0 / (alpha + T))
            span = np.full(n, horizon)
            n_events = np.where(alive, rng.poisson(lam * horizon), 0)
            # alive and of the certain-dropout type: only without a repeat purchase in the BG/NBD limit
            # (posterior share pi, the prior); it makes one more purchase, then leaves
            certain = np.zeros(n, bool) if model._first else (x == 0) & (rng.random(n) < pi)
            keep = np.where(certain, np.minimum(n_events, 1), n_events)
        elif isinstance(model, ExponentialNBDModel):  # Pareto/NBD with one dropout rate: lifetimes memoryless
            r, alpha, mu = params
            lam = rng.gamma(r + x, 1.0 / (alpha + T))
            span = np.minimum(rng.exponential(1.0 / mu, size=n), horizon)
            n_events = np.where(alive, rng.poisson(lam * span), 0)
            keep = n_events
        elif isinstance(model, GeometricNBDModel):  # BG/NBD and MBG/NBD with one dropout probability p
            r, alpha, p = params
            lam = rng.gamma(r + x, 1.0 / (alpha + T))
            span = np.full(n, horizon)
            n_events = np.where(alive, rng.poisson(lam * horizon), 0)
            keep = np.minimum(n_events, rng.geometric(p, size=n))
        elif isinstance(model, BetaGeoModel):  # BG/NBD and MBG/NBD (posterior b differs)
            r, alpha, a, _ = params
            lam = rng.gamma(r + x, 1.0 / (alpha + T))
            p = rng.beta(a, m._posterior_b(x))
            span = np.full(n, horizon)
            n_events = np.where(alive, rng.poisson(lam * horizon), 0)
            keep = np.minimum(n_events, rng.geometric(np.clip(p, 1e-300, 1.0)))
        else:
            raise InputTypeError(f"prediction intervals are not available for {type(model).__name__}")
    counts = keep.astype(float)
    if not with_times:
        return counts, None
    cust = np.repeat(np.arange(n), n_events)
    tau = rng.random(cust.size) * span[cust]
    order = np.lexsort((tau, cust))
    cust, tau = cust[order], tau[order]
    rank = np.arange(cust.size) - np.repeat(np.cumsum(n_events) - n_events, n_events)
    sel = rank < keep[cust]
    return counts, (cust[sel], tau[sel])


def prediction_intervals(
    model: BaseTransactionModel,
    data: pd.DataFrame,
    horizon: float,
    *,
    spend_model: GammaGammaModel | None = None,
    level: float = 0.9,
    n_draws: int = 1000,
    parameter_uncertainty: bool = True,
    seed: int | np.random.Generator | None = None,
    monetary_value_col: str | None = None,
    discount_rate: float = 0.0,
    keep_draws: bool = False,
    **columns: str,
) -> PredictionIntervals:
    """Intervals for each customer's purchases (and revenue) in the next ``horizon``, and for their total.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or NBDModel
        A fitted purchase model (boundary fits included).
    data : pandas.DataFrame
        Customer summary (``frequency``, ``recency``, ``T``, and the mean
        repeat spend when ``spend_model`` is given).
    horizon : float
        Future period length in the model's time unit, ``> 0``.
    spend_model : GammaGammaModel, optional
        Fitted spend model: adds intervals for revenue (sum of the simulated
        purchases' values, discounted with ``discount_rate``: the CLV of the
        horizon before any margin).
    level : float, default 0.9
        Nominal level of the central intervals, in ``(0, 1)``.
    n_draws : int, default 1000
        Simulated futures per customer (each with its own parameter draw
        when ``parameter_uncertainty``).
    parameter_uncertainty : bool, default True
        Draw the parameters from their asymptotic distribution (requires a
        fitted model with a covariance); False: process uncertainty only, at
        the estimates.
    seed : int or numpy.random.Generator, optional
        Seed of all randomness.
    monetary_value_col : str, optional
        Mean repeat spend column (default: the spend model's).
    discount_rate : float, default 0
        With a spend model: discount rate per model time unit ``d >= 0``;
        each simulated purchase at time ``tau`` after ``T`` counts
        ``(1 + d)^(-tau)`` times its value, so ``revenue`` is the customer's
        discounted value over the horizon (continuous discounting; 0 gives
        the undiscounted revenue). Annual rates convert with
        :func:`~crm_analysis.clv.step_discount_rate`-style arithmetic:
        ``(1 + annual)^(1 / units_per_year) - 1``.
    keep_draws : bool, default False
        Keep the simulated futures (``n_customers x n_draws`` floats per
        quantity) for :meth:`PredictionIntervals.coverage`.
    **columns : str
        ``frequency_col``, ``recency_col``, ``T_col`` overrides.

    Returns
    -------
    PredictionIntervals

    Raises
    ------
    ValueError
        Bad ``horizon``, ``level`` or ``n_draws``, invalid data.
    TypeError
        A model without a posterior sampler here.
    RuntimeError
        ``parameter_uncertainty`` with a singular covariance (no standard
        errors) or with parameters not identified (``not_identified_`` of
        either model): use ``parameter_uncertainty=False`` or refit.
    """
    if not (isinstance(horizon, (int, float, np.number)) and np.isfinite(horizon) and horizon > 0):
        raise InputError(f"horizon must be a positive number of model time units, got {shown(horizon)}")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(f"level must be in (0, 1), e.g. 0.9; got {shown(level)}")
    if not (isinstance(n_draws, (int, np.integer)) and n_draws >= 20):
        raise InputError(f"n_draws must be an integer >= 20 (1000 gives quantiles to about +-1%), got {shown(n_draws)}")
    if not isinstance(model, (BetaGeoModel, ParetoNBDModel, NBDModel, GeometricNBDModel, ExponentialNBDModel,
                              TwoPointGeometricNBDModel)):
        raise InputTypeError(f"prediction intervals are not available for {type(model).__name__}")
    common = model._common_limit() if isinstance(model, (BetaGeoModel, ParetoNBDModel)) else None
    if common is not None:  # a common-dropout fit (boundary_): the futures are the fitted limit's
        model = common
    d = model._data(data, **columns)
    rng = np.random.default_rng(seed)
    n = len(d)
    if parameter_uncertainty:
        for m in (model, spend_model):
            weak = list(getattr(m, "not_identified_", None) or []) if m is not None else []
            if weak:
                raise OperationError(
                    f"{type(m).__name__}: parameter(s) {weak} are not identified by the data it was fitted on "
                    "(standard errors missing or spanning orders of magnitude, see its IdentificationWarning): draws "
                    "from their estimated distribution would make the intervals meaningless; use "
                    "parameter_uncertainty=False (process uncertainty only, intervals too narrow), a simpler model "
                    "(e.g. NBDModel where there is no sign of dropout) or more customers"
                )
        draws = model.sample_params(n_draws, seed=rng)
    else:
        draws = np.tile(model.params_.to_numpy(dtype=float), (n_draws, 1))
    discount_rate = check_discount_rate(discount_rate, per="model time unit")
    if discount_rate > 0 and spend_model is None:
        raise InputError("discount_rate discounts revenue: give a spend_model too")
    counts = np.empty((n, n_draws))
    event_times = []
    for j in range(n_draws):
        counts[:, j], ev = _posterior_future(model, draws[j], d.x, d.t_x, d.T, float(horizon), rng,
                                             with_times=discount_rate > 0)
        event_times.append(ev)
    out = {"purchases": counts}
    if spend_model is not None:
        spend_model._check_fitted()
        mcol = monetary_value_col or getattr(spend_model, "columns_", {}).get("monetary_value", "monetary_value")
        check_columns({"monetary_value_col": mcol}, data.columns, table="data")
        # as the spend model's fit: missing (NaN) only where frequency is 0 (those customers are valued with the
        # population's spend distribution anyway), an error naming the rows for a repeat buyer (findings_n13)
        mv = numeric_column(data, mcol, "monetary value", allow_nan=True)
        mv, _ = spend_of_repeat_buyers(data, d.x, mv, mcol)
        use = (d.x > 0) & (mv > 0)  # the spend rule: others get the population's spend distribution
        sdraws = spend_model.sample_params(n_draws, seed=rng) if parameter_uncertainty else np.tile(
            spend_model.params_.to_numpy(dtype=float), (n_draws, 1))
        revenue = np.zeros((n, n_draws))
        for j in range(n_draws):
            p, q, v = sdraws[j]
            nu = rng.gamma(np.where(use, p * d.x + q, q), 1.0 / np.where(use, v + d.x * mv, v))
            if discount_rate > 0:  # one value per purchase, discounted to T
                cust, tau = event_times[j]
                value = rng.gamma(p, 1.0 / nu[cust]) * (1.0 + discount_rate) ** (-tau)
                revenue[:, j] = np.bincount(cust, weights=value, minlength=n)
            else:  # the sum of k values Gamma(p, nu) is Gamma(p k, nu)
                k = counts[:, j]
                pos = k > 0
                revenue[pos, j] = rng.gamma(p * k[pos], 1.0 / nu[pos])
        out["revenue"] = revenue
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    cust = {}
    total_rows = {}
    for name, sims in out.items():
        if name == "purchases":  # discrete: conservative quantiles, each tail holds at most (1 - level) / 2
            lower = np.quantile(sims, lo_q, axis=1, method="lower")
            upper = np.quantile(sims, hi_q, axis=1, method="higher")
        else:
            lower = np.quantile(sims, lo_q, axis=1)
            upper = np.quantile(sims, hi_q, axis=1)
        cust[f"{name}_mean"] = sims.mean(axis=1)
        cust[f"{name}_lower"] = lower
        cust[f"{name}_upper"] = upper
        cust[f"{name}_content"] = ((sims >= lower[:, None]) & (sims <= upper[:, None])).mean(axis=1)
        tot = sims.sum(axis=0)
        total_rows[name] = {"mean": tot.mean(), "lower": np.quantile(tot, lo_q), "upper": np.quantile(tot, hi_q)}
    index = data.index if len(data.index) == n else pd.RangeIndex(n)
    return PredictionIntervals(
        customers=pd.DataFrame(cust, index=index),
        total=pd.DataFrame(total_rows).T[["mean", "lower", "upper"]],
        level=float(level),
        horizon=float(horizon),
        n_draws=int(n_draws),
        parameter_uncertainty=bool(parameter_uncertainty),
        draws=out if keep_draws else None,
    )
