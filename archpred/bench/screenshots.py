"""``bench screenshots``: the README's pictures of the app, taken in headless Chromium from a real
``streamlit run app.py`` (the same server and browser as ``bench app``), so they show what a user
sees at this commit and can be retaken with one command."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from archpred.bench.app_browser import IDLE, launch_chromium, running_app

# The cell the pictures show: NB-201's best CIFAR-10 cell by validation accuracy.
NB201_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@dataclass(frozen=True)
class Shot:
    """One picture: the page's URL path and query, its file name, and the text to wait for."""

    path: str
    file: str
    wait_for: str
    height: int = 1600  # pixels of the page kept (the top of a long page)


SHOTS = (
    Shot(
        f"cell_editor?{urllib.parse.urlencode({'space': 'nb201', 'cell': NB201_CELL})}",
        "cell_editor.png",
        "Predicted accuracy",
    ),
    Shot("latent_walk", "latent_walk.png", "Decoded cells", height=2200),
    Shot("compare", "compare.png", "Latent distance", height=1500),
)


def take_screenshots(out: Path, shots: tuple[Shot, ...] = SHOTS, timeout_s: float = 300.0) -> list[Path]:
    """Start the app, open each shot's page at 1400 px wide, wait for its text and the end of its
    script run, and save the top ``height`` pixels as PNG under ``out``."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with running_app(timeout_s=timeout_s) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for shot in shots:
                saved.append(_take(browser, url, shot, out, timeout_s))
                print(f"saved {saved[-1]}", flush=True)
        finally:
            browser.close()
    return saved


def _take(browser, url: str, shot: Shot, out: Path, timeout_s: float) -> Path:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/{shot.path}", wait_until="domcontentloaded")
        page.get_by_text(shot.wait_for).first.wait_for(timeout=timeout_s * 1000)
        page.wait_for_selector(IDLE, timeout=timeout_s * 1000)
        page.wait_for_timeout(1500)  # plotly finishes drawing after the script run ends
        # Streamlit scrolls inside its main block, not the window: grow the viewport instead.
        page.set_viewport_size({"width": 1400, "height": shot.height})
        page.wait_for_timeout(1000)
        path = out / shot.file
        page.screenshot(path=str(path))
        return path
    finally:
        page.close()
