"""Turn any supported source into a DuckDB relation (adds Parquet globs and folders)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from crm_analysis.data.engine import connect

__all__ = ["as_relation", "parquet_glob", "connect_out_of_core"]

_GLOB_CHARS = "*?["


def parquet_glob(path: str | os.PathLike[str]) -> str | None:
    """The ``read_parquet`` glob of a Parquet folder or glob pattern, else ``None``.

    Parameters
    ----------
    path : str or path
        A folder (all ``*.parquet`` files below it are used) or a glob pattern
        ending in a Parquet suffix.

    Returns
    -------
    str or None
        The glob to hand to DuckDB's ``read_parquet``, or ``None`` when
        ``path`` is neither a folder nor a glob (e.g. a single file).
    """
    text = os.fspath(path)
    if Path(text).is_dir():
        return str(Path(text) / "**" / "*.parquet")
    if any(ch in text for ch in _GLOB_CHARS):
        return text
    return None


def as_relation(
    source: Any,
    con: duckdb.DuckDBPyConnection | None,
) -> tuple[Any, duckdb.DuckDBPyConnection | None]:
    """Source suitable for :func:`crm_analysis.data.transactions_relation`.

    Parquet folders and glob patterns (which the loaders do not accept) are
    opened with ``read_parquet`` on ``con`` (a new in-memory connection when
    ``None``); everything else is passed through unchanged.

    Returns
    -------
    (source, con)
        The (possibly converted) source and the connection to use.
    """
    if isinstance(source, (str, os.PathLike)):
        glob = parquet_glob(source)
        if glob is not None:
            con = con if con is not None else connect()
            return con.read_parquet(glob), con
    return source, con


def connect_out_of_core(
    memory_limit: str = "3GB",
    temp_directory: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up to spill to disk instead of failing.

    Parameters
    ----------
    memory_limit : str, default "3GB"
        DuckDB ``memory_limit``; beyond it hash tables and sorts spill.
    temp_directory : str or path, optional
        Where DuckDB spills (default: DuckDB's own, ``.tmp`` next to a
        database file, in memory databases under the working directory).
    threads : int, optional
        Worker threads (default: all cores).
    config : mapping, optional
        Further DuckDB settings, e.g. ``{"preserve_insertion_order": False}``.

    Returns
    -------
    duckdb.DuckDBPyConnection

    Examples
    --------
    >>> con = connect_out_of_core("1GB", threads=1)
    >>> con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    1
    """
    settings: dict[str, Any] = {"memory_limit": str(memory_limit), "preserve_insertion_order": False}
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        settings["temp_directory"] = os.fspath(temp_directory)
    if threads is not None:
        if int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads!r}")
        settings["threads"] = int(threads)
    settings.update(dict(config or {}))
    return duckdb.connect(":memory:", config=settings)
