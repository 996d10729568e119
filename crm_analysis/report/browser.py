"""Check the published reports: links, images, offline safety, in Python and in headless Chromium.

Two checks, both starting at ``<reports>/index.html`` and following the local
links to other HTML pages:

* :func:`check_links` (pure Python, always available) parses every page and
  verifies that each local ``href``/``src`` names an existing file, that each
  ``#anchor`` exists on its page, that every image is either an existing file
  or a decodable ``data:`` URI, and that no page loads a script, style sheet,
  image or frame from the network.
* :func:`check_in_browser` loads the index and every page it links to in
  headless Chromium, driven over the Chrome DevTools Protocol on a pipe
  (``--remote-debugging-pipe``). For each page it records whether the page
  loaded, JavaScript exceptions, every request that would leave the machine
  (all ``http(s)`` requests are blocked and reported), failed local requests,
  and images that did not render (``naturalWidth == 0``). It also takes a
  screenshot of the index.

``python -m crm_analysis.report.browser reports/`` (or ``crm-analysis
check-report``) runs both and exits 0 when no problem was found, 1 when there
were problems, 3 when Chromium could not be run.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
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

#: Run in each page after its load event: what rendered, what did not.
_PAGE_PROBE = """(() => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0)
                     .map(i => (i.currentSrc || i.src || '').slice(0, 120));
  return JSON.stringify({
    title: document.title,
    readyState: document.readyState,
    images: imgs.length,
    broken: broken,
    links: Array.from(document.querySelectorAll('a[href]')).length,
    textLength: (document.body && document.body.innerText || '').length
  });
})()"""


class BrowserError(RuntimeError):
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
    """

    static: list[PageCheck] = field(default_factory=list)
    browser: list[PageCheck] = field(default_factory=list)
    screenshot: Path | None = None
    browser_skipped: str | None = None

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


class _Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, executable: Path, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="crm-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def _fds() -> None:  # in the child: the pipe ends become fds 3 (commands) and 4 (answers)
            # copy both above 10 first: either may already be fd 3 or 4
            high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        cmd = [str(executable), *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
               "--remote-debugging-pipe", "about:blank"]
        self._log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed executable and flags
                cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                close_fds=False, preexec_fn=_fds,  # noqa: PLW1509 - no threads here
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    # -- protocol
    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(msg).encode("utf-8") + b"\0")
        except OSError as exc:
            self.proc.poll()
            raise BrowserError(f"Chromium is not listening (exit code {self.proc.returncode}): "
                               f"{self.stderr_tail()}") from exc
        want = self._id
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == want:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 0.5))
            if not ready:
                if self.proc.poll() is not None:
                    raise BrowserError(f"Chromium exited with code {self.proc.returncode}: {self.stderr_tail()}")
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the pipe: {self.stderr_tail()}")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def wait_event(self, method: str, session: str, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            try:
                msg = self._read(deadline)
            except BrowserError:
                if time.monotonic() >= deadline:
                    return None
                raise
            if "method" in msg:
                self.events.append(msg)

    def drain(self, seconds: float) -> None:
        """Collect events for ``seconds`` (late image decodes, failed requests)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                msg = self._read(deadline)
            except BrowserError:
                if self.proc.poll() is not None:
                    raise
                return
            if "method" in msg:
                self.events.append(msg)

    def stderr_tail(self) -> str:
        self._log.seek(0)
        lines = [ln for ln in self._log.read().decode("utf-8", "replace").splitlines() if "dbus" not in ln]
        return " | ".join(lines[-5:])

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close")
                except (BrowserError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)


def _page_events(events: list[dict[str, Any]], session: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    mine = [e for e in events if e.get("sessionId") == session]
    rest = [e for e in events if e.get("sessionId") != session]
    return mine, rest


def check_in_browser(
    reports_dir: str | Path,
    *,
    chromium: str | Path | None = None,
    screenshot: str | Path | None = None,
    window_size: tuple[int, int] = (1280, 2000),
    depth: int = 1,
    timeout: float = 60.0,
) -> list[PageCheck]:
    """Load the index and the pages it links to in headless Chromium and check them.

    Every ``http(s)`` request is blocked and reported as a problem (the reports
    must work offline); so are pages that do not reach their load event,
    JavaScript exceptions, failed local requests, and images with
    ``naturalWidth == 0``.

    Parameters
    ----------
    reports_dir : str or Path
        The reports folder (holds ``index.html``), or an HTML file to start from.
    chromium : str or Path, optional
        The browser executable (default: :func:`find_chromium`).
    screenshot : str or Path, optional
        Write a PNG of the index here (viewport ``window_size``).
    window_size : (int, int), default (1280, 2000)
        Viewport width and height in CSS pixels.
    depth : int, default 1
        Link levels to follow from the index (1: the index and the pages it links to).
    timeout : float, default 60
        Seconds to wait for each page.

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
        raise FileNotFoundError(f"{index} does not exist")
    pages = [p for p, _ in _crawl(index, depth)]
    browser = _Chromium(exe, timeout=timeout)
    checks: list[PageCheck] = []
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            browser.send(method, session=session)
        browser.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]}, session)
        width, height = window_size
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        for page in pages:
            browser.events.clear()
            check = PageCheck(page)
            nav = browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session)
            if nav.get("errorText"):
                check.problems.append(f"navigation failed: {nav['errorText']}")
                checks.append(check)
                continue
            if browser.wait_event("Page.loadEventFired", session, timeout) is None:
                check.problems.append(f"page did not finish loading within {timeout:.0f} s")
            browser.drain(0.3)
            probe = browser.send("Runtime.evaluate", {"expression": _PAGE_PROBE, "returnByValue": True}, session)
            info = json.loads(probe.get("result", {}).get("value") or "{}")
            check.title = info.get("title", "")
            check.images = int(info.get("images", 0))
            check.links = int(info.get("links", 0))
            for src in info.get("broken", []):
                check.problems.append(f"image did not render: {src}")
            if not info.get("textLength"):
                check.problems.append("page shows no text")
            mine, browser.events[:] = _page_events(browser.events, session)
            requests = {e["params"]["requestId"]: e["params"]["request"]["url"]
                        for e in mine if e.get("method") == "Network.requestWillBeSent"}
            for url in requests.values():
                scheme = urlsplit(url).scheme.lower()
                if scheme not in _LOCAL_SCHEMES and scheme not in _HARMLESS_SCHEMES:
                    check.problems.append(f"request to the network: {url[:120]}")
            for e in mine:
                if e.get("method") == "Network.loadingFailed":
                    url = requests.get(e["params"].get("requestId"), "?")
                    if urlsplit(url).scheme.lower() in _LOCAL_SCHEMES and not e["params"].get("canceled"):
                        check.problems.append(f"failed to load {url}: {e['params'].get('errorText')}")
                elif e.get("method") == "Runtime.exceptionThrown":
                    det = e["params"].get("exceptionDetails", {})
                    text = det.get("exception", {}).get("description") or det.get("text", "")
                    check.problems.append(f"JavaScript error: {str(text).splitlines()[0] if text else '?'}")
            checks.append(check)
        if screenshot is not None:
            browser.events.clear()
            browser.send("Page.navigate", {"url": index.resolve().as_uri()}, session)
            browser.wait_event("Page.loadEventFired", session, timeout)
            browser.drain(0.3)
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
            out = Path(screenshot)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()
    return checks


def check_reports(
    reports_dir: str | Path,
    *,
    browser: bool = True,
    chromium: str | Path | None = None,
    screenshot: str | Path | None = None,
    depth: int = 1,
) -> CheckReport:
    """Run :func:`check_links` and, when ``browser`` and Chromium exists, :func:`check_in_browser`.

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
        report.browser = check_in_browser(reports_dir, chromium=chromium, screenshot=screenshot, depth=depth)
        report.screenshot = None if screenshot is None else Path(screenshot)
    return report


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
    return parser


def run_check(args: argparse.Namespace) -> int:
    """Run the check for parsed arguments; print the summary; return the exit code (0, 1 or 3)."""
    reports = args.reports_dir
    shot: Path | None
    if args.screenshot is not None and str(args.screenshot).lower() == "none":
        shot = None
    else:
        shot = args.screenshot or (reports if reports.is_dir() else reports.parent) / "index.png"
    try:
        report = check_reports(reports, browser=not args.no_browser, chromium=args.chromium,
                               screenshot=shot, depth=args.depth)
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
