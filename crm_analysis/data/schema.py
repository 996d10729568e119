"""Canonical schemas of the package, as data.

The schemas are the contract of ``docs/architecture.md``: every loader of
:mod:`crm_analysis.data` returns frames with exactly these column names and
dtypes, and every analysis module may rely on them.

Dtypes are given as strings:

``"string"``
    pandas nullable string dtype (``pd.StringDtype()``, missing = ``pd.NA``);
    numeric ids are stored as strings too (``17850.0`` becomes ``"17850"``).
``"datetime64[ns]"``
    naive (time-zone free) timestamps in nanoseconds.
``"float64"`` / ``"int64"``
    numpy floats / integers.
``"bool"``
    numpy booleans.

A :class:`Column` also says whether it may hold missing values
(``nullable``) and the unit of its values (``unit``); the hand-over tables of
the report chain (:mod:`crm_analysis.contracts`) are :class:`Schema` objects
too.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, NotFoundError

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "Column",
    "Schema",
    "TRANSACTIONS",
    "BOOKINGS",
    "BOOKING_STATUSES",
    "STRING_DTYPE",
    "schema_frame",
]

#: Booking status values allowed in the canonical bookings schema.
BOOKING_STATUSES: tuple[str, ...] = ("stayed", "cancelled", "no_show")

#: The pandas dtype used for canonical ``string`` columns.
STRING_DTYPE = pd.StringDtype()

_DTYPES = ("string", "datetime64[ns]", "float64", "int64", "bool")


@dataclass(frozen=True)
class Column:
    """One column of a canonical schema.

    Parameters
    ----------
    name : str
        Canonical column name.
    dtype : {"string", "datetime64[ns]", "float64", "int64", "bool"}
        Canonical dtype (see the module docstring).
    required : bool
        Whether every source must provide the column (directly, through the
        ``columns=`` mapping of the loaders, or through a documented default).
    description : str
        Meaning of the column.
    nullable : bool, default True
        Whether the column may hold missing values (checked by the
        hand-over contracts, :mod:`crm_analysis.contracts`).
    unit : str, default ""
        Unit of the values (``"days"``, ``"currency"``, ``"time_unit"`` for
        the table's :class:`~crm_analysis.contracts.TimeUnit``, ...); empty
        when the column has none.
    """

    name: str
    dtype: str
    required: bool
    description: str
    nullable: bool = True
    unit: str = ""

    def __post_init__(self) -> None:
        if self.dtype not in _DTYPES:
            raise InputError(f"column {self.name!r}: unknown dtype {self.dtype!r}; known: {_DTYPES}")

    @property
    def pandas_dtype(self) -> object:
        """The pandas dtype object of the column."""
        return STRING_DTYPE if self.dtype == "string" else self.dtype

    def accepts(self, dtype: object) -> bool:
        """Whether a pandas/numpy ``dtype`` is this column's dtype.

        ``"string"`` accepts both pandas string dtypes (``NA`` or ``NaN`` as
        missing value); ``"datetime64[ns]"`` accepts any naive datetime64
        resolution (pandas 3 reads some sources in microseconds); the others
        must match exactly.

        Examples
        --------
        >>> Column("x", "string", True, "").accepts(pd.StringDtype())
        True
        >>> Column("x", "float64", True, "").accepts(np.dtype("int64"))
        False
        """
        if self.dtype == "string":
            return isinstance(dtype, pd.StringDtype)
        if self.dtype == "datetime64[ns]":
            return isinstance(dtype, np.dtype) and dtype.kind == "M"
        return isinstance(dtype, np.dtype) and dtype == np.dtype(self.dtype)


@dataclass(frozen=True)
class Schema:
    """An ordered collection of :class:`Column` definitions.

    Parameters
    ----------
    name : str
        Name of the schema (``"transactions"``, ``"bookings"``).
    columns : tuple of Column
        The columns, in canonical order.
    """

    name: str
    columns: tuple[Column, ...]

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise NotFoundError(f"{name!r} is not a column of the {self.name} schema; columns: {list(self.names)}")

    @property
    def names(self) -> tuple[str, ...]:
        """All column names, in canonical order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[str, ...]:
        """Names of the optional columns."""
        return tuple(c.name for c in self.columns if not c.required)

    @property
    def dtypes(self) -> dict[str, object]:
        """Mapping column name -> pandas dtype."""
        return {c.name: c.pandas_dtype for c in self.columns}

    def to_frame(self) -> pd.DataFrame:
        """The schema as a DataFrame; see :func:`schema_frame`."""
        return schema_frame(self)


def schema_frame(schema: Schema) -> pd.DataFrame:
    """Render a schema as a table (for documentation and data-quality reports).

    Parameters
    ----------
    schema : Schema
        E.g. :data:`TRANSACTIONS` or :data:`BOOKINGS`.

    Returns
    -------
    pandas.DataFrame
        One row per column with ``column``, ``dtype``, ``required`` and
        ``description``.

    Examples
    --------
    >>> schema_frame(TRANSACTIONS).loc[0, "column"]
    'customer_id'
    """
    return pd.DataFrame(
        {
            "column": [c.name for c in schema.columns],
            "dtype": [c.dtype for c in schema.columns],
            "required": [c.required for c in schema.columns],
            "description": [c.description for c in schema.columns],
        }
    )


TRANSACTIONS = Schema(
    "transactions",
    (
        Column("customer_id", "string", True, "customer key (strings, also for numeric ids)"),
        Column("timestamp", "datetime64[ns]", True, "time of purchase (naive)"),
        Column(
            "amount",
            "float64",
            True,
            "monetary value of the line (quantity * unit_price where those exist)",
        ),
        Column("order_id", "string", False, "order / invoice id"),
        Column("quantity", "float64", False, "units"),
        Column("unit_price", "float64", False, "price per unit"),
        Column("product", "string", False, "product / SKU"),
        Column("channel", "string", False, "sales channel"),
        Column("country", "string", False, "customer country"),
    ),
)
"""Canonical transactions schema (one row per order line or per purchase)."""

BOOKINGS = Schema(
    "bookings",
    (
        Column("booking_id", "string", True, "booking key"),
        Column("booking_date", "datetime64[ns]", True, "date the booking was made"),
        Column("arrival_date", "datetime64[ns]", True, "first night / service date"),
        Column("nights", "int64", True, "nights (or service units in time)"),
        Column("rate", "float64", True, "price per unit per night (hotel: ADR)"),
        Column(
            "segment",
            "string",
            True,
            "market segment (e.g. Groups, Corporate, Direct, Online TA)",
        ),
        Column("status", "string", True, "one of stayed, cancelled, no_show"),
        Column("units", "int64", False, "rooms / seats booked (default 1)"),
        Column("fare_class", "string", False, "fare class (defaults to segment)"),
        Column("customer_id", "string", False, "customer key where known"),
        Column("channel", "string", False, "distribution channel"),
        Column("property", "string", False, "hotel / resource"),
        Column("cancellation_date", "datetime64[ns]", False, "date of cancellation"),
    ),
)
"""Canonical bookings schema (one row per booking of a capacity-constrained service)."""
