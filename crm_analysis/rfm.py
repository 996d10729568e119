"""RFM summaries of transaction data, computed in DuckDB SQL.

The summary per customer follows the conventions of Fader, Hardie & Lee (2005)
and of ``lifetimes.utils.summary_data_from_transaction_data`` with ``freq="D"``
and a ``freq_multiplier``:

* purchases on the same calendar day are merged into one purchase (amounts
  summed);
* ``frequency`` is the number of *repeat* purchase days (distinct purchase
  days minus one);
* ``recency`` is the time from the first to the last purchase day and ``T`` the
  time from the first purchase day to ``observation_end``, both in days
  divided by the number of days of the time unit (weeks = days / 7);
* ``observation_end`` is inclusive: a purchase on that day counts (with
  ``recency == T``);
* ``monetary_value`` is the mean value of the repeat purchase days (the first
  purchase excluded), 0 for customers without repeat purchases.

These conventions reproduce the published CDNOW summary
(``cdnow_customers_summary.csv``, Fader-Hardie / lifetimes) exactly; see
``tests/test_rfm.py``.

For files and DuckDB relations all aggregation is one ``GROUP BY`` pipeline in
DuckDB (daily merge, then per customer, no window functions), so Parquet/CSV
files larger than memory can be summarised; only the per-customer result is
materialised in pandas (fetched as Arrow and converted column by column to
numpy-backed columns).

An in-memory DataFrame (string ids of up to 8 bytes, integer or categorical
ids; ``datetime64`` times; numeric amounts) is summarised in numpy instead:
the customer id becomes an integer key that sorts like the id string (no
hashing of strings), the rows are sorted once by (customer, day) and reduced
with ``np.add.reduceat``; the ids are looked up only for the result rows.
This is about 4x less CPU than the SQL on the same frame (which spends its
time hashing string keys) and gives the same result, row order and dtypes
(tested against the DuckDB path); other DataFrames take the DuckDB path.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crm_analysis._dates import parse_date
from crm_analysis.data.dates import check_timezone, date_format_for, parse_datetime_column, timestamp_sql
from crm_analysis.data.errors import DataValidationError, DataWarning
from crm_analysis.data.validation import STRIP_CHARS, STRIP_SQL_CLASS

__all__ = [
    "rfm_summary",
    "calibration_and_holdout",
    "repeat_purchases_by_day",
    "time_unit_days",
]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}
_local = threading.local()


def _default_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection, one per thread, reused between calls."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect()
        # no progress bar on stderr (it would end up in notebook reports); inside
        # Jupyter DuckDB refuses to change the setting without ipywidgets, and
        # shows no bar there anyway, so that refusal is harmless
        try:
            con.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:
            pass
        _local.con = con
    return con


def time_unit_days(time_unit: str | float | int) -> float:
    """Number of days in one time unit.

    Parameters
    ----------
    time_unit : {"D", "W"} or positive number
        ``"D"`` (days), ``"W"`` (weeks = 7 days) or a number of days.

    Returns
    -------
    float
        Days per time unit.

    Raises
    ------
    ValueError
        For an unknown unit or a non-positive number.
    """
    if isinstance(time_unit, str):
        key = time_unit.strip().upper()
        if key in _UNIT_DAYS:
            return _UNIT_DAYS[key]
        raise ValueError(f"unknown time_unit {time_unit!r}: use 'D', 'W' or a positive number of days")
    if isinstance(time_unit, bool) or not isinstance(time_unit, (int, float)):
        raise ValueError(f"time_unit must be 'D', 'W' or a number of days, got {time_unit!r}")
    if not math.isfinite(time_unit) or time_unit <= 0:
        raise ValueError(f"time_unit must be a positive number of days, got {time_unit!r}")
    return float(time_unit)


def _as_date(value: Any, name: str) -> pd.Timestamp:
    """Parse ``value`` as a calendar date (time of day must be absent)."""
    ts = parse_date(value, name, tz="strip", time="keep")
    if ts != ts.normalize():
        raise ValueError(
            f"{name} must be a calendar date (purchases are merged by day and the end day is inclusive), got {value!r}"
        )
    return ts


def _quote(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _relation(
    transactions: Any, con: duckdb.DuckDBPyConnection | None, text_columns: tuple[str, ...] = ()
) -> duckdb.DuckDBPyRelation:
    """A DuckDB relation over ``transactions`` (DataFrame, file path or relation)."""
    if isinstance(transactions, duckdb.DuckDBPyRelation):
        return transactions
    con = con if con is not None else _default_connection()
    if isinstance(transactions, pd.DataFrame):
        return con.from_df(transactions)
    if isinstance(transactions, (str, Path)):
        path = str(transactions)
        lower = path.lower()
        if not any(ch in path for ch in "*?[") and not Path(path).exists():
            raise FileNotFoundError(f"transactions file not found: {path}")
        if lower.endswith(".parquet") or lower.endswith(".pq") or Path(path).is_dir():
            if Path(path).is_dir():
                path = str(Path(path) / "**" / "*.parquet")
            return con.read_parquet(path)
        if any(lower.endswith(s) for s in (".csv", ".csv.gz", ".tsv", ".txt")):
            if any(ch in path for ch in "*?["):
                found = con.read_csv(path).columns
                text = [c for c in text_columns if c in found]
                # ids and dates as text: ids keep leading zeros, dates are read by the package's policy
                return con.read_csv(path, dtype={c: "VARCHAR" for c in text}) if text else con.read_csv(path)
            # one file: the data layer's reader (same dialect and file checks as load_transactions)
            from crm_analysis.data.loaders import source_relation

            return source_relation(Path(path), con=con, fmt="csv", text_columns=list(text_columns))
        raise ValueError(f"cannot read transactions from {path!r}: use a .parquet or .csv file")
    raise TypeError(
        "transactions must be a pandas DataFrame, a path to a Parquet/CSV file or a duckdb relation, "
        f"got {type(transactions).__name__}"
    )


def _check_columns(rel: duckdb.DuckDBPyRelation, cols: dict[str, str]) -> None:
    """Raise a ValueError naming any missing column."""
    missing = [f"{role} column {c!r}" for role, c in cols.items() if c not in rel.columns]
    if missing:
        raise ValueError(f"transactions lack the {', '.join(missing)}; columns are {list(rel.columns)}")


def _daily_cte(
    customer_col: str,
    datetime_col: str,
    monetary_col: str,
    observation_end: pd.Timestamp,
    observation_start: pd.Timestamp | None,
) -> str:
    """SQL of the daily-merge step (one row per customer and purchase day)."""
    c, t, m = _quote(customer_col), _quote(datetime_col), _quote(monetary_col)
    where = f"CAST({t} AS DATE) <= DATE '{observation_end.date().isoformat()}'"
    if observation_start is not None:
        where += f" AND CAST({t} AS DATE) >= DATE '{observation_start.date().isoformat()}'"
    return f"""
    daily AS (
        SELECT CAST({c} AS VARCHAR) AS customer_id,
               CAST({t} AS DATE) AS day,
               SUM(CAST({m} AS DOUBLE)) AS amount
        FROM tx
        WHERE {where}
        GROUP BY 1, 2
    )"""


def _check_nulls(rel: duckdb.DuckDBPyRelation, cols: dict[str, str]) -> None:
    """Raise a ValueError when a key column holds missing values or the amount is infinite."""
    parts = ", ".join(f"COUNT(*) FILTER (WHERE {_quote(c)} IS NULL)" for c in cols.values())
    m = _quote(cols["monetary"])
    parts += f", COUNT(*) FILTER (WHERE isinf(CAST({m} AS DOUBLE))), any_value({m}) FILTER (WHERE isinf(CAST({m} AS DOUBLE)))"
    counts = rel.query("tx", f"SELECT {parts} FROM tx").fetchall()[0]
    _raise_on_nulls(cols, counts[:-2])
    if counts[-2]:
        _raise_on_inf(cols["monetary"], int(counts[-2]), counts[-1])


def _raise_on_inf(column: str, n: int, example: Any) -> None:
    raise DataValidationError(
        f"transactions column {column!r} has {n:,} infinite value(s) (e.g. {example!r}); an amount must be a "
        "finite number: fix or drop those rows first (crm_analysis.data.clean_transactions drops them and "
        "counts them as 'nonfinite_amount')"
    )


def _canonical_relation(
    rel: duckdb.DuckDBPyRelation,
    cols: dict[str, str],
    *,
    timezone: str | None,
    dayfirst: bool | None,
    date_format: str | None,
) -> duckdb.DuckDBPyRelation:
    """The key columns read as the loaders read them: ids stripped, dates by the date policy."""
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    c, t, m = cols["customer"], cols["datetime"], cols["monetary"]
    if types[t] == "VARCHAR" or types[t].startswith("TIMESTAMP WITH TIME ZONE"):
        if types[t].startswith("TIMESTAMP WITH TIME ZONE") and timezone is None:
            _warn_utc(t)
        ts = timestamp_sql(rel, t, t, dayfirst=dayfirst, date_format=date_format, timezone=timezone)
        if ts.pre:
            rel = rel.project(", ".join(["*"] + [f"{v} AS {_quote(k)}" for k, v in ts.pre.items()]))
        t_expr = ts.expr
    else:
        t_expr = _quote(t)
    c_expr = _quote(c)
    if types[c] == "VARCHAR":
        pattern = "^" + STRIP_SQL_CLASS + "+|" + STRIP_SQL_CLASS + "+$"
        c_expr = f"regexp_replace({c_expr}, '{pattern}', '', 'g')"
    names = {c, t, m}
    return rel.project(", ".join(
        [f"{c_expr} AS {_quote(c)}", f"{t_expr} AS {_quote(t)}", f"{_quote(m)}"]
        + [_quote(x) for x in rel.columns if x not in names and not x.startswith("__date_fields_")]
    ))


def _warn_utc(column: str) -> None:
    import warnings

    warnings.warn(
        f"column {column!r} is time-zone aware and no timezone was given: purchase days are counted in UTC, "
        "as the loaders do without a declared zone; pass timezone='<IANA name>' (e.g. 'America/New_York') "
        "to count local days",
        DataWarning,
        stacklevel=4,
    )


def _canonical_frame(
    tx: pd.DataFrame,
    cols: dict[str, str],
    *,
    timezone: str | None,
    dayfirst: bool | None,
    date_format: str | None,
) -> pd.DataFrame:
    """The key columns of an in-memory frame read as the loaders read them (no copy when nothing changes).

    Time-zone-aware or text timestamps go through the date policy
    (:func:`crm_analysis.data.dates.parse_datetime_column`), text ids lose
    surrounding blanks, and an infinite amount is an error naming the column.
    """
    c, t, m = cols["customer"], cols["datetime"], cols["monetary"]
    out = {}
    ts = tx[t]
    if not (isinstance(ts.dtype, np.dtype) and ts.dtype.kind == "M"):
        if isinstance(ts.dtype, pd.DatetimeTZDtype) and timezone is None:
            _warn_utc(t)
        out[t], _ = parse_datetime_column(ts, t, dayfirst=dayfirst, date_format=date_format, timezone=timezone)
    ids = tx[c]
    if pd.api.types.is_string_dtype(ids.dtype) and not isinstance(ids.dtype, pd.CategoricalDtype):
        text = ids.astype("str") if ids.dtype == object else ids
        try:
            stripped = text.str.strip(STRIP_CHARS)
        except AttributeError:  # object column of non-strings: left to the DuckDB path
            stripped = text
        if not stripped.equals(text):
            out[c] = stripped
    amount = tx[m]
    if pd.api.types.is_numeric_dtype(amount.dtype) and not pd.api.types.is_bool_dtype(amount.dtype):
        values = amount.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            _raise_on_inf(m, int(inf.sum()), float(values[inf][0]))
    if not out:
        return tx
    return tx.assign(**out)


def _raise_on_nulls(cols: dict[str, str], counts: Any) -> None:
    """Raise a ValueError naming the key columns with missing values."""
    bad = {f"{role} ({c})": n for (role, c), n in zip(cols.items(), counts) if n}
    if bad:
        raise ValueError(
            f"transactions have missing values: {bad} rows; clean them first (crm_analysis.data) "
            "so that nothing is dropped silently"
        )


def _prepare(
    transactions: Any,
    con: duckdb.DuckDBPyConnection | None,
    customer_col: str,
    datetime_col: str,
    monetary_col: str,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> duckdb.DuckDBPyRelation:
    cols = {"customer": customer_col, "datetime": datetime_col, "monetary": monetary_col}
    if isinstance(transactions, pd.DataFrame):  # in memory: pandas counts nulls without a scan in DuckDB
        _check_frame(transactions, cols)
        tx = _canonical_frame(transactions, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format)
        return _relation(tx, con)
    rel = _relation(transactions, con, text_columns=(customer_col, datetime_col))
    _check_columns(rel, cols)
    rel = _canonical_relation(rel, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format)
    _check_nulls(rel, cols)
    return rel


def _check_frame(tx: pd.DataFrame, cols: dict[str, str]) -> None:
    """Missing columns and missing key values of an in-memory DataFrame (ValueError)."""
    names = [str(c) for c in tx.columns]
    missing = [f"{role} column {c!r}" for role, c in cols.items() if c not in names]
    if missing:
        raise ValueError(f"transactions lack the {', '.join(missing)}; columns are {names}")
    _raise_on_nulls(cols, [int(tx[c].isna().sum()) for c in cols.values()])


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
    df = pd.DataFrame(cols, index=index)
    # JSON-friendly metadata (pandas writes attrs into Parquet files as JSON)
    df.attrs.update(
        {k: (v.date().isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in attrs.items()}
    )
    return df


# ----------------------------------------------------------------------------- in-memory (numpy) path
_MAX_SORT_KEY = 2**62  # composite (customer, day) sort keys stay below this


def _string_sort_keys(values: pa.Array) -> np.ndarray | None:
    """Order-preserving ``uint64`` keys of short strings, or None.

    Strings of one byte length <= 8 map to their bytes read as a big-endian
    integer; strings of at most 7 bytes (any lengths) to their bytes padded
    with zeros, shifted left by 8 bits, plus the length (so ``"a"`` and
    ``"a\\0"`` differ). Both orders equal the byte-wise (UTF-8) string order
    that DuckDB's ``ORDER BY`` of a VARCHAR uses. Longer strings: None.
    """
    if values.type == pa.large_string():
        off_type = np.int64
    elif values.type == pa.string():
        off_type = np.int32
    else:
        return None
    n = len(values)
    bufs = values.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_type)[values.offset : values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo == hi and 0 < hi <= 8:  # one fixed width: a reshape, no gather
        block = data[offsets[0] : offsets[-1]].reshape(n, hi)
        padded = np.zeros((n, 8), dtype=np.uint8)
        padded[:, :hi] = block
        return padded.view(">u8").ravel().astype(np.uint64)
    if hi <= 7:
        padded = np.zeros((n, 8), dtype=np.uint8)
        starts = offsets[:-1]
        last = max(len(data) - 1, 0)
        for j in range(hi):
            byte = data[np.minimum(starts + j, last)]
            padded[:, j] = np.where(lengths > j, byte, 0)
        padded[:, 7] = lengths.astype(np.uint8)
        return padded.view(">u8").ravel().astype(np.uint64)
    return None


def _customer_keys(col: pd.Series) -> tuple[np.ndarray, Any] | None:
    """Integer sort keys of the customer column and a function giving the ids.

    Returns ``(keys, ids)``: the order of ``keys`` is the order of the ids as
    strings (what ``CAST(customer AS VARCHAR) ... ORDER BY`` gives in DuckDB)
    and ``ids(rows)`` returns the ids (as strings) of the given rows. None
    when the column is of a type this path does not handle (the DuckDB path
    then runs).
    """
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if not (pd.api.types.is_string_dtype(cats.dtype) or pd.api.types.is_integer_dtype(cats.dtype)):
            return None
        codes = col.cat.codes.to_numpy().astype(np.int64)
        names = np.asarray(cats.astype(str), dtype=object)
    elif pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        if np.dtype(getattr(dtype, "numpy_dtype", dtype)) == np.uint64:
            return None  # may not fit int64: DuckDB
        values = col.to_numpy(dtype=np.int64)
        keys = _integer_sort_keys(values)
        if keys is not None:
            return keys, lambda rows: pa.array(values[rows]).cast(pa.large_string())
        codes, uniq = pd.factorize(values)
        names = uniq.astype(str).astype(object)
    elif pd.api.types.is_string_dtype(dtype):
        try:
            arr = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. object column of mixed types
            return None
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            return None
        keys = _string_sort_keys(arr)
        if keys is None:  # long ids: hashing them in pandas is no faster than DuckDB's aggregation
            return None
        return keys, lambda rows: arr.take(pa.array(rows))
    else:
        return None
    # rank the distinct ids in byte-wise string order (pyarrow compares UTF-8 bytes)
    order = pc.sort_indices(pa.array(names, type=pa.large_string())).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    keys = rank[codes]
    names_sorted = pa.array(names[order], type=pa.large_string())
    return keys, lambda rows: names_sorted.take(pa.array(keys[rows]))


def _integer_sort_keys(values: np.ndarray) -> np.ndarray | None:
    """Keys of non-negative integers ordered as their decimal strings, or None.

    ``v`` with ``d`` digits maps to ``v * 10**(16 - d) * 32 + d`` (digits
    left-aligned, ties broken by length: "1" < "10" < "2"), for ``v < 10**16``;
    None for negative or larger ids.
    """
    if len(values) == 0 or values.min() < 0 or values.max() >= 10**16:
        return None
    digits = np.ones(len(values), dtype=np.int64)
    for p in range(1, 16):
        digits += values >= 10**p
    return values * 10 ** (16 - digits) * 32 + digits


def _summary_numpy(
    tx: pd.DataFrame,
    customer_col: str,
    datetime_col: str,
    monetary_col: str,
    end: pd.Timestamp,
    start: pd.Timestamp | None,
    unit: float,
    attrs: dict[str, Any],
) -> pd.DataFrame | None:
    """:func:`rfm_summary` of an in-memory DataFrame in numpy, or None.

    One sort of the rows by (customer, day) on integer keys, then segment
    sums (``np.add.reduceat``): per (customer, day) the day's amount, per
    customer the number of purchase days, first and last day, total and
    first-day amount. Runs only for a tz-naive ``datetime64`` time column,
    a numeric amount and a string, integer or categorical customer key
    (None otherwise, and for an empty result: the DuckDB path then runs).
    """
    ts = tx[datetime_col]
    amount_col = tx[monetary_col]
    if not (isinstance(ts.dtype, np.dtype) and ts.dtype.kind == "M"):
        return None
    if not pd.api.types.is_numeric_dtype(amount_col.dtype) or pd.api.types.is_complex_dtype(amount_col.dtype):
        return None
    day = ts.to_numpy().astype("datetime64[D]").view(np.int64)  # floor to the calendar day
    keep = day <= (end - pd.Timestamp(0)).days
    if start is not None:
        keep &= day >= (start - pd.Timestamp(0)).days
    if not keep.any():
        return None
    cust = _customer_keys(tx[customer_col])
    if cust is None:
        return None
    keys, ids = cust
    amount = amount_col.to_numpy(dtype=np.float64)
    rows = None
    if not keep.all():
        rows = np.flatnonzero(keep)
        keys, day, amount = keys[rows], day[rows], amount[rows]
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    offset = day - d0
    k0 = keys.min()
    if (int(keys.max()) - int(k0) + 1) * span < _MAX_SORT_KEY:  # one int64 key: customer, then day
        composite = (keys - k0).astype(np.int64) * span + offset
        order = np.argsort(composite)
        composite = composite[order]
        new_day = np.empty(len(order), dtype=bool)
        new_day[0] = True
        np.not_equal(composite[1:], composite[:-1], out=new_day[1:])
    else:
        composite = None
        order = np.lexsort((offset, keys))
        ks, os_ = keys[order], offset[order]
        new_day = np.empty(len(order), dtype=bool)
        new_day[0] = True
        new_day[1:] = (ks[1:] != ks[:-1]) | (os_[1:] != os_[:-1])
    day_starts = np.flatnonzero(new_day)
    day_amount = np.add.reduceat(amount[order], day_starts)
    day_rows = order[day_starts]  # a row of each (customer, day)
    if composite is not None:  # customer and day from the sorted key: no random gathers
        day_keys, day_of = np.divmod(composite[day_starts], span)
        day_of += d0
    else:
        day_keys, day_of = keys[day_rows], day[day_rows]
    new_cust = np.empty(len(day_starts), dtype=bool)
    new_cust[0] = True
    np.not_equal(day_keys[1:], day_keys[:-1], out=new_cust[1:])
    cust_starts = np.flatnonzero(new_cust)
    cust_last = np.append(cust_starts[1:], len(day_starts)) - 1
    n_days = np.diff(np.append(cust_starts, len(day_starts)))
    first, last = day_of[cust_starts], day_of[cust_last]
    revenue = np.add.reduceat(day_amount, cust_starts)
    frequency = (n_days - 1).astype(np.int64)
    repeat = frequency > 0
    monetary = np.zeros(len(cust_starts), dtype=np.float64)
    monetary[repeat] = (revenue[repeat] - day_amount[cust_starts][repeat]) / frequency[repeat]
    end_day = (end - pd.Timestamp(0)).days
    cust_rows = day_rows[cust_starts]
    if rows is not None:
        cust_rows = rows[cust_rows]
    index = pd.Index(pd.array(ids(cust_rows), dtype="str"), name="customer_id")
    df = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first) / unit,
            "T": (end_day - first) / unit,
            "monetary_value": monetary,
            "revenue": revenue,
            "first_purchase": first.astype("datetime64[D]").astype("datetime64[ns]"),
        },
        index=index,
    )
    df.attrs.update(
        {k: (v.date().isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in attrs.items()}
    )
    return df


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
    date_format: str | None = None,
) -> pd.DataFrame:
    """Per-customer frequency / recency / T / monetary value summary.

    Parameters
    ----------
    transactions : DataFrame, str, Path or duckdb.DuckDBPyRelation
        Transactions (one row per purchase or order line): a DataFrame, a path
        to a Parquet file (or folder / glob of Parquet files) or CSV file, or a
        DuckDB relation. Files are scanned by DuckDB, never loaded whole.
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
        Connection to use for DataFrame / file input (default: an in-memory
        connection reused per thread; pass one with e.g. a ``memory_limit``
        or ``temp_directory`` set for very large files). Unused for a
        DataFrame that the numpy path handles (see the module docstring).
    timezone : str, optional
        IANA time zone in which purchase days are counted when the time
        column is time-zone aware or carries UTC offsets (default: UTC, with
        a :class:`~crm_analysis.data.errors.DataWarning` for aware values),
        exactly as :func:`crm_analysis.data.load_transactions` does.
    dayfirst, date_format : optional
        For a time column of text (a CSV file, a frame read without parsing):
        the date policy of :mod:`crm_analysis.data.dates` (``dd/mm`` order
        inferred from the whole column, or said here).

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
        (:class:`~crm_analysis.data.errors.DataValidationError`), a bad time
        unit, a date parameter that is not ISO ``YYYY-MM-DD``, or a time
        column the date policy refuses.

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
    if any(c.__module__.startswith("pyspark.sql") for c in type(transactions).__mro__):  # Spark DataFrame
        from crm_analysis.scale.spark import rfm_summary_spark  # lazy: pyspark is an optional extra

        return rfm_summary_spark(transactions, observation_end=observation_end, time_unit=time_unit,
                                 customer_col=customer_col, datetime_col=datetime_col, monetary_col=monetary_col,
                                 observation_start=observation_start)
    unit = time_unit_days(time_unit)
    check_timezone(timezone)
    end = _as_date(observation_end, "observation_end")
    start = None if observation_start is None else _as_date(observation_start, "observation_start")
    if start is not None and start > end:
        raise ValueError(f"observation_start {start.date()} is after observation_end {end.date()}")
    attrs = {"observation_end": end, "observation_start": start, "time_unit": time_unit, "unit_days": unit}
    if isinstance(transactions, pd.DataFrame):
        cols = {"customer": customer_col, "datetime": datetime_col, "monetary": monetary_col}
        _check_frame(transactions, cols)
        tx = _canonical_frame(transactions, cols, timezone=timezone, dayfirst=dayfirst, date_format=date_format)
        out = _summary_numpy(tx, customer_col, datetime_col, monetary_col, end, start, unit, attrs)
        if out is not None:
            return out
        rel = _relation(tx, con)  # checked above
    else:
        rel = _prepare(transactions, con, customer_col, datetime_col, monetary_col, timezone, dayfirst, date_format)
    end_sql = f"DATE '{end.date().isoformat()}'"
    sql = f"""
    WITH {_daily_cte(customer_col, datetime_col, monetary_col, end, start)}
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
    return _to_frame(table, attrs)


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
    date_format: str | None = None,
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
    unit = time_unit_days(time_unit)
    cal = _as_date(calibration_end, "calibration_end")
    end = _as_date(observation_end, "observation_end")
    if cal >= end:
        raise ValueError(f"calibration_end {cal.date()} must be before observation_end {end.date()}")
    start = None if observation_start is None else _as_date(observation_start, "observation_start")
    if start is not None and start > cal:
        raise ValueError(f"observation_start {start.date()} is after calibration_end {cal.date()}")
    check_timezone(timezone)
    rel = _prepare(transactions, con, customer_col, datetime_col, monetary_col, timezone, dayfirst, date_format)
    cal_sql = f"DATE '{cal.date().isoformat()}'"
    duration = (end - cal).days / unit
    sql = f"""
    WITH {_daily_cte(customer_col, datetime_col, monetary_col, end, start)},
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
    return _to_frame(
        table,
        {
            "calibration_end": cal,
            "observation_end": end,
            "observation_start": start,
            "time_unit": time_unit,
            "unit_days": unit,
        },
    )


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
    customer_col, datetime_col, monetary_col, con
        As in :func:`rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``day`` (every day with a purchase of the cohort, sorted),
        columns ``first_purchases`` (customers whose first purchase day it is)
        and ``repeat_purchases`` (cohort customers with a repeat purchase that
        day; same-day purchases merged).
    """
    end = _as_date(observation_end, "observation_end")
    cend = end if cohort_end is None else _as_date(cohort_end, "cohort_end")
    start = None if observation_start is None else _as_date(observation_start, "observation_start")
    rel = _prepare(transactions, con, customer_col, datetime_col, monetary_col)
    sql = f"""
    WITH {_daily_cte(customer_col, datetime_col, monetary_col, end, start)},
    firsts AS (
        SELECT customer_id, MIN(day) AS first_day
        FROM daily
        GROUP BY customer_id
        HAVING MIN(day) <= DATE '{cend.date().isoformat()}'
    )
    SELECT d.day,
           COUNT(*) FILTER (WHERE d.day = f.first_day) AS first_purchases,
           COUNT(*) FILTER (WHERE d.day > f.first_day) AS repeat_purchases
    FROM daily d JOIN firsts f ON d.customer_id = f.customer_id
    GROUP BY d.day
    ORDER BY d.day
    """
    df = rel.query("tx", sql).df()
    out = pd.DataFrame(
        {
            "first_purchases": df["first_purchases"].to_numpy(dtype="int64"),
            "repeat_purchases": df["repeat_purchases"].to_numpy(dtype="int64"),
        },
        index=pd.DatetimeIndex(pd.to_datetime(df["day"]).astype("datetime64[ns]"), name="day"),
    )
    return out
