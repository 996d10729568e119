"""Booking records the booking horizon cannot place are refused by every entry point, naming the fix.

Before these checks each kind below was counted wrongly without a word (newcomer findings F1, issue 14):
a booking without a booking date or made after its arrival vanished from the curves (even from the final
count) and was replayed after its night; a status such as "Canceled" counted as a stay; a cancellation
date on a stayed booking took the stay off the books; nights or units of 0 made the FCFS replay walk a
guest without overbooking while a room stayed empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import on_the_books
from crm_analysis.yield_management import (
    HorizonParams,
    ReplayPolicy,
    booking_curves,
    bookings_on_hand,
    replay_policies,
    run_booking_horizon,
    show_rates_by_days_out,
)


def _bookings() -> pd.DataFrame:
    b = pd.DataFrame({
        "booking_id": ["a", "b", "c", "d", "e"],
        "booking_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-06", "2024-01-07"]),
        "arrival_date": pd.to_datetime(["2024-01-10", "2024-01-10", "2024-01-10", "2024-01-10", "2024-01-11"]),
        "nights": [2, 1, 1, 1, 1],
        "rate": [100.0, 100.0, 90.0, 100.0, 80.0],
        "segment": ["A", "A", "B", "A", "B"],
        "status": ["stayed", "cancelled", "stayed", "stayed", "no_show"],
        "units": [1, 1, 2, 1, 1],
        "cancellation_date": pd.to_datetime([None, "2024-01-05", None, None, None]),
    })
    b["fare_class"] = b["segment"]
    return b


def _set(col: str, row: int, value: object):
    def f(b: pd.DataFrame) -> pd.DataFrame:
        b = b.copy()
        b[col] = b[col].astype("object") if isinstance(value, str) and col == "status" else b[col]
        b.loc[row, col] = value
        return b
    return f


#: kind -> (how to break the frame, words the message must hold)
BAD = {
    "no booking date": (_set("booking_date", 0, pd.NaT), ["no booking_date", "missing_values='drop'", "booking_id a"]),
    "no arrival date": (_set("arrival_date", 2, pd.NaT), ["no arrival_date", "booking_id c"]),
    "negative lead time": (_set("booking_date", 3, pd.Timestamp("2024-01-12")),
                           ["after their arrival date", "booking_after_arrival='drop'", "booking_id d"]),
    "unknown status": (_set("status", 0, "Canceled"), ["status", "'Canceled'", "normalise_status"]),
    "cancellation date on a stay": (_set("cancellation_date", 0, pd.Timestamp("2024-01-04")),
                                    ["not cancelled", "inconsistent_cancellation='drop'"]),
    "cancelled before booked": (_set("cancellation_date", 1, pd.Timestamp("2023-12-20")),
                                ["cancelled before they were made"]),
    "cancelled after arrival": (_set("cancellation_date", 1, pd.Timestamp("2024-01-12")),
                                ["cancelled after their arrival date", "no_show"]),
    "zero nights": (_set("nights", 0, 0), ["nights", "zero_nights='drop'", "booking_id a"]),
    "negative units": (_set("units", 0, -1), ["units", ">= 1"]),
    "zero units": (_set("units", 2, 0), ["units", ">= 1"]),
}


def _entry_points():
    nights = pd.date_range("2024-01-10", "2024-01-11")
    return {
        "booking_curves": lambda b: booking_curves(b, start="2024-01-10", end="2024-01-11", max_lead=10),
        "show_rates_by_days_out": lambda b: show_rates_by_days_out(b, start="2024-01-10", end="2024-01-11", max_lead=10),
        "bookings_on_hand": lambda b: bookings_on_hand(b, nights, 3),
        "replay_policies": lambda b: replay_policies(b, [ReplayPolicy("fcfs")], capacity=2, start="2024-01-10",
                                                     end="2024-01-11"),
        "run_booking_horizon": lambda b: run_booking_horizon(b, HorizonParams(as_of="2024-01-11", capacity=4)),  # holds 4
        # the pick-up candidate of the seasonality forecaster reads the books too
        "on_the_books": lambda b: on_the_books(b, start="2024-01-10", end="2024-01-11", max_lead=10),
    }


@pytest.mark.parametrize("entry", list(_entry_points()))
def test_the_valid_frame_passes_the_checks(entry: str) -> None:
    """The unbroken frame is not refused by the record checks (run_booking_horizon then asks for more nights)."""
    f = _entry_points()[entry]
    if entry == "run_booking_horizon":
        with pytest.raises(ValueError, match="training nights"):
            f(_bookings())
    else:
        f(_bookings())


# run_booking_horizon leaves day-use (zero-night) bookings out and counts them (test_booking_horizon);
# on_the_books leaves them out (they hold no room-night; as arrivals they count)
@pytest.mark.parametrize("entry, kind", [(e, k) for e in _entry_points() for k in BAD
                                         if not (e in ("run_booking_horizon", "on_the_books") and k == "zero nights")])
def test_each_kind_of_bad_record_is_refused_with_its_fix(entry: str, kind: str) -> None:
    breaker, words = BAD[kind]
    with pytest.raises(ValueError) as e:
        _entry_points()[entry](breaker(_bookings()))
    msg = str(e.value)
    assert entry in msg, msg  # names the function that refused
    for w in words:
        assert w in msg, (w, msg)


def test_replay_refuses_a_missing_rate_and_repeated_ids() -> None:
    b = _bookings()
    b.loc[0, "rate"] = np.nan
    with pytest.raises(ValueError, match=r"rate is missing or not finite for 1 of 5 .*booking_id a"):
        replay_policies(b, [ReplayPolicy("fcfs")], capacity=2, start="2024-01-10", end="2024-01-11")
    b = pd.concat([_bookings(), _bookings().iloc[[4]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"2 of 6 booking\(s\) share a booking_id .*duplicates='drop'"):
        replay_policies(b, [ReplayPolicy("fcfs")], capacity=2, start="2024-01-10", end="2024-01-11")


def test_an_undated_cancellation_is_held_until_arrival_and_counted() -> None:
    """The one tolerated kind: held until arrival (what the hotel saw), said in the notes."""
    b = _bookings()
    b.loc[1, "cancellation_date"] = pd.NaT
    c = booking_curves(b, start="2024-01-10", end="2024-01-11", max_lead=10)
    assert any("1 cancelled booking(s) without a cancellation date" in n for n in c.rooms.notes)
    a = c.rooms.series.index("A")
    # booking b (1 room, made 8 days out) is on the books from 8 days out to the night itself
    assert c.rooms.values[0, 8, a] == 2 and c.rooms.values[0, 0, a] == 3  # a + b + d on the night


def test_row_order_and_a_cancellation_on_the_arrival_day_are_fine() -> None:
    b = _bookings()
    b.loc[1, "cancellation_date"] = pd.Timestamp("2024-01-10")  # cancelled on the arrival day: allowed
    c1 = booking_curves(b, start="2024-01-10", end="2024-01-11", max_lead=10)
    c2 = booking_curves(b.iloc[::-1], start="2024-01-10", end="2024-01-11", max_lead=10)
    np.testing.assert_array_equal(c1.rooms.values, c2.rooms.values)
    a = c1.rooms.series.index("A")
    assert c1.rooms.values[0, 0, a] == 2 and c1.rooms.values[0, 1, a] == 3  # off the books at the end of the day


@pytest.mark.parametrize("entry", ["booking_curves", "show_rates_by_days_out", "on_the_books"])
def test_each_entry_point_checks_the_records_once_under_its_own_name(entry: str, monkeypatch) -> None:
    """Issue #13: on_the_books is split into the checked public function and an unchecked internal one,
    which booking_curves and show_rates_by_days_out call after their own check (was: checked 2-4 times)."""
    import crm_analysis.data.booking_records as records
    import crm_analysis.seasonality.pickup as pickup
    import crm_analysis.yield_management.horizon as horizon
    import crm_analysis.yield_management.replay as replay

    calls: list[str] = []

    def counting(bookings, **kwargs):
        calls.append(kwargs["what"])
        return records.check_booking_records(bookings, **kwargs)

    for module in (pickup, horizon, replay):
        monkeypatch.setattr(module, "check_booking_records", counting)
    _entry_points()[entry](_bookings())
    assert calls == [entry]


def test_the_unchecked_on_the_books_equals_the_checked_one_on_checked_records() -> None:
    from crm_analysis.seasonality.pickup import _on_the_books

    for measure in ("room_nights", "arrivals"):
        kw = dict(start="2024-01-09", end="2024-01-12", max_lead=10, measure=measure, by="segment")
        a, b = on_the_books(_bookings(), **kw), _on_the_books(_bookings(), **kw)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.series == b.series and a.notes == b.notes and a.values.sum() > 0
