"""The shared date-parameter parser: one error wording, explicit per-call policies."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis._dates import parse_date


@pytest.mark.parametrize("bad", ["not-a-date", "2024-13-45", pd.NaT, float("nan")])
def test_unparseable_values_name_the_parameter(bad) -> None:
    with pytest.raises(ValueError, match=r"^as_of=.* is not a date"):
        parse_date(bad, "as_of")


def test_none_is_required_unless_allowed() -> None:
    with pytest.raises(ValueError, match="as_of is required"):
        parse_date(None, "as_of")
    assert parse_date(None, "as_of", allow_none=True) is None


def test_time_zone_policies() -> None:
    aware = "2024-03-01 10:30+02:00"
    assert parse_date(aware, "d", tz="strip") == pd.Timestamp("2024-03-01 10:30")  # local clock time
    assert parse_date(aware, "d", tz="keep").tzinfo is not None
    with pytest.raises(ValueError, match="naive"):
        parse_date(aware, "d", tz="reject")


def test_time_of_day_policies() -> None:
    assert parse_date("2024-03-01 10:30", "d", time="normalize") == pd.Timestamp("2024-03-01")
    assert parse_date("2024-03-01 10:30", "d", time="keep") == pd.Timestamp("2024-03-01 10:30")
    with pytest.raises(ValueError, match="calendar date"):
        parse_date("2024-03-01 10:30", "d", time="reject")
    assert parse_date("2024-03-01", "d", time="reject") == pd.Timestamp("2024-03-01")


@given(st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(), max_value=pd.Timestamp("2200-01-01").to_pydatetime()))
def test_round_trips_naive_datetimes(dt) -> None:
    assert parse_date(dt, "d") == pd.Timestamp(dt)
    assert parse_date(dt.isoformat(), "d", time="normalize") == pd.Timestamp(dt).normalize()


@pytest.mark.parametrize(
    "bad",
    ["01/12/2014", "12/01/2014", "2014/12/01", "1.12.2014", "1 Dec 2014", "Dec 1, 2014", "20141201", "2014-12", "yesterday"],
)
def test_only_iso_text_is_accepted(bad) -> None:
    # Issue #11: rfm_summary(tx, observation_end="01/12/2014") read 12 January without a word.
    with pytest.raises(ValueError, match=r"observation_end=.* is not a date"):
        parse_date(bad, "observation_end")


@pytest.mark.parametrize("bad", [20141201, 2014.5, True])
def test_numbers_are_not_dates(bad) -> None:
    with pytest.raises(ValueError, match="as_of="):
        parse_date(bad, "as_of")


@pytest.mark.parametrize(
    "good, expected",
    [("2014-12-01", "2014-12-01"), (" 2014-12-01 ", "2014-12-01"), ("2014-12-01T10:30", "2014-12-01 10:30"),
     ("2014-12-01 10:30:05.25", "2014-12-01 10:30:05.25"), (pd.Timestamp("2014-12-01"), "2014-12-01"),
     (pd.Timestamp("2014-12-01").date(), "2014-12-01"), (pd.Timestamp("2014-12-01").to_datetime64(), "2014-12-01")],
)
def test_iso_text_and_date_objects_are_read_as_written(good, expected) -> None:
    assert parse_date(good, "as_of") == pd.Timestamp(expected)
