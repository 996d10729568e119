"""Tests of crm_analysis.segmentation.rfm_scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.segmentation import (
    SegmentRule,
    default_segment_rules,
    rfm_scores,
    rfm_segments,
    validate_segment_rules,
)
from crm_analysis.segmentation._common import SegmentationInputError
from crm_analysis.exceptions import InputError


@pytest.mark.parametrize("bins", [2, 3, 5, 10])
def test_scores_in_range_and_equal_sized(clv_table, bins):
    s = rfm_scores(clv_table, bins=bins)
    n = len(clv_table)
    for col in ("r_score", "f_score", "m_score", "fm_score"):
        assert s[col].between(1, bins).all()
    for col in ("r_score", "f_score", "m_score"):
        counts = s[col].value_counts()
        # equal-size bins: every level used, sizes differ by at most one
        assert len(counts) == bins
        assert counts.max() - counts.min() <= 1
        assert counts.sum() == n


def test_heavily_tied_frequencies_do_not_crash_and_are_deterministic(make_clv):
    t = make_clv(n=500, seed=3, zero_share=0.95)
    assert (t["frequency"] == 0).mean() > 0.9
    # pandas.qcut cannot make quintiles of these values
    with pytest.raises(ValueError):
        pd.qcut(t["frequency"], 5)
    a = rfm_scores(t).set_index("customer_id")
    shuffled = t.sample(frac=1.0, random_state=11)
    b = rfm_scores(shuffled).set_index("customer_id").loc[a.index]
    pd.testing.assert_frame_equal(a, b)
    # ties split by customer id: among equal frequencies, a larger id never has a lower score
    zero = a[a["frequency"] == 0].sort_index()
    assert zero["f_score"].is_monotonic_increasing


def test_all_values_equal():
    t = pd.DataFrame({"customer_id": list("edcba"), "frequency": 0.0, "recency": 0.0, "T": 10.0,
                      "monetary_value": 0.0})
    s = rfm_scores(t, bins=5).set_index("customer_id")
    # ties broken by id: a < b < ... get scores 1..5
    assert s.loc[list("abcde"), "f_score"].tolist() == [1, 2, 3, 4, 5]


def test_recency_reversed():
    # days since last purchase = T - recency: e is the most recent, a the least
    t = pd.DataFrame({
        "customer_id": list("abcde"),
        "T": [100.0, 100.0, 100.0, 100.0, 100.0],
        "recency": [0.0, 20.0, 50.0, 70.0, 99.0],
        "frequency": [0.0, 1, 2, 3, 4],
        "monetary_value": [0.0, 10, 20, 30, 40],
    })
    s = rfm_scores(t, bins=5).set_index("customer_id")
    assert s["r_score"].tolist() == [1, 2, 3, 4, 5]
    assert s.loc["e", "days_since_last"] == 1.0
    # recency column already in days since the last purchase
    t2 = t.assign(recency=100.0 - t["recency"])
    s2 = rfm_scores(t2, bins=5, T_col=None).set_index("customer_id")
    assert s2["r_score"].tolist() == [1, 2, 3, 4, 5]


def test_higher_values_never_get_lower_scores(clv_table):
    s = rfm_scores(clv_table)
    for value, score in (("frequency", "f_score"), ("monetary", "m_score")):
        order = s.sort_values(value, kind="stable")
        # grouped by value, the max score of a lower value <= min score of a higher value
        g = order.groupby(value)[score].agg(["min", "max"])
        assert (g["max"].to_numpy()[:-1] <= g["min"].to_numpy()[1:]).all()
    g = s.groupby("days_since_last")["r_score"].agg(["min", "max"])
    assert (g["min"].to_numpy()[:-1] >= g["max"].to_numpy()[1:]).all()


def test_bad_input_raises(clv_table):
    with pytest.raises(SegmentationInputError, match="missing column"):
        rfm_scores(clv_table.drop(columns="T"))
    with pytest.raises(SegmentationInputError, match="NaN"):
        rfm_scores(clv_table.assign(frequency=np.nan))
    with pytest.raises(SegmentationInputError, match="duplicated"):
        rfm_scores(pd.concat([clv_table, clv_table.head(2)]))
    with pytest.raises(SegmentationInputError, match="recency > T"):
        rfm_scores(clv_table.assign(recency=clv_table["T"] + 1))


def test_id_from_index(clv_table):
    a = rfm_scores(clv_table)
    b = rfm_scores(clv_table.set_index("customer_id"))
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------ segments

@settings(max_examples=60, deadline=None)
@given(
    bins=st.integers(2, 10),
    data=st.data(),
)
def test_every_customer_in_exactly_one_segment(bins, data):
    n = data.draw(st.integers(1, 60))
    scores = pd.DataFrame({
        "r_score": data.draw(st.lists(st.integers(1, bins), min_size=n, max_size=n)),
        "f_score": data.draw(st.lists(st.integers(1, bins), min_size=n, max_size=n)),
        "m_score": data.draw(st.lists(st.integers(1, bins), min_size=n, max_size=n)),
    })
    rules = default_segment_rules(bins=bins)
    seg = rfm_segments(scores, bins=bins)
    assert seg.notna().all()
    # exactly one: the assigned segment is the FIRST rule that matches, computed independently
    fm = (scores["f_score"] + scores["m_score"] + 1) // 2
    for r, f, got in zip(scores["r_score"], fm, seg):
        first = next(x.name for x in rules if x.r[0] <= r <= x.r[1] and x.fm[0] <= f <= x.fm[1])
        assert got == first


def test_default_map_five_bins_cells():
    # the published-style map, read cell by cell (R, FM) -> name
    expected = {
        (5, 1): "New", (4, 1): "Promising", (3, 1): "About to Sleep", (2, 1): "Hibernating", (1, 1): "Lost",
        (5, 2): "Potential Loyalist", (4, 2): "Potential Loyalist", (3, 2): "Need Attention",
        (2, 2): "Hibernating", (1, 2): "Lost",
        (5, 3): "Loyal", (4, 3): "Loyal", (3, 3): "Loyal", (2, 3): "At Risk", (1, 3): "At Risk",
        (5, 4): "Champions", (4, 5): "Champions", (3, 4): "Loyal", (2, 5): "At Risk", (1, 4): "Can't Lose Them",
        (1, 5): "Can't Lose Them",
    }
    keys = list(expected)
    scores = pd.DataFrame({"r_score": [k[0] for k in keys], "fm_score": [k[1] for k in keys]})
    assert rfm_segments(scores).tolist() == [expected[k] for k in keys]
    # all eleven segments are reachable
    r, fm = np.meshgrid(range(1, 6), range(1, 6))
    allseg = rfm_segments(pd.DataFrame({"r_score": r.ravel(), "fm_score": fm.ravel()}))
    assert allseg.nunique() == 11


def test_custom_rules_validated():
    rules = [SegmentRule("Top", (4, 5), (4, 5)), SegmentRule("Recent", (4, 5), (1, 5))]
    with pytest.raises(ValueError, match=r"uncovered") as err:
        validate_segment_rules(rules, bins=5)
    # all 15 uncovered combinations are listed
    assert "15 of 25" in str(err.value)
    assert "(R=1, FM=1)" in str(err.value) and "(R=3, FM=5)" in str(err.value)
    scores = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [5, 1]})
    with pytest.raises(ValueError, match="uncovered"):
        rfm_segments(scores, rules=rules, bins=5)
    ok = rules + [SegmentRule("Rest", (1, 5), (1, 5))]
    assert rfm_segments(scores, rules=ok, bins=5).tolist() == ["Top", "Rest"]
    with pytest.raises(ValueError, match="low <= high"):
        SegmentRule("bad", (3, 2), (1, 5))


def test_scores_outside_bins_raise():
    with pytest.raises(ValueError, match="1..5"):
        rfm_segments(pd.DataFrame({"r_score": [6], "fm_score": [1]}), bins=5)


def test_monetary_value_col_and_the_deprecated_monetary_col(clv_table):
    """monetary_col names the transactions' amount in rfm_summary; here the summary's column is monetary_value_col."""
    t = clv_table.rename(columns={"monetary_value": "avg_spend"})
    a = rfm_scores(t, monetary_value_col="avg_spend")
    with pytest.warns(FutureWarning, match="monetary_value_col"):
        b = rfm_scores(t, monetary_col="avg_spend")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, rfm_scores(clv_table))
    # both names, two different columns: refused (fifth newcomer finding I8: the old name won silently)
    disagree = "deprecated monetary_col='avg_spend' disagree; give monetary_value_col only"
    with pytest.warns(FutureWarning), pytest.raises(InputError, match=disagree):
        rfm_scores(t.assign(other=1.0), monetary_col="avg_spend", monetary_value_col="other")
