"""Small simulated inputs for the seasonality tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_bookings(n: int = 4000, days: int = 400, seed: int = 0, start: str = "2023-01-02") -> pd.DataFrame:
    """Canonical bookings with random segments, stays and statuses."""
    rng = np.random.default_rng(seed)
    cal = pd.date_range(start, periods=days, freq="D")
    arrival = cal[rng.integers(0, days, n)]
    return pd.DataFrame(
        {
            "booking_id": [f"B{i}" for i in range(n)],
            "booking_date": (arrival - pd.to_timedelta(rng.integers(0, 90, n), unit="D")).astype("datetime64[ns]"),
            "arrival_date": arrival.astype("datetime64[ns]"),
            "nights": rng.integers(0, 6, n).astype("int64"),
            "rate": rng.uniform(60, 200, n),
            "segment": pd.array(rng.choice(["Corporate", "Leisure", "Groups"], n), dtype="string"),
            "status": pd.array(rng.choice(["stayed", "cancelled", "no_show"], n, p=[0.7, 0.25, 0.05]), dtype="string"),
            "units": rng.integers(1, 4, n).astype("int64"),
        }
    )


def seasonal_bookings(days: int = 300, seed: int = 1, start: str = "2023-01-02") -> pd.DataFrame:
    """One-night bookings whose daily count follows a weekly cycle plus Poisson noise."""
    rng = np.random.default_rng(seed)
    cal = pd.date_range(start, periods=days, freq="D")
    weekly = np.array([20, 22, 24, 26, 40, 45, 18], dtype=float)
    lam = weekly[cal.day_of_week]
    counts = rng.poisson(lam)
    arrival = np.repeat(cal.to_numpy(), counts)
    m = len(arrival)
    return pd.DataFrame(
        {
            "booking_id": [f"S{i}" for i in range(m)],
            "booking_date": arrival - np.timedelta64(10, "D"),
            "arrival_date": arrival,
            "nights": np.ones(m, dtype="int64"),
            "rate": np.full(m, 100.0),
            "segment": pd.array(rng.choice(["A", "B"], m), dtype="string"),
            "status": pd.array(np.full(m, "stayed"), dtype="string"),
        }
    )


@pytest.fixture
def bookings() -> pd.DataFrame:
    return make_bookings()
