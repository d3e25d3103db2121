"""AppTest of the whole app (``app.py``): the current cell and the device setting go from page to
page through ``archpred.app.state``; an impossible device is an inline error."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from archpred.app import state
from archpred.app.text import md_escape
from archpred.paths import ASSETS_DIR
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def app() -> AppTest:
    """The whole app. AppTest, like a fresh server's first link, runs a switched-to page file
    alone; ``ui.through_navigation`` then draws the app's frame (sidebar, menu) around it."""
    return AppTest.from_file(APP, default_timeout=300).run()


def edit_nb201_cell(at: AppTest) -> AppTest:
    at.switch_page("pages/cell_editor.py").run()
    at.selectbox(key="editor_space").select("nb201").run()
    at.text_area(key=state.editor_text_key("nb201")).input(CELL).run()
    assert not at.exception and not at.error
    return at


def test_the_editors_cell_is_the_train_pages_cell():
    at = edit_nb201_cell(app())
    at.switch_page("pages/train.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**nb201**" in text and md_escape(CELL) in text and "the Cell editor" in text


def test_the_editors_cell_starts_the_latent_walk():
    if not (ASSETS_DIR / "vae" / "svge_nb201.pt").exists():
        pytest.skip("no shipped svge model for nb201")
    at = edit_nb201_cell(app())
    at.switch_page("pages/latent_walk.py").run()
    assert not at.exception and not at.error
    assert CELL not in at.text_area(key="walk_nb201_a").value  # the walk starts from the best cell
    at.button(key="walk_from_editor").click().run()
    assert not at.exception and not at.error
    assert CELL in at.text_area(key="walk_nb201_a").value
    # and back: a decoded step opens in the cell editor and becomes the current cell
    step = at.selectbox(key="walk_open_step").value
    described = next(d.value for d in at.dataframe if "cell" in d.value)["cell"][step]
    at.button(key="walk_open").click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Cell editor"]
    assert at.session_state[state.CELLS_KEY]["nb201"]["arch"] == described


def test_the_editor_keeps_its_cell_and_form_across_pages():
    """Streamlit forgets a page's widgets when another page is shown: the editor reopens on the
    current cell (space, text and build form), and the link follows it."""
    at = edit_nb201_cell(app())
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/cell_editor.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="editor_space").value == "nb201"
    assert CELL in at.text_area(key=state.editor_text_key("nb201")).value
    assert at.selectbox(key="editor_nb201_5").value == "skip_connect"  # the form shows it too
    assert at.query_params["cell"] == CELL


@pytest.mark.parametrize("page", ["benchmarks.py", "cell_editor.py", "compare.py", "models.py", "train.py"])
def test_a_page_run_alone_gets_the_apps_frame(page):
    """Streamlit runs a page file alone where a ``pages/`` folder sits beside ``app.py`` (a fresh
    server's first link; AppTest after ``switch_page``): the page still shows app.py's sidebar."""
    at = app()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception
    assert [s.key for s in at.sidebar.selectbox] == [state.DEVICE_WIDGET]


def test_the_device_setting_reaches_the_train_page():
    at = app()
    assert at.sidebar.selectbox(key=state.DEVICE_WIDGET).value == "auto"
    at.sidebar.selectbox(key=state.DEVICE_WIDGET).select("cpu").run()
    assert at.session_state[state.DEVICE_KEY] == "cpu"
    at.switch_page("pages/train.py").run()
    assert any("on cpu" in m.value for m in at.markdown)
    at.number_input(key="train_width").set_value(4)
    at.number_input(key="train_epochs").set_value(1)
    at.number_input(key="train_batch").set_value(256)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    assert at.session_state["train_result"]["recipe"]["device"] == "cpu"


@pytest.mark.parametrize("page", ["train.py", "models.py"])
def test_an_impossible_device_is_an_inline_error(page):
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
    at.session_state[state.DEVICE_KEY] = "cuda:99"
    at.run()
    assert not at.exception
    assert any(e.value.startswith("Device:") for e in at.error), [e.value for e in at.error]


def test_device_and_data_errors_are_shown_literally(fresh_machine):
    """ui's guards quote the problem escaped (md_escape): a device name's ':' and a data path's
    '_' and '.' read as written."""
    from archpred.app import cache
    from archpred.app.text import md_escape
    from archpred.errors import InvalidOption
    from archpred.training import resolve_device

    with pytest.raises(InvalidOption) as raised:
        resolve_device("cuda:99")
    at = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=120)
    at.session_state[state.DEVICE_KEY] = "cuda:99"
    at.run()
    assert [e.value for e in at.error] == [f"Device: {md_escape(str(raised.value))}"]
    cache.clear_benchmarks()
    _, problem = cache.try_benchmark("enas")
    at = AppTest.from_file(str(ROOT / "pages" / "benchmarks.py"), default_timeout=120).run()
    at.selectbox(key="bench_name").select("enas").run()
    assert not at.exception
    assert [e.value for e in at.error] == [md_escape(str(problem))]
