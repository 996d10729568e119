"""Index page, value formatting and the HTML table of contents (no kernel)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import pandas as pd
import pytest

from crm_analysis.report.index import collect_runs, load_headlines, render_index, segment_sizes
from crm_analysis.runtime.figures import format_figure, format_value, infer_kind
from crm_analysis.report.render import add_toc


def _run(reports: Path, run_id: str, status: str, started: str, title: str = "t") -> Path:
    d = reports / "runs" / run_id
    (d / "artifacts").mkdir(parents=True)
    (d / "html").mkdir()
    rec = {"run_id": run_id, "title": title, "status": status, "started": started, "finished": started,
           "seed": 1, "as_of": "2024-12-31", "package_version": "0.1.0", "python_version": "3.11.0",
           "data_sources": {"transactions": {"loader": "synthetic"}},
           "notebooks": [{"name": "first", "source": "/x/notebooks/00_first.ipynb", "status": status,
                          "html": "html/00_first.html", "output": "00_first.ipynb", "duration_s": 1.5,
                          "parameters": {"seed": 1, "alpha": 0.5}}]}
    (d / "run.json").write_text(json.dumps(rec))
    return d


def test_collect_runs_newest_first_and_tolerates_broken_records(tmp_path: Path) -> None:
    _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00")
    _run(tmp_path, "20240102T000000-bbbb", "failed", "2024-01-02T00:00:00")
    broken = tmp_path / "runs" / "20240103T000000-cccc"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    runs = collect_runs(tmp_path)
    assert [r["run_id"] for r in runs][:2] == ["20240102T000000-bbbb", "20240101T000000-aaaa"]
    assert {r["run_id"]: r["status"] for r in runs}["20240103T000000-cccc"] == "unknown"
    assert collect_runs(tmp_path / "nowhere") == []


def test_index_shows_headlines_parameters_history_and_escapes(tmp_path: Path) -> None:
    ok = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00", title="<b>Shop</b> & co")
    _run(tmp_path, "20240102T000000-bbbb", "failed", "2024-01-02T00:00:00")
    (ok / "artifacts" / "headlines.json").write_text(json.dumps(
        {"first": {"customers": {"value": 23570, "label": "Customers <all>"}, "share": {"value": 0.4567, "label": "Top share"}}}))
    page = render_index(ok, reports_dir=tmp_path)
    assert "&lt;b&gt;Shop&lt;/b&gt; &amp; co" in page and "<b>Shop</b>" not in page
    assert "Customers &lt;all&gt;" in page and "23,570" in page and "45.7%" in page  # a share shows as per cent
    assert 'href="runs/20240101T000000-aaaa/html/00_first.html"' in page
    assert 'href="runs/20240102T000000-bbbb/"' in page and "alpha = 0.5" in page
    inner = render_index(ok)  # the copy inside the run folder links relative to it
    assert 'href="html/00_first.html"' in inner and 'href="../20240102T000000-bbbb/"' in inner


@given(st.integers(-10**12, 10**12))
def test_format_integers_round_trip(n: int) -> None:
    assert int(format_value(n).replace(",", "")) == n


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_format_floats_close(x: float) -> None:
    shown = float(format_value(x).replace(",", ""))
    assert abs(shown - x) <= max(0.5, 0.005 * abs(x))


def test_format_missing() -> None:
    assert format_value(None) == format_value(float("nan")) == "-"


def test_toc_links_every_heading() -> None:
    page = ('<html><body><main><h1 id="Data-quality">Data quality<a class="anchor-link" href="#Data-quality">¶</a></h1>'
            '<p>x</p><h2 id="Sources">Sources</h2><h3 id="A&amp;B">A &amp; B</h3></main></body></html>')
    out = add_toc(page)
    nav = out[out.index('<nav class="crm-toc">'):out.index("</nav>")]
    for anchor in ("#Data-quality", "#Sources", "#A&amp;B"):
        assert f'href="{anchor}"' in nav
    assert "¶" not in nav and out.index("<nav") > out.index("<body>")
    assert add_toc("<body><h1 id='x'>only</h1></body>") == "<body><h1 id='x'>only</h1></body>"


# ------------------------------------------------------- executive summary
# Shape and labels as the notebooks record them (artifacts/headlines.json of a real run).
HEADLINES = {
    "data_quality": {"customers": {"value": 3000, "label": "Customers"},
                     "revenue": {"value": 302778.52999999997, "label": "Revenue (cleaned)"}},
    "rfm_clv": {"total_clv": {"value": 19992.42100427677, "label": "Total CLV, next 52 weeks"},
                "mean_clv": {"value": 6.664140334758923, "label": "Mean CLV per customer"}},
    "segmentation": {"top20_revenue_share": {"value": 0.6359037742867697,
                                             "label": "Share of revenue from the top 20% of customers"}},
    "seasonality": {"strongest_seasonal_cycle": {"value": "365 days",
                                                 "label": "Strongest seasonal cycle of room-nights"}},
}
UPLIFT = {"revenue_uplift_vs_fcfs": {"value": 1.25, "label": "Revenue uplift of best policy (DP) over FCFS, % per night"}}


def _cards(page: str) -> dict[str, str]:
    """data-key -> text of each card in the key-figures section."""
    import re

    section = page[page.index('id="key-figures"'):page.index('id="reports"')]
    out = {}
    for m in re.finditer(r'<div class="card[^"]*" data-key="([^"]+)">(.*?)<div class="src">', section, re.S):
        out[m.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(2))).strip()
    return out


@pytest.mark.parametrize("yield_key", ["yield", "40_yield"])
def test_key_figure_cards_formatted_for_people(tmp_path: Path, yield_key: str) -> None:
    run = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00")
    (run / "artifacts" / "headlines.json").write_text(json.dumps({**HEADLINES, yield_key: UPLIFT}))
    (run / "config.yaml").write_text("units: {currency: GBP}\n")  # the run's currency (issue #17)
    cards = _cards(render_index(run, reports_dir=tmp_path))
    assert cards["data_quality.customers"] == "Customers 3,000"
    # money: the currency, whole pounds from 1,000 up, pence below (one rule in cards, tables, findings)
    assert cards["data_quality.revenue"] == "Revenue (cleaned) GBP 302,779"
    assert cards["segmentation.top20_revenue_share"] == "Share of revenue from the top 20% of customers 63.6%"
    assert cards["rfm_clv.total_clv"] == "Total CLV, next 52 weeks GBP 19,992"
    assert cards["rfm_clv.mean_clv"] == "Mean CLV per customer GBP 6.66"
    assert cards["seasonality.strongest_seasonal_cycle"].endswith("365 days")
    # the label says the value is in per cent already: 1.25 -> 1.2% (not 125%)
    assert cards["yield.revenue_uplift_vs_fcfs"].endswith(" 1.2%") or cards["yield.revenue_uplift_vs_fcfs"].endswith(" 1.3%")


def test_chain_name_wins_over_file_stem_alias(tmp_path: Path) -> None:
    run = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00")
    (run / "artifacts" / "headlines.json").write_text(json.dumps({
        "40_yield": {"a": {"value": 1, "label": "old"}, "b": {"value": 2, "label": "only old"}},
        "yield": {"a": {"value": 3, "label": "new"}}}))
    heads = load_headlines(run)
    assert set(heads) == {"yield"}
    assert heads["yield"]["a"] == {"value": 3, "label": "new"} and heads["yield"]["b"]["value"] == 2


def test_segment_sizes_card(tmp_path: Path) -> None:
    run = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00")
    assert segment_sizes(run) == []
    seg = ["Champions"] * 6 + ["Lost"] * 3 + ["New"]
    pd.DataFrame({"customer_id": [str(i) for i in range(10)], "segment": seg}).to_parquet(
        run / "artifacts" / "segments.parquet")
    sizes = segment_sizes(run)
    assert [(s["segment"], s["customers"]) for s in sizes] == [("Champions", 6), ("Lost", 3), ("New", 1)]
    card = _cards(render_index(run, reports_dir=tmp_path))["segments"]
    assert "3 segments" in card and "Champions 6 60.0%" in card and "New 1 10.0%" in card


def test_history_lists_status_time_duration_seed_as_of(tmp_path: Path) -> None:
    ok = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T10:20:00+00:00")
    rec = json.loads((ok / "run.json").read_text())
    rec.update(duration_s=125.0, seed=11, as_of="2023-06-30")
    (ok / "run.json").write_text(json.dumps(rec))
    page = render_index(ok, reports_dir=tmp_path)
    hist = page[page.index('id="history"'):]
    row = hist[hist.index("20240101T000000-aaaa"):]
    row = row[: row.index("</tr>")]
    for text in ("ok", "2024-01-01 10:20", "2 min 05 s", "11", "2023-06-30"):
        assert text in row, text


@pytest.mark.parametrize(
    ("key", "label", "value", "kind"),
    [
        ("customers", "Customers", 3000, "count"),
        ("revenue", "Revenue (cleaned)", 302778.53, "money"),
        ("top20_clv_share", "Share of CLV from the top 20% of customers", 0.79, "share"),
        ("customers_for_80pct_revenue", "Share of customers producing 80% of revenue", 0.38, "share"),
        ("revenue_uplift_vs_fcfs", "Revenue uplift of best policy (DP) over FCFS, % per night", 0.01, "percent"),
        ("forecast_backtest_mape", "Forecast backtest MAPE of total room-nights (%)", 20.57, "percent"),
        ("gini_revenue", "Gini coefficient of revenue", 0.588, "number"),
        ("group_break_even_rate_peak", "Break-even group rate per room-night, peak season", 48.24, "money"),
        ("largest_segment", "Largest segment", "Champions", "text"),
    ],
)
def test_infer_kind_on_the_notebooks_labels(key: str, label: str, value, kind: str) -> None:
    assert infer_kind(key, label, value) == kind


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_money_has_the_currency_and_round_trips(x: float) -> None:
    text = format_figure(x, "money")
    assert text.startswith("EUR ")
    decimals = 0 if x >= 1000 else 2
    assert (len(text.rsplit(".", 1)[1]) if "." in text else 0) == decimals
    assert abs(float(text[4:].replace(",", "")) - x) <= 0.5 * 10.0**-decimals + 1e-9 * x


@given(st.floats(min_value=0, max_value=1, allow_nan=False))
def test_share_shows_per_cent(x: float) -> None:
    text = format_figure(x, "share")
    assert text.endswith("%")
    assert abs(float(text[:-1]) / 100 - x) <= max(0.0005, 0.01 * x)


def test_format_figure_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        format_figure(1, "furlongs")
    assert format_figure(None, "money") == format_figure(float("nan"), "share") == "-"
    assert format_figure(1234.4, "count") == "1,234"


def _declared_headlines() -> list[tuple[str, str]]:
    from crm_analysis.contracts import HEADLINES
    from crm_analysis.yield_management import HORIZON_HEADLINES

    keys = [(s.key, s.label) for specs in HEADLINES.values() for s in specs if "{" not in s.key]  # not templated
    return keys + list(HORIZON_HEADLINES.items())


@pytest.mark.parametrize(("key", "label"), _declared_headlines())
@pytest.mark.parametrize("value", [0.6947, 3, 1234.5])
def test_index_shows_every_declared_headline_in_its_glossary_kind(key: str, label: str, value) -> None:
    """Issue 17 (n17 F2): the index guessed 'money' from the word 'rate' and showed a hit rate as "EUR 0.69".

    A headline with a glossary entry is shown in the glossary's kind: a share in per cent, never with a currency
    unless the glossary says money.
    """
    from crm_analysis.presentation import Units, term

    t = term(key)
    assert t is not None, f"{key} has no glossary entry"
    text = format_figure(value, infer_kind(key, label, value), units=Units("GBP"))
    assert text.startswith("GBP ") == (t.kind == "money"), (key, text)
    if t.kind == "share":
        assert text.endswith("%") and text.startswith(f"{100 * value:,.1f}"[:3]), (key, text)


def test_a_long_text_headline_wraps_instead_of_widening_the_page(tmp_path: Path) -> None:
    """Issue 17 (n17 F7): on Online Retail the text headline 'tie on lowest holdout RMSE (...), broken by ...'
    sat in a no-wrap figure cell and made the index 326 px wider than the window (check-report failed)."""
    ok = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00")
    long = "tie on lowest holdout RMSE (BG/NBD, MBG/NBD, Pareto/NBD), broken by fewest estimated parameters " * 2
    (ok / "artifacts" / "headlines.json").write_text(json.dumps(
        {"first": {"purchase_model_chosen_by": {"value": long, "label": "How the purchase model was chosen"},
                   "customers": {"value": 4338, "label": "Customers"}}}))
    page = render_index(ok, reports_dir=tmp_path)
    assert '<td class="txt">tie on lowest' in page and '<td class="num">4,338</td>' in page
    css = page[page.index("td.txt"):]
    assert "nowrap" not in css[: css.index("}")]


def test_error_messages_may_name_parameters(tmp_path: Path) -> None:
    """Issue 17 (n17 F16): a failed run's index failed the report check ("code name shown to readers: as_of")
    because its error message names the parameter to change. Error messages are marked as raw text."""
    bad = _run(tmp_path, "20240102T000000-bbbb", "failed", "2024-01-02T00:00:00")
    rec = json.loads((bad / "run.json").read_text())
    msg = "the history has 28 days: choose a later as_of, or set tx_forecast_days: 0"
    rec["error"] = {"notebook": "first", "message": msg}
    rec["notebooks"][0]["error"] = {"message": msg}
    (bad / "run.json").write_text(json.dumps(rec))
    page = render_index(bad, reports_dir=tmp_path)
    assert page.count(msg) == 2
    for part in page.split(msg)[:-1]:
        tag = part[part.rindex("<"):]
        assert "data-crm-raw" in tag, tag
