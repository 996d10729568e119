"""Exceptions of :mod:`crm_analysis.data`."""

from __future__ import annotations

__all__ = ["DataValidationError"]


class DataValidationError(ValueError):
    """Input data do not satisfy a canonical schema.

    The message names the problem: the missing column(s), the offending values
    with their row positions, or the disallowed categories.
    """
