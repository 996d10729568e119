"""Turn a data-source configuration (e.g. from the report's YAML) into a frame.

A spec is a mapping with a ``loader`` key:

``None`` or ``{"loader": "synthetic"}``
    The built-in synthetic default data,
    :func:`crm_analysis.synthetic.default_transactions` /
    :func:`crm_analysis.synthetic.default_bookings` with the run's ``seed``.
``{"loader": "csv" | "parquet", "path": ..., "columns": {...}, "read_options": {...}}``
    :func:`crm_analysis.data.load_transactions` / :func:`~crm_analysis.data.load_bookings`.
    A ``csv`` spec may give ``encoding`` (default UTF-8; e.g. ``cp1252``,
    ``latin-1``); ``read_options`` go to :func:`pandas.read_csv`, e.g.
    ``{"sep": ";", "decimal": ","}``.
``{"loader": "excel", "path": ..., "sheet": ..., "columns": {...}, "read_options": {...}}``
    The same loaders on an Excel workbook (``.xlsx``, ``.xlsm``): ``sheet``
    is a sheet name, a 0-based position or a list of sheets to stack;
    without it the workbook must have one sheet. ``read_options`` go to
    :func:`pandas.read_excel` (``skiprows``, ``usecols``, ...).
``{"loader": "duckdb", "database": ..., "table": ... | "query": ..., "columns": {...}}``
    The same loaders on a DuckDB table or query (``database`` optional for
    a query, e.g. over ``read_parquet``).
``{"loader": "sql", "url": ... | "url_env": ..., "table": ... | "query": ..., "params": {...}, "columns": {...}}``
    The same loaders on a SQL database table (``schema.table`` allowed) or
    query with ``:name`` placeholders whose values come from ``params``
    (bound, never pasted into the SQL). ``url`` is a SQLAlchemy URL such as
    ``postgresql+psycopg://crm@db:5432/crm``; ``url_env`` names an
    environment variable holding it, and ``password_env`` one holding only
    the password, so that secrets stay out of configuration files.
    Optional ``chunksize`` (rows per fetch) and ``read_options`` (for
    :func:`pandas.read_sql`). See ``docs/databases.md``.
``{"loader": "cdnow", "path": ...}``
    The real transactions data sets (:mod:`crm_analysis.data.real`).
``{"loader": "online_retail" | "online_retail_ii", "path": ..., "columns": {...}, "sheet": ..., "encoding": ..., "read_options": {...}}``
    UCI Online Retail (2010-2011) and Online Retail II (2009-2011), from
    Parquet, CSV or the UCI workbooks (every sheet by default); ``columns``
    maps canonical names to the columns a copy names differently. These
    loaders mark the data set's cancellations (invoice ``"C..."``) in
    ``is_cancellation``.
``{"loader": "hotels", "path": ...}``
    The real bookings data set.
``{"loader": "none"}``
    No data of this kind (e.g. a data set with transactions but no
    bookings): :func:`load_source` returns ``None``. Note that a spec of
    ``None`` means the synthetic default, not "no data".

The generic loaders (``csv``, ``parquet``, ``excel``, ``duckdb``, ``sql``) also take the
date options of :func:`crm_analysis.data.load_transactions`: ``dayfirst``
(``true``/``false``, for ``dd/mm`` dates whose order the column cannot tell),
``date_format`` (e.g. ``"%d/%m/%Y"``, or a mapping column -> format) and
``timezone`` (an IANA name; values with UTC offsets are converted to it,
without it to UTC). See ``docs/real_data.md``.

Every spec may have ``"filter": {column: value or list of values}``, keeping
rows whose canonical column equals the value (or is in the list), e.g.
``{"property": "City Hotel"}``. Relative paths are resolved against
``base_dir``.

Before a report runs, :func:`probe_source` (and :func:`check_source`, its
list of problems) checks a spec (the report's pre-flight): the keys, that the
file exists, that its header (CSV, workbook), schema (Parquet) or relation
(DuckDB) has the mapped and the required columns, then loads a file up to
256 MiB whole with :func:`load_source`, so that whatever the loader would
refuse in the data-quality notebook stops the run before it starts, and
checks that ``as_of`` is not before all the data. What each loader's file
looks like to that check is one entry of ``_PROBES``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, SourceNotFoundError, shown

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from crm_analysis.data.errors import DataValidationError, DataWarning, duckdb_value_errors
from crm_analysis.data.loaders import load_bookings, load_transactions
from crm_analysis.data.real import load_cdnow, load_hotels, load_online_retail, load_online_retail_ii
from crm_analysis.data.schema import BOOKINGS, TRANSACTIONS
from crm_analysis.data.sql import DEFAULT_CHUNKSIZE, resolve_url
from crm_analysis.data.validation import check_columns

__all__ = ["load_source", "check_source", "probe_source", "SourceCheck", "source_file", "LOADERS", "LOADER_KEYS",
           "DATE_KEYS"]

Kind = Literal["transactions", "bookings"]

#: Known loader names and the kinds of data they provide.
LOADERS: dict[str, tuple[str, ...]] = {
    "synthetic": ("transactions", "bookings"),
    "csv": ("transactions", "bookings"),
    "parquet": ("transactions", "bookings"),
    "excel": ("transactions", "bookings"),
    "duckdb": ("transactions", "bookings"),
    "sql": ("transactions", "bookings"),
    "cdnow": ("transactions",),
    "online_retail": ("transactions",),
    "online_retail_ii": ("transactions",),
    "hotels": ("bookings",),
    "none": ("transactions", "bookings"),
}

#: Date options of the generic loaders (see :mod:`crm_analysis.data.dates`).
DATE_KEYS = {"dayfirst", "date_format", "timezone"}

_KEYS = {
    "synthetic": {"loader", "filter"},
    "csv": {"loader", "path", "columns", "read_options", "encoding", "filter"} | DATE_KEYS,
    "parquet": {"loader", "path", "columns", "read_options", "filter"} | DATE_KEYS,
    "excel": {"loader", "path", "sheet", "columns", "read_options", "filter"} | DATE_KEYS,
    "duckdb": {"loader", "database", "table", "query", "columns", "filter"} | DATE_KEYS,
    "sql": {"loader", "url", "url_env", "password_env", "table", "query", "params", "columns",
            "read_options", "chunksize", "filter"} | DATE_KEYS,
    "cdnow": {"loader", "path", "filter"},
    "online_retail": {"loader", "path", "columns", "sheet", "encoding", "read_options", "filter"},
    "online_retail_ii": {"loader", "path", "columns", "sheet", "encoding", "read_options", "filter"},
    "hotels": {"loader", "path", "filter"},
    "none": {"loader"},
}
#: Keys each loader's spec may have (``loader`` included): the one table the
#: report configuration checks its ``data`` section against.
LOADER_KEYS: dict[str, set[str]] = _KEYS
# The option naming the file a loader reads, and whether it is required; a loader
# with a ``path`` key not listed here needs ``path``.
_FILE_OPTIONS: dict[str, tuple[str, bool]] = {"duckdb": ("database", False)}
#: Canonical date column whose first value must not lie after ``as_of`` (pre-flight).
_DATE_COLUMN = {"transactions": "timestamp", "bookings": "booking_date"}


def _resolve(path: Any, base_dir: Path, what: str) -> Path:
    if path is None:
        raise InputError(f"data source spec needs {what!r}")
    p = Path(os.path.expanduser(os.fspath(path)))
    return p if p.is_absolute() else base_dir / p


def _apply_filter(df: pd.DataFrame, flt: Mapping[str, Any] | None) -> pd.DataFrame:
    if not flt:
        return df
    if not isinstance(flt, Mapping):
        raise InputError(f"'filter' must be a mapping column -> value(s), got {type(flt).__name__}")
    keep = pd.Series(True, index=df.index)
    for col, value in flt.items():
        if col not in df.columns:
            raise InputError(f"filter column {col!r} not in the data; columns: {list(df.columns)}")
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        hit = df[col].isin(values)
        if not hit.any():
            present = df[col].dropna().unique()[:20].tolist()
            raise InputError(f"filter {col}={shown(value)} matches no rows; values present include {present}")
        keep &= hit
    return df.loc[keep].reset_index(drop=True)


def _check_spec(spec: Mapping[str, Any] | None, kind: str) -> tuple[dict[str, Any], str]:
    """The spec as a dict and its loader; raise ValueError for an unknown loader, kind or key."""
    if kind not in ("transactions", "bookings"):
        raise InputError(f"kind must be 'transactions' or 'bookings', got {shown(kind)}")
    if spec is not None and not isinstance(spec, Mapping):
        raise InputError(f"a data source spec must be a mapping with a 'loader' key, got {type(spec).__name__} {shown(spec)}")
    spec = dict(spec or {"loader": "synthetic"})
    loader = spec.get("loader", "synthetic")
    if loader not in LOADERS:
        raise InputError(f"unknown data loader {loader!r}; known loaders: {sorted(LOADERS)}")
    if kind not in LOADERS[loader]:
        raise InputError(f"loader {loader!r} provides {list(LOADERS[loader])}, not {kind}")
    unknown = set(spec) - _KEYS[loader]
    if unknown:
        raise InputError(f"unknown key(s) {sorted(unknown)} for loader {loader!r}; allowed: {sorted(_KEYS[loader])}")
    return spec, loader


def load_source(
    spec: Mapping[str, Any] | None,
    kind: Kind,
    *,
    seed: int = 42,
    base_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame | None:
    """Load the data described by a configuration mapping.

    Parameters
    ----------
    spec : mapping or None
        Source specification (see the module docstring); ``None`` means the
        synthetic default.
    kind : {"transactions", "bookings"}
        Which canonical schema to produce.
    seed : int, default 42
        Seed of the synthetic default data.
    base_dir : str or path, optional
        Directory against which relative paths are resolved (default: the
        current working directory).

    Returns
    -------
    pandas.DataFrame or None
        Canonical (uncleaned) transactions or bookings; ``None`` for
        ``{"loader": "none"}`` (no data of this kind).

    Raises
    ------
    ValueError
        Unknown loader (the known ones are listed), unknown keys, a loader
        that does not provide ``kind``, a missing path, a bad filter.

    Examples
    --------
    >>> load_source({"loader": "online_retail", "path": "online_retail/online_retail.parquet",
    ...              "filter": {"country": "France"}}, "transactions",
    ...             base_dir="../shared/data")  # doctest: +SKIP
    """
    spec, loader = _check_spec(spec, kind)
    if loader == "none":
        return None
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    load_fn: Callable[..., pd.DataFrame] = load_transactions if kind == "transactions" else load_bookings
    dates = {k: spec[k] for k in DATE_KEYS if spec.get(k) is not None}

    def load(*args: Any, **kwargs: Any) -> pd.DataFrame:
        # conversions are recorded in the frame (intake_changes) and shown by the
        # data-quality report; no warning text in the middle of a report
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            return load_fn(*args, **kwargs, **dates)

    try:
        if loader == "synthetic":
            from crm_analysis import synthetic  # lazy: written by another part of the package

            make = synthetic.default_transactions if kind == "transactions" else synthetic.default_bookings
            df = make(seed=seed)
        elif loader in ("csv", "parquet", "excel"):
            df = load(
                _resolve(spec.get("path"), base, "path"),
                columns=spec.get("columns"),
                fmt=loader,
                read_options=spec.get("read_options"),
                encoding=spec.get("encoding"),
                sheet=spec.get("sheet"),
            )
        elif loader == "duckdb":
            table, query = spec.get("table"), spec.get("query")
            if (table is None) == (query is None):
                raise InputError("a 'duckdb' source needs exactly one of 'table' or 'query'")
            database = spec.get("database")
            if table is not None and database is None:
                raise InputError("a 'duckdb' source with 'table' needs 'database' (path of the .duckdb file)")
            con = _resolve(database, base, "database") if database is not None else None
            df = load(table if table is not None else query, columns=spec.get("columns"), con=con, fmt="duckdb")
        elif loader == "sql":
            table, query = spec.get("table"), spec.get("query")
            if (table is None) == (query is None):
                raise InputError("a 'sql' source needs exactly one of 'table' or 'query'")
            url = resolve_url(spec.get("url"), url_env=spec.get("url_env"), password_env=spec.get("password_env"))
            df = load(
                url,
                table=table,
                query=query,
                params=spec.get("params"),
                columns=spec.get("columns"),
                read_options=spec.get("read_options"),
                chunksize=spec.get("chunksize", DEFAULT_CHUNKSIZE),
            )
        elif loader in ("online_retail", "online_retail_ii"):
            uci = load_online_retail if loader == "online_retail" else load_online_retail_ii
            df = uci(
                _resolve(spec.get("path"), base, "path"),
                columns=spec.get("columns"),
                sheet=spec.get("sheet"),
                encoding=spec.get("encoding"),
                read_options=spec.get("read_options"),
            )
        else:
            df = {"cdnow": load_cdnow, "hotels": load_hotels}[loader](_resolve(spec.get("path"), base, "path"))
    except SourceNotFoundError as exc:  # name the source: a run reads two
        raise SourceNotFoundError(f"{kind} source (loader {loader!r}): {exc}") from exc
    except InputError as exc:
        if str(exc).startswith("data source spec needs"):
            raise InputError(f"the {kind} source (loader {loader!r}): {exc}") from exc
        raise
    return _apply_filter(df, spec.get("filter"))


# ------------------------------------------------------------------ pre-flight
#: Files up to this size are loaded whole by the pre-flight, with the loader the notebook uses, so
#: that every error of the loader (encoding, empty file, dates, numbers, ...) stops the run before it
#: starts; larger ones are checked by their header (and Parquet dates by their statistics) only.
_SCAN_MAX_BYTES = 256 * 2**20
#: Excel workbooks up to this size are loaded whole (openpyxl reads about a megabyte a second).
_SCAN_MAX_WORKBOOK_BYTES = 32 * 2**20
#: Parquet files with more rows than this are not loaded whole, nor scanned for their first date
#: unless typed as dates (then the row-group statistics give it).
_SCAN_MAX_ROWS = 20_000_000


def source_file(spec: Mapping[str, Any] | None, *, base_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The file a data spec reads (``path``, or ``database`` for ``duckdb``), resolved; ``None`` if none.

    Parameters
    ----------
    spec : mapping or None
        A data source spec (see the module docstring).
    base_dir : str or path, optional
        Folder relative paths are resolved against (default: the current directory).

    Returns
    -------
    Path or None
    """
    if not spec:
        return None
    loader = spec.get("loader", "synthetic")
    key, _ = _FILE_OPTIONS.get(loader, ("path", "path" in _KEYS.get(loader, ())))
    value = spec.get(key)
    if value in (None, "", ":memory:"):
        return None
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    return _resolve(value, base, key)


def _read_options(spec: Mapping[str, Any]) -> dict[str, Any]:
    opts = spec.get("read_options") or {}
    if not isinstance(opts, Mapping):
        raise InputError(f"'read_options' must be a mapping of reader keyword arguments, got {type(opts).__name__}")
    return dict(opts)


def _csv_options(file: Path, spec: Mapping[str, Any]) -> dict[str, Any]:
    """``pandas.read_csv`` options as the loader uses them: separator by suffix, the spec's encoding."""
    from crm_analysis.data.files import default_separator, normalise_encoding

    opts = _read_options(spec)
    for key in ("nrows", "chunksize", "iterator", "skipfooter", "dtype", "converters", "dayfirst"):
        opts.pop(key, None)
    if not any(k in opts for k in ("sep", "delimiter", "delim")):
        opts["sep"] = default_separator(file)
    if spec.get("encoding"):
        opts["encoding"] = normalise_encoding(spec["encoding"])
    if "parse_dates" in opts and "date_format" not in opts:
        opts.pop("parse_dates")  # as the loader: the date policy parses dates, not pandas' guess
    if opts.get("engine") == "pyarrow":  # pyarrow does not read a header only
        opts.pop("engine")
    return opts


def _csv_header(file: Path | None, spec: Mapping[str, Any]) -> list[str]:
    """Column names of a CSV, read as the loader reads it (separator, encoding, ``read_options``).

    The data layer's own checks (:mod:`crm_analysis.data.files`) refuse what
    the loader refuses, in its words: a file that is not text (a workbook,
    Parquet, SQLite; by its first bytes), a column named twice; and when the
    reader fails they say why: an empty file, bytes that do not decode with
    the encoding (with the likely one), rows that do not split into the
    header's fields.
    """
    from crm_analysis.data.files import (
        _check_signature,
        _open_binary,
        check_header,
        check_single_column,
        check_text_file,
        parse_error,
    )

    opts = _csv_options(file, spec)  # type: ignore[arg-type]
    sep = opts.get("sep", opts.get("delimiter"))
    encoding = opts.get("encoding")
    fh = _open_binary(file)  # type: ignore[arg-type]
    if fh is not None:
        with fh:
            _check_signature(file, fh.read(16))  # type: ignore[arg-type]  # a workbook or Parquet file named as CSV
    try:
        columns = [str(c) for c in pd.read_csv(file, nrows=0, **opts).columns]
    except Exception as exc:
        check_text_file(file, encoding=encoding)  # type: ignore[arg-type]  # raises SourceFileError naming the fix
        if isinstance(exc, pd.errors.ParserError):
            raise parse_error(file, sep, encoding, exc) from None  # type: ignore[arg-type]
        raise
    check_header(file, sep, encoding)  # type: ignore[arg-type]  # a column named twice
    check_single_column(file, columns, sep)  # suggests sep / decimal
    return columns


def _parquet_header(file: Path | None, spec: Mapping[str, Any]) -> list[str]:
    """Column names of a Parquet file, from its schema (no data is read)."""
    import pyarrow.parquet as pq

    return [str(n) for n in pq.read_schema(file).names]


def _excel_header(file: Path | None, spec: Mapping[str, Any], *, all_sheets: bool = False) -> list[str]:
    """Column names of the chosen sheet(s) of a workbook (the first chosen; stacked sheets must agree)."""
    from crm_analysis.data.files import _resolve_sheets, excel_sheet_names

    names = excel_sheet_names(file)
    sheet = spec.get("sheet")
    if sheet is None and all_sheets:
        sheet = names
    chosen = _resolve_sheets(file, sheet, names)  # type: ignore[arg-type]
    opts = {k: v for k, v in _read_options(spec).items() if k not in ("nrows", "dtype", "converters")}
    return [str(c) for c in pd.read_excel(file, sheet_name=chosen[0], nrows=0, **opts).columns]


def _duckdb_header(file: Path | None, spec: Mapping[str, Any]) -> list[str]:
    """Column names of a DuckDB table or query (bound, not executed)."""
    from crm_analysis.data.engine import connect, quote_qualified

    con = connect(file, read_only=True) if file is not None else connect()
    try:
        table, query = spec.get("table"), spec.get("query")
        sql = query if query is not None else f"SELECT * FROM {quote_qualified(table)}"
        return [str(c) for c in con.sql(sql).columns]
    finally:
        con.close()


def _suffix(file: Path) -> str:
    suffixes = [x.lower() for x in file.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst", ".xz", ".zip"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _uci_header(file: Path | None, spec: Mapping[str, Any]) -> list[str]:
    """Columns of a UCI Online Retail file in any of its forms (Parquet, CSV, workbook: all sheets)."""
    from crm_analysis.data.files import EXCEL_SUFFIXES

    suffix = _suffix(file)  # type: ignore[arg-type]
    if suffix in (".parquet", ".pq", ".parq"):
        return _parquet_header(file, spec)
    if suffix in EXCEL_SUFFIXES:
        return _excel_header(file, spec, all_sheets=True)
    return _csv_header(file, spec)


def _uci_columns(defaults: Mapping[str, str]) -> Callable[[Mapping[str, Any]], dict[str, str]]:
    def columns(spec: Mapping[str, Any]) -> dict[str, str]:
        return {**defaults, **dict(spec.get("columns") or {})}

    return columns


def _first_of(values: pd.Series, spec: Mapping[str, Any], canon: str, column: str) -> pd.Timestamp | None:
    """Earliest date of a raw date column, read by the loaders' own date policy; ``None`` when it has none.

    The column goes through :func:`crm_analysis.data.dates.parse_datetime_column`
    with the spec's ``dayfirst`` / ``date_format`` / ``timezone``, so the date
    is the one the loader will see.

    Raises
    ------
    DataValidationError
        The policy's own error for a column it refuses (an ambiguous or mixed
        day/month order, a value that is not a date), naming the column and
        the fix: the loader would raise the same in the notebook.
    """
    from crm_analysis.data.dates import date_format_for, parse_datetime_column

    parsed, _ = parse_datetime_column(
        values, canon, dayfirst=spec.get("dayfirst"),
        date_format=date_format_for(spec.get("date_format"), canon, column), timezone=spec.get("timezone"),
    )
    parsed = parsed.dropna()
    return None if parsed.empty else pd.Timestamp(parsed.min())


def _csv_first_date(file: Path, spec: Mapping[str, Any], canon: str, column: str) -> pd.Timestamp | None:
    if file.stat().st_size > _SCAN_MAX_BYTES:
        return None
    opts = _csv_options(file, spec)
    opts.pop("usecols", None)
    parse = opts.pop("parse_dates", None)
    fmt = opts.pop("date_format", None)
    if isinstance(parse, (list, tuple)) and column in parse and fmt is not None:
        opts["parse_dates"] = [column]  # the loader lets pandas parse it with the given format
        opts["date_format"] = fmt[column] if isinstance(fmt, Mapping) and column in fmt else fmt
    else:
        opts["dtype"] = {column: "string"}
    frame = pd.read_csv(file, usecols=[column], **opts)
    return _first_of(frame[column], spec, canon, column)


def _parquet_first_date(file: Path, spec: Mapping[str, Any], canon: str, column: str) -> pd.Timestamp | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(file)
    field = meta.schema_arrow.field(column)
    typed = pa.types.is_timestamp(field.type) or pa.types.is_date(field.type)
    if typed:
        idx = meta.schema_arrow.get_field_index(column)
        mins = []
        for rg in range(meta.metadata.num_row_groups):
            stats = meta.metadata.row_group(rg).column(idx).statistics
            if stats is None or not stats.has_min_max:
                mins = []
                break
            mins.append(stats.min)
        if mins:  # the statistics, read by the same policy (an aware minimum is converted like the column)
            first = pd.Timestamp(min(mins))
            values = pd.Series([first], dtype=f"datetime64[ns, {first.tz}]" if first.tzinfo else "datetime64[ns]")
            return _first_of(values, spec, canon, column)
    elif meta.metadata.num_rows > _SCAN_MAX_ROWS:
        return None
    values = pq.read_table(file, columns=[column]).column(0).to_pandas()
    return _first_of(values, spec, canon, column)


def _uci_first_date(file: Path, spec: Mapping[str, Any], canon: str, column: str) -> pd.Timestamp | None:
    suffix = _suffix(file)
    if suffix in (".parquet", ".pq", ".parq"):
        return _parquet_first_date(file, spec, canon, column)
    if suffix in (".csv", ".tsv", ".txt"):
        return _csv_first_date(file, spec, canon, column)
    return None  # workbooks: the data-quality notebook checks it


@dataclass(frozen=True)
class _Probe:
    """How the pre-flight check looks at a loader's file without loading it.

    header
        ``(file, spec) -> column names``; ``None``: the file has no header
        (nothing to check but that it exists).
    raw_columns
        ``spec -> {canonical: source column}`` a data-set loader reads by
        name (its defaults updated by the spec's ``columns``); ``None`` for a
        generic file whose ``columns`` mapping feeds the canonical schema.
    first_date
        ``(file, spec, canonical column, source column) -> earliest date or
        None`` for the as_of check; ``None``: not checked before the run
        (the data-quality step checks it).
    """

    header: Callable[[Path | None, Mapping[str, Any]], list[str]] | None
    raw_columns: Callable[[Mapping[str, Any]], dict[str, str]] | None = None
    first_date: Callable[[Path, Mapping[str, Any], str, str], pd.Timestamp | None] | None = None


_HOTEL_COLUMNS = {
    name: name for name in (
        "hotel", "lead_time", "arrival_date_year", "arrival_date_month", "arrival_date_day_of_month",
        "stays_in_weekend_nights", "stays_in_week_nights", "adr", "market_segment", "distribution_channel",
        "reservation_status", "reservation_status_date",
    )
}


def _probes() -> dict[str, _Probe]:
    from crm_analysis.data.real import ONLINE_RETAIL_COLUMNS, ONLINE_RETAIL_II_COLUMNS

    return {
        "csv": _Probe(_csv_header, first_date=_csv_first_date),
        "parquet": _Probe(_parquet_header, first_date=_parquet_first_date),
        "excel": _Probe(_excel_header),
        "duckdb": _Probe(_duckdb_header),
        "cdnow": _Probe(None),
        "online_retail": _Probe(_uci_header, _uci_columns(ONLINE_RETAIL_COLUMNS), _uci_first_date),
        "online_retail_ii": _Probe(_uci_header, _uci_columns(ONLINE_RETAIL_II_COLUMNS), _uci_first_date),
        "hotels": _Probe(_csv_header, lambda spec: dict(_HOTEL_COLUMNS)),
    }


#: One entry per loader that reads a file or database; a new loader is one more entry.
_PROBES: dict[str, _Probe] = _probes()


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _loader_message(exc: BaseException, file: Path | None) -> str:
    """A loader's error as a pre-flight problem: its own words, with the file named."""
    if isinstance(exc, DataValidationError) or type(exc) is ValueError:  # the package's messages, whole
        text = str(exc).strip()
    else:  # a reader's or library's exception: its type and first line
        text = _error_text(exc)
        return f"cannot load {file}: {text}" if file is not None else f"cannot load the data: {text}"
    if file is not None and str(file) not in text and file.name not in text:
        text = f"{file.name}: {text}"
    return text


@dataclass(frozen=True)
class SourceCheck:
    """What the pre-flight check found out about a data source (:func:`probe_source`).

    Attributes
    ----------
    problems : list of str
        One message per problem (file names included); empty when the source
        loads.
    first_date : pandas.Timestamp or None
        Earliest date of the data (``timestamp`` of transactions,
        ``booking_date`` of bookings) as the loader reads it, where known.
    loaded : bool
        Whether the whole source was loaded with the loader the data-quality
        notebook uses (so that nothing the loader checks is left for the run).
    deferred : str or None
        What was *not* checked before the run, and why (e.g. a file larger
        than the limit: only its header was read); ``None`` when nothing was
        left out.
    columns : tuple of str or None
        The columns of the loaded frame (canonical names and the source's
        other columns) when the whole source was loaded.
    """

    problems: list[str]
    first_date: pd.Timestamp | None = None
    loaded: bool = False
    deferred: str | None = None
    columns: tuple[str, ...] | None = None


def _size_limit(loader: str, file: Path) -> int:
    workbook = loader == "excel" or (loader in ("online_retail", "online_retail_ii") and _suffix(file) in
                                     (".xlsx", ".xlsm"))
    return _SCAN_MAX_WORKBOOK_BYTES if workbook else _SCAN_MAX_BYTES


def _too_large(loader: str, file: Path) -> str | None:
    """Why ``file`` is not loaded whole before the run; ``None`` when it is small enough."""
    size = file.stat().st_size
    limit = _size_limit(loader, file)
    if size > limit:
        return f"{file.name} is {size / 2**20:,.0f} MiB, more than the {limit / 2**20:,.0f} MiB the check loads whole"
    if _suffix(file) in (".parquet", ".pq", ".parq"):
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(file).metadata.num_rows
        if rows > _SCAN_MAX_ROWS:
            return f"{file.name} has {rows:,} rows, more than the {_SCAN_MAX_ROWS:,} the check loads whole"
    return None


def _sql_problems(spec: Mapping[str, Any]) -> list[str]:
    """A ``sql`` spec checked without connecting: table/query, environment variables, driver, SQLite file."""
    problems = []
    if (spec.get("table") is None) == (spec.get("query") is None):
        problems.append("a 'sql' source needs exactly one of 'table' or 'query'")
    try:
        url = resolve_url(spec.get("url"), url_env=spec.get("url_env"), password_env=spec.get("password_env"))
    except ValueError as exc:
        return problems + [str(exc)]
    from crm_analysis.data.sql import sqlite_file_problem

    missing = sqlite_file_problem(url)
    if missing is not None:
        return problems + [missing]
    import sqlalchemy as sa

    try:  # loads the dialect and imports its driver; connects to nothing
        sa.create_engine(url).dispose()
    except Exception as exc:  # noqa: BLE001 - a missing driver or an unknown dialect, said plainly
        problems.append(
            f"the database driver for {url.drivername!r} cannot be loaded ({_error_text(exc)}): install it into "
            "the environment (e.g. pip install psycopg for postgresql+psycopg, pyodbc for mssql+pyodbc) or fix "
            "the URL's scheme"
        )
    return problems


def probe_source(
    spec: Mapping[str, Any] | None,
    kind: Kind,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    as_of: object = None,
) -> SourceCheck:
    """Check a data spec before a report runs, and learn the data's first date (the report's pre-flight).

    In order:

    1. the loader, the kind and the keys (as :func:`load_source`);
    2. ``sql``: exactly one of ``table`` / ``query``, the URL's environment
       variables set, the driver importable, an SQLite database file present
       (no connection is made; the rows are checked when the notebook reads
       them);
    3. the file (``path``; ``database`` for ``duckdb``) exists;
    4. its header (CSV, read with ``read_options``; a reader failure is
       explained by the data layer's checks: empty file, encoding, not a text
       file, ...), schema (Parquet), sheet (workbook) or relation (DuckDB) has
       every mapped column and the required canonical columns (or, for a
       data-set loader, the columns it reads); ``filter`` names a column
       there is;
    5. a file up to 256 MiB (workbooks: 32 MiB; Parquet: also up to 20
       million rows) is **loaded whole with** :func:`load_source`, the
       function the data-quality notebook calls, and any error of the loader
       (dates it cannot read, a header without rows, bytes that do not
       decode, decimal commas, a filter matching nothing, ...) is a problem,
       in the loader's own words. Larger files, and DuckDB and SQL sources,
       are checked when the notebook loads them (``deferred`` says so);
    6. when ``as_of`` is given, the first date (``timestamp`` of
       transactions, ``booking_date`` of bookings) is not after it. The date
       comes from the loaded data, else, for a larger file, from a Parquet
       date column's statistics or a text date column read by the loaders'
       date policy (:mod:`crm_analysis.data.dates`; its errors are problems
       too).

    Parameters
    ----------
    spec : mapping or None
        Source specification (see the module docstring).
    kind : {"transactions", "bookings"}
        Which canonical schema the source must feed.
    base_dir : str or path, optional
        Folder relative paths are resolved against (default: the current directory).
    as_of : date-like, optional
        Observation end of the analysis.

    Returns
    -------
    SourceCheck
        The problems (an empty list when the spec loads), the first date where
        known, whether the data were loaded, and what was left to the run.
    """
    try:
        spec, loader = _check_spec(spec, kind)
    except ValueError as exc:
        return SourceCheck([str(exc)])
    if loader in ("none", "synthetic"):
        return SourceCheck([])
    if loader == "sql":
        return SourceCheck(_sql_problems(spec), deferred="the rows of a database source are checked when the "
                                                         "data-quality notebook reads them")
    key, required = _FILE_OPTIONS.get(loader, ("path", "path" in _KEYS[loader]))
    if loader == "duckdb" and (spec.get("table") is None) == (spec.get("query") is None):
        return SourceCheck(["a 'duckdb' source needs exactly one of 'table' or 'query'"])
    file = source_file(spec, base_dir=base_dir)
    if file is None:
        return SourceCheck([f"loader {loader!r} needs {key!r} (the file to read)"] if required else [])
    if not file.exists():
        return SourceCheck([f"file not found: {file}"])
    if not file.is_file():
        return SourceCheck([f"not a file: {file}"])
    probe = _PROBES.get(loader)
    header: list[str] | None = None
    if probe is not None and probe.header is not None:
        try:
            header = probe.header(file, spec)
        except DataValidationError as exc:  # the data layer's own file errors name the file and the fix
            return SourceCheck([str(exc)])
        except Exception as exc:  # noqa: BLE001 - any reader error is a problem to report, not to raise
            return SourceCheck([f"cannot read the columns of {file}: {_error_text(exc)}"])
    problems = _header_problems(header, spec, loader, kind, file, probe) if header is not None else []
    if problems:
        return SourceCheck(problems)
    canon = _DATE_COLUMN[kind]
    raw = probe.raw_columns(spec) if probe is not None and probe.raw_columns is not None else None
    column = (raw if raw is not None else dict(spec.get("columns") or {})).get(canon, canon)
    if loader == "duckdb":
        return SourceCheck([], deferred="the rows of a DuckDB source are checked when the data-quality notebook "
                                        "reads them")
    too_large = _too_large(loader, file)
    if too_large is None:  # the loader the notebook calls, on the whole file
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the notebook shows the loader's warnings
                frame = load_source(spec, kind, base_dir=base_dir)
        except Exception as exc:  # noqa: BLE001 - every loader error is a problem, in its own words
            return SourceCheck([_loader_message(exc, file)])
        assert frame is not None
        dates = frame[canon].dropna() if canon in frame.columns else pd.Series(dtype="datetime64[ns]")
        first = None if dates.empty else pd.Timestamp(dates.min())
        return SourceCheck(_as_of_problems(first, as_of, kind, canon, column, file), first, loaded=True,
                           columns=tuple(str(c) for c in frame.columns))
    deferred = (f"{too_large}: only its header was read; the values are checked when the data-quality notebook "
                "loads it")
    if as_of is None or probe is None or probe.first_date is None or (header is not None and column not in header):
        return SourceCheck([], deferred=deferred)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. times converted to UTC: the notebook says so
            with duckdb_value_errors(str(file)):  # DuckDB's value errors are the date policy's too
                first = probe.first_date(file, spec, canon, column)
    except (DataValidationError, ValueError) as exc:  # the date policy's own error: the loader would raise it
        return SourceCheck([_loader_message(exc, file)], deferred=deferred)
    except Exception:  # noqa: BLE001 - not decidable here; the loader reports it
        first = None
    return SourceCheck(_as_of_problems(first, as_of, kind, canon, column, file), first, deferred=deferred)


def _header_problems(header: list[str], spec: Mapping[str, Any], loader: str, kind: str, file: Path,
                     probe: _Probe | None) -> list[str]:
    """Mapped, required and filter columns against a header."""
    schema = TRANSACTIONS if kind == "transactions" else BOOKINGS
    problems: list[str] = []
    known = set(schema.names) | set(header)  # columns a filter may name (data-set loaders: a loose bound)
    raw = probe.raw_columns(spec) if probe is not None and probe.raw_columns is not None else None
    if raw is None:
        try:
            mapping = check_columns(header, schema, columns=spec.get("columns"))
        except DataValidationError as exc:
            text = str(exc)
            if loader in ("csv", "excel"):  # title rows above the header: where it is, and the option
                from crm_analysis.data.loaders import header_fix

                wanted = list(dict(spec.get("columns") or {}).values()) or list(schema.required)
                text = header_fix(text, file, header, wanted, sheet=spec.get("sheet"),
                                  read_options=_read_options(spec), encoding=spec.get("encoding"))
            problems.append(f"{file.name}: {text}")
        else:  # the loaded frame: the canonical columns provided or derived, and the other source columns
            derived = {"amount"} if kind == "transactions" else {"units", "fare_class"}
            known = set(mapping) | derived | (set(header) - set(mapping.values()))
    else:
        missing = [c for c in raw.values() if c not in header]
        if missing:
            problems.append(f"{file.name}: missing column(s) {missing} that the {loader!r} loader reads; "
                            f"found columns: {header}")
        mapping = {c: s for c, s in raw.items() if s in header}
    if not problems:  # a per-column date_format whose key names no date column
        from crm_analysis.data.dates import check_date_format_keys

        dates = [c.name for c in schema if c.dtype == "datetime64[ns]"]
        try:
            check_date_format_keys(spec.get("date_format"), {c: s for c, s in mapping.items() if c in dates},
                                   canonical=dates)
        except DataValidationError as exc:
            problems.append(f"{file.name}: {exc}")
    flt = spec.get("filter")
    if isinstance(flt, Mapping):
        bad = [c for c in flt if c not in known]
        if bad:
            problems.append(f"filter column(s) {bad} are not columns of the {kind} loaded from {file.name}; "
                            f"they can be: {sorted(known)}")
    return problems


def _as_of_problems(first: pd.Timestamp | None, as_of: object, kind: str, canon: str, column: str,
                    file: Path) -> list[str]:
    if first is None or as_of is None:
        return []
    end = pd.Timestamp(str(as_of)).normalize()
    if first.normalize() <= end:
        return []
    return [
        f"as_of {end:%Y-%m-%d} is before all {kind}: the first {canon} in {file.name} "
        f"(column {column!r}) is {first:%Y-%m-%d}, so nothing would be analysed; "
        f"set as_of to {first:%Y-%m-%d} or later"
    ]


def check_source(
    spec: Mapping[str, Any] | None,
    kind: Kind,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    as_of: object = None,
) -> list[str]:
    """Check a data spec before a report runs (the report's pre-flight); the problems of :func:`probe_source`.

    The keys, the file, its header and, for files up to 256 MiB (workbooks
    32 MiB), the whole data loaded with :func:`load_source`, so that an error
    the loader would raise in the data-quality notebook stops the run before
    it starts; ``as_of`` not before all the data. See :func:`probe_source`
    for the steps and what is left to the run.

    Parameters
    ----------
    spec : mapping or None
        Source specification (see the module docstring).
    kind : {"transactions", "bookings"}
        Which canonical schema the source must feed.
    base_dir : str or path, optional
        Folder relative paths are resolved against (default: the current directory).
    as_of : date-like, optional
        Observation end of the analysis.

    Returns
    -------
    list of str
        One message per problem (file names included); empty when the spec
        loads.

    Examples
    --------
    >>> check_source({"loader": "csv", "path": "no/such.csv"}, "transactions")  # doctest: +ELLIPSIS
    ['file not found: .../no/such.csv']
    """
    return probe_source(spec, kind, base_dir=base_dir, as_of=as_of).problems
