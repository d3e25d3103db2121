"""``bench app``, the browser half: ``streamlit run app.py`` in a subprocess, opened in headless
Chromium (Debian's ``chromium`` driven by Playwright, as ``tests/app/test_browser.py`` does).

What is timed is what a user waits for: from starting the server to the first page's title, its
content and the end of its script run, then each page of the sidebar menu clicked in turn, twice
(the first visit in a server process, then a revisit), each until its title shows and until its
script run ends. A page's run has ended when Streamlit's root element says so
(``data-test-script-state="notRunning"``, the attribute Streamlit's own browser tests read).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archpred.paths import PROJECT_ROOT

HOME_TITLE = "Benchmarks"  # app.py's first page
HOME_CONTENT = "Architectures"  # a metric the Benchmarks page shows once its table is loaded
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """``$ARCHPRED_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on the PATH; None if absent."""
    path = os.environ.get("ARCHPRED_CHROMIUM", "/usr/bin/chromium")
    return path if os.path.exists(path) else shutil.which("chromium")


def skip_reason() -> str | None:
    """Why the browser timings cannot run here (None when they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if chromium_path() is None:
        return "chromium is not installed"
    return None


def time_browser(runs: int, tour: bool, timeout_s: float, cache_dir: Path) -> list[dict[str, Any]]:
    """``runs`` cold starts of the app (a new server each), with the page tour when ``tour``.

    All servers share ``cache_dir`` as ``$ARCHPRED_CACHE_DIR``: the first run starts with it
    empty (a new machine), the later ones find what the earlier ones stored (a user's next day).
    """
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ARCHPRED_CACHE_DIR": str(cache_dir)}
    results = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for run in range(runs):
                results.append(_one_run(browser, env, tour, timeout_s))
                print(f"browser run {run + 1}/{runs}: {_summary(results[-1])}", flush=True)
        finally:
            browser.close()
    return results


def _summary(run: dict[str, Any]) -> str:
    pages = ", ".join(f"{t} {_s(v['first']['idle_s'])}/{_s(v['again']['idle_s'])}" for t, v in run["pages"].items())
    return f"first page {run['content_s']:.1f}s (idle {run['idle_s']:.1f}s)" + (f"; pages {pages}" if pages else "")


def _s(x: float | None) -> str:
    return "timeout" if x is None else f"{x:.1f}s"


def free_port() -> int:
    """A free localhost TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, env: dict[str, str], log: Any) -> subprocess.Popen:
    args = ["--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", *args, "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float, log_path: Path) -> None:
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited: " + log_path.read_text(errors="replace")[-2000:])
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f}s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_app(env: dict[str, str] | None = None, timeout_s: float = 60.0) -> Iterator[str]:
    """``streamlit run app.py`` on a free localhost port for the block: yields its address once
    it answers its health check, stops it afterwards. A server that exits or does not answer in
    ``timeout_s`` is a ``RuntimeError`` with the end of its log."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "streamlit.log"
        with open(log_path, "w") as log:
            proc = _start(port, {**os.environ, "PYTHONUNBUFFERED": "1"} if env is None else env, log)
            try:
                _wait_healthy(proc, url, timeout_s, log_path)
                yield url
            finally:
                _stop(proc)


def launch_chromium(playwright: Any) -> Any:
    """Headless Chromium (Debian's, ``chromium_path``) with the flags every browser run uses."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def _one_run(browser: Any, env: dict[str, str], tour: bool, timeout_s: float) -> dict[str, Any]:
    """One server from start to stop: cold start of the first page, then the tour."""
    start = time.perf_counter()
    with running_app(env, timeout_s) as url:
        result = {"server_s": time.perf_counter() - start}
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            result |= _first_page(page, url, start, timeout_s)
            result["pages"] = _tour(page, timeout_s) if tour else {}
        finally:
            page.close()
    return result


def _first_page(page: Any, url: str, start: float, timeout_s: float) -> dict[str, Any]:
    """Seconds from the server's start to the home page's title, content and end of run."""
    ms = timeout_s * 1000
    page.goto(url, wait_until="domcontentloaded")
    _title(page, HOME_TITLE).wait_for(timeout=ms)
    title = time.perf_counter() - start
    page.get_by_text(HOME_CONTENT).first.wait_for(timeout=ms)
    content = time.perf_counter() - start
    page.wait_for_selector(IDLE, timeout=ms)
    idle = time.perf_counter() - start
    errors = page.locator('[data-testid="stException"]').count()
    return {"title_s": title, "content_s": content, "idle_s": idle, "exceptions": errors}


def nav_titles(page: Any) -> list[str]:
    """The titles of the sidebar menu, in order."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    return [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]


def _tour(page: Any, timeout_s: float) -> dict[str, dict[str, dict[str, float]]]:
    """Every other page, then home, clicked twice round: ``{title: {"first": t, "again": t}}``."""
    titles = nav_titles(page)
    order = titles[1:] + titles[:1]
    out: dict[str, dict[str, dict[str, float]]] = {title: {} for title in order}
    for visit in ("first", "again"):
        for title in order:
            out[title][visit] = _switch(page, titles.index(title), title, timeout_s)
    return out


def _switch(page: Any, index: int, title: str, timeout_s: float) -> dict[str, Any]:
    """Click the menu entry; seconds until the page's title shows and until its run ends
    (``None`` for a wait that timed out, with the error)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    ms = timeout_s * 1000
    out: dict[str, Any] = {"title_s": None, "idle_s": None}
    start = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"] a').nth(index).click()
    try:
        _title(page, title).wait_for(timeout=ms)
        out["title_s"] = time.perf_counter() - start
        page.wait_for_selector(IDLE, timeout=ms)
        out["idle_s"] = time.perf_counter() - start
    except PlaywrightTimeout as err:
        out["error"] = str(err).splitlines()[0]
        print(f"  {title}: {out['error']}", flush=True)
    out["exceptions"] = page.locator('[data-testid="stException"]').count()
    return out


def _title(page: Any, title: str) -> Any:
    """The page's ``st.title`` (an ``h1``) containing the menu's ``title`` (a page may title
    itself at more length than its menu entry, e.g. "Compare cells")."""
    return page.locator("h1", has_text=title).first
