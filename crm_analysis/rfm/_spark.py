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

Dates written as text follow the package's date policy
(:mod:`crm_analysis.data.dates`) here too, never Spark's own cast (which reads
``03/01/2024`` not at all, or as another day than pandas and DuckDB do): the
same regular expression classifies the values in one Spark job, the same
functions decide the day/month order (inferred from the whole column, or
``dayfirst``) and refuse an ambiguous or mixed column with the same message,
and the timestamps are assembled from the fields with
``try_make_timestamp_ntz``. An explicit ``date_format`` is read with the
regular expression Python's ``strptime`` (and so pandas) uses for it
(``_strptime.TimeRE``); formats with directives other than ``%d %m %Y %y %H
%M %S %f`` (month names, ``%z``, ...) are refused with the fix. Amounts written
as text follow the number policy (:mod:`crm_analysis.data.numbers`), and an
infinite amount is refused as on the other engines; bad values are named with
the other engines' message (:func:`crm_analysis.data.errors.bad_values_message`).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import warnings
from typing import Any

import pandas as pd

import re
from collections.abc import Mapping

from crm_analysis.data.dates import (COMPACT_PATTERN, DATE_PATTERN, DateShapes, _check_offsets, _decide_dayfirst,
                                     date_format_for, date_format_message, invalid_dates_message,
                                     numeric_dates_message)
from crm_analysis.data.errors import MAX_EXAMPLES, DataValidationError, raise_on_infinite
from crm_analysis.data.numbers import NumberFormat, number_pattern, numbers_message

from ._common import (KeyColumns, check_key_columns, raise_on_nulls, summary_window, warn_utc,
                      with_attrs)

__all__ = ["require_pyspark", "rfm_summary_spark", "timestamp_column", "spark_timestamp", "spark_amount",
           "to_pandas"]


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
    """A typed time column as a timestamp (dates cast; timestamps kept as they are).

    Text is not cast here: :func:`spark_timestamp` reads it by the date policy.
    """
    return col if dtype.startswith("timestamp") else col.cast("timestamp")


def _smallest(sdf: Any, cond: Any, value: Any, F: Any, k: int = MAX_EXAMPLES) -> list[str]:  # noqa: N803
    """The ``k`` smallest distinct values (text, code-point order: Spark compares strings by UTF-8 bytes)."""
    rows = sdf.where(cond).select(value.cast("string").alias("x")).distinct().orderBy("x").limit(k).collect()
    return [r["x"] for r in rows]


def _java(pattern: str) -> str:
    """A Python regular expression with named groups in Java's syntax (``(?P<d>`` -> ``(?<d>``)."""
    return pattern.replace("(?P<", "(?<")


#: strftime directives read on Spark (numeric fields, as Python's strptime reads them), and the time field they fill.
_FORMAT_FIELDS = {"d": "day", "m": "month", "Y": "year", "y": "year2", "H": "hour", "M": "minute", "S": "second",
                  "f": "fraction"}


def _format_fields(date_format: str, name: str) -> tuple[str, dict[str, int]]:
    """The regular expression pandas / Python's ``strptime`` use for ``date_format`` and its groups' indices."""
    import _strptime  # the standard library's strptime regexes, which pandas' to_datetime(format=...) uses

    directives = re.findall(r"%(.)", date_format.replace("%%", ""))
    unknown = sorted({d for d in directives if d not in _FORMAT_FIELDS})
    if unknown:
        raise DataValidationError(
            f"column {name!r}: date_format {date_format!r} has directive(s) {['%' + d for d in unknown]} that the "
            "Spark engine does not read (it reads only %d %m %Y %y %H %M %S %f, each as pandas reads it; pandas and DuckDB read more); convert the column in "
            "Spark first (F.to_timestamp(col, <Java pattern>)), or summarise a file of it with the DuckDB engine"
        )
    pattern = _strptime.TimeRE().pattern(date_format)
    groups = re.compile(pattern).groupindex
    return "^(?i)" + pattern + "$", {k: int(v) for k, v in groups.items()}


def _assemble(F: Any, year: Any, month: Any, day: Any, hour: Any, minute: Any, second: Any, micro: Any) -> Any:  # noqa: N803
    """A naive timestamp (``TimestampNTZ``) from integer fields; NULL where they make no valid time."""
    valid = (hour < 24) & (minute < 60) & (second < 60) & year.between(1678, 2261)
    secs = (second.cast("decimal(10,6)") + micro.cast("decimal(10,6)") / F.lit(1_000_000)).cast("decimal(10,6)")
    return F.when(valid, F.try_make_timestamp_ntz(year, month, day, hour, minute, secs))


def _formatted(text: Any, name: str, date_format: str, F: Any) -> Any:  # noqa: N803
    pattern, groups = _format_fields(date_format, name)
    java = _java(pattern)

    def field(key: str, default: int = 0) -> Any:
        if key not in groups:
            return F.lit(default)
        return F.regexp_extract(text, java, groups[key]).try_cast("int")

    if "Y" in groups:
        year = field("Y")
    elif "y" in groups:
        y2 = field("y")
        year = F.when(y2 <= 68, y2 + 2000).otherwise(y2 + 1900)  # Python's strptime: 00-68 -> 20xx
    else:
        year = F.lit(1900)
    frac = F.regexp_extract(text, java, groups["f"]) if "f" in groups else F.lit("")
    micro = F.coalesce(F.rpad(frac, 6, "0").try_cast("int"), F.lit(0))
    parsed = _assemble(F, year, field("m", 1), field("d", 1), field("H"), field("M"), field("S"), micro)
    return F.when(text.rlike(java), parsed)


def spark_timestamp(
    sdf: Any,
    column: str,
    name: str,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    F: Any = None,  # noqa: N803
    stacklevel: int = 4,
) -> Any:
    """The time column of a Spark DataFrame as a timestamp, text read by the package's date policy.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    column : str
        Source column.
    name : str
        Column label for messages (``"timestamp (OrderDate)"``).
    dayfirst, date_format : optional
        As in :func:`crm_analysis.data.dates.parse_datetime_column`.
    F : module, optional
        ``pyspark.sql.functions``.
    stacklevel : int
        Of the UTC warning (text with UTC offsets), counted from this function.

    Returns
    -------
    pyspark.sql.Column
        ``TimestampNTZ`` for text (naive wall-clock time; offsets converted to
        UTC with a :class:`~crm_analysis.data.errors.DataWarning`, as the other
        engines do without ``timezone``), the column itself for timestamps.

    Raises
    ------
    DataValidationError
        As :func:`crm_analysis.data.dates.timestamp_sql` and with the same
        messages: numeric columns, a column whose day/month order cannot be
        inferred (and no ``dayfirst``/``date_format``), mixed orders, values
        with and without offsets, values that are not valid dates or do not
        match ``date_format`` (all counted, the five smallest distinct shown).
    """
    F = F or require_pyspark()  # noqa: N806
    dtype = dict(sdf.dtypes)[column]
    col = F.col(column)
    if dtype != "string":
        if dtype in ("tinyint", "smallint", "int", "bigint", "float", "double", "boolean") or dtype.startswith("decimal"):
            raise DataValidationError(numeric_dates_message(name, dtype))
        return timestamp_column(col, dtype)  # typed values are used as they are, as on the other engines
    present = sdf.where(col.isNotNull())
    if date_format is not None:
        parsed = _formatted(col, name, date_format, F)
        bad = col.isNotNull() & parsed.isNull()
        n_bad = present.where(bad).count()
        if n_bad:
            examples = [(v, None) for v in _smallest(sdf, bad, col, F)]
            raise DataValidationError(date_format_message(name, date_format, int(n_bad), examples))
        return parsed
    groups = {g: F.regexp_extract(col, DATE_PATTERN, i + 1) for i, g in
              enumerate(["f1", "f2", "f3", "hh", "mi", "ss", "frac", "ampm", "off"])}
    hit, cmp = col.rlike(DATE_PATTERN), col.rlike(COMPACT_PATTERN)
    dm = hit & (F.length(groups["f1"]) < 4)
    first12 = dm & (groups["f1"].try_cast("int") > 12)
    second12 = dm & (groups["f2"].try_cast("int") > 12)
    has_off = hit & (groups["off"] != "")
    naive = (hit & ~has_off) | cmp
    n = lambda cond: F.sum(cond.cast("long"))  # noqa: E731
    row = present.agg(
        F.count(F.lit(1)).alias("n_values"), n(dm).alias("n_dm"), n(first12).alias("n_first"),
        n(second12).alias("n_second"), n(has_off).alias("n_offset"), n(naive).alias("n_naive"),
        F.min(F.when(has_off, col)).alias("offset_example"), F.min(F.when(naive, col)).alias("naive_example"),
        n(~hit & ~cmp).alias("n_unparsed"),
    ).first()
    counts = {k: int(row[k] or 0) for k in ("n_values", "n_dm", "n_first", "n_second", "n_offset", "n_naive",
                                            "n_unparsed")}
    shapes = DateShapes(n_values=counts["n_values"], n_dm=counts["n_dm"], n_offset=counts["n_offset"],
                        n_naive=counts["n_naive"], n_unparsed=counts["n_unparsed"],
                        offset_example=None if row["offset_example"] is None else repr(row["offset_example"]),
                        naive_example=None if row["naive_example"] is None else repr(row["naive_example"]))
    _check_offsets(name, shapes)
    # the examples the order decision shows (fetched only when it refuses the column)
    nf, ns = counts["n_first"], counts["n_second"]
    refuses = (nf and ns) or (nf and dayfirst is False) or (ns and dayfirst is True) or (
        not nf and not ns and dayfirst is None and shapes.n_dm)
    shapes.first_over_12 = [repr(v) for v in _smallest(sdf, first12, col, F)] if nf and refuses else ["x"] * bool(nf)
    shapes.second_over_12 = [repr(v) for v in _smallest(sdf, second12, col, F)] if ns and refuses else ["x"] * bool(ns)
    order = _decide_dayfirst(name, shapes, dayfirst) if shapes.n_dm else True
    c1, c2, c3 = (F.regexp_extract(col, COMPACT_PATTERN, i) for i in (1, 2, 3))
    f1 = F.when(cmp, c1).otherwise(F.trim(groups["f1"]))
    f2 = F.when(cmp, c2).otherwise(F.trim(groups["f2"]))
    f3 = F.when(cmp, c3).otherwise(F.trim(groups["f3"]))
    year_first = F.length(f1) == 4
    i3 = f3.try_cast("int")
    y3 = F.when(F.length(f3) == 2, F.when(i3 < 69, i3 + 2000).otherwise(i3 + 1900)).when(F.length(f3) == 4, i3)
    year = F.when(year_first, f1.try_cast("int")).otherwise(y3)
    month = F.when(year_first, f2).otherwise(f2 if order else f1).try_cast("int")
    day = F.when(year_first, f3).otherwise(f1 if order else f2).try_cast("int")
    hh = F.coalesce(F.nullif(groups["hh"], F.lit("")).try_cast("int"), F.lit(0))
    ap = F.upper(groups["ampm"])
    hour = (F.when(ap == "", hh).when((hh < 1) | (hh > 12), F.lit(99))
            .when(ap == "AM", hh % 12).otherwise(hh % 12 + 12))
    minute = F.coalesce(F.nullif(groups["mi"], F.lit("")).try_cast("int"), F.lit(0))
    second = F.coalesce(F.nullif(groups["ss"], F.lit("")).try_cast("int"), F.lit(0))
    micro = F.coalesce(F.rpad(groups["frac"], 6, "0").try_cast("int"), F.lit(0))
    local = F.when(hit | cmp, _assemble(F, year, month, day, hour, minute, second, micro))
    parsed = local
    if shapes.n_offset:
        off = F.regexp_replace(groups["off"], ":", "")
        sign = F.when(F.substring(off, 1, 1) == "-", F.lit(-1)).otherwise(F.lit(1))
        minutes = F.when(F.upper(groups["off"]).isin("", "Z", "UTC", "GMT"), F.lit(0)).otherwise(
            sign * (F.substring(off, 2, 2).try_cast("int") * 60
                    + F.coalesce(F.nullif(F.substring(off, 4, 2), F.lit("")).try_cast("int"), F.lit(0))))
        parsed = F.timestamp_add("MINUTE", -minutes, local)
        warn_utc(column, stacklevel=stacklevel + 1)
    bad = col.isNotNull() & parsed.isNull()
    n_bad = present.where(bad).count()
    if n_bad:
        examples = [(v, None) for v in _smallest(sdf, bad, col, F)]
        raise DataValidationError(invalid_dates_message(name, int(n_bad), examples,
                                                          dayfirst=order if shapes.n_dm else None))
    return parsed


def spark_amount(sdf: Any, column: str, name: str, F: Any = None) -> Any:  # noqa: N803
    """The amount column as ``double``: text by the number policy, infinite values refused (every engine's message).

    Raises
    ------
    DataValidationError
        Text that is not a number (:func:`crm_analysis.data.numbers.numbers_message`) or
        infinite amounts (:func:`crm_analysis.data.errors.raise_on_infinite`), all rows counted.
    """
    F = F or require_pyspark()  # noqa: N806
    dtype = dict(sdf.dtypes)[column]
    col = F.col(column)
    if dtype == "string":
        fmt = NumberFormat()
        text = F.trim(col)
        bad = col.isNotNull() & (text != "") & ~col.rlike("(?i)" + number_pattern(fmt))
        n_bad = sdf.where(bad).count()
        if n_bad:
            raise DataValidationError(numbers_message(name, fmt, int(n_bad),
                                                      [(v, None) for v in _smallest(sdf, bad, col, F)]))
        value = F.when(text != "", text).try_cast("double")
    else:
        value = col.cast("double")
    inf = value.isin(float("inf"), float("-inf"))
    row = sdf.agg(F.sum(inf.cast("long")).alias("n")).first()
    if row["n"]:
        vals = sdf.where(inf).select(value.alias("v")).distinct().collect()
        raise_on_infinite(name, int(row["n"]), [(r["v"], None) for r in vals])
    return value


def _check_nulls(sdf: Any, cols: KeyColumns, F: Any) -> None:  # noqa: N803
    names = list(cols.roles().values())
    row = sdf.select([F.sum(F.col(c).isNull().cast("long")).alias(f"n{i}") for i, c in enumerate(names)]).first()
    raise_on_nulls(cols, [int(row[i] or 0) for i in range(len(names))])  # the other engines' message


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
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
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
    dayfirst, date_format : optional
        For a time column of text: the date policy of the other engines
        (:func:`spark_timestamp`; ``dd/mm`` order inferred from the whole
        column, or said here).

    Returns
    -------
    pandas.DataFrame or pyspark.sql.DataFrame
        The same table as :func:`crm_analysis.rfm.rfm_summary` (index
        ``customer_id``, ordered by it, same dtypes and ``attrs``).

    Raises
    ------
    ValueError
        Missing columns, missing key values, a bad time unit or dates, a time
        column the date policy refuses, amounts that are not numbers or are
        infinite (the other engines' messages).
    ImportError
        When pyspark is not installed.
    """
    F = require_pyspark()  # noqa: N806
    window = summary_window(observation_end, observation_start, time_unit)
    end, start, unit = window.end, window.start, window.unit
    cols = KeyColumns(customer_col, datetime_col, monetary_col)
    check_key_columns(cols, sdf.columns)
    _check_nulls(sdf, cols, F)
    ts = spark_timestamp(sdf, datetime_col, cols.label("datetime"), dayfirst=dayfirst,
                         date_format=date_format_for(date_format, "timestamp", datetime_col), F=F, stacklevel=5)
    amount = spark_amount(sdf, monetary_col, cols.label("monetary"), F)
    end_lit = F.lit(end.date().isoformat()).cast("date")
    daily = sdf.select(
        F.col(customer_col).cast("string").alias("customer_id"),
        F.to_date(ts).alias("day"),
        amount.alias("amount"),
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
