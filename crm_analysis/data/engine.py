"""DuckDB connection helper and SQL quoting.

All SQL built by :mod:`crm_analysis.data` quotes identifiers with
:func:`quote_identifier` and string values with :func:`quote_literal`; file
paths and user values are never pasted into SQL unquoted.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

__all__ = ["connect", "quote_identifier", "quote_literal", "quote_qualified"]


def connect(
    database: str | os.PathLike[str] = ":memory:",
    memory_limit: str | None = None,
    threads: int | None = None,
    *,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection with optional resource limits.

    Parameters
    ----------
    database : str or path, default ":memory:"
        Database file, or ``":memory:"`` for an in-memory database.
    memory_limit : str, optional
        DuckDB memory limit, e.g. ``"2GB"``; beyond it DuckDB spills to disk,
        which is what makes out-of-core aggregations possible.
    threads : int, optional
        Number of worker threads.
    read_only : bool, default False
        Open a database file read-only (several processes may then read it).

    Returns
    -------
    duckdb.DuckDBPyConnection

    Examples
    --------
    >>> con = connect(memory_limit="1GB", threads=1)
    >>> con.sql("SELECT 1 AS x").fetchall()
    [(1,)]
    """
    config: dict[str, str | int] = {}
    if memory_limit is not None:
        config["memory_limit"] = str(memory_limit)
    if threads is not None:
        if int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads!r}")
        config["threads"] = int(threads)
    db = str(Path(database)) if database != ":memory:" else database
    return duckdb.connect(db, read_only=read_only, config=config)


def quote_identifier(name: str) -> str:
    """Quote a SQL identifier (column or table name) for DuckDB.

    Parameters
    ----------
    name : str
        Any name, including blanks, quotes or reserved words.

    Returns
    -------
    str
        ``"name"`` with embedded double quotes doubled.

    Examples
    --------
    >>> quote_identifier("order id")
    '"order id"'
    """
    return '"' + str(name).replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """Quote a possibly schema-qualified table name (``schema.table``).

    Each dot-separated part is quoted with :func:`quote_identifier`; a table
    whose own name contains a dot must therefore be given via a query.

    Examples
    --------
    >>> quote_qualified("main.sales")
    '"main"."sales"'
    """
    return ".".join(quote_identifier(p) for p in str(name).split("."))


def quote_literal(value: str) -> str:
    """Quote a string value as a SQL literal (single quotes doubled).

    Examples
    --------
    >>> quote_literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + str(value).replace("'", "''") + "'"
