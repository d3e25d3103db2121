"""AppTest: the Compare page draws two NB-201 cells with what differs in red, tabulates real and
predicted accuracies, parameters and FLOPs, shows the SVGe latent distance, takes its cells from a
link, and hands both cells to the latent walk and the cell editor."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from archpred.app import compare, state
from archpred.app.draw import layout
from archpred.app.latent import walk_key
from archpred.app.text import fmt_number, md_escape
from archpred.paths import ASSETS_DIR
from archpred.spaces import get_space
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "compare.py")
A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
B = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"


def needs_svge() -> None:
    if not (ASSETS_DIR / "vae" / "svge_nb201.pt").exists():
        pytest.skip("no shipped svge model for nb201")


def linked(**params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def rings(at: AppTest) -> list[list[tuple[float, float]]]:
    """The positions of the red rings (the ``differs`` trace) on A's and B's drawings."""
    out = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        ring = next((t for t in spec["data"] if t.get("name") == "differs"), {"x": [], "y": []})
        out.append(list(zip(ring["x"], ring["y"])))
    return out


def assert_rings_fit(spec: dict) -> None:
    """In a plotly figure spec from ``highlighted_figure``: each red ring sits just outside its
    vertex (a gap of 1-5 px between the dot and the ring's inner edge) and each red edge stops
    1-4 px outside the dot, like the grey arrow it covers."""
    vertex = next(t["marker"]["size"] for t in spec["data"] if t.get("name") not in (None, "differs"))
    ring = next((t["marker"] for t in spec["data"] if t.get("name") == "differs"), None)
    if ring is not None:
        assert 1 <= (ring["size"] - ring["line"]["width"]) / 2 - vertex / 2 <= 5, (ring, vertex)
    red = [a for a in spec["layout"].get("annotations", []) if a.get("arrowcolor") == compare.HIGHLIGHT]
    for arrow in red:
        assert 1 <= arrow["standoff"] - vertex / 2 <= 4 and arrow["startstandoff"] == arrow["standoff"]


@pytest.mark.parametrize("height", [200, 320, 520])
def test_rings_and_red_edges_fit_the_vertices(height):
    """draw.marker_size scales the dots with the figure's height; the rings and red edges follow."""
    a = get_space("nb201").parse(A)
    fig = compare.highlighted_figure(a, (2, 6), ((0, 2), (2, 6)), title="A", height=height)
    spec = fig.to_plotly_json()
    assert any(t.get("name") == "differs" for t in spec["data"])
    assert any(x.get("arrowcolor") == compare.HIGHLIGHT for x in spec["layout"]["annotations"])
    assert_rings_fit(spec)
    assert fig.layout.height == height


def test_notes_quote_problems_literally():
    """A predictor file's problem and a benchmark's error go into the page's captions escaped."""
    from archpred.app import cache

    a, b = (get_space("nb201").parse(x) for x in (A, B))
    problem = "nb201_broken.pt: not a predictor file (|x~y|)"
    with pytest.MonkeyPatch.context() as mp:
        import archpred.app.panels.predictions as predictions

        real = predictions.predictions_table
        mp.setattr(predictions, "predictions_table", lambda *args: (real(*args)[0], [problem]))
        mp.setattr(cache, "try_benchmark", lambda *args: (None, "data_file.json missing"))
        _, notes = compare.compare_table("nb201", a, b, "cpu")
    assert f"Skipped a predictor file: {md_escape(problem)}" in notes
    assert f"No real accuracy: {md_escape('data_file.json missing')}" in notes


def test_the_latent_distance_reads_for_people(monkeypatch):
    """The distance through fmt_number (4 significant digits: 0.01235, not 0.012) and the reason
    for no distance quoted literally."""
    monkeypatch.setattr(compare, "latent_distance", lambda *args: (0.0123456, None))
    at = linked(space="nb201", cell=A, cell_b=B)
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "SVGe latent distance"] == ["0.01235"]
    monkeypatch.setattr(compare, "latent_distance", lambda *args: (None, "no svge_nb201.pt file"))
    at.run()
    assert "No latent distance: no svge\\_nb201\\.pt file" in [i.value for i in at.info]


def test_compare_on_a_fresh_machine(fresh_machine):
    """NB-201 from PyPI: the diff in red on both drawings, the table, the SVGe distance."""
    needs_svge()
    at = linked(space="nb201", cell=A, cell_b=B)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="compare_space").value == "nb201"
    assert at.text_area(key="compare_nb201_b").value == json.dumps({"arch": B})
    summary = at.markdown[0].value
    assert summary.startswith("**2 edits apart**") and "edge 0→2" in summary and "edge 2→3" in summary
    pos = layout(get_space("nb201").parse(A))  # A and B share NB-201's layout
    assert rings(at) == [[pos[2], pos[6]]] * 2  # vertices 2 and 6: edges 0→2 and 2→3
    table = at.dataframe[0].value
    rows = list(table.iloc[:, 0])
    assert rows[0] == "real val_acc" and rows[-2:] == ["parameters", "FLOPs (multiply-adds)"]
    assert any(r.startswith("predicted by nb201-gnn") for r in rows)
    assert all(v != "–" for v in table["A"]) and all(v != "–" for v in table["B"])
    (distance,) = [m for m in at.metric if m.label == "SVGe latent distance"]
    value, _ = compare.latent_distance("nb201", get_space("nb201").parse(A), get_space("nb201").parse(B), "cpu")
    assert value > 0 and distance.value == fmt_number(value)  # 4 significant digits, like every number
    for chart in at.get("plotly_chart"):  # the rings and red edges fit the drawn vertices
        assert json.loads(chart.proto.config)["toImageButtonOptions"]["format"] == "svg"
        assert_rings_fit(json.loads(chart.proto.spec))
    assert at.session_state[state.CELLS_KEY]["nb201"] == {"arch": A}
    assert at.session_state[state.SECOND_KEY]["nb201"] == {"arch": B}


def test_b_starts_as_a_mutation_of_the_current_cell_and_same_cells_say_so():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state[state.CELLS_KEY] = {"nb201": {"arch": A}}
    at.session_state[state.LATEST_KEY] = "nb201"
    at.run()
    assert not at.exception and not at.error
    assert at.text_area(key="compare_nb201_a").value == json.dumps({"arch": A})
    assert at.markdown[0].value.startswith("**1 edit apart**")
    at.text_area(key="compare_nb201_b").input(A).run()
    assert at.markdown[0].value == "The two cells are the same cell."
    assert rings(at) == [[], []]
    assert (at.query_params["cell"], at.query_params["cell_b"]) == (A, A)


def test_bad_cells_are_inline_errors():
    at = linked(space="nb201", cell=A, cell_b="|bogus~0|")
    assert not at.exception
    assert any(e.value.startswith("The link's cell B is not valid") for e in at.error)
    at.text_area(key="compare_nb201_a").input('{"arch": 3}').run()
    assert not at.exception and any(e.value.startswith("Cell A is not valid") for e in at.error)


def test_walk_and_editor_buttons_hand_over_both_cells():
    """Through app.py (switch_page needs the navigation): the cell editor's "Compare" opens its
    cell as A; the walk opens on the SVGe line from A to B; "Open in cell editor" opens B there."""
    needs_svge()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.session_state[state.SECOND_KEY] = {"nb201": {"arch": B}}
    at.session_state[state.INCOMING_KEY] = {"space": "nb201", "arch": {"arch": A}}
    at.switch_page("pages/cell_editor.py").run()
    at.button(key="editor_compare").click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Compare cells"]
    assert at.text_area(key="compare_nb201_a").value == json.dumps({"arch": A})
    at.switch_page("pages/compare.py").run()  # AppTest reruns its own page, not the switched-to one
    at.button(key="compare_walk").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [t.value for t in at.title] == ["Latent walk"]
    assert (at.selectbox(key="walk_kind").value, at.selectbox(key="walk_bench").value) == ("svge", "nb201")
    assert at.radio(key="walk_mode").value == "Line between two cells"
    assert A in at.text_area(key=walk_key("nb201", "a")).value
    assert B in at.text_area(key=walk_key("nb201", "b")).value
    at.switch_page("pages/compare.py").run()
    at.button(key="compare_open_B").click().run()
    assert not at.exception and [t.value for t in at.title] == ["Cell editor"]
    assert B in at.text_area(key=state.editor_text_key("nb201")).value
