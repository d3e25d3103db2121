"""Drawing architectures: a plotly figure (static, testable) and a pyvis view (interactive).

Every drawing of the app colours an operation the same way (``op_colour``): a cell's legend,
a thumbnail of the latent walk, the interactive view and the computation graph agree, so a
colour can be learnt once. Thumbnails (``compact=True``) carry no per-node text; one shared
``op_legend_figure`` above a grid of them names the colours, and hovering names each vertex.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable
from typing import Any

import networkx as nx
import plotly.graph_objects as go

from archpred.spaces import Architecture

# One colour per operation, for the whole app. Related ops share a hue (3x3 convolutions blue,
# 1x1 lighter blue, pooling orange/yellow, skips grey, NB-Macro's inverted residuals green) and
# the ops of one search space are all distinct. The second block is the computation graph's
# torch op types (``archpred.networks.graph.OP_TYPES``), all distinct from one another.
OP_COLOURS: dict[str, str] = {
    "input": "#2B2B2B",
    "output": "#9E765F",
    # NAS-Bench-101 (and its aliases)
    "conv3x3-bn-relu": "#4C78A8",
    "conv1x1-bn-relu": "#9ECAE9",
    "maxpool3x3": "#F58518",
    "conv3x3": "#4C78A8",
    "conv1x1": "#9ECAE9",
    # NAS-Bench-201
    "nor_conv_3x3": "#4C78A8",
    "nor_conv_1x1": "#9ECAE9",
    "avg_pool_3x3": "#EECA3B",
    "skip_connect": "#BAB0AC",
    "none": "#F0F0F0",
    # ENAS (conv3x3 and maxpool3x3 above)
    "conv5x5": "#439894",
    "sepconv3x3": "#D6A5C9",
    "sepconv5x5": "#B279A2",
    "avgpool3x3": "#EECA3B",
    # NAS-Bench-Macro
    "identity": "#BAB0AC",
    "ir_3x3_t3": "#88D27A",
    "ir_5x5_t6": "#2E7D32",
    # computation-graph op types
    "conv": "#4C78A8",
    "depthwise_conv": "#B279A2",
    "linear": "#D67195",
    "batchnorm": "#9ECAE9",
    "relu": "#54A24B",
    "activation": "#88D27A",
    "maxpool": "#F58518",
    "avgpool": "#EECA3B",
    "global_avgpool": "#B79A20",
    "add": "#E45756",
    "mul": "#FF9D98",
    "concat": "#FFBF79",
    "mean": "#D8B5A5",
    "reshape": "#FCBFD2",
    "slice": "#79706E",
    "pad": "#83BCB6",
    "zeros": "#F0F0F0",
    "dropout": "#439894",
    "other": "#17BECF",
}
# Unknown ops hash into this palette (colours the table does not use).
FALLBACK = ["#8C6D31", "#637939", "#7B4173", "#3182BD", "#E6550D", "#31A354", "#756BB1", "#636363", "#AD494A"]

SHORT: dict[str, str] = {
    "input": "in",
    "output": "out",
    "conv3x3-bn-relu": "conv3x3",
    "conv1x1-bn-relu": "conv1x1",
    "maxpool3x3": "maxpool",
    "nor_conv_3x3": "conv3x3",
    "nor_conv_1x1": "conv1x1",
    "avg_pool_3x3": "avgpool",
    "skip_connect": "skip",
    "sepconv3x3": "sep3x3",
    "sepconv5x5": "sep5x5",
    "avgpool3x3": "avgpool",
    "identity": "id",
    "ir_3x3_t3": "ir3x3",
    "ir_5x5_t6": "ir5x5",
}
EDGE_COLOUR = "#888"


def op_colour(op: str) -> str:
    """The app's one colour for ``op``; an op outside the table gets a colour from its name's
    digest (the same in every process, unlike Python's salted ``hash``)."""
    if op in OP_COLOURS:
        return OP_COLOURS[op]
    digest = hashlib.sha1(str(op).encode("utf-8")).digest()
    return FALLBACK[int.from_bytes(digest[:4], "big") % len(FALLBACK)]


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on the ``#RRGGBB`` ``background``."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#FFFFFF"


def short(op: str) -> str:
    """A compact label: ``conv3x3-bn-relu`` -> ``conv3x3``, ``avg_pool_3x3`` -> ``avgpool``."""
    return SHORT.get(op, op.replace("-bn-relu", "").replace("nor_", "").replace("_connect", ""))


def op_order(ops: Iterable[str]) -> list[str]:
    """``ops`` without repeats in the table's order (input first, output last, unknown ops just
    before output, by name), so a legend lists the same ops in the same order in every cell."""
    known = [op for op in OP_COLOURS if op != "output"]

    def rank(op: str) -> tuple[int, str]:
        if op == "output":
            return len(known) + 1, ""
        return (known.index(op), "") if op in known else (len(known), op)

    return sorted(set(ops), key=rank)


def _graph(arch: Architecture) -> nx.DiGraph:
    g = nx.DiGraph()
    for v, op in enumerate(arch.ops):
        g.add_node(v, op=op)
    for u, row in enumerate(arch.adjacency):
        for v, bit in enumerate(row):
            if bit:
                g.add_edge(u, v)
    return g


def _edges(arch: Architecture) -> list[tuple[int, int]]:
    return [(u, v) for u, row in enumerate(arch.adjacency) for v, bit in enumerate(row) if bit]


def layout(arch: Architecture) -> dict[int, tuple[float, float]]:
    """Left-to-right layers by longest path from the input; vertices of a layer spread vertically."""
    g = _graph(arch)
    depth = {v: 0 for v in g}
    for v in nx.topological_sort(g):
        for w in g.successors(v):
            depth[w] = max(depth[w], depth[v] + 1)
    layers: dict[int, list[int]] = {}
    for v, d in depth.items():
        layers.setdefault(d, []).append(v)
    last = max(layers)
    pos = {}
    for d, vs in layers.items():
        for k, v in enumerate(sorted(vs)):
            y = (len(vs) - 1) / 2 - k
            if len(vs) == 1 and 0 < d < last:
                y += 0.35 if d % 2 else -0.35  # zig-zag a chain so skip edges stay visible
            pos[v] = (float(d), y)
    return pos


def label_positions(pos: dict[int, tuple[float, float]]) -> list[str]:
    """Where each vertex's name goes, away from its neighbours: above the top vertex of a layer,
    below the bottom one, right of those between (where a vertex above and below leave no room);
    a lone vertex on the side its zig-zag points to."""
    out = []
    for v in range(len(pos)):
        x, y = pos[v]
        column = [w for w, (xw, _) in pos.items() if xw == x]
        if len(column) == 1:
            out.append("top center" if y > 0 else "bottom center")
        elif y == max(pos[w][1] for w in column):
            out.append("top center")
        elif y == min(pos[w][1] for w in column):
            out.append("bottom center")
        else:
            out.append("middle right")
    return out


def marker_size(height: int, compact: bool = False) -> int:
    """Vertex diameter in pixels, scaled to the figure's height (thumbnails get small dots)."""
    if compact:
        return int(min(18, max(8, round(height * 0.06))))
    return int(min(30, max(16, round(height * 0.085))))


def _arrows(fig: go.Figure, arch: Architecture, pos: dict[int, tuple[float, float]], size: int) -> None:
    # One layout update for all arrows: add_annotation per edge re-validates the figure each
    # time and costs the editor ~20 ms per drawing.
    big = size >= 16
    fig.update_layout(
        annotations=[
            arrow(pos, u, v, size=1.2 if big else 1.0, width=1.5 if big else 1.0, standoff=size / 2 + 1)
            for u, v in _edges(arch)
        ]
    )


def arrow(
    pos: dict[int, tuple[float, float]],
    u: int,
    v: int,
    *,
    colour: str = EDGE_COLOUR,
    size: float = 1.2,
    width: float = 1.5,
    standoff: float = 0.0,
) -> dict:
    """The edge ``u -> v`` as a plotly annotation in data coordinates (``pos`` from ``layout``),
    stopping ``standoff`` pixels short of both vertices' centres."""
    return dict(
        x=pos[v][0],
        y=pos[v][1],
        ax=pos[u][0],
        ay=pos[u][1],
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        showarrow=True,
        arrowhead=3,
        arrowsize=size,
        arrowwidth=width,
        arrowcolor=colour,
        standoff=standoff,
        startstandoff=standoff,
    )


def _vertex_traces(arch: Architecture, pos: dict[int, tuple[float, float]], size: int, compact: bool) -> list:
    """One trace per op (its legend entry); outside compact mode the vertex number sits inside
    the marker and the short op name beside it, away from the neighbouring layers."""
    traces = []
    for op in op_order(arch.ops):
        vs = [v for v, o in enumerate(arch.ops) if o == op]
        colour = op_colour(op)
        traces.append(
            go.Scatter(
                x=[pos[v][0] for v in vs],
                y=[pos[v][1] for v in vs],
                mode="markers" if compact else "markers+text",
                name=op,
                legendgroup=op,
                text=None if compact else [str(v) for v in vs],
                textposition="middle center",
                textfont={"size": max(9, int(size * 0.45)), "color": text_colour(colour)},
                marker={"size": size, "color": colour, "line": {"width": 1, "color": "#333"}},
                hovertext=[f"vertex {v}: {op}" for v in vs],
                hoverinfo="text",
            )
        )
    if not compact:
        vs = list(range(len(arch.ops)))
        traces.append(
            go.Scatter(
                x=[pos[v][0] for v in vs],
                y=[pos[v][1] for v in vs],
                mode="markers+text",  # invisible markers the vertices' size push the text off them
                marker={"size": size, "opacity": 0},
                text=[short(arch.ops[v]) for v in vs],
                textposition=label_positions(pos),
                textfont={"size": max(9, int(size * 0.42)), "color": "#333"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def cell_figure(arch: Architecture, title: str | None = None, height: int = 320, compact: bool = False) -> go.Figure:
    """The cell as a DAG: vertices in the app's op colours, arrows along edges.

    ``compact=True`` is the thumbnail: markers only (no text that could overlap at ~200 px
    wide), no legend (show ``op_legend_figure`` once above the thumbnails), the full op name on
    hover. Otherwise vertex numbers sit inside the markers, short op names beside them, and a
    legend below names the colours.
    """
    pos = layout(arch)
    size = marker_size(height, compact)
    fig = go.Figure(_vertex_traces(arch, pos, size, compact))
    _arrows(fig, arch, pos, size)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    pad_y = 0.45 if compact else 0.75  # room for the labels above and below the outer vertices
    top = (28 if compact else 40) if title else (4 if compact else 10)
    fig.update_layout(
        title={"text": title, "font": {"size": 12 if compact else 16}} if title else None,
        height=height,
        margin={"l": 4, "r": 4, "t": top, "b": 4} if compact else {"l": 10, "r": 10, "t": top, "b": 10},
        xaxis={"visible": False, "range": [min(xs) - 0.5, max(xs) + 0.5], "fixedrange": compact},
        yaxis={"visible": False, "range": [min(ys) - pad_y, max(ys) + pad_y], "fixedrange": compact},
        showlegend=not compact,
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "itemclick": False, "itemdoubleclick": False},
        plot_bgcolor="rgba(0,0,0,0)",
        hoverlabel={"namelength": -1},
    )
    return fig


def op_legend_figure(ops: Iterable[str], height: int | None = None) -> go.Figure:
    """One shared legend: a coloured dot and the full name of each op, in the app's colours.
    Show it once above a grid of ``cell_figure(..., compact=True)`` thumbnails (pass the space's
    ``node_types`` so every thumbnail's colours are named). The default height leaves a row for
    every four ops, so a narrow column wraps the legend instead of scrolling it."""
    ops = list(dict.fromkeys(ops))
    fig = go.Figure()
    for op in ops:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=op,
                marker={"size": 12, "color": op_colour(op), "line": {"width": 1, "color": "#333"}},
            )
        )
    fig.update_layout(
        height=height or 12 + 24 * math.ceil(max(len(ops), 1) / 4),
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        xaxis={"visible": False},
        yaxis={"visible": False},
        showlegend=True,
        legend={
            "orientation": "h",
            "x": 0,
            "y": 0.5,
            "yanchor": "middle",
            "itemclick": False,
            "itemdoubleclick": False,
        },
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


# Fit the interactive view to its nodes once drawn and whenever its frame changes size (an
# expander opening from zero width, a window resize), with a margin, so no node is cut off.
_PYVIS_FIT = """
<style>body { margin: 0; } center { display: none; } #mynetwork { box-sizing: border-box; }</style>
<script type="text/javascript">
(function () {
  function fitAll() {
    if (typeof network === "undefined" || !network) { return; }
    network.fit({ animation: false });
    network.moveTo({ scale: network.getScale() * 0.9, animation: false });
  }
  if (typeof network !== "undefined" && network) {
    network.once("afterDrawing", fitAll);
    if (window.ResizeObserver) {
      new ResizeObserver(function () { network.redraw(); fitAll(); }).observe(document.getElementById("mynetwork"));
    }
  }
})();
</script>
"""


@functools.cache
def _pyvis_templates(template_dir: str) -> Any:
    """One jinja environment for every pyvis view: pyvis makes a new one per network, which
    compiles its template again each time (~80 ms of each editor rerun)."""
    from jinja2 import Environment, FileSystemLoader

    return Environment(loader=FileSystemLoader(template_dir))


def cell_pyvis_html(arch: Architecture, height: str = "360px") -> str:
    """An interactive (drag, zoom) view of the cell as HTML, for ``st.iframe``: the app's op
    colours, fixed layered positions, and a view that fits every node whenever it is shown."""
    from pyvis.network import Network

    net = Network(height=height, width="100%", directed=True, cdn_resources="in_line")
    net.templateEnv = _pyvis_templates(net.template_dir)
    for v, (x, y) in layout(arch).items():
        op = arch.ops[v]
        net.add_node(
            v,
            label=f"{v}: {short(op)}",
            title=f"vertex {v}: {op}",
            x=x * 110,
            y=-y * 110,
            color=op_colour(op),
            size=16,
            font={"size": 22},
        )
    for u, v in _edges(arch):
        net.add_edge(u, v, color=EDGE_COLOUR)
    net.toggle_physics(False)
    html = net.generate_html(notebook=False)
    return html.replace("</body>", _PYVIS_FIT + "</body>", 1)
