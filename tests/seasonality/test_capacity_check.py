"""The hotel's capacity of the steps that use it is checked against the bookings (findings_13c G8, API path).

``capacity=None`` meant the built-in synthetic hotel's 120 rooms for any bookings: on the City Hotel (226
rooms) 81 % of the nights were "full" instead of 19 %, and nothing said so. Now ``check_capacity`` takes
``None`` only for the built-in hotel's own bookings, and refuses any capacity the bookings contradict;
``run_demand_forecast`` (unconstraining), ``run_yield`` and ``run_booking_horizon`` call it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_analysis.exceptions import InputError
from crm_analysis.seasonality import (
    CAPACITY_MAX_FACTOR,
    SeasonalityParams,
    check_capacity,
    is_builtin_hotel,
    mix_column,
    night_closures,
    run_demand_forecast,
)
from crm_analysis.synthetic import DEFAULT_HOTEL, generate_bookings


@pytest.fixture(scope="module")
def builtin() -> pd.DataFrame:
    """A short stretch of the built-in hotel's bookings (the generator's output, its property name)."""
    return generate_bookings(start="2024-01-01", end="2024-06-30", seed=3).bookings


@pytest.mark.parametrize("capacity", [40, 90])
def test_a_hotel_is_accepted_at_its_own_capacity_and_refused_well_below_it(capacity):
    """Parameter recovery: bookings of a hotel of C rooms (capacity control in the generator: never more than C
    held) pass at C and are refused at a capacity their sold-out nights exceed by more than the factor."""
    b = generate_bookings(DEFAULT_HOTEL.with_capacity(capacity), start="2024-01-01", end="2024-06-30",
                          seed=1).bookings.assign(property="Own Hotel")
    assert check_capacity(b, capacity) == capacity
    held = night_closures(b, capacity).table["final_held"]
    assert held.max() <= capacity  # an independent count of what the check reads
    too_few = int(held.max() / CAPACITY_MAX_FACTOR) - 1
    with pytest.raises(InputError) as err:
        check_capacity(b, too_few, owner="YieldParams")
    msg = str(err.value)
    assert f"capacity = {too_few} is contradicted by the bookings" in msg
    assert f"up to {held.max():,.0f} rooms" in msg and "YieldParams(capacity=...)" in msg


def test_none_is_the_builtin_hotels_rooms_for_its_own_bookings_only(builtin):
    assert is_builtin_hotel(builtin)
    assert check_capacity(builtin, None) == DEFAULT_HOTEL.capacity
    own = builtin.assign(property="My Hotel")
    assert not is_builtin_hotel(own) and not is_builtin_hotel(builtin.drop(columns="property"))
    with pytest.raises(InputError) as err:
        check_capacity(own, None, owner="SeasonalityParams")
    assert ("capacity is None, which means the built-in synthetic hotel's 120 rooms, and these bookings are not the "
            "built-in hotel's (their property is ['My Hotel'])") in str(err.value)
    assert "SeasonalityParams(capacity=...)" in str(err.value)
    assert check_capacity(own, 120) == 120  # said explicitly, and the data agree


def test_the_step_functions_refuse_none_for_other_bookings_before_fitting(builtin):
    """The API path of G8: run_demand_forecast / run_yield / run_booking_horizon with one's own bookings and the
    parameters' default capacity (None) stop with the fix instead of taking 120 rooms."""
    from crm_analysis.yield_management import HorizonParams, YieldParams, run_booking_horizon, run_yield

    own = builtin.assign(property="My Hotel")
    with pytest.raises(InputError, match=r"SeasonalityParams\(capacity=\.\.\.\)"):
        run_demand_forecast(own, SeasonalityParams(as_of="2024-06-30"))
    forecasts = pd.DataFrame({"date": pd.to_datetime(["2024-07-01"]), "fare_class": ["Direct"], "mean": [1.0]})
    with pytest.raises(InputError, match=r"YieldParams\(capacity=\.\.\.\)"):
        run_yield(forecasts, own, YieldParams(as_of="2024-06-30"))
    with pytest.raises(InputError, match=r"HorizonParams\(capacity=\.\.\.\)"):
        run_booking_horizon(own, HorizonParams(as_of="2024-06-30"))


def test_the_city_hotel_passes_at_its_rooms_and_is_refused_at_the_builtin_hotels(shared_data):
    """The published set (Antonio, de Almeida & Nunes 2019): 226 rooms (config/hotels.yaml) pass; 120 do not."""
    from crm_analysis.data.real import load_hotels

    b = load_hotels(shared_data / "hotels" / "hotels.csv.gz")
    city = b[b["property"] == "City Hotel"]
    assert check_capacity(city, 226) == 226
    with pytest.raises(InputError, match=r"capacity = 120 is contradicted by the bookings: 78\.8% of the 803 nights"):
        check_capacity(city, 120)
    with pytest.raises(InputError, match=r"their property is \['City Hotel'\]"):
        check_capacity(city, None)


def test_column_parameters_are_checked_against_the_data_by_name(builtin):
    """mix_by naming no column was silently 'no mix'; forecast_by naming none failed deep in the series code."""
    tx = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0], "channel": ["web", "shop"]})
    assert mix_column(tx, None) == "channel" and mix_column(tx, "channel") == "channel"
    with pytest.raises(InputError) as err:
        mix_column(tx, "bogus")
    assert "'bogus' (mix_by)" in str(err.value) and "['customer_id', 'amount', 'channel']" in str(err.value)
    with pytest.raises(InputError) as err:
        run_demand_forecast(builtin, SeasonalityParams(as_of="2024-06-30", forecast_by="bogus"))
    assert "'bogus' (forecast_by)" in str(err.value) and "'segment'" in str(err.value)
    SeasonalityParams.check_forecast_by("fare_class", builtin.drop(columns="fare_class").columns)  # falls back


def test_a_synthetic_hotel_of_other_rooms_is_not_the_builtin_one_in_any_step(tmp_path):
    """findings_13d H2: a 60-room variant of the built-in hotel wrote the built-in name, so ``capacity=None`` took
    120 rooms for it in all three steps (no night ever closed, overbooking limit above 120). Its bookings are now
    named with their rooms, through Parquet too, and each step refuses None for them; at 60 they pass."""
    import dataclasses

    from crm_analysis.yield_management import HorizonParams, YieldParams, run_booking_horizon, run_yield

    cfg = dataclasses.replace(DEFAULT_HOTEL, capacity=60)
    assert cfg.property_name == "Synthetic City Hotel (60 rooms)"
    assert DEFAULT_HOTEL.property_name == "Synthetic City Hotel"  # the built-in hotel keeps its name
    assert dataclasses.replace(DEFAULT_HOTEL, mean_load=0.5).property_name == "Synthetic City Hotel"  # same rooms
    b = generate_bookings(cfg, start="2024-01-01", end="2024-06-30", seed=3).bookings
    b.to_parquet(tmp_path / "b.parquet")
    b = pd.read_parquet(tmp_path / "b.parquet")
    assert set(b["property"].astype("object")) == {"Synthetic City Hotel (60 rooms)"} and not is_builtin_hotel(b)
    with pytest.raises(InputError, match=r"not the built-in hotel's \(their property is \['Synthetic City Hotel "
                                         r"\(60 rooms\)'\]\).*SeasonalityParams\(capacity=\.\.\.\)"):
        run_demand_forecast(b, SeasonalityParams(as_of="2024-06-30"))
    forecasts = pd.DataFrame({"date": pd.to_datetime(["2024-07-01"]), "fare_class": ["Direct"], "mean": [1.0]})
    with pytest.raises(InputError, match=r"\(60 rooms\)'\]\).*YieldParams\(capacity=\.\.\.\)"):
        run_yield(forecasts, b, YieldParams(as_of="2024-06-30"))
    with pytest.raises(InputError, match=r"\(60 rooms\)'\]\).*HorizonParams\(capacity=\.\.\.\)"):
        run_booking_horizon(b, HorizonParams(as_of="2024-06-30"))
    assert check_capacity(b, 60, as_of="2024-06-30") == 60


def test_the_forecaster_used_directly_checks_its_capacity_against_the_bookings():
    """DemandForecaster(unconstrain=True, capacity=...) used without run_demand_forecast unconstrained against any
    capacity (a 40-room hotel at 20 rooms: most nights "full"); it now applies check_capacity's rule, in fit and in
    backtest, naming itself in the fix. At the hotel's own rooms it fits, and its forecasts keep their contract."""
    from crm_analysis.contracts import FORECASTS
    from crm_analysis.seasonality import DemandForecaster, backtest

    b = generate_bookings(DEFAULT_HOTEL.with_capacity(40), start="2024-01-01", end="2024-06-30",
                          seed=1).bookings.assign(property="Own Hotel")
    held = night_closures(b, 40, as_of="2024-05-31").table["final_held"]
    too_few = int(held.max() / CAPACITY_MAX_FACTOR) - 1
    settings = dict(horizon=7, unconstrain=True, cv_windows=2, cv_horizon=7, backtest_days=0,
                    models=("seasonal_naive",))
    wrong = DemandForecaster(capacity=too_few, **settings)
    with pytest.raises(InputError) as err:
        wrong.fit(b, as_of="2024-05-31")
    assert f"capacity = {too_few} is contradicted by the bookings" in str(err.value)
    assert "DemandForecaster(capacity=...)" in str(err.value)
    with pytest.raises(InputError, match="is contradicted by the bookings"):
        backtest(wrong, b, cutoffs=["2024-05-17"], horizon=7, as_of="2024-05-31")
    fc = DemandForecaster(capacity=40, **settings).fit(b, as_of="2024-05-31").result_.forecast
    assert fc["unconstrained"].all() and FORECASTS.problems(fc) == []


@pytest.mark.parametrize("unconstrain", [False, True])
def test_the_forecasters_capacity_is_checked_with_or_without_unconstrain(unconstrain):
    """findings_13f F4: the capacity also sets the sales cap, so DemandForecaster checks it always -- a whole
    number >= 1 with SeasonalityParams' rule and message (one check), and against the bookings (check_capacity);
    without unconstrain 0 / -5 / 30.5 / a too-small capacity ran and were silently replaced by the history's
    most sold night."""
    from crm_analysis.seasonality import DemandForecaster

    b = generate_bookings(DEFAULT_HOTEL.with_capacity(40), start="2024-01-01", end="2024-06-30",
                          seed=1).bookings.assign(property="Own Hotel")
    settings = dict(horizon=7, unconstrain=unconstrain, cv_windows=2, cv_horizon=7, backtest_days=0,
                    models=("seasonal_naive",))
    for bad in (0, -5, 30.5, "40", True):
        with pytest.raises(InputError) as err:
            DemandForecaster(capacity=bad, **settings).fit(b, as_of="2024-05-31")
        with pytest.raises(InputError) as params_err:
            SeasonalityParams(capacity=bad)
        assert str(err.value) == str(params_err.value)  # one rule, one message
        assert "capacity" in str(err.value) and repr(bad) in str(err.value)
    held = night_closures(b, 40, as_of="2024-05-31").table["final_held"]
    too_few = int(held.max() / CAPACITY_MAX_FACTOR) - 1
    with pytest.raises(InputError) as err:
        DemandForecaster(capacity=too_few, **settings).fit(b, as_of="2024-05-31")
    assert f"capacity = {too_few} is contradicted by the bookings" in str(err.value)
    assert "DemandForecaster(capacity=...)" in str(err.value)
    DemandForecaster(capacity=40.0, **settings).fit(b, as_of="2024-05-31")  # a float with a whole value is rooms


def test_the_step_checks_a_given_capacity_against_the_bookings_without_unconstrain():
    """run_demand_forecast hands a given capacity to the forecaster's sales cap without unconstrain too: it is
    checked there, naming SeasonalityParams (the user's setting), not the forecaster."""
    b = generate_bookings(DEFAULT_HOTEL.with_capacity(40), start="2024-01-01", end="2024-06-30",
                          seed=1).bookings.assign(property="Own Hotel")
    p = SeasonalityParams(capacity=5, unconstrain=False, as_of="2024-05-31", horizon_days=7, backtest_days=0)
    with pytest.raises(InputError) as err:
        run_demand_forecast(b, p)
    assert "capacity = 5 is contradicted by the bookings" in str(err.value)
    assert "SeasonalityParams(capacity=...)" in str(err.value)


@pytest.mark.parametrize("unconstrain", [False, True])
def test_the_capacity_is_checked_once_per_fit(monkeypatch, unconstrain):
    """closing_note5: run_demand_forecast checked the capacity in the step and again in the forecaster's fit and
    its backtest (3 x ~30 ms); DemandForecaster.fit with a backtest twice. Now once each, the step's naming
    SeasonalityParams; the direct-use check and the messages are tested above."""
    from crm_analysis.seasonality import DemandForecaster, forecaster, step

    b = generate_bookings(DEFAULT_HOTEL.with_capacity(40), start="2024-01-01", end="2024-06-30",
                          seed=1).bookings.assign(property="Own Hotel")
    owners: list[str | None] = []

    def counted(*args, **kwargs):
        owners.append(kwargs.get("owner"))
        return check_capacity(*args, **kwargs)

    monkeypatch.setattr(forecaster, "check_capacity", counted)
    monkeypatch.setattr(step, "check_capacity", counted)
    settings = dict(horizon=7, unconstrain=unconstrain, cv_windows=2, cv_horizon=7, backtest_days=7,
                    models=("seasonal_naive",))
    fitted = DemandForecaster(capacity=40, **settings).fit(b, as_of="2024-05-31")
    assert fitted.result_.backtest is not None and owners == ["DemandForecaster"]

    owners.clear()
    small = SeasonalityParams(capacity=40, unconstrain=unconstrain, as_of="2024-05-31", horizon_days=7,
                              backtest_days=7)
    real = SeasonalityParams.forecaster
    monkeypatch.setattr(SeasonalityParams, "forecaster",  # the step's forecaster with one quick model (speed only)
                        lambda self: real(self).set_params(models=("seasonal_naive",), cv_windows=2, cv_horizon=7))
    result = run_demand_forecast(b, small)
    assert result.backtest is not None and owners == ["SeasonalityParams"]
