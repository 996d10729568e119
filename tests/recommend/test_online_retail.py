"""Next-best products on UCI Online Retail: the recommenders beat the popularity baseline on a time holdout.

Train on the purchases to 2011-09-30, test on those after (to 2011-12-09): the
1,768 customers who bought before the cutoff and bought a product new to them
after it. Measured when written (k = 10): hit rate popularity 28.5 %, item
similarity 39.0 %, association rules 43.8 %; precision 4.1 %, 7.1 %, 7.4 %.
The margins the docs state (docs/idic.md) and that this test holds: item
similarity and association rules beat popularity by at least 8 and 12
percentage points of hit rate at 10, and in precision at 10.
"""

from __future__ import annotations

import pytest

from crm_analysis.recommend import (
    AssociationRuleRecommender,
    ItemSimilarityRecommender,
    PopularityRecommender,
    evaluate_holdout,
)

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def test_recommenders_beat_popularity_on_online_retail(shared_data):
    from crm_analysis.data import CleaningPolicy, clean_transactions, load_online_retail

    raw = load_online_retail(shared_data / "online_retail" / "online_retail.parquet")
    tx = clean_transactions(raw, policy=CleaningPolicy(observation_end="2011-12-09")).data
    res = evaluate_holdout(
        tx,
        {"popularity": PopularityRecommender(), "item_similarity": ItemSimilarityRecommender(),
         "association_rules": AssociationRuleRecommender()},
        cutoff="2011-09-30", k=10,
    )
    m = res.metrics
    assert res.counts["evaluated_with_new_products"] > 1500
    assert res.margin("item_similarity") >= 0.08
    assert res.margin("association_rules") >= 0.12
    for model in ("item_similarity", "association_rules"):
        assert m.loc[model, "precision"] > m.loc["popularity", "precision"]
