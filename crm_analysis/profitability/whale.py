"""The whale curve and profit deciles: how profit is spread over the customers.

Whale curve (Kaplan & Cooper 1998, *Cost and Effect*, ch. 10; Kaplan &
Narayanan 2001): customers are ranked from the most to the least profitable
and the cumulative profit is drawn, as a share of the total profit, against
the cumulative share of customers. The curve rises above 100 % while the
customers are profitable (the "hump" of the whale), peaks where the
profitable customers end, and falls back to 100 % as the unprofitable ones
lose part of it. Kaplan & Cooper report that typically the most profitable
20 % of customers produce 150-300 % of the profit and the least profitable
10-20 % lose 50-200 % of it.

With ``n`` customers and profits ``p_(1) >= ... >= p_(n)`` (ties broken by
customer id), the curve is the points ``(i/n, sum_{j<=i} p_(j) / P)``,
``i = 0..n``, ``P = sum p``. Shares need ``P > 0``; with ``P <= 0`` the curve
is given in money and every share is NaN (said in the notes).
"""

from __future__ import annotations

from crm_analysis._validate import renamed_keywords as _renamed_keywords
from crm_analysis.exceptions import InputError, shown

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from crm_analysis.profitability.costs import ProfitabilityInputError

__all__ = ["WhaleCurve", "whale_curve", "profit_deciles"]


def _rank_desc(profit: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Order of the customers from the most to the least profitable, ties by id."""
    return np.lexsort((ids, -profit))


def _check(profit: pd.Series | np.ndarray, ids: pd.Series | np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    p = pd.to_numeric(pd.Series(profit), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if p.size == 0:
        raise ProfitabilityInputError("no customers: the whale curve needs at least one customer's profit")
    if not np.isfinite(p).all():
        raise ProfitabilityInputError(f"profit has {int((~np.isfinite(p)).sum())} missing or infinite value(s)")
    if ids is None:
        ids = pd.Series(profit).index.to_numpy()
    ids = np.asarray(pd.Series(ids).astype(str).to_numpy(dtype=object), dtype=str)
    if ids.size != p.size:
        raise ProfitabilityInputError(f"{ids.size} customer ids for {p.size} profits")
    return p, ids


@dataclass
class WhaleCurve:
    """Cumulative profit of the customers ranked from the most to the least profitable.

    Attributes
    ----------
    customer_share : numpy.ndarray
        ``0, 1/n, ..., 1`` (length ``n + 1``).
    cumulative_profit : numpy.ndarray
        Cumulative profit in money (length ``n + 1``, starts at 0).
    total : float
        Total profit ``P``.
    n_unprofitable : int
        Customers with a loss (profit < 0).
    loss : float
        Sum of the losses (<= 0).
    notes : list of str
        What could not be computed and why.
    """

    customer_share: np.ndarray
    cumulative_profit: np.ndarray
    total: float
    n_unprofitable: int
    loss: float
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of customers."""
        return int(self.customer_share.size - 1)

    @property
    def cumulative_share(self) -> np.ndarray:
        """Cumulative profit as a share of the total (NaN when the total is <= 0)."""
        if self.total <= 0:
            return np.full(self.cumulative_profit.shape, np.nan)
        return self.cumulative_profit / self.total

    def share_of_top(self, fraction: float) -> float:
        """Share of the total profit produced by the most profitable ``fraction`` of customers.

        Linear between customers (the curve's own interpolation); NaN when
        the total profit is <= 0. Can exceed 1 (the hump).
        """
        if not 0.0 <= fraction <= 1.0:
            raise InputError(f"fraction must lie in [0, 1], got {shown(fraction)}")
        return float(np.interp(fraction, self.customer_share, self.cumulative_share))

    def loss_of_bottom(self, fraction: float) -> float:
        """Profit of the least profitable ``fraction`` of customers as a share of the total (negative: a loss)."""
        return float(1.0 - self.share_of_top(1.0 - fraction)) if self.total > 0 else float("nan")

    @property
    def peak_share(self) -> float:
        """Height of the hump: the largest cumulative share (the profit of all profitable customers / total)."""
        return float(np.nanmax(self.cumulative_share)) if self.total > 0 else float("nan")

    @property
    def peak_customers(self) -> float:
        """Share of customers at the peak: the profitable customers' share."""
        return float(self.customer_share[int(np.argmax(self.cumulative_profit))])

    def summary(self) -> dict[str, float]:
        """The figures of the curve (shares NaN when the total is <= 0)."""
        return {
            "customers": float(self.n),
            "total_profit": self.total,
            "unprofitable_customers": float(self.n_unprofitable),
            "unprofitable_share": self.n_unprofitable / self.n,
            "loss_of_unprofitable": self.loss,
            "loss_share_of_total": self.loss / self.total if self.total > 0 else float("nan"),
            "peak_share": self.peak_share,
            "peak_customers": self.peak_customers,
            "top10_share": self.share_of_top(0.1),
            "top20_share": self.share_of_top(0.2),
            "bottom10_share": self.loss_of_bottom(0.1),
            "bottom20_share": self.loss_of_bottom(0.2),
        }

    def plot(self, ax: Axes | None = None) -> Figure:
        """The whale curve (share of total profit against share of customers, or money when the total is <= 0).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure otherwise.
        """
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(6.5, 4.5))
        else:
            fig = ax.figure
        in_share = self.total > 0
        y = self.cumulative_share if in_share else self.cumulative_profit
        ax.plot(self.customer_share, y, color="C0", lw=2, label="cumulative profit")
        if in_share:
            ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="total profit (100 %)")
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylabel("Cumulative profit, share of total")
        else:
            ax.axhline(self.total, color="grey", lw=0.8, ls="--", label="total profit")
            ax.set_ylabel("Cumulative profit")
        k = int(np.argmax(self.cumulative_profit))
        ax.plot([self.customer_share[k]], [y[k]], "o", color="C3",
                label=f"peak: {self.customer_share[k]:.0%} of customers are profitable")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("Customers ranked from the most to the least profitable (cumulative share)")
        ax.set_title("Whale curve of customer profitability")
        ax.set_xlim(0, 1)
        ax.legend(fontsize="small", loc="lower center")
        if own:
            fig.tight_layout()
        return fig


def whale_curve(profit: pd.Series | np.ndarray, ids: pd.Series | np.ndarray | None = None) -> WhaleCurve:
    """Whale curve of customer profits (Kaplan & Cooper 1998).

    Parameters
    ----------
    profit : Series or array, shape (n,)
        Profit per customer (money; may be negative).
    ids : Series or array, shape (n,), optional
        Customer ids for the tie-break; default the index of ``profit``.

    Returns
    -------
    WhaleCurve

    Raises
    ------
    ProfitabilityInputError
        No customers, missing or infinite profits, ids of another length.

    Examples
    --------
    >>> w = whale_curve(pd.Series([30.0, 10.0, -20.0], index=["a", "b", "c"]))
    >>> round(w.peak_share, 2), w.n_unprofitable
    (2.0, 1)
    """
    p, ids = _check(profit, ids)
    order = _rank_desc(p, ids)
    cum = np.concatenate(([0.0], np.cumsum(p[order])))
    total = float(cum[-1])
    notes = []
    if total <= 0:
        notes.append(f"total profit is {total:,.2f} <= 0: the curve is shown in money and its shares are undefined")
    neg = p < 0
    return WhaleCurve(
        customer_share=np.arange(p.size + 1) / p.size,
        cumulative_profit=cum,
        total=total,
        n_unprofitable=int(neg.sum()),
        loss=float(p[neg].sum()),
        notes=notes,
    )


@_renamed_keywords({"id_col": "customer_col"})  # fourth newcomer finding H17: one name per column role
def profit_deciles(table: pd.DataFrame, *, n_groups: int = 10, profit_col: str = "profit",
                   customer_col: str = "customer_id") -> pd.DataFrame:
    """Customers in ``n_groups`` equal-size groups by profit (1 = the most profitable), with their figures.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer with ``profit_col`` and ``customer_col``; the columns
        ``net_revenue``, ``gross_revenue``, ``returned_revenue``,
        ``cost_to_serve``, ``orders`` and ``returned_lines`` are summed where present.
    n_groups : int, default 10
        Number of groups (deciles); group sizes differ by at most one
        customer (ties broken by customer id).
    profit_col, customer_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Index ``decile`` (1..n_groups): ``customers``, ``profit``,
        ``profit_share`` (of the total; NaN when the total is <= 0),
        ``cumulative_profit_share``, ``mean_profit``, ``min_profit``,
        ``max_profit``, the sums of the columns above and ``return_rate``
        (returned / gross revenue of the group).

    Raises
    ------
    ProfitabilityInputError
        Missing columns, fewer customers than groups, non-finite profits.
    """
    if not isinstance(n_groups, (int, np.integer)) or isinstance(n_groups, bool) or n_groups < 1:
        raise ProfitabilityInputError(f"n_groups must be a whole number >= 1, got {shown(n_groups)}")
    if not isinstance(table, pd.DataFrame) or profit_col not in table.columns or customer_col not in table.columns:
        raise ProfitabilityInputError(f"profit_deciles needs a table with columns {customer_col!r} and {profit_col!r}")
    if len(table) < n_groups:
        raise ProfitabilityInputError(f"{len(table)} customer(s) cannot fill {n_groups} groups; use fewer groups")
    p, ids = _check(table[profit_col].to_numpy(), table[customer_col].to_numpy())
    order = _rank_desc(p, ids)
    pos = np.empty(p.size, dtype="int64")
    pos[order] = np.arange(p.size)
    group = pos * n_groups // p.size + 1
    df = table.assign(decile=group)
    g = df.groupby("decile", sort=True)
    out = pd.DataFrame({
        "customers": g.size(),
        "profit": g[profit_col].sum(),
        "mean_profit": g[profit_col].mean(),
        "min_profit": g[profit_col].min(),
        "max_profit": g[profit_col].max(),
    })
    total = float(p.sum())
    out.insert(2, "profit_share", out["profit"] / total if total > 0 else np.nan)
    out.insert(3, "cumulative_profit_share", out["profit"].cumsum() / total if total > 0 else np.nan)
    for col in ("orders", "gross_revenue", "returned_revenue", "net_revenue", "cost_to_serve", "returned_lines"):
        if col in df.columns:
            out[col] = g[col].sum()
    if {"gross_revenue", "returned_revenue"} <= set(out.columns):
        out["return_rate"] = (out["returned_revenue"] / out["gross_revenue"]).where(out["gross_revenue"] > 0)
    return out
