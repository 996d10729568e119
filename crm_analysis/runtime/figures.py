"""How a headline figure is shown: its kind (count, money, share, per cent, number, text) and its text.

Used by the notebooks (their headline tables) and by the report chain's index
page (:mod:`crm_analysis.report.index`), so that both show a figure the same way.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import math
import re
from typing import Any

from crm_analysis._validate import renamed_names
from crm_analysis.presentation import Units, format_money, relabel_text, term

__all__ = ["FIGURE_KINDS", "format_value", "format_figure", "infer_kind"]


def format_value(value: Any) -> str:
    """Format a headline figure for display.

    Integers get thousands separators; floats with magnitude at least 100 are
    rounded to whole numbers, at least 1 to two decimals, smaller ones to three
    significant digits; ``None``/NaN show as ``-``; other values use ``str``.

    Examples
    --------
    >>> format_value(1234567)
    '1,234,567'
    >>> format_value(0.123456)
    '0.123'
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.3g}"
    return str(value)


#: Units a headline figure can be shown in (see :func:`format_figure`).
FIGURE_KINDS = ("count", "money", "share", "percent", "number", "text")

_PERCENT_LABEL_RE = re.compile(r"\(%\)|,\s*%|%\s*(?:per\b|$)")
_MONEY_TOKENS = {"revenue", "clv", "spend", "rate", "price", "adr", "cost", "profit", "margin", "value"}
_NOT_MONEY_TOKENS = {"gini", "mae", "mape", "rmse", "strength", "share", "uplift", "gap", "pct", "ratio", "n"}


def infer_kind(key: str, label: str | None, value: Any) -> str:
    """Guess how to show a headline figure from its key, label and value.

    Rules, first match wins: strings and booleans are ``"text"``; a key with a
    glossary entry (:data:`crm_analysis.presentation.GLOSSARY`) has the glossary's
    kind (the one definition of what a figure is: a hit rate is a share, not
    money); for other keys the rest is a guess: a label that
    says its value is in per cent (``"(%)"``, ``", %"``, ``"% per ..."`` or a
    trailing ``%``) gives ``"percent"``; a key with a ``share`` part or a label
    starting with "Share" gives ``"share"`` (a fraction, shown as per cent);
    integers are ``"count"``; a key naming a monetary quantity (``revenue``,
    ``clv``, ``spend``, ``rate``, ...) and no statistic (``gini``, ``mae``,
    ``uplift``, ...) gives ``"money"``; anything else is ``"number"``.

    Examples
    --------
    >>> infer_kind("top20_revenue_share", "Share of revenue from the top 20% of customers", 0.6)
    'share'
    >>> infer_kind("revenue_uplift_vs_fcfs", "Revenue uplift over FCFS, % per night", 0.4)
    'percent'
    >>> infer_kind("total_clv", "Total CLV", 1234.5)
    'money'
    """
    if value is None or isinstance(value, (bool, str)) or not isinstance(value, (int, float)):
        return "text"
    known = term(key)
    if known is not None:
        return known.kind if known.kind in FIGURE_KINDS else ("text" if known.kind == "date" else "number")
    tokens = set(str(key).lower().split("_"))
    text = str(label or "").strip()
    if _PERCENT_LABEL_RE.search(text):
        return "percent"
    if "share" in tokens or text.lower().startswith("share"):
        return "share"
    if isinstance(value, int):
        return "count"
    if tokens & _MONEY_TOKENS and not tokens & _NOT_MONEY_TOKENS:
        return "money"
    return "number"


def _pct(x: float) -> str:
    if x == 0 or abs(x) >= 1:
        return f"{x:,.1f}%"
    return f"{x:.2g}%"


def format_figure(value: Any, kind: str, *, units: Units | None = None) -> str:
    """Format a headline figure for people.

    Parameters
    ----------
    value : object
        The figure.
    kind : {"count", "money", "share", "percent", "number", "text"}
        ``count``: rounded, thousands separators; ``money``: the currency of
        ``units`` and thousands separators, whole currency units from 1,000
        up, the currency's minor unit below (:func:`crm_analysis.presentation.format_money`);
        ``share``: a fraction shown as per cent; ``percent``: a value already
        in per cent; ``number``: see :func:`format_value`; ``text``: as is,
        raw names in it relabelled (:func:`crm_analysis.presentation.relabel_text`).
    units : Units, optional
        Currency of money (default EUR).

    Returns
    -------
    str
        ``"-"`` for missing values.

    Examples
    --------
    >>> format_figure(23570, "count"), format_figure(302778.53, "money", units=Units("GBP")), format_figure(0.6359, "share")
    ('23,570', 'GBP 302,779', '63.6%')
    """
    if kind not in FIGURE_KINDS:
        raise InputError(f"unknown kind {kind!r}; expected one of {FIGURE_KINDS}")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return relabel_text(value, units=units)  # "lowest holdout_rmse" -> "lowest Holdout RMSE"
    if kind == "text" or isinstance(value, bool) or not isinstance(value, (int, float)):
        return format_value(value)
    if math.isinf(value):
        return format_value(value)
    if kind == "count":
        return f"{round(value):,}"
    if kind == "money":
        return format_money(value, units=units)
    if kind == "share":
        return _pct(100.0 * value)
    if kind == "percent":
        return _pct(float(value))
    return format_value(value)


#: Old name (fourth newcomer finding H16: crm_analysis.presentation.glossary.KINDS is a longer tuple, the kinds of a
#: table column); served with a FutureWarning.
__getattr__ = renamed_names(__name__, {"KINDS": "FIGURE_KINDS"}, globals(),
                            why="presentation.glossary.KINDS are the kinds of a table column; these of a headline")
