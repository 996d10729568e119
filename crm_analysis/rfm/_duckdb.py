"""The DuckDB engine: RFM summaries of files, relations and frames the numpy engine does not take.

Sources become relations through :func:`crm_analysis.data.source_relation`
(files, folders and globs of Parquet/CSV files, DuckDB relations, frames),
the key columns are read by the package's date and id policy in SQL, and all
aggregation is ``GROUP BY`` SQL (no window functions), so files larger than
memory can be summarised; only the per-customer result reaches pandas.

Passes over ranges of customers, so that a memory limit is met
---------------------------------------------------------------
The summary is two chained hash aggregations (daily merge, about one group
per input row when customers rarely buy twice a day; then per customer).
They run at the same time, and at 1e8 rows / 1e7 customers DuckDB failed
with ``OutOfMemoryException`` at ``memory_limit=1GB`` and ``2GB`` instead of
spilling (with one thread too, and with the daily merge written to a
temporary table first). When the connection's ``memory_limit`` is small for
the number of rows (about 24 bytes per row beyond a 256 MiB reserve), the
customers are split into ranges of their ids (cut points from a sample of
100,000 ids) and each range is summarised in its own statement, whose hash
tables are that fraction of the whole; the ranges come out in order, so the
results are concatenated, not sorted again. Each statement's result is
streamed in Arrow record batches and converted column by column, each Arrow
column released after its conversion.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crm_analysis.data.errors import infinite_counts_sql, raise_on_infinite
from crm_analysis.data.dates import date_format_for, timestamp_sql
from crm_analysis.data.engine import default_connection, quote_identifier, quote_literal
from crm_analysis.data.loaders import check_comma_numbers, header_fix, source_relation, text_sql
from crm_analysis.data.numbers import NumberFormat, number_check, number_format, number_sql
from crm_analysis.data.value_checks import new_token, register

from ._common import KeyColumns, Window, check_key_columns, ids_as_index, raise_on_nulls, warn_utc, with_attrs

__all__ = ["calibration_and_holdout", "prepare", "frame_relation", "repeat_purchases_by_day", "summary"]

_q = quote_identifier


def frame_relation(tx: pd.DataFrame, con: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyRelation:
    """A checked, canonical in-memory frame as a relation (on ``con`` or the shared connection)."""
    return (con if con is not None else default_connection()).from_df(tx)


def _is_file(source: Any) -> bool:
    """Whether ``source`` names an existing file (a table name or a long SQL query is not one)."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    try:
        return Path(source).is_file()
    except (OSError, ValueError):  # e.g. a query longer than a file name may be
        return False


def _check_nulls(rel: duckdb.DuckDBPyRelation, cols: KeyColumns) -> int:
    """Raise a ValueError when a key column holds missing values or the amount is infinite; else the row count."""
    parts = ", ".join(f"COUNT(*) FILTER (WHERE {_q(c)} IS NULL)" for c in cols.roles().values())
    m = _q(cols.monetary)
    parts += ", " + infinite_counts_sql(m)
    counts = rel.query("tx", f"SELECT {parts}, COUNT(*) FROM tx").fetchall()[0]
    raise_on_nulls(cols, counts[:-3])
    if counts[-3]:  # the numpy path's message: the distinct values, without rows (DuckDB scans in parallel)
        raise_on_infinite(cols.label("monetary"), int(counts[-3]), [(v, None) for v in counts[-2] or []])
    return int(counts[-1])


def _canonical_relation(
    rel: duckdb.DuckDBPyRelation,
    cols: KeyColumns,
    *,
    timezone: str | None,
    dayfirst: bool | None,
    date_format: str | Mapping[str, str] | None,
    numbers: NumberFormat | None = None,
) -> duckdb.DuckDBPyRelation:
    """The key columns read as the loaders read them: ids stripped, dates by the date policy, text amounts strictly."""
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    c, t, m = cols.customer, cols.datetime, cols.monetary
    token = new_token()  # a bad value found while a query runs is reported with every bad row (value_checks)
    checks = []
    if types[t] == "VARCHAR" or types[t].startswith("TIMESTAMP WITH TIME ZONE"):
        ts = timestamp_sql(rel, t, cols.label("datetime"), dayfirst=dayfirst, date_format=date_format_for(date_format, "timestamp", t),
                           timezone=timezone, token=token)
        if ts.check is not None:
            checks.append(ts.check)
        if ts.converted_to_utc:  # UTC offsets, or a time-zone-aware type, and no timezone given
            warn_utc(t, stacklevel=7)  # warn_utc, _canonical_relation, prepare, _frame_or_relation, public,
            # its converts_duckdb_errors wrapper, caller
        if ts.pre:
            rel = rel.project(", ".join(["*"] + [f"{v} AS {_q(k)}" for k, v in ts.pre.items()]))
        t_expr = ts.expr
    else:
        t_expr = _q(t)
    c_expr = _q(c)
    if types[c] in ("VARCHAR", "DOUBLE", "FLOAT", "REAL"):  # as the loaders: blanks stripped, 17850.0 -> "17850"
        c_expr = text_sql(c_expr, types[c], id_column=True)
    m_expr = _q(m)
    if types[m] == "VARCHAR":  # numbers written as text (a declared decimal comma, a value past the sniffer's sample)
        m_expr = number_sql(m_expr, cols.label("monetary"), numbers or NumberFormat(), token=token)
        checks.append(number_check(_q(m), cols.label("monetary"), numbers or NumberFormat()))
    names = {c, t, m}
    out = rel.project(", ".join(
        [f"{c_expr} AS {_q(c)}", f"{t_expr} AS {_q(t)}", f"{m_expr} AS {_q(m)}"]
        + [_q(x) for x in rel.columns if x not in names and not x.startswith("__date_fields_")]
    ))
    register(token, rel, checks, owner=out)
    return out


def prepare(
    transactions: Any,
    con: duckdb.DuckDBPyConnection | None,
    cols: KeyColumns,
    *,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Any = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> tuple[duckdb.DuckDBPyRelation, int]:
    """A source (path, folder, glob, relation, ...) as a relation with checked, canonical key columns, and its rows.

    Raises
    ------
    ValueError
        Missing columns or key values, infinite amounts.
    FileNotFoundError, TypeError, crm_analysis.data.SourceFileError
        From :func:`crm_analysis.data.source_relation`.
    """
    rel = source_relation(
        transactions, con=con if con is not None else default_connection(),
        # ids keep leading zeros; dates by the package's policy; amounts by the number policy (a declared
        # decimal comma, and a bad value far down a file gives the package's message, not the reader's)
        text_columns=[cols.customer, cols.datetime, cols.monetary], number_columns=[cols.monetary],
        read_options=read_options, encoding=encoding, sheet=sheet,
    )
    try:
        check_key_columns(cols, rel.columns)
    except ValueError as exc:
        if _is_file(transactions):  # title rows above the header?
            text = header_fix(str(exc), Path(transactions), list(rel.columns), list(cols.roles().values()),
                              sheet=sheet, read_options=read_options, encoding=encoding)
            if text != str(exc):
                raise InputError(text) from None
        raise
    # the file readers' decimal-comma diagnosis, in the same order as theirs (one message per file)
    check_comma_numbers(transactions, rel, {"amount": cols.monetary}, con=con, read_options=read_options)
    rel = _canonical_relation(rel, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format,
                              numbers=number_format(read_options))
    return rel, _check_nulls(rel, cols)


def _daily_cte(
    cols: KeyColumns,
    end: pd.Timestamp,
    start: pd.Timestamp | None,
    id_range: tuple[str | None, str | None] = (None, None),
) -> str:
    """SQL of the daily-merge step (one row per customer and purchase day), optionally for a range of ids."""
    c, t, m = _q(cols.customer), _q(cols.datetime), _q(cols.monetary)
    where = f"CAST({t} AS DATE) <= DATE '{end.date().isoformat()}'"
    if start is not None:
        where += f" AND CAST({t} AS DATE) >= DATE '{start.date().isoformat()}'"
    lo, hi = id_range
    if lo is not None:
        where += f" AND CAST({c} AS VARCHAR) >= {quote_literal(lo)}"
    if hi is not None:
        where += f" AND CAST({c} AS VARCHAR) < {quote_literal(hi)}"
    return f"""
    daily AS (
        SELECT CAST({c} AS VARCHAR) AS customer_id,
               CAST({t} AS DATE) AS day,
               SUM(CAST({m} AS DOUBLE)) AS amount
        FROM tx
        WHERE {where}
        GROUP BY 1, 2
    )"""


#: DuckDB memory per input row the two aggregations need in one statement, beyond the reserve. Measured at
#: 1e8 rows / 1e7 customers: one statement failed at memory_limit=2GB and finished at 3GB; four ranges
#: finished at 1GB. 24 bytes gives 1 statement at 3GB, 2 at 2GB, 4 at 1GB.
_BYTES_PER_ROW = 24
_RESERVE = 256 * 2**20
_SAMPLE_IDS = 100_000
_UNITS = {"b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _memory_limit(rel: duckdb.DuckDBPyRelation) -> float:
    """The connection's ``memory_limit`` in bytes (inf when unlimited or unreadable)."""
    text = str(rel.query("tx", "SELECT current_setting('memory_limit')").fetchall()[0][0]).strip().lower()
    number, _, unit = text.partition(" ")
    try:
        return float(number) * _UNITS[unit.strip() or "b"]
    except (ValueError, KeyError):
        return float("inf")


def _id_ranges(rel: duckdb.DuckDBPyRelation, cols: KeyColumns, n_rows: int) -> list[tuple[str | None, str | None]]:
    """Ranges of customer ids, each summarised in its own statement (one range when memory suffices)."""
    usable = max(_memory_limit(rel) - _RESERVE, _RESERVE)
    passes = math.ceil(n_rows * _BYTES_PER_ROW / usable)
    if passes <= 1:
        return [(None, None)]
    c = _q(cols.customer)
    sample = rel.query("tx", f"SELECT CAST({c} AS VARCHAR) FROM tx USING SAMPLE reservoir({_SAMPLE_IDS} ROWS) "
                             "REPEATABLE (42)").fetchall()
    ids = sorted(r[0] for r in sample)  # Python orders str by code point, i.e. as DuckDB orders UTF-8 bytes
    cuts = sorted({ids[len(ids) * i // passes] for i in range(1, passes)})
    bounds: list[str | None] = [None, *cuts, None]
    return list(zip(bounds[:-1], bounds[1:]))


_BATCH_ROWS = 1_000_000


def _fetch(rel: duckdb.DuckDBPyRelation, sql: str) -> pa.Table:
    """The result of ``sql`` (over ``tx`` = ``rel``) as an Arrow table, streamed in record batches."""
    reader = rel.query("tx", sql).to_arrow_reader(_BATCH_ROWS)
    return pa.Table.from_batches(list(reader), schema=reader.schema)


def _to_frame(table: pa.Table, attrs: dict[str, Any]) -> pd.DataFrame:
    """Index by customer_id, fix dtypes and attach metadata.

    The query result is fetched as Arrow and converted column by column:
    numeric columns become numpy-backed ``int64``/``float64`` columns (no
    object or nullable dtypes), the customer key the index of pandas' string
    dtype; no per-row Python.
    """
    cols: dict[str, np.ndarray] = {}
    columns = {name: table.column(name) for name in table.column_names}
    index = ids_as_index(columns.pop("customer_id"))  # stays Arrow: no Python strings
    del table  # each Arrow column is released once converted
    for name in list(columns):
        col = columns.pop(name)
        if name.startswith("frequency"):
            cols[name] = col.cast(pa.int64()).to_numpy()
        elif name == "first_purchase":
            cols[name] = col.cast(pa.timestamp("ns")).to_numpy()
        else:
            cols[name] = col.cast(pa.float64()).to_numpy()
        del col
    return with_attrs(pd.DataFrame(cols, index=index, copy=False), attrs)


def summary(rel: duckdb.DuckDBPyRelation, cols: KeyColumns, window: Window, n_rows: int) -> pd.DataFrame:
    """:func:`crm_analysis.rfm.rfm_summary` of a prepared relation of ``n_rows`` rows, in DuckDB SQL."""
    unit = window.unit
    end_sql = f"DATE '{window.end.date().isoformat()}'"
    tables = []
    for id_range in _id_ranges(rel, cols, n_rows):
        tables.append(_fetch(rel, f"""
        WITH {_daily_cte(cols, window.end, window.start, id_range)}
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
        """))
    return _to_frame(_concat(tables), window.attrs)


def _concat(tables: list[pa.Table]) -> pa.Table:
    """The passes' tables as one (zero-copy); empties ``tables`` so that only the result refers to them."""
    out = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    tables.clear()
    return out


def calibration_and_holdout(
    rel: duckdb.DuckDBPyRelation,
    cols: KeyColumns,
    cal: pd.Timestamp,
    end: pd.Timestamp,
    start: pd.Timestamp | None,
    unit: float,
    attrs: dict[str, Any],
    n_rows: int,
) -> pd.DataFrame:
    """:func:`crm_analysis.rfm.calibration_and_holdout` of a prepared relation (in passes, as :func:`summary`)."""
    cal_sql = f"DATE '{cal.date().isoformat()}'"
    duration = (end - cal).days / unit
    sql = """
    WITH {daily_cte},
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
    tables = [
        _fetch(rel, sql.format(daily_cte=_daily_cte(cols, end, start, id_range), cal_sql=cal_sql, unit=unit,
                               duration=duration))
        for id_range in _id_ranges(rel, cols, n_rows)
    ]
    return _to_frame(_concat(tables), attrs)


def repeat_purchases_by_day(
    rel: duckdb.DuckDBPyRelation,
    cols: KeyColumns,
    end: pd.Timestamp,
    cohort_end: pd.Timestamp,
    start: pd.Timestamp | None,
) -> pd.DataFrame:
    """:func:`crm_analysis.rfm.repeat_purchases_by_day` of a prepared relation."""
    df = rel.query("tx", f"""
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
    """).df()
    return pd.DataFrame(
        {
            "first_purchases": df["first_purchases"].to_numpy(dtype="int64"),
            "repeat_purchases": df["repeat_purchases"].to_numpy(dtype="int64"),
        },
        index=pd.DatetimeIndex(pd.to_datetime(df["day"]).astype("datetime64[ns]"), name="day"),
    )
