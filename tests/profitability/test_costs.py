"""Customer profitability from cost drivers (crm_analysis.profitability.costs).

Expected values are computed by hand (small examples) or by an independent
line-by-line loop in plain Python (property tests), not by the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.profitability import (
    PROFIT_COLUMNS,
    CostDrivers,
    ProfitabilityInputError,
    booking_profitability,
    customer_profitability,
)


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "product", "amount"]).astype(
        {"customer_id": "string", "order_id": "string", "product": "string", "amount": "float64"})


def test_hand_computed_example():
    # a: two orders (3 lines), one line returned; b: one order, no returns
    tx = _tx([("a", "1", "x", 40.0), ("a", "1", "y", 10.0), ("a", "2", "x", 40.0), ("a", "R2", "x", -40.0),
              ("b", "3", "y", 90.0)])
    d = CostDrivers(gross_margin=0.5, margin_by_product={"y": 0.2}, cost_per_order=5.0, cost_per_line=1.0,
                    cost_per_return=4.0)
    t = customer_profitability(tx, drivers=d).table.set_index("customer_id")
    a, b = t.loc["a"], t.loc["b"]
    assert (a["orders"], a["lines"], a["returned_lines"]) == (2, 3, 1)
    assert a["gross_revenue"] == 90.0 and a["returned_revenue"] == 40.0 and a["net_revenue"] == 50.0
    # margin 0.5*40 + 0.2*10 + 0.5*40 - 0.5*40 = 22; costs 2*5 + 3*1 + 1*4 = 17
    assert a["gross_margin"] == pytest.approx(22.0) and a["cost_to_serve"] == pytest.approx(17.0)
    assert a["profit"] == pytest.approx(5.0) and a["return_rate"] == pytest.approx(40 / 90)
    # b: 0.2*90 - 5 - 1 = 12
    assert b["profit"] == pytest.approx(12.0) and b["returned_lines"] == 0 and b["return_rate"] == 0.0
    assert list(customer_profitability(tx, drivers=d).table.columns) == list(PROFIT_COLUMNS)


def test_returns_make_a_customer_less_profitable_than_the_same_purchases_kept():
    """The issue's case: small orders, half returned, must not look as good as the same orders kept."""
    buys = [(c, f"{c}{i}", "x", 20.0) for c in ("keeper", "returner") for i in range(6)]
    rets = [("returner", f"Rreturner{i}", "x", -20.0) for i in range(3)]
    d = CostDrivers(gross_margin=0.4, cost_per_order=3.0, cost_per_return=5.0)
    t = customer_profitability(_tx(buys + rets), drivers=d).table.set_index("customer_id")
    assert t.loc["keeper", "gross_revenue"] == t.loc["returner", "gross_revenue"]
    assert t.loc["keeper", "profit"] == pytest.approx(0.4 * 120 - 18)
    assert t.loc["returner", "profit"] == pytest.approx(0.4 * 60 - 18 - 15)
    assert t.loc["returner", "profit"] < 0 < t.loc["keeper", "profit"]


def test_separate_returns_frame_counts_like_return_lines_in_the_data():
    tx = _tx([("a", "1", "x", 30.0), ("a", "2", "x", 30.0), ("a", "C2", "x", -30.0)])
    d = CostDrivers(gross_margin=0.5, cost_per_return=2.0)
    inside = customer_profitability(tx, drivers=d).table
    apart = customer_profitability(tx.iloc[:2], drivers=d, returns=tx.iloc[2:]).table
    pd.testing.assert_frame_equal(inside, apart)


def test_cancellation_marker_and_negative_quantity_are_returns():
    tx = _tx([("a", "1", "x", 30.0), ("a", "C1", "x", -30.0), ("b", "2", "x", 10.0)])
    tx["quantity"] = [1.0, -1.0, 1.0]
    tx["is_cancellation"] = [False, True, False]
    t = customer_profitability(tx).table.set_index("customer_id")
    assert t.loc["a", "returned_lines"] == 1 and t.loc["a", "net_revenue"] == 0.0


def test_listed_customers_without_lines_get_zeros_and_returns_only_customers_are_counted():
    tx = _tx([("a", "1", "x", 30.0), ("z", "C9", "x", -12.0)])
    res = customer_profitability(tx, drivers=CostDrivers(cost_per_return=1.0), customers=pd.Series(["a", "b"]))
    t = res.table.set_index("customer_id")
    assert t.loc["b"].drop("return_rate").eq(0).all() and np.isnan(t.loc["b", "return_rate"])
    assert t.loc["z", "profit"] == pytest.approx(-13.0)
    assert res.counts["customers_with_returns_only"] == 1 and res.counts["customers_not_listed"] == 1
    assert res.counts["listed_customers_without_lines"] == 1
    assert any("returns but no purchase" in n for n in res.notes)


def test_product_margins_missing_products_are_counted():
    tx = _tx([("a", "1", "x", 10.0), ("a", "1", "q", 10.0)])
    res = customer_profitability(tx, drivers=CostDrivers(gross_margin=0.3, margin_by_product={"x": 0.5}))
    assert res.table["gross_margin"].iloc[0] == pytest.approx(5.0 + 3.0)
    assert res.counts["lines_at_overall_margin"] == 1


def test_without_order_ids_every_purchase_row_is_an_order():
    tx = pd.DataFrame({"customer_id": ["a", "a", "a"], "amount": [5.0, 6.0, -5.0]})
    t = customer_profitability(tx, drivers=CostDrivers(cost_per_order=1.0)).table
    assert t["orders"].iloc[0] == 2 and t["profit"].iloc[0] == pytest.approx(6.0 - 2.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"gross_margin": 1.5}, "gross_margin must be a fraction of revenue in \\[0, 1\\]"),
        ({"gross_margin": "40%"}, "gross_margin must be a fraction"),
        ({"cost_per_order": -1}, "cost_per_order must be a finite number >= 0"),
        ({"cost_per_return": float("nan")}, "cost_per_return must be a finite number >= 0"),
        ({"cost_per_line": True}, "cost_per_line must be a number"),
        ({"margin_by_product": {"x": 2}}, "margin_by_product\\['x'\\]"),
        ({"margin_by_product": [0.1]}, "margin_by_product must map product ids"),
    ],
)
def test_bad_drivers_are_refused(kwargs, match):
    with pytest.raises(ProfitabilityInputError, match=match):
        CostDrivers(**kwargs)


def test_bad_transactions_are_refused():
    with pytest.raises(ProfitabilityInputError, match="missing column\\(s\\) \\['amount'\\]"):
        customer_profitability(pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(ProfitabilityInputError, match="1 line\\(s\\) have no customer_id"):
        customer_profitability(pd.DataFrame({"customer_id": ["a", None], "amount": [1.0, 2.0]}))
    with pytest.raises(ProfitabilityInputError, match="missing or infinite"):
        customer_profitability(pd.DataFrame({"customer_id": ["a"], "amount": [np.inf]}))
    with pytest.raises(ProfitabilityInputError, match="no 'product' column"):
        customer_profitability(pd.DataFrame({"customer_id": ["a"], "amount": [1.0]}),
                               drivers=CostDrivers(margin_by_product={"x": 0.1}))


def test_configured():
    assert not CostDrivers().configured
    assert CostDrivers(gross_margin=0.4).configured and CostDrivers(cost_per_return=1).configured


lines = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 5), st.sampled_from(["x", "y", "z"]),
              st.floats(-100, 100, allow_nan=False).filter(lambda v: abs(v) > 0.01)),
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(rows=lines, margin=st.floats(0, 1), per_order=st.floats(0, 10), per_line=st.floats(0, 5),
       per_return=st.floats(0, 10), my=st.floats(0, 1))
def test_property_profit_equals_a_line_by_line_loop(rows, margin, per_order, per_line, per_return, my):
    tx = _tx([(c, f"{c}-{o}", p, v) for c, o, p, v in rows])
    d = CostDrivers(gross_margin=margin, margin_by_product={"y": my}, cost_per_order=per_order,
                    cost_per_line=per_line, cost_per_return=per_return)
    t = customer_profitability(tx, drivers=d).table.set_index("customer_id")
    expected: dict[str, float] = {}
    orders: dict[str, set] = {}
    for c, o, p, v in rows:
        m = my if p == "y" else margin
        if v < 0:  # a return line: lost margin and its handling
            expected[c] = expected.get(c, 0.0) + m * v - per_return
        else:
            expected[c] = expected.get(c, 0.0) + m * v - per_line
            orders.setdefault(c, set()).add(o)
    for c, s in orders.items():
        expected[c] -= per_order * len(s)
    assert set(t.index) == set(expected)
    for c, e in expected.items():
        assert t.loc[c, "profit"] == pytest.approx(e, abs=1e-9)
    # the parts add up
    np.testing.assert_allclose(t["net_revenue"], t["gross_revenue"] - t["returned_revenue"])
    np.testing.assert_allclose(t["profit"], t["gross_margin"] - t["cost_to_serve"])


def test_booking_profitability_by_segment():
    bk = pd.DataFrame({
        "segment": ["Groups", "Groups", "Direct", "Direct"],
        "status": ["stayed", "cancelled", "stayed", "no_show"],
        "rate": [100.0, 100.0, 150.0, 150.0], "nights": [2, 3, 1, 2], "units": [2, 1, 1, 1],
        "special_requests": [0, 1, 2, 0],
    })
    d = CostDrivers(gross_margin=0.7, cost_per_order=10.0, cost_per_cancellation=25.0, cost_per_special_request=3.0)
    t = booking_profitability(bk, drivers=d, by="segment").set_index("segment")
    # Groups: revenue 100*2*2 = 400 -> 0.7*400 - 10 - 25 - 3 = 242; Direct: 150 -> 105 - 10 - 25 - 6 = 64
    assert t.loc["Groups", "profit"] == pytest.approx(242.0) and t.loc["Direct", "profit"] == pytest.approx(64.0)
    assert t.loc["Direct", "cancellations"] == 1
    with pytest.raises(ProfitabilityInputError, match="'special_requests'"):
        booking_profitability(bk.drop(columns="special_requests"), drivers=d, by="segment")
    with pytest.raises(ProfitabilityInputError, match="have no 'customer_id'"):
        booking_profitability(bk.assign(customer_id=[None, "a", "b", "c"]), drivers=d)
    with pytest.raises(ProfitabilityInputError, match="unknown booking status"):
        booking_profitability(bk.assign(status=["stayed", "gone", "stayed", "stayed"]), drivers=d, by="segment")


@pytest.mark.shared_data
def test_online_retail_returns_are_the_c_invoices(shared_data):
    """On UCI Online Retail every return line is a 'C' invoice line of a known customer (counted independently)."""
    from crm_analysis.data import CleaningPolicy, clean_transactions, dropped_lines, load_online_retail

    raw_file = shared_data / "online_retail" / "online_retail.parquet"
    raw = load_online_retail(raw_file)
    res = clean_transactions(raw, policy=CleaningPolicy(observation_end="2011-12-09"))
    returns = dropped_lines(raw, res, reason="return_or_cancellation")
    src = pd.read_parquet(raw_file, columns=["InvoiceNo", "CustomerID", "Quantity"])
    c_lines = src[src["InvoiceNo"].astype(str).str.startswith("C") & src["CustomerID"].notna()]
    # the C lines of known customers, less exact duplicates the cleaning removes before ... none: returns come first
    assert len(returns) == len(c_lines)
    prof = customer_profitability(res.data, drivers=CostDrivers(gross_margin=0.4, cost_per_order=2.0, cost_per_return=2.0),
                                  returns=returns)
    t = prof.table
    assert prof.counts["return_lines"] == len(c_lines)
    assert t["returned_lines"].sum() == len(c_lines)
    assert (t["returned_lines"] > 0).sum() == c_lines["CustomerID"].nunique()
    assert (t["profit"] < 0).any() and t["profit"].sum() > 0


# --- found by a newcomer's try-out (issue 16) -------------------------------------------------------------------

@given(bought=st.floats(0.01, 1e5), refunded=st.floats(0.01, 1e5))
@settings(max_examples=60, deadline=None)
def test_customers_refunded_more_than_they_bought_are_counted(bought, refunded):
    """Refunds above the purchases in the data (purchases before it starts, errors) are named, not passed silently."""
    tx = _tx([("a", "1", "x", bought), ("a", "C1", "x", -refunded), ("b", "2", "x", 5.0)])
    res = customer_profitability(tx, drivers=CostDrivers(gross_margin=0.5))
    more = refunded > bought + 1e-9
    assert res.counts["customers_refunded_more_than_bought"] == int(more)
    assert any("more refunded than they bought" in n for n in res.notes) == more
    a = res.table.set_index("customer_id").loc["a"]
    assert (a["net_revenue"] < 0) == more and (a["return_rate"] > 1) == more


def test_margin_products_that_match_nothing_are_named():
    tx = _tx([("a", "1", "x", 10.0), ("a", "1", "1.0", 10.0)])
    res = customer_profitability(tx, drivers=CostDrivers(gross_margin=0.3, margin_by_product={"x": 0.5, "nope": 0.2, 1: 0.1}))
    assert res.counts["margin_products_not_in_data"] == 2
    note = next(n for n in res.notes if "match no product" in n)
    assert "'1'" in note and "'nope'" in note and "'x'" not in note
    clean = customer_profitability(tx, drivers=CostDrivers(gross_margin=0.3, margin_by_product={"x": 0.5}))
    assert "margin_products_not_in_data" not in clean.counts


@pytest.mark.parametrize("col, values, kind", [
    ("rate", [100.0, 100.0, -6.38, 150.0], "1 negative"),
    ("rate", [100.0, 100.0, np.nan, 150.0], "1 missing"),
    ("nights", [2, 3, np.nan, 2], "1 missing"),
    ("nights", [2, 3, -1, 2], "1 negative"),
    ("units", [2, 1, np.nan, 1], "1 missing"),
])
def test_booking_revenue_factors_must_be_known_and_not_negative_on_stays(col, values, kind):
    bk = pd.DataFrame({"segment": ["G", "G", "D", "D"], "status": ["stayed", "cancelled", "stayed", "no_show"],
                       "rate": [100.0, 100.0, 150.0, 150.0], "nights": [2, 3, 1, 2], "units": [2, 1, 1, 1]})
    with pytest.raises(ProfitabilityInputError, match=f"column '{col}' has .*{kind}|column '{col}' has {kind}"):
        booking_profitability(bk.assign(**{col: values}), by="segment")
    # the same values on a cancelled booking bring no revenue: accepted
    on_cancel = list(bk[col])
    on_cancel[1] = values[2]
    t = booking_profitability(bk.assign(**{col: on_cancel}), by="segment").set_index("segment")
    assert np.isfinite(t["profit"]).all()
    # a rate of 0 is a complimentary stay
    assert booking_profitability(bk.assign(rate=0.0), by="segment")["room_revenue"].eq(0).all()

def test_describe_writes_the_cost_drivers_with_the_given_currency():
    """Issue 17 (n17 F4): "Cost drivers: ... 2.00 per order; 3.00 per returned line" had no currency."""
    from crm_analysis.presentation import Units, format_money

    d = CostDrivers(gross_margin=0.4, cost_per_order=2.0, cost_per_line=0.2, cost_per_return=3.0)
    text = d.describe(money=lambda x: format_money(x, units=Units("JPY")))
    assert text == "gross margin 40% of revenue; JPY 2 per order; JPY 0 per order line; JPY 3 per returned line"
    assert d.describe() == "gross margin 40% of revenue; 2.00 per order; 0.20 per order line; 3.00 per returned line"
