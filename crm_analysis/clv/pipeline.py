"""From transactions to the customer value table (``clv.parquet``).

:func:`customer_value_table` chains :func:`crm_analysis.rfm.rfm_summary`, a
transaction model (BG/NBD or Pareto/NBD), the Gamma-Gamma spend model and
:func:`crm_analysis.clv.customer_lifetime_value` into the per-customer table of
``docs/architecture.md``. :func:`fit_clv_models` fits the models on a summary
and returns a :class:`CLVAnalysis` that keeps them (for notebooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.rfm import rfm_summary, time_unit_days

__all__ = ["CLVAnalysis", "fit_clv_models", "customer_value_table", "TRANSACTION_MODELS", "CLV_COLUMNS"]

#: Columns of the ``clv.parquet`` artefact, in order.
CLV_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "revenue",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
]

_UNIT_CODES = {1.0: "D", 7.0: "W"}

#: Accepted names of the transaction model -> class name in :mod:`crm_analysis.clv`.
TRANSACTION_MODELS = {
    "bgnbd": "BetaGeoModel",
    "bg/nbd": "BetaGeoModel",
    "paretonbd": "ParetoNBDModel",
    "pareto/nbd": "ParetoNBDModel",
    "pnbd": "ParetoNBDModel",
}


def _model_class(model: str) -> type:
    key = str(model).strip().lower().replace("-", "").replace("_", "")
    if key not in TRANSACTION_MODELS:
        raise ValueError(f"unknown transaction model {model!r}: use 'bgnbd' or 'paretonbd'")
    from crm_analysis import clv

    return getattr(clv, TRANSACTION_MODELS[key])


@dataclass
class CLVAnalysis:
    """Fitted transaction and spend models on one RFM summary.

    Attributes
    ----------
    summary : DataFrame
        The RFM summary the models were fitted on (indexed by customer_id).
    transaction_model : BetaGeoModel or ParetoNBDModel
        Fitted transaction model.
    spend_model : GammaGammaModel
        Gamma-Gamma model fitted on the repeat customers with a positive
        mean repeat purchase value.
    model : str
        Name of the transaction model (``"bgnbd"`` or ``"paretonbd"``).
    spend_excluded : dict
        Customers left out of the Gamma-Gamma fit, by reason.
    """

    summary: pd.DataFrame
    transaction_model: Any
    spend_model: Any
    model: str = "bgnbd"
    spend_excluded: dict[str, int] = field(default_factory=dict)

    @property
    def time_unit(self) -> Any:
        """Time unit of the summary (``"W"`` when unknown)."""
        return self.summary.attrs.get("time_unit", "W")

    def value_table(
        self,
        *,
        horizon: float = 52,
        margin: float = 0.3,
        discount_rate: float = 0.1,
        intervals: bool = False,
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
            Add ``clv_lower`` / ``clv_upper`` (parameter uncertainty).
        seed : int, default 42
            Seed of the interval simulation.

        Returns
        -------
        DataFrame
            Columns :data:`CLV_COLUMNS` (plus the interval columns), one row
            per customer, no missing values.
        """
        from crm_analysis.clv import customer_lifetime_value

        s = self.summary
        unit = self.time_unit
        if not isinstance(unit, str):
            days = time_unit_days(unit)
            if days not in _UNIT_CODES:
                raise ValueError(f"CLV needs the summary in days or weeks (time_unit 'D' or 'W'), got {unit!r}")
            unit = _UNIT_CODES[days]
        values = customer_lifetime_value(
            self.transaction_model,
            self.spend_model,
            s,
            horizon=horizon,
            time_unit=unit,
            margin=margin,
            discount_rate=discount_rate,
            intervals=intervals,
            seed=seed,
        )
        values = pd.DataFrame(values)
        if len(values) != len(s):
            raise ValueError(f"customer_lifetime_value returned {len(values)} rows for {len(s)} customers")
        p_alive = np.asarray(self.transaction_model.probability_alive(s[["frequency", "recency", "T"]]), dtype=float)
        out = pd.DataFrame(
            {
                "customer_id": s.index.astype("str"),
                "frequency": s["frequency"].to_numpy(),
                "recency": s["recency"].to_numpy(),
                "T": s["T"].to_numpy(),
                "monetary_value": s["monetary_value"].to_numpy(),
                "revenue": s["revenue"].to_numpy() if "revenue" in s else np.nan,
                "p_alive": p_alive.reshape(-1),
                "expected_purchases": np.asarray(values["expected_purchases"], dtype=float),
                "expected_spend": np.asarray(values["expected_spend"], dtype=float),
                "clv": np.asarray(values["clv"], dtype=float),
            }
        )
        if intervals:
            for col in ("clv_lower", "clv_upper"):
                if col in values:
                    out[col] = np.asarray(values[col], dtype=float)
        bad = out.drop(columns="customer_id").isna().sum()
        bad = bad[bad > 0]
        if len(bad):
            raise ValueError(f"the value table has missing values: {bad.to_dict()}")
        out.attrs.update(s.attrs)
        out.attrs.update({"horizon": horizon, "margin": margin, "discount_rate": discount_rate, "model": self.model})
        return out


def fit_clv_models(summary: pd.DataFrame, *, model: str = "bgnbd") -> CLVAnalysis:
    """Fit a transaction model and the Gamma-Gamma spend model on an RFM summary.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`crm_analysis.rfm.rfm_summary` (or the calibration
        part of :func:`crm_analysis.rfm.calibration_and_holdout`).
    model : {"bgnbd", "paretonbd"}, default "bgnbd"
        Transaction model.

    Returns
    -------
    CLVAnalysis

    Raises
    ------
    ValueError
        For an unknown model, missing columns, or no repeat customer with a
        positive spend (the Gamma-Gamma model cannot be fitted).

    Notes
    -----
    The Gamma-Gamma model is fitted on customers with at least one repeat
    purchase and a positive mean repeat purchase value; the others are
    counted in ``spend_excluded`` by reason.
    """
    from crm_analysis.clv import GammaGammaModel

    cls = _model_class(model)
    missing = [c for c in ("frequency", "recency", "T", "monetary_value") if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks the columns {missing} (use crm_analysis.rfm.rfm_summary)")
    if len(summary) == 0:
        raise ValueError("summary has no customers")
    transaction_model = cls().fit(summary[["frequency", "recency", "T"]])
    repeat = summary["frequency"] > 0
    positive = summary["monetary_value"] > 0
    excluded = {
        "no repeat purchase": int((~repeat).sum()),
        "mean repeat purchase value <= 0": int((repeat & ~positive).sum()),
    }
    spend_data = summary.loc[repeat & positive, ["frequency", "monetary_value"]]
    if len(spend_data) == 0:
        raise ValueError("no customer has a repeat purchase with positive value: the Gamma-Gamma model cannot be fitted")
    spend_model = GammaGammaModel().fit(spend_data)
    key = str(model).strip().lower().replace("-", "").replace("_", "")
    name = "bgnbd" if TRANSACTION_MODELS[key] == "BetaGeoModel" else "paretonbd"
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
    intervals: bool = False,
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
    model : {"bgnbd", "paretonbd"}, default "bgnbd"
        Transaction model.
    intervals : bool, default False
        Add ``clv_lower`` / ``clv_upper``.
    seed : int, default 42
        Seed of the interval simulation.
    **summary_kwargs
        Passed to :func:`crm_analysis.rfm.rfm_summary` (column names,
        ``observation_start``, ``con``).

    Returns
    -------
    DataFrame
        The ``clv.parquet`` columns (:data:`CLV_COLUMNS`), one row per
        customer, ordered by customer_id.
    """
    summary = rfm_summary(transactions, observation_end=observation_end, time_unit=time_unit, **summary_kwargs)
    analysis = fit_clv_models(summary, model=model)
    return analysis.value_table(
        horizon=horizon, margin=margin, discount_rate=discount_rate, intervals=intervals, seed=seed
    )
