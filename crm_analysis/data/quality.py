"""Data-quality summaries of the data layer (used by the data-quality step, ``00_data_quality``).

Small, tested helpers that keep the notebook thin: schema tables, coverage by
date (zero-filled, so gaps show), the ``data_quality.json`` record and the
headline figures.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "check_as_of",
    "check_cleaned",
    "schema_table",
    "transactions_per_week",
    "customers_per_month",
    "bookings_by_month_status",
    "quality_record",
    "headline_figures",
    "plot_coverage",
    "BOOKING_STATUSES",
]

#: Booking statuses of the canonical schema, in display order.
BOOKING_STATUSES = ("stayed", "cancelled", "no_show")
#: The date that must not lie after ``as_of`` for a row to count as known then.
_AS_OF_COLUMN = {"transactions": "timestamp", "bookings": "booking_date"}


def check_as_of(frame: pd.DataFrame | None, kind: str, as_of: object) -> None:
    """Refuse an ``as_of`` before all the data of a kind.

    Transactions count from their ``timestamp``, bookings from their
    ``booking_date`` (what was known at ``as_of``). The comparison is by
    calendar day.

    Parameters
    ----------
    frame : DataFrame or None
        Canonical (raw) transactions or bookings; ``None`` (no data of this
        kind) passes.
    kind : {"transactions", "bookings"}
        Which data set it is.
    as_of : date-like
        Observation end of the run.

    Raises
    ------
    ValueError
        When no row is dated on or before ``as_of``; the message gives the
        first date and the fix (a later ``as_of``).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-03-05 10:00"]), "amount": [1.0]})
    >>> check_as_of(tx, "transactions", "2024-01-31")
    Traceback (most recent call last):
    ...
    ValueError: as_of 2024-01-31 is before all transactions: the first timestamp is 2024-03-05, so nothing would be analysed; set as_of (the configuration's top-level as_of, or --as-of) to 2024-03-05 or later
    """
    if kind not in _AS_OF_COLUMN:
        raise InputError(f"kind must be 'transactions' or 'bookings', got {shown(kind)}")
    if frame is None or len(frame) == 0:
        return
    col = _AS_OF_COLUMN[kind]
    _require(frame, [col], f"check_as_of ({kind})")
    dates = pd.to_datetime(frame[col]).dropna()
    if dates.empty:
        return  # nothing dated: the cleaning counts and reports these rows
    end = pd.Timestamp(str(as_of)).normalize()
    first = dates.min().normalize()
    if first > end:
        raise InputError(
            f"as_of {end:%Y-%m-%d} is before all {kind}: the first {col} is {first:%Y-%m-%d}, so nothing would be "
            f"analysed; set as_of (the configuration's top-level as_of, or --as-of) to {first:%Y-%m-%d} or later"
        )


def check_cleaned(result: Any) -> None:
    """Refuse a cleaning result with no row left, naming the rules that dropped the rows.

    Parameters
    ----------
    result : CleanResult
        From :func:`crm_analysis.data.clean_transactions` /
        :func:`~crm_analysis.data.clean_bookings`.

    Raises
    ------
    ValueError
        When ``result.data`` is empty: the message lists each rule that
        dropped rows with its count and description, and the fix.
    """
    if len(result.data) > 0:
        return
    rep = result.report
    parts = [f"{s.rows:,} {s.reason} ({s.description})" for s in rep.steps if s.action == "drop" and s.rows > 0]
    policy = "transactions_policy" if rep.kind == "transactions" else "bookings_policy"
    raise InputError(
        f"the cleaning dropped all {rep.rows_in:,} {rep.kind}: " + "; ".join(parts)
        + f". Nothing is left to analyse; check as_of and the cleaning policy ({policy} of the data_quality notebook)"
    )


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    check_columns(columns, df.columns, table=f"the input of {what}",
                  fix="It takes the canonical tables: load them with crm_analysis.data.load_transactions / "
                      "load_bookings")


def schema_table(schema: Iterable[Any]) -> pd.DataFrame:
    """A canonical schema as a table: name in the data files (shown as code), type in words, required, description.

    Parameters
    ----------
    schema : iterable of Column
        E.g. ``crm_analysis.data.TRANSACTIONS`` (objects with ``name``,
        ``dtype``, ``required`` and ``description``).
    """
    from crm_analysis.presentation import RAW_NAME_COLUMN, type_label

    rows = [
        {RAW_NAME_COLUMN: c.name, "type": type_label(c.dtype), "required": "yes" if c.required else "no",
         "description": c.description}
        for c in schema
    ]
    return pd.DataFrame(rows, columns=[RAW_NAME_COLUMN, "type", "required", "description"])


def transactions_per_week(tx: pd.DataFrame) -> pd.DataFrame:
    """Transaction lines, customers and revenue per calendar week (Monday start).

    Weeks without transactions between the first and last one are included
    with zeros, so coverage gaps are visible.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``).

    Returns
    -------
    DataFrame
        Columns ``week`` (Monday, datetime), ``transactions``, ``customers``,
        ``revenue``.
    """
    _require(tx, ["customer_id", "timestamp", "amount"], "transactions_per_week")
    cols = ["week", "transactions", "customers", "revenue"]
    if tx.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "week" else "int64") for c in cols}).astype(
            {"revenue": "float64"}
        )
    ts = pd.to_datetime(tx["timestamp"])
    week = ts.dt.normalize() - pd.to_timedelta(ts.dt.day_of_week, unit="D")
    g = tx.assign(week=week.to_numpy()).groupby("week")
    out = pd.DataFrame(
        {
            "transactions": g.size(),
            "customers": g["customer_id"].nunique(),
            "revenue": g["amount"].sum().astype("float64"),
        }
    )
    full = pd.date_range(out.index.min(), out.index.max(), freq="7D")
    out = out.reindex(full, fill_value=0)
    out.index.name = "week"
    out = out.reset_index()
    return out.astype({"transactions": "int64", "customers": "int64", "revenue": "float64"})[cols]


def _month(ts: pd.Series) -> pd.Series:
    ts = pd.to_datetime(ts)
    return ts.dt.to_period("M").dt.to_timestamp()


def customers_per_month(tx: pd.DataFrame) -> pd.DataFrame:
    """Active and new customers per calendar month (zero-filled).

    A customer is active in a month with at least one transaction, and new in
    the month of their first transaction.

    Returns
    -------
    DataFrame
        Columns ``month`` (first day, datetime), ``active_customers``,
        ``new_customers``, ``complete`` (the data cover every day of the
        month, from the first to the last transaction day; only the first and
        the last month can be partial, see
        :func:`crm_analysis.presentation.period_coverage`).
    """
    _require(tx, ["customer_id", "timestamp"], "customers_per_month")
    cols = ["month", "active_customers", "new_customers", "complete"]
    if tx.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "active_customers": pd.Series(dtype="int64"),
                             "new_customers": pd.Series(dtype="int64"), "complete": pd.Series(dtype="bool")})
    month = _month(tx["timestamp"])
    d = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(), "month": month.to_numpy()})
    active = d.groupby("month")["customer_id"].nunique()
    first = d.groupby("customer_id")["month"].min()
    new = first.value_counts()
    full = pd.date_range(active.index.min(), active.index.max(), freq="MS")
    out = pd.DataFrame({"active_customers": active.reindex(full, fill_value=0),
                        "new_customers": new.reindex(full, fill_value=0)})
    out.index.name = "month"
    from crm_analysis.presentation import period_coverage

    cov = period_coverage(tx["timestamp"].min(), tx["timestamp"].max(), freq="M").table
    out["complete"] = cov["complete"].reindex(out.index.to_period("M"), fill_value=True).to_numpy(dtype=bool)
    return out.reset_index().astype({"active_customers": "int64", "new_customers": "int64"})[cols]


def bookings_by_month_status(bk: pd.DataFrame, *, date: str = "arrival_date") -> pd.DataFrame:
    """Bookings per calendar month of ``date`` and status (zero-filled).

    Parameters
    ----------
    bk : DataFrame
        Canonical bookings (``status`` and ``date`` columns).
    date : str, default "arrival_date"
        Date column to group by (``"booking_date"`` for the booking curve).

    Returns
    -------
    DataFrame
        Column ``month`` then one column per status (the canonical ones first,
        any other status after) and ``total``.
    """
    _require(bk, [date, "status"], "bookings_by_month_status")
    if bk.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"),
                             **{s: pd.Series(dtype="int64") for s in (*BOOKING_STATUSES, "total")}})
    month = _month(bk[date])
    status = bk["status"].astype("string").fillna("<missing>")
    table = pd.crosstab(month.to_numpy(), status.to_numpy())
    statuses = list(BOOKING_STATUSES) + sorted(s for s in table.columns if s not in BOOKING_STATUSES)
    table = table.reindex(columns=statuses, fill_value=0)
    full = pd.date_range(table.index.min(), table.index.max(), freq="MS")
    table = table.reindex(full, fill_value=0).astype("int64")
    table.columns = [str(c) for c in table.columns]
    table["total"] = table.sum(axis=1)
    table.index.name = "month"
    return table.reset_index()


def _span(ts: pd.Series) -> dict[str, Any]:
    ts = pd.to_datetime(ts)
    if ts.notna().sum() == 0:
        return {"min": None, "max": None}
    return {"min": ts.min().isoformat(), "max": ts.max().isoformat()}


def quality_record(
    tx: pd.DataFrame | None,
    bk: pd.DataFrame | None,
    tx_report: Any,
    bk_report: Any,
    *,
    sources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``data_quality.json`` record.

    Parameters
    ----------
    tx, bk : DataFrame or None
        Cleaned canonical transactions and bookings; ``None`` where the data
        set has no data of that kind (source ``{"loader": "none"}``).
    tx_report, bk_report : CleaningReport or None
        Their cleaning reports (objects with ``to_dict()``); ``None`` with
        ``tx`` / ``bk``.
    sources : dict, optional
        The data specs, recorded as given.

    Returns
    -------
    dict
        ``{"sources", "transactions": {rows, customers, revenue, timestamp,
        empty_weeks, cleaning}, "bookings": {rows, by_status, arrival_date,
        booking_date, cleaning}}`` (JSON-ready); ``"transactions"`` /
        ``"bookings"`` is ``None`` for an absent data set.
    """
    if (tx is None) != (tx_report is None) or (bk is None) != (bk_report is None):
        raise InputError("quality_record: give a cleaning report exactly for the data sets that exist")
    return {
        "sources": sources or {},
        "transactions": None if tx is None else _transactions_record(tx, tx_report),
        "bookings": None if bk is None else _bookings_record(bk, bk_report),
    }


def _transactions_record(tx: pd.DataFrame, tx_report: Any) -> dict[str, Any]:
    weekly = transactions_per_week(tx)
    return {
        "rows": int(len(tx)),
        "customers": int(tx["customer_id"].nunique()),
        "revenue": float(tx["amount"].sum()),
        "timestamp": _span(tx["timestamp"]),
        "weeks": int(len(weekly)),
        "empty_weeks": int((weekly["transactions"] == 0).sum()),
        "cleaning": tx_report.to_dict(),
    }


def _bookings_record(bk: pd.DataFrame, bk_report: Any) -> dict[str, Any]:
    by_status = bk["status"].astype("string").value_counts(dropna=False) if "status" in bk else pd.Series(dtype=int)
    return {
        "rows": int(len(bk)),
        "by_status": {str(k): int(v) for k, v in by_status.items()},
        "arrival_date": _span(bk["arrival_date"]) if "arrival_date" in bk else None,
        "booking_date": _span(bk["booking_date"]) if "booking_date" in bk else None,
        "cleaning": bk_report.to_dict(),
    }


def headline_figures(record: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """Headline figures ``(key, value, label)`` from a :func:`quality_record`.

    Only the data sets that exist give figures: a record without bookings has
    no ``bookings`` figure, one without transactions no customer figures.
    """
    t, b = record.get("transactions"), record.get("bookings")
    out: list[tuple[str, Any, str]] = []
    if t is not None:
        out += [
            ("customers", t["customers"], "Customers"),
            ("transactions", t["rows"], "Transaction lines (cleaned)"),
            ("revenue", t["revenue"], "Revenue (cleaned)"),
        ]
    if b is not None:
        out.append(("bookings", b["rows"], "Bookings (cleaned)"))
    dropped = sum(int(r["cleaning"].get("rows_dropped", 0)) for r in (t, b) if r is not None)
    out.append(("rows_dropped", dropped, "Rows dropped in cleaning"))
    return out


def plot_coverage(
    weekly: pd.DataFrame | None,
    monthly: pd.DataFrame | None,
    bookings_monthly: pd.DataFrame | None,
    *,
    ax=None,
):
    """Coverage figure: transactions per week, active customers per month, bookings per month by status.

    Parameters
    ----------
    weekly, monthly, bookings_monthly : DataFrame or None
        Outputs of :func:`transactions_per_week`, :func:`customers_per_month`
        and :func:`bookings_by_month_status`. ``None`` for a data set that
        does not exist: its panels are left out (``weekly`` and ``monthly``
        go together).
    ax : sequence of Axes, optional
        Axes to draw on, one per panel (three, or one / two when a data set is
        absent); a new figure is made otherwise.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if (weekly is None) != (monthly is None):
        raise InputError("plot_coverage: give both weekly and monthly transactions, or neither")
    has_tx, has_bk = weekly is not None, bookings_monthly is not None
    n = 2 * has_tx + has_bk
    if n == 0:
        raise InputError("plot_coverage: no data to plot (no transactions and no bookings)")
    if ax is None:
        fig, axes = plt.subplots(n, 1, figsize=(10, 3 * n), constrained_layout=True, squeeze=False)
        axes = list(axes[:, 0])
    else:
        axes = list(ax)
        if len(axes) != n:
            raise InputError(f"plot_coverage needs {n} axes, got {len(axes)}")
        fig = axes[0].figure
    if has_tx:
        a0, a1 = axes[0], axes[1]
        a0.plot(weekly["week"], weekly["transactions"], lw=1)
        a0.set(title="Transaction lines per week", xlabel="Week", ylabel="Transaction lines")
        full = monthly["complete"].to_numpy(dtype=bool) if "complete" in monthly else np.ones(len(monthly), bool)
        a1.bar(monthly["month"][full], monthly["active_customers"][full], width=25, align="edge", label="active")
        if (~full).any():  # partial first / last month: too few of everything, everyone "new" in the first
            a1.bar(monthly["month"][~full], monthly["active_customers"][~full], width=25, align="edge",
                   color="none", edgecolor="C0", hatch="///", label="active, partial month")
        a1.plot(monthly["month"] + pd.Timedelta(days=12), monthly["new_customers"], color="C1", marker=".",
                label="new")
        partial = [f"{m:%Y-%m}" for m in monthly["month"][~full]]
        title = "Customers per month" + (f"\n(hatched: partial month{'s' if len(partial) > 1 else ''} "
                                         f"{', '.join(partial)}, covered only in part by the data)" if partial else "")
        a1.set(title=title, xlabel="Month", ylabel="Customers")
        a1.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        a0.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        a1.legend(loc="upper left", frameon=False)
    if not has_bk:
        return fig
    a2 = axes[-1]
    bottom = None
    statuses = [c for c in bookings_monthly.columns if c not in ("month", "total")]
    for i, s in enumerate(statuses):
        vals = bookings_monthly[s].to_numpy()
        a2.bar(bookings_monthly["month"], vals, width=25, align="edge", bottom=bottom, label=s, color=f"C{i}")
        bottom = vals if bottom is None else bottom + vals
    a2.set(title="Bookings by arrival month and status", xlabel="Arrival month", ylabel="Bookings")
    if statuses:
        if len(bookings_monthly):
            a2.set_ylim(0, 1.25 * max(float(bookings_monthly[statuses].sum(axis=1).max()), 1.0))
        a2.legend(loc="upper left", frameon=False, ncols=len(statuses))
    return fig
