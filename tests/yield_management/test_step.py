"""The yield step reads what is known at as_of, and names a group stay outside the forecast (findings_13d H13, H14).

The forecasts are made by hand (a flat demand per class over four weeks after as_of): these tests are about which
bookings and dates the step reads, not about the forecaster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.exceptions import InputError
from crm_analysis.synthetic import generate_bookings
from crm_analysis.yield_management import YieldParams, run_yield
from crm_analysis.yield_management.overbooking import show_rates
from crm_analysis.yield_management.seasons import fares_from_bookings

AS_OF = "2023-12-31"


@pytest.fixture(scope="module")
def bookings() -> pd.DataFrame:
    """The built-in hotel's bookings, arriving three months past as_of (as the hotels chain keeps August)."""
    return generate_bookings(start="2023-01-01", end="2024-03-31", seed=3).bookings


@pytest.fixture(scope="module")
def forecasts(bookings) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=28, freq="D")
    classes = sorted(bookings["fare_class"].astype(str).unique())
    rows = pd.MultiIndex.from_product([dates, classes], names=["date", "fare_class"]).to_frame(index=False)
    mean = np.linspace(10.0, 40.0, len(classes))[rows["fare_class"].map(classes.index)] * (1 + 0.3 * (
        rows["date"].dt.day_of_week >= 4))
    return rows.assign(mean=mean, std=0.3 * mean, lower=0.5 * mean, upper=1.5 * mean, model="flat",
                       unconstrained=False)


def _known(b: pd.DataFrame) -> pd.DataFrame:
    """An independent cut: made and arriving by as_of (days inclusive)."""
    end = pd.Timestamp(AS_OF)
    return b[(b["arrival_date"] <= end) & (b["booking_date"] <= end)]


def test_bookings_after_as_of_change_nothing(bookings, forecasts):
    """H13: fares, show rates and the group's future value were computed from every row, the future included.
    With the rows after as_of and without them the step gives the same numbers, and says how many it left out."""
    params = YieldParams(as_of=AS_OF, n_simulations=40)
    known = _known(bookings)
    assert len(known) < len(bookings)
    # the future rows do move the fares (so the equality below can fail)
    assert not np.allclose(fares_from_bookings(bookings)["fare"], fares_from_bookings(known)["fare"])
    full, cut = run_yield(forecasts, bookings, params), run_yield(forecasts, known, params)
    pd.testing.assert_frame_equal(full.fare_table, cut.fare_table)
    pd.testing.assert_frame_equal(full.fare_table, fares_from_bookings(known))
    assert full.show_rate == cut.show_rate == float(show_rates(known, by=None).loc["all", "show_rate_held"])
    assert full.future_value == cut.future_value and full.future_value_note == cut.future_value_note
    assert full.overbooking_limit_service == cut.overbooking_limit_service
    late_arrival = int((bookings["arrival_date"] > pd.Timestamp(AS_OF)).sum())
    left = len(bookings) - len(known)
    assert (f"{left:,} of the {len(bookings):,} bookings left out of the fares, show rates and group future value, "
            f"not known at as_of {AS_OF}: {late_arrival:,} arrive after it") in full.notes[0]
    assert cut.notes == []


def test_a_group_future_value_the_data_cannot_give_is_a_note(bookings, forecasts):
    result = run_yield(forecasts, _known(bookings).drop(columns="customer_id"), YieldParams(as_of=AS_OF,
                                                                                            n_simulations=20))
    assert result.future_value == 0.0
    assert any(n.startswith("group future value: none credited (the bookings carry no customer identifier")
               for n in result.notes), result.notes


def test_as_of_before_every_booking_is_refused(bookings, forecasts):
    with pytest.raises(InputError, match=r"as_of = 2022-06-30: none of the .* bookings is known by then"):
        run_yield(forecasts, bookings, YieldParams(as_of="2022-06-30", n_simulations=20))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"group_arrival_peak": "2030-01-01"}, "group_arrival_peak = 2030-01-01: the 3-night stay (group_nights = 3) "
                                               "must lie within the forecast nights 2024-01-01..2024-01-28"),
        ({"group_arrival_peak": "2023-12-01"}, "group_arrival_peak = 2023-12-01"),  # before as_of
        ({"group_arrival_low": "2024-01-27"}, "group_arrival_low = 2024-01-27: the 3-night stay"),  # runs past
        ({"group_arrival_low": "2024-01-20", "group_nights": 10}, "Give an arrival from 2024-01-01 to 2024-01-19"),
        ({"group_nights": 29}, "group_nights = 29 is more than the 28 nights of the forecast nights"),
    ],
)
def test_a_group_stay_outside_the_forecast_names_the_parameter_and_the_range(bookings, forecasts, changes, message):
    """H14: the message named neither the parameter nor the forecast's nights."""
    with pytest.raises(InputError) as err:
        run_yield(forecasts, bookings, YieldParams(as_of=AS_OF, n_simulations=20, **changes))
    assert message in str(err.value)


def test_a_group_stay_at_the_last_forecast_nights_is_taken(bookings, forecasts):
    result = run_yield(forecasts, bookings, YieldParams(as_of=AS_OF, n_simulations=20, group_arrival_low="2024-01-26"))
    assert result.arrivals["low"] == pd.Timestamp("2024-01-26")


def test_with_a_gap_in_the_forecast_nights_only_arrivals_that_fit_are_proposed():
    """findings_13e I9: with 2024-01-15 missing, "an arrival from 2024-01-01 to 2024-01-26" included 01-13..01-15,
    whose stays need the missing night."""
    nights = pd.date_range("2024-01-01", periods=28, freq="D").delete(14)  # 2024-01-15 not forecast
    problems = YieldParams(as_of=AS_OF, group_arrival_peak="2024-01-14").group_stay_problems(nights)
    assert [f for f, _ in problems] == ["group_arrival_peak"]
    assert ("Give an arrival from 2024-01-01 to 2024-01-12 or from 2024-01-16 to 2024-01-26, or None"
            in problems[0][1]), problems
    gaps = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"])
    assert [f for f, _ in YieldParams(as_of=AS_OF).group_stay_problems(gaps)] == ["group_nights"]


@settings(max_examples=60, deadline=None)
@given(missing=st.sets(st.integers(0, 27), max_size=6), n=st.integers(1, 5), arrival=st.integers(-3, 30))
def test_the_proposed_arrivals_are_exactly_those_whose_stay_is_forecast(missing, n, arrival):
    """Property: an arrival is refused iff one of its n stay nights is not forecast, and every arrival the message
    proposes has all its nights forecast (counted here independently, night by night)."""
    import re

    start = pd.Timestamp("2024-01-01")
    nights = pd.DatetimeIndex([start + pd.Timedelta(days=i) for i in range(28) if i not in missing])
    day = start + pd.Timedelta(days=arrival)
    fits = [d for d in pd.date_range(start - pd.Timedelta(days=5), periods=40, freq="D")
            if all(d + pd.Timedelta(days=k) in set(nights) for k in range(n))]
    p = YieldParams(as_of=AS_OF, group_nights=n, group_arrival_peak=f"{day:%Y-%m-%d}")
    problems = dict(p.group_stay_problems(nights))
    if not fits:
        assert list(problems) == ["group_nights"]
        return
    assert ("group_arrival_peak" in problems) == (day not in fits)
    if day not in fits:
        ranges = re.findall(r"from (\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", problems["group_arrival_peak"])
        proposed = [d for a, b in ranges for d in pd.date_range(a, b, freq="D")]
        assert proposed == fits
