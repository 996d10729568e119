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

Spend rule (one rule for every path: :func:`fit_spend_model`,
:func:`customer_lifetime_value`, :func:`crm_analysis.clv.fit_clv_models`, the
value tables, batch scoring and the notebooks). The Gamma-Gamma model describes
positive transaction values, so it is fitted only on customers with at least one
repeat purchase and a positive mean repeat purchase value. The others are
counted by reason and valued with the model's **population mean spend**
:math:`p v / (q - 1)` (Fader & Hardie 2013, eq. 4), which is what the model's
conditional expectation gives for a customer without repeat purchases:

* ``"no repeat purchase"`` (``frequency == 0``);
* ``"mean repeat purchase value <= 0"`` (``frequency > 0`` and
  ``monetary_value <= 0``): e.g. a return booked on a later day than the
  purchase, which makes that day's value, and possibly the mean, negative.
  The observed mean says nothing usable about the customer's spend per
  purchase, so the population mean is used, never the negative value.

The purchase count of such a customer is unchanged (the transaction model
still sees the return day as a purchase day: that is the RFM summary's
definition). When the fitted ``q <= 1`` the population mean is infinite and
valuing such customers raises ``ValueError``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns, check_count, check_number
from crm_analysis._validate import renamed_keywords as _renamed_keywords

import math
from typing import Any

import numpy as np
import pandas as pd
from crm_analysis._progress import progress as progress_bar

from ._validation import (
    as_frame, check_discount_rate, check_margin, check_unique_columns, refuse_bad_frequency, spend_of_repeat_buyers,
)
from .base import BaseTransactionModel
from .gamma_gamma import GammaGammaModel

__all__ = [
    "customer_lifetime_value",
    "UNITS_PER_YEAR",
    "step_discount_rate",
    "SPEND_NO_REPEAT",
    "SPEND_NONPOSITIVE",
    "SPEND_REASONS",
    "spend_exclusions",
    "fit_spend_model",
    "expected_spend",
]

#: Reason: customer without repeat purchases (left out of the spend fit, valued with the population mean).
SPEND_NO_REPEAT = "no repeat purchase"
#: Reason: repeat purchases with a mean value <= 0, e.g. returns on a later day (same treatment).
SPEND_NONPOSITIVE = "mean repeat purchase value <= 0"
#: The reasons, in the order they are reported.
SPEND_REASONS: tuple[str, ...] = (SPEND_NO_REPEAT, SPEND_NONPOSITIVE)


def _spend_arrays(
    data: pd.DataFrame, frequency_col: str, monetary_value_col: str
) -> tuple[np.ndarray, np.ndarray]:
    data = as_frame(data, columns=(frequency_col, monetary_value_col))
    check_columns({"frequency_col": frequency_col, "monetary_value_col": monetary_value_col}, data.columns,
                  table="the customer summary (needed for spend)")
    check_unique_columns(data, [frequency_col, monetary_value_col], table="the customer summary")
    x = pd.to_numeric(data[frequency_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    raw = data[monetary_value_col]
    m = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    # a missing mean spend of a customer without repeat purchases is allowed (left out of the fit with them:
    # spend_of_repeat_buyers); a value that is there but not a number is not
    for arr, col, ok in ((x, frequency_col, np.zeros(len(x), bool)), (m, monetary_value_col, raw.isna().to_numpy())):
        bad = ~np.isfinite(arr) & ~ok
        if bad.any():
            raise InputError(
                f"column {col!r} has {int(bad.sum())} missing, non-numeric or infinite value(s) "
                f"(first at row {int(np.flatnonzero(bad)[0])}); fix or drop those customers"
            )
    refuse_bad_frequency(data, x, frequency_col)
    m, _ = spend_of_repeat_buyers(data, x, m, monetary_value_col)
    return x, m


def spend_exclusions(
    data: pd.DataFrame, *, frequency_col: str = "frequency", monetary_value_col: str = "monetary_value"
) -> tuple[np.ndarray, dict[str, int]]:
    """Which customers the Gamma-Gamma model is fitted on, and the others counted by reason.

    Parameters
    ----------
    data : pandas.DataFrame
        Customer summary, one row per customer.
    frequency_col, monetary_value_col : str
        Columns of the number of repeat purchases and their mean value.

    Returns
    -------
    (numpy.ndarray of bool, dict)
        Mask of the rows used in the fit (``frequency > 0`` and
        ``monetary_value > 0``) and ``{reason: customers}`` for
        :data:`SPEND_REASONS` (zero counts included).

    Raises
    ------
    ValueError
        Missing columns, missing or non-finite values, negative frequency.
    """
    x, m = _spend_arrays(data, frequency_col, monetary_value_col)
    repeat = x > 0
    positive = m > 0
    counts = {SPEND_NO_REPEAT: int((~repeat).sum()), SPEND_NONPOSITIVE: int((repeat & ~positive).sum())}
    return repeat & positive, counts


def fit_spend_model(
    data: pd.DataFrame,
    *,
    frequency_col: str = "frequency",
    monetary_value_col: str = "monetary_value",
    penalizer: float = 0.0,
) -> GammaGammaModel:
    """Fit the Gamma-Gamma spend model under the package's spend rule.

    Parameters
    ----------
    data : pandas.DataFrame
        Customer summary (e.g. :func:`crm_analysis.rfm.rfm_summary`), all
        customers: those the model cannot describe are left out here.
    frequency_col, monetary_value_col : str
        Column names.
    penalizer : float, default 0
        Passed to :class:`GammaGammaModel`.

    Returns
    -------
    GammaGammaModel
        Fitted on the customers with a repeat purchase and a positive mean
        repeat purchase value; ``exclusions_`` counts the others by reason
        (:data:`SPEND_REASONS`) and ``n_excluded_`` their total. They are
        valued with the population mean spend (module docstring).

    Raises
    ------
    ValueError
        Bad columns, or no customer with a repeat purchase of positive value
        (the model cannot be fitted).
    """
    data = as_frame(data, columns=(frequency_col, monetary_value_col))
    used, counts = spend_exclusions(data, frequency_col=frequency_col, monetary_value_col=monetary_value_col)
    if not used.any():
        raise InputError(
            f"no customer has a repeat purchase with a positive mean value ({counts[SPEND_NO_REPEAT]:,} without "
            f"repeat purchase, {counts[SPEND_NONPOSITIVE]:,} with mean repeat purchase value <= 0): "
            "the Gamma-Gamma spend model cannot be fitted"
        )
    model = GammaGammaModel(penalizer=penalizer).fit(
        data.loc[used, [frequency_col, monetary_value_col]],
        frequency_col=frequency_col,
        monetary_value_col=monetary_value_col,
    )
    model.exclusions_ = counts
    model.n_excluded_ = int(sum(counts.values()))
    return model


def _model_columns(*models: Any) -> list[str]:
    """The columns the fitted ``models`` read (their ``columns_``), for the message about a Series passed as data."""
    return list(dict.fromkeys(c for m in models for c in getattr(m, "columns_", {}).values() if isinstance(c, str)))


def _population_spend_inputs(
    sm: GammaGammaModel, data: pd.DataFrame, frequency_col: str | None, monetary_value_col: str | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str, str]:
    cols = getattr(sm, "columns_", {"frequency": "frequency", "monetary_value": "monetary_value"})
    fcol = frequency_col or cols["frequency"]
    mcol = monetary_value_col or cols["monetary_value"]
    x, m = _spend_arrays(data, fcol, mcol)
    fallback = ~((x > 0) & (m > 0))  # valued with the population mean (both reasons)
    nonpositive = (x > 0) & (m <= 0)
    frame = pd.DataFrame({fcol: np.where(fallback, 0.0, x), mcol: np.where(fallback, 0.0, m)}, index=data.index)
    return frame, fallback, nonpositive, fcol, mcol


def _expected_spend(
    sm: GammaGammaModel,
    data: pd.DataFrame,
    frequency_col: str | None = None,
    monetary_value_col: str | None = None,
    *,
    strict: bool = True,
) -> tuple[np.ndarray, dict[str, int]]:
    frame, fallback, nonpositive, fcol, mcol = _population_spend_inputs(sm, data, frequency_col, monetary_value_col)
    q = float(sm.params_["q"])
    spend = np.asarray(sm.expected_average_spend(frame, frequency_col=fcol, monetary_value_col=mcol), dtype=float)
    if q <= 1 and fallback.any():
        if strict:
            raise InputError(
                f"the Gamma-Gamma fit has q = {q:.4g} <= 1, so its population mean spend p v / (q - 1) is infinite; "
                f"{int(fallback.sum()):,} customer(s) without a usable repeat purchase value would be valued with it. "
                "Refit the spend model with a small penalizer (e.g. 0.01) or on more repeat buyers"
            )
        spend[fallback] = np.nan  # a parameter draw without a finite population mean
    counts = {SPEND_NO_REPEAT: int((fallback & ~nonpositive).sum()), SPEND_NONPOSITIVE: int(nonpositive.sum())}
    return spend, counts


def expected_spend(
    spend_model: GammaGammaModel,
    data: pd.DataFrame,
    *,
    frequency_col: str | None = None,
    monetary_value_col: str | None = None,
) -> pd.DataFrame:
    """Expected spend per purchase of every customer, under the package's spend rule.

    Parameters
    ----------
    spend_model : GammaGammaModel
        A fitted spend model.
    data : pandas.DataFrame
        Customer summary, one row per customer (any values of monetary value,
        including zero and negative).
    frequency_col, monetary_value_col : str, optional
        Column names (default: those the model was fitted with).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``expected_spend`` (currency units per
        purchase) and ``spend_basis``: ``"conditional"`` (Gamma-Gamma
        conditional expectation given the customer's repeat purchases,
        Fader & Hardie 2013 eq. 5) or one of :data:`SPEND_REASONS` (the
        population mean spend ``p v / (q - 1)``).

    Raises
    ------
    ValueError
        Bad columns, or ``q <= 1`` while some customer needs the population mean.
    """
    data = as_frame(data, columns=_model_columns(spend_model))
    spend, _ = _expected_spend(spend_model, data, frequency_col, monetary_value_col)
    _, fallback, nonpositive, _, _ = _population_spend_inputs(spend_model, data, frequency_col, monetary_value_col)
    basis = np.where(nonpositive, SPEND_NONPOSITIVE, np.where(fallback, SPEND_NO_REPEAT, "conditional"))
    return pd.DataFrame(
        {"expected_spend": spend, "spend_basis": pd.array(basis, dtype="string")}, index=data.index
    )

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
    key = time_unit.strip().upper() if isinstance(time_unit, str) else time_unit
    if key not in UNITS_PER_YEAR:  # "w" is "W", as in crm_analysis.rfm.time_unit_days
        raise InputError(f"time_unit must be one of {sorted(UNITS_PER_YEAR)}, got {shown(time_unit)}")
    time_unit = key
    if not discount_rate > -1:
        raise InputError(f"discount_rate must be > -1, got {shown(discount_rate)}")
    return (1.0 + discount_rate) ** (step / UNITS_PER_YEAR[time_unit]) - 1.0


def _clv_core(
    tm: BaseTransactionModel,
    sm: GammaGammaModel,
    data: pd.DataFrame,
    times: np.ndarray,
    disc: np.ndarray,
    margin: float,
    *,
    strict: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    cum = tm.expected_purchases_grid(times, data)
    inc = np.diff(np.column_stack([np.zeros(len(cum)), cum]), axis=1)
    spend, counts = _expected_spend(sm, data, strict=strict)
    clv = margin * spend * (inc @ disc)
    return cum[:, -1], spend, clv, counts


@_renamed_keywords({"n_draws": "interval_draws", "level": "interval_level"})  # one name per option: the
# interval settings of customer_value_table / CLVAnalysis.value_table / RfmClvParams (findings_13f F8)
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
    interval_draws: int = 200,
    interval_level: float = 0.9,
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
        Add ``clv_param_lower``/``clv_param_upper``: the interval of the
        *expected* CLV from parameter uncertainty only, the central ``interval_level``
        quantiles of the expected CLV over ``interval_draws`` parameter vectors drawn
        from the asymptotic normal distribution of both models' log parameters
        (independent across the two models). Not the prediction interval of
        the customer's *realised* CLV (purchase process and parameters) that
        ``clv.parquet``'s ``clv_lower``/``clv_upper`` hold
        (:func:`crm_analysis.clv.clv_prediction_intervals`, and
        :meth:`CLVAnalysis.value_table` with ``intervals=True``); that one is
        much wider and need not contain ``clv``, this one does for almost
        every customer.
    interval_draws : int, default 200
        Number of parameter draws for the intervals (at least 20). Formerly
        ``n_draws`` (still accepted, with a ``FutureWarning``).
    interval_level : float, default 0.9
        Level of the intervals (central quantiles of the draws), in (0, 1).
        Formerly ``level`` (still accepted, with a ``FutureWarning``). The
        same names as :func:`crm_analysis.clv.customer_value_table`'s and
        ``RfmClvParams``' settings of their (other) interval.
    seed : int or numpy.random.Generator, optional
        Seed of the parameter draws.
    progress : bool, default False
        Show a progress bar over the draws.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``expected_purchases`` (over the horizon,
        undiscounted), ``expected_spend`` (expected spend per purchase under
        the spend rule of the module docstring), ``clv`` (discounted margin),
        and with ``intervals`` ``clv_param_lower``, ``clv_param_upper``.
        ``attrs["spend_basis"]`` counts the customers valued with the
        population mean spend, by reason (:data:`SPEND_REASONS`).

    Raises
    ------
    ValueError
        Bad arguments or columns, or a spend model with ``q <= 1`` while
        some customer must be valued with its (infinite) population mean.
    """
    data = as_frame(data, columns=_model_columns(transaction_model, spend_model))
    check_number(horizon, "horizon", minimum=0, low_open=True, fix="the CLV horizon in time units, e.g. 52 weeks")
    if not step > 0:
        raise InputError(f"step must be positive, got {shown(step)}")
    check_number(interval_level, "interval_level", minimum=0.0, maximum=1.0, low_open=True, high_open=True,
                 fix="e.g. 0.9 for 90% intervals")
    if intervals:
        check_count(interval_draws, "interval_draws", minimum=20, fix="parameter draws; 200 is the default")
    check_margin(margin)
    check_discount_rate(discount_rate, per="year")
    common = getattr(transaction_model, "_common_limit", lambda: None)()
    if common is not None:  # a common-dropout fit: values and parameter draws are the fitted limit's
        transaction_model = common
    d_step = step_discount_rate(discount_rate, time_unit, step)
    K = int(math.ceil(horizon / step - 1e-12))
    times = np.minimum(np.arange(1, K + 1) * float(step), float(horizon))
    disc = (1.0 + d_step) ** -np.arange(1, K + 1, dtype=float)
    purchases, spend, clv, counts = _clv_core(transaction_model, spend_model, data, times, disc, margin)
    out = pd.DataFrame({"expected_purchases": purchases, "expected_spend": spend, "clv": clv}, index=data.index)
    if intervals:
        rng = np.random.default_rng(seed)
        n_draws = int(interval_draws)
        tdraws = transaction_model.sample_params(n_draws, seed=rng)
        sdraws = spend_model.sample_params(n_draws, seed=rng)
        sims = np.empty((len(data), n_draws))
        for i in progress_bar(range(n_draws), enable=progress, desc="CLV parameter draws"):
            tm = transaction_model._with_params(tdraws[i])
            sm = spend_model._with_params(sdraws[i])
            with np.errstate(all="ignore"):
                sims[:, i] = _clv_core(tm, sm, data, times, disc, margin, strict=False)[2]
        lo, hi = (1 - interval_level) / 2, 1 - (1 - interval_level) / 2
        # named apart from clv.parquet's clv_lower / clv_upper (a prediction interval of the realised CLV): one name,
        # one interval (findings_13e, issue #13 interval naming)
        out["clv_param_lower"] = np.nanquantile(sims, lo, axis=1)
        out["clv_param_upper"] = np.nanquantile(sims, hi, axis=1)
    out.attrs["spend_basis"] = counts
    return out
