"""Seasonal-trend decomposition (STL / MSTL) with strength measures.

:func:`decompose` wraps :class:`statsmodels.tsa.seasonal.STL` (one period) and
:class:`statsmodels.tsa.seasonal.MSTL` (several periods, e.g. weekly and
yearly cycles of daily demand) and adds the strength of trend and seasonality
of Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.,
section 4.3 ("STL features")::

    F_T = max(0, 1 - Var(R) / Var(T + R))
    F_S = max(0, 1 - Var(R) / Var(S + R))

with trend ``T``, seasonal component ``S`` (one per period) and remainder
``R``. Values near 1 mean a strong trend / cycle; near 0 none.

Guards (all raise ``ValueError`` with the reason, or warn with a
:class:`~crm_analysis.exceptions.DroppedPeriodWarning`):

* NaN or infinite values are refused: statsmodels STL/MSTL silently return
  all-NaN components when the input holds a single NaN. Build the series with
  :func:`~crm_analysis.seasonality.series.booking_series` /
  :func:`~crm_analysis.seasonality.series.transaction_series` (``fill=``) or
  fill the gaps yourself.
* A period needs **more than two full cycles** (``n > 2 * period``, the
  requirement of statsmodels' MSTL); periods that do not fit are dropped with a
  :class:`UserWarning` and recorded in ``Decomposition.dropped_periods``; when
  none fits, ``ValueError``.
* Fewer than 8 observations, or a constant series, are refused.
"""

from __future__ import annotations

from crm_analysis.exceptions import DroppedPeriodWarning, InputError, InputTypeError, NotFoundError, OperationError, shown

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .series import DemandSeries

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "Decomposition",
    "decompose",
    "strength",
    "strength_table",
    "MIN_OBSERVATIONS",
    "DEFAULT_SEASONAL_WINDOW",
    "FEW_CYCLES",
]

#: Fewest observations :func:`decompose` accepts.
MIN_OBSERVATIONS = 8
#: Default seasonal LOESS window (in cycles) of the shortest period.
DEFAULT_SEASONAL_WINDOW = 21
#: Below this many cycles a long period's seasonal component is smoothed along time.
FEW_CYCLES = 6


def strength(component: np.ndarray | pd.Series, remainder: np.ndarray | pd.Series) -> float:
    """Strength of a component: ``max(0, 1 - Var(R) / Var(X + R))``.

    Hyndman & Athanasopoulos, FPP3, section 4.3.

    Parameters
    ----------
    component : array-like
        Trend or one seasonal component ``X``.
    remainder : array-like
        Remainder ``R`` of the same decomposition.

    Returns
    -------
    float
        In ``[0, 1]``; 0 when ``Var(X + R)`` is 0.

    Examples
    --------
    >>> strength(np.zeros(10), np.arange(10.0))
    0.0
    """
    x = np.asarray(component, dtype=float)
    r = np.asarray(remainder, dtype=float)
    denom = np.var(x + r)
    if not np.isfinite(denom) or denom <= 0:
        return 0.0
    return float(max(0.0, 1.0 - np.var(r) / denom))


@dataclass
class Decomposition:
    """Result of :func:`decompose`.

    Attributes
    ----------
    observed, trend, remainder : pandas.Series
        ``observed == trend + seasonal.sum(axis=1) + remainder``.
    seasonal : pandas.DataFrame
        One column per period, named ``seasonal_<period>``.
    periods : tuple of int
        Periods used.
    dropped_periods : dict
        Periods asked for but not used, with the reason.
    method : {"STL", "MSTL"}
        The statsmodels class used.
    robust : bool
        Whether robust (outlier down-weighting) LOESS was used.
    strength_trend : float
        ``F_T`` (FPP3 section 4.3).
    strength_seasonal : dict
        ``F_S`` per period.
    name : str
        Label of the series (for titles).
    notes : list of str
        Choices and changes, including those of the input :class:`DemandSeries`
        (e.g. interpolated closed days).
    """

    observed: pd.Series
    trend: pd.Series
    seasonal: pd.DataFrame
    remainder: pd.Series
    periods: tuple[int, ...]
    dropped_periods: dict[int, str]
    method: str
    robust: bool
    strength_trend: float
    strength_seasonal: dict[int, float]
    name: str = "demand"
    notes: list[str] = field(default_factory=list)

    @property
    def seasonally_adjusted(self) -> pd.Series:
        """Observed minus all seasonal components (= trend + remainder)."""
        return self.observed - self.seasonal.sum(axis=1)

    @property
    def strongest_period(self) -> int:
        """The period with the highest seasonal strength."""
        return max(self.strength_seasonal, key=lambda p: self.strength_seasonal[p])

    def to_frame(self) -> pd.DataFrame:
        """Columns ``observed``, ``trend``, ``seasonal_<p>``..., ``remainder``."""
        out = pd.concat(
            [self.observed.rename("observed"), self.trend.rename("trend"), self.seasonal,
             self.remainder.rename("remainder")],
            axis=1,
        )
        return out

    def strengths(self) -> pd.DataFrame:
        """One-row table: ``series``, ``trend`` strength and one column per period."""
        row = {"series": self.name, "trend": self.strength_trend}
        row.update({f"seasonal_{p}": v for p, v in self.strength_seasonal.items()})
        return pd.DataFrame([row])

    def seasonal_profile(self, period: int) -> pd.Series:
        """Mean seasonal component by position in the cycle.

        For ``period == 7`` on a daily series the index is the weekday
        (Mon..Sun); for 365 it is the day of year; otherwise the position
        ``t mod period``.
        """
        col = f"seasonal_{period}"
        if col not in self.seasonal:
            raise NotFoundError(f"period {period} is not in this decomposition; periods: {self.periods}")
        s = self.seasonal[col]
        idx = s.index
        if isinstance(idx, pd.DatetimeIndex) and period == 7:
            from ._common import weekday_names

            prof = s.groupby(idx.day_of_week).mean()
            prof.index = [weekday_names()[i] for i in prof.index]
        elif isinstance(idx, pd.DatetimeIndex) and period in (365, 366):
            prof = s.groupby(idx.day_of_year).mean()
        else:
            prof = s.groupby(np.arange(len(s)) % period).mean()
        prof.name = col
        return prof

    def plot(self, *, title: str | None = None) -> "Figure":
        """Observed, trend, each seasonal component and remainder, stacked.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        panels = [("observed", self.observed), ("trend", self.trend)]
        panels += [(c, self.seasonal[c]) for c in self.seasonal.columns]
        panels += [("remainder", self.remainder)]
        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.7 * len(panels) + 0.6), sharex=True)
        for ax, (label, s) in zip(axes, panels):
            if label == "remainder":
                ax.plot(s.index, s.to_numpy(), ".", ms=1.5)
                ax.axhline(0, color="grey", lw=0.6)
            else:
                ax.plot(s.index, s.to_numpy(), lw=0.8)
            extra = ""
            if label == "trend":
                extra = f" (strength {self.strength_trend:.2f})"
            elif label.startswith("seasonal_"):
                extra = f" (strength {self.strength_seasonal[int(label.split('_')[1])]:.2f})"
            ax.set_ylabel(label, fontsize="small")
            ax.set_title(label + extra, fontsize="small", loc="left")
        axes[-1].set_xlabel("date" if isinstance(self.observed.index, pd.DatetimeIndex) else "t")
        fig.suptitle(title or f"{self.method} decomposition of {self.name}" + (" (robust)" if self.robust else ""))
        fig.tight_layout()
        return fig


def _as_series(series: pd.Series | DemandSeries | np.ndarray, column: str | None) -> tuple[pd.Series, list[str], str]:
    notes: list[str] = []
    if isinstance(series, DemandSeries):
        s = series.column(name=column)
        notes = list(series.notes)
        name = f"{series.label}" + (f" [{column}]" if column else "")
        return s.astype(float), notes, name
    if column is not None:
        raise InputError("column= is only for a DemandSeries input")
    if isinstance(series, pd.DataFrame):
        raise InputTypeError("decompose takes one series; pick a column of the DataFrame")
    if isinstance(series, pd.Series):
        name = str(series.name) if series.name is not None else "series"
        return pd.to_numeric(series).astype(float), notes, name
    arr = np.asarray(series, dtype=float)
    if arr.ndim != 1:
        raise InputError(f"decompose takes a 1-d series, got shape {arr.shape}")
    return pd.Series(arr, name="series"), notes, "series"


def decompose(
    series: pd.Series | DemandSeries | np.ndarray,
    *,
    periods: int | Sequence[int] = (7, 365),
    robust: bool = False,
    column: str | None = None,
    seasonal_windows: Sequence[int] | None = None,
    iterate: int = 2,
    smooth_long: bool = True,
    jump: int | None = None,
) -> Decomposition:
    """Decompose a series into trend, one seasonal component per period and remainder.

    Parameters
    ----------
    series : pandas.Series, DemandSeries or 1-d array
        Regularly spaced values without NaN. A :class:`DemandSeries` is used as
        built (closed days already interpolated, see its ``notes``); with
        ``column`` one group of a grouped series, else its total.
    periods : int or sequence of int, default (7, 365)
        Cycle lengths in observations (daily data: 7 = week, 365 = year).
        One period fitted uses STL, several MSTL.
    robust : bool, default False
        Robust LOESS (down-weights outliers such as one-off events).
    column : str, optional
        Group of a grouped :class:`DemandSeries`.
    seasonal_windows : sequence of int, optional
        LOESS windows (in cycles, odd) of the seasonal smoothers, one per used
        period; default :data:`DEFAULT_SEASONAL_WINDOW` + 4 * i (21, 25, ...).
        This is wider than statsmodels' defaults (STL 7, MSTL 11, 15, ...):
        with window 11 about a fifth of white noise is read as seasonality
        (strength ~0.22 on pure noise); with 21 it is ~0.1, while the weekly
        profile can still change over a few months.
    iterate : int, default 2
        MSTL iterations.
    smooth_long : bool, default True
        With fewer than :data:`FEW_CYCLES` cycles of a long period (>= 30, e.g.
        365 on two years of daily data) STL's cycle-subseries smoother sees
        only 2-5 points per position and passes the daily noise into the
        seasonal component (its strength is then ~1 even on white noise).
        The component is then smoothed along time by a centred moving average
        of ``period // 12`` observations (odd; 31 days for 365) and what is
        removed goes to the remainder, so the components still add up to the
        observed series exactly. Recorded in ``notes``.
    jump : int, optional
        LOESS of the trend and low-pass smoothers evaluated every ``jump``
        points and linearly interpolated (Cleveland et al. 1990), which makes
        yearly periods ~20 times faster. Default: ``max(1, max(period) // 36)``
        (10 for 365, 1 for weekly only).

    Returns
    -------
    Decomposition

    Raises
    ------
    ValueError
        NaN / infinite input, fewer than :data:`MIN_OBSERVATIONS` values, a
        constant series, a bad period, or no period with more than two cycles.

    Warns
    -----
    UserWarning
        When a period is dropped for lack of cycles (recorded in
        ``dropped_periods``).

    Examples
    --------
    >>> t = np.arange(70)
    >>> d = decompose(pd.Series(10 + np.sin(2 * np.pi * t / 7)), periods=7)
    >>> d.method, round(d.strength_seasonal[7], 2) > 0.9
    ('STL', True)
    """
    from statsmodels.tsa.seasonal import MSTL, STL

    s, notes, name = _as_series(series, column)
    n = len(s)
    values = s.to_numpy(dtype=float)
    n_nan = int(np.isnan(values).sum())
    if n_nan:
        first = s.index[np.flatnonzero(np.isnan(values))[0]]
        raise InputError(
            f"series has {n_nan} missing value(s) (first at {first}); STL/MSTL would return all-NaN "
            "components. Build it with booking_series/transaction_series and a fill= policy "
            "(fill='zero' or fill='closed', which interpolates closed days), or fill the gaps first"
        )
    if np.isinf(values).any():
        raise InputError(f"series has {int(np.isinf(values).sum())} infinite value(s)")
    if n < MIN_OBSERVATIONS:
        raise InputError(f"series too short: {n} observations, need at least {MIN_OBSERVATIONS}")
    if np.ptp(values) == 0:
        raise InputError(f"series is constant ({values[0]!r}): there is no trend or cycle to decompose")

    if isinstance(periods, (int, np.integer)):
        periods = (int(periods),)
    asked = []
    for p in periods:
        if not float(p).is_integer() or int(p) < 2:
            raise InputError(f"period {shown(p)} must be an integer >= 2")
        if int(p) not in asked:
            asked.append(int(p))
    if not asked:
        raise InputError("no period given")
    used = sorted(p for p in asked if n > 2 * p)
    dropped = {
        p: f"needs more than two full cycles (> {2 * p} observations), series has {n}"
        for p in asked
        if p not in used
    }
    if dropped:
        msg = "; ".join(f"period {p} dropped: {why}" for p, why in dropped.items())
        warnings.warn(msg, DroppedPeriodWarning, stacklevel=2)
        notes.append(msg)
    if not used:
        raise InputError(
            f"no period fits a series of {n} observations: each period needs more than two full cycles "
            f"(asked {asked})"
        )
    if seasonal_windows is not None and len(seasonal_windows) != len(used):
        raise InputError(
            f"seasonal_windows has {len(seasonal_windows)} entries but {len(used)} period(s) are used: {used}"
        )

    windows = (
        [int(w) for w in seasonal_windows]
        if seasonal_windows is not None
        else [DEFAULT_SEASONAL_WINDOW + 4 * i for i in range(len(used))]
    )
    if any(w < 3 or w % 2 == 0 for w in windows):
        raise InputError(f"seasonal windows must be odd integers >= 3, got {windows}")
    if jump is None:
        jump = max(1, max(used) // 36)
    stl_kw: dict[str, object] = {"robust": robust}
    if jump > 1:
        stl_kw.update(trend_jump=int(jump), low_pass_jump=int(jump))
    if len(used) == 1:
        p = used[0]
        res = STL(s, period=p, seasonal=windows[0], **stl_kw).fit()  # type: ignore[arg-type]
        seasonal = pd.DataFrame({f"seasonal_{p}": np.asarray(res.seasonal, dtype=float)}, index=s.index)
        method = "STL"
    else:
        res = MSTL(s, periods=used, windows=windows, iterate=iterate, stl_kwargs=stl_kw).fit()
        seas = np.asarray(res.seasonal, dtype=float).reshape(n, -1)
        seasonal = pd.DataFrame(seas, index=s.index, columns=[f"seasonal_{p}" for p in used])
        method = "MSTL"
    trend = pd.Series(np.asarray(res.trend, dtype=float), index=s.index, name="trend")
    remainder = pd.Series(np.asarray(res.resid, dtype=float), index=s.index, name="remainder")
    if smooth_long:
        for p in used:
            if p >= 30 and n < FEW_CYCLES * p:
                col = f"seasonal_{p}"
                w = (p // 12) | 1
                smooth = seasonal[col].rolling(w, center=True, min_periods=1).mean()
                remainder = remainder + (seasonal[col] - smooth)
                seasonal[col] = smooth
                notes.append(
                    f"seasonal_{p}: only {n / p:.1f} cycles, component smoothed by a centred {w}-point "
                    "moving average (the removed part is in the remainder)"
                )
    if trend.isna().any() or seasonal.isna().any().any() or remainder.isna().any():  # pragma: no cover
        raise OperationError("statsmodels returned NaN components; this should not happen on finite input")
    observed = s.rename("observed")
    return Decomposition(
        observed=observed,
        trend=trend,
        seasonal=seasonal,
        remainder=remainder,
        periods=tuple(used),
        dropped_periods=dropped,
        method=method,
        robust=robust,
        strength_trend=strength(trend, remainder),
        strength_seasonal={p: strength(seasonal[f"seasonal_{p}"], remainder) for p in used},
        name=name,
        notes=notes,
    )


def strength_table(decompositions: dict[str, Decomposition] | Sequence[Decomposition]) -> pd.DataFrame:
    """Strength of trend and of each seasonal period for several decompositions.

    Parameters
    ----------
    decompositions : dict of name -> Decomposition, or sequence
        E.g. one per segment.

    Returns
    -------
    pandas.DataFrame
        Index ``series``; columns ``trend``, ``seasonal_<p>`` (NaN where a
        period was not used), ``n`` and ``method``.
    """
    items = decompositions.items() if isinstance(decompositions, dict) else [(d.name, d) for d in decompositions]
    rows = []
    for key, d in items:
        row: dict[str, object] = {"series": key, "trend": d.strength_trend}
        row.update({f"seasonal_{p}": v for p, v in d.strength_seasonal.items()})
        row.update({"n": len(d.observed), "method": d.method})
        rows.append(row)
    out = pd.DataFrame(rows).set_index("series")
    cols = ["trend"] + sorted([c for c in out.columns if c.startswith("seasonal_")], key=lambda c: int(c[9:]))
    return out[cols + ["n", "method"]]
