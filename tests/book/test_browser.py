"""Open every page of the built book in headless Chromium with the network blocked.

What a reader of ``_build/html`` sees without network access is checked page by page:
no console error, no failed request, no TeX left unrendered, no empty widget area, and
no code or output block wider than the text column (beyond ``ALLOWANCE_PX``).  Each
failure names the page, the element (tag, classes, code cell number, first words) and
the heading it sits under.  A full-page screenshot of each page is saved under
``_build/screenshots/``.

The book must be built first: ``scripts/test.sh`` builds it with ``-W`` and then runs
this file with ``BOOK_HTML=_build/html``.  Without ``BOOK_HTML`` the test skips (a stale
build must not pass for a fresh one).  It drives Debian's ``chromium`` with its
``chromedriver`` through Selenium (no browser download); where they are missing it skips
saying so, except under CI (``CI=true``), where a missing browser is a failure.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socketserver
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWANCE_PX = 8                  # about one monospace character
WINDOW = (1280, 900)              # the reference width: 77 code characters per line
PAGE_TIMEOUT_S = 30
CHECKS_JS = (Path(__file__).with_name("browser_checks.js")).read_text(encoding="utf-8")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")

BOOK = os.environ.get("BOOK_HTML")
BOOK_DIR = (ROOT / BOOK).resolve() if BOOK else None


def book_pages() -> list[str]:
    """Every content page of the build, relative to its root (the index redirect excluded)."""
    if BOOK_DIR is None or not BOOK_DIR.is_dir():
        return []
    pages = []
    for p in sorted(BOOK_DIR.rglob("*.html")):
        rel = p.relative_to(BOOK_DIR).as_posix()
        if rel.split("/")[0] in ("_static", "_sources", "_images", "_downloads"):
            continue
        if rel in ("genindex.html", "search.html"):
            continue
        if rel == "index.html" and 'http-equiv="Refresh"' in p.read_text(errors="replace"):
            continue                                  # the redirect to the first page
        pages.append(rel)
    return pages


def _skip_or_fail(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (under CI the browser test must run: scripts/setup.sh "
                    f"installs chromium and chromium-driver as root)")
    pytest.skip(reason)


def _first(paths):
    return next((p for p in paths if Path(p).exists()), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingTCPServer):
    # the browser keeps idle keep-alive connections open: closing must not wait for them
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


def _serve(directory: Path):
    """A local HTTP server for ``directory`` on 127.0.0.1 (a context manager yielding its URL)."""
    import contextlib

    @contextlib.contextmanager
    def serving():
        handler = functools.partial(_QuietHandler, directory=str(directory))
        with _Server(("127.0.0.1", 0), handler) as httpd:
            thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{httpd.server_address[1]}"
            finally:
                httpd.shutdown()
    return serving()


@pytest.fixture(scope="module")
def server():
    with _serve(BOOK_DIR) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        _skip_or_fail(f"selenium is not installed ({exc}); pip install -r requirements.txt")
    binary, driver_path = _first(CHROMIUM_CANDIDATES), _first(DRIVER_CANDIDATES)
    if binary is None or driver_path is None:
        _skip_or_fail("no Chromium/chromedriver found (looked for "
                      f"{', '.join(CHROMIUM_CANDIDATES + DRIVER_CANDIDATES)}); as root, "
                      "`apt-get install -y chromium chromium-driver` (scripts/setup.sh does)")
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--hide-scrollbars", f"--user-data-dir={profile}",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}",
                 # no request leaves the machine: names other than 127.0.0.1 do not resolve,
                 # and anything else (an IP literal) goes to a proxy that is not there
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")      # Selenium Manager must not download
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    except Exception as exc:                                    # noqa: BLE001
        shutil.rmtree(profile, ignore_errors=True)
        _skip_or_fail(f"Chromium did not start: {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''}")
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    driver.execute_cdp_cmd("Network.enable", {})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


WAIT_JS = """
const done = arguments[arguments.length - 1];
// pages without the widget manager have nothing to wait for (the checks still look)
const widgetsDone = () => !document.querySelector('script[src*="embed-amd"]') ||
  Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')).every(
    (s) => s.parentElement.querySelector('.jupyter-widgets, .widget-subarea, .lm-Widget'));
const start = Date.now();
function poll() {
  const mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
  const mathReady = !document.querySelector('.math') || (mj && document.querySelector('mjx-container'));
  if (document.readyState === 'complete' && mathReady && widgetsDone()) {
    (mj ? window.MathJax.startup.promise : Promise.resolve()).then(
        () => document.fonts.ready).then(() => done('ready'));
  } else if (Date.now() - start > %d) {
    done('timeout: readyState=' + document.readyState + ', math=' + !!mathReady +
         ', widgets=' + widgetsDone());
  } else {
    setTimeout(poll, 100);
  }
}
poll();
""" % ((PAGE_TIMEOUT_S - 5) * 1000)


def _failed_requests(perf_log) -> list[str]:
    failures, urls = [], {}
    for entry in perf_log:
        msg = json.loads(entry["message"])["message"]
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.responseReceived":
            status = params["response"]["status"]
            if status >= 400:
                failures.append(f"HTTP {status} for {params['response']['url']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            url = urls.get(params["requestId"], "?")
            failures.append(f"{params.get('errorText', 'failed')} for {url[:200]}")
    return failures


def _screenshot(driver, path: Path) -> None:
    """A full-page PNG: the viewport is stretched to the page's height for the capture."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = min(int(size["height"]), 30000)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WINDOW[0], "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    import base64
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


PAGES = book_pages()


@pytest.mark.skipif(BOOK_DIR is None, reason="BOOK_HTML is not set: build the book, then "
                    "BOOK_HTML=_build/html pytest tests/book/test_browser.py "
                    "(scripts/test.sh does both)")
def test_book_was_built():
    assert BOOK_DIR.is_dir(), f"BOOK_HTML={BOOK} is not a directory ({BOOK_DIR})"
    assert PAGES, f"no HTML pages under {BOOK_DIR}"
    toc_docs = [line.split("file:")[1].strip() for line in
                (ROOT / "_toc.yml").read_text().splitlines() if "file:" in line]
    root = next(line.split("root:")[1].strip() for line in
                (ROOT / "_toc.yml").read_text().splitlines() if line.startswith("root:"))
    for doc in [root, *toc_docs]:
        assert f"{doc}.html" in PAGES, f"_toc.yml lists {doc} but {doc}.html was not built"


@pytest.mark.skipif(BOOK_DIR is None, reason="BOOK_HTML is not set (see test_book_was_built)")
@pytest.mark.parametrize("page", PAGES or ["<no pages>"])
def test_page_in_browser(page, browser, server):
    if page == "<no pages>":
        pytest.fail(f"no pages found under BOOK_HTML={BOOK}")
    problems = check_page(browser, f"{server}/{page}")
    shot = ROOT / "_build" / "screenshots" / (page.replace("/", "__")[:-5] + ".png")
    _screenshot(browser, shot)
    assert not problems, (f"page {page} ({len(problems)} problem(s); screenshot {shot}):\n  - "
                          + "\n  - ".join(problems))


def check_page(browser, url: str) -> list[str]:
    """Open ``url`` and return every problem found on it (an empty list is a pass)."""
    browser.get_log("browser")                       # drop anything left from the last page
    browser.get_log("performance")
    browser.get(url)
    state = browser.execute_async_script(WAIT_JS)
    time.sleep(0.3)                                  # late console messages
    problems = []
    if state != "ready":
        problems.append(f"page did not finish rendering in {PAGE_TIMEOUT_S - 5} s ({state})")
    for entry in browser.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"console error: {entry['message'][:400]}")
    problems += [f"failed request: {f}" for f in _failed_requests(browser.get_log("performance"))]
    for p in browser.execute_script(CHECKS_JS, ALLOWANCE_PX):
        problems.append(f"{p['check']}: {p['element']} {p['where']}: {p['detail']}")
    return problems


PLANTED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>planted</title>
<style>article { width: 600px; font-family: monospace; } pre { overflow: auto; }</style>
<script src="https://cdn.example.org/not-here.js"></script></head>
<body><article class="bd-article">
<h2 id="raw">Raw maths</h2><p>The sum $a_1 + a_2$ was never typeset.</p>
<h2 id="wide">A wide block</h2><pre>%s</pre>
<h2 id="widget">An empty widget</h2>
<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">
{"version_major": 2, "version_minor": 0, "model_id": "planted-model"}</script></div>
<h2 id="missing">A missing image</h2><img src="missing.png" alt="">
<h2 id="fine">A fine block</h2><pre>short line</pre>
<script>console.error("planted console error");</script>
</article></body></html>""" % ("x" * 300)


def test_checks_catch_planted_problems(browser, tmp_path):
    """The checks can fail: a page with one planted problem of each kind is caught on each."""
    (tmp_path / "planted.html").write_text(PLANTED)
    with _serve(tmp_path) as url:
        problems = check_page(browser, f"{url}/planted.html")
    text = "\n".join(problems)
    expected = {
        "unrendered TeX": "'$a_1 + a_2$'",
        "wider than the text column": "under heading 'A wide block'",
        "empty widget": "model_id=planted-model",
        "console error": "planted console error",
        "failed request": "missing.png",
    }
    for check, detail in expected.items():
        assert any(p.startswith(check) and detail in p for p in problems), (
            f"the {check!r} check missed its planted problem ({detail}); got:\n{text}")
    assert any("cdn.example.org" in p for p in problems), f"the blocked CDN request passed:\n{text}"
    assert "A fine block" not in text, f"a block within the column was reported:\n{text}"
