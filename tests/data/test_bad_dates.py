"""Catalogue of date and time-zone inputs (issue #11, points 1 and 2).

Each case is a small file or frame with its expected outcome: a right value
(checked against dates written out by hand) or an error whose text is asserted
(it must name the column, show the offending values and say what to add).
Every file case is read on all paths: the pandas loader, the lazy DuckDB
relation, and ``rfm_summary`` on the file, which must agree with each other.
"""

from __future__ import annotations

import re

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.data import (
    DataValidationError,
    DataWarning,
    clean_transactions,
    duckdb_value_errors,
    intake_changes,
    load_source,
    load_transactions,
    parse_datetime_column,
    transactions_relation,
    validate_transactions,
)
from crm_analysis.report.config import ConfigError, parse_config
from crm_analysis.rfm import calibration_and_holdout, rfm_summary

COLUMNS = {"customer_id": "Client", "timestamp": "OrderDate", "amount": "Total"}


def _ts(values: list[str]) -> pd.DatetimeIndex:
    """Expected timestamps, written in ISO by hand."""
    return pd.to_datetime(values, format="ISO8601")


def _csv(tmp_path: Path, dates: list[str], name: str = "orders.csv", ids: list[str] | None = None) -> Path:
    ids = ids or [f"C{i % 3}" for i in range(len(dates))]
    df = pd.DataFrame({"Client": ids, "OrderDate": dates, "Total": np.arange(1, len(dates) + 1, dtype=float)})
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _all_paths(path: Path, **options) -> tuple[pd.Series, pd.Series]:
    """Timestamps of the file by the pandas loader and by the DuckDB relation (row order kept)."""
    frame = load_transactions(path, columns=COLUMNS, **options)["timestamp"]
    rel = transactions_relation(path, columns=COLUMNS, **options).df()["timestamp"]
    return frame, rel.astype("datetime64[ns]")


# ------------------------------------------------------------------ day/month order
def test_issue_example_day_first_is_read_day_first_on_every_path(tmp_path):
    # Issue #11: read as 1 March, 1 April, 13 January, 28 January (two orders in one column).
    path = _csv(tmp_path, ["03/01/2024", "04/01/2024", "13/01/2024", "28/01/2024"])
    expected = _ts(["2024-01-03", "2024-01-04", "2024-01-13", "2024-01-28"])
    frame, rel = _all_paths(path)
    assert frame.tolist() == rel.tolist() == list(expected)
    by_file = rfm_summary(path, observation_end="2024-01-31", customer_col="Client", datetime_col="OrderDate",
                          monetary_col="Total", time_unit="D")
    by_frame = rfm_summary(load_transactions(path, columns=COLUMNS), observation_end="2024-01-31", time_unit="D")
    pd.testing.assert_frame_equal(by_file, by_frame, check_names=False)
    assert by_frame["first_purchase"].min() == pd.Timestamp("2024-01-03")


def test_month_first_column_is_inferred(tmp_path):
    path = _csv(tmp_path, ["01/03/2024", "01/13/2024", "12/31/2024 18:30"])
    frame, rel = _all_paths(path)
    assert frame.tolist() == rel.tolist() == list(_ts(["2024-01-03", "2024-01-13", "2024-12-31 18:30"]))


@pytest.mark.parametrize("sep", ["/", ".", "-"])
def test_separators_and_two_digit_years(tmp_path, sep):
    dates = [f"03{sep}01{sep}24", f"25{sep}12{sep}99 23:59:59"]
    frame, rel = _all_paths(_csv(tmp_path, dates))
    assert frame.tolist() == rel.tolist() == list(_ts(["2024-01-03", "1999-12-25 23:59:59"]))


def test_ambiguous_column_is_refused_with_both_ways_to_say_it(tmp_path):
    path = _csv(tmp_path, ["03/01/2024", "04/01/2024", "05/02/2024"])
    for read in (lambda: load_transactions(path, columns=COLUMNS),
                 lambda: transactions_relation(path, columns=COLUMNS)):
        with pytest.raises(DataValidationError) as err:
            read()
        msg = str(err.value)
        assert "OrderDate" in msg and "timestamp" in msg
        assert "dayfirst: true" in msg and "date_format" in msg and "%d/%m/%Y" in msg


@pytest.mark.parametrize("dayfirst, expected", [(True, ["2024-01-03", "2024-02-05"]), (False, ["2024-03-01", "2024-05-02"])])
def test_ambiguous_column_with_dayfirst(tmp_path, dayfirst, expected):
    path = _csv(tmp_path, ["03/01/2024", "05/02/2024"])
    frame, rel = _all_paths(path, dayfirst=dayfirst)
    assert frame.tolist() == rel.tolist() == list(pd.to_datetime(expected))


def test_date_format_wins_and_must_match_every_value(tmp_path):
    path = _csv(tmp_path, ["03/01/2024", "05/02/2024"])
    frame, rel = _all_paths(path, date_format="%m/%d/%Y")
    assert frame.tolist() == rel.tolist() == list(_ts(["2024-03-01", "2024-05-02"]))
    bad = _csv(tmp_path, ["03/01/2024", "2024-02-05"], name="bad.csv")
    with pytest.raises(DataValidationError, match=r"do not match date_format '%d/%m/%Y'.*2024-02-05"):
        load_transactions(bad, columns=COLUMNS, date_format="%d/%m/%Y")


def test_column_mixing_both_orders_is_refused(tmp_path):
    path = _csv(tmp_path, ["13/01/2024", "01/13/2024", "02/02/2024"])
    for read in (lambda: load_transactions(path, columns=COLUMNS),
                 lambda: transactions_relation(path, columns=COLUMNS)):
        with pytest.raises(DataValidationError, match=r"mixes day-first dates .*13/01/2024.* and month-first dates .*01/13/2024"):
            read()


def test_dayfirst_contradicted_by_the_data(tmp_path):
    path = _csv(tmp_path, ["13/01/2024", "02/02/2024"])
    with pytest.raises(DataValidationError, match=r"dayfirst is false but .* first field above 12.*13/01/2024"):
        load_transactions(path, columns=COLUMNS, dayfirst=False)


def test_invalid_dates_are_named_with_their_rows(tmp_path):
    path = _csv(tmp_path, ["13/01/2024", "31/02/2024", "3 Jan 2024"])
    with pytest.raises(DataValidationError) as err:
        load_transactions(path, columns=COLUMNS)
    msg = str(err.value)
    assert "2 value(s) are not valid dates" in msg and "row 1: '31/02/2024'" in msg and "row 2: '3 Jan 2024'" in msg
    assert "date_format" in msg
    with pytest.raises(DataValidationError, match="3 Jan 2024"):
        with duckdb_value_errors():  # the relation is lazy: DuckDB raises when it is materialised
            transactions_relation(path, columns=COLUMNS).df()
    with pytest.raises(DataValidationError, match="3 Jan 2024"):  # the package runs the query
        rfm_summary(path, observation_end="2024-12-31", customer_col="Client", datetime_col="OrderDate",
                    monetary_col="Total")


def test_numbers_are_not_dates():
    df = pd.DataFrame({"customer_id": ["a"], "timestamp": [20240103], "amount": [1.0]})
    with pytest.raises(DataValidationError, match=r"'timestamp' is numeric .*date_format: '%Y%m%d'"):
        validate_transactions(df)


def test_pandas_parse_dates_without_format_is_not_trusted(tmp_path):
    # read_options parse_dates alone would let pandas guess month-first for 03/01/2024
    path = _csv(tmp_path, ["03/01/2024", "04/01/2024", "13/01/2024"])
    tx = load_transactions(path, columns=COLUMNS, read_options={"parse_dates": ["OrderDate"]})
    assert tx["timestamp"].dt.month.tolist() == [1, 1, 1]


# ------------------------------------------------------------------ date parameters
def test_rfm_summary_refuses_a_non_iso_observation_end():
    # Issue #11: observation_end="01/12/2014" was read as 12 January and gave an empty summary.
    tx = pd.DataFrame({"customer_id": ["a"], "timestamp": _ts(["2014-11-03"]), "amount": [1.0]})
    with pytest.raises(ValueError, match=r"observation_end='01/12/2014' is not a date in ISO form: write it as YYYY-MM-DD"):
        rfm_summary(tx, observation_end="01/12/2014")
    with pytest.raises(ValueError, match="calibration_end='09/30/2014'"):
        calibration_and_holdout(tx, calibration_end="09/30/2014", observation_end="2014-12-31")


def test_config_date_options_are_checked_at_load(tmp_path):
    (tmp_path / "notebooks").mkdir()
    nb = tmp_path / "notebooks" / "00.ipynb"
    nb.write_text("{}")
    base = {"data": {"transactions": {"loader": "csv", "path": "x.csv"}, "bookings": {"loader": "none"}},
            "notebooks": [{"name": "data_quality", "path": "notebooks/00.ipynb"}]}
    for key, value, match in [("timezone", "Mars/Olympus", "IANA"), ("dayfirst", "yes", "true or false"),
                              ("date_format", "dd/mm/yyyy", "strftime")]:
        raw = {**base, "data": {**base["data"], "transactions": {**base["data"]["transactions"], key: value}}}
        with pytest.raises(ConfigError, match=rf"data\.transactions\.{key}.*{match}"):
            parse_config(raw, project_root=tmp_path)
    with pytest.raises(ConfigError, match="as_of"):
        parse_config({**base, "as_of": "31/12/2024"}, project_root=tmp_path)


def test_load_source_passes_the_date_options(tmp_path):
    path = _csv(tmp_path, ["03/01/2024", "05/02/2024"])
    spec = {"loader": "csv", "path": str(path), "columns": COLUMNS, "dayfirst": True}
    assert load_source(spec, "transactions")["timestamp"].tolist() == list(_ts(["2024-01-03", "2024-02-05"]))


# ------------------------------------------------------------------ time zones
DST = ["2024-03-30 10:00:00+0000", "2024-03-31 10:00:00+0100", "2024-10-27 00:30:00+0100", "2024-10-27 01:30:00+0000"]


def test_changing_offsets_load_and_are_converted_to_utc(tmp_path):
    # Issue #11: a column with +0000 and +0100 (daylight saving) could not be loaded at all.
    path = _csv(tmp_path, DST)
    frame, rel = _all_paths(path)
    utc = _ts(["2024-03-30 10:00", "2024-03-31 09:00", "2024-10-26 23:30", "2024-10-27 01:30"])
    assert frame.tolist() == rel.tolist() == list(utc)
    tx = load_transactions(path, columns=COLUMNS)
    (change,) = intake_changes(tx)
    assert change.reason == "converted_to_utc" and change.rows == 4 and "timezone" in change.description
    # ... and the data-quality report (the cleaning report) says so
    table = clean_transactions(tx).report.table()
    row = table[table.action == "changed"]
    assert row["reason"].tolist() == ["timestamp: converted_to_utc"] and row["rows"].tolist() == [4]


def test_declared_time_zone_gives_local_times(tmp_path):
    path = _csv(tmp_path, DST)
    frame, rel = _all_paths(path, timezone="Europe/London")
    local = _ts(["2024-03-30 10:00", "2024-03-31 10:00", "2024-10-27 00:30", "2024-10-27 01:30"])
    assert frame.tolist() == rel.tolist() == list(local)


def test_offsets_and_naive_values_mixed_are_refused(tmp_path):
    path = _csv(tmp_path, ["2024-01-03 10:00", "2024-01-03 11:00+01:00"])
    for read in (lambda: load_transactions(path, columns=COLUMNS),
                 lambda: transactions_relation(path, columns=COLUMNS)):
        with pytest.raises(DataValidationError, match=r"mixes 1 value\(s\) with a UTC offset .* and 1 without"):
            read()


def _new_york_frame() -> pd.DataFrame:
    ts = _ts(["2024-12-01 10:00", "2024-12-31 21:00"]).tz_localize("America/New_York")
    return pd.DataFrame({"customer_id": ["a", "a"], "timestamp": ts, "amount": [10.0, 20.0]})


def test_rfm_summary_treats_a_tz_aware_frame_like_the_validated_one():
    # Issue #11: a 21:00 New York purchase on 31 Dec was dropped as 1 Jan by rfm_summary only.
    raw = _new_york_frame()
    validated = validate_transactions(raw)
    with pytest.warns(DataWarning, match="UTC"):
        direct = rfm_summary(raw, observation_end="2024-12-31", time_unit="D")
    assert direct.equals(rfm_summary(validated, observation_end="2024-12-31", time_unit="D"))
    assert direct.loc["a", "frequency"] == 0  # 02:00 UTC on 1 January: after observation_end, by declaration
    local_raw = rfm_summary(raw, observation_end="2024-12-31", time_unit="D", timezone="America/New_York")
    local_val = rfm_summary(validate_transactions(raw, timezone="America/New_York"), observation_end="2024-12-31",
                            time_unit="D")
    assert local_raw.equals(local_val) and local_raw.loc["a", "frequency"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rfm_summary(raw, observation_end="2024-12-31", timezone="America/New_York")  # declared: no warning


def test_unknown_time_zone_is_refused():
    with pytest.raises(DataValidationError, match="'Europe/Londres' is not an IANA time-zone name"):
        validate_transactions(_new_york_frame(), timezone="Europe/Londres")


# ------------------------------------------------------------------ file == frame
ORDERS = {
    "dmy": lambda d: d.strftime("%d/%m/%Y"),
    "mdy": lambda d: d.strftime("%m/%d/%Y"),
    "dmy_dots_time": lambda d: d.strftime("%d.%m.%Y %H:%M"),
    "iso": lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"),
    "iso_offset": lambda d: d.strftime("%Y-%m-%d %H:%M:%S") + "+02:00",
    "compact": lambda d: d.strftime("%Y%m%d"),
}


@settings(max_examples=25, deadline=None)
@given(
    days=st.lists(st.integers(0, 3 * 365), min_size=1, max_size=30),
    minutes=st.integers(0, 24 * 60 - 1),
    form=st.sampled_from(sorted(ORDERS)),
    dayfirst=st.sampled_from([None, True, False]),
)
def test_file_and_frame_paths_agree(tmp_path_factory, days, minutes, form, dayfirst):
    """Property: on any column of dates, the pandas loader and the DuckDB relation give the same
    timestamps or both refuse; when they read, the dates are the ones written (independent check)."""
    true = pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D") + pd.Timedelta(minutes=minutes)
    text = [ORDERS[form](d) for d in true]
    path = _csv(tmp_path_factory.mktemp("f"), text)
    results = []
    for read in (lambda: load_transactions(path, columns=COLUMNS, dayfirst=dayfirst)["timestamp"],
                 lambda: transactions_relation(path, columns=COLUMNS, dayfirst=dayfirst).df()["timestamp"]):
        try:
            results.append(pd.Series(read()).astype("datetime64[ns]").tolist())
        except DataValidationError as exc:
            results.append(type(exc))
    assert results[0] == results[1]
    if results[0] is DataValidationError:
        return
    expected = true
    if form in ("dmy", "mdy", "compact"):
        expected = true.normalize()
    if form == "iso":
        expected = true.floor("s")
    if form == "iso_offset":
        expected = true - pd.Timedelta(hours=2)  # converted to UTC
    if form in ("dmy", "mdy", "dmy_dots_time"):
        # read right unless the column was ambiguous and dayfirst said the other order
        ambiguous = all(d.day <= 12 for d in true)
        if ambiguous and dayfirst is (form == "mdy"):
            return  # the caller said the other order: read that way, by request
    assert results[0] == list(expected)


def test_parse_datetime_column_keeps_missing_values():
    s, changes = parse_datetime_column(pd.Series(["13/01/2024", None, pd.NA, "14/01/2024"], dtype="object"), "ts")
    assert s.isna().tolist() == [False, True, True, False] and changes == []


def test_date_columns_of_one_file_must_agree_in_order(tmp_path):
    # newcomer: Booked=25/01/2024 (day-first) and Arrival=02/13/2024 (month-first) were each read their own way
    path = tmp_path / "b.csv"
    path.write_text("id,Booked,Arrival,nights,rate,seg,status\n1,25/01/2024,02/13/2024,1,90,Direct,stayed\n"
                    "2,03/01/2024,04/02/2024,1,90,Direct,stayed\n")
    cols = {"booking_id": "id", "booking_date": "Booked", "arrival_date": "Arrival", "segment": "seg"}
    from crm_analysis.data import bookings_relation, load_bookings

    for read in (lambda: load_bookings(path, columns=cols), lambda: bookings_relation(path, columns=cols)):
        with pytest.raises(DataValidationError, match=r"different orders: .*Booked.* day-first .*25/01/2024.*"
                                                      r"Arrival.* month-first .*02/13/2024"):
            read()
    # when the file really does it, per-column formats say so
    ok = load_bookings(path, columns=cols, date_format={"Booked": "%d/%m/%Y", "Arrival": "%m/%d/%Y"})
    assert ok["arrival_date"].tolist() == list(_ts(["2024-02-13", "2024-04-02"]))


def test_utc_conversion_without_a_declared_zone_warns(tmp_path):
    path = _csv(tmp_path, DST)
    with pytest.warns(DataWarning, match="converted to UTC"):
        load_transactions(path, columns=COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_transactions(path, columns=COLUMNS, timezone="Europe/London")


def test_excel_serial_numbers_get_a_hint():
    df = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": [45296, 45300], "amount": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match=r"Excel serial day numbers \(45296 = 2024-01-05\)"):
        validate_transactions(df)
    with pytest.raises(DataValidationError, match="Excel serial day numbers"):
        validate_transactions(df.astype({"timestamp": str}))


@pytest.mark.parametrize("fmt", ["%d %B %Y", "%d %b %Y"])
def test_month_names_are_read_in_english_only_on_every_path(tmp_path: Path, fmt: str):
    # docs/real_data.md: month names in English only; another language is refused with the rows, never misread
    english = {"%d %B %Y": ["3 January 2024", "4 February 2024"], "%d %b %Y": ["3 Jan 2024", "4 Feb 2024"]}[fmt]
    french = {"%d %B %Y": ["3 janvier 2024", "4 février 2024"], "%d %b %Y": ["3 janv. 2024", "4 févr. 2024"]}[fmt]
    path = tmp_path / "m.csv"
    path.write_text("Client;OrderDate;Total\n" + "".join(f"a;{d};1\n" for d in english), encoding="utf-8")
    opts = {"columns": COLUMNS, "read_options": {"sep": ";"}, "date_format": fmt}
    assert list(load_transactions(path, **opts)["timestamp"]) == list(_ts(["2024-01-03", "2024-02-04"]))
    assert list(transactions_relation(path, **opts).df()["timestamp"]) == list(_ts(["2024-01-03", "2024-02-04"]))
    path.write_text("Client;OrderDate;Total\n" + "".join(f"a;{d};1\n" for d in french), encoding="utf-8")
    with pytest.raises(DataValidationError, match=rf"2 value\(s\) do not match date_format '{fmt}'.*{french[0]}") as ref:
        load_transactions(path, **opts)
    with pytest.raises(DataValidationError, match=rf"2 value\(s\) do not match date_format '{fmt}'") as lazy:
        with duckdb_value_errors():
            transactions_relation(path, **opts).df()
    assert str(lazy.value) == re.sub(r"row \d+: ", "", str(ref.value).replace(" (0-based row: value)", ""))
