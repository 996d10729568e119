"""DuckDB connection helper and SQL quoting.

All SQL built by :mod:`crm_analysis.data` quotes identifiers with
:func:`quote_identifier` and string values with :func:`quote_literal`; file
paths and user values are never pasted into SQL unquoted.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["connect", "default_connection", "quote_identifier", "quote_literal", "quote_qualified"]

_local = threading.local()


def connect(
    database: str | os.PathLike[str] = ":memory:",
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    read_only: bool = False,
    temp_directory: str | os.PathLike[str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection: the package's one connection factory.

    Every connection the package opens comes from here (the loaders, the
    RFM summaries, :func:`crm_analysis.scale.connect_out_of_core`, batch
    scoring). DuckDB's progress bar is switched off (it would be written to
    stderr and end up in notebook reports).

    Parameters
    ----------
    database : str or path, default ":memory:"
        Database file, or ``":memory:"`` for an in-memory database.
    memory_limit : str, optional
        DuckDB memory limit, e.g. ``"2GB"``; beyond it DuckDB spills to disk,
        which is what makes out-of-core aggregations possible.
    threads : int, optional
        Number of worker threads (default: all cores).
    read_only : bool, default False
        Open a database file read-only (several processes may then read it).
    temp_directory : str or path, optional
        Where DuckDB spills (created if missing). Default: DuckDB's own
        (``<database>.tmp`` next to a database file, ``.tmp`` in the working
        directory for an in-memory database).
    config : mapping, optional
        Further DuckDB settings, applied last, e.g.
        ``{"preserve_insertion_order": False}``.

    Returns
    -------
    duckdb.DuckDBPyConnection

    Raises
    ------
    ValueError
        ``threads`` below 1.

    Examples
    --------
    >>> con = connect(memory_limit="1GB", threads=1)
    >>> con.sql("SELECT 1 AS x").fetchall()
    [(1,)]
    """
    settings: dict[str, Any] = {}
    if memory_limit is not None:
        settings["memory_limit"] = str(memory_limit)
    if threads is not None:
        if int(threads) < 1:
            raise InputError(f"threads must be >= 1, got {shown(threads)}")
        settings["threads"] = int(threads)
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        settings["temp_directory"] = os.fspath(temp_directory)
    settings.update(dict(config or {}))
    db = str(Path(database)) if database != ":memory:" else database
    con = duckdb.connect(db, read_only=read_only, config=settings)
    # inside Jupyter DuckDB refuses to change the setting without ipywidgets, and shows
    # no bar there anyway, so that refusal is harmless
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:
        pass
    return con


def default_connection() -> duckdb.DuckDBPyConnection:
    """The package's shared in-memory connection for this thread (made by :func:`connect`, reused).

    Used where a function takes ``con=None`` and needs no settings of its
    own (e.g. :func:`crm_analysis.rfm.rfm_summary` on a DataFrame), so that
    repeated calls do not each open a database.

    Returns
    -------
    duckdb.DuckDBPyConnection
        One connection per thread (DuckDB connections are not shared
        between threads).
    """
    con = getattr(_local, "con", None)
    if con is None:
        con = connect()
        _local.con = con
    return con


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
