"""Cost to serve and profit per customer, from configurable cost drivers.

Activity-based customer profitability (Kaplan & Cooper 1998, *Cost and
Effect*, ch. 10; Kaplan & Narayanan 2001, "Measuring and managing customer
profitability", J. Cost Management 15(5)): a customer's profit is the gross
margin on what the customer kept, less the cost of the activities the
customer caused::

    net_revenue   = purchases - refunds of returned lines
    gross_margin  = sum over lines of margin(product) * amount   (returns negative)
    cost_to_serve = cost_per_order * orders + cost_per_line * lines
                    + cost_per_return * returned_lines
    profit        = gross_margin - cost_to_serve

A returned line loses its margin (the refund carries the product's margin,
negative) and costs its handling, so a customer whose small orders are half
returned earns less than one with the same purchases and no returns.

Return lines are found with the data layer's rule
(:func:`crm_analysis.data.return_mask`: negative quantity or amount, or the
``is_cancellation`` marker), in the transactions and in a separate ``returns``
frame (the lines the data-quality step dropped as returns).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.data import return_mask

__all__ = [
    "CostDrivers",
    "ProfitTable",
    "ProfitabilityInputError",
    "PROFIT_COLUMNS",
    "BOOKING_PROFIT_COLUMNS",
    "customer_profitability",
    "booking_profitability",
]


class ProfitabilityInputError(InputError):
    """Input of a profitability function is unusable; the message names the column or parameter and the fix."""


#: Columns of the per-customer profit table (:func:`customer_profitability`), in order.
PROFIT_COLUMNS: tuple[str, ...] = (
    "customer_id", "orders", "lines", "gross_revenue", "returned_lines", "returned_revenue", "net_revenue",
    "return_rate", "gross_margin", "order_cost", "line_cost", "return_cost", "cost_to_serve", "profit",
)
#: Columns of the booking profit table (:func:`booking_profitability`) after the grouping column.
BOOKING_PROFIT_COLUMNS: tuple[str, ...] = (
    "bookings", "stays", "cancellations", "special_requests", "room_revenue", "gross_margin", "booking_cost",
    "cancellation_cost", "request_cost", "cost_to_serve", "profit",
)


def _nonneg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ProfitabilityInputError(f"{name} must be a number >= 0 (money per unit), got {shown(value)}")
    if not (math.isfinite(value) and value >= 0):
        raise ProfitabilityInputError(f"{name} must be a finite number >= 0 (money per unit), got {shown(value)}")
    return float(value)


def _margin(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ProfitabilityInputError(f"{name} must be a fraction of revenue in [0, 1], got {shown(value)}")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ProfitabilityInputError(
            f"{name} must be a fraction of revenue in [0, 1] (0.4 = 40 % of the price is margin), got {shown(value)}"
        )
    return float(value)


@dataclass(frozen=True)
class CostDrivers:
    """What serving a customer costs, and what margin the customer's purchases carry.

    Parameters
    ----------
    gross_margin : float, default 1.0
        Gross margin as a fraction of revenue (price less cost of goods), in
        ``[0, 1]``, for every product not in ``margin_by_product``. The default
        1.0 counts revenue as margin (no cost of goods).
    margin_by_product : mapping of str to float, optional
        Gross margin of individual products (fractions in ``[0, 1]``).
    cost_per_order : float, default 0.0
        Cost of one order (picking, packing, shipping, payment), money per order.
    cost_per_line : float, default 0.0
        Cost of one order line (picking one item), money per line.
    cost_per_return : float, default 0.0
        Cost of handling one returned line (reverse logistics, inspection,
        restocking), money per returned line; the refund itself is taken off
        the revenue and the margin.
    cost_per_cancellation : float, default 0.0
        Bookings: cost of a cancelled booking or a no-show (re-selling the
        room, administration), money per booking.
    cost_per_special_request : float, default 0.0
        Bookings: cost of one special request, money per request.

    Raises
    ------
    ProfitabilityInputError
        A cost that is negative or not a number, a margin outside ``[0, 1]``.
    """

    gross_margin: float = 1.0
    margin_by_product: Mapping[str, float] | None = None
    cost_per_order: float = 0.0
    cost_per_line: float = 0.0
    cost_per_return: float = 0.0
    cost_per_cancellation: float = 0.0
    cost_per_special_request: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "gross_margin", _margin("gross_margin", self.gross_margin))
        for name in ("cost_per_order", "cost_per_line", "cost_per_return", "cost_per_cancellation",
                     "cost_per_special_request"):
            object.__setattr__(self, name, _nonneg(name, getattr(self, name)))
        if self.margin_by_product is not None:
            if not isinstance(self.margin_by_product, Mapping):
                raise ProfitabilityInputError(
                    "margin_by_product must map product ids to margins, e.g. {'P001': 0.35}, got "
                    f"{type(self.margin_by_product).__name__}"
                )
            clean = {str(k): _margin(f"margin_by_product[{k!r}]", v) for k, v in self.margin_by_product.items()}
            object.__setattr__(self, "margin_by_product", clean)

    @property
    def configured(self) -> bool:
        """Whether any cost or margin differs from the neutral default (then profit, not revenue, ranks customers)."""
        return self != CostDrivers()

    def to_dict(self) -> dict[str, Any]:
        """The drivers as plain values (for reports and run records)."""
        return {
            "gross_margin": self.gross_margin,
            "margin_by_product": dict(self.margin_by_product) if self.margin_by_product else None,
            "cost_per_order": self.cost_per_order,
            "cost_per_line": self.cost_per_line,
            "cost_per_return": self.cost_per_return,
            "cost_per_cancellation": self.cost_per_cancellation,
            "cost_per_special_request": self.cost_per_special_request,
        }

    def describe(self, *, money: Callable[[float], str] | None = None) -> str:
        """The drivers in words.

        Parameters
        ----------
        money : callable, optional
            Writes an amount with its currency (a report passes
            ``lambda x: crm_analysis.presentation.format_money(x, units)``); default the bare number.
        """
        money = money or (lambda x: f"{x:,.2f}")
        parts = [f"gross margin {self.gross_margin:.0%} of revenue"]
        if self.margin_by_product:
            parts[0] += f" ({len(self.margin_by_product)} product(s) with a margin of their own)"
        for name, unit in (("cost_per_order", "order"), ("cost_per_line", "order line"),
                           ("cost_per_return", "returned line"), ("cost_per_cancellation", "cancellation"),
                           ("cost_per_special_request", "special request")):
            v = getattr(self, name)
            if v:
                parts.append(f"{money(v)} per {unit}")
        return "; ".join(parts)


@dataclass
class ProfitTable:
    """Profit per customer and how it was made.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer, columns :data:`PROFIT_COLUMNS`; money in the
        data's currency, counts as int64; ``return_rate`` = returned revenue /
        gross revenue (NaN for a customer with returns only).
    drivers : CostDrivers
        The drivers used.
    counts : dict
        Lines read, purchase and return lines, lines valued at the overall
        margin because their product has no margin of its own, return lines
        with a positive amount (taken as refunds of that amount), customers
        with returns only (no purchase in the data), customers refunded more
        than they bought in the data (``customers_refunded_more_than_bought``:
        their net revenue is negative and their return rate above 1).
    notes : list of str
        The counts in words.
    """

    table: pd.DataFrame
    drivers: CostDrivers
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        """Totals over all customers: revenue, returns, margin, each cost, profit, customers with a loss."""
        t = self.table
        out = {c: float(t[c].sum()) for c in ("gross_revenue", "returned_revenue", "net_revenue", "gross_margin",
                                              "order_cost", "line_cost", "return_cost", "cost_to_serve", "profit")}
        out["customers"] = float(len(t))
        out["unprofitable_customers"] = float((t["profit"] < 0).sum())
        return out

    def top_returners(self, *, n: int = 10, min_orders: int = 1) -> pd.DataFrame:
        """The customers who return most: by returned revenue, with their return rate and profit.

        Parameters
        ----------
        n : int, default 10
            Rows shown.
        min_orders : int, default 1
            Leave out customers with fewer orders (customers with returns only included when 0).
        """
        t = self.table
        t = t[(t["returned_lines"] > 0) & (t["orders"] >= min_orders)]
        return t.sort_values(["returned_revenue", "customer_id"], ascending=[False, True]).head(int(n))


def _require(df: pd.DataFrame, cols: list[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ProfitabilityInputError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    check_columns(cols, df.columns, table=what, error=ProfitabilityInputError)


def _line_margin(lines: pd.DataFrame, drivers: CostDrivers, counts: dict[str, int]) -> np.ndarray:
    margin = np.full(len(lines), drivers.gross_margin)
    if drivers.margin_by_product:
        if "product" not in lines.columns:
            raise ProfitabilityInputError(
                "margin_by_product is set but the transactions have no 'product' column; map the product column "
                "of the source (columns: {product: ...}) or give one overall gross_margin"
            )
        prod = lines["product"].astype("string")
        known = pd.Series(drivers.margin_by_product, dtype="float64")
        m = prod.map(known).to_numpy(dtype="float64", na_value=np.nan)
        counts["lines_at_overall_margin"] = counts.get("lines_at_overall_margin", 0) + int(np.isnan(m).sum())
        present = set(prod.dropna().unique())
        unmatched = sorted(str(k) for k in known.index if k not in present)
        if unmatched:
            counts["margin_products_not_in_data"] = len(unmatched)
            counts["_unmatched_example"] = unmatched[:10]  # type: ignore[assignment]
        margin = np.where(np.isnan(m), margin, m)
    return margin


def customer_profitability(
    transactions: pd.DataFrame,
    *,
    drivers: CostDrivers | None = None,
    returns: pd.DataFrame | None = None,
    customers: pd.Series | pd.Index | None = None,
) -> ProfitTable:
    """Cost to serve and profit of every customer from order lines and returns.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``customer_id``, ``amount``; ``order_id``,
        ``product``, ``quantity`` where present), one row per order line or
        purchase; may contain return lines (see the module docstring).
        Without ``order_id`` every purchase row is one order.
    drivers : CostDrivers, optional
        Default ``CostDrivers()`` (margin 100 %, no costs: profit = net revenue).
    returns : pandas.DataFrame, optional
        Further return lines, e.g. the ``returns`` artefact of the data-quality
        step (the lines its cleaning dropped as returns). Every line of it
        counts as a return.
    customers : sequence of str, optional
        Customers the table must cover (e.g. those of the CLV table); a customer
        without lines gets zeros. Customers with lines but not in ``customers``
        are kept too (counted as ``customers_not_listed``).

    Returns
    -------
    ProfitTable
        One row per customer (sorted by id), :data:`PROFIT_COLUMNS`.

    Raises
    ------
    ProfitabilityInputError
        Missing columns, missing customer ids or amounts, non-finite amounts,
        a product margin asked for without a ``product`` column.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...                    "amount": [100.0, -100.0, 50.0]})
    >>> t = customer_profitability(tx, drivers=CostDrivers(gross_margin=0.5, cost_per_order=5.0, cost_per_return=3.0)).table
    >>> t.set_index("customer_id")["profit"].to_dict()
    {'a': -8.0, 'b': 20.0}
    """
    drivers = drivers or CostDrivers()
    _require(transactions, ["customer_id", "amount"], "transactions")
    parts = [transactions.assign(_ret=return_mask(transactions))]
    if returns is not None:
        _require(returns, ["customer_id", "amount"], "returns")
        parts.append(returns.assign(_ret=True))
    cols = ["customer_id", "amount", "_ret"] + [c for c in ("order_id", "product") if c in transactions.columns]
    lines = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
    counts: dict[str, int] = {"lines_read": len(lines)}
    if lines["customer_id"].isna().any():
        raise ProfitabilityInputError(
            f"{int(lines['customer_id'].isna().sum())} line(s) have no customer_id: a cost cannot be given to "
            "nobody; clean the transactions first (the data-quality step drops them, counted)"
        )
    amount = pd.to_numeric(lines["amount"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(amount).all():
        bad = int((~np.isfinite(amount)).sum())
        raise ProfitabilityInputError(f"column 'amount' has {bad} missing or infinite value(s); clean them first")
    is_ret = lines["_ret"].to_numpy(dtype=bool)
    pos_ret = is_ret & (amount > 0)
    counts["purchase_lines"] = int((~is_ret).sum())
    counts["return_lines"] = int(is_ret.sum())
    counts["return_lines_with_positive_amount"] = int(pos_ret.sum())
    value = np.where(is_ret, -np.abs(amount), amount)  # a return line refunds its value
    margin = _line_margin(lines, drivers, counts)
    cid = lines["customer_id"].astype(str).to_numpy(dtype=object)
    df = pd.DataFrame({"customer_id": cid, "ret": is_ret, "value": value, "margin": margin * value})
    if "order_id" in lines.columns and lines["order_id"].notna().all():
        df["order"] = lines["order_id"].astype(str).to_numpy(dtype=object)
    else:
        if "order_id" in lines.columns:
            counts["lines_without_order_id"] = int(lines["order_id"].isna().sum())
        df["order"] = np.arange(len(df)).astype(str)
    buy = df[~df["ret"]]
    ret = df[df["ret"]]
    g = buy.groupby("customer_id", sort=True)
    out = pd.DataFrame({
        "orders": g["order"].nunique(),
        "lines": g.size(),
        "gross_revenue": g["value"].sum(),
    })
    r = ret.groupby("customer_id", sort=True)
    out = out.join(pd.DataFrame({"returned_lines": r.size(), "returned_revenue": -r["value"].sum()}), how="outer")
    out = out.join(df.groupby("customer_id")["margin"].sum().rename("gross_margin"), how="outer")
    if customers is not None:
        listed = pd.Index(pd.Series(customers).astype(str).unique())
        counts["customers_not_listed"] = int((~out.index.isin(listed)).sum())
        counts["listed_customers_without_lines"] = int((~listed.isin(out.index)).sum())
        out = out.reindex(out.index.union(listed))
    out = out.fillna(0.0)
    for c in ("orders", "lines", "returned_lines"):
        out[c] = out[c].astype("int64")
    counts["customers_with_returns_only"] = int(((out["lines"] == 0) & (out["returned_lines"] > 0)).sum())
    counts["customers_refunded_more_than_bought"] = int(
        ((out["lines"] > 0) & (out["returned_revenue"] > out["gross_revenue"] + 1e-9)).sum())
    out["net_revenue"] = out["gross_revenue"] - out["returned_revenue"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["return_rate"] = np.where(out["gross_revenue"] > 0, out["returned_revenue"] / out["gross_revenue"], np.nan)
    out["order_cost"] = drivers.cost_per_order * out["orders"]
    out["line_cost"] = drivers.cost_per_line * out["lines"]
    out["return_cost"] = drivers.cost_per_return * out["returned_lines"]
    out["cost_to_serve"] = out["order_cost"] + out["line_cost"] + out["return_cost"]
    out["profit"] = out["gross_margin"] - out["cost_to_serve"]
    out.index.name = "customer_id"
    table = out.reset_index()
    table["customer_id"] = table["customer_id"].astype("string")
    table = table[list(PROFIT_COLUMNS)]
    unmatched = counts.pop("_unmatched_example", [])
    notes = [f"{counts['purchase_lines']:,} purchase line(s) and {counts['return_lines']:,} return line(s) read"]
    if counts.get("margin_products_not_in_data"):
        notes.append(f"{counts['margin_products_not_in_data']:,} product(s) of margin_by_product match no product of "
                     f"the data, e.g. {unmatched}: check their spelling and id format (products are compared as text)")
    if counts.get("lines_at_overall_margin"):
        notes.append(f"{counts['lines_at_overall_margin']:,} line(s) valued at the overall margin "
                     f"{drivers.gross_margin:.0%}: their product has no margin of its own")
    if counts["return_lines_with_positive_amount"]:
        notes.append(f"{counts['return_lines_with_positive_amount']:,} return line(s) with a positive amount taken "
                     "as refunds of that amount")
    if counts["customers_with_returns_only"]:
        notes.append(f"{counts['customers_with_returns_only']:,} customer(s) with returns but no purchase in the data "
                     "(bought before it starts): their profit is the lost margin and the handling")
    if counts["customers_refunded_more_than_bought"]:
        notes.append(f"{counts['customers_refunded_more_than_bought']:,} customer(s) got more refunded than they bought "
                     "in the data (returns of purchases before it starts, or errors in the data): negative net "
                     "revenue and a return rate above 100 %")
    if counts.get("lines_without_order_id"):
        notes.append(f"{counts['lines_without_order_id']:,} line(s) without an order id: every line counted as an order")
    if counts.get("customers_not_listed"):
        notes.append(f"{counts['customers_not_listed']:,} customer(s) with lines are not among the listed customers")
    if counts.get("listed_customers_without_lines"):
        notes.append(f"{counts['listed_customers_without_lines']:,} listed customer(s) have no line: zeros")
    return ProfitTable(table=table, drivers=drivers, counts=counts, notes=notes)


def booking_profitability(
    bookings: pd.DataFrame,
    *,
    drivers: CostDrivers | None = None,
    by: str = "customer_id",
    special_requests_col: str = "special_requests",
) -> pd.DataFrame:
    """Cost to serve and profit of bookings, per customer (or per segment, channel, ...).

    Room revenue is ``rate * nights * units`` of the stayed bookings; a
    cancelled or no-show booking brings no revenue and costs
    ``cost_per_cancellation``; every booking that stays costs
    ``cost_per_order``; every special request costs ``cost_per_special_request``.
    ``profit = gross_margin * room_revenue - cost_to_serve``.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``status``, ``rate``, ``nights``, ``units`` optional).
    drivers : CostDrivers, optional
        Default ``CostDrivers()``; ``margin_by_product`` does not apply.
    by : str, default "customer_id"
        Column to group by; the hotel data have no customer ids, so group by
        ``segment`` or ``channel`` there.
    special_requests_col : str, default "special_requests"
        Column counting special requests per booking; needed only when
        ``cost_per_special_request > 0``.

    Returns
    -------
    pandas.DataFrame
        One row per value of ``by``: ``by``, then :data:`BOOKING_PROFIT_COLUMNS`.

    Raises
    ------
    ProfitabilityInputError
        Missing columns (``by``, the request column when it has a cost),
        missing values in ``by``, unknown statuses, negative request counts,
        a missing, non-numeric or negative ``rate``, ``nights`` or ``units``
        on a stayed booking.
    """
    drivers = drivers or CostDrivers()
    if drivers.margin_by_product:
        raise ProfitabilityInputError("margin_by_product does not apply to bookings; give one gross_margin")
    _require(bookings, ["status", "rate", "nights", by], "bookings")
    if bookings[by].isna().any():
        raise ProfitabilityInputError(
            f"{int(bookings[by].isna().sum())} booking(s) have no {by!r}; group by a column every booking has "
            "(e.g. by='segment')"
        )
    status = bookings["status"].astype(str)
    unknown = sorted(set(status) - {"stayed", "cancelled", "no_show"})
    if unknown:
        raise ProfitabilityInputError(f"unknown booking status(es) {unknown}; canonical: stayed, cancelled, no_show")
    stayed = (status == "stayed").to_numpy()
    factors = {}
    for col in ("rate", "nights", "units"):
        if col not in bookings.columns:
            factors[col] = np.ones(len(bookings))
            continue
        v = pd.to_numeric(bookings[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad_nan = stayed & ~np.isfinite(v)
        bad_neg = stayed & np.isfinite(v) & (v < 0)
        if bad_nan.any() or bad_neg.any():
            raise ProfitabilityInputError(
                f"column {col!r} has {int(bad_nan.sum())} missing or non-numeric and {int(bad_neg.sum())} negative "
                f"value(s) on stayed bookings (e.g. rows {np.flatnonzero(bad_nan | bad_neg)[:5].tolist()}): room "
                "revenue = rate * nights * units needs each >= 0; clean or drop these bookings first "
                "(a rate of 0 is a complimentary stay)"
            )
        factors[col] = np.nan_to_num(v)
    revenue = np.where(stayed, factors["rate"] * factors["nights"] * factors["units"], 0.0)
    if drivers.cost_per_special_request:
        _require(bookings, [special_requests_col], "bookings (cost_per_special_request is set)")
    if special_requests_col in bookings.columns:
        req = pd.to_numeric(bookings[special_requests_col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(req).any() or (req < 0).any():
            raise ProfitabilityInputError(f"column {special_requests_col!r} must hold counts >= 0 for every booking")
    else:
        req = np.zeros(len(bookings))
    df = pd.DataFrame({
        "key": bookings[by].astype(str).to_numpy(dtype=object), "stay": stayed, "cancel": ~stayed,
        "req": req, "revenue": revenue,
    })
    g = df.groupby("key", sort=True)
    out = pd.DataFrame({
        "bookings": g.size(), "stays": g["stay"].sum(), "cancellations": g["cancel"].sum(),
        "special_requests": g["req"].sum(), "room_revenue": g["revenue"].sum(),
    })
    out["gross_margin"] = drivers.gross_margin * out["room_revenue"]
    out["booking_cost"] = drivers.cost_per_order * out["stays"]
    out["cancellation_cost"] = drivers.cost_per_cancellation * out["cancellations"]
    out["request_cost"] = drivers.cost_per_special_request * out["special_requests"]
    out["cost_to_serve"] = out["booking_cost"] + out["cancellation_cost"] + out["request_cost"]
    out["profit"] = out["gross_margin"] - out["cost_to_serve"]
    for c in ("bookings", "stays", "cancellations"):
        out[c] = out[c].astype("int64")
    out.index.name = by
    out = out.reset_index()
    out[by] = out[by].astype("string")
    return out[[by, *BOOKING_PROFIT_COLUMNS]]
