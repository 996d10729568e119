"""Data-quality summaries used by notebooks/00_data_quality.ipynb."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.data import quality


def _tx(days: list[int], customers: list[str], amounts: list[float] | None = None) -> pd.DataFrame:
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")  # 2024-01-01 is a Monday
    return pd.DataFrame({"customer_id": pd.array(customers, dtype="string"), "timestamp": ts,
                         "amount": amounts if amounts is not None else [1.0] * len(days)})


def test_weekly_counts_show_gaps_as_zero_weeks() -> None:
    tx = _tx([0, 1, 15, 16, 16], ["a", "b", "a", "c", "c"], [1.0, 2.0, 3.0, 4.0, 5.0])
    w = quality.transactions_per_week(tx)
    assert list(w["week"]) == list(pd.date_range("2024-01-01", periods=3, freq="7D"))
    assert list(w["transactions"]) == [2, 0, 3]
    assert list(w["customers"]) == [2, 0, 2]
    assert w["revenue"].tolist() == [3.0, 0.0, 12.0]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.sampled_from("abcdef"), st.floats(0.01, 1e4)), min_size=1, max_size=60))
def test_weekly_and_monthly_totals_add_up(rows) -> None:
    days, customers, amounts = map(list, zip(*rows))
    tx = _tx(days, customers, amounts)
    w = quality.transactions_per_week(tx)
    assert w["transactions"].sum() == len(tx)
    assert np.isclose(w["revenue"].sum(), tx["amount"].sum())
    assert (w["week"].dt.day_of_week == 0).all() and w["week"].diff().dropna().eq(pd.Timedelta(days=7)).all()
    m = quality.customers_per_month(tx)
    assert m["new_customers"].sum() == tx["customer_id"].nunique()
    assert (m["active_customers"] >= m["new_customers"]).all()
    assert m["active_customers"].max() <= tx["customer_id"].nunique()


def test_bookings_by_month_and_status() -> None:
    bk = pd.DataFrame({
        "arrival_date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-02", "2024-03-03"]),
        "status": pd.array(["stayed", "cancelled", "stayed", "waitlisted"], dtype="string"),
    })
    t = quality.bookings_by_month_status(bk)
    assert list(t.columns) == ["month", "stayed", "cancelled", "no_show", "waitlisted", "total"]
    assert list(t["month"]) == list(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    assert t["total"].tolist() == [2, 0, 2] and t["total"].sum() == len(bk)
    with pytest.raises(ValueError, match="status"):
        quality.bookings_by_month_status(bk.drop(columns="status"))


def test_record_and_headlines_from_real_cleaning() -> None:
    data = pytest.importorskip("crm_analysis.data")
    tx_raw = _tx([0, 1, 2, 3], ["a", "a", "b", None], [10.0, -5.0, 3.0, 4.0])
    bk_raw = pd.DataFrame({
        "booking_id": ["1", "2"], "booking_date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "arrival_date": pd.to_datetime(["2024-02-01", "2024-02-03"]), "nights": [2, 0], "rate": [100.0, 90.0],
        "segment": ["Direct", "Direct"], "status": ["stayed", "stayed"],
    })
    tx = data.clean_transactions(tx_raw)
    bk = data.clean_bookings(bk_raw)
    rec = quality.quality_record(tx.data, bk.data, tx.report, bk.report, sources={"transactions": {"loader": "x"}})
    assert rec["transactions"]["rows"] == len(tx.data) == tx.report.rows_out
    assert rec["transactions"]["customers"] == tx.data["customer_id"].nunique()
    heads = {k: v for k, v, _ in quality.headline_figures(rec)}
    assert heads["rows_dropped"] == tx.report.rows_dropped + bk.report.rows_dropped
    assert heads["rows_dropped"] == len(tx_raw) - len(tx.data) + len(bk_raw) - len(bk.data)
    assert heads["revenue"] == pytest.approx(tx.data["amount"].sum())
    import json

    json.dumps(rec)  # JSON-ready


def test_schema_table_lists_every_column() -> None:
    data = pytest.importorskip("crm_analysis.data")
    t = quality.schema_table(data.TRANSACTIONS)
    name = "name in the data files"  # shown as code: the one column of the reports that lists raw names
    assert list(t[name]) == [c.name for c in data.TRANSACTIONS]
    assert set(t.loc[t["required"] == "yes", name]) >= {"customer_id", "timestamp", "amount"}
    assert "datetime64[ns]" not in set(t["type"]) and "date and time" in set(t["type"])


def test_plot_coverage_titles_and_labels() -> None:
    tx = _tx([0, 40, 80], ["a", "b", "a"])
    bk = pd.DataFrame({"arrival_date": pd.to_datetime(["2024-01-05", "2024-03-02"]),
                       "status": ["stayed", "no_show"]})
    fig = quality.plot_coverage(quality.transactions_per_week(tx), quality.customers_per_month(tx),
                                quality.bookings_by_month_status(bk))
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_record_headlines_and_plot_without_bookings_or_transactions() -> None:
    data = pytest.importorskip("crm_analysis.data")
    tx = data.clean_transactions(_tx([0, 1, 8], ["a", "a", "b"], [10.0, 5.0, 3.0]))
    rec = quality.quality_record(tx.data, None, tx.report, None)
    assert rec["bookings"] is None and rec["transactions"]["rows"] == 3
    heads = {k: v for k, v, _ in quality.headline_figures(rec)}
    assert "bookings" not in heads and heads["customers"] == 2 and heads["rows_dropped"] == 0
    fig = quality.plot_coverage(quality.transactions_per_week(tx.data), quality.customers_per_month(tx.data), None)
    assert len(fig.axes) == 2 and all(ax.get_title() for ax in fig.axes)

    bk_raw = pd.DataFrame({
        "booking_id": ["1", "2"], "booking_date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "arrival_date": pd.to_datetime(["2024-02-01", "2024-02-03"]), "nights": [2, 0], "rate": [100.0, 90.0],
        "segment": ["Direct", "Direct"], "status": ["stayed", "stayed"],
    })
    bk = data.clean_bookings(bk_raw)
    rec = quality.quality_record(None, bk.data, None, bk.report)
    heads = {k: v for k, v, _ in quality.headline_figures(rec)}
    assert rec["transactions"] is None and set(heads) == {"bookings", "rows_dropped"}
    assert heads == {"bookings": 1, "rows_dropped": 1}
    fig = quality.plot_coverage(None, None, quality.bookings_by_month_status(bk.data))
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "Arrival month"
    with pytest.raises(ValueError, match="exactly for the data sets"):
        quality.quality_record(None, bk.data, tx.report, bk.report)
    with pytest.raises(ValueError, match="no data"):
        quality.plot_coverage(None, None, None)


def test_check_as_of_refuses_an_as_of_before_all_the_data():
    """Issue #11 point 11: an as_of before all data was a TypeError deep in the data-quality notebook."""
    from crm_analysis.data.quality import check_as_of

    tx = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": pd.to_datetime(["2024-03-05 10:00", "2024-04-01 09:00"]),
                       "amount": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"as_of 2024-03-04 is before all transactions: the first timestamp is "
                                         r"2024-03-05, so nothing would be analysed; set as_of .* to 2024-03-05 or later"):
        check_as_of(tx, "transactions", "2024-03-04")
    check_as_of(tx, "transactions", "2024-03-05")  # the first day itself counts (by calendar day)
    bk = pd.DataFrame({"booking_date": pd.to_datetime(["2024-06-01"]), "arrival_date": pd.to_datetime(["2024-01-01"])})
    with pytest.raises(ValueError, match="before all bookings: the first booking_date is 2024-06-01"):
        check_as_of(bk, "bookings", "2024-05-31")  # what was known at as_of: the booking date
    check_as_of(None, "bookings", "2000-01-01")  # no data of this kind: nothing to check


def test_check_cleaned_names_the_rules_that_dropped_everything():
    from crm_analysis.data import CleaningPolicy, clean_transactions
    from crm_analysis.data.quality import check_cleaned

    tx = pd.DataFrame({"customer_id": pd.array(["a", None, "c"], dtype="string"),
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-01"]),
                       "amount": [1.0, 2.0, 3.0]})
    kept = clean_transactions(tx, policy=CleaningPolicy(observation_end="2024-12-31"))
    check_cleaned(kept)  # rows left: fine
    empty = clean_transactions(tx, policy=CleaningPolicy(observation_end="2023-12-31"))
    assert len(empty.data) == 0
    with pytest.raises(ValueError) as err:
        check_cleaned(empty)
    msg = str(err.value)
    assert msg.startswith("the cleaning dropped all 3 transactions: ")
    assert "1 missing_customer_id" in msg and "2 after_observation_end" in msg and "transactions_policy" in msg


def test_partial_first_and_last_months_are_marked() -> None:
    """Online Retail runs from 1 Dec 2010 to 9 Dec 2011: December 2011 is partial, December 2010 complete."""
    start = pd.Timestamp("2010-12-01")
    tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
                       "timestamp": [start, pd.Timestamp("2011-06-15"), pd.Timestamp("2011-12-09 12:00")],
                       "amount": [1.0, 2.0, 3.0]})
    m = quality.customers_per_month(tx)
    assert m.loc[~m["complete"], "month"].dt.strftime("%Y-%m").tolist() == ["2011-12"]
    fig = quality.plot_coverage(quality.transactions_per_week(tx), m, None)
    assert "partial month 2011-12" in fig.axes[1].get_title()
    tx2 = tx.assign(timestamp=tx["timestamp"] + pd.Timedelta(days=3))  # 4 Dec 2010 .. 12 Dec 2011: both ends partial
    assert quality.customers_per_month(tx2)["complete"].tolist()[0] is False
    assert (~quality.customers_per_month(tx2)["complete"]).sum() == 2
