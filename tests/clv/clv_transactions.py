"""Small generated transaction sets for the rfm_clv step's tests (no real data, a few seconds a run).

:func:`btyd_transactions`: BG/NBD purchases over 18 months up to ``AS_OF`` with every amount Gamma(3, scale 12)
(one spend scale for everyone: no spend heterogeneity); ``dropout=None`` gives the NBD (nobody drops out), the
data on which the BG/NBD is fitted at its no-dropout limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = "2024-12-31"


def btyd_transactions(n: int = 400, seed: int = 11, *, dropout: tuple[float, float] | None = (0.6, 3.0),
                      r: float = 0.8, alpha: float = 6.0) -> pd.DataFrame:
    """BG/NBD purchases (rate Gamma(r, alpha weeks), dropout Beta(*dropout) or none) over 18 months; every amount Gamma(3, 12).

    Returns
    -------
    DataFrame
        ``customer_id`` (string), ``timestamp`` (datetime64[ns], days after the first purchase), ``amount``.
    """
    rng = np.random.default_rng(seed)
    end, start = pd.Timestamp(AS_OF), pd.Timestamp("2023-01-01")
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(*dropout, n) if dropout is not None else np.zeros(n)
    rows = []
    for i, day in enumerate(rng.integers(0, 548, n)):
        first = start + pd.Timedelta(days=int(day))
        horizon, t, times = (end - first).days / 7.0, 0.0, [0.0]
        while True:
            t += rng.exponential(1 / lam[i])
            if t > horizon:
                break
            times.append(t)
            if rng.random() < drop[i]:
                break
        rows += [(f"C{i:04d}", first + pd.Timedelta(days=int(w * 7)), float(rng.gamma(3.0, 12.0))) for w in times]
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    tx["customer_id"] = tx["customer_id"].astype("string")
    tx["timestamp"] = tx["timestamp"].astype("datetime64[ns]")
    return tx
