"""Segmentation: who are the right customers? (IDIC: identify, differentiate, interact, customize).

Modules
-------
rfm_scores
    RFM scores (rank-based equal-size bins) and the named RFM segment map.
pareto
    Lorenz curve, Gini coefficient and top-x% shares of customer value.
value
    Current profitability vs future value (CLV) grid with named cells.
clustering
    Behavioural k-means clustering with silhouette-chosen k and stability (ARI).
actions
    Recommended interaction and offer per customer from the customer's state
    (days since the last purchase and P(alive)), lapse policy, rule checks,
    per-segment figures and action mix.
pipeline
    ``segment_customers``: the ``segments.parquet`` table of the report chain.
"""

from crm_analysis.segmentation._common import SegmentationInputError
from crm_analysis.segmentation.actions import (
    INTENTS,
    LAPSED_SEGMENTS,
    NEW_CUSTOMER_INTENTS,
    ActionRule,
    LapsePolicy,
    SegmentSummary,
    assign_actions,
    count_rules,
    customer_state,
    default_action_rules,
    export_action_table,
    segment_summary,
    validate_action_rules,
    check_segment_names,
)
from crm_analysis.segmentation.clustering import FEATURE_WORDS, BehaviouralClustering
from crm_analysis.segmentation.pareto import ParetoResult, pareto_analysis
from crm_analysis.segmentation.pipeline import (
    SEGMENTATION_HEADLINES,
    SEGMENTS_COLUMNS,
    SegmentationParams,
    SegmentationResult,
    run_segmentation,
    segment_customers,
)
from crm_analysis.segmentation.rfm_scores import (
    SEGMENT_ORDER,
    SegmentRule,
    default_segment_rules,
    rfm_scores,
    rfm_segments,
    validate_segment_rules,
)
from crm_analysis.segmentation.value import ValueGrid, current_profit, default_cell_names, value_grid

__all__ = [
    "INTENTS",
    "LAPSED_SEGMENTS",
    "LapsePolicy",
    "NEW_CUSTOMER_INTENTS",
    "SEGMENTATION_HEADLINES",
    "SegmentationParams",
    "count_rules",
    "customer_state",
    "validate_action_rules",
    "check_segment_names",
    "ActionRule",
    "BehaviouralClustering",
    "FEATURE_WORDS",
    "ParetoResult",
    "SEGMENTS_COLUMNS",
    "SEGMENT_ORDER",
    "SegmentRule",
    "SegmentSummary",
    "SegmentationInputError",
    "SegmentationResult",
    "ValueGrid",
    "assign_actions",
    "current_profit",
    "default_action_rules",
    "default_cell_names",
    "default_segment_rules",
    "export_action_table",
    "pareto_analysis",
    "rfm_scores",
    "rfm_segments",
    "run_segmentation",
    "segment_customers",
    "segment_summary",
    "validate_segment_rules",
    "value_grid",
]
