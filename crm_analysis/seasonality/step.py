"""The seasonality step of the report chain: parameters and the demand forecast it hands over.

:class:`SeasonalityParams` is the parameters cell of ``30_seasonality.ipynb``
(its defaults, its checks); :func:`run_demand_forecast` produces
``forecasts.parquet`` (:data:`crm_analysis.contracts.FORECASTS`) from the
cleaned bookings. The notebook calls it, and so does a notebook run on its own
that needs ``forecasts.parquet`` (:mod:`crm_analysis.steps`).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis._dates import parse_date
from crm_analysis._validate import check_columns, check_count, check_counts, check_flag, check_name, check_seed

from ._common import to_timestamp, weekday_number
from .calendar import HolidayCalendar
from .forecaster import DemandForecaster, ForecastResult
from .series import Fill
from .unconstrain import _capacity_count, check_capacity

__all__ = [
    "SeasonalityParams",
    "run_demand_forecast",
    "retail_weekday_table",
    "mix_column",
    "pool_mix_groups",
    "decompose_quietly",
    "dropped_sentence",
    "booking_headlines",
    "retail_headlines",
]

_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _check_weekdays(value: Any, name: str) -> None:
    """Each weekday as the seasonality helper reads it (``Sunday``, ``Sun``, ``6``); a typo is refused."""
    days = [value] if isinstance(value, (str, int)) else list(value)
    for i, day in enumerate(days):
        try:
            weekday_number(day)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}[{i}]: {exc}") from None


@dataclass(frozen=True, kw_only=True)
class SeasonalityParams:
    """Parameters of the seasonality step (the parameters cell of ``30_seasonality.ipynb``).

    Parameters
    ----------
    as_of : str, default "2024-12-31"
        Observation end (ISO date).
    periods : list of int, default [7, 365]
        Seasonal periods in days.
    horizon_days : int, default 90
        Days forecast after ``as_of``.
    backtest_days : int, default 56
        Days before ``as_of`` held out to check the forecast (0: none); the
        backtest does not change the forecast.
    forecast_by : str, default "fare_class"
        Column whose groups are forecast and reconciled with the total.
    robust : bool, default True
        Robust STL fits.
    unconstrain : bool, default True
        Forecast unconstrained demand.
    capacity : int, optional
        Rooms, for unconstraining; ``None``: the built-in hotel's capacity,
        taken only for the built-in hotel's bookings (:func:`run_demand_forecast`
        calls :func:`crm_analysis.seasonality.check_capacity`, which also
        refuses a capacity the bookings contradict).
    tx_fill : {"zero", "closed"}, default "zero"
        Days without purchases in the retail series.
    closed_weekdays, closed_dates : list, optional
        Days the shop is closed (with ``tx_fill="closed"``).
    calendar : dict, optional
        Holiday calendar (:meth:`HolidayCalendar.from_config`).
    tx_forecast_days : int, default 56
        Days of retail revenue forecast (0: none).
    mix_by : str, optional
        Column of the revenue mix.
    mix_top : int, default 6
        Largest groups of ``mix_by`` (by revenue) shown; the others are
        pooled as ``other`` (:func:`pool_mix_groups`). A positive integer.
    seed : int, default 42
        Seed of the forecaster.

    Raises
    ------
    InputError
        A value the step would refuse or take in a way nobody can mean,
        naming the parameter, the value and the fix; every field is checked:
        ``as_of`` not an ISO date, ``periods`` not whole numbers >= 2,
        ``horizon_days`` < 1, ``backtest_days`` or ``tx_forecast_days`` < 0,
        ``capacity`` < 1, ``robust`` / ``unconstrain`` not true or false, an
        unknown ``tx_fill``, a weekday typo such as ``Sundayy``, a closed
        date that is not ISO, a calendar :meth:`HolidayCalendar.from_config`
        refuses, ``forecast_by`` / ``mix_by`` not a name, ``mix_top`` not a
        positive integer, a negative ``seed``. Closed days declared with
        ``tx_fill="zero"`` (which the report would ignore) are refused by
        :meth:`check_retail` when the purchase series is built, as a data set
        without transactions does not use them; whether ``forecast_by`` and
        ``mix_by`` are columns of the data is checked where the data are read
        (:meth:`check_forecast_by`, :meth:`check_mix_by`).
    """

    as_of: str = "2024-12-31"
    periods: tuple[int, ...] = (7, 365)
    horizon_days: int = 90
    backtest_days: int = 56
    forecast_by: str = "fare_class"
    robust: bool = True
    unconstrain: bool = True
    capacity: int | None = None
    tx_fill: str = "zero"
    closed_weekdays: tuple[Any, ...] | None = None
    closed_dates: tuple[str, ...] | None = None
    calendar: Mapping[str, Any] | None = None
    tx_forecast_days: int = 56
    mix_by: str | None = None
    mix_top: int = 6
    seed: int = 42

    def __post_init__(self) -> None:
        # every field, with the checks of the functions that take it (crm_analysis._validate; the
        # forecaster's DemandForecaster._check for horizon, backtest_days and capacity)
        parse_date(self.as_of, "as_of", tz="strip", time="keep")
        object.__setattr__(self, "periods", check_counts(self.periods, "periods", minimum=2,
                                                         fix="seasonal periods in days, e.g. [7, 365]"))
        check_count(self.horizon_days, "horizon_days", minimum=1, fix="days forecast after as_of")
        check_count(self.backtest_days, "backtest_days", fix="days before as_of held out; 0: no backtest")
        check_name(self.forecast_by, "forecast_by", allow_none=True)  # the column: run_demand_forecast
        check_flag(self.robust, "robust")
        check_flag(self.unconstrain, "unconstrain")
        if self.capacity is not None:
            _capacity_count(self.capacity)
        self.check_tx_fill(self.tx_fill)  # its value; with the closed days in check_retail
        for name in ("closed_weekdays", "closed_dates"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
                if not (name == "closed_weekdays" and isinstance(value, (str, int)) and not isinstance(value, bool)):
                    raise InputError(f"{name} must be a list (e.g. ['Sunday'] / ['2024-12-25']) or None, "
                                     f"got {type(value).__name__} {shown(value)}")
            else:
                object.__setattr__(self, name, tuple(value))
        self.check_closed_weekdays(self.closed_weekdays)  # a weekday typo is never meant
        self.check_closed_dates(self.closed_dates)
        self.check_calendar(self.calendar)  # the bookings' holidays too
        check_count(self.tx_forecast_days, "tx_forecast_days", fix="days of retail revenue forecast; 0: none")
        check_name(self.mix_by, "mix_by", allow_none=True)  # the column: mix_column
        self.check_mix_top(self.mix_top)
        check_seed(self.seed)
        # closed days declared with tx_fill 'zero' (ignored by the report) are refused where the purchase
        # series is built (check_retail): a data set without transactions does not use them

    @staticmethod
    def check_tx_fill(value: Any, *, closed_weekdays: Any = None, closed_dates: Any = None) -> None:
        """One of ``transaction_series``' fills; closed days only with ``closed``."""
        choices = typing.get_args(Fill)
        if value not in choices:
            raise InputError(f"tx_fill={shown(value)} is not one of {list(choices)} (zero: a day without purchases was "
                             "open and nobody bought; closed: it carries no observation)")
        declared = [k for k, v in (("closed_weekdays", closed_weekdays), ("closed_dates", closed_dates)) if v]
        if value == "zero" and declared:  # stricter than the series, which would leave them out without a word
            raise InputError(f"{' and '.join(declared)} are set but tx_fill is 'zero', so the report would ignore "
                             "them (a day without purchases counts as an open day); set tx_fill: closed, or remove "
                             "them")

    @staticmethod
    def check_mix_top(value: Any) -> None:
        """A positive integer (the number of groups of the revenue mix shown)."""
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"mix_top must be a positive integer (the number of largest groups of the revenue "
                             f"mix shown, the others pooled as 'other'), got {shown(value)}")

    @staticmethod
    def check_forecast_by(value: Any, columns: Any) -> None:
        """``forecast_by`` names one of the bookings' ``columns`` (``fare_class`` may fall back on ``segment``).

        Raises
        ------
        InputError
            Naming ``forecast_by``, the value and the bookings' columns.
        """
        cols = list(columns)
        if value is None or value in cols or (value == "fare_class" and "segment" in cols):
            return
        check_columns({"forecast_by": value}, cols, table="the bookings",
                      fix="Set forecast_by to one of them (fare_class, segment, channel, ...), or None for the total")

    @staticmethod
    def check_mix_by(value: Any, columns: Any) -> None:
        """``mix_by``, when given, names one of the transactions' ``columns``.

        Raises
        ------
        InputError
            Naming ``mix_by``, the value and the transactions' columns.
        """
        if value is not None:
            check_columns({"mix_by": value}, list(columns), table="the transactions",
                          fix="Set mix_by to one of them (e.g. channel or country), or None to use channel, else country")

    @staticmethod
    def check_inputs(bookings: pd.DataFrame | None, transactions: pd.DataFrame | None) -> None:
        """The step needs bookings or transactions (either may be ``None``: its sections are skipped).

        Raises
        ------
        InputError
            Both are ``None``: the run has neither, so there is nothing to report.
        """
        if bookings is None and transactions is None:
            raise InputError("the seasonality step needs transactions or bookings, and the run has neither "
                             "(both data sources are 'none'): configure data.transactions or data.bookings, or "
                             "disable the seasonality notebook (enabled: false in its entry under notebooks:)")

    @staticmethod
    def check_closed_weekdays(value: Any) -> None:
        """Weekdays the shop is closed: each a real weekday name, abbreviation or number (0 = Monday)."""
        if value is not None:
            _check_weekdays(value, "closed_weekdays")

    @staticmethod
    def check_closed_dates(value: Any) -> None:
        """Each an ISO date."""
        if value is None:
            return
        for i, day in enumerate(value):
            to_timestamp(day, f"closed_dates[{i}]")

    @staticmethod
    def check_calendar(value: Any) -> None:
        """The holiday calendar ``HolidayCalendar.from_config(value)`` builds (unknown keys, country, days)."""
        if value is None:
            return
        HolidayCalendar.from_config(value)
        if isinstance(value, Mapping) and value.get("closed_weekdays") is not None:
            _check_weekdays(value["closed_weekdays"], "calendar.closed_weekdays")

    @property
    def holiday_calendar(self) -> HolidayCalendar | None:
        """The holiday calendar of ``calendar`` (``None`` without one)."""
        return HolidayCalendar.from_config(dict(self.calendar) if self.calendar is not None else None)

    @property
    def forecast_capacity(self) -> int | None:
        """Rooms used for unconstraining: ``capacity``, else the default hotel's (``None`` without unconstraining)."""
        if not self.unconstrain:
            return self.capacity
        if self.capacity is not None:
            return int(self.capacity)
        from crm_analysis.synthetic import DEFAULT_HOTEL

        return int(DEFAULT_HOTEL.capacity)

    def check_retail(self) -> None:
        """The checks of the shop's calendar: ``tx_fill``, ``closed_weekdays``, ``closed_dates``.

        Raises
        ------
        ValueError
            See :meth:`check_tx_fill`, :meth:`check_closed_weekdays`, :meth:`check_closed_dates`.
        """
        self.check_tx_fill(self.tx_fill, closed_weekdays=self.closed_weekdays, closed_dates=self.closed_dates)
        self.check_closed_weekdays(self.closed_weekdays)
        self.check_closed_dates(self.closed_dates)

    def retail_calendar(self) -> HolidayCalendar:
        """The shop's calendar: ``calendar`` plus ``closed_weekdays`` and ``closed_dates`` (checked first)."""
        self.check_retail()
        cal = dict(self.calendar or {})
        return HolidayCalendar.from_config({
            **cal,
            "closed_weekdays": list(self.closed_weekdays or []) + list(cal.get("closed_weekdays", [])),
            "closed_dates": list(self.closed_dates or []) + list(cal.get("closed_dates", [])),
        })

    def retail_series_options(self, first_day: Any) -> dict[str, Any]:
        """Keyword arguments of :func:`crm_analysis.seasonality.transaction_series` for the shop's calendar.

        Parameters
        ----------
        first_day : date-like
            First day of the transactions (closed days are listed from it to ``as_of``).
        """
        closed = self.tx_fill == "closed"
        cal = self.retail_calendar()
        return {
            "end": self.as_of, "fill": self.tx_fill,
            "closed_weekdays": list(cal.closed_weekdays) if closed else None,
            "closed_dates": list(cal.closed_days(pd.Timestamp(first_day).normalize(), self.as_of)) if closed else None,
        }

    def retail_forecaster(self) -> DemandForecaster:
        """The :class:`DemandForecaster` of daily retail revenue (``tx_forecast_days``; closed days forecast as 0)."""
        return DemandForecaster(horizon=int(self.tx_forecast_days),
                                holidays=self.retail_calendar() if self.tx_fill == "closed" else None,
                                seed=self.seed, backtest_days=0)

    def forecaster(self) -> DemandForecaster:
        """The :class:`DemandForecaster` of these parameters (unfitted)."""
        return DemandForecaster(horizon=int(self.horizon_days), by=self.forecast_by, seed=self.seed,
                                holidays=self.holiday_calendar, unconstrain=self.unconstrain,
                                capacity=self.forecast_capacity, backtest_days=int(self.backtest_days))


def run_retail_forecast(revenue: Any, params: SeasonalityParams | None = None) -> tuple[ForecastResult | None, str]:
    """The retail revenue forecast of the seasonality report, or why there is none.

    Parameters
    ----------
    revenue : DemandSeries
        Daily revenue (:func:`transaction_series`), up to ``params.as_of``.
    params : SeasonalityParams, optional
        ``tx_forecast_days`` and the calendar; default the notebook's defaults.

    Returns
    -------
    (ForecastResult or None, str)
        The fitted forecast and ``""``; or ``None`` and the sentence the report
        shows when ``tx_forecast_days`` is 0 or the history is shorter than the
        forecaster's cross-validation needs (a data set of one month: the rest
        of the report runs, the forecast is left out and the report says why).
    """
    p = params if params is not None else SeasonalityParams()
    if not p.tx_forecast_days:
        return None, "No revenue forecast (tx_forecast_days = 0)."
    f = p.retail_forecaster()
    values = revenue.values
    as_of = pd.Timestamp(p.as_of)
    n = int((values.index <= as_of).sum())
    need = f.min_history_days()
    if n < need:
        return None, (f"No revenue forecast: the history holds {n} days up to {as_of:%Y-%m-%d}, and the "
                      f"cross-validated forecaster needs at least {need} (a forecast checked on earlier origins). "
                      f"It is left out; the rest of the report is unaffected.")
    return f.fit(revenue, as_of=as_of).result_, ""


def run_demand_forecast(bookings: pd.DataFrame, params: SeasonalityParams | None = None) -> ForecastResult:
    """The demand forecast per fare class the seasonality step hands over (``forecasts.parquet``).

    Parameters
    ----------
    bookings : DataFrame
        Cleaned canonical bookings (``bookings.parquet``).
    params : SeasonalityParams, optional
        Default: the notebook's defaults.

    Returns
    -------
    ForecastResult
        ``forecast`` keeps the ``forecasts.parquet`` contract; ``cv_errors``,
        ``backtest`` (``None`` with ``backtest_days=0``), ``unconstrained``.

    Raises
    ------
    InputError
        ``forecast_by`` is not a column of the bookings (listing them); with
        ``unconstrain``, ``capacity=None`` for bookings that are not the
        built-in hotel's, or a capacity the bookings contradict
        (:func:`crm_analysis.seasonality.check_capacity`); the forecaster's errors.
    """
    p = params if params is not None else SeasonalityParams()
    p.check_forecast_by(p.forecast_by, bookings.columns)
    f = p.forecaster()
    # the rooms the unconstraining uses: None only for the built-in hotel, and not contradicted; resolved here so that
    # the message names SeasonalityParams (DemandForecaster.fit applies the same check_capacity rule for direct users;
    # here it is not run again: the same bookings, capacity and as_of, ~30 ms each time)
    if p.unconstrain or p.capacity is not None:  # a given capacity also sets the sales cap: checked either way
        f.set_params(capacity=check_capacity(bookings, p.capacity, as_of=p.as_of, owner="SeasonalityParams"))
    return f._fit_from(bookings, as_of=p.as_of, capacity_checked=True).result_


def retail_weekday_table(revenue: Any) -> pd.DataFrame:
    """Revenue, open days, share of revenue and mean revenue per open day by weekday.

    Parameters
    ----------
    revenue : DemandSeries
        Daily revenue (:func:`crm_analysis.seasonality.transaction_series`);
        closed days are left out (:meth:`DemandSeries.open_values`).

    Returns
    -------
    DataFrame
        Index ``weekday`` (``Mon`` ... ``Sun``, the weekdays with open days).
    """
    open_rev = revenue.open_values()
    wd = pd.DataFrame({"revenue": open_rev.groupby(open_rev.index.day_of_week).sum(),
                       "open days": open_rev.groupby(open_rev.index.day_of_week).size()})
    wd["share of revenue"] = wd["revenue"] / wd["revenue"].sum()
    wd["mean revenue per open day"] = wd["revenue"] / wd["open days"]
    wd.index = pd.Index([_WEEKDAY_ABBR[i] for i in wd.index], name="weekday")
    return wd


def mix_column(transactions: pd.DataFrame, mix_by: str | None) -> str | None:
    """The column of the revenue mix: ``mix_by``, else ``channel``, else ``country``; ``None`` without two groups.

    Raises
    ------
    InputError
        ``mix_by`` is given and is not a column of the transactions (naming it and listing their columns).
    """
    SeasonalityParams.check_mix_by(mix_by, transactions.columns)  # named: it must be there (was: silently no mix)
    col = mix_by if mix_by is not None else next((c for c in ("channel", "country") if c in transactions.columns), None)
    if col is None or transactions[col].nunique() < 2:
        return None
    return col


def pool_mix_groups(transactions: pd.DataFrame, column: str, *, top: int = 6, other: str = "other") -> pd.DataFrame:
    """The transactions with all but the ``top`` groups of ``column`` by revenue relabelled ``other``.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``amount``, ``column``).
    column : str
        Column of the revenue mix (:func:`mix_column`).
    top : int, default 6
        Groups kept (the largest by the sum of ``amount``; ties in
        ``Series.nlargest`` order). A positive integer.
    other : str, default "other"
        Label of the pooled groups; rows without a value (NaN) are pooled too.
        A group already named ``other`` is counted with the pooled ones.

    Returns
    -------
    DataFrame
        A copy of ``transactions``, same rows; only ``column`` changes.

    Raises
    ------
    InputError
        ``column`` is not a column of ``transactions``, or ``top`` is not a positive integer.
    """
    if column not in transactions.columns:
        raise InputError(f"column={column!r} is not a column of the transactions ({list(transactions.columns)}); "
                         "pass one of them (mix_by)")
    SeasonalityParams.check_mix_top(top)
    keep = transactions.groupby(column)["amount"].sum().nlargest(top).index
    return transactions.assign(**{column: transactions[column].where(transactions[column].isin(keep), other)})


def booking_headlines(decomposition: Any, forecast: ForecastResult | None) -> dict[str, tuple[Any, str]]:
    """Headline figures of the room-nights: ``{key: (value, label)}`` (declared in :data:`crm_analysis.contracts.HEADLINES`).

    Parameters
    ----------
    decomposition : Decomposition
        Of the total room-nights.
    forecast : ForecastResult, optional
        The demand forecast (its backtest and cross-validated MASE of the total).
    """
    d = decomposition
    strongest = max(d.strength_seasonal, key=d.strength_seasonal.get)
    out: dict[str, tuple[Any, str]] = {"strongest_seasonal_cycle": (f"{strongest} days",
                                                                    "Strongest seasonal cycle of room-nights")}
    for p, v in d.strength_seasonal.items():
        out[f"seasonal_strength_{p}"] = (round(v, 3), f"Seasonal strength, period {p} days")
    out["trend_strength"] = (round(d.strength_trend, 3), "Trend strength of room-nights")
    if forecast is None:
        return out
    if forecast.backtest is not None:
        out["forecast_backtest_coverage"] = (round(float(forecast.backtest.errors.loc["all classes", "coverage"]), 3),
                                             f"Backtest coverage of the {forecast.level:.0%} forecast intervals")
        out["forecast_backtest_mape"] = (round(forecast.backtest.mape, 2),
                                         "Forecast backtest MAPE of total room-nights (%)")
    series = "total" if "total" in forecast.chosen.index else forecast.chosen.index[0]
    out["forecast_cv_mase"] = (round(float(forecast.cv_errors.loc[(series, "final"), "mase"]), 3),
                               "Cross-validated MASE of the total room-night forecast")
    return out


def retail_headlines(decomposition: Any, weekdays: pd.DataFrame) -> dict[str, tuple[Any, str]]:
    """Headline figures of retail revenue: ``{key: (value, label)}``.

    Parameters
    ----------
    decomposition : Decomposition
        Of daily retail revenue.
    weekdays : DataFrame
        :func:`retail_weekday_table`.
    """
    p = decomposition.strongest_period
    peak = weekdays["share of revenue"].idxmax()
    return {
        "retail_strongest_cycle": (f"{p} days", "Strongest seasonal cycle of retail revenue"),
        f"retail_seasonal_strength_{p}": (round(decomposition.strength_seasonal[p], 3),
                                         f"Seasonal strength of retail revenue, period {p} days"),
        "retail_peak_weekday": (peak, "Weekday with the largest share of retail revenue"),
        "retail_peak_weekday_share": (round(float(weekdays.loc[peak, "share of revenue"]), 4),
                                      f"Share of retail revenue on {peak} (open days)"),
    }


def decompose_quietly(series: Any, **kwargs: Any) -> Any:
    """:func:`crm_analysis.seasonality.decompose` without its :class:`~crm_analysis.exceptions.DroppedPeriodWarning`.

    A period without enough cycles is reported by the result's
    ``dropped_periods`` (and in words by :func:`dropped_sentence`), not as a
    warning.
    """
    import warnings

    from .decompose import decompose

    from crm_analysis.exceptions import DroppedPeriodWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedPeriodWarning)  # only that one: any other warning shows
        return decompose(series, **kwargs)


def dropped_sentence(decomposition: Any, what: str) -> str:
    """The periods a decomposition left out, and why, in words (empty when none)."""
    return " ".join(f"The {p}-day cycle of {what} is not estimated: it {why}."
                    for p, why in decomposition.dropped_periods.items())
