"""The report check: pure-Python links/images (always) and headless Chromium (when installed)."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from crm_analysis.report.browser import check_in_browser, check_links, main

# a 1x1 PNG
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _page(title: str, body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def _site(root: Path, *, broken: bool) -> Path:
    """``root/index.html`` linking to ``runs/r1/html/a.html``; with ``broken`` each kind of fault once."""
    page_dir = root / "runs" / "r1" / "html"
    page_dir.mkdir(parents=True)
    (root / "runs" / "r1" / "run.log").write_text("log")
    good_img = f'<img alt="fig" src="data:image/png;base64,{PIXEL}">'
    body = f'<h1 id="top">A</h1><p>text</p>{good_img}<a href="#top">top</a><a href="../../../index.html">back</a>'
    head = ""
    if broken:
        body += ('<img alt="bad" src="data:image/png;base64,AAAA">'  # decodes, but is no image
                 '<img alt="gone" src="missing.png">'
                 '<a href="#nowhere">x</a><a href="nothing.html">y</a>')
        head = '<script src="https://cdn.example.invalid/lib.js"></script>'
    (page_dir / "a.html").write_text(_page("Page A", body, head))
    index = _page("Index", '<h1>Index</h1><a href="runs/r1/html/a.html">A</a> <a href="runs/r1/">files</a>'
                  ' <a href="runs/r1/run.log">log</a> <a href="https://example.org/">web link</a>')
    (root / "index.html").write_text(index)
    return root


def test_link_check_passes_a_clean_site(tmp_path: Path) -> None:
    checks = check_links(_site(tmp_path, broken=False))
    assert [c.path.name for c in checks] == ["index.html", "a.html"]
    assert all(c.ok for c in checks), [c.problems for c in checks]
    assert checks[1].images == 1 and checks[1].title == "Page A"


def test_link_check_finds_every_fault(tmp_path: Path) -> None:
    checks = {c.path.name: c for c in check_links(_site(tmp_path, broken=True))}
    assert checks["index.html"].ok
    problems = "\n".join(checks["a.html"].problems)
    assert "broken anchor: #nowhere" in problems
    assert "broken link: nothing.html" in problems
    assert "broken image: missing.png" in problems
    assert "<script> loads from the network: https://cdn.example.invalid/lib.js" in problems
    assert len(checks["a.html"].problems) == 4  # the undecodable-but-base64 image is only caught by the browser


def test_link_check_without_index(tmp_path: Path) -> None:
    (check,) = check_links(tmp_path)
    assert not check.ok and "does not exist" in check.problems[0]
    assert main([str(tmp_path), "--no-browser"]) == 1


def test_browser_check_passes_a_clean_site_and_takes_a_screenshot(tmp_path: Path, chromium: Path) -> None:
    root = _site(tmp_path / "site", broken=False)
    shot = tmp_path / "index.png"
    checks = check_in_browser(root, screenshot=shot, window_size=(800, 600))
    assert [c.path.name for c in checks] == ["index.html", "a.html"]
    assert all(c.ok for c in checks), [c.problems for c in checks]
    assert checks[1].images == 1 and checks[1].title == "Page A"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (800, 600)


def test_browser_check_finds_network_requests_and_broken_images(tmp_path: Path, chromium: Path) -> None:
    root = _site(tmp_path / "site", broken=True)
    checks = {c.path.name: c for c in check_in_browser(root)}
    assert checks["index.html"].ok, checks["index.html"].problems
    problems = "\n".join(checks["a.html"].problems)
    assert "request to the network: https://cdn.example.invalid/lib.js" in problems
    assert problems.count("image did not render") == 2  # the non-image data URI and the missing file
    assert base64.b64decode(PIXEL)  # (the good pixel rendered: not among the problems)
    assert "data:image/png;base64,iVBOR" not in problems


def _layout_site(root: Path) -> Path:
    """An index linking to a page with every layout fault of issue #17 once, and a clean one."""
    root.mkdir(parents=True)
    wide = "<table><tr>" + "".join(f"<td>column{i:02d}_value</td>" for i in range(60)) + "</tr></table>"
    clipped = ('<div style="width:80px; overflow:hidden; white-space:nowrap">12078 cancelled booking(s) '
               'left out (include_cancelled=False)</div>')
    ellipsis = '<table><tr><td>responsive to lo...</td></tr></table>'
    code = "<p>Mean p_alive of the segment</p>"
    (root / "bad.html").write_text(_page("Bad", wide + clipped + ellipsis + code))
    scroll = ('<div style="overflow-x:auto; max-width:600px"><table><tr>'
              + "".join(f"<td>v{i}</td>" for i in range(200)) + "</tr></table></div><p>P(alive) 0.93</p>")
    (root / "good.html").write_text(_page("Good", scroll))
    (root / "index.html").write_text(_page("Index", '<a href="bad.html">bad</a> <a href="good.html">good</a>'))
    return root


def test_browser_check_finds_layout_faults_and_screenshots_every_page(tmp_path: Path, chromium: Path) -> None:
    root = _layout_site(tmp_path / "site")
    shots = tmp_path / "shots"
    checks = {c.path.name: c for c in check_in_browser(root, window_size=(1024, 768), screenshot_dir=shots,
                                                         forbidden_words=["p_alive", "monetary_value"])}
    assert checks["index.html"].ok and checks["good.html"].ok, checks["good.html"].problems
    problems = "\n".join(checks["bad.html"].problems)
    assert "wider than the 1024 px window" in problems
    assert "text cut off by its box: div: 12078 cancelled booking(s)" in problems
    assert "text truncated with '...': responsive to lo..." in problems
    assert "code name shown to readers: p_alive" in problems
    assert "monetary_value" not in problems  # whole words only, and only those shown
    assert sorted(p.name for p in shots.iterdir()) == ["bad.png", "good.png", "index.png"]


def _fault_pages(root: Path) -> dict[str, tuple[str, str]]:
    """Each new fault of issue #17 as a small page that must fail, and the same page fixed, which must pass."""
    long_text = "12078 cancelled booking(s) left out because the parameter says so, in one long line of text"
    wide_cells = "".join(f"<td>v{i:03d}</td>" for i in range(150))
    return {
        # a cell whose text is wider than the cell (fixed layout, no wrapping), no scroll box around it
        "cell": (f'<table style="table-layout:fixed; width:300px"><tr><td style="white-space:nowrap">{long_text}'
                 f"</td><td>x</td></tr></table>",
                 f'<table style="table-layout:fixed; width:300px"><tr><td style="overflow-wrap:anywhere">{long_text}'
                 f"</td><td>x</td></tr></table>"),
        # a wide table that pushes the page wider than the window; fixed: it scrolls in its own box
        "wide": (f"<table><tr>{wide_cells}</tr></table>",
                 f'<div class="crm-table-scroll" style="overflow-x:auto; max-width:100%"><table><tr>{wide_cells}'
                 f"</tr></table></div>"),
        # an ellipsis by CSS; fixed: the text wraps
        "ellipsis": (f'<div style="width:120px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap">{long_text}</div>',
                     f'<div style="width:120px; overflow-wrap:anywhere">{long_text}</div>'),
        # a raw column name in a table header; fixed: its label, the raw name only where marked (glossary, code)
        "raw": ("<table><tr><th>monetary_value</th></tr><tr><td>12.50</td></tr></table>",
                "<table><tr><th>Mean repeat purchase value (EUR)</th></tr><tr><td>12.50</td></tr></table>"
                "<table data-crm-raw><tr><td>monetary_value</td></tr></table><p>Parameter <code>p_alive</code>.</p>"),
    }


def test_each_layout_fault_fails_and_its_fix_passes(tmp_path: Path, chromium: Path) -> None:
    """One browser start for all faults: ``bad_<fault>.html`` must fail with its message, ``good_<fault>.html`` pass."""
    from crm_analysis.report.browser import default_forbidden_words

    root = tmp_path / "site"
    root.mkdir()
    pages = _fault_pages(tmp_path)
    links = []
    for fault, (bad, good) in pages.items():
        (root / f"bad_{fault}.html").write_text(_page("Bad", bad))
        (root / f"good_{fault}.html").write_text(_page("Good", good))
        links += [f'<a href="bad_{fault}.html">b</a>', f'<a href="good_{fault}.html">g</a>']
    (root / "index.html").write_text(_page("Index", " ".join(links)))
    checks = {c.path.name: c for c in check_in_browser(root, window_size=(1024, 768),
                                                         forbidden_words=default_forbidden_words())}
    expected = {"cell": "text wider than its table cell", "wide": "wider than the 1024 px window",
                "ellipsis": "text cut off by its box", "raw": "code name shown to readers: monetary_value"}
    for fault, message in expected.items():
        assert checks[f"good_{fault}.html"].ok, (fault, checks[f"good_{fault}.html"].problems)
        bad = checks[f"bad_{fault}.html"].problems
        assert any(message in p for p in bad), (fault, bad)


@pytest.mark.slow
def test_cli_checks_raw_names_by_default_and_screenshots_every_page(tmp_path: Path, chromium: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "a.html").write_text(_page("A", "<p>Mean p_alive</p>"))
    (root / "index.html").write_text(_page("Index", '<a href="a.html">a</a>'))
    assert main([str(root)]) == 1
    assert sorted(p.name for p in (root / "screenshots").iterdir()) == ["a.png", "index.png"]
    assert main([str(root), "--allow-raw-names"]) == 0
