"""Tables for readers: labels instead of raw names, money with its currency, tables that fit.

:func:`display_table` renames the columns (and index names) of a frame to
their glossary labels with units, formats the values by their kind (money
with one rounding per column, shares as per cent, counts with thousands
separators) and writes HTML that fits its box: cell text wraps, and a table
wider than the page scrolls inside its own box with the first column fixed.

:func:`install_display` makes every ``display(df)`` of a notebook go through
:func:`display_table`, and relabels the headers of styled tables
(:class:`pandas.io.formats.style.Styler`).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .glossary import RAW_NAME_COLUMN, label, relabel_text, term
from .units import DEFAULT_UNITS, Units, format_count, format_number, format_percent, money_decimals

__all__ = ["Table", "display_table", "format_column", "install_display", "TABLE_CSS", "SCROLL_CLASS"]

#: Class of the box a table scrolls in (the report check accepts wide content inside it).
SCROLL_CLASS = "crm-table-scroll"

#: CSS of the tables (also in the report template); first column sticky, text wraps.
TABLE_CSS = f"""
.{SCROLL_CLASS} {{ max-width: 100%; overflow-x: auto; margin: 0.4em 0 1em; }}
.{SCROLL_CLASS} table {{ border-collapse: separate; border-spacing: 0; }}
.{SCROLL_CLASS} th, .{SCROLL_CLASS} td {{ white-space: normal; overflow-wrap: normal; max-width: 32em;
  word-break: normal; }}
.{SCROLL_CLASS} td.num, .{SCROLL_CLASS} th.num {{ text-align: right; white-space: nowrap; }}
.{SCROLL_CLASS} tbody th {{ white-space: nowrap; }}
.{SCROLL_CLASS} tr > :first-child {{ position: sticky; left: 0; background: #f6f8fa; z-index: 1; }}
"""


def format_column(values: pd.Series, kind: str, *, units: Units | None = None) -> list[str]:
    """Format one column of values by its glossary kind.

    Parameters
    ----------
    values : pandas.Series
        The column.
    kind : str
        ``money`` (currency in the header, one rounding for the column: see
        :func:`~crm_analysis.presentation.units.money_decimals`), ``count``,
        ``share`` (fraction -> %), ``percent`` (already %), ``index``,
        ``days``, ``periods``, ``number``, ``date``, ``text``.
    units : Units, optional
        The currency's minor unit sets the decimals of money below 1,000 (none for JPY).

    Returns
    -------
    list of str
        ``"-"`` for missing values.
    """
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(values):
        return ["-" if pd.isna(v) else (f"{v:%Y-%m-%d}" if v == v.normalize() else f"{v:%Y-%m-%d %H:%M}")
                for v in values]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return ["-" if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else str(v)
                for v in values]
    vals = pd.to_numeric(values, errors="coerce").astype(float)
    if kind == "money":
        d = money_decimals(vals, units=units)
        return [format_number(v, decimals=d) for v in vals]
    if kind == "count":
        return [format_count(v) for v in vals]
    if kind == "share":
        return [format_percent(v, decimals=1) for v in vals]
    if kind == "percent":
        return [format_number(v, decimals=1) + ("%" if np.isfinite(v) else "") if not np.isnan(v) else "-" for v in vals]
    if kind in ("index", "days"):
        return [format_number(v, decimals=0) for v in vals]
    if pd.api.types.is_integer_dtype(values):
        return [format_count(v) for v in vals]
    finite = vals[np.isfinite(vals)]
    big = len(finite) and float(np.abs(finite).max()) >= 1000
    small = len(finite) and float(np.abs(finite).max()) < 1
    return [format_number(v, decimals=0 if big else (3 if small else 2)) for v in vals]


_CODE_RE = re.compile(r"`([^`]+)`")


def _cell_html(text: str) -> str:
    """A text cell as HTML: escaped, with its Markdown code spans (```x```) as ``<code>`` (kept verbatim)."""
    return _CODE_RE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


def _kind_of(name: Any, kinds: Mapping[str, str]) -> str:
    if str(name) in kinds:
        return kinds[str(name)]
    t = term(name)
    return t.kind if t is not None else "number"


def _cell_text(value: Any, units: Units | None = None) -> str:
    """A text cell for readers: an exact raw name -> its label (no unit); raw names inside a sentence -> labels."""
    t = term(value) if isinstance(value, str) else None
    if t is not None and "_" in str(value):
        return label(value, with_unit=False)
    return relabel_text(str(value), units=units)


class Table:
    """A formatted table with an HTML form that fits (see :func:`display_table`).

    Attributes
    ----------
    frame : pandas.DataFrame
        The shown text: labelled columns, formatted values (strings).
    numeric : list of bool
        Per column: right-aligned figures.
    caption : str or None
    """

    def __init__(self, frame: pd.DataFrame, numeric: list[bool], caption: str | None, show_index: bool,
                 raw: list[bool] | None = None) -> None:
        self.frame = frame
        self.numeric = numeric
        self.raw = raw or [False] * len(numeric)
        self.caption = caption
        self.show_index = show_index

    def to_html(self) -> str:
        """The table in a scroll box (``<div class="crm-table-scroll">``), every text HTML-escaped."""
        f = self.frame
        e = html.escape
        head = []
        if self.show_index:
            head.append(f"<th>{e(str(f.index.name or ''))}</th>")
        head += [f'<th class="{"num" if n else "txt"}">{e(str(c))}</th>' for c, n in zip(f.columns, self.numeric)]
        rows = []
        for idx, row in zip(f.index, f.itertuples(index=False, name=None)):
            cells = [f"<th>{e(str(idx))}</th>"] if self.show_index else []
            cells += [f'<td class="num">{e(str(v))}</td>' if n else
                  (f'<td class="txt" data-crm-raw><code>{e(str(v))}</code></td>' if raw else f'<td class="txt">{_cell_html(str(v))}</td>')
                  for v, n, raw in zip(row, self.numeric, self.raw)]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{e(self.caption)}</caption>" if self.caption else ""
        return (f'<div class="{SCROLL_CLASS}"><style>{TABLE_CSS}</style><table class="dataframe crm-table">{cap}'
                f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.frame.to_string()


def display_table(
    df: pd.DataFrame | pd.Series,
    *,
    units: Units | None = None,
    kinds: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
    index: bool | None = None,
) -> Table:
    """A frame as a table for readers: glossary labels with units, formatted values, HTML that fits.

    Parameters
    ----------
    df : pandas.DataFrame or Series
        The table (raw column names, raw values).
    units : Units, optional
        Currency of money columns (default :data:`~crm_analysis.presentation.units.DEFAULT_UNITS`).
    kinds : mapping, optional
        ``{column: kind}`` for columns that are not in the glossary, or to
        override it (kinds as in :func:`format_column`).
    labels : mapping, optional
        ``{column: label}`` overriding the glossary label.
    caption : str, optional
        Caption above the table.
    index : bool, optional
        Show the index (default: when it is not a plain ``RangeIndex``).

    Returns
    -------
    Table
        Displays as HTML in a notebook (``_repr_html_``); ``.frame`` holds the text.

    Raises
    ------
    ValueError
        On a kind that is not one of the glossary kinds.

    Examples
    --------
    >>> t = display_table(pd.DataFrame({"monetary_value": [12.5, 1500.0], "p_alive": [0.93, 0.5]}), units=Units("GBP"))
    >>> list(t.frame.columns), t.frame.iloc[0].tolist()
    (['Mean repeat purchase value (GBP)', 'P(alive) (%)'], ['13', '93.0%'])
    """
    from .glossary import KINDS

    units = units or DEFAULT_UNITS
    kinds = dict(kinds or {})
    bad = {k: v for k, v in kinds.items() if v not in KINDS}
    if bad:
        raise InputError(f"display_table: unknown kind(s) {bad}; expected one of {KINDS}")
    labels = dict(labels or {})
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = [" / ".join(str(label(p, units=units)) for p in c) for c in frame.columns]
    show_index = index if index is not None else not isinstance(frame.index, pd.RangeIndex)
    out = {}
    numeric = []
    raw = []
    for col in frame.columns:
        kind = _kind_of(col, kinds)
        s = frame[col]
        texts = format_column(s, kind, units=units)
        is_raw = str(col).lower() == RAW_NAME_COLUMN
        if not pd.api.types.is_numeric_dtype(s) and not is_raw:
            texts = [_cell_text(v, units) for v in texts]
        raw.append(is_raw)
        head = labels.get(str(col)) or (str(col).capitalize() if is_raw else label(col, units=units))
        while head in out:
            head += " "
        out[head] = texts
        numeric.append(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))
    shown = pd.DataFrame(out, index=[_cell_text(i, units) for i in frame.index])
    name = frame.index.name
    shown.index.name = None if name is None else (labels.get(str(name)) or label(name, units=units))
    return Table(shown, numeric, caption, show_index, raw)


def _relabel_styler(styler: Any, units: Units) -> str:
    """HTML of a styled table with glossary labels: headers, index labels and raw names in text cells.

    The values of a column whose label gets a unit follow that unit whatever the notebook's
    format asked: money one rounding per column, shares (fractions) in per cent under their "(%)".
    """
    data = styler.data
    cols = data.columns
    if not isinstance(cols, pd.MultiIndex):
        styler = styler.relabel_index([label(c, units=units) for c in cols], axis="columns")
    else:
        for level in range(cols.nlevels):
            styler = styler.format_index(lambda v: html.escape(label(v, units=units)), axis="columns", level=level)
    if not isinstance(data.index, pd.RangeIndex):
        for level in range(data.index.nlevels):
            styler = styler.format_index(lambda v: html.escape(_cell_text(v, units)), axis="index", level=level)
    if any(n is not None for n in data.index.names):
        styler = styler.format_index_names(lambda n: label(n, units=units), axis=0, escape="html")
    if any(n is not None for n in cols.names):  # a pivot's column axis name (e.g. days_before)
        styler = styler.format_index_names(lambda n: label(n, units=units), axis=1, escape="html")
    for col in cols:
        if pd.api.types.is_bool_dtype(data[col]):
            continue
        numbers_as_objects = (data[col].dtype == object and data[col].notna().any() and all(
            isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in data[col].dropna()))
        if pd.api.types.is_numeric_dtype(data[col]) or numbers_as_objects:
            t = term(col) if not isinstance(col, tuple) else None
            if t is not None and t.kind == "money":  # one rounding rule for money, whatever the notebook asked
                d = money_decimals(pd.to_numeric(data[col], errors="coerce"), units=units)
                styler = styler.format(lambda v, d=d: format_number(v, decimals=d), subset=[col])
            elif t is not None and t.kind == "share":  # the header says (%): the fraction is shown in per cent
                styler = styler.format(lambda v: format_percent(v, decimals=1), subset=[col])
            continue
        if str(col).lower() == RAW_NAME_COLUMN:
            styler = styler.format(lambda v: f"<code>{html.escape(str(v))}</code>", subset=[col])
        else:
            styler = styler.format(lambda v: "-" if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                                   else _cell_html(_cell_text(v, units)), subset=[col])
    page = styler.to_html()
    return f'<div class="{SCROLL_CLASS}"><style>{TABLE_CSS}</style>{page}</div>'


#: Units of the figures printed through IPython's print_figure (set by the last :func:`install_display`).
_FIGURE_UNITS: list[Units] = [DEFAULT_UNITS]


def install_display(*, units: Units | None = None, shell: Any = None) -> Callable[[], None] | None:
    """Route ``display(df)`` of the running IPython through :func:`display_table`.

    Plain frames are shown with labels, formats and a scroll box; styled
    tables (``Styler``) keep their number formats (money columns of the
    glossary get the money rounding rule) and get labelled headers,
    index labels and text cells, and the scroll box; figures drawn by the
    inline backend go through :func:`~crm_analysis.presentation.charts.polish_figure`
    (labels, currency on money axes, thousands separators); Markdown text gets the
    labels of raw names outside code spans (:func:`relabel_text`). A column
    named ``"name in the data files"`` (a schema) keeps its raw names, shown
    as code. Outside IPython nothing happens.

    Parameters
    ----------
    units : Units, optional
        Currency of money columns.
    shell : IPython shell, optional
        Default: the running one.

    Returns
    -------
    callable or None
        Undoes the change; ``None`` outside IPython.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with the notebooks
            return None
        shell = get_ipython()
    if shell is None:
        return None
    from pandas.io.formats.style import Styler

    units = units or DEFAULT_UNITS
    fmt = shell.display_formatter.formatters["text/html"]
    old = {t: fmt.type_printers.get(t) for t in (pd.DataFrame, pd.Series, Styler)}
    def box(page: str) -> str:
        return f'<div class="{SCROLL_CLASS}"><style>{TABLE_CSS}</style>{page}</div>'

    def frame_html(df: pd.DataFrame) -> str:
        try:
            return display_table(df, units=units).to_html()
        except Exception:  # an unusual frame (duplicate columns, ...): pandas' own table; check-report sees raw names
            return box(df.to_html())

    def styler_html(st: Any) -> str:
        try:
            return _relabel_styler(st, units)
        except Exception:  # as above: the table as styled by the notebook
            return box(st.to_html())

    fmt.for_type(pd.DataFrame, frame_html)
    fmt.for_type(Styler, styler_html)
    png = shell.display_formatter.formatters.get("image/png")
    if png is not None:
        import matplotlib.pyplot  # noqa: F401 - activates the backend (inline: registers its figure printer)
        from matplotlib.figure import Figure

        from .charts import polish_figure

        draw = png.lookup_by_type(Figure) if Figure in png.type_printers else None
        if draw is not None:  # the inline backend's printer: polish the figure, then draw it as before
            old[Figure] = draw

            def polished(fig: Any, draw: Any = draw) -> Any:
                try:
                    polish_figure(fig, units=units)
                except Exception:  # noqa: BLE001 - never lose a figure over its labels
                    pass
                return draw(fig)

            png.for_type(Figure, polished)
        # the inline backend registers its printer only when it shows the first figure, built on
        # IPython's print_figure: polish there too (once per process)
        from IPython.core import pylabtools

        _FIGURE_UNITS[0] = units
        if not getattr(pylabtools.print_figure, "_crm_polish", False):
            plain = pylabtools.print_figure

            def print_figure(fig: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    polish_figure(fig, units=_FIGURE_UNITS[0])
                except Exception:  # noqa: BLE001 - never lose a figure over its labels
                    pass
                return plain(fig, *args, **kwargs)

            print_figure._crm_polish = True  # type: ignore[attr-defined]
            pylabtools.print_figure = print_figure
    md = shell.display_formatter.formatters.get("text/markdown")
    if md is not None:
        from IPython.display import Markdown

        old[Markdown] = md.type_printers.get(Markdown)
        md.for_type(Markdown, lambda m: relabel_text(m.data or "", units=units))

    def undo() -> None:
        for t, printer in old.items():
            target = fmt if t in (pd.DataFrame, pd.Series, Styler) else (md if t.__name__ == "Markdown" else png)
            if printer is None:
                target.type_printers.pop(t, None)
            else:
                target.type_printers[t] = printer

    return undo
