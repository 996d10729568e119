"""Input checks of the CLV models: customer summaries, weights, horizons.

Every check raises :class:`ValueError` naming the column or parameter, the
offending value(s) or their count, and what the model expects. The
functions are shared by every model of :mod:`crm_analysis.clv`;
:func:`collapse_rows` reduces the validated rows to their distinct values
with counts (the likelihoods are evaluated on those).
"""

from __future__ import annotations

import warnings

from crm_analysis.exceptions import CRMAnalysisWarning, InputError, shown
from crm_analysis._validate import check_columns

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "TransactionData",
    "as_frame",
    "as_weights",
    "check_discount_rate",
    "check_margin",
    "check_times",
    "warn_unused_count_column",
    "check_transaction_data",
    "check_unique_columns",
    "collapse_rows",
    "data_moments",
    "distinct_values",
    "numeric_column",
    "refuse_recency_without_repeat",
    "refuse_rows",
    "row_labels",
    "spend_exclusions_by_reason",
    "spend_of_repeat_buyers",
]


def as_weights(data: pd.DataFrame, weights: Any) -> np.ndarray:
    """Per-row weights from ``None``, a column name or an array-like."""
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        check_columns({"weights": weights}, data.columns, table="data")
        check_unique_columns(data, [weights])
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(data),):
        raise InputError(f"weights must have one value per row ({len(data)}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError("weights must be finite and non-negative")
    return w


def numeric_column(data: pd.DataFrame, col: str, what: str, *, allow_bool: bool = False, allow_nan: bool = False) -> np.ndarray:
    """Column ``col`` of ``data`` as a float array: numbers (or numeric strings), finite (``allow_nan``: or missing, NaN).

    Dates and durations (``datetime64``, ``timedelta64``) are refused, not read as nanoseconds (findings_12d: a ``T``
    of dates fitted silently to nonsense); so are booleans unless ``allow_bool`` (covariates).

    Raises
    ------
    InputError
        Missing or duplicated column (:func:`check_unique_columns`), dates or durations, booleans (unless
        ``allow_bool``), values not numeric, or missing / non-finite values; the message names the column.
    """
    check_columns({f"{what} column": col}, data.columns, table="data")
    s = _column_values(data, col)
    if isinstance(s, pd.DataFrame):  # the label names several columns (pandas gives a table, not a Series)
        check_unique_columns(data, [col])
    kind = getattr(s.dtype, "kind", "")
    if kind in ("M", "m"):
        raise InputError(
            f"{what} column {col!r} holds {'durations' if kind == 'm' else 'dates'} ({s.dtype}); it must be a number "
            "of time units (e.g. weeks since the customer's first purchase): build the summary with "
            "crm_analysis.rfm.rfm_summary, or convert, e.g. (end - first_purchase) / pd.Timedelta(weeks=1)"
        )
    if kind == "b" and not allow_bool:
        raise InputError(f"{what} column {col!r} is boolean (True/False); it must hold numbers (counts, times or amounts)")
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":  # plain numpy column: no conversion needed
        arr = s.to_numpy(dtype=float) if isinstance(s, pd.Series) else np.asarray(s, dtype=float)
        if arr is s:  # the frame's own float array: a read-only view, as Series.to_numpy gives under copy-on-write
            arr = arr.view()
            arr.flags.writeable = False
    else:
        arr = None
    try:
        if arr is None:
            if not isinstance(s, pd.Series):
                s = data[col]
            arr = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} column {col!r} is not numeric") from exc
    n_bad = int((~(np.isfinite(arr) | (allow_nan & np.isnan(arr)))).sum())
    if n_bad:
        raise InputError(f"{what} column {col!r} has {n_bad} {'non-finite' if allow_nan else 'missing or non-finite'} value(s)")
    return arr


def check_unique_columns(data: pd.DataFrame, columns: Sequence[Any], *, table: str = "data") -> None:
    """Refuse duplicated labels among the ``columns`` a caller reads from ``data``, naming them and the fix.

    ``data[col]`` of a label that names two columns (e.g. ``pd.concat([d, d[["frequency"]]], axis=1)``) is a
    DataFrame, not a column: the checks then failed with a bare ``AttributeError`` (issue #12). Other duplicated
    labels, which the caller does not read, are let be. Costs nothing where the labels are unique (pandas caches
    ``Index.is_unique``).

    Raises
    ------
    InputError
        A label of ``columns`` stands for more than one column of ``data``.
    """
    labels = data.columns
    if labels.is_unique:
        return
    dup = labels[labels.duplicated()]
    named = [c for c in dict.fromkeys(columns) if c in dup]
    if named:
        counts = ", ".join(f"{c!r} ({int((labels == c).sum())} times)" for c in named)
        raise InputError(
            f"duplicated column label(s) in {table}: {counts}; each column read must be one column. Drop or rename "
            "the duplicates, e.g. d = d.loc[:, ~d.columns.duplicated()] (keeps the first of each label)"
        )


def _column_values(data: pd.DataFrame, col: str) -> Any:
    """The values of column ``col`` of ``data`` (a numpy or pandas extension array), without building a Series.

    ``data[col]`` builds a Series (~10-40 us each, a third to a half of :func:`check_transaction_data` on the
    CDNOW sample); pandas' column-array accessor (``DataFrame._get_column_array``, private) returns the same
    values. Where it is missing (another pandas) or the label is not unique, ``data[col]`` (a Series, which the
    callers handle as well).
    """
    getter = getattr(data, "_get_column_array", None)
    if getter is not None:
        loc = data.columns.get_loc(col)
        if isinstance(loc, int):
            return getter(loc)
    return data[col]


def spend_of_repeat_buyers(data: pd.DataFrame, x: np.ndarray, m: np.ndarray, col: str) -> tuple[np.ndarray, int]:
    """Mean spend ``m`` (NaN allowed) with the missing values of customers without repeat purchases set to 0, and their number.

    The spend models are fitted on the repeat buyers only (``x > 0``); a missing mean spend of the others (there is
    no repeat purchase to average) is left out with them (findings_12d claim 5: it was refused). A missing value of
    a repeat buyer is an error naming the rows and the fix.

    Raises
    ------
    InputError
        ``m`` is missing (NaN) where ``x > 0``.
    """
    missing = np.isnan(m)
    bad = missing & (x > 0)
    if bad.any():
        raise InputError(
            f"monetary_value column {col!r} is missing (NaN) for {int(bad.sum())} customer(s) with repeat purchases "
            f"(rows {row_labels(data.index, bad)}): their mean repeat-purchase value is what the spend model is fitted "
            "on. Fill it in (crm_analysis.rfm.rfm_summary computes it) or drop those customers"
        )
    return (np.where(missing, 0.0, m) if missing.any() else m), int(missing.sum())


#: ``exclusions_`` reason of the Gamma-Gamma models: customers without repeat purchases (left out of the fit)
SPEND_NO_REPEAT_REASON = "no repeat purchases (frequency == 0)"
#: ``exclusions_`` reason: those of them whose mean spend is missing (NaN; allowed there, refused for repeat buyers)
SPEND_MISSING_REASON = "of which monetary value missing (NaN)"


def spend_exclusions_by_reason(x: np.ndarray, n_missing: int) -> dict[str, int]:
    """The ``exclusions_`` of :class:`~crm_analysis.clv.GammaGammaModel` and its covariate twin: customers left out.

    Parameters
    ----------
    x : numpy.ndarray
        Repeat purchases per row (validated, ``>= 0``).
    n_missing : int
        Rows without repeat purchases whose mean spend is missing (the count :func:`spend_of_repeat_buyers` returns).

    Returns
    -------
    dict
        ``{SPEND_NO_REPEAT_REASON: rows with x == 0}`` and, where ``n_missing > 0``, ``{SPEND_MISSING_REASON:
        n_missing}`` (a part of the first count, not an extra reason).
    """
    out = {SPEND_NO_REPEAT_REASON: int((~(x > 0)).sum())}
    if n_missing:
        out[SPEND_MISSING_REASON] = int(n_missing)
    return out


def check_times(t: Any, *, scalar: bool = False, keep_shape: bool = False, name: str = "t") -> Any:
    """Validate prediction horizons: finite and non-negative.

    Parameters
    ----------
    t : float or array-like
        Horizon(s).
    scalar : bool, default False
        Require a single number and return it as ``float``.
    keep_shape : bool, default False
        Return an array of the shape of ``t`` (otherwise 1-D).
    name : str
        Name used in error messages.

    Raises
    ------
    ValueError
        Non-numeric, NaN, infinite or negative values, or an array where a
        number is required.
    """
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number or an array of numbers (time units of the model), got {shown(t)}") from exc
    if scalar and arr.ndim != 0:
        raise InputError(f"{name} must be a single number here, got an array of shape {arr.shape} (use expected_purchases_grid)")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise InputError(f"{name} must be finite and >= 0, got {arr[bad].ravel()[:3].tolist()}")
    if scalar:
        return float(arr)
    return arr if keep_shape else arr.ravel()


class TransactionData:
    """Validated ``(x, t_x, T)`` arrays of a customer summary.

    Parameters
    ----------
    x, t_x, T : numpy.ndarray
        Repeat purchases, time of last purchase, time since first purchase.
    """

    __slots__ = ("x", "t_x", "T")

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
        self.x = x
        self.t_x = t_x
        self.T = T

    def __len__(self) -> int:
        return len(self.x)


#: the summary columns' default names: a Series whose index holds one of them is taken for a row of a summary
_SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value", "n_periods")


def _series_message(data: pd.Series, what: str, columns: Sequence[str]) -> str:
    """Why a Series is not a customer summary, and what to pass: one customer's row, or one column (issue #12)."""
    names = list(dict.fromkeys([*columns, *_SUMMARY_COLUMNS]))
    try:
        is_row = bool(data.index.isin(names).any())
    except (TypeError, ValueError):  # an index that cannot be compared with strings: not a row of named columns
        is_row = False
    if is_row:
        by_label = f"d.loc[[{data.name!r}]] (this row's label) or " if data.name is not None else ""
        return (
            f"{what} is one customer's row as a Series (labels {list(map(str, data.index[:6]))}"
            f"{' ...' if len(data) > 6 else ''}: what d.iloc[i] or d.loc[label] give); the models take a table of "
            f"customers: pass a one-row DataFrame, with double brackets: {by_label}d.iloc[[i]] (by position)"
        )
    wanted = list(dict.fromkeys(columns)) or ["frequency", "recency", "T"]
    return (
        f"{what} is a Series: one column ({data.name!r}, {len(data)} value(s)), not the table of customers; pass the "
        f"DataFrame with all the columns the model reads, e.g. d or d[{wanted!r}]"
    )


def as_frame(data: Any, *, what: str = "data", columns: Sequence[str] = ()) -> pd.DataFrame:
    """``data`` as a DataFrame: a DataFrame as it is, a mapping of columns (or anything pandas reads as a table) converted.

    Parameters
    ----------
    data : pandas.DataFrame, mapping of column -> array, or array of records
        The customer summary (or the model's table) passed to ``fit`` / a prediction.
    what : str, default "data"
        The argument's name in the error message.
    columns : sequence of str, optional
        The columns the caller reads, for the message about a Series (a row holds them in its index).

    Returns
    -------
    pandas.DataFrame
        ``data`` itself when it is one.

    Raises
    ------
    InputError
        ``data`` is None, a tuple (e.g. ``(data, truth)`` passed whole; pandas failed with "inhomogeneous shape"), a
        Series (one customer's row, ``d.iloc[3]``: pass ``d.iloc[[3]]``; or one column: pass the table) or
        anything pandas cannot read as a table. (A list of arrays ``[x, t, T]`` is read as rows; the missing-column
        check then says so: :func:`crm_analysis._validate.check_columns`.)
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):  # pandas would read it as one column, and the column check then misleads
        raise InputError(_series_message(data, what, columns))
    if data is None:
        raise InputError(f"{what} is None: pass a DataFrame or a dict of named columns, e.g. {{'frequency': ..., ...}}")
    if isinstance(data, tuple):
        raise InputError(
            f"{what} must be a DataFrame (or a dict of its columns), got a tuple of {len(data)} item(s): pass the "
            "DataFrame itself (e.g. d, truth = make_data(); model.fit(d))"
        )
    try:
        return pd.DataFrame(data)
    except (ValueError, TypeError) as err:
        raise InputError(
            f"{what} must be a DataFrame (or a dict of its columns); pandas cannot read the {type(data).__name__} "
            f"given as a table ({err})"
        ) from None


#: recency, relative to the longest ``T``, at or below which a repeat buyer's recency counts as float noise of 0
#: for a fit where at least :data:`RECENCY_NOISE_SHARE` of the repeat buyers have one (findings_n13: 1e-9 or the
#: float noise 5.6e-17 of a same-time purchase for every repeat buyer gave log-likelihood +14,584 silently); a
#: single tiny recency is possible in continuous time and is fitted
RECENCY_ZERO_RTOL = 1e-6
#: share of the repeat buyers with a recency at or below :data:`RECENCY_ZERO_RTOL` of the longest ``T`` that is
#: refused as float noise (recency 0 exactly is refused for any number of rows)
RECENCY_NOISE_SHARE = 0.25


def check_transaction_data(
    data: pd.DataFrame,
    *,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    fit: bool = False,
) -> TransactionData:
    """Validate a summary table in the Fader-Hardie conventions.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer.
    frequency_col, recency_col, T_col : str
        Column names of the number of repeat purchases ``x``, the time of the
        last repeat purchase ``t_x`` (0 when ``x = 0``) and the time since the
        first purchase ``T``.
    fit : bool, default False
        The table is to be fitted on: repeat buyers with recency 0 are refused
        too (below).

    Returns
    -------
    TransactionData
        The validated arrays.

    Raises
    ------
    ValueError
        Missing columns, NaN or infinite values, negative values, non-integer
        frequencies, recency greater than ``T``, positive recency with zero
        frequency; with ``fit``, recency 0 with a positive frequency, or a recency below
        :data:`RECENCY_ZERO_RTOL` times the longest ``T`` for at least :data:`RECENCY_NOISE_SHARE` of the repeat
        buyers (float noise of same-time purchases): the likelihood
        is unbounded there (the message names the rows and the fix). Predictions take such rows (their formulas
        are defined at ``t_x = 0``: ``p_alive_matrix``'s grid starts there).
    """
    data = as_frame(data, columns=(frequency_col, recency_col, T_col))
    # all three named at once (a list of arrays read as rows lacks them all: the message then shows the dict to pass)
    check_columns({"frequency column": frequency_col, "recency column": recency_col, "T column": T_col}, data.columns,
                  table="data")
    x = numeric_column(data, frequency_col, "frequency")
    t_x = numeric_column(data, recency_col, "recency")
    T = numeric_column(data, T_col, "T")
    for arr, col, what in ((x, frequency_col, "frequency"), (t_x, recency_col, "recency"), (T, T_col, "T")):
        refuse_rows(data, arr < 0, "negative value(s)", "counts and times since the first purchase are >= 0; check "
                    "how the column was computed", subject=f"{what} column {col!r}")
    refuse_bad_frequency(data, x, frequency_col)  # non-integer (negative ones are refused just above)
    refuse_rows(data, t_x > T + 1e-9 * np.maximum(T, 1.0), f"recency ({recency_col!r}) greater than T ({T_col!r})",
                "both are measured from the customer's first purchase, recency to the last purchase and T to the end "
                "of the observation period, so recency <= T; check that both use the same origin and time unit")
    refuse_recency_without_repeat(data, x, t_x, recency_col)
    same = None
    if fit:
        rep = x > 0
        same = rep & (t_x == 0)
        tiny = rep & (t_x <= RECENCY_ZERO_RTOL * (float(T.max()) if T.size else 0.0))
        # a tiny recency is possible in continuous time (a repeat purchase 3.5e-6 weeks after the first among 6,000
        # simulated customers); float noise of same-time purchases makes many of them
        if tiny.sum() >= RECENCY_NOISE_SHARE * max(int(rep.sum()), 1):
            same = tiny
    if same is not None and same.any():
        # findings_12d claim 5: such rows make the likelihood unbounded (alpha -> 0; BG/NBD log-likelihood +20,940
        # where every repeat buyer was so), and 1-5 of them fitted silently
        raise InputError(
            f"{int(same.sum())} row(s) have frequency ({frequency_col!r}) > 0 but recency ({recency_col!r}) 0 "
            f"(or below {RECENCY_ZERO_RTOL:g} of the longest T: float noise) "
            f"(rows {row_labels(data.index, same)}): the likelihood is unbounded there (the fit would run to alpha "
            "-> 0 with a positive log-likelihood); recency is the time from the first to the last purchase; a "
            "repeat purchase in the same period as the first cannot be told apart: build the summary with "
            "crm_analysis.rfm's summary (rfm_summary: it counts purchases in distinct periods) or use a finer time unit"
        )
    return TransactionData(x, np.minimum(t_x, T), T)


def refuse_rows(data: pd.DataFrame, mask: np.ndarray, problem: str, fix: str, *, subject: str | None = None) -> None:
    """Raise an :class:`InputError` naming the rows of ``data`` where ``mask`` holds (if any), the problem and the fix.

    The one wording of the summary checks (continuous :func:`check_transaction_data` and the discrete BG/BB's
    :func:`~crm_analysis.clv.check_discrete_data`): ``"<subject> has <k> <problem> (rows <labels>): <fix>"``, or
    without ``subject`` ``"<k> row(s) have <problem> (rows <labels>): <fix>"``; the labels are the first five
    (:func:`row_labels`).

    Raises
    ------
    InputError
        Where ``mask`` holds for at least one row.
    """
    k = int(np.count_nonzero(mask))
    if k:
        head = f"{subject} has {k} {problem}" if subject else f"{k} row(s) have {problem}"
        raise InputError(f"{head} (rows {row_labels(data.index, mask)}): {fix}")


def refuse_bad_frequency(data: pd.DataFrame, x: np.ndarray, frequency_col: str) -> None:
    """Refuse a negative or non-integer frequency (the number of repeat purchases), naming the rows (spend paths, plots).

    Raises
    ------
    InputError
        Naming the column, the rows and the fix (:func:`refuse_rows`).
    """
    subject = f"frequency column {frequency_col!r}"
    refuse_rows(data, x < 0, "negative value(s)", "frequency is the number of repeat purchases, >= 0", subject=subject)
    refuse_rows(data, x != np.round(x), "non-integer value(s)", "frequency is the number of repeat purchases",
                subject=subject)


def refuse_recency_without_repeat(data: pd.DataFrame, x: np.ndarray, t_x: np.ndarray, recency_col: str) -> None:
    """Refuse a positive recency where frequency is 0 (recency is 0 without repeat purchases; continuous and BG/BB).

    Raises
    ------
    InputError
        Naming the rows and the fix (:func:`refuse_rows`).
    """
    refuse_rows(data, (x == 0) & (t_x > 0), f"frequency 0 but positive recency ({recency_col!r})",
                "in the Fader-Hardie convention recency is 0 for customers without repeat purchases (the time, or "
                "opportunity, of the last repeat purchase): set it to 0 there, or check the frequency")


def row_labels(index: pd.Index, mask: np.ndarray, first: int = 5) -> str:
    """The labels of the first ``first`` rows of ``index`` where ``mask`` holds, for messages (``"3, 17, 42 and 5 more"``)."""
    where = np.flatnonzero(mask)
    shown_labels = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in index[where[:first]])
    return shown_labels + (f" and {where.size - first} more" if where.size > first else "")


def check_discount_rate(value: Any, name: str = "discount_rate", *, per: str = "year", allow_zero: bool = True) -> float:
    """A discount rate as a fraction per ``per``: finite, ``>= 0`` (``> 0`` without ``allow_zero``) and below 1.

    A rate of 1 or more (100 % or more per period) is refused as the
    likely slip of a percentage (``10`` for 10 %), which would be taken as
    1,000 % and shrink every discounted value silently.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise InputError(f"{name} must be a finite rate per {per}, e.g. 0.1 for 10 %; got {shown(value)}")
    value = float(value)
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError(f"{name} must be a {'' if allow_zero else 'positive '}rate per {per}"
                         f"{' >= 0' if allow_zero else ''}, e.g. 0.1 for 10 %; got {shown(value)}")
    if value >= 1:
        raise InputError(
            f"{name} = {value:g} is {value:.0%} per {per}: a percentage given as a number? Give the rate as a fraction, "
            f"e.g. 0.1 for 10 % (rates of 100 % or more per {per} are refused)"
        )
    return value


def check_margin(value: Any, name: str = "margin") -> float:
    """A profit margin as a share of revenue in ``(0, 1]``; e.g. ``30`` (a percentage) is refused with the fix."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise InputError(f"{name} must be a finite share of revenue, e.g. 0.3 for 30 %; got {shown(value)}")
    value = float(value)
    if not 0 < value <= 1:
        hint = " (a percentage given as a number? give 0.3 for 30 %)" if value > 1 else ""
        raise InputError(f"{name} must be a share of revenue in (0, 1], e.g. 0.3 for 30 %; got {value:g}{hint}")
    return value


#: column names that usually count the customers of a row of an aggregated table
COUNT_COLUMN_NAMES = ("weights", "weight", "count", "counts", "n_customers", "customers", "donors", "num_customers")


def warn_unused_count_column(data: pd.DataFrame, weights: Any, model: str) -> None:
    """Warn when ``weights`` is not given but ``data`` has a column that looks like customers per row.

    An aggregated table (``donations.csv``, the output of
    :func:`~crm_analysis.clv.survival_to_renewals`) fitted without its counts
    treats each row as one customer: a different data set, fitted without
    any error.
    """
    if weights is not None:
        return
    for name in COUNT_COLUMN_NAMES:
        if name in data.columns and pd.api.types.is_numeric_dtype(data[name]) and not pd.api.types.is_bool_dtype(data[name]):
            values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
            if np.all(np.isfinite(values)) and np.all(values >= 0) and np.any(values > 1):
                warnings.warn(
                    f"{model}: weights not given, so each of the {len(data):,} rows counts as one customer, but the "
                    f"data have a column {name!r} (total {values.sum():,.0f}) that looks like customers per row; if "
                    f"it is, pass weights={name!r}",
                    CRMAnalysisWarning,
                    stacklevel=3,
                )
                return


def data_moments(columns: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted first and second moments of the data columns a model was fitted on (a fingerprint of the data).

    Independent of the row order and of collapsing identical rows, so two
    models fitted on the same customers (one of them with covariate columns
    besides) have equal moments; :func:`~crm_analysis.clv.likelihood_ratio_test`
    compares them.
    """
    w = np.asarray(weights, float)
    cols = [np.asarray(c, float) for c in columns]
    out = [w.sum()] + [w @ c for c in cols]
    out += [w @ (a * b) for i, a in enumerate(cols) for b in cols[i:]]
    return np.asarray(out, float)


def collapse_rows(columns: Sequence[np.ndarray], weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Collapse rows to their distinct values, summing the weights.

    Rows with zero weight are dropped (they do not contribute to the
    likelihood). The distinct rows come out in lexicographic order of the
    columns, whatever the input order.

    Parameters
    ----------
    columns : sequence of numpy.ndarray
        Equal-length columns.
    weights : numpy.ndarray
        Row weights.

    Returns
    -------
    (list of numpy.ndarray, numpy.ndarray)
        The distinct rows (column-wise) and their summed weights.

    Notes
    -----
    Up to ``_SORTED_COLLAPSE_MAX_ROWS`` rows (after dropping zero weights) the rows are sorted
    lexicographically (:func:`_lexicographic_order`) and cut where a column changes
    (:func:`_collapse_sorted`: 2-3 times faster than hashing on a few thousand rows, the size of a
    customer summary such as CDNOW's); beyond, each column is factorised (hash based, codes in
    sorted order of the values) and the codes are combined into one integer key, which is
    factorised again: linear time, no multi-column groupby (:func:`_collapse_hashed`). Both give
    the same arrays bit for bit: the weights are summed by :func:`numpy.bincount` in row order.
    """
    keep = weights > 0
    cols = [np.asarray(c, dtype=float) for c in columns]
    w = np.asarray(weights, dtype=float)
    if not keep.all():
        cols = [c[keep] for c in cols]
        w = w[keep]
    if 0 < len(w) <= _SORTED_COLLAPSE_MAX_ROWS and cols:
        return _collapse_sorted(cols, w)
    return _collapse_hashed(cols, w)


def distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a 1-d float array and the index of each entry into them: ``np.unique(values, return_inverse=True)``.

    The same arrays, in linear time where ``values`` are sorted (no sort then: the first column of
    :func:`collapse_rows`' output, e.g. the frequencies ``x`` of the collapsed rows, and any subset of it in
    order); other float input without NaN is factorised by hashing (:func:`pandas.factorize` with
    ``sort=True``: only the distinct values are sorted), anything else goes to :func:`numpy.unique`. The
    models' ``_prepare`` and the NBD limit's sums take their index structures from it (``np.unique`` sorts all
    values: on the 3,046 distinct rows of Online Retail in days 2-4 times the hashing's time, on the 8,685 of
    CDNOW master 4 times; on sorted input the check and the cut cost ~3-5 us). The one possible difference:
    where ``0.0`` and ``-0.0`` both occur, the distinct zero may carry either sign (``np.unique``'s depends on
    its sort).

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        Float values (a NaN fails the sortedness check and the hashing path's check and goes to ``np.unique``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The sorted distinct values, shape ``(k,)``, and the index of each entry into them, shape ``(n,)``
        (int64).
    """
    v = np.asarray(values)
    if v.ndim == 1 and v.size > 1 and v.dtype == np.float64 and bool((v[1:] >= v[:-1]).all()):
        new = np.empty(v.size, dtype=bool)  # the first entry of each run of equal values (np.unique's mask)
        new[0] = True
        np.not_equal(v[1:], v[:-1], out=new[1:])
        inverse = np.cumsum(new)
        inverse -= 1
        return v[new], inverse
    if v.ndim == 1 and v.dtype == np.float64 and not np.isnan(v).any():
        codes, uniques = pd.factorize(v, sort=True)
        return np.asarray(uniques, dtype=np.float64), codes.astype(np.int64, copy=False)
    return np.unique(v, return_inverse=True)


#: rows up to which :func:`collapse_rows` sorts instead of hashing (the per-column radix sorts of
#: :func:`_lexicographic_order` beat the hashing up to here: CDNOW master's 23,570 rows x 3 columns 1.0 ms against 1.7 ms;
#: the plain lexsort was slower beyond ~2e4 rows)
_SORTED_COLLAPSE_MAX_ROWS = 32768


#: rows above which :func:`_lexicographic_order` sorts column by column (``np.lexsort`` is faster below; above ~3,000
#: rows its time grows far faster than n log n on this kind of machine: Online Retail's 4,338 rows x 3 columns
#: 0.4 ms against 0.2 ms, CDNOW master's 9,450 (frequency, spend) rows 0.9 ms against 0.5 ms)
_LEXSORT_MAX_ROWS = 3000


def _lexicographic_order(cols: list[np.ndarray]) -> np.ndarray:
    """A permutation that sorts the rows of ``cols`` lexicographically (the first column the primary key).

    Equal rows may come in any order: :func:`_collapse_sorted` sums the weights in row order and takes each
    group's values from one of its rows, equal bit for bit. Up to ``_LEXSORT_MAX_ROWS`` rows ``np.lexsort``;
    beyond, a stable sort per column from the last to the first, each by integer keys that numpy sorts by radix
    (``int16``): an integral column with values in ``[0, 32767]`` itself, any other column by its codes in the
    sorted order of its distinct values (:func:`pandas.factorize` with ``sort=True``, where there are at most
    32,767 of them; else its values, a merge sort). Only where every column is free of NaN and of values with the
    sign bit set (``0.0`` and ``-0.0`` compare equal but differ in their bits; NaN rows are each a group of their
    own, whose order would follow the ties); others take ``np.lexsort`` (stable) as below the size.
    """
    if len(cols[0]) <= _LEXSORT_MAX_ROWS or any(bool(np.signbit(c).any() or np.isnan(c).any()) for c in cols):
        return np.lexsort(cols[::-1])
    order = None
    for c in cols[::-1]:
        key = _radix_key(c)
        if order is not None:
            key = key[order]
        step = np.argsort(key, kind="stable")
        order = step if order is None else order[step]
    return order


def _radix_key(c: np.ndarray) -> np.ndarray:
    """Keys in the order of ``c``'s values (``c`` >= 0, no NaN): ``int16`` where that is possible, else ``c``."""
    if float(c.max()) <= 32767.0:
        small = c.astype(np.int16)
        if bool((small == c).all()):  # integral values
            return small
    codes, uniques = pd.factorize(c, sort=True)
    return codes.astype(np.int16) if len(uniques) <= 32767 else c


def _collapse_sorted(cols: list[np.ndarray], w: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`collapse_rows` by a lexicographic sort (``cols`` float, at least one row; ``w`` positive)."""
    order = _lexicographic_order(cols)
    ordered = [c[order] for c in cols]
    new = np.empty(len(w), dtype=bool)  # the first row of each distinct row
    new[0] = True
    np.not_equal(ordered[0][1:], ordered[0][:-1], out=new[1:])
    for c in ordered[1:]:
        new[1:] |= c[1:] != c[:-1]
    group = np.cumsum(new) - 1
    inv = np.empty(len(w), dtype=np.int64)
    inv[order] = group
    counts = np.bincount(inv, weights=w, minlength=int(group[-1]) + 1)
    return [c[new] for c in ordered], counts


def _collapse_hashed(cols: list[np.ndarray], w: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`collapse_rows` by factorising the columns and their combined key (``cols`` float; ``w`` positive)."""
    codes, uniques = [], []
    for c in cols:
        code, uniq = pd.factorize(c, sort=True)
        codes.append(code.astype(np.int64))
        uniques.append(np.asarray(uniq, dtype=float))
    sizes = [max(len(u), 1) for u in uniques]
    if float(np.prod(np.asarray(sizes, dtype=float))) >= 2.0**62:  # key would overflow: plain groupby
        frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})
        frame["w"] = w
        grouped = frame.groupby([f"c{i}" for i in range(len(cols))], sort=True)["w"].sum().reset_index()
        return [grouped[f"c{i}"].to_numpy(dtype=float) for i in range(len(cols))], grouped["w"].to_numpy(dtype=float)
    key = np.zeros(len(w), dtype=np.int64)
    for code, size in zip(codes, sizes):
        key *= size
        key += code
    inv, ukey = pd.factorize(key, sort=True)
    ukey = np.asarray(ukey, dtype=np.int64)
    counts = np.bincount(inv, weights=w, minlength=len(ukey))
    out: list[np.ndarray] = [np.empty(0)] * len(cols)
    rest = ukey
    for i in range(len(cols) - 1, -1, -1):
        rest, code = np.divmod(rest, sizes[i])
        out[i] = uniques[i][code] if len(uniques[i]) else np.empty(0)
    return out, counts
