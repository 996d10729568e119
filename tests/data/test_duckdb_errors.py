"""The DuckDB (file) path raises the package's DataValidationError for bad values, like the pandas path.

Newcomer try-out of issue #11 (F1): ``rfm_summary("n6.csv", ...)`` with ``€12.50`` in the
amount raised ``duckdb.InvalidInputException``; every value error family of the file path is
checked here against the pandas path on the same file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm_analysis.data import (DataValidationError, DataWarning, SourceFileError, duckdb_value_errors, load_transactions,
                               transactions_relation)
from crm_analysis.rfm import calibration_and_holdout, cohort_table, repeat_purchases_by_day, rfm_summary

# (file text, keyword arguments, a word of the message): one case per family of bad value
FAMILIES = {
    "bad number": ("customer_id,timestamp,amount\na,2024-01-02,12.5x\nb,2024-01-03,3\n", {}, "12.5x"),
    "currency symbol": ("customer_id,timestamp,amount\na,2024-01-02,€12.50\nb,2024-01-02,$3\n", {}, "currency"),
    "decimal comma": ("customer_id;timestamp;amount\na;2024-01-02;12,50\nb;2024-01-03;3\n",
                      {"read_options": {"sep": ";"}}, "decimal"),
    "NaN text": ("customer_id,timestamp,amount\na,2024-01-02,NaN\nb,2024-01-03,3\n", {}, "NaN"),
    "invalid date 31/02": ("customer_id,timestamp,amount\na,31/02/2024,1\nb,13/01/2024,2\n", {}, "valid date"),
    "invalid time 24:00": ("customer_id,timestamp,amount\na,2024-01-02 24:00,1\nb,2024-01-03,2\n", {}, "valid date"),
    "date_format mismatch": ("customer_id,timestamp,amount\na,03/01/2024,1\nb,13/01/2024,2\n",
                             {"date_format": "%m/%d/%Y"}, "date_format"),
}


@pytest.fixture(params=sorted(FAMILIES))
def bad_file(request, tmp_path: Path) -> tuple[Path, dict, str]:
    text, kwargs, word = FAMILIES[request.param]
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    return path, kwargs, word


def test_pandas_and_duckdb_paths_raise_the_same_type(bad_file):
    path, kwargs, word = bad_file
    with pytest.raises(DataValidationError, match=r"column 'amount'|column 'timestamp'") as on_pandas:
        load_transactions(path, **kwargs)
    with pytest.raises(DataValidationError, match=word) as on_duckdb:
        rfm_summary(path, observation_end="2024-12-31", **kwargs)
    if isinstance(on_pandas.value, SourceFileError):  # the file's decimal-comma diagnosis: the same check, first,
        # on every reader (findings_13f F2), before any query runs
        assert type(on_duckdb.value) is SourceFileError and str(on_duckdb.value) == str(on_pandas.value)
        return
    # the same type on both paths
    assert type(on_pandas.value) is DataValidationError and type(on_duckdb.value) is DataValidationError
    assert isinstance(on_duckdb.value.__cause__, duckdb.Error)  # chained: DuckDB's own error kept
    assert not str(on_duckdb.value).startswith("Invalid Input Error")


@pytest.mark.parametrize("call", [
    lambda p, kw: calibration_and_holdout(p, calibration_end="2024-06-30", observation_end="2024-12-31", **kw),
    lambda p, kw: repeat_purchases_by_day(p, cohort_end="2024-06-30", observation_end="2024-12-31", **kw),
    lambda p, kw: cohort_table(p, observation_end="2024-12-31", **kw),
], ids=["calibration_and_holdout", "repeat_purchases_by_day", "cohort_table"])
def test_every_function_that_runs_the_query_converts(bad_file, call):
    path, kwargs, word = bad_file  # repeat_purchases_by_day takes the reader options too (intake2, point 2)
    with pytest.raises(DataValidationError, match=word) as got:
        call(path, kwargs)
    with pytest.raises(DataValidationError) as ref:
        rfm_summary(path, observation_end="2024-12-31", **kwargs)
    assert str(got.value) == str(ref.value)  # one message whichever function runs the query


def test_a_lazy_relation_raises_at_materialisation_and_the_context_converts(tmp_path: Path):
    path = tmp_path / "cur.csv"
    path.write_text("customer_id,timestamp,amount\na,2024-01-02,€12.50\n", encoding="utf-8")
    rel = transactions_relation(path)  # lazy: nothing read yet beyond the checks
    with pytest.raises(duckdb.Error, match="currency"):  # documented: DuckDB's error when the user materialises
        rel.df()
    with pytest.raises(DataValidationError, match=r"column 'amount': 1 value\(s\) .*examples: '€12\.50'.*currency"):
        with duckdb_value_errors():
            transactions_relation(path).df()


def test_other_duckdb_errors_are_not_relabelled():
    with pytest.raises(duckdb.CatalogException):
        with duckdb_value_errors():
            duckdb.connect().sql("SELECT * FROM no_such_table")


def test_the_conversion_keeps_warnings_pointing_at_the_caller(tmp_path: Path):
    # converts_duckdb_errors adds a frame: the UTC warnings' stacklevels count it (both engines)
    path = tmp_path / "off.csv"
    path.write_text("customer_id,timestamp,amount\na,2024-01-02 10:00+01:00,1\na,2024-01-05 10:00+01:00,2\n")
    with pytest.warns(DataWarning, match="counted in UTC") as on_file:
        rfm_summary(path, observation_end="2024-12-31")
    with pytest.warns(DataWarning, match="counted in UTC") as on_frame:
        rfm_summary(pd.read_csv(path), observation_end="2024-12-31")
    assert {w.filename for w in on_file} == {w.filename for w in on_frame} == {__file__}


# F2: a value error names the canonical column and the user's, 'amount (Total)', on both paths
MAPPED = {"customer_id": "Client", "timestamp": "OrderDate", "amount": "Total"}
MAPPED_CASES = {
    "bad number": ("Client,OrderDate,Total\nc1,2024-01-13,12x\n", {}, r"amount \(Total\)"),
    "NaN text": ("Client,OrderDate,Total\nc1,2024-01-13,n/a\n", {}, r"amount \(Total\)"),
    "currency": ("Client,OrderDate,Total\nc1,2024-01-13,€5\n", {}, r"amount \(Total\)"),
    "declared decimal comma, bad value": ("Client;OrderDate;Total\nc1;2024-01-13;1.2.3\n",
                                          {"read_options": {"sep": ";", "decimal": ","}}, r"amount \(Total\)"),
    "invalid date": ("Client,OrderDate,Total\nc1,31/02/2024,5\nc1,13/01/2024,5\n", {}, r"timestamp \(OrderDate\)"),
    "infinite amount": ("Client,OrderDate,Total\nc1,2024-01-13,inf\n", {}, r"amount \(Total\)"),
}


@pytest.mark.parametrize("case", sorted(MAPPED_CASES))
def test_value_errors_name_the_mapped_column_on_both_paths(tmp_path: Path, case):
    text, kwargs, label = MAPPED_CASES[case]
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    keys = {"customer_col": "Client", "datetime_col": "OrderDate", "monetary_col": "Total"}
    if case != "infinite amount":  # the loader keeps inf (cleaning drops and counts it)
        with pytest.raises(DataValidationError, match=rf"column '{label}'"):
            load_transactions(path, columns=MAPPED, **kwargs)
    with pytest.raises(DataValidationError, match=rf"column '{label}'"):
        rfm_summary(path, observation_end="2024-12-31", **keys, **kwargs)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=kwargs.get("read_options", {}).get("sep", ","))
    if case == "infinite amount":
        frame["Total"] = frame["Total"].astype(float)
    with pytest.raises(DataValidationError, match=rf"column '{label}'"):
        rfm_summary(frame, observation_end="2024-12-31", **keys)


@pytest.mark.parametrize("marker", ["n/a", "NaN", "null", "#N/A", "-"])
def test_a_missing_value_marker_in_an_amount_hints_na_values_and_the_hint_works(tmp_path: Path, marker):
    # F3: the documented fix for "n/a" text is read_options: {na_values: [...]}, in API and config form
    path = tmp_path / "na.csv"
    path.write_text(f"customer_id,timestamp,amount\na,2024-01-02,{marker}\nb,2024-01-03,5\n", encoding="utf-8")
    hint = r"missing-value marker.*read_options=\{'na_values': \[.*\]\} \(in a config: read_options: \{na_values: "
    with pytest.raises(DataValidationError, match=hint):
        load_transactions(path)
    with pytest.raises(DataValidationError, match=hint):
        rfm_summary(path, observation_end="2024-12-31")
    tx = load_transactions(path, read_options={"na_values": [marker]})  # the fix the hint gives
    assert tx["amount"].isna().tolist() == [True, False]


def test_an_aware_parquet_relation_warns_as_the_other_paths(tmp_path: Path):
    # transactions_relation("aware.parquet") converted to UTC without the DataWarning the other paths give
    path = tmp_path / "aware.parquet"
    pd.DataFrame({"customer_id": ["a"], "amount": [1.0],
                  "timestamp": pd.to_datetime(["2024-12-31 21:00"]).tz_localize("America/New_York")}).to_parquet(path)
    with pytest.warns(DataWarning, match="converted to UTC") as caught:
        rel = transactions_relation(path)
    assert {w.filename for w in caught} == {__file__}
    assert rel.df()["timestamp"].tolist() == [pd.Timestamp("2025-01-01 02:00")]
    with pytest.warns(DataWarning, match="counted in UTC"):
        rfm_summary(path, observation_end="2025-01-31")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # a declared zone: no warning
        assert transactions_relation(path, timezone="America/New_York").df()["timestamp"].tolist() == [
            pd.Timestamp("2024-12-31 21:00")]
