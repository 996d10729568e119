"""The glossary: every term has a label with its unit, and the raw names stay out of what readers see."""

from __future__ import annotations

import re

import pytest

from crm_analysis.presentation import GLOSSARY, Units, glossary_html, glossary_table, humanize, label, raw_names


def test_every_label_is_words_not_code() -> None:
    for name, t in GLOSSARY.items():
        assert "_" not in t.label, (name, t.label)
        assert t.label[:1] == t.label[:1].upper() or t.label[:1] in "pP", (name, t.label)


@pytest.mark.parametrize(("name", "text"), [("monetary_value", "Mean repeat purchase value (GBP)"),
                                            ("p_alive", "P(alive) (%)"), ("T", "Customer age"),
                                            ("retail_peak_weekday_share", "Share of retail revenue on the peak weekday (%)"),
                                            ("days_since_last", "Days since the last purchase")])
def test_labels_carry_units(name: str, text: str) -> None:
    assert label(name, units=Units("GBP")) == text


def test_unknown_names_are_humanized() -> None:
    assert label("mean_basket_size") == humanize("mean_basket_size") == "Mean basket size"
    assert label("already words") == "already words"


def test_raw_names_are_the_code_like_names() -> None:
    names = raw_names()
    assert "p_alive" in names and "monetary_value" in names and "T" not in names
    assert all("_" in n for n in names)


def test_glossary_page_lists_every_term_and_marks_the_raw_names() -> None:
    page = glossary_html(units=Units("USD"))
    assert page.count("<tr><td>") == len(glossary_table()) == len(GLOSSARY)
    assert re.findall(r"<td data-crm-raw><code>([^<]+)</code>", page) and "Money is in USD" in page
    assert "http" not in page  # offline


def test_humanize_keeps_the_fields_abbreviations() -> None:
    assert humanize("dp_protection_Online TA") == "DP protection Online TA"
    assert humanize("clv_rank") == "CLV rank"


def test_every_name_a_report_shows_has_an_entry() -> None:
    """Headline keys of every step (the declared ones and the booking horizon's), the cleaning rules and the
    pick-up methods have a glossary entry: a new name without one would reach the reader raw (issue #17)."""
    import inspect

    from crm_analysis.contracts import HEADLINES
    from crm_analysis.data import cleaning
    from crm_analysis.yield_management.booking_horizon import HORIZON_HEADLINES
    from crm_analysis.yield_management.horizon import PICKUP_METHODS

    keys = {s.key for specs in HEADLINES.values() for s in specs if "{" not in s.key}  # not the templated ones
    keys |= set(HORIZON_HEADLINES) | set(PICKUP_METHODS)
    # rule names of clean_transactions / clean_bookings: ("name", action, reason, mask) tuples
    rules = set(re.findall(r'\(\s*"([a-z_]+)",\s*(?:"drop"|"keep"|policy\.\w+),', inspect.getsource(cleaning)))
    assert {"totals_row", "sign_mismatch", "before_observation_start"} <= rules  # the pattern still finds them
    missing = sorted(n for n in keys | rules if n not in GLOSSARY)
    assert not missing, f"names without a glossary entry: {missing}"


def test_quoted_names_are_literals_and_stay_as_written() -> None:
    """Issue 17 (n17 F10): the data-quality report showed the source option ``columns={'customer_id': 'cust'}``
    as ``{'customer': 'cust'}`` - a configuration a reader copies must stay the configuration."""
    from crm_analysis.presentation import GLOSSARY, relabel_text

    names = [n for n in GLOSSARY if "_" in n]
    assert names
    for n in names:
        for text in (f"columns={{'{n}': 'x'}}", f'{{"{n}": 1}}', f"path='{n}'"):
            assert relabel_text(text) == text, n
    # unquoted in a sentence it is still relabelled
    assert relabel_text("customer_id missing") == "Customer missing"


def test_code_spans_in_table_cells_are_code() -> None:
    import pandas as pd

    from crm_analysis.presentation import display_table

    page = display_table(pd.DataFrame({"options": ["`columns={'customer_id': 'cust'}`"]})).to_html()
    assert "<code>columns={&#x27;customer_id&#x27;: &#x27;cust&#x27;}</code>" in page and "`" not in page


def test_notebook_formats_of_share_columns_are_percentages():
    """Finding F13 (n15): notebook 10 formatted p_alive with "{:.2f}" while the report labels the column
    "P(alive) (%)", so 0.96 read as 0.96 %. Every explicit format a notebook gives a column the glossary calls a
    share must be a percentage format (the label promises one)."""
    import json
    import re
    from pathlib import Path

    from crm_analysis.presentation.glossary import term

    bad = []
    for path in sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        for name, fmt in re.findall(r'"(\w+)":\s*"(\{[^"]*\})"', code):
            t = term(name)
            if t is not None and t.kind == "share" and "%" not in fmt:
                bad.append((path.name, name, fmt))
    assert bad == []
