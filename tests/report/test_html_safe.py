"""Text from the data or the configuration is shown as text in the reports, never as HTML (finding B9)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from crm_analysis.report.cli import EXIT_OK, main
from crm_analysis.runtime.html_safe import escape_text, styled

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TRICKY = ["set timezone: <IANA name> in the data spec", "<b>bold</b> & <script>alert(1)</script>", "a > b < c"]


@pytest.mark.parametrize("text", TRICKY)
def test_styled_tables_escape_values_labels_and_names(text):
    df = pd.DataFrame({text: [text, None], "n": [1.5, 2.0]}, index=pd.Index([text, "x"], name=text))
    for styler in (styled(df), styled(df, {"n": "{:.2f}"}, na_rep="-"), styled(df, na_rep="-").hide(axis="index"),
                   styled(df[["n"]], "{:,.1f}").format("{:.0f}", subset=["n"])):
        page = styler.to_html()
        for tag in ("<b>", "<script>", "<IANA", "<iana", "b < c"):
            assert tag not in page
        assert escape_text(text) in page
    # the same table through pandas' own Styler writes the text as it is: the helper is needed
    assert text in df.style.to_html()


def test_escape_text_keeps_the_words():
    assert escape_text("set timezone: <IANA name> & retry") == "set timezone: &lt;IANA name&gt; &amp; retry"
    assert escape_text(5) == "5"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_style_tables_only_through_the_escaping_helper(path):
    """``df.style`` writes text unescaped; every styled table of the notebooks goes through ``styled``."""
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert not re.search(r"\.style\b", code), f"{path.name} uses .style directly; use crm_analysis.runtime.html_safe.styled"
    assert "Markdown(" not in code or "styled" in code or "escape_text" in code


@pytest.mark.slow
@pytest.mark.notebook
def test_a_message_with_angle_brackets_reaches_the_data_quality_report_whole(tmp_path, capsys):
    """The newcomer's case: times with UTC offsets and no declared zone; the cleaning table's message says
    ``set timezone: <IANA name>``, which the report showed as "set timezone: " before."""
    data = tmp_path / "dst.csv"
    data.write_text("Client,OrderDate,Total\n"
                    "a,2024-03-30 23:30+01:00,10\na,2024-03-31 23:30+02:00,10\nb,2024-10-27 23:30+01:00,5\n")
    raw = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    raw.update(project_root=str(ROOT), reports_dir=str(tmp_path / "reports"))
    raw["data"] = {"transactions": {"loader": "csv", "path": str(data),
                                    "columns": {"customer_id": "Client", "timestamp": "OrderDate", "amount": "Total"}},
                   "bookings": {"loader": "none"}}
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main(["report", "--config", str(cfg), "--quiet", "--only", "data_quality"]) == EXIT_OK, \
        capsys.readouterr().err
    (page,) = (tmp_path / "reports" / "runs").glob("*/html/00_data_quality.html")
    text = page.read_text()
    assert "set timezone: &lt;IANA name&gt;" in text
    assert "<iana" not in text.lower()
