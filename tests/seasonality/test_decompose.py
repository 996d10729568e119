import warnings

import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import decompose, strength, strength_table


def _daily(values, start="2023-01-01"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


def _weekly_plus_yearly(n=731, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 0.02 * t + 8 * np.sin(2 * np.pi * t / 7) + 15 * np.sin(2 * np.pi * t / 365.25) + rng.normal(0, noise, n)
    return _daily(y)


@pytest.mark.parametrize("periods", [7, (7, 365)])
def test_components_reconstruct_observed(periods):
    s = _weekly_plus_yearly()
    d = decompose(s, periods=periods, robust=True)
    total = d.trend + d.seasonal.sum(axis=1) + d.remainder
    np.testing.assert_allclose(total.to_numpy(), s.to_numpy(), atol=1e-8)
    assert list(d.seasonal.columns) == [f"seasonal_{p}" for p in np.atleast_1d(periods)]
    assert np.isfinite(d.to_frame().to_numpy()).all()


def test_two_year_daily_series_keeps_yearly_period():
    d = decompose(_weekly_plus_yearly(n=731), periods=(7, 365))
    assert d.periods == (7, 365) and d.method == "MSTL" and not d.dropped_periods
    assert d.strength_seasonal[365] > 0.9 and d.strength_seasonal[7] > 0.9


def test_strength_high_for_strong_weekly_cycle():
    rng = np.random.default_rng(1)
    t = np.arange(364)
    d = decompose(_daily(50 + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, 364)), periods=7)
    assert d.strength_seasonal[7] > 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strength_low_on_white_noise(seed):
    noise = _daily(np.random.default_rng(seed).normal(size=731))
    d = decompose(noise, periods=(7, 365))
    assert d.strength_seasonal[7] < 0.2
    assert d.strength_seasonal[365] < 0.2
    assert d.strength_trend < 0.2


def test_strength_formula():
    # FPP3 4.3: F = max(0, 1 - Var(R)/Var(X+R))
    x = np.array([1.0, -1.0, 1.0, -1.0])
    r = np.array([0.5, 0.5, -0.5, -0.5])
    assert strength(x, r) == pytest.approx(1 - np.var(r) / np.var(x + r))
    assert strength(-r, r) == 0.0  # Var(X+R) = 0


def test_nan_is_refused_with_pointer_to_fill():
    s = _weekly_plus_yearly(n=100)
    s.iloc[40] = np.nan
    with pytest.raises(ValueError, match="fill"):
        decompose(s, periods=7)


def test_guards():
    with pytest.raises(ValueError, match="constant"):
        decompose(_daily(np.full(50, 3.0)), periods=7)
    with pytest.raises(ValueError, match="too short"):
        decompose(_daily([1.0, 2.0, 3.0]), periods=2)
    with pytest.raises(ValueError, match="no period fits"), pytest.warns(UserWarning, match="dropped"):
        decompose(_weekly_plus_yearly(n=100), periods=(365,))
    with pytest.raises(ValueError, match="integer >= 2"):
        decompose(_weekly_plus_yearly(n=100), periods=(1,))


def test_period_without_two_cycles_is_dropped_with_warning():
    with pytest.warns(UserWarning, match="period 365 dropped"):
        d = decompose(_weekly_plus_yearly(n=730), periods=(7, 365))  # exactly 2 cycles: not more than 2
    assert d.periods == (7,) and 365 in d.dropped_periods and d.method == "STL"


def test_the_dropped_period_warning_is_typed():
    """F7: the notebook hides this one warning by its class (not every UserWarning of crm_analysis.seasonality);
    decompose_quietly ignores only it."""
    from crm_analysis.exceptions import CRMAnalysisWarning, DroppedPeriodWarning
    from crm_analysis.seasonality import decompose_quietly

    assert issubclass(DroppedPeriodWarning, CRMAnalysisWarning) and issubclass(DroppedPeriodWarning, UserWarning)
    with pytest.warns(DroppedPeriodWarning, match="period 365 dropped"):
        decompose(_weekly_plus_yearly(n=730), periods=(7, 365))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = decompose_quietly(_weekly_plus_yearly(n=730), periods=(7, 365))
    assert 365 in d.dropped_periods


def test_strength_table_and_plot():
    from matplotlib.figure import Figure

    d = decompose(_weekly_plus_yearly(n=400), periods=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d2 = decompose(_weekly_plus_yearly(n=400, seed=3), periods=(7, 365))
    t = strength_table({"a": d, "b": d2})
    assert list(t.index) == ["a", "b"] and "seasonal_7" in t
    assert isinstance(d.plot(), Figure)
    assert list(d.seasonal_profile(7).index) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
