"""Every engine names the same things for the same bad values (intake2, point 1).

The DuckDB path's ``error(...)`` in SQL saw one value; the pandas path counted the rows and showed several.
Now both give the message of one builder (crm_analysis.data.errors.bad_values_message): the column, how many
rows, up to five distinct values (the smallest in code-point order) and the fix; pandas adds the first row of
each value, which DuckDB (parallel scans) does not know. The reference for each case is the pandas loader on
the same file; the DuckDB paths are the lazy relation, rfm_summary of the file and the bookings relation.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_analysis.data import (DataValidationError, bookings_relation, duckdb_value_errors, load_bookings,
                               load_transactions, transactions_relation)
from crm_analysis.data import value_checks
from crm_analysis.data.errors import MAX_EXAMPLES, bad_values_message, distinct_examples
from crm_analysis.rfm import rfm_summary


def without_rows(message: str) -> str:
    return re.sub(r"row \d+: ", "", message.replace("examples (0-based row: value): ", "examples: "))


def _messages(path: Path, **kwargs) -> tuple[str, str, str]:
    with pytest.raises(DataValidationError) as ref:
        load_transactions(path, **kwargs)
    with pytest.raises(DataValidationError) as lazy:
        with duckdb_value_errors():
            transactions_relation(path, **kwargs).df()
    with pytest.raises(DataValidationError) as summary:
        rfm_summary(path, observation_end="2030-12-31", **kwargs)
    return str(ref.value), str(lazy.value), str(summary.value)


BAD_AMOUNTS = ["€3", "n/a", "1.2.3", "12x", "$7", "9%", "abc", "1 234.5"]  # (a decimal comma: a file check first)
GOOD_AMOUNTS = ["1", "2.5", "-3", "1e3", "0.25"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(BAD_AMOUNTS + GOOD_AMOUNTS), min_size=1, max_size=30).filter(
    lambda v: any(x in BAD_AMOUNTS for x in v)))
def test_bad_amounts_same_message_on_every_engine(tmp_path_factory, amounts):
    path = tmp_path_factory.mktemp("a") / "a.csv"
    rows = "".join(f'c{i % 4};2024-01-{1 + i % 28:02d};"{a}"\n' for i, a in enumerate(amounts))
    path.write_text("customer_id;timestamp;amount\n" + rows, encoding="utf-8")
    ref, lazy, summary = _messages(path, read_options={"sep": ";"})
    n_bad = sum(a in BAD_AMOUNTS for a in amounts)
    shown = sorted({a for a in amounts if a in BAD_AMOUNTS})[:MAX_EXAMPLES]
    assert ref.startswith(f"column 'amount': {n_bad:,} value(s) are not numbers")  # every bad row counted
    assert "examples: " + "; ".join(repr(v) for v in shown) + "." in without_rows(ref)
    assert lazy == summary == without_rows(ref)


BAD_DATES = ["31/02/2024", "30/02/2024", "hello", "32/01/2024", "00/01/2024", "1 Jan 2024"]
GOOD_DATES = ["13/01/2024", "01/02/2024", "28/02/2024"]  # day first (13/01): the order is read off the column


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(BAD_DATES + GOOD_DATES), min_size=1, max_size=30).filter(
    lambda v: any(x in BAD_DATES for x in v)), st.booleans())
def test_bad_dates_same_message_on_every_engine(tmp_path_factory, dates, with_format):
    path = tmp_path_factory.mktemp("d") / "d.csv"
    rows = "".join(f"c{i % 4},{d},1\n" for i, d in enumerate(["13/01/2024", *dates]))
    path.write_text("customer_id,timestamp,amount\n" + rows, encoding="utf-8")
    kwargs = {"date_format": "%d/%m/%Y"} if with_format else {}
    ref, lazy, summary = _messages(path, **kwargs)
    bad = [d for d in dates if d in BAD_DATES]
    problem = "do not match date_format" if with_format else "are not valid dates"
    assert ref.startswith(f"column 'timestamp': {len(bad):,} value(s) {problem}")
    assert "examples: " + "; ".join(repr(v) for v in sorted(set(bad))[:MAX_EXAMPLES]) + "." in without_rows(ref)
    assert lazy == summary == without_rows(ref)


def test_more_bad_values_than_shown_are_counted(tmp_path: Path):
    """A file with 7 distinct bad dates in 200 rows: 200 counted, the five smallest shown (DuckDB saw one)."""
    bad = [f"3{d}/02/2024" for d in range(7)]  # 30/02 .. 36/02: never a date
    path = tmp_path / "many.csv"
    path.write_text("customer_id,timestamp,amount\nc,13/01/2024,1\n"
                    + "".join(f"c{i},{bad[i % 7]},1\n" for i in range(200)), encoding="utf-8")
    ref, lazy, summary = _messages(path)
    assert lazy.startswith("column 'timestamp': 200 value(s) are not valid dates (dd/mm read day first)")
    assert "examples: '30/02/2024'; '31/02/2024'; '32/02/2024'; '33/02/2024'; '34/02/2024'." in lazy
    assert "'35/02/2024'" not in lazy
    assert lazy == summary == without_rows(ref)


def test_bookings_statuses_and_whole_numbers_same_message(tmp_path: Path):
    head = "booking_id,booking_date,arrival_date,nights,rate,segment,status\n"
    rows = {"status": ["stayed", "gone", "weird", "gone"], "nights": ["2", "2.5", "1.5", "3"]}
    for column, values in rows.items():
        n_bad = 3 if column == "status" else 2
        other = {"status": "stayed", "nights": "2"}
        lines = "".join(
            f"{i},2024-01-01,2024-01-05,{v if column == 'nights' else other['nights']},100,Direct,"
            f"{v if column == 'status' else other['status']}\n" for i, v in enumerate(values))
        path = tmp_path / f"{column}.csv"
        path.write_text(head + lines, encoding="utf-8")
        with pytest.raises(DataValidationError) as ref:
            load_bookings(path)
        with pytest.raises(DataValidationError) as lazy:
            with duckdb_value_errors():
                bookings_relation(path).df()
        assert str(ref.value).startswith(f"column '{column}': {n_bad} value(s) are")
        assert str(lazy.value) == without_rows(str(ref.value))


def test_a_raw_duckdb_error_outside_the_context_keeps_duckdb_text(tmp_path: Path):
    """Materialised outside duckdb_value_errors, the relation raises DuckDB's own error (documented)."""
    path = tmp_path / "cur.csv"
    path.write_text("customer_id,timestamp,amount\na,2024-01-02,€12.50\n", encoding="utf-8")
    rel = transactions_relation(path)
    with pytest.raises(duckdb.Error, match="currency"):
        rel.df()


_TX = {"customer_id": ["a", "b", "c"], "timestamp": ["2024-01-13"] * 3, "amount": ["1", "2", "3"]}
_BK = {"booking_id": [1, 2], "booking_date": ["2024-01-01"] * 2, "arrival_date": ["2024-01-05"] * 2,
       "nights": ["2", "2"], "rate": [100.0, 100.0], "segment": ["Direct"] * 2, "status": ["stayed", "stayed"]}
#: every kind of SQL value check (numbers, dates, dates with date_format, whole numbers, statuses, missing statuses):
#: (relation, table, column, bad values, kwargs, what the one-value text says)
_LAZY_CASES = {
    "number": (transactions_relation, _TX, "amount", ["12,5", "3", "€4"], {}, "value '12,5' is not a number"),
    "quantity": (transactions_relation, {**{k: v for k, v in _TX.items() if k != "amount"},
                                         "quantity": ["1", "2", "3"], "unit_price": ["1", "x", "3"]},
                 "unit_price", ["1", "x", "3"], {}, "value 'x' is not a number"),
    "date": (transactions_relation, _TX, "timestamp", ["31/02/2024", "13/01/2024", "30/02/2024"], {},
             "value '31/02/2024' is not a valid date"),  # valid forms, no such day: found lazily
    "date_format": (transactions_relation, _TX, "timestamp", ["2024-01-13", "13/01/2024", "2024-01-14"],
                    {"date_format": "%Y-%m-%d"}, "value '13/01/2024' does not match date_format '%Y-%m-%d'"),
    "whole": (bookings_relation, _BK, "nights", ["2", "2.5"], {}, "value '2.5' is not a whole number"),
    "status": (bookings_relation, _BK, "status", ["stayed", "Foo"], {},
               "value 'Foo' is outside the allowed statuses ['stayed', 'cancelled', 'no_show']"),
    "missing status": (bookings_relation, _BK, "status", ["stayed", None], {}, "a value is missing"),
}


@pytest.mark.parametrize("case", list(_LAZY_CASES))
def test_outside_the_context_the_text_names_column_value_and_fix_without_internal_token(case):
    """findings_13f F3: DuckDB's text read outside duckdb_value_errors is the package's, with no "[check N]".

    Every kind of value check: the column, the first bad value, the fix, and how to have every bad row counted;
    the registration's key is invisible (zero-width characters only). Inside the context: the pandas path's
    message (every bad row counted; see the tests above), without the pointer.
    """
    make, table, column, values, kwargs, says = _LAZY_CASES[case]
    df = pd.DataFrame({**table, column: values})
    with pytest.raises(duckdb.Error) as raw:
        make(df, **kwargs).df()
    text = str(raw.value)
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    assert "[check" not in visible and "check " not in visible
    assert visible == text.rstrip("\u2063\u200b\u200c")  # only the (trailing) token is invisible
    assert f"column '{column}': {says}" in visible
    assert visible.endswith("materialise the relation inside `with crm_analysis.data.duckdb_value_errors():` to "
                            "have every bad row of the column counted.")
    fix = {"number": "set the read option decimal", "quantity": "found ", "date": "correct the value",
           "date_format": "correct it", "whole": "correct the value", "status": "map it to one of them",
           "missing status": "give every booking its status"}[case]
    assert fix in visible
    with pytest.raises(DataValidationError) as full:
        with duckdb_value_errors():
            make(df, **kwargs).df()
    assert str(full.value).startswith(f"column '{column}': ")
    assert "duckdb_value_errors" not in str(full.value) and "\u2063" not in str(full.value)
    assert " value(s) " in str(full.value)  # counted


def test_no_registration_outlives_its_relation_or_the_block():
    """No global keep-alive (closing_note5): a released relation's checks are dropped, inside a block at its end.

    ``transactions_relation(df).df()`` in one expression inside the block is still diagnosed (its relation is
    released while DuckDB's error propagates).
    """
    df = pd.DataFrame({**_TX, "amount": ["1", "x", "y"]})
    rel = transactions_relation(df)
    with pytest.raises(duckdb.Error) as raw:
        rel.df()
    text = str(raw.value)
    assert value_checks.diagnosis(text, max_examples=MAX_EXAMPLES).startswith("column 'amount': 2 value(s)")
    del rel, raw  # (the exception's traceback holds the relation too)
    gc.collect()
    assert value_checks.diagnosis(text, max_examples=MAX_EXAMPLES) is None  # released: nothing kept

    with duckdb_value_errors():
        try:
            transactions_relation(df).df()
        except duckdb.Error as exc:  # inside the block, before the context converts it
            text = str(exc)
            assert value_checks.diagnosis(text, max_examples=MAX_EXAMPLES).startswith("column 'amount': 2 value(s)")
    assert value_checks.diagnosis(text, max_examples=MAX_EXAMPLES) is None  # the block ended: dropped


def test_builder_and_selection() -> None:
    # distinct values, smallest first, first row of each; no examples part when there are none
    assert distinct_examples(["b", "a", "b", "c"], rows=[4, 7, 9, 1], k=2) == [("a", 7), ("b", 4)]
    assert distinct_examples(["b", "a"]) == [("a", None), ("b", None)]
    assert bad_values_message("x", 3, "are bad", [("a", 7), ("b", 4)], fix="Fix.") == (
        "column 'x': 3 value(s) are bad; examples (0-based row: value): row 7: 'a'; row 4: 'b'. Fix.")
    assert bad_values_message("x", 1, "are missing", []) == "column 'x': 1 value(s) are missing."
