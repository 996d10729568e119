"""What every RFM engine shares: parameters, key-column checks, the date/id policy on frames, result metadata.

Nothing here depends on an engine: the numpy, DuckDB and Spark engines import
from this module, never the other way round.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crm_analysis._dates import parse_date
from crm_analysis.contracts import TimeUnit
from crm_analysis.data.dates import check_timezone, date_format_for, parse_datetime_column
from crm_analysis.data.errors import DataValidationError, DataWarning, refuse_infinite
from crm_analysis.data.numbers import NumberFormat, parse_numbers
from crm_analysis.data.validation import FLOAT_TEXT_ID, STRIP_CHARS, as_text

__all__ = [
    "SUMMARY_COLUMNS",
    "KeyColumns",
    "Window",
    "as_date",
    "byte_ranges",
    "canonical_frame",
    "check_frame",
    "check_key_columns",
    "has_byte",
    "ids_as_index",
    "null_count",
    "raise_on_nulls",
    "string_layout",
    "summary_window",
    "time_unit_days",
    "warn_utc",
    "with_attrs",
]

#: Columns of :func:`crm_analysis.rfm.rfm_summary`, in order (index: ``customer_id``).
SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value", "revenue", "first_purchase")


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

    Examples
    --------
    >>> time_unit_days("W"), time_unit_days(30.5)
    (7.0, 30.5)
    """
    return TimeUnit.parse(time_unit).days


def as_date(value: Any, name: str) -> pd.Timestamp:
    """Parse the date parameter ``name`` (ISO ``YYYY-MM-DD``; a time of day other than midnight is an error).

    A time-zone-aware value is refused: purchase days are counted in one zone (``timezone``, default
    UTC) and a day given in another cannot be silently stripped of its zone.
    """
    if getattr(value, "tzinfo", None) is not None:
        raise InputError(
            f"{name}={shown(value)} is time-zone aware; give the calendar day without a zone (e.g. "
            f"'{pd.Timestamp(value).strftime('%Y-%m-%d')}'): days are counted in the zone given by timezone= "
            "(UTC by default), and the zone of a date parameter would be ignored"
        )
    ts = parse_date(value, name, tz="strip", time="keep")
    if ts != ts.normalize():
        raise InputError(
            f"{name} must be a calendar date (purchases are merged by day and the end day is inclusive), got {shown(value)}"
        )
    return ts


@dataclass(frozen=True)
class KeyColumns:
    """Source names of the customer key, the purchase time and the amount."""

    customer: str
    datetime: str
    monetary: str

    def roles(self) -> dict[str, str]:
        """``{"customer": ..., "datetime": ..., "monetary": ...}`` (the roles named in error messages)."""
        return {"customer": self.customer, "datetime": self.datetime, "monetary": self.monetary}

    def label(self, role: str) -> str:
        """A key column as value errors name it: ``"amount (Total)"`` for ``monetary_col="Total"``.

        The canonical name (``customer_id``, ``timestamp``, ``amount``) with the
        user's column in brackets when they differ, as the loaders name mapped
        columns.
        """
        canonical = {"customer": "customer_id", "datetime": "timestamp", "monetary": "amount"}[role]
        source = self.roles()[role]
        return canonical if source == canonical else f"{canonical} ({source})"


@dataclass(frozen=True)
class Window:
    """The checked parameters of one summary: period, unit and the result's ``attrs``."""

    end: pd.Timestamp
    start: pd.Timestamp | None
    unit: float
    attrs: dict[str, Any]


def summary_window(
    observation_end: Any, observation_start: Any, time_unit: str | float, *, end_name: str = "observation_end"
) -> Window:
    """Check the period and unit parameters of :func:`crm_analysis.rfm.rfm_summary`.

    ``end_name`` is the parameter that ends the period (``calibration_end`` for the calibration
    period of :func:`crm_analysis.rfm.calibration_and_holdout`): messages and ``attrs`` use it.

    Raises
    ------
    ValueError
        A bad time unit, a date that is not ISO ``YYYY-MM-DD`` or a start after the end.
    """
    unit = time_unit_days(time_unit)
    end = as_date(observation_end, end_name)
    start = None if observation_start is None else as_date(observation_start, "observation_start")
    if start is not None and start > end:
        raise InputError(f"observation_start {start.date()} is after {end_name} {end.date()}")
    attrs = {end_name: end, "observation_start": start, "time_unit": time_unit, "unit_days": unit}
    return Window(end, start, unit, attrs)


def with_attrs(df: pd.DataFrame, attrs: Mapping[str, Any]) -> pd.DataFrame:
    """Attach JSON-friendly metadata (timestamps as ISO dates; pandas writes attrs into Parquet as JSON)."""
    df.attrs.update({k: (v.date().isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in attrs.items()})
    return df


def raise_on_nulls(cols: KeyColumns, counts: Any) -> None:
    """Raise a ValueError naming the key columns with missing values (``counts`` in role order)."""
    bad = {f"{role} ({c})": int(n) for (role, c), n in zip(cols.roles().items(), counts) if n}
    if bad:
        raise InputError(
            f"transactions have missing values: {bad} rows; load and clean them first, which counts what it "
            "drops: tx = crm_analysis.data.load_transactions(path, columns=...); "
            "tx = crm_analysis.data.clean_transactions(tx).data; then rfm_summary(tx, ...)"
        )


def warn_utc(column: str, stacklevel: int = 4) -> None:
    """Warn that time-zone-aware times are counted in UTC days (no ``timezone`` given).

    ``stacklevel`` counts from this function (4: the caller of a public
    function that calls the helper that calls this).
    """
    warnings.warn(
        f"column {column!r} is time-zone aware (or carries UTC offsets) and no timezone was given: purchase "
        "days are counted in UTC, "
        "as the loaders do without a declared zone; pass timezone='<IANA name>' (e.g. 'America/New_York') "
        "to count local days",
        DataWarning,
        stacklevel=stacklevel,
    )


def check_key_columns(cols: KeyColumns, available: Iterable[Any]) -> None:
    """Raise a ValueError naming every key column the transactions lack (every engine: frame, relation, Spark)."""
    check_columns({f"{role}_col": c for role, c in cols.roles().items()}, available, table="transactions",
                  fix="Name your columns with customer_col=, datetime_col= and monetary_col=")


def check_frame(tx: pd.DataFrame, cols: KeyColumns) -> None:
    """Missing columns and missing key values of an in-memory DataFrame (ValueError)."""
    check_key_columns(cols, [str(c) for c in tx.columns])
    raise_on_nulls(cols, [null_count(tx[c]) for c in cols.roles().values()])


def _finite_sum(values: np.ndarray) -> bool:
    """Whether the sum of ``values`` is finite: then none is NaN or infinite (an overflow says nothing)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(values.sum()))


def null_count(col: pd.Series) -> int:
    """Number of missing values of ``col`` (``Series.isna().sum()``), without a mask where the column says so.

    Arrow-backed columns keep their null count; a float column whose sum is
    finite has no NaN and a ``datetime64`` column whose smallest value is not
    NaT has no NaT (one reduction, no temporary array); otherwise (or when the
    sum overflows) the values are counted.
    """
    values = col.array
    arrow = getattr(values, "_pa_array", None)  # pandas' Arrow-backed arrays (str, string, pyarrow dtypes)
    if isinstance(arrow, (pa.Array, pa.ChunkedArray)) and not pd.api.types.is_float_dtype(col.dtype):
        return int(arrow.null_count)  # Arrow float columns may hold NaN as a value: counted below
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and len(col):
        data = col.to_numpy(copy=False)
        if dtype.kind == "f" and _finite_sum(data):
            return 0
        if dtype.kind == "M" and data.view(np.int64).min() != np.iinfo(np.int64).min:
            return 0
    return int(col.isna().sum())


# first / last bytes that can start / end a character of STRIP_CHARS in UTF-8
_STRIP_BYTES = [s.encode("utf-8") for s in STRIP_CHARS]
_FIRST = np.zeros(256, dtype=bool)
_LAST = np.zeros(256, dtype=bool)
for _b in _STRIP_BYTES:
    _FIRST[_b[0]] = True
    _LAST[_b[-1]] = True


#: Rows per block of the block-wise passes over a column (temporaries of this length stay in cache and are
#: reused by the allocator, instead of fresh column-sized arrays whose pages the kernel must map on each call).
BLOCK = 1 << 16


def string_layout(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, int | None]:
    """The offsets and bytes of an Arrow (large) string array as numpy views, and its common byte length if any.

    Parameters
    ----------
    arr : pyarrow.StringArray or pyarrow.LargeStringArray
        Without nulls or with them (a null is an empty slot).

    Returns
    -------
    offsets : ndarray of int32 or int64, shape (n + 1,)
        Byte offsets of the strings (a view of the Arrow buffer, not rebased).
    data : ndarray of uint8
        The character data buffer (a view; empty if absent).
    width : int or None
        The byte length of every string when all have the same one, else None.
        Checked block by block (no array of all lengths).
    """
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_type)[arr.offset : arr.offset + n + 1] if n else np.zeros(1, off_type)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    if n == 0:
        return offsets, data, None
    width = int(offsets[1]) - int(offsets[0])
    if int(offsets[-1]) - int(offsets[0]) != width * n:
        return offsets, data, None
    step = np.empty(min(BLOCK, n), dtype=off_type)
    for s in range(0, n, BLOCK):
        e = min(s + BLOCK, n)
        d = np.subtract(offsets[s + 1 : e + 1], offsets[s:e], out=step[: e - s])
        if d.min() != width or d.max() != width:
            return offsets, data, None
    return offsets, data, width


def byte_ranges(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest byte of each column of a C-contiguous uint8 matrix, shape (n, w).

    The rows are reduced 512 at a time as one long row (a reshape, no copy),
    so each reduction step covers 512 * w bytes instead of w: about ten
    times faster than a reduction per (strided) column.
    """
    n, w = matrix.shape
    k = 512
    full = n - n % k
    lo = np.full(w, 255, dtype=np.uint8)
    hi = np.zeros(w, dtype=np.uint8)
    if full:
        wide = matrix[:full].reshape(full // k, k * w)
        lo = wide.min(axis=0).reshape(k, w).min(axis=0)
        hi = wide.max(axis=0).reshape(k, w).max(axis=0)
    if full < n:
        lo = np.minimum(lo, matrix[full:].min(axis=0))
        hi = np.maximum(hi, matrix[full:].max(axis=0))
    return lo, hi


def has_byte(data: np.ndarray, byte: int) -> bool:
    """Whether the uint8 array ``data`` contains ``byte`` (block by block: no mask of the whole buffer)."""
    step = 1 << 20
    return any(bool((data[s : s + step] == byte).any()) for s in range(0, len(data), step))


def _may_need_strip(arr: pa.Array) -> bool:
    """Whether some string of ``arr`` may start or end with a character of ``STRIP_CHARS``.

    Looks only at the first and last byte of every string (from the Arrow
    offsets, no per-string work); a ``True`` is confirmed by the exact strip.
    """
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return True
    n = len(arr)
    if n == 0:
        return False
    offsets, data, width = string_layout(arr)
    if len(data) == 0:
        return False
    lo, hi = int(offsets[0]), int(offsets[-1])
    if width == 0:
        return False
    if width is not None:  # one width: the byte ranges of the first and the last column
        low, high = byte_ranges(data[lo:hi].reshape(n, width)[:, [0, width - 1]] if width > 64
                                else data[lo:hi].reshape(n, width))
        if not (_FIRST[low[0] : int(high[0]) + 1].any() or _LAST[low[-1] : int(high[-1]) + 1].any()):
            return False
        return bool(_FIRST[data[lo:hi:width]].any() or _LAST[data[lo + width - 1 : hi : width]].any())
    for s in range(0, n, BLOCK):
        o = offsets[s : min(s + BLOCK, n) + 1]
        nonempty = o[1:] > o[:-1]
        if _FIRST[data[o[:-1][nonempty]]].any() or _LAST[data[o[1:][nonempty] - 1]].any():
            return True
    return False


def _has_dot(arr: pa.Array) -> bool:
    """Whether the character data of the string array ``arr`` holds a ``"."`` byte."""
    offsets, data, width = string_layout(arr)
    chars = data[int(offsets[0]) : int(offsets[-1])]
    if width is not None and 0 < width <= 64:  # one width: no column whose byte range holds "." has none
        low, high = byte_ranges(chars.reshape(len(arr), width))
        if not ((low <= ord(".")) & (high >= ord("."))).any():
            return False
    return has_byte(chars, ord("."))


def _strip_ids(ids: pd.Series) -> pd.Series | None:
    """The text ids as the loaders read them, or None when nothing changes (or the column is not text).

    Surrounding blanks are stripped, and ids written as integral floats
    (``"17850.0"``) lose the ``.0`` (:data:`crm_analysis.data.validation.FLOAT_TEXT_ID`).
    Cheap checks on the Arrow buffers come first, so that the common case
    (nothing to change) costs almost nothing.
    """
    text = ids.astype("str") if ids.dtype == object else ids
    try:
        arr = pa.array(text, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    need_strip = need_float = True
    if arr is not None:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        need_strip = _may_need_strip(arr)
        is_text = pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
        # FLOAT_TEXT_ID needs a "." : look for the byte in the character data before any per-string work
        need_float = not is_text or (_has_dot(arr) and bool(pc.any(pc.match_substring(arr, ".")).as_py()))
        if not need_strip and not need_float:
            return None
    try:
        out = text.str.strip(STRIP_CHARS) if need_strip else text
        if need_float:
            out = out.str.replace(FLOAT_TEXT_ID, r"\1", regex=True)
    except AttributeError:  # object column of non-strings: left to the DuckDB engine
        return None
    return None if out.equals(text) else out


def canonical_frame(
    tx: pd.DataFrame,
    cols: KeyColumns,
    *,
    timezone: str | None,
    dayfirst: bool | None,
    date_format: str | Mapping[str, str] | None,
) -> pd.DataFrame:
    """The key columns of an in-memory frame read as the loaders read them (no copy when nothing changes).

    Time-zone-aware or text timestamps go through the date policy
    (:func:`crm_analysis.data.dates.parse_datetime_column`), text ids lose
    surrounding blanks (:data:`crm_analysis.data.validation.STRIP_CHARS`), and
    amounts written as text are read by the number policy
    (:func:`crm_analysis.data.numbers.parse_numbers`, decimal point) and an
    infinite amount is an error naming the column.

    Raises
    ------
    DataValidationError
        Infinite amounts, or a time column the date policy refuses.
    """
    check_timezone(timezone)
    c, t, m = cols.customer, cols.datetime, cols.monetary
    out = {}
    ts = tx[t]
    if not (isinstance(ts.dtype, np.dtype) and ts.dtype.kind == "M"):
        if isinstance(ts.dtype, pd.DatetimeTZDtype) and timezone is None:
            warn_utc(t, stacklevel=6)  # warn_utc, canonical_frame, _frame_or_relation, public function, its
            # converts_duckdb_errors wrapper, caller
        out[t], changes = parse_datetime_column(ts, cols.label("datetime"), dayfirst=dayfirst,
                                                date_format=date_format_for(date_format, "timestamp", t),
                                                timezone=timezone)
        if any(ch.reason == "converted_to_utc" for ch in changes) and not isinstance(ts.dtype, pd.DatetimeTZDtype):
            warn_utc(t, stacklevel=6)  # text with UTC offsets
    ids = tx[c]
    if pd.api.types.is_float_dtype(ids.dtype) or (
        ids.dtype == object and any(isinstance(v, (float, np.floating)) for v in ids.iloc[:1000])
    ):
        out[c] = as_text_ids(ids, c)  # 17850.0 -> "17850", as the loaders read it
    elif pd.api.types.is_string_dtype(ids.dtype) and not isinstance(ids.dtype, pd.CategoricalDtype):
        stripped = _strip_ids(ids)
        if stripped is not None:
            out[c] = stripped
    amount = tx[m]
    if amount.dtype == object or pd.api.types.is_string_dtype(amount.dtype):  # text amounts: the number policy
        amount = out[m] = parse_numbers(amount, cols.label("monetary"), NumberFormat())
    if pd.api.types.is_numeric_dtype(amount.dtype) and not pd.api.types.is_bool_dtype(amount.dtype):
        values = amount.to_numpy(dtype=np.float64, na_value=np.nan)
        if not _finite_sum(values):  # a finite sum: no inf (one reduction); else the one rule's check
            refuse_infinite(values, cols.label("monetary"))
    if not out:
        return tx
    return tx.assign(**out)


def as_text_ids(ids: pd.Series, name: str) -> pd.Series:
    """Ids as the loaders read them (:func:`crm_analysis.data.validation.as_text`): integral floats without ``.0``."""
    return as_text(ids, name)


def ids_as_index(ids: pa.Array | pa.ChunkedArray | np.ndarray) -> pd.Index:
    """The ``customer_id`` index (pandas' string dtype) of the result rows."""
    return pd.Index(pd.array(ids, dtype="str"), name="customer_id")

