"""Loaders: any supported source -> canonical pandas frame or DuckDB relation.

Supported sources
-----------------
* a pandas ``DataFrame``;
* a path to a CSV file (``.csv``, ``.csv.gz``, ``.tsv``, ``.txt``, also
  compressed) or a Parquet file (``.parquet``, ``.pq``, ``.parq``), recognised
  by suffix or named with ``fmt="csv"`` / ``fmt="parquet"``;
* a DuckDB table name or SQL query (``source="SELECT ..."``) together with
  ``con=`` a DuckDB connection or the path of a ``.duckdb`` file (a query
  without ``con`` runs in a fresh in-memory database, which is enough for
  ``SELECT * FROM read_parquet('...')``);
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
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from crm_analysis.data.engine import connect, quote_identifier, quote_literal, quote_qualified
from crm_analysis.data.errors import DataValidationError
from crm_analysis.data.schema import BOOKINGS, TRANSACTIONS, Schema
from crm_analysis.data.sql import DEFAULT_CHUNKSIZE, is_sql_source, read_sql_source
from crm_analysis.data.validation import (
    STATUS_SYNONYMS,
    _ensure_required,
    resolve_columns,
    validate_bookings,
    validate_transactions,
)

__all__ = [
    "Source",
    "load_transactions",
    "load_bookings",
    "read_source",
    "transactions_relation",
    "bookings_relation",
    "source_relation",
]

Source = pd.DataFrame | str | os.PathLike | duckdb.DuckDBPyRelation
Format = Literal["csv", "parquet", "duckdb", "sql"]
Connection = duckdb.DuckDBPyConnection | str | os.PathLike | None

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_COMPRESSION = (".gz", ".bz2", ".zst", ".xz", ".zip")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_SQL_START = re.compile(r"^\s*(\(|select\b|with\b|from\b|values\b|table\b|pivot\b|unpivot\b|describe\b|summarize\b)", re.I)


# ------------------------------------------------------------------ sources
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
    return None


def _classify(source: Any, con: Connection, fmt: str | None) -> tuple[str, Any]:
    """Return (kind, payload) with kind in frame/relation/csv/parquet/query/table."""
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
        raise TypeError(
            "source must be a pandas DataFrame, a path (CSV / Parquet), a DuckDB table name or "
            f"query, or a DuckDB relation; got {type(source).__name__}"
        )
    if fmt is not None and fmt not in ("csv", "parquet", "duckdb"):
        raise ValueError(f"fmt must be 'csv', 'parquet' or 'duckdb', got {fmt!r}")
    text = os.fspath(source)
    if fmt in ("csv", "parquet"):
        return fmt, Path(text)
    is_sql = isinstance(source, str) and bool(_SQL_START.match(text))
    path = Path(text)
    guessed = None if is_sql or fmt == "duckdb" else _file_format(path)
    if guessed is not None and (con is None or isinstance(source, os.PathLike) or path.exists()):
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        return guessed, path
    if fmt == "duckdb" or con is not None:
        if isinstance(source, os.PathLike):
            raise TypeError("with con= or fmt='duckdb', source must be a table name or an SQL query string")
        return ("query" if is_sql else "table"), text
    if is_sql:
        return "query", text
    if path.exists():
        raise DataValidationError(
            f"cannot tell the format of {path} from its suffix; pass fmt='csv' or fmt='parquet'"
        )
    raise DataValidationError(
        f"source {text!r} is neither an existing CSV/Parquet file nor an SQL query; "
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
            raise FileNotFoundError(f"DuckDB database file not found: {path}")
        return connect(path, read_only=True), True
    raise TypeError(f"con must be a DuckDB connection or a path to a .duckdb file, got {type(con).__name__}")


def _string_sources(schema: Schema, columns: Mapping[str, str] | None) -> list[str]:
    """Source names of the canonical string columns (read CSV ids as text)."""
    columns = dict(columns or {})
    return [columns.get(c.name, c.name) for c in schema if c.dtype == "string"]


def read_source(
    source: Source,
    *,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    text_columns: list[str] | None = None,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
) -> pd.DataFrame:
    """Read any supported source into a raw pandas frame (no renaming, no checks).

    Parameters
    ----------
    source : DataFrame, path, str or DuckDBPyRelation
        See the module docstring.
    con : DuckDB connection or path, optional
        Connection (or ``.duckdb`` file) for table names and queries.
    fmt : {"csv", "parquet", "duckdb"}, optional
        Format, when the suffix does not tell it.
    read_options : mapping, optional
        Keyword arguments for :func:`pandas.read_csv` /
        :func:`pandas.read_parquet`.
    text_columns : list of str, optional
        CSV columns to read as text (so ids keep leading zeros); columns
        absent from the file are ignored.
    table, query, params, chunksize
        For a SQL database source (a URL, SQLAlchemy Engine or Connection):
        the table (``schema.table`` allowed) or the query with ``:name``
        placeholders, the placeholders' values, and the rows fetched per
        chunk (see :func:`crm_analysis.data.sql.read_sql_source`);
        ``read_options`` then go to :func:`pandas.read_sql`.

    Returns
    -------
    pandas.DataFrame
    """
    if fmt == "sql" or is_sql_source(source):
        return read_sql_source(
            source, table=table, query=query, params=params, chunksize=chunksize, read_options=read_options
        )
    if table is not None or query is not None or params:
        raise ValueError(
            "table=, query= and params= are for SQL database sources (a connection URL such as "
            "'postgresql+psycopg://user@host/db'); for DuckDB pass the table name or query as source with con="
        )
    kind, payload = _classify(source, con, fmt)
    opts = dict(read_options or {})
    if kind == "frame":
        return payload
    if kind == "relation":
        return payload.df()
    if kind == "csv":
        if text_columns:
            header = pd.read_csv(payload, nrows=0, **{k: v for k, v in opts.items() if k != "dtype"})
            present = [c for c in text_columns if c in header.columns]
            user = opts.get("dtype")
            if user is None or isinstance(user, Mapping):
                opts["dtype"] = {**{c: "string" for c in present}, **dict(user or {})}
        return pd.read_csv(payload, **opts)
    if kind == "parquet":
        return pd.read_parquet(payload, **opts)
    db, owned = _open(con)
    try:
        sql = payload if kind == "query" else f"SELECT * FROM {quote_qualified(payload)}"
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
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
) -> pd.DataFrame:
    """Load transactions from any supported source into the canonical schema.

    Parameters
    ----------
    source : DataFrame, path, str, DuckDBPyRelation or database URL
        A DataFrame; a CSV (``.csv``, ``.csv.gz``, ...) or Parquet path; a
        DuckDB table name or SQL query (with ``con``); a DuckDB relation; or
        a SQL database URL (``"postgresql+psycopg://user@host:5432/db"``,
        also a SQLAlchemy URL / Engine / Connection) with ``table`` or
        ``query``.
    columns : mapping, optional
        Canonical name -> source column name, e.g.
        ``{"customer_id": "CustomerID", "timestamp": "InvoiceDate"}``.
    con : DuckDB connection or path, optional
        Connection or ``.duckdb`` file for table names / queries (a file is
        opened read-only and closed after reading).
    fmt : {"csv", "parquet", "duckdb"}, optional
        Format when the suffix does not tell it.
    read_options : mapping, optional
        Extra keyword arguments of :func:`pandas.read_csv` /
        :func:`pandas.read_parquet`. By default the CSV columns that feed
        canonical string columns are read as text.
    keep_extra : bool, default True
        Keep source columns that are not canonical (after the canonical ones).
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

    Returns
    -------
    pandas.DataFrame
        Canonical transactions (see :data:`crm_analysis.data.schema.TRANSACTIONS`).
        When the source has no ``amount`` but has ``quantity`` and
        ``unit_price``, ``amount = quantity * unit_price``.

    Raises
    ------
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
    raw = read_source(
        source,
        con=con,
        fmt=fmt,
        read_options=read_options,
        text_columns=_string_sources(TRANSACTIONS, columns),
        table=table,
        query=query,
        params=params,
        chunksize=chunksize,
    )
    return validate_transactions(raw, columns, keep_extra=keep_extra)


def load_bookings(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = True,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
) -> pd.DataFrame:
    """Load bookings from any supported source into the canonical schema.

    Parameters
    ----------
    source, columns, con, fmt, read_options, keep_extra, table, query, params, chunksize
        As in :func:`load_transactions`.

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
    DataValidationError
        Missing required columns, empty input, unparseable dates, non-numeric
        rates, unknown statuses (listed), negative nights.
    """
    raw = read_source(
        source,
        con=con,
        fmt=fmt,
        read_options=read_options,
        text_columns=_string_sources(BOOKINGS, columns),
        table=table,
        query=query,
        params=params,
        chunksize=chunksize,
    )
    return validate_bookings(raw, columns, keep_extra=keep_extra)


# ---------------------------------------------------------------- relations
def source_relation(
    source: Source,
    *,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    text_columns: list[str] | None = None,
) -> duckdb.DuckDBPyRelation:
    """The raw source as a lazy DuckDB relation (nothing is read into pandas).

    Parameters
    ----------
    source : DataFrame, path, str or DuckDBPyRelation
        See :func:`load_transactions`.
    con : DuckDB connection or path, optional
        Connection to use (a ``.duckdb`` path is opened read-only and kept
        open by the relation). Default: a new in-memory connection.
    fmt : {"csv", "parquet", "duckdb"}, optional
        Format when the suffix does not tell it.
    read_options : mapping, optional
        Keyword arguments of DuckDB's ``read_csv`` / ``read_parquet``.
    text_columns : list of str, optional
        CSV columns to read as ``VARCHAR`` (absent ones are ignored).

    Returns
    -------
    duckdb.DuckDBPyRelation
    """
    kind, payload = _classify(source, con, fmt)
    if kind == "relation":
        return payload
    db, _ = _open(con)
    opts = dict(read_options or {})
    if kind == "frame":
        return db.from_df(payload)
    if kind == "parquet":
        return db.read_parquet(str(payload), **opts)
    if kind == "csv":
        if text_columns and "dtype" not in opts:
            found = db.read_csv(str(payload), **opts).columns
            present = [c for c in text_columns if c in found]
            if present:
                opts["dtype"] = {c: "VARCHAR" for c in present}
        return db.read_csv(str(payload), **opts)
    sql = payload if kind == "query" else f"SELECT * FROM {quote_qualified(payload)}"
    return db.sql(sql)


def _sql_string(expr: str, type_name: str) -> str:
    if type_name in ("DOUBLE", "FLOAT", "REAL"):
        return (
            f"CASE WHEN isfinite({expr}) AND {expr} = trunc({expr}) AND abs({expr}) < 9007199254740992 "
            f"THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) ELSE CAST({expr} AS VARCHAR) END"
        )
    return f"CAST({expr} AS VARCHAR)"


def _sql_timestamp(expr: str, type_name: str, name: str) -> str:
    numeric = ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "DOUBLE", "FLOAT")
    if type_name in numeric or type_name.startswith("DECIMAL"):
        raise DataValidationError(
            f"column {name!r} is numeric ({type_name}), not a date: numeric dates are ambiguous; "
            "convert them in a query first, e.g. strptime(CAST(x AS VARCHAR), '%Y%m%d')"
        )
    if type_name == "TIMESTAMP WITH TIME ZONE":
        # keep the local wall-clock time, as the pandas loader does
        return f"CAST(strftime({expr}, '%Y-%m-%d %H:%M:%S.%f') AS TIMESTAMP)"
    return f"CAST({expr} AS TIMESTAMP)"


def _sql_status(expr: str) -> str:
    key = f"regexp_replace(lower(CAST({expr} AS VARCHAR)), '[\\s_\\-]+', '', 'g')"
    whens = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in STATUS_SYNONYMS.items()
    )
    msg = quote_literal("booking status outside stayed/cancelled/no_show: ")
    return f"CASE {key} {whens} ELSE error({msg} || coalesce(CAST({expr} AS VARCHAR), 'NULL')) END"


def _project(
    rel: duckdb.DuckDBPyRelation,
    schema: Schema,
    columns: Mapping[str, str] | None,
    keep_extra: bool,
) -> duckdb.DuckDBPyRelation:
    found = list(rel.columns)
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    mapping = resolve_columns(found, schema, columns)
    derived: dict[str, str] = {}
    if schema is TRANSACTIONS and "amount" not in mapping and {"quantity", "unit_price"} <= set(mapping):
        q, p = (quote_identifier(mapping[c]) for c in ("quantity", "unit_price"))
        derived["amount"] = f"CAST({q} AS DOUBLE) * CAST({p} AS DOUBLE)"
    if schema is BOOKINGS:
        if "units" not in mapping:
            derived["units"] = "CAST(1 AS BIGINT)"
        if "fare_class" not in mapping and "segment" in mapping:
            derived["fare_class"] = _sql_string(quote_identifier(mapping["segment"]), types[mapping["segment"]])
    _ensure_required(list(mapping) + list(derived), found, schema)
    exprs = []
    for col in schema:
        if col.name in mapping:
            src = mapping[col.name]
            e, t = quote_identifier(src), types[src]
            if schema is BOOKINGS and col.name == "status":
                sql = _sql_status(e)
            elif col.dtype == "string":
                sql = _sql_string(e, t)
            elif col.dtype == "datetime64[ns]":
                sql = _sql_timestamp(e, t, col.name)
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
    return rel.project(", ".join(exprs))


def transactions_relation(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = False,
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
    fmt : {"csv", "parquet", "duckdb"}, optional
        Format when the suffix does not tell it.
    read_options : mapping, optional
        Keyword arguments of DuckDB's ``read_csv`` / ``read_parquet``.
    keep_extra : bool, default False
        Also pass through the non-canonical source columns.

    Returns
    -------
    duckdb.DuckDBPyRelation
        Columns named and typed as the canonical schema (``VARCHAR``,
        ``TIMESTAMP``, ``DOUBLE``). ``amount = quantity * unit_price`` when
        ``amount`` is absent. Float ids lose a trailing ``.0`` as in pandas.

    Notes
    -----
    Values are cast when the relation is executed: a date or number that does
    not parse raises a DuckDB ``ConversionException`` then, naming the value.
    Use :func:`load_transactions` for the detailed pandas validation.

    Examples
    --------
    >>> rel = transactions_relation(pd.DataFrame({"cid": [1, 1], "ts": ["2024-01-01", "2024-01-02"],
    ...                                           "amount": [1.0, 2.0]}),
    ...                             columns={"customer_id": "cid", "timestamp": "ts"})
    >>> rel.aggregate("customer_id, sum(amount) AS total").fetchall()
    [('1', 3.0)]
    """
    rel = source_relation(
        source, con=con, fmt=fmt, read_options=read_options, text_columns=_string_sources(TRANSACTIONS, columns)
    )
    return _project(rel, TRANSACTIONS, columns, keep_extra)


def bookings_relation(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    con: Connection = None,
    fmt: Format | None = None,
    read_options: Mapping[str, Any] | None = None,
    keep_extra: bool = False,
) -> duckdb.DuckDBPyRelation:
    """Project a source to canonical bookings, lazily, in DuckDB SQL.

    Parameters
    ----------
    source, columns, con, fmt, read_options, keep_extra
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
        source, con=con, fmt=fmt, read_options=read_options, text_columns=_string_sources(BOOKINGS, columns)
    )
    return _project(rel, BOOKINGS, columns, keep_extra)
