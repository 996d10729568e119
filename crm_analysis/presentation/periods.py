"""Partial first and last periods of period charts (months, weeks, quarters).

A month of which the data cover only some days shows too little of
everything (and, in the first month, every customer as "new"). These
helpers find such periods and leave them out of a period series, returning a
sentence the report shows, so the reader knows which periods are missing.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from dataclasses import dataclass

import pandas as pd

__all__ = ["PeriodCoverage", "period_coverage", "complete_periods"]


@dataclass(frozen=True)
class PeriodCoverage:
    """Days of each period covered by the data.

    Attributes
    ----------
    table : pandas.DataFrame
        Index: the periods (``PeriodIndex``); columns ``days`` (calendar days
        of the period), ``covered`` (days between the first and last day of the
        data), ``complete`` (bool).
    freq : str
        The period frequency (``"M"``, ``"W"``, ``"Q"``, ``"Y"``).
    """

    table: pd.DataFrame
    freq: str

    @property
    def partial(self) -> list[pd.Period]:
        """The periods the data do not cover in full (only the first and/or the last can be)."""
        return list(self.table.index[~self.table["complete"]])

    def note(self, *, what: str = "period") -> str:
        """A sentence naming the partial periods and their coverage ("" when every period is complete)."""
        parts = [f"{p} ({int(r.covered)} of {int(r.days)} days)" for p, r in self.table[~self.table["complete"]].iterrows()]
        if not parts:
            return ""
        return (f"Partial {what}{'s' if len(parts) > 1 else ''} left out, as the data cover only part of "
                f"{'them' if len(parts) > 1 else 'it'}: " + ", ".join(parts) + ".")


def period_coverage(first_day: object, last_day: object, *, freq: str = "M") -> PeriodCoverage:
    """Which periods between ``first_day`` and ``last_day`` (inclusive) the data cover in full.

    Parameters
    ----------
    first_day, last_day : date-like
        First and last day of the data (e.g. the first purchase and ``as_of``).
    freq : str, default "M"
        A pandas period frequency (``"M"``, ``"W"``, ``"Q"``, ``"Y"``, ``"W-SUN"``...).

    Returns
    -------
    PeriodCoverage

    Raises
    ------
    ValueError
        When ``last_day`` is before ``first_day`` or a date does not parse.

    Examples
    --------
    >>> period_coverage("2010-12-01", "2011-12-09").partial
    [Period('2011-12', 'M')]
    """
    try:
        start, end = pd.Timestamp(first_day).normalize(), pd.Timestamp(last_day).normalize()
    except (TypeError, ValueError) as exc:
        raise InputError(f"period_coverage: first_day/last_day must be dates, got {shown(first_day)}, {last_day!r}") from exc
    if end < start:
        raise InputError(f"period_coverage: last_day {end:%Y-%m-%d} is before first_day {start:%Y-%m-%d}")
    periods = pd.period_range(start, end, freq=freq)
    rows = []
    for p in periods:
        p0, p1 = p.start_time.normalize(), p.end_time.normalize()
        days = (p1 - p0).days + 1
        covered = (min(p1, end) - max(p0, start)).days + 1
        rows.append({"days": days, "covered": covered, "complete": covered == days})
    return PeriodCoverage(pd.DataFrame(rows, index=periods), freq)


def complete_periods(series: pd.Series, first_day: object, last_day: object, *, freq: str = "M",
                     what: str = "month") -> tuple[pd.Series, str]:
    """Leave the partial first / last periods out of a period series.

    Parameters
    ----------
    series : pandas.Series
        Indexed by period (``PeriodIndex``) or by the periods' start dates (``DatetimeIndex``).
    first_day, last_day : date-like
        First and last day the data cover.
    freq : str, default "M"
        The series' period frequency.
    what : str, default "month"
        Name of the period in the note.

    Returns
    -------
    (pandas.Series, str)
        The series without the partial periods, and the note saying which were left out ("" if none).
    """
    cov = period_coverage(first_day, last_day, freq=freq)
    partial = set(cov.partial)
    idx = series.index
    as_period = idx if isinstance(idx, pd.PeriodIndex) else pd.DatetimeIndex(idx).to_period(freq)
    keep = [p not in partial for p in as_period]
    return series[keep], cov.note(what=what)
