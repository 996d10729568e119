"""A column the glossary calls a share is shown as a percent in every styled table of the notebooks.

The report labels a share column with "(%)" (``crm_analysis.presentation.glossary``:
kind ``share``); a notebook that formats it ``"{:.4f}"`` shows 0.2761 under
"Response rate, contacted (%)", which a reader takes for 0.28 % (found by a
newcomer's try-out of issue 16 in 25_idic; the same in 10_rfm_clv and
20_segmentation for P(alive)). The check reads the literal ``{column: format}``
dicts passed to ``styled(...)`` in the notebooks' code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from crm_analysis.presentation.glossary import term

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def share_columns_without_percent(code: str) -> list[tuple[str, str]]:
    """(column, format) pairs of ``styled(df, {...})`` calls where a share column is not formatted as %."""
    bad = []
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "styled" and len(node.args) > 1
                and isinstance(node.args[1], ast.Dict)):
            continue
        for k, v in zip(node.args[1].keys, node.args[1].values):
            if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str):
                t = term(k.value)
                if t is not None and t.kind == "share" and "%" not in v.value:
                    bad.append((k.value, v.value))
    return bad


def test_the_check_finds_a_share_shown_as_a_fraction():
    assert share_columns_without_percent('styled(t, {"rate_treated": "{:.4f}", "uplift": "{:.4f}"})') == [
        ("rate_treated", "{:.4f}")]
    assert share_columns_without_percent('styled(t, {"rate_treated": "{:.2%}"})') == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_share_columns_are_formatted_as_percent(path):
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    bad = [pair for src in cells if "styled" in src for pair in share_columns_without_percent(src)]
    assert not bad, f"{path.name}: share column(s) shown as fractions under a (%) header: {bad}"
