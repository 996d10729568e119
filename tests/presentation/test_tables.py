"""display_table: labels, formats, escaped HTML in a scroll box; the display hook of IPython."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_analysis.presentation import SCROLL_CLASS, Units, display_table, install_display


def test_labels_and_formats_by_kind() -> None:
    df = pd.DataFrame({"revenue": [8798233.74, 12.5], "p_alive": [0.2113, 1.0], "frequency": [3, 1200],
                       "segment": ["return_or_cancellation", "Champions"]})
    t = display_table(df, units=Units("GBP"))
    assert list(t.frame.columns) == ["Revenue (GBP)", "P(alive) (%)", "Repeat purchases", "Segment"]
    assert t.frame.iloc[0].tolist() == ["8,798,234", "21.1%", "3", "Return or cancellation"]
    assert t.frame.iloc[1].tolist() == ["13", "100.0%", "1,200", "Champions"]  # one rounding per money column
    assert not t.show_index


def test_html_is_escaped_and_in_a_scroll_box() -> None:
    t = display_table(pd.DataFrame({"note": ["set timezone: <IANA name>"]}, index=pd.Index(["<b>"], name="x")))
    page = t.to_html()
    assert page.startswith(f'<div class="{SCROLL_CLASS}">') and "&lt;IANA name&gt;" in page and "<b>" not in page


def test_overrides_and_bad_kind() -> None:
    t = display_table(pd.DataFrame({"x_y": [0.5]}), kinds={"x_y": "share"}, labels={"x_y": "Half"})
    assert t.frame.to_dict("list") == {"Half": ["50.0%"]}
    with pytest.raises(ValueError, match=r"unknown kind\(s\) \{'x_y': 'pct'\}"):
        display_table(pd.DataFrame({"x_y": [1]}), kinds={"x_y": "pct"})


def test_install_display_routes_frames_and_styled_tables() -> None:
    from IPython.core.formatters import DisplayFormatter

    class Shell:
        display_formatter = DisplayFormatter()

    shell = Shell()
    undo = install_display(units=Units("USD"), shell=shell)
    html = shell.display_formatter.formatters["text/html"]
    page = html(pd.DataFrame({"monetary_value": [1.5]}))
    assert "Mean repeat purchase value (USD)" in page and "monetary_value" not in page
    styled = html(pd.DataFrame({"p_alive": [0.5]}).style.format("{:.2f}"))
    assert "P(alive) (%)" in styled and SCROLL_CLASS in styled
    undo()
    assert "monetary_value" in html(pd.DataFrame({"monetary_value": [1.5]}))


def test_styled_tables_with_multi_level_index_get_labels() -> None:
    from crm_analysis.presentation.tables import _relabel_styler

    idx = pd.MultiIndex.from_tuples([("peak", "return_or_cancellation"), ("low", "x")], names=["season", "fare_class"])
    page = _relabel_styler(pd.DataFrame({"fare": [1.0, 2.0]}, index=idx).style.format("{:.1f}"), Units("EUR"))
    assert "fare_class" not in page and "Fare class" in page and "Return or cancellation" in page
    assert "Fare (EUR)" in page and "1.0" in page  # number formats kept


def test_styled_money_columns_follow_the_money_rule() -> None:
    from crm_analysis.presentation.tables import _relabel_styler

    df = pd.DataFrame({"amount in": [280376.5, 12.0], "rows in": [9246, 3]})
    page = _relabel_styler(df.style.format({"amount in": "{:,.2f}", "rows in": "{:,}"}), Units("GBP"))
    assert "Amount in (GBP)" in page and "280,377" in page and "280,376.50" not in page and "9,246" in page


def test_styled_pivot_column_axis_name_gets_its_label() -> None:
    """A pivot's column axis name (notebook 45: days_before over the pick-up methods) is relabelled too."""
    from crm_analysis.presentation.tables import _relabel_styler

    df = pd.DataFrame([[0.77, 2.81], [0.80, 2.79]], index=pd.Index(["advanced_additive", "classical_additive"],
                                                                  name="method"),
                      columns=pd.Index([1, 7], name="days_before"))
    page = _relabel_styler(df.style.format("{:.2f}"), Units("EUR"))
    assert "days_before" not in page and "Days before the night" in page
    assert "advanced_additive" not in page and "Advanced pick-up, additive" in page and "2.81" in page


def _share_names() -> list[str]:
    from crm_analysis.presentation import GLOSSARY

    return sorted(n for n, t in GLOSSARY.items() if t.kind == "share")


@pytest.mark.parametrize("fmt", ["{:.2f}", "{:.4f}", "{:,.3f}"])
def test_styled_share_columns_are_shown_in_per_cent_under_their_per_cent_header(fmt: str) -> None:
    """Issue 17 (n17 F1): a fraction formatted by the notebook (0.96) sat under the label "P(alive) (%)".

    Every share of the glossary, formatted any way by the notebook, is shown as per cent (96.0%).
    """
    from crm_analysis.presentation import label
    from crm_analysis.presentation.tables import _relabel_styler

    names = _share_names()
    assert {"p_alive", "mean_p_alive", "rate_treated", "antecedent_support"} <= set(names)
    df = pd.DataFrame({n: [0.9612, 0.0321] for n in names})
    page = _relabel_styler(df.style.format(fmt), Units("EUR"))
    for n in names:
        assert label(n).endswith("(%)") or "%" in label(n)
    assert page.count("96.1%") == len(names) and page.count("3.2%") == len(names)
    assert "0.96" not in page and "0.03" not in page


def test_numbers_in_an_object_column_keep_the_notebooks_format() -> None:
    """Issue 17 (n17 F3): a table transposed from a dict (the yield report's group request) holds its figures in
    object columns; their format was replaced by str(), showing 131.31030177330106 and 3853.6388378631673."""
    from crm_analysis.presentation.tables import _relabel_styler

    df = pd.DataFrame({"peak": {"expected demand per night": 131.31030177330106, "group revenue": 3853.6388378631673,
                                "break-even rate": 87.62348842575093, "decision": "reject"},
                       "low": {"expected demand per night": 25.875360791158784, "group revenue": 3853.6388378631673,
                               "break-even rate": 0.011150875832330105, "decision": "accept"}}).T
    assert df["group revenue"].dtype == object
    page = _relabel_styler(df.style.format({"expected demand per night": "{:,.1f}", "group revenue": "{:,.0f}",
                                            "break-even rate": "{:,.2f}"}), Units("GBP"))
    assert "131.3" in page and "131.31030177330106" not in page and "3,854" in page
    assert "Group revenue (GBP)" in page and "Break-even rate per room-night (GBP)" in page
    assert "87.62" in page and "0.01" in page and "0.011150875832330105" not in page and "reject" in page


def test_styled_replay_tables_show_money_with_the_currency_and_occupancy_in_per_cent() -> None:
    """Issue 17 (n17 F3/F4): the synthetic hotel's replay showed 83.118407, 0.111552 and 104.324424 (no format, no
    currency); the columns of the booking-horizon replay are money (RevPAR, ADR) and shares (occupancy)."""
    from crm_analysis.presentation.tables import _relabel_styler

    df = pd.DataFrame({"net_revpar": [83.118407], "net_revpar_ci": [0.111552], "adr": [104.324424],
                       "occupancy": [0.797], "streams": [2]}, index=pd.Index(["FCFS"], name="policy"))
    page = _relabel_styler(df.style.format({"occupancy": "{:.1%}"}), Units("USD"))
    for text in ("Net RevPAR (USD)", "83.12", "0.11", "ADR (USD)", "104.32", "Occupancy (%)", "79.7%"):
        assert text in page, text
    assert "83.118407" not in page and "104.324424" not in page


def test_clv_and_its_interval_share_the_currency_and_the_rounding() -> None:
    """Issue 17 (n17 F4): Online Retail's top customers showed 'CLV (GBP) 68,530' beside 'CLV lower 40,750.44'."""
    from crm_analysis.presentation.tables import _relabel_styler

    df = pd.DataFrame({"clv": [68530.2], "clv_lower": [40750.44], "clv_upper": [100732.14]})
    page = _relabel_styler(df.style.format("{:,.2f}"), Units("GBP"))
    for text in ("CLV (GBP)", "CLV, lower end of the prediction interval (GBP)",
                 "CLV, upper end of the prediction interval (GBP)",
                 "68,530", "40,750", "100,732"):
        assert text in page, text
    assert "40,750.44" not in page
