"""Out-of-core DuckDB connections (a preset of the package's one connection factory).

Sources are read by :func:`crm_analysis.data.source_relation` (folders and
globs of Parquet files included) and connections made by
:func:`crm_analysis.data.connect`; this module only keeps the public names of
the ``scale`` subpackage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import duckdb

from crm_analysis.data.engine import connect
from crm_analysis.data.loaders import parquet_glob

__all__ = ["parquet_glob", "connect_out_of_core"]


def connect_out_of_core(
    *,
    memory_limit: str = "3GB",
    temp_directory: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up to spill to disk instead of failing.

    :func:`crm_analysis.data.connect` with ``preserve_insertion_order=false``
    (DuckDB may then stream without keeping the input order; every result
    that needs an order is sorted explicitly).

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
        Further DuckDB settings, applied last.

    Returns
    -------
    duckdb.DuckDBPyConnection

    Raises
    ------
    ValueError
        ``threads`` below 1.

    Examples
    --------
    >>> con = connect_out_of_core(memory_limit="1GB", threads=1)
    >>> con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    1
    """
    settings: dict[str, Any] = {"preserve_insertion_order": False, **dict(config or {})}
    return connect(memory_limit=str(memory_limit), threads=threads, temp_directory=temp_directory, config=settings)
