"""Daily and weekly demand series on an explicit calendar.

A demand series is built from canonical transactions (:func:`transaction_series`)
or canonical bookings (:func:`booking_series`) on an explicit calendar: every
day between ``start`` and ``end`` is present. Days without any activity are
filled according to a stated policy:

``fill="zero"``
    The business was open and nobody came: the day counts 0.
``fill="closed"``
    The day is marked *closed* (e.g. the UCI Online Retail shop on Saturdays and
    over Christmas). Closed days are given by ``closed_weekdays`` /
    ``closed_dates``; when neither is given, every day without activity is taken
    as closed. Days without activity that are not declared closed count 0.

Closed days carry no demand observation, but STL/MSTL cannot take missing
values (statsmodels silently returns all-NaN components when a single NaN is
in the input). The daily ``values`` therefore hold closed days **linearly
interpolated** between the neighbouring open days (nearest value at the ends);
the result says so (``interpolated_days``, ``notes``) and keeps the closed days
in ``closed_days`` so that share tables (:mod:`crm_analysis.seasonality.mix`)
can leave them out. Weekly series sum the daily demand of full Monday-Sunday
weeks; closed days contribute nothing to the week (no interpolation) unless
the whole week is closed.

Nothing is dropped silently: rows left out (cancelled bookings, events outside
the calendar, rows with missing dates, ...) are counted by reason in
``DemandSeries.excluded``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, NotFoundError, shown

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from crm_analysis.data.errors import refuse_infinite

from ._common import require_columns, to_day, to_timestamp, weekday_number

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DemandSeries",
    "transaction_series",
    "booking_series",
    "stay_nights",
    "TRANSACTION_MEASURES",
    "BOOKING_MEASURES",
]

#: Measures of :func:`transaction_series`.
TRANSACTION_MEASURES: tuple[str, ...] = ("orders", "lines", "revenue", "customers")
#: Measures of :func:`booking_series`.
BOOKING_MEASURES: tuple[str, ...] = ("room_nights", "revenue", "arrivals", "bookings")

_MEASURE_LABELS = {
    "orders": "orders",
    "lines": "order lines",
    "revenue": "revenue",
    "customers": "distinct customers",
    "room_nights": "room-nights (by stay date)",
    "arrivals": "bookings (by arrival date)",
    "bookings": "bookings (by booking date)",
}

Fill = Literal["zero", "closed"]
Freq = Literal["D", "W"]


@dataclass
class DemandSeries:
    """A demand series on an explicit calendar.

    Attributes
    ----------
    values : pandas.Series or pandas.DataFrame
        Demand per period (index: ``DatetimeIndex`` named ``date``; weekly
        periods are labelled by their Monday). A Series for the total, a
        DataFrame with one column per group when ``by`` was given. Never
        contains NaN: closed days are interpolated (see ``interpolated_days``).
    freq : {"D", "W"}
        Daily or weekly (Monday-Sunday) periods.
    measure : str
        What is counted, e.g. ``"room_nights"`` or ``"orders"``.
    source : {"transactions", "bookings"}
        The kind of input.
    by : str or None
        Grouping column (e.g. ``"segment"``), ``None`` for the total.
    fill : {"zero", "closed"}
        Policy for days without activity (see the module docstring).
    filled_days : int
        Calendar days without any activity that were counted as 0 (open,
        nobody came).
    closed_days : pandas.DatetimeIndex
        Calendar days marked closed (no demand observation).
    interpolated_days : int
        Closed days whose daily value was linearly interpolated so that the
        series can be decomposed (0 for weekly series, where closed days
        contribute 0 to their week, unless a whole week is closed).
    start, end : pandas.Timestamp
        First and last calendar day.
    excluded : dict
        Rows (or days) left out, counted by reason.
    notes : list of str
        Human-readable account of every choice and change.
    """

    values: pd.Series | pd.DataFrame
    freq: str
    measure: str
    source: str
    by: str | None
    fill: str
    filled_days: int
    closed_days: pd.DatetimeIndex
    interpolated_days: int
    start: pd.Timestamp
    end: pd.Timestamp
    excluded: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ accessors
    @property
    def total(self) -> pd.Series:
        """Total demand per period (sum over groups when grouped)."""
        if isinstance(self.values, pd.DataFrame):
            out = self.values.sum(axis=1)
            out.name = self.measure
            return out
        return self.values

    @property
    def groups(self) -> list[str]:
        """Group labels (empty for an ungrouped series)."""
        return list(self.values.columns) if isinstance(self.values, pd.DataFrame) else []

    @property
    def closed_mask(self) -> pd.Series:
        """Boolean Series over the periods: ``True`` where the period is closed.

        Daily series: the day is closed. Weekly series: every day of the week
        is closed.
        """
        idx = self.values.index
        if self.freq == "D":
            return pd.Series(idx.isin(self.closed_days), index=idx, name="closed")
        week = self.closed_days - pd.to_timedelta(self.closed_days.day_of_week, unit="D")
        counts = pd.Series(1, index=week).groupby(level=0).sum()
        full = counts[counts >= 7].index
        return pd.Series(idx.isin(full), index=idx, name="closed")

    def column(self, *, name: str | None = None) -> pd.Series:
        """One group's series (``None``: the total).

        Raises
        ------
        KeyError
            When ``name`` is not a group of the series.
        """
        if name is None:
            return self.total
        if not isinstance(self.values, pd.DataFrame) or name not in self.values.columns:
            raise NotFoundError(f"{name!r} is not a group of this series; groups: {self.groups}")
        out = self.values[name]
        out.name = name
        return out

    def open_values(self) -> pd.Series | pd.DataFrame:
        """The values without the closed periods (no interpolated values)."""
        return self.values.loc[~self.closed_mask.to_numpy()]

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``date``, group column (when grouped), ``value``, ``closed``."""
        closed = self.closed_mask
        if isinstance(self.values, pd.DataFrame):
            long = self.values.rename_axis(index="date", columns=self.by).stack().rename("value").reset_index()
            long["closed"] = closed.reindex(long["date"]).to_numpy()
            return long
        return pd.DataFrame(
            {"date": self.values.index, "value": self.values.to_numpy(), "closed": closed.to_numpy()}
        )

    @property
    def label(self) -> str:
        """Human label of the measure."""
        return _MEASURE_LABELS.get(self.measure, self.measure)

    def plot(self, ax: "Axes | None" = None, *, stacked: bool = True) -> "Figure":
        """Plot the series (stacked areas by group when grouped).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure when omitted.
        stacked : bool, default True
            Stack the groups (grouped series only).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(10, 3.5))
        else:
            fig = ax.figure
        if isinstance(self.values, pd.DataFrame) and stacked:
            ax.stackplot(self.values.index, self.values.T.to_numpy(), labels=self.groups, alpha=0.85)
            ax.legend(loc="upper left", fontsize="small", ncol=min(4, len(self.groups)))
        elif isinstance(self.values, pd.DataFrame):
            for name in self.groups:
                ax.plot(self.values.index, self.values[name], lw=0.8, label=name)
            ax.legend(loc="upper left", fontsize="small")
        else:
            ax.plot(self.values.index, self.values.to_numpy(), lw=0.8)
        if len(self.closed_days) and self.freq == "D":
            y0 = ax.get_ylim()[0]
            ax.plot(self.closed_days, np.full(len(self.closed_days), y0), "|", color="grey", label="closed")
        period = "day" if self.freq == "D" else "week"
        ax.set_title(f"{self.label.capitalize()} per {period}" + (f" by {self.by}" if self.by else ""))
        ax.set_xlabel("date")
        ax.set_ylabel(self.label)
        return fig


# --------------------------------------------------------------------- build
def _calendar_bounds(
    dates: pd.Series, start: object, end: object, excluded: dict[str, int] | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    left_out = ", ".join(f"{n:,} {why}" for why, n in (excluded or {}).items() if n)
    left_out = f" (left out: {left_out})" if left_out else ""
    if start is None:
        if dates.empty:
            raise InputError(f"no rows left to build a series from{left_out}, and no start given")
        start_ts = pd.Timestamp(dates.min())
    else:
        start_ts = to_timestamp(start, "start")
    if end is None:
        if dates.empty:
            raise InputError(f"no rows left to build a series from{left_out}, and no end given")
        end_ts = pd.Timestamp(dates.max())
    else:
        end_ts = to_timestamp(end, "end")
    if end_ts < start_ts:
        if start is None:
            raise InputError(
                f"end={end_ts.date()} is before the first date in the data ({start_ts.date()}): nothing to build "
                f"a series from; choose an end on or after {start_ts.date()}"
            )
        raise InputError(f"end ({end_ts.date()}) is before start ({start_ts.date()})")
    return start_ts, end_ts


def _closed_declared(
    calendar: pd.DatetimeIndex,
    closed_weekdays: Iterable[int | str] | None,
    closed_dates: Iterable[object] | None,
) -> np.ndarray:
    mask = np.zeros(len(calendar), dtype=bool)
    if closed_weekdays is not None:
        wd = [weekday_number(d) for d in closed_weekdays]
        mask |= np.isin(calendar.day_of_week, wd)
    if closed_dates is not None:
        cd = pd.DatetimeIndex([to_timestamp(d, "closed_dates") for d in closed_dates]).astype("datetime64[ns]")
        mask |= calendar.isin(cd)
    return mask


def _build(
    events: pd.DataFrame,
    *,
    how: Literal["sum", "nunique"],
    by: str | None,
    freq: str,
    start: object,
    end: object,
    fill: str,
    closed_weekdays: Iterable[int | str] | None,
    closed_dates: Iterable[object] | None,
    measure: str,
    source: str,
    excluded: dict[str, int],
    notes: list[str],
) -> DemandSeries:
    """Aggregate event rows (``date``, ``value``, optional ``group``) onto a calendar."""
    if freq not in ("D", "W"):
        raise InputError(f"freq must be 'D' (daily) or 'W' (weekly), got {shown(freq)}")
    if fill not in ("zero", "closed"):
        raise InputError(f"fill must be 'zero' (open, nobody came) or 'closed', got {shown(fill)}")
    if fill == "zero" and (closed_weekdays is not None or closed_dates is not None):
        raise InputError("closed_weekdays / closed_dates need fill='closed'")

    start_ts, end_ts = _calendar_bounds(events["date"], start, end, excluded)
    calendar = pd.date_range(start_ts, end_ts, freq="D", name="date").astype("datetime64[ns]")
    outside = ~events["date"].between(start_ts, end_ts)
    if outside.any():
        excluded["events outside the calendar"] = excluded.get("events outside the calendar", 0) + int(
            outside.sum()
        )
        notes.append(f"{int(outside.sum())} event rows fall outside {start_ts.date()}..{end_ts.date()} and are left out")
        events = events.loc[~outside]

    active = calendar.isin(pd.DatetimeIndex(events["date"].unique()))
    declared = _closed_declared(calendar, closed_weekdays, closed_dates)
    if fill == "closed":
        if closed_weekdays is None and closed_dates is None:
            closed = ~active
            notes.append("fill='closed' without closed_weekdays/closed_dates: every day without activity is taken as closed")
        else:
            closed = declared & ~active
            busy = int((declared & active).sum())
            if busy:
                notes.append(f"{busy} day(s) declared closed had activity and are kept as open days")
    else:
        closed = np.zeros(len(calendar), dtype=bool)
    filled = ~active & ~closed
    closed_days = calendar[closed]
    if closed.all():
        raise InputError("every calendar day is closed or without activity: nothing to build a series from")
    if filled.any():
        notes.append(f"{int(filled.sum())} day(s) without activity counted as 0 (open, nobody came)")

    group_order: list[str] | None = None
    if by is not None:
        group_order = sorted(events["group"].unique().tolist()) if not events.empty else []

    def aggregate(keys: pd.Series, index: pd.DatetimeIndex) -> pd.Series | pd.DataFrame:
        if by is None:
            grouped = events.groupby(keys.to_numpy())["value"]
            agg = grouped.sum() if how == "sum" else grouped.nunique()
            out = agg.reindex(index, fill_value=0).astype(float)
            out.index.name = "date"
            out.name = measure
            return out
        grouped = events.groupby([keys.to_numpy(), events["group"].to_numpy()])["value"]
        agg = grouped.sum() if how == "sum" else grouped.nunique()
        wide = agg.unstack(fill_value=0).reindex(index=index, columns=group_order, fill_value=0)
        wide = wide.fillna(0).astype(float)
        wide.index.name = "date"
        wide.columns = pd.Index([str(c) for c in wide.columns], name=by)
        return wide

    interpolated = 0
    if freq == "D":
        values = aggregate(events["date"], calendar)
        if closed.any():
            values.loc[closed] = np.nan
            values = values.interpolate(method="linear", limit_direction="both")
            interpolated = int(closed.sum())
            notes.append(
                f"{interpolated} closed day(s) linearly interpolated between neighbouring open days "
                "(STL/MSTL cannot take missing values); share tables leave them out"
            )
    else:
        first = start_ts + pd.Timedelta(days=(7 - start_ts.day_of_week) % 7)
        last = end_ts - pd.Timedelta(days=(end_ts.day_of_week + 1) % 7)
        if last < first + pd.Timedelta(days=6):
            raise InputError(f"calendar {start_ts.date()}..{end_ts.date()} holds no full Monday-Sunday week")
        weeks = pd.date_range(first, last - pd.Timedelta(days=6), freq="7D", name="date").astype("datetime64[ns]")
        edge = int(((calendar < first) | (calendar > last)).sum())
        if edge:
            in_edge = (events["date"] < first) | (events["date"] > last)
            excluded["events in partial edge weeks"] = int(in_edge.sum())
            notes.append(
                f"weekly series uses full Monday-Sunday weeks {first.date()}..{last.date()}: "
                f"{edge} edge day(s) ({int(in_edge.sum())} event rows) left out"
            )
            events = events.loc[~in_edge]
        keys = events["date"] - pd.to_timedelta(events["date"].dt.day_of_week, unit="D")
        values = aggregate(keys, weeks)
        wk_closed = pd.Series(closed, index=calendar)
        wk_closed = wk_closed[(calendar >= first) & (calendar <= last)]
        full_closed = wk_closed.groupby(np.arange(len(wk_closed)) // 7).all().to_numpy()
        if full_closed.any():
            values.loc[full_closed] = np.nan
            values = values.interpolate(method="linear", limit_direction="both")
            interpolated = int(full_closed.sum()) * 7
            notes.append(f"{int(full_closed.sum())} fully closed week(s) linearly interpolated")
        if len(closed_days):
            notes.append("closed days contribute 0 to their week")

    return DemandSeries(
        values=values,
        freq=freq,
        measure=measure,
        source=source,
        by=by,
        fill=fill,
        filled_days=int(filled.sum()),
        closed_days=pd.DatetimeIndex(closed_days, name="date"),
        interpolated_days=interpolated,
        start=start_ts,
        end=end_ts,
        excluded=excluded,
        notes=notes,
    )


def _group_column(df: pd.DataFrame, by: str | None, excluded: dict[str, int], notes: list[str]) -> pd.Series | None:
    if by is None:
        return None
    if by == "fare_class" and "fare_class" not in df.columns and "segment" in df.columns:
        notes.append("no fare_class column: fare class defaults to segment (canonical schema)")
        col = df["segment"]
    else:
        require_columns(df, [by], "data")
        col = df[by]
    if by == "fare_class" and "segment" in df.columns and col.isna().any():
        col = col.fillna(df["segment"])
    missing = col.isna()
    if missing.any():
        notes.append(f"{int(missing.sum())} row(s) without {by} grouped as '(missing)'")
        col = col.astype("object").where(~missing, "(missing)")
    return col.astype(str)


def transaction_series(
    transactions: pd.DataFrame,
    *,
    measure: str = "orders",
    by: str | None = None,
    freq: Freq = "D",
    start: object = None,
    end: object = None,
    fill: Fill = "zero",
    closed_weekdays: Sequence[int | str] | None = None,
    closed_dates: Sequence[object] | None = None,
) -> DemandSeries:
    """Demand series from canonical transactions.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``;
        ``order_id`` optional).
    measure : {"orders", "lines", "revenue", "customers"}, default "orders"
        Distinct orders (rows when there is no ``order_id``), rows, sum of
        ``amount`` (returns count negatively), or distinct customers per period.
    by : str, optional
        Column to group by (e.g. ``"channel"``, ``"country"``).
    freq : {"D", "W"}, default "D"
        Daily or weekly (full Monday-Sunday weeks) periods.
    start, end : date-like, optional
        Calendar bounds; default: first and last purchase day.
    fill : {"zero", "closed"}, default "zero"
        Policy for days without activity (see the module docstring).
    closed_weekdays : sequence of int or str, optional
        Weekdays the business is closed (0 = Monday, or names such as
        ``"Saturday"``); needs ``fill="closed"``.
    closed_dates : sequence of date-like, optional
        Dates the business is closed (e.g. a Christmas closure); needs
        ``fill="closed"``.

    Returns
    -------
    DemandSeries

    Raises
    ------
    ValueError
        On a missing column, an unknown measure or option, or an empty calendar;
        infinite amounts with measure "revenue" (DataValidationError,
        :func:`crm_analysis.data.errors.raise_on_infinite`).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b"], "amount": [5.0, 7.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03"])})
    >>> s = transaction_series(tx, measure="revenue")
    >>> s.values.tolist(), s.filled_days
    ([5.0, 0.0, 7.0], 1)
    """
    if measure not in TRANSACTION_MEASURES:
        raise InputError(f"unknown measure {measure!r}; choose one of {TRANSACTION_MEASURES}")
    require_columns(transactions, ["customer_id", "timestamp", "amount"], "transactions")
    excluded: dict[str, int] = {}
    notes: list[str] = []
    df = transactions
    dates = to_day(df["timestamp"])
    bad = dates.isna().to_numpy()
    if bad.any():
        excluded["missing timestamp"] = int(bad.sum())
        notes.append(f"{int(bad.sum())} row(s) without timestamp left out")
    ev = pd.DataFrame({"date": dates.to_numpy()})
    if measure == "orders":
        if "order_id" in df.columns:
            ev["value"] = df["order_id"].astype("object").to_numpy()
            missing_order = ev["value"].isna().to_numpy()
            if missing_order.any():
                # a line without an order id counts as its own order
                ev.loc[missing_order, "value"] = [f"__row{i}" for i in np.flatnonzero(missing_order)]
                notes.append(f"{int(missing_order.sum())} line(s) without order_id counted as one order each")
            how: Literal["sum", "nunique"] = "nunique"
        else:
            ev["value"] = 1.0
            how = "sum"
            notes.append("no order_id column: every row counts as one order")
    elif measure == "lines":
        ev["value"] = 1.0
        how = "sum"
    elif measure == "revenue":
        ev["value"] = pd.to_numeric(df["amount"]).astype(float).to_numpy()
        refuse_infinite(ev["value"].to_numpy(), "amount")  # the one rule of every reader that sums amounts
        neg = int((ev["value"] < 0).sum())
        if neg:
            notes.append(f"{neg} line(s) with negative amount (returns) reduce revenue on their day")
        how = "sum"
    else:
        ev["value"] = df["customer_id"].astype("object").to_numpy()
        how = "nunique"
    group = _group_column(df, by, excluded, notes)
    if group is not None:
        ev["group"] = group.to_numpy()
    ev = ev.loc[~bad]
    return _build(
        ev,
        how=how,
        by=by,
        freq=freq,
        start=start,
        end=end,
        fill=fill,
        closed_weekdays=closed_weekdays,
        closed_dates=closed_dates,
        measure=measure,
        source="transactions",
        excluded=excluded,
        notes=notes,
    )


def stay_nights(bookings: pd.DataFrame) -> pd.DataFrame:
    """Spread bookings over their stay dates: one row per booking and night.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``arrival_date``, ``nights``, ``rate``; ``units``
        optional, default 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (positional index of the booking in ``bookings``),
        ``date`` (stay date = arrival + k for k = 0..nights-1), ``room_nights``
        (``units``) and ``revenue`` (``rate * units``). Bookings with 0 nights
        (day use) produce no rows.

    Examples
    --------
    >>> b = pd.DataFrame({"arrival_date": pd.to_datetime(["2024-01-01"]), "nights": [3],
    ...                   "rate": [100.0], "units": [2]})
    >>> stay_nights(b)["room_nights"].sum()
    np.float64(6.0)
    """
    require_columns(bookings, ["arrival_date", "nights", "rate"], "bookings")
    nights = pd.to_numeric(bookings["nights"]).fillna(0).clip(lower=0).astype(np.int64).to_numpy()
    units = (
        pd.to_numeric(bookings["units"]).fillna(1).astype(float).to_numpy()
        if "units" in bookings.columns
        else np.ones(len(bookings))
    )
    rate = pd.to_numeric(bookings["rate"]).astype(float).to_numpy()
    arrival = to_day(bookings["arrival_date"]).to_numpy()
    rows = np.repeat(np.arange(len(bookings)), nights)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(nights) - nights, nights)
    dates = arrival[rows] + offset.astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "row": rows,
            "date": pd.DatetimeIndex(dates).astype("datetime64[ns]"),
            "room_nights": units[rows],
            "revenue": rate[rows] * units[rows],
        }
    )


def booking_series(
    bookings: pd.DataFrame,
    *,
    measure: str = "room_nights",
    by: str | None = None,
    freq: Freq = "D",
    start: object = None,
    end: object = None,
    include_cancelled: bool = False,
    booked_by: object = None,
    fill: Fill = "zero",
    closed_weekdays: Sequence[int | str] | None = None,
    closed_dates: Sequence[object] | None = None,
) -> DemandSeries:
    """Demand series from canonical bookings.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings.
    measure : {"room_nights", "revenue", "arrivals", "bookings"}, default "room_nights"
        ``room_nights``: ``units`` on every stay date (arrival + 0..nights-1),
        i.e. each booking spreads its units over its nights; ``revenue``:
        ``rate * units`` on every stay date (total = rate*units*nights);
        ``arrivals``: bookings counted by arrival date; ``bookings``: bookings
        counted by booking date.
    by : str, optional
        Column to group by: ``"segment"``, ``"fare_class"`` (defaults to the
        segment where absent), ``"channel"``, ...
    freq : {"D", "W"}, default "D"
        Daily or weekly (full Monday-Sunday weeks) periods.
    start, end : date-like, optional
        Calendar bounds; default: first and last date of the measure.
    include_cancelled : bool, default False
        Count cancelled bookings too. By default only non-cancelled bookings
        (status ``stayed`` or ``no_show``) count; no-shows were sold and are
        demand.
    booked_by : date-like, optional
        Only bookings made on or before this date count (what was known then).
    fill : {"zero", "closed"}, default "zero"
        Policy for days without activity (see the module docstring).
    closed_weekdays, closed_dates : optional
        Closed weekdays / dates; need ``fill="closed"``.

    Returns
    -------
    DemandSeries

    Raises
    ------
    ValueError
        On a missing column, an unknown measure or option, or an empty calendar;
        infinite rates with measure "revenue" (DataValidationError,
        :func:`crm_analysis.data.errors.raise_on_infinite`).
    """
    if measure not in BOOKING_MEASURES:
        raise InputError(f"unknown measure {measure!r}; choose one of {BOOKING_MEASURES}")
    require_columns(bookings, ["booking_date", "arrival_date", "nights", "rate", "status"], "bookings")
    excluded: dict[str, int] = {}
    notes: list[str] = []
    df = bookings
    keep = np.ones(len(df), dtype=bool)
    status = df["status"].astype("object")
    if not include_cancelled:
        canc = (status == "cancelled").to_numpy()
        if canc.any():
            excluded["cancelled"] = int(canc.sum())
            notes.append(f"{int(canc.sum())} cancelled booking(s) left out (include_cancelled=False)")
        keep &= ~canc
    if booked_by is not None:
        cutoff = to_timestamp(booked_by, "booked_by")
        late = (to_day(df["booking_date"]) > cutoff).to_numpy() & keep
        if late.any():
            excluded["booked after booked_by"] = int(late.sum())
            notes.append(f"{int(late.sum())} booking(s) made after {cutoff.date()} left out")
        keep &= ~late
    date_col = "booking_date" if measure == "bookings" else "arrival_date"
    bad_date = to_day(df[date_col]).isna().to_numpy() & keep
    if bad_date.any():
        excluded[f"missing {date_col}"] = int(bad_date.sum())
        keep &= ~bad_date
    if measure in ("room_nights", "revenue"):
        nights = pd.to_numeric(df["nights"])
        bad_n = (nights.isna() | (nights < 0)).to_numpy() & keep
        if bad_n.any():
            excluded["missing or negative nights"] = int(bad_n.sum())
            keep &= ~bad_n
        zero = (nights == 0).to_numpy() & keep
        if zero.any():
            excluded["zero nights (no stay date)"] = int(zero.sum())
            notes.append(f"{int(zero.sum())} booking(s) with 0 nights have no stay date and add nothing")
        if measure == "revenue":
            rate = pd.to_numeric(df["rate"])
            refuse_infinite(rate.to_numpy(dtype=np.float64, na_value=np.nan), "rate", kind="rate")
            bad_r = rate.isna().to_numpy() & keep
            if bad_r.any():
                excluded["missing rate"] = int(bad_r.sum())
                keep &= ~bad_r
    sub = df.loc[keep]
    group = _group_column(sub, by, excluded, notes)
    if measure in ("room_nights", "revenue"):
        nights_df = stay_nights(sub)
        ev = pd.DataFrame({"date": nights_df["date"], "value": nights_df[measure]})
        if group is not None:
            ev["group"] = group.to_numpy()[nights_df["row"].to_numpy()]
    else:
        ev = pd.DataFrame({"date": to_day(sub[date_col]).to_numpy(), "value": np.ones(len(sub))})
        if group is not None:
            ev["group"] = group.to_numpy()
    return _build(
        ev,
        how="sum",
        by=by,
        freq=freq,
        start=start,
        end=end,
        fill=fill,
        closed_weekdays=closed_weekdays,
        closed_dates=closed_dates,
        measure=measure,
        source="bookings",
        excluded=excluded,
        notes=notes,
    )
