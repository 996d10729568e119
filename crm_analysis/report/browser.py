"""Check the published reports: links, images, offline safety, in Python and in headless Chromium.

Two checks, both starting at ``<reports>/index.html`` and following the local
links to other HTML pages:

* :func:`check_links` (pure Python, always available) parses every page and
  verifies that each local ``href``/``src`` names an existing file, that each
  ``#anchor`` exists on its page, that every image is either an existing file
  or a decodable ``data:`` URI, and that no page loads a script, style sheet,
  image or frame from the network.
* :func:`check_in_browser` loads the index and every page it links to in
  the system's headless Chromium, driven by Playwright (a maintained
  browser-automation library; no browser download: the ``chromium`` package
  of the machine is used). For each page it records whether the page
  loaded, JavaScript exceptions, every request that would leave the machine
  (all ``http(s)`` requests are blocked and reported), failed local requests,
  images that did not render (``naturalWidth == 0``), horizontal overflow of
  the page, text cut off by its box or truncated with ``...``, and raw code
  names in the visible text. It takes a screenshot of the index and, on
  request, of every page.

``python -m crm_analysis.report.browser reports/`` (or ``crm-analysis
check-report``) runs both and exits 0 when no problem was found, 1 when there
were problems, 3 when Chromium could not be run.
"""

from __future__ import annotations

from crm_analysis.exceptions import CRMAnalysisError, SourceNotFoundError

import argparse
import base64
import binascii
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "PageCheck",
    "CheckReport",
    "BrowserError",
    "CHROMIUM_FLAGS",
    "find_chromium",
    "check_links",
    "check_in_browser",
    "check_reports",
    "default_forbidden_words",
    "main",
]

#: Flags of every Chromium start: headless, no network of its own, a fresh profile is added per run.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)

_LOCAL_SCHEMES = {"", "file"}
_HARMLESS_SCHEMES = {"data", "about", "blob", "javascript", "mailto", "chrome", "devtools"}

class BrowserError(CRMAnalysisError, RuntimeError):
    """Chromium is missing, did not start, or stopped answering."""


@dataclass
class PageCheck:
    """Result of checking one page.

    Attributes
    ----------
    path : Path
        The page.
    problems : list of str
        Everything found wrong (empty: the page is fine).
    images : int
        Images on the page.
    links : int
        Links checked on the page.
    title : str
        The page title.
    """

    path: Path
    problems: list[str] = field(default_factory=list)
    images: int = 0
    links: int = 0
    title: str = ""

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


@dataclass
class CheckReport:
    """Result of :func:`check_reports`.

    Attributes
    ----------
    static : list of PageCheck
        Pure-Python link/image check of every page reachable from the index.
    browser : list of PageCheck
        Pages loaded in Chromium (empty when the browser check was not run).
    screenshot : Path or None
        The screenshot of the index.
    browser_skipped : str or None
        Why the browser check did not run.
    screenshot_dir : Path or None
        Where the screenshots of every page were written.
    """

    static: list[PageCheck] = field(default_factory=list)
    browser: list[PageCheck] = field(default_factory=list)
    screenshot: Path | None = None
    browser_skipped: str | None = None
    screenshot_dir: Path | None = None

    @property
    def ok(self) -> bool:
        """Whether both checks found no problem."""
        return all(p.ok for p in self.static) and all(p.ok for p in self.browser)

    def problems(self) -> list[str]:
        """All problems, each prefixed with its page and check."""
        out = []
        for kind, pages in (("links", self.static), ("browser", self.browser)):
            out += [f"[{kind}] {p.path}: {msg}" for p in pages for msg in p.problems]
        return out

    def summary(self) -> str:
        """A few lines for people."""
        lines = [
            f"link check: {len(self.static)} page(s), {sum(p.links for p in self.static)} link(s), "
            f"{sum(p.images for p in self.static)} image(s)"
        ]
        if self.browser_skipped:
            lines.append(f"browser check: skipped ({self.browser_skipped})")
        else:
            lines.append(
                f"browser check: {len(self.browser)} page(s) loaded, "
                f"{sum(p.images for p in self.browser)} image(s) rendered or checked"
            )
        if self.screenshot is not None:
            lines.append(f"screenshot: {self.screenshot}")
        if self.screenshot_dir is not None:
            lines.append(f"screenshots of every page: {self.screenshot_dir}")
        problems = self.problems()
        lines.append("OK: no problem found" if not problems else f"{len(problems)} problem(s):")
        lines += [f"  {p}" for p in problems]
        return "\n".join(lines)


# ------------------------------------------------------------- static check
class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.resources: list[tuple[str, str]] = []  # (tag, url)
        self.images: list[str] = []
        self.ids: set[str] = set()
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "img" and "src" in a:
            self.images.append(a["src"])
        elif tag in ("script", "iframe", "embed", "source", "video", "audio") and a.get("src"):
            self.resources.append((tag, a["src"]))
        elif tag == "link" and a.get("href"):
            self.resources.append((tag, a["href"]))
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _parse(path: Path) -> _Refs:
    refs = _Refs()
    refs.feed(path.read_text(encoding="utf-8", errors="replace"))
    refs.close()
    return refs


def _target(page: Path, url: str) -> tuple[str, Path | None, str]:
    """``(scheme, local file or None, fragment)`` of a reference in ``page``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return scheme, Path(unquote(parts.path)), parts.fragment
    if scheme or url.startswith("//"):
        return scheme or "//", None, parts.fragment
    if not parts.path:
        return "", page, parts.fragment
    return "", (page.parent / unquote(parts.path)), parts.fragment


def _data_uri_ok(url: str) -> bool:
    head, _, payload = url.partition(",")
    if not payload:
        return False
    if head.endswith(";base64"):
        try:
            return len(base64.b64decode(payload, validate=False)) > 0
        except (binascii.Error, ValueError):
            return False
    return True


def _crawl(index: Path, depth: int | None) -> list[tuple[Path, int]]:
    """HTML pages reachable from ``index`` through local links, with their link depth."""
    seen: dict[Path, int] = {}
    queue = [(index.resolve(), 0)]
    while queue:
        page, d = queue.pop(0)
        if page in seen or not page.is_file():
            continue
        seen[page] = d
        if depth is not None and d >= depth:
            continue
        for href in _parse(page).links:
            scheme, target, _ = _target(page, href)
            if scheme not in _LOCAL_SCHEMES or target is None:
                continue
            if target.is_dir() and (target / "index.html").is_file():
                target = target / "index.html"
            if target.suffix.lower() in (".html", ".htm") and target.resolve() not in seen:
                queue.append((target.resolve(), d + 1))
    return list(seen.items())


def check_links(reports_dir: str | Path, *, depth: int | None = None) -> list[PageCheck]:
    """Check links, anchors and images of every page reachable from the index (no browser).

    Parameters
    ----------
    reports_dir : str or Path
        The reports folder (holds ``index.html``), or an HTML file to start from.
    depth : int, optional
        Follow links this many levels from the index (default: all).

    Returns
    -------
    list of PageCheck
        One per page, the index first.
    """
    start = Path(reports_dir)
    index = start if start.is_file() else start / "index.html"
    if not index.is_file():
        return [PageCheck(index, [f"{index} does not exist"])]
    checks = []
    for page, _ in _crawl(index, depth):
        refs = _parse(page)
        check = PageCheck(page, title=refs.title.strip(), images=len(refs.images), links=len(refs.links))
        if not check.title:
            check.problems.append("page has no <title>")
        for href in refs.links:
            scheme, target, frag = _target(page, href)
            if scheme in _HARMLESS_SCHEMES or scheme in ("http", "https", "//"):
                continue  # links to the web are fine to have; nothing loads them
            if target is None:
                check.problems.append(f"link with unknown scheme: {href}")
            elif not target.exists():
                check.problems.append(f"broken link: {href} ({target} does not exist)")
            elif frag and target.suffix.lower() in (".html", ".htm"):
                ids = refs.ids if target.resolve() == page.resolve() else _parse(target).ids
                if unquote(frag) not in ids and frag not in ids:
                    check.problems.append(f"broken anchor: {href} (no id {frag!r})")
        for src in refs.images:
            scheme, target, _ = _target(page, src)
            if scheme == "data":
                if not _data_uri_ok(src):
                    check.problems.append(f"image with an empty or undecodable data URI: {src[:60]}...")
            elif scheme not in _LOCAL_SCHEMES or target is None:
                check.problems.append(f"image loaded from the network: {src[:120]}")
            elif not target.is_file():
                check.problems.append(f"broken image: {src} ({target} does not exist)")
        for tag, url in refs.resources:
            scheme, target, _ = _target(page, url)
            if scheme in ("data", "blob", "about"):
                continue
            if scheme not in _LOCAL_SCHEMES or target is None:
                check.problems.append(f"<{tag}> loads from the network: {url[:120]}")
            elif not target.exists():
                check.problems.append(f"<{tag}> refers to a missing file: {url}")
        checks.append(check)
    return checks


# ---------------------------------------------------------- browser (CDP)
def find_chromium(path: str | Path | None = None) -> Path | None:
    """The Chromium (or Chrome) executable: ``path``, ``$CHROMIUM``, or the first one on ``PATH``."""
    candidates: Iterable[str | None] = (
        [str(path)]
        if path
        else [os.environ.get("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"]
    )
    for cand in candidates:
        if not cand:
            continue
        found = shutil.which(cand)
        if found:
            return Path(found)
    return None


#: Run in each page after its load event: what rendered, what did not, what does not fit.
_LAYOUT_PROBE = """() => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0)
                     .map(i => (i.currentSrc || i.src || '').slice(0, 120));
  const doc = document.documentElement;
  const pageOverflow = Math.max(doc.scrollWidth, document.body ? document.body.scrollWidth : 0) - window.innerWidth;
  // text cut off: an element that hides what overflows it (overflow hidden / clip, or an ellipsis)
  const clipped = [];
  for (const el of document.querySelectorAll('body *')) {
    if (clipped.length >= 10) break;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const hides = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
    if (!hides || !el.innerText || el.tagName === 'IMG') continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      clipped.push(el.tagName.toLowerCase() + ': ' + el.innerText.trim().slice(0, 60));
    }
  }
  // text cut by whoever wrote the page (pandas' max_colwidth writes 'abc...')
  const cells = Array.from(document.querySelectorAll('td, th, li, p, span'))
    .filter(el => el.children.length === 0)
    .map(el => (el.innerText || '').trim())
    .filter(t => t.endsWith('...') || t.endsWith('\u2026'))
    .map(t => t.slice(-60)).slice(0, 10);
  // a cell whose text is wider than the cell, and no scroll box around it to reach the rest
  const inScrollBox = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'auto' || ox === 'scroll') return true;
    }
    return false;
  };
  const overflowing = Array.from(document.querySelectorAll('td, th'))
    .filter(el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && !inScrollBox(el))
    .map(el => (el.innerText || '').trim().slice(0, 60)).slice(0, 10);
  // visible text, without the places that show raw names on purpose (data-crm-raw) and code
  const parts = [];
  if (document.body) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || p.closest('[data-crm-raw], code, pre, style, script, title')) continue;
      const cs = getComputedStyle(p);
      if (cs.display === 'none' || cs.visibility === 'hidden' || p.getClientRects().length === 0) continue;
      parts.push(n.nodeValue);
    }
  }
  const text = document.body ? document.body.innerText : '';
  return {
    overflowing: overflowing,
    readerText: parts.join(' '),
    title: document.title,
    images: imgs.length,
    broken: broken,
    links: document.querySelectorAll('a[href]').length,
    textLength: text.length,
    pageOverflow: pageOverflow,
    clipped: clipped,
    truncated: cells,
    text: text,
  };
}"""


def _is_network(url: str) -> bool:
    """Whether a request would leave the machine."""
    return urlsplit(url).scheme.lower() in ("http", "https", "ws", "wss")


def _words_shown(text: str, words: Sequence[str]) -> list[str]:
    """The ``words`` that appear in ``text`` as whole words (letters, digits and ``_`` delimit)."""
    import re

    return [w for w in words if re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}(?![A-Za-z0-9_])", text)]


def _launch(playwright: Any, exe: Path, timeout: float) -> Any:
    try:
        return playwright.chromium.launch(
            executable_path=str(exe), args=list(CHROMIUM_FLAGS), headless=True, timeout=timeout * 1000
        )
    except Exception as exc:  # playwright raises its own Error types
        raise BrowserError(f"could not start {exe}: {str(exc).splitlines()[0]}") from None


def _screenshot_name(page: Path, root: Path) -> str:
    try:
        rel = page.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(page.name)
    return "__".join(rel.with_suffix("").parts) + ".png"


def check_in_browser(
    reports_dir: str | Path,
    *,
    chromium: str | Path | None = None,
    screenshot: str | Path | None = None,
    screenshot_dir: str | Path | None = None,
    window_size: tuple[int, int] = (1280, 2000),
    depth: int = 1,
    timeout: float = 60.0,
    forbidden_words: Sequence[str] = (),
) -> list[PageCheck]:
    """Load the index and the pages it links to in headless Chromium and check them.

    Chromium (the system's, e.g. Debian's ``chromium``) is driven by
    Playwright. Every ``http(s)``/``ws(s)`` request is blocked and reported
    as a problem (the reports must work offline); so are pages that do not
    reach their load event, JavaScript exceptions, failed local requests,
    images with ``naturalWidth == 0``, a page wider than the window
    (horizontal overflow: wide tables must scroll inside their box), text
    cut off by its box (overflow hidden or an ellipsis), table cells whose
    text is wider than the cell outside a scroll box, cells whose text was
    cut with ``...`` when the page was written, and visible words from
    ``forbidden_words`` (e.g. raw column names that a reader should never
    see; text in ``<code>``, ``<pre>`` or an element marked ``data-crm-raw``
    is not checked for them).

    Parameters
    ----------
    reports_dir : str or Path
        The reports folder (holds ``index.html``), or an HTML file to start from.
    chromium : str or Path, optional
        The browser executable (default: :func:`find_chromium`).
    screenshot : str or Path, optional
        Write a PNG of the index here (viewport ``window_size``).
    screenshot_dir : str or Path, optional
        Write a full-page PNG of every page checked into this folder (named
        after the page's path below the reports folder).
    window_size : (int, int), default (1280, 2000)
        Viewport width and height in CSS pixels.
    depth : int, default 1
        Link levels to follow from the index (1: the index and the pages it links to).
    timeout : float, default 60
        Seconds to wait for each page.
    forbidden_words : sequence of str
        Words that must not appear in a page's visible text (whole words).

    Returns
    -------
    list of PageCheck
        One per loaded page, the index first.

    Raises
    ------
    BrowserError
        When no Chromium is found or it cannot be driven.
    """
    exe = find_chromium(chromium)
    if exe is None:
        raise BrowserError("no Chromium found (install the `chromium` package or set $CHROMIUM)")
    start = Path(reports_dir)
    index = start if start.is_file() else start / "index.html"
    if not index.is_file():
        raise SourceNotFoundError(f"reports_dir: {index} does not exist (run `crm-analysis report` first)")
    root = index.parent
    pages = [p for p, _ in _crawl(index, depth)]
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise BrowserError(f"the browser check needs the playwright package: {exc}") from None
    width, height = window_size
    shots = None if screenshot_dir is None else Path(screenshot_dir)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    checks: list[PageCheck] = []
    with sync_playwright() as pw:
        browser = _launch(pw, exe, timeout)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                          java_script_enabled=True, service_workers="block")
            context.set_default_timeout(timeout * 1000)
            for page_path in pages:
                check = PageCheck(page_path)
                page = context.new_page()
                events: list[str] = []
                network: list[str] = []

                def block(route: Any, _request: Any = None, network: list[str] = network) -> None:
                    network.append(route.request.url)
                    route.abort("blockedbyclient")

                page.route(_is_network, lambda route, request, block=block: block(route))
                page.on("pageerror", lambda exc, events=events: events.append(
                    f"JavaScript error: {str(exc).splitlines()[0] if str(exc) else '?'}"))

                def on_failed(req: Any, events: list[str] = events) -> None:
                    if urlsplit(req.url).scheme.lower() in _LOCAL_SCHEMES:
                        events.append(f"failed to load {req.url}: {req.failure}")

                page.on("requestfailed", on_failed)
                try:
                    page.goto(page_path.resolve().as_uri(), wait_until="load")
                except PlaywrightError as exc:
                    check.problems.append(f"page did not load: {str(exc).splitlines()[0]}")
                    checks.append(check)
                    page.close()
                    continue
                page.wait_for_timeout(200)
                info = page.evaluate(_LAYOUT_PROBE)
                check.title = info.get("title", "")
                check.images = int(info.get("images", 0))
                check.links = int(info.get("links", 0))
                for src in info.get("broken", []):
                    check.problems.append(f"image did not render: {src}")
                if not info.get("textLength"):
                    check.problems.append("page shows no text")
                if info.get("pageOverflow", 0) > 1:
                    check.problems.append(
                        f"page is {info['pageOverflow']:.0f} px wider than the {width} px window (horizontal overflow)"
                    )
                for text in info.get("clipped", []):
                    check.problems.append(f"text cut off by its box: {text}")
                for text in info.get("truncated", []):
                    check.problems.append(f"text truncated with '...': {text}")
                for text in info.get("overflowing", []):
                    check.problems.append(f"text wider than its table cell (no scroll box): {text}")
                for word in _words_shown(info.get("readerText", ""), forbidden_words):
                    check.problems.append(f"code name shown to readers: {word}")
                for url in dict.fromkeys(network):
                    check.problems.append(f"request to the network: {url[:120]}")
                check.problems.extend(dict.fromkeys(events))
                if shots is not None:
                    page.screenshot(path=str(shots / _screenshot_name(page_path, root)), full_page=True)
                checks.append(check)
                page.close()
            if screenshot is not None:
                page = context.new_page()
                page.route(_is_network, lambda route, request: route.abort("blockedbyclient"))
                page.goto(index.resolve().as_uri(), wait_until="load")
                page.wait_for_timeout(200)
                out = Path(screenshot)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                page.close()
            context.close()
        except PlaywrightError as exc:
            raise BrowserError(f"Chromium stopped answering: {str(exc).splitlines()[0]}") from None
        finally:
            browser.close()
    return checks


def check_reports(
    reports_dir: str | Path,
    *,
    browser: bool = True,
    chromium: str | Path | None = None,
    screenshot: str | Path | None = None,
    screenshot_dir: str | Path | None = None,
    depth: int = 1,
    forbidden_words: Sequence[str] = (),
) -> CheckReport:
    """Run :func:`check_links` and, when ``browser`` and Chromium exists, :func:`check_in_browser`.

    Parameters
    ----------
    reports_dir, chromium, screenshot, screenshot_dir, depth, forbidden_words
        As in :func:`check_in_browser`; ``browser=False`` runs only the
        pure-Python check.

    Returns
    -------
    CheckReport
        ``browser_skipped`` says why the browser check did not run.

    Raises
    ------
    BrowserError
        When Chromium exists but cannot be driven.
    """
    report = CheckReport(static=check_links(reports_dir))
    start = Path(reports_dir)
    if not browser:
        report.browser_skipped = "not requested"
    elif not (start if start.is_file() else start / "index.html").is_file():
        report.browser_skipped = "no index.html to load"
    elif find_chromium(chromium) is None:
        report.browser_skipped = "no Chromium found (install the `chromium` package or set $CHROMIUM)"
    else:
        report.browser = check_in_browser(reports_dir, chromium=chromium, screenshot=screenshot,
                                          screenshot_dir=screenshot_dir, depth=depth,
                                          forbidden_words=forbidden_words)
        report.screenshot = None if screenshot is None else Path(screenshot)
        report.screenshot_dir = None if screenshot_dir is None else Path(screenshot_dir)
    return report


def default_forbidden_words() -> list[str]:
    """Raw names a reader must not see: the glossary's code-like names (``p_alive``, ``monetary_value``, ...).

    Text inside an element marked ``data-crm-raw`` (the glossary page, the run
    parameters) or inside ``<code>`` / ``<pre>`` is not checked.
    """
    from crm_analysis.presentation.glossary import raw_names

    return raw_names()


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of the check (shared by ``crm-analysis check-report``)."""
    parser = parser or argparse.ArgumentParser(
        prog="python -m crm_analysis.report.browser",
        description="Check the reports: links, images, offline safety; headless Chromium.",
    )
    parser.add_argument("reports_dir", nargs="?", type=Path, default=Path("reports"),
                        help="reports folder holding index.html (default: reports)")
    parser.add_argument("--screenshot", type=Path,
                        help="PNG of the index (default: <reports>/index.png; 'none' for no screenshot)")
    parser.add_argument("--no-browser", action="store_true", help="only the pure-Python link and image check")
    parser.add_argument("--chromium", help="browser executable (default: $CHROMIUM or chromium on PATH)")
    parser.add_argument("--depth", type=int, default=1,
                        help="link levels the browser follows from the index (default 1)")
    parser.add_argument("--allow-raw-names", action="store_true",
                        help="do not fail on raw column / headline names (from the glossary) in the visible text")
    parser.add_argument("--screenshots", type=Path,
                        help="folder for a full-page PNG of every page checked (default: <reports>/screenshots; "
                             "'none' for none)")
    return parser


def run_check(args: argparse.Namespace) -> int:
    """Run the check for parsed arguments; print the summary; return the exit code (0, 1 or 3)."""
    reports = args.reports_dir
    shot: Path | None
    if args.screenshot is not None and str(args.screenshot).lower() == "none":
        shot = None
    else:
        shot = args.screenshot or (reports if reports.is_dir() else reports.parent) / "index.png"
    folder = reports if reports.is_dir() else reports.parent
    shots: Path | None
    if getattr(args, "screenshots", None) is not None and str(args.screenshots).lower() == "none":
        shots = None
    else:
        shots = getattr(args, "screenshots", None) or folder / "screenshots"
    try:
        report = check_reports(reports, browser=not args.no_browser, chromium=args.chromium,
                               screenshot=shot, screenshot_dir=shots, depth=args.depth,
                               forbidden_words=() if getattr(args, "allow_raw_names", False) else default_forbidden_words())
    except BrowserError as exc:
        print(f"check-report: browser error: {exc}", file=sys.stderr)
        return 3
    print(report.summary())
    if not report.ok:
        return 1
    if report.browser_skipped and not args.no_browser:
        return 3
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m crm_analysis.report.browser [REPORTS_DIR]``."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    return run_check(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
