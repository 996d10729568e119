"""Cleaning: every dropped row is counted once, under the first rule that removed it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.data import (
    BookingCleaningPolicy,
    CleaningPolicy,
    clean_bookings,
    clean_transactions,
    validate_bookings,
    validate_transactions,
)


def _hand_made() -> pd.DataFrame:
    rows = [
        # customer, timestamp, amount, order_id, quantity -> expected reason
        ("a", "2024-01-05", 10.0, "1", 1, None),
        ("a", "2024-01-05", 10.0, "1", 1, "exact_duplicate"),
        (None, "2024-01-06", -4.0, "C2", -1, "missing_customer_id"),  # also a return: first rule wins
        ("b", "2023-12-31", 5.0, "3", 1, "before_observation_start"),
        ("b", "2024-02-01 00:00:01", 5.0, "4", 1, "after_observation_end"),
        ("b", "2024-01-31 23:59", 5.0, "5", 1, None),  # last day is inclusive
        ("c", "2024-01-07", 3.0, "C6", 1, "return_or_cancellation"),  # prefix only (opted in below)
        ("c", "2024-01-07", -3.0, "7", -1, "return_or_cancellation"),
        ("c", "2024-01-08", 0.0, "8", 1, "nonpositive_amount"),
        ("d", None, 2.0, "9", 1, "missing_timestamp_or_amount"),
        (" ", "2024-01-09", 2.0, "10", 1, "missing_customer_id"),  # stripped to "" when read: blank
        ("e", "2024-01-10", np.inf, "11", 1, "nonfinite_amount"),
        ("e", "2024-01-10", 1.0, "12", -np.inf, "nonfinite_amount"),
        ("Total", "2024-01-11", 30.0, "13", 1, "totals_row"),  # a spreadsheet's totals line
        (None, "2024-01-11", 30.0, " Grand TOTAL: ", 1, "totals_row"),  # label in the order id, no customer
        ("f", "2024-01-12", 5.5, "15", -1, "sign_mismatch"),  # sale or return? cannot be told
        ("Totally Ltd", "2024-01-12", 4.0, "16", 1, None),  # a customer whose name starts with "Total"
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id", "quantity", "expected"])
    return df


POLICY = CleaningPolicy(observation_start="2024-01-01", observation_end="2024-01-31", cancellation_prefix="C")


def test_hand_made_frame_reasons():
    raw = _hand_made()
    df = validate_transactions(raw.drop(columns="expected"))
    res = clean_transactions(df, policy=POLICY)
    expected = raw["expected"].value_counts().to_dict()
    assert res.report.dropped == {
        r: expected.get(r, 0)
        for r in ["missing_timestamp_or_amount", "nonfinite_amount", "totals_row", "missing_customer_id",
                  "before_observation_start", "after_observation_end", "sign_mismatch", "return_or_cancellation",
                  "nonpositive_amount", "exact_duplicate"]
    }
    assert res.reasons.fillna("kept").tolist() == raw["expected"].fillna("kept").tolist()
    assert res.report.rows_in == 17 and res.report.rows_out == 3
    full = res.report.table()
    assert list(full.columns) == ["step", "reason", "action", "rows", "amount", "rows_remaining", "description"]
    # the change made when reading (" " -> "") is listed first, as step 0, and drops nothing
    changed = full[full.action == "changed"]
    assert changed[["step", "reason", "rows"]].values.tolist() == [[0, "customer_id: whitespace_stripped", 1],
                                                                   [0, "order_id: whitespace_stripped", 1]]
    assert np.isfinite(res.report.amount_in)  # infinite amounts count as rows, not as money
    table = full[full.action != "changed"]
    assert table["step"].tolist() == list(range(1, 11))
    assert table.loc[table.reason == "return_or_cancellation", "amount"].item() == pytest.approx(0.0)  # 3 + -3
    assert table.loc[table.reason == "missing_customer_id", "amount"].item() == pytest.approx(-2.0)
    # rows_remaining decreases by the rows dropped at each step
    assert (np.diff([17, *table["rows_remaining"]]) == -table["rows"]).all()
    assert table.loc[table.reason == "totals_row", "amount"].item() == pytest.approx(60.0)
    json.loads(json.dumps(res.report.to_dict()))
    assert "return_or_cancellation" in str(res.report)


def test_return_only_days_kept_are_counted_and_are_purchase_days():
    """n12 finding F8: with returns: keep a day with only returns is a purchase day of rfm_summary (a repeat
    purchase when not the first day); the report counts those customer-days (step return_only_day)."""
    from crm_analysis.rfm import rfm_summary

    df = pd.DataFrame({
        "customer_id": pd.array(["a", "a", "a", "b", "b", "c", "d", "d"], dtype="string"),
        "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-05 09:00", "2024-01-05 12:00", "2024-01-01 00:00",
                                     "2024-01-03 00:00", "2024-01-02 00:00", "2024-01-04 08:00", "2024-01-04 09:00"]),
        "amount": [10.0, -4.0, -1.0, 5.0, 3.0, -2.0, 7.0, -2.0],
    })
    res = clean_transactions(df, policy=CleaningPolicy(returns="keep"))
    step = res.report.table().set_index("reason").loc["return_only_day"]
    # a on 5 Jan (two return lines), c on 2 Jan; d's 4 Jan mixes a purchase and a return: not return-only
    assert (step["action"], step["rows"], step["amount"]) == ("keep", 3, -7.0)
    assert step["description"].startswith("2 customer-day(s) with returns only")
    res.report.check()
    summary = rfm_summary(res.data, observation_end="2024-01-10", time_unit="D")
    assert summary.loc["a", "frequency"] == 1 and summary.loc["a", "recency"] == 4.0  # the return day is a repeat day
    assert "return_only_day" not in set(clean_transactions(df).report.table()["reason"])  # only with returns: keep


def test_keep_actions_flag_but_keep():
    df = validate_transactions(_hand_made().drop(columns="expected"))
    res = clean_transactions(df, policy=CleaningPolicy(returns="keep", duplicates="keep", null_customer="keep",
                                                cancellation_prefix=None))
    t = res.report.table().set_index("reason")
    assert t.loc["return_or_cancellation", "action"] == "keep"
    assert t.loc["return_or_cancellation", "rows"] == 2  # the 'C6' line no longer counts (no prefix)
    assert t.loc["before_observation_start", "action"] == "off"
    assert res.report.dropped == {"missing_timestamp_or_amount": 1, "nonfinite_amount": 2, "nonpositive_amount": 1,
                                  "totals_row": 2, "sign_mismatch": 1}
    assert res.report.rows_out == 10 and (res.data["amount"] < 0).sum() == 2
    kept = clean_transactions(df, policy=CleaningPolicy(totals_rows="keep", sign_mismatch="keep")).report.table()
    assert kept.set_index("reason").loc[["totals_row", "sign_mismatch"], "rows"].tolist() == [2, 1]
    assert kept.set_index("reason").loc[["totals_row", "sign_mismatch"], "action"].tolist() == ["keep", "keep"]


def test_policy_validation():
    with pytest.raises(ValueError, match="returns must be 'drop' or 'keep'"):
        CleaningPolicy(returns="net")
    with pytest.raises(ValueError, match="after observation_end"):
        CleaningPolicy(observation_start="2024-02-01", observation_end="2024-01-01")
    with pytest.raises(ValueError, match="not a date"):
        BookingCleaningPolicy(observation_end="soon")
    with pytest.raises(ValueError, match=r"missing column\(s\) .* in the transactions to clean.*Cleaning needs the canonical columns"):
        clean_transactions(pd.DataFrame({"x": [1]}))


actions = st.sampled_from(["drop", "keep"])


@st.composite
def dirty_frames(draw):
    n = draw(st.integers(1, 40))
    cust = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    day = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    qty = draw(st.lists(st.integers(-2, 3), min_size=n, max_size=n))
    price = draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, -1.0]), min_size=n, max_size=n))
    order = draw(st.lists(st.sampled_from(["1", "2", "C3", "C4", "5"]), min_size=n, max_size=n))
    df = pd.DataFrame({"customer_id": cust, "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D"),
                       "order_id": order, "quantity": qty, "unit_price": price})
    return validate_transactions(df)


@settings(max_examples=30, deadline=None)
@given(dirty_frames(), actions, actions, actions, actions, st.sampled_from([None, "C"]),
       st.sampled_from([None, "2024-01-10"]), st.sampled_from([None, "2024-02-15"]))
def test_cleaning_accounts_for_every_row(df, returns, null_customer, nonpositive, duplicates, prefix, start, end):
    policy = CleaningPolicy(returns=returns, null_customer=null_customer, nonpositive_amount=nonpositive,
                            duplicates=duplicates, cancellation_prefix=prefix, observation_start=start,
                            observation_end=end)
    res = clean_transactions(df, policy=policy)
    rep = res.report
    assert rep.rows_in == len(df) == rep.rows_out + sum(rep.dropped.values())
    assert rep.rows_out == len(res.data)
    # each dropped row has exactly one reason, and the reasons add up to the report
    counts = res.reasons.value_counts().to_dict()
    assert {k: v for k, v in rep.dropped.items() if v} == counts
    assert rep.amount_in == pytest.approx(rep.amount_out + sum(s.amount for s in rep.steps if s.action == "drop"))
    out = res.data
    if null_customer == "drop":
        assert out["customer_id"].notna().all()
    if returns == "drop":
        assert not ((out["quantity"] < 0) | (out["amount"] < 0)).any()
        if prefix:
            assert not out["order_id"].str.startswith("C").any()
    if nonpositive == "drop" and returns == "drop":
        assert (out["amount"] > 0).all()
    if duplicates == "drop":
        assert not out.duplicated().any()
    if start:
        assert (out["timestamp"] >= pd.Timestamp(start)).all()
    if end:
        assert (out["timestamp"] < pd.Timestamp(end) + pd.Timedelta(days=1)).all()
    # the rows kept are exactly the input rows without a reason, in order
    kept = df[res.reasons.isna().to_numpy()].reset_index(drop=True)
    pd.testing.assert_frame_equal(out, kept)


def _bookings() -> pd.DataFrame:
    rows = [
        ("1", "2024-01-01", "2024-02-01", 2, 100.0, "stayed", None),
        ("1", "2024-01-01", "2024-02-01", 2, 100.0, "stayed", "duplicate_booking_id"),
        ("2", "2024-03-01", "2024-02-01", 2, 100.0, "stayed", "booking_after_arrival"),
        ("3", "2024-01-01", "2024-02-01", 0, 100.0, "stayed", "zero_nights"),
        ("4", "2024-01-01", "2024-02-01", 3, 0.0, "stayed", "nonpositive_rate"),
        ("5", "2024-01-01", "2024-02-01", 3, 0.0, "cancelled", None),  # not stayed: kept
        ("6", "2023-01-01", "2023-06-01", 3, 50.0, "stayed", "before_observation_start"),
        ("7", "2024-01-01", "2025-06-01", 3, 50.0, "stayed", "after_observation_end"),
        ("8", None, "2024-02-01", 3, 50.0, "stayed", "missing_values"),
    ]
    return pd.DataFrame(rows, columns=["booking_id", "booking_date", "arrival_date", "nights", "rate", "status",
                                       "expected"]).assign(segment="Direct")


def test_inconsistent_cancellation_dates_are_counted():
    rows = [  # booking, booked, arrives, status, cancelled on -> expected reason
        ("1", "2024-01-10", "2024-02-01", "cancelled", "2024-01-20", None),
        ("2", "2024-01-10", "2024-02-01", "cancelled", "2024-01-10", None),  # cancelled the day it was booked
        ("3", "2024-01-10", "2024-02-01", "cancelled", "2024-01-09", "inconsistent_cancellation"),
        ("4", "2024-01-10", "2024-02-01", "stayed", "2024-01-20", "inconsistent_cancellation"),
        ("5", "2024-01-10", "2024-02-01", "no_show", "2024-01-20", "inconsistent_cancellation"),
        ("6", "2024-01-10", "2024-02-01", "stayed", None, None),
        ("7", "2024-03-10", "2024-02-01", "cancelled", "2024-01-01", "booking_after_arrival"),  # first rule wins
    ]
    raw = pd.DataFrame(rows, columns=["booking_id", "booking_date", "arrival_date", "status", "cancellation_date",
                                      "expected"]).assign(segment="Direct", nights=2, rate=80.0)
    df = validate_bookings(raw.drop(columns="expected"))
    res = clean_bookings(df)
    assert res.reasons.fillna("kept").tolist() == raw["expected"].fillna("kept").tolist()
    assert res.report.dropped["inconsistent_cancellation"] == 3
    kept = clean_bookings(df, policy=BookingCleaningPolicy(inconsistent_cancellation="keep"))
    assert kept.report.rows_out == 6 and kept.report.table().set_index("reason").loc[
        "inconsistent_cancellation", "rows"] == 3
    # without a cancellation_date column the rule has nothing to look at
    assert clean_bookings(validate_bookings(raw.drop(columns=["expected", "cancellation_date"]))).report.dropped[
        "inconsistent_cancellation"] == 0


def test_clean_bookings_reasons():
    raw = _bookings()
    df = validate_bookings(raw.drop(columns="expected"))
    res = clean_bookings(df, policy=BookingCleaningPolicy(observation_start="2024-01-01", observation_end="2024-12-31"))
    assert res.reasons.fillna("kept").tolist() == raw["expected"].fillna("kept").tolist()
    assert res.report.rows_out == 2 and res.report.rows_in == 9
    res.report.check()
    t = res.report.table().set_index("reason")
    assert t.loc["duplicate_booking_id", "amount"] == pytest.approx(200.0)
    assert t.loc["after_observation_end", "amount"] == pytest.approx(150.0)
