"""Customer profitability: who brings more benefit than they cost to serve (IDIC: Differentiate).

Modules
-------
costs
    :class:`CostDrivers` (gross margin overall or by product, cost per order,
    per order line, per returned line; for bookings per cancellation and per
    special request) and the profit per customer from transactions
    (:func:`customer_profitability`) or bookings (:func:`booking_profitability`).
whale
    The whale curve (Kaplan & Cooper 1998) and profit deciles.
"""

from crm_analysis.profitability.costs import (
    BOOKING_PROFIT_COLUMNS,
    PROFIT_COLUMNS,
    CostDrivers,
    ProfitabilityInputError,
    ProfitTable,
    booking_profitability,
    customer_profitability,
)
from crm_analysis.profitability.whale import WhaleCurve, profit_deciles, whale_curve

__all__ = [
    "BOOKING_PROFIT_COLUMNS",
    "PROFIT_COLUMNS",
    "CostDrivers",
    "ProfitTable",
    "ProfitabilityInputError",
    "WhaleCurve",
    "booking_profitability",
    "customer_profitability",
    "profit_deciles",
    "whale_curve",
]
