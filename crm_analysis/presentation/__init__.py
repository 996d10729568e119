"""Presentation for readers: units and number formats, the glossary, tables that fit, findings.

Independent of the report chain: a notebook (or any script) imports it to show
figures the way a business reader expects them.
"""

from .charts import annotate_partial, format_axis, polish_figure
from .findings import FINDERS, findings
from .glossary import (
    GLOSSARY,
    RAW_NAME_COLUMN,
    Term,
    glossary_html,
    glossary_table,
    humanize,
    label,
    raw_names,
    relabel_text,
    term,
    type_label,
)
from .periods import PeriodCoverage, complete_periods, period_coverage
from .tables import SCROLL_CLASS, TABLE_CSS, Table, display_table, format_column, install_display
from .units import DEFAULT_UNITS, Units, format_count, format_money, format_number, format_percent, money_decimals

__all__ = [
    "Units", "DEFAULT_UNITS", "money_decimals", "format_money", "format_number", "format_count", "format_percent",
    "Term", "GLOSSARY", "RAW_NAME_COLUMN", "term", "label", "humanize", "relabel_text", "type_label", "raw_names", "glossary_table", "glossary_html",
    "Table", "display_table", "format_column", "install_display", "TABLE_CSS", "SCROLL_CLASS",
    "PeriodCoverage", "period_coverage", "complete_periods",
    "findings", "FINDERS",
    "format_axis", "annotate_partial", "polish_figure",
]
