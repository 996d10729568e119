"""Booking curves and pick-up forecasts: hand-computed tables, no look-ahead, backtest bookkeeping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.yield_management.horizon import (
    PICKUP_METHODS,
    booking_curves,
    pickup_backtest,
    pickup_forecasts,
)


def _bk(rows):
    df = pd.DataFrame(rows, columns=["booking_id", "booking_date", "arrival_date", "nights", "status",
                                     "cancellation_date", "segment"])
    for c in ("booking_date", "arrival_date", "cancellation_date"):
        df[c] = pd.to_datetime(df[c])
    df["rate"] = 100.0
    df["units"] = 1
    return df


def test_booking_curve_by_hand():
    # night 2024-01-10; A booked 5 days before (stays 2 nights: 10th and 11th), B booked 3 days before
    # and cancelled 1 day before, C (other segment) booked 2 days before, D booked on the night
    b = _bk([
        ("A", "2024-01-05", "2024-01-10", 2, "stayed", None, "x"),
        ("B", "2024-01-07", "2024-01-10", 1, "cancelled", "2024-01-09", "x"),
        ("C", "2024-01-08", "2024-01-10", 1, "stayed", None, "y"),
        ("D", "2024-01-10", "2024-01-10", 1, "no_show", None, "x"),
    ])
    c = booking_curves(b, start="2024-01-10", end="2024-01-11", max_lead=6)
    x = c.rooms.values[0, :, c.rooms.series.index("x")]
    y = c.rooms.values[0, :, c.rooms.series.index("y")]
    # days before: 0  1  2  3  4  5  6
    assert x.tolist() == [2, 1, 2, 2, 1, 1, 0]  # A from 5; B on the books at 3 and 2, gone from 1; D at 0
    assert y.tolist() == [1, 1, 1, 0, 0, 0, 0]
    # night 11: only A (booked 6 days before the 11th)
    assert c.rooms.values[1, :, c.rooms.series.index("x")].tolist() == [1] * 7
    # arrivals on the 10th: the same bookings, by arrival date
    assert c.arrivals.values[0, :, c.arrivals.series.index("x")].tolist() == [2, 1, 2, 2, 1, 1, 0]
    long = c.frame(days_before=[0, 3])
    assert len(long) == 2 * 2 * 2
    sel = (long["series"] == "x") & (long["days_before"] == 3) & (long["night"] == pd.Timestamp("2024-01-10"))
    assert long.loc[sel, "rooms"].item() == 2


# hand-made on-the-books table: 4 nights, leads 0..2 (otb[t, h])
OTB = np.array([
    [10.0, 6.0, 4.0],
    [12.0, 8.0, 5.0],
    [9.0, 7.0, 3.0],
    [0.0, 6.0, 2.0],  # night 3: only its lead-2 value (2) and lead-1 value (6) are used below
])


def test_pickup_arithmetic_by_hand():
    # origin 1 (nights 0 and 1 complete), window 2, forecast nights 2 (h=1) and 3 (h=2)
    f = {m: pickup_forecasts(OTB, 1, 2, method=m, window=2) for m in PICKUP_METHODS}
    # classical additive: pickup(1) = mean(10-6, 12-8) = 4; pickup(2) = mean(10-4, 12-5) = 6.5
    np.testing.assert_allclose(f["classical_additive"], [7 + 4, 2 + 6.5])
    # classical multiplicative: (10+12)/(6+8) and (10+12)/(4+5)
    np.testing.assert_allclose(f["classical_multiplicative"], [7 * 22 / 14, 2 * 22 / 9])
    # advanced additive: step 1->0 over nights <= 1 (0, 1): mean(4, 4) = 4;
    # step 2->1 over nights <= 2 (1, 2): mean(8-5, 7-3) = 3.5
    np.testing.assert_allclose(f["advanced_additive"], [7 + 4, 2 + 3.5 + 4])
    # advanced multiplicative: (10+12)/(6+8) and (8+7)/(5+3)
    np.testing.assert_allclose(f["advanced_multiplicative"], [7 * 22 / 14, 2 * (15 / 8) * (22 / 14)])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), origin=st.integers(3, 12), method=st.sampled_from(PICKUP_METHODS),
       window=st.integers(1, 10))
def test_pickup_uses_only_what_is_known_at_the_origin(seed, origin, method, window):
    rng = np.random.default_rng(seed)
    n, L, H = 30, 8, 7
    otb = rng.integers(0, 20, (n, L)).astype(float)
    f = pickup_forecasts(otb, origin, H, method=method, window=window)
    t = np.arange(n)[:, None]
    h = np.arange(L)[None, :]
    unknown = t - h > origin  # booked after the end of the origin day
    changed = np.where(unknown, rng.integers(0, 50, (n, L)), otb)
    np.testing.assert_array_equal(pickup_forecasts(changed, origin, H, method=method, window=window), f)
    assert not np.allclose(changed, otb) or not unknown.any()


def test_pickup_recovers_a_constant_pickup():
    # every night picks up exactly 3 rooms from each lead to the next: additive methods are exact
    n, L = 40, 10
    final = np.arange(n) % 7 + 30.0
    otb = final[:, None] - 3.0 * np.arange(L)[None, :]
    for m in ("classical_additive", "advanced_additive"):
        np.testing.assert_allclose(pickup_forecasts(otb, 20, 9, method=m, window=14), final[21:30])


def test_pickup_bad_arguments():
    with pytest.raises(ValueError, match="method must be one of"):
        pickup_forecasts(OTB, 1, 2, method="additive")
    with pytest.raises(ValueError, match="does not cover"):
        pickup_forecasts(OTB, 1, 3)
    with pytest.raises(ValueError, match="window"):
        pickup_forecasts(OTB, 1, 2, window=0)


def test_backtest_rows_and_errors():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(400):
        arr = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 120)))
        lead = int(rng.integers(0, 40))
        rows.append((f"b{i}", arr - pd.Timedelta(days=lead), arr, 1, "stayed", None, "x"))
    c = booking_curves(_bk(rows), start="2024-01-01", end="2024-04-29", max_lead=30)
    origins = pd.date_range("2024-02-20", "2024-03-10")
    bt = pickup_backtest(c.rooms, origins=origins, days_before=(14, 7, 1), window=28)
    assert set(bt.errors["method"]) == set(PICKUP_METHODS)
    assert (bt.errors["nights"] == len(origins)).all()
    p = bt.predictions
    # recompute one error by hand
    g = p[(p.method == "advanced_additive") & (p.days_before == 7)]
    assert bt.errors.query("method == 'advanced_additive' and days_before == 7")["mae"].item() == pytest.approx(
        (g.forecast - g.actual).abs().mean())
    assert ((p.night - p.origin).dt.days == p.days_before).all()
    with pytest.raises(ValueError, match="max_lead"):
        pickup_backtest(c.rooms, origins=origins, days_before=(60,))
    bl = pd.DataFrame({"origin": origins[:2], "night": origins[:2] + pd.Timedelta(days=7), "yhat": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"missing column\(s\) \['forecast'\] in baseline; "):  # was a bare KeyError
        pickup_backtest(c.rooms, origins=origins, days_before=(14, 7, 1), window=28, baseline=bl)
    bt2 = pickup_backtest(c.rooms, origins=origins, days_before=(14, 7, 1), window=28,
                          baseline=bl.rename(columns={"yhat": "forecast"}))
    assert any("scored on 2 (origin, night) pairs, the pick-up methods on" in n for n in bt2.notes)
    same = bt2.on_nights_of("time_series")
    assert set(same.errors["nights"]) == {2} and same.errors["days_before"].unique().tolist() == [7]
