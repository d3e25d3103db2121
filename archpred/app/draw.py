"""Drawing architectures: a plotly figure (static, testable) and a pyvis view (interactive)."""

from __future__ import annotations

import networkx as nx
import plotly.graph_objects as go

from archpred.spaces import Architecture

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC"]


def short(op: str) -> str:
    """A compact label: ``conv3x3-bn-relu`` -> ``conv3x3``, ``nor_conv_1x1`` -> ``conv_1x1``."""
    return op.replace("-bn-relu", "").replace("nor_", "").replace("_connect", "")


def _graph(arch: Architecture) -> nx.DiGraph:
    g = nx.DiGraph()
    for v, op in enumerate(arch.ops):
        g.add_node(v, op=op)
    for u, row in enumerate(arch.adjacency):
        for v, bit in enumerate(row):
            if bit:
                g.add_edge(u, v)
    return g


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


def cell_figure(arch: Architecture, title: str | None = None, height: int = 320) -> go.Figure:
    """The cell as a DAG: coloured, labelled vertices and arrows along edges."""
    pos = layout(arch)
    kinds = sorted(set(arch.ops), key=arch.ops.index)
    fig = go.Figure()
    for u, row in enumerate(arch.adjacency):
        for v, bit in enumerate(row):
            if bit:
                fig.add_annotation(
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
                    arrowsize=1.2,
                    arrowwidth=1.5,
                    arrowcolor="#888",
                    standoff=18,
                    startstandoff=18,
                )
    for k, kind in enumerate(kinds):
        vs = [v for v, op in enumerate(arch.ops) if op == kind]
        fig.add_trace(
            go.Scatter(
                x=[pos[v][0] for v in vs],
                y=[pos[v][1] for v in vs],
                mode="markers+text",
                name=kind,
                text=[f"{v}: {short(kind)}" for v in vs],
                textposition=["top center" if v % 2 else "bottom center" for v in vs],
                marker={"size": 30, "color": PALETTE[k % len(PALETTE)], "line": {"width": 1, "color": "#333"}},
                hovertext=[f"vertex {v}: {kind}" for v in vs],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": None},
        legend={"orientation": "h", "y": -0.05},
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def cell_pyvis_html(arch: Architecture, height: str = "360px") -> str:
    """An interactive (drag, zoom) view of the cell as HTML, for ``st.components.v1.html``."""
    from pyvis.network import Network

    net = Network(height=height, width="100%", directed=True, cdn_resources="in_line")
    kinds = sorted(set(arch.ops), key=arch.ops.index)
    for v, (x, y) in layout(arch).items():
        op = arch.ops[v]
        net.add_node(v, label=f"{v}: {op}", x=x * 160, y=y * 90, color=PALETTE[kinds.index(op) % len(PALETTE)])
    for u, row in enumerate(arch.adjacency):
        for v, bit in enumerate(row):
            if bit:
                net.add_edge(u, v)
    net.toggle_physics(False)
    return net.generate_html(notebook=False)
