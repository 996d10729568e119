"""Number and money formats: round trips, one rounding rule, currency from the config."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis.presentation import Units, format_count, format_money, format_number, format_percent, money_decimals

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


def _parse(text: str) -> float:
    """Read a formatted figure back (independent of the formatter: strip currency, separators, %)."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("-").split(" ")[-1].rstrip("%").replace(",", "")
    return sign * float(body)


@given(finite, st.integers(min_value=0, max_value=4))
def test_format_number_round_trips_within_half_a_last_digit(x: float, d: int) -> None:
    text = format_number(x, decimals=d)
    assert abs(_parse(text) - x) <= 0.5 * 10.0**-d * (1 + 1e-9) + abs(x) * 1e-15
    if d:
        assert text.count(".") == 1 and len(text.split(".")[-1]) == d
    else:
        assert "." not in text
    digits = text.lstrip("-").split(".")[0]
    assert all(len(g) == 3 for g in digits.split(",")[1:]) and 1 <= len(digits.split(",")[0]) <= 3


@given(finite, st.integers(min_value=0, max_value=3))
def test_format_number_rounds_half_away_from_zero_like_by_hand(x: float, d: int) -> None:
    # reference: decimal arithmetic on the value as written (repr), the way a person rounds
    ref = Decimal(repr(x)).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    assert _parse(format_number(x, decimals=d)) == float(ref) or float(ref) == 0


@pytest.mark.parametrize(("x", "d", "text"), [(12.5, 0, "13"), (2.675, 2, "2.68"), (-0.004, 2, "0.00"),
                                               (8798233.74, 0, "8,798,234"), (-1234.5, 0, "-1,235")])
def test_format_number_by_hand(x: float, d: int, text: str) -> None:
    assert format_number(x, decimals=d) == text


@given(finite)
def test_money_has_the_currency_and_one_rounding_rule(x: float) -> None:
    text = format_money(x, units=Units("GBP"))
    assert "GBP " in text and text.count("GBP") == 1
    decimals = len(text.split(".")[-1]) if "." in text else 0
    assert decimals == (0 if abs(x) >= 1000 else 2)
    assert text.startswith("-") == (x < 0 and _parse(text) != 0)
    assert abs(abs(_parse(text)) - abs(x)) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + abs(x) * 1e-15


@given(st.lists(finite, min_size=1, max_size=20))
def test_money_decimals_is_one_rule_per_column(xs: list[float]) -> None:
    assert money_decimals(xs) == (0 if max(abs(x) for x in xs) >= 1000 else 2)


@given(st.floats(min_value=-10, max_value=10, allow_nan=False))
def test_percent_of_a_share(x: float) -> None:
    text = format_percent(x)
    assert text.endswith("%") and abs(_parse(text) - 100 * x) <= 0.05 * (1 + 1e-9) + abs(x) * 1e-13


def test_missing_and_infinite_values() -> None:
    assert format_number(float("nan")) == format_money(None) == format_percent(None) == format_count(math.nan) == "-"
    assert format_number(math.inf) == "infinite"


@pytest.mark.parametrize("bad", ["euro", "E", 12, "EU R"])
def test_bad_currency_names_the_key_and_the_fix(bad: object) -> None:
    with pytest.raises(ValueError, match=r"units.currency: expected an ISO 4217 code.*got"):
        Units(bad)  # type: ignore[arg-type]


def test_units_from_config_and_run(tmp_path: Path) -> None:
    assert Units.from_config({"currency": "usd"}).currency == "USD"
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['curency'\]"):
        Units.from_config({"curency": "USD"})
    assert Units.from_run(None) == Units() == Units.from_run(tmp_path)  # stand-alone: the defaults
    (tmp_path / "config.yaml").write_text("title: x\nunits: {currency: GBP}\n")
    assert Units.from_run(tmp_path).currency == "GBP"


@pytest.mark.parametrize(("code", "decimals"), [("EUR", 2), ("GBP", 2), ("USD", 2), ("CHF", 2), ("JPY", 0),
                                                ("KRW", 0), ("KWD", 3), ("BHD", 3)])
def test_money_below_1000_has_the_minor_unit_of_its_currency(code: str, decimals: int) -> None:
    """Issue 17 (n17 F11): yen were shown with cents ("JPY 12.35", "6,384,195.00"). The minor units are
    those of ISO 4217 (published table: JPY and KRW 0, EUR/GBP/USD/CHF 2, KWD and BHD 3)."""
    from crm_analysis.presentation import display_table, format_column, format_money, money_decimals

    u = Units(code)
    assert u.decimals == decimals and money_decimals([12.345, 310.0], units=u) == decimals
    text = format_money(12.345, units=u)
    assert text == f"{code} " + (f"{12.345:.{decimals}f}" if decimals != 2 else "12.35")
    assert money_decimals(8798233.74, units=u) == 0 and format_money(8798233.74, units=u) == f"{code} 8,798,234"
    assert format_column(pd.Series([0.0, 512.6]), "money", units=u) == [f"{0:.{decimals}f}", f"{512.6:.{decimals}f}"]
    assert display_table(pd.DataFrame({"revenue": [512.6]}), units=u).frame.iloc[0, 0] == f"{512.6:.{decimals}f}"


@pytest.mark.parametrize("code", ["ABC", "QQQ", "BTC", "EURO", "eu"])
def test_a_code_that_is_not_an_iso_4217_currency_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match=r"units\.currency: .*'" + code + "'"):
        Units(code)
