"""HolidayCalendar: public holidays from the holidays package, closed days, regressors, configuration."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from crm_analysis.seasonality import CALENDAR_REGRESSORS, HolidayCalendar

ROOT = Path(__file__).resolve().parents[2]


def test_england_bank_holidays_2011_match_the_published_list():
    """UK government list of bank holidays in England and Wales, 2011 (incl. the royal wedding, 29 April)."""
    published = ["2011-01-03", "2011-04-22", "2011-04-25", "2011-04-29", "2011-05-02", "2011-05-30",
                 "2011-08-29", "2011-12-26", "2011-12-27"]
    got = HolidayCalendar("GB", subdiv="ENG").holidays("2011-01-02", "2011-12-31")  # 1 Jan 2011 was a Saturday
    got = [d.strftime("%Y-%m-%d") for d in got.index]
    # the package also lists Christmas Day itself, a Sunday in 2011, besides its substitute days 26 and 27 Dec
    assert sorted(set(got) - {"2011-12-25"}) == published and "2011-12-25" in got


def test_portugal_lisbon_holidays_2016():
    """Portugal restored Corpus Christi, 5 Oct, 1 Nov and 1 Dec in 2016; Lisbon adds Saint Anthony (13 June)."""
    got = set(HolidayCalendar("PT", subdiv="11").holidays("2016-01-01", "2016-12-31").index.strftime("%m-%d"))
    assert {"01-01", "03-25", "04-25", "05-01", "05-26", "06-10", "06-13", "08-15", "10-05", "11-01", "12-01",
            "12-08", "12-25"} <= got
    national = set(HolidayCalendar("PT").holidays("2016-01-01", "2016-12-31").index.strftime("%m-%d"))
    assert "06-13" not in national


def test_online_retail_config_closed_days_unchanged():
    """config/online_retail.yaml: the run's calendar (bank holidays + yearly closures) = the former hand-written list."""
    former = ["2010-12-24", "2010-12-26", "2010-12-27", "2010-12-28", "2010-12-29", "2010-12-30", "2010-12-31",
              "2011-01-02", "2011-01-03", "2011-04-22", "2011-04-24", "2011-04-25", "2011-04-29", "2011-05-02",
              "2011-05-30", "2011-08-29"]
    cfg = yaml.safe_load((ROOT / "config" / "online_retail.yaml").read_text())
    params = next(n["parameters"] for n in cfg["notebooks"] if n["name"] == "seasonality")
    assert not {"calendar", "closed_weekdays", "closed_dates"} & set(params)  # nothing by hand in the notebook's parameters
    assert "closed_dates" not in cfg["calendar"]  # and no date written by hand in the calendar
    cal = HolidayCalendar.from_config(cfg["calendar"])
    closed = cal.closed_days("2010-12-01", "2011-12-09")
    not_saturday = [d.strftime("%Y-%m-%d") for d in closed if d.day_of_week != 5]
    assert not_saturday == former
    assert (closed.day_of_week == 5).sum() == 53  # every Saturday of 2010-12-01..2011-12-09


def test_regressors_and_closed_mask():
    cal = HolidayCalendar("PT")
    idx = pd.date_range("2016-12-23", "2016-12-27")
    reg = cal.regressors(idx)
    assert list(reg.columns) == list(CALENDAR_REGRESSORS)
    assert reg["holiday"].tolist() == [0, 0, 1, 0, 0] and reg["holiday_eve"].tolist() == [0, 1, 0, 0, 0]
    assert not cal.closed_mask(idx).any()  # a hotel: holidays are open days
    shop = HolidayCalendar("PT", closed_weekdays=("Sunday",), closed_dates=("2016-12-26",), holidays_closed=True)
    assert shop.closed_mask(idx).tolist() == [False, False, True, True, False]  # Sunday 25th (holiday), 26th declared
    assert shop.regressors(idx).shape[1] == 0  # closed holidays are not regressors
    assert HolidayCalendar().regressors(idx).shape[1] == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(country="XX"), "unknown country 'XX'"), (dict(country="GB", subdiv="ZZ"), "unknown subdivision 'ZZ'"),
     (dict(subdiv="ENG"), "needs a country"), (dict(holidays_closed=True), "needs a country"),
     (dict(closed_weekdays=("Funday",)), "'Funday' is not a weekday name"), (dict(closed_dates=("not a date",)), "closed_dates")],
)
def test_bad_settings_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HolidayCalendar(**kwargs)


def test_config_round_trip_and_unknown_key():
    cal = HolidayCalendar.from_config({"country": "gb", "subdiv": "ENG", "closed_weekdays": ["Saturday"],
                                       "closed_dates": ["2010-12-24"], "holidays_closed": True})
    assert cal.country == "GB" and cal.closed_weekdays == (5,)
    assert HolidayCalendar.from_config(cal.to_dict()) == cal
    assert HolidayCalendar.from_config(None) is None
    with pytest.raises(ValueError, match="unknown key"):
        HolidayCalendar.from_config({"country": "GB", "region": "ENG"})


def test_yearly_closed_periods():
    """Yearly closures: a range over the new year, one day, Easter Sunday (dateutil: 24 Apr 2011, 8 Apr 2012)."""
    from crm_analysis.seasonality.calendar import yearly_dates

    xmas = yearly_dates("12-24..01-03", [2010])
    assert xmas[0] == pd.Timestamp("2010-12-24") and xmas[-1] == pd.Timestamp("2011-01-03") and len(xmas) == 11
    assert list(yearly_dates("easter", [2011, 2012]).strftime("%Y-%m-%d")) == ["2011-04-24", "2012-04-08"]
    assert list(yearly_dates("easter-2", [2011]).strftime("%m-%d")) == ["04-22"]  # Good Friday
    assert list(yearly_dates("02-29", [2023, 2024]).strftime("%Y-%m-%d")) == ["2024-02-29"]
    cal = HolidayCalendar(closed_periods=("12-25..12-26",))
    assert list(cal.closed_days("2023-12-20", "2024-12-31").strftime("%Y-%m-%d")) == [
        "2023-12-25", "2023-12-26", "2024-12-25", "2024-12-26"]
    # a closure that began the year before the index starts still counts (1 Jan of the index's first year)
    assert HolidayCalendar(closed_periods=["12-24..01-03"]).closed_mask(pd.date_range("2011-01-01", periods=4)).tolist() \
        == [True, True, True, False]
    assert HolidayCalendar.from_config(cal.to_dict()) == cal


@pytest.mark.parametrize("bad", ["13-01", "12-24..", "christmas", "02-30", "easter+x"])
def test_bad_closed_period_names_the_value_and_the_forms(bad):
    with pytest.raises(ValueError, match="closed_periods"):
        HolidayCalendar(closed_periods=(bad,))
