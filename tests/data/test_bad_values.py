"""Catalogue of id and amount inputs (issue #11, points 3 and 4).

Each case gives a counted fix with its reason or an error naming the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv import BetaGeoModel, GammaGammaModel
from crm_analysis.data import (
    DataValidationError,
    clean_bookings,
    clean_transactions,
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


def test_rfm_summary_refuses_infinite_amounts_on_every_path(tmp_path: Path):
    tx = _tx(["a", "a"], [np.inf, 1.0])
    with pytest.raises(DataValidationError, match=r"column 'amount' has 1 infinite value\(s\).*nonfinite_amount"):
        rfm_summary(tx, observation_end="2024-01-31")
    path = tmp_path / "inf.parquet"
    tx.to_parquet(path)
    with pytest.raises(DataValidationError, match=r"column 'amount' has 1 infinite value\(s\)"):
        rfm_summary(path, observation_end="2024-01-31")


def test_models_refuse_infinite_inputs():
    data = pd.DataFrame({"frequency": [1.0, 2.0], "recency": [1.0, np.inf], "T": [5.0, 6.0],
                         "monetary_value": [np.inf, 3.0]})
    with pytest.raises(ValueError, match=r"recency column 'recency' has 1 missing or non-finite"):
        BetaGeoModel().fit(data)
    with pytest.raises(ValueError, match=r"monetary_value column 'monetary_value' has 1 missing or non-finite"):
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
     (["1 234,5", "7"], {"decimal": ",", "thousands": " "}, [1234.5, 7.0])],
)
def test_declared_number_format_is_read_on_both_paths(tmp_path: Path, values, options, expected):
    path = tmp_path / "n.csv"
    path.write_text("customer_id;timestamp;amount\n" + "".join(f"c{i};2024-01-0{i + 1};{v}\n" for i, v in enumerate(values)))
    opts = {"sep": ";", **options}
    assert load_transactions(path, read_options=opts)["amount"].tolist() == expected
    assert transactions_relation(path, read_options=opts).df()["amount"].tolist() == expected


@pytest.mark.parametrize(
    "values, options, match",
    [(["1.234", "7"], {"decimal": ","}, r"'1\.234'.*add thousands: '\.'"),  # 1.234 silently became 1.234
     (["12.5", "7"], {"decimal": ",", "thousands": "."}, r"'12\.5'.*group exactly three digits"),  # became 125
     (["1,2,3", "7"], {"decimal": ","}, r"'1,2,3'"),
     (["12,50", "7"], {"thousands": ","}, r"'12,50'")],
)
def test_numbers_not_in_the_declared_format_are_refused_on_both_paths(tmp_path: Path, values, options, match):
    path = tmp_path / "n.csv"
    path.write_text("customer_id;timestamp;amount\n" + "".join(f"c{i};2024-01-0{i + 1};{v}\n" for i, v in enumerate(values)))
    opts = {"sep": ";", **options}
    with pytest.raises(DataValidationError, match=r"column 'amount': 1 value\(s\) are not numbers written with .*" + match):
        load_transactions(path, read_options=opts)
    with pytest.raises(Exception, match=r"column 'amount': value is not a number written with"):
        transactions_relation(path, read_options=opts).df()


def test_a_bad_amount_past_the_duckdb_sample_gives_the_package_error(tmp_path: Path):
    rows = [f"c{i % 50},2024-01-{1 + i % 28:02d},{1 + i % 7}.5" for i in range(30_000)] + ["late,2024-02-01,12,50"]
    path = tmp_path / "late.csv"
    path.write_text("customer_id,timestamp,amount,note\n" + "\n".join(r + ",x" if not r.startswith("late") else
                                                                       'late,2024-02-01,"12,50",x' for r in rows) + "\n")
    with pytest.raises(Exception, match=r"column 'amount': value is not a number .* decimal: ','.*12,50"):
        transactions_relation(path).df()
    with pytest.raises(Exception, match="12,50"):
        load_transactions(path)


def test_cleaning_refuses_frames_that_were_not_loaded():
    raw = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-05"], "amount": [1.0]})
    from crm_analysis.data import CleaningPolicy

    with pytest.raises(DataValidationError, match=r"'timestamp' is .*not datetime64\[ns\].*load_transactions"):
        clean_transactions(raw, CleaningPolicy(observation_end="2024-01-31"))
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
