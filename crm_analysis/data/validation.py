"""Validation and casting of input frames to the canonical schemas.

Every check names the problem it found: the missing column(s) together with
the columns that were found (and a hint about the ``columns=`` mapping), or the
number of offending values with up to five examples (raw value and 0-based row
position). Nothing is dropped here: rows that are merely *suspicious* (returns,
zero prices, missing customers, ...) are the business of
:mod:`crm_analysis.data.cleaning`, which counts what it drops.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputTypeError, shown

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from crm_analysis.data.dates import (
    IntakeChange,
    check_date_orders,
    check_timezone,
    check_date_format_keys,
    date_format_for,
    parse_datetime_column,
)
from crm_analysis.data.errors import MAX_EXAMPLES, DataValidationError, bad_values_message, distinct_examples, DataWarning
from crm_analysis.data.numbers import NumberFormat, parse_numbers
from crm_analysis.data.schema import (
    BOOKING_STATUSES,
    BOOKINGS,
    STRING_DTYPE,
    TRANSACTIONS,
    Schema,
)

__all__ = [
    "STATUS_SYNONYMS",
    "MAX_EXAMPLES",
    "normalise_status",
    "status_key",
    "status_message",
    "missing_status_message",
    "whole_numbers_message",
    "resolve_columns",
    "check_columns",
    "validate_transactions",
    "validate_bookings",
    "conform",
    "ReadOptions",
    "IntakeChange",
    "intake_changes",
    "STRIP_CHARS",
    "as_text",
    "ID_COLUMNS",
    "FLOAT_TEXT_ID",
    "HEADER_HINT_UNNAMED",
    "STRIP_SQL_CLASS",
]

#: Accepted booking status spellings -> canonical status. Keys are compared
#: after :func:`status_key` (lower case, blanks, ``-`` and ``_`` removed), so
#: ``"Check-Out"``, ``"check out"`` and ``"CHECKOUT"`` are the same key.
STATUS_SYNONYMS: dict[str, str] = {
    "stayed": "stayed",
    "stay": "stayed",
    "checkout": "stayed",
    "checkedout": "stayed",
    "checkin": "stayed",
    "checkedin": "stayed",
    "completed": "stayed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "cancel": "cancelled",
    "cancellation": "cancelled",
    "noshow": "no_show",
}


@dataclass
class ReadOptions:
    """How the values of a source are read, and what reading them changed.

    Parameters
    ----------
    dayfirst : bool, optional
        Order of ``dd/mm`` vs ``mm/dd`` dates when a column alone cannot tell
        (see :mod:`crm_analysis.data.dates`).
    date_format : str or mapping, optional
        One ``strftime`` format for every date column, or a mapping from
        canonical or source column name to its format.
    timezone : str, optional
        IANA time zone of the data (offsets and aware values are converted to
        it; default UTC).
    source_names : dict
        Canonical name -> source column name (for messages and per-column formats).
    changes : list of IntakeChange
        Filled while reading: every kind of value changed, with its count.
    numbers : NumberFormat
        How numbers written as text are read (decimal mark, thousands
        separator; :mod:`crm_analysis.data.numbers`).
    orders : dict
        Filled while reading: canonical date column -> the day/month order
        inferred for it (True: day first), to check that the columns of one
        source agree.
    """

    dayfirst: bool | None = None
    date_format: str | Mapping[str, str] | None = None
    timezone: str | None = None
    source_names: dict[str, str] = field(default_factory=dict)
    changes: list[IntakeChange] = field(default_factory=list)
    numbers: NumberFormat = field(default_factory=NumberFormat)
    orders: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dayfirst is not None and not isinstance(self.dayfirst, bool):
            raise DataValidationError(f"dayfirst must be true or false, got {shown(self.dayfirst)}")
        check_timezone(self.timezone)
        date_format_for(self.date_format)  # type check


def intake_changes(df: pd.DataFrame) -> list[IntakeChange]:
    """The value changes recorded when ``df`` was loaded (whitespace stripped, time zones converted).

    Parameters
    ----------
    df : pandas.DataFrame
        A frame returned by :func:`validate_transactions` / :func:`validate_bookings`
        (or a loader); the changes travel in ``df.attrs["intake_changes"]``
        until :func:`crm_analysis.data.clean_transactions` puts them in its report.

    Returns
    -------
    list of IntakeChange
    """
    return [IntakeChange(**c) for c in df.attrs.get("intake_changes", [])]


def status_key(value: str) -> str:
    """Key under which a raw status is looked up in :data:`STATUS_SYNONYMS`.

    Parameters
    ----------
    value : str
        Raw status, e.g. ``"No-Show"``.

    Returns
    -------
    str
        Lower-cased value without blanks, hyphens and underscores (``"noshow"``).
    """
    return re.sub(r"[\s_\-]+", "", str(value)).lower()


def _examples(raw: pd.Series, bad: np.ndarray) -> str:
    """Describe up to :data:`MAX_EXAMPLES` offending values with their row positions."""
    pos = np.flatnonzero(bad)[:MAX_EXAMPLES]
    def show(v: object) -> str:
        if isinstance(v, np.generic):
            v = v.item()
        return repr(v)

    parts = [f"row {int(p)}: {show(raw.iloc[int(p)])}" for p in pos]
    return "; ".join(parts)




def _fail_values(name: str, raw: pd.Series, bad: np.ndarray, what: str, why: str = "") -> None:
    n = int(bad.sum())
    raise DataValidationError(
        f"column {name!r}: {n} value(s) {what}; examples (0-based row position: raw value): "
        f"{_examples(raw, bad)}{why}"
    )


def _norm_name(name: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


# --------------------------------------------------------------------- casts
#: Characters stripped from both ends of text values (ASCII whitespace, no-break
#: spaces and the byte-order mark, which spreadsheets leave behind). The DuckDB
#: path strips the same set (:data:`STRIP_SQL_CLASS`).
STRIP_CHARS = " \t\n\r\x0b\x0c\xa0\u2007\u202f\ufeff"
#: The same set as an RE2 character class, for DuckDB's ``regexp_replace``.
STRIP_SQL_CLASS = r"[ \t\n\r\x{0B}\x{0C}\x{A0}\x{2007}\x{202F}\x{FEFF}]"


#: Canonical id columns: integral numbers written as floats ("17850.0", what a float column
#: exported to text looks like) lose the ".0" there, as float ids do, so one id is one key.
ID_COLUMNS = ("customer_id", "order_id", "booking_id")
#: An integral number written with a zero fraction (Python re and RE2 alike).
FLOAT_TEXT_ID = r"^(-?[0-9]+)\.0+$"


def _as_string(s: pd.Series, name: str, options: "ReadOptions | None" = None) -> pd.Series:
    """Cast to the canonical string dtype, strip surrounding blanks (counted); integral float ids lose ``.0``."""
    text = _as_string_raw(s)
    stripped = text.str.strip(STRIP_CHARS)
    changed = (stripped != text).to_numpy(dtype=bool, na_value=False)
    if changed.any():
        n = int(changed.sum())
        if options is not None:
            options.changes.append(IntakeChange(
                name, "whitespace_stripped", n,
                f"{n:,} value(s) had blanks before or after them, removed (' x', 'x ' and 'x' are one {name}); "
                "leading zeros and letter case are kept",
            ))
        text = stripped
    if name in ID_COLUMNS:
        fixed = text.str.replace(FLOAT_TEXT_ID, r"\1", regex=True)
        dotted = (fixed != text).to_numpy(dtype=bool, na_value=False)
        if dotted.any():
            n = int(dotted.sum())
            if options is not None:
                options.changes.append(IntakeChange(
                    name, "float_text_id", n,
                    f"{n:,} id(s) written as a float ('17850.0', a float column exported to text) read as "
                    "'17850', as float ids are, so that one id is one key",
                ))
            text = fixed
    return text


def as_text(values: pd.Series, name: str) -> pd.Series:
    """A column as canonical text, as the loaders cast it (integral floats lose ``.0``, blanks stripped).

    Parameters
    ----------
    values : pandas.Series
        Raw ids or labels (text, integers, floats, objects).
    name : str
        Column name (for messages).

    Returns
    -------
    pandas.Series
        pandas' string dtype, same index.
    """
    return _as_string(values, name)


def _as_string_raw(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is pd.NA:
        return s
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        integral = np.isfinite(vals) & (vals == np.round(vals)) & (np.abs(vals) < 2**53)
        text = s.astype(STRING_DTYPE)
        if integral.any():
            ints = pd.Series(vals[integral].astype("int64"), index=s.index[integral]).astype(STRING_DTYPE)
            text[integral] = ints
        return text
    if s.dtype == object:
        def fix(v: object) -> object:
            if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
                return str(int(v))
            return v

        s = s.map(fix)
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        return s.astype(str).where(s.notna(), pd.NA).astype(STRING_DTYPE)
    return s.astype(STRING_DTYPE)


def _label(name: str, options: "ReadOptions | None") -> str:
    """A canonical column as messages name it: ``amount (Total)`` when mapped from the source column ``Total``."""
    src = options.source_names.get(name, name) if options is not None else name
    return name if src == name else f"{name} ({src})"


def _as_datetime(s: pd.Series, name: str, options: "ReadOptions | None" = None) -> pd.Series:
    """Cast to naive ``datetime64[ns]`` by the package's date policy (:mod:`crm_analysis.data.dates`)."""
    opts = options or ReadOptions()
    label = _label(name, opts)
    info: dict[str, object] = {}
    out, changes = parse_datetime_column(
        s,
        label,
        dayfirst=opts.dayfirst,
        date_format=date_format_for(opts.date_format, name, opts.source_names.get(name, name)),
        timezone=opts.timezone,
        info=info,
    )
    if "inferred_dayfirst" in info:
        opts.orders[label] = (bool(info["inferred_dayfirst"]), str(info["example"]))
    opts.changes.extend(IntakeChange(name, c.reason, c.rows, c.description) for c in changes)
    return out


def _as_float(s: pd.Series, name: str, options: "ReadOptions | None" = None) -> pd.Series:
    """Cast to ``float64``; raise on non-numeric values."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("float64")
    label = _label(name, options)
    # text numbers: the number policy of every path (the DuckDB path's number_sql too): one message, the same
    # values accepted
    return parse_numbers(s, label, options.numbers if options is not None else NumberFormat())


def _as_int(s: pd.Series, name: str, options: "ReadOptions | None" = None) -> pd.Series:
    """Cast to ``int64``; raise on missing, non-numeric or non-integral values."""
    raw = s
    label = _label(name, options)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        s = _as_float(s, name, options)
    if pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
        return s.astype("int64")
    vals = s.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(vals)
    inf = np.isinf(vals)
    if inf.any():
        _fail_values(label, raw, inf, "are infinite")
    if missing.any():
        _fail_values(label, raw, missing, "are missing (an integer column cannot hold missing values)")
    frac = vals != np.round(vals)
    if frac.any():
        pos = np.flatnonzero(frac)
        raise DataValidationError(whole_numbers_message(label, int(frac.sum()),
                                                        distinct_examples(raw.astype(str).to_numpy()[pos], rows=pos)))
    return pd.Series(vals.astype("int64"), index=s.index)


_CASTS = {
    "string": _as_string,
    "datetime64[ns]": _as_datetime,
    "float64": _as_float,
    "int64": _as_int,
}


# ------------------------------------------------------------------- mapping
def resolve_columns(
    found: Sequence[object],
    schema: Schema,
    *,
    columns: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Decide which source column feeds each canonical column.

    Parameters
    ----------
    found : sequence
        Column names of the source.
    schema : Schema
        Target schema.
    columns : mapping, optional
        Canonical name -> source column name, e.g.
        ``{"customer_id": "CustomerID", "timestamp": "InvoiceDate"}``.
        Canonical columns not in the mapping are taken from the source column
        of the same name when there is one.

    Returns
    -------
    dict
        Canonical name -> source column name, for every canonical column that
        the source provides (schema order). Required columns may be absent
        here; the caller derives defaults and then checks.

    Raises
    ------
    DataValidationError
        When a key of ``columns`` is not a canonical column, when a mapped
        source column does not exist, or when two canonical columns would come
        from the same source column / a source column of a canonical name is
        shadowed by a mapping.
    """
    columns = dict(columns or {})
    found_list = list(found)
    if len(set(map(str, found_list))) != len(found_list):
        dups = sorted({str(c) for c in found_list if found_list.count(c) > 1})
        raise DataValidationError(f"the source has duplicated column names: {dups}")
    unknown = [k for k in columns if k not in schema]
    if unknown:
        raise DataValidationError(
            f"columns= mapping has key(s) {unknown} that are not columns of the {schema.name} "
            f"schema; the keys must be canonical names: {list(schema.names)}"
        )
    absent = {k: v for k, v in columns.items() if v not in found_list}
    if absent:
        raise DataValidationError(
            "columns= mapping refers to source column(s) that do not exist: "
            + ", ".join(f"{k!r} -> {shown(v)}" for k, v in absent.items())
            + f"; found columns: {found_list}"
            + _header_hint(found_list)
        )
    sources = list(columns.values())
    reused = sorted({str(v) for v in sources if sources.count(v) > 1})
    if reused:
        raise DataValidationError(f"columns= mapping uses source column(s) {reused} more than once")
    out: dict[str, str] = {}
    for name in schema.names:
        if name in columns:
            out[name] = columns[name]
        elif name in found_list and name not in sources:
            out[name] = name
    shadow = [n for n in schema.names if n in found_list and n in columns and columns[n] != n]
    if shadow:
        raise DataValidationError(
            f"source column(s) {shadow} have canonical names but the columns= mapping takes "
            f"{[columns[n] for n in shadow]} for them; rename or drop the source column(s) "
            "first so that nothing is discarded silently"
        )
    return out


def _missing_error(missing: list[str], schema: Schema, found: Sequence[object], extra: str = "") -> None:
    hints = []
    for m in missing:
        close = [str(f) for f in found if _norm_name(f) == _norm_name(m)]
        if close:
            hints.append(f"{m!r}: perhaps {close[0]!r}?")
    example = ", ".join(f"'{m}': '<your column>'" for m in missing)
    msg = (
        f"missing required column(s) {missing} of the {schema.name} schema; "
        f"found columns: {[str(f) for f in found]}. "
        f"Map your column names with columns={{{example}}}"
    )
    if hints:
        msg += " (" + "; ".join(hints) + ")"
    msg += _header_hint(found)
    raise DataValidationError(msg + extra)


#: The generic hint of :func:`_header_hint` when most columns have no name.
HEADER_HINT_UNNAMED = (". Most columns have no name: the header is probably not on the first row (title rows above "
                       "it?); skip them with read_options: {skiprows: <rows above the header>} (or header: <row>)")


def _looks_like_title(name: str) -> bool:
    words = name.split()
    return len(words) >= 3 and len(name) >= 15


def _header_hint(found: Sequence[object]) -> str:
    """A hint when the columns found look like a title row rather than the header.

    It fires when most columns have no name (``Unnamed: 1``: a title in the
    first cell only), when a single column was found, or when a column name
    reads like a title ("Sales report 2024").
    """
    names = [str(f) for f in found]
    if not names:
        return ""
    unnamed = [n for n in names if n.startswith("Unnamed:") or n.startswith("column")]
    if len(unnamed) * 2 >= len(names) and len(names) > 1:
        return HEADER_HINT_UNNAMED
    if len(names) == 1:
        return (f". Only one column was found ({names[0]!r}): the header is probably not on the first row (a "
                "title above it?) or the file is split by another separator; set read_options: {skiprows: <rows "
                "above the header>} (or header: <row>) and/or sep")
    titles = [n for n in names if _looks_like_title(n)]
    if titles:
        return (f". {titles[0]!r} reads like a title, not a column name: if the header is further down, skip the "
                "rows above it with read_options: {skiprows: <rows above the header>} (or header: <row>)")
    return ""


# ------------------------------------------------------------------ statuses
def normalise_status(values: pd.Series, *, name: str = "status") -> pd.Series:
    """Map raw booking statuses to ``stayed`` / ``cancelled`` / ``no_show``.

    Matching is case-insensitive and ignores blanks, hyphens and underscores;
    accepted spellings are those of :data:`STATUS_SYNONYMS`, e.g.
    ``"Check-Out"`` -> ``stayed``, ``"Canceled"`` / ``"cancelled"`` ->
    ``cancelled``, ``"No-Show"`` -> ``no_show``.

    Parameters
    ----------
    values : pandas.Series
        Raw status values.
    name : str, default "status"
        Column name used in error messages.

    Returns
    -------
    pandas.Series
        Canonical statuses (string dtype).

    Raises
    ------
    DataValidationError
        Listing every value outside the allowed set (with counts), or when
        statuses are missing.
    """
    raw = values
    missing = raw.isna().to_numpy()
    if missing.any():
        raise DataValidationError(missing_status_message(name, int(missing.sum())))
    keys = raw.astype(str).map(status_key)
    mapped = keys.map(STATUS_SYNONYMS)
    bad = mapped.isna().to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        raise DataValidationError(status_message(name, int(bad.sum()),
                                                 distinct_examples(raw.astype(str).to_numpy()[pos], rows=pos)))
    return mapped.astype(STRING_DTYPE)


def missing_status_message(name: str, n_rows: int) -> str:
    """The error text for ``n_rows`` missing booking statuses (pandas and DuckDB paths)."""
    return bad_values_message(name, n_rows, f"are missing; allowed: {list(BOOKING_STATUSES)}", [],
                              fix="Give every booking its status, or drop those rows first.")


def status_message(name: str, n_rows: int, examples: list[tuple[str, int | None]]) -> str:
    """The error text for ``n_rows`` booking statuses outside the allowed ones (pandas and DuckDB paths)."""
    return bad_values_message(
        name, n_rows, f"are outside the allowed statuses {list(BOOKING_STATUSES)}", examples,
        fix=f"Accepted spellings (case-insensitive, blanks, '-' and '_' ignored): {sorted(STATUS_SYNONYMS)}; "
            "map the others to one of them first.",
    )


def whole_numbers_message(name: str, n_rows: int, examples: list[tuple[str, int | None]]) -> str:
    """The error text for ``n_rows`` values of an integer column that are not whole numbers (pandas and DuckDB)."""
    return bad_values_message(name, n_rows, "are not whole numbers", examples,
                              fix="The column counts whole units (nights, rooms): correct those values.")


# ----------------------------------------------------------------- conform
def _check_frame(df: object, schema: Schema) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputTypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise DataValidationError(
            f"the {schema.name} input is empty (0 rows; columns: {[str(c) for c in df.columns]})"
        )


def conform(
    df: pd.DataFrame,
    schema: Schema,
    *,
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = True,
    options: ReadOptions | None = None,
) -> pd.DataFrame:
    """Rename, cast and order the columns of ``df`` to ``schema``.

    Generic step of :func:`validate_transactions` / :func:`validate_bookings`
    without their schema-specific derivations and checks.

    Parameters
    ----------
    df : pandas.DataFrame
        Source frame.
    schema : Schema
        Target schema.
    columns : mapping, optional
        Canonical name -> source column name.
    keep_extra : bool, default True
        Keep the source columns that feed no canonical column (after the
        canonical ones, in source order).
    options : ReadOptions, optional
        Date options; receives the changes made (``options.changes``).

    Returns
    -------
    pandas.DataFrame
        Canonical columns that are present (schema order), then the extras, on
        a fresh ``RangeIndex``.
    """
    _check_frame(df, schema)
    mapping = resolve_columns(list(df.columns), schema, columns=columns)
    df = df.reset_index(drop=True)
    opts = options if options is not None else ReadOptions()
    opts.source_names.update(mapping)
    dates = [c.name for c in schema if c.dtype == "datetime64[ns]"]
    check_date_format_keys(opts.date_format, {c: s for c, s in mapping.items() if c in dates}, canonical=dates)
    out = {}
    for canon, src in mapping.items():
        out[canon] = _CASTS[schema[canon].dtype](df[src], canon, opts)
    check_date_orders(opts.orders)
    if keep_extra:
        used = set(mapping.values())
        for c in df.columns:
            if c not in used and c not in out:
                out[c] = df[c]
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def _ensure_required(
    available: Sequence[str], raw_columns: Sequence[object], schema: Schema, extra: str = ""
) -> None:
    missing = [c for c in schema.required if c not in available]
    if missing:
        _missing_error(missing, schema, raw_columns, extra)


def check_columns(
    found: Sequence[object],
    schema: Schema,
    *,
    columns: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Check that source columns ``found`` can feed every required column of ``schema``.

    The check needs only the column names (e.g. a file's header), so it can
    run before anything is loaded. Documented defaults count as present:
    transactions derive ``amount`` from ``quantity`` and ``unit_price``;
    bookings default ``units`` to 1 and ``fare_class`` to ``segment``.

    Parameters
    ----------
    found : sequence
        Column names of the source.
    schema : Schema
        :data:`~crm_analysis.data.schema.TRANSACTIONS` or
        :data:`~crm_analysis.data.schema.BOOKINGS`.
    columns : mapping, optional
        Canonical name -> source column name.

    Returns
    -------
    dict
        Canonical name -> source column (as :func:`resolve_columns`).

    Raises
    ------
    DataValidationError
        A mapping that names an absent source column or a non-canonical key
        (see :func:`resolve_columns`), or a required column that is neither
        present nor derivable (named, with the columns found and a
        ``columns=`` hint).
    """
    raw_columns = list(found)
    mapping = resolve_columns(raw_columns, schema, columns=columns)
    available = list(mapping)
    extra = ""
    if schema.name == TRANSACTIONS.name and "amount" not in mapping:
        if {"quantity", "unit_price"} <= set(mapping):
            available.append("amount")
        extra = " ('amount' can also be derived from 'quantity' and 'unit_price')"
    if schema.name == BOOKINGS.name:
        available += ["units"] + (["fare_class"] if "segment" in mapping else [])
    _ensure_required(available, raw_columns, schema, extra)
    return mapping


def _with_changes(df: pd.DataFrame, opts: ReadOptions) -> pd.DataFrame:
    """Record the value changes of reading in ``df.attrs`` (see :func:`intake_changes`); warn of UTC conversions."""
    df.attrs["intake_changes"] = [asdict(c) for c in opts.changes]
    for c in opts.changes:
        if c.reason == "converted_to_utc":
            warnings.warn(f"column {c.column!r}: {c.description}", DataWarning, stacklevel=4)
    return df


def _order(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    canon = [c for c in schema.names if c in df.columns]
    rest = [c for c in df.columns if c not in schema]
    return df[canon + rest]


def validate_transactions(
    df: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = True,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
    number_format: NumberFormat | None = None,
) -> pd.DataFrame:
    """Validate a transactions frame and cast it to the canonical schema.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw transactions.
    columns : mapping, optional
        Canonical name -> column name in ``df``.
    keep_extra : bool, default True
        Keep non-canonical columns (after the canonical ones).
    dayfirst : bool, optional
        For ``dd/mm`` vs ``mm/dd`` dates that the column alone cannot order
        (no day above 12 anywhere); a column that can tell is read its way,
        and a contradicting ``dayfirst`` is an error.
    date_format : str or mapping, optional
        Explicit ``strftime`` format for every date column, or per column
        (canonical or source name -> format).
    timezone : str, optional
        IANA time zone of the data: values with UTC offsets (or aware
        values) are converted to it, naive values are taken as its local
        time. Without it, offsets are converted to UTC, recorded as a change
        and announced with a :class:`~crm_analysis.data.errors.DataWarning`.
    number_format : NumberFormat, optional
        Decimal mark and thousands separator of numbers written as text
        (default ``.`` and none); with another format, text numbers are read
        strictly (:func:`crm_analysis.data.numbers.parse_numbers`).

    Returns
    -------
    pandas.DataFrame
        Canonical transactions: ``customer_id`` (string), ``timestamp``
        (naive datetime64[ns]), ``amount`` (float64) and the optional columns
        present. When ``amount`` is absent but ``quantity`` and ``unit_price``
        are present, ``amount = quantity * unit_price``. Missing customer ids
        are kept as ``<NA>`` (the cleaning policy decides about them).

    Raises
    ------
    DataValidationError
        Empty input; missing required columns (named, with the columns found
        and a ``columns=`` hint); unparseable timestamps or non-numeric
        amounts / quantities / prices (count, up to five examples with row
        positions).
    """
    _check_frame(df, TRANSACTIONS)
    available = set(resolve_columns(list(df.columns), TRANSACTIONS, columns=columns))
    derive_amount = "amount" not in available and {"quantity", "unit_price"} <= available
    check_columns(list(df.columns), TRANSACTIONS, columns=columns)
    opts = ReadOptions(dayfirst=dayfirst, date_format=date_format, timezone=timezone,
                       numbers=number_format or NumberFormat())
    out = conform(df, TRANSACTIONS, columns=columns, keep_extra=keep_extra, options=opts)
    if derive_amount:
        out["amount"] = (out["quantity"] * out["unit_price"]).astype("float64")
    return _with_changes(_order(out, TRANSACTIONS), opts)


def validate_bookings(
    df: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = True,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
    number_format: NumberFormat | None = None,
) -> pd.DataFrame:
    """Validate a bookings frame and cast it to the canonical schema.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw bookings.
    columns : mapping, optional
        Canonical name -> column name in ``df``.
    keep_extra : bool, default True
        Keep non-canonical columns (after the canonical ones).
    dayfirst : bool, optional
        For ``dd/mm`` vs ``mm/dd`` dates that the column alone cannot order
        (no day above 12 anywhere); a column that can tell is read its way,
        and a contradicting ``dayfirst`` is an error.
    date_format : str or mapping, optional
        Explicit ``strftime`` format for every date column, or per column
        (canonical or source name -> format).
    timezone : str, optional
        IANA time zone of the data: values with UTC offsets (or aware
        values) are converted to it, naive values are taken as its local
        time. Without it, offsets are converted to UTC, recorded as a change
        and announced with a :class:`~crm_analysis.data.errors.DataWarning`.
    number_format : NumberFormat, optional
        Decimal mark and thousands separator of numbers written as text
        (default ``.`` and none); with another format, text numbers are read
        strictly (:func:`crm_analysis.data.numbers.parse_numbers`).

    Returns
    -------
    pandas.DataFrame
        Canonical bookings. ``units`` defaults to 1 and ``fare_class`` to
        ``segment`` when absent; statuses are mapped with
        :func:`normalise_status`.

    Raises
    ------
    DataValidationError
        Empty input; missing required columns; unparseable dates; non-numeric
        rates; missing or non-integral nights / units; status values outside
        ``stayed`` / ``cancelled`` / ``no_show`` (listed); negative nights or
        units.
    """
    _check_frame(df, BOOKINGS)
    src_mapping = resolve_columns(list(df.columns), BOOKINGS, columns=columns)
    check_columns(list(df.columns), BOOKINGS, columns=columns)
    if "status" in src_mapping:  # map synonyms before the string cast
        df = df.reset_index(drop=True)
        src = src_mapping["status"]
        status = normalise_status(df[src], name="status" if src == "status" else f"status ({src})")
        df = df.assign(**{src_mapping["status"]: status})
    opts = ReadOptions(dayfirst=dayfirst, date_format=date_format, timezone=timezone,
                       numbers=number_format or NumberFormat())
    out = conform(df, BOOKINGS, columns=columns, keep_extra=keep_extra, options=opts)
    if "units" not in out.columns:
        out["units"] = np.ones(len(out), dtype="int64")
    if "fare_class" not in out.columns and "segment" in out.columns:
        out["fare_class"] = out["segment"]
    for col in ("nights", "units"):
        neg = (out[col] < 0).to_numpy()
        if neg.any():
            raw = df[src_mapping[col]].reset_index(drop=True) if col in src_mapping else out[col]
            label = col if src_mapping.get(col, col) == col else f"{col} ({src_mapping[col]})"
            _fail_values(label, raw, neg, "are negative")
    return _with_changes(_order(out, BOOKINGS), opts)
