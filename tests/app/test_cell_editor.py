"""AppTest: the Cell editor validates inline, hashes, and looks cells up in the benchmark."""

import json

from streamlit.testing.v1 import AppTest

from archpred.app import editor, state
from archpred.spaces import get_space
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
        ('{"adjacency": [], "ops": []}', "at least 2 vertices"),  # #15: was an IndexError traceback
        ("[" * 100_000 + "]" * 100_000, "no cell needs more than"),  # #15: was a RecursionError
        ("[" * 5_000 + "]" * 5_000, "nested too deeply"),
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


# -- links, forms and exports (#16 items 1 and 7) ----------------------------------------------
LINKED = "|nor_conv_1x1~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|skip_connect~2|"
NB101_CELL = {
    "adjacency": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    "ops": ["input", "conv1x1-bn-relu", "maxpool3x3", "output"],
}


def linked(**params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def test_a_link_opens_its_cell_and_editing_updates_the_link():
    at = linked(space="nb201", cell=LINKED)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="editor_space").value == "nb201"
    assert LINKED in at.text_area(key="editor_json_nb201").value
    assert at.session_state[state.CELLS_KEY]["nb201"] == {"arch": LINKED}
    edited = LINKED.replace("none~0", "nor_conv_3x3~0")
    at.text_area(key="editor_json_nb201").input(edited).run()
    assert not at.exception
    assert (at.query_params["space"], at.query_params["cell"]) == ("nb201", edited)
    link = next(c.value for c in at.code if "space=nb201" in c.value)
    assert "nor_conv_3x3~0" in link and "%2B" in link  # '+' escaped, else it reads as a space


def test_a_bad_link_is_one_inline_error_and_the_default_cell():
    at = linked(space="nb201", cell="|bogus~0|")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The link's cell is not valid: malformed nb201 arch string; expected "
        "\\|op\\~0\\|\\+\\|op\\~0\\|op\\~1\\|\\+\\|op\\~0\\|op\\~1\\|op\\~2\\|"
    ]
    assert at.selectbox(key="editor_space").value == "nb201"
    assert at.text_area(key="editor_json_nb201").value == editor.default_text("nb201")
    at = linked(space="nb999", cell="x")
    assert not at.exception and any("unknown search space" in e.value for e in at.error)


def test_the_nb201_form_opens_on_the_current_cell_and_keeps_edits():
    at = linked(space="nb201", cell=LINKED)
    ops = [at.selectbox(key=f"editor_nb201_{i}").value for i in range(6)]
    assert ops == ["nor_conv_1x1", "skip_connect", "avg_pool_3x3", "none", "nor_conv_3x3", "skip_connect"]
    at.selectbox(key="editor_nb201_3").select("avg_pool_3x3").run()
    at.run()  # the user's edit of the form survives reruns ...
    assert at.selectbox(key="editor_nb201_3").value == "avg_pool_3x3"
    at.button(key="editor_random").click().run()  # ... until the editor's cell changes
    cell = get_space("nb201").parse(at.text_area(key="editor_json_nb201").value)
    assert [at.selectbox(key=f"editor_nb201_{i}").value for i in range(6)] == list(cell.edge_ops)


def test_the_nb101_form_opens_on_the_current_cell():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state[state.INCOMING_KEY] = {"space": "nb101", "arch": NB101_CELL}
    at.run()
    assert not at.exception
    assert at.number_input(key="editor_form_n").value == 4
    assert [at.selectbox(key=f"editor_form_op{i}").value for i in (1, 2)] == ["conv1x1-bn-relu", "maxpool3x3"]
    grid = next(d.value for d in at.dataframe if list(d.value.columns) == ["input", "1", "2", "output"])
    assert grid.to_numpy().astype(int).tolist() == NB101_CELL["adjacency"]
    at.button(key="editor_form_use").click().run()  # the unedited form gives the same cell back
    assert not at.exception and json.loads(at.text_area(key="editor_json_nb101").value) == NB101_CELL


def test_share_and_export_buttons():
    at = linked(space="nb201", cell=LINKED)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Cell (JSON)", "Arch string", "Predictions (CSV)", "Network (ONNX)"]
    assert any(c.value.startswith("?space=nb201&cell=") for c in at.code)


# -- text for people (#16 polish): errors shown literally, numbers to the digits that matter ----
BOGUS = "|bogus_op~0|"  # an op name with '_' and a string with '|' and '~': Markdown syntax


def nb201_problem(text: str) -> str:
    """The one-line message ``InvalidArchitecture`` gives for ``text`` as an NB-201 cell."""
    from archpred.errors import InvalidArchitecture

    try:
        get_space("nb201").parse(text)
    except InvalidArchitecture as err:
        return str(err)
    raise AssertionError(f"{text} parsed")


def test_cell_errors_are_shown_literally():
    """Every editor error quotes the problem escaped (md_escape), so `~`, `|` and `_` in a cell
    string or op name read as typed instead of turning into strikethrough or a table."""
    from archpred.app.text import md_escape

    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state[state.INCOMING_KEY] = {"space": "nb201", "arch": {"arch": BOGUS}}
    at.run()
    problem = md_escape(nb201_problem(BOGUS))
    (sent,) = [e.value for e in at.error]
    assert sent.startswith("The cell sent to the editor is not valid: ") and sent.endswith(problem)
    at.selectbox(key="editor_space").select("nb201").run()
    at.text_area(key="editor_json_nb201").input(BOGUS).run()
    assert [e.value for e in at.error] == [f"Invalid cell: {problem}"]
    at.button(key="editor_mutate").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"Cannot mutate an invalid cell: {problem}", f"Invalid cell: {problem}"]


def test_the_lookup_reads_for_people():
    """The real accuracy to 4 significant digits (fmt_number) and the record without 16-digit
    floats (the Benchmarks page's readable_record)."""
    from archpred.app import cache
    from archpred.app.text import fmt_number

    at = linked(space="nb201", cell=LINKED)
    assert not at.exception and not at.error
    bench = cache.benchmark("nb201")
    record = bench.lookup(get_space("nb201").parse(LINKED))
    assert [s.value for s in at.success] == [f"In nb201: real {bench.target} = {fmt_number(record[bench.target])}"]

    def four_digits(v: float) -> bool:
        return v == float(f"{v:.4g}")

    assert not all(four_digits(float(v)) for v in record.values() if isinstance(v, float))  # raw: 0.91553333...
    shown = json.loads(at.json[0].value)
    assert shown.keys() == record.keys()
    assert all(four_digits(v) for v in shown.values() if isinstance(v, float))


def test_a_missing_benchmark_is_named_literally(fresh_machine):
    """No NB-101 data: the info line quotes the loader's message (a path with '_' and '.') escaped."""
    from archpred.app import cache
    from archpred.app.text import md_escape

    cache.clear_benchmarks()  # another test may have loaded NB-101 from the shared data
    at = page()
    at.selectbox(key="editor_space").select("nb101").run()
    assert not at.exception
    _, error = cache.try_benchmark("nb101")
    assert error and f"No benchmark to look up: {md_escape(str(error))}" in [i.value for i in at.info]
