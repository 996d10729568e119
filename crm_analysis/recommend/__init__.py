"""Next-best products (IDIC: Customize): what each customer may buy next, and how well that is predicted.

Modules
-------
models
    Popularity baseline, item-item cosine similarity, association rules
    (FP-growth via ``mlxtend``) and the recommender built on them.
evaluation
    Time-based holdout: hit rate, precision and recall at k against the baseline.
segments
    The strongest associations per customer segment.
"""

from crm_analysis.recommend.evaluation import HoldoutResult, evaluate_holdout, ranking_metrics, split_transactions
from crm_analysis.recommend.models import (
    AssociationRuleRecommender,
    ItemSimilarityRecommender,
    PopularityRecommender,
    PurchaseMatrix,
    RecommendInputError,
    association_rules,
    purchase_matrix,
)
from crm_analysis.recommend.segments import rules_by_segment

__all__ = [
    "AssociationRuleRecommender",
    "HoldoutResult",
    "ItemSimilarityRecommender",
    "PopularityRecommender",
    "PurchaseMatrix",
    "RecommendInputError",
    "association_rules",
    "evaluate_holdout",
    "purchase_matrix",
    "ranking_metrics",
    "rules_by_segment",
    "split_transactions",
]

from crm_analysis.recommend import evaluation as _evaluation  # noqa: E402
from crm_analysis._validate import renamed_names as _renamed_names  # noqa: E402

__getattr__ = _renamed_names(__name__, _evaluation._RENAMED, globals(), why=_evaluation._WHY)
