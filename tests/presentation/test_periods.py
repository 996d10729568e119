"""Partial first / last periods: found from the calendar, left out with a note."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis.presentation import complete_periods, period_coverage

days = st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2030-12-31").date())


@given(days, st.integers(min_value=0, max_value=800), st.sampled_from(["M", "W", "Q"]))
def test_only_the_ends_can_be_partial_and_coverage_adds_up(start, length, freq) -> None:
    end = pd.Timestamp(start) + pd.Timedelta(days=length)
    cov = period_coverage(start, end, freq=freq)
    t = cov.table
    assert int(t["covered"].sum()) == length + 1
    inner = t.iloc[1:-1]
    assert inner["complete"].all()
    first_complete = pd.Timestamp(start) == t.index[0].start_time.normalize()
    assert bool(t["complete"].iloc[0]) == (first_complete and (len(t) > 1 or end == t.index[0].end_time.normalize()))


def test_online_retail_months() -> None:
    s = pd.Series(1.0, index=pd.period_range("2010-12", "2011-12", freq="M"))
    kept, note = complete_periods(s, "2010-12-01", "2011-12-09")
    assert kept.index[0] == pd.Period("2010-12") and kept.index[-1] == pd.Period("2011-11")
    assert note == "Partial month left out, as the data cover only part of it: 2011-12 (9 of 31 days)."
    kept, note = complete_periods(s.set_axis(s.index.to_timestamp()), "2010-12-05", "2011-12-31")
    assert len(kept) == 12 and "2010-12 (27 of 31 days)" in note


def test_bad_dates() -> None:
    with pytest.raises(ValueError, match="is before first_day"):
        period_coverage("2024-02-01", "2024-01-01")
