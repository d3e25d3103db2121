"""Cell-editor panel: the benchmark network of the cell, its size, FLOPs and computation graph."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache, export
from archpred.app.draw import op_colour, op_order
from archpred.app.text import fmt_number, md_escape
from archpred.spaces import Architecture

INPUT_NOTE = {"nb101": "3x32x32", "nb201": "3x32x32", "enas": "3x32x32", "macro": "3x32x32"}


def graph_figure(graph: dict, height: int = 520) -> go.Figure:
    """Nodes placed by their longest-path depth from the input (left to right), each torch op
    type in the app's one colour for it (``draw.op_colour``), legend in a fixed order."""
    n = len(graph["ops"])
    depth = np.zeros(n, dtype=int)
    for src, dst in sorted(graph["edges"], key=lambda e: e[1]):
        depth[dst] = max(depth[dst], depth[src] + 1)
    slots: dict[int, int] = {}
    ys = np.zeros(n)
    for v in range(n):
        ys[v] = slots.get(depth[v], 0)
        slots[depth[v]] = slots.get(depth[v], 0) + 1
    for v in range(n):
        ys[v] -= (slots[depth[v]] - 1) / 2
    ex, ey = [], []
    for src, dst in graph["edges"]:
        ex += [depth[src], depth[dst], None]
        ey += [ys[src], ys[dst], None]
    fig = go.Figure(go.Scatter(x=ex, y=ey, mode="lines", line={"width": 1, "color": "#aaa"}, hoverinfo="skip"))
    for op in op_order(graph["ops"]):
        idx = [v for v in range(n) if graph["ops"][v] == op]
        text = []
        for v in idx:
            f = graph["features"][v]
            weight = f"<br>weight {int(f[6])}x{int(f[7])}x{int(f[8])}x{int(f[9])}" if f[6] else ""
            text.append(
                f"{graph['names'][v]} ({op})<br>in {int(f[0])}x{int(f[1])}x{int(f[2])} "
                f"-> out {int(f[3])}x{int(f[4])}x{int(f[5])}{weight}{' + bias' if f[10] else ''}"
            )
        fig.add_trace(
            go.Scatter(
                x=depth[idx],
                y=ys[idx],
                mode="markers",
                name=op,
                marker={"size": 9, "color": op_colour(op), "line": {"width": 0.5, "color": "#333"}},
                text=text,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False},
        legend={"orientation": "h"},
    )
    return fig


def render(space_name: str, arch: Architecture) -> None:
    """Size, FLOPs and (on demand) the traced computation graph of the cell's network."""
    from archpred.networks import NETWORKS

    if space_name not in NETWORKS:
        return
    st.subheader("Network")
    arch_json = json.dumps(arch.to_dict())
    try:
        params, flops = cache.network_counts(space_name, arch_json)
    except ValueError as err:
        st.error(f"Cannot build the network: {md_escape(str(err))}")
        return
    c1, c2 = st.columns(2)
    c1.metric("Parameters", fmt_number(int(params)))
    c2.metric("FLOPs (multiply-adds)", f"{fmt_number(flops / 1e6)} M")
    st.caption(
        f"The benchmark's network for this cell on a {INPUT_NOTE[space_name]} input "
        "(FLOPs: multiply-adds of convolutions and the classifier, NAS-Bench-Macro's convention)."
    )
    with st.expander("Computation graph (torch.fx)"):
        if st.toggle("Trace and draw it", key="editor_network_graph"):
            try:
                graph = cache.network_graph(space_name, arch_json)
            except ValueError as err:
                st.error(f"Cannot trace the network: {md_escape(str(err))}")
                return
            counts = {op: graph["ops"].count(op) for op in dict.fromkeys(graph["ops"])}
            st.caption(
                f"{fmt_number(len(graph['ops']))} operations, {fmt_number(len(graph['edges']))} edges: "
                + ", ".join(f"{fmt_number(v)} {md_escape(k)}" for k, v in counts.items())
            )
            figure = graph_figure(graph)
            st.plotly_chart(figure, width="stretch", key="editor_network_figure", config=export.PLOT_CONFIG)
