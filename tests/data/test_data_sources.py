"""load_source: configuration mappings -> canonical frames."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from crm_analysis.data import LOADERS, load_source, load_transactions


@pytest.fixture
def sales():
    return pd.DataFrame({"CustomerID": ["1", "2", "2"], "InvoiceDate": ["2024-01-01", "2024-01-02", "2024-01-03"],
                         "Total": [1.0, 2.0, 3.0], "Country": ["UK", "France", "UK"]})


COLS = {"customer_id": "CustomerID", "timestamp": "InvoiceDate", "amount": "Total", "country": "Country"}


def test_file_and_duckdb_specs(tmp_path, sales):
    sales.to_csv(tmp_path / "s.csv", index=False)
    sales.to_parquet(tmp_path / "s.parquet")
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        con.register("src", sales)
        con.execute("CREATE TABLE sales AS SELECT * FROM src")
    exp = load_transactions(sales, columns=COLS)
    specs = [
        {"loader": "csv", "path": "s.csv", "columns": COLS},
        {"loader": "parquet", "path": str(tmp_path / "s.parquet"), "columns": COLS},
        {"loader": "duckdb", "database": "s.duckdb", "table": "sales", "columns": COLS},
        {"loader": "duckdb", "database": "s.duckdb", "query": "SELECT * FROM sales", "columns": COLS},
    ]
    for spec in specs:
        pd.testing.assert_frame_equal(load_source(spec, "transactions", base_dir=tmp_path), exp, obj=str(spec))
    uk = load_source({**specs[0], "filter": {"country": "UK"}}, "transactions", base_dir=tmp_path)
    assert uk["country"].tolist() == ["UK", "UK"]


def test_spec_errors(tmp_path):
    with pytest.raises(ValueError, match=r"unknown data loader 'ods'; known loaders: \['cdnow'"):
        load_source({"loader": "ods"}, "transactions")
    with pytest.raises(ValueError, match="provides"):
        load_source({"loader": "hotels", "path": "x"}, "transactions")
    with pytest.raises(ValueError, match="unknown key"):
        load_source({"loader": "csv", "path": "x.csv", "colums": {}}, "transactions")
    with pytest.raises(ValueError, match="needs 'path'"):
        load_source({"loader": "csv"}, "transactions")
    with pytest.raises(ValueError, match="exactly one of 'table' or 'query'"):
        load_source({"loader": "duckdb", "database": "x"}, "bookings")
    with pytest.raises(ValueError, match="kind"):
        load_source(None, "customers")
    assert set(LOADERS) >= {"synthetic", "csv", "parquet", "duckdb", "cdnow", "online_retail", "hotels"}


def test_bad_filter(tmp_path, sales):
    sales.to_csv(tmp_path / "s.csv", index=False)
    spec = {"loader": "csv", "path": "s.csv", "columns": COLS}
    with pytest.raises(ValueError, match="matches no rows"):
        load_source({**spec, "filter": {"country": "Narnia"}}, "transactions", base_dir=tmp_path)
    with pytest.raises(ValueError, match="not in the data"):
        load_source({**spec, "filter": {"planet": "Earth"}}, "transactions", base_dir=tmp_path)


def test_synthetic_default():
    synthetic = pytest.importorskip("crm_analysis.synthetic")
    if not hasattr(synthetic, "default_transactions"):
        pytest.skip("crm_analysis.synthetic.default_transactions not available yet")
    a = load_source(None, "transactions", seed=3)
    b = load_source({"loader": "synthetic"}, "transactions", seed=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, synthetic.default_transactions(seed=3))


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_specs(shared_data):
    city = load_source({"loader": "hotels", "path": "hotels/hotels.csv.gz", "filter": {"property": "City Hotel"}},
                       "bookings", base_dir=shared_data)
    raw = pd.read_csv(shared_data / "hotels" / "hotels.csv.gz", usecols=["hotel"])
    assert len(city) == int((raw["hotel"] == "City Hotel").sum())
    cd = load_source({"loader": "cdnow", "path": "cdnow/CDNOW_sample.txt"}, "transactions", base_dir=shared_data)
    assert len(cd) == 6_919
