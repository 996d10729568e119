"""Checks of the booking records that the booking-horizon functions read.

The booking horizon places every booking on a time line: made on
``booking_date``, held until ``cancellation_date`` (if cancelled), arriving on
``arrival_date`` for ``nights`` nights of ``units`` rooms. A record that cannot
be placed (no booking date, booked after its arrival, a cancellation dated
before the booking or after the arrival, a cancellation date on a booking that
stayed, a status outside ``stayed`` / ``cancelled`` / ``no_show``) would be
counted wrongly without a word: left out of the final count, counted as a stay,
or replayed after its night. :func:`check_booking_records` refuses them with a
message naming the column, the number of records, an example and the fix
(:func:`crm_analysis.data.clean_bookings` drops and counts most of them).

A cancelled booking without a cancellation date is *not* refused: it is held
until its arrival and counted in the notes of the functions that read it
(:func:`crm_analysis.seasonality.on_the_books`, which checks the records too).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_analysis._validate import check_columns
from crm_analysis.exceptions import InputError

__all__ = ["BOOKING_STATUSES", "check_booking_records"]

#: The statuses of canonical bookings.
BOOKING_STATUSES: tuple[str, ...] = ("stayed", "cancelled", "no_show")

_CLEAN = "crm_analysis.data.clean_bookings"


def _example(b: pd.DataFrame, bad: np.ndarray, columns: Iterable[str]) -> str:
    i = int(np.flatnonzero(bad)[0])
    row = b.iloc[i]
    ident = f"booking_id {row['booking_id']!s}" if "booking_id" in b.columns else f"row {i}"
    parts = []
    for c in columns:
        v = row[c]
        parts.append(f"{c} {pd.Timestamp(v).date() if isinstance(v, pd.Timestamp) else v}")
    return f"e.g. {ident}: " + ", ".join(parts)


def check_booking_records(
    bookings: pd.DataFrame, *, what: str, rate: bool = False, stays: bool = True, unique_ids: bool = False
) -> None:
    """Refuse booking records that cannot be placed on the booking horizon.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings: ``booking_date``, ``arrival_date``, ``nights``,
        ``status``; optional ``units`` (default 1) and ``cancellation_date``.
    what : str
        The caller, for the message (e.g. ``"booking_curves"``).
    rate : bool, default False
        Also require a finite ``rate`` (revenue is computed from it).
    stays : bool, default True
        Require ``nights >= 1`` (the booking holds room-nights); else
        ``nights >= 0``.
    unique_ids : bool, default False
        Require a ``booking_id`` column without repeats (outcomes are
        reported per booking).

    Raises
    ------
    InputError
        Naming the column, the number of records, an example and the fix:
        a missing column; a missing booking or arrival date; a booking made
        after its arrival (negative lead time); nights or units missing,
        negative or (nights, with ``stays``) zero; a status other than
        stayed, cancelled, no_show; a cancellation date on a booking that is
        not cancelled, before its booking date or after its arrival date; a
        missing or infinite rate (with ``rate``); a repeated booking id (with
        ``unique_ids``).
    """
    need = ["booking_date", "arrival_date", "nights", "status"] + (["rate"] if rate else [])
    check_columns(need, bookings.columns, table=f"the bookings ({what})",
                  fix="Load them with crm_analysis.data.load_bookings, which maps your column names.")
    b = bookings
    n = len(b)
    if unique_ids:
        if "booking_id" not in b.columns:
            raise InputError(f"{what}: the bookings need a booking_id column (outcomes are reported per booking)")
        dup = b["booking_id"].duplicated(keep=False).to_numpy()
        if dup.any():
            raise InputError(f"{what}: {int(dup.sum())} of {n} booking(s) share a booking_id with another "
                             f"({_example(b, dup, ['booking_id'])}); drop the repeats with {_CLEAN} "
                             "(BookingCleaningPolicy(duplicates='drop')) or give each booking its own id")
    for col, policy in (("booking_date", "missing_values"), ("arrival_date", "missing_values")):
        bad = pd.isna(b[col]).to_numpy()
        if bad.any():
            raise InputError(f"{what}: {int(bad.sum())} of {n} booking(s) have no {col} "
                             f"({_example(b, bad, ['booking_date', 'arrival_date'])}); they cannot be placed on "
                             f"the booking horizon. Drop them with {_CLEAN} "
                             f"(BookingCleaningPolicy({policy}='drop'), which counts them) or fill the date")
    bd = pd.to_datetime(b["booking_date"]).dt.normalize()
    ad = pd.to_datetime(b["arrival_date"]).dt.normalize()
    bad = (bd > ad).to_numpy()
    if bad.any():
        raise InputError(f"{what}: {int(bad.sum())} of {n} booking(s) were made after their arrival date "
                         f"(negative lead time; {_example(b, bad, ['booking_date', 'arrival_date'])}). "
                         f"Drop them with {_CLEAN} (BookingCleaningPolicy(booking_after_arrival='drop')) "
                         "or correct the dates")
    checks = [("nights", 1 if stays else 0, "zero_nights")]
    if "units" in b.columns:
        checks.append(("units", 1, None))
    for col, low, policy in checks:
        v = pd.to_numeric(b[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(v) | (v < low) | (v != np.round(v))
        if bad.any():
            fix = (f"drop them with {_CLEAN} (BookingCleaningPolicy({policy}='drop'))" if policy and low == 1
                   else "correct them")
            raise InputError(f"{what}: {col} must be a whole number >= {low}; {int(bad.sum())} of {n} booking(s) "
                             f"are not ({_example(b, bad, [col])}); {fix}")
    status = b["status"].astype("object")
    bad = ~status.isin(BOOKING_STATUSES).to_numpy()
    if bad.any():
        vals = sorted({str(s) for s in status[bad].unique()})[:5]
        raise InputError(f"{what}: status has {int(bad.sum())} value(s) other than "
                         f"{'/'.join(BOOKING_STATUSES)}, e.g. {vals}; map them with "
                         f"crm_analysis.data.normalise_status or clean the bookings ({_CLEAN})")
    if "cancellation_date" in b.columns:
        cd = pd.to_datetime(b["cancellation_date"]).dt.normalize()
        dated = cd.notna().to_numpy()
        cancelled = (status == "cancelled").to_numpy()
        problems = (
            (dated & ~cancelled, "have a cancellation_date but are not cancelled",
             "drop them with " + _CLEAN + " (BookingCleaningPolicy(inconsistent_cancellation='drop')) or set "
             "their status"),
            (dated & cancelled & (cd < bd).to_numpy(), "were cancelled before they were made",
             "drop them with " + _CLEAN + " (BookingCleaningPolicy(inconsistent_cancellation='drop')) or "
             "correct the dates"),
            (dated & cancelled & (cd > ad).to_numpy(), "were cancelled after their arrival date",
             "a cancellation after the arrival date is a no-show (set status 'no_show' and drop the "
             "cancellation_date) or a wrong date (correct it)"),
        )
        for bad, text, fix in problems:
            if bad.any():
                raise InputError(f"{what}: {int(bad.sum())} of {n} booking(s) {text} "
                                 f"({_example(b, bad, ['status', 'booking_date', 'arrival_date', 'cancellation_date'])}); "
                                 f"{fix}")
    if rate:
        v = pd.to_numeric(b["rate"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(v)
        if bad.any():
            raise InputError(f"{what}: rate is missing or not finite for {int(bad.sum())} of {n} booking(s) "
                             f"({_example(b, bad, ['rate'])}); drop them with {_CLEAN} "
                             "(BookingCleaningPolicy(missing_values='drop')) or fill the rate")
