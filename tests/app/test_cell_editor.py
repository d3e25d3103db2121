"""AppTest: the Cell editor validates inline, hashes, and looks cells up in the benchmark."""

from streamlit.testing.v1 import AppTest

from archpred.app import state
from tests.conftest import ROOT, needs_data

PAGE = str(ROOT / "pages" / "cell_editor.py")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=90).run()


@needs_data("nb101")
def test_default_cell_is_the_best_nb101_cell():
    at = page()
    assert not at.exception
    assert any("0.9491" in s.value for s in at.success)
    assert at.session_state[state.LATEST_KEY] == "nb101"
    assert "nb101" in at.session_state[state.CELLS_KEY]


def test_invalid_cells_show_inline_errors_not_tracebacks():
    at = page()
    at.selectbox(key="editor_space").select("nb101").run()  # the default is NB-201 without data
    for text, message in [
        ('{"adjacency": [[0,1],[1,0]], "ops": ["input","output"]}', "cycle"),
        ('{"adjacency": [[0,1]', "malformed JSON"),
        ("", "the cell is empty"),
    ]:
        at.text_area(key="editor_json_nb101").input(text).run()
        assert not at.exception
        assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_pruning_warning_and_hash():
    at = page()
    at.selectbox(key="editor_space").select("nb101").run()
    cell = '{"adjacency": [[0,1,1,0],[0,0,0,1],[0,0,0,0],[0,0,0,0]], "ops": ["input","conv3x3","maxpool3x3","output"]}'
    at.text_area(key="editor_json_nb101").input(cell).run()
    assert not at.exception and any("pruned" in w.value for w in at.warning)
    assert any("Hash" in m.value for m in at.markdown)


@needs_data("enas")
def test_switch_space_random_and_mutate():
    at = page()
    at.selectbox(key="editor_space").select("nb201").run()
    assert not at.exception and any("real val_acc" in s.value for s in at.success)
    before = at.text_area(key="editor_json_nb201").value
    at.button(key="editor_random").click().run()
    at.button(key="editor_mutate").click().run()
    assert not at.exception and at.text_area(key="editor_json_nb201").value != before
    at.selectbox(key="editor_space").select("enas").run()
    assert not at.exception and any("real acc" in s.value for s in at.success)


def test_incoming_cell_from_another_page():
    at = AppTest.from_file(PAGE, default_timeout=90)
    s = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    at.session_state[state.INCOMING_KEY] = {"space": "nb201", "arch": {"arch": s}}
    at.run()
    assert not at.exception and s in at.text_area(key="editor_json_nb201").value


def test_nb201_form_builds_a_cell():
    at = page()
    at.selectbox(key="editor_space").select("nb201").run()
    at.selectbox(key="editor_nb201_0").select("skip_connect").run()
    at.button(key="editor_nb201_use").click().run()
    assert not at.exception
    assert "|skip_connect~0|+|nor_conv_3x3~0|" in at.text_area(key="editor_json_nb201").value


def test_a_bad_incoming_cell_is_an_inline_error():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state[state.INCOMING_KEY] = {"space": "nb201", "arch": {"arch": "|bogus~0|"}}
    at.run()
    assert not at.exception
    assert any("not valid" in e.value for e in at.error)


def test_a_fresh_machine_opens_on_nb201(fresh_machine):
    """Without the shared data the editor opens on NB-201, whose real accuracy it can show."""
    at = page()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="editor_space").value == "nb201"
    assert any("real val_acc" in s.value for s in at.success)
