"""Next-best products (crm_analysis.recommend): recommenders and metrics checked by hand on tiny examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.recommend import (
    AssociationRuleRecommender,
    ItemSimilarityRecommender,
    PopularityRecommender,
    RecommendInputError,
    association_rules,
    evaluate_holdout,
    ranking_metrics,
    rules_by_segment,
    split_transactions,
)


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "product", "timestamp"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"]))


# customers u1..u4; bread and butter go together, jam is popular
TX = _tx([
    ("u1", "o1", "bread", "2024-01-01"), ("u1", "o1", "butter", "2024-01-01"),
    ("u2", "o2", "bread", "2024-01-02"), ("u2", "o2", "butter", "2024-01-02"), ("u2", "o3", "jam", "2024-01-05"),
    ("u3", "o4", "jam", "2024-01-03"), ("u3", "o4", "tea", "2024-01-03"),
    ("u4", "o5", "bread", "2024-01-04"), ("u4", "o6", "jam", "2024-01-06"),
])


def test_popularity_by_hand():
    rec = PopularityRecommender().fit(TX).recommend(["u3", "new"], k=2)
    # customers per product: bread 3, jam 3, butter 2, tea 1; ties by product order (bread < jam)
    assert rec[rec["customer_id"] == "u3"]["product"].tolist() == ["bread", "butter"]
    assert rec[rec["customer_id"] == "new"]["product"].tolist() == ["bread", "jam"]


def test_item_similarity_by_hand():
    m = ItemSimilarityRecommender().fit(TX)
    sim = pd.DataFrame(m.similarity_.toarray(), index=m.products_, columns=m.products_)
    # bread {u1,u2,u4}, butter {u1,u2}: 2 / sqrt(3 * 2)
    assert sim.loc["bread", "butter"] == pytest.approx(2 / np.sqrt(6))
    # jam {u2,u3,u4}, tea {u3}: 1 / sqrt(3)
    assert sim.loc["jam", "tea"] == pytest.approx(1 / np.sqrt(3)) and sim.loc["bread", "bread"] == 0
    rec = m.recommend(["u4"], k=2)
    # u4 has bread and jam: butter = 2/sqrt6 + 1/sqrt6 (jam-butter: {u2}) = 1.2247; tea = 0 + 1/sqrt3 = 0.577
    assert rec["product"].tolist() == ["butter", "tea"]
    assert rec["score"].iloc[0] == pytest.approx(3 / np.sqrt(6))
    assert (rec["source"] == "model").all()


def test_never_recommends_what_was_bought_and_fills_from_popularity():
    m = ItemSimilarityRecommender().fit(TX)
    rec = m.recommend(["u3"], k=3)
    assert rec["product"].tolist() == ["bread", "butter"]  # only two products u3 has not bought
    new = m.recommend(["someone new"], k=2)
    assert new["product"].tolist() == ["bread", "jam"] and (new["source"] == "popularity").all()


def test_association_rules_by_hand():
    r = association_rules(TX, min_support=0.3, min_confidence=0.5).set_index(["antecedent", "consequent"])
    # 6 orders; {bread, butter} in 2 (o1, o2): support 1/3; bread in 3 orders -> confidence 2/3; butter in 2 -> 1
    row = r.loc[("bread", "butter")]
    assert row["support"] == pytest.approx(2 / 6) and row["confidence"] == pytest.approx(2 / 3)
    assert row["lift"] == pytest.approx((2 / 3) / (2 / 6)) and row["baskets"] == 2
    assert r.loc[("butter", "bread"), "confidence"] == pytest.approx(1.0)
    rec = AssociationRuleRecommender(min_support=0.3, min_confidence=0.5).fit(TX).recommend(["u4"], k=1)
    assert rec["product"].tolist() == ["butter"] and rec["score"].iloc[0] == pytest.approx(2 / 3, abs=1e-5)


def test_metrics_by_hand():
    rec = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "rank": [1, 2, 1, 2], "product": ["x", "y", "z", "w"]})
    m = ranking_metrics(rec, {"a": {"y", "q"}, "b": {"q"}}, k=2)
    assert m == {"customers": 2.0, "hit_rate": 0.5, "precision": 0.25, "recall": 0.25}


def test_holdout_split_and_evaluation():
    train, test = split_transactions(TX, "2024-01-04")
    assert train["timestamp"].max() < pd.Timestamp("2024-01-05") <= test["timestamp"].min()
    res = evaluate_holdout(TX, {"popularity": PopularityRecommender(), "items": ItemSimilarityRecommender()},
                           cutoff="2024-01-04", k=1)
    # after the cutoff: u2 buys jam (new), u4 buys jam (new)
    assert res.counts["evaluated_with_new_products"] == 2
    assert res.metrics.loc["popularity", "customers"] == 2
    with pytest.raises(RecommendInputError, match="no purchase after it"):
        split_transactions(TX, "2024-02-01")
    with pytest.raises(RecommendInputError, match="baseline 'pop'"):
        evaluate_holdout(TX, {"items": ItemSimilarityRecommender()}, cutoff="2024-01-04", baseline="pop")


def test_rules_by_segment_and_bad_inputs():
    seg = pd.DataFrame({"customer_id": ["u1", "u2", "u3", "u4"], "segment": ["A", "A", "B", "B"]})
    r = rules_by_segment(TX, seg, min_support=0.3, min_baskets=2)
    assert set(r["segment"]) <= {"A", "B"} and "A" in set(r["segment"])
    with pytest.raises(RecommendInputError, match="product"):
        PopularityRecommender().fit(TX.drop(columns="product"))
    with pytest.raises(RecommendInputError, match="k must be"):
        PopularityRecommender().fit(TX).recommend(k=0)
    with pytest.raises(RecommendInputError, match="min_support"):
        association_rules(TX, min_support=0)


# --- found by a newcomer's try-out (issue 16) -------------------------------------------------------------------

@pytest.mark.parametrize("extra", [
    {"quantity": -1, "amount": -2.0},            # a negative quantity and amount
    {"quantity": 1, "amount": -2.0},             # a refund line
    {"quantity": 1, "amount": 2.0, "is_cancellation": True},   # the cancellation marker (invoice "C...")
])
def test_return_lines_are_refused_everywhere(extra):
    """A return is not a purchase: it would make the customer 'own' the product and feed the similarities."""
    ok = TX.assign(quantity=1, amount=2.0, is_cancellation=False)
    ret = pd.DataFrame([{"customer_id": "u4", "order_id": "C7", "product": "tea", "timestamp": pd.Timestamp("2024-01-07"),
                         "quantity": 1, "amount": 2.0, "is_cancellation": False, **extra}])
    bad = pd.concat([ok, ret], ignore_index=True)
    for fit in (lambda t: PopularityRecommender().fit(t), lambda t: ItemSimilarityRecommender().fit(t),
                lambda t: AssociationRuleRecommender(min_support=0.1).fit(t),
                lambda t: association_rules(t, min_support=0.1),
                lambda t: evaluate_holdout(t, {"popularity": PopularityRecommender()}, cutoff="2024-01-03", k=2),
                lambda t: rules_by_segment(t, pd.DataFrame({"customer_id": ["u1", "u2", "u3", "u4"],
                                                            "segment": ["A", "A", "B", "B"]}), min_support=0.1)):
        with pytest.raises(RecommendInputError, match="1 return line\\(s\\)"):
            fit(bad)
        fit(ok)  # the purchases alone are fine


def test_rules_by_segment_counts_customers_without_a_segment():
    seg = pd.DataFrame({"customer_id": ["u1", "u2", "u3"], "segment": ["A", "A", "B"]})  # u4 has no segment
    r = rules_by_segment(TX, seg, min_support=0.3, min_baskets=1)
    assert "(no segment: 1 customer(s), 2 line(s))" in r.attrs["skipped"]


def test_a_product_in_every_basket_gives_rules_without_stray_warnings():
    import warnings

    tx = TX.assign(order_id=TX["customer_id"])
    every = pd.DataFrame({"customer_id": ["u1", "u2", "u3", "u4"], "order_id": ["u1", "u2", "u3", "u4"],
                          "product": "bag", "timestamp": pd.Timestamp("2024-01-01")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = association_rules(pd.concat([tx, every], ignore_index=True), basket="order_id", min_support=0.2)
    assert (r["consequent"] == "bag").any() and np.allclose(r.loc[r["consequent"] == "bag", "confidence"], 1.0)
