"""One check order and one message for the same bad file on every reader (findings_13f F2).

A CSV whose amounts hold a decimal comma *and* other bad values ('n/a', '€3', '1.2.3', ...) got the file
readers' one-line decimal-comma diagnosis (one example, no count, a fix that did not fix the file) from
``load_transactions`` / ``transactions_relation`` / ``scale.daily_demand``, and the number policy's full
message (count, five values, the fix per kind) from ``rfm_summary`` / ``cohort_table``; a file of decimal
commas only got the diagnosis from the first three and the full message from the other two. Now the
diagnosis is given only when every bad value is a number written with commas, by every reader, and the
number policy's message otherwise (rows shown on the pandas path only, as documented).
"""

from __future__ import annotations

import re

import pytest

from crm_analysis.data import DataValidationError, SourceFileError, load_transactions, transactions_relation
from crm_analysis.data.errors import duckdb_value_errors
from crm_analysis.data.files import check_decimal_commas
from crm_analysis.rfm import calibration_and_holdout, cohort_table, repeat_purchases_by_day, rfm_summary
from crm_analysis.scale import daily_demand

END = "2024-12-31"


def _relation(path):
    with duckdb_value_errors():
        return transactions_relation(path).df()


READERS = {
    "load_transactions": load_transactions,
    "transactions_relation": _relation,
    "daily_demand": daily_demand,
    "rfm_summary": lambda p: rfm_summary(p, observation_end=END),
    "cohort_table": lambda p: cohort_table(p, observation_end=END),
    "repeat_purchases_by_day": lambda p: repeat_purchases_by_day(p, observation_end=END),
    "calibration_and_holdout": lambda p: calibration_and_holdout(p, calibration_end="2024-01-06",
                                                                 observation_end=END),
}


def _write(tmp_path, amounts, name="tx.csv"):
    rows = [f"c{i % 4},2024-01-{i + 1:02d},\"{a}\"" for i, a in enumerate(amounts)]
    path = tmp_path / name
    path.write_text("customer_id,timestamp,amount\n" + "\n".join(rows) + "\n")
    return path


def _messages(path):
    out = {}
    for name, read in READERS.items():
        with pytest.raises((DataValidationError, SourceFileError)) as err:
            read(str(path))
        out[name] = (type(err.value).__name__, str(err.value))
    return out


def _without_rows(text: str) -> str:
    """The pandas path names the first row of each value; the DuckDB path cannot (documented)."""
    text = text.replace("examples (0-based row: value)", "examples")
    return re.sub(r"row \d+: ", "", text)


def test_mixed_bad_amounts_get_the_full_message_on_every_reader(tmp_path):
    amounts = ["10", "11", "12,5", "13", "14", "n/a", "16", "€3", "abc", "n/a", "zz", "1.2.3"]
    got = _messages(_write(tmp_path, amounts))
    kinds = {k for k, _ in got.values()}
    assert kinds == {"DataValidationError"}, got
    texts = {_without_rows(t) for _, t in got.values()}
    assert len(texts) == 1, got
    text = texts.pop()
    assert "column 'amount': 7 value(s) are not numbers" in text
    assert "'1.2.3'; '12,5'; 'abc'; 'n/a'; 'zz'" in text
    assert "decimal: ','" in text and "no number" in text and "missing-value marker" in text


@pytest.mark.parametrize("amounts, fix", [
    (["10", "12,50", "3,10", "7"], "'decimal': ','"),
    (["10", "12,50", "1.234,50", "7"], "'decimal': ',', 'thousands': '.'"),
])
def test_comma_numbers_only_get_the_files_one_line_fix_on_every_reader(tmp_path, amounts, fix):
    got = _messages(_write(tmp_path, amounts))
    assert {k for k, _ in got.values()} == {"SourceFileError"}, got
    assert len({t for _, t in got.values()}) == 1, got
    assert f"Pass read_options={{{fix}}}" in next(iter(got.values()))[1]


def test_the_diagnosis_leaves_other_bad_values_to_the_number_policy(tmp_path):
    check_decimal_commas(tmp_path / "x.csv", "amount", "amount", ["12,5", "n/a", "3"])  # nothing raised
    # blanks, missing values, plain numbers (exponent, inf) are not other bad values: the diagnosis stands
    with pytest.raises(SourceFileError, match="decimal comma"):
        check_decimal_commas(tmp_path / "x.csv", "amount", "amount", ["12,5", None, " ", "3", "-1e3", "inf"])
