"""crm_analysis: analytical CRM as a Python package and a papermill report chain.

Subpackages
-----------
data
    Canonical schemas, loaders (DataFrame, CSV, Parquet, DuckDB), validation and
    cleaning with a per-reason report; loaders for CDNOW, UCI Online Retail and
    the Hotel booking demand data.
synthetic
    Seeded generators for the built-in default data (retail transactions from
    a known buy-till-you-die process; hotel bookings with fixed capacity).
rfm, clv
    RFM summaries (computed in DuckDB) and BG/NBD, Pareto/NBD and Gamma-Gamma
    customer lifetime value models.
segmentation
    RFM scores and named segments, Pareto (Lorenz/Gini) analysis, value tiers,
    clustering, and per-segment actions (IDIC).
seasonality
    Demand series, STL/MSTL decomposition, customer mix by period, price
    response, and demand forecasts for capacity control.
yield_management
    Littlewood, EMSR-a/b, exact dynamic programming, overbooking, group
    decisions and policy simulation.
report
    The papermill report chain, its run context and the ``crm-analysis`` CLI.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crm_analysis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
