"""Acquisition-cohort analysis: customers by month (or quarter) of their first purchase, followed over time.

One row per cohort and period since acquisition: the cohort's size, the
customers active in that period, the retention rate (active / cohort size)
and the revenue per acquired customer. In-memory frames are aggregated with
pandas; files, folders, globs and DuckDB relations with one ``GROUP BY``
pipeline in DuckDB (through :func:`crm_analysis.data.source_relation` and the
package's connection, as :func:`~crm_analysis.rfm.rfm_summary`), so files
larger than memory can be analysed with a connection that has a
``memory_limit`` (:func:`crm_analysis.data.connect`). Both give the same table.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from crm_analysis.data.dates import check_timezone
from crm_analysis.data.engine import quote_identifier
from crm_analysis.data.errors import converts_duckdb_errors

from ._api import _frame_or_relation, _no_spark, _nothing_in_window
from ._common import KeyColumns, as_date

__all__ = ["COHORT_COLUMNS", "CohortTable", "cohort_table"]

#: columns of :attr:`CohortTable.table`
COHORT_COLUMNS = (
    "cohort", "period", "period_start", "complete", "cohort_size", "active_customers", "retention_rate",
    "revenue", "revenue_per_customer",
)
_FREQ = {"M": ("month", 1), "Q": ("quarter", 3)}
_METRICS = ("retention_rate", "active_customers", "revenue_per_customer", "revenue")


@dataclass(frozen=True)
class CohortTable:
    """Result of :func:`cohort_table`.

    Attributes
    ----------
    table : pandas.DataFrame
        Long table, one row per cohort and period (:data:`COHORT_COLUMNS`):
        ``cohort`` (first day of the acquisition month / quarter),
        ``period`` (0 = the acquisition period), ``period_start``,
        ``complete`` (the period ends on or before ``observation_end``),
        ``cohort_size``, ``active_customers`` (customers with a transaction
        in the period), ``retention_rate`` (active / cohort size),
        ``revenue`` (sum of amounts, returns included) and
        ``revenue_per_customer`` (revenue / cohort size). Every period from
        acquisition to the one holding ``observation_end`` is present (0
        where nobody bought).
    frequency : str
        ``"M"`` or ``"Q"``.
    observation_end : pandas.Timestamp
        Last day included.
    """

    table: pd.DataFrame
    frequency: str
    observation_end: pd.Timestamp

    def matrix(self, *, metric: str = "retention_rate") -> pd.DataFrame:
        """Cohorts (rows) by periods since acquisition (columns) of one metric; NaN after ``observation_end``.

        Parameters
        ----------
        metric : {"retention_rate", "active_customers", "revenue_per_customer", "revenue"}

        Returns
        -------
        pandas.DataFrame
        """
        if metric not in _METRICS:
            raise InputError(f"metric must be one of {_METRICS}, got {shown(metric)}")
        return self.table.pivot(index="cohort", columns="period", values=metric)

    def partial_note(self) -> str:
        """The partial periods of the table in words ("" when every period is complete).

        The calendar period that holds ``observation_end`` is complete only when
        ``observation_end`` is its last day; its cells (the last one of every
        cohort) count fewer days, so their retention and revenue read low. The
        first cohort holds every customer whose first purchase in the data falls
        in the first period, including customers acquired before the data begin.

        Returns
        -------
        str
            One or two sentences for the report.
        """
        t = self.table
        if t.empty:
            return ""
        unit = "month" if self.frequency == "M" else "quarter"
        out = []
        open_ = t.loc[~t["complete"].astype(bool), "period_start"]
        if len(open_):
            start = pd.Timestamp(open_.max())
            end = (start + pd.offsets.MonthBegin(_FREQ[self.frequency][1])) - pd.Timedelta(days=1)
            days, total = (self.observation_end.normalize() - start).days + 1, (end - start).days + 1
            name = start.strftime("%Y-%m") if self.frequency == "M" else f"{start.year}Q{start.quarter}"
            out.append(f"The {unit} {name} is partial: the data end on {self.observation_end:%Y-%m-%d}, {days} of its "
                       f"{total} days, so the last cell of every cohort (hatched) reads low for that reason, not "
                       f"because customers left.")
        first = pd.Timestamp(t["cohort"].min())
        name = first.strftime("%Y-%m") if self.frequency == "M" else f"{first.year}Q{first.quarter}"
        out.append(f"The first cohort ({name}) also holds the customers acquired before the data begin.")
        return " ".join(out)

    def plot(self, *, metric: str = "retention_rate", ax: Any = None, annotate: bool | None = None) -> Any:
        """Heatmap of :meth:`matrix` (cohorts down, periods since acquisition across).

        Parameters
        ----------
        metric : str, default "retention_rate"
            See :meth:`matrix`.
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).
        annotate : bool, optional
            Write the values in the cells (default: when there are at most
            24 x 24 cells).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        mat = self.matrix(metric=metric)
        if ax is None:
            fig, ax = plt.subplots(figsize=(min(2 + 0.55 * mat.shape[1], 16), min(1.5 + 0.35 * mat.shape[0], 12)))
        else:
            fig = ax.figure
        values = mat.to_numpy(dtype=float)
        img = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="viridis")
        unit = "month" if self.frequency == "M" else "quarter"
        ax.set_xticks(range(mat.shape[1]), [str(c) for c in mat.columns])
        labels = [c.strftime("%Y-%m") if self.frequency == "M" else f"{c.year}Q{c.quarter}" for c in mat.index]
        ax.set_yticks(range(mat.shape[0]), labels)
        ax.set_xlabel(f"{unit}s since acquisition")
        ax.set_ylabel(f"acquisition {unit}")
        ax.set_title(f"{metric.replace('_', ' ').capitalize()} by acquisition cohort (to {self.observation_end.date()})")
        fig.colorbar(img, ax=ax, label=metric.replace("_", " "))
        done = self.table.pivot(index="cohort", columns="period", values="complete").reindex_like(mat)
        partial = np.isfinite(values) & ~done.fillna(True).to_numpy(dtype=bool)
        if partial.any():  # cells of a period not complete at observation_end: hatched, said under the chart
            from matplotlib.patches import Rectangle

            for i, j in zip(*np.nonzero(partial)):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#d0d7de",
                                       linewidth=0))
            ax.annotate(f"hatched: {unit} not complete at {self.observation_end.date()}", xy=(0, -0.12),
                        xycoords="axes fraction", va="top", fontsize=8, color="#59636e")
        if annotate if annotate is not None else (mat.shape[0] <= 24 and mat.shape[1] <= 24):
            fmt = "{:.0%}" if metric == "retention_rate" else "{:,.0f}" if metric == "active_customers" else "{:,.2f}"
            for i, j in zip(*np.nonzero(np.isfinite(values))):
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=7, color="white")
        return fig


@converts_duckdb_errors
def cohort_table(
    transactions: Any,
    *,
    observation_end: Any,
    frequency: str = "M",
    customer_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str = "amount",
    con: duckdb.DuckDBPyConnection | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> CohortTable:
    """Acquisition cohorts by periods since acquisition: active customers, retention rate, revenue per customer.

    Parameters
    ----------
    transactions : DataFrame, str, Path or duckdb.DuckDBPyRelation
        Transactions, as for :func:`~crm_analysis.rfm.rfm_summary`: a
        DataFrame (aggregated by pandas), or a Parquet/CSV file, folder,
        glob, DuckDB relation, table or query (aggregated by DuckDB, never
        loaded whole).
    observation_end : date-like
        Last day included (ISO ``YYYY-MM-DD``); later transactions are
        ignored. A customer's cohort is the period of the first transaction
        on or before it, over all the data's history.
    frequency : {"M", "Q"}, default "M"
        Calendar months or quarters.
    customer_col, datetime_col, monetary_col : str
        Column names.
    con, timezone, dayfirst, date_format, read_options, encoding, sheet : optional
        As for :func:`~crm_analysis.rfm.rfm_summary` (``con``: e.g. a
        connection with a ``memory_limit`` for files larger than memory).

    Returns
    -------
    CohortTable
        ``table`` (long form), ``matrix(metric)`` and ``plot(metric)``.

    Raises
    ------
    ValueError
        Unknown ``frequency``, a bad date, missing columns or key values,
        infinite amounts, empty data or no transaction on or before
        ``observation_end`` (the message gives the data's date range).
    TypeError
        A Spark DataFrame (no Spark engine: write it to Parquet and pass the
        files).

    Notes
    -----
    A customer counts as active in a period when any transaction row of
    theirs falls in it (as a purchase day counts in ``rfm_summary``; a
    return-only period counts too, and its negative amount lowers the
    revenue). ``retention_rate`` at period 0 is 1 by construction.
    """
    if frequency not in _FREQ:
        raise InputError(f"frequency must be 'M' (months) or 'Q' (quarters), got {shown(frequency)}")
    end = as_date(observation_end, "observation_end")
    check_timezone(timezone)
    _no_spark(transactions, "cohort_table")
    cols = KeyColumns(customer_col, datetime_col, monetary_col)
    checked, _ = _frame_or_relation(transactions, con, cols, timezone=timezone, dayfirst=dayfirst,
                                    date_format=date_format, read_options=read_options, encoding=encoding, sheet=sheet)
    if isinstance(checked, pd.DataFrame):
        cells = _cells_pandas(checked, cols, end, frequency)
    else:
        cells = _cells_duckdb(checked, cols, end, frequency)
    if cells.empty:
        _nothing_in_window(checked, cols, f"on or before observation_end={end.date()}")
    return CohortTable(_complete_grid(cells, end, frequency), frequency, end)


def _period_start(ts: pd.Series, frequency: str) -> pd.Series:
    return ts.dt.to_period(frequency).dt.start_time.astype("datetime64[ns]")


def _cells_pandas(tx: pd.DataFrame, cols: KeyColumns, end: pd.Timestamp, frequency: str) -> pd.DataFrame:
    """(cohort, period start) -> active customers and revenue, by pandas."""
    ts = tx[cols.datetime]
    keep = ts.dt.normalize() <= end
    frame = pd.DataFrame({
        "customer": tx.loc[keep, cols.customer].astype(str).to_numpy(),
        "period_start": _period_start(ts[keep], frequency).to_numpy(),
        "amount": pd.to_numeric(tx.loc[keep, cols.monetary]).to_numpy(dtype=float),
    })
    per = frame.groupby(["customer", "period_start"], sort=False, observed=True)["amount"].sum().reset_index()
    per["cohort"] = per.groupby("customer")["period_start"].transform("min")
    out = per.groupby(["cohort", "period_start"]).agg(active_customers=("customer", "size"), revenue=("amount", "sum"))
    return out.reset_index()


def _cells_duckdb(rel: duckdb.DuckDBPyRelation, cols: KeyColumns, end: pd.Timestamp, frequency: str) -> pd.DataFrame:
    """(cohort, period start) -> active customers and revenue, by GROUP BY SQL (no window function)."""
    q = quote_identifier
    unit = _FREQ[frequency][0]
    c, t, m = q(cols.customer), q(cols.datetime), q(cols.monetary)
    sql = f"""
    WITH per AS (
        SELECT CAST({c} AS VARCHAR) AS customer, CAST(date_trunc('{unit}', CAST({t} AS DATE)) AS TIMESTAMP) AS period_start,
               SUM(CAST({m} AS DOUBLE)) AS amount
        FROM tx WHERE CAST({t} AS DATE) <= DATE '{end.date().isoformat()}'
        GROUP BY 1, 2
    ), first AS (
        SELECT customer, MIN(period_start) AS cohort FROM per GROUP BY 1
    )
    SELECT first.cohort AS cohort, per.period_start AS period_start,
           COUNT(*) AS active_customers, SUM(per.amount) AS revenue
    FROM per JOIN first USING (customer)
    GROUP BY 1, 2
    """
    out = rel.query("tx", sql).df()
    for col in ("cohort", "period_start"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    return out


def _complete_grid(cells: pd.DataFrame, end: pd.Timestamp, frequency: str) -> pd.DataFrame:
    """Every (cohort, period) from acquisition to the period holding ``end``, with the derived columns."""
    months = _FREQ[frequency][1]
    last = pd.Timestamp(end).to_period(frequency)
    rows = []
    for cohort in sorted(cells["cohort"].unique()):
        first = pd.Timestamp(cohort).to_period(frequency)
        k = (last.ordinal - first.ordinal)
        for p in range(k + 1):
            rows.append((pd.Timestamp(cohort), p, (first + p).start_time))
    grid = pd.DataFrame(rows, columns=["cohort", "period", "period_start"])
    grid["period_start"] = grid["period_start"].astype("datetime64[ns]")
    grid["cohort"] = grid["cohort"].astype("datetime64[ns]")
    out = grid.merge(cells, on=["cohort", "period_start"], how="left", validate="one_to_one")
    out["active_customers"] = out["active_customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype(float)
    size = out.loc[out["period"] == 0].set_index("cohort")["active_customers"]
    out["cohort_size"] = out["cohort"].map(size).astype("int64")
    out["retention_rate"] = out["active_customers"] / out["cohort_size"]
    out["revenue_per_customer"] = out["revenue"] / out["cohort_size"]
    period_end = out["period_start"] + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    out["complete"] = period_end <= end
    del months
    return out[list(COHORT_COLUMNS)].sort_values(["cohort", "period"], ignore_index=True)
