"""Catalogue of bad input files (issue #11, points 5 and 6), one small file per case.

Every case writes its file into ``tmp_path`` (nothing binary is committed) and
reads it on both paths: pandas (:func:`load_transactions`) and DuckDB
(:func:`transactions_relation`, read back). The expected outcome is either

* the same canonical frame on both paths, with the values the case wrote; or
* an error on both paths whose text is asserted: the file's name, what was
  found (byte, offset, line, column, sheet) and the fix.

Byte offsets and line numbers in the expected messages are computed here from
the text the case writes (the bytes before the first undecodable character),
not taken from the reader.

The cancellation cases check point 5: "C" invoices are a rule of the UCI data
set, so a generic file's "CO-1001" orders stay, while returns by sign and by an
explicit ``is_cancellation`` marker are counted by the cleaning report.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import (
    CleaningPolicy,
    DataValidationError,
    SourceFileError,
    clean_transactions,
    load_source,
    load_transactions,
    transactions_relation,
)

HEADER = "customer_id,timestamp,amount"


def _bytes_before(text: str, char: str, encoding: str) -> int:
    """Byte offset of the first ``char`` in ``text`` encoded with ``encoding`` (independent of the reader)."""
    return len(text[: text.index(char)].encode(encoding))


def _line_of(text: str, char: str) -> int:
    return text[: text.index(char)].count("\n") + 1


@dataclass
class Case:
    """One file and its expected outcome on both paths."""

    name: str
    filename: str
    content: bytes | Callable[[Path], None]
    kwargs: dict[str, Any] = field(default_factory=dict)
    error: list[str] | None = None  # regexes that must all be in the message; "{file}" = the file name
    error_type: type[Exception] = SourceFileError
    expect: dict[str, list] | None = None  # canonical column -> values

    def write(self, tmp: Path) -> Path:
        path = tmp / self.filename
        if callable(self.content):
            self.content(path)
        else:
            path.write_bytes(self.content)
        return path


CP1252_TEXT = f"{HEADER},name\nc1,2024-01-01,12.5,José\nc2,2024-01-02,3,€uro\n"
DEEP_TEXT = f"{HEADER},note\n" + "".join(f"c{i},2024-01-01,1.0,ok\n" for i in range(3000)) + "c9,2024-01-02,2.0,café\n"
UTF16_TEXT = "customer_id\ttimestamp\tamount\nc1\t2024-01-01\t1.5\n"


def _xlsx(sheets: dict[str, pd.DataFrame]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with pd.ExcelWriter(path, engine="openpyxl") as w:
            for name, df in sheets.items():
                df.to_excel(w, sheet_name=name, index=False)
    return write


def _parquet(df: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: df.to_parquet(path, index=False)


TX_2023 = pd.DataFrame({"customer_id": [17850.0, np.nan], "timestamp": pd.to_datetime(["2023-03-01", "2023-03-02"]),
                        "amount": [10.0, 4.5]})
TX_2024 = pd.DataFrame({"customer_id": [13047, 12583], "timestamp": pd.to_datetime(["2024-05-01", "2024-05-02"]),
                        "amount": [7.25, 1.0]})

CASES = [
    # --------------------------------------------------------------- encodings
    Case("cp1252 file read as UTF-8", "sales.csv", CP1252_TEXT.encode("cp1252"),
         error=["{file}", f"E9 at byte offset {_bytes_before(CP1252_TEXT, 'é', 'cp1252')} ",
                rf"\(line {_line_of(CP1252_TEXT, 'é')}\)", "in cp1252 .* is 'é'", "encoding='cp1252'",
                "`encoding: cp1252`"]),
    Case("cp1252 file with encoding='cp1252'", "sales.csv", CP1252_TEXT.encode("cp1252"),
         kwargs={"encoding": "cp1252"},
         expect={"customer_id": ["c1", "c2"], "amount": [12.5, 3.0], "name": ["José", "€uro"]}),
    Case("encoding in read_options", "sales.csv", CP1252_TEXT.encode("cp1252"),
         kwargs={"read_options": {"encoding": "cp1252"}},
         expect={"customer_id": ["c1", "c2"], "name": ["José", "€uro"]}),
    Case("latin-1 file with encoding='latin-1'", "sales.csv", f"{HEADER},city\nc1,2024-01-01,2,Malmö\n".encode("latin-1"),
         kwargs={"encoding": "latin-1"}, expect={"city": ["Malmö"], "amount": [2.0]}),
    Case("bad byte on line 3,002 of a gzip file", "big.csv.gz", gzip.compress(DEEP_TEXT.encode("cp1252")),
         error=["{file}", f"E9 at byte offset {_bytes_before(DEEP_TEXT, 'é', 'cp1252'):,} ",
                rf"\(line {_line_of(DEEP_TEXT, 'é'):,}\)", "encoding='cp1252'"]),
    Case("UTF-16 (Excel 'Unicode text') read as UTF-8", "export.txt", UTF16_TEXT.encode("utf-16"),
         error=["{file}", "UTF-16 byte-order mark", "encoding='utf-16'", r"'sep': '\\t'"]),
    Case("UTF-16 .tsv with encoding='utf-16'", "export.tsv", UTF16_TEXT.encode("utf-16"),
         kwargs={"encoding": "utf-16"}, expect={"customer_id": ["c1"], "amount": [1.5]}),
    Case("UTF-8 with byte-order mark", "bom.csv", b"\xef\xbb\xbf" + f"{HEADER}\nc1,2024-01-01,1.5\n".encode(),
         expect={"customer_id": ["c1"], "amount": [1.5]}),
    Case("unknown encoding name", "sales.csv", f"{HEADER}\nc1,2024-01-01,1\n".encode(),
         kwargs={"encoding": "klingon"}, error=["unknown encoding 'klingon'", "cp1252"]),
    # ------------------------------------------------------- empty / no rows
    Case("empty file", "empty.csv", b"", error=["{file}", r"empty \(0 bytes\)", "path points at the data file"]),
    Case("only blank lines", "blank.csv", b"\n  \r\n\n", error=["{file}", "only blanks and line breaks"]),
    Case("header only", "header.csv", f"{HEADER}\n".encode(),
         error=["{file}", r"has a header \(columns \['customer_id', 'timestamp', 'amount'\]\) but no data rows",
                "Check the export"]),
    Case("header only, gzip", "header.csv.gz", gzip.compress(f"{HEADER}\n".encode()),
         error=["{file}", "but no data rows"]),
    Case("Parquet without rows", "none.parquet", _parquet(TX_2023.iloc[:0]), error=["{file}", "but no data rows"]),
    Case("Parquet of 0 bytes", "zero.parquet", b"", error=["{file}", r"empty \(0 bytes\)"]),
    # ------------------------------------------------------------ separators
    Case("semicolons and decimal commas, no options", "eu.csv",
         "customer_id;timestamp;amount\nc1;2024-01-01;12,50\nc2;2024-01-02;3,00\n".encode(),
         error=["{file}", "single column 'customer_id;timestamp;amount'", "separated by ';'",
                r"read_options=\{'sep': ';', 'decimal': ','\}", r'read_options: \{sep: ";", decimal: ","\}']),
    Case("semicolons without commas, no options", "eu.csv",
         "customer_id;timestamp;amount\nc1;2024-01-01;12\n".encode(),
         error=["{file}", "single column", "separated by ';'"]),
    Case("semicolons and decimal commas, sep and decimal given", "eu.csv",
         "customer_id;timestamp;amount\nc1;2024-01-01;12,50\nc2;2024-01-02;3,00\n".encode(),
         kwargs={"read_options": {"sep": ";", "decimal": ","}}, expect={"amount": [12.5, 3.0]}),
    Case("decimal commas, only sep given", "eu.csv",
         "customer_id;timestamp;amount\nc1;2024-01-01;12,50\nc2;2024-01-02;3,00\n".encode(),
         kwargs={"read_options": {"sep": ";"}},
         error=["{file}", r"column 'amount' \(-> amount\) holds numbers with a decimal comma",
                "row 0: '12,50'; row 1: '3,00'", r"read_options=\{'decimal': ','\}"]),
    Case("quoted decimal commas in a comma file", "q.csv", f'{HEADER}\nc1,2024-01-01,"12,50"\n'.encode(),
         error=["{file}", "decimal comma", "row 0: '12,50'"]),
    Case("decimal comma with dots grouping thousands", "eu.csv",
         "customer_id;timestamp;amount\nc1;2024-01-01;1.234,50\n".encode(), kwargs={"read_options": {"sep": ";"}},
         error=["'.' grouping thousands", r"\{'decimal': ',', 'thousands': '.'\}"]),
    Case("decimal comma with dots grouping thousands, options given", "eu.csv",
         "customer_id;timestamp;amount\nc1;2024-01-01;1.234,50\n".encode(),
         kwargs={"read_options": {"sep": ";", "decimal": ",", "thousands": "."}}, expect={"amount": [1234.5]}),
    Case("commas grouping thousands", "us.csv", f'{HEADER}\nc1,2024-01-01,"1,234.50"\n'.encode(),
         error=["',' grouping thousands", r"\{'thousands': ','\}"]),
    Case("unquoted decimal commas in a comma file", "bad.csv",
         f"{HEADER}\nc1,2024-01-01,12,50\nc2,2024-01-02,3,00\n".encode(),
         error=["{file}", "cannot be parsed as CSV with separator ','", "holds the separator without quotes",
                r"read_options=\{'sep': ';', 'decimal': ','\}"]),
    Case("one row with an extra field", "bad.csv", f"{HEADER}\nc1,2024-01-01,12\nc2,2024-01-02,3,9\n".encode(),
         error=["{file}", "cannot be parsed as CSV"]),
    Case("tab-separated .txt", "t.txt", "customer_id\ttimestamp\tamount\nc1\t2024-01-01\t1\n".encode(),
         error=["{file}", "separated by a tab", r"'sep': '\\t'"]),
    Case("tab-separated .tsv (tab by default)", "t.tsv", "customer_id\ttimestamp\tamount\nc1\t2024-01-01\t1\n".encode(),
         expect={"customer_id": ["c1"], "amount": [1.0]}),
    Case("pipe-separated", "p.csv", "customer_id|timestamp|amount\nc1|2024-01-01|1\n".encode(),
         error=["{file}", "separated by '\\|'", r"'sep': '\|'"]),
    Case("short row: missing amount, not a shifted column", "short.csv",
         f"{HEADER}\nc1,2024-01-01\nc2,2024-01-02,3\n".encode(),
         expect={"customer_id": ["c1", "c2"], "amount": [np.nan, 3.0]}),
    # ------------------------------------------------------------------ Excel
    Case("workbook with two sheets, no sheet chosen", "book.xlsx", _xlsx({"2023": TX_2023, "2024": TX_2024}),
         error=["{file}", r"has 2 sheets \['2023', '2024'\]", "sheet='<name>'", "`sheet: <name>`"]),
    Case("workbook, sheet by name", "book.xlsx", _xlsx({"2023": TX_2023, "2024": TX_2024}), kwargs={"sheet": "2024"},
         expect={"customer_id": ["13047", "12583"], "amount": [7.25, 1.0]}),
    Case("workbook, sheet by position", "book.xlsx", _xlsx({"2023": TX_2023, "2024": TX_2024}), kwargs={"sheet": 0},
         expect={"customer_id": ["17850", None], "amount": [10.0, 4.5]}),
    Case("workbook, sheets stacked", "book.xlsx", _xlsx({"2023": TX_2023, "2024": TX_2024}),
         kwargs={"sheet": ["2023", "2024"]},
         expect={"customer_id": ["17850", None, "13047", "12583"], "amount": [10.0, 4.5, 7.25, 1.0]}),
    Case("workbook, unknown sheet", "book.xlsx", _xlsx({"2023": TX_2023, "2024": TX_2024}), kwargs={"sheet": "2025"},
         error=["{file}", r"no sheet named '2025'; sheets of the workbook: \['2023', '2024'\]"]),
    Case("workbook, sheet position out of range", "book.xlsx", _xlsx({"2023": TX_2023}), kwargs={"sheet": 3},
         error=["{file}", "sheet position 3 is out of range"]),
    Case("workbook, header-only sheet", "book.xlsx", _xlsx({"data": TX_2023.iloc[:0], "notes": TX_2024}),
         kwargs={"sheet": "data"}, error=["{file}", "sheet 'data'", "but no data rows", r"Other sheets .*\['notes'\]"]),
    Case("workbook, stacked sheets with different columns", "book.xlsx",
         _xlsx({"a": TX_2023, "b": TX_2024.rename(columns={"amount": "total"})}), kwargs={"sheet": ["a", "b"]},
         error=["{file}", "sheets 'a' and 'b' have different columns", r"only in 'a': \['amount'\]"]),
    Case("workbook with decimal-comma text", "book.xlsx",
         _xlsx({"s": pd.DataFrame({"customer_id": ["c1"], "timestamp": ["2024-01-01"], "amount": ["12,50"]})}),
         error=["{file}", "decimal comma", "row 0: '12,50'"]),
    Case("legacy .xls", "old.xls", b"\xd0\xcf\x11\xe0 not read", error=["{file}", r"\.xls spreadsheets are not read",
                                                                         r"Excel workbook \(\.xlsx\) or as CSV"]),
    Case("CSV saved under an .xlsx name", "fake.xlsx", f"{HEADER}\nc1,2024-01-01,1\n".encode(),
         error=["{file}", r"cannot be opened as an Excel \.xlsx workbook", "fmt='csv'"]),
    Case("empty .xlsx", "zero.xlsx", b"", error=["{file}", r"empty \(0 bytes\)"]),
    # ------------------------------------------------------- misplaced options
    Case("sheet for a CSV", "s.csv", f"{HEADER}\nc1,2024-01-01,1\n".encode(), kwargs={"sheet": "x"},
         error=["sheet= is for Excel workbooks"], error_type=ValueError),
    Case("encoding for Parquet", "s.parquet", _parquet(TX_2024), kwargs={"encoding": "cp1252"},
         error=["encoding= is for CSV"], error_type=ValueError),
    Case("encoding given twice, differently", "s.csv", f"{HEADER}\nc1,2024-01-01,1\n".encode(),
         kwargs={"encoding": "utf-8", "read_options": {"encoding": "cp1252"}},
         error=["encoding is given twice"], error_type=ValueError),
]


def _outcome(read: Callable[[], pd.DataFrame]) -> pd.DataFrame | Exception:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - the outcome is compared below
        return exc


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_catalogue(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    pandas_out = _outcome(lambda: load_transactions(path, **case.kwargs))
    duckdb_out = _outcome(lambda: load_transactions(transactions_relation(path, keep_extra=True, **case.kwargs)))
    if case.error is not None:
        for label, out in (("pandas", pandas_out), ("duckdb", duckdb_out)):
            assert isinstance(out, case.error_type), f"{label}: expected {case.error_type.__name__}, got {out!r}"
            msg = str(out)
            for pattern in case.error:
                assert re.search(pattern.replace("{file}", re.escape(path.name)), msg), (label, pattern, msg)
        # the same message on both paths (a parse error ends with each reader's own words)
        assert str(pandas_out).split(" (Reader's message:")[0] == str(duckdb_out).split(" (Reader's message:")[0]
        return
    for label, out in (("pandas", pandas_out), ("duckdb", duckdb_out)):
        assert isinstance(out, pd.DataFrame), f"{label}: {out!r}"
    pd.testing.assert_frame_equal(duckdb_out, pandas_out, check_dtype=False)
    for col, values in (case.expect or {}).items():
        got = pandas_out[col].astype(object).where(pandas_out[col].notna(), None).tolist()
        want = [None if (v is None or (isinstance(v, float) and np.isnan(v))) else v for v in values]
        assert got == want, col


def test_short_row_is_counted_by_the_cleaning(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(f"{HEADER}\nc1,2024-01-01\nc2,2024-01-02,3\n")
    rep = clean_transactions(load_transactions(path)).report
    assert rep.dropped["missing_timestamp_or_amount"] == 1 and rep.rows_out == 1


# ------------------------------------------------------- point 5: cancellations
def _generic_orders(tmp_path: Path, extra: dict[str, list] | None = None) -> Path:
    df = pd.DataFrame({
        "order_id": ["CO-1001", "CO-1002", "CO-1003", "A-7", "CO-1004"],
        "customer_id": ["k1", "k2", "k1", "k3", "k2"],
        "timestamp": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06"],
        "quantity": [1, 2, -1, 1, 3],
        "unit_price": [10.0, 5.0, 10.0, 4.0, 2.0],
        **(extra or {}),
    })
    path = tmp_path / "orders.csv"
    df.to_csv(path, index=False)
    return path


def test_generic_file_orders_starting_with_c_are_not_cancellations(tmp_path: Path) -> None:
    tx = load_transactions(_generic_orders(tmp_path))
    res = clean_transactions(tx)
    # only the line with a negative quantity is a return; every "CO-..." sale stays
    assert res.report.dropped["return_or_cancellation"] == 1
    assert res.data["order_id"].tolist() == ["CO-1001", "CO-1002", "A-7", "CO-1004"]
    assert res.reasons.fillna("kept").tolist() == ["kept", "kept", "return_or_cancellation", "kept", "kept"]
    assert "order_id" not in res.report.table().set_index("reason").loc["return_or_cancellation", "description"]
    assert res.report.policy["cancellation_prefix"] is None


def test_order_id_prefix_is_an_explicit_opt_in(tmp_path: Path) -> None:
    tx = load_transactions(_generic_orders(tmp_path))
    res = clean_transactions(tx, policy=CleaningPolicy(cancellation_prefix="CO-"))
    assert res.report.dropped["return_or_cancellation"] == 4  # the four CO- orders (one also negative)
    assert res.data["order_id"].tolist() == ["A-7"]
    with pytest.raises(ValueError, match="cancellation_prefix must be a non-empty string or None"):
        CleaningPolicy(cancellation_prefix="")


def test_explicit_marker_column_is_honoured(tmp_path: Path) -> None:
    path = _generic_orders(tmp_path, {"is_cancellation": [False, True, False, False, False]})
    for tx in (load_transactions(path), load_transactions(transactions_relation(path, keep_extra=True))):
        res = clean_transactions(tx)
        assert res.reasons.fillna("kept").tolist() == ["kept", "return_or_cancellation", "return_or_cancellation",
                                                       "kept", "kept"]
        desc = res.report.table().set_index("reason").loc["return_or_cancellation", "description"]
        assert "is_cancellation" in desc


@pytest.mark.parametrize("values, shown", [(["maybe", "yes", "no", "no", "no"], "row 0: 'maybe'"),
                                           ([0, 1, 2, 0, 0], "row 2: 2"),
                                           ([True, None, False, False, False], "row 1: ")])
def test_marker_with_other_values_is_an_error(tmp_path: Path, values: list, shown: str) -> None:
    tx = pd.DataFrame({"customer_id": list("abcde"), "timestamp": pd.to_datetime(["2024-01-01"] * 5),
                       "amount": [1.0] * 5, "is_cancellation": pd.Series(values, dtype=object)})
    with pytest.raises(DataValidationError, match=rf"column 'is_cancellation' marks cancellations .*{re.escape(shown)}"):
        clean_transactions(tx)


@pytest.mark.parametrize("values", [["FALSE", "TRUE", "false"], ["no", "Yes", " n "], ["0", "1", "0"]])
def test_marker_as_text_from_a_file_or_spreadsheet(values: list) -> None:
    # the newcomer's TRUE/FALSE column from a CSV was refused with a Python-only fix
    tx = pd.DataFrame({"customer_id": list("abc"), "timestamp": pd.to_datetime(["2024-01-01"] * 3),
                       "amount": [1.0, 2.0, 3.0], "is_cancellation": values})
    assert clean_transactions(tx).reasons.fillna("kept").tolist() == ["kept", "return_or_cancellation", "kept"]


def test_marker_of_ones_and_zeros(tmp_path: Path) -> None:
    tx = pd.DataFrame({"customer_id": list("abc"), "timestamp": pd.to_datetime(["2024-01-01"] * 3),
                       "amount": [1.0, 2.0, 3.0], "is_cancellation": [0, 1, 0]})
    assert clean_transactions(tx).report.dropped["return_or_cancellation"] == 1


# --------------------------------------------------------- configuration specs
def test_config_specs_with_encoding_and_sheet(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_bytes(CP1252_TEXT.encode("cp1252"))
    df = load_source({"loader": "csv", "path": "sales.csv", "encoding": "cp1252"}, "transactions", base_dir=tmp_path)
    assert df["name"].tolist() == ["José", "€uro"]
    with pytest.raises(SourceFileError, match="encoding: cp1252"):
        load_source({"loader": "csv", "path": "sales.csv"}, "transactions", base_dir=tmp_path)
    _xlsx({"2023": TX_2023, "2024": TX_2024})(tmp_path / "book.xlsx")
    got = load_source({"loader": "excel", "path": "book.xlsx", "sheet": "2024"}, "transactions", base_dir=tmp_path)
    assert got["customer_id"].tolist() == ["13047", "12583"]
    with pytest.raises(SourceFileError, match=r"has 2 sheets"):
        load_source({"loader": "excel", "path": "book.xlsx"}, "transactions", base_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown key"):
        load_source({"loader": "parquet", "path": "x.parquet", "encoding": "cp1252"}, "transactions")


def test_rfm_summary_reads_a_csv_file_with_the_same_checks(tmp_path: Path) -> None:
    from crm_analysis.rfm import rfm_summary

    header_only = tmp_path / "tx.csv"
    header_only.write_text(f"{HEADER}\n")
    with pytest.raises(SourceFileError, match="tx.csv has a header"):
        rfm_summary(header_only, observation_end="2024-12-31")
    semicolons = tmp_path / "eu.csv"
    semicolons.write_text("customer_id;timestamp;amount\nc1;2024-01-01;12,5\n")
    with pytest.raises(SourceFileError, match="separated by ';'"):
        rfm_summary(semicolons, observation_end="2024-12-31")


# ------------------------------------------------- found by a newcomer's try-out
@pytest.mark.parametrize("magic, what", [(b"PK\x03\x04rest", "Excel .xlsx workbook"), (b"PAR1rest", "Parquet file"),
                                         (b"\xd0\xcf\x11\xe0rest", "legacy Excel .xls")])
def test_a_binary_file_read_as_csv_says_what_it_is(tmp_path: Path, magic: bytes, what: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(magic + b"\x00" * 64)
    for read in (lambda: load_transactions(path), lambda: transactions_relation(path)):
        with pytest.raises(SourceFileError, match=rf"is not a text \(CSV\) file but .*{re.escape(what)}"):
            read()


def test_duplicate_header_names_are_refused_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("customer_id,timestamp,amount,amount\na,2024-01-01,1,2\n")
    for read in (lambda: load_transactions(path), lambda: transactions_relation(path)):
        with pytest.raises(SourceFileError, match=r"names column\(s\) \['amount'\] more than once"):
            read()


def test_quoted_field_past_the_duckdb_sample_reads_on_both_paths(tmp_path: Path) -> None:
    rows = [f"c{i % 50},2024-01-{1 + i % 28:02d},{1 + i % 7}.5,plain" for i in range(25_000)]
    rows.append('late,2024-02-01,5.00,"Mug, blue"')
    path = tmp_path / "quoted.csv"
    path.write_text("customer_id,timestamp,amount,product\n" + "\n".join(rows) + "\n")
    frame = load_transactions(path)
    rel = transactions_relation(path, keep_extra=True).df()
    assert len(frame) == len(rel) == 25_001
    assert frame["product"].iloc[-1] == rel["product"].iloc[-1] == "Mug, blue"


def _titled_sheet(path: Path, rows_above: list[list[Any]], header: list[str], sheet: str = "Orders",
                  other_sheet: bool = False) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    if other_sheet:
        book.active.title = "Notes"
        book.active.append(["nothing here"])
        ws = book.create_sheet(sheet)
    else:
        ws = book.active
        ws.title = sheet
    for row in rows_above:
        ws.append(row)
    ws.append(header)
    ws.append(["a", "2024-01-02", 3.5])
    ws.append(["a", "2024-01-09", 4.5])
    book.save(path)


TITLES = [  # rows above the header, as spreadsheet exports write them
    [["Report of orders"]],  # a title: 2 unnamed columns of 3
    [["Report of orders"], []],  # a title and a blank row
    [["Orders 2024", None, "exported 2024-12-31"]],  # a title row with two texts: no unnamed majority
    [["Report"], ["Shop: Lyon"], []],
]


@pytest.mark.parametrize("above", TITLES)
@pytest.mark.parametrize("mapped", [False, True])
def test_title_rows_above_an_excel_header_get_the_exact_fix(tmp_path: Path, above, mapped: bool) -> None:
    # newcomer: a title row above the header gave "missing columns" and a generic hint, without the sheet
    header = ["Client", "Date", "Total"] if mapped else ["customer_id", "timestamp", "amount"]
    cols = {"customer_id": "Client", "timestamp": "Date", "amount": "Total"} if mapped else None
    path = tmp_path / "titled.xlsx"
    _titled_sheet(path, above, header, other_sheet=True)
    n = len(above)
    fix = re.escape(f"is on row {n + 1} of sheet 'Orders' of titled.xlsx") + r".*" + re.escape(
        f"read_options={{'skiprows': {n}}} (configuration `read_options: {{skiprows: {n}}}`)")
    with pytest.raises(DataValidationError, match=fix):
        load_transactions(path, columns=cols, sheet="Orders")
    with pytest.raises(DataValidationError, match=fix):
        transactions_relation(path, columns=cols, sheet="Orders")
    from crm_analysis.data import check_source
    from crm_analysis.rfm import rfm_summary

    spec = {"loader": "excel", "path": str(path), "sheet": "Orders", **({"columns": cols} if cols else {})}
    (problem,) = check_source(spec, "transactions")
    assert re.search(fix, problem)
    if not mapped:
        with pytest.raises(ValueError, match=fix):
            rfm_summary(path, observation_end="2024-01-31", sheet=1)
    # the option the message gives reads the file, from the API and from a configuration
    fixed = load_transactions(path, columns=cols, sheet="Orders", read_options={"skiprows": n})
    assert fixed["amount"].tolist() == [3.5, 4.5]
    assert check_source({**spec, "read_options": {"skiprows": n}}, "transactions") == []


@pytest.mark.parametrize(
    "text, options, fix",
    [("Report of orders\n\ncustomer_id,timestamp,amount\n", {}, {"skiprows": 2}),
     ("Report of orders\ncustomer_id,timestamp,amount\n", {}, {"skiprows": 1}),
     ("Report of orders\n\ncustomer_id;timestamp;amount\n", {}, {"skiprows": 2, "sep": ";"}),  # one column found
     ("Report of orders;;\ncustomer_id;timestamp;amount\n", {"sep": ";"}, {"skiprows": 1})],
)
def test_title_lines_above_a_csv_header_get_the_exact_fix(tmp_path: Path, text: str, options, fix) -> None:
    sep = fix.get("sep", options.get("sep", ","))
    path = tmp_path / "titled.csv"
    path.write_text(text + f"a{sep}2024-01-02{sep}3.5\na{sep}2024-01-09{sep}4.5\n")
    shown = re.escape(", ".join(f"{k!r}: {v!r}" for k, v in fix.items()))
    for read in (lambda: load_transactions(path, read_options=options),
                 lambda: transactions_relation(path, read_options=options).df()):
        with pytest.raises((DataValidationError, SourceFileError), match=rf"is on (line|row) {fix['skiprows'] + 1}\b"
                           ) as info:
            read()
        assert re.search(rf"read_options={{{shown}}}", str(info.value))
    fixed = {**options, **fix}
    assert load_transactions(path, read_options=fixed)["amount"].tolist() == [3.5, 4.5]
    assert transactions_relation(path, read_options=fixed).df()["amount"].tolist() == [3.5, 4.5]


def test_a_header_with_fewer_fields_than_its_rows_is_not_called_a_title(tmp_path: Path) -> None:
    # unquoted decimal commas: the usual causes are given, not a title hint
    path = tmp_path / "commas.csv"
    path.write_text("customer_id,timestamp,amount\na,2024-01-02,3,5\nb,2024-01-03,4,5\nc,2024-01-04,1,0\n")
    with pytest.raises(SourceFileError, match="a field holds the separator without quotes") as info:
        load_transactions(path)
    assert "title" not in str(info.value)


def test_a_single_column_or_a_title_like_name_gets_the_generic_hint() -> None:
    from crm_analysis.data import validate_transactions

    with pytest.raises(DataValidationError, match=r"Only one column was found \('Orders of the shop'\).*skiprows"):
        validate_transactions(pd.DataFrame({"Orders of the shop": ["x"]}))
    with pytest.raises(DataValidationError, match=r"'Orders exported on 2024-12-31' reads like a title.*skiprows"):
        validate_transactions(pd.DataFrame({"Orders exported on 2024-12-31": ["x"], "note": ["y"]}))
