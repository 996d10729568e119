"""SQL database sources: URLs, bound parameters, masking; a real PostgreSQL server.

The tests marked ``postgres`` run against the throw-away server of the
``postgres_url`` fixture (tests/data/conftest.py); the others use SQLite
in memory, which needs no server.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa

from crm_analysis.data import (
    DatabaseError,
    connect,
    DataValidationError,
    load_bookings,
    load_cdnow,
    load_source,
    load_transactions,
    mask_url,
    read_source,
    resolve_url,
    transactions_relation,
)
from crm_analysis.data.sql import is_database_url, iter_sql_source
from crm_analysis.rfm import rfm_summary

OBS_END = "1997-09-30"
INJECTION = "x' OR '1'='1"


def _summary(tx: pd.DataFrame) -> pd.DataFrame:
    """RFM summary on a single-threaded DuckDB: a parallel SUM adds the doubles in a
    varying order, which changes the last bit of a few sums from run to run."""
    con = connect(threads=1)
    try:
        return rfm_summary(tx, observation_end=OBS_END, con=con)
    finally:
        con.close()


# ------------------------------------------------------------ no server needed
@pytest.fixture
def sqlite_engine():
    eng = sa.create_engine("sqlite://")
    frame = pd.DataFrame({"cid": ["a", "b", "b"], "day": ["2024-01-01", "2024-01-02", "2024-01-05"],
                          "total": [1.5, 2.0, 4.0], "country": ["UK", "France", "UK"]})
    frame.to_sql("sales", eng, index=False)
    yield eng
    eng.dispose()


COLS = {"customer_id": "cid", "timestamp": "day", "amount": "total"}


def test_mask_url_hides_secrets_in_the_query_string_too():
    masked = mask_url("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Danalyst%3BPWD%3DS3cretPass")
    assert "S3cretPass" not in masked and masked.startswith("mssql+pyodbc:")
    assert "hunter2" not in mask_url("postgresql+psycopg://db/crm?password=hunter2&sslmode=require")


def test_mask_url_hides_password_only():
    assert mask_url("postgresql+psycopg://crm:s3cr%40t@db:5432/crm") == "postgresql+psycopg://crm:***@db:5432/crm"
    assert mask_url("postgresql+psycopg://crm@db/crm") == "postgresql+psycopg://crm@db/crm"
    assert "s3cret" not in mask_url(sa.create_engine("sqlite://").url.set(password="s3cret"))


def test_url_detection():
    assert is_database_url("postgresql+psycopg://u@h/db") and is_database_url("sqlite:///x.db")
    for not_db in ("sales.csv", "s3://bucket/x.parquet", "https://example.org/x.csv", "SELECT 1", 3):
        assert not is_database_url(not_db), not_db


def test_resolve_url_from_environment(monkeypatch):
    monkeypatch.setenv("CRM_TEST_URL", "postgresql+psycopg://crm:hunter2@db:5432/crm")
    monkeypatch.setenv("CRM_TEST_PW", "p@ss word")
    assert resolve_url(url_env="CRM_TEST_URL").password == "hunter2"
    u = resolve_url("postgresql+psycopg://crm@db/crm", password_env="CRM_TEST_PW")
    assert u.password == "p@ss word" and "p@ss" not in str(u) and "p@ss" not in repr(u)
    monkeypatch.delenv("CRM_TEST_URL")
    with pytest.raises(ValueError, match="CRM_TEST_URL.*not set"):
        resolve_url(url_env="CRM_TEST_URL")
    with pytest.raises(ValueError, match="exactly one"):
        resolve_url("sqlite://", url_env="CRM_TEST_PW")


def test_sqlite_table_query_and_bound_parameters(sqlite_engine):
    exp = load_transactions(pd.read_sql_table("sales", sqlite_engine), columns=COLS)
    pd.testing.assert_frame_equal(load_transactions(sqlite_engine, table="sales", columns=COLS), exp)
    uk = load_transactions(sqlite_engine, query="SELECT * FROM sales WHERE country = :c", params={"c": "UK"},
                           columns=COLS)
    assert uk["customer_id"].tolist() == ["a", "b"]
    both = read_source(sqlite_engine, query="SELECT * FROM sales WHERE country IN :cs",
                       params={"cs": ["UK", "France"]})
    assert len(both) == 3
    assert len(read_source(sqlite_engine, query="SELECT * FROM sales WHERE country = :c",
                           params={"c": INJECTION})) == 0


def test_sqlite_chunks_concatenate_to_the_whole(sqlite_engine):
    chunks = list(iter_sql_source(sqlite_engine, table="sales", chunksize=2))
    assert [len(c) for c in chunks] == [2, 1]
    pd.testing.assert_frame_equal(read_source(sqlite_engine, table="sales", chunksize=2),
                                  read_source(sqlite_engine, table="sales"))


def test_argument_errors(sqlite_engine, tmp_path):
    with pytest.raises(ValueError, match="exactly one of table= or query="):
        read_source(sqlite_engine)
    with pytest.raises(ValueError, match="exactly one of table= or query="):
        read_source(sqlite_engine, table="sales", query="SELECT 1")
    with pytest.raises(ValueError, match="nothing to bind"):
        read_source(sqlite_engine, table="sales", params={"c": 1})
    with pytest.raises(DatabaseError, match="'nope'"):
        read_source(sqlite_engine, query="SELECT * FROM sales WHERE country = :c", params={"nope": 1})
    with pytest.raises(DatabaseError, match="bind parameter 'c'"):
        read_source(sqlite_engine, query="SELECT * FROM sales WHERE country = :c")
    with pytest.raises(DatabaseError, match="table 'missing' not found"):
        read_source(sqlite_engine, table="missing")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match="for SQL database sources"):
        read_source(tmp_path / "x.csv", table="sales")
    with pytest.raises(DataValidationError, match="read into pandas"):
        transactions_relation("sqlite://", columns=COLS)


def test_sql_spec_errors(monkeypatch):
    with pytest.raises(ValueError, match="exactly one of 'table' or 'query'"):
        load_source({"loader": "sql", "url": "sqlite://"}, "transactions")
    with pytest.raises(ValueError, match="unknown key"):
        load_source({"loader": "sql", "url": "sqlite://", "table": "t", "database": "x"}, "transactions")
    monkeypatch.delenv("CRM_NOT_SET", raising=False)
    with pytest.raises(ValueError, match="CRM_NOT_SET"):
        load_source({"loader": "sql", "url_env": "CRM_NOT_SET", "table": "t"}, "transactions")


# ------------------------------------------------------------ real PostgreSQL
@pytest.fixture(scope="module")
def cdnow(shared_data):
    """CDNOW sample loaded from the file, and its RFM summary."""
    tx = load_cdnow(shared_data / "cdnow" / "CDNOW_sample.txt")
    return tx, _summary(tx)


@pytest.fixture(scope="module")
def pg(postgres_url, cdnow):
    """The server's URL, with the CDNOW sample in ``sales.cdnow_sample`` and ``sales."Order Lines"``."""
    tx, _ = cdnow
    eng = sa.create_engine(postgres_url)
    with eng.begin() as con:
        con.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS sales")
    tx.to_sql("cdnow_sample", eng, schema="sales", index=False, if_exists="replace", chunksize=5000)
    tx.head(50).to_sql("Order Lines", eng, schema="sales", index=False, if_exists="replace")
    eng.dispose()
    return postgres_url


def _password(url: str) -> str:
    return sa.engine.make_url(url).password


@pytest.mark.postgres
@pytest.mark.shared_data
def test_postgres_table_gives_the_file_summary(pg, cdnow):
    tx, summary = cdnow
    from_db = load_transactions(pg, table="sales.cdnow_sample")
    canonical = ["customer_id", "timestamp", "amount", "quantity"]
    pd.testing.assert_frame_equal(from_db[canonical], tx[canonical], check_exact=True)
    # the extra column keeps the text (its NA flavour is the driver's default string dtype)
    assert from_db["sample_id"].tolist() == tx["sample_id"].tolist()
    pd.testing.assert_frame_equal(_summary(from_db), summary, check_exact=True)


@pytest.mark.postgres
@pytest.mark.shared_data
def test_postgres_parameterised_query_with_mapping_gives_the_file_summary(pg, cdnow):
    tx, summary = cdnow
    query = ('SELECT customer_id AS cust, "timestamp" AS ts, amount AS dollars, quantity AS cds '
             'FROM sales.cdnow_sample WHERE "timestamp" <= :end')
    cols = {"customer_id": "cust", "timestamp": "ts", "amount": "dollars", "quantity": "cds"}
    from_db = load_transactions(pg, query=query, params={"end": pd.Timestamp(OBS_END).to_pydatetime()},
                                columns=cols, chunksize=1000)
    n_expected = int((tx["timestamp"] <= OBS_END).sum())
    assert len(from_db) == n_expected < len(tx)  # the bound date did filter
    pd.testing.assert_frame_equal(_summary(from_db), summary, check_exact=True)


@pytest.mark.postgres
@pytest.mark.shared_data
def test_postgres_streams_in_chunks(pg, cdnow):
    tx, _ = cdnow
    sizes = [len(c) for c in iter_sql_source(pg, table="sales.cdnow_sample", chunksize=1000)]
    assert sizes == [1000] * (len(tx) // 1000) + ([len(tx) % 1000] if len(tx) % 1000 else [])
    assert len(sizes) == math.ceil(len(tx) / 1000)


@pytest.mark.postgres
@pytest.mark.shared_data
def test_postgres_quoted_table_name_and_config_spec(pg, cdnow, monkeypatch):
    tx, _ = cdnow
    lines = load_transactions(pg, table="sales.Order Lines", keep_extra=False)
    pd.testing.assert_frame_equal(lines, tx.head(50).drop(columns="sample_id"))
    monkeypatch.setenv("CRM_TEST_DB_URL", pg)
    spec = {"loader": "sql", "url_env": "CRM_TEST_DB_URL", "query": "SELECT * FROM sales.cdnow_sample "
            "WHERE customer_id IN :ids", "params": {"ids": ["4", "18"]}, "chunksize": 100}
    got = load_source(spec, "transactions").drop(columns="sample_id")
    exp = tx[tx["customer_id"].isin(["4", "18"])].drop(columns="sample_id").reset_index(drop=True)
    assert len(exp) > 0
    pd.testing.assert_frame_equal(got, exp)
    monkeypatch.setenv("CRM_TEST_DB_PW", _password(pg))
    # URL.set(password=None) keeps the password in SQLAlchemy 2; _replace removes it
    no_pw = sa.engine.make_url(pg)._replace(password=None).render_as_string(hide_password=False)
    assert _password(pg) not in no_pw
    spec2 = {"loader": "sql", "url": no_pw, "password_env": "CRM_TEST_DB_PW", "table": "sales.Order Lines",
             "filter": {"customer_id": "4"}}
    assert set(load_source(spec2, "transactions")["customer_id"]) == {"4"}


@pytest.mark.postgres
@pytest.mark.shared_data
def test_postgres_bound_parameter_is_data_not_sql(pg, cdnow):
    tx, _ = cdnow
    query = "SELECT * FROM sales.cdnow_sample WHERE customer_id = :cid"
    hit = read_source(pg, query=query, params={"cid": "4"})
    assert len(hit) == int((tx["customer_id"] == "4").sum()) > 0  # the query does match real ids
    assert len(read_source(pg, query=query, params={"cid": INJECTION})) == 0
    with pytest.raises(DataValidationError, match="empty"):
        load_transactions(pg, query=query, params={"cid": INJECTION})
    bad = "cdnow_sample; DROP TABLE sales.cdnow_sample"
    with pytest.raises(DatabaseError, match="not found"):
        load_transactions(pg, table=f"sales.{bad}")
    assert len(read_source(pg, table="sales.cdnow_sample")) == len(tx)  # still there


@pytest.mark.postgres
def test_postgres_errors_name_the_table_and_mask_the_password(postgres_url):
    secret = _password(postgres_url)
    with pytest.raises(DatabaseError) as err:
        load_transactions(postgres_url, table="sales.no_such_table")
    msg = str(err.value)
    assert "sales.no_such_table" in msg and "***" in msg and secret not in msg
    with pytest.raises(DatabaseError, match="relation .*no_such_table.* does not exist") as err:
        read_source(postgres_url, query="SELECT * FROM no_such_table WHERE x = :x", params={"x": 1})
    assert secret not in str(err.value) and "***" in str(err.value)
    wrong = "Wr0ng-" + secret
    bad_url = sa.engine.make_url(postgres_url).set(password=wrong)
    with pytest.raises(DatabaseError, match="password authentication failed") as err:
        read_source(bad_url.render_as_string(hide_password=False), table="t")
    assert wrong not in str(err.value) and secret not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


@pytest.mark.postgres
def test_postgres_bookings(postgres_url):
    raw = pd.DataFrame({
        "BookingID": [1, 2, 3],
        "Booked": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-02-01"]),
        "Arrival": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03"]),
        "Nights": [2, 1, 3], "ADR": [99.5, 120.0, 80.25],
        "Segment": ["Direct", "Groups", "Online TA"], "Status": ["Check-Out", "Canceled", "No-Show"],
    })
    cols = {"booking_id": "BookingID", "booking_date": "Booked", "arrival_date": "Arrival", "nights": "Nights",
            "rate": "ADR", "segment": "Segment", "status": "Status"}
    eng = sa.create_engine(postgres_url)
    raw.to_sql("bookings_raw", eng, index=False, if_exists="replace")
    eng.dispose()
    got = load_bookings(postgres_url, table="bookings_raw", columns=cols)
    pd.testing.assert_frame_equal(got, load_bookings(raw, columns=cols))
    assert got["status"].tolist() == ["stayed", "cancelled", "no_show"]
