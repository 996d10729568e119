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
forecast
    Demand forecasts per fare class and stay date after ``as_of`` (the
    ``forecasts.parquet`` artefact) with prediction intervals and a backtest.
unconstrain
    Closed (sold-out) nights and censored-normal EM unconstraining of sales.
"""

from .decompose import DEFAULT_SEASONAL_WINDOW, Decomposition, decompose, strength, strength_table
from .elasticity import CAVEAT, NOT_CAUSAL, ElasticityResult, price_demand_frame, price_elasticity
from .forecast import (
    FORECAST_COLUMNS,
    Backtest,
    Forecast,
    backtest,
    fit_forecast,
    forecast_demand,
    forecast_errors,
)
from .unconstrain import NightClosures, UnconstrainedHistory, night_closures, unconstrain_history
from .mix import MixTable, PeakTroughMix, WeekdayMonthMix, mix_table, peak_trough_mix, weekday_month_mix
from .series import (
    BOOKING_MEASURES,
    TRANSACTION_MEASURES,
    DemandSeries,
    booking_series,
    stay_nights,
    transaction_series,
)

__all__ = [
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
    "Forecast",
    "Backtest",
    "fit_forecast",
    "forecast_demand",
    "backtest",
    "forecast_errors",
    "NightClosures",
    "night_closures",
    "UnconstrainedHistory",
    "unconstrain_history",
]
