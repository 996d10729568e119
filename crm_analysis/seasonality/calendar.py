"""Holidays and closed days from a maintained holiday calendar.

:class:`HolidayCalendar` is built once from the configuration (country and
region) and used in two ways:

* **closed days** of a business (a shop closed on Saturdays, over Christmas
  and on bank holidays): they carry no demand observation
  (:func:`~crm_analysis.seasonality.series.transaction_series` with
  ``fill="closed"``), and a forecast of them is 0;
* **calendar effects** in demand forecasts (a hotel is open on public
  holidays, but its demand differs): 0/1 regressors ``holiday`` (a public
  holiday) and ``holiday_eve`` (the day before one) for
  :class:`~crm_analysis.seasonality.forecaster.DemandForecaster`.

The public holidays come from the ``holidays`` package (the "Open World
Holidays Framework", maintained on PyPI), by ISO 3166 country code and, where
the country has them, subdivision (e.g. ``GB``/``ENG`` for England, ``PT``/``11``
for the Lisbon district). Dates a business declares closed on top of that
(a stock-taking day) are given as ``closed_dates``; closures that come back
every year (a Christmas closure from 24 December to 3 January, Easter Sunday
where it is no public holiday) as ``closed_periods``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import re

import numpy as np
import pandas as pd

from ._common import to_timestamp, weekday_names, weekday_number

__all__ = ["HolidayCalendar", "CALENDAR_REGRESSORS", "yearly_dates"]

_MD = r"(\d{2})-(\d{2})"
_PERIOD_RE = re.compile(rf"^{_MD}(?:\.\.{_MD})?$")
_EASTER_RE = re.compile(r"^easter(?:([+-])(\d+))?$")


def _check_period(spec: object) -> str:
    text = str(spec).strip().lower().replace(" ", "")
    m = _PERIOD_RE.match(text)
    if m:
        for mm, dd in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
            if mm is not None:
                try:
                    pd.Timestamp(f"2000-{mm}-{dd}")  # a leap year: 02-29 is a valid day of the year
                except ValueError:
                    raise InputError(f"closed_periods: {spec!r} names no day of the year") from None
        return text
    if _EASTER_RE.match(text):
        return text
    raise InputError(
        f"closed_periods: {spec!r} is not a yearly period; use 'MM-DD' (one day a year), 'MM-DD..MM-DD' "
        f"(a range, may run over the new year, e.g. '12-24..01-03') or 'easter', 'easter+1', 'easter-2' "
        f"(days from Easter Sunday)"
    )


def yearly_dates(spec: str, years: Iterable[int]) -> pd.DatetimeIndex:
    """The dates of a yearly period (see ``HolidayCalendar.closed_periods``) in the given years.

    Parameters
    ----------
    spec : str
        ``"MM-DD"``, ``"MM-DD..MM-DD"`` (a range that may run over the new
        year: ``"12-24..01-03"`` is 24 December to 3 January of the next
        year), or ``"easter"`` / ``"easter+N"`` / ``"easter-N"`` (days from
        Western Easter Sunday, ``dateutil.easter``).
    years : iterable of int
        Years in which the period starts.

    Returns
    -------
    pandas.DatetimeIndex
        Sorted dates (a range over the new year reaches into the next year).

    Raises
    ------
    ValueError
        On a malformed period.

    Examples
    --------
    >>> [f"{d:%Y-%m-%d}" for d in yearly_dates("easter", [2011])]
    ['2011-04-24']
    >>> len(yearly_dates("12-24..01-03", [2010]))
    11
    """
    from dateutil.easter import easter

    text = _check_period(spec)
    out: list[pd.Timestamp] = []
    for y in years:
        m = _EASTER_RE.match(text)
        if m:
            shift = int(m.group(2) or 0) * (-1 if m.group(1) == "-" else 1)
            out.append(pd.Timestamp(easter(int(y))) + pd.Timedelta(days=shift))
            continue
        start_md, _, end_md = text.partition("..")
        try:
            start = pd.Timestamp(f"{y}-{start_md}")
        except ValueError:  # 02-29 outside a leap year
            continue
        if not end_md:
            out.append(start)
            continue
        end_year = y if end_md >= start_md else y + 1
        try:
            end = pd.Timestamp(f"{end_year}-{end_md}")
        except ValueError:
            end = pd.Timestamp(f"{end_year}-02-28")
        out.extend(pd.date_range(start, end, freq="D"))
    return pd.DatetimeIndex(sorted(set(out)), name="date").astype("datetime64[ns]")

#: Names of the regressors of :meth:`HolidayCalendar.regressors`.
CALENDAR_REGRESSORS: tuple[str, ...] = ("holiday", "holiday_eve")


def _country_holidays(country: str, subdiv: str | None, years: Iterable[int]) -> Any:
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        raise InputError(
            f"holiday calendar: unknown country {country!r}; use an ISO 3166-1 alpha-2 code such as 'GB', "
            f"'PT' or 'DE' (holidays.list_supported_countries() lists them)"
        )
    if subdiv is not None and subdiv not in supported[country]:
        raise InputError(
            f"holiday calendar: unknown subdivision {subdiv!r} of {country!r}; "
            f"use one of {list(supported[country])} or subdiv=None for the national holidays"
        )
    return holidays.country_holidays(country, subdiv=subdiv, years=list(years))


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays (from the ``holidays`` package) and declared closed days.

    Parameters
    ----------
    country : str, optional
        ISO 3166-1 alpha-2 code (``"GB"``, ``"PT"``, ...). ``None``: no
        public holidays (only the declared closed days).
    subdiv : str, optional
        Subdivision code of the ``holidays`` package (``"ENG"`` for England,
        ``"11"`` for the Lisbon district of Portugal); ``None``: national
        holidays only.
    closed_weekdays : sequence of int or str, default ()
        Weekdays the business is closed (0 = Monday, or names).
    closed_dates : sequence of date-like, default ()
        Further dates the business is closed (a Christmas closure, ...).
    holidays_closed : bool, default False
        The business is closed on public holidays (a shop): they are closed
        days. ``False`` (a hotel): public holidays are open days whose demand
        differs, used as forecast regressors.
    closed_periods : sequence of str, default ()
        Closures that come back every year: ``"MM-DD"``, ``"MM-DD..MM-DD"``
        (``"12-24..01-03"``: a Christmas closure over the new year) or
        ``"easter"`` / ``"easter+N"`` / ``"easter-N"`` (see :func:`yearly_dates`).

    Raises
    ------
    ValueError
        On an unknown country or subdivision, a bad weekday or date, or
        ``holidays_closed`` without a country.

    Examples
    --------
    >>> cal = HolidayCalendar("GB", subdiv="ENG", closed_weekdays=("Saturday",), holidays_closed=True)
    >>> [d.strftime("%Y-%m-%d") for d in cal.holidays("2011-04-20", "2011-05-03").index]
    ['2011-04-22', '2011-04-25', '2011-04-29', '2011-05-02']
    """

    country: str | None = None
    subdiv: str | None = None
    closed_weekdays: tuple[int, ...] = ()
    closed_dates: tuple[pd.Timestamp, ...] = ()
    holidays_closed: bool = False
    closed_periods: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        country = self.country
        if country is not None:
            if not isinstance(country, str) or not country.strip():
                raise InputError(f"holiday calendar: country must be an ISO country code such as 'GB', got {shown(country)}")
            country = country.strip().upper()
            object.__setattr__(self, "country", country)
            subdiv = None if self.subdiv is None else str(self.subdiv).strip()
            object.__setattr__(self, "subdiv", subdiv)
            _country_holidays(country, subdiv, [2000])  # validates country and subdivision
        elif self.subdiv is not None:
            raise InputError(f"holiday calendar: subdiv={self.subdiv!r} needs a country")
        if self.holidays_closed and country is None:
            raise InputError("holiday calendar: holidays_closed=True needs a country (whose public holidays are closed)")
        wd = self.closed_weekdays
        if isinstance(wd, (str, int)):
            wd = (wd,)
        object.__setattr__(self, "closed_weekdays", tuple(sorted({weekday_number(d) for d in (wd or ())})))
        dates = self.closed_dates
        if isinstance(dates, (str, pd.Timestamp)):
            dates = (dates,)
        object.__setattr__(
            self, "closed_dates", tuple(sorted({to_timestamp(d, "closed_dates") for d in (dates or ())}))
        )
        periods = self.closed_periods
        if isinstance(periods, str):
            periods = (periods,)
        object.__setattr__(self, "closed_periods", tuple(dict.fromkeys(_check_period(p) for p in (periods or ()))))

    # ------------------------------------------------------------- builders
    @classmethod
    def from_config(cls, spec: Mapping[str, Any] | "HolidayCalendar" | None) -> "HolidayCalendar | None":
        """Build from a configuration mapping (``country``, ``subdiv``, ...).

        Parameters
        ----------
        spec : mapping, HolidayCalendar or None
            Keys: the parameters of the class. ``None`` gives ``None``.

        Returns
        -------
        HolidayCalendar or None

        Raises
        ------
        ValueError
            On an unknown key or a bad value.
        """
        if spec is None or isinstance(spec, HolidayCalendar):
            return spec
        if not isinstance(spec, Mapping):
            raise InputError(f"holiday calendar must be a mapping such as {{country: GB}}, got {shown(spec)}")
        known = {"country", "subdiv", "closed_weekdays", "closed_dates", "holidays_closed", "closed_periods"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise InputError(f"holiday calendar: unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**dict(spec))

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (for JSON/YAML), the inverse of :meth:`from_config`."""
        names = weekday_names()
        return {
            "country": self.country,
            "subdiv": self.subdiv,
            "closed_weekdays": [names[d] for d in self.closed_weekdays],
            "closed_dates": [d.strftime("%Y-%m-%d") for d in self.closed_dates],
            "holidays_closed": self.holidays_closed,
            "closed_periods": list(self.closed_periods),
        }

    # ------------------------------------------------------------- queries
    def holidays(self, start: object, end: object) -> pd.Series:
        """Public holidays between ``start`` and ``end`` (inclusive).

        Returns
        -------
        pandas.Series
            Holiday names indexed by date (``DatetimeIndex`` named ``date``);
            empty without a country.
        """
        s, e = to_timestamp(start, "start"), to_timestamp(end, "end")
        if self.country is None or e < s:
            return pd.Series([], index=pd.DatetimeIndex([], name="date"), dtype="string", name="holiday")
        hol = _country_holidays(self.country, self.subdiv, range(s.year, e.year + 1))
        items = sorted((pd.Timestamp(d), str(n)) for d, n in hol.items() if s <= pd.Timestamp(d) <= e)
        idx = pd.DatetimeIndex([d for d, _ in items], name="date").astype("datetime64[ns]")
        return pd.Series([n for _, n in items], index=idx, dtype="string", name="holiday")

    def closed_mask(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Boolean array over ``index``: the business is closed that day."""
        index = pd.DatetimeIndex(index)
        mask = np.isin(index.day_of_week, list(self.closed_weekdays))
        if self.closed_dates:
            mask |= index.isin(pd.DatetimeIndex(self.closed_dates).astype("datetime64[ns]"))
        if self.holidays_closed and len(index):
            mask |= index.isin(self.holidays(index.min(), index.max()).index)
        if self.closed_periods and len(index):
            years = range(index.min().year - 1, index.max().year + 1)  # a range over the new year starts the year before
            for spec in self.closed_periods:
                mask |= index.normalize().isin(yearly_dates(spec, years))
        return np.asarray(mask, dtype=bool)

    def closed_days(self, start: object, end: object) -> pd.DatetimeIndex:
        """Closed days between ``start`` and ``end`` (inclusive)."""
        cal = pd.date_range(to_timestamp(start, "start"), to_timestamp(end, "end"), freq="D", name="date")
        return cal[self.closed_mask(cal)].astype("datetime64[ns]")

    def regressors(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """Calendar-effect regressors of open days (0/1 columns of :data:`CALENDAR_REGRESSORS`).

        ``holiday``: a public holiday; ``holiday_eve``: the day before one
        (not itself a holiday). Without a country, or when holidays are
        closed days (``holidays_closed``), there are no regressors (an empty
        frame with the index).
        """
        index = pd.DatetimeIndex(index)
        if self.country is None or self.holidays_closed or not len(index):
            return pd.DataFrame(index=index)
        hol = self.holidays(index.min(), index.max() + pd.Timedelta(days=1)).index
        is_hol = index.isin(hol)
        eve = (index + pd.Timedelta(days=1)).isin(hol) & ~is_hol
        return pd.DataFrame({"holiday": is_hol.astype(float), "holiday_eve": eve.astype(float)}, index=index)

    def describe(self) -> str:
        """One line saying what the calendar holds."""
        parts = []
        if self.country:
            where = self.country + (f"/{self.subdiv}" if self.subdiv else "")
            parts.append(f"public holidays of {where} (holidays package) as "
                         + ("closed days" if self.holidays_closed else "calendar effects"))
        if self.closed_weekdays:
            names = weekday_names()
            parts.append("closed on " + ", ".join(names[d] for d in self.closed_weekdays))
        if self.closed_periods:
            parts.append("closed every year on " + ", ".join(self.closed_periods))
        if self.closed_dates:
            parts.append(f"{len(self.closed_dates)} declared closed date(s)")
        return "; ".join(parts) if parts else "no holidays or closed days"
