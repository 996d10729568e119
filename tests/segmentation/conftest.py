"""Fixtures of the segmentation tests: CLV-like tables built directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_clv_table(n: int = 600, seed: int = 0, zero_share: float = 0.6) -> pd.DataFrame:
    """A CLV-like table (columns of ``clv.parquet``) with heavily tied frequencies.

    Not a fitted model: just plausible, positively related columns for
    exercising the segmentation code. Recency and T are in days
    (``attrs["unit_days"] = 1``).
    """
    rng = np.random.default_rng(seed)
    T = rng.uniform(30.0, 365.0, n).round()
    freq = np.where(rng.uniform(size=n) < zero_share, 0, rng.geometric(0.35, n)).astype(float)
    recency = np.where(freq > 0, (rng.uniform(size=n) * T).round(), 0.0)
    monetary = np.where(freq > 0, rng.gamma(2.0, 25.0, n).round(2), 0.0)
    revenue = (freq + 1) * rng.gamma(2.0, 25.0, n)
    p_alive = np.where(freq > 0, np.clip(recency / T + rng.normal(0, 0.1, n), 0.01, 1.0), 1.0)
    expected_purchases = p_alive * (freq + 0.5) * 0.5
    expected_spend = np.where(freq > 0, monetary, 40.0)
    table = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "frequency": freq,
            "recency": recency,
            "T": T,
            "monetary_value": monetary,
            "revenue": revenue,
            "p_alive": p_alive,
            "expected_purchases": expected_purchases,
            "expected_spend": expected_spend,
            "clv": expected_purchases * expected_spend,
        }
    )
    table.attrs.update(time_unit="D", unit_days=1.0)  # recency and T in days, as rfm_summary records it
    return table


@pytest.fixture
def clv_table() -> pd.DataFrame:
    """A 600-customer CLV-like table, 60% of them with frequency 0."""
    return make_clv_table()


@pytest.fixture
def make_clv():
    """The :func:`make_clv_table` factory."""
    return make_clv_table
