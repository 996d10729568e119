"""The DuckDB engine: RFM summaries of files, relations and frames the numpy engine does not take.

Sources become relations through :func:`crm_analysis.data.source_relation`
(files, folders and globs of Parquet/CSV files, DuckDB relations, frames),
the key columns are read by the package's date and id policy in SQL, and all
aggregation is ``GROUP BY`` SQL (daily merge, then per customer; no window
functions), so files larger than memory can be summarised; only the
per-customer result reaches pandas (fetched as Arrow, converted column by
column to numpy-backed columns).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crm_analysis.data.dates import timestamp_sql
from crm_analysis.data.engine import default_connection, quote_identifier
from crm_analysis.data.loaders import source_relation
from crm_analysis.data.validation import STRIP_SQL_CLASS

from ._common import KeyColumns, Window, raise_on_inf, raise_on_nulls, warn_utc, with_attrs

__all__ = ["calibration_and_holdout", "prepare", "frame_relation", "repeat_purchases_by_day", "summary"]

_q = quote_identifier


def frame_relation(tx: pd.DataFrame, con: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyRelation:
    """A checked, canonical in-memory frame as a relation (on ``con`` or the shared connection)."""
    return (con if con is not None else default_connection()).from_df(tx)


def _check_columns(rel: duckdb.DuckDBPyRelation, cols: KeyColumns) -> None:
    """Raise a ValueError naming any missing column."""
    missing = [f"{role} column {c!r}" for role, c in cols.roles().items() if c not in rel.columns]
    if missing:
        raise ValueError(f"transactions lack the {', '.join(missing)}; columns are {list(rel.columns)}")


def _check_nulls(rel: duckdb.DuckDBPyRelation, cols: KeyColumns) -> None:
    """Raise a ValueError when a key column holds missing values or the amount is infinite."""
    parts = ", ".join(f"COUNT(*) FILTER (WHERE {_q(c)} IS NULL)" for c in cols.roles().values())
    m = _q(cols.monetary)
    parts += (f", COUNT(*) FILTER (WHERE isinf(CAST({m} AS DOUBLE))), "
              f"any_value({m}) FILTER (WHERE isinf(CAST({m} AS DOUBLE)))")
    counts = rel.query("tx", f"SELECT {parts} FROM tx").fetchall()[0]
    raise_on_nulls(cols, counts[:-2])
    if counts[-2]:
        raise_on_inf(cols.monetary, int(counts[-2]), counts[-1])


def _canonical_relation(
    rel: duckdb.DuckDBPyRelation,
    cols: KeyColumns,
    *,
    timezone: str | None,
    dayfirst: bool | None,
    date_format: str | None,
) -> duckdb.DuckDBPyRelation:
    """The key columns read as the loaders read them: ids stripped, dates by the date policy."""
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    c, t, m = cols.customer, cols.datetime, cols.monetary
    if types[t] == "VARCHAR" or types[t].startswith("TIMESTAMP WITH TIME ZONE"):
        if types[t].startswith("TIMESTAMP WITH TIME ZONE") and timezone is None:
            warn_utc(t, stacklevel=5)
        ts = timestamp_sql(rel, t, t, dayfirst=dayfirst, date_format=date_format, timezone=timezone)
        if ts.pre:
            rel = rel.project(", ".join(["*"] + [f"{v} AS {_q(k)}" for k, v in ts.pre.items()]))
        t_expr = ts.expr
    else:
        t_expr = _q(t)
    c_expr = _q(c)
    if types[c] == "VARCHAR":
        pattern = "^" + STRIP_SQL_CLASS + "+|" + STRIP_SQL_CLASS + "+$"
        c_expr = f"regexp_replace({c_expr}, '{pattern}', '', 'g')"
    names = {c, t, m}
    return rel.project(", ".join(
        [f"{c_expr} AS {_q(c)}", f"{t_expr} AS {_q(t)}", f"{_q(m)}"]
        + [_q(x) for x in rel.columns if x not in names and not x.startswith("__date_fields_")]
    ))


def prepare(
    transactions: Any,
    con: duckdb.DuckDBPyConnection | None,
    cols: KeyColumns,
    *,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> duckdb.DuckDBPyRelation:
    """A source (path, folder, glob, relation, ...) as a relation with checked, canonical key columns.

    Raises
    ------
    ValueError
        Missing columns or key values, infinite amounts.
    FileNotFoundError, TypeError, crm_analysis.data.SourceFileError
        From :func:`crm_analysis.data.source_relation`.
    """
    rel = source_relation(
        transactions, con=con if con is not None else default_connection(),
        text_columns=[cols.customer, cols.datetime],  # ids keep leading zeros; dates by the package's policy
    )
    _check_columns(rel, cols)
    rel = _canonical_relation(rel, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format)
    _check_nulls(rel, cols)
    return rel


def _daily_cte(cols: KeyColumns, end: pd.Timestamp, start: pd.Timestamp | None) -> str:
    """SQL of the daily-merge step (one row per customer and purchase day)."""
    c, t, m = _q(cols.customer), _q(cols.datetime), _q(cols.monetary)
    where = f"CAST({t} AS DATE) <= DATE '{end.date().isoformat()}'"
    if start is not None:
        where += f" AND CAST({t} AS DATE) >= DATE '{start.date().isoformat()}'"
    return f"""
    daily AS (
        SELECT CAST({c} AS VARCHAR) AS customer_id,
               CAST({t} AS DATE) AS day,
               SUM(CAST({m} AS DOUBLE)) AS amount
        FROM tx
        WHERE {where}
        GROUP BY 1, 2
    )"""


def _to_frame(table: pa.Table, attrs: dict[str, Any]) -> pd.DataFrame:
    """Index by customer_id, fix dtypes and attach metadata.

    The query result is fetched as Arrow and converted column by column:
    numeric columns become numpy-backed ``int64``/``float64`` columns (no
    object or nullable dtypes), the customer key the index of pandas' string
    dtype; no per-row Python.
    """
    cols: dict[str, np.ndarray] = {}
    for name in table.column_names:
        if name == "customer_id":
            continue
        col = table.column(name)
        if name.startswith("frequency"):
            cols[name] = col.cast(pa.int64()).to_numpy()
        elif name == "first_purchase":
            cols[name] = col.cast(pa.timestamp("ns")).to_numpy()
        else:
            cols[name] = col.cast(pa.float64()).to_numpy()
    index = pd.Index(table.column("customer_id").to_pandas(), dtype="str", name="customer_id")
    return with_attrs(pd.DataFrame(cols, index=index), attrs)


def summary(rel: duckdb.DuckDBPyRelation, cols: KeyColumns, window: Window) -> pd.DataFrame:
    """:func:`crm_analysis.rfm.rfm_summary` of a prepared relation, in DuckDB SQL."""
    unit = window.unit
    end_sql = f"DATE '{window.end.date().isoformat()}'"
    sql = f"""
    WITH {_daily_cte(cols, window.end, window.start)}
    SELECT customer_id,
           COUNT(*) - 1 AS frequency,
           date_diff('day', MIN(day), MAX(day)) / {unit} AS recency,
           date_diff('day', MIN(day), {end_sql}) / {unit} AS "T",
           COALESCE((SUM(amount) - arg_min(amount, day)) / NULLIF(COUNT(*) - 1, 0), 0.0) AS monetary_value,
           SUM(amount) AS revenue,
           MIN(day) AS first_purchase
    FROM daily
    GROUP BY customer_id
    ORDER BY customer_id
    """
    table = rel.query("tx", sql).to_arrow_table()
    return _to_frame(table, window.attrs)


def calibration_and_holdout(
    rel: duckdb.DuckDBPyRelation,
    cols: KeyColumns,
    cal: pd.Timestamp,
    end: pd.Timestamp,
    start: pd.Timestamp | None,
    unit: float,
    attrs: dict[str, Any],
) -> pd.DataFrame:
    """:func:`crm_analysis.rfm.calibration_and_holdout` of a prepared relation."""
    cal_sql = f"DATE '{cal.date().isoformat()}'"
    duration = (end - cal).days / unit
    sql = f"""
    WITH {_daily_cte(cols, end, start)},
    per_customer AS (
        SELECT customer_id,
               COUNT(*) FILTER (WHERE day <= {cal_sql}) AS n_cal,
               MIN(day) AS first_day,
               MAX(day) FILTER (WHERE day <= {cal_sql}) AS last_cal,
               SUM(amount) FILTER (WHERE day <= {cal_sql}) AS revenue_cal,
               arg_min(amount, day) AS first_amount,
               COUNT(*) FILTER (WHERE day > {cal_sql}) AS n_hold,
               COALESCE(SUM(amount) FILTER (WHERE day > {cal_sql}), 0.0) AS revenue_hold
        FROM daily
        GROUP BY customer_id
        HAVING COUNT(*) FILTER (WHERE day <= {cal_sql}) > 0
    )
    SELECT customer_id,
           n_cal - 1 AS frequency,
           date_diff('day', first_day, last_cal) / {unit} AS recency,
           date_diff('day', first_day, {cal_sql}) / {unit} AS "T",
           COALESCE((revenue_cal - first_amount) / NULLIF(n_cal - 1, 0), 0.0) AS monetary_value,
           revenue_cal AS revenue,
           first_day AS first_purchase,
           n_hold AS frequency_holdout,
           COALESCE(revenue_hold / NULLIF(n_hold, 0), 0.0) AS monetary_value_holdout,
           revenue_hold AS revenue_holdout,
           {duration} AS duration_holdout
    FROM per_customer
    ORDER BY customer_id
    """
    table = rel.query("tx", sql).to_arrow_table()
    return _to_frame(table, attrs)


def repeat_purchases_by_day(
    rel: duckdb.DuckDBPyRelation,
    cols: KeyColumns,
    end: pd.Timestamp,
    cohort_end: pd.Timestamp,
    start: pd.Timestamp | None,
) -> pd.DataFrame:
    """:func:`crm_analysis.rfm.repeat_purchases_by_day` of a prepared relation."""
    sql = f"""
    WITH {_daily_cte(cols, end, start)},
    firsts AS (
        SELECT customer_id, MIN(day) AS first_day
        FROM daily
        GROUP BY customer_id
        HAVING MIN(day) <= DATE '{cohort_end.date().isoformat()}'
    )
    SELECT d.day,
           COUNT(*) FILTER (WHERE d.day = f.first_day) AS first_purchases,
           COUNT(*) FILTER (WHERE d.day > f.first_day) AS repeat_purchases
    FROM daily d JOIN firsts f ON d.customer_id = f.customer_id
    GROUP BY d.day
    ORDER BY d.day
    """
    df = rel.query("tx", sql).df()
    return pd.DataFrame(
        {
            "first_purchases": df["first_purchases"].to_numpy(dtype="int64"),
            "repeat_purchases": df["repeat_purchases"].to_numpy(dtype="int64"),
        },
        index=pd.DatetimeIndex(pd.to_datetime(df["day"]).astype("datetime64[ns]"), name="day"),
    )
