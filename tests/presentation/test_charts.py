"""Charts: glossary labels, currency on money axes, thousands separators; the figure hook of the display."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from crm_analysis.presentation import Units, format_axis, install_display, polish_figure  # noqa: E402


def _fig(ylabel: str, top: float):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, top])
    ax.set(ylabel=ylabel, xlabel="monetary_value", title="p_alive over time")
    fig.canvas.draw()
    return fig, ax


def test_polish_figure_labels_units_and_separators() -> None:
    fig, ax = _fig("expected revenue uplift per night", 250_000)
    polish_figure(fig, units=Units("GBP"))
    fig.canvas.draw()
    assert ax.get_ylabel() == "expected revenue uplift per night (GBP)"
    assert ax.get_xlabel() == "Mean repeat purchase value (GBP)" and "p_alive" not in ax.get_title()
    assert "100,000" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)


def test_polish_figure_leaves_shares_and_small_numbers() -> None:
    fig, ax = _fig("share of revenue", 0.8)
    before = [t.get_text() for t in ax.get_yticklabels()]
    polish_figure(fig, units=Units("GBP"))
    fig.canvas.draw()
    assert ax.get_ylabel() == "share of revenue" and [t.get_text() for t in ax.get_yticklabels()] == before
    plt.close(fig)


def test_format_axis_money_and_share() -> None:
    fig, ax = _fig("Revenue", 5000)
    format_axis(ax, axis="y", kind="money", units=Units("USD"))
    format_axis(ax, axis="x", kind="share", label="Share")
    fig.canvas.draw()
    assert ax.get_ylabel() == "Revenue (USD)" and "5,000" in [t.get_text() for t in ax.get_yticklabels()]
    assert ax.get_xlabel() == "Share" and "100%" in [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)


def test_display_hook_polishes_figures_of_the_inline_printer() -> None:
    from IPython.core.formatters import DisplayFormatter
    from matplotlib.figure import Figure

    class Shell:
        display_formatter = DisplayFormatter()

    shell = Shell()
    seen = []
    shell.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: seen.append(fig.axes[0].get_ylabel()))
    undo = install_display(units=Units("EUR"), shell=shell)
    fig, _ = _fig("revenue", 10)
    shell.display_formatter.formatters["image/png"](fig)
    assert seen == ["revenue (EUR)"]
    undo()
    plt.close(fig)


def test_figures_the_inline_backend_prints_later_are_polished() -> None:
    """The inline backend registers its printer at the first figure (after the hook): IPython's print_figure polishes."""
    from IPython.core import pylabtools
    from IPython.core.formatters import DisplayFormatter

    class Shell:
        display_formatter = DisplayFormatter()

    undo = install_display(units=Units("USD"), shell=Shell())
    fig, ax = _fig("revenue", 10)
    data = pylabtools.print_figure(fig, "png")
    assert data[:4] == b"\x89PNG" and ax.get_ylabel() == "revenue (USD)"
    undo()
    plt.close(fig)
