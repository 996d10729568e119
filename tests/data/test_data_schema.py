"""Tests of crm_analysis.data.schema against docs/architecture.md."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from crm_analysis.data import BOOKING_STATUSES, BOOKINGS, TRANSACTIONS, Column, schema_frame

ARCH = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _doc_table(title: str) -> pd.DataFrame:
    """Parse the markdown table following the line that starts with ``title``."""
    lines = ARCH.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return pd.DataFrame(rows[2:], columns=rows[0])


@pytest.mark.parametrize(("title", "schema"), [("Transactions", TRANSACTIONS), ("Bookings", BOOKINGS)])
def test_schema_matches_architecture_doc(title, schema):
    doc = _doc_table(title)
    assert list(doc["column"]) == list(schema.names)
    for _, row in doc.iterrows():
        col = schema[row["column"]]
        assert col.dtype == re.sub(r"\s*\(naive\)", "", row["dtype"])
        assert col.required == row["required"].startswith("yes")


def test_schema_frame_and_helpers():
    frame = schema_frame(TRANSACTIONS)
    assert list(frame.columns) == ["column", "dtype", "required", "description"]
    assert len(frame) == len(TRANSACTIONS)
    assert TRANSACTIONS.required == ("customer_id", "timestamp", "amount")
    assert set(BOOKINGS.required) == {"booking_id", "booking_date", "arrival_date", "nights", "rate", "segment", "status"}
    assert BOOKING_STATUSES == ("stayed", "cancelled", "no_show")
    assert "amount" in TRANSACTIONS and "amount" not in BOOKINGS
    assert isinstance(TRANSACTIONS.dtypes["customer_id"], pd.StringDtype)
    pd.testing.assert_frame_equal(BOOKINGS.to_frame(), schema_frame(BOOKINGS))


def test_unknown_column_and_dtype():
    with pytest.raises(KeyError, match="not a column of the transactions schema"):
        TRANSACTIONS["price"]
    with pytest.raises(ValueError, match="unknown dtype"):
        Column("x", "object", False, "bad")
