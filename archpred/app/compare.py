"""Logic of the compare page: two cells of one space side by side, what differs between them
highlighted on both drawings (``archpred.spaces.diff``), their real and predicted accuracies,
parameters and FLOPs, the distance between them in SVGe's latent space, and the latent walk
between them.

Cell A is the current cell (``state.set_current_cell``), cell B the space's second cell
(``state.set_second_cell``): both survive a visit to another page and both are in the link.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache, editor, state
from archpred.app.draw import arrow, cell_figure, layout, marker_size
from archpred.app.text import fmt_number, md_escape
from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, get_space
from archpred.spaces.diff import CellDiff

SPACE_KEY = "compare_space"
HIGHLIGHT = "#D62728"
RING_GAP, RING_WIDTH = 4, 3  # px between a vertex and its red ring; the ring's line width
LATENT_KIND = "svge"
WALK_MODE = "Line between two cells"  # the latent walk page's radio option


def text_key(space: str, end: str) -> str:
    """Widget key of cell A's or B's text (``end`` is ``"a"`` or ``"b"``)."""
    return f"compare_{space}_{end}"


# -- which cells -------------------------------------------------------------------------------
def choose_space(spaces: list[str]) -> None:
    """Open on the link's space, else on the space of the latest current cell (call before the
    space selectbox; Streamlit forgets it when another page is shown)."""
    if state.value(SPACE_KEY) is not None:
        return
    try:
        latest = state.latest_cell()
    except InvalidArchitecture:
        latest = None
    for space in (state.url_space(), latest[0] if latest else None):
        if space in spaces:
            state.set_value(SPACE_KEY, space)
            return


def _default_a(space: str) -> Architecture:
    try:
        current = state.current_cell(space)
    except InvalidArchitecture:
        current = None
    return current if current is not None else get_space(space).parse(editor.default_text(space))


def _parsed(space: str, end: str) -> Architecture | None:
    try:
        return get_space(space).parse(state.value(text_key(space, end)) or "")
    except InvalidArchitecture:
        return None


def open_cells(space: str) -> None:
    """Fill the A and B texts before they are drawn: the link's cells when they are new, else
    what the texts hold, else A = the current cell (or the editor's default) and B = the
    space's second cell (or a mutation of A). A bad link cell is a one-line error."""
    for param, end in ((state.URL_CELL, "a"), (state.URL_CELL_B, "b")):
        try:
            found = state.new_url_cell(param)
        except InvalidArchitecture as err:
            st.error(f"The link's cell {end.upper()} is not valid: {md_escape(str(err))}")
            continue
        if found is not None and found[0] == space:
            state.set_value(text_key(space, end), found[1].to_json())
    if state.value(text_key(space, "a")) is None:
        state.set_value(text_key(space, "a"), _default_a(space).to_json())
    if state.value(text_key(space, "b")) is None:
        try:
            second = state.second_cell(space)
        except InvalidArchitecture:
            second = None
        if second is None:
            a = _parsed(space, "a") or _default_a(space)
            second = get_space(space).mutate(a, np.random.default_rng(0))
        state.set_value(text_key(space, "b"), second.to_json())


def use_current(space: str) -> None:
    """Cell A <- the current cell of the space (set by the cell editor)."""
    state.set_value(text_key(space, "a"), _default_a(space).to_json())


def mutate_b(space: str) -> None:
    """Cell B <- a new random mutation of cell A (a different one each click)."""
    a = _parsed(space, "a")
    if a is None:
        st.error("Cell A is not valid: fix it first")
        return
    rng = np.random.default_rng(state.next_seed("compare_seed"))
    state.set_value(text_key(space, "b"), get_space(space).mutate(a, rng).to_json())


def swap(space: str) -> None:
    """Cell A <-> cell B (their texts, valid or not)."""
    a, b = state.value(text_key(space, "a")), state.value(text_key(space, "b"))
    state.set_value(text_key(space, "a"), b)
    state.set_value(text_key(space, "b"), a)


def parse_or_stop(space: str, text_a: str, text_b: str) -> tuple[Architecture, Architecture]:
    """Both cells, made the space's current (A) and second (B) cells; an inline error and stop
    when either is not valid."""
    cells = []
    for name, text in (("A", text_a), ("B", text_b)):
        try:
            cells.append(editor.parse_cell(space, text))
        except InvalidArchitecture as err:
            st.error(f"Cell {name} is not valid: {md_escape(str(err))}")
            st.stop()
    a, b = cells
    state.set_current_cell(space, a)
    state.set_second_cell(space, b)
    return a, b


def open_in_editor(space: str, arch: Architecture) -> None:
    """Open ``arch`` in the cell editor (switches page)."""
    state.send_to_editor(space, arch)
    st.switch_page("pages/cell_editor.py")


# -- drawings ----------------------------------------------------------------------------------
def ring_size(height: int) -> int:
    """Diameter of the red ring around a vertex of a ``height``-pixel ``cell_figure``: the
    vertex (``draw.marker_size``) plus a gap and the ring's line on each side, so the ring sits
    just outside the dot whatever its size."""
    return marker_size(height) + 2 * RING_GAP + RING_WIDTH


def edge_standoff(height: int) -> float:
    """Pixels a red edge stops short of a vertex's centre: the vertex's radius and a little, so
    the thick red arrow's head ends at the dot like the grey one it covers (``cell_figure``
    stops at radius + 1)."""
    return marker_size(height) / 2 + 3


def highlighted_figure(
    arch: Architecture,
    vertices: tuple[int, ...],
    edges: tuple[tuple[int, int], ...],
    title: str,
    height: int = 320,
) -> go.Figure:
    """``cell_figure`` with the given vertices ringed and edges drawn over in red (a trace named
    ``differs`` holds the rings), both sized to the figure's vertices."""
    fig = cell_figure(arch, title=title, height=height)
    pos = layout(arch)
    standoff = edge_standoff(height)
    for u, v in edges:
        fig.add_annotation(**arrow(pos, u, v, colour=HIGHLIGHT, width=3.5, standoff=standoff))
    if vertices:
        fig.add_trace(
            go.Scatter(
                x=[pos[v][0] for v in vertices],
                y=[pos[v][1] for v in vertices],
                mode="markers",
                name="differs",
                marker={
                    "size": ring_size(height),
                    "symbol": "circle-open",
                    "color": HIGHLIGHT,
                    "line": {"width": RING_WIDTH},
                },
                hoverinfo="skip",
            )
        )
    return fig


def diff_summary(diff: CellDiff, space: str) -> str:
    """One Markdown line: how many edits apart, and which."""
    if diff.identical:
        same = "isomorphic: the same NB-101 cell" if space == "nb101" else "the same cell"
        return f"The two cells are {same}."
    changes = "; ".join(md_escape(c) for c in diff.changes)
    return f"**{diff.distance} edit{'s' if diff.distance != 1 else ''} apart** (red on the drawings): {changes}"


# -- numbers -----------------------------------------------------------------------------------
def _counts(space: str, arch: Architecture) -> tuple[int, int] | None:
    from archpred.networks import NETWORKS

    if space not in NETWORKS:
        return None
    try:
        return cache.network_counts(space, json.dumps(arch.to_dict()))
    except ValueError:
        return None


def compare_table(space: str, a: Architecture, b: Architecture, device: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows: real accuracy, each saved predictor's prediction, parameters, FLOPs; columns
    ``A``, ``B`` and ``B − A``. Also notes (Markdown lines) on what could not be shown."""
    from archpred.app.panels.predictions import predictions_table

    rows, notes = [], []
    bench, error = cache.try_benchmark(editor.SPACE_BENCHMARK.get(space, space))
    if bench is None:
        notes.append(f"No real accuracy: {md_escape(str(error))}")
    else:
        real = [bench.lookup(x) for x in (a, b)]
        rows.append([f"real {bench.target}", *(np.nan if r is None else float(r[bench.target]) for r in real)])
        if None in real:
            notes.append(f"A cell missing from the {bench.name} table has no real accuracy.")
    pa, problems = predictions_table(space, a, device)
    pb, _ = predictions_table(space, b, device)
    notes += [f"Skipped a predictor file: {md_escape(str(p))}" for p in problems]
    for model, va, vb in zip(pa["model"], pa["predicted"], pb["predicted"]):
        rows.append([f"predicted by {model}", float(va), float(vb)])
    if pa.empty:
        notes.append(f"No trained predictor for {space} yet: train one on the Models page.")
    counts = [_counts(space, x) for x in (a, b)]
    if None not in counts:
        rows.append(["parameters", float(counts[0][0]), float(counts[1][0])])
        rows.append(["FLOPs (multiply-adds)", float(counts[0][1]), float(counts[1][1])])
    frame = pd.DataFrame(rows, columns=["", "A", "B"])
    frame["B − A"] = frame["B"] - frame["A"]
    return frame, notes


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its numbers as text for people (``fmt_number``)."""
    out = frame.copy()
    for column in ("A", "B", "B − A"):
        out[column] = [fmt_number(v) for v in frame[column]]
    return out


def latent_distance(space: str, a: Architecture, b: Architecture, device: str) -> tuple[float | None, str | None]:
    """Euclidean distance between the cells' SVGe posterior means, or ``(None, why not)``."""
    from archpred.app.latent import SPACES

    if space not in SPACES:
        return None, f"SVGe has no model for {space} (it covers {', '.join(SPACES)})."
    vae, error = cache.try_vae(LATENT_KIND, space, device)
    if vae is None:
        return None, error
    z = vae.encode([a, b])
    return float(np.linalg.norm(z[0] - z[1])), None


def open_walk(space: str, a: Architecture, b: Architecture) -> None:
    """The latent walk page on the line from A to B under SVGe (switches page)."""
    from archpred.app.latent import walk_key

    bench_name = editor.SPACE_BENCHMARK.get(space, space)
    state.set_value("walk_kind", LATENT_KIND)
    state.set_value("walk_bench", bench_name)
    state.set_value("walk_mode", WALK_MODE)
    state.set_value(walk_key(bench_name, "a"), a.to_json())
    state.set_value(walk_key(bench_name, "b"), b.to_json())
    st.switch_page("pages/latent_walk.py")
