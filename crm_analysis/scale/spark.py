"""RFM summaries and daily demand on Spark DataFrames (optional extra ``spark``).

:func:`rfm_summary_spark` is the Spark engine of :mod:`crm_analysis.rfm`
(implemented there, re-exported here; ``rfm_summary(spark_df, ...)`` calls
it). The aggregations run on the Spark cluster with the DataFrame API and mirror
the DuckDB SQL of :func:`crm_analysis.rfm.rfm_summary` and
:func:`crm_analysis.scale.daily_demand` step by step (daily merge per
customer, then one ``groupBy`` per customer; one ``groupBy`` per day, then a
generated calendar joined in), so the results are the same tables. Only the
compact result reaches the driver: the per-customer summary (or, with
``as_spark=True``, a Spark DataFrame to write to Parquet and score with
:func:`crm_analysis.scale.score_in_batches`). Model fits run on the driver
(:func:`crm_analysis.scale.fit_on_distinct` on the distinct summary rows).

``pyspark`` is imported inside the functions: this module imports without it.

Timestamps: Spark ``TimestampType`` values are instants shown in the session
time zone, and ``to_date`` uses it. :func:`get_spark` sets
``spark.sql.session.timeZone=UTC`` so that naive pandas / Parquet timestamps
keep their wall-clock day (as in DuckDB and pandas); keep it so on sessions
you build yourself, or pass ``TimestampNTZType`` columns.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crm_analysis.data.schema import TRANSACTIONS
from crm_analysis.data.validation import _ensure_required, resolve_columns
from crm_analysis.rfm._dispatch import is_spark_dataframe
from crm_analysis.data.dates import check_date_format_keys, date_format_for
from crm_analysis.rfm._spark import require_pyspark, rfm_summary_spark, spark_amount, spark_timestamp, to_pandas

from .demand import _day, _finish

__all__ = ["get_spark", "is_spark_dataframe", "rfm_summary_spark", "daily_demand_spark", "DEFAULT_CONFIG"]

#: Settings applied by :func:`get_spark` unless overridden.
DEFAULT_CONFIG: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def get_spark(
    *,
    master: str = "local[2]",
    app_name: str = "crm_analysis",
    config: Mapping[str, Any] | None = None,
):
    """Get or create a SparkSession.

    Parameters
    ----------
    master : str, default "local[2]"
        Spark master URL: ``"local[N]"`` (N cores of this machine),
        ``"spark://host:7077"`` (standalone cluster), ``"yarn"``,
        ``"k8s://https://host:443"``; or ``"sc://host:15002"`` for Spark
        Connect (then ``remote`` is used instead of ``master``).
    app_name : str, default "crm_analysis"
        Application name shown in the cluster UI.
    config : mapping, optional
        Spark settings, e.g. ``{"spark.executor.memory": "8g",
        "spark.sql.shuffle.partitions": "400"}``; applied over
        :data:`DEFAULT_CONFIG` (session time zone UTC, Arrow transfers, no UI).

    Returns
    -------
    pyspark.sql.SparkSession

    Notes
    -----
    ``getOrCreate`` returns an already running session (its static settings,
    such as the master, cannot change); stop it first to switch clusters.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    settings = {**DEFAULT_CONFIG, **{str(k): str(v) for k, v in dict(config or {}).items()}}
    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _canonical(sdf: Any, columns: Mapping[str, str] | None, F: Any, *, dayfirst: bool | None = None,
               date_format: str | Mapping[str, str] | None = None) -> Any:
    """Project to the canonical transaction columns the demand needs (as ``transactions_relation`` does).

    Text dates and amounts are read by the package's policies (:func:`crm_analysis.rfm._spark.spark_timestamp`,
    :func:`crm_analysis.rfm._spark.spark_amount`), never by Spark's own casts.
    """
    found = list(sdf.columns)
    types = dict(sdf.dtypes)
    mapping = resolve_columns(found, TRANSACTIONS, columns=columns)
    derived = {}
    if "amount" not in mapping and {"quantity", "unit_price"} <= set(mapping):
        derived["amount"] = F.col(mapping["quantity"]).cast("double") * F.col(mapping["unit_price"]).cast("double")
    _ensure_required(list(mapping) + list(derived), found, TRANSACTIONS)

    def as_string(name: str) -> Any:
        c = F.col(name)
        if types[name] in ("double", "float"):
            whole = c == F.floor(c)
            small = F.abs(c) < F.lit(9007199254740992.0)
            return F.when(whole & small, c.cast("long").cast("string")).otherwise(c.cast("string"))
        return c.cast("string")

    src = mapping["timestamp"]
    check_date_format_keys(date_format, {"timestamp": src})
    ts = spark_timestamp(sdf, src, "timestamp" if src == "timestamp" else f"timestamp ({src})", dayfirst=dayfirst,
                         date_format=date_format_for(date_format, "timestamp", src), F=F, stacklevel=5)
    if "amount" in derived:
        amount = derived["amount"]
    else:
        a = mapping["amount"]
        amount = spark_amount(sdf, a, "amount" if a == "amount" else f"amount ({a})", F)
    exprs = [
        as_string(mapping["customer_id"]).alias("customer_id"),
        ts.alias("timestamp"),
        amount.alias("amount"),
    ]
    if "order_id" in mapping:
        exprs.append(as_string(mapping["order_id"]).alias("order_id"))
    return sdf.select(*exprs)


def daily_demand_spark(
    sdf: Any,
    *,
    columns: Mapping[str, str] | None = None,
    start: Any = None,
    end: Any = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`crm_analysis.scale.daily_demand` computed on a Spark DataFrame.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Transactions.
    columns, start, end
        As in :func:`crm_analysis.scale.daily_demand`.
    dayfirst, date_format : optional
        For a time column of text: the date policy of the other engines
        (``dd/mm`` order inferred from the whole column, or said here; the
        same refusals and messages).

    Returns
    -------
    pandas.DataFrame
        The same table as :func:`crm_analysis.scale.daily_demand` (one row
        per calendar day, same columns, dtypes and ``attrs``).
    """
    F = require_pyspark()
    lo, hi = _day(start, "start"), _day(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    tx = _canonical(sdf, columns, F, dayfirst=dayfirst, date_format=date_format)
    if "order_id" in tx.columns:
        orders = F.countDistinct("order_id") + F.count(F.when(F.col("order_id").isNull(), 1))
    else:
        orders = F.count(F.lit(1))
    agg = (
        tx.groupBy(F.to_date("timestamp").alias("day"))
        .agg(
            orders.cast("long").alias("orders"),
            F.count(F.lit(1)).alias("lines"),
            F.sum("amount").alias("revenue"),
            F.countDistinct("customer_id").alias("customers"),
        )
        .cache()
    )
    try:
        lo_col = F.min("day") if lo is None else F.lit(lo.date().isoformat()).cast("date")
        hi_col = F.max("day") if hi is None else F.lit(hi.date().isoformat()).cast("date")
        bounds = agg.agg(F.coalesce(lo_col, F.min("day")).alias("lo"), F.coalesce(hi_col, F.max("day")).alias("hi"))
        cal = bounds.where(F.col("lo") <= F.col("hi")).select(
            F.explode(F.sequence("lo", "hi", F.expr("INTERVAL 1 DAY"))).alias("cday")
        )
        joined = cal.join(agg, cal["cday"] == agg["day"], "full_outer").select(
            F.coalesce("cday", "day").alias("day"),
            F.col("cday").isNotNull().alias("in_calendar"),
            F.coalesce("orders", F.lit(0)).alias("orders"),
            F.coalesce("lines", F.lit(0)).alias("lines"),
            F.coalesce("revenue", F.lit(0.0)).alias("revenue"),
            F.coalesce("customers", F.lit(0)).alias("customers"),
        )
        raw = to_pandas(joined)
    finally:
        agg.unpersist()
    raw = raw.sort_values("day", na_position="first", kind="stable").reset_index(drop=True)
    return _finish(raw, lo, hi)
