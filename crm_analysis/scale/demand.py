"""Out-of-core daily demand: per-day orders, lines, revenue and customers in DuckDB SQL.

:func:`daily_demand` is the scale-out counterpart of
:func:`crm_analysis.seasonality.transaction_series` (``freq="D"``,
``fill="zero"``, no grouping): one ``GROUP BY day`` over the source, streamed
by DuckDB (Parquet folders and globs are scanned, never loaded; with a
``memory_limit`` and ``temp_directory`` on the connection the distinct counts
spill to disk instead of failing), then the calendar is generated in SQL
(``generate_series``) and joined so that every day between ``start`` and
``end`` is present, zero-filled. Only the per-day table (one row per calendar
day) reaches pandas.

Measures, as in :data:`crm_analysis.seasonality.TRANSACTION_MEASURES`:

``orders``
    distinct ``order_id`` values of the day, each line without an order id
    counted as its own order; every line when the source has no ``order_id``;
``lines``
    rows;
``revenue``
    sum of ``amount`` (returns count negatively; missing amounts are skipped,
    as a pandas sum does);
``customers``
    distinct ``customer_id`` values of the day.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from crm_analysis.data import transactions_relation
from crm_analysis.data.engine import quote_literal
from crm_analysis.data.errors import duckdb_value_errors, infinite_counts_sql, raise_on_infinite

from crm_analysis._dates import parse_date

__all__ = ["daily_demand", "DEMAND_COLUMNS", "daily_demand_sql"]

#: Columns of :func:`daily_demand`, in order.
DEMAND_COLUMNS: tuple[str, ...] = ("orders", "lines", "revenue", "customers")


def _day(value: Any, name: str) -> pd.Timestamp | None:
    return parse_date(value, name, allow_none=True, tz="strip", time="reject")


def daily_demand_sql(has_order_id: bool, start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """The SQL of :func:`daily_demand` over a canonical relation named ``tx``.

    Parameters
    ----------
    has_order_id : bool
        Whether ``tx`` has an ``order_id`` column.
    start, end : Timestamp or None
        Calendar bounds (``None``: first / last purchase day).

    Returns
    -------
    str
        A query returning ``day`` (``NULL`` for rows without timestamp),
        ``in_calendar``, the four measures, ``infinite_rows`` and
        ``infinite_values`` (the rows of the day with an infinite amount and
        their distinct values, for
        :func:`crm_analysis.data.errors.raise_on_infinite`, counted in the same
        scan), one row per calendar day plus one per active day outside the
        calendar.
    """
    orders = (
        'COUNT(DISTINCT "order_id") + COUNT(*) FILTER (WHERE "order_id" IS NULL)'
        if has_order_id
        else "COUNT(*)"
    )
    lo = "NULL" if start is None else f"DATE {quote_literal(start.date().isoformat())}"
    hi = "NULL" if end is None else f"DATE {quote_literal(end.date().isoformat())}"
    return f"""
    WITH agg AS MATERIALIZED (
        SELECT CAST("timestamp" AS DATE) AS day,
               {orders} AS orders,
               COUNT(*) AS lines,
               SUM("amount") AS revenue,
               COUNT(DISTINCT "customer_id") AS customers,
               {infinite_counts_sql('"amount"', names=("n_inf", "inf_values"))}
        FROM tx
        GROUP BY 1
    ),
    bounds AS (SELECT coalesce({lo}, min(day)) AS lo, coalesce({hi}, max(day)) AS hi FROM agg),
    cal AS (
        SELECT CAST(unnest(generate_series(lo, hi, INTERVAL 1 DAY)) AS DATE) AS day FROM bounds
    )
    SELECT coalesce(cal.day, agg.day) AS day,
           cal.day IS NOT NULL AS in_calendar,
           coalesce(agg.orders, 0) AS orders,
           coalesce(agg.lines, 0) AS lines,
           coalesce(agg.revenue, 0.0) AS revenue,
           coalesce(agg.customers, 0) AS customers,
           coalesce(agg.n_inf, 0) AS infinite_rows,
           agg.inf_values AS infinite_values
    FROM cal FULL OUTER JOIN agg ON cal.day = agg.day
    ORDER BY day NULLS FIRST
    """


def _finish(raw: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Split the calendar rows from the excluded ones; dtypes and attrs."""
    days = pd.to_datetime(raw["day"]).astype("datetime64[ns]")
    inside = raw["in_calendar"].to_numpy(dtype=bool)
    outside = raw.loc[~inside]
    missing = int(outside.loc[days[~inside].isna(), "lines"].sum())
    lo_day, hi_day = days[inside].min(), days[inside].max()
    excluded = {
        "missing timestamp": missing,
        "before start": int(outside.loc[days[~inside] < lo_day, "lines"].sum()) if inside.any() else 0,
        "after end": int(outside.loc[days[~inside] > hi_day, "lines"].sum()) if inside.any() else 0,
    }
    if not inside.any():
        n = int(raw["lines"].sum())
        raise InputError(
            f"empty calendar: no day between start={start} and end={end}"
            + (f" ({n} line(s) outside it)" if n else " (no transactions with a timestamp)")
        )
    cal = raw.loc[inside]
    out = pd.DataFrame(
        {
            "orders": cal["orders"].to_numpy(dtype=np.int64),
            "lines": cal["lines"].to_numpy(dtype=np.int64),
            "revenue": cal["revenue"].to_numpy(dtype=np.float64),
            "customers": cal["customers"].to_numpy(dtype=np.int64),
        },
        index=pd.DatetimeIndex(days[inside].to_numpy(), name="date"),
    )
    out.attrs.update(
        {
            "start": out.index[0].date().isoformat(),
            "end": out.index[-1].date().isoformat(),
            "filled_days": int((out["lines"] == 0).sum()),
            "excluded": {k: v for k, v in excluded.items() if v},
        }
    )
    return out


def daily_demand(
    source: Any,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    columns: Mapping[str, str] | None = None,
    start: Any = None,
    end: Any = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> pd.DataFrame:
    """Per-day orders, lines, revenue and distinct customers, computed in DuckDB.

    Parameters
    ----------
    source : DataFrame, path, glob, folder or duckdb.DuckDBPyRelation
        Transactions: a DataFrame, a CSV/Parquet file, a folder of Parquet
        files or a glob such as ``"data/tx/*.parquet"``, a DuckDB relation, or
        a table name / query with ``con`` (see
        :func:`crm_analysis.data.load_transactions`). Files are scanned by
        DuckDB, never loaded whole.
    con : duckdb.DuckDBPyConnection, optional
        Connection to run on; for data larger than memory pass one with a
        ``memory_limit`` and ``temp_directory``
        (:func:`crm_analysis.scale.connect_out_of_core`). Default: a new
        in-memory connection.
    columns : mapping, optional
        Canonical name -> source column name, e.g. ``{"timestamp": "ts"}``.
    start, end : date-like, optional
        First and last calendar day (inclusive). Default: the first and last
        day with a transaction.
    timezone, dayfirst, date_format, read_options, encoding, sheet : optional
        The reader options and date policy of
        :func:`crm_analysis.data.load_transactions` and
        :func:`crm_analysis.rfm.rfm_summary` (``dd/mm`` order inferred from the
        whole column, or said here; CSV separator, decimal mark, ...; text
        encoding; Excel sheet), so a file gives the days it gives them.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date`` (every calendar day from ``start`` to ``end``,
        ``datetime64[ns]``), columns ``orders``, ``lines``, ``customers``
        (int64) and ``revenue`` (float64); days without transactions are 0.
        ``attrs``: ``start``, ``end`` (ISO dates), ``filled_days`` (days
        without any line) and ``excluded`` (lines left out, by reason:
        ``"missing timestamp"``, ``"before start"``, ``"after end"``).

    Raises
    ------
    ValueError
        Bad dates, ``start`` after ``end`` or an empty calendar; a time column
        the date policy refuses or values that are not numbers
        (:class:`~crm_analysis.data.DataValidationError`, naming the column,
        the values and the fix); infinite amounts
        (:func:`crm_analysis.data.errors.raise_on_infinite`, as every reader
        that sums amounts).
    crm_analysis.data.DataValidationError
        Missing required columns.

    Notes
    -----
    The result equals ``transaction_series(tx, measure, start=..., end=...)``
    of :mod:`crm_analysis.seasonality` for each measure (tested). One scan of
    the source computes all four measures.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [5.0, 7.0, 1.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-03"])})
    >>> d = daily_demand(tx)
    >>> d["customers"].tolist(), d["revenue"].tolist(), d.attrs["filled_days"]
    ([1, 0, 2], [5.0, 0.0, 8.0], 1)
    """
    lo, hi = _day(start, "start"), _day(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    rel = transactions_relation(source, columns=columns, con=con, timezone=timezone, dayfirst=dayfirst,
                                date_format=date_format, read_options=read_options, encoding=encoding, sheet=sheet)
    sql = daily_demand_sql("order_id" in rel.columns, lo, hi)
    with duckdb_value_errors():  # a bad value found while the query runs: the package's error, not DuckDB's
        raw = rel.query("tx", sql).df()
    n_inf = int(raw["infinite_rows"].sum())
    if n_inf:  # the package's one rule for infinite amounts (every reader that sums them refuses them)
        values = sorted({float(v) for vs in raw["infinite_values"].dropna() for v in vs})
        raise_on_infinite(_amount_label(columns), n_inf, [(v, None) for v in values])
    return _finish(raw, lo, hi)


def _amount_label(columns: Mapping[str, str] | None) -> str:
    """The amount column's label as the other readers give it (``amount (price)`` when mapped)."""
    src = dict(columns or {}).get("amount", "amount")
    return "amount" if src == "amount" else f"amount ({src})"
