"""Catalogue of bad or unusual inputs through the report chain and the CLI (issue #11, points 7-11).

One case per row: a small file and/or a configuration change, and the expected
outcome -- an error whose text is asserted (with the exit code, and that no run
folder was made), a skip with its reason, or a run. The configurations are the
project's own (``config/default.yaml``, ``config/hotels.yaml``) with the real
notebooks, changed in one place per case; nothing here starts a kernel except
the one test marked ``slow``, which runs the data-quality notebook to show that
what the pre-flight cannot decide is still a clear error. The data layer's own
catalogue (encodings, Excel, separators) is ``tests/data/test_bad_inputs.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from crm_analysis.data import load_source
from crm_analysis.data.sources import check_source
from crm_analysis.report.cli import EXIT_CONFIG, EXIT_NOTEBOOK_FAILED, main
from crm_analysis.report.config import ConfigError, load_config
from crm_analysis.report.preflight import PreflightError, preflight

ROOT = Path(__file__).resolve().parents[2]
COLS = {"customer_id": "Client", "timestamp": "OrderDate", "amount": "Total"}


def _orders(path: Path, *, dates: list[str] | None = None, sep: str = ",", drop: str | None = None) -> Path:
    """A small orders file (CSV or Parquet by suffix) with the shop's own column names."""
    dates = dates or ["2024-01-05", "2024-02-10", "2024-03-15"]
    df = pd.DataFrame({"Client": ["c1", "c2", "c1"], "OrderDate": dates, "Total": [10.0, 20.5, 7.25]})
    if drop:
        df = df.drop(columns=drop)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        if "OrderDate" in df:
            df["OrderDate"] = pd.to_datetime(df["OrderDate"])
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False, sep=sep)
    return path


def _config(tmp_path: Path, *, base: str = "default", data: dict[str, Any] | None = None,
            params: dict[str, dict[str, Any]] | None = None, enable: tuple[str, ...] = (), **top: Any) -> Path:
    """``config/<base>.yaml`` with the project root set, reports under ``tmp_path``, and the changes."""
    raw = yaml.safe_load((ROOT / "config" / f"{base}.yaml").read_text())
    raw["project_root"] = str(ROOT)
    raw["reports_dir"] = str(tmp_path / "reports")
    raw["data"].update(data or {})
    for nb in raw["notebooks"]:
        nb["parameters"] = {**(nb.get("parameters") or {}), **(params or {}).get(nb["name"], {})}
        if nb["name"] in enable:
            nb["enabled"] = True
    raw.update(top)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], cfg: Path, *argv: str) -> str:
    """Run ``crm-analysis report``; assert exit code 2 and that nothing was run; return stderr."""
    rc = main(["report", "--config", str(cfg), "--quiet", *argv])
    err = capsys.readouterr().err
    assert rc == EXIT_CONFIG, err
    assert not (tmp_path / "reports" / "runs").exists(), "a run folder was made"
    return err


# ------------------------------------------------------------------ data files
DATA_CASES = {
    # case: (file writer, spec (with {file}), expected message parts)
    "file missing": (
        None, {"loader": "csv", "path": "{dir}/no_such_orders.csv", "columns": COLS},
        ["data.transactions (csv): file not found:", "no_such_orders.csv"],
    ),
    "mapped column absent": (
        lambda d: _orders(d / "o.csv", drop="Total"), {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: columns= mapping refers to source column(s) that do not exist: 'amount' -> 'Total'",
         "found columns: ['Client', 'OrderDate']"],
    ),
    "required column absent, no mapping": (
        lambda d: _orders(d / "o.csv"), {"loader": "csv", "path": "{dir}/o.csv"},
        ["missing required column(s) ['customer_id', 'timestamp', 'amount'] of the transactions schema",
         "Map your column names with columns="],
    ),
    "semicolon file read with commas": (
        lambda d: _orders(d / "o.csv", sep=";"), {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: parsed into a single column 'Client;OrderDate;Total' with separator ','",
         "so the file is probably separated by ';'", 'in a configuration `read_options: {sep: ";", decimal: ","}`'],
    ),
    "parquet without the mapped date column": (
        lambda d: _orders(d / "o.parquet", drop="OrderDate"),
        {"loader": "parquet", "path": "{dir}/o.parquet", "columns": COLS},
        ["o.parquet: columns= mapping refers to source column(s) that do not exist: 'timestamp' -> 'OrderDate'"],
    ),
    "filter on a column there is not": (
        lambda d: _orders(d / "o.csv"),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS, "filter": {"channel": "web"}},
        ["filter column(s) ['channel'] are not columns of the transactions loaded from o.csv; they can be: "
         "['amount', 'customer_id', 'timestamp']"],
    ),
    "unreadable header (bad read_options)": (
        lambda d: _orders(d / "o.csv"),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS, "read_options": {"seperator": ";"}},
        ["cannot read the columns of", "seperator"],
    ),
    "as_of before all data (CSV, ISO dates)": (
        lambda d: _orders(d / "o.csv"), {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["as_of 2023-12-31 is before all transactions: the first timestamp in o.csv (column 'OrderDate') is "
         "2024-01-05, so nothing would be analysed; set as_of to 2024-01-05 or later"],
    ),
    "as_of before all data (Parquet timestamps, from statistics)": (
        lambda d: _orders(d / "o.parquet"), {"loader": "parquet", "path": "{dir}/o.parquet", "columns": COLS},
        ["as_of 2023-12-31 is before all transactions: the first timestamp in o.parquet"],
    ),
    # finding B1: what only the loader saw (the notebook failed with exit 1); now its own words, before the run
    "ambiguous day/month order": (
        lambda d: _orders(d / "o.csv", dates=["03/01/2024", "04/02/2024", "05/06/2024"]),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: column 'timestamp (OrderDate)': the 3 date(s) written day/month/year or month/day/year are valid "
         "in both orders", "dayfirst: true (03/01/2024 = 3 January 2024) or dayfirst: false"],
    ),
    "day-first and month-first dates mixed": (
        lambda d: _orders(d / "o.csv", dates=["25/01/2024", "01/25/2024", "02/02/2024"]),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: column 'timestamp (OrderDate)' mixes day-first dates (e.g. row 0: '25/01/2024') and month-first "
         "dates (e.g. row 1: '01/25/2024')"],
    ),
    "a date that does not exist (31/02/2024)": (
        lambda d: _orders(d / "o.csv", dates=["31/02/2024", "13/01/2024", "14/01/2024"]),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: column 'timestamp (OrderDate)': 1 value(s) are not valid dates", "row 0: '31/02/2024'"],
    ),
    "header but no rows (CSV)": (
        lambda d: _text(d / "o.csv", "Client,OrderDate,Total\n"),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv has a header (columns ['Client', 'OrderDate', 'Total']) but no data rows"],
    ),
    "cp1252 bytes after an ASCII header": (
        lambda d: _text(d / "o.csv", "Client,OrderDate,Total\nJosé,2024-01-05,12.5\n", "cp1252"),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: cannot be read as utf-8 text: byte(s) E9 at byte offset 26 (line 2)", "Pass encoding='cp1252'"],
    ),
    # finding B6: the header probe explains a reader failure as the loader does
    "cp1252 bytes in the header": (
        lambda d: _text(d / "o.csv", "Kunde;Datum;Betrag (€)\nJosé;05.01.2024;12,50\n", "cp1252"),
        {"loader": "csv", "path": "{dir}/o.csv", "read_options": {"sep": ";", "decimal": ","},
         "columns": {"customer_id": "Kunde", "timestamp": "Datum", "amount": "Betrag (€)"}},
        ["o.csv: cannot be read as utf-8 text: byte(s) 80 at byte offset 20 (line 1)",
         "in cp1252 (Windows, Western Europe) byte 0x80 is '€'", "`encoding: cp1252`"],
    ),
    "Parquet file named as CSV (finding B7's family)": (
        lambda d: _orders(d / "o.parquet"), {"loader": "csv", "path": "{dir}/o.parquet", "columns": COLS},
        ["o.parquet: is not a text (CSV) file but a Parquet file; use loader: parquet"],
    ),
    "a column named twice in the header": (
        lambda d: _text(d / "o.csv", "Client,OrderDate,Total,Total\nc1,2024-01-05,10,8\n"),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: the header names column(s) ['Total'] more than once"],
    ),
    "empty file": (
        lambda d: _text(d / "o.csv", ""), {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: the file is empty (0 bytes); there is nothing to read"],
    ),
    "only blank lines": (
        lambda d: _text(d / "o.csv", "\n\n\n"), {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS},
        ["o.csv: the file is empty (only blanks and line breaks)"],
    ),
    "filter matching no rows": (
        lambda d: _orders(d / "o.csv"),
        {"loader": "csv", "path": "{dir}/o.csv", "columns": COLS, "filter": {"customer_id": "c9"}},
        ["filter customer_id='c9' matches no rows; values present include ['c1', 'c2']"],
    ),
    # every file loader is loaded whole: Excel, Parquet, the UCI, hotel and CDNOW loaders
    "header but no rows (Excel sheet)": (
        lambda d: _orders(d / "o.csv").parent and pd.DataFrame(columns=["Client", "OrderDate", "Total"]).to_excel(
            d / "o.xlsx", index=False, sheet_name="Orders"),
        {"loader": "excel", "path": "{dir}/o.xlsx", "columns": COLS},
        ["o.xlsx, sheet 'Orders', has a header (columns ['Client', 'OrderDate', 'Total']) but no data rows"],
    ),
    "no rows (Parquet)": (
        lambda d: _orders(d / "o.parquet").unlink() or pd.DataFrame(
            {"Client": pd.Series([], dtype="string"), "OrderDate": pd.Series([], dtype="datetime64[ns]"),
             "Total": pd.Series([], dtype="float64")}).to_parquet(d / "o.parquet"),
        {"loader": "parquet", "path": "{dir}/o.parquet", "columns": COLS},
        ["o.parquet has a header (columns ['Client', 'OrderDate', 'Total']) but no data rows"],
    ),
    "UCI Online Retail copy with a date that does not exist": (
        lambda d: _uci_copy(d / "retail.csv", "31/02/2011 10:00"), {"loader": "online_retail", "path": "{dir}/retail.csv"},
        ["retail.csv: column 'timestamp (InvoiceDate)': 1 value(s) are not valid dates", "'31/02/2011 10:00'"],
    ),
    "hotel bookings with a month name that is not one": (
        lambda d: _hotels(d / "hotels.csv", month="Julyy"), {"loader": "hotels", "path": "{dir}/hotels.csv"},
        ["hotels.csv: unknown arrival_date_month value(s): ['Julyy']"],
    ),
    "CDNOW file with an unparseable line": (
        lambda d: _text(d / "cdnow.txt", "00001 19970101 1 9.99\n00002 1997XX01 1 5.00\n"),
        {"loader": "cdnow", "path": "{dir}/cdnow.txt"},
        ["cdnow.txt: 1 unparseable line(s)", "1997XX01"],
    ),
    # finding B10: SQLite would create the missing file and then say "table not found"
    "SQLite database file missing": (
        None, {"loader": "sql", "url": "sqlite:///{dir}/no_such_shop.db", "table": "orders", "columns": COLS},
        ["SQLite database file not found:", "no_such_shop.db", "SQLite would create an empty one"],
    ),
    "SQL driver not installed": (
        None, {"loader": "sql", "url": "mssql+pyodbc://db.example.com/shop?driver=ODBC+Driver+18", "table": "orders"},
        ["the database driver for 'mssql+pyodbc' cannot be loaded (ModuleNotFoundError: No module named 'pyodbc')"],
    ),
}


def _text(path: Path, content: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode(encoding))
    return path


def _hotels(path: Path, month: str) -> Path:
    """A one-booking copy of the hotel booking demand file with ``arrival_date_month`` = ``month``."""
    row = {"hotel": "City Hotel", "is_canceled": 0, "lead_time": 3, "arrival_date_year": 2016,
           "arrival_date_month": month, "arrival_date_day_of_month": 1, "stays_in_weekend_nights": 0,
           "stays_in_week_nights": 2, "adults": 2, "adr": 90.0, "market_segment": "Direct",
           "distribution_channel": "Direct", "reservation_status": "Check-Out", "reservation_status_date": "2016-07-03"}
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(path, index=False)
    return path


def _uci_copy(path: Path, date: str) -> Path:
    """A one-line CSV copy of UCI Online Retail (its own column names) with ``InvoiceDate`` = ``date``."""
    row = {"InvoiceNo": "536365", "StockCode": "85123A", "Description": "WHITE HANGING HEART", "Quantity": 6,
           "InvoiceDate": date, "UnitPrice": 2.55, "CustomerID": "17850", "Country": "United Kingdom"}
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_data_problems_stop_the_run_before_any_notebook(case, tmp_path, capsys):
    write, spec, expected = DATA_CASES[case]
    data_dir = tmp_path / "data"
    if write is not None:
        write(data_dir)
    spec = {k: (v.format(dir=data_dir) if isinstance(v, str) else v) for k, v in spec.items()}
    kind = "bookings" if spec["loader"] == "hotels" else "transactions"
    expected = [e.replace("data.transactions", f"data.{kind}") for e in expected]
    cfg = _config(tmp_path, data={kind: spec},
                  as_of="2023-12-31" if case.startswith("as_of") else "2024-12-31")
    err = _refused(tmp_path, capsys, cfg, "--only", "data_quality")
    assert "pre-flight check found" in err and "nothing was run" in err
    for part in expected:
        assert part in err, (part, err)


def test_a_relative_sqlite_path_is_relative_to_the_project_root(tmp_path, capsys):
    """Not to the run folder, where the notebook runs (SQLite would create an empty database there)."""
    cfg = _config(tmp_path, data={"transactions": {"loader": "sql", "url": "sqlite:///data/no_such_shop.db",
                                                   "table": "orders", "columns": COLS}})
    wanted = (ROOT / "data" / "no_such_shop.db").resolve()
    assert load_config(cfg).data["transactions"].options["url"] == f"sqlite:///{wanted}"
    err = _refused(tmp_path, capsys, cfg, "--only", "data_quality")
    assert f"data.transactions (sql): SQLite database file not found: {wanted}" in err
    assert not wanted.exists()


def test_preflight_says_what_it_loaded_and_what_it_left_to_the_run(tmp_path, capsys, monkeypatch):
    from crm_analysis.data import sources

    cfg = _config(tmp_path, data={"transactions": _tx_csv(tmp_path)})
    assert main(["preflight", "--config", str(cfg), "--only", "data_quality"]) == 0
    out = capsys.readouterr().out
    assert "data.transactions: loaded whole as the data-quality notebook will load it, first date 2024-01-05" in out
    assert "not checked before the run" not in out
    monkeypatch.setattr(sources, "_SCAN_MAX_BYTES", 10)  # as if the file were larger than the limit
    assert main(["preflight", "--config", str(cfg), "--only", "data_quality"]) == 0
    out = capsys.readouterr().out
    assert ("not checked before the run: data.transactions (csv): o.csv is 0 MiB, more than the 0 MiB the check "
            "loads whole: only its header was read; the values are checked when the data-quality notebook loads it"
            ) in out


def test_every_problem_is_listed_at_once(tmp_path, capsys):
    cfg = _config(tmp_path, data={"transactions": {"loader": "csv", "path": str(tmp_path / "none.csv")}},
                  params={"rfm_clv": {"horizon": "fifty-two", "margin": "0.3"}})
    err = _refused(tmp_path, capsys, cfg)
    assert "pre-flight check found 3 problem(s)" in err
    assert "parameters.horizon" in err and "parameters.margin" in err and "file not found" in err


def test_configured_data_set_missing_on_this_machine_is_an_error(tmp_path, capsys):
    """The hotels configuration where ../shared/data is absent: refused, not skipped."""
    cfg = _config(tmp_path, base="hotels", data={"bookings": {"loader": "hotels", "path": str(tmp_path / "hotels.csv.gz"),
                                                              "filter": {"property": "City Hotel"}}})
    err = _refused(tmp_path, capsys, cfg)
    assert f"data.bookings (hotels): file not found: {tmp_path / 'hotels.csv.gz'}" in err


def test_check_source_reads_dates_as_the_loader_does(tmp_path):
    """The first date is read by the loaders' date policy: inferred day-first, configured formats; a column
    the policy cannot decide is the loader's error, which says what to add."""
    path = _orders(tmp_path / "o.csv", dates=["05/01/2024", "10/02/2024", "15/03/2024"])
    spec = {"loader": "csv", "path": str(path), "columns": COLS}
    (msg,) = check_source(spec, "transactions", as_of="2023-12-31")  # 15/03: day first
    assert "the first timestamp in o.csv (column 'OrderDate') is 2024-01-05" in msg
    ambiguous = _orders(tmp_path / "a.csv", dates=["05/01/2024", "10/02/2024", "12/03/2024"])
    spec = {"loader": "csv", "path": str(ambiguous), "columns": COLS}
    (msg,) = check_source(spec, "transactions", as_of="2023-12-31")
    assert "cannot be inferred; say which in the data spec: dayfirst: true" in msg
    (msg,) = check_source({**spec, "date_format": "%d/%m/%Y"}, "transactions", as_of="2023-12-31")
    assert "the first timestamp in a.csv (column 'OrderDate') is 2024-01-05" in msg


def test_a_workbook_read_as_csv_gets_the_loaders_message(tmp_path, capsys):
    """Finding B7: the pre-flight shows the loader's own message for a workbook named as CSV, not a raw error."""
    _orders(tmp_path / "o.csv")
    pd.read_csv(tmp_path / "o.csv").to_excel(tmp_path / "orders.xlsx", index=False)
    spec = {"loader": "csv", "path": str(tmp_path / "orders.xlsx"), "columns": COLS}
    with pytest.raises(ValueError) as loader:
        load_source(spec, "transactions")
    err = _refused(tmp_path, capsys, _config(tmp_path, data={"transactions": spec}), "--only", "data_quality")
    assert f"data.transactions (csv): {loader.value}" in err
    assert "UnicodeDecodeError" not in err and "cannot read the columns" not in err


def test_a_workbook_read_as_csv_is_told_to_use_the_excel_loader(tmp_path):
    _orders(tmp_path / "o.csv")
    pd.read_csv(tmp_path / "o.csv").to_excel(tmp_path / "orders.xlsx", index=False)
    (msg,) = check_source({"loader": "csv", "path": str(tmp_path / "orders.xlsx"), "columns": COLS}, "transactions")
    assert "loader: excel" in msg and "encoding='cp1252'" not in msg


# ------------------------------------------------------------------ loader keys and secrets
@pytest.mark.parametrize(("spec", "message"), [
    ({"loader": "csv", "path": "x.csv", "colums": {}}, "unknown key data.transactions.colums"),
    ({"loader": "sql", "url_env": "CRM_DB_URL", "table": "t", "passwrd_env": "X"},
     "unknown key data.transactions.passwrd_env"),
    ({"loader": "sql", "url": "postgresql://crm@db/crm", "url_env": "CRM_DB_URL", "table": "t"},
     "data.transactions: loader 'sql' needs exactly one of 'url' and 'url_env'"),
    ({"loader": "sql", "url_env": "CRM_DB_URL"}, "data.transactions: loader 'sql' needs exactly one of 'table' and 'query'"),
    ({"loader": "sql", "url_env": "$CRM_DB_URL", "table": "t"},
     "data.transactions.url_env: must be the name of an environment variable, got '$CRM_DB_URL'"),
    ({"loader": "excel_sheet", "path": "x.xlsx"}, "data.transactions.loader: must be one of"),
])
def test_loader_specs_are_checked_against_the_data_layer_table(tmp_path, capsys, spec, message):
    err = _refused(tmp_path, capsys, _config(tmp_path, data={"transactions": spec}))
    assert message in err


SECRET = "Sup3r-S3cret"
#: Every way the newcomer (and the family around it) wrote a password into a data spec: (spec, key refused).
SECRET_SPECS = {
    "user:password@host": ({"url": f"postgresql+psycopg://crm:{SECRET}@db.example.com:5432/crm"}, "url"),
    "URL-encoded password": ({"url": "postgresql+psycopg://crm:Sup3r%2DS3cret@db.example.com/crm"}, "url"),
    "?password=": ({"url": f"postgresql://db.example.com/crm?user=crm&password={SECRET}"}, "url"),
    "?Password=": ({"url": f"postgresql://db.example.com/crm?Password={SECRET}"}, "url"),
    "?pwd=": ({"url": f"postgresql://db.example.com/crm?pwd={SECRET}"}, "url"),
    "&PWD=": ({"url": f"mssql+pyodbc://db.example.com/shop?driver=ODBC+Driver+18&PWD={SECRET}"}, "url"),
    # finding A1: the password inside ODBC's connect string, percent-encoded and plain
    "odbc_connect, encoded": ({"url": "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18%7D%3BSERVER%3Ddb"
                                      "%3BUID%3Danalyst%3BPWD%3DSup3r-S3cret"}, "url"),
    "odbc_connect, plain": ({"url": "mssql+pyodbc:///?odbc_connect=DRIVER={ODBC Driver 18};SERVER=db;UID=analyst;"
                                    f"PWD={SECRET}"}, "url"),
    "odbc_connect, ;Password={...}": ({"url": "mssql+pyodbc:///?odbc_connect=DSN%3Dshop%3BPassword%3D%7B"
                                              "Sup3r-S3cret%7D"}, "url"),
    "token in the query": ({"url": f"snowflake://acct/db?token={SECRET}"}, "url"),
    "password in the read options": ({"url": "postgresql://db.example.com/crm",
                                      "read_options": {"params": {"password": SECRET}}},
                                     "read_options.params.password"),
    "connect string in a query parameter": ({"url": "postgresql://db.example.com/crm", "query": "SELECT 1",
                                             "params": {"dsn": f"host=db user=crm password={SECRET}"}},
                                            "params.dsn"),
}


@pytest.mark.parametrize("case", sorted(SECRET_SPECS))
def test_a_password_in_a_data_spec_is_refused_at_config_load(tmp_path, capsys, case):
    spec, key = SECRET_SPECS[case]
    spec = {"loader": "sql", "table": "sales", **spec}
    if "query" in spec:
        del spec["table"]
    cfg = _config(tmp_path, data={"transactions": spec})
    err = _refused(tmp_path, capsys, cfg)
    assert f"data.transactions.{key}: holds a password or other secret" in err
    assert "password_env" in err and "url_env" in err
    assert SECRET not in err and "Sup3r%2DS3cret" not in err  # the refusal does not repeat the secret
    assert main(["preflight", "--config", str(cfg)]) == EXIT_CONFIG
    assert SECRET not in capsys.readouterr().err


@pytest.mark.parametrize("value", [
    f"see https://u:{SECRET}@wiki/x",
    f"Driver={{ODBC Driver 18}};Server=db;Uid=a;Pwd={SECRET}",
    f"https://api.example.com/orders?api_key={SECRET}",
])
def test_a_password_in_a_notebook_parameter_is_refused_too(tmp_path, value):
    cfg = _config(tmp_path, params={"segmentation": {"bins": 5, "note": value}})
    with pytest.raises(ConfigError, match=r"notebooks\[2\]\.parameters\.note: holds a password") as err:
        load_config(cfg)
    assert SECRET not in str(err.value)


def test_a_secret_in_a_mapping_key_is_not_repeated_by_the_refusal(tmp_path, capsys):
    cfg = _config(tmp_path, params={"segmentation": {f"postgresql://u:{SECRET}@db/x": 1}})
    err = _refused(tmp_path, capsys, cfg)
    assert "notebooks[2].parameters (a mapping key): holds a password" in err and SECRET not in err


def test_a_yaml_error_in_a_file_with_a_secret_does_not_quote_it(tmp_path, capsys):
    cfg = _config(tmp_path)
    text = cfg.read_text().replace("reports_dir:", f"broken: [\n  url: postgresql://u:{SECRET}@db/x\nreports_dir:")
    cfg.write_text(text)
    err = _refused(tmp_path, capsys, cfg)
    assert "not valid YAML" in err and "(line " in err and SECRET not in err


def test_sql_environment_variable_not_set_is_a_preflight_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CRM_TEST_UNSET_URL", raising=False)
    cfg = _config(tmp_path, data={"transactions": {"loader": "sql", "url_env": "CRM_TEST_UNSET_URL", "table": "t"}})
    err = _refused(tmp_path, capsys, cfg)
    assert "data.transactions (sql): environment variable 'CRM_TEST_UNSET_URL' (database URL) is not set" in err


# ------------------------------------------------------------------ notebook parameters
PARAMETER_CASES = [
    # (notebook, parameter, value, expected message after "notebooks[i] (name).parameters.<p>: ")
    ("rfm_clv", "horizon", "fifty-two", "got str 'fifty-two', expected int (default 52) in 10_rfm_clv.ipynb"),
    ("rfm_clv", "horizon", 52.5, "got float 52.5, expected int (default 52)"),
    ("rfm_clv", "margin", "0.3", "got str '0.3', expected float (default 0.3)"),
    ("rfm_clv", "fit_paretonbd", "yes", "got str 'yes', expected bool (default True)"),
    ("rfm_clv", "fit_paretonbd", 1, "got int 1, expected bool (default True)"),
    ("rfm_clv", "calibration_end", dt.date(2024, 6, 30),
     "got date datetime.date(2024, 6, 30), expected str or None (default None); YAML read an unquoted date: "
     "quote it, e.g. '2024-06-30'"),
    ("rfm_clv", "discount_rate", float("nan"), "got nan: parameters must be finite numbers (no NaN or infinity)"),
    ("yield", "service_level", float("inf"), "got inf: parameters must be finite numbers"),
    ("yield", "capacity", float("nan"), "got nan: parameters must be finite numbers"),
    ("yield", "capacity", 226.5, "got float 226.5, expected int or None (default None)"),
    ("yield", "capacity", "226", "got str '226', expected int or None (default None)"),
    ("yield", "group_arrival_peak", 20250801, "got int 20250801, expected str or None (default None)"),
    ("seasonality", "periods", [7, "365"], "got list [7, '365'], expected list of int (default [7, 365])"),
    ("seasonality", "closed_weekdays", "Sunday", "got str 'Sunday', expected list or None (default None)"),
    ("seasonality", "closed_dates", ["2024-12-25", 20241226],
     "got list ['2024-12-25', 20241226], expected list of str or None (default None)"),
    ("segmentation", "n_clusters", 2.5, "got float 2.5, expected int or None (default None)"),
    ("data_quality", "transactions_policy", "drop returns", "got str 'drop returns', expected mapping (default {})"),
    ("data_quality", "transactions_policy", {"retruns": "drop"}, "unexpected keyword argument 'retruns'"),
    ("data_quality", "transactions_policy", {"returns": "maybe"}, "returns"),
]


@pytest.mark.parametrize(("notebook", "parameter", "value", "message"), PARAMETER_CASES,
                         ids=[f"{c[0]}.{c[1]}={c[2]!r}" for c in PARAMETER_CASES])
def test_a_parameter_of_the_wrong_type_is_refused_by_name(tmp_path, capsys, notebook, parameter, value, message):
    cfg = _config(tmp_path, params={notebook: {parameter: value}})
    err = _refused(tmp_path, capsys, cfg)
    assert f"({notebook}).parameters.{parameter}: " in err
    assert message in err


@pytest.mark.parametrize(("notebook", "params"), [
    ("rfm_clv", {"margin": 1}),  # an int where a float is declared
    ("rfm_clv", {"time_unit": "D", "calibration_end": "2024-09-30", "purchase_model": "pareto_nbd"}),
    ("rfm_clv", {"purchase_model": "BG/NBD", "fit_paretonbd": False, "selection_criterion": "bic"}),
    ("rfm_clv", {"purchase_model": "Auto"}),
    # a boundary limit can be forced (never a default candidate), with or without the Pareto/NBD
    ("rfm_clv", {"purchase_model": "nbd", "fit_paretonbd": False}),
    ("rfm_clv", {"purchase_model": "Zero-inflated NBD"}),
    ("rfm_clv", {"covariates": ["channel", "first_purchase_month"], "cohort_frequency": "Q", "interval_draws": 100}),
    ("rfm_clv", {"reference_estimates": {"BG/NBD": {"r": 0.243}, "gamma_gamma": {"p": 6.25}},
                 "reference_source": "Fader, Hardie & Lee (2005)"}),
    ("yield", {"capacity": 226}),
    ("yield", {"capacity": None}),
    ("yield", {"group_rate": 80, "group_arrival_peak": "2025-08-01"}),
    ("seasonality", {"tx_fill": "closed", "closed_weekdays": ["Sunday", "sat", 5], "closed_dates": ["2024-12-25"]}),
    ("seasonality", {"calendar": {"country": "GB", "subdiv": "ENG", "holidays_closed": True}, "tx_fill": "closed"}),
    ("data_quality", {"transactions_policy": {"returns": "keep", "duplicates": "keep"}}),
])
def test_values_of_the_declared_type_pass(tmp_path, notebook, params):
    cfg = load_config(_config(tmp_path, params={notebook: params}))
    checked = preflight(cfg)
    assert notebook in checked.declared and checked.skipped == {}


# ------------------------------------------------------------------ absent data kinds, hand-over files
def test_notebook_whose_data_kind_is_none_is_skipped_with_the_reason(tmp_path, capsys):
    cfg = _config(tmp_path, base="cdnow", enable=("seasonality", "yield"),
                  data={"transactions": {"loader": "synthetic"}})
    checked = preflight(load_config(cfg))
    assert checked.skipped == {"yield": "needs bookings, but data.bookings is none (this data set has no bookings)"}
    assert main(["preflight", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "OK: 5 notebook(s) would run: data_quality, rfm_clv, segmentation, idic, seasonality" in out
    assert "yield would be skipped: needs bookings, but data.bookings is none" in out


def test_no_notebook_left_to_run_is_refused(tmp_path, capsys):
    cfg = _config(tmp_path, base="cdnow", data={"transactions": {"loader": "synthetic"}})
    err = _refused(tmp_path, capsys, cfg, "--only", "yield")
    assert "no notebook would run: yield needs bookings, but data.bookings is none" in err


@pytest.mark.parametrize(("only", "message"), [
    (["rfm_clv"], "rfm_clv reads transactions.parquet written by data_quality, which does not run "
                  "(it is disabled or not in --only); enable it or add it to --only"),
    (["data_quality", "segmentation"], "segmentation reads clv.parquet written by rfm_clv, which does not run"),
    (["data_quality", "yield"], "yield reads forecasts.parquet written by seasonality, which does not run"),
])
def test_a_notebook_whose_input_notebook_does_not_run_is_refused(tmp_path, capsys, only, message):
    err = _refused(tmp_path, capsys, _config(tmp_path), "--only", *only)
    assert message in err


def test_as_of_override_before_the_data_is_refused(tmp_path, capsys):
    path = _orders(tmp_path / "o.parquet")
    cfg = _config(tmp_path, data={"transactions": {"loader": "parquet", "path": str(path), "columns": COLS}})
    err = _refused(tmp_path, capsys, cfg, "--as-of", "2023-06-30", "--only", "data_quality")
    assert "as_of 2023-06-30 is before all transactions" in err


# ------------------------------------------------------------------ parameter values (finding B1, B3)
#: (notebook, parameters, expected message after "notebooks[i] (name).parameters.<first parameter>: ");
#: every value here passed the type check and failed the run with exit 1 before.
VALUE_CASES = [
    ("rfm_clv", {"calibration_end": "30/09/2024"},
     "calibration_end='30/09/2024' is not a date in ISO form: write it as YYYY-MM-DD"),
    ("rfm_clv", {"calibration_end": "2024-09-31"}, "calibration_end='2024-09-31' is not a date"),
    ("rfm_clv", {"calibration_end": "2024-09-30 12:00"},
     "calibration_end must be a calendar date, got '2024-09-30 12:00'"),
    ("rfm_clv", {"calibration_end": "2025-03-01"},
     "calibration_end 2025-03-01 must be before as_of 2024-12-31: the models are fitted on the purchases up to "
     "calibration_end"),
    ("rfm_clv", {"calibration_end": "2024-12-31"}, "calibration_end 2024-12-31 must be before as_of 2024-12-31"),
    ("rfm_clv", {"time_unit": "week"},
     "time_unit must be the text 'D' or 'W', got 'week'; the chain's RFM summary and CLV need "
     "'D' (days) or 'W' (weeks)"),
    # 'w' passes the RFM summary (which upper-cases it) but not the CLV's discounting: the run failed late
    ("rfm_clv", {"time_unit": "weeks"}, "time_unit must be the text 'D' or 'W', got 'weeks'"),
    ("rfm_clv", {"purchase_model": "exponential_nbdd"}, "did you mean 'exponentialnbd'?"),
    ("rfm_clv", {"purchase_model": "paretonbd_typo"},
     "unknown transaction (purchase) model 'paretonbd_typo': use one of ['bgnbd', 'mbgnbd', 'paretonbd']"),
    ("rfm_clv", {"purchase_model": "Pareto/NBD", "fit_paretonbd": False},
     "purchase_model = 'Pareto/NBD' is not among the candidate models ['bgnbd'"),
    ("rfm_clv", {"selection_criterion": "rmse"}, "unknown criterion 'rmse': use one of ['holdout_rmse',"),
    ("rfm_clv", {"cohort_frequency": "W"}, "cohort_frequency = 'W': use 'M' (acquisition month) or 'Q'"),
    ("rfm_clv", {"interval_level": 1.5}, "interval_level = 1.5 must be in (0, 1)"),
    ("rfm_clv", {"interval_draws": 5}, "interval_draws = 5 must be an integer >= 20"),
    ("rfm_clv", {"covariates": ["channel", "channel"]}, "covariates = ['channel', 'channel'] names ['channel'] more "
                                                        "than once"),
    ("rfm_clv", {"reference_estimates": {"bgnbd": {"r": 0.243}}},
     "reference_estimates are given but reference_source = '' does not say where they come from"),
    ("rfm_clv", {"reference_estimates": {"paretonbd": {"s": 0.5}}, "reference_source": "x", "fit_paretonbd": False},
     "reference_estimates names the 'paretonbd' model, which this run does not fit"),
    ("rfm_clv", {"reference_estimates": {"paretonbd": {"a": 0.5}}, "reference_source": "x"},
     "reference_estimates['paretonbd'] names the parameter 'a'; the Pareto/NBD model's parameters are "
     "['r', 'alpha', 's', 'beta']"),
    # finding F8 (n15): percentages were taken as 1,000 % and 3,000 % silently
    ("rfm_clv", {"discount_rate": 10}, "discount_rate = 10 is 1000% per year: a percentage given as a number?"),
    ("rfm_clv", {"margin": 30}, "margin must be a share of revenue in (0, 1], e.g. 0.3 for 30 %; got 30"),
    ("seasonality", {"tx_fill": "closed", "closed_weekdays": ["Sundayy"]},
     "closed_weekdays[0]: 'Sundayy' is not a weekday name; use Monday, Tuesday, Wednesday, Thursday, Friday, "
     "Saturday, Sunday (or their first three letters), or 0=Monday..6=Sunday"),
    ("seasonality", {"tx_fill": "closed", "closed_weekdays": ["Someday"]},
     "closed_weekdays[0]: 'Someday' is not a weekday name"),
    ("seasonality", {"tx_fill": "closed", "closed_weekdays": [7]}, "closed_weekdays[0]: weekday 7 out of range"),
    ("seasonality", {"tx_fill": "closed", "closed_dates": ["2024-12-25", "26/12/2024"]},
     "closed_dates[1]='26/12/2024' is not a date in ISO form"),
    ("seasonality", {"tx_fill": "open"}, "tx_fill='open' is not one of ['zero', 'closed']"),
    # stricter than the notebook, which would leave the closed days out without a word
    ("seasonality", {"tx_fill": "zero", "closed_weekdays": ["Sunday"]},
     "closed_weekdays are set but tx_fill is 'zero', so the report would ignore them"),
    ("seasonality", {"calendar": {"country": "XX"}}, "holiday calendar: unknown country 'XX'"),
    ("seasonality", {"calendar": {"country": "GB", "subdiv": "XYZ"}},
     "holiday calendar: unknown subdivision 'XYZ' of 'GB'"),
    ("seasonality", {"calendar": {"contry": "GB"}}, "holiday calendar: unknown key(s) ['contry']"),
    ("seasonality", {"calendar": {"holidays_closed": True}}, "holidays_closed=True needs a country"),
    ("seasonality", {"calendar": {"closed_weekdays": ["Satday"]}},
     "parameters.calendar: 'Satday' is not a weekday name"),
    ("yield", {"group_arrival_peak": "01/08/2025"}, "group_arrival_peak='01/08/2025' is not a date in ISO form"),
    ("yield", {"group_arrival_low": "next Monday"}, "group_arrival_low='next Monday' is not a date in ISO form"),
]


@pytest.mark.parametrize(("notebook", "params", "message"), VALUE_CASES,
                         ids=[f"{c[0]}.{'+'.join(f'{k}={v}' for k, v in c[1].items())}" for c in VALUE_CASES])
def test_a_parameter_value_the_run_would_refuse_stops_it_before(tmp_path, capsys, notebook, params, message):
    err = _refused(tmp_path, capsys, _config(tmp_path, params={notebook: params}))
    assert "pre-flight check found 1 problem(s)" in err, err
    assert f"({notebook}).parameters." in err
    assert message in err, err


def _tx_csv(tmp_path: Path) -> dict[str, Any]:
    """A transactions spec on a small CSV whose first purchase is 2024-01-05."""
    return {"loader": "csv", "path": str(_orders(tmp_path / "data" / "o.csv")), "columns": COLS}


def test_calibration_end_before_the_first_purchase_is_refused(tmp_path, capsys):
    """Finding B3: the run said "no customers to fit"; the pre-flight names calibration_end and the first date."""
    cfg = _config(tmp_path, data={"transactions": _tx_csv(tmp_path)},
                  params={"rfm_clv": {"calibration_end": "2023-06-30"}})
    err = _refused(tmp_path, capsys, cfg)
    assert ("notebooks[1] (rfm_clv).parameters.calibration_end: calibration_end 2023-06-30 is before the first "
            "purchase in the data (2024-01-05), so no customer would be in the calibration period and no model "
            "could be fitted; set calibration_end between 2024-01-05 and as_of 2024-12-31") in err
    # the first day of the data is a valid calibration end (one customer bought on it)
    cfg = _config(tmp_path, data={"transactions": _tx_csv(tmp_path)},
                  params={"rfm_clv": {"calibration_end": "2024-01-05"}})
    assert "rfm_clv" in preflight(load_config(cfg)).declared


def test_covariates_are_checked_against_the_loaded_columns(tmp_path, capsys):
    """Finding F11 (n15): a covariate that is not a column of the data passed the pre-flight and failed in
    notebook 10 (exit 1); the pre-flight now checks it where it loaded the transactions, and a name that differs
    only in case from a canonical column ('Total' mapped to 'amount' is not one; 'Client' -> 'customer_id' is not
    a covariate) is pointed at."""
    spec = {**_tx_csv(tmp_path), "columns": {**COLS}}
    frame = pd.read_csv(spec["path"]).assign(Region=["n", "s", "n"], Channel=["web", "shop", "web"])
    frame.to_csv(spec["path"], index=False)
    spec["columns"] = {**COLS, "channel": "Channel"}
    cfg = _config(tmp_path, data={"transactions": spec}, params={"rfm_clv": {"covariates": ["Channel", "nope"]}})
    err = _refused(tmp_path, capsys, cfg)
    assert ("(rfm_clv).parameters.covariates: covariates ['Channel', 'nope'] are not available: the transactions' "
            "columns and derived covariates are ['channel', 'Region', 'first_purchase_month'") in err, err
    assert "'Channel': did you mean 'channel'?" in err
    ok = _config(tmp_path, data={"transactions": spec}, params={"rfm_clv": {"covariates": ["channel", "Region"]}})
    assert "rfm_clv" in preflight(load_config(ok)).declared


def test_moving_as_of_alone_moves_the_default_calibration_end(tmp_path, capsys):
    """Newcomer finding G1: the notebook's calibration_end default was "2024-06-30" and RfmClvParams' None (six
    months before as_of), so --as-of 2024-03-31 failed the chain's pre-flight and passed stand-alone. One default
    now, None: the pre-flight checks the date the run will use, and a configured one after as_of is still refused."""
    from crm_analysis.clv import RfmClvParams

    pf = preflight(load_config(_config(tmp_path, as_of="2024-03-31")))
    assert "rfm_clv" in pf.declared
    assert RfmClvParams(as_of="2024-03-31").calibration_end == "2023-09-30"
    err = _refused(tmp_path, capsys, _config(tmp_path, params={"rfm_clv": {"calibration_end": "2024-06-30"}}),
                   "--as-of", "2024-03-31")
    assert ("notebooks[1] (rfm_clv).parameters.calibration_end: calibration_end 2024-06-30 must be before as_of "
            "2024-03-31") in err


#: The newcomer's list (findings_13c G2, G7): values the pre-flight accepted and the run then refused or misread.
#: Each is refused now by the step's parameters object, which the pre-flight builds.
BAD_STEP_VALUES = [
    ("rfm_clv", "horizon", 0, "horizon must be a number > 0"),
    ("rfm_clv", "horizon", -1, "horizon must be a number > 0"),
    ("rfm_clv", "p_alive_info_threshold", 5, "p_alive_info_threshold must be a probability in (0, 1)"),
    ("seasonality", "horizon_days", -1, "horizon_days must be a whole number >= 1"),
    ("seasonality", "backtest_days", -5, "backtest_days must be a whole number >= 0"),
    ("seasonality", "capacity", -3, "capacity must be a whole number >= 1"),
    ("seasonality", "periods", [-1], "periods[0] must be a whole number >= 2"),
    ("seasonality", "tx_forecast_days", -1, "tx_forecast_days must be a whole number >= 0"),
    ("booking_horizon", "cancel_max_iter", -1, "cancel_max_iter must be a whole number >= 1"),
    ("booking_horizon", "ts_baseline_origins", -3, "ts_baseline_origins must be a whole number >= 0"),
    ("booking_horizon", "group_days_before", -1, "group_days_before must be a whole number >= 0"),
    ("booking_horizon", "dp_days", 0, "dp_days must be a whole number >= 1"),
    # column names: checked against the built-in data's columns (known before the run)
    ("seasonality", "mix_by", "bogus", "missing column(s) 'bogus' (mix_by) in the transactions; its columns are "
                                       "['customer_id', 'timestamp', 'amount'"),
    ("seasonality", "forecast_by", "bogus", "missing column(s) 'bogus' (forecast_by) in the bookings; its columns "
                                            "are ['booking_id'"),
]


@pytest.mark.parametrize(("notebook", "name", "value", "message"),
                         BAD_STEP_VALUES, ids=[f"{n}.{p}={v!r}" for n, p, v, _ in BAD_STEP_VALUES])
def test_a_bad_step_parameter_is_refused_by_the_preflight_naming_it(tmp_path, capsys, notebook, name, value, message):
    """Default config + one bad value: exit 2 before any run folder, naming the notebook's parameter and the rule."""
    err = _refused(tmp_path, capsys, _config(tmp_path, params={notebook: {name: value}}, enable=(notebook,)))
    assert f"({notebook}).parameters" in err and message in err, err


@pytest.mark.parametrize("as_of", ["31/12/2024", "20241231", "2024-12-31T18:00", "2024-W52-2"])
def test_as_of_must_be_an_iso_date(tmp_path, capsys, as_of):
    err = _refused(tmp_path, capsys, _config(tmp_path, as_of=as_of))
    assert f"as_of: must be an ISO date 'YYYY-MM-DD', got {as_of!r}" in err


def test_value_checks_agree_with_the_functions_the_notebooks_call(tmp_path):
    """The check and the run refuse the same values: the package functions the notebooks call, on real input."""
    from crm_analysis.clv.pipeline import fit_clv_models
    from crm_analysis.rfm import calibration_and_holdout, rfm_summary
    from crm_analysis.seasonality import HolidayCalendar, transaction_series
    from crm_analysis.synthetic import default_transactions

    tx = default_transactions(seed=1)
    tx = tx[tx["timestamp"] < "2024-12-31"]
    # time_unit 'w' is 'W' for the summary and for the CLV step alike (they used to disagree)
    assert len(fit_clv_models(rfm_summary(tx, observation_end="2024-12-31", time_unit="w")).value_table(horizon=4))
    with pytest.raises(ValueError, match="must be before observation_end"):
        calibration_and_holdout(tx, calibration_end="2025-03-01", observation_end="2024-12-31")
    with pytest.raises(ValueError, match="unknown country 'XX'"):
        HolidayCalendar.from_config({"country": "XX"})
    with pytest.raises(ValueError, match="'Someday' is not a weekday name"):
        HolidayCalendar.from_config({"closed_weekdays": ["Someday"]})
    with pytest.raises(ValueError, match="'Sundayy' is not a weekday name"):
        transaction_series(tx, measure="orders", end="2024-12-31", fill="closed", closed_weekdays=["Sundayy"])
    with pytest.raises(ValueError, match="is not a date in ISO form"):
        transaction_series(tx, measure="orders", end="2024-12-31", fill="closed", closed_dates=["25/12/2024"])
    with pytest.raises(ValueError, match="calibration_end must be a calendar date"):
        calibration_and_holdout(tx, calibration_end="2024-09-30 12:00", observation_end="2024-12-31")
    with pytest.raises(ValueError, match="no purchase falls in the calibration period"):  # was an empty table,
        calibration_and_holdout(tx, calibration_end=tx["timestamp"].min().normalize() - pd.Timedelta(days=1),
                                observation_end="2024-12-31")  # which made the notebook fail "no customers to fit"


def test_every_date_parameter_of_the_notebooks_has_a_check():
    """A date parameter without an entry in PARAMETER_CHECKS would reach the notebook unchecked."""
    from crm_analysis._dates import ISO_DATE
    from crm_analysis.report.params import notebook_parameters
    from crm_analysis.report.preflight import PARAMETER_CHECKS

    raw = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    found = []
    for nb in raw["notebooks"]:
        for name, param in notebook_parameters(ROOT / nb["path"]).items():
            text = f"{param.default} {param.help}".lower()
            default = param.default.strip("\"'")
            if name in ("as_of", "run_dir", "seed"):
                continue  # set by the runner; as_of is checked when the configuration is read
            if ISO_DATE.match(default) or "date" in name or "iso date" in text or name.endswith("_end"):
                found.append((nb["name"], name))
    assert found, "the search finds the date parameters"
    assert {("rfm_clv", "calibration_end"), ("seasonality", "closed_dates")} <= set(found)
    assert [f for f in found if f not in PARAMETER_CHECKS] == []


def test_preflight_error_is_a_config_error_with_the_problems(tmp_path):
    cfg = load_config(_config(tmp_path, params={"rfm_clv": {"horizon": "fifty-two"}}))
    with pytest.raises(PreflightError) as err:
        preflight(cfg)
    assert isinstance(err.value, ConfigError) and len(err.value.problems) == 1
    assert err.value.problems[0].startswith("notebooks[1] (rfm_clv).parameters.horizon: got str 'fifty-two'")


# ------------------------------------------------------------------ what only the data can tell
@pytest.mark.slow
@pytest.mark.notebook
def test_as_of_before_all_data_in_the_data_quality_notebook(tmp_path, capsys):
    """Synthetic data (no file to look at before the run) with as_of before it: a clear error from the notebook.

    Before: a TypeError in a late cell ('NoneType' object is not subscriptable). The failure
    message quotes the failing statement of the cell (point 10), not the cell's first line.
    """
    cfg = _config(tmp_path)
    rc = main(["report", "--config", str(cfg), "--quiet", "--only", "data_quality", "--as-of", "2001-01-31"])
    err = capsys.readouterr().err
    assert rc == EXIT_NOTEBOOK_FAILED, err
    assert "notebook 'data_quality' failed at cell" in err
    assert "`result = run_data_quality(params, base_dir=Path.cwd())`" in err  # the statement, not the cell's first line
    assert ("InputError: as_of 2001-01-31 is before all transactions: the first timestamp is 2023-01-01, so nothing "
            "would be analysed") in err


# --------------------------------------------------- relative data paths (newcomer round 2)
def test_a_relative_data_path_is_found_next_to_the_config(tmp_path, capsys, monkeypatch):
    # a copied configuration with `path: orders.csv` beside it: the file was looked for under the project root only
    _orders(tmp_path / "orders.csv")
    cfg = _config(tmp_path, data={"transactions": {"loader": "csv", "path": "orders.csv", "columns": COLS}})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_config(cfg).data["transactions"]
    assert spec.options["path"] == str((tmp_path / "orders.csv").resolve())
    info = spec.resolved["path"]
    assert info["against"] == "the configuration file's folder"
    assert [w for w, _ in info["tried"]] == ["the project root", "the working directory",
                                            "the configuration file's folder"]
    assert main(["preflight", "--config", str(cfg), "--only", "data_quality"]) == 0
    capsys.readouterr()
    # the working directory comes before the config's folder; the project root before both
    (elsewhere / "orders.csv").write_bytes((tmp_path / "orders.csv").read_bytes())
    assert load_config(cfg).data["transactions"].resolved["path"]["against"] == "the working directory"
    assert load_source(load_config(cfg).data["transactions"].to_dict(), "transactions")["amount"].sum() == 37.75


def test_a_relative_data_path_found_nowhere_names_every_folder_tried(tmp_path, capsys, monkeypatch):
    cfg = _config(tmp_path, data={"transactions": {"loader": "csv", "path": "data/nowhere.csv", "columns": COLS}})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    err = _refused(tmp_path, capsys, cfg)
    tried = [ROOT / "data" / "nowhere.csv", elsewhere / "data" / "nowhere.csv", tmp_path / "data" / "nowhere.csv"]
    assert (f"data.transactions (csv): file not found: {tried[0].resolve()} (path 'data/nowhere.csv' relative to "
            f"the project root; also tried {tried[1].resolve()} (the working directory); {tried[2].resolve()} "
            "(the configuration file's folder))") in err


@pytest.mark.parametrize(
    ("notebook", "params", "message"),
    [
        ("segmentation", {"bins": 1}, "notebooks[2] (segmentation).parameters.bins: bins must be an integer of at least 2"),
        ("segmentation", {"cost_rate": 1.5}, "cost_rate must be a fraction of revenue in [0, 1], got 1.5"),
        ("yield", {"service_level": 1.0}, "(yield).parameters.service_level: service_level must be a probability"),
        ("yield", {"group_nights": 0}, "group_nights must be a positive integer, got 0"),
        ("booking_horizon", {"service_level": 1.5}, "(booking_horizon).parameters.service_level: service_level must be a probability in [0, 1)"),
        ("booking_horizon", {"test_days": 0}, "test_days must be a whole number >= 1, got 0"),
        ("booking_horizon", {"walk_cost": -5.0}, "walk_cost must be a cost > 0 per walked room"),
        # n13 F2: the IDIC notebook's lapse parameters were outside IdicParams, so the run failed in notebook 25
        ("idic", {"lapsed_days": -5}, "(idic).parameters.lapsed_days: lapsed_days must be a positive number of days"),
        ("idic", {"lapsed_p_alive": 2}, "lapsed_p_alive must be a probability in [0, 1], got 2"),
        ("idic", {"new_customer_days": 0}, "new_customer_days must be a positive number of days"),
    ],
)
def test_preflight_builds_each_steps_parameters_object(tmp_path, notebook, params, message):
    """Values without a table entry are refused before the run by the step's parameters object itself."""
    cfg = _config(tmp_path, params={notebook: params})
    with pytest.raises(PreflightError) as err:
        preflight(load_config(cfg))
    assert any(message in p for p in err.value.problems), err.value.problems


def test_every_bad_field_of_a_step_is_listed_at_once(tmp_path):
    """The parameters object stops at its first bad field; the pre-flight lists each, by name, in one round."""
    cfg = _config(tmp_path, params={"rfm_clv": {"horizon": 0, "p_alive_info_threshold": 5, "interval_draws": 200},
                                    "booking_horizon": {"group_days_before": -1, "cancel_max_iter": -1}},
                  enable=("booking_horizon",))
    with pytest.raises(PreflightError) as err:
        preflight(load_config(cfg))
    fields = sorted(p.split(": ")[0].rsplit(".", 1)[-1] for p in err.value.problems)
    assert fields == ["cancel_max_iter", "group_days_before", "horizon", "p_alive_info_threshold"], err.value.problems


@pytest.mark.parametrize("notebook", ["seasonality", "yield", "booking_horizon"])
def test_own_bookings_without_capacity_are_refused_by_name(tmp_path, capsys, notebook):
    """Second newcomer finding G8 (issue #13): with bookings of another hotel and no ``capacity`` a step took the
    built-in hotel's 120 rooms as that hotel's (City Hotel: 81 % of nights "full" instead of 19 %), and the
    pre-flight said OK. Now each step that uses the rooms is refused by name until ``capacity`` is set; the
    project's hotels.yaml (capacity 226 everywhere) passes."""
    hotels = _hotels(tmp_path / "data" / "hotels.csv", month="July")
    params = {name: {"capacity": 226} for name in ("seasonality", "yield", "booking_horizon")}
    params[notebook] = {"capacity": None}
    cfg = _config(tmp_path, base="hotels", data={"bookings": {"loader": "hotels", "path": str(hotels)}}, params=params)
    with pytest.raises(PreflightError) as info:
        preflight(load_config(cfg))
    problems = [p for p in info.value.problems if "capacity" in p]
    assert len(problems) == 1 and f"({notebook}).parameters.capacity: not set" in problems[0]
    assert "loader 'hotels'" in problems[0] and "Set `capacity:`" in problems[0]


def test_capacity_is_not_asked_for_where_it_is_not_used(tmp_path):
    """The built-in bookings keep the built-in hotel's rooms; seasonality without unconstraining needs none."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    preflight(load_config(_config(tmp_path / "a", base="default")))
    hotels = _hotels(tmp_path / "data" / "hotels.csv", month="July")
    params = {"seasonality": {"capacity": None, "unconstrain": False}}
    cfg = _config(tmp_path / "b", base="hotels", data={"bookings": {"loader": "hotels", "path": str(hotels)}},
                  params=params)
    try:
        preflight(load_config(cfg))
    except PreflightError as exc:  # other problems of a one-booking file may be listed, but not the capacity
        assert not any("capacity" in p for p in exc.problems), exc.problems


def test_every_bad_field_is_listed_also_when_a_table_entry_failed(tmp_path):
    """findings_13d H12: the parameters object was built only when no PARAMETER_CHECKS entry had failed, so a
    field only the object refuses (horizon, group_days_before) came out in a second round."""
    cfg = _config(tmp_path, params={"rfm_clv": {"horizon": -1, "time_unit": "X", "margin": 1.5},
                                    "booking_horizon": {"cutoff": "2025-06-01", "group_days_before": 400}},
                  enable=("booking_horizon",))
    with pytest.raises(PreflightError) as err:
        preflight(load_config(cfg))
    fields = sorted(p.split(": ")[0].rsplit(".", 1)[-1] for p in err.value.problems)
    assert fields == ["cutoff", "group_days_before", "horizon", "margin", "time_unit"], err.value.problems


@pytest.mark.parametrize(
    ("yield_params", "fields"),
    [
        # findings_13e I3: the group stay was checked only when the whole YieldParams could be built
        ({"n_simulations": -5, "group_arrival_peak": "2030-01-01"}, ["group_arrival_peak", "n_simulations"]),
        ({"service_level": 2.0, "group_arrival_low": "2024-06-01"}, ["group_arrival_low", "service_level"]),
        ({"denied_cost": -1.0, "group_nights": 91}, ["denied_cost", "group_nights"]),
        # one arrival refused by its form, the other out of the forecast: both listed, each once
        ({"group_arrival_peak": "01/08/2025", "group_arrival_low": "2030-01-01"},
         ["group_arrival_low", "group_arrival_peak"]),
    ],
)
def test_a_bad_group_stay_is_listed_with_the_other_bad_yield_fields(tmp_path, yield_params, fields):
    cfg = _config(tmp_path, params={"yield": yield_params, "seasonality": {"horizon_days": 90}})
    with pytest.raises(PreflightError) as err:
        preflight(load_config(cfg))
    got = sorted(p.split(": ")[0].rsplit(".", 1)[-1] for p in err.value.problems)
    assert got == fields, err.value.problems


@pytest.mark.parametrize("unit", [7, 3, 0.5])
def test_a_numeric_time_unit_is_refused_by_the_preflight_as_by_the_run(tmp_path, capsys, unit):
    """findings_13d H3: RfmClvParams took numbers the run refused; the object and the pre-flight now agree."""
    err = _refused(tmp_path, capsys, _config(tmp_path, params={"rfm_clv": {"time_unit": unit}}))
    assert "(rfm_clv).parameters.time_unit" in err, err


def test_an_observation_end_after_as_of_is_refused_by_the_preflight(tmp_path, capsys):
    """findings_13d H15: the data step counted purchases after as_of that the CLV step then left out."""
    cfg = _config(tmp_path, params={"data_quality": {"transactions_policy": {"observation_end": "2024-12-31"}}})
    err = _refused(tmp_path, capsys, cfg, "--as-of", "2024-06-30", "--only", "data_quality", "rfm_clv")
    assert ("notebooks[0] (data_quality).parameters.transactions_policy: transactions_policy observation_end = "
            "2024-12-31 is after as_of = 2024-06-30") in err, err


@pytest.mark.parametrize(
    ("params", "messages"),
    [
        ({"group_arrival_peak": "2030-01-01"},
         ["(yield).parameters.group_arrival_peak: group_arrival_peak = 2030-01-01: the 3-night stay (group_nights = "
          "3) must lie within the forecast nights 2025-01-01..2025-03-31 (as_of 2024-12-31 + the seasonality step's "
          "horizon_days 90)"]),
        ({"group_arrival_peak": "2024-06-01", "group_arrival_low": "2025-03-30"},
         ["parameters.group_arrival_peak: group_arrival_peak = 2024-06-01",
          "parameters.group_arrival_low: group_arrival_low = 2025-03-30", "to 2025-03-29"]),
        ({"group_nights": 91}, ["parameters.group_nights: group_nights = 91 is more than the 90 nights"]),
    ],
)
def test_a_group_stay_outside_the_forecast_is_refused_by_the_preflight(tmp_path, capsys, params, messages):
    """findings_13d H14: the pre-flight checked only the date form, though as_of and horizon_days are known."""
    cfg = _config(tmp_path, params={"yield": params, "seasonality": {"horizon_days": 90}})
    err = _refused(tmp_path, capsys, cfg)
    assert all(m in err for m in messages), err


def test_a_group_stay_within_the_forecast_passes_the_preflight(tmp_path):
    cfg = _config(tmp_path, params={"yield": {"group_arrival_low": "2025-03-29"}, "seasonality": {"horizon_days": 90}})
    preflight(load_config(cfg))


@pytest.mark.parametrize(("name", "kind"), [("bookings_source", "bookings"), ("transactions_source", "transactions")])
def test_a_data_source_given_as_a_notebook_parameter_is_refused(tmp_path, capsys, name, kind):
    """findings_13d H1: a spec there reached the notebook unprobed and outside the capacity rule: one place."""
    spec = {"loader": "csv", "path": "/nonexistent/x.csv"}
    err = _refused(tmp_path, capsys, _config(tmp_path, params={"data_quality": {name: spec}}))
    assert (f"notebooks[0] (data_quality).parameters.{name}: the data sources have one place, the top-level "
            f"`data:`; set data.{kind} instead") in err, err


# ------------------------------------------------------------------ IDIC campaign file (findings_13f F5)
def _campaign_csv(tmp_path: Path, header: str = "cid,grp,conversion,spend,age") -> Path:
    path = tmp_path / "camp.csv"
    path.write_text(header + "\nc0,mail,1,14.1,50\nc1,control,0,0.0,67\n")
    return path


def _problems(cfg: Path) -> list[str]:
    with pytest.raises(PreflightError) as err:
        preflight(load_config(cfg))
    return list(err.value.problems)


def test_the_campaign_files_columns_are_checked_with_the_other_problems(tmp_path):
    """The campaign file lacked the columns the step reads ('group', 'visit'); the pre-flight passed and the run
    failed in notebook 25 after three steps. Now listed in the same round as a bad yield field, with the message
    of the step's own check (campaign_data)."""
    camp = _campaign_csv(tmp_path)
    cfg = _config(tmp_path, params={"idic": {"campaign": {"loader": "csv", "path": str(camp),
                                                          "customer_col": "cid"}},
                                    "yield": {"n_simulations": -5}})
    problems = _problems(cfg)
    assert len(problems) == 2, problems
    camp_problem = next(p for p in problems if "(idic).parameters.campaign" in p)
    assert "missing column(s) ['group', 'visit']" in camp_problem
    assert "['cid', 'grp', 'conversion', 'spend', 'age']" in camp_problem and "group_col=" in camp_problem
    # the step's own reading of the whole file refuses it alike
    from crm_analysis.campaigns import CampaignInputError, campaign_data

    with pytest.raises(CampaignInputError, match=r"missing column\(s\) \['group', 'visit'\]"):
        campaign_data(pd.read_csv(camp), customer_col="cid")
    # mapped, the file passes
    ok = _config(tmp_path, params={"idic": {"campaign": {"loader": "csv", "path": str(camp), "customer_col": "cid",
                                                         "group_col": "grp", "outcomes": ["conversion", "spend"]}}})
    preflight(load_config(ok))


def test_a_missing_campaign_file_is_listed_with_the_other_problems(tmp_path):
    """It stopped the configuration's load (a ConfigError of its own), so the yield problems came a round later."""
    cfg = _config(tmp_path, params={"idic": {"campaign": {"loader": "csv", "path": str(tmp_path / "nope.csv")}},
                                    "yield": {"n_simulations": -5, "group_nights": 0}})
    config = load_config(cfg)  # read: the missing file is a problem of the pre-flight's round
    assert len(config.problems) == 1 and "parameters.campaign.path: file not found" in config.problems[0]
    problems = _problems(cfg)
    assert len(problems) == 3, problems
    assert any("(idic).parameters.campaign.path: file not found" in p for p in problems)


def test_the_deprecated_campaign_key_is_warned_once_naming_the_configuration(tmp_path):
    camp = _campaign_csv(tmp_path, header="cid,group,visit,conversion,spend")
    cfg = _config(tmp_path, params={"idic": {"campaign": {"loader": "csv", "path": str(camp), "id_col": "cid"}}})
    with pytest.warns(FutureWarning) as record:
        preflight(load_config(cfg))
    ours = [w for w in record if "id_col" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in record]
    assert str(ours[0].message) == ("notebooks[3] (idic).parameters.campaign: the key 'id_col' is deprecated: "
                                    "use 'customer_col'")
    assert ours[0].filename == str(cfg.resolve())
