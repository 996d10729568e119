"""crm_analysis._validate.check_columns: one message for a table that lacks columns (issue #13)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis._validate import check_columns
from crm_analysis.campaigns.experiment import CampaignInputError, campaign_data
from crm_analysis.data import clean_transactions
from crm_analysis.data.errors import DataValidationError
from crm_analysis.exceptions import InputError
from crm_analysis.profitability import ProfitabilityInputError, customer_profitability
from crm_analysis.rfm import rfm_summary
from crm_analysis.segmentation import SegmentationInputError, rfm_scores
from crm_analysis.yield_management.cancellation import booking_features

PACKAGE = Path(__file__).resolve().parents[1] / "crm_analysis"

names = st.sampled_from(["customer_id", "timestamp", "amount", "T", "frequency", "p_alive", "x", "0"])


@given(required=st.lists(names, unique=True), available=st.lists(names, unique=True), fix=st.none() | st.just("Do Y"))
def test_raises_exactly_when_a_column_is_missing_and_names_them(required, available, fix) -> None:
    missing = [c for c in required if c not in available]  # independent of the helper: a set difference in order
    if not missing:
        check_columns(required, available, table="the table", fix=fix)
        return
    with pytest.raises(InputError) as info:
        check_columns(required, available, table="the table", fix=fix)
    msg = str(info.value)
    assert msg.startswith(f"missing column(s) {missing} in the table; its columns are {available}. ")
    assert msg.endswith("Do Y" if fix else "(the *_col ones)")


def test_a_mapping_names_the_parameter_of_each_missing_column_and_the_error_type_is_the_callers() -> None:
    with pytest.raises(SegmentationInputError, match=r"^missing column\(s\) 'cust' \(customer_col\), 'amt' "
                                                     r"\(monetary_col\) in transactions; its columns are \['t'\]\. Fix"):
        check_columns({"customer_col": "cust", "datetime_col": "t", "monetary_col": "amt"}, pd.Index(["t"]),
                      table="transactions", fix="Fix", error=SegmentationInputError)


@pytest.mark.parametrize(
    ("call", "error", "table"),
    [
        (lambda: rfm_summary(pd.DataFrame({"x": [1]}), observation_end="2024-01-31"), InputError, "transactions"),
        (lambda: clean_transactions(pd.DataFrame({"x": [1]})), DataValidationError, "the transactions to clean"),
        (lambda: customer_profitability(pd.DataFrame({"customer_id": ["a"]})), ProfitabilityInputError,
         "transactions"),
        (lambda: campaign_data(pd.DataFrame({"x": [1]}), group_col="g", control="c", outcomes=["visit"]),
         CampaignInputError, "the campaign table"),
        (lambda: rfm_scores(pd.DataFrame({"x": [1.0]})), SegmentationInputError, "RFM summary"),
        (lambda: booking_features(pd.DataFrame({"x": [1.0]})), InputError,
         "the bookings (needed for the booking features)"),
    ],
    ids=["rfm", "cleaning", "profitability", "campaigns", "segmentation", "yield_management"],
)
def test_the_package_entry_points_keep_their_error_type_with_the_one_message(call, error, table) -> None:
    with pytest.raises(error) as info:
        call()
    msg = str(info.value)
    assert re.match(r"missing column\(s\) .+ in .+; its columns are \[.*\]\. \S", msg), msg
    if table:
        assert f" in {table}; " in msg


def test_no_module_builds_its_own_missing_column_list() -> None:
    """Every `[c for c in cols if c not in table.columns]` check goes through check_columns (yield_management too)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ListComp) and len(node.generators) == 1:
                for cond in node.generators[0].ifs:
                    if (isinstance(cond, ast.Compare) and isinstance(cond.ops[0], ast.NotIn)
                            and isinstance(cond.comparators[0], ast.Attribute)
                            and cond.comparators[0].attr == "columns"):
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == [], f"missing-column checks of their own (use crm_analysis._validate.check_columns): {found}"


def test_the_examples_in_the_docstrings_of_the_shared_checks_hold() -> None:
    """The doctests of crm_analysis._validate (check_count, check_probability raise InputError, a ValueError)."""
    import doctest

    import crm_analysis._validate as module

    result = doctest.testmod(module)
    assert result.attempted >= 5 and result.failed == 0, result
