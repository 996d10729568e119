"""SQL databases (PostgreSQL and anything else SQLAlchemy speaks) as data sources.

A database source is a connection URL -- a string such as
``"postgresql+psycopg://crm@db.example.com:5432/crm"``, a
:class:`sqlalchemy.engine.URL`, or an existing SQLAlchemy ``Engine`` /
``Connection`` -- together with either

* ``table``: a table or view name, optionally schema-qualified
  (``"sales.orders"``); it is quoted by SQLAlchemy's identifier preparer
  (:func:`sqlalchemy.table`), never pasted into SQL text, and checked to exist
  first so that a missing table gives an error naming it; or
* ``query``: an SQL query in the database's own dialect with named
  parameters written ``:name``; their values come from ``params`` and are
  *bound* (sent separately from the SQL text), so a value such as
  ``"x' OR '1'='1"`` is data, not SQL.

Rows are fetched with a server-side cursor where the driver supports one
(``stream_results``) and turned into pandas in chunks of ``chunksize`` rows,
so the database's result set is never held twice in memory. DuckDB's
``postgres`` extension would let DuckDB aggregate in the database, but it is
downloaded on first use, which an offline machine cannot do; SQL sources are
therefore read into pandas (see ``docs/databases.md``).

Secrets: :func:`resolve_url` reads the URL (``url_env``) or only the password
(``password_env``) from environment variables, so configuration files need
not contain them; every message of this module shows the URL with the
password replaced by ``***`` (:func:`mask_url`).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from crm_analysis.data.errors import DataValidationError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy

__all__ = [
    "DatabaseError",
    "DEFAULT_CHUNKSIZE",
    "is_database_url",
    "is_sql_source",
    "mask_url",
    "resolve_url",
    "sqlite_file_problem",
    "read_sql_source",
    "iter_sql_source",
]

log = logging.getLogger(__name__)

#: Rows per chunk fetched from the database (see :func:`iter_sql_source`).
DEFAULT_CHUNKSIZE = 100_000

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_FILE_SCHEMES = ("file", "http", "https", "s3", "gs", "gcs", "az", "abfs", "hf")


class DatabaseError(DataValidationError):
    """A database source could not be read (connection, missing table, SQL error).

    The message names the source with its password masked.
    """


# ------------------------------------------------------------------ URLs
def is_database_url(value: Any) -> bool:
    """Whether ``value`` looks like an SQLAlchemy database URL.

    Parameters
    ----------
    value : object
        A string (``"dialect+driver://..."``) or :class:`sqlalchemy.engine.URL`.

    Returns
    -------
    bool
        True for ``scheme://...`` strings whose scheme is not a file/web
        scheme (``file``, ``http(s)``, ``s3``, ...), and for URL objects.

    Examples
    --------
    >>> is_database_url("postgresql+psycopg://me@localhost/crm"), is_database_url("sales.csv")
    (True, False)
    """
    if type(value).__module__.startswith("sqlalchemy") and type(value).__name__ == "URL":
        return True
    if not isinstance(value, str) or not _URL.match(value):
        return False
    scheme = value.split("://", 1)[0].lower()
    return len(scheme) > 1 and scheme not in _FILE_SCHEMES  # "C://..." is a Windows path


def is_sql_source(value: Any) -> bool:
    """Whether ``value`` is a database source: a URL, or a SQLAlchemy Engine/Connection."""
    if is_database_url(value):
        return True
    mod, name = type(value).__module__, type(value).__name__
    return mod.startswith("sqlalchemy") and name in ("Engine", "Connection")


def mask_url(url: Any) -> str:
    """Render a database URL (or Engine/Connection) with its password as ``***``.

    Parameters
    ----------
    url : str, sqlalchemy URL, Engine or Connection

    Returns
    -------
    str

    Examples
    --------
    >>> mask_url("postgresql+psycopg://crm:s3cret@db:5432/crm")
    'postgresql+psycopg://crm:***@db:5432/crm'
    """
    from sqlalchemy.engine import make_url

    from crm_analysis._secrets import redact_secrets

    if hasattr(url, "engine") and hasattr(url.engine, "url"):
        url = url.engine.url
    try:
        text = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparseable: hide everything between :// and @
        text = re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", str(url))
    # secrets in the query string too (?password=..., odbc_connect=...PWD=...)
    return redact_secrets(text)


def _password(url: Any) -> str | None:
    from sqlalchemy.engine import make_url

    if hasattr(url, "engine") and hasattr(url.engine, "url"):
        url = url.engine.url
    try:
        pw = make_url(url).password
    except Exception:  # noqa: BLE001
        m = re.search(r"://[^/@:]*:([^/@]*)@", str(url))
        pw = m.group(1) if m else None
    return None if pw in (None, "") else str(pw)


def _scrub(text: str, url: Any) -> str:
    """Remove the password of ``url`` (raw and percent-encoded) from a message."""
    from urllib.parse import quote, quote_plus

    pw = _password(url)
    if pw:
        for form in {pw, quote(pw, safe=""), quote_plus(pw)}:
            text = text.replace(form, "***")
    return text


def resolve_url(
    url: Any = None,
    *,
    url_env: str | None = None,
    password_env: str | None = None,
) -> sqlalchemy.engine.URL:
    """Build the database URL from a value and/or environment variables.

    Parameters
    ----------
    url : str or sqlalchemy URL, optional
        The URL, e.g. ``"postgresql+psycopg://crm@db:5432/crm"``.
    url_env : str, optional
        Name of an environment variable holding the whole URL (instead of
        ``url``), e.g. ``"CRM_DB_URL"``.
    password_env : str, optional
        Name of an environment variable holding only the password, which is
        put into the URL (so the URL itself can sit in a config file).

    Returns
    -------
    sqlalchemy.engine.URL
        Its ``repr`` / ``str`` hide the password.

    Raises
    ------
    ValueError
        Neither or both of ``url`` and ``url_env``; an environment variable
        that is not set (its name is given, never a value); a URL that
        SQLAlchemy cannot parse (shown masked).

    Examples
    --------
    >>> import os
    >>> os.environ["CRM_DOC_PW"] = "s3cret"
    >>> u = resolve_url("postgresql+psycopg://crm@db/crm", password_env="CRM_DOC_PW")
    >>> u.password, str(u)
    ('s3cret', 'postgresql+psycopg://crm:***@db/crm')
    """
    from sqlalchemy.engine import make_url

    if (url is None) == (url_env is None):
        raise InputError("give exactly one of 'url' and 'url_env' (name of an environment variable holding the URL)")
    if url_env is not None:
        if not os.environ.get(url_env):
            raise InputError(f"environment variable {url_env!r} (database URL) is not set or empty")
        url = os.environ[url_env]
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"not a database URL: {mask_url(url)!r} ({type(exc).__name__})") from None
    if password_env is not None:
        if password_env not in os.environ:
            raise InputError(f"environment variable {password_env!r} (database password) is not set")
        parsed = parsed.set(password=os.environ[password_env])
    return parsed


def sqlite_file_problem(url: Any) -> str | None:
    """Why an SQLite URL cannot be read: its database file does not exist; ``None`` otherwise.

    SQLite creates a missing database file when it connects, so a mistyped
    path would give an empty database and a confusing "table not found";
    the readers of this module refuse it instead, naming the file.

    Parameters
    ----------
    url : str or sqlalchemy URL
        Any database URL (other databases, in-memory SQLite and SQLite URI
        filenames give ``None``).

    Returns
    -------
    str or None
        E.g. ``"SQLite database file not found: /data/shop.db (from the URL
        sqlite:////data/shop.db); SQLite would create an empty one"``.

    Examples
    --------
    >>> sqlite_file_problem("sqlite:////no/such/shop.db")  # doctest: +ELLIPSIS
    'SQLite database file not found: /no/such/shop.db (from the URL sqlite:////no/such/shop.db); ...'
    >>> sqlite_file_problem("sqlite://") is None, sqlite_file_problem("postgresql://db/crm") is None
    (True, True)
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL: reported by whoever parses it
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if database in (None, "", ":memory:") or database.startswith("file:") or parsed.query.get("uri"):
        return None
    path = Path(database).expanduser()
    if path.is_file():
        return None
    return (f"SQLite database file not found: {path.resolve()} (from the URL {mask_url(parsed)}); SQLite would "
            "create an empty one. Check the path (sqlite:///relative/path or sqlite:////absolute/path)")


# ------------------------------------------------------------------ reading
def _split_table(table: str) -> tuple[str | None, str]:
    if not isinstance(table, str) or not table.strip():
        raise InputError(f"table must be a non-empty string, got {shown(table)}")
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def _statement(conn: Any, table: str | None, query: str | None, params: Mapping[str, Any] | None, where: str) -> Any:
    import sqlalchemy as sa

    if (table is None) == (query is None):
        raise InputError("a database source needs exactly one of table= or query=")
    if table is not None:
        if params:
            raise InputError("params= binds values into query=; with table= there is nothing to bind")
        schema, name = _split_table(table)
        if not sa.inspect(conn).has_table(name, schema=schema):
            raise DatabaseError(f"table {table!r} not found in {where}")
        return sa.select(sa.literal_column("*")).select_from(sa.table(name, schema=schema))
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"query must be a non-empty SQL string, got {shown(query)}")
    stmt = sa.text(query)
    if params:
        if not isinstance(params, Mapping):
            raise InputError(f"params must be a mapping name -> value, got {type(params).__name__}")
        binds = [
            sa.bindparam(k, value=list(v), expanding=True) if isinstance(v, (list, tuple, set, frozenset))
            else sa.bindparam(k, value=v)
            for k, v in params.items()
        ]
        stmt = stmt.bindparams(*binds)  # raises, naming it, for a name without a :placeholder
    return stmt


def iter_sql_source(
    source: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    read_options: Mapping[str, Any] | None = None,
) -> Iterator[pd.DataFrame]:
    """Read a database table or query as pandas frames of ``chunksize`` rows.

    Parameters
    ----------
    source : str, sqlalchemy URL, Engine or Connection
        Where to connect (see the module docstring). A URL is connected to
        and disposed of here; an Engine / Connection is used and left open.
    table : str, optional
        Table or view name, optionally ``schema.table``.
    query : str, optional
        SQL query with ``:name`` placeholders.
    params : mapping, optional
        Values of the query's placeholders (bound, never pasted into SQL).
    chunksize : int, default 100_000
        Rows per frame; rows are streamed with a server-side cursor where the
        driver supports it.
    read_options : mapping, optional
        Extra keyword arguments of :func:`pandas.read_sql` (e.g.
        ``parse_dates``, ``dtype``, ``coerce_float``).

    Yields
    ------
    pandas.DataFrame
        At least one frame (possibly empty, with the result's columns).

    Raises
    ------
    DatabaseError
        Connection failure, missing table, SQL error; the message names the
        source with the password masked.
    ValueError
        Neither or both of ``table`` / ``query``, a bad ``chunksize``,
        ``params`` that do not match the query's placeholders.
    """
    import sqlalchemy as sa

    if int(chunksize) < 1:
        raise InputError(f"chunksize must be >= 1, got {shown(chunksize)}")
    if read_options and "chunksize" in read_options:
        raise InputError("give chunksize= directly, not in read_options")
    where = mask_url(source)
    what = f"table {table!r}" if table is not None else "query"
    owned = None
    try:
        if isinstance(source, sa.engine.Connection):
            conn_cm: Any = contextlib.nullcontext(source)
        else:
            missing = None if isinstance(source, sa.engine.Engine) else sqlite_file_problem(resolve_url(source))
            if missing is not None:  # connecting would create an empty database file
                raise DatabaseError(missing)
            engine = source if isinstance(source, sa.engine.Engine) else sa.create_engine(resolve_url(source))
            owned = engine if engine is not source else None
            conn_cm = engine.connect()
        with conn_cm as conn:
            stmt = _statement(conn, table, query, params, where)
            log.info("reading %s from %s in chunks of %d rows", what, where, chunksize)
            # statement-level options: a caller's Connection is left as it was
            stmt = stmt.execution_options(stream_results=True, max_row_buffer=int(chunksize))
            # pandas yields one empty frame (with the columns) for an empty result
            yield from pd.read_sql(stmt, conn, chunksize=int(chunksize), **dict(read_options or {}))
    except DataValidationError as exc:
        raise type(exc)(_scrub(str(exc), source)) from None
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        detail = _scrub(_short(exc), source)
        raise DatabaseError(f"reading {what} from {where} failed: {detail}") from None
    finally:
        if owned is not None:
            owned.dispose()


def _short(exc: BaseException) -> str:
    """The driver's message without SQLAlchemy's background link, one paragraph."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text).strip()
    return f"{type(orig or exc).__name__}: {text}"


def read_sql_source(
    source: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    read_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a database table or query into one pandas frame (raw, no renaming).

    Parameters
    ----------
    source, table, query, params, chunksize, read_options
        As in :func:`iter_sql_source`.

    Returns
    -------
    pandas.DataFrame
        The chunks concatenated, with a fresh ``RangeIndex``.

    Examples
    --------
    >>> import sqlalchemy as sa
    >>> eng = sa.create_engine("sqlite://")
    >>> with eng.begin() as c:
    ...     _ = c.exec_driver_sql("CREATE TABLE t (cid TEXT, x REAL)")
    ...     _ = c.exec_driver_sql("INSERT INTO t VALUES ('a', 1.0), ('b', 2.0)")
    >>> read_sql_source(eng, query="SELECT * FROM t WHERE cid = :c", params={"c": "b"})["x"].tolist()
    [2.0]
    """
    chunks = list(
        iter_sql_source(
            source, table=table, query=query, params=params, chunksize=chunksize, read_options=read_options
        )
    )
    if len(chunks) == 1:
        return chunks[0].reset_index(drop=True)
    nonempty = [c for c in chunks if len(c)]
    out = pd.concat(nonempty or chunks[:1], ignore_index=True)
    # a column that is all-NULL in one chunk may have come back as object: re-infer
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].infer_objects()
    return out
