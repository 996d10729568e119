"""Axis labels with units and thousands separators for matplotlib charts."""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import re
from typing import Any

from .units import DEFAULT_UNITS, Units

__all__ = ["format_axis", "annotate_partial", "polish_figure"]


def format_axis(ax: Any, *, axis: str = "y", kind: str = "number", units: Units | None = None,
                label: str | None = None) -> Any:
    """Tick labels with thousands separators and the unit in the axis label.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"x", "y"}, default "y"
    kind : {"money", "count", "number", "share", "percent"}, default "number"
        ``money`` adds the currency to the label; ``share`` shows fractions as per cent.
    units : Units, optional
        Currency (default :data:`~crm_analysis.presentation.units.DEFAULT_UNITS`).
    label : str, optional
        Axis label without the unit (default: keep the current one).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Raises
    ------
    ValueError
        On an unknown ``axis`` or ``kind``.
    """
    from matplotlib.ticker import FuncFormatter

    if axis not in ("x", "y"):
        raise InputError(f"format_axis: axis must be 'x' or 'y', got {shown(axis)}")
    units = units or DEFAULT_UNITS
    fmts = {
        "money": lambda v, _: f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:,.2f}",
        "count": lambda v, _: f"{v:,.0f}",
        "number": lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}",
        "share": lambda v, _: f"{100 * v:,.0f}%",
        "percent": lambda v, _: f"{v:,.0f}%",
    }
    if kind not in fmts:
        raise InputError(f"format_axis: kind must be one of {sorted(fmts)}, got {shown(kind)}")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(fmts[kind]))
    text = label if label is not None else target.get_label().get_text()
    if kind == "money" and units.currency not in text:
        text = f"{text} ({units.currency})" if text else units.currency
    target.set_label_text(text)
    return ax


def annotate_partial(ax: Any, note: str) -> Any:
    """Write the partial-period note under a period chart (empty note: nothing)."""
    if note:
        ax.annotate(note, xy=(0, -0.18), xycoords="axes fraction", fontsize=8, color="#59636e",
                    va="top", wrap=True)
    return ax


_MONEY_WORDS = re.compile(r"\b(revenue|spend|profit|clv|fare|price|amount|cost|margin|monetary|adr)\b", re.I)
_NOT_MONEY = re.compile(r"\b(share|index|ratio|strength|uplift %|per cent|percent|count|customers|orders)\b|%", re.I)


def _thousands(axis: Any) -> None:
    """Thousands separators on a plain numeric axis whose ticks reach 1,000 (dates, logs, categories untouched)."""
    import math

    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    if type(axis.get_major_formatter()) is not ScalarFormatter:
        return
    locs = [v for v in axis.get_majorticklocs() if math.isfinite(v)]
    if not locs or max(abs(v) for v in locs) < 1000:
        return
    steps = [abs(b - a) for a, b in zip(locs, locs[1:]) if b != a]
    step = min(steps) if steps else 1.0
    decimals = 0 if step >= 1 else min(6, -math.floor(math.log10(step)))
    axis.set_major_formatter(FuncFormatter(lambda v, _, d=decimals: f"{v:,.{d}f}"))


def polish_figure(fig: Any, *, units: Units | None = None) -> Any:
    """Make a finished figure readable: glossary labels, currency on money axes, thousands separators.

    * raw glossary names in titles, axis labels and legend texts become
      their labels (:func:`~crm_analysis.presentation.glossary.relabel_text`);
    * an axis label naming money (revenue, spend, profit, CLV, fare, price,
      amount, cost, margin) and no share, index or per cent gets the currency
      (``"revenue (EUR)"``);
    * plain numeric axes whose ticks reach 1,000 get thousands separators.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    units : Units, optional
        The currency (default :data:`~crm_analysis.presentation.units.DEFAULT_UNITS`).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, changed in place.
    """
    from .glossary import relabel_text

    units = units or DEFAULT_UNITS
    if getattr(fig, "_suptitle", None) is not None:
        fig._suptitle.set_text(relabel_text(fig._suptitle.get_text(), units=units))
    for ax in fig.axes:
        ax.set_title(relabel_text(ax.get_title(), units=units))
        for axis in (ax.xaxis, ax.yaxis):
            text = relabel_text(axis.get_label().get_text(), units=units)
            if (text and _MONEY_WORDS.search(text) and not _NOT_MONEY.search(text)
                    and units.currency not in text):
                text = f"{text} ({units.currency})"
            axis.set_label_text(text)
            _thousands(axis)
        legend = ax.get_legend()
        if legend is not None:
            for t in legend.get_texts():
                t.set_text(relabel_text(t.get_text(), units=units))
    return fig
