"""The City Hotel of the Hotel booking demand data (Antonio et al. 2019)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import FORECAST_COLUMNS, DemandForecaster, booking_series, decompose

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def city(shared_data):
    try:
        from crm_analysis.data import load_hotels
    except ImportError:  # pragma: no cover - data layer not available
        pytest.skip("crm_analysis.data.load_hotels not available")
    b = load_hotels(shared_data / "hotels" / "hotels.csv.gz")
    return b[b["property"] == "City Hotel"]


def test_city_hotel_yearly_and_weekly_structure(city):
    rn = booking_series(city, measure="room_nights", end="2017-08-31")
    d = decompose(rn, periods=(7, 365), robust=True)
    assert d.periods == (7, 365)  # 793 days: more than two yearly cycles
    assert d.strength_seasonal[365] > 0.3
    # weekly: arrivals (check-in days) have a clear weekly cycle
    arr = decompose(booking_series(city, measure="arrivals", end="2017-08-31"), periods=(7, 365))
    assert arr.strength_seasonal[7] > 0.1


def test_city_hotel_forecast_table(city):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = DemandForecaster(horizon=30, backtest_days=28, holidays={"country": "PT", "subdiv": "11"}).fit(
            city, as_of="2017-05-31").result_
    t = fc.forecast
    assert list(t.columns) == list(FORECAST_COLUMNS)
    assert not t.isna().any().any() and (t["lower"] <= t["mean"]).all() and (t["mean"] <= t["upper"]).all()
    assert t["date"].min() == pd.Timestamp("2017-06-01")
    assert {"Online TA", "Groups", "Corporate"} <= set(t["fare_class"])
    assert np.isfinite(fc.backtest.errors.loc["total", "mape"])
