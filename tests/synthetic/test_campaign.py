"""The simulated randomised campaign (crm_analysis.synthetic.campaign): outcomes follow the stated truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.synthetic import simulate_campaign


def test_own_customers_follow_the_truth():
    s = simulate_campaign(n_customers=20_000, seed=1)
    t = s.table.merge(s.truth, on="customer_id")
    treated = t["group"] == "email"
    assert abs(treated.mean() - 0.5) < 4 * np.sqrt(0.25 / len(t))
    for mask, col in ((treated, "p1"), (~treated, "p0")):
        p = t.loc[mask, col].to_numpy()
        assert abs(t.loc[mask, "visit"].sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    # the stated uplift formula
    web = (t["channel"] == "Web").to_numpy(dtype=float)
    tau = 0.16 * np.exp(-(t["recency"].to_numpy() - 1) / 3) + 0.04 * web - 0.05 * t["newbie"].to_numpy()
    np.testing.assert_allclose(t["tau"], np.clip(t["p0"] + tau, 0, 1) - t["p0"])
    assert ((t["conversion"] <= t["visit"]) & ((t["spend"] > 0) == (t["conversion"] == 1))).all()
    pd.testing.assert_frame_equal(s.table, simulate_campaign(n_customers=20_000, seed=1).table)


def test_chain_customers_form():
    cust = pd.DataFrame({"customer_id": ["a", "b", "c"], "p_alive": [1.0, 0.5, 0.0], "frequency": [3, 0, 1]})
    s = simulate_campaign(customers=cust, seed=2)
    assert list(s.table.columns) == ["customer_id", "group", "visit", "conversion", "spend"]
    np.testing.assert_allclose(s.truth["tau"], [0.13, 0.01, 0.01])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['p_alive'\] in customers"):
        simulate_campaign(customers=cust.drop(columns="p_alive"))
    with pytest.raises(ValueError, match="treatment_share"):
        simulate_campaign(n_customers=100, treatment_share=1.0)
