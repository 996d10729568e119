"""The numpy engine: RFM summary of an in-memory DataFrame without a row sort or a hash of the ids.

1. The customer ids become integer keys in ``[0, R)`` whose order is the
   byte-wise order of the id strings (the order DuckDB's ``ORDER BY`` of a
   VARCHAR gives): ids of up to 8 bytes are read from the Arrow buffer as
   digits of a mixed-radix number (one digit per byte position, its range
   the bytes found there; no hashing); longer ids are dictionary-encoded and
   the distinct ids sorted; integer ids are ranked by their decimal strings;
   categories by their strings.
2. Days are counted from the earliest purchase (int32, floored block by
   block from the raw ticks). Per customer the first and the last purchase
   day are ``np.minimum.at`` / ``np.maximum.at`` into tables of R entries
   (no row sort); the distinct days strictly between them come from a
   bitmap check of those rows (a sort only for customers with two such rows
   on one day, see ``_distinct_middle_days``).
3. The amounts of the first day and of the later days are summed per
   customer in one ``np.add.at`` pass (the later days' sum directly, so
   repeat days that cancel give exactly 0); revenue is the two sums' total.

Column-sized temporaries are few and reused: at 1e6 rows, mapping fresh
memory costs about as much as the arithmetic.

Same result, row order and dtypes as the DuckDB engine (tested; money sums
may differ in the last bits, as sums in any other order do). Frames this
engine does not take (float, boolean or mixed object ids, times that are not
tz-naive ``datetime64``, non-numeric amounts, an empty result) get ``None``
and go to the DuckDB engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._common import BLOCK, KeyColumns, Window, byte_ranges, ids_as_index, string_layout, with_attrs

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
    n = len(values)
    offsets, data, width = string_layout(values)
    if width is not None and 0 < width <= 8:  # one fixed width
        lo = int(offsets[0])
        return data[lo : lo + n * width].reshape(n, width), True
    if width is not None and width > 8:
        return None
    lengths = np.diff(offsets).astype(np.int64)
    hi = int(lengths.max())
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
    R would exceed ``limit``. The keys are int64 (every key is below R).
    """
    low_bytes, high_bytes = byte_ranges(matrix)
    lo = [int(b) for b in low_bytes]
    width = [int(h) - low + 1 for h, low in zip(high_bytes, lo)]
    total = 1
    for w in width:
        total *= w
        if total > limit:
            return None
    # sum_j (c_j - lo_j) * place_j as sum_j c_j * place_j - sum_j lo_j * place_j: one subtraction at the end.
    # The partial sums may leave [0, R); unsigned arithmetic wraps modulo 2**32 (2**64), so the result,
    # which lies in [0, R), is exact.
    # 32-bit arithmetic where R allows (faster), in a block buffer that stays in cache; the keys themselves
    # are int64, the index type of the tables they address (numpy converts narrower indices on every gather)
    unsigned = np.uint32 if total <= _INT32_MAX else np.uint64
    n = matrix.shape[0]
    keys = np.empty(n, dtype=np.int64)
    buffer = np.empty(min(BLOCK, n), dtype=unsigned)
    digits = [(j, unsigned(w)) for j, w in enumerate(width) if w > 1]
    base = 0
    for j, _ in digits:
        base = base * width[j] + lo[j]
    base_mod = unsigned(base % (1 << (8 * buffer.itemsize)))
    for s in range(0, n, BLOCK):
        block, rows = buffer[: min(BLOCK, n - s)], matrix[s : s + BLOCK]
        block.fill(0)
        for j, w in digits:  # block = block * w + c, in place
            np.multiply(block, w, out=block)
            np.add(block, rows[:, j], out=block, casting="unsafe")
        np.subtract(block, base_mod, out=block)
        keys[s : s + len(block)] = block
    return keys, total, lo, width


def _strings_of_keys(keys: np.ndarray, lo: list[int], width: list[int], fixed: bool) -> pa.Array:
    """The strings of mixed-radix ``keys`` (decoded digit by digit; no gather of strings)."""
    n = len(keys)
    block = np.empty((n, len(width)), dtype=np.uint8)
    rest = keys.astype(np.int32 if math.prod(width) <= _INT32_MAX else np.int64)
    quotient = np.empty_like(rest)
    for j in range(len(width) - 1, -1, -1):
        if width[j] > 1:  # floor_divide by a scalar is vectorised (np.divmod is not): digit = rest - w * (rest // w)
            np.floor_divide(rest, width[j], out=quotient)
            rest -= quotient * width[j]
            np.add(rest, lo[j], out=block[:, j], casting="unsafe")
            rest, quotient = quotient, rest
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
    times = ts.to_numpy()
    per_day = _ticks_per_day(times.dtype)
    if per_day is None:  # e.g. datetime64[M]: calendar days through numpy's conversion
        times, per_day = times.astype("datetime64[D]"), 1
    raw = times.view(np.int64)
    end_day = (window.end - pd.Timestamp(0)).days
    start_day = None if window.start is None else (window.start - pd.Timestamp(0)).days
    found = _customer_keys(tx[cols.customer])
    if found is None:
        return None
    keys, n_keys, ids = found
    # numpy converts any other index type to intp on each gather / ufunc.at (7 ms instead of 1.3 ms for a
    # gather of 1e6 rows): one conversion here serves all of them
    keys = keys.astype(np.intp, copy=False)
    amount = amount_col.to_numpy(dtype=np.float64)
    # rows in the window: compared on the raw ticks (day <= end  <=>  tick < (end + 1) * per_day)
    below_end = (end_day + 1) * per_day
    at_start = None if start_day is None else start_day * per_day
    if not (int(raw.max()) < below_end and (at_start is None or int(raw.min()) >= at_start)):
        keep = raw < below_end
        if at_start is not None:
            keep &= raw >= at_start
        rows = np.flatnonzero(keep)
        if len(rows) == 0:
            return None
        keys, raw, amount = keys[rows], raw[rows], amount[rows]
    d0 = int(raw.min()) // per_day  # floor: days before 1970 count back from the day's start
    span = int(raw.max()) // per_day - d0 + 1
    offset = _day_offsets(raw, per_day, d0)
    present, n_days, first, last, revenue, repeat_amount = _aggregate(keys, n_keys, offset, span, amount)
    frequency = n_days
    frequency -= 1
    monetary = np.zeros(len(present), dtype=np.float64)
    np.divide(repeat_amount, frequency, out=monetary, where=frequency > 0)
    unit = window.unit
    recency = np.subtract(last, first, dtype=np.float64)
    recency /= unit
    T = np.subtract(end_day - d0, first, dtype=np.float64)
    T /= unit
    first_purchase = first.astype(np.int64)
    first_purchase += d0
    first_purchase *= _NS_PER_DAY
    df = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "monetary_value": monetary,
            "revenue": revenue,
            "first_purchase": first_purchase.view("datetime64[ns]"),
        },
        index=ids_as_index(ids(present)),
        copy=False,  # the columns are new arrays: no copy into consolidated blocks
    )
    return with_attrs(df, window.attrs)


_NS_PER_DAY = 86_400 * 10**9
_TICKS = {"h": 24, "m": 1_440, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": _NS_PER_DAY, "D": 1}


def _ticks_per_day(dtype: np.dtype) -> int | None:
    """Ticks of a ``datetime64`` dtype per day (``datetime64[us]``: 86,400,000,000), or None for coarser units."""
    unit, count = np.datetime_data(dtype)
    ticks = _TICKS.get(unit)
    return ticks // count if ticks is not None and ticks % count == 0 else None


def _day_offsets(raw: np.ndarray, per_day: int, d0: int) -> np.ndarray:
    """``floor(raw / per_day) - d0`` as int32, block by block (no 64-bit array of all rows)."""
    n = len(raw)
    offset = np.empty(n, dtype=np.int32)
    step = np.empty(min(BLOCK, n), dtype=np.int64)
    for s in range(0, n, BLOCK):
        e = min(s + BLOCK, n)
        t = np.floor_divide(raw[s:e], per_day, out=step[: e - s])
        np.subtract(t, d0, out=t)
        offset[s:e] = t
    return offset


def _aggregate(
    keys: np.ndarray, n_keys: int, offset: np.ndarray, span: int, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer present (ascending key): key, purchase days, first and last day, revenue, repeat days' amount.

    Parameters
    ----------
    keys : ndarray of int32 or int64, shape (n,)
        Customer keys in ``[0, n_keys)``.
    n_keys : int
        Key range R (tables of this length are allocated).
    offset : ndarray of int32, shape (n,)
        Purchase day of each row, counted from the earliest (in ``[0, span)``).
    span : int
        Number of days from the earliest to the latest purchase.
    amount : ndarray of float64, shape (n,)
        Amounts.

    Returns
    -------
    tuple of ndarray, each of shape (number of customers present,)
        Keys (int64, ascending), number of distinct purchase days (int64),
        first and last purchase day (int32, as ``offset``), revenue and the
        amount of the days after the first (float64).

    Notes
    -----
    No row sort: the first and last day are ``np.minimum.at`` / ``np.maximum.at``
    per key; the days strictly between them ("middle" rows, about half the
    rows of typical data) are deduplicated by :func:`_distinct_middle_days`.
    One ``np.add.at`` over the rows (in row order) sums each key's first-day
    amounts and its later days' amounts apart (slots ``2 * key`` and
    ``2 * key + 1``); revenue is their sum. The repeat days' amount is thus
    summed directly, not as revenue minus the first day, so repeat days that
    cancel (a return of an earlier repeat purchase) give exactly 0 and not a
    rounding residue of the first day.
    """
    n = len(keys)
    lo = np.full(n_keys, span, dtype=np.int32)
    np.minimum.at(lo, keys, offset)
    hi = np.full(n_keys, -1, dtype=np.int32)
    np.maximum.at(hi, keys, offset)
    # one row-sized scratch buffer serves in turn as each row's first and last day and as the sums' index
    # (fresh memory costs page faults on every call: as much as the arithmetic at this size)
    first_last = np.empty((n_keys, 2), dtype=np.int32)  # the two days of a key side by side: one 8-byte gather
    first_last[:, 0], first_last[:, 1] = lo, hi
    # mode="clip": the keys are valid indices; the default mode="raise" copies through a buffer when given out=
    scratch = np.take(first_last.view(np.int64).ravel(), keys, out=np.empty(n, dtype=np.int64), mode="clip")
    days = scratch.view(np.int32).reshape(n, 2)  # tables of 8 R bytes: the gathers stay in cache
    later = offset != days[:, 0]
    inside = offset != days[:, 1]
    inside &= later
    # the amounts of the first day and of the later days in one pass: slot 2 * key + later
    slot = np.multiply(keys, 2, out=scratch, casting="unsafe")
    slot += later
    sums = np.zeros((n_keys, 2), dtype=np.float64)
    np.add.at(sums.ravel(), slot, amount)
    del scratch, days, slot
    repeat_amount = sums[:, 1]
    revenue = sums[:, 0] + repeat_amount
    rows = np.flatnonzero(inside)  # strictly between the key's first and last day
    del later, inside
    present = np.flatnonzero(hi >= 0)
    lo_p, hi_p = lo[present], hi[present]
    n_days = np.where(hi_p > lo_p, 2, 1)
    if len(rows):
        middle_keys = keys[rows]
        rel = offset[rows]
        rel -= lo[middle_keys]
        rel -= 1
        del rows
        n_days += _distinct_middle_days(middle_keys, rel, lo, hi, span)[present]
    return present, n_days, lo_p, hi_p, revenue[present], repeat_amount[present]


#: The bitmap of :func:`_distinct_middle_days` is used while it has at most this many 64-bit words per row
#: (plus 1,024), else the rows are sorted (tests set it below 0 to check the sort against the bitmap).
_BITMAP_WORDS_PER_ROW = 4


def _distinct_middle_days(
    keys: np.ndarray, rel: np.ndarray, lo: np.ndarray, hi: np.ndarray, span: int
) -> np.ndarray:
    """Per key, the number of distinct days among rows strictly between the key's first and last day.

    Parameters
    ----------
    keys : ndarray of int, shape (m,)
        Keys of the middle rows.
    rel : ndarray of int32, shape (m,)
        Their day minus the key's first day minus 1 (in ``[0, hi - lo - 1)``).
    lo, hi : ndarray of int32, shape (R,)
        First and last day offset per key.
    span : int
        Number of days covered (all offsets are in ``[0, span)``).

    Returns
    -------
    ndarray of int64, shape (R,)

    Notes
    -----
    A bitmap check: each key with middle rows gets its own whole 64-bit words
    for the days ``lo + 1 .. hi - 1`` and each row *adds* its day's bit
    (``np.add.at``, which numpy runs about ten times faster than
    ``np.bitwise_or.at``). Adding a power of two raises a word's popcount by
    one if that bit was clear and carries (the popcount does not rise)
    otherwise, so a key's words have as many bits set as the key has middle
    rows exactly when no two of its rows share a day; its count is then its
    number of rows. The rows of the other keys (same-day purchases among the
    middle days) are counted by sorting ``key * span + rel`` and counting
    the distinct values, as are all rows when the words would be many more
    than the rows (long gaps between first and last day with few rows
    between) or without ``np.bitwise_count`` (numpy < 2).
    """
    n_keys, m = len(lo), len(keys)
    counts = np.bincount(keys, minlength=n_keys)  # middle rows per key: the count of a key without repeated days
    owners = np.flatnonzero(counts)
    if not hasattr(np, "bitwise_count"):
        return _sorted_distinct(keys, rel, n_keys, span)
    n_words = hi[owners] - lo[owners]  # ceil((hi - lo - 1) / 64) words; hi - lo >= 2 for owners
    n_words -= 2
    n_words >>= 6
    n_words += 1
    total = int(n_words.sum(dtype=np.int64))
    if total > _BITMAP_WORDS_PER_ROW * m + 1024:
        return _sorted_distinct(keys, rel, n_keys, span)
    start = np.zeros(n_keys, dtype=np.intp)  # first word of each owner (intp: the index type of np.add.at)
    start[owners[1:]] = np.cumsum(n_words[:-1], dtype=np.intp)
    word = start[keys]
    word += rel >> 6
    bit = (rel & 63).astype(np.uint64)
    np.left_shift(np.uint64(1), bit, out=bit)
    words = np.zeros(total, dtype=np.uint64)
    np.add.at(words, word, bit)
    ends = np.empty(len(owners), dtype=np.int64)  # one past each owner's last word (owners' words are consecutive)
    ends[:-1] = start[owners[1:]]
    ends[-1] = total
    bits = np.diff(np.cumsum(np.bitwise_count(words), dtype=np.int64)[ends - 1], prepend=0)  # bits set per owner
    repeated = owners[bits != counts[owners]]  # keys with two middle rows on one day
    if len(repeated):
        dirty = np.zeros(n_keys, dtype=bool)
        dirty[repeated] = True
        rows = np.flatnonzero(dirty[keys])
        counts[repeated] = _sorted_distinct(keys[rows], rel[rows], n_keys, span)[repeated]
    return counts


def _sorted_distinct(keys: np.ndarray, rel: np.ndarray, n_keys: int, span: int) -> np.ndarray:
    """Per key, the number of distinct ``rel`` values (in ``[0, span)``): sort ``key * span + rel``, count changes."""
    if len(keys) == 0:
        return np.zeros(n_keys, dtype=np.int64)
    small = n_keys * span <= _INT32_MAX  # 32-bit values sort about twice as fast
    pairs = np.multiply(keys, span, dtype=np.int32 if small else np.int64, casting="unsafe")
    pairs += rel
    pairs.sort()
    new = np.empty(len(pairs), dtype=bool)
    new[0] = True
    np.not_equal(pairs[1:], pairs[:-1], out=new[1:])
    return np.bincount(pairs[new] // pairs.dtype.type(span), minlength=n_keys).astype(np.int64)
