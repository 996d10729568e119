"""Findings: computed from the headline figures (a change of a figure changes the sentence), 3-5 per report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis.presentation import FINDERS, Units, findings

HEADS = {
    "data_quality": {"customers": 3000, "transactions": 8566, "revenue": 302778.53, "bookings": 33509,
                     "rows_dropped": 680},
    "rfm_clv": {"total_clv": 19992.4, "mean_clv": 6.66, "top20_clv_share": 0.79, "mean_p_alive": 0.72,
                "purchase_model": "BG/NBD", "purchase_models_compared": "BG/NBD, Pareto/NBD",
                "purchase_model_holdout_total_error_pct": 6.78},
    "segmentation": {"top20_revenue_share": 0.6359, "customers_for_80pct_revenue": 0.378, "n_segments": 7,
                     "largest_segment": "Champions", "lapsed_customer_share": 0.765},
    "idic": {"total_profit": 92978.6, "unprofitable_customer_share": 0.0647, "returned_revenue_share": 0.074,
             "recommendation_hit_rate": 0.69, "popularity_hit_rate": 0.48, "campaign_eligible_share": 0.52},
    "seasonality": {"strongest_seasonal_cycle": "365 days", "forecast_backtest_coverage": 0.957,
                    "forecast_backtest_mape": 9.32, "retail_strongest_cycle": "7 days", "retail_peak_weekday": "Thu",
                    "retail_peak_weekday_share": 0.211},
    "yield": {"revenue_uplift_vs_fcfs": 0.4, "nights_over_capacity": 12, "overbooking_limit": 126,
              "group_decision_peak": "reject", "group_decision_low": "accept", "group_break_even_rate_peak": 96.2},
    "booking_horizon": {"cancel_rate": 0.2902, "cancel_auc": 0.6555, "pickup_mae_7": 2.7882, "limit_service_90": 162,
                        "limit_service_0": 120, "replay_uplift_pct": 0.0, "shows_mae_7": 2.3364,
                        "dp_vs_fcfs_pct": 0.0},
}


@pytest.mark.parametrize("step", sorted(FINDERS))
def test_three_to_five_plain_findings_per_step(step: str) -> None:
    out = findings(step, HEADS[step], units=Units("GBP"))
    assert 3 <= len(out) <= 5, out
    for sentence in out:
        assert sentence.endswith(".") and "_" not in sentence and "None" not in sentence


def test_money_and_shares_in_reader_units() -> None:
    dq = findings("00_data_quality", HEADS["data_quality"], units=Units("GBP"))
    assert dq[0] == "3,000 customers bought for GBP 302,779 in total after cleaning (8,566 transaction lines)."
    assert "21.1% of the retail revenue" in " ".join(findings("seasonality", HEADS["seasonality"]))


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_findings_follow_the_figures(share: float, lapsed: float) -> None:
    out = findings("segmentation", {"top20_revenue_share": share, "lapsed_customer_share": lapsed})
    assert len(out) == 2
    # the figure in the sentence is the headline read back to 0.05 percentage points
    shown = float(out[0].split(" bring ")[1].split("%")[0])
    assert abs(shown - 100 * share) <= 0.05 + 1e-9
    assert abs(float(out[1].split("%")[0]) - 100 * lapsed) <= 0.05 + 1e-9


def test_missing_figures_leave_findings_out_and_accept_headlines_json(tmp_path: Path) -> None:
    assert findings("segmentation", {}) == [] and findings("unknown_step", {"x": 1}) == []
    raw = {k: {"value": v, "label": k} for k, v in HEADS["yield"].items()}
    assert findings("yield", json.loads(json.dumps(raw))) == findings("yield", HEADS["yield"])


def test_every_step_of_the_chain_has_findings() -> None:
    """Issue 17 (n17 F5): the booking-horizon report had no findings (and the index showed none for it)."""
    from crm_analysis.steps import STEPS

    names = {getattr(s, "name", s) for s in (STEPS.values() if isinstance(STEPS, dict) else STEPS)}
    assert names <= set(FINDERS), sorted(names - set(FINDERS))


def test_booking_horizon_findings_follow_the_figures() -> None:
    out = findings("45_booking_horizon", HEADS["booking_horizon"])
    assert out[0].startswith("29.0% of the test bookings were cancelled") and "0.66 (AUC" in out[0]
    assert "by 2.8 rooms" in out[1] and "Up to 162 bookings can be accepted 90 days out, falling to 120" in out[2]
    assert "+1.25%" in findings("booking_horizon", {**HEADS["booking_horizon"], "replay_uplift_pct": 1.25})[3]
    assert "no control earns more" in findings("booking_horizon", HEADS["booking_horizon"])[3]  # 0.0: none beats FCFS


def test_no_profit_is_claimed_when_no_cost_is_configured() -> None:
    """Issue 17 (n17 F12): with no margin and no cost to serve, 'profit after the cost to serve' was the revenue."""
    heads = {**HEADS["idic"], "total_profit": 6384195.0, "unprofitable_customer_share": 0.0, "costs_configured": False}
    out = findings("idic", heads, units=Units("JPY"))
    assert "profit after the cost" not in " ".join(out) and "cost more than they bring" not in " ".join(out)
    assert out[0].startswith("The customers brought JPY 6,384,195 of net revenue; no margin or cost to serve")
    with_costs = findings("idic", {**heads, "costs_configured": True})
    assert "profit after the cost to serve" in with_costs[0] and "cost more than they bring" in with_costs[1]


@pytest.mark.parametrize(("strength", "words"), [(0.0, "shows no pronounced seasonal cycle"), (0.09, "no pronounced"),
                                                 (0.2, "has a weak weekly (7-day) cycle (seasonal strength 0.20)"),
                                                 (0.61, "follows mainly a weekly (7-day) cycle (seasonal strength 0.61)")])
def test_a_cycle_is_called_by_its_seasonal_strength(strength: float, words: str) -> None:
    """Issue 17 (n17 F13): "Retail revenue follows mainly a weekly (7-day) cycle." at seasonal strength 0.00."""
    out = findings("seasonality", {"retail_strongest_cycle": "7 days", "retail_seasonal_strength_7": strength,
                                   "strongest_seasonal_cycle": "7 days", "seasonal_strength_7": strength})
    assert words in out[0] and words in out[1], out
    if strength < 0.4:
        assert "follows mainly" not in " ".join(out)


def test_idic_contact_finding_says_when_the_uplift_model_is_no_better_than_random() -> None:
    """With the overall-uplift fallback (the model's Qini interval includes 0) the sentence gives the reason."""
    base = {**HEADS["idic"], "campaign_eligible_share": 0.0, "campaign_model_beats_random": False}
    text = " ".join(findings("idic", base))
    assert "does not rank customers better than random" in text and "pay for no customer" in text
    text = " ".join(findings("idic", {**base, "campaign_eligible_share": 1.0}))
    assert "pay for every customer" in text
    text = " ".join(findings("idic", {**base, "campaign_model_beats_random": True, "campaign_eligible_share": 0.52}))
    assert "Contacting is expected to pay for 52.0% of the customers" in text and "random" not in text


def test_a_forced_purchase_model_is_not_called_the_best() -> None:
    """A purchase model forced by the configuration (e.g. a boundary limit) was reported as the one that
    'forecast the held-out purchases best'; the finding now says it is forced."""
    heads = {**HEADS["rfm_clv"], "purchase_model": "NBD (no dropout)", "purchase_model_chosen_by": "configuration"}
    text = " ".join(findings("rfm_clv", heads, units=Units("GBP")))
    assert "NBD (no dropout) is used because the configuration forces it" in text
    assert "best" not in text
    auto = " ".join(findings("rfm_clv", {**HEADS["rfm_clv"], "purchase_model_chosen_by": "lowest holdout_rmse"}, units=Units("GBP")))
    assert "BG/NBD forecast the held-out purchases best" in auto


def test_the_holdout_winner_is_named_as_compared_not_by_its_whole_period_limit() -> None:
    """The holdout scores the calibration fit; the whole-period fit can sit at a limit the calibration fit did not
    reach. The finding named the holdout winner by the whole-period fit's limit ("Pareto/NBD at its common-dropout
    limit forecast the held-out purchases best"); now it names the compared model and the whole-period fit apart."""
    heads = {**HEADS["rfm_clv"], "purchase_model": "Pareto/NBD at its common-dropout limit",
             "purchase_model_name": "Pareto/NBD", "purchase_model_chosen_by": "lowest holdout_rmse"}
    text = " ".join(findings("rfm_clv", heads, units=Units("GBP")))
    assert "Pareto/NBD forecast the held-out purchases best among BG/NBD, Pareto/NBD; its total was off by 6.8%" in text
    assert "P(alive) and CLV come from its whole-period fit, Pareto/NBD at its common-dropout limit." in text
    same = " ".join(findings("rfm_clv", {**heads, "purchase_model": "Pareto/NBD"}, units=Units("GBP")))
    assert "whole-period" not in same and "Pareto/NBD forecast the held-out purchases best" in same


def test_a_tie_on_the_holdout_is_not_called_best() -> None:
    """findings_12c B1 (Online Retail: all three models at the same NBD limit, identical forecasts): the finding said
    'BG/NBD forecast the held-out purchases best' while the page said 'tie ... No model is better here'."""
    heads = {**HEADS["rfm_clv"], "purchase_model": "BG/NBD at its no-dropout limit (NBD)", "purchase_model_name": "BG/NBD",
             "purchase_models_tied": "BG/NBD, MBG/NBD, Pareto/NBD", "purchase_model_holdout_total_error_pct": -24.5}
    text = " ".join(findings("rfm_clv", heads, units=Units("GBP")))
    assert "best" not in text
    assert ("BG/NBD, MBG/NBD, Pareto/NBD forecast the held-out purchases equally well (total off by 24.5%); BG/NBD is "
            "used by the tie rule (fewest parameters); P(alive) and CLV come from its whole-period fit, BG/NBD at its "
            "no-dropout limit (NBD).") in text
