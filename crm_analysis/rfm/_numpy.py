"""The numpy engine: RFM summary of an in-memory DataFrame without a row sort.

1. The customer ids become integer keys in ``[0, R)`` whose order is the
   byte-wise order of the id strings (the order DuckDB's ``ORDER BY`` of a
   VARCHAR gives): ids of up to 8 bytes are read from the Arrow buffer as
   digits of a mixed-radix number (one digit per byte position, its range
   the bytes found there; no hashing); longer ids are dictionary-encoded and
   the distinct ids sorted; integer ids are ranked by their decimal strings;
   categories by their strings.
2. The distinct (customer, day) pairs come from one ``np.sort`` of the
   values ``customer * span + day`` (32-bit when they fit; values only, no
   ``argsort`` and no payload), which gives per customer the number of
   purchase days, the first and the last day.
3. Revenue and the repeat days' amount are ``np.bincount`` sums over the
   rows (weights: the amounts, resp. the amounts of rows after the
   customer's first day; summed directly, so repeat days that cancel give
   exactly 0).

Same result, row order and dtypes as the DuckDB engine (tested; money sums
may differ in the last bits, as sums in any other order do). Frames this
engine does not take (float, boolean or mixed object ids, times that are not
tz-naive ``datetime64``, non-numeric amounts, an empty result) get ``None``
and go to the DuckDB engine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._common import KeyColumns, Window, ids_as_index, with_attrs

__all__ = ["summary"]

_INT32_MAX = 2**31 - 1
_MAX_KEY = 2**62

#: ``ids(keys)``: the id strings of the given customer keys.
IdLookup = Callable[[np.ndarray], pa.Array]


def _bounded(n: int) -> int:
    """Largest key range used directly (arrays of that length are allocated)."""
    return max(4 * n, 1 << 20)


# ----------------------------------------------------------------------------- customer keys
def _byte_matrix(values: pa.Array) -> tuple[np.ndarray, bool] | None:
    """A uint8 matrix whose rows compare lexicographically like the strings, and whether it is fixed-width; or None.

    Strings of one byte length <= 8: their bytes (a reshape of the Arrow
    buffer, no gather). Strings of at most 7 bytes of any lengths: the bytes
    padded with zeros, then the length (so ``"a"`` < ``"a\\0"`` < ``"b"``).
    Longer strings: None.
    """
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    n = len(values)
    bufs = values.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_type)[values.offset : values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo == hi and 0 < hi <= 8:  # one fixed width
        return data[offsets[0] : offsets[-1]].reshape(n, hi), True
    if hi <= 7:
        padded = np.zeros((n, hi + 1), dtype=np.uint8)
        starts = offsets[:-1]
        last = max(len(data) - 1, 0)
        for j in range(hi):
            byte = data[np.minimum(starts + j, last)]
            padded[:, j] = np.where(lengths > j, byte, 0)
        padded[:, hi] = lengths.astype(np.uint8)
        return padded, False
    return None


def _radix_keys(matrix: np.ndarray, limit: int) -> tuple[np.ndarray, int, list[int], list[int]] | None:
    """Mixed-radix keys of the matrix rows (digit j: byte j minus its minimum), their range R, minima and widths.

    The digits are bounded by the bytes present at each position, so the map
    is strictly increasing in the lexicographic order of the rows. None when
    R would exceed ``limit``. 32-bit keys when R < 2**31 - 256 (every
    intermediate value stays below R + 255).
    """
    columns = [matrix[:, j] for j in range(matrix.shape[1])]  # strided views: per-column reductions are fast
    lo = [int(c.min()) for c in columns]
    width = [int(c.max()) - low + 1 for c, low in zip(columns, lo)]
    total = 1
    for w in width:
        total *= w
        if total > limit:
            return None
    keys = np.zeros(matrix.shape[0], dtype=np.int32 if total < _INT32_MAX - 256 else np.int64)
    for c, low, w in zip(columns, lo, width):
        if w > 1:  # keys = keys * w + (c - low), in place
            np.multiply(keys, w, out=keys)
            np.add(keys, c, out=keys, casting="unsafe")
            np.subtract(keys, low, out=keys)
    return keys, total, lo, width


def _strings_of_keys(keys: np.ndarray, lo: list[int], width: list[int], fixed: bool) -> pa.Array:
    """The strings of mixed-radix ``keys`` (decoded digit by digit; no gather of strings)."""
    n = len(keys)
    block = np.empty((n, len(width)), dtype=np.uint8)
    rest = keys.astype(np.int64)
    for j in range(len(width) - 1, -1, -1):
        if width[j] > 1:
            rest, digit = np.divmod(rest, width[j])
            block[:, j] = digit + lo[j]
        else:
            block[:, j] = lo[j]
    if fixed:
        data = block.ravel()
        offsets = np.arange(0, (n + 1) * block.shape[1], block.shape[1], dtype=np.int64)
    else:  # padded bytes, then the length
        w = block.shape[1] - 1
        lengths = block[:, w].astype(np.int64)
        data = block[:, :w][np.arange(w) < lengths[:, None]]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _rank(values: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Dense ranks of order-preserving integer keys: (ranks, number of distinct keys, distinct keys sorted)."""
    codes, uniq = pd.factorize(values, sort=False)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[codes], len(order), uniq[order]


def _string_keys(arr: pa.Array) -> tuple[np.ndarray, int, IdLookup]:
    """Keys of a string array: mixed-radix for ids of up to 8 bytes, else ranks of the dictionary."""
    bytes_ = _byte_matrix(arr) if arr.null_count == 0 else None
    if bytes_ is not None:
        matrix, fixed = bytes_
        found = _radix_keys(matrix, _bounded(len(arr)))
        if found is not None:
            keys, total, lo, width = found
            return keys, total, lambda k: _strings_of_keys(k, lo, width, fixed)
    # hash the ids once, sort the distinct ones (byte-wise: pyarrow compares UTF-8 bytes)
    encoded = pc.dictionary_encode(arr)
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    keys = rank[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
    names = dictionary.take(pa.array(order))
    return keys, len(order), lambda k: names.take(pa.array(k))


def _integer_string_order(values: np.ndarray) -> np.ndarray:
    """Keys of non-negative integers < 10**16 ordered as their decimal strings ("1" < "10" < "2")."""
    digits = np.ones(len(values), dtype=np.int64)
    for p in range(1, 16):
        digits += values >= 10**p
    return values * 10 ** (16 - digits) * 32 + digits


def _integer_keys(values: np.ndarray) -> tuple[np.ndarray, int, IdLookup]:
    """Keys of integer ids ordered as the ids' decimal strings (what ``CAST(id AS VARCHAR)`` sorts by)."""
    vmin, vmax = int(values.min()), int(values.max())
    if vmin >= 0 and vmax < 10**16 and vmax - vmin < _bounded(len(values)):
        present = np.flatnonzero(np.bincount(values - vmin)) + vmin  # distinct ids, no hashing
        order = np.argsort(_integer_string_order(present), kind="stable")
        table = np.empty(vmax - vmin + 1, dtype=np.int64)
        table[present[order] - vmin] = np.arange(len(order), dtype=np.int64)
        names = pa.array(present[order]).cast(pa.large_string())
        return table[values - vmin], len(order), lambda k: names.take(pa.array(k))
    codes, uniq = pd.factorize(values, sort=False)
    return _ranked_names(codes, uniq.astype(str).astype(object))


def _ranked_names(codes: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, int, IdLookup]:
    """Keys of codes into ``names``, ranked by the names as strings (byte-wise)."""
    order = pc.sort_indices(pa.array(names, type=pa.large_string())).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    sorted_names = pa.array(names[order], type=pa.large_string())
    return rank[codes], len(order), lambda k: sorted_names.take(pa.array(k))


def _customer_keys(col: pd.Series) -> tuple[np.ndarray, int, IdLookup] | None:
    """Customer keys in ``[0, R)`` ordered like the ids as strings, R, and the id lookup; None if not handled."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if not (pd.api.types.is_string_dtype(cats.dtype) or pd.api.types.is_integer_dtype(cats.dtype)):
            return None
        return _ranked_names(col.cat.codes.to_numpy().astype(np.int64), np.asarray(cats.astype(str), dtype=object))
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        if np.dtype(getattr(dtype, "numpy_dtype", dtype)) == np.uint64:
            return None  # may not fit int64: DuckDB
        return _integer_keys(col.to_numpy(dtype=np.int64))
    if pd.api.types.is_string_dtype(dtype):
        try:
            arr = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. object column of mixed types
            return None
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return None
        return _string_keys(arr)
    return None


# ----------------------------------------------------------------------------- summary
def summary(tx: pd.DataFrame, cols: KeyColumns, window: Window) -> pd.DataFrame | None:
    """:func:`crm_analysis.rfm.rfm_summary` of a checked, canonical in-memory DataFrame, or None.

    Parameters
    ----------
    tx : DataFrame
        Transactions without missing key values (see ``_common.check_frame``).
    cols : KeyColumns
        Names of the customer, time and amount columns.
    window : Window
        Observation period, time unit and the result's ``attrs``.

    Returns
    -------
    DataFrame or None
        The summary, or None for a frame this engine does not take (the
        DuckDB engine then runs; see the module docstring).
    """
    ts, amount_col = tx[cols.datetime], tx[cols.monetary]
    if not (isinstance(ts.dtype, np.dtype) and ts.dtype.kind == "M"):
        return None
    if not pd.api.types.is_numeric_dtype(amount_col.dtype) or pd.api.types.is_complex_dtype(amount_col.dtype):
        return None
    day = ts.to_numpy().astype("datetime64[D]").view(np.int64)  # floor to the calendar day
    end_day = (window.end - pd.Timestamp(0)).days
    keep = day <= end_day
    if window.start is not None:
        keep &= day >= (window.start - pd.Timestamp(0)).days
    n_kept = int(np.count_nonzero(keep))
    if n_kept == 0:
        return None
    found = _customer_keys(tx[cols.customer])
    if found is None:
        return None
    keys, n_keys, ids = found
    amount = amount_col.to_numpy(dtype=np.float64)
    rows = None
    if n_kept < len(keep):
        rows = np.flatnonzero(keep)
        keys, day, amount = keys[rows], day[rows], amount[rows]
    out = _aggregate(keys, n_keys, day, amount)
    present, n_days, first, last, revenue, repeat_amount = out
    frequency = n_days - 1
    monetary = np.zeros(len(present), dtype=np.float64)
    repeat = frequency > 0
    monetary[repeat] = repeat_amount[repeat] / frequency[repeat]
    unit = window.unit
    df = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first) / unit,
            "T": (end_day - first) / unit,
            "monetary_value": monetary,
            "revenue": revenue,
            "first_purchase": first.astype("datetime64[D]").astype("datetime64[ns]"),
        },
        index=ids_as_index(ids(present)),
    )
    return with_attrs(df, window.attrs)


def _aggregate(
    keys: np.ndarray, n_keys: int, day: np.ndarray, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer present (ascending key): key, purchase days, first and last day, revenue, repeat days' amount.

    Days are returned as days since 1970-01-01 (int64).
    """
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    small = n_keys * span <= _INT32_MAX  # 32-bit values sort about twice as fast
    offset = np.subtract(day, d0, dtype=np.int32 if small else np.int64, casting="unsafe")
    pairs = np.multiply(keys, span, dtype=offset.dtype, casting="unsafe")
    pairs += offset
    pairs.sort()
    new = np.empty(len(pairs), dtype=bool)
    new[0] = True
    np.not_equal(pairs[1:], pairs[:-1], out=new[1:])
    pairs = pairs[new]  # distinct (customer, day), sorted
    customer = pairs // pairs.dtype.type(span)
    starts = np.empty(len(customer), dtype=bool)
    starts[0] = True
    np.not_equal(customer[1:], customer[:-1], out=starts[1:])
    first_pair = np.flatnonzero(starts)
    last_pair = np.append(first_pair[1:], len(customer)) - 1
    present = customer[first_pair].astype(np.int64)
    n_days = np.diff(np.append(first_pair, len(customer)))
    first = pairs[first_pair].astype(np.int64) - present * span
    last = pairs[last_pair].astype(np.int64) - present * span
    # per key (not per position): the tables are indexed by the rows' keys directly, 32-bit to stay in cache
    first_of_key = np.zeros(n_keys, dtype=offset.dtype)
    first_of_key[present] = first
    later = offset != first_of_key[keys]
    # the repeat days' amount is summed directly (not revenue minus the first day), so repeat days that
    # cancel (a return of an earlier repeat purchase) give exactly 0, not a rounding residue of the first day
    repeat_amount = np.bincount(keys[later], weights=amount[later], minlength=n_keys)[present]
    revenue = np.bincount(keys, weights=amount, minlength=n_keys)[present]
    return present, n_days.astype(np.int64), first + d0, last + d0, revenue, repeat_amount
