"""Customer mix by time period: who makes up demand on which weekday / month.

All functions take a *grouped* demand series (one column per segment, fare
class or channel: :func:`~crm_analysis.seasonality.series.booking_series` or
:func:`~crm_analysis.seasonality.series.transaction_series` with ``by=``) or the
equivalent wide DataFrame (DatetimeIndex x groups). Closed days of a
:class:`~crm_analysis.seasonality.series.DemandSeries` are left out (their
interpolated values are not observations).

* :func:`mix_table` - demand and shares of each group by weekday or by month
  (e.g. corporate mid-week vs leisure weekends; groups in shoulder months).
* :func:`weekday_month_mix` - weekday x month grid of mean demand, or of one
  group's share.
* :func:`peak_trough_mix` - which groups fill the peak days/weeks and which
  the troughs.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, NotFoundError, shown

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ._common import month_names, weekday_names
from .series import DemandSeries

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MixTable", "WeekdayMonthMix", "PeakTroughMix", "mix_table", "weekday_month_mix", "peak_trough_mix"]


def _wide(series: DemandSeries | pd.DataFrame) -> tuple[pd.DataFrame, str, str, str]:
    """Open-period values as a wide frame; (frame, by, measure, freq)."""
    if isinstance(series, DemandSeries):
        if not isinstance(series.values, pd.DataFrame):
            raise InputError("the mix needs a grouped series: build it with by='segment' (or another column)")
        return series.open_values(), series.by or "group", series.label, series.freq
    if not isinstance(series, pd.DataFrame) or not isinstance(series.index, pd.DatetimeIndex):
        raise InputTypeError("expected a grouped DemandSeries or a DataFrame with a DatetimeIndex (one column per group)")
    if series.isna().any().any():
        raise InputError("the demand frame has missing values; build it with a fill= policy")
    step = pd.Series(series.index).diff().median() if len(series) > 1 else pd.Timedelta(days=1)
    freq = "W" if step == pd.Timedelta(days=7) else "D"
    return series.astype(float), str(series.columns.name or "group"), "demand", freq


def _period_key(index: pd.DatetimeIndex, across: str) -> tuple[pd.Index, list[str]]:
    if across == "weekday":
        return pd.Index(np.asarray(index.day_of_week)), weekday_names()
    if across == "month":
        return pd.Index(np.asarray(index.month) - 1), month_names()
    raise InputError(f"across must be 'weekday' or 'month', got {shown(across)}")


def _heatmap(table: pd.DataFrame, ax: "Axes | None", title: str, fmt: str, cbar_label: str, xlabel: str, ylabel: str) -> "Figure":
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        fig, ax = plt.subplots(figsize=(1.0 + 0.8 * table.shape[1], 0.8 + 0.45 * table.shape[0]))
    else:
        fig = ax.figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    # colour-bar ticks in the cells' format: per cent for shares, thousands separators for amounts
    ticks = PercentFormatter(1.0, decimals=0) if fmt.endswith("%") else FuncFormatter(lambda v, _: format(v, fmt))
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", ax=ax, cbar_kws={"label": cbar_label, "format": ticks},
                annot_kws={"fontsize": 8})
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


@dataclass
class MixTable:
    """Composition of demand by period (weekday or month).

    Attributes
    ----------
    counts : pandas.DataFrame
        Total demand per period (rows) and group (columns).
    shares : pandas.DataFrame
        ``counts`` divided by the row total: each row sums to 1.
    index : pandas.DataFrame
        ``shares`` divided by the group's overall share (1 = as usual; 1.5 =
        the group is 50 % over-represented in that period).
    mean_per_day : pandas.Series
        Mean total demand per (open) day or week of each period.
    across : {"weekday", "month"}
    by : str
    measure : str
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    index: pd.DataFrame
    mean_per_day: pd.Series
    across: str
    by: str
    measure: str

    def plot(self, *, value: Literal["shares", "index", "counts"] = "shares", ax: "Axes | None" = None) -> "Figure":
        """Heatmap of ``shares`` (default), ``index`` or ``counts``.

        Returns
        -------
        matplotlib.figure.Figure
        """
        table = getattr(self, value)
        fmt = ".0%" if value == "shares" else (".2f" if value == "index" else ",.0f")
        label = {"shares": f"share of {self.measure}", "index": "share / overall share", "counts": self.measure}[value]
        return _heatmap(
            table.T, ax, f"{self.by.capitalize()} mix of {self.measure} by {self.across} ({value})", fmt, label,
            self.across, self.by,
        )


def mix_table(series: DemandSeries | pd.DataFrame, *, across: Literal["weekday", "month"] = "weekday") -> MixTable:
    """Demand and shares of each group by weekday or by month.

    Parameters
    ----------
    series : DemandSeries or pandas.DataFrame
        Grouped daily series (weekly series only with ``across="month"``).
    across : {"weekday", "month"}, default "weekday"

    Returns
    -------
    MixTable

    Raises
    ------
    ValueError
        Ungrouped input, or ``across="weekday"`` on weekly data.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=14)
    >>> wide = pd.DataFrame({"a": 1.0, "b": 3.0}, index=idx)
    >>> mix_table(wide).shares.loc["Mon", "b"]
    np.float64(0.75)
    """
    wide, by, measure, freq = _wide(series)
    if across == "weekday" and freq != "D":
        raise InputError("a weekday mix needs a daily series (freq='D')")
    key, names = _period_key(pd.DatetimeIndex(wide.index), across)
    counts = wide.groupby(key.to_numpy()).sum()
    counts.index = [names[i] for i in counts.index]
    counts.index.name = across
    total = counts.sum(axis=1)
    shares = counts.div(total.where(total != 0), axis=0).fillna(0.0)
    overall = wide.sum() / wide.to_numpy().sum()
    index = shares.div(overall.where(overall != 0), axis=1)
    mean = wide.sum(axis=1).groupby(key.to_numpy()).mean()
    mean.index = counts.index
    return MixTable(counts=counts, shares=shares, index=index, mean_per_day=mean, across=across, by=by, measure=measure)


@dataclass
class WeekdayMonthMix:
    """Weekday x month grid of mean demand or of one group's share.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows weekdays (Mon..Sun), columns months (Jan..Dec).
    value : {"mean", "share"}
        Mean total demand per day, or the share of ``group`` in demand.
    group : str or None
    by : str
    measure : str
    """

    table: pd.DataFrame
    value: str
    group: str | None
    by: str
    measure: str

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Heatmap of the grid.

        Returns
        -------
        matplotlib.figure.Figure
        """
        if self.value == "share":
            title, fmt, label = f"Share of {self.group} in {self.measure}", ".0%", f"share of {self.group}"
        else:
            title, fmt, label = f"Mean {self.measure} per day", ",.0f", f"{self.measure} per day"
        return _heatmap(self.table, ax, title + " by weekday and month", fmt, label, "month", "weekday")


def weekday_month_mix(series: DemandSeries | pd.DataFrame | pd.Series, *, group: str | None = None) -> WeekdayMonthMix:
    """Weekday x month grid of demand.

    Parameters
    ----------
    series : DemandSeries, pandas.DataFrame or pandas.Series
        Daily demand; a grouped one when ``group`` is given.
    group : str, optional
        With a group: its share of the demand in each cell (sum over the
        cell's days of the group / sum of the total). Without: mean total
        demand per day.

    Returns
    -------
    WeekdayMonthMix
    """
    if isinstance(series, DemandSeries) and not isinstance(series.values, pd.DataFrame):
        if group is not None:
            raise InputError("group= needs a grouped series")
        wide = series.open_values().to_frame("total")
        by, measure, freq = "total", series.label, series.freq
    elif isinstance(series, pd.Series):
        if group is not None:
            raise InputError("group= needs a grouped series")
        wide, by, measure, freq = series.to_frame("total"), "total", "demand", "D"
    else:
        wide, by, measure, freq = _wide(series)
    if freq != "D":
        raise InputError("a weekday x month grid needs a daily series (freq='D')")
    idx = pd.DatetimeIndex(wide.index)
    keys = [np.asarray(idx.day_of_week), np.asarray(idx.month) - 1]
    total = wide.sum(axis=1)
    if group is None:
        grid = total.groupby(keys).mean().unstack()
        value = "mean"
    else:
        if group not in wide.columns:
            raise NotFoundError(f"{group!r} is not a group; groups: {list(wide.columns)}")
        num = wide[group].groupby(keys).sum()
        den = total.groupby(keys).sum()
        grid = (num / den.where(den != 0)).unstack()
        value = "share"
    grid = grid.reindex(index=range(7), columns=range(12))
    grid.index = pd.Index(weekday_names(), name="weekday")
    grid.columns = pd.Index(month_names(), name="month")
    return WeekdayMonthMix(table=grid, value=value, group=group, by=by, measure=measure)


@dataclass
class PeakTroughMix:
    """Which groups fill the peaks and which the troughs.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group: ``share_peak``, ``share_trough``, ``share_all``
        (shares of the group in the demand of peak / trough / all periods;
        each column sums to 1), ``lift_peak`` and ``lift_trough`` (share /
        overall share), ``mean_peak`` and ``mean_trough`` (mean demand of the
        group per peak / trough period).
    n_peak, n_trough : int
        Number of peak and trough periods.
    peak_threshold, trough_threshold : float
        Lowest total demand of a peak period / highest of a trough period.
    freq : {"D", "W"}
        Daily or weekly periods.
    by, measure : str
    """

    table: pd.DataFrame
    n_peak: int
    n_trough: int
    peak_threshold: float
    trough_threshold: float
    freq: str
    by: str
    measure: str

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Bars of each group's share in troughs, all periods and peaks.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 3.8))
        else:
            fig = ax.figure
        t = self.table[["share_trough", "share_all", "share_peak"]]
        t.columns = ["troughs", "all periods", "peaks"]
        t.plot.bar(ax=ax, rot=0)
        unit = "days" if self.freq == "D" else "weeks"
        ax.set_title(f"{self.by.capitalize()} mix in peak vs trough {unit} ({self.measure})")
        ax.set_xlabel(self.by)
        ax.set_ylabel("share of demand")
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        fig.tight_layout()
        return fig


def peak_trough_mix(
    series: DemandSeries | pd.DataFrame,
    *,
    share: float = 0.1,
    freq: Literal["D", "W"] | None = None,
) -> PeakTroughMix:
    """Which groups fill the peak periods and which the troughs.

    Periods (days, or weeks) are ranked by total demand; the top
    ``floor(share * n)`` periods are the peaks, the bottom ones the troughs
    (ties broken by date, so both sets have exactly that many periods).

    Parameters
    ----------
    series : DemandSeries or pandas.DataFrame
        Grouped demand series.
    share : float, default 0.1
        Fraction of periods that count as peaks (and as troughs), in (0, 0.5].
    freq : {"D", "W"}, optional
        Aggregate a daily series to Monday-Sunday weeks first with ``"W"``;
        default: the series' own frequency.

    Returns
    -------
    PeakTroughMix

    Raises
    ------
    ValueError
        Ungrouped input, ``share`` out of range, or too few periods.
    """
    if not 0 < share <= 0.5:
        raise InputError(f"share must be in (0, 0.5], got {share}")
    wide, by, measure, own = _wide(series)
    freq = freq or own
    if freq == "W" and own == "D":
        idx = pd.DatetimeIndex(wide.index)
        wk = idx - pd.to_timedelta(np.asarray(idx.day_of_week), unit="D")
        counts = pd.Series(1, index=wk).groupby(level=0).size()
        wide = wide.groupby(wk).sum()
        wide = wide.loc[counts.reindex(wide.index).to_numpy() == 7]  # full weeks only
    elif freq not in ("D", "W") or (freq == "D" and own == "W"):
        raise InputError(f"cannot build freq={freq!r} periods from a {own!r} series")
    total = wide.sum(axis=1)
    k = int(np.floor(share * len(total)))
    if k < 1:
        raise InputError(f"{len(total)} periods are too few for share={share}: no peak period")
    order = np.argsort(total.to_numpy(), kind="stable")
    peak = pd.Series(False, index=total.index)
    trough = pd.Series(False, index=total.index)
    peak.iloc[order[-k:]] = True
    trough.iloc[order[:k]] = True
    trough_thr, peak_thr = float(total[trough].max()), float(total[peak].min())

    def shares(mask: pd.Series) -> pd.Series:
        s = wide.loc[mask.to_numpy()].sum()
        return s / s.sum() if s.sum() else s * np.nan

    table = pd.DataFrame({"share_peak": shares(peak), "share_trough": shares(trough), "share_all": shares(total > -np.inf)})
    table["lift_peak"] = table["share_peak"] / table["share_all"]
    table["lift_trough"] = table["share_trough"] / table["share_all"]
    table["mean_peak"] = wide.loc[peak.to_numpy()].mean()
    table["mean_trough"] = wide.loc[trough.to_numpy()].mean()
    table.index.name = by
    table = table.sort_values("lift_peak", ascending=False)
    return PeakTroughMix(
        table=table,
        n_peak=int(peak.sum()),
        n_trough=int(trough.sum()),
        peak_threshold=peak_thr,
        trough_threshold=trough_thr,
        freq=freq,
        by=by,
        measure=measure,
    )
