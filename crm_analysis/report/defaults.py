"""Built-in default artefacts, for notebooks run on their own.

Each entry builds one artefact of the run directory from the built-in
synthetic data, exactly as the chain's notebook would, so that a notebook
opened alone in JupyterLab (or checked by nbval) has its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from crm_analysis.report.context import RunContext

__all__ = ["build_default", "DEFAULT_BUILDERS"]


def _cleaned_transactions(ctx: "RunContext"):
    """The default transactions cleaned as the data-quality notebook cleans them (returns dropped, counted)."""
    from crm_analysis.data import CleaningPolicy, clean_transactions
    from crm_analysis.synthetic import default_transactions

    raw = default_transactions(seed=ctx.seed)
    return raw, clean_transactions(raw, CleaningPolicy(observation_end=ctx.as_of))


def _transactions(ctx: "RunContext") -> pd.DataFrame:
    return _cleaned_transactions(ctx)[1].data


def _returns(ctx: "RunContext") -> pd.DataFrame:
    from crm_analysis.data import dropped_lines

    raw, res = _cleaned_transactions(ctx)
    return dropped_lines(raw, res, "return_or_cancellation")


def _bookings(ctx: "RunContext") -> pd.DataFrame:
    from crm_analysis.synthetic import default_bookings

    return default_bookings(seed=ctx.seed)


def _rfm_summary(ctx: "RunContext") -> pd.DataFrame:
    from crm_analysis.rfm import rfm_summary

    return rfm_summary(ctx.read_table("transactions"), observation_end=ctx.as_of).reset_index()


def _clv(ctx: "RunContext") -> pd.DataFrame:
    from crm_analysis.clv import customer_value_table, purchase_model_label

    # as the rfm_clv notebook by default: the purchase model chosen on the last six months as holdout
    calibration_end = (pd.Timestamp(ctx.as_of) - pd.DateOffset(months=6)).date().isoformat()
    table = customer_value_table(
        ctx.read_table("transactions"), observation_end=ctx.as_of, model="auto", calibration_end=calibration_end
    )
    return table.assign(p_alive_model=purchase_model_label(table.attrs["model"]))


def _segments(ctx: "RunContext") -> pd.DataFrame:
    from crm_analysis.segmentation import segment_customers

    return segment_customers(ctx.read_table("clv"), seed=ctx.seed)


def _forecasts(ctx: "RunContext") -> pd.DataFrame:
    from crm_analysis.seasonality import DemandForecaster

    f = DemandForecaster(seed=ctx.seed, backtest_days=0)
    return f.fit(ctx.read_table("bookings"), as_of=ctx.as_of).result_.forecast


DEFAULT_BUILDERS: dict[str, Callable[["RunContext"], pd.DataFrame]] = {
    "transactions": _transactions,
    "returns": _returns,
    "bookings": _bookings,
    "rfm_summary": _rfm_summary,
    "clv": _clv,
    "segments": _segments,
    "forecasts": _forecasts,
}


def build_default(name: str, ctx: "RunContext") -> pd.DataFrame:
    """Build artefact ``name`` from the built-in default data.

    Raises
    ------
    KeyError
        When there is no built-in default for ``name``.
    """
    try:
        builder = DEFAULT_BUILDERS[name]
    except KeyError:
        raise KeyError(
            f"no built-in default for artefact {name!r}; known: {sorted(DEFAULT_BUILDERS)}"
        ) from None
    return builder(ctx)
