"""Tests of crm_analysis.segmentation.pareto against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from crm_analysis.segmentation import pareto_analysis
from crm_analysis.segmentation._common import SegmentationInputError


def _gini_mean_difference(x: np.ndarray) -> float:
    """Gini as the mean absolute difference over twice the mean (O(n^2), independent)."""
    x = np.asarray(x, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


def _top_share(x: np.ndarray, frac: float) -> float:
    s = pd.Series(x).sort_values(ascending=False)
    k = int(round(frac * len(s)))
    return float(s.iloc[:k].sum() / s.sum())


def _customers_for(x: np.ndarray, share: float) -> float:
    s = pd.Series(x).sort_values(ascending=False)
    cum = s.cumsum() / s.sum()
    k = next(i + 1 for i, c in enumerate(cum) if c >= share - 1e-12)
    return k / len(s)


_values = st.integers(1, 16).flatmap(
    lambda m: st.lists(st.floats(0, 1e4, allow_nan=False), min_size=5 * m, max_size=5 * m)
).filter(lambda v: sum(v) > 1e-3)


@settings(max_examples=50, deadline=None)
@given(_values)
def test_matches_independent_computation(values):
    x = np.array(values)  # length a multiple of 5: the top 20% is a whole number of customers
    r = pareto_analysis(x)
    assert r.gini == pytest.approx(_gini_mean_difference(x), abs=1e-9)
    assert r.share_of_top(0.2) == pytest.approx(_top_share(x, 0.2), abs=1e-9)
    assert r.customers_for_share(share=0.8) == pytest.approx(_customers_for(x, 0.8))
    # Lorenz endpoints and shape
    assert r.lorenz[0] == 0 and r.lorenz[-1] == 1
    assert r.concentration[0] == 0 and r.concentration[-1] == 1
    assert np.all(np.diff(r.lorenz) >= -1e-12)
    assert np.all(r.lorenz <= r.population_share + 1e-12)
    assert np.all(r.concentration >= r.population_share - 1e-12)
    # Gini = 1 - 2 * area under the Lorenz curve (trapezoids)
    area = np.sum((r.lorenz[1:] + r.lorenz[:-1]) / 2 * np.diff(r.population_share))
    assert r.gini == pytest.approx(1 - 2 * area, abs=1e-9)


def test_revenue_like_sample_against_pandas():
    rng = np.random.default_rng(5)
    x = np.concatenate([np.zeros(300), rng.lognormal(3, 1.2, 700)])
    r = pareto_analysis(pd.Series(x, name="revenue"))
    assert r.label == "revenue"
    assert r.n_zero == 300
    assert r.share_of_top(0.2) == pytest.approx(_top_share(x, 0.2))
    assert r.share_of_top(0.1) == pytest.approx(_top_share(x, 0.1))
    assert r.customers_for_share(share=0.8) == pytest.approx(_customers_for(x, 0.8))
    assert r.gini == pytest.approx(_gini_mean_difference(x))


def test_equal_values_gini_zero():
    r = pareto_analysis(np.full(50, 7.0))
    assert r.gini == pytest.approx(0.0, abs=1e-12)
    assert r.share_of_top(0.2) == pytest.approx(0.2)
    assert r.customers_for_share(share=0.8) == pytest.approx(0.8)


@pytest.mark.parametrize("n", [2, 5, 37, 1000])
def test_one_customer_has_everything(n):
    x = np.zeros(n)
    x[n // 2] = 123.0
    r = pareto_analysis(x)
    assert r.gini == pytest.approx((n - 1) / n)
    assert r.customers_for_share(share=0.8) == pytest.approx(1 / n)
    assert r.share_of_top(1 / n) == pytest.approx(1.0)


def test_pareto_distribution_gini():
    # A Pareto (type I) distribution with shape a > 1 has Gini 1 / (2a - 1)
    # (e.g. Kleiber & Kotz 2003, Statistical Size Distributions, sec. 3.3).
    # With n = 200k and a = 3 the sample Gini is within ~0.005 of 0.2.
    rng = np.random.default_rng(42)
    for a in (2.0, 3.0):
        x = rng.pareto(a, 200_000) + 1.0
        assert pareto_analysis(x).gini == pytest.approx(1 / (2 * a - 1), abs=0.01)


def test_bad_input():
    with pytest.raises(SegmentationInputError, match="NaN"):
        pareto_analysis([1.0, np.nan, 2.0])
    with pytest.raises(SegmentationInputError, match="negative"):
        pareto_analysis([5.0, -1.0, 2.0])
    with pytest.raises(SegmentationInputError, match="not positive"):
        pareto_analysis([1.0, -3.0], negative="clip")
    with pytest.raises(SegmentationInputError, match="all values zero"):
        pareto_analysis([0.0, 0.0])
    with pytest.raises(SegmentationInputError, match="at least one"):
        pareto_analysis([])
    r = pareto_analysis([5.0, -1.0, 3.0, 0.0], negative="clip")
    assert r.n_clipped == 1 and r.clipped_amount == -1.0
    assert r.total == 8.0 and r.n_zero == 1
    with pytest.raises(ValueError, match="fraction"):
        r.share_of_top(20)


def test_plot_returns_figure():
    fig = pareto_analysis(np.arange(1, 101, dtype=float)).plot()
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title()
