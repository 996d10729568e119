"""Exceptions of :mod:`crm_analysis.data`."""

from __future__ import annotations

__all__ = ["DataValidationError", "DataWarning", "SourceFileError"]


class DataValidationError(ValueError):
    """Input data do not satisfy a canonical schema.

    The message names the problem: the missing column(s), the offending values
    with their row positions, or the disallowed categories.
    """


class DataWarning(UserWarning):
    """Input data were read in a way the caller should know about.

    E.g. time-zone-aware timestamps counted in UTC days because no time zone
    was declared. The message says what was done and how to choose otherwise.
    """


class SourceFileError(DataValidationError):
    """A data file cannot be read as it is: wrong encoding, empty, no data rows, wrong separator.

    The message names the file, what was found (e.g. the undecodable byte, its
    offset and line) and the fix (e.g. ``encoding="cp1252"`` or
    ``read_options={"sep": ";"}``).
    """
