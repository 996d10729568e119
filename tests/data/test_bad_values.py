"""Catalogue of id and amount inputs (issue #11, points 3 and 4).

Each case gives a counted fix with its reason or an error naming the column.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.clv import BetaGeoModel, GammaGammaModel
from crm_analysis.data import (
    DataValidationError,
    clean_bookings,
    clean_transactions,
    duckdb_value_errors,
    intake_changes,
    load_transactions,
    transactions_relation,
    validate_bookings,
    validate_transactions,
)
from crm_analysis.rfm import rfm_summary


def _tx(ids, amounts=None) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "customer_id": ids,
        "timestamp": pd.date_range("2024-01-01", periods=n, freq="D"),
        "amount": amounts if amounts is not None else np.ones(n),
    })


# ------------------------------------------------------------------------ ids
def test_surrounding_blanks_are_stripped_and_counted():
    # Issue #11: "x", " x" and "x " became three customers.
    tx = validate_transactions(_tx(["x", " x", "x ", "\tx\u00a0", "007", "X"]))
    assert tx["customer_id"].tolist() == ["x", "x", "x", "x", "007", "X"]  # leading zeros and case kept
    (change,) = intake_changes(tx)
    assert (change.column, change.reason, change.rows) == ("customer_id", "whitespace_stripped", 3)
    steps = clean_transactions(tx).report.table()
    assert steps.loc[steps.action == "changed", "rows"].tolist() == [3]
    assert rfm_summary(tx, observation_end="2024-01-31").index.tolist() == ["007", "X", "x"]


def test_raw_frame_file_and_relation_agree_on_ids(tmp_path: Path):
    raw = _tx(["x", " x", "x ", "0042"])
    path = tmp_path / "ids.csv"
    raw.to_csv(path, index=False)
    expected = ["0042", "x"]
    assert rfm_summary(raw, observation_end="2024-01-31").index.tolist() == expected  # a raw frame
    assert rfm_summary(path, observation_end="2024-01-31").index.tolist() == expected  # the file
    assert sorted(set(load_transactions(path)["customer_id"])) == expected
    assert sorted({r[0] for r in transactions_relation(path).aggregate("customer_id").fetchall()}) == expected


def test_blank_id_becomes_missing_customer_in_cleaning():
    res = clean_transactions(validate_transactions(_tx(["a", "   "])))
    assert res.report.dropped["missing_customer_id"] == 1


def test_booking_ids_and_segments_are_stripped_too():
    bk = pd.DataFrame({
        "booking_id": ["1", "1 "], "booking_date": ["2024-01-01"] * 2, "arrival_date": ["2024-02-01"] * 2,
        "nights": [1, 2], "rate": [100.0, 90.0], "segment": ["Direct", " Direct"], "status": ["stayed"] * 2,
    })
    out = validate_bookings(bk)
    assert out["booking_id"].tolist() == ["1", "1"] and out["segment"].nunique() == 1
    assert clean_bookings(out).report.dropped["duplicate_booking_id"] == 1


# -------------------------------------------------------------------- amounts
def test_infinite_amounts_are_counted_and_dropped_by_cleaning(tmp_path: Path):
    # Issue #11: an amount of inf passed cleaning and gave revenue = inf.
    path = tmp_path / "inf.csv"
    path.write_text("customer_id,timestamp,amount\na,2024-01-01,inf\na,2024-01-02,-Infinity\nb,2024-01-03,5\n")
    tx = load_transactions(path)
    res = clean_transactions(tx)
    assert res.report.dropped["nonfinite_amount"] == 2
    assert np.isfinite(res.report.amount_in) and res.report.amount_in == 5.0
    summary = rfm_summary(res.data, observation_end="2024-01-31")
    assert np.isfinite(summary["revenue"]).all()


def test_infinite_rates_are_counted_and_dropped():
    bk = pd.DataFrame({
        "booking_id": ["1", "2"], "booking_date": ["2024-01-01"] * 2, "arrival_date": ["2024-02-01"] * 2,
        "nights": [1, 2], "rate": [np.inf, 90.0], "segment": ["Direct"] * 2, "status": ["stayed"] * 2,
    })
    rep = clean_bookings(validate_bookings(bk)).report
    assert rep.dropped["nonfinite_rate"] == 1 and np.isfinite(rep.amount_in)


def without_rows(message: str) -> str:
    """A value error as an engine that knows no row positions writes it (DuckDB, Spark): the same text otherwise."""
    return re.sub(r"row \d+: ", "", message.replace("examples (0-based row: value): ", "examples: "))


def test_rfm_summary_refuses_infinite_amounts_on_every_path(tmp_path: Path):
    tx = _tx(["a", "a", "b", "c"], [np.inf, 1.0, -np.inf, np.inf])
    with pytest.raises(DataValidationError, match=r"column 'amount': 3 value\(s\) are infinite; examples \(0-based "
                                                  r"row: value\): row 2: '-inf'; row 0: 'inf'.*nonfinite_amount") as frame:
        rfm_summary(tx, observation_end="2024-01-31")
    path = tmp_path / "inf.parquet"
    tx.to_parquet(path)
    with pytest.raises(DataValidationError) as file:
        rfm_summary(path, observation_end="2024-01-31")
    assert str(file.value) == without_rows(str(frame.value))  # every engine: the same count, values and fix


def test_models_refuse_infinite_inputs():
    data = pd.DataFrame({"frequency": [1.0, 2.0], "recency": [1.0, np.inf], "T": [5.0, 6.0],
                         "monetary_value": [np.inf, 3.0]})
    with pytest.raises(ValueError, match=r"recency column 'recency' has 1 missing or non-finite"):
        BetaGeoModel().fit(data)
    with pytest.raises(ValueError, match=r"monetary_value column 'monetary_value' has 1 non-finite value"):
        GammaGammaModel().fit(data)


def test_integer_columns_refuse_infinity():
    bk = pd.DataFrame({
        "booking_id": ["1"], "booking_date": ["2024-01-01"], "arrival_date": ["2024-02-01"],
        "nights": [np.inf], "rate": [90.0], "segment": ["Direct"], "status": ["stayed"],
    })
    with pytest.raises(DataValidationError, match=r"column 'nights': 1 value\(s\) are infinite"):
        validate_bookings(bk)


# ------------------------------------------------- found by a newcomer's try-out
def test_customers_called_na_or_null_are_kept_on_both_paths(tmp_path: Path):
    # pandas' default missing-value list dropped them on the pandas path only
    path = tmp_path / "na.csv"
    path.write_text("Client,OrderDate,Total\nNA,2024-01-05,10\nNA,2024-02-05,20\nnull,2024-01-06,5\n"
                    "None,2024-01-07,6\nN/A,2024-01-08,7\nb,2024-01-09,8\n,2024-01-10,9\n")
    cols = {"customer_id": "Client", "timestamp": "OrderDate", "amount": "Total"}
    tx = load_transactions(path, columns=cols)
    assert tx["customer_id"].tolist()[:6] == ["NA", "NA", "null", "None", "N/A", "b"]
    assert tx["customer_id"].isna().tolist() == [False] * 6 + [True]  # only the empty cell is missing
    rel = transactions_relation(path, columns=cols).df()
    assert rel["customer_id"].fillna("<missing>").tolist() == tx["customer_id"].fillna("<missing>").tolist()
    assert clean_transactions(tx).report.dropped["missing_customer_id"] == 1


def test_own_missing_markers_can_be_declared(tmp_path: Path):
    path = tmp_path / "na.csv"
    path.write_text("customer_id,timestamp,amount\nNA,2024-01-05,10\nb,2024-01-09,8\n")
    tx = load_transactions(path, read_options={"na_values": ["NA"]})
    assert tx["customer_id"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    "values, options, expected",
    [(["1.234,50", "7", "-0,25"], {"decimal": ",", "thousands": "."}, [1234.5, 7.0, -0.25]),
     (["12,5", "7"], {"decimal": ","}, [12.5, 7.0]),
     (["1,234.50", "7"], {"thousands": ","}, [1234.5, 7.0]),
     (["1 234,5", "7"], {"decimal": ",", "thousands": " "}, [1234.5, 7.0]),
     # French and Swiss exports group thousands with (narrow) no-break spaces: one declared blank reads them all
     (["1\u00a0234,5", "1\u202f234\u202f567,25", "1 234\u00a0567", "7\u00a0"], {"decimal": ",", "thousands": " "},
      [1234.5, 1234567.25, 1234567.0, 7.0]),
     (["1 234,5", "1\u00a0234"], {"decimal": ",", "thousands": "\u202f"}, [1234.5, 1234.0]),
     (["1'234.50", "1\u2019234"], {"thousands": "'"}, [1234.5, 1234.0])],
)
def test_declared_number_format_is_read_on_both_paths(tmp_path: Path, values, options, expected):
    path = tmp_path / "n.csv"
    path.write_text("customer_id;timestamp;amount\n" + "".join(f"c;2024-01-0{i + 1};{v}\n" for i, v in enumerate(values)))
    opts = {"sep": ";", **options}
    assert load_transactions(path, read_options=opts)["amount"].tolist() == expected
    assert transactions_relation(path, read_options=opts).df()["amount"].tolist() == expected
    summary = rfm_summary(path, observation_end="2024-01-31", read_options=opts)  # the DuckDB path of rfm
    assert summary.loc["c", "monetary_value"] == pytest.approx(np.mean(expected[1:]))  # repeat purchases


@pytest.mark.parametrize(
    "values, options, match",
    [(["1.234", "7"], {"decimal": ","}, r"'1\.234'.*add thousands: '\.'"),  # 1.234 silently became 1.234
     (["12.5", "7"], {"decimal": ",", "thousands": "."}, r"'12\.5'.*group exactly three digits"),  # became 125
     (["1,2,3", "7"], {"decimal": ","}, r"'1,2,3'"),
     (["12,50", "7"], {"thousands": ","}, r"'12,50'"),
     (["1\u00a02345", "7"], {"decimal": ",", "thousands": " "}, r"'1\\xa02345'"),  # a blank that groups 4 digits
     (["1\u00a0234,5", "7"], {"decimal": ","}, r"'1\\xa0234,5'")],  # a blank, but no blank thousands declared
)
def test_numbers_not_in_the_declared_format_are_refused_on_both_paths(tmp_path: Path, values, options, match):
    path = tmp_path / "n.csv"
    path.write_text("customer_id;timestamp;amount\n" + "".join(f"c{i};2024-01-0{i + 1};{v}\n" for i, v in enumerate(values)))
    opts = {"sep": ";", **options}
    with pytest.raises(DataValidationError, match=r"column 'amount': 1 value\(s\) are not numbers written with .*" + match) as ref:
        load_transactions(path, read_options=opts)
    with pytest.raises(DataValidationError) as lazy:
        with duckdb_value_errors():  # the relation is lazy: DuckDB raises when it is materialised
            transactions_relation(path, read_options=opts).df()
    with pytest.raises(DataValidationError) as summary:
        rfm_summary(path, observation_end="2024-12-31", read_options=opts)  # the package runs the query
    assert str(lazy.value) == str(summary.value) == without_rows(str(ref.value))


def test_a_bad_amount_past_the_duckdb_sample_gives_the_package_error(tmp_path: Path):
    rows = [f"c{i % 50},2024-01-{1 + i % 28:02d},{1 + i % 7}.5" for i in range(30_000)] + ["late,2024-02-01,12,50"]
    path = tmp_path / "late.csv"
    path.write_text("customer_id,timestamp,amount,note\n" + "\n".join(r + ",x" if not r.startswith("late") else
                                                                       'late,2024-02-01,"12,50",x' for r in rows) + "\n")
    with pytest.raises(DataValidationError, match=r"column 'amount': 1 value\(s\) are not numbers .*examples: '12,50'\. "
                                                  r"Found in '12,50': a decimal comma \(12,50\): set the read option "
                                                  r"decimal: ','"):
        with duckdb_value_errors():
            transactions_relation(path).df()
    with pytest.raises(DataValidationError, match=r"column 'amount': 1 value\(s\).*examples: '12,50'"):
        rfm_summary(path, observation_end="2024-12-31")
    with pytest.raises(DataValidationError, match="12,50"):
        load_transactions(path)


def test_cleaning_refuses_frames_that_were_not_loaded():
    raw = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-05"], "amount": [1.0]})
    from crm_analysis.data import CleaningPolicy

    with pytest.raises(DataValidationError, match=r"'timestamp' is .*not datetime64\[ns\].*load_transactions"):
        clean_transactions(raw, policy=CleaningPolicy(observation_end="2024-01-31"))
def test_float_ids_are_the_same_on_every_path():
    # a frame whose id column became float (blanks elsewhere) gave '12345.0' on rfm_summary(frame) only
    raw = pd.DataFrame({"customer_id": [12345.0, 12345.0, 67890.0], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02"]),
                        "amount": [1.0, 2.0, 3.0]})
    direct = rfm_summary(raw, observation_end="2024-01-31")
    loaded = rfm_summary(load_transactions(raw), observation_end="2024-01-31")
    assert direct.index.tolist() == loaded.index.tolist() == ["12345", "67890"]




def test_no_purchase_in_the_period_is_an_error_not_an_empty_summary(tmp_path: Path):
    # newcomer: rfm_summary returned an empty frame without a word
    tx = _tx(["a", "b"])
    with pytest.raises(DataValidationError, match=r"no purchase falls on or before observation_end=2023-12-31; "
                                                  r"the data run from 2024-01-01 to 2024-01-02"):
        rfm_summary(tx, observation_end="2023-12-31")
    path = tmp_path / "tx.parquet"
    tx.to_parquet(path)
    with pytest.raises(DataValidationError, match="the data run from 2024-01-01"):
        rfm_summary(path, observation_end="2023-12-31")
    from crm_analysis.rfm import calibration_and_holdout

    with pytest.raises(DataValidationError, match=r"calibration_end=2023-06-30.*the data run from 2024-01-01"):
        calibration_and_holdout(tx, calibration_end="2023-06-30", observation_end="2024-12-31")
    with pytest.raises(DataValidationError, match="empty"):
        rfm_summary(tx.iloc[:0], observation_end="2024-12-31")


def test_rfm_summary_reads_a_file_with_the_options_its_errors_suggest(tmp_path: Path):
    # newcomer: the error said "pass encoding='cp1252'" but rfm_summary had no such argument
    path = tmp_path / "eu.csv"
    path.write_bytes("customer_id;timestamp;amount;note\nM\xfcller;2024-01-01;1,5;a\nM\xfcller;2024-01-08;2,5;b\n"
                     .encode("cp1252"))
    out = rfm_summary(path, observation_end="2024-01-31", encoding="cp1252", read_options={"sep": ";", "decimal": ","})
    assert out.index.tolist() == ["Müller"] and out["monetary_value"].tolist() == [2.5]


# ------------------------------------------------- second newcomer's try-out
@pytest.mark.parametrize("markers", ["-", ["-"], ("-", "n/a"), {"Client": "-"}, {"Client": ["-"], "Total": []}])
def test_declared_missing_markers_add_to_the_empty_cell(tmp_path: Path, markers):
    # na_values replaced "empty cell = missing": blank ids became customers called "" and blank notes ""
    path = tmp_path / "na.csv"
    path.write_text("Client,OrderDate,Total,Note\n-,2024-01-05,10,x\n,2024-01-06,5,\nNA,2024-01-07,6,y\n"
                    "b,2024-01-08,7,\n")
    cols = {"customer_id": "Client", "timestamp": "OrderDate", "amount": "Total"}
    tx = load_transactions(path, columns=cols, read_options={"na_values": markers})
    assert tx["customer_id"].isna().tolist() == [True, True, False, False]  # the marker and the empty cell
    assert tx["customer_id"].iloc[2] == "NA"  # pandas' own list is not brought back
    assert tx["Note"].isna().tolist() == [False, True, False, True]  # columns the markers do not name too
    if isinstance(markers, dict):  # DuckDB's reader takes one list for the file: said, not ignored
        with pytest.raises(DataValidationError, match="per-column na_values are read by the pandas path only"):
            transactions_relation(path, columns=cols, read_options={"na_values": markers}, keep_extra=True).df()
    else:
        rel = transactions_relation(path, columns=cols, read_options={"na_values": markers}, keep_extra=True).df()
        assert rel["customer_id"].isna().tolist() == [True, True, False, False]
        assert rel["Note"].isna().tolist() == [False, True, False, True]
    xlsx = tmp_path / "na.xlsx"
    pd.read_csv(path, dtype=str, keep_default_na=False).to_excel(xlsx, index=False)
    book = load_transactions(xlsx, columns=cols, read_options={"na_values": markers})
    assert book["customer_id"].isna().tolist() == [True, True, False, False]
    assert book["Note"].isna().tolist() == [False, True, False, True]


def test_numeric_missing_marker_is_accepted(tmp_path: Path):
    path = tmp_path / "na.csv"
    path.write_text("customer_id,timestamp,amount\n-999,2024-01-05,10\nb,2024-01-09,8\n,2024-01-10,1\n")
    tx = load_transactions(path, read_options={"na_values": -999})
    assert tx["customer_id"].isna().tolist() == [True, False, True]
    rel = transactions_relation(path, read_options={"na_values": [-999]}).df()
    assert rel["customer_id"].isna().tolist() == [True, False, True]


def _float_text(n: int, zeros: int, pad: str) -> str:
    return f"{pad}{n}{'.' + '0' * zeros if zeros else ''}{pad}"


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 10**12), st.integers(0, 3), st.sampled_from(["", " "])),
                min_size=1, max_size=8))
def test_ids_written_as_floats_are_one_key_on_every_path(tmp_path_factory, ids):
    # "17850.0" (a float column exported to text) and "17850" were two customers
    path = tmp_path_factory.mktemp("ids") / "ids.csv"
    text = [_float_text(*i) for i in ids]
    body = "".join(f'"{t}",2024-01-{1 + k % 28:02d},{k + 1}\n' for k, t in enumerate(text))
    path.write_text("customer_id,timestamp,amount\n" + body)
    expected = sorted({str(n) for n, _, _ in ids})
    tx = load_transactions(path)
    assert tx["customer_id"].tolist() == [str(n) for n, _, _ in ids]  # pandas path
    rel = transactions_relation(path).df()  # DuckDB path
    assert rel["customer_id"].tolist() == tx["customer_id"].tolist()
    counted = {c.reason: c.rows for c in intake_changes(tx)}
    assert counted.get("float_text_id", 0) == sum(1 for _, z, _ in ids if z)
    frame = pd.DataFrame({"customer_id": text, "timestamp": pd.to_datetime(tx["timestamp"]),
                          "amount": tx["amount"]})
    for source in (path, frame, tx):  # rfm_summary: file (DuckDB), raw frame, loaded frame
        assert sorted(rfm_summary(source, observation_end="2024-01-31").index.tolist()) == expected


@pytest.mark.parametrize("text", ["12.5", "1.0e3", "0x1.0", "A1.0", "1.", ".0", "1.01"])
def test_other_ids_with_a_dot_are_kept_as_written(tmp_path: Path, text: str):
    path = tmp_path / "ids.csv"
    path.write_text(f'customer_id,timestamp,amount\n"{text}",2024-01-05,1\n')
    assert load_transactions(path)["customer_id"].tolist() == [text]
    assert transactions_relation(path).df()["customer_id"].tolist() == [text]
    assert rfm_summary(path, observation_end="2024-01-31").index.tolist() == [text]


@pytest.mark.parametrize(
    "values, options",
    [(["1.234,50", "7", "-0,25"], {"decimal": ",", "thousands": "."}), (["12,5", "7"], {"decimal": ","}),
     (["1,234.50", "7"], {"thousands": ","})],
)
def test_rfm_file_path_reads_the_declared_number_format(tmp_path: Path, values, options):
    # the DuckDB path of rfm_summary read amounts by the sniffer's guess, not the declared format
    path = tmp_path / "n.csv"
    path.write_text("customer_id;timestamp;amount\n" + "".join(f"c;2024-01-0{i + 1};{v}\n" for i, v in enumerate(values)))
    opts = {"sep": ";", **options}
    from_file = rfm_summary(path, observation_end="2024-01-31", read_options=opts)
    loaded = rfm_summary(load_transactions(path, read_options=opts), observation_end="2024-01-31")
    pd.testing.assert_frame_equal(from_file, loaded)


@pytest.mark.parametrize("fmt", [{"timestamp": "%d.%m.%Y"}, {"Datum": "%d.%m.%Y"}, "%d.%m.%Y"])
def test_rfm_honours_a_date_format_mapping(tmp_path: Path, fmt):
    path = tmp_path / "d.csv"
    path.write_text("Kunde,Datum,Betrag\na,03.01.2024,1\na,04.02.2024,2\nb,05.01.2024,3\n")
    names = {"customer_col": "Kunde", "datetime_col": "Datum", "monetary_col": "Betrag"}
    frame = pd.read_csv(path, dtype=str)
    for source in (path, frame):  # DuckDB and pandas paths
        out = rfm_summary(source, observation_end="2024-02-29", date_format=fmt, time_unit="D", **names)
        assert out.loc["a", "frequency"] == 1 and out.loc["a", "recency"] == 32  # 3 Jan -> 4 Feb


@pytest.mark.parametrize("key", ["Date", "timestmap", "Betrag", "arrival_date"])
def test_date_format_keys_that_name_no_date_column_are_refused_on_every_path(tmp_path: Path, key: str):
    # a wrong key left the column to the inferred order without a word
    path = tmp_path / "d.csv"
    path.write_text("Kunde,Datum,Betrag\na,03.01.2024,1\na,04.02.2024,2\n")
    cols = {"customer_id": "Kunde", "timestamp": "Datum", "amount": "Betrag"}
    fmt = {key: "%d.%m.%Y"}
    match = rf"date_format has key\(s\) \['{key}'\] that are not date columns.*timestamp \(source column 'Datum'\)"
    with pytest.raises(DataValidationError, match=match):
        load_transactions(path, columns=cols, date_format=fmt)
    with pytest.raises(DataValidationError, match=match):
        transactions_relation(path, columns=cols, date_format=fmt)
    names = {"customer_col": "Kunde", "datetime_col": "Datum", "monetary_col": "Betrag"}
    for source in (path, pd.read_csv(path, dtype=str)):
        with pytest.raises(DataValidationError, match=rf"\['{key}'\].*timestamp \(source column 'Datum'\)"):
            rfm_summary(source, observation_end="2024-02-29", date_format=fmt, **names)
    from crm_analysis.data import check_source

    (problem,) = check_source({"loader": "csv", "path": str(path), "columns": cols, "date_format": fmt},
                              "transactions")
    assert f"['{key}']" in problem and "d.csv" in problem
    # the right keys, canonical or source, are accepted
    for good in ({"timestamp": "%d.%m.%Y"}, {"Datum": "%d.%m.%Y"}):
        assert load_transactions(path, columns=cols, date_format=good)["timestamp"].dt.month.tolist() == [1, 2]


@pytest.mark.parametrize(
    "value, options, found",
    [("€12.50", {}, "a currency symbol"), ("12.50 EUR", {}, "a currency symbol"), ("$12,50", {"decimal": ","}, "a currency symbol"),
     ("1 234.50", {}, r"blanks grouping thousands \(1 234\): set the read option thousands: ' '"),
     ("1\u202f234.50", {}, "blanks grouping thousands"),
     ("1\u202f234,50", {}, r"blanks grouping thousands \(1 234\) and a decimal comma: set the read options "
                           r"thousands: ' ' and decimal: ','"),
     ("1'234.50", {}, "an apostrophe grouping thousands"),
     ("12%", {}, "a per cent sign"),
     ("1.234,50", {"decimal": ","}, r"a '\.' that may group thousands.*add thousands: '\.'"),
     ("12.5", {"decimal": ","}, "a decimal point"),
     ("1.234,50", {"thousands": " "}, r"a decimal comma with '\.' grouping thousands.*decimal: ',' and thousands: '\.'"),
     ("1 2345", {"thousands": " "}, "a thousands separator ' ' that does not group exactly three digits"),
     ("n/a", {}, "a missing-value marker"), ("12x", {}, "no number")],
)
def test_number_errors_name_the_value_column_and_cause_on_both_paths(tmp_path: Path, value, options, found):
    # the DuckDB path said only "not a number"; the pandas path only "not numeric"
    path = tmp_path / "v.csv"
    path.write_text(f'customer_id;timestamp;Betrag\na;2024-01-01;1\na;2024-01-02;"{value}"\n')
    cols = {"customer_id": "customer_id", "timestamp": "timestamp", "amount": "Betrag"}
    opts = {"sep": ";", **options}
    shown = re.escape(repr(value))
    with pytest.raises(DataValidationError, match=rf"column 'amount \(Betrag\)'.*{shown}.*Found in {shown}: {found}") as ref:
        load_transactions(path, columns=cols, read_options=opts)
    with pytest.raises(DataValidationError) as lazy:
        with duckdb_value_errors():
            transactions_relation(path, columns=cols, read_options=opts).df()
    with pytest.raises(DataValidationError) as summary:
        rfm_summary(path, observation_end="2024-01-31", monetary_col="Betrag", read_options=opts)
    assert str(lazy.value) == str(summary.value) == without_rows(str(ref.value))  # one message on every path


def test_rfm_counts_purchase_days_whatever_the_order_ids():
    # docs/real_data.md: order_id is not used by RFM; two orders on one day are one purchase
    tx = validate_transactions(pd.DataFrame({
        "customer_id": ["a", "a", "a", "a"], "timestamp": ["2024-01-01", "2024-01-01 15:00", "2024-01-02", "2024-01-09"],
        "amount": [5.0, 5.0, 3.0, 4.0], "order_id": ["1", "2", "3", "4"]}))
    by_order = rfm_summary(tx, observation_end="2024-01-31", time_unit="D")
    for other in (tx.drop(columns="order_id"), tx.assign(order_id="1")):
        pd.testing.assert_frame_equal(rfm_summary(other, observation_end="2024-01-31", time_unit="D"), by_order)
    assert by_order.loc["a", "frequency"] == 2  # days 2 and 9 after the first day; the second order of day 1 is not one
    assert by_order.loc["a", "monetary_value"] == pytest.approx(3.5)  # mean of the repeat days' amounts


def test_missing_columns_of_a_long_query_are_named_not_a_file_error():
    # the title-row hint looks for a file; a query longer than a file name may be is not one
    import duckdb

    con = duckdb.connect()
    con.sql("CREATE TABLE t AS SELECT 1 AS x")
    query = "SELECT x" + " " * 300 + "FROM t"
    with pytest.raises(ValueError, match=r"'customer_id' \(customer_col\).* in transactions; its columns are \['x'\]"):
        rfm_summary(query, con=con, observation_end="2024-01-31")


@pytest.mark.parametrize("options", [{"decimal": ","}, {"decimal": ",", "thousands": "."}, {}])
def test_number_cells_of_a_workbook_read_under_a_declared_decimal_comma(tmp_path: Path, options):
    # a sheet mixing number cells (3.5) and text cells ("4,5"): with decimal ',' the number cells were refused
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["customer_id", "timestamp", "amount", "quantity"])
    rows = [(12.5, "2024-01-02", 3.5, 2), ("a", "2024-01-05", "4,5" if options else 4.5, "3"),
            ("a", "2024-01-09", 0.00001, 1), ("a", "2024-01-10", 1234567.25, 1)]
    for r in rows:
        ws.append(list(r))
    path = tmp_path / "mixed.xlsx"
    book.save(path)
    expected = [3.5, 4.5, 0.00001, 1234567.25]
    frame = load_transactions(path, read_options=options)
    assert frame["amount"].tolist() == expected and frame["quantity"].tolist() == [2, 3, 1, 1]
    assert frame["customer_id"].tolist()[0] == "12.5"  # an id is not a number: its mark is kept
    rel = transactions_relation(path, read_options=options).df()
    assert rel["amount"].tolist() == expected
    summary = rfm_summary(path, observation_end="2024-01-31", read_options=options)
    assert summary.loc["a", "monetary_value"] == pytest.approx(np.mean(expected[2:]))
