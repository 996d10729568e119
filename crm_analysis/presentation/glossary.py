"""One glossary: raw column / headline / rule names of the artefacts -> labels for readers.

The artefacts (Parquet, CSV, JSON) keep their raw names (``p_alive``,
``monetary_value``, ``retail_peak_weekday_share``); what a reader sees uses
the label, with the unit in the header (``"Revenue (EUR)"``, ``"Share of
revenue (%)"``). :func:`label` is the one place a raw name becomes a label;
:func:`glossary_table` / :func:`glossary_html` render the glossary as a page.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import html
import re
from dataclasses import dataclass

import pandas as pd

from .units import DEFAULT_UNITS, Units

__all__ = ["Term", "GLOSSARY", "KINDS", "RAW_NAME_COLUMN", "term", "label", "humanize", "relabel_text",
           "glossary_table", "glossary_html", "raw_names", "type_label"]

#: A table column of this name lists raw names on purpose (a schema): shown as code, not relabelled.
RAW_NAME_COLUMN = "name in the data files"

#: How a figure is shown: money (currency), count (whole number), share (a fraction shown as %),
#: percent (already in %), number, index (100 = average), days, periods, date, text.
KINDS = ("money", "count", "share", "percent", "number", "index", "days", "periods", "date", "text")


@dataclass(frozen=True)
class Term:
    """A glossary entry.

    Attributes
    ----------
    label : str
        What a reader sees (no unit).
    kind : str
        One of :data:`KINDS`; gives the unit in headers and the format of values.
    meaning : str
        One sentence for the glossary page.
    """

    label: str
    kind: str = "number"
    meaning: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"glossary term {self.label!r}: unknown kind {self.kind!r}; expected one of {KINDS}")


def _t(label: str, kind: str = "number", meaning: str = "") -> Term:
    return Term(label, kind, meaning)


#: Raw name -> :class:`Term`. Columns of the artefacts, headline keys, cleaning rules and model names.
GLOSSARY: dict[str, Term] = {
    # canonical schemas
    "customer_id": _t("Customer", "text", "Customer key."),
    "timestamp": _t("Time of purchase", "date"),
    "amount": _t("Amount", "money", "Monetary value of a line (quantity x unit price)."),
    "order_id": _t("Order", "text", "Order or invoice number."),
    "quantity": _t("Quantity", "count"),
    "unit_price": _t("Unit price", "money"),
    "booking_id": _t("Booking", "text"),
    "booking_date": _t("Booking date", "date"),
    "arrival_date": _t("Arrival date", "date"),
    "cancellation_date": _t("Cancellation date", "date"),
    "fare_class": _t("Fare class", "text", "Price class of a booking (defaults to the market segment)."),
    "no_show": _t("No-show", "count", "Bookings whose guest did not arrive."),
    # cleaning
    "rows_remaining": _t("Rows remaining", "count"),
    "observation_start": _t("Observation start", "date"),
    "observation_end": _t("Observation end", "date"),
    "before_observation_start": _t("Before the observation start", "text"),
    "after_observation_end": _t("After the observation end", "text"),
    "missing_timestamp_or_amount": _t("Missing time or amount", "text"),
    "nonfinite_amount": _t("Amount not a number", "text"),
    "missing_customer_id": _t("No customer id", "text"),
    "return_or_cancellation": _t("Return or cancellation", "text"),
    "nonpositive_amount": _t("Amount zero or negative", "text"),
    "exact_duplicate": _t("Exact duplicate", "text"),
    "missing_values": _t("Missing values", "text"),
    "nonfinite_rate": _t("Rate not a number", "text"),
    "duplicate_booking_id": _t("Duplicate booking id", "text"),
    "booking_after_arrival": _t("Booked after arrival", "text"),
    "zero_nights": _t("Zero nights", "text"),
    "nonpositive_rate": _t("Rate zero or negative", "text"),
    "totals_row": _t("Totals row", "text", "A totals label (Total, Grand total, Summe ...) as customer or order id."),
    "sign_mismatch": _t("Quantity and amount of opposite signs", "text"),
    "inconsistent_cancellation": _t("Inconsistent cancellation", "text",
                                    "Cancellation date before the booking, or on a booking not cancelled."),
    "as_of": _t("Observation end (as of)", "date", "End of the observation period of the run."),
    "include_cancelled": _t("Cancelled bookings included", "text"),
    "rows_dropped": _t("Rows dropped in cleaning", "count"),
    "amount in": _t("Amount in", "money", "Money of the rows before cleaning."),
    "amount out": _t("Amount out", "money", "Money of the rows after cleaning."),
    "mean revenue per open day": _t("Mean revenue per open day", "money"),
    # RFM / CLV
    "frequency": _t("Repeat purchases", "count", "Number of repeat purchase days (same-day purchases merged)."),
    "recency": _t("Recency", "periods", "Time from the first to the last purchase."),
    "T": _t("Customer age", "periods", "Time from the first purchase to the end of the observation period."),
    "monetary_value": _t("Mean repeat purchase value", "money",
                         "Mean value of the repeat purchases (0 without repeat purchase)."),
    "revenue": _t("Revenue", "money"),
    "p_alive": _t("P(alive)", "share", "Probability that the customer is still active (purchase model)."),
    "expected_purchases": _t("Expected purchases", "number", "Expected purchases over the CLV horizon."),
    "expected_spend": _t("Expected spend per purchase", "money"),
    "clv": _t("CLV", "money", "Customer lifetime value: discounted expected margin over the horizon."),
    "p_alive_model": _t("Purchase model", "text", "Purchase model that gives P(alive) and CLV."),
    "n_customers": _t("Customers", "count"),
    "holdout_rmse": _t("Holdout RMSE", "number", "Root mean squared error of the holdout purchases per customer."),
    "total_clv": _t("Total CLV", "money"),
    "mean_clv": _t("Mean CLV per customer", "money"),
    "total_clv_lower": _t("Total CLV, lower end of the prediction interval", "money"),
    "total_clv_upper": _t("Total CLV, upper end of the prediction interval", "money"),
    "top20_clv_share": _t("Share of CLV from the top 20% of customers", "share"),
    "bgnbd_holdout_mae": _t("BG/NBD conditional-expectations MAE", "number"),
    "bgnbd_dropout_probability": _t("BG/NBD dropout probability after a repeat purchase", "share"),
    "mean_p_alive": _t("Mean P(alive)", "share"),
    "spend_nonpositive_customers": _t("Repeat buyers with mean purchase value of 0 or less", "count"),
    "purchase_model": _t("Purchase model", "text"),
    "purchase_model_name": _t("Purchase model chosen on the holdout", "text"),
    "purchase_model_chosen_by": _t("How the purchase model was chosen", "text"),
    "purchase_model_holdout_rmse": _t("Holdout RMSE of the purchase model", "number"),
    "purchase_model_holdout_total_error_pct": _t("Error of the total holdout purchases", "percent"),
    "purchase_models_compared": _t("Purchase models compared", "text"),
    "purchase_models_tied": _t("Purchase models tied on the holdout", "text"),
    "customers": _t("Customers", "count"),
    "transactions": _t("Transaction lines", "count"),
    "bookings": _t("Bookings", "count"),
    # segmentation
    "segment": _t("Segment", "text"),
    "r_score": _t("Recency score", "number", "1 (longest ago) to 5 (most recent)."),
    "f_score": _t("Frequency score", "number"),
    "m_score": _t("Monetary score", "number"),
    "fm_score": _t("Frequency-monetary score", "number"),
    "value_tier": _t("Value tier", "text"),
    "cluster": _t("Cluster", "text"),
    "action": _t("Action", "text"),
    "days_since_last": _t("Days since the last purchase", "days"),
    "median_days_since_last": _t("Median days since the last purchase", "days"),
    "age_days": _t("Customer age", "days"),
    "revenue_share": _t("Share of revenue", "share"),
    "clv_share": _t("Share of CLV", "share"),
    "revenue_index": _t("Revenue index", "index", "Mean revenue of the customer or group / mean of all customers (1 = average)."),
    "clv_index": _t("CLV index", "index", "CLV of the customer or group / mean of all customers (1 = average)."),
    "profit_index": _t("Profit index", "index", "Profit of the customer or group / mean of all customers (1 = average)."),
    "lapsed_share": _t("Share lapsed", "share"),
    "lapsed_p_alive": _t("Lapsed by P(alive)", "count"),
    "segment_lapsed_reason": _t("Why the segment counts as lapsed", "text"),
    "action_share": _t("Share with this action", "share"),
    "current_total": _t("Current total", "money"),
    "future_total": _t("Future total", "money"),
    "current_mean": _t("Current mean", "money"),
    "future_mean": _t("Future mean", "money"),
    "top20_revenue_share": _t("Share of revenue from the top 20% of customers", "share"),
    "gini_revenue": _t("Gini coefficient of revenue", "number"),
    "customers_for_80pct_revenue": _t("Share of customers producing 80% of revenue", "share"),
    "n_segments": _t("RFM segments", "count"),
    "largest_segment": _t("Largest segment", "text"),
    "n_clusters": _t("Behavioural clusters", "count"),
    "cluster_stability_ari": _t("Cluster stability (adjusted Rand index)", "number"),
    "lapsed_customer_share": _t("Share of customers lapsed", "share"),
    "onboarding_customers": _t("Customers given an onboarding action", "count"),
    # profitability, campaigns, recommendations
    "gross_revenue": _t("Gross revenue", "money"),
    "net_revenue": _t("Net revenue", "money"),
    "returned_revenue": _t("Returned revenue", "money"),
    "returned_lines": _t("Returned lines", "count"),
    "return_rate": _t("Return rate", "share"),
    "cost_to_serve": _t("Cost to serve", "money"),
    "profit": _t("Profit", "money"),
    "profit_share": _t("Share of profit", "share"),
    "cumulative_profit_share": _t("Cumulative share of profit", "share"),
    "mean_profit": _t("Mean profit", "money"),
    "min_profit": _t("Lowest profit", "money"),
    "max_profit": _t("Highest profit", "money"),
    "profit_decile": _t("Profit decile", "number"),
    "total_profit": _t("Total customer profit (net revenue less the configured cost to serve)", "money"),
    "costs_configured": _t("Margin and cost to serve configured", "text",
                           "Without them a customer's profit is the net revenue (no margin, no cost to serve)."),
    "unprofitable_customer_share": _t("Share of customers who cost more than they bring", "share"),
    "whale_peak_share": _t("Whale curve peak (share of total profit)", "share"),
    "top20_profit_share": _t("Share of profit from the top 20% of customers", "share"),
    "bottom20_profit_share": _t("Profit of the bottom 20% of customers (share of total)", "share"),
    "returned_revenue_share": _t("Share of revenue returned", "share"),
    "rate_treated": _t("Response rate, contacted", "share"),
    "rate_control": _t("Response rate, not contacted", "share"),
    "mean_treated": _t("Mean per customer, contacted", "money"),
    "mean_control": _t("Mean per customer, not contacted", "money"),
    "relative_uplift": _t("Relative uplift", "share"),
    "campaign_uplift": _t("Campaign uplift of the response rate", "share"),
    "qini_coefficient": _t("Qini coefficient", "number"),
    "campaign_eligible_share": _t("Share of customers worth contacting", "share"),
    "campaign_model_beats_random": _t("Uplift model better than random", "text",
                                      "Whether the best uplift model's held-out Qini interval lies above 0; if not, "
                                      "every customer gets the campaign's overall uplift."),
    "hit_rate": _t("Hit rate", "share"),
    "hit_rate_lift": _t("Hit rate lift over popularity", "number"),
    "recommendation_hit_rate": _t("Next-best products: hit rate", "share"),
    "popularity_hit_rate": _t("Popularity baseline: hit rate", "share"),
    "item_similarity": _t("Item similarity", "text"),
    "antecedent_support": _t("Support of the basket", "share"),
    "consequent_support": _t("Support of the product", "share"),
    "baskets_in_segment": _t("Baskets in the segment", "count"),
    # seasonality and forecasts
    "seasonal_naive": _t("Seasonal naive", "text", "Forecast = the value one season earlier."),
    "share_peak": _t("Share on peak days", "share"),
    "share_trough": _t("Share on trough days", "share"),
    "share_all": _t("Share on all days", "share"),
    "lift_peak": _t("Lift on peak days", "number"),
    "lift_trough": _t("Lift on trough days", "number"),
    "mean_peak": _t("Mean on peak days", "number"),
    "mean_trough": _t("Mean on trough days", "number"),
    "std_error": _t("Std. error", "number"),
    "ci_lower": _t("95% CI lower", "number"),
    "ci_upper": _t("95% CI upper", "number"),
    "p_value": _t("p-value", "number"),
    "closed_nights": _t("Closed nights", "count"),
    "observed_total": _t("Observed total", "number"),
    "unconstrained_total": _t("Unconstrained total", "number"),
    "uplift_pct": _t("Uplift", "percent"),
    "open_nights_raised": _t("Open nights raised for lost stays", "count"),
    "open_added": _t("Added on open nights", "number"),
    "bias_pct": _t("Bias", "percent"),
    "n_zero_actual": _t("Days with actual 0", "count"),
    "strongest_seasonal_cycle": _t("Strongest seasonal cycle of room-nights", "text"),
    "seasonal_strength_7": _t("Seasonal strength, weekly cycle", "number"),
    "seasonal_strength_365": _t("Seasonal strength, yearly cycle", "number"),
    "trend_strength": _t("Trend strength", "number"),
    "forecast_backtest_coverage": _t("Backtest coverage of the 90% forecast intervals", "share"),
    "forecast_backtest_mape": _t("Forecast backtest MAPE", "percent"),
    "forecast_cv_mase": _t("Cross-validated MASE of the forecast", "number"),
    "retail_strongest_cycle": _t("Strongest seasonal cycle of retail revenue", "text"),
    "retail_seasonal_strength_7": _t("Seasonal strength of retail revenue, weekly cycle", "number"),
    "retail_seasonal_strength_365": _t("Seasonal strength of retail revenue, yearly cycle", "number"),
    "retail_peak_weekday": _t("Weekday with the largest share of retail revenue", "text"),
    "retail_peak_weekday_share": _t("Share of retail revenue on the peak weekday", "share"),
    # yield management
    "fare": _t("Fare", "money"),
    "fare_vs_highest": _t("Fare vs the highest", "share"),
    "gap_to_next_lower": _t("Gap to the next lower fare", "money"),
    "nights": _t("Nights", "count"),
    "nights_over_capacity": _t("Nights with demand above capacity", "count"),
    "mean_load": _t("Mean load", "share"),
    "load_factor": _t("Load factor", "share"),
    "FCFS": _t("FCFS", "money", "First come, first served: revenue without capacity control."),
    "EMSR-b": _t("EMSR-b", "money", "Expected marginal seat revenue heuristic (Belobaba)."),
    "DP": _t("DP", "money", "Exact dynamic programme (Talluri & van Ryzin 2004)."),
    "DP_uplift": _t("DP uplift over FCFS", "money"),
    "DP_uplift_pct": _t("DP uplift over FCFS", "percent"),
    "DP_uplift_over_capacity": _t("DP uplift on nights above capacity", "money"),
    "EMSR-b_uplift": _t("EMSR-b uplift over FCFS", "money"),
    "EMSR-b_uplift_pct": _t("EMSR-b uplift over FCFS", "percent"),
    "EMSR-b_uplift_over_capacity": _t("EMSR-b uplift on nights above capacity", "money"),
    "mean_uplift_per_night": _t("Mean uplift per night", "money"),
    "mean_uplift_pct": _t("Mean uplift", "percent"),
    "group revenue": _t("Group revenue", "money", "Group rate x rooms x nights of the request."),
    "displacement cost": _t("Displacement cost", "money",
                            "Expected revenue of the individual guests the group's rooms push out (DP value function)."),
    "net benefit": _t("Net benefit", "money", "Group revenue minus displacement cost."),
    "net benefit with future value": _t("Net benefit with future value", "money"),
    "break-even rate": _t("Break-even rate per room-night", "money",
                          "Lowest group rate per room-night that covers the displacement cost."),
    "expected demand per night": _t("Expected demand per night", "number"),
    # booking horizon: replay of the controls on the booking stream and on the synthetic hotel
    "revpar": _t("RevPAR", "money", "Revenue per available room-night."),
    "net_revpar": _t("Net RevPAR", "money", "RevPAR net of the cost of walked guests."),
    "net_revpar_low": _t("Net RevPAR, 95% interval low", "money"),
    "net_revpar_high": _t("Net RevPAR, 95% interval high", "money"),
    "net_revpar_ci": _t("Net RevPAR, 95% interval half-width", "money"),
    "net_revpar_diff_vs_first": _t("Net RevPAR over FCFS", "money",
                                   "Difference to first come, first served on the same request streams."),
    "net_revpar_diff_vs_first_ci": _t("Net RevPAR over FCFS, 95% interval half-width", "money"),
    "adr": _t("ADR", "money", "Average daily rate: room revenue per occupied room-night."),
    "adr_ci": _t("ADR, 95% interval half-width", "money"),
    "occupancy": _t("Occupancy", "share", "Occupied / available room-nights."),
    "occupancy_ci": _t("Occupancy, 95% interval half-width", "share"),
    "walked": _t("Guests walked", "number", "Guests turned away on arrival because the hotel was overbooked."),
    "walked_ci": _t("Guests walked, 95% interval half-width", "number"),
    "empty_rooms": _t("Empty rooms", "number"),
    "empty_rooms_ci": _t("Empty rooms, 95% interval half-width", "number"),
    "streams": _t("Request streams", "count"),
    "requests_refused": _t("Requests refused", "count"),
    "requests_walked": _t("Requests walked", "count"),
    "displacement": _t("Displacement cost", "money"),
    "group_revenue": _t("Group revenue", "money"),
    "expected_shows_on_hand": _t("Expected shows on hand", "number"),
    "rooms_left": _t("Rooms left", "count"),
    "auc": _t("AUC", "number", "Area under the ROC curve (0.5 = chance, 1 = perfect ranking)."),
    "brier": _t("Brier score", "number", "Mean squared error of the predicted probabilities (lower is better)."),
    "clv_lower": _t("CLV, lower end of the prediction interval", "money"),
    "clv_upper": _t("CLV, upper end of the prediction interval", "money"),
    "clv_param_lower": _t("Expected CLV, lower end of the parameter-uncertainty interval", "money"),
    "clv_param_upper": _t("Expected CLV, upper end of the parameter-uncertainty interval", "money"),
    "purchases_lower": _t("Purchases, lower end of the interval", "number"),
    "purchases_upper": _t("Purchases, upper end of the interval", "number"),
    "bid_price": _t("Bid price", "money"),
    "demand_mean": _t("Mean demand", "number"),
    "demand_std": _t("Std. dev. of demand", "number"),
    "room_nights": _t("Room-nights", "count"),
    "emsr_b_protection": _t("EMSR-b protection", "number"),
    "dp_protection": _t("DP protection", "count"),
    "emsr_b_limit": _t("EMSR-b booking limit", "count"),
    "dp_limit": _t("DP booking limit", "count"),
    "mean_revenue": _t("Mean revenue", "money"),
    "ci_low": _t("95% CI low", "money"),
    "ci_high": _t("95% CI high", "money"),
    "uplift_ci_low": _t("Uplift 95% CI low", "money"),
    "uplift_ci_high": _t("Uplift 95% CI high", "money"),
    "show_rate": _t("Show rate", "share"),
    "cancel_rate": _t("Cancellation rate", "share"),
    "no_show_rate_held": _t("No-show rate of held bookings", "share"),
    "show_rate_held": _t("Show rate of held bookings", "share"),
    "expected_shows": _t("Expected shows", "number"),
    "expected_occupied": _t("Expected occupied rooms", "number"),
    "expected_denied": _t("Expected guests walked", "number"),
    "expected_spoiled": _t("Expected empty rooms", "number"),
    "prob_denied": _t("Probability of walking a guest", "share"),
    "expected_revenue": _t("Expected revenue", "money"),
    "revenue_uplift_vs_fcfs": _t("Revenue uplift of the best policy over FCFS", "percent"),
    "dp_gap_vs_emsr_b": _t("Revenue gain of the DP over EMSR-b", "percent"),
    "overbooking_limit": _t("Overbooking limit", "count"),
    "group_decision_peak": _t("Group request, peak stay", "text"),
    "group_decision_low": _t("Group request, low-season stay", "text"),
    "demand_forecast": _t("Demand the controls use", "text"),
    "group_break_even_rate_peak": _t("Break-even group rate, peak stay", "money"),
    # booking horizon
    "days_before": _t("Days before the night", "days", "Days between the night and the time the books are read."),
    "cancel_auc": _t("Cancellation model AUC", "number",
                     "Area under the ROC curve of the cancellation model on the test bookings."),
    "pickup_mae_7": _t("Pick-up forecast MAE 7 days out (rooms)", "number"),
    "shows_mae_7": _t("Expected shows MAE 7 days out (rooms)", "number",
                      "Mean absolute error of the expected shows against the rooms that stayed (test nights)."),
    "dp_vs_fcfs_pct": _t("Net RevPAR of the DP without overbooking over FCFS", "percent", "Replay."),
    "limit_service_90": _t("Booking limit 90 days out", "count", "Overbooking limit at the service level."),
    "limit_service_0": _t("Booking limit on the night", "count", "Overbooking limit of the no-show-only rule."),
    "replay_uplift_pct": _t("Net RevPAR gain of the best policy over FCFS", "percent",
                            "Replay of the booking requests, against FCFS without overbooking."),
    "classical_additive": _t("Classical pick-up, additive", "text",
                             "Final bookings = on the books + mean pick-up of recent nights."),
    "classical_multiplicative": _t("Classical pick-up, multiplicative", "text",
                                   "Final bookings = on the books x mean ratio final / on the books of recent nights."),
    "advanced_additive": _t("Advanced pick-up, additive", "text",
                            "Day-by-day pick-up increments, from the latest known nights."),
    "advanced_multiplicative": _t("Advanced pick-up, multiplicative", "text",
                                  "Day-by-day pick-up ratios, from the latest known nights."),
}


def term(name: object) -> Term | None:
    """The glossary entry of ``name`` (``None`` when it has none)."""
    return GLOSSARY.get(str(name))


_ACRONYMS = {"dp": "DP", "clv": "CLV", "rfm": "RFM", "fcfs": "FCFS", "adr": "ADR", "emsr": "EMSR", "mae": "MAE",
             "rmse": "RMSE", "mape": "MAPE", "mase": "MASE", "ci": "CI", "id": "id", "pct": "%"}


def humanize(name: object) -> str:
    """A readable fallback for a name without a glossary entry: ``"mean_basket_size"`` -> ``"Mean basket size"``,
    ``"dp_protection_Direct"`` -> ``"DP protection Direct"`` (abbreviations of the field in capitals).

    Names without an underscore (already words, e.g. ``"revenue share"``) are returned unchanged.
    """
    text = str(name)
    if "_" not in text:
        return text
    words = [_ACRONYMS.get(w.lower(), w) for w in text.replace("_", " ").split()]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def _unit(kind: str, units: Units) -> str | None:
    return {"money": units.currency, "share": "%", "percent": "%", "days": "days",
            "index": "1 = average"}.get(kind)


def label(name: object, *, units: Units | None = None, with_unit: bool = True) -> str:
    """The reader's label of a raw name, with its unit: ``"monetary_value"`` -> ``"Mean repeat purchase value (EUR)"``.

    Parameters
    ----------
    name : object
        A column, headline key or rule name.
    units : Units, optional
        Currency of money (default :data:`~crm_analysis.presentation.units.DEFAULT_UNITS`).
    with_unit : bool, default True
        Add the unit in brackets (money, shares and per cent, days, indices).

    Returns
    -------
    str
        Names without a glossary entry go through :func:`humanize`.

    Examples
    --------
    >>> label("monetary_value", units=Units("GBP")), label("p_alive"), label("mean_basket_size")
    ('Mean repeat purchase value (GBP)', 'P(alive) (%)', 'Mean basket size')
    """
    t = term(name)
    if t is None:
        return humanize(name)
    unit = _unit(t.kind, units or DEFAULT_UNITS) if with_unit else None
    if not unit or f"({unit})" in t.label or (unit == "days" and "days" in t.label.lower().split()):
        return t.label
    return f"{t.label} ({unit})"


_RAW_RE = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)(?![A-Za-z0-9_])")
_CODE_SPAN_RE = re.compile(r"(`[^`]*`)")


def relabel_text(text: str, *, units: Units | None = None) -> str:
    """Replace the raw glossary names in a sentence by their labels (with units); code spans stay.

    Examples
    --------
    >>> relabel_text("active and clv_index >= 1.5; see `p_alive`")
    'active and CLV index (1 = average) >= 1.5; see `p_alive`'
    >>> relabel_text("customer_id missing; amount or unit_price infinite")
    'Customer missing; amount or unit price (EUR) infinite'

    Quoted names are literals and stay as written (a configuration shown to the
    reader must still be the configuration):

    >>> relabel_text("columns={'customer_id': 'cust'}")
    "columns={'customer_id': 'cust'}"
    """
    def repl(m: re.Match[str], at_start: bool) -> str:
        name = m.group(1)
        if name not in GLOSSARY:
            return name
        s = m.string
        if (m.start() > 0 and s[m.start() - 1] in "'\"") or (m.end() < len(s) and s[m.end()] in "'\""):
            return name  # a quoted name is a literal (a configuration's key or value, a dict), never a label
        text = label(name, units=units)
        # inside a sentence: "unit price", but "CLV index", "P(alive)" keep their capitals
        if not (at_start and m.start() == 0) and len(text) > 1 and text[1].islower():
            text = text[0].lower() + text[1:]
        return text

    parts = _CODE_SPAN_RE.split(str(text))
    return "".join(p if p.startswith("`") else _RAW_RE.sub(lambda m, i=i: repl(m, i == 0), p)
                   for i, p in enumerate(parts))


_TYPES = {"string": "text", "object": "text", "str": "text", "float64": "number", "int64": "whole number",
          "bool": "yes / no", "boolean": "yes / no", "category": "text"}


def type_label(dtype: object) -> str:
    """A data type in words: ``"datetime64[ns]"`` -> ``"date and time"``, ``"float64"`` -> ``"number"``."""
    text = str(dtype)
    if text.startswith("datetime64"):
        return "date and time"
    return _TYPES.get(text, text)


def raw_names(*, min_length: int = 3) -> list[str]:
    """Glossary names that look like code (contain ``_``): a reader should never see them.

    Used by the report check (``check-report``) as words that must not appear
    in the visible text of a report.
    """
    return sorted(n for n in GLOSSARY if "_" in n and len(n) >= min_length)


def glossary_table(*, units: Units | None = None) -> pd.DataFrame:
    """The glossary as a table: label (with unit), raw name in the files, meaning; sorted by label."""
    rows = [{"Label": label(n, units=units), "Name in the data files": n, "Meaning": t.meaning}
            for n, t in GLOSSARY.items()]
    return pd.DataFrame(rows).drop_duplicates(["Name in the data files"]).sort_values(
        "Label", key=lambda s: s.str.lower(), kind="stable").reset_index(drop=True)


def glossary_html(*, units: Units | None = None, title: str = "Glossary", index_href: str | None = None) -> str:
    """A stand-alone HTML page of the glossary (no external assets).

    The raw names sit in an element marked ``data-crm-raw``: the one place the
    report check allows them.
    """
    tab = glossary_table(units=units)
    rows = "\n".join(
        f"<tr><td>{html.escape(r['Label'])}</td><td data-crm-raw><code>{html.escape(r['Name in the data files'])}"
        f"</code></td><td>{html.escape(r['Meaning'])}</td></tr>"
        for _, r in tab.iterrows()
    )
    back = f'<p><a href="{html.escape(index_href)}">&larr; Back to index</a></p>' if index_href else ""
    cur = html.escape((units or DEFAULT_UNITS).currency)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body {{ font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
  max-width: 1100px; margin: 0 auto; padding: 1em 2em; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: 0.35em 0.7em;
  border-bottom: 1px solid #e3e7eb; vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #f6f8fa; }} a {{ color: #0b5cad; }}</style></head>
<body>{back}<h1>{html.escape(title)}</h1>
<p>The reports show the labels on the left; the data files (Parquet, CSV, JSON) keep the names in the
middle column. Money is in {cur}; shares are shown in per cent.</p>
<table><thead><tr><th>Label (unit)</th><th>Name in the data files</th><th>Meaning</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
