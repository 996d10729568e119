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


# Issue #18, round fc18g (benchmarks/README.md, "Round fc18g"): the City Hotel backtest ending 2017-05-31
# (cutoff 2017-04-05, 56 days) is one of the six that statsforecast 2.1.1 still wins: its AutoETS, which
# chose ETS(A,N,A)[7], scores MASE 0.208 (the benchmark's table; the lag-7 seasonal-naive scale of the
# history at the cutoff). The package's own `ets` candidate (the same model form, least squares) alone scores
# 0.205 there, so the gap is the selection: every cross-validation window ranks the plain weekly candidates
# last (root geometric-mean MSE 1.75-1.99 scale units against 0.75 for the pickup, 1.19-1.28 for the
# `+yearly` variants), and the default combination is 60 % pickup (0.271).
_AUTOETS_CITY_2017_05_31 = 0.208
_CITY_GAP_NOTE = ("issue #18: the cross-validation ranks the plain weekly candidates, nearly exact on this calm "
                  "window, last in every window (benchmarks/README.md, round fc18g; `ets` 7th-9th of 9 in each of the four "
                  "windows, so none of round fc18h's 38 rules over them picks it); default MASE 0.271 vs AutoETS 0.208")


def _city_backtest_mase(city, **settings) -> float:
    from crm_analysis.seasonality import backtest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = DemandForecaster(holidays={"country": "PT", "subdiv": "11"}, **settings)
        bt = backtest(f, city, cutoffs=["2017-04-05"], horizon=56, as_of="2017-05-31")
    return bt.mase


def test_city_hotel_2017_05_31_ets_candidate_alone_ahead_of_autoets(city):
    """The candidate that would win the backtest exists: `ets` alone (no yearly variant) beats AutoETS."""
    assert _city_backtest_mase(city, models=("ets",), fourier_terms=0) <= _AUTOETS_CITY_2017_05_31


@pytest.mark.xfail(strict=True, reason=_CITY_GAP_NOTE)
def test_city_hotel_2017_05_31_default_at_least_as_accurate_as_autoets(city):
    assert _city_backtest_mase(city) <= _AUTOETS_CITY_2017_05_31
