"""The segmentation step of the report chain: CLV table in, ``segments`` table out.

:func:`run_segmentation` runs every part on a CLV table (columns of
``clv.parquet``: customer_id, frequency, recency, T, monetary_value, revenue,
p_alive, expected_purchases, expected_spend, clv) and keeps the intermediate
results for the report; :func:`segment_customers` returns only the
``segments.parquet`` columns::

    customer_id, r_score, f_score, m_score, segment, value_tier, cluster, action

with exactly one row per customer and no missing segment. The ``action`` is the
customer's own (from the customer's state: days since the last purchase and
P(alive) of the purchase model named in the CLV table; see
:mod:`crm_analysis.segmentation.actions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crm_analysis.segmentation._common import SegmentationInputError, customer_ids, require_columns
from crm_analysis.segmentation.actions import (
    NEW_CUSTOMER_INTENTS,
    ActionRule,
    LapsePolicy,
    SegmentSummary,
    _unit_days,
    segment_summary,
)
from crm_analysis.segmentation.clustering import BehaviouralClustering
from crm_analysis.segmentation.pareto import ParetoResult, pareto_analysis
from crm_analysis.segmentation.rfm_scores import SegmentRule, rfm_scores, rfm_segments
from crm_analysis.segmentation.value import ValueGrid, current_profit, value_grid

__all__ = [
    "SEGMENTS_COLUMNS",
    "CLV_COLUMNS",
    "SEGMENTATION_HEADLINES",
    "SegmentationResult",
    "run_segmentation",
    "segment_customers",
]

#: Columns of ``segments.parquet``.
SEGMENTS_COLUMNS: tuple[str, ...] = (
    "customer_id", "r_score", "f_score", "m_score", "segment", "value_tier", "cluster", "action",
)
#: Columns of ``clv.parquet`` this step needs.
CLV_COLUMNS: tuple[str, ...] = ("customer_id", "frequency", "recency", "T", "monetary_value", "revenue", "p_alive", "clv")

#: Headline figures of the segmentation report (key -> label), see :meth:`SegmentationResult.headlines`.
SEGMENTATION_HEADLINES: dict[str, str] = {
    "top20_revenue_share": "Share of revenue from the top 20% of customers",
    "gini_revenue": "Gini coefficient of revenue",
    "customers_for_80pct_revenue": "Share of customers producing 80% of revenue",
    "n_segments": "Number of RFM segments",
    "largest_segment": "Largest segment",
    "n_clusters": "Behavioural clusters",
    "cluster_stability_ari": "Cluster stability (mean adjusted Rand index)",
    "p_alive_model": "P(alive) used for the actions (purchase model)",
    "lapsed_customer_share": "Share of customers lapsed (days since last purchase or P(alive))",
    "onboarding_customers": "Customers given an onboarding or acquisition action",
}


@dataclass
class SegmentationResult:
    """Everything the segmentation step computed.

    Attributes
    ----------
    segments : pandas.DataFrame
        The ``segments.parquet`` table (:data:`SEGMENTS_COLUMNS`).
    customers : pandas.DataFrame
        The CLV table with scores, profit, segment, value tier, cluster, action and offer.
    scores : pandas.DataFrame
        Output of :func:`~crm_analysis.segmentation.rfm_scores.rfm_scores`.
    pareto_revenue, pareto_clv : ParetoResult
        Concentration of revenue and of CLV.
    grid : ValueGrid
        Current profit vs CLV grid.
    clustering : BehaviouralClustering
        The fitted clustering.
    summary : SegmentSummary
        Per-segment figures and actions.
    """

    segments: pd.DataFrame
    customers: pd.DataFrame
    scores: pd.DataFrame
    pareto_revenue: ParetoResult
    pareto_clv: ParetoResult
    grid: ValueGrid
    clustering: BehaviouralClustering
    summary: SegmentSummary

    def headlines(self) -> dict[str, float | int | str]:
        """Headline figures of the step (keys of :data:`SEGMENTATION_HEADLINES`)."""
        t = self.summary.table
        c = self.summary.customers
        return {
            "top20_revenue_share": self.pareto_revenue.share_of_top(0.2),
            "gini_revenue": self.pareto_revenue.gini,
            "customers_for_80pct_revenue": self.pareto_revenue.customers_for_share(0.8),
            "n_segments": int(len(t)),
            "largest_segment": str(t["customers"].idxmax()),
            "n_clusters": int(self.clustering.n_clusters_),
            "cluster_stability_ari": float(self.clustering.stability_),
            "p_alive_model": self.summary.p_alive_model,
            "lapsed_customer_share": float((c["state"] == "lapsed").mean()),
            "onboarding_customers": int(c["intent"].isin(list(NEW_CUSTOMER_INTENTS)).sum()),
        }


def run_segmentation(
    clv_table: pd.DataFrame,
    *,
    bins: int = 5,
    n_clusters: int | None = None,
    seed: int = 42,
    rules: Sequence[SegmentRule] | None = None,
    action_rules: Sequence[ActionRule] | None = None,
    cost_rate: float = 0.0,
    cost_per_order: float = 0.0,
    tiers: int = 3,
    features: Sequence[str] = ("recency", "frequency", "monetary_value", "clv"),
    k_range: tuple[int, int] = (2, 8),
    n_stability: int = 5,
    negative: str = "clip",
    lapse: LapsePolicy | None = None,
    unit_days: float | None = None,
    p_alive_model: str | None = None,
) -> SegmentationResult:
    """Run RFM scoring, named segments, Pareto analysis, value tiers, clustering and actions.

    Parameters
    ----------
    clv_table : pandas.DataFrame
        One row per customer, columns of ``clv.parquet`` (at least :data:`CLV_COLUMNS`).
    bins : int, default 5
        RFM score levels.
    n_clusters : int, optional
        Number of behavioural clusters; ``None`` chooses by silhouette over ``k_range``.
    seed : int, default 42
        Seed of the clustering.
    rules : sequence of SegmentRule, optional
        RFM segment rules; default the eleven-segment map.
    action_rules : sequence of ActionRule, optional
        Action rules; default :func:`~crm_analysis.segmentation.actions.default_action_rules`.
    cost_rate : float, default 0.0
        Variable cost as a fraction of revenue, for current profit.
    cost_per_order : float, default 0.0
        Cost per order, for current profit (orders = frequency + 1).
    tiers : int, default 3
        Size of the current-vs-future value grid (2 or 3).
    features : sequence of str
        Clustering features.
    k_range : tuple of int, default (2, 8)
        k tried when ``n_clusters`` is None.
    n_stability : int, default 5
        Clustering refits for the stability ARI.
    negative : {"clip", "raise"}, default "clip"
        Negative revenue / CLV values in the Pareto analysis: set to 0 and
        count (reported in the results), or raise.
    lapse : LapsePolicy, optional
        When customers and segments count as lapsed (default ``LapsePolicy()``:
        more than 365 days since the last purchase or P(alive) < 0.5).
    unit_days : float, optional
        Days per time unit of ``recency``/``T``; default from
        ``clv_table.attrs`` (``unit_days`` / ``time_unit``, kept in
        ``clv.parquet``).
    p_alive_model : str, optional
        Name of the purchase model of ``p_alive``; default from the
        ``p_alive_model`` column or ``attrs["model"]`` of ``clv_table``.

    Returns
    -------
    SegmentationResult

    Raises
    ------
    SegmentationInputError
        Missing columns, bad values, fewer than 2 customers, unknown time unit.
    ValueError
        A refused action rule set (see
        :func:`~crm_analysis.segmentation.actions.validate_action_rules`).
    """
    require_columns(clv_table, list(CLV_COLUMNS) + [f for f in features if f not in CLV_COLUMNS], "CLV table")
    if len(clv_table) < 2:
        raise SegmentationInputError(f"segmentation needs at least 2 customers, got {len(clv_table)}")
    ids = customer_ids(clv_table)
    if unit_days is None and not {"days_since_last", "age_days"} <= set(clv_table.columns):
        unit_days = _unit_days(clv_table, None)
    customers = clv_table.reset_index(drop=True).copy()
    customers["customer_id"] = ids.to_numpy()
    customers["customer_id"] = customers["customer_id"].astype("string")
    scores = rfm_scores(customers, bins=bins)
    customers[["r_score", "f_score", "m_score", "fm_score"]] = scores[["r_score", "f_score", "m_score", "fm_score"]]
    customers["segment"] = rfm_segments(scores, rules=rules, bins=bins).to_numpy()
    customers["current_profit"] = current_profit(
        customers, cost_rate=cost_rate, cost_per_order=cost_per_order
    ).to_numpy()
    referral = "referrals" if "referrals" in customers.columns else None
    grid = value_grid(customers, "current_profit", "clv", n=tiers, referral_col=referral)
    customers["value_tier"] = grid.table["value_tier"].to_numpy()
    clus = BehaviouralClustering(
        n_clusters=n_clusters, k_range=k_range, features=features, random_state=seed, n_stability=n_stability
    ).fit(customers)
    customers["cluster"] = clus.labels_
    summary = segment_summary(
        customers, action_rules=action_rules, policy=lapse, unit_days=unit_days, p_alive_model=p_alive_model
    )
    acts = summary.customers
    for col in ("days_since_last", "state", "action", "offer", "intent", "p_alive_model"):
        customers[col] = acts[col].to_numpy()
    segments = customers[list(SEGMENTS_COLUMNS)].copy()
    segments = segments.astype(
        {"customer_id": "string", "r_score": "int64", "f_score": "int64", "m_score": "int64",
         "segment": "string", "value_tier": "string", "cluster": "int64", "action": "string"}
    )
    if segments[["segment", "value_tier", "action"]].isna().any().any():  # pragma: no cover - guarded above
        raise RuntimeError("internal error: a customer has no segment, value tier or action")
    return SegmentationResult(
        segments=segments,
        customers=customers,
        scores=scores,
        pareto_revenue=pareto_analysis(customers["revenue"], negative=negative, label="revenue"),
        pareto_clv=pareto_analysis(customers["clv"], negative=negative, label="CLV"),
        grid=grid,
        clustering=clus,
        summary=summary,
    )


def segment_customers(
    clv_table: pd.DataFrame,
    *,
    bins: int = 5,
    n_clusters: int | None = None,
    seed: int = 42,
    rules: Sequence[SegmentRule] | None = None,
    action_rules: Sequence[ActionRule] | None = None,
    cost_rate: float = 0.0,
    **kwargs: Any,
) -> pd.DataFrame:
    """The ``segments.parquet`` table: one row per customer of ``clv_table``.

    Parameters
    ----------
    clv_table : pandas.DataFrame
        One row per customer, columns of ``clv.parquet``.
    bins, n_clusters, seed, rules, action_rules, cost_rate
        See :func:`run_segmentation`.
    **kwargs
        Further options of :func:`run_segmentation`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEGMENTS_COLUMNS`, in the row order of ``clv_table``.
    """
    return run_segmentation(
        clv_table, bins=bins, n_clusters=n_clusters, seed=seed, rules=rules,
        action_rules=action_rules, cost_rate=cost_rate, **kwargs,
    ).segments
