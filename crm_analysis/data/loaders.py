"""Loaders: any supported source -> canonical pandas frame or DuckDB relation.

Supported sources
-----------------
* a pandas ``DataFrame``;
* a path to a CSV file (``.csv``, ``.csv.gz``, ``.tsv``, ``.txt``, also
  compressed), a Parquet file (``.parquet``, ``.pq``, ``.parq``) or an Excel
  workbook (``.xlsx``, ``.xlsm``; ``sheet=`` picks the sheet), recognised by
  suffix or named with ``fmt="csv"`` / ``fmt="parquet"`` / ``fmt="excel"``;
* a DuckDB table name or SQL query (``source="SELECT ..."``) together with
  ``con=`` a DuckDB connection or the path of a ``.duckdb`` file (a query
  without ``con`` runs in a fresh in-memory database, which is enough for
  ``SELECT * FROM read_parquet('...')``);
* a folder of Parquet files (every ``*.parquet`` file below it) or a glob
  pattern (``"tx/part-*.parquet"``, ``"exports/2024-*.csv"``): the matching
  files are read as one source, each with the checks of a single file;
* a DuckDB relation;
* a SQL database (PostgreSQL, ... via SQLAlchemy): a connection URL such as
  ``"postgresql+psycopg://crm@db:5432/crm"`` (or a SQLAlchemy ``URL`` /
  ``Engine`` / ``Connection``) with ``table="schema.table"`` or
  ``query="SELECT ... WHERE country = :country"`` and ``params=`` (bound,
  never pasted into the SQL); read into pandas in chunks (see
  :mod:`crm_analysis.data.sql` and ``docs/databases.md``).

``columns`` maps canonical names to the source's names, e.g.
``{"customer_id": "CustomerID", "timestamp": "InvoiceDate"}``, so that files
never need renaming. :func:`load_transactions` / :func:`load_bookings` read
into pandas and validate (:mod:`crm_analysis.data.validation`);
:func:`transactions_relation` / :func:`bookings_relation` instead project the
source to canonical names and types in DuckDB SQL, lazily, for aggregations
over data larger than memory.

Files are read the same way on both paths (:mod:`crm_analysis.data.files`):
CSV text is decoded with ``encoding`` (default UTF-8) and split by ``","``
(a tab for ``.tsv``) unless ``read_options`` give ``sep``, with the header on
the first line; undecodable, empty and header-only files, a CSV that parses
into one column and numbers written with decimal commas raise
:class:`~crm_analysis.data.errors.SourceFileError` naming the file and the fix.
The DuckDB path reads Excel workbooks through pandas (a registered frame, not
lazy) and CSV files in encodings other than UTF-8 from a UTF-8 copy.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, SourceNotFoundError, shown

import glob as _glob
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from crm_analysis.data.engine import connect, quote_identifier, quote_literal, quote_qualified
from crm_analysis.data.errors import DataValidationError, DataWarning, SourceFileError, duckdb_value_errors
from crm_analysis.data.files import (
    EXCEL_SUFFIXES,
    duckdb_missing_values,
    missing_value_options,
    check_header,
    excel_sheet_names,
    header_row_hint,
    LEGACY_SPREADSHEET_SUFFIXES,
    Sheet,
    check_decimal_commas,
    check_has_rows,
    check_single_column,
    check_text_file,
    default_separator,
    normalise_encoding,
    parse_error,
    read_excel_sheets,
    utf8_copy,
)
from crm_analysis.data.schema import BOOKING_STATUSES, BOOKINGS, TRANSACTIONS, Schema
from crm_analysis.data.sql import DEFAULT_CHUNKSIZE, is_sql_source, read_sql_source
from crm_analysis.data.dates import check_date_format_keys, check_date_orders, date_format_for, timestamp_sql
from crm_analysis.data.numbers import NumberFormat, number_check, number_format, number_sql
from crm_analysis.data.value_checks import ValueCheck, error_sql, new_token, register
from crm_analysis.data.validation import (
    STATUS_SYNONYMS,
    missing_status_message,
    status_message,
    whole_numbers_message,
    FLOAT_TEXT_ID,
    ID_COLUMNS,
    STRIP_SQL_CLASS,
    _ensure_required,
    _header_hint,
    resolve_columns,
    validate_bookings,
    validate_transactions,
)

__all__ = [
    "Source",
    "load_transactions",
    "load_bookings",
    "read_source",
    "header_fix",
    "check_comma_numbers",
    "transactions_relation",
    "bookings_relation",
    "source_relation",
    "parquet_glob",
    "text_sql",
]

Source = pd.DataFrame | str | os.PathLike | duckdb.DuckDBPyRelation
Format = Literal["csv", "parquet", "excel", "duckdb", "sql"]
Connection = duckdb.DuckDBPyConnection | str | os.PathLike | None

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_COMPRESSION = (".gz", ".bz2", ".zst", ".xz", ".zip")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_SQL_START = re.compile(r"^\s*(\(|select\b|with\b|from\b|values\b|table\b|pivot\b|unpivot\b|describe\b|summarize\b)", re.I)


# ------------------------------------------------------------------ sources
_GLOB_CHARS = "*?["


@dataclass(frozen=True)
class _FileSet:
    """The files of a glob pattern or of a Parquet folder (sorted), read as one source."""

    pattern: str
    files: tuple[Path, ...]

    def __str__(self) -> str:
        return self.pattern


def parquet_glob(path: str | os.PathLike[str]) -> str | None:
    """The ``read_parquet`` glob of a Parquet folder or glob pattern, else ``None``.

    Parameters
    ----------
    path : str or path
        A folder (all ``*.parquet`` files below it are used, at any depth) or
        a glob pattern.

    Returns
    -------
    str or None
        The glob pattern, or ``None`` when ``path`` is neither a folder nor a
        glob (e.g. a single file).

    Examples
    --------
    >>> parquet_glob("tx/part-*.parquet")
    'tx/part-*.parquet'
    """
    text = os.fspath(path)
    if Path(text).is_dir():
        return str(Path(text) / "**" / "*.parquet")
    if any(ch in text for ch in _GLOB_CHARS) and not Path(text).exists():
        return text
    return None


def existing_file(path: Any, *, what: str | None = None) -> Path:
    """``path`` as a :class:`~pathlib.Path`; :class:`SourceNotFoundError` when no file is there (URLs pass).

    The one existence check of a file source (``read_source`` with a format, the data sets' loaders); ``what``
    is added to the message in brackets (e.g. which data set and where to get it).
    """
    text = os.fspath(path)
    if "://" not in text and not Path(text).exists():
        raise SourceNotFoundError(f"no such file: {text}" + (f" ({what})" if what else ""))
    return Path(text)


def _file_set(source: Any, fmt: str | None) -> tuple[Format, _FileSet] | None:
    """(format, files) of a folder or glob source; None for anything else.

    A folder is read as all Parquet files below it; a glob's format is its
    suffix (or ``fmt``). A pattern that matches no file raises
    :class:`crm_analysis.exceptions.SourceNotFoundError`.
    """
    if isinstance(source, str) and _SQL_START.match(source):
        return None
    text = os.fspath(source)
    path = Path(text)
    if path.is_dir():
        if fmt not in (None, "parquet"):
            raise DataValidationError(
                f"{path} is a folder; a folder is read as its Parquet files. For {fmt} files pass a glob "
                f"such as {str(path / '*.csv')!r}"
            )
        pattern = str(path / "**" / "*.parquet")
        files = _glob_files(pattern)
        if not files:
            raise SourceNotFoundError(
                f"folder {path} holds no .parquet file (at any depth); for CSV files pass a glob such as "
                f"{str(path / '*.csv')!r}"
            )
        return "parquet", _FileSet(pattern, files)
    if path.exists() or not any(ch in text for ch in _GLOB_CHARS):
        return None
    kind = fmt if fmt in ("csv", "parquet") else _file_format(path)
    if kind not in ("csv", "parquet"):
        raise DataValidationError(
            f"cannot tell the format of the files matching {text!r}: end the pattern in .parquet or .csv "
            "(or pass fmt='csv' / fmt='parquet'); Excel workbooks are read one at a time"
        )
    files = _glob_files(text)
    if not files:
        raise SourceNotFoundError(f"no file matches {text!r}")
    return kind, _FileSet(text, files)


def _glob_files(pattern: str) -> tuple[Path, ...]:
    return tuple(sorted(Path(p) for p in _glob.glob(pattern, recursive=True) if Path(p).is_file()))


def _file_format(path: Path) -> Format | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    if suffixes[-1] in _CSV_SUFFIXES:
        return "csv"
    if suffixes[-1] in _PARQUET_SUFFIXES:
        return "parquet"
    if suffixes[-1] in EXCEL_SUFFIXES:
        return "excel"
    if suffixes[-1] in LEGACY_SPREADSHEET_SUFFIXES:
        raise SourceFileError(
            f"{path}: {suffixes[-1]} spreadsheets are not read by the package; open the file in a spreadsheet "
            "program and save it as an Excel workbook (.xlsx) or as CSV"
        )
    return None


def _classify(source: Any, con: Connection, fmt: str | None) -> tuple[str, Any]:
    """Return (kind, payload) with kind in frame/relation/csv/parquet/excel/query/table.

    A file source's payload is its ``Path``, or a :class:`_FileSet` for a
    folder of Parquet files or a glob pattern (``"tx/*.parquet"``,
    ``"exports/2024-*.csv"``).
    """
    if isinstance(source, pd.DataFrame):
        return "frame", source
    if isinstance(source, duckdb.DuckDBPyRelation):
        return "relation", source
    if fmt == "sql" or is_sql_source(source):
        raise DataValidationError(
            "a SQL database source is read into pandas with load_transactions / load_bookings / "
            "read_source (table= or query=); pass the resulting frame to DuckDB"
        )
    if not isinstance(source, (str, os.PathLike)):
        raise InputTypeError(
            "source must be a pandas DataFrame, a path (CSV / Parquet / Excel), a DuckDB table name or "
            f"query, or a DuckDB relation; got {type(source).__name__}"
        )
    if fmt is not None and fmt not in ("csv", "parquet", "excel", "duckdb"):
        raise InputError(f"fmt must be 'csv', 'parquet', 'excel' or 'duckdb', got {shown(fmt)}")
    if fmt != "duckdb":
        found = _file_set(source, fmt)
        if found is not None:
            return found
    text = os.fspath(source)
    if fmt in ("csv", "parquet", "excel"):
        return fmt, existing_file(text)
    is_sql = isinstance(source, str) and bool(_SQL_START.match(text))
    path = Path(text)
    guessed = None if is_sql or fmt == "duckdb" else _file_format(path)
    if guessed is not None and (con is None or isinstance(source, os.PathLike) or path.exists()):
        if not path.exists():
            raise SourceNotFoundError(f"no such file: {path}")
        return guessed, path
    if fmt == "duckdb" or con is not None:
        if isinstance(source, os.PathLike):
            raise InputTypeError("with con= or fmt='duckdb', source must be a table name or an SQL query string")
        return ("query" if is_sql else "table"), text
    if is_sql:
        return "query", text
    if path.exists():
        raise DataValidationError(
            f"cannot tell the format of {path} from its suffix; pass fmt='csv', fmt='parquet' or fmt='excel'"
        )
    raise DataValidationError(
        f"source {text!r} is neither an existing CSV/Parquet/Excel file nor an SQL query; "
        "a DuckDB table name needs con= (a connection or the path of a .duckdb file)"
    )


def _open(con: Connection) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """Connection object for ``con``; second item: whether we opened it."""
    if con is None:
        return connect(), True
    if isinstance(con, duckdb.DuckDBPyConnection):
        return con, False
    if isinstance(con, (str, os.PathLike)):
        path = Path(con)
        if not path.exists():
            raise SourceNotFoundError(f"DuckDB database file not found: {path}")
        return connect(path, read_only=True), True
    raise InputTypeError(f"con must be a DuckDB connection or a path to a .duckdb file, got {type(con).__name__}")


def _string_sources(
    schema: Schema, columns: Mapping[str, str] | None, numbers: bool = False
) -> list[str]:
    """Source names of the canonical columns read from a file as text.

    Ids keep their leading zeros, and dates are read by the package's date
    policy (:mod:`crm_analysis.data.dates`), not guessed by the CSV reader.
    With ``numbers`` the numeric canonical columns too: they are then parsed
    by :mod:`crm_analysis.data.numbers` (a declared decimal comma, and the
    DuckDB path, whose reader would otherwise fail with a raw error on a
    value past its sample).
    """
    columns = dict(columns or {})
    kinds = ("string", "datetime64[ns]") + (("float64", "int64") if numbers else ())
    return [columns.get(c.name, c.name) for c in schema if c.dtype in kinds]


def _number_sources(schema: Schema, columns: Mapping[str, str] | None) -> list[str]:
    """Source names of the numeric canonical columns (read as text by the number policy where declared)."""
    columns = dict(columns or {})
    return [columns.get(c.name, c.name) for c in schema if c.dtype in ("float64", "int64")]


def _csv_date_options(opts: dict[str, Any], dayfirst: bool | None) -> bool | None:
    """Take pandas' ``dayfirst`` out of CSV read options (the date policy uses it).

    ``parse_dates`` without ``date_format`` would let pandas guess the order of
    day and month value by value; it is removed, and the canonical date
    columns are parsed by :func:`crm_analysis.data.dates.parse_datetime_column`.
    With ``date_format`` (an explicit format) pandas' parsing is kept.
    """
    if "dayfirst" in opts:
        value = opts.pop("dayfirst")
        if dayfirst is not None and value != dayfirst:
            raise DataValidationError(f"dayfirst is given twice with different values ({dayfirst!r}, read_options: {shown(value)})")
        dayfirst = value
    if "parse_dates" in opts and "date_format" not in opts:
        opts.pop("parse_dates")
    return dayfirst


def _file_options(kind: str, opts: dict[str, Any], encoding: str | None, sheet: Sheet) -> str | None:
    """Take ``encoding`` out of ``opts``; check that ``encoding`` / ``sheet`` suit the source kind."""
    if "encoding" in opts:
        given = opts.pop("encoding")
        if encoding is not None and normalise_encoding(given) != normalise_encoding(encoding):
            raise InputError(f"encoding is given twice with different values: {encoding!r} and read_options {given!r}")
        encoding = given
    if encoding is not None and kind != "csv":
        raise InputError(f"encoding= is for CSV (text) files; this source is read as {kind}")
    if sheet is not None and kind != "excel":
        raise InputError(f"sheet= is for Excel workbooks (.xlsx); this source is read as {kind}")
    return encoding


def _separator(path: Path, opts: dict[str, Any]) -> str | None:
    """The CSV separator in ``opts`` (set to the default for ``path`` when absent)."""
    for key in ("sep", "delimiter", "delim"):
        if key in opts:
            return opts[key]
    opts["sep"] = default_separator(path)
    return opts["sep"]


def _read_csv(path: Path, opts: dict[str, Any], text_columns: list[str] | None, encoding: str | None) -> pd.DataFrame:
    """pandas' read_csv with the file checks of :mod:`crm_analysis.data.files`."""
    check_text_file(path, encoding=encoding)
    sep = _separator(path, opts)
    if encoding is not None:
        opts["encoding"] = encoding
    opts.pop("dayfirst", None)
    if "parse_dates" in opts and "date_format" not in opts:
        opts.pop("parse_dates")  # the date policy parses dates, never pandas' per-value guess
    # rows with more fields than the header: by default pandas would take the
    # first field as the index and shift every column; with index_col=False it
    # drops the extra fields, warning. Both are silent misreads: raise instead.
    opts.setdefault("index_col", False)
    check_header(path, sep, encoding)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            header = None
            if text_columns or isinstance(opts.get("na_values"), Mapping):
                header = pd.read_csv(path, nrows=0, **{k: v for k, v in opts.items() if k != "dtype"})
            # only an empty field is missing (as in DuckDB): pandas' default list would
            # make customers called "NA", "null" or "None" disappear; declared markers add to it
            missing_value_options(opts, columns=None if header is None else list(header.columns))
            if text_columns:
                assert header is not None
                parsed = opts.get("parse_dates") or []
                parsed = list(parsed) if isinstance(parsed, (list, tuple)) else []
                present = [c for c in text_columns if c in header.columns and c not in parsed]
                user = opts.get("dtype")
                if user is None or isinstance(user, Mapping):
                    opts["dtype"] = {**{c: "string" for c in present}, **dict(user or {})}
            df = pd.read_csv(path, **opts)
        for w in caught:
            if issubclass(w.category, pd.errors.ParserWarning) and "Length of header" in str(w.message):
                raise pd.errors.ParserError(f"some data rows have more fields than the header ({w.message})")
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except pd.errors.ParserError as exc:
        raise parse_error(path, sep, encoding, exc) from None
    except pd.errors.EmptyDataError:
        raise SourceFileError(f"{path}: the file is empty; there is nothing to read") from None
    check_single_column(path, list(df.columns), sep)
    check_has_rows(path, len(df), list(df.columns))
    return df


def _check_not_empty(path: Path) -> None:
    if path.is_file() and path.stat().st_size == 0:
        raise SourceFileError(
            f"{path}: the file is empty (0 bytes); there is nothing to read. Check that the export finished "
            "and that the path points at the data file."
        )


def _numeric_sources(schema: Schema, columns: Mapping[str, str] | None, found: list[str]) -> dict[str, str]:
    """Source column -> canonical name, for the numeric canonical columns present in the source."""
    columns = dict(columns or {})
    out = {}
    for col in schema:
        if col.dtype in ("float64", "int64"):
            src = columns.get(col.name, col.name)
            if src in found:
                out[src] = col.name
    return out


def _check_frame_numbers(raw: pd.DataFrame, path: Path, schema: Schema, columns: Mapping[str, str] | None) -> None:
    """Raise when a numeric canonical column of a file holds decimal-comma text."""
    for src, canon in _numeric_sources(schema, columns, list(raw.columns)).items():
        s = raw[src]
        if not pd.api.types.is_numeric_dtype(s.dtype):
            check_decimal_commas(path, src, canon, s.astype(object).tolist())


def _file_path(source: Any, con: Connection, fmt: str | None) -> Path | None:
    """The path of a CSV or Excel source (None for other sources)."""
    if isinstance(source, (pd.DataFrame, duckdb.DuckDBPyRelation)) or fmt == "sql" or is_sql_source(source):
        return None
    kind, payload = _classify(source, con, fmt)
    if kind not in ("csv", "excel"):
        return None
    return Path(str(payload)) if isinstance(payload, _FileSet) else payload


def header_fix(
    message: str,
    path: Path,
    found: Sequence[object],
    wanted: Sequence[str],
    *,
    sheet: Sheet = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
) -> str:
    """A missing-columns message of a CSV / Excel file, with where its header really is.

    When rows above the header (a title, blank rows) were read as the
    header, the exact ``skiprows`` (and ``sep``) that reads it replaces the
    generic hint; a workbook's sheet is named in any case.

    Parameters
    ----------
    message : str
        The error's text.
    path : Path
        The CSV file or workbook.
    found : sequence
        Column names read.
    wanted : sequence of str
        Source columns expected (the ``columns`` mapping's values, or the
        required canonical names).
    sheet, read_options, encoding
        As given to the loader.

    Returns
    -------
    str
        The message, completed (unchanged when nothing is known to add).
    """
    if all(w in [str(f) for f in found] for w in wanted) or not path.is_file():
        return message
    name: str | int | None = None
    if path.suffix.lower() in EXCEL_SUFFIXES:
        try:
            names = excel_sheet_names(path)
        except SourceFileError:
            return message
        first = sheet[0] if isinstance(sheet, (list, tuple)) and sheet else sheet
        name = names[0] if first is None else (names[first] if isinstance(first, int) and 0 <= first < len(names)
                                               else first)
    hint = header_row_hint(path, wanted, sheet=name, read_options=read_options, encoding=encoding)
    if hint:  # the exact fix replaces the generic one
        generic = _header_hint(found)
        text = message.replace(generic, "") if generic else message
        return f"{text}. The first row is not the header: {hint}"
    return f"{message} (sheet {name!r} of {path.name})" if name is not None else message


def _with_header_hint(
    exc: DataValidationError,
    source: Any,
    con: Connection,
    fmt: str | None,
    found: Sequence[object],
    schema: Schema,
    columns: Mapping[str, str] | None,
    read_options: Mapping[str, Any] | None,
    encoding: str | None,
    sheet: Sheet,
) -> DataValidationError:
    """``exc`` completed by :func:`header_fix` for a CSV / Excel source."""
    wanted = list(dict(columns or {}).values()) or list(schema.required)
    try:
        path = _file_path(source, con, fmt)
    except Exception:  # noqa: BLE001 - the original error stands
        return exc
    if path is None:
        return exc
    text = header_fix(str(exc), path, found, wanted, sheet=sheet, read_options=read_options, encoding=encoding)
    return exc if text == str(exc) else DataValidationError(text)


def read_source(
    source: Source,
    *,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    text_columns: list[str] | None = None,
    encoding: str | None = None,
    sheet: Sheet = None,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    number_columns: list[str] | None = None,
) -> pd.DataFrame:
    """Read any supported source into a raw pandas frame (no renaming, no schema checks).

    Parameters
    ----------
    source : DataFrame, path, str or DuckDBPyRelation
        See the module docstring.
    con : DuckDB connection or path, optional
        Connection (or ``.duckdb`` file) for table names and queries.
    fmt : {"csv", "parquet", "excel", "duckdb"}, optional
        Format, when the suffix does not tell it.
    read_options : mapping, optional
        Keyword arguments for :func:`pandas.read_csv` /
        :func:`pandas.read_parquet` / :func:`pandas.read_excel`. A CSV
        is split by ``","`` (a tab for ``.tsv``) unless they give ``sep``.
    text_columns : list of str, optional
        CSV / Excel columns to read as text (so ids keep leading zeros);
        columns absent from the file are ignored.
    number_columns : list of str, optional
        The ones of ``text_columns`` that hold numbers: in a workbook, their
        number cells are written with the declared decimal mark (see
        :func:`crm_analysis.data.files.read_excel_sheets`).
    encoding : str, optional
        Encoding of a CSV file (default UTF-8), e.g. ``"cp1252"`` or
        ``"latin-1"`` (also accepted in ``read_options``).
    sheet : str, int or list, optional
        Excel sheet name or 0-based position, or a list of sheets to stack;
        default: the workbook's only sheet (see
        :func:`crm_analysis.data.files.read_excel_sheets`).
    table, query, params, chunksize
        For a SQL database source (a URL, SQLAlchemy Engine or Connection):
        the table (``schema.table`` allowed) or the query with ``:name``
        placeholders, the placeholders' values, and the rows fetched per
        chunk (see :func:`crm_analysis.data.sql.read_sql_source`);
        ``read_options`` then go to :func:`pandas.read_sql`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SourceFileError
        A file that is empty, has no data rows, does not decode with
        ``encoding``, parses into a single column (with the separator to use),
        an unknown Excel sheet; each message names the file and the fix.
    """
    if fmt == "sql" or is_sql_source(source):
        return read_sql_source(
            source, table=table, query=query, params=params, chunksize=chunksize, read_options=read_options
        )
    if table is not None or query is not None or params:
        raise InputError(
            "table=, query= and params= are for SQL database sources (a connection URL such as "
            "'postgresql+psycopg://user@host/db'); for DuckDB pass the table name or query as source with con="
        )
    kind, payload = _classify(source, con, fmt)
    opts = dict(read_options or {})
    encoding = _file_options(kind, opts, encoding, sheet)
    if kind == "frame":
        return payload
    if kind == "relation":
        with duckdb_value_errors():  # the relation's lazy checks (e.g. of transactions_relation) run here
            return payload.df()
    if kind == "csv":
        if isinstance(payload, _FileSet):  # each file read and checked as one file would be
            return pd.concat([_read_csv(f, dict(opts), text_columns, encoding) for f in payload.files],
                             ignore_index=True)
        return _read_csv(payload, opts, text_columns, encoding)
    if kind == "excel":
        return read_excel_sheets(payload, sheet=sheet, read_options=opts, text_columns=text_columns,
                                 number_columns=number_columns)
    if kind == "parquet":
        files = payload.files if isinstance(payload, _FileSet) else (payload,)
        for f in files:
            _check_not_empty(f)
        df = pd.concat([pd.read_parquet(f, **opts) for f in files], ignore_index=True) if len(files) > 1 \
            else pd.read_parquet(files[0], **opts)
        check_has_rows(str(payload), len(df), list(df.columns))
        return df
    db, owned = _open(con)
    try:
        sql = payload if kind == "query" else f"SELECT * FROM {quote_qualified(payload)}"
        with duckdb_value_errors():
            return db.sql(sql).df()
    finally:
        if owned:
            db.close()


def load_transactions(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = True,
    encoding: str | None = None,
    sheet: Sheet = None,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Load transactions from any supported source into the canonical schema.

    Parameters
    ----------
    source : DataFrame, path, str, DuckDBPyRelation or database URL
        A DataFrame; a CSV (``.csv``, ``.csv.gz``, ...), Parquet or Excel
        (``.xlsx``) path; a DuckDB table name or SQL query (with ``con``); a
        DuckDB relation; or
        a SQL database URL (``"postgresql+psycopg://user@host:5432/db"``,
        also a SQLAlchemy URL / Engine / Connection) with ``table`` or
        ``query``.
    columns : mapping, optional
        Canonical name -> source column name, e.g.
        ``{"customer_id": "CustomerID", "timestamp": "InvoiceDate"}``.
    con : DuckDB connection or path, optional
        Connection or ``.duckdb`` file for table names / queries (a file is
        opened read-only and closed after reading).
    fmt : {"csv", "parquet", "excel", "duckdb"}, optional
        Format when the suffix does not tell it.
    read_options : mapping, optional
        Extra keyword arguments of :func:`pandas.read_csv` /
        :func:`pandas.read_parquet` / :func:`pandas.read_excel`, e.g.
        ``{"sep": ";", "decimal": ","}``. By default the CSV / Excel columns
        that feed canonical string columns are read as text.
    keep_extra : bool, default True
        Keep source columns that are not canonical (after the canonical ones).
    encoding : str, optional
        Encoding of a CSV file (default UTF-8), e.g. ``"cp1252"`` (Windows,
        Western Europe) or ``"latin-1"``.
    sheet : str, int or list, optional
        Excel: sheet name or 0-based position, or a list of sheets to stack
        (same columns); default: the workbook's only sheet.
    table : str, optional
        Database source: table or view, optionally schema-qualified
        (``"sales.orders"``); quoted by SQLAlchemy, checked to exist.
    query : str, optional
        Database source: SQL query with ``:name`` placeholders.
    params : mapping, optional
        Database source: values of the query's placeholders, bound by the
        driver (never pasted into the SQL text); a list binds ``IN :name``.
    chunksize : int, default 100_000
        Database source: rows fetched (server-side cursor) per chunk.
    dayfirst : bool, optional
        Order of ``dd/mm`` vs ``mm/dd`` dates when a column alone cannot tell
        (every day <= 12); see :mod:`crm_analysis.data.dates`. A column that
        can tell is read its way (a contradicting value is an error).
    date_format : str or mapping, optional
        Explicit ``strftime`` format of the date columns (one for all, or per
        canonical / source column name).
    timezone : str, optional
        IANA time zone of the data (e.g. ``"Europe/London"``): values with UTC
        offsets are converted to it; without it they are converted to UTC,
        and the change is recorded (see :func:`crm_analysis.data.intake_changes`).

    Returns
    -------
    pandas.DataFrame
        Canonical transactions (see :data:`crm_analysis.data.schema.TRANSACTIONS`).
        When the source has no ``amount`` but has ``quantity`` and
        ``unit_price``, ``amount = quantity * unit_price``.

    Raises
    ------
    SourceFileError
        A file that is empty, has a header but no rows, does not decode with
        ``encoding``, parses into a single column, or whose numeric columns
        hold decimal commas; the message names the file and the fix (see
        :mod:`crm_analysis.data.files`).
    DataValidationError
        Missing required columns, empty input, unparseable dates, non-numeric
        amounts (see :func:`crm_analysis.data.validation.validate_transactions`).
        For a database: :class:`crm_analysis.data.sql.DatabaseError` (a
        subclass) for a missing table, a failed connection or query; the
        message shows the URL with the password masked.

    Examples
    --------
    >>> df = pd.DataFrame({"CustomerID": [1, 2], "InvoiceDate": ["2024-01-02", "2024-01-03"],
    ...                    "Quantity": [2, 1], "UnitPrice": [1.5, 4.0]})
    >>> load_transactions(df, columns={"customer_id": "CustomerID", "timestamp": "InvoiceDate",
    ...                                "quantity": "Quantity", "unit_price": "UnitPrice"})["amount"].tolist()
    [3.0, 4.0]
    """
    return _load(
        source, TRANSACTIONS, validate_transactions, columns=columns, con=con, fmt=fmt, read_options=read_options,
        keep_extra=keep_extra, encoding=encoding, sheet=sheet, table=table, query=query, params=params,
        chunksize=chunksize, dayfirst=dayfirst, date_format=date_format, timezone=timezone,
    )


def load_bookings(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = True,
    encoding: str | None = None,
    sheet: Sheet = None,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Load bookings from any supported source into the canonical schema.

    Parameters
    ----------
    source, columns, con, fmt, read_options, keep_extra, encoding, sheet, table, query, params, chunksize
        As in :func:`load_transactions`.
    dayfirst, date_format, timezone
        As in :func:`load_transactions` (for ``booking_date``, ``arrival_date``
        and ``cancellation_date``).

    Returns
    -------
    pandas.DataFrame
        Canonical bookings (see :data:`crm_analysis.data.schema.BOOKINGS`).
        ``units`` defaults to 1 and ``fare_class`` to ``segment`` when the
        source lacks them. Status values are matched case-insensitively,
        ignoring blanks, ``-`` and ``_``, with the synonyms of
        :data:`crm_analysis.data.validation.STATUS_SYNONYMS`:
        ``"Check-Out"``/``"stayed"`` -> ``stayed``;
        ``"Canceled"``/``"cancelled"`` -> ``cancelled``;
        ``"No-Show"``/``"no_show"`` -> ``no_show``.

    Raises
    ------
    SourceFileError
        As in :func:`load_transactions`.
    DataValidationError
        Missing required columns, empty input, unparseable dates, non-numeric
        rates, unknown statuses (listed), negative nights.
    """
    return _load(
        source, BOOKINGS, validate_bookings, columns=columns, con=con, fmt=fmt, read_options=read_options,
        keep_extra=keep_extra, encoding=encoding, sheet=sheet, table=table, query=query, params=params,
        chunksize=chunksize, dayfirst=dayfirst, date_format=date_format, timezone=timezone,
    )


def _load(
    source: Source,
    schema: Schema,
    validate: Callable[..., pd.DataFrame],
    *,
    columns: Mapping[str, str] | None,
    con: Connection,
    fmt: Format | None,
    read_options: Mapping[str, Any] | None,
    keep_extra: bool,
    encoding: str | None,
    sheet: Sheet,
    table: str | None,
    query: str | None,
    params: Mapping[str, Any] | None,
    chunksize: int,
    dayfirst: bool | None,
    date_format: str | Mapping[str, str] | None,
    timezone: str | None,
) -> pd.DataFrame:
    """:func:`load_transactions` / :func:`load_bookings`: read ``source`` and ``validate`` it into ``schema``."""
    nf = number_format(read_options)
    raw = read_source(
        source,
        con=con,
        fmt=fmt,
        read_options=read_options,
        text_columns=_string_sources(schema, columns, numbers=not nf.is_default),
        number_columns=None if nf.is_default else _number_sources(schema, columns),
        encoding=encoding,
        sheet=sheet,
        table=table,
        query=query,
        params=params,
        chunksize=chunksize,
    )
    path = _file_path(source, con, fmt)
    if path is not None and nf.is_default:
        _check_frame_numbers(raw, path, schema, columns)
    dayfirst = _csv_date_options(dict(read_options or {}), dayfirst)
    try:
        return validate(
            raw, columns=columns, keep_extra=keep_extra, dayfirst=dayfirst, date_format=date_format, timezone=timezone,
            number_format=nf,
        )
    except DataValidationError as exc:
        raise _with_header_hint(exc, source, con, fmt, list(raw.columns), schema, columns, read_options,
                                encoding, sheet) from None


# ---------------------------------------------------------------- relations
_ROWS_CHECKED = 10_000  # rows of a CSV relation searched for decimal commas


def _csv_relation(
    db: duckdb.DuckDBPyConnection,
    path: Path | _FileSet,
    opts: dict[str, Any],
    text_columns: list[str] | None,
    encoding: str | None,
) -> duckdb.DuckDBPyRelation:
    """DuckDB's read_csv with the file checks and the pandas path's dialect (one file or a glob's files)."""
    files = path.files if isinstance(path, _FileSet) else (path,)
    label = Path(str(path))
    if normalise_encoding(encoding) == "utf-8":
        for f in files:
            check_text_file(f, encoding=encoding)
        read = [str(f) for f in files]
    else:  # DuckDB decodes only UTF-8 itself
        read = [str(utf8_copy(f, encoding)) for f in files]
    target: str | list[str] = read[0] if len(read) == 1 else read
    sep = _separator(files[0], opts)
    for key in ("decimal", "thousands"):  # pandas-style number format: numbers are read as text and parsed
        opts.pop(key, None)              # by crm_analysis.data.numbers on both paths
    duckdb_missing_values(opts)
    opts.setdefault("header", True)
    if "skiprows" not in opts and "skip" not in opts:
        opts["skiprows"] = 0  # the sniffer must not skip lines that do not fit its guess
    opts.setdefault("null_padding", True)  # short rows end in missing values, as in pandas
    # pandas' quoting ("" inside quotes), so a quoted field past the sniffer's sample cannot break the read
    opts.setdefault("quotechar", '"')
    opts.setdefault("escapechar", '"')
    for f in files:
        check_header(f, sep, encoding)
    try:
        if text_columns and "dtype" not in opts:
            found = db.read_csv(target, **opts).columns
            present = [c for c in text_columns if c in found]
            if present:
                opts["dtype"] = {c: "VARCHAR" for c in present}
        rel = db.read_csv(target, **opts)
        check_single_column(label, rel.columns, sep)
        n_rows = len(rel.limit(1).fetchall())
    except duckdb.Error as exc:
        raise parse_error(label, sep, encoding, exc) from None
    check_has_rows(label, n_rows, rel.columns)
    return rel


def _check_relation_numbers(
    rel: duckdb.DuckDBPyRelation, path: Path, schema: Schema, columns: Mapping[str, str] | None
) -> None:
    """Raise when a numeric canonical column of a file holds decimal-comma text (first rows)."""
    _sniff_relation(rel, path, _numeric_sources(schema, columns, list(rel.columns)))


def _sniff_relation(rel: duckdb.DuckDBPyRelation, path: Path, wanted: Mapping[str, str]) -> None:
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    for src, canon in wanted.items():
        if types.get(src) == "VARCHAR":
            values = [r[0] for r in rel.project(quote_identifier(src)).limit(_ROWS_CHECKED).fetchall()]
            check_decimal_commas(path, src, canon, values)


def check_comma_numbers(
    source: Any,
    rel: duckdb.DuckDBPyRelation,
    columns: Mapping[str, str],
    *,
    con: Connection = None,
    fmt: str | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> None:
    """The file readers' decimal-comma diagnosis, for a reader that reads ``source`` through :func:`source_relation`.

    Every reader of a CSV / Excel file checks its number columns the same way
    before reading them (:func:`load_transactions`, :func:`transactions_relation`,
    the RFM summaries, ``scale.daily_demand``), so a file gives the same
    message whichever function reads it: the one-line fix when every bad value
    is a number written with commas, else the number policy's message
    (:func:`crm_analysis.data.files.check_decimal_commas`).

    Parameters
    ----------
    source : object
        The source as given (only a CSV / Excel file is checked).
    rel : duckdb.DuckDBPyRelation
        Its relation (:func:`source_relation`).
    columns : mapping
        Canonical name -> source column of the number columns read, e.g. ``{"amount": "Total"}``.
    con : duckdb.DuckDBPyConnection, optional
        The connection the source is read on.
    fmt : str, optional
        The source's declared format.
    read_options : mapping, optional
        Reader options; with a declared ``decimal`` / ``thousands`` nothing is checked here.

    Raises
    ------
    crm_analysis.data.SourceFileError
        The numbers of a column are written with commas (naming the file, the column, examples and the
        read option that fixes it).
    """
    if not number_format(read_options).is_default:
        return
    path = _file_path(source, con, fmt)
    if path is not None:
        _sniff_relation(rel, path, {src: canon for canon, src in columns.items()})


def source_relation(
    source: Source,
    *,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    text_columns: list[str] | None = None,
    encoding: str | None = None,
    sheet: Sheet = None,
    number_columns: list[str] | None = None,
) -> duckdb.DuckDBPyRelation:
    """The raw source as a lazy DuckDB relation (nothing is read into pandas).

    The package's one way from a source to a DuckDB relation: the loaders'
    relations (:func:`transactions_relation`), the RFM summaries of files and
    relations (:func:`crm_analysis.rfm.rfm_summary`), the out-of-core demand
    (:func:`crm_analysis.scale.daily_demand`) and batch scoring all read
    their sources here, with the same file checks and CSV dialect.

    Parameters
    ----------
    source : DataFrame, path, str or DuckDBPyRelation
        See :func:`load_transactions`; also a folder (all ``*.parquet``
        files below it) or a glob pattern such as ``"tx/*.parquet"`` or
        ``"exports/*.csv"`` (every matching file gets the checks of a
        single file).
    con : DuckDB connection or path, optional
        Connection to use (a ``.duckdb`` path is opened read-only and kept
        open by the relation). Default: a new in-memory connection.
    fmt : {"csv", "parquet", "excel", "duckdb"}, optional
        Format when the suffix does not tell it.
    read_options : mapping, optional
        Keyword arguments of DuckDB's ``read_csv`` / ``read_parquet`` (for
        Excel: of :func:`pandas.read_excel`). A CSV is split by ``","``
        (a tab for ``.tsv``) with the header on the first line unless they
        give ``sep`` / ``header`` / ``skiprows``, as on the pandas path.
    text_columns : list of str, optional
        CSV / Excel columns to read as ``VARCHAR`` (absent ones are ignored).
    number_columns : list of str, optional
        The ones of ``text_columns`` that hold numbers (workbooks: number
        cells written with the declared decimal mark), as in :func:`read_source`.
    encoding : str, optional
        Encoding of a CSV file (default UTF-8). DuckDB decodes only UTF-8:
        for another encoding the relation reads a UTF-8 copy of the file,
        written to a temporary folder that is removed when the process exits.
    sheet : str, int or list, optional
        Excel sheet(s), as in :func:`read_source`. An Excel workbook is read
        by pandas and registered as a frame (not lazy: workbooks are small).

    Returns
    -------
    duckdb.DuckDBPyRelation

    Raises
    ------
    SourceFileError
        As :func:`read_source`: the same files give the same errors.
    """
    kind, payload = _classify(source, con, fmt)
    opts = dict(read_options or {})
    encoding = _file_options(kind, opts, encoding, sheet)
    if kind == "relation":
        return payload
    db, _ = _open(con)
    if kind == "frame":
        return db.from_df(payload)
    if kind == "excel":
        return db.from_df(read_excel_sheets(payload, sheet=sheet, read_options=opts, text_columns=text_columns,
                                            number_columns=number_columns))
    if kind == "parquet":
        files = payload.files if isinstance(payload, _FileSet) else (payload,)
        for f in files:
            _check_not_empty(f)
        target = str(files[0]) if len(files) == 1 and not isinstance(payload, _FileSet) else [str(f) for f in files]
        rel = db.read_parquet(target, **opts)
        check_has_rows(str(payload), len(rel.limit(1).fetchall()), rel.columns)
        return rel
    if kind == "csv":
        return _csv_relation(db, payload, opts, text_columns, encoding)
    sql = payload if kind == "query" else f"SELECT * FROM {quote_qualified(payload)}"
    return db.sql(sql)


def text_sql(expr: str, type_name: str, *, id_column: bool = False) -> str:
    """SQL of a canonical text value (ids, segments) from a column of DuckDB type ``type_name``.

    The DuckDB twin of the pandas path's string cast: integral floats lose
    their ``.0`` (``17850.0`` -> ``"17850"``) and blanks around the value are
    stripped (:data:`crm_analysis.data.validation.STRIP_CHARS`); for an id
    column, text written as an integral float (``"17850.0"``) loses its
    ``.0`` too (:data:`crm_analysis.data.validation.FLOAT_TEXT_ID`).
    """
    return _sql_string(expr, type_name, id_column)


def _sql_string(expr: str, type_name: str, id_column: bool = False) -> str:
    if type_name in ("DOUBLE", "FLOAT", "REAL"):
        text = (
            f"CASE WHEN isfinite({expr}) AND {expr} = trunc({expr}) AND abs({expr}) < 9007199254740992 "
            f"THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) ELSE CAST({expr} AS VARCHAR) END"
        )
    else:
        text = f"CAST({expr} AS VARCHAR)"
    # the blanks the pandas path strips (validation.STRIP_CHARS), here too
    cls = STRIP_SQL_CLASS
    out = f"regexp_replace({text}, {quote_literal('^' + cls + '+|' + cls + '+$')}, '', 'g')"
    if id_column:
        out = f"regexp_replace({out}, {quote_literal(FLOAT_TEXT_ID)}, '\\1')"
    return out


def _sql_status(expr: str, label: str = "status", token: str = "") -> tuple[str, list[ValueCheck]]:
    """SQL of the canonical status and its value checks (missing, then unknown), as :func:`normalise_status`."""
    key = f"regexp_replace(lower(CAST({expr} AS VARCHAR)), '[\\s_\\-]+', '', 'g')"
    whens = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in STATUS_SYNONYMS.items()
    )
    allowed = list(BOOKING_STATUSES)
    missing = quote_literal(f"column {label!r}: a value is missing; allowed: {allowed} (give every booking its "
                            "status, or drop those rows first)")
    head = quote_literal(f"column {label!r}: value '")
    tail = quote_literal(f"' is outside the allowed statuses {allowed} (accepted spellings, case-insensitive, blanks, "
                         f"'-' and '_' ignored: {sorted(STATUS_SYNONYMS)}; map it to one of them first)")
    unknown = f"{head} || CAST({expr} AS VARCHAR) || {tail}"
    known = "(" + ", ".join(quote_literal(k) for k in STATUS_SYNONYMS) + ")"
    checks = [ValueCheck(f"({expr} IS NULL)", "NULL", lambda n, ex: missing_status_message(label, n)),
              ValueCheck(f"({expr} IS NOT NULL AND {key} NOT IN {known})", f"CAST({expr} AS VARCHAR)",
                         lambda n, ex: status_message(label, n, ex))]
    message = f"(CASE WHEN {expr} IS NULL THEN {missing} ELSE {unknown} END)"
    sql = f"CASE {key} {whens} ELSE {error_sql(message, token)} END"
    return sql, checks


def _project(
    rel: duckdb.DuckDBPyRelation,
    schema: Schema,
    columns: Mapping[str, str] | None,
    keep_extra: bool,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
    numbers: NumberFormat | None = None,
) -> duckdb.DuckDBPyRelation:
    found = list(rel.columns)
    numbers = numbers or NumberFormat()
    token = new_token()  # a bad value found while a query runs is reported with every bad row (value_checks)
    checks: list[ValueCheck] = []
    orders: dict[str, tuple[bool, str]] = {}
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    mapping = resolve_columns(found, schema, columns=columns)
    derived: dict[str, str] = {}
    if schema is TRANSACTIONS and "amount" not in mapping and {"quantity", "unit_price"} <= set(mapping):
        q, p = (quote_identifier(mapping[c]) for c in ("quantity", "unit_price"))
        def num(c: str, e: str) -> str:
            src = mapping[c]
            label = c if src == c else f"{c} ({src})"
            if types[src] != "VARCHAR":
                return f"CAST({e} AS DOUBLE)"
            checks.append(number_check(e, label, numbers))
            return number_sql(e, label, numbers, token=token)

        derived["amount"] = f"{num('quantity', q)} * {num('unit_price', p)}"
    if schema is BOOKINGS:
        if "units" not in mapping:
            derived["units"] = "CAST(1 AS BIGINT)"
        if "fare_class" not in mapping and "segment" in mapping:
            derived["fare_class"] = _sql_string(quote_identifier(mapping["segment"]), types[mapping["segment"]])
    _ensure_required(list(mapping) + list(derived), found, schema)
    dates = [c.name for c in schema if c.dtype == "datetime64[ns]"]
    check_date_format_keys(date_format, {c: s for c, s in mapping.items() if c in dates}, canonical=dates)
    pre: dict[str, str] = {}
    exprs = []
    for col in schema:
        if col.name in mapping:
            src = mapping[col.name]
            e, t = quote_identifier(src), types[src]
            if schema is BOOKINGS and col.name == "status":
                sql, status_checks = _sql_status(e, col.name if src == col.name else f"{col.name} ({src})", token)
                checks[:0] = status_checks  # first, as load_bookings maps statuses before the casts
            elif col.dtype == "string":
                sql = _sql_string(e, t, col.name in ID_COLUMNS)
            elif col.dtype == "datetime64[ns]":
                label = col.name if src == col.name else f"{col.name} ({src})"
                ts = timestamp_sql(rel, src, label, dayfirst=dayfirst,
                                   date_format=date_format_for(date_format, col.name, src), timezone=timezone,
                                   token=token)
                if ts.check is not None:
                    checks.append(ts.check)
                pre.update(ts.pre)
                sql = ts.expr
                if ts.converted_to_utc:  # as the pandas loaders do (their intake change 'converted_to_utc')
                    warnings.warn(
                        f"column {label!r}: values with a UTC offset or time zone converted to UTC (no time zone "
                        "declared: set timezone: <IANA name> in the data spec, e.g. Europe/London, to count days "
                        "in local time)", DataWarning, stacklevel=3)  # _project, *_relation, caller
                if ts.inferred_dayfirst is not None:
                    orders[label] = (ts.inferred_dayfirst, str(ts.example))
            elif t == "VARCHAR" and col.dtype in ("float64", "int64"):
                label = col.name if src == col.name else f"{col.name} ({src})"
                sql = number_sql(e, label, numbers, token=token)
                checks.append(number_check(e, label, numbers))
                if col.dtype == "int64":
                    number = sql
                    head = quote_literal(f"column {label!r}: value '")
                    tail = quote_literal("' is not a whole number (the column counts whole units: nights, rooms; "
                                         "correct the value)")
                    whole = f"{head} || {e} || {tail}"
                    sql = (f"CASE WHEN {number} = trunc({number}) THEN CAST({number} AS BIGINT) ELSE "
                           f"{error_sql(whole, token)} END")
                    checks.append(ValueCheck(  # after the number check: only numbers reach it
                        f"({number} IS NOT NULL AND {number} <> trunc({number}))", f"CAST({e} AS VARCHAR)",
                        lambda n, ex, label=label: whole_numbers_message(label, n, ex)))
            elif col.dtype == "float64":
                sql = f"CAST({e} AS DOUBLE)"
            else:
                sql = f"CAST({e} AS BIGINT)"
        elif col.name in derived:
            sql = derived[col.name]
        else:
            continue
        exprs.append(f"{sql} AS {quote_identifier(col.name)}")
    if keep_extra:
        used = set(mapping.values())
        exprs += [quote_identifier(c) for c in found if c not in used and c not in schema]
    check_date_orders(orders)
    if pre:
        rel = rel.project(", ".join(["*"] + [f"{v} AS {quote_identifier(k)}" for k, v in pre.items()]))
    out = rel.project(", ".join(exprs))
    register(token, rel, checks, owner=out)
    return out


def transactions_relation(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = False,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
    encoding: str | None = None,
    sheet: Sheet = None,
) -> duckdb.DuckDBPyRelation:
    """Project a source to canonical transactions, lazily, in DuckDB SQL.

    Nothing is read into pandas: the relation is a ``SELECT`` with the
    mapping as quoted aliases and casts over ``read_parquet`` /
    ``read_csv`` / a table / a query / a registered DataFrame, so
    aggregations on it (per customer, per day) stream over files larger than
    memory (see :func:`crm_analysis.data.engine.connect` for a memory limit).

    Parameters
    ----------
    source : DataFrame, path, str or DuckDBPyRelation
        As in :func:`load_transactions`.
    columns : mapping, optional
        Canonical name -> source column name.
    con : DuckDB connection or path, optional
        Connection to run on (default: a new in-memory one).
    fmt : {"csv", "parquet", "excel", "duckdb"}, optional
        Format when the suffix does not tell it.
    read_options : mapping, optional
        Keyword arguments of DuckDB's ``read_csv`` / ``read_parquet``, e.g.
        ``{"sep": ";", "decimal": ","}`` (see :func:`source_relation`).
    keep_extra : bool, default False
        Also pass through the non-canonical source columns.
    encoding, sheet : optional
        CSV encoding and Excel sheet(s), as in :func:`source_relation`.
    dayfirst, date_format, timezone
        The date policy of :func:`load_transactions`, applied in SQL
        (:func:`crm_analysis.data.dates.timestamp_sql`): a text date column is
        scanned once to infer its order, so the relation gives the same
        timestamps as the pandas loader on the same file.

    Returns
    -------
    duckdb.DuckDBPyRelation
        Columns named and typed as the canonical schema (``VARCHAR``,
        ``TIMESTAMP``, ``DOUBLE``). ``amount = quantity * unit_price`` when
        ``amount`` is absent. Float ids lose a trailing ``.0`` and text values
        their surrounding blanks, as in pandas.

    Raises
    ------
    SourceFileError
        The file errors of :func:`load_transactions`; decimal commas are
        looked for in the first 10,000 rows.

    Notes
    -----
    Values are cast when the relation is executed: a date or number that does
    not parse raises a DuckDB error then, naming the value;
    :func:`crm_analysis.data.duckdb_value_errors` (which every package function
    that runs a query uses) turns it into the pandas path's
    :class:`DataValidationError`, counting every bad row of the column and
    showing up to five distinct values (:mod:`crm_analysis.data.value_checks`).

    Examples
    --------
    >>> rel = transactions_relation(pd.DataFrame({"cid": [1, 1], "ts": ["2024-01-01", "2024-01-02"],
    ...                                           "amount": [1.0, 2.0]}),
    ...                             columns={"customer_id": "cid", "timestamp": "ts"})
    >>> rel.aggregate("customer_id, sum(amount) AS total").fetchall()
    [('1', 3.0)]
    """
    rel = source_relation(
        source, con=con, fmt=fmt, read_options=read_options,
        text_columns=_string_sources(TRANSACTIONS, columns, numbers=True),
        number_columns=_number_sources(TRANSACTIONS, columns),
        encoding=encoding, sheet=sheet,
    )
    path = _file_path(source, con, fmt)
    if path is not None:
        if number_format(read_options).is_default:
            _check_relation_numbers(rel, path, TRANSACTIONS, columns)
    try:
        return _project(rel, TRANSACTIONS, columns, keep_extra, dayfirst, date_format, timezone,
                        number_format(read_options))
    except DataValidationError as exc:
        raise _with_header_hint(exc, source, con, fmt, list(rel.columns), TRANSACTIONS, columns, read_options,
                                encoding, sheet) from None


def bookings_relation(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = False,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    timezone: str | None = None,
    encoding: str | None = None,
    sheet: Sheet = None,
) -> duckdb.DuckDBPyRelation:
    """Project a source to canonical bookings, lazily, in DuckDB SQL.

    Parameters
    ----------
    source, columns, con, fmt, read_options, keep_extra, encoding, sheet, dayfirst, date_format, timezone
        As in :func:`transactions_relation`.

    Returns
    -------
    duckdb.DuckDBPyRelation
        Canonical bookings; ``units`` defaults to 1, ``fare_class`` to
        ``segment``; statuses mapped as in :func:`load_bookings` (an unknown
        status raises a DuckDB error naming it when the relation runs).
        Negative nights are not checked here (use :func:`load_bookings`).
    """
    rel = source_relation(
        source, con=con, fmt=fmt, read_options=read_options,
        text_columns=_string_sources(BOOKINGS, columns, numbers=True),
        number_columns=_number_sources(BOOKINGS, columns),
        encoding=encoding, sheet=sheet,
    )
    path = _file_path(source, con, fmt)
    if path is not None:
        if number_format(read_options).is_default:
            _check_relation_numbers(rel, path, BOOKINGS, columns)
    try:
        return _project(rel, BOOKINGS, columns, keep_extra, dayfirst, date_format, timezone,
                        number_format(read_options))
    except DataValidationError as exc:
        raise _with_header_hint(exc, source, con, fmt, list(rel.columns), BOOKINGS, columns, read_options,
                                encoding, sheet) from None
