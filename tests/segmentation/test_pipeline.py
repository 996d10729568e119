"""Tests of crm_analysis.segmentation.pipeline (the segments.parquet step)."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_analysis.segmentation import SEGMENTS_COLUMNS, run_segmentation, segment_customers

ARCHITECTURE_COLUMNS = ["customer_id", "r_score", "f_score", "m_score", "segment", "value_tier", "cluster", "action"]


def test_one_row_per_customer(clv_table):
    seg = segment_customers(clv_table, n_clusters=3, cost_rate=0.6)
    assert list(seg.columns) == ARCHITECTURE_COLUMNS == list(SEGMENTS_COLUMNS)
    assert len(seg) == len(clv_table)
    assert seg["customer_id"].is_unique
    assert set(seg["customer_id"]) == set(clv_table["customer_id"])
    assert seg.notna().all().all()
    assert seg[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert seg["cluster"].between(0, 2).all()


def test_result_parts_consistent(clv_table):
    res = run_segmentation(clv_table.sample(frac=1.0, random_state=1), k_range=(2, 4), n_stability=2)
    t = res.summary.table
    assert t["customers"].sum() == len(clv_table)
    assert t["share"].sum() == pytest.approx(1.0)
    assert t["clv_share"].sum() == pytest.approx(1.0)
    # every customer's action is its segment's action
    merged = res.segments.merge(t[["action"]], left_on="segment", right_index=True, suffixes=("", "_seg"))
    assert (merged["action"] == merged["action_seg"]).all()
    assert "mean_r_score" in t.columns
    h = res.headlines()
    assert h["n_segments"] == res.segments["segment"].nunique()
    assert 0 < h["top20_revenue_share"] <= 1


def test_bad_input(clv_table):
    with pytest.raises(ValueError, match="duplicated"):
        segment_customers(pd.concat([clv_table, clv_table.head(3)]), n_clusters=2)
    with pytest.raises(ValueError, match="missing column"):
        segment_customers(clv_table.drop(columns="p_alive"), n_clusters=2)
