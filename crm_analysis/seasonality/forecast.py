"""Deprecated forecasting functions, kept as thin wrappers of :class:`DemandForecaster`.

``fit_forecast`` and ``forecast_demand`` were the package's forecasting API
before :class:`~crm_analysis.seasonality.forecaster.DemandForecaster`
(issue #13, point 5). They now build a ``DemandForecaster`` from their
arguments and emit a ``DeprecationWarning``. The options of the former
hand-written STL+ETS model (``periods``, ``robust``, ``interval``,
``level_method``) are gone: passing one raises a ``TypeError`` naming it.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, shown

import warnings

import pandas as pd

from .forecaster import MODELS, DemandForecaster, ForecastResult

__all__ = ["fit_forecast", "forecast_demand"]

_METHODS = {"stl_ets": MODELS, "auto": MODELS, "seasonal_naive": ("seasonal_naive",)}


def fit_forecast(
    bookings: pd.DataFrame,
    *,
    as_of: object,
    horizon_days: int = 90,
    by: str | None = "fare_class",
    method: str = "auto",
    level: float = 0.9,
    seed: int = 42,
    backtest_days: int = 56,
    measure: str = "room_nights",
    start: object = None,
    include_cancelled: bool = False,
    progress: bool = False,
    unconstrain: bool = False,
    capacity: int | None = None,
    closed_tolerance: int = 0,
    **removed: object,
) -> ForecastResult:
    """Deprecated: ``DemandForecaster(...).fit(bookings, as_of=as_of).result_``.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings.
    as_of, horizon_days, by, level, seed, backtest_days, measure, start, include_cancelled, progress
        As the :class:`DemandForecaster` settings (``horizon_days`` is
        ``horizon``).
    method : {"auto", "stl_ets", "seasonal_naive"}, default "auto"
        ``"auto"`` / ``"stl_ets"``: all candidate models; ``"seasonal_naive"``:
        that model alone.
    unconstrain, capacity, closed_tolerance
        As the :class:`DemandForecaster` settings.

    Returns
    -------
    ForecastResult

    Raises
    ------
    TypeError
        When a removed option of the former model is passed.
    ValueError
        On an unknown ``method`` or a bad setting.
    """
    warnings.warn("fit_forecast is deprecated; use DemandForecaster(...).fit(bookings, as_of=...).result_",
                  DeprecationWarning, stacklevel=2)
    if removed:
        raise InputTypeError(
            f"fit_forecast: option(s) {sorted(removed)} belonged to the former STL+ETS model and were removed; "
            "DemandForecaster selects/combines models by cross-validation"
        )
    if method not in _METHODS:
        raise InputError(f"method must be one of {sorted(_METHODS)}, got {shown(method)}")
    f = DemandForecaster(
        models=_METHODS[method], horizon=int(horizon_days), level=level, seed=seed, backtest_days=int(backtest_days),
        measure=measure, start=start, include_cancelled=include_cancelled, progress=progress, by=by,
        unconstrain=unconstrain, capacity=capacity, closed_tolerance=closed_tolerance,
    )
    return f.fit(bookings, as_of=as_of).result_


def forecast_demand(bookings: pd.DataFrame, *, as_of: object, **kwargs: object) -> pd.DataFrame:
    """Deprecated: the ``forecast`` table of :func:`fit_forecast` (the ``forecasts.parquet`` artefact).

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings.
    as_of, **kwargs
        See :func:`fit_forecast`.

    Returns
    -------
    pandas.DataFrame
        :data:`~crm_analysis.seasonality.forecaster.FORECAST_COLUMNS`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        res = fit_forecast(bookings, as_of=as_of, **kwargs)  # type: ignore[arg-type]
    warnings.warn("forecast_demand is deprecated; use DemandForecaster(...).fit(bookings, as_of=...).result_.forecast",
                  DeprecationWarning, stacklevel=2)
    return res.forecast
