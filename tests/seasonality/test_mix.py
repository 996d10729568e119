import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import booking_series, mix_table, peak_trough_mix, weekday_month_mix


def _wide():
    idx = pd.date_range("2024-01-01", periods=366, freq="D")
    wd = idx.day_of_week
    corporate = np.where(wd < 5, 30.0, 2.0)  # mid-week
    leisure = np.where(wd >= 5, 40.0, 5.0)  # weekends
    groups = np.where(np.isin(idx.month, [4, 5, 9, 10]), 20.0, 1.0)  # shoulder months
    return pd.DataFrame({"Corporate": corporate, "Leisure": leisure, "Groups": groups}, index=idx)


@pytest.mark.parametrize("across", ["weekday", "month"])
def test_shares_sum_to_one(across, bookings):
    m = mix_table(booking_series(bookings, by="segment"), across=across)
    np.testing.assert_allclose(m.shares.sum(axis=1), 1.0)
    assert m.counts.to_numpy().sum() == pytest.approx(booking_series(bookings).values.sum())


def test_mix_finds_known_pattern():
    m = mix_table(_wide(), across="weekday")
    assert m.shares["Corporate"].idxmax() in ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert m.shares.loc["Sat", "Leisure"] > 0.5 and m.index.loc["Sun", "Leisure"] > 1
    mm = mix_table(_wide(), across="month")
    assert set(mm.shares["Groups"].nlargest(4).index) == {"Apr", "May", "Sep", "Oct"}


def test_weekday_month_grid():
    g = weekday_month_mix(_wide(), group="Leisure")
    assert g.table.shape == (7, 12)
    assert (g.table.loc["Sat"] > g.table.loc["Tue"]).all()
    mean = weekday_month_mix(_wide())
    assert mean.table.loc["Mon", "Jan"] == pytest.approx(30 + 5 + 1)


def test_peak_trough_mix():
    p = peak_trough_mix(_wide(), share=0.1)
    np.testing.assert_allclose(p.table[["share_peak", "share_trough", "share_all"]].sum(), 1.0)
    # peaks are shoulder-month weekends: leisure and groups over-represented
    assert p.table.loc["Leisure", "lift_peak"] > 1 and p.table.loc["Groups", "lift_peak"] > 1
    assert p.table.loc["Corporate", "lift_trough"] > 1
    assert p.n_peak >= 36
    w = peak_trough_mix(_wide(), freq="W", share=0.2)
    assert w.freq == "W"


def test_mix_needs_groups(bookings):
    with pytest.raises(ValueError, match="grouped"):
        mix_table(booking_series(bookings))


def test_plots(bookings):
    from matplotlib.figure import Figure

    s = booking_series(bookings, by="segment")
    assert isinstance(mix_table(s).plot(), Figure)
    assert isinstance(weekday_month_mix(s, group="Groups").plot(), Figure)
    assert isinstance(peak_trough_mix(s).plot(), Figure)


def test_heatmaps_label_what_they_show_with_thousands_separators():
    """Issue #17: a revenue mix said "share of demand"; heatmap numbers had no thousands separators."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from crm_analysis.seasonality.mix import MixTable, WeekdayMonthMix

    grid = pd.DataFrame(np.full((7, 12), 12345.6), index=list("MTWTFSS"), columns=range(1, 13))
    fig = WeekdayMonthMix(grid, "mean", None, "all", "revenue").plot()
    assert fig.axes[0].texts[0].get_text() == "12,346" and fig.axes[1].get_ylabel() == "revenue per day"
    plt.close(fig)
    counts = pd.DataFrame({"UK": [3000.0, 1000.0], "FR": [1000.0, 1000.0]}, index=["Mon", "Tue"])
    shares = counts.div(counts.sum(axis=1), axis=0)
    mix = MixTable(counts, shares, shares, counts.sum(axis=1), "weekday", "country", "revenue")
    fig = mix.plot(value="shares")
    assert fig.axes[1].get_ylabel() == "share of revenue" and fig.axes[0].texts[0].get_text() == "75%"
    plt.close(fig)
    fig = mix.plot(value="counts")
    assert fig.axes[0].texts[0].get_text() == "3,000"
    plt.close(fig)


# pool_mix_groups: the pooling of notebook 30's revenue mix, moved into the package (n13 finding F9)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(groups=st.lists(st.sampled_from(list("abcdefghij") + [None]), min_size=1, max_size=40),
       amounts=st.lists(st.integers(0, 10_000).map(float), min_size=40, max_size=40),  # sums exact: ties too
       top=st.integers(1, 12))
def test_pool_mix_groups_keeps_the_top_groups_by_revenue(groups, amounts, top):
    """Same rows and amounts; the kept groups are the ``top`` largest by revenue (recomputed here by sorting),
    with their rows unchanged; every other row (missing values too) is labelled ``other``."""
    from crm_analysis.seasonality import pool_mix_groups

    tx = pd.DataFrame({"channel": pd.Series(groups, dtype=object), "amount": amounts[:len(groups)]})
    out = pool_mix_groups(tx, "channel", top=top)
    assert out.index.equals(tx.index) and out["amount"].equals(tx["amount"]) and tx["channel"].isna().sum() == \
        sum(g is None for g in groups)  # the input is not changed
    revenue = {}
    for g, a in zip(groups, tx["amount"]):
        if g is not None:
            revenue[g] = revenue.get(g, 0.0) + a
    kept = set(out["channel"]) - {"other"}
    assert len(kept) == min(top, len(revenue)) and kept <= set(revenue)
    smallest_kept = min((revenue[g] for g in kept), default=np.inf)
    assert all(revenue[g] <= smallest_kept for g in set(revenue) - kept)  # no pooled group earns more
    unchanged = tx["channel"].isin(kept)
    assert out.loc[unchanged, "channel"].equals(tx.loc[unchanged, "channel"])
    assert (out.loc[~unchanged, "channel"] == "other").all()


def test_pool_mix_groups_refuses_a_missing_column_and_a_bad_top():
    from crm_analysis.seasonality import pool_mix_groups

    tx = pd.DataFrame({"channel": ["web", "shop"], "amount": [1.0, 2.0]})
    with pytest.raises(ValueError, match="column='country' is not a column of the transactions"):
        pool_mix_groups(tx, "country")
    with pytest.raises(ValueError, match="mix_top must be a positive integer.*got 0"):
        pool_mix_groups(tx, "channel", top=0)
    assert pool_mix_groups(tx, "channel", top=1)["channel"].tolist() == ["other", "shop"]
