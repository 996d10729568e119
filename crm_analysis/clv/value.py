"""Customer lifetime value from a transaction model and a spend model.

The expected (discounted) value of each customer's purchases over a finite
horizon ``H`` is approximated on a grid of steps ``t_k = min(k * step, H)``,
``k = 1..K``, ``K = ceil(H / step)``:

.. math::

    \\mathrm{CLV} = \\text{margin} \\times E[Z] \\times \\sum_{k=1}^{K}
        \\frac{E[X(t_k)] - E[X(t_{k-1})]}{(1 + d_{\\text{step}})^{k}},

where :math:`E[X(t)]` is the transaction model's conditional expected number
of purchases in ``(T, T + t]`` and :math:`E[Z]` the spend model's conditional
expected average spend (Fader, Hardie & Lee 2005, JMR, sec. "CLV"). The
per-step discount rate is derived from the **annual** rate ``d`` as
:math:`d_{\\text{step}} = (1 + d)^{\\text{step}/n} - 1`, with ``n`` the number of
time units per year (``D``: 365.25, ``W``: 365.25/7, ``M``: 12, ``Q``: 4,
``Y``: 1), i.e. purchases in step ``k`` are discounted to the start as if they
happened at the step's end.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from crm_analysis._progress import progress as progress_bar

from .base import BaseTransactionModel
from .gamma_gamma import GammaGammaModel

__all__ = ["customer_lifetime_value", "UNITS_PER_YEAR", "step_discount_rate"]

UNITS_PER_YEAR: dict[str, float] = {"D": 365.25, "W": 365.25 / 7.0, "M": 12.0, "Q": 4.0, "Y": 1.0}


def step_discount_rate(discount_rate: float, time_unit: str, step: float) -> float:
    """Discount rate per step equivalent to an annual rate.

    Parameters
    ----------
    discount_rate : float
        Annual rate (e.g. 0.1 for 10 %), ``> -1``.
    time_unit : {"D", "W", "M", "Q", "Y"}
        Time unit of the models (the unit of ``recency``/``T``).
    step : float
        Step length in time units.

    Returns
    -------
    float
        ``(1 + discount_rate) ** (step / units_per_year) - 1``.
    """
    if time_unit not in UNITS_PER_YEAR:
        raise ValueError(f"time_unit must be one of {sorted(UNITS_PER_YEAR)}, got {time_unit!r}")
    if not discount_rate > -1:
        raise ValueError(f"discount_rate must be > -1, got {discount_rate!r}")
    return (1.0 + discount_rate) ** (step / UNITS_PER_YEAR[time_unit]) - 1.0


def _clv_core(
    tm: BaseTransactionModel,
    sm: GammaGammaModel,
    data: pd.DataFrame,
    times: np.ndarray,
    disc: np.ndarray,
    margin: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cum = tm.expected_purchases_grid(times, data)
    inc = np.diff(np.column_stack([np.zeros(len(cum)), cum]), axis=1)
    spend = sm.expected_average_spend(data)
    clv = margin * spend * (inc @ disc)
    return cum[:, -1], spend, clv


def customer_lifetime_value(
    transaction_model: BaseTransactionModel,
    spend_model: GammaGammaModel,
    data: pd.DataFrame,
    *,
    horizon: float = 52,
    time_unit: str = "W",
    margin: float = 1.0,
    discount_rate: float = 0.0,
    step: float = 1,
    intervals: bool = False,
    n_draws: int = 200,
    level: float = 0.9,
    seed: int | np.random.Generator | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Expected customer lifetime value over a finite horizon.

    Parameters
    ----------
    transaction_model : BetaGeoModel or ParetoNBDModel
        A fitted transaction model.
    spend_model : GammaGammaModel
        A fitted spend model.
    data : pandas.DataFrame
        Customer summary with the columns the two models were fitted with
        (``frequency``, ``recency``, ``T``, ``monetary_value`` by default).
    horizon : float, default 52
        Horizon in model time units.
    time_unit : {"D", "W", "M", "Q", "Y"}, default "W"
        Time unit of ``recency``/``T``; only used to convert the annual
        discount rate.
    margin : float, default 1
        Profit margin applied to revenue.
    discount_rate : float, default 0
        **Annual** discount rate; see :func:`step_discount_rate`.
    step : float, default 1
        Step of the discounting grid in time units.
    intervals : bool, default False
        Add ``clv_lower``/``clv_upper``: quantiles of the CLV over ``n_draws``
        parameter vectors drawn from the asymptotic normal distribution of
        both models' log parameters (independent across the two models).
    n_draws : int, default 200
        Number of parameter draws for the intervals.
    level : float, default 0.9
        Coverage of the intervals (central quantiles of the draws).
    seed : int or numpy.random.Generator, optional
        Seed of the parameter draws.
    progress : bool, default False
        Show a progress bar over the draws.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``expected_purchases`` (over the horizon,
        undiscounted), ``expected_spend`` (conditional mean spend per
        purchase), ``clv`` (discounted margin), and with ``intervals``
        ``clv_lower``, ``clv_upper``.
    """
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    if not (horizon > 0 and math.isfinite(horizon)):
        raise ValueError(f"horizon must be positive and finite, got {horizon!r}")
    if not step > 0:
        raise ValueError(f"step must be positive, got {step!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    d_step = step_discount_rate(discount_rate, time_unit, step)
    K = int(math.ceil(horizon / step - 1e-12))
    times = np.minimum(np.arange(1, K + 1) * float(step), float(horizon))
    disc = (1.0 + d_step) ** -np.arange(1, K + 1, dtype=float)
    purchases, spend, clv = _clv_core(transaction_model, spend_model, data, times, disc, margin)
    out = pd.DataFrame({"expected_purchases": purchases, "expected_spend": spend, "clv": clv}, index=data.index)
    if intervals:
        rng = np.random.default_rng(seed)
        tdraws = transaction_model.sample_params(n_draws, rng)
        sdraws = spend_model.sample_params(n_draws, rng)
        sims = np.empty((len(data), n_draws))
        for i in progress_bar(range(n_draws), enable=progress, desc="CLV parameter draws"):
            tm = transaction_model._with_params(tdraws[i])
            sm = spend_model._with_params(sdraws[i])
            with np.errstate(all="ignore"):
                sims[:, i] = _clv_core(tm, sm, data, times, disc, margin)[2]
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        out["clv_lower"] = np.nanquantile(sims, lo, axis=1)
        out["clv_upper"] = np.nanquantile(sims, hi, axis=1)
    return out
