"""The numpy engine: RFM summary of an in-memory DataFrame without hashing strings.

The customer id becomes an integer key that sorts like the id string (ids of
up to 8 bytes read from the Arrow buffer as big-endian integers; non-negative
integer ids ordered like their decimal strings; categories ranked by their
strings), the rows are sorted once by (customer, day) and reduced with
``np.add.reduceat``; the ids are looked up only for the result rows. Same
result, row order and dtypes as the DuckDB engine (tested). Frames this
engine does not handle (long string ids, float or mixed object ids, times
that are not tz-naive ``datetime64``, an empty result) get ``None`` and go to
the DuckDB engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._common import KeyColumns, Window, ids_as_index, with_attrs

__all__ = ["summary"]

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


def summary(tx: pd.DataFrame, cols: KeyColumns, window: Window) -> pd.DataFrame | None:
    """:func:`crm_analysis.rfm.rfm_summary` of an in-memory DataFrame in numpy, or None.

    One sort of the rows by (customer, day) on integer keys, then segment
    sums (``np.add.reduceat``): per (customer, day) the day's amount, per
    customer the number of purchase days, first and last day, total and
    first-day amount. Runs only for a tz-naive ``datetime64`` time column,
    a numeric amount and a string, integer or categorical customer key
    (None otherwise, and for an empty result: the DuckDB path then runs).
    """
    customer_col, datetime_col, monetary_col = cols.customer, cols.datetime, cols.monetary
    end, start, unit = window.end, window.start, window.unit
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
    index = ids_as_index(ids(cust_rows))
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
    return with_attrs(df, window.attrs)


