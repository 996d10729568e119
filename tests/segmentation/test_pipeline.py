"""Tests of crm_analysis.segmentation.pipeline (the segments.parquet step)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.segmentation import (
    LAPSED_SEGMENTS,
    NEW_CUSTOMER_INTENTS,
    SEGMENTATION_HEADLINES,
    SEGMENTS_COLUMNS,
    SegmentationParams,
    run_segmentation,
    segment_customers,
)

ARCHITECTURE_COLUMNS = ["customer_id", "r_score", "f_score", "m_score", "segment", "value_tier", "cluster", "action"]


def test_one_row_per_customer(clv_table):
    seg = segment_customers(clv_table, SegmentationParams(n_clusters=3, cost_rate=0.6))
    assert list(seg.columns) == ARCHITECTURE_COLUMNS == list(SEGMENTS_COLUMNS)
    assert len(seg) == len(clv_table)
    assert seg["customer_id"].is_unique
    assert set(seg["customer_id"]) == set(clv_table["customer_id"])
    assert seg.notna().all().all()
    assert seg[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert seg["cluster"].between(0, 2).all()


def test_result_parts_consistent(clv_table):
    res = run_segmentation(clv_table.sample(frac=1.0, random_state=1), SegmentationParams(cost_rate=0.0), k_range=(2, 4),
                           n_stability=2)
    t = res.summary.table
    assert t["customers"].sum() == len(clv_table)
    assert t["share"].sum() == pytest.approx(1.0)
    assert t["clv_share"].sum() == pytest.approx(1.0)
    # every customer's action is the customer's own, and a segment's action is its most common one
    own = res.summary.customers.set_index("customer_id")["action"]
    seg = res.segments.set_index("customer_id")
    assert (seg["action"] == own.reindex(seg.index)).all()
    mode = seg.groupby("segment")["action"].agg(lambda a: a.value_counts().max() / len(a))
    assert (t["action_share"] == mode.reindex(t.index)).all()
    assert "mean_r_score" in t.columns
    h = res.headlines()
    assert set(h) == set(SEGMENTATION_HEADLINES)
    assert h["n_segments"] == res.segments["segment"].nunique()
    assert 0 < h["top20_revenue_share"] <= 1
    assert h["onboarding_customers"] == int(res.customers["intent"].isin(list(NEW_CUSTOMER_INTENTS)).sum())


def test_chain_of_clv_and_segmentation_never_onboards_lapsed_customers():
    """From transactions: the CLV table's P(alive) model is named in the actions, and no customer of a
    lapsed segment or more than 365 days since the last purchase is sent to onboarding."""
    import warnings

    from crm_analysis.clv import customer_value_table
    from crm_analysis.synthetic import generate_transactions

    tx = generate_transactions(n_customers=800, start="2023-01-01", end="2024-12-31",
                               acquisition_end="2024-12-31", seed=4).transactions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clv = customer_value_table(tx, observation_end="2024-12-31", horizon=4)
    res = run_segmentation(clv, SegmentationParams(n_clusters=2, cost_rate=0.0), n_stability=1)
    c = res.customers
    assert (c["p_alive_model"] == "BG/NBD").all() and res.headlines()["p_alive_model"] == "BG/NBD"
    onboard = c["intent"].isin(list(NEW_CUSTOMER_INTENTS))
    assert onboard.any()
    assert not (onboard & c["segment"].isin(LAPSED_SEGMENTS)).any()
    assert (c.loc[onboard, "days_since_last"] <= 365).all()
    days = (clv["T"] - clv["recency"]).to_numpy() * 7
    np.testing.assert_allclose(c["days_since_last"].to_numpy(), days)


def test_bad_input(clv_table):
    with pytest.raises(ValueError, match="duplicated"):
        segment_customers(pd.concat([clv_table, clv_table.head(3)]), SegmentationParams(n_clusters=2))
    with pytest.raises(ValueError, match="missing column"):
        segment_customers(clv_table.drop(columns="p_alive"), SegmentationParams(n_clusters=2))


def test_run_segmentation_takes_the_steps_parameters_object(clv_table):
    """n13 finding F6 / issue #13 pt 8: run_segmentation(clv, params), as every step's pipeline function. The
    former keyword form run_segmentation(clv, bins=..., ...) gives the same result with a FutureWarning naming the
    new form, and both forms have one set of defaults (SegmentationParams'; the keyword form had cost_rate 0.0)."""
    import inspect

    params = SegmentationParams(n_clusters=3, cost_rate=0.5, lapsed_days=200.0, seed=3)
    new = run_segmentation(clv_table, params, n_stability=2)
    with pytest.warns(FutureWarning, match=r"run_segmentation\(clv, n_clusters=3, cost_rate=0.5, seed=3\) is "
                                           r"deprecated: use run_segmentation\(clv, SegmentationParams\(n_clusters=3"):
        old = run_segmentation(clv_table, n_clusters=3, cost_rate=0.5, seed=3, lapse=params.lapse, n_stability=2)
    pd.testing.assert_frame_equal(new.segments, old.segments)
    pd.testing.assert_frame_equal(new.customers, old.customers)
    assert new.clustering.n_clusters_ == 3
    # one set of defaults: no params is SegmentationParams() (cost_rate 0.6), with or without keywords
    default = run_segmentation(clv_table, n_stability=2)
    explicit = run_segmentation(clv_table, SegmentationParams(), n_stability=2)
    pd.testing.assert_frame_equal(default.customers, explicit.customers)
    with pytest.warns(FutureWarning):
        keyword = run_segmentation(clv_table, seed=42, n_stability=2)
    pd.testing.assert_frame_equal(keyword.customers, explicit.customers)
    assert np.allclose(explicit.customers["current_profit"], 0.4 * explicit.customers["revenue"])  # cost_rate 0.6
    # the real signature (no rewritten __signature__): clv, params, then keyword-only options
    sig = inspect.signature(run_segmentation)
    assert list(sig.parameters)[:2] == ["clv_table", "params"] and "bins" not in sig.parameters
    with pytest.raises(TypeError, match=r"run_segmentation got \['bins', 'seed'\] both in params and as keywords"):
        run_segmentation(clv_table, params, seed=1, bins=4)
    with pytest.raises(TypeError, match="run_segmentation: got an unexpected keyword argument .bns.; its options are"):
        run_segmentation(clv_table, params, bns=4)
    with pytest.raises(TypeError, match="params must be a SegmentationParams, got dict"):
        run_segmentation(clv_table, {"bins": 4})
    with pytest.raises(ValueError, match="bins must be an integer of at least 2"), pytest.warns(FutureWarning):
        run_segmentation(clv_table, bins=1)
