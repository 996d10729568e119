"""From transactions to the customer value table (``clv.parquet``).

:func:`customer_value_table` chains :func:`crm_analysis.rfm.rfm_summary`, a
purchase (transaction) model (BG/NBD, MBG/NBD or Pareto/NBD, see
:mod:`crm_analysis.clv.selection`), the Gamma-Gamma spend model and
:func:`crm_analysis.clv.customer_lifetime_value` into the per-customer table of
``docs/architecture.md``. :func:`fit_clv_models` fits the models on a summary
and returns a :class:`CLVAnalysis` that keeps them (for notebooks).

Customers without a repeat purchase or with a mean repeat purchase value
``<= 0`` (e.g. a return on a later day than the purchase) are left out of the
spend fit, counted by reason in :attr:`CLVAnalysis.spend_excluded`, and valued
with the Gamma-Gamma population mean spend: the spend rule of
:mod:`crm_analysis.clv.value`, the same on every path.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns, check_count, check_number

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.contracts import CLV, TimeUnit, headline_labels
from crm_analysis.rfm import rfm_summary

__all__ = [
    "CLVAnalysis",
    "fit_clv_models",
    "customer_value_table",
    "TRANSACTION_MODELS",
    "CLV_COLUMNS",
    "RFM_CLV_HEADLINES",
]

from .selection import (
    PURCHASE_MODELS,
    _fitted_model_label,
    compare_models,
    purchase_model_class,
    purchase_model_name,
)
from ._validation import as_frame
from .value import SPEND_NO_REPEAT, SPEND_NONPOSITIVE, fit_spend_model, spend_exclusions

#: Columns of the ``clv.parquet`` artefact, in order: the required columns of its
#: contract (:data:`crm_analysis.contracts.CLV`).
CLV_COLUMNS: list[str] = list(CLV.required)

#: Headline figures of the rfm_clv report (key -> label; ``{horizon}``, ``{unit}`` and
#: ``{model}`` are filled in with ``str.format``), as declared in
#: :data:`crm_analysis.contracts.HEADLINES`.
RFM_CLV_HEADLINES: dict[str, str] = headline_labels("rfm_clv")

#: Accepted names of the transaction model -> class name in :mod:`crm_analysis.clv`
#: (derived from the registry :data:`crm_analysis.clv.selection.PURCHASE_MODELS`).
TRANSACTION_MODELS: dict[str, str] = {
    alias: spec.class_name for spec in PURCHASE_MODELS.values() for alias in (spec.name, *spec.aliases)
}


@dataclass
class CLVAnalysis:
    """Fitted transaction and spend models on one RFM summary.

    Attributes
    ----------
    summary : DataFrame
        The RFM summary the models were fitted on (indexed by customer_id).
    transaction_model : BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
        Fitted transaction (purchase) model.
    spend_model : GammaGammaModel
        Gamma-Gamma model fitted on the repeat customers with a positive
        mean repeat purchase value.
    model : str
        Registry name of the transaction model (``"bgnbd"``, ``"mbgnbd"`` or
        ``"paretonbd"``).
    spend_excluded : dict
        Customers left out of the Gamma-Gamma fit, by reason
        (``"no repeat purchase"``, ``"mean repeat purchase value <= 0"``);
        they are valued with the population mean spend.
    """

    summary: pd.DataFrame
    transaction_model: Any
    spend_model: Any
    model: str = "bgnbd"
    spend_excluded: dict[str, int] = field(default_factory=dict)

    @property
    def model_label(self) -> str:
        """Report label of the transaction model (``"BG/NBD"``, ...)."""
        spec = PURCHASE_MODELS.get(self.model)
        return spec.label if spec is not None else str(self.model)

    @property
    def p_alive_label(self) -> str:
        """Descriptive label of the P(alive) used: :attr:`model_label` and the limit the fit sits at, if any.

        E.g. ``"BG/NBD"`` or ``"BG/NBD at its common-dropout limit"`` (``boundary_kind()`` of the fitted
        transaction model). It is the ``p_alive_model`` column of the value table and what the segmentation and
        action pages show; :attr:`model_label` stays the model's plain name (a key of tables and dictionaries).
        """
        return _fitted_model_label(self.model_label, self.transaction_model)

    def spend_exclusions(self) -> pd.DataFrame:
        """Customers left out of the spend fit: one row per reason with the count and their treatment.

        Returns
        -------
        pandas.DataFrame
            Index ``reason``; columns ``customers`` and ``valued_with``.
        """
        p, q, v = (float(self.spend_model.params_[k]) for k in ("p", "q", "v"))
        mean = f"population mean spend p v / (q - 1) = {p * v / (q - 1):,.2f}" if q > 1 else "undefined (q <= 1)"
        reasons = [SPEND_NO_REPEAT, SPEND_NONPOSITIVE] + [r for r in self.spend_excluded if r not in
                                                           (SPEND_NO_REPEAT, SPEND_NONPOSITIVE)]
        return pd.DataFrame(
            {"customers": [int(self.spend_excluded.get(r, 0)) for r in reasons], "valued_with": mean},
            index=pd.Index(reasons, name="reason"),
        )

    @property
    def time_unit(self) -> Any:
        """Time unit of the summary, as :func:`crm_analysis.rfm.rfm_summary` recorded it in ``attrs``.

        Raises
        ------
        crm_analysis.contracts.ContractError
            When the summary does not carry its time unit (never taken to be weeks).
        """
        return TimeUnit.from_attrs(self.summary.attrs, what="the RFM summary").value

    def value_table(
        self,
        *,
        horizon: float = 52,
        margin: float = 0.3,
        discount_rate: float = 0.1,
        intervals: bool = False,
        interval_level: float = 0.9,
        interval_draws: int = 200,
        seed: int = 42,
    ) -> pd.DataFrame:
        """Per-customer value table (the ``clv.parquet`` columns).

        Parameters
        ----------
        horizon : float, default 52
            CLV horizon in time units of the summary.
        margin : float, default 0.3
            Profit margin applied to spend.
        discount_rate : float, default 0.1
            Annual discount rate.
        intervals : bool, default False
            Add ``clv_lower`` / ``clv_upper``: the prediction interval of each
            customer's *realised* CLV over the horizon (simulated futures, purchase
            process and parameter uncertainty), the interval of ``clv.parquet``
            (:data:`crm_analysis.contracts.CLV`) as the rfm_clv step computes it
            (:func:`crm_analysis.clv.clv_prediction_intervals`). Not the
            parameter-uncertainty interval of the expected CLV,
            ``customer_lifetime_value(..., intervals=True)``'s ``clv_param_lower`` /
            ``clv_param_upper``.
        interval_level : float, default 0.9
            Level of the prediction intervals (the step's ``interval_level``).
        interval_draws : int, default 200
            Simulated futures per customer (the step's ``interval_draws``, at least 20).
        seed : int, default 42
            Seed of the interval simulation.

        Returns
        -------
        DataFrame
            Columns :data:`CLV_COLUMNS` (plus the interval columns): the
            ``clv.parquet`` contract (:data:`crm_analysis.contracts.CLV`),
            one row per customer, no missing values, ``p_alive_model`` the
            label of the transaction model. ``revenue`` (the customer's
            total revenue, a column of :func:`crm_analysis.rfm.rfm_summary`)
            is copied from the summary; a summary without it (e.g. a
            hand-made one) gives a table without that column (so not the
            full contract), and ``attrs["missing_columns"]`` says so.
            ``attrs`` carry the summary's
            attributes, the settings, ``model`` (registry name),
            ``spend_basis`` (customers valued with the population mean
            spend, by reason) and, with ``intervals``,
            ``prediction_intervals`` (level, draws, whether parameter
            uncertainty is included).
        """
        from crm_analysis.clv import customer_lifetime_value

        s = self.summary
        check_columns(("frequency", "recency", "T", "monetary_value"), s.columns,
                      table="the summary (needed for the value table)",
                      fix="Build it with crm_analysis.rfm.rfm_summary, which adds them")
        inputs = ["frequency", "recency", "T", "monetary_value"] + (["revenue"] if "revenue" in s.columns else [])
        nan_in = s[inputs].isna().sum()
        nan_in = nan_in[nan_in > 0]
        if len(nan_in):
            raise InputError(
                f"the summary has missing values in {nan_in.to_dict()} (column: customers); every customer needs "
                "a value there (rfm_summary gives 0 revenue and monetary_value 0 for customers without one): "
                "fill or drop those customers before valuing them"
            )
        unit = TimeUnit.parse(self.time_unit).code
        if unit is None:
            raise InputError(f"CLV needs the summary in days or weeks (time_unit 'D' or 'W'), got {shown(self.time_unit)}")
        values = customer_lifetime_value(
            self.transaction_model,
            self.spend_model,
            s,
            horizon=horizon,
            time_unit=unit,
            margin=margin,
            discount_rate=discount_rate,
            seed=seed,
        )
        if not isinstance(values, pd.DataFrame):
            values = pd.DataFrame(values)
        if len(values) != len(s):
            raise InputError(f"customer_lifetime_value returned {len(values)} rows for {len(s)} customers")
        p_alive = np.asarray(self.transaction_model.probability_alive(s[["frequency", "recency", "T"]]), dtype=float)
        out = pd.DataFrame(
            {
                "customer_id": s.index.astype("str"),
                "frequency": s["frequency"].to_numpy(),
                "recency": s["recency"].to_numpy(),
                "T": s["T"].to_numpy(),
                "monetary_value": s["monetary_value"].to_numpy(),
                "revenue": s["revenue"].to_numpy() if "revenue" in s.columns else np.zeros(len(s)),
                "p_alive": p_alive.reshape(-1),
                "expected_purchases": np.asarray(values["expected_purchases"], dtype=float),
                "expected_spend": np.asarray(values["expected_spend"], dtype=float),
                "clv": np.asarray(values["clv"], dtype=float),
                "p_alive_model": self.p_alive_label,
            }
        )
        missing_cols: dict[str, str] = {}
        if "revenue" not in s.columns:
            out = out.drop(columns="revenue")
            missing_cols["revenue"] = "not in the summary (a column of crm_analysis.rfm.rfm_summary)"
        iv_record: dict[str, Any] = {}
        if intervals:  # the contract's interval: the prediction interval of the realised CLV, as the step's
            from .report_extras import clv_prediction_intervals

            check_number(interval_level, "interval_level", minimum=0.0, maximum=1.0, low_open=True, high_open=True,
                         fix="e.g. 0.9 for 90% intervals")
            check_count(interval_draws, "interval_draws", minimum=20,
                        fix="simulated futures per customer; 200 is the rfm_clv step's default")
            iv = clv_prediction_intervals(self.transaction_model, self.spend_model, s, horizon=horizon, time_unit=unit,
                                          margin=margin, discount_rate=discount_rate, level=interval_level,
                                          n_draws=int(interval_draws), seed=seed)
            ends = iv.customers[["clv_lower", "clv_upper"]].set_axis(iv.customers.index.astype(str))
            ends = ends.reindex(out["customer_id"].astype(str))
            out["clv_lower"] = ends["clv_lower"].to_numpy(float)
            out["clv_upper"] = ends["clv_upper"].to_numpy(float)
            iv_record = {"level": iv.level, "n_draws": iv.n_draws, "parameter_uncertainty": iv.parameter_uncertainty}
        out["p_alive_model"] = out["p_alive_model"].astype("string")
        bad = out.drop(columns="customer_id").isna().sum()
        bad = bad[bad > 0]
        if len(bad):
            raise InputError(f"the value table has missing values: {bad.to_dict()}")
        out.attrs.update(s.attrs)
        out.attrs.update({"horizon": horizon, "margin": margin, "discount_rate": discount_rate, "model": self.model,
                          "p_alive_model": self.p_alive_label,
                          "spend_basis": dict(values.attrs.get("spend_basis", {})),
                          "missing_columns": missing_cols})
        if iv_record:
            out.attrs["prediction_intervals"] = iv_record
        return out


def fit_clv_models(
    summary: pd.DataFrame,
    *,
    model: str = "bgnbd",
    transaction_model: Any = None,
    spend_model: Any = None,
) -> CLVAnalysis:
    """Fit a transaction model and the Gamma-Gamma spend model on an RFM summary.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`crm_analysis.rfm.rfm_summary` (or the calibration
        part of :func:`crm_analysis.rfm.calibration_and_holdout`).
    model : {"bgnbd", "mbgnbd", "paretonbd"}, default "bgnbd"
        Transaction model (aliases such as ``"pareto_nbd"`` accepted).
    transaction_model : fitted model, optional
        A model of class ``model`` already fitted on ``summary`` (e.g. by
        :func:`crm_analysis.clv.fit_purchase_models`); it is not refitted.
    spend_model : GammaGammaModel, optional
        A spend model already fitted on ``summary`` with
        :func:`crm_analysis.clv.fit_spend_model`; it is not refitted.

    Returns
    -------
    CLVAnalysis

    Raises
    ------
    ValueError
        For an unknown or unavailable model, a pre-fitted model of another
        class or not fitted, missing columns, or no repeat customer with a
        positive spend (the Gamma-Gamma model cannot be fitted).

    Notes
    -----
    The Gamma-Gamma model is fitted on customers with at least one repeat
    purchase and a positive mean repeat purchase value; the others are
    counted in ``spend_excluded`` by reason and valued with the population
    mean spend (:mod:`crm_analysis.clv.value`).
    """
    name = purchase_model_name(model)
    cls = purchase_model_class(name)
    summary = as_frame(summary, what="summary", columns=("frequency", "recency", "T", "monetary_value"))
    check_columns(("frequency", "recency", "T", "monetary_value"), summary.columns, table="summary",
                  fix="Build it with crm_analysis.rfm.rfm_summary, which adds them")
    if len(summary) == 0:
        raise InputError("summary has no customers")
    if transaction_model is None:
        transaction_model = cls().fit(summary[["frequency", "recency", "T"]])
    elif not isinstance(transaction_model, cls) or not hasattr(transaction_model, "params_"):
        raise InputError(
            f"transaction_model must be a fitted {cls.__name__} for model={model!r}, "
            f"got {type(transaction_model).__name__}"
        )
    if spend_model is None:
        spend_model = fit_spend_model(summary)
    elif not hasattr(spend_model, "params_"):
        raise InputError("spend_model must be a fitted GammaGammaModel (crm_analysis.clv.fit_spend_model)")
    _, excluded = spend_exclusions(summary)  # counted on the customers valued here
    return CLVAnalysis(
        summary=summary,
        transaction_model=transaction_model,
        spend_model=spend_model,
        model=name,
        spend_excluded=excluded,
    )


def customer_value_table(
    transactions: Any,
    *,
    observation_end: Any,
    time_unit: str | float = "W",
    horizon: float = 52,
    margin: float = 0.3,
    discount_rate: float = 0.1,
    model: str = "bgnbd",
    calibration_end: Any = None,
    criterion: str = "holdout_rmse",
    intervals: bool = False,
    interval_level: float = 0.9,
    interval_draws: int = 200,
    seed: int = 42,
    **summary_kwargs: Any,
) -> pd.DataFrame:
    """Customer value table: RFM summary, P(alive), expected purchases and spend, CLV.

    Parameters
    ----------
    transactions : DataFrame, path or duckdb relation
        Transactions as for :func:`crm_analysis.rfm.rfm_summary`.
    observation_end : date-like
        End of the observation period (inclusive); the models are fitted on
        all history up to it and CLV is for the ``horizon`` after it.
    time_unit : {"D", "W"} or number, default "W"
        Time unit of recency, T and ``horizon``.
    horizon : float, default 52
        CLV horizon in time units.
    margin : float, default 0.3
        Profit margin.
    discount_rate : float, default 0.1
        Annual discount rate.
    model : {"bgnbd", "mbgnbd", "paretonbd", "auto"}, default "bgnbd"
        Transaction model; ``"auto"`` chooses it with
        :func:`crm_analysis.clv.compare_models` on the calibration period
        ending ``calibration_end`` and its holdout up to ``observation_end``.
    calibration_end : date-like, optional
        End of the calibration period; required with ``model="auto"``.
    criterion : str, default "holdout_rmse"
        Selection criterion with ``model="auto"``.
    intervals : bool, default False
        Add ``clv_lower`` / ``clv_upper``, the prediction interval of the
        customer's realised CLV (as in ``clv.parquet``; :meth:`CLVAnalysis.value_table`).
    interval_level : float, default 0.9
        Level of those intervals.
    interval_draws : int, default 200
        Simulated futures per customer for them.
    seed : int, default 42
        Seed of the interval simulation.
    **summary_kwargs
        Passed to :func:`crm_analysis.rfm.rfm_summary` (column names,
        ``observation_start``, ``con``).

    Returns
    -------
    DataFrame
        The ``clv.parquet`` columns (:data:`CLV_COLUMNS`), one row per
        customer, ordered by customer_id; ``attrs["model"]`` names the
        transaction model (and, with ``"auto"``, ``attrs["model_choice"]``
        holds the comparison record).

    Raises
    ------
    ValueError
        Unknown model, ``model="auto"`` without ``calibration_end``, or the
        errors of the steps.
    """
    summary = rfm_summary(transactions, observation_end=observation_end, time_unit=time_unit, **summary_kwargs)
    choice = None
    if str(model).strip().lower() == "auto":
        if calibration_end is None:
            raise InputError(
                "model='auto' chooses the purchase model on a holdout period: give calibration_end "
                "(a date before observation_end), or name the model (e.g. model='bgnbd')"
            )
        from crm_analysis.rfm import calibration_and_holdout

        cal_hold = calibration_and_holdout(
            transactions, calibration_end=calibration_end, observation_end=observation_end,
            time_unit=time_unit, **summary_kwargs,
        )
        choice = compare_models(cal_hold, criterion=criterion)
        model = choice.chosen
    analysis = fit_clv_models(summary, model=model)
    table = analysis.value_table(
        horizon=horizon, margin=margin, discount_rate=discount_rate, intervals=intervals,
        interval_level=interval_level, interval_draws=interval_draws, seed=seed
    )
    if choice is not None:
        table.attrs["model_choice"] = choice.to_dict()
    return table
