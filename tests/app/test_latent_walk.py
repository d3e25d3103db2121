"""AppTest: the Latent walk page decodes lines and circles with the shipped NB-201 VAEs."""

import pytest
from streamlit.testing.v1 import AppTest

from archpred.paths import ASSETS_DIR
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "latent_walk.py")


def _need(kind: str) -> None:
    if not (ASSETS_DIR / "vae" / f"{kind}_nb201.pt").exists():
        pytest.skip(f"no shipped {kind} model for nb201")


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
def test_line_walk(kind):
    _need(kind)
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="walk_kind").select(kind).run()
    assert not at.exception and not at.error
    assert at.metric[0].label == "Valid decodes"
    at.button(key="walk_random").click().run()
    assert not at.exception


def test_circle_walk():
    _need("svge")
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.radio(key="walk_mode").set_value("Circle around a cell").run()
    at.slider(key="walk_radius").set_value(3.0).run()
    assert not at.exception and not at.error
    assert at.metric[0].value.endswith("/ 12")


def test_bad_cell_text_is_an_inline_error():
    _need("svge")
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.text_area(key="walk_nb201_a").input("|bogus~0|").run()
    assert not at.exception
    assert any("Invalid cell" in e.value for e in at.error)
