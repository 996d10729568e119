"""Fit CLV models on distinct summary rows and score customers in batches.

For tens of millions of customers neither the model fit nor the scoring needs
the whole summary in one pandas frame:

* :func:`fit_on_distinct` counts the distinct ``(frequency, recency, T)`` rows
  (BG/NBD, Pareto/NBD) or ``(frequency, monetary_value)`` rows (Gamma-Gamma)
  in DuckDB and fits on them with ``weights`` -- the likelihood is a sum over
  customers, so this is the same fit (the models collapse identical rows
  themselves anyway). With weekly ``recency``/``T`` from daily data there are
  at most a few hundred thousand distinct transaction rows, whatever the
  number of customers.
* :func:`score_in_batches` streams the summary (Parquet file/folder/glob, a
  DuckDB relation or a DataFrame) in record batches, computes ``p_alive``,
  expected purchases, expected spend and CLV per batch with the fitted models,
  and appends each batch to a Parquet file with ``pyarrow.parquet.ParquetWriter``.
  The output has the columns of the ``clv.parquet`` artefact
  (:data:`crm_analysis.clv.CLV_COLUMNS`) and equals
  ``CLVAnalysis.value_table`` row for row.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, shown
from crm_analysis._validate import check_columns

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crm_analysis._progress import progress as progress_bar
from crm_analysis.clv import (
    CLV_COLUMNS,
    PURCHASE_MODELS,
    SPEND_NO_REPEAT,
    SPEND_NONPOSITIVE,
    GammaGammaModel,
    customer_lifetime_value,
)
from crm_analysis.clv.selection import _fitted_model_label
from crm_analysis.clv.base import BaseTransactionModel
from crm_analysis.data.engine import connect
from crm_analysis.data.loaders import source_relation

__all__ = ["fit_on_distinct", "score_in_batches", "BatchScoring", "distinct_rows"]

_TRANSACTION_COLS = ("frequency", "recency", "T")
_SPEND_COLS = ("frequency", "monetary_value")


def _summary_relation(source: Any, con: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyRelation:
    """DuckDB relation over a summary given as Parquet path/folder/glob, relation or DataFrame."""
    if isinstance(source, pd.DataFrame):
        if "customer_id" not in source.columns and source.index.name == "customer_id":
            source = source.reset_index()
        return source_relation(source, con=con if con is not None else connect())
    if isinstance(source, (str, os.PathLike)):
        return source_relation(source, con=con if con is not None else connect(), fmt="parquet")
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source
    raise InputTypeError(
        f"summary_source must be a Parquet path/folder/glob, a DuckDB relation or a DataFrame, got {type(source).__name__}"
    )


def _require(rel: duckdb.DuckDBPyRelation, cols: tuple[str, ...] | list[str]) -> None:
    check_columns(cols, rel.columns, table="the summary",
                  fix="Build it with crm_analysis.rfm.rfm_summary, which writes them")


def distinct_rows(
    summary_source: Any,
    columns: tuple[str, ...] | list[str],
    *,
    where: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Distinct values of ``columns`` in a summary with their customer counts.

    Parameters
    ----------
    summary_source : str, path, duckdb.DuckDBPyRelation or DataFrame
        The RFM summary (Parquet file, folder or glob, relation or frame).
    columns : sequence of str
        Columns to group by.
    where : str, optional
        SQL filter applied before grouping (over the summary columns).
    con : duckdb.DuckDBPyConnection, optional
        Connection for path / DataFrame input.

    Returns
    -------
    pandas.DataFrame
        ``columns`` plus ``n`` (int64, customers per distinct row), sorted.
    """
    rel = _summary_relation(summary_source, con)
    _require(rel, list(columns))
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {cols}, COUNT(*) AS n FROM s {'WHERE ' + where if where else ''} GROUP BY ALL ORDER BY ALL"
    return rel.query("s", sql).df()


def fit_on_distinct(
    summary_source: Any,
    model: Any,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Any:
    """Fit a CLV model on the distinct rows of a (large) summary, weighted by counts.

    Parameters
    ----------
    summary_source : str, path, duckdb.DuckDBPyRelation or DataFrame
        RFM summary with ``frequency``, ``recency``, ``T`` (transaction
        models) or ``frequency``, ``monetary_value`` (Gamma-Gamma), e.g. the
        ``rfm_summary.parquet`` artefact or a folder written by Spark.
    model : BetaGeoModel, ParetoNBDModel or GammaGammaModel
        An unfitted model instance (its settings, e.g. ``penalizer``, are kept).
    con : duckdb.DuckDBPyConnection, optional
        Connection for path / DataFrame input.

    Returns
    -------
    model
        The same instance, fitted. For Gamma-Gamma only repeat buyers with a
        positive mean repeat value are used (as in
        :func:`crm_analysis.clv.fit_clv_models`); ``model.exclusions_`` then
        counts the customers left out, by reason, and ``n_excluded_`` their
        total.

    Raises
    ------
    TypeError
        For an unsupported model.
    ValueError
        Missing columns, or the model's own checks (no repeat buyers, ...).

    Notes
    -----
    The fit equals ``model.fit(summary)`` on the full frame: both collapse to
    the same distinct rows and weights before maximising the likelihood.
    """
    if isinstance(model, BaseTransactionModel):
        rows = distinct_rows(summary_source, _TRANSACTION_COLS, con=con)
        return model.fit(rows, weights="n")
    if isinstance(model, GammaGammaModel):
        rel = _summary_relation(summary_source, con)
        _require(rel, _SPEND_COLS)
        no_repeat, not_positive = rel.query(
            "s",
            'SELECT COUNT(*) FILTER (WHERE frequency <= 0), '
            'COUNT(*) FILTER (WHERE frequency > 0 AND NOT monetary_value > 0) FROM s',
        ).fetchall()[0]
        rows = distinct_rows(rel, _SPEND_COLS, where="frequency > 0 AND monetary_value > 0")
        model.fit(rows, weights="n")
        model.exclusions_ = {SPEND_NO_REPEAT: int(no_repeat), SPEND_NONPOSITIVE: int(not_positive)}
        model.n_excluded_ = int(no_repeat) + int(not_positive)
        return model
    raise InputTypeError(
        f"model must be a BetaGeoModel, ParetoNBDModel or GammaGammaModel instance, got {type(model).__name__}"
    )


@dataclass
class BatchScoring:
    """Outcome of :func:`score_in_batches`.

    Attributes
    ----------
    out_path : Path
        The Parquet file written.
    n_customers : int
        Rows written.
    n_batches : int
        Batches processed.
    totals : dict
        Sums of ``expected_purchases``, ``clv`` and ``p_alive`` over all
        customers (for headline figures without reading the file back).
    settings : dict
        ``horizon``, ``time_unit``, ``margin``, ``discount_rate``, ``batch_size``.
    spend_basis : dict
        Customers valued with the population mean spend, by reason (the
        spend rule of :mod:`crm_analysis.clv.value`).
    """

    out_path: Path
    n_customers: int
    n_batches: int
    totals: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    spend_basis: dict[str, int] = field(default_factory=dict)


def _batches(source: Any, columns: list[str], batch_size: int, con: duckdb.DuckDBPyConnection | None):
    """Yield pyarrow RecordBatches of ``columns`` (at most ``batch_size`` rows each), streamed by DuckDB."""
    rel = _summary_relation(source, con)
    _require(rel, columns)
    reader = rel.select(", ".join(f'"{c}"' for c in columns)).to_arrow_reader(batch_size)
    yield from reader


def score_in_batches(
    summary_source: Any,
    transaction_model: BaseTransactionModel,
    spend_model: GammaGammaModel,
    *,
    out_path: str | os.PathLike[str],
    batch_size: int = 1_000_000,
    horizon: float = 52,
    time_unit: str = "W",
    margin: float = 0.3,
    discount_rate: float = 0.1,
    con: duckdb.DuckDBPyConnection | None = None,
    progress: bool = False,
) -> BatchScoring:
    """Score a large RFM summary batch by batch and write the value table to Parquet.

    Parameters
    ----------
    summary_source : str, path, duckdb.DuckDBPyRelation or DataFrame
        The summary: a Parquet file, folder or glob (read with
        :func:`crm_analysis.data.source_relation`), a DuckDB relation or a
        DataFrame, streamed by DuckDB in record batches. Needs ``customer_id``,
        ``frequency``, ``recency``, ``T``, ``monetary_value``; ``revenue`` is
        carried over when present.
    transaction_model : BetaGeoModel or ParetoNBDModel
        Fitted transaction model (e.g. from :func:`fit_on_distinct`).
    spend_model : GammaGammaModel
        Fitted spend model.
    out_path : str or path
        Parquet file to write (parent folders are created; overwritten).
    batch_size : int, default 1,000,000
        Customers per batch. Peak memory is dominated by the CLV grid,
        about ``batch_size * ceil(horizon) * 16`` bytes (0.8 GB for 1e6
        customers and 52 weekly steps).
    horizon, time_unit, margin, discount_rate
        As in :meth:`crm_analysis.clv.CLVAnalysis.value_table`
        (``time_unit``: ``"D"`` or ``"W"``, the unit of recency and T).
    con : duckdb.DuckDBPyConnection, optional
        Connection for DataFrame input.
    progress : bool, default False
        Show a progress bar over the batches.

    Returns
    -------
    BatchScoring
        Path, row and batch counts, totals.

    Raises
    ------
    ValueError
        Missing columns, a bad ``batch_size``, or missing values in the
        result (never written silently).
    """
    if int(batch_size) < 1:
        raise InputError(f"batch_size must be >= 1, got {shown(batch_size)}")
    cols = ["customer_id", *_TRANSACTION_COLS, "monetary_value"]
    has_revenue = _has_column(summary_source, "revenue", con)
    read_cols = cols + (["revenue"] if has_revenue else [])
    out_cols = [c for c in CLV_COLUMNS if c != "revenue" or has_revenue]
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(
        [("customer_id", pa.string()), ("frequency", pa.int64())]
        + [(c, pa.float64()) for c in out_cols[2:] if c != "p_alive_model"]
        + [("p_alive_model", pa.string())]
    )
    totals = {"expected_purchases": 0.0, "clv": 0.0, "p_alive": 0.0}
    spend_basis = {SPEND_NO_REPEAT: 0, SPEND_NONPOSITIVE: 0}
    n_rows = n_batches = 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in progress_bar(_batches(summary_source, read_cols, int(batch_size), con), enable=progress, desc="scoring"):
            if batch.num_rows == 0:
                continue
            frame = batch.to_pandas(ignore_metadata=True)
            table = _score_frame(frame, transaction_model, spend_model, horizon, time_unit, margin, discount_rate, out_cols)
            writer.write_table(pa.Table.from_pandas(table, schema=schema, preserve_index=False))
            for k in totals:
                totals[k] += float(table[k].sum())
            for k, v in table.attrs.get("spend_basis", {}).items():
                spend_basis[k] = spend_basis.get(k, 0) + int(v)
            n_rows += len(table)
            n_batches += 1
    return BatchScoring(
        out_path=out,
        n_customers=n_rows,
        n_batches=n_batches,
        totals=totals,
        settings={
            "horizon": horizon,
            "time_unit": time_unit,
            "margin": margin,
            "discount_rate": discount_rate,
            "batch_size": int(batch_size),
        },
        spend_basis=spend_basis,
    )


def _has_column(source: Any, name: str, con: duckdb.DuckDBPyConnection | None) -> bool:
    if isinstance(source, pd.DataFrame):
        return name in source.columns
    if isinstance(source, duckdb.DuckDBPyRelation):
        return name in source.columns
    return name in _summary_relation(source, con).columns


def _score_frame(
    frame: pd.DataFrame,
    tm: BaseTransactionModel,
    sm: GammaGammaModel,
    horizon: float,
    time_unit: str,
    margin: float,
    discount_rate: float,
    out_cols: list[str],
) -> pd.DataFrame:
    """The value-table columns of one batch (same computation as ``CLVAnalysis.value_table``)."""
    frame = frame.set_index("customer_id")
    values = customer_lifetime_value(
        tm, sm, frame, horizon=horizon, time_unit=time_unit, margin=margin, discount_rate=discount_rate
    )
    p_alive = np.asarray(tm.probability_alive(frame[list(_TRANSACTION_COLS)]), dtype=float).reshape(-1)
    out = pd.DataFrame(
        {
            "customer_id": frame.index.astype("str"),
            "frequency": frame["frequency"].to_numpy(dtype=np.int64),
            "recency": frame["recency"].to_numpy(dtype=float),
            "T": frame["T"].to_numpy(dtype=float),
            "monetary_value": frame["monetary_value"].to_numpy(dtype=float),
            "revenue": frame["revenue"].to_numpy(dtype=float) if "revenue" in frame else np.nan,
            "p_alive": p_alive,
            "expected_purchases": np.asarray(values["expected_purchases"], dtype=float),
            "expected_spend": np.asarray(values["expected_spend"], dtype=float),
            "clv": np.asarray(values["clv"], dtype=float),
            "p_alive_model": _fitted_model_label(
                next((s.label for s in PURCHASE_MODELS.values() if s.class_name == type(tm).__name__),
                     type(tm).__name__), tm),
        }
    )[out_cols]
    bad = out.drop(columns="customer_id").isna().sum()
    bad = bad[bad > 0]
    if len(bad):
        raise InputError(f"scoring produced missing values (not written): {bad.to_dict()}")
    out.attrs["spend_basis"] = dict(values.attrs.get("spend_basis", {}))
    return out
