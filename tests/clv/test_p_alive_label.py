"""The P(alive) label a reader sees names the limit a purchase model's fit sits at (issue #12 polish, point 1).

A BG/NBD fitted at its no-dropout limit (NBD data: nobody drops out) or at its common-dropout limit (everyone has
the same dropout probability) gives P(alive) of that limit, not of the BG/NBD's heterogeneous dropout. The
``p_alive_model`` column of ``clv.parquet``, ``clv_params.json`` and the segmentation step's customers and
action table say so ("BG/NBD at its common-dropout limit"); ``CLVAnalysis.model_label`` stays "BG/NBD" (a key
of tables and dictionaries). The data are generated here (:mod:`clv_transactions`) and run through the rfm_clv
and segmentation steps, not only the model.
"""

from __future__ import annotations

import warnings

import pytest
from clv_transactions import AS_OF, btyd_transactions

from crm_analysis.clv import RfmClvParams, run_rfm_clv
from crm_analysis.segmentation import SegmentationParams, run_segmentation, segment_summary


def _run(dropout, seed):
    params = RfmClvParams(as_of=AS_OF, calibration_end="2024-06-30", purchase_model="bgnbd", fit_paretonbd=False,
                          interval_draws=50, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the boundary and spend warnings are the step's notes
        return run_rfm_clv(btyd_transactions(600 if dropout else 400, seed, dropout=dropout), params)


@pytest.mark.parametrize("dropout, seed, kind, words", [
    (None, 11, "no_dropout", "at its no-dropout limit (NBD)"),  # NBD data: nobody drops out
    ((1e6, 4e6), 13, "common_dropout", "at its common-dropout limit"),  # dropout probability 0.2 for everyone
])
def test_a_fit_at_a_limit_is_named_so_from_the_value_table_to_the_actions(dropout, seed, kind, words):
    res = _run(dropout, seed)
    assert res.analysis.transaction_model.boundary_kind() == kind  # the data do fit to that limit
    label = f"BG/NBD {words}"
    assert res.analysis.model_label == "BG/NBD"  # the key stays the model's name
    assert res.analysis.p_alive_label == label
    assert set(res.clv["p_alive_model"]) == {label}
    assert res.clv_params()["p_alive_model"] == label
    # the hand-over file holds the limit model itself (findings_12z F5: the common-dropout limit's p was only in the
    # HTML, so the chosen model could not be rebuilt from clv_params.json)
    for period in ("calibration", "whole_period"):
        fit = res.clv_params()[period]["bgnbd"]
        limit = fit["limit_model"]
        assert fit["boundary"] == kind and limit["model"] in {"NBDModel", "GeometricNBDModel"}
        assert set(limit["params"]) == ({"r", "alpha"} if kind == "no_dropout" else {"r", "alpha", "p"})
        assert limit["log_likelihood"] == pytest.approx(fit["log_likelihood"], abs=1e-9)
    seg = run_segmentation(res.clv, SegmentationParams(n_clusters=2, cost_rate=0.0), n_stability=1)
    assert seg.summary.p_alive_model == label and seg.headlines()["p_alive_model"] == label
    assert set(seg.customers["p_alive_model"]) == {label}
    # a value table without the column (e.g. an older file): the label travels in its attrs
    no_col = res.clv.drop(columns="p_alive_model").assign(segment="Champions")
    no_col.attrs = dict(res.clv.attrs)
    assert segment_summary(no_col, mean_cols=()).p_alive_model == label


def test_an_interior_fit_keeps_the_plain_label():
    res = _run((0.6, 3.0), 11)
    assert res.analysis.transaction_model.boundary_kind() is None
    assert res.analysis.p_alive_label == res.analysis.model_label == "BG/NBD"
    assert set(res.clv["p_alive_model"]) == {"BG/NBD"}
