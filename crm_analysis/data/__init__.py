"""Canonical data layer: schemas, loaders, validation and cleaning.

Typical use::

    from crm_analysis.data import load_transactions, clean_transactions, CleaningPolicy

    tx = load_transactions("sales.parquet",
                           columns={"customer_id": "CustomerID", "timestamp": "InvoiceDate"})
    res = clean_transactions(tx, CleaningPolicy(observation_end="2011-12-09"))
    res.report.table()          # every dropped row, by reason

For data larger than memory, :func:`transactions_relation` projects a file,
table or query to the canonical schema inside DuckDB without reading it into
pandas. CSV files take an ``encoding`` (default UTF-8), Excel workbooks
(``.xlsx``) a ``sheet``; file errors (undecodable, empty, header-only, wrong
separator, decimal commas) raise :class:`SourceFileError` naming the file and
the fix. SQL databases (PostgreSQL, ...) are read through SQLAlchemy:
``load_transactions("postgresql+psycopg://crm@db/crm", table="sales.orders")``
(see ``docs/databases.md``). See ``docs/architecture.md`` for the schemas.
"""

from crm_analysis.data.cleaning import (
    CANCELLATION_MARKER,
    BookingCleaningPolicy,
    CleaningPolicy,
    CleaningReport,
    CleaningStep,
    CleanResult,
    clean_bookings,
    cancellation_marker,
    clean_transactions,
    dropped_lines,
    return_mask,
)
from crm_analysis.data.engine import connect, quote_identifier, quote_literal
from crm_analysis.data.dates import IntakeChange, parse_datetime_column
from crm_analysis.data.errors import DataValidationError, DataWarning, SourceFileError, duckdb_value_errors
from crm_analysis.data.files import excel_sheet_names
from crm_analysis.data.loaders import (
    bookings_relation,
    load_bookings,
    load_transactions,
    read_source,
    source_relation,
    transactions_relation,
)
from crm_analysis.data.real import load_cdnow, load_hotels, load_online_retail, load_online_retail_ii
from crm_analysis.data.schema import (
    BOOKING_STATUSES,
    BOOKINGS,
    TRANSACTIONS,
    Column,
    Schema,
    schema_frame,
)
from crm_analysis.data.sources import LOADER_KEYS, LOADERS, check_source, load_source
from crm_analysis.data import quality
from crm_analysis.data.step import DataQualityParams, DataQualityResult, run_data_quality
from crm_analysis.data.sql import DatabaseError, mask_url, read_sql_source, resolve_url
from crm_analysis.data.validation import (
    STATUS_SYNONYMS,
    intake_changes,
    normalise_status,
    validate_bookings,
    validate_transactions,
)

__all__ = [
    # the data-quality step (crm_analysis.data.step) and its summaries (crm_analysis.data.quality)
    "DataQualityParams",
    "DataQualityResult",
    "run_data_quality",
    "quality",
    # schema
    "Column",
    "Schema",
    "TRANSACTIONS",
    "BOOKINGS",
    "BOOKING_STATUSES",
    "schema_frame",
    # errors / validation
    "DataValidationError",
    "DataWarning",
    "duckdb_value_errors",
    "IntakeChange",
    "intake_changes",
    "parse_datetime_column",
    "SourceFileError",
    "validate_transactions",
    "validate_bookings",
    "normalise_status",
    "STATUS_SYNONYMS",
    # loaders
    "load_transactions",
    "load_bookings",
    "read_source",
    "transactions_relation",
    "bookings_relation",
    "source_relation",
    "excel_sheet_names",
    # engine
    "connect",
    "quote_identifier",
    "quote_literal",
    # cleaning
    "CleaningPolicy",
    "BookingCleaningPolicy",
    "CleaningStep",
    "CleaningReport",
    "CleanResult",
    "clean_transactions",
    "clean_bookings",
    "dropped_lines",
    "return_mask",
    "cancellation_marker",
    "CANCELLATION_MARKER",
    # real data sets
    "load_cdnow",
    "load_online_retail",
    "load_online_retail_ii",
    "load_hotels",
    # configuration
    "load_source",
    "check_source",
    "LOADERS",
    "LOADER_KEYS",
    # SQL databases
    "DatabaseError",
    "read_sql_source",
    "resolve_url",
    "mask_url",
]
