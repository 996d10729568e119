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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from crm_analysis.data.loaders import load_bookings, load_transactions
from crm_analysis.data.real import load_cdnow, load_hotels, load_online_retail, load_online_retail_ii
from crm_analysis.data.sql import DEFAULT_CHUNKSIZE, resolve_url

__all__ = ["load_source", "LOADERS", "DATE_KEYS"]

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


def _resolve(path: Any, base_dir: Path, what: str) -> Path:
    if path is None:
        raise ValueError(f"data source spec needs {what!r}")
    p = Path(os.path.expanduser(os.fspath(path)))
    return p if p.is_absolute() else base_dir / p


def _apply_filter(df: pd.DataFrame, flt: Mapping[str, Any] | None) -> pd.DataFrame:
    if not flt:
        return df
    if not isinstance(flt, Mapping):
        raise ValueError(f"'filter' must be a mapping column -> value(s), got {type(flt).__name__}")
    keep = pd.Series(True, index=df.index)
    for col, value in flt.items():
        if col not in df.columns:
            raise ValueError(f"filter column {col!r} not in the data; columns: {list(df.columns)}")
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        hit = df[col].isin(values)
        if not hit.any():
            present = df[col].dropna().unique()[:20].tolist()
            raise ValueError(f"filter {col}={value!r} matches no rows; values present include {present}")
        keep &= hit
    return df.loc[keep].reset_index(drop=True)


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
    if kind not in ("transactions", "bookings"):
        raise ValueError(f"kind must be 'transactions' or 'bookings', got {kind!r}")
    spec = dict(spec or {"loader": "synthetic"})
    loader = spec.get("loader", "synthetic")
    if loader not in LOADERS:
        raise ValueError(f"unknown data loader {loader!r}; known loaders: {sorted(LOADERS)}")
    if kind not in LOADERS[loader]:
        raise ValueError(f"loader {loader!r} provides {list(LOADERS[loader])}, not {kind}")
    unknown = set(spec) - _KEYS[loader]
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)} for loader {loader!r}; allowed: {sorted(_KEYS[loader])}")
    if loader == "none":
        return None
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    load_fn: Callable[..., pd.DataFrame] = load_transactions if kind == "transactions" else load_bookings
    dates = {k: spec[k] for k in DATE_KEYS if spec.get(k) is not None}

    def load(*args: Any, **kwargs: Any) -> pd.DataFrame:
        return load_fn(*args, **kwargs, **dates)

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
            raise ValueError("a 'duckdb' source needs exactly one of 'table' or 'query'")
        database = spec.get("database")
        if table is not None and database is None:
            raise ValueError("a 'duckdb' source with 'table' needs 'database' (path of the .duckdb file)")
        con = _resolve(database, base, "database") if database is not None else None
        df = load(table if table is not None else query, columns=spec.get("columns"), con=con, fmt="duckdb")
    elif loader == "sql":
        table, query = spec.get("table"), spec.get("query")
        if (table is None) == (query is None):
            raise ValueError("a 'sql' source needs exactly one of 'table' or 'query'")
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
        path = _resolve(spec.get("path"), base, "path")
        df = {"cdnow": load_cdnow, "hotels": load_hotels}[loader](path)
    return _apply_filter(df, spec.get("filter"))
