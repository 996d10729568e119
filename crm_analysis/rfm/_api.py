"""The public RFM functions: check the parameters, pick the engine, return the summary."""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError

from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from crm_analysis.data.dates import check_date_format_keys, check_timezone
from crm_analysis.data.engine import quote_identifier
from crm_analysis.data.errors import DataValidationError, converts_duckdb_errors

from . import _duckdb, _numpy
from ._common import KeyColumns, as_date, canonical_frame, check_frame, summary_window
from ._dispatch import engine_for

__all__ = ["calibration_and_holdout", "repeat_purchases_by_day", "rfm_summary"]


def _frame_or_relation(
    transactions: Any,
    con: duckdb.DuckDBPyConnection | None,
    cols: KeyColumns,
    *,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> tuple[pd.DataFrame | duckdb.DuckDBPyRelation, int]:
    """The input checked and with its key columns read by the package's policy (a frame stays a frame), and its rows."""
    check_date_format_keys(date_format, {"timestamp": cols.datetime})
    if isinstance(transactions, pd.DataFrame):  # pandas counts nulls without a scan in DuckDB
        if read_options or encoding is not None or sheet is not None:
            raise InputError("read_options, encoding and sheet are for files; this input is a DataFrame")
        check_frame(transactions, cols)
        frame = canonical_frame(transactions, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format)
        if len(frame) == 0:
            raise DataValidationError("the transactions are empty (0 rows): there is nothing to summarise")
        return frame, len(frame)
    return _duckdb.prepare(transactions, con, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format,
                           read_options=read_options, encoding=encoding, sheet=sheet)


def _nothing_in_window(checked: pd.DataFrame | duckdb.DuckDBPyRelation, cols: KeyColumns, what: str) -> None:
    """Raise when no purchase falls in the window, saying where the data are."""
    if isinstance(checked, pd.DataFrame):
        ts = checked[cols.datetime]
        first, last = ts.min(), ts.max()
    else:
        t = quote_identifier(cols.datetime)
        first, last = checked.query("tx", f"SELECT min({t}), max({t}) FROM tx").fetchall()[0]
    span = "" if first is None or pd.isna(first) else (
        f"; the data run from {pd.Timestamp(first).date()} to {pd.Timestamp(last).date()}")
    raise DataValidationError(f"no purchase falls {what}{span}: choose dates inside the data")


def _relation(checked: pd.DataFrame | duckdb.DuckDBPyRelation, con: duckdb.DuckDBPyConnection | None):
    return _duckdb.frame_relation(checked, con) if isinstance(checked, pd.DataFrame) else checked


def _no_spark(transactions: Any, name: str) -> None:
    if engine_for(transactions) == "spark":
        raise InputTypeError(
            f"{name} has no Spark engine: collect the transactions you need (toPandas) or write them to "
            "Parquet and pass the file, folder or glob"
        )


@converts_duckdb_errors
def rfm_summary(
    transactions: Any,
    *,
    observation_end: Any,
    time_unit: str | float = "W",
    customer_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str = "amount",
    observation_start: Any = None,
    con: duckdb.DuckDBPyConnection | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> pd.DataFrame:
    """Per-customer frequency / recency / T / monetary value summary.

    Parameters
    ----------
    transactions : DataFrame, str, Path, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        Transactions (one row per purchase or order line): a DataFrame; a path
        to a Parquet or CSV file, a folder of Parquet files or a glob such as
        ``"tx/*.parquet"`` (read by :func:`crm_analysis.data.source_relation`,
        scanned by DuckDB, never loaded whole); a DuckDB relation (or, with
        ``con``, a table name or query); or a Spark DataFrame (summarised on
        its cluster, see :func:`crm_analysis.scale.spark.rfm_summary_spark`).
    observation_end : date-like
        Last day of the observation period (inclusive).
    time_unit : {"D", "W"} or number, default "W"
        Unit of ``recency`` and ``T``: days, weeks (days / 7) or a number of days.
    customer_col, datetime_col, monetary_col : str
        Column names of the customer key, purchase time and amount.
    observation_start : date-like, optional
        First day of the observation period (inclusive); earlier purchases
        are ignored (left-truncation). Default: use all history.
    con : duckdb.DuckDBPyConnection, optional
        Connection for the DuckDB engine (default: the package's shared
        in-memory connection, :func:`crm_analysis.data.engine.default_connection`).
        For files larger than memory pass one with a ``memory_limit`` and a
        ``temp_directory``, e.g. :func:`crm_analysis.scale.connect_out_of_core`:
        the summary then spills to disk. Unused for a DataFrame that the numpy
        engine takes (see :mod:`crm_analysis.rfm`); not allowed with a Spark
        DataFrame.
    timezone : str, optional
        IANA time zone in which purchase days are counted when the time
        column is time-zone aware or carries UTC offsets (default: UTC, with
        a :class:`~crm_analysis.data.errors.DataWarning` for aware values),
        exactly as :func:`crm_analysis.data.load_transactions` does.
    dayfirst, date_format : optional
        For a time column of text (a CSV file, a frame read without parsing):
        the date policy of :mod:`crm_analysis.data.dates` (``dd/mm`` order
        inferred from the whole column, or said here).
    read_options, encoding, sheet : optional
        For a file: reader options (CSV separator, ...), the text encoding
        and the Excel sheet, as in :func:`crm_analysis.data.source_relation`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (string), ordered by it (byte-wise), with columns
        ``frequency`` (int, repeat purchase days), ``recency``, ``T``,
        ``monetary_value`` (mean repeat purchase value, 0 where frequency is 0),
        ``revenue`` (total amount up to ``observation_end``) and
        ``first_purchase`` (date). Only customers with a purchase on or before
        ``observation_end`` appear. ``attrs`` holds ``observation_end``
        and ``observation_start`` (ISO dates), ``time_unit`` and ``unit_days``.

    Raises
    ------
    ValueError
        For missing columns, missing key values, infinite amounts
        (:class:`~crm_analysis.data.errors.DataValidationError`), empty
        transactions or no purchase in the period (the message gives the
        data's first and last day), a bad time unit, a date parameter that is
        not ISO ``YYYY-MM-DD``, a time column the date policy refuses (on
        every engine, Spark included: the same decisions and messages), or
        ``con`` / ``timezone`` / ``read_options`` / ``encoding`` / ``sheet``
        given with a Spark DataFrame (the Spark engine counts days in the
        session time zone and reads no file).
    FileNotFoundError
        A file, folder or glob that names no file.
    TypeError
        An input of another type.

    Notes
    -----
    The key columns are read as the loaders read them, whatever the input:
    text ids lose surrounding blanks (``" x"`` and ``"x"`` are one
    customer), text dates follow the date policy, aware timestamps are
    counted in ``timezone``. A file and the same file loaded with
    :func:`crm_analysis.data.load_transactions` give the same summary.

    Same-day purchases are merged (amounts summed) before counting, exactly as
    ``lifetimes.utils.summary_data_from_transaction_data(freq="D",
    freq_multiplier=7)`` does for weeks. Amounts are not filtered: negative
    lines (returns) reduce the day's value.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"]),
    ...                    "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(tx, observation_end="2024-01-29", time_unit="W")[["frequency", "recency", "T", "monetary_value"]]  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency    T  monetary_value
    customer_id
    a                    1      2.0  4.0            20.0
    b                    0      0.0  3.0             0.0
    """
    cols = KeyColumns(customer_col, datetime_col, monetary_col)
    engine = engine_for(transactions)
    if engine == "spark":
        given = {k: v for k, v in {"con": con, "timezone": timezone, "read_options": read_options,
                                   "encoding": encoding, "sheet": sheet}.items() if v is not None}
        if given:
            raise InputError(
                f"{sorted(given)} cannot be used with a Spark DataFrame: the Spark engine counts purchase days in "
                "the session time zone (UTC with crm_analysis.scale.spark.get_spark) and reads no file; convert "
                "the time column in Spark first, or summarise a file with the DuckDB engine (dayfirst and "
                "date_format apply to a time column of text on Spark too)"
            )
        check_date_format_keys(date_format, {"timestamp": datetime_col})
        from ._spark import rfm_summary_spark  # pyspark itself is imported there, on use

        return rfm_summary_spark(transactions, observation_end=observation_end, time_unit=time_unit,
                                 customer_col=customer_col, datetime_col=datetime_col, monetary_col=monetary_col,
                                 observation_start=observation_start, dayfirst=dayfirst, date_format=date_format)
    window = summary_window(observation_end, observation_start, time_unit)
    check_timezone(timezone)
    checked, n_rows = _frame_or_relation(transactions, con, cols, timezone=timezone, dayfirst=dayfirst,
                                         date_format=date_format, read_options=read_options, encoding=encoding,
                                         sheet=sheet)
    out = None
    if engine == "numpy":
        out = _numpy.summary(checked, cols, window)
    if out is None:
        out = _duckdb.summary(_relation(checked, con), cols, window, n_rows)
    if len(out) == 0:
        where = f"on or before observation_end={window.end.date()}"
        if window.start is not None:
            where = f"between observation_start={window.start.date()} and observation_end={window.end.date()}"
        _nothing_in_window(checked, cols, where)
    return out


@converts_duckdb_errors
def calibration_and_holdout(
    transactions: Any,
    *,
    calibration_end: Any,
    observation_end: Any,
    time_unit: str | float = "W",
    customer_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str = "amount",
    observation_start: Any = None,
    con: duckdb.DuckDBPyConnection | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> pd.DataFrame:
    """Calibration-period summary plus holdout-period purchases per customer.

    Parameters
    ----------
    transactions : DataFrame, str, Path or duckdb.DuckDBPyRelation
        As in :func:`rfm_summary`.
    calibration_end : date-like
        Last day of the calibration period (inclusive).
    observation_end : date-like
        Last day of the holdout period (inclusive); after ``calibration_end``.
    time_unit, customer_col, datetime_col, monetary_col, observation_start, con, timezone, dayfirst, date_format
    read_options, encoding, sheet
        As in :func:`rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        The :func:`rfm_summary` columns for the calibration period (``T`` up to
        ``calibration_end``) plus ``frequency_holdout`` (purchase days in the
        holdout), ``monetary_value_holdout`` (mean holdout purchase-day value,
        0 where none), ``revenue_holdout`` and ``duration_holdout`` (length of
        the holdout in time units). As in
        ``lifetimes.utils.calibration_and_holdout_data``, the customers are
        those with a purchase in the calibration period; purchases of
        customers new in the holdout are not counted.
    """
    _no_spark(transactions, "calibration_and_holdout")
    window = summary_window(calibration_end, observation_start, time_unit, end_name="calibration_end")
    cal, start, unit = window.end, window.start, window.unit
    end = as_date(observation_end, "observation_end")
    if cal >= end:
        raise InputError(f"calibration_end {cal.date()} must be before observation_end {end.date()}")
    check_timezone(timezone)
    cols = KeyColumns(customer_col, datetime_col, monetary_col)
    checked, n_rows = _frame_or_relation(transactions, con, cols, timezone=timezone, dayfirst=dayfirst,
                                         date_format=date_format, read_options=read_options, encoding=encoding,
                                         sheet=sheet)
    attrs = {"calibration_end": cal, "observation_end": end, "observation_start": start,
             "time_unit": time_unit, "unit_days": unit}
    out = _duckdb.calibration_and_holdout(_relation(checked, con), cols, cal, end, start, unit, attrs, n_rows)
    if len(out) == 0:
        where = f"in the calibration period (on or before calibration_end={cal.date()}"
        where += ")" if start is None else f", from observation_start={start.date()})"
        _nothing_in_window(checked, cols, where)
    return out


@converts_duckdb_errors
def repeat_purchases_by_day(
    transactions: Any,
    *,
    observation_end: Any,
    cohort_end: Any = None,
    observation_start: Any = None,
    customer_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str = "amount",
    con: duckdb.DuckDBPyConnection | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> pd.DataFrame:
    """First and repeat purchases per calendar day of a cohort of customers.

    The cohort is the customers whose first purchase day lies in
    ``[observation_start, cohort_end]``: with the same dates, exactly the
    customers of :func:`calibration_and_holdout` (``cohort_end`` =
    ``calibration_end``) or :func:`rfm_summary` (``cohort_end`` =
    ``observation_end``).

    Parameters
    ----------
    transactions : DataFrame, str, Path or duckdb.DuckDBPyRelation
        As in :func:`rfm_summary`.
    observation_end : date-like
        Last day counted (inclusive).
    cohort_end : date-like, optional
        Last first-purchase day of the cohort; default ``observation_end``.
    observation_start : date-like, optional
        First day counted (inclusive).
    customer_col, datetime_col, monetary_col, con, timezone, dayfirst, date_format, read_options, encoding, sheet
        As in :func:`rfm_summary`: the same reader options and date policy
        (:mod:`crm_analysis.data.dates`), so a file gives the days it gives
        :func:`rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``day`` (every day with a purchase of the cohort, sorted),
        columns ``first_purchases`` (customers whose first purchase day it is)
        and ``repeat_purchases`` (cohort customers with a repeat purchase that
        day; same-day purchases merged).

    Raises
    ------
    ValueError
        As :func:`rfm_summary`: missing columns or key values, a date
        parameter that is not ISO ``YYYY-MM-DD``, a time column the date policy
        refuses (e.g. ``dd/mm`` dates whose order cannot be inferred and no
        ``dayfirst`` / ``date_format``).
    TypeError
        A Spark DataFrame (no Spark engine) or an input of another type.
    """
    _no_spark(transactions, "repeat_purchases_by_day")
    end = as_date(observation_end, "observation_end")
    cend = end if cohort_end is None else as_date(cohort_end, "cohort_end")
    start = None if observation_start is None else as_date(observation_start, "observation_start")
    check_timezone(timezone)
    cols = KeyColumns(customer_col, datetime_col, monetary_col)
    checked, _ = _frame_or_relation(transactions, con, cols, timezone=timezone, dayfirst=dayfirst,
                                    date_format=date_format, read_options=read_options, encoding=encoding,
                                    sheet=sheet)
    return _duckdb.repeat_purchases_by_day(_relation(checked, con), cols, end, cend, start)
