"""The Spark engine: :func:`crm_analysis.rfm.rfm_summary` on a PySpark DataFrame (optional extra ``spark``).

The aggregation runs on the cluster with the DataFrame API and mirrors the
DuckDB engine's SQL step by step (daily merge per customer, then one
``groupBy`` per customer), so the results are the same tables. Only the
per-customer result reaches the driver (or, with ``as_spark=True``, stays a
Spark DataFrame to write to Parquet).

``pyspark`` is imported inside the functions: this module imports without it.

Timestamps: Spark ``TimestampType`` values are instants shown in the session
time zone, and ``to_date`` uses it. :func:`crm_analysis.scale.spark.get_spark`
sets ``spark.sql.session.timeZone=UTC`` so that naive pandas / Parquet
timestamps keep their wall-clock day (as in DuckDB and pandas); keep it so
on sessions you build yourself, or pass ``TimestampNTZType`` columns.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import warnings
from typing import Any

import pandas as pd

from ._common import KeyColumns, check_key_columns, summary_window, with_attrs

__all__ = ["require_pyspark", "rfm_summary_spark", "timestamp_column", "to_pandas"]


def require_pyspark() -> Any:
    """``pyspark.sql.functions``, or an ImportError saying how to install pyspark."""
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import functions as F  # noqa: N812
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Spark engine needs pyspark: pip install 'crm_analysis[spark]' (and a Java 17+ runtime)"
        ) from exc
    return F


def to_pandas(sdf: Any) -> pd.DataFrame:
    """Collect a (small) Spark result; hush pyspark's own warnings about pandas >= 3."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")
        return sdf.toPandas()


def timestamp_column(col: Any, dtype: str) -> Any:
    """Column as a timestamp (strings are parsed; timestamps kept as they are)."""
    return col if dtype.startswith("timestamp") else col.cast("timestamp")


def _check_nulls(sdf: Any, cols: KeyColumns, F: Any) -> None:  # noqa: N803
    names = list(cols.roles().values())
    row = sdf.select([F.sum(F.col(c).isNull().cast("long")).alias(f"n{i}") for i, c in enumerate(names)]).first()
    bad = {f"{role} ({c})": int(row[i] or 0) for i, (role, c) in enumerate(cols.roles().items()) if row[i]}
    if bad:
        raise InputError(
            f"transactions have missing values: {bad} rows; clean them first (crm_analysis.data) "
            "so that nothing is dropped silently"
        )


def rfm_summary_spark(
    sdf: Any,
    *,
    observation_end: Any,
    time_unit: str | float = "W",
    customer_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str = "amount",
    observation_start: Any = None,
    as_spark: bool = False,
) -> Any:
    """:func:`crm_analysis.rfm.rfm_summary` computed on a Spark DataFrame.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Transactions (one row per purchase or order line).
    observation_end, time_unit, customer_col, datetime_col, monetary_col, observation_start
        As in :func:`crm_analysis.rfm.rfm_summary`.
    as_spark : bool, default False
        Return the summary as a Spark DataFrame (columns ``customer_id``,
        ``frequency``, ``recency``, ``T``, ``monetary_value``, ``revenue``,
        ``first_purchase``; not sorted) instead of collecting it, e.g. to
        ``.write.parquet(...)`` it for :func:`crm_analysis.scale.fit_on_distinct`
        and :func:`crm_analysis.scale.score_in_batches` when there are too many
        customers for the driver.

    Returns
    -------
    pandas.DataFrame or pyspark.sql.DataFrame
        The same table as :func:`crm_analysis.rfm.rfm_summary` (index
        ``customer_id``, ordered by it, same dtypes and ``attrs``).

    Raises
    ------
    ValueError
        Missing columns, missing key values, a bad time unit or dates.
    ImportError
        When pyspark is not installed.
    """
    F = require_pyspark()  # noqa: N806
    window = summary_window(observation_end, observation_start, time_unit)
    end, start, unit = window.end, window.start, window.unit
    cols = KeyColumns(customer_col, datetime_col, monetary_col)
    check_key_columns(cols, sdf.columns)
    _check_nulls(sdf, cols, F)
    types = dict(sdf.dtypes)
    end_lit = F.lit(end.date().isoformat()).cast("date")
    daily = sdf.select(
        F.col(customer_col).cast("string").alias("customer_id"),
        F.to_date(timestamp_column(F.col(datetime_col), types[datetime_col])).alias("day"),
        F.col(monetary_col).cast("double").alias("amount"),
    ).where(F.col("day") <= end_lit)
    if start is not None:
        daily = daily.where(F.col("day") >= F.lit(start.date().isoformat()).cast("date"))
    daily = daily.groupBy("customer_id", "day").agg(F.sum("amount").alias("amount"))
    n = F.count(F.lit(1))
    summary = daily.groupBy("customer_id").agg(
        (n - 1).cast("long").alias("frequency"),
        (F.datediff(F.max("day"), F.min("day")) / F.lit(unit)).alias("recency"),
        (F.datediff(end_lit, F.min("day")) / F.lit(unit)).alias("T"),
        F.coalesce((F.sum("amount") - F.min_by("amount", "day")) / F.nullif(n - 1, F.lit(0)), F.lit(0.0)).alias(
            "monetary_value"
        ),
        F.sum("amount").alias("revenue"),
        F.min("day").alias("first_purchase"),
    )
    if as_spark:
        return summary
    df = to_pandas(summary).sort_values("customer_id", kind="stable")
    out = pd.DataFrame(
        {
            "frequency": df["frequency"].to_numpy(dtype="int64"),
            "recency": df["recency"].to_numpy(dtype="float64"),
            "T": df["T"].to_numpy(dtype="float64"),
            "monetary_value": df["monetary_value"].to_numpy(dtype="float64"),
            "revenue": df["revenue"].to_numpy(dtype="float64"),
            "first_purchase": pd.to_datetime(df["first_purchase"]).to_numpy(dtype="datetime64[ns]"),
        },
        index=pd.Index(df["customer_id"].to_numpy(dtype=object), dtype="str", name="customer_id"),
    )
    return with_attrs(out, window.attrs)  # the same JSON-friendly metadata as the other engines
