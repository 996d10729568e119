"""The README's layout table names every subpackage and every notebook of the chain (a newcomer found no word of the
IDIC step, issue 16: neither profitability / campaigns / recommend / idic nor 25_idic were listed)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Internal subpackages a user does not call (run by the chain or the other parts).
INTERNAL = {"runtime", "presentation", "__pycache__"}


def _layout_row(first_cell: str) -> str:
    text = (ROOT / "README.md").read_text()
    row = re.search(rf"^\| `{re.escape(first_cell)}` \|(.*)$", text, flags=re.M)
    assert row, f"README layout table has no row for {first_cell}"
    return row.group(1)


def test_readme_lists_every_notebook_of_the_chain():
    row = _layout_row("notebooks/")
    missing = [p.stem for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if f"`{p.stem}`" not in row]
    assert not missing, f"README layout: notebooks not listed: {missing}"


def test_readme_lists_every_public_subpackage():
    row = _layout_row("crm_analysis/")
    subs = [p.name for p in sorted((ROOT / "crm_analysis").iterdir())
            if p.is_dir() and (p / "__init__.py").exists() and p.name not in INTERNAL]
    missing = [s for s in subs if f"`{s}`" not in row]
    assert not missing, f"README layout: subpackages not listed: {missing}"
