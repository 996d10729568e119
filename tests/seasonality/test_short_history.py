"""Forecasts on too little history, or with as_of before the data (issue #11, point 11).

Before: a history shorter than the backtest window failed with "end
(2024-11-05) is before start (2024-11-15)", dates the user never gave, and an
as_of before every booking with "no rows to build a series from and no start
given". Now each is an error naming the parameter, the history's dates and the
largest value that works; that value is checked to work, one more day to fail.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_analysis import seasonality as sz

from .conftest import seasonal_bookings

# One-night bookings, each made 10 days before arrival, arrivals 2024-03-01 .. 2024-04-16 (47 days).
SHORT = seasonal_bookings(days=47, seed=3, start="2024-03-01")
AS_OF = "2024-04-16"


def test_history_shorter_than_the_backtest_window_names_backtest_days_and_the_limit():
    first = sz.booking_series(SHORT, "room_nights", end=AS_OF, booked_by=AS_OF).values.index[0]
    n_hist = (pd.Timestamp(AS_OF) - first).days + 1
    longest = n_hist - 15  # a forecast needs 15 days before the window
    with pytest.raises(ValueError) as err:
        sz.fit_forecast(SHORT, as_of=AS_OF, horizon_days=7, by=None)  # default backtest_days=56
    msg = str(err.value)
    assert f"backtest_days=56 is too long for the history: it runs from {first:%Y-%m-%d} to as_of {AS_OF}" in msg
    assert f"({n_hist} days)" in msg and f"use backtest_days <= {longest} (0: no backtest)" in msg
    assert "is before start" not in msg
    # the limit the message gives works, one more day does not
    fc = sz.fit_forecast(SHORT, as_of=AS_OF, horizon_days=7, by=None, backtest_days=longest)
    assert fc.backtest is not None and fc.backtest.cutoff == pd.Timestamp(AS_OF) - pd.Timedelta(days=longest)
    with pytest.raises(ValueError, match=f"backtest_days={longest + 1} is too long"):
        sz.fit_forecast(SHORT, as_of=AS_OF, horizon_days=7, by=None, backtest_days=longest + 1)
    with pytest.raises(ValueError, match=f"backtest_days={longest + 1} is too long"):
        sz.backtest(SHORT, as_of=AS_OF, backtest_days=longest + 1, by=None)  # the same check when called alone
    assert sz.fit_forecast(SHORT, as_of=AS_OF, horizon_days=7, by=None, backtest_days=0).backtest is None


def test_too_short_history_and_as_of_before_all_bookings():
    with pytest.raises(ValueError, match=r"the history from 2024-03-01 to as_of 2024-03-10 has 10 days; a forecast "
                                         r"needs at least 15"):
        sz.fit_forecast(SHORT, as_of="2024-03-10", horizon_days=7, by=None, backtest_days=0)
    first_made = SHORT["booking_date"].min()
    with pytest.raises(ValueError, match=f"no booking was made by as_of=2023-12-31: the first booking_date is "
                                         f"{first_made:%Y-%m-%d}"):
        sz.fit_forecast(SHORT, as_of="2023-12-31", horizon_days=7, by=None)


def test_series_end_before_the_data_names_the_first_date():
    with pytest.raises(ValueError, match=r"end=2024-01-31 is before the first date in the data \(2024-03-01\)"):
        sz.booking_series(SHORT, "arrivals", end="2024-01-31")
    with pytest.raises(ValueError, match=r"no rows left to build a series from \(left out: \d[\d,]* booked after "
                                         r"booked_by\), and no start given"):
        sz.booking_series(SHORT, "arrivals", booked_by="2023-01-01")
