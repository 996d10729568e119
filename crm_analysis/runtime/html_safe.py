"""Text from the data or the configuration, shown in a report as text, never as HTML.

The reports are HTML pages. pandas' ``DataFrame.style`` (a
:class:`~pandas.io.formats.style.Styler`) writes cell values, index and
column labels into the page **unescaped** by default, and a Markdown cell
passes HTML through: a customer id, a segment or channel name, a file path or
a message holding ``<`` would be read by the browser as a tag and vanish
(``"set timezone: <IANA name>"`` showed as ``"set timezone: "``), or worse. The
notebooks therefore build every styled table with :func:`styled` (instead
of ``df.style.format(...)``) and put text that is not their own into
Markdown through :func:`escape_text`. (``display(df)`` of a plain frame
escapes by itself.)
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

__all__ = ["styled", "escape_text"]


def styled(df: pd.DataFrame, fmt: Any = None, **options: Any) -> Styler:
    """``df.style.format(fmt, **options)`` with every value, index label, column label and axis name HTML-escaped.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to show.
    fmt : str, callable or dict, optional
        The formatter of :meth:`Styler.format`: one for every cell (e.g.
        ``"{:,.2f}"``), or ``{column: formatter}`` (the other columns are
        shown as they are).
    **options
        Further options of :meth:`Styler.format` (``na_rep``, ``precision``,
        ``thousands``, ``decimal``); ``escape`` may only be ``"html"``.

    Returns
    -------
    pandas.io.formats.style.Styler
        Caption, ``hide`` etc. are added as usual. A further ``.format(...)``
        must name its columns with ``subset=`` (or pass ``escape="html"``):
        pandas gives every column it covers a new, unescaping formatter.

    Raises
    ------
    ValueError
        For ``escape`` other than ``"html"``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"note": ["set timezone: <IANA name>"], "n": [1.5]}, index=["<b>x</b>"])
    >>> page = styled(df, {"n": "{:.2f}"}).to_html()
    >>> "&lt;IANA name&gt;" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<IANA" not in page and "1.50" in page
    True
    """
    if options.setdefault("escape", "html") != "html":
        raise InputError(f"styled() escapes as HTML; got escape={options['escape']!r}")
    styler = df.style.format(fmt, **options)
    for axis in (0, 1):
        styler = styler.format_index(escape="html", axis=axis)
        styler = styler.format_index_names(escape="html", axis=axis)
    return styler


def escape_text(value: Any) -> str:
    """``str(value)`` with ``&``, ``<`` and ``>`` written as HTML entities, for Markdown text.

    Parameters
    ----------
    value : object
        E.g. a column name or a note that may hold ``<``.

    Returns
    -------
    str
        Safe in Markdown outside code spans (in a code span, Markdown shows
        the text as it is anyway).

    Examples
    --------
    >>> escape_text("set timezone: <IANA name> & retry")
    'set timezone: &lt;IANA name&gt; &amp; retry'
    """
    return html.escape(str(value), quote=False)
