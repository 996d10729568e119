"""check_source: a data spec checked without loading the data (the report's pre-flight)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from crm_analysis.data import check_source, load_source
from crm_analysis.data import sources as src

COLS = {"customer_id": "cid", "timestamp": "day", "amount": "total"}


@pytest.fixture
def sales() -> pd.DataFrame:
    return pd.DataFrame({"cid": ["a", "b", "a"], "day": ["2024-01-02", "2024-01-05", "2024-02-01"],
                         "total": [1.0, 2.0, 3.0]})


def test_loadable_specs_have_no_problem_and_load(tmp_path, sales):
    """Whatever check_source passes, load_source loads (the check is not stricter than the loader)."""
    sales.to_csv(tmp_path / "s.csv", sep=";", index=False)
    sales.assign(day=pd.to_datetime(sales["day"])).to_parquet(tmp_path / "s.parquet")
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        con.register("src", sales)
        con.execute("CREATE TABLE sales AS SELECT * FROM src")
    specs = [
        {"loader": "csv", "path": "s.csv", "columns": COLS, "read_options": {"sep": ";"}},
        {"loader": "parquet", "path": "s.parquet", "columns": COLS, "filter": {"customer_id": "a"}},
        {"loader": "duckdb", "database": "s.duckdb", "table": "sales", "columns": COLS},
        {"loader": "duckdb", "query": f"SELECT * FROM read_parquet('{tmp_path / 's.parquet'}')", "columns": COLS},
        {"loader": "synthetic"},
        {"loader": "none"},
    ]
    for spec in specs:
        assert check_source(spec, "transactions", base_dir=tmp_path, as_of="2024-12-31") == [], spec
        load_source(spec, "transactions", base_dir=tmp_path)


def test_header_problems_name_the_file_and_the_columns(tmp_path, sales):
    sales.to_csv(tmp_path / "s.csv", index=False)
    (msg,) = check_source({"loader": "csv", "path": "s.csv", "columns": {**COLS, "amount": "Total"}}, "transactions",
                          base_dir=tmp_path)
    assert msg == ("s.csv: columns= mapping refers to source column(s) that do not exist: 'amount' -> 'Total'; "
                   "found columns: ['cid', 'day', 'total']")
    # the same words as the loader, which would have failed in the notebook
    with pytest.raises(ValueError, match="'amount' -> 'Total'"):
        load_source({"loader": "csv", "path": "s.csv", "columns": {**COLS, "amount": "Total"}}, "transactions",
                    base_dir=tmp_path)
    (msg,) = check_source({"loader": "csv", "path": "s.csv", "columns": COLS}, "bookings", base_dir=tmp_path)
    assert msg.startswith("s.csv: columns= mapping has key(s) ['timestamp', 'amount'] that are not columns of the "
                          "bookings schema")


def test_duckdb_table_or_query_problems(tmp_path, sales):
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        con.register("src", sales)
        con.execute("CREATE TABLE sales AS SELECT * FROM src")
    (msg,) = check_source({"loader": "duckdb", "database": "s.duckdb", "table": "nope", "columns": COLS},
                          "transactions", base_dir=tmp_path)
    assert msg.startswith(f"cannot read the columns of {tmp_path / 's.duckdb'}: CatalogException") and "nope" in msg
    assert check_source({"loader": "duckdb", "database": "s.duckdb"}, "transactions", base_dir=tmp_path) == [
        "a 'duckdb' source needs exactly one of 'table' or 'query'"]


def test_data_set_loaders_check_the_columns_they_read(tmp_path):
    pd.DataFrame({"hotel": ["City Hotel"], "lead_time": [3]}).to_csv(tmp_path / "hotels.csv", index=False)
    (msg,) = check_source({"loader": "hotels", "path": "hotels.csv"}, "bookings", base_dir=tmp_path)
    assert msg.startswith("hotels.csv: missing column(s) ['arrival_date_year', 'arrival_date_month'")
    assert "that the 'hotels' loader reads; found columns: ['hotel', 'lead_time']" in msg
    (tmp_path / "cdnow.txt").write_text("00001 19970101 1 9.99\n")
    assert check_source({"loader": "cdnow", "path": "cdnow.txt"}, "transactions", base_dir=tmp_path) == []
    assert check_source({"loader": "cdnow", "path": "."}, "transactions", base_dir=tmp_path) == [
        f"not a file: {tmp_path}"]


@pytest.mark.shared_data
def test_real_data_sets_pass_and_their_first_dates_are_read(shared_data):
    retail = {"loader": "online_retail", "path": str(shared_data / "online_retail" / "online_retail.parquet")}
    checked = src.probe_source(retail, "transactions", as_of="2010-11-30")
    assert checked.loaded and checked.deferred is None
    # the first invoice of the UCI file is 2010-12-01 08:26 (Chen, Sain & Guo 2012)
    assert checked.first_date == pd.Timestamp("2010-12-01 08:26")
    (msg,) = checked.problems
    assert "the first timestamp in online_retail.parquet (column 'InvoiceDate') is 2010-12-01" in msg
    hotels = {"loader": "hotels", "path": str(shared_data / "hotels" / "hotels.csv.gz")}
    assert check_source(hotels, "bookings", as_of="2017-07-31") == []


def test_first_date_is_only_taken_where_unambiguous(tmp_path, monkeypatch):
    iso = pd.DataFrame({"cid": ["a", "b"], "day": ["2024-03-05 10:00:00", "2024-02-01"], "total": [1.0, 2.0]})
    iso.to_csv(tmp_path / "iso.csv", index=False)
    spec = {"loader": "csv", "path": "iso.csv", "columns": COLS}
    (msg,) = check_source(spec, "transactions", base_dir=tmp_path, as_of="2024-01-31")
    assert "the first timestamp in iso.csv (column 'day') is 2024-02-01" in msg
    assert check_source(spec, "transactions", base_dir=tmp_path, as_of="2024-02-01") == []  # the first day counts
    monkeypatch.setattr(src, "_SCAN_MAX_BYTES", 10)  # a big CSV: not loaded, its dates left to the notebook
    checked = src.probe_source(spec, "transactions", base_dir=tmp_path, as_of="2024-01-31")
    assert checked.problems == [] and not checked.loaded and checked.first_date is None
    assert checked.deferred.startswith("iso.csv is 0 MiB, more than the 0 MiB the check loads whole: only its header")
    monkeypatch.undo()
    # the loaders' date policy decides: day/month order inferred from the column (a day above 12) ...
    iso.assign(day=["15.03.2024", "01.02.2024"]).to_csv(tmp_path / "dots.csv", index=False)
    (msg,) = check_source({**spec, "path": "dots.csv"}, "transactions", base_dir=tmp_path, as_of="2024-01-31")
    assert "is 2024-02-01" in msg
    # ... or not decidable from the column (no day above 12): the loader's own error, before the run
    iso.assign(day=["05.03.2024", "02.01.2024"]).to_csv(tmp_path / "amb.csv", index=False)
    amb = {**spec, "path": "amb.csv"}
    (msg,) = check_source(amb, "transactions", base_dir=tmp_path, as_of="2000-01-01")
    with pytest.raises(ValueError) as loader:
        load_source(amb, "transactions", base_dir=tmp_path)
    assert msg == f"amb.csv: {loader.value}" and "dayfirst: true" in msg
    (msg,) = check_source({**amb, "dayfirst": True}, "transactions", base_dir=tmp_path, as_of="2023-12-31")
    assert "is 2024-01-02" in msg
    # Parquet: typed dates from the row-group statistics; aware ones converted as the loader converts them
    typed = iso.assign(day=pd.to_datetime(iso["day"], format="ISO8601").dt.tz_localize("Europe/Berlin"))
    typed.to_parquet(tmp_path / "tz.parquet")
    tz_spec = {**spec, "loader": "parquet", "path": "tz.parquet"}
    # 2024-02-01 00:00 in Berlin is 2024-01-31 23:00 UTC (the default zone); in the spec's zone it stays 02-01
    (msg,) = check_source(tz_spec, "transactions", base_dir=tmp_path, as_of="2024-01-30")
    assert "is 2024-01-31" in msg
    first = load_source(tz_spec, "transactions", base_dir=tmp_path)["timestamp"].min()
    assert first == pd.Timestamp("2024-01-31 23:00")  # the same date as the loader's
    (msg,) = check_source({**tz_spec, "timezone": "Europe/Berlin"}, "transactions", base_dir=tmp_path,
                          as_of="2024-01-31")
    assert "is 2024-02-01" in msg
    iso.to_parquet(tmp_path / "text.parquet")
    (msg,) = check_source({**spec, "loader": "parquet", "path": "text.parquet"}, "transactions", base_dir=tmp_path,
                          as_of="2024-01-31")
    assert "is 2024-02-01" in msg


def test_sql_specs_are_checked_without_connecting(monkeypatch):
    monkeypatch.delenv("CRM_TEST_NO_URL", raising=False)
    assert check_source({"loader": "sql", "url_env": "CRM_TEST_NO_URL", "table": "t"}, "transactions") == [
        "environment variable 'CRM_TEST_NO_URL' (database URL) is not set or empty"]
    monkeypatch.setenv("CRM_TEST_NO_URL", "postgresql+psycopg://crm@db.invalid/crm")  # never connected to
    assert check_source({"loader": "sql", "url_env": "CRM_TEST_NO_URL", "table": "t"}, "transactions") == []
    assert check_source({"loader": "sql", "url_env": "CRM_TEST_NO_URL"}, "transactions") == [
        "a 'sql' source needs exactly one of 'table' or 'query'"]


def test_spec_errors_are_problems_not_exceptions():
    assert check_source({"loader": "ods"}, "transactions")[0].startswith("unknown data loader 'ods'")
    assert check_source({"loader": "csv", "path": "x", "colums": {}}, "transactions")[0].startswith("unknown key")
    assert check_source({"loader": "csv"}, "transactions") == ["loader 'csv' needs 'path' (the file to read)"]
    assert check_source("sales.csv", "transactions")[0].startswith("a data source spec must be a mapping")


def test_workbooks_and_uci_copies(tmp_path, sales):
    with pd.ExcelWriter(tmp_path / "s.xlsx") as xl:
        sales.to_excel(xl, sheet_name="2023", index=False)
        sales.to_excel(xl, sheet_name="2024", index=False)
    spec = {"loader": "excel", "path": "s.xlsx", "columns": COLS}
    (msg,) = check_source(spec, "transactions", base_dir=tmp_path)
    assert "'2023'" in msg and "'2024'" in msg  # several sheets and none chosen: the sheets are listed
    assert check_source({**spec, "sheet": "2024"}, "transactions", base_dir=tmp_path) == []
    (msg,) = check_source({**spec, "sheet": "2024", "columns": {**COLS, "amount": "Total"}}, "transactions",
                          base_dir=tmp_path)
    assert msg.startswith("s.xlsx: columns= mapping refers to source column(s) that do not exist: 'amount' -> 'Total'")
    # a CSV copy of Online Retail II without the 'Customer ID' column, then with it named differently
    uci = pd.DataFrame({"Invoice": ["489434"], "StockCode": ["85048"], "Description": ["x"], "Quantity": [12],
                        "InvoiceDate": ["2009-12-01 07:45:00"], "Price": [6.95], "Country": ["UK"]})
    uci.to_csv(tmp_path / "ii.csv", index=False)
    (msg,) = check_source({"loader": "online_retail_ii", "path": "ii.csv"}, "transactions", base_dir=tmp_path)
    assert msg.startswith("ii.csv: missing column(s) ['Customer ID'] that the 'online_retail_ii' loader reads")
    uci.assign(Customer=[13085.0]).to_csv(tmp_path / "ii.csv", index=False)
    spec = {"loader": "online_retail_ii", "path": "ii.csv", "columns": {"customer_id": "Customer"}}
    assert check_source(spec, "transactions", base_dir=tmp_path, as_of="2009-12-31") == []
    (msg,) = check_source(spec, "transactions", base_dir=tmp_path, as_of="2009-11-30")
    assert "the first timestamp in ii.csv (column 'InvoiceDate') is 2009-12-01" in msg
    assert load_source(spec, "transactions", base_dir=tmp_path)["customer_id"].tolist() == ["13085"]


def test_a_missing_sqlite_file_is_refused_and_never_created(tmp_path):
    """Finding B10: SQLite creates a missing database file when connecting; the check and the loader refuse it."""
    import sqlalchemy as sa

    missing = tmp_path / "no_such_shop.db"
    spec = {"loader": "sql", "url": f"sqlite:///{missing}", "table": "orders", "columns": COLS}
    (msg,) = check_source(spec, "transactions")
    assert msg == (f"SQLite database file not found: {missing} (from the URL sqlite:///{missing}); SQLite would "
                   "create an empty one. Check the path (sqlite:///relative/path or sqlite:////absolute/path)")
    with pytest.raises(ValueError, match="SQLite database file not found"):
        load_source(spec, "transactions")
    assert not missing.exists()
    # the same file, once it exists, passes and loads
    pd.DataFrame({"cid": ["a"], "day": ["2024-01-02"], "total": [1.0]}).to_sql(
        "orders", sa.create_engine(f"sqlite:///{missing}"), index=False)
    assert check_source(spec, "transactions") == []
    assert load_source(spec, "transactions")["customer_id"].tolist() == ["a"]


def test_a_sql_driver_that_is_not_installed_is_named(monkeypatch):
    import importlib.util

    if importlib.util.find_spec("pyodbc") is not None:
        pytest.skip("pyodbc is installed here")
    (msg,) = check_source({"loader": "sql", "url": "mssql+pyodbc://db.invalid/shop", "table": "t"}, "transactions")
    assert msg.startswith("the database driver for 'mssql+pyodbc' cannot be loaded (ModuleNotFoundError: No module "
                          "named 'pyodbc'): install it")
    (msg,) = check_source({"loader": "sql", "url": "nosuchdb://h/x", "table": "t"}, "transactions")
    assert msg.startswith("the database driver for 'nosuchdb' cannot be loaded (NoSuchModuleError")


def test_what_is_not_checked_before_the_run_is_said(tmp_path, sales, monkeypatch):
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        con.register("src", sales)
        con.execute("CREATE TABLE sales AS SELECT * FROM src")
    checked = src.probe_source({"loader": "duckdb", "database": "s.duckdb", "table": "sales", "columns": COLS},
                               "transactions", base_dir=tmp_path)
    assert checked.problems == [] and not checked.loaded
    assert checked.deferred == "the rows of a DuckDB source are checked when the data-quality notebook reads them"
    sales.to_csv(tmp_path / "s.csv", index=False)
    spec = {"loader": "csv", "path": "s.csv", "columns": COLS}
    assert src.probe_source(spec, "transactions", base_dir=tmp_path).loaded
    monkeypatch.setattr(src, "_SCAN_MAX_BYTES", 10)
    checked = src.probe_source(spec, "transactions", base_dir=tmp_path)
    assert not checked.loaded and "only its header was read" in checked.deferred


def test_header_read_failures_are_explained_by_the_data_layer(tmp_path):
    """Finding B6: the data layer's message (encoding hint, empty file), not the reader's raw exception."""
    (tmp_path / "empty.csv").write_bytes(b"")
    (msg,) = check_source({"loader": "csv", "path": "empty.csv", "columns": COLS}, "transactions", base_dir=tmp_path)
    assert msg.endswith("empty.csv: the file is empty (0 bytes); there is nothing to read. Check that the export "
                        "finished and that the path points at the data file.")
    (tmp_path / "cp.csv").write_bytes("Kunde;Datum;Betrag (€)\n".encode("cp1252"))
    spec = {"loader": "csv", "path": "cp.csv", "read_options": {"sep": ";"},
            "columns": {"customer_id": "Kunde", "timestamp": "Datum", "amount": "Betrag (€)"}}
    (msg,) = check_source(spec, "transactions", base_dir=tmp_path)
    assert "cp.csv: cannot be read as utf-8 text: byte(s) 80" in msg and "Pass encoding='cp1252'" in msg
    assert "UnicodeDecodeError" not in msg
