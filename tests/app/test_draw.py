"""Drawings: one colour per op across cells, figures and the pyvis view; readable thumbnails; a
pyvis view that shows every node (the browser tests measure it in headless Chromium)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from archpred.app import draw
from archpred.networks.graph import OP_TYPES
from archpred.spaces import SPACES, get_space
from tests.conftest import ROOT

NB201 = get_space("nb201")
CHROMIUM = os.environ.get("ARCHPRED_CHROMIUM", "/usr/bin/chromium")


def figure_colours(fig) -> dict[str, str]:
    return {t.name: t.marker.color for t in fig.data if t.name}


def pyvis_colours(html: str) -> dict[str, str]:
    nodes = json.loads(re.search(r"nodes = new vis\.DataSet\((\[.*?\])\);", html).group(1))
    return {n["title"].split(": ", 1)[1]: n["color"] for n in nodes}


def test_an_op_has_one_colour_in_every_cell_and_view():
    a = NB201.parse("|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    b = NB201.parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|")
    ca, cb = figure_colours(draw.cell_figure(a)), figure_colours(draw.cell_figure(b, height=200, compact=True))
    shared = set(ca) & set(cb)
    assert {"nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1"} <= shared
    assert all(ca[op] == cb[op] == draw.op_colour(op) for op in shared)
    assert pyvis_colours(draw.cell_pyvis_html(a)) == ca
    legend = draw.op_legend_figure(NB201.node_types)
    assert figure_colours(legend) == {op: draw.op_colour(op) for op in NB201.node_types}


@pytest.mark.parametrize("name", SPACES)
def test_every_op_of_a_space_has_its_own_table_colour(name):
    types = get_space(name).node_types
    assert all(op in draw.OP_COLOURS for op in types), types
    assert len({draw.op_colour(op) for op in types}) == len(types)


def test_computation_graph_op_types_have_distinct_fixed_colours():
    from archpred.app.panels.network import graph_figure

    assert all(op in draw.OP_COLOURS for op in OP_TYPES)
    assert len({draw.op_colour(op) for op in OP_TYPES}) == len(OP_TYPES)
    graph = {
        "ops": ["input", "conv", "relu", "add", "output"],
        "names": ["x", "c", "r", "a", "y"],
        "edges": [[0, 1], [1, 2], [2, 3], [0, 3], [3, 4]],
        "features": [[0.0] * 11] * 5,
    }
    assert figure_colours(graph_figure(graph)) == {op: draw.op_colour(op) for op in graph["ops"]}


def test_an_unknown_op_gets_the_same_colour_in_every_process():
    here = draw.op_colour("my_new_op")
    assert here == draw.op_colour("my_new_op") and here in draw.FALLBACK
    code = "from archpred.app.draw import op_colour; print(op_colour('my_new_op'))"
    colours = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert colours == {here}


def test_a_thumbnail_has_no_per_node_text_and_no_legend():
    arch = NB201.parse("|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    fig = draw.cell_figure(arch, title="step 3: pred 0.912", height=200, compact=True)
    assert all("text" not in t.mode for t in fig.data)
    assert fig.layout.showlegend is False
    assert all(t.marker.size <= 18 for t in fig.data)
    hover = [h for t in fig.data for h in t.hovertext]
    assert sorted(hover) == sorted(f"vertex {v}: {op}" for v, op in enumerate(arch.ops))
    assert fig.layout.title.text == "step 3: pred 0.912"


def test_the_full_figure_keeps_vertex_numbers_in_and_short_names_beside_the_markers():
    arch = NB201.parse("|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    fig = draw.cell_figure(arch)
    labels = [t for t in fig.data if not t.name]
    assert len(labels) == 1 and list(labels[0].text) == [draw.short(op) for op in arch.ops]
    vertex_size = fig.data[0].marker.size
    assert labels[0].marker.size == vertex_size  # pushes the names off the markers
    assert fig.layout.legend.orientation == "h"
    assert [t.name for t in fig.data if t.name][0] == "input" and [t.name for t in fig.data if t.name][-1] == "output"


def test_the_pyvis_view_fits_itself_whenever_its_frame_changes():
    html = draw.cell_pyvis_html(NB201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|"))
    assert '"enabled": false' in html  # fixed positions, no physics
    assert "ResizeObserver" in html and "network.fit(" in html


# -- measured in a real browser -------------------------------------------------------------
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


NODE_BOXES = """() => Object.values(nodes.get({returnType: "Object"})).map(n => {
  const bb = network.getBoundingBox(n.id);
  const a = network.canvasToDOM({x: bb.left, y: bb.top}), b = network.canvasToDOM({x: bb.right, y: bb.bottom});
  return [a.x, a.y, b.x, b.y];
})"""


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("name", ["nb201", "enas"])
def test_pyvis_shows_every_node_after_a_closed_expander_opens(chromium, tmp_path, name):
    """Streamlit's expander loads the frame at zero size; opened, every node (label included)
    must lie inside the canvas."""
    import numpy as np

    arch = get_space(name).sample(np.random.default_rng(1))
    (tmp_path / "view.html").write_text(draw.cell_pyvis_html(arch))
    (tmp_path / "page.html").write_text(
        '<body style="width:420px"><details><summary>Interactive view</summary>'
        '<iframe src="view.html" style="width:100%;height:380px;border:0"></iframe></details></body>'
    )
    page = chromium.new_page(viewport={"width": 460, "height": 460})
    page.goto((tmp_path / "page.html").as_uri())
    page.wait_for_timeout(800)
    page.click("summary")
    page.wait_for_timeout(800)
    frame = page.frames[1]
    width, height = frame.evaluate(
        "() => { const r = document.querySelector('#mynetwork canvas')"
        ".getBoundingClientRect(); return [r.width, r.height]; }"
    )
    boxes = frame.evaluate(NODE_BOXES)
    page.close()
    assert len(boxes) == len(arch.ops)
    assert all(x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height for x0, y0, x1, y1 in boxes), boxes


TEXT_BOXES = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const texts = [...document.querySelectorAll('.scatterlayer .textpoint text')].filter(e => !/^\\d+$/.test(e.textContent));
  const markers = [...document.querySelectorAll('.scatterlayer .points path')].filter(e => e.style.opacity !== '0');
  return {names: texts.map(box), markers: markers.map(box)};
}"""  # every op name (vertex numbers sit inside their markers by design), every visible marker


def _overlap(a, b, slack=1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


@pytest.fixture(scope="module")
def plotly_page(chromium, tmp_path_factory):
    """A page with plotly.js loaded once; figures are drawn into it with ``Plotly.newPlot``."""
    import plotly.io as pio

    folder = tmp_path_factory.mktemp("plotly")
    pio.write_html({"data": [], "layout": {}}, folder / "page.html", include_plotlyjs="directory", full_html=True)
    page = chromium.new_page(viewport={"width": 460, "height": 400})
    page.goto((folder / "page.html").as_uri())
    page.wait_for_function("() => window.Plotly !== undefined")
    yield page
    page.close()


DRAW = """([spec, width]) => { const div = document.createElement('div'); div.style.width = width + 'px';
  document.body.replaceChildren(div); return Plotly.newPlot(div, spec.data, spec.layout).then(() => null); }"""


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("name", ["nb101", "nb201", "enas", "macro"])
@pytest.mark.parametrize(("width", "height"), [(430, 320), (330, 300)])
def test_op_names_overlap_no_marker_and_no_other_name(plotly_page, name, width, height):
    """The cell editor's figure (about 430 px wide) and a narrow column's: every op name clear
    of every vertex and of every other name."""
    import numpy as np

    rng = np.random.default_rng(3)
    for _ in range(5):
        arch = get_space(name).sample(rng)
        plotly_page.evaluate(DRAW, [json.loads(draw.cell_figure(arch, height=height).to_json()), width])
        found = plotly_page.evaluate(TEXT_BOXES)
        names, markers = found["names"], found["markers"]
        assert len(names) == len(markers) == len(arch.ops)
        for i, a in enumerate(names):
            assert not any(_overlap(a, m) for m in markers), (arch.ops, i)
            assert not any(_overlap(a, b) for b in names[i + 1 :]), (arch.ops, i)
