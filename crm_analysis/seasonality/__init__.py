"""Demand over time: what is the right customer mix by period?

Modules
-------
series
    Daily / weekly demand series on an explicit calendar (:class:`DemandSeries`)
    from transactions or bookings, with a stated fill policy for empty days.
decompose
    STL / MSTL decomposition with trend and seasonal strength (FPP3 4.3).
mix
    Composition of demand by segment across weekdays and months; which
    segments fill the peaks and which the troughs.
elasticity
    Log-log price elasticity with seasonal fixed effects, robust / clustered
    errors, optional 2SLS, and an explicit caveat for demand-set prices.
forecaster
    :class:`DemandForecaster`: demand forecasts per fare class (or any daily
    series) after ``as_of`` by rolling-origin cross-validated selection or
    combination of standard models, reconciled with the total, with empirical
    intervals (the ``forecasts.parquet`` artefact), and :func:`backtest`.
calendar
    :class:`HolidayCalendar`: public holidays (``holidays`` package) and
    declared closed days, as closed days or forecast regressors.
forecast
    Deprecated wrappers ``fit_forecast`` / ``forecast_demand``.
unconstrain
    Closed (sold-out) nights and censored-normal EM unconstraining of sales.
pickup
    Reservations on the books by night and lead; the advanced pickup forecast.
"""

from .decompose import DEFAULT_SEASONAL_WINDOW, Decomposition, decompose, strength, strength_table
from .elasticity import CAVEAT, NOT_CAUSAL, ElasticityResult, price_demand_frame, price_elasticity
from .calendar import CALENDAR_REGRESSORS, HolidayCalendar
from .forecast import fit_forecast, forecast_demand
from .forecaster import (
    FORECAST_COLUMNS,
    MODELS,
    Backtest,
    DemandForecaster,
    ForecastResult,
    backtest,
    forecast_errors,
)
from .unconstrain import (
    CAPACITY_MAX_FACTOR,
    CAPACITY_MAX_OVER_SHARE,
    NightClosures,
    check_capacity,
    is_builtin_hotel,
    UnconstrainedHistory,
    night_closures,
    stay_length_shares,
    unconstrain_history,
)
from .pickup import OnTheBooks, on_the_books, pickup_forecast
from .mix import MixTable, PeakTroughMix, WeekdayMonthMix, mix_table, peak_trough_mix, weekday_month_mix
from .series import (
    BOOKING_MEASURES,
    TRANSACTION_MEASURES,
    DemandSeries,
    booking_series,
    stay_nights,
    transaction_series,
)
from .step import (
    SeasonalityParams,
    booking_headlines,
    decompose_quietly,
    dropped_sentence,
    mix_column,
    pool_mix_groups,
    retail_headlines,
    retail_weekday_table,
    run_demand_forecast,
    run_retail_forecast,
)

__all__ = [
    "booking_headlines",
    "decompose_quietly",
    "dropped_sentence",
    "mix_column",
    "pool_mix_groups",
    "retail_headlines",
    "retail_weekday_table",
    "SeasonalityParams",
    "run_demand_forecast",
    "run_retail_forecast",
    "BOOKING_MEASURES",
    "TRANSACTION_MEASURES",
    "DemandSeries",
    "booking_series",
    "transaction_series",
    "stay_nights",
    "DEFAULT_SEASONAL_WINDOW",
    "Decomposition",
    "decompose",
    "strength",
    "strength_table",
    "MixTable",
    "WeekdayMonthMix",
    "PeakTroughMix",
    "mix_table",
    "weekday_month_mix",
    "peak_trough_mix",
    "CAVEAT",
    "NOT_CAUSAL",
    "ElasticityResult",
    "price_demand_frame",
    "price_elasticity",
    "FORECAST_COLUMNS",
    "MODELS",
    "DemandForecaster",
    "ForecastResult",
    "Backtest",
    "HolidayCalendar",
    "CALENDAR_REGRESSORS",
    "fit_forecast",
    "forecast_demand",
    "backtest",
    "forecast_errors",
    "CAPACITY_MAX_FACTOR",
    "CAPACITY_MAX_OVER_SHARE",
    "NightClosures",
    "check_capacity",
    "is_builtin_hotel",
    "night_closures",
    "stay_length_shares",
    "UnconstrainedHistory",
    "unconstrain_history",
    "OnTheBooks",
    "on_the_books",
    "pickup_forecast",
]
