import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import booking_series, decompose, transaction_series

from .conftest import make_bookings


def _tx(dates, customers=None, amounts=None, orders=None):
    n = len(dates)
    return pd.DataFrame(
        {
            "customer_id": customers or [f"c{i % 3}" for i in range(n)],
            "timestamp": pd.to_datetime(dates),
            "amount": amounts or [10.0] * n,
            "order_id": orders or [f"o{i}" for i in range(n)],
        }
    )


def test_room_nights_conservation(bookings):
    s = booking_series(bookings, measure="room_nights")
    kept = bookings[bookings["status"] != "cancelled"]
    assert s.values.sum() == pytest.approx((kept["units"] * kept["nights"]).sum())
    assert s.excluded["cancelled"] == (bookings["status"] == "cancelled").sum()


def test_grouped_room_nights_and_revenue_conservation(bookings):
    kept = bookings[bookings["status"] != "cancelled"]
    s = booking_series(bookings, measure="room_nights", by="segment")
    per = (kept["units"] * kept["nights"]).groupby(kept["segment"]).sum()
    for seg, v in per.items():
        assert s.values[seg].sum() == pytest.approx(v)
    r = booking_series(bookings, measure="revenue", include_cancelled=True)
    assert r.values.sum() == pytest.approx((bookings["rate"] * bookings["units"] * bookings["nights"]).sum())


def test_stay_dates_spread_over_nights():
    b = make_bookings(n=1)
    b.loc[0, ["nights", "units", "status"]] = [3, 2, "stayed"]
    s = booking_series(b, measure="room_nights")
    assert s.values.tolist() == [2.0, 2.0, 2.0]
    assert s.values.index[0] == b.loc[0, "arrival_date"]


def test_arrivals_and_booking_date_counts(bookings):
    kept = bookings[bookings["status"] != "cancelled"]
    a = booking_series(bookings, measure="arrivals")
    assert a.values.sum() == len(kept)
    assert a.values.loc[kept["arrival_date"].min()] == (kept["arrival_date"] == kept["arrival_date"].min()).sum()
    bk = booking_series(bookings, measure="bookings")
    assert bk.start == kept["booking_date"].min()


def test_zero_fill_counts_and_explicit_calendar():
    tx = _tx(["2024-01-01", "2024-01-04"])
    s = transaction_series(tx, measure="orders", start="2023-12-30", end="2024-01-05")
    assert len(s.values) == 7 and s.filled_days == 5
    assert s.values.loc["2024-01-02"] == 0
    assert not s.values.isna().any()


def test_closed_days_are_interpolated_and_reported():
    # open Mon-Fri, closed weekends, plus a closed Wednesday
    days = pd.date_range("2024-01-01", "2024-01-31")
    open_days = [d for d in days if d.day_of_week < 5 and d != pd.Timestamp("2024-01-17")]
    tx = _tx(open_days)
    s = transaction_series(tx, measure="lines", fill="closed", closed_weekdays=["Saturday", 6], closed_dates=["2024-01-17"])
    assert len(s.closed_days) == 8 + 1
    assert s.interpolated_days == 9 and s.filled_days == 0
    assert not s.values.isna().any()
    assert (s.values == 1).all()  # interpolated between open days with 1 line each
    assert len(s.open_values()) == len(days) - 9
    assert any("interpolated" in n for n in s.notes)


def test_closed_without_declaration_takes_empty_days():
    tx = _tx(["2024-01-01", "2024-01-02", "2024-01-05"])
    s = transaction_series(tx, measure="revenue", fill="closed")
    assert list(s.closed_days.strftime("%d")) == ["03", "04"]
    assert s.filled_days == 0


def test_nan_trap_never_all_nan():
    days = pd.date_range("2024-01-01", periods=60).delete(30)
    tx = _tx([d for d in days for _ in range(1 + d.day_of_week)])
    s = transaction_series(tx, measure="lines", fill="closed")
    assert s.interpolated_days == 1
    d = decompose(s, periods=7)
    assert np.isfinite(d.to_frame().to_numpy()).all()
    assert "interpolated" in " ".join(d.notes)


def test_weekly_full_weeks_and_distinct_customers():
    dates = pd.date_range("2024-01-03", "2024-01-30")  # Wed .. Tue
    tx = _tx(list(dates), customers=["a"] * len(dates))
    s = transaction_series(tx, measure="customers", freq="W")
    assert list(s.values.index.day_of_week.unique()) == [0]
    assert s.values.tolist() == [1.0, 1.0, 1.0]  # one distinct customer per full week
    assert s.excluded["events in partial edge weeks"] == 5 + 2


def test_bad_options():
    tx = _tx(["2024-01-01"])
    with pytest.raises(ValueError, match="measure"):
        transaction_series(tx, measure="profit")
    with pytest.raises(ValueError, match="fill"):
        transaction_series(tx, fill="nan")
    with pytest.raises(ValueError, match="need fill='closed'"):
        transaction_series(tx, closed_weekdays=[5])
    with pytest.raises(ValueError, match="missing column"):
        booking_series(tx)


def test_plot_returns_figure(bookings):
    from matplotlib.figure import Figure

    assert isinstance(booking_series(bookings, by="segment").plot(), Figure)
