"""Exceptions of :mod:`crm_analysis.data`."""

from __future__ import annotations

__all__ = ["DataValidationError", "DataWarning"]


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
