"""The menu in a real browser: a fresh ``streamlit run app.py`` shows the app's titled menu
("Benchmarks", "Cell editor", ...) whichever address it serves first.

Streamlit starts a server whose ``app.py`` has a ``pages/`` folder beside it in its old
folder-based mode until ``st.navigation`` has run once; a shared link to a page served first
used to run that page alone, with a menu of file names ("app", "benchmarks", "cell editor") and
no device setting (``ui.through_navigation`` fixes it). Each test starts its own server, so the
address it opens is the first that server serves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest

from archpred.bench.app_browser import running_app
from tests.app.test_browser import CHROMIUM, browser  # noqa: F401 (browser: a fixture)

pytestmark = pytest.mark.browser

MENU = [
    "Benchmarks",
    "Cell editor",
    "Compare",
    "Models",
    "Embedding map",
    "Latent walk",
    "Clusters",
    "Trained networks",
    "Train",
    "Search",
]
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
# the share link's query, encoded as state.share_link encodes it
LINK = "/cell_editor?" + urlencode({"space": "nb201", "cell": CELL}, quote_via=quote, safe="|~:,[]")


@pytest.fixture
def fresh_server() -> Iterator[str]:
    """A new ``streamlit run app.py`` on a free port (its address); stopped after the test."""
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    with running_app(timeout_s=120) as url:
        yield url


def menu_labels(page) -> list[str]:
    """The sidebar menu's entries as a user reads them (the icon's ligature name dropped)."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    links.first.wait_for(timeout=90_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    return [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]


@pytest.mark.parametrize("address", ["/", LINK, "/search"], ids=["home", "shared-link", "search-link"])
def test_the_first_address_a_server_serves_shows_the_titled_menu(fresh_server, browser, address):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(fresh_server + address, wait_until="domcontentloaded")
        title = {"/": "Benchmarks", "/search": "Search"}.get(address, "Cell editor")
        page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        assert menu_labels(page) == MENU
        # app.py's sidebar ran (a fast page, like Search, can show the menu a moment before it)
        page.get_by_text("Device").first.wait_for(timeout=30_000)
        assert page.get_by_text("Device").first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        if address == LINK:  # the link's cell survived
            assert CELL in page.get_by_role("textbox", name="Cell (JSON)").input_value()
    finally:
        page.close()
