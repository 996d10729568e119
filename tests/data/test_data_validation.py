"""Every validation error path names the problem."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import (
    BOOKINGS,
    TRANSACTIONS,
    DataValidationError,
    normalise_status,
    validate_bookings,
    validate_transactions,
)


def tx(**over):
    base = {
        "customer_id": ["1", "2", "3"],
        "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03 10:30"],
        "amount": [1.0, 2.0, 3.0],
    }
    base.update(over)
    return pd.DataFrame(base)


def bk(**over):
    base = {
        "booking_id": ["a", "b", "c"],
        "booking_date": ["2024-01-01", "2024-01-02", "2024-01-03"],
        "arrival_date": ["2024-02-01", "2024-02-02", "2024-02-03"],
        "nights": [1, 2, 3],
        "rate": [100.0, 90.0, 80.0],
        "segment": ["Direct", "Groups", "Direct"],
        "status": ["Check-Out", "Canceled", "No-Show"],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_valid_transactions_dtypes():
    out = validate_transactions(tx(customer_id=[1.0, 17850.0, np.nan]))
    assert list(out.columns[:3]) == list(TRANSACTIONS.required)
    assert isinstance(out["customer_id"].dtype, pd.StringDtype)
    assert out["customer_id"].dtype.na_value is pd.NA
    assert out["customer_id"].tolist()[:2] == ["1", "17850"]
    assert out["customer_id"].isna().tolist() == [False, False, True]
    assert out["timestamp"].dtype == np.dtype("datetime64[ns]")
    assert out["amount"].dtype == np.dtype("float64")
    assert out["timestamp"].iloc[2] == pd.Timestamp("2024-01-03 10:30")


def test_timezone_aware_becomes_naive_wall_time():
    ts = pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-01 12:00"]).tz_localize("Europe/Lisbon")
    out = validate_transactions(tx(timestamp=ts))
    assert out["timestamp"].dtype == np.dtype("datetime64[ns]")
    assert out["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 10:00")


def test_missing_required_columns_named_with_found_and_hint():
    df = pd.DataFrame({"CustomerID": ["1"], "when": ["2024-01-01"], "value": [1.0]})
    with pytest.raises(DataValidationError) as err:
        validate_transactions(df)
    msg = str(err.value)
    for name in ("customer_id", "timestamp", "amount", "CustomerID", "when", "value", "columns="):
        assert name in msg
    assert "perhaps 'CustomerID'" in msg


def test_only_missing_column_is_named():
    with pytest.raises(DataValidationError, match=r"missing required column\(s\) \['amount'\]") as err:
        validate_transactions(tx().drop(columns="amount"))
    assert "quantity" in str(err.value)  # hint about deriving amount


def test_mapping_errors():
    with pytest.raises(DataValidationError, match="not columns of the transactions schema"):
        validate_transactions(tx(), columns={"client": "customer_id"})
    with pytest.raises(DataValidationError, match="'customer_id' -> 'CustID'"):
        validate_transactions(tx(), columns={"customer_id": "CustID"})
    with pytest.raises(DataValidationError, match="more than once"):
        validate_transactions(tx(), columns={"timestamp": "amount", "amount": "amount"})
    df = tx().assign(cid=["7", "8", "9"])
    with pytest.raises(DataValidationError, match="have canonical names"):
        validate_transactions(df, columns={"customer_id": "cid"})
    with pytest.raises(DataValidationError, match="duplicated column names"):
        validate_transactions(pd.concat([tx(), tx()[["amount"]]], axis=1))


def test_amount_derived_from_quantity_and_price():
    df = tx().drop(columns="amount").assign(q=[1, 2, -3], p=["2.5", "1", "2"])
    out = validate_transactions(df, columns={"quantity": "q", "unit_price": "p"})
    assert out["amount"].tolist() == [2.5, 2.0, -6.0]


def test_unparseable_dates_count_and_examples():
    bad = ["2024-01-01", "yesterday", "2024-13-45", "2024-01-04", "x", "y", "z", "w", "2024-01-02"]
    df = pd.DataFrame({"customer_id": ["1"] * 9, "timestamp": bad, "amount": [1.0] * 9})
    with pytest.raises(DataValidationError) as err:
        validate_transactions(df)
    msg = str(err.value)
    assert "'timestamp'" in msg and "6 value(s)" in msg
    # at most five distinct values, the smallest in code-point order (what every engine shows), with first rows
    assert "row 2: '2024-13-45'; row 7: 'w'; row 4: 'x'; row 5: 'y'; row 1: 'yesterday'." in msg
    assert "'z'" not in msg  # the sixth offender
    assert len(re.findall(r"row \d+:", msg)) == 5


def test_numeric_timestamp_is_rejected():
    with pytest.raises(DataValidationError, match="numeric"):
        validate_transactions(tx(timestamp=[20240101, 20240102, 20240103]))


def test_non_numeric_amounts():
    with pytest.raises(DataValidationError) as err:
        validate_transactions(tx(amount=["1.5", "1,234.00", "abc"]))
    msg = str(err.value)
    assert "'amount'" in msg and "2 value(s)" in msg and "row 1: '1,234.00'" in msg and "row 2: 'abc'" in msg


def test_missing_values_are_kept_for_cleaning():
    out = validate_transactions(tx(amount=[1.0, None, 2.0], timestamp=["2024-01-01", None, "2024-01-01"]))
    assert out["amount"].isna().sum() == 1 and out["timestamp"].isna().sum() == 1


def test_empty_input():
    with pytest.raises(DataValidationError, match="empty"):
        validate_transactions(tx().iloc[:0])
    with pytest.raises(DataValidationError, match="empty"):
        validate_bookings(bk().iloc[:0])
    with pytest.raises(TypeError, match="DataFrame"):
        validate_transactions([1, 2])


def test_valid_bookings_defaults_and_statuses():
    out = validate_bookings(bk())
    assert list(out.columns) == [c for c in BOOKINGS.names if c in out.columns]
    assert out["status"].tolist() == ["stayed", "cancelled", "no_show"]
    assert out["units"].tolist() == [1, 1, 1] and out["units"].dtype == np.dtype("int64")
    assert out["fare_class"].tolist() == out["segment"].tolist()
    assert out["nights"].dtype == np.dtype("int64")
    assert out["arrival_date"].dtype == np.dtype("datetime64[ns]")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Check-Out", "stayed"), ("stayed", "stayed"), ("STAYED", "stayed"), ("checked out", "stayed"),
        ("Canceled", "cancelled"), ("cancelled", "cancelled"), ("CANCELLED", "cancelled"),
        ("No-Show", "no_show"), ("no_show", "no_show"), ("no show", "no_show"), ("NoShow", "no_show"),
    ],
)
def test_status_synonyms(raw, expected):
    assert normalise_status(pd.Series([raw])).tolist() == [expected]


def test_status_outside_allowed_set_listed():
    with pytest.raises(DataValidationError) as err:
        validate_bookings(bk(status=["stayed", "Waitlisted", "pending"]))
    msg = str(err.value)
    assert "row 1: 'Waitlisted'; row 2: 'pending'" in msg and "2 value(s)" in msg
    assert "stayed" in msg and "no_show" in msg
    with pytest.raises(DataValidationError, match="missing"):
        validate_bookings(bk(status=["stayed", None, "stayed"]))


def test_negative_nights_and_units():
    with pytest.raises(DataValidationError) as err:
        validate_bookings(bk(nights=[1, -2, 3]))
    assert "'nights'" in str(err.value) and "negative" in str(err.value) and "row 1: -2" in str(err.value)
    with pytest.raises(DataValidationError, match="'units'.*negative"):
        validate_bookings(bk(units=[1, 1, -1]))


def test_nights_must_be_whole_and_present():
    with pytest.raises(DataValidationError, match="'nights'.*whole numbers.*row 0: '1.5'"):
        validate_bookings(bk(nights=[1.5, 2.0, 3.0]))
    with pytest.raises(DataValidationError, match="'nights'.*missing"):
        validate_bookings(bk(nights=[1.0, np.nan, 3.0]))
    with pytest.raises(DataValidationError, match="'rate'.*are not numbers written with decimal '.'.*'free'"):
        validate_bookings(bk(rate=["10", "free", "30"]))


def test_bookings_missing_required():
    with pytest.raises(DataValidationError) as err:
        validate_bookings(bk().drop(columns=["segment", "nights"]))
    msg = str(err.value)
    assert "'nights'" in msg and "'segment'" in msg and "columns=" in msg and "booking_id" in msg
