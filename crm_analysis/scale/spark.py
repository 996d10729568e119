"""RFM summaries and daily demand on Spark DataFrames (optional extra ``spark``).

The aggregations run on the Spark cluster with the DataFrame API and mirror
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

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from crm_analysis.data.schema import TRANSACTIONS
from crm_analysis.data.validation import _ensure_required, resolve_columns
from crm_analysis.rfm import _as_date, time_unit_days

from .demand import _day, _finish

__all__ = ["get_spark", "is_spark_dataframe", "rfm_summary_spark", "daily_demand_spark", "DEFAULT_CONFIG"]

#: Settings applied by :func:`get_spark` unless overridden.
DEFAULT_CONFIG: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def is_spark_dataframe(obj: Any) -> bool:
    """Whether ``obj`` is a PySpark DataFrame (classic or Spark Connect), without importing pyspark.

    Examples
    --------
    >>> is_spark_dataframe(pd.DataFrame())
    False
    """
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql") for cls in type(obj).__mro__
    )


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import functions as F  # noqa: N812
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "crm_analysis.scale.spark needs pyspark: pip install 'crm_analysis[spark]' (and a Java 17+ runtime)"
        ) from exc
    return F


def get_spark(
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
    _require_pyspark()
    from pyspark.sql import SparkSession

    settings = {**DEFAULT_CONFIG, **{str(k): str(v) for k, v in dict(config or {}).items()}}
    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _to_pandas(sdf: Any) -> pd.DataFrame:
    """Collect a (small) Spark result; hush pyspark's own warnings about pandas >= 3."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")
        return sdf.toPandas()


def _check_columns(sdf: Any, cols: dict[str, str]) -> None:
    missing = [f"{role} column {c!r}" for role, c in cols.items() if c not in sdf.columns]
    if missing:
        raise ValueError(f"transactions lack the {', '.join(missing)}; columns are {list(sdf.columns)}")


def _check_nulls(sdf: Any, cols: dict[str, str], F: Any) -> None:
    row = sdf.select([F.sum(F.col(c).isNull().cast("long")).alias(f"n{i}") for i, c in enumerate(cols.values())]).first()
    bad = {f"{role} ({c})": int(row[i] or 0) for i, (role, c) in enumerate(cols.items()) if row[i]}
    if bad:
        raise ValueError(
            f"transactions have missing values: {bad} rows; clean them first (crm_analysis.data) "
            "so that nothing is dropped silently"
        )


def _timestamp(col: Any, dtype: str) -> Any:
    """Column as a timestamp (strings are parsed; timestamps kept as they are)."""
    return col if dtype.startswith("timestamp") else col.cast("timestamp")


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
    F = _require_pyspark()
    unit = time_unit_days(time_unit)
    end = _as_date(observation_end, "observation_end")
    start = None if observation_start is None else _as_date(observation_start, "observation_start")
    if start is not None and start > end:
        raise ValueError(f"observation_start {start.date()} is after observation_end {end.date()}")
    cols = {"customer": customer_col, "datetime": datetime_col, "monetary": monetary_col}
    _check_columns(sdf, cols)
    _check_nulls(sdf, cols, F)
    types = dict(sdf.dtypes)
    end_lit = F.lit(end.date().isoformat()).cast("date")
    daily = sdf.select(
        F.col(customer_col).cast("string").alias("customer_id"),
        F.to_date(_timestamp(F.col(datetime_col), types[datetime_col])).alias("day"),
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
    df = _to_pandas(summary).sort_values("customer_id", kind="stable")
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
    # the same JSON-friendly metadata as rfm_summary
    out.attrs.update(
        {
            "observation_end": end.date().isoformat(),
            "observation_start": None if start is None else start.date().isoformat(),
            "time_unit": time_unit,
            "unit_days": unit,
        }
    )
    return out


def _canonical(sdf: Any, columns: Mapping[str, str] | None, F: Any) -> Any:
    """Project to the canonical transaction columns the demand needs (as ``transactions_relation`` does)."""
    found = list(sdf.columns)
    types = dict(sdf.dtypes)
    mapping = resolve_columns(found, TRANSACTIONS, columns)
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

    exprs = [
        as_string(mapping["customer_id"]).alias("customer_id"),
        _timestamp(F.col(mapping["timestamp"]), types[mapping["timestamp"]]).alias("timestamp"),
        (derived["amount"] if "amount" in derived else F.col(mapping["amount"]).cast("double")).alias("amount"),
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
) -> pd.DataFrame:
    """:func:`crm_analysis.scale.daily_demand` computed on a Spark DataFrame.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Transactions.
    columns, start, end
        As in :func:`crm_analysis.scale.daily_demand`.

    Returns
    -------
    pandas.DataFrame
        The same table as :func:`crm_analysis.scale.daily_demand` (one row
        per calendar day, same columns, dtypes and ``attrs``).
    """
    F = _require_pyspark()
    lo, hi = _day(start, "start"), _day(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"start {lo.date()} is after end {hi.date()}")
    tx = _canonical(sdf, columns, F)
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
        raw = _to_pandas(joined)
    finally:
        agg.unpersist()
    raw = raw.sort_values("day", na_position="first", kind="stable").reset_index(drop=True)
    return _finish(raw, lo, hi)
