"""Forecasts on too little history, or with as_of before the data (issue #11, point 11).

Before: a history shorter than the backtest window failed with "end
(2024-11-05) is before start (2024-11-15)", dates the user never gave, and an
as_of before every booking with "no rows to build a series from and no start
given". Now each is an error naming the parameter, the history's dates and the
largest value that works; that value is checked to work, one more day to fail.
With :class:`DemandForecaster` (issue #18) a forecast needs the cross-validation
windows plus 28 days before the earliest origin: ``28 + h + (cv_windows - 1) *
step`` days, with ``h = min(cv_horizon, horizon)`` and ``step = h // 2``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_analysis import seasonality as sz

from .conftest import seasonal_bookings

# One-night bookings, each made 10 days before arrival, arrivals 2024-03-01 .. 2024-04-16 (47 days).
SHORT = seasonal_bookings(days=47, seed=3, start="2024-03-01")
AS_OF = "2024-04-16"


def _need(h: int, windows: int = 4, cv_horizon: int = 56) -> int:
    """The documented rule, computed here independently of the package."""
    h = min(cv_horizon, h)
    return 28 + h + (windows - 1) * max(1, h // 2)


def test_history_shorter_than_the_backtest_window_names_backtest_days_and_the_limit():
    first = sz.booking_series(SHORT, measure="room_nights", end=AS_OF, booked_by=AS_OF).values.index[0]
    n_hist = (pd.Timestamp(AS_OF) - first).days + 1
    longest = max(b for b in range(1, n_hist) if n_hist - b >= _need(b))
    with pytest.raises(ValueError) as err:
        sz.DemandForecaster(by=None, horizon=7).fit(SHORT, as_of=AS_OF)  # default backtest_days=56
    msg = str(err.value)
    assert f"backtest_days=56 is too long for the history: it runs from {first:%Y-%m-%d} to as_of {AS_OF}" in msg
    assert f"({n_hist} days)" in msg and f"use backtest_days <= {longest} (0: no backtest)" in msg
    assert "is before start" not in msg
    # the limit the message gives works, one more day does not
    res = sz.DemandForecaster(by=None, horizon=7, backtest_days=longest).fit(SHORT, as_of=AS_OF).result_
    assert res.backtest is not None and res.backtest.cutoff == pd.Timestamp(AS_OF) - pd.Timedelta(days=longest)
    with pytest.raises(ValueError, match=f"backtest_days={longest + 1} is too long"):
        sz.DemandForecaster(by=None, horizon=7, backtest_days=longest + 1).fit(SHORT, as_of=AS_OF)
    assert sz.DemandForecaster(by=None, horizon=7, backtest_days=0).fit(SHORT, as_of=AS_OF).result_.backtest is None


def test_too_short_history_names_the_cross_validation_settings_that_fit():
    # 2024-03-01 .. 2024-03-31: 31 days; horizon 7 needs 28 + 7 + 3 * 3 = 44 with four windows
    with pytest.raises(ValueError) as err:
        sz.DemandForecaster(by=None, horizon=7, backtest_days=0).fit(SHORT, as_of="2024-03-31")
    msg = str(err.value)
    assert "the history from 2024-03-01 to as_of 2024-03-31 has 31 days" in msg and f"at least {_need(7)}" in msg
    assert "use cv_windows=1 with cv_horizon <= 3" in msg  # 28 + 3 = 31
    sz.DemandForecaster(by=None, horizon=7, backtest_days=0, cv_windows=1, cv_horizon=3).fit(SHORT, as_of="2024-03-31")
    with pytest.raises(ValueError, match="has 31 days"):
        sz.DemandForecaster(by=None, horizon=7, backtest_days=0, cv_windows=1, cv_horizon=4).fit(SHORT, as_of="2024-03-31")
    # 40 days: four windows do not fit, two do (28 + 7 + 3 = 38), and a 5-day horizon with four (28 + 5 + 3 * 2 = 39)
    with pytest.raises(ValueError) as err:
        sz.DemandForecaster(by=None, horizon=7, backtest_days=0).fit(SHORT, as_of="2024-04-09")
    assert "has 40 days" in str(err.value) and "cv_windows <= 2 or cv_horizon <= 5" in str(err.value)
    for fix in (dict(cv_windows=2), dict(cv_horizon=5)):
        sz.DemandForecaster(by=None, horizon=7, backtest_days=0, **fix).fit(SHORT, as_of="2024-04-09")
    first_made = SHORT["booking_date"].min()
    with pytest.raises(ValueError, match=f"no booking was made by as_of=2023-12-31: the first booking_date is "
                                         f"{first_made:%Y-%m-%d}"):
        sz.DemandForecaster(by=None, horizon=7).fit(SHORT, as_of="2023-12-31")


def test_series_end_before_the_data_names_the_first_date():
    with pytest.raises(ValueError, match=r"end=2024-01-31 is before the first date in the data \(2024-03-01\)"):
        sz.booking_series(SHORT, measure="arrivals", end="2024-01-31")
    with pytest.raises(ValueError, match=r"no rows left to build a series from \(left out: \d[\d,]* booked after "
                                         r"booked_by\), and no start given"):
        sz.booking_series(SHORT, measure="arrivals", booked_by="2023-01-01")


def _shop(days: int, start: str = "2024-03-01") -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(7)
    ts = pd.date_range(start, periods=days, freq="D").repeat(3) + pd.Timedelta(hours=12)
    return pd.DataFrame({"customer_id": [f"c{i % 40}" for i in range(len(ts))], "timestamp": ts,
                         "amount": rng.gamma(2.0, 40.0, len(ts))})


def test_a_retail_history_of_one_month_leaves_the_forecast_out_with_a_reason() -> None:
    """Issue 17 (n17 F15): a data set of one month stopped the whole chain in the seasonality notebook
    (the retail forecast needs 168 days); now the forecast is left out and the report says why."""
    tx = _shop(28)
    as_of = "2024-03-28"
    params = sz.SeasonalityParams(as_of=as_of, tx_forecast_days=56)
    revenue = sz.transaction_series(tx, measure="revenue", end=as_of)
    need = params.retail_forecaster().min_history_days()
    assert need == _need(56)  # the documented rule
    fc, why = sz.run_retail_forecast(revenue, params)
    assert fc is None and f"holds 28 days up to {as_of}" in why and f"at least {need}" in why
    fc, why = sz.run_retail_forecast(revenue, sz.SeasonalityParams(as_of=as_of, tx_forecast_days=0))
    assert fc is None and "tx_forecast_days = 0" in why


def test_min_history_days_is_the_boundary_of_fit() -> None:
    """One day less than min_history_days is left out; exactly min_history_days fits."""
    f = sz.DemandForecaster(horizon=14, backtest_days=0, cv_windows=1, models=("seasonal_naive",))
    need = f.min_history_days()
    assert need == _need(14, windows=1)
    for days, fits in ((need - 1, False), (need, True)):
        tx = _shop(days)
        as_of = f"{(pd.Timestamp('2024-03-01') + pd.Timedelta(days=days - 1)):%Y-%m-%d}"
        revenue = sz.transaction_series(tx, measure="revenue", end=as_of)
        if fits:
            assert len(f.fit(revenue, as_of=as_of).result_.forecast) > 0
        else:
            with pytest.raises(ValueError, match="needs at least"):
                f.fit(revenue, as_of=as_of)


def test_run_retail_forecast_counts_the_history_as_fit_does() -> None:
    params = sz.SeasonalityParams(as_of="2024-03-01", tx_forecast_days=7)
    need = params.retail_forecaster().min_history_days()
    for days, fits in ((need - 1, False), (need, True)):
        as_of = f"{(pd.Timestamp('2024-03-01') + pd.Timedelta(days=days - 1)):%Y-%m-%d}"
        p = sz.SeasonalityParams(as_of=as_of, tx_forecast_days=7)
        fc, why = sz.run_retail_forecast(sz.transaction_series(_shop(days), measure="revenue", end=as_of), p)
        assert (fc is not None) == fits and (why == "") == fits, (days, why)


def test_a_revenue_forecast_is_labelled_revenue() -> None:
    """Issue 17 (n17 F14): the retail revenue forecast was drawn with the y axis 'demand' and titled 'Demand forecast'."""
    import matplotlib.pyplot as plt

    f = sz.DemandForecaster(horizon=7, backtest_days=0, cv_windows=1, models=("seasonal_naive",))
    days = f.min_history_days()
    as_of = f"{(pd.Timestamp('2024-03-01') + pd.Timedelta(days=days - 1)):%Y-%m-%d}"
    res = f.fit(sz.transaction_series(_shop(days), measure="revenue", end=as_of), as_of=as_of).result_
    fig = res.plot()
    assert res.measure == "revenue" and fig.axes[0].get_ylabel() == "revenue"
    assert fig._suptitle.get_text().startswith("Revenue forecast after")
    plt.close(fig)
