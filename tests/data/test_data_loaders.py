"""Every source kind gives the same canonical frame; the DuckDB projection too."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_analysis.data import (
    DataValidationError,
    bookings_relation,
    connect,
    load_bookings,
    load_transactions,
    quote_identifier,
    quote_literal,
    transactions_relation,
)

# awkward user column names: blanks, quotes, a reserved word
MAPPING = {
    "customer_id": 'Customer "ID"',
    "timestamp": "order date",
    "quantity": "select",
    "unit_price": "Unit Price",
    "country": "Country",
}

ids = st.text(alphabet="abcdefg0123456789", min_size=1, max_size=6)
stamps = st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
                      max_value=pd.Timestamp("2030-12-31").to_pydatetime()).map(
    lambda d: pd.Timestamp(d).floor("s"))
money = st.floats(-1e5, 1e5, allow_nan=False).map(lambda x: round(x, 2))


@st.composite
def raw_frames(draw):
    n = draw(st.integers(1, 8))
    return pd.DataFrame(
        {
            'Customer "ID"': pd.array(draw(st.lists(st.one_of(ids, st.none()), min_size=n, max_size=n)), dtype="string"),
            "order date": draw(st.lists(stamps, min_size=n, max_size=n)),
            "select": draw(st.lists(st.integers(-5, 50), min_size=n, max_size=n)),
            "Unit Price": draw(st.lists(money, min_size=n, max_size=n)),
            "Country": pd.array(draw(st.lists(st.sampled_from(["UK", "France", "EIRE"]), min_size=n, max_size=n)),
                                dtype="string"),
        }
    )


def _all_sources(df: pd.DataFrame, tmp: Path):
    """Yield (label, kwargs) for every supported source kind holding ``df``."""
    csv, csvgz, pq, db = tmp / "t.csv", tmp / "t.csv.gz", tmp / "t.parquet", tmp / "t.duckdb"
    df.to_csv(csv, index=False)
    df.to_csv(csvgz, index=False)
    df.to_parquet(pq, index=False)
    with duckdb.connect(str(db)) as c:
        c.register("src", df)
        c.execute('CREATE TABLE "my sales" AS SELECT * FROM src')
    mem = duckdb.connect()
    mem.register("src", df)
    mem.execute("CREATE TABLE sales AS SELECT * FROM src")
    yield "csv", dict(source=csv)
    yield "csv.gz", dict(source=str(csvgz))
    yield "parquet", dict(source=pq)
    yield "csv via fmt", dict(source=csv, fmt="csv")
    yield "duckdb table", dict(source="sales", con=mem)
    yield "duckdb query", dict(source="SELECT * FROM sales", con=mem)
    yield "duckdb file table", dict(source="my sales", con=db)
    yield "duckdb file query", dict(source='SELECT * FROM "my sales"', con=str(db))
    yield "query without con", dict(source=f"SELECT * FROM read_parquet({quote_literal(str(pq))})")
    yield "relation", dict(source=mem.table("sales"))


def _check_all_sources(df: pd.DataFrame) -> None:
    expected = load_transactions(df, columns=MAPPING)
    assert expected["amount"].tolist() == pytest.approx((df["select"] * df["Unit Price"]).tolist())
    with tempfile.TemporaryDirectory() as tmp:
        for label, kw in _all_sources(df, Path(tmp)):
            got = load_transactions(columns=MAPPING, **kw)
            pd.testing.assert_frame_equal(got, expected, obj=label)
            # the DuckDB projection, read back, is the same frame
            rel = transactions_relation(columns=MAPPING, **kw)
            assert isinstance(rel, duckdb.DuckDBPyRelation)
            pd.testing.assert_frame_equal(load_transactions(rel), expected, obj=f"relation of {label}")


def test_every_source_gives_the_same_frame():
    df = pd.DataFrame({
        'Customer "ID"': pd.array(["007", None, "abc", "12"], dtype="string"),
        "order date": pd.to_datetime(["2020-01-01", "2021-01-01 10:00:05", "2000-02-29", "2030-12-31 23:59:59"],
                                     format="mixed"),
        "select": [1, -2, 0, 50],
        "Unit Price": [1.5, 2.25, 0.0, -3.1],
        "Country": pd.array(["UK", "EIRE", "France", "UK"], dtype="string"),
    })
    _check_all_sources(df)


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_frames())
def test_every_source_gives_the_same_frame_property(df):
    _check_all_sources(df)


def test_relation_of_dataframe_and_types():
    df = pd.DataFrame({"cid": [17850.0, 13047.0, np.nan], "ts": ["2024-01-01", "2024-01-02", "2024-01-03"],
                       "amount": ["1.5", "2", "3"]})
    rel = transactions_relation(df, columns={"customer_id": "cid", "timestamp": "ts"})
    assert rel.columns == ["customer_id", "timestamp", "amount"]
    assert [str(t) for t in rel.types] == ["VARCHAR", "TIMESTAMP", "DOUBLE"]
    pd.testing.assert_frame_equal(load_transactions(rel), load_transactions(df, columns={"customer_id": "cid", "timestamp": "ts"}))
    assert load_transactions(rel)["customer_id"].tolist()[:2] == ["17850", "13047"]


def test_relation_aggregates_without_pandas(tmp_path):
    n = 1000
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"who": rng.integers(0, 50, n).astype(str), "when": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(rng.integers(0, 300, n), unit="D"), "value": rng.gamma(2, 10, n)})
    df.to_parquet(tmp_path / "big.parquet")
    con = connect(memory_limit="256MB", threads=1)
    rel = transactions_relation(tmp_path / "big.parquet", columns={"customer_id": "who", "timestamp": "when",
                                                                   "amount": "value"}, con=con)
    got = rel.aggregate("customer_id, count(*) AS n, sum(amount) AS total").df().set_index("customer_id").sort_index()
    exp = df.groupby("who").agg(n=("value", "size"), total=("value", "sum")).sort_index()
    assert got["n"].tolist() == exp["n"].tolist()
    np.testing.assert_allclose(got["total"].to_numpy(), exp["total"].to_numpy())


def test_csv_ids_keep_leading_zeros(tmp_path):
    pd.DataFrame({"customer_id": ["007", "010"], "timestamp": ["2024-01-01", "2024-01-02"], "amount": [1, 2]}).to_csv(
        tmp_path / "x.csv", index=False)
    assert load_transactions(tmp_path / "x.csv")["customer_id"].tolist() == ["007", "010"]
    assert transactions_relation(tmp_path / "x.csv").df()["customer_id"].tolist() == ["007", "010"]


def test_read_options_are_passed(tmp_path):
    (tmp_path / "x.txt").write_text("c;t;a\n1;2024-01-01;1,5\n")
    out = load_transactions(tmp_path / "x.txt", columns={"customer_id": "c", "timestamp": "t", "amount": "a"},
                            read_options={"sep": ";", "decimal": ","})
    assert out["amount"].tolist() == [1.5]


def test_bookings_sources_and_relation(tmp_path):
    df = pd.DataFrame({
        "id": [1, 2, 3], "made": ["2024-01-01", "2024-01-05", "2024-01-09"],
        "arr": ["2024-02-01", "2024-02-02", "2024-02-03"], "n": [1, 2, 3], "adr": [100.0, 90.0, 0.0],
        "seg": ["Direct", "Groups", "Online TA"], "st": ["Check-Out", "Canceled", "NO_SHOW"],
    })
    m = {"booking_id": "id", "booking_date": "made", "arrival_date": "arr", "nights": "n", "rate": "adr",
         "segment": "seg", "status": "st"}
    exp = load_bookings(df, columns=m)
    assert exp["status"].tolist() == ["stayed", "cancelled", "no_show"]
    assert exp["units"].tolist() == [1, 1, 1] and exp["fare_class"].tolist() == exp["segment"].tolist()
    df.to_parquet(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(load_bookings(tmp_path / "b.parquet", columns=m), exp)
    rel = bookings_relation(tmp_path / "b.parquet", columns=m)
    pd.testing.assert_frame_equal(load_bookings(rel), exp)
    bad = df.assign(st=["stayed", "waitlist", "stayed"])
    with pytest.raises(duckdb.Error, match="waitlist"):
        bookings_relation(bad, columns=m).fetchall()


def test_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_transactions(tmp_path / "absent.parquet")
    (tmp_path / "x.dat").write_text("a")
    with pytest.raises(DataValidationError, match="fmt="):
        load_transactions(tmp_path / "x.dat")
    with pytest.raises(DataValidationError, match="con="):
        load_transactions("sales")
    with pytest.raises(TypeError, match="source must be"):
        load_transactions(42)
    with pytest.raises(FileNotFoundError, match="DuckDB database"):
        load_transactions("sales", con=tmp_path / "absent.duckdb")
    with pytest.raises(DataValidationError, match=r"missing required column\(s\) \['amount'\]"):
        transactions_relation(pd.DataFrame({"customer_id": ["1"], "timestamp": ["2024-01-01"]}))


def test_sql_injection_through_names_is_inert():
    evil = 'x" ; DROP TABLE t; --'
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS keep")
    df = pd.DataFrame({evil: ["1"], "timestamp": ["2024-01-01"], "amount": [1.0]})
    rel = transactions_relation(df, columns={"customer_id": evil}, con=con)
    assert rel.fetchall()[0][0] == "1"
    assert con.sql("SELECT * FROM t").fetchall() == [(1,)]
    assert quote_identifier('a"b') == '"a""b"' and quote_literal("O'Brien") == "'O''Brien'"
