"""Real-browser smoke test: ``streamlit run app.py`` on a free localhost port, loaded in headless
Chromium (Debian's ``chromium``, driven by Playwright), every page of the menu visited."""

import os
import shutil
import warnings

import pytest

from archpred.bench.app_browser import IDLE, launch_chromium, running_app
from tests.conftest import ROOT

CHROMIUM = os.environ.get("ARCHPRED_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    with running_app(timeout_s=120) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def test_every_page_renders(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server, wait_until="domcontentloaded")
    page.get_by_text("Architectures").first.wait_for(timeout=90_000)  # Benchmarks is the home page
    from archpred.data import is_available

    # with the shared data the home page opens on NB-101; on a fresh machine on NB-201 (PyPI)
    assert page.get_by_text("20,001" if is_available("nb101") else "15,625").first.is_visible()
    page.screenshot(path=str(tmp_path / "benchmarks.png"))
    assert page.get_by_text("Device").first.is_visible()  # the app's one device setting, in the sidebar
    links = page.locator('[data-testid="stSidebarNav"] a')
    titles = [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]
    assert "Benchmarks" in titles and "Cell editor" in titles
    for i, title in enumerate(titles):
        links.nth(i).click()
        page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
        assert page.locator('[data-testid="stException"]').count() == 0, f"exception on page {title}"
        page.screenshot(path=str(tmp_path / f"page{i}.png"))
    page.close()


def test_search_page_launch_watch_stop_resume_and_open_a_result(server, browser, tmp_path):
    """The Search page in a real browser: a run launched into a new store progresses while
    nobody touches the page (its section refreshes itself), stops, resumes with a larger
    budget, finishes, and its best cell opens in the cell editor."""
    from archpred.search import load_run

    store = tmp_path / "runs.db"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(server + "/search", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Search").first.wait_for(timeout=120_000)
        page.locator(".st-key-search_store input").fill(str(store))
        page.locator(".st-key-search_store input").press("Enter")
        page.get_by_text("No runs in").first.wait_for(timeout=60_000)
        # Launch only once the server has the new budget (the button's label names it): on a
        # loaded machine neither a fixed pause nor waiting for the app to go idle was enough, and
        # the run started with the default 150 (CI failures "[150, 150, ...]" and "150 == 6000")
        type_number(page, "search_budget", 6000, "search_launch", "Launch (6,000 queries)").click()
        page.get_by_text("Launched run 1").first.wait_for(timeout=120_000)
        assert load_run(store, 1).config["budget"] == 6000, "the launch did not take the budget typed in"
        seen = watch_progress(page)
        if not seen[-1] > seen[0]:
            # Once in several loaded CI runs the browser's refresh timer never fired after the
            # launch (the run itself went on). Load the page afresh and watch once more: a page
            # that never refreshes itself still fails, now with the store's own count beside it.
            warnings.warn(f"the Search page did not refresh after the launch: {seen}", stacklevel=1)
            page.reload(wait_until="domcontentloaded")
            seen = watch_progress(page)
        record = load_run(store, 1)
        assert seen[-1] > seen[0], (seen, record.status, record.progress)
        page.locator(".st-key-search_stop_1 button").click()
        page.get_by_text("Run 1 is stopped").first.wait_for(timeout=60_000)
        done = len(load_run(store, 1).history)
        assert load_run(store, 1).status == "stopped" and done < 6000

        type_number(page, "search_resume_budget_1", done + 5, "search_resume_1", f"Resume to {done + 5:,}").click()
        page.get_by_text("Resumed run 1").first.wait_for(timeout=120_000)
        page.get_by_role("button", name="Extend").wait_for(timeout=120_000)  # finished: it can be extended
        assert load_run(store, 1).status == "finished" and len(load_run(store, 1).history) == done + 5

        grid = page.locator(".st-key-search_top_1")
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # the first row's selection box
        page.locator(".st-key-search_open_1 button").click()
        page.get_by_role("heading", name="Cell editor").first.wait_for(timeout=120_000)
        best = load_run(store, 1).best.key
        editor = page.get_by_role("textbox", name="Cell (JSON)")
        page.wait_for_function(
            "([el, key]) => el.value.includes(key)", arg=[editor.element_handle(), best], timeout=60_000
        )
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.screenshot(path=str(tmp_path / "search.png"))
        page.close()


def type_number(page, key: str, value: int, button_key: str, label: str, tries: int = 4):
    """Type ``value`` into the number input ``key`` until the button ``button_key`` shows
    ``label`` (proof the server took it), the app idle; that button. A retyped value covers a
    keystroke lost while a loaded machine redrew the input."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = page.locator(f".st-key-{button_key} button").filter(has_text=label)
    field = page.locator(f".st-key-{key} input")
    for attempt in range(tries):
        field.fill(str(value))
        field.press("Enter")
        try:
            button.wait_for(timeout=30_000)
            page.locator(IDLE).wait_for(timeout=120_000)
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            continue
        # The click sends the browser's widget values, not the server's: on a loaded machine the
        # input was once redrawn with its old value after the server had the new one (the label
        # said 6,000, the run got 150), so the field itself must show the value too.
        if field.input_value().replace(",", "") == str(value):
            return button
    raise AssertionError(f"the {key} field did not keep {value}")


def watch_progress(page, polls: int = 40) -> list[int]:
    """The Progress metric every 1.5 s, touching nothing, until it has moved (or ``polls`` ran out)."""
    seen = [progress(page)]
    for _ in range(polls):
        page.wait_for_timeout(1500)
        seen.append(progress(page))
        if seen[-1] > seen[0] > 0:
            break
    return seen


def progress(page) -> int:
    """The Progress metric's evaluations so far (``1,234/6,000`` -> 1234)."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Progress").first
    metric.wait_for(timeout=60_000)
    return int(metric.inner_text().splitlines()[-1].split("/")[0].replace(",", ""))


def test_clusters_page_predicts_for_an_uploaded_onnx_file(browser, tiny_gennape_path, tmp_path):
    """The Clusters page in a real browser on a server whose GENNAPE model is the tiny test model
    (``$ARCHPRED_GENNAPE_MODEL``): an ONNX file put into the uploader gets GENNAPE's prediction,
    and a file that is not ONNX gets one inline error."""
    from archpred.app.cache import GENNAPE_ENV
    from archpred.gennape.examples import example_onnx_bytes

    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    good, bad = tmp_path / "resnet.onnx", tmp_path / "notes.onnx"
    good.write_bytes(example_onnx_bytes("resnet-ish"))
    bad.write_bytes(b"these are not the weights you are looking for")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", GENNAPE_ENV: str(tiny_gennape_path)}
    with running_app(env=env, timeout_s=120) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(url + "/clusters", wait_until="domcontentloaded")
            page.get_by_role("heading", name="Clusters").first.wait_for(timeout=120_000)
            uploader = page.locator(".st-key-clusters_upload input[type=file]")
            uploader.wait_for(state="attached", timeout=120_000)
            uploader.set_input_files(str(good))
            page.get_by_text("GENNAPE predicted accuracy").first.wait_for(timeout=120_000)
            page.get_by_text("Computation graph of resnet.onnx").first.wait_for(timeout=30_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(tmp_path / "clusters_upload.png"))

            uploader.set_input_files(str(bad))
            page.get_by_text("notes.onnx is not an ONNX model").first.wait_for(timeout=60_000)
            assert page.locator('[data-testid="stAlertContentError"]').count() == 1
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            page.close()


BAD_CELLS = [
    ('{"adjacency": [], "ops": []}', "at least 2 vertices"),
    ("[" * 5_000 + "]" * 5_000, "nested too deeply"),
    ('{"adjacency": [[0,1],[1,0]], "ops": ["input","output"]}', "cycle"),
]


def test_bad_cells_in_the_editor_are_inline_errors_without_tracebacks(server, browser, tmp_path):
    """#15: what a careless user types shows one inline error; no traceback, no server path."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(server + "/cell_editor", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Cell editor").first.wait_for(timeout=120_000)
        page.locator(".st-key-editor_space").get_by_role("combobox").click()
        page.get_by_role("option", name="nb101").click()
        editor = page.get_by_role("textbox", name="Cell (JSON)")
        editor.wait_for(timeout=60_000)
        for text, message in BAD_CELLS:
            editor.fill(text)
            editor.press("Control+Enter")  # Streamlit's text area submits on Ctrl+Enter
            page.get_by_text(message).first.wait_for(timeout=60_000)
            body = page.locator("body").inner_text()
            assert "Traceback" not in body and 'File "/' not in body and str(ROOT) not in body
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.screenshot(path=str(tmp_path / "bad_cells.png"))
        page.close()


def test_ten_browser_sessions_at_once(server, browser):
    """#15: ten users opening the app together all get the home page, none an error."""
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(10)]
    try:
        pages = [c.new_page() for c in contexts]
        for page in pages:  # start every navigation before waiting for any
            page.goto(server, wait_until="commit")
        for page in pages:
            page.get_by_text("Architectures").first.wait_for(timeout=240_000)
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=240_000)
        assert [p.locator('[data-testid="stException"]').count() for p in pages] == [0] * 10
    finally:
        for c in contexts:
            c.close()
