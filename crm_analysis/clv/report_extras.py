"""The rfm_clv report's additions: prediction intervals, covariate effects, customer covariates.

Used by :func:`crm_analysis.clv.run_rfm_clv` (issue 15, point 6):

* :func:`clv_prediction_intervals`: per-customer and total 90% (``level``)
  prediction intervals of the purchases and the CLV over the horizon, by
  simulation (:func:`crm_analysis.clv.prediction_intervals`: process and
  parameter uncertainty). The CLV interval is ``margin`` times the
  discounted revenue of the simulated purchases.
* :func:`customer_covariates`: one row per customer of covariates taken from
  the customer's first purchase (a transaction column such as ``channel`` or
  ``country``, or ``first_purchase_month`` / ``first_purchase_quarter``),
  categories coded as 0/1 columns against the most common level.
* :func:`fit_covariate_effects`: the covariate version of the purchase model
  (Fader & Hardie 2007 note, :mod:`crm_analysis.clv.covariates`), its
  coefficient table with standard errors and the likelihood-ratio test
  against the same model without covariates.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError
from crm_analysis._validate import check_count

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .covariates import BetaGeoCovariateModel, ParetoNBDCovariateModel, likelihood_ratio_test
from .intervals import PredictionIntervals, prediction_intervals
from .value import step_discount_rate

__all__ = [
    "DERIVED_COVARIATES",
    "MAX_COVARIATE_LEVELS",
    "CovariateEffects",
    "available_covariates",
    "customer_covariates",
    "fit_covariate_effects",
    "clv_prediction_intervals",
    "parameter_table",
]

#: Covariates derived from the day of the first purchase (not transaction columns).
DERIVED_COVARIATES: dict[str, str] = {
    "first_purchase_month": "M",
    "first_purchase_quarter": "Q",
}
#: Transaction columns that cannot be covariates (keys and the purchase process itself).
_NOT_COVARIATES = ("customer_id", "timestamp", "amount", "order_id", "quantity", "unit_price", "is_cancellation")
#: Most levels a categorical covariate may have (each level beyond the baseline adds a coefficient per process).
MAX_COVARIATE_LEVELS = 20
#: Covariate model per purchase model (registry name); the MBG/NBD has none, its nearest model is the BG/NBD.
_COVARIATE_MODELS = {"bgnbd": ("bgnbd", BetaGeoCovariateModel), "mbgnbd": ("bgnbd", BetaGeoCovariateModel),
                     "paretonbd": ("paretonbd", ParetoNBDCovariateModel)}
_LABELS = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD"}


def available_covariates(columns: Sequence[str]) -> list[str]:
    """Covariate names a run can use with transactions of these ``columns``.

    Parameters
    ----------
    columns : sequence of str
        Columns of the transactions.

    Returns
    -------
    list of str
        The transaction columns other than keys, time and money (e.g.
        ``channel``, ``country``, ``product``), then the derived
        :data:`DERIVED_COVARIATES`.
    """
    return [str(c) for c in columns if str(c) not in _NOT_COVARIATES] + list(DERIVED_COVARIATES)


def customer_covariates(
    transactions: pd.DataFrame, customers: pd.Index, names: Sequence[str], *, as_of: Any
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Covariates of each customer from the first purchase, coded for the covariate models.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``timestamp`` and the
        covariate columns).
    customers : pandas.Index
        Customer ids (strings) of the RFM summary, in its order.
    names : sequence of str
        Covariates: transaction columns (value on the customer's first
        transaction up to ``as_of``) or :data:`DERIVED_COVARIATES`.
    as_of : date-like
        Observation end (transactions after that day are ignored).

    Returns
    -------
    design : DataFrame, shape (n_customers, n_columns)
        Indexed like ``customers``: numeric covariates as they are,
        categorical ones as 0/1 columns ``"<name>=<level>"``, one per level
        except the baseline (the most common level).
    levels : dict
        Per covariate: ``kind`` (``"numeric"`` or ``"categorical"``),
        ``baseline``, ``levels`` (customers per level) and ``missing``
        (customers whose first purchase has no value: a level ``"(missing)"``
        of their own for a category).

    Raises
    ------
    ValueError
        An unknown covariate (the message lists the available ones), a
        categorical covariate with more than :data:`MAX_COVARIATE_LEVELS`
        levels, a numeric one with missing values, or customers without a
        transaction up to ``as_of``.
    """
    avail = available_covariates(transactions.columns)
    unknown = [n for n in names if n not in avail]
    if unknown:
        raise InputError(f"covariates {unknown} are not columns of the transactions nor derived covariates; "
                         f"available: {avail}")
    end = pd.Timestamp(as_of).normalize()
    tx = transactions.loc[transactions["timestamp"].dt.normalize() <= end]
    first = tx.sort_values("timestamp", kind="stable").drop_duplicates("customer_id", keep="first")
    first = first.set_index(first["customer_id"].astype(str))
    missing_customers = customers.difference(first.index)
    if len(missing_customers):
        raise InputError(f"{len(missing_customers):,} customers of the summary have no transaction up to as_of "
                         f"{end.date()} (e.g. {missing_customers[0]!r})")
    first = first.reindex(customers)
    parts, levels = [], {}
    for name in names:
        if name in DERIVED_COVARIATES:
            per = first["timestamp"].dt.to_period(DERIVED_COVARIATES[name])
            values = pd.Series(per.astype(str).to_numpy(), index=customers, dtype="string")
        else:
            values = first[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            n_missing = int(values.isna().sum())
            if n_missing:
                raise InputError(f"covariate {name!r}: {n_missing:,} customers have no value on their first purchase; "
                                 "fill the column or leave it out of covariates")
            parts.append(values.astype(float).rename(name))
            levels[name] = {"kind": "numeric", "baseline": None, "levels": {}, "missing": 0}
            continue
        text = values.astype("string")
        n_missing = int(text.isna().sum())
        text = text.fillna("(missing)")
        counts = text.value_counts()
        if len(counts) > MAX_COVARIATE_LEVELS:
            raise InputError(f"covariate {name!r} has {len(counts)} levels among the customers' first purchases; at "
                             f"most {MAX_COVARIATE_LEVELS} are taken (each adds a coefficient per process): group "
                             "its levels in a column of its own first")
        baseline = str(sorted(counts.index[counts == counts.max()])[0])
        for level in sorted(str(v) for v in counts.index if str(v) != baseline):
            parts.append((text == level).astype(float).rename(f"{name}={level}"))
        levels[name] = {"kind": "categorical", "baseline": baseline,
                        "levels": {str(k): int(v) for k, v in counts.items()}, "missing": n_missing}
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=customers)
    design.index = customers
    return design, levels


@dataclass
class CovariateEffects:
    """Covariate version of the purchase model and its test against the model without covariates.

    Attributes
    ----------
    model : str
        Registry name of the covariate model's base (``"bgnbd"`` or ``"paretonbd"``).
    label : str
        Its label (``"BG/NBD"``).
    covariates : list of str
        The configured covariates.
    design_columns : list of str
        The columns of the design (``"channel=web"``, ...).
    coefficients : DataFrame
        :meth:`~crm_analysis.clv.BetaGeoCovariateModel.coefficients`: one row
        per process and column, ``coefficient``, ``std_error``, ``z``,
        ``p_value``, Wald interval, ``multiplier``.
    lr_test : pandas.Series
        :func:`~crm_analysis.clv.likelihood_ratio_test`: ``lr_statistic``,
        ``df``, ``p_value``, log-likelihoods.
    levels : dict
        Per covariate: kind, baseline, customers per level, missing values
        (:func:`customer_covariates`).
    fitted : object
        The fitted covariate model.
    notes : list of str
        E.g. the MBG/NBD standing in as the BG/NBD, constant covariates held at 0.
    """

    model: str
    label: str
    covariates: list[str]
    design_columns: list[str]
    coefficients: pd.DataFrame
    lr_test: pd.Series
    levels: dict[str, dict[str, Any]]
    fitted: Any = field(repr=False)
    notes: list[str] = field(default_factory=list)


def fit_covariate_effects(
    summary: pd.DataFrame, transactions: pd.DataFrame, covariates: Sequence[str], *, model: str, as_of: Any
) -> CovariateEffects:
    """Fit the covariate version of ``model`` on ``summary`` and test it against the model without covariates.

    Every design column acts on the purchase rate and on dropout (BG/NBD:
    ``alpha_i``, ``a_i``, ``b_i``; Pareto/NBD: ``alpha_i``, ``beta_i``; Fader &
    Hardie 2007, "Incorporating time-invariant covariates into the
    Pareto/NBD and BG/NBD models"). The restricted model of the
    likelihood-ratio test is the same likelihood without covariates, fitted
    on the same customers.

    Parameters
    ----------
    summary : DataFrame
        RFM summary (index ``customer_id``; ``frequency``, ``recency``, ``T``).
    transactions : DataFrame
        The transactions the summary was made from.
    covariates : sequence of str
        See :func:`customer_covariates`.
    model : {"bgnbd", "mbgnbd", "paretonbd"}
        The chosen purchase model (the MBG/NBD has no covariate version: the
        BG/NBD's is fitted and a note says so).
    as_of : date-like
        Observation end.

    Returns
    -------
    CovariateEffects

    Raises
    ------
    ValueError
        From :func:`customer_covariates`, or a model without a covariate
        version.
    """
    if model not in _COVARIATE_MODELS:
        raise InputError(f"no covariate version of purchase model {model!r}; available for {sorted(_COVARIATE_MODELS)}")
    base, cls = _COVARIATE_MODELS[model]
    notes = []
    if base != model:
        notes.append(f"The {model} model has no covariate version; the covariate effects are those of the BG/NBD.")
    design, levels = customer_covariates(transactions, summary.index.astype(str), covariates, as_of=as_of)
    constant = [c for c in design.columns if design[c].nunique() <= 1]
    if len(constant) == len(design.columns):
        values = {n: (next(iter(info["levels"])) if info["levels"] else float(design[n].iloc[0]) if n in design else None)
                  for n, info in levels.items()}
        raise InputError(
            f"covariates {list(covariates)} take a single value for every customer ({values}): there is no "
            "variation whose effect could be estimated; choose covariates that differ between customers, or [] for none"
        )
    data = summary[["frequency", "recency", "T"]].copy()
    data.index = design.index
    data = pd.concat([data, design], axis=1)
    cols = list(design.columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = cls(purchase_covariates=cols, dropout_covariates=cols).fit(data)
    with warnings.catch_warnings():  # the restricted fit is only the null of the test
        warnings.simplefilter("ignore")
        restricted = cls(purchase_covariates=[], dropout_covariates=[]).fit(data)
    # every warning of the covariate fit (constant or rare covariates, effects not identified, a singular
    # Hessian, a boundary) is a note of the report, in the order issued
    notes += list(dict.fromkeys(str(w.message) for w in caught))
    for name, info in levels.items():
        if info["missing"]:
            notes.append(f"{info['missing']:,} customers have no {name} on their first purchase: level '(missing)'.")
    return CovariateEffects(
        model=base, label=_LABELS[base], covariates=list(covariates), design_columns=cols,
        coefficients=full.coefficients(), lr_test=likelihood_ratio_test(restricted, full), levels=levels,
        fitted=full, notes=notes,
    )


def parameter_table(model: Any, *, digits: int = 4) -> pd.DataFrame:
    """A fitted model's parameters and standard errors as text for a report.

    A standard error that the data cannot give is not shown as "nan": a
    parameter the fit found not identified (``not_identified_``: a singular
    Hessian, or a log-scale standard error spanning orders of magnitude) reads
    ``"not identified"`` (with the number beside it where it is finite, e.g.
    ``"7.9e+09 (not identified)"``); a parameter held at a limit of a
    boundary fit (e.g. no dropout) is left blank (findings_12u F3).

    Parameters
    ----------
    model : fitted likelihood model
        With ``summary()`` (``estimate``, ``std_error``) and optionally
        ``not_identified_``.
    digits : int, default 4
        Significant digits of the numbers (as the fit messages,
        ``_fitting._params_text``): ``0.243``, ``4.414``, ``5.275e+11`` for a
        Gamma-Gamma ``q`` running off, never ``527455901248.8011``.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``Estimate`` and ``Std. error`` (str).
    """
    digits = check_count(digits, "digits", minimum=1, maximum=15)
    s = model.summary()
    weak = set(getattr(model, "not_identified_", None) or ())
    fixed = set(getattr(getattr(model, "fit_result_", None), "fixed", None) or ())
    est, se = [], []
    for name, e, v in zip(s.index, s["estimate"].to_numpy(float), s["std_error"].to_numpy(float)):
        est.append(f"{e:.{digits}g}")
        if name in weak and name not in fixed:
            se.append("not identified" if not np.isfinite(v) else f"{v:.{digits}g} (not identified)")
        elif not np.isfinite(v):
            se.append("" if name in fixed else "not available")
        else:
            se.append(f"{v:.{digits}g}")
    return pd.DataFrame({"Estimate": est, "Std. error": se}, index=pd.Index(s.index, name="parameter"))


def _has_covariance(model: Any) -> bool:
    """Whether ``model`` can draw its parameters from a usable estimated covariance (none not identified)."""
    if getattr(model, "not_identified_", None):
        return False  # draws spanning orders of magnitude (IdentificationWarning): not a usable covariance
    try:
        model.sample_params(1, seed=0)
    except RuntimeError:
        return False
    return True


def clv_prediction_intervals(
    transaction_model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    *,
    horizon: float,
    time_unit: str,
    margin: float,
    discount_rate: float,
    level: float,
    n_draws: int,
    seed: int | np.random.Generator | None,
) -> PredictionIntervals:
    """Prediction intervals of each customer's purchases and CLV over the horizon, and of their totals.

    Parameters
    ----------
    transaction_model, spend_model : fitted models
        The purchase model and Gamma-Gamma of the CLV (whole period).
    summary : DataFrame, shape (n_customers, ...)
        RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value``).
    horizon : float
        Horizon in time units.
    time_unit : {"D", "W"}
        Converts the annual ``discount_rate`` to a rate per time unit
        (:func:`~crm_analysis.clv.step_discount_rate`).
    margin : float
        Profit margin: the CLV of a simulated future is ``margin`` times its
        discounted revenue.
    discount_rate : float
        Annual discount rate.
    level : float
        Nominal level of the central intervals (0.9).
    n_draws : int
        Simulated futures per customer, each with its own parameter draw.
    seed : int or Generator
        The run's seed.

    Returns
    -------
    PredictionIntervals
        ``customers`` has ``purchases_mean``, ``purchases_lower``,
        ``purchases_upper`` and ``clv_mean``, ``clv_lower``, ``clv_upper``
        (``revenue_*`` times ``margin``); ``total`` has rows ``purchases``
        and ``clv``. Purchase times are discounted continuously,
        ``(1 + d)^(-tau)``, where the point CLV discounts each time unit's
        purchases at its end: the simulated mean is slightly higher (under
        half a time unit of discounting).
    """
    d = step_discount_rate(discount_rate, time_unit, 1.0)
    # a model without a usable covariance (singular Hessian, recorded on it as a HessianWarning, or parameters
    # not identified, an IdentificationWarning) cannot give parameter draws: the intervals then hold process
    # uncertainty only, and say so (parameter_uncertainty False)
    with_params = all(_has_covariance(m) for m in (transaction_model, spend_model) if m is not None)
    pi = prediction_intervals(transaction_model, summary, horizon, spend_model=spend_model, level=level,
                              n_draws=n_draws, seed=seed, discount_rate=d, parameter_uncertainty=with_params)
    cust = pi.customers.copy()
    for part in ("mean", "lower", "upper"):
        cust[f"clv_{part}"] = margin * cust.pop(f"revenue_{part}")
    cust = cust.drop(columns=[c for c in cust.columns if c.endswith("_content") and c.startswith("revenue")])
    total = pi.total.rename(index={"revenue": "clv"})
    total.loc["clv"] = total.loc["clv"] * margin
    return PredictionIntervals(customers=cust, total=total, level=pi.level, horizon=pi.horizon, n_draws=pi.n_draws,
                               parameter_uncertainty=pi.parameter_uncertainty)
