"""Logic of the cell editor page: defaults, form values <-> cells, the build forms, the
hand-over of cells (through ``state``) and benchmark lookups."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from archpred.app import cache, state
from archpred.app.text import fmt_number, md_escape
from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, get_space

# The benchmark that scores each space's cells in the editor.
SPACE_BENCHMARK = {"nb101": "nb101", "nb201": "nb201", "enas": "enas", "macro": "macro"}

DEFAULT_CELLS = {
    # The best cell of the 20,001-cell NB-101 sample (val_acc_108 = 0.9491).
    "nb101": {
        "adjacency": [
            [0, 1, 0, 0, 0, 1, 1],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 1, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0] * 7,
        ],
        "ops": [
            "input",
            "conv3x3-bn-relu",
            "maxpool3x3",
            "conv3x3-bn-relu",
            "conv1x1-bn-relu",
            "conv3x3-bn-relu",
            "output",
        ],
    },
    "nb201": {
        "arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    },
    # The best ENAS architecture of the D-VAE file (weight-sharing accuracy 0.7502).
    "enas": {"layers": [[1], [3, 0], [2, 0, 0], [4, 1, 0, 1], [5, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]},
    "macro": {"arch": "11111221"},
}


def default_text(space: str) -> str:
    """JSON of the space's default cell (the best one of its benchmark, where known)."""
    return json.dumps(DEFAULT_CELLS.get(space, {}))


def parse_cell(space: str, text: str) -> Architecture:
    """Parse the editor's JSON; raises ``InvalidArchitecture`` with the exact problem."""
    if not text or not text.strip():
        raise InvalidArchitecture("the cell is empty: paste JSON or use the form")
    return get_space(space).parse(text)


def nb101_from_form(ops: list[str], edges: np.ndarray) -> str:
    """JSON of an NB-101 cell from interior op choices and an edge matrix."""
    n = len(ops) + 2
    matrix = np.triu(np.asarray(edges, dtype=int)[:n, :n], 1)
    return json.dumps({"adjacency": matrix.tolist(), "ops": ["input", *ops, "output"]})


def random_text(space: str, seed: int) -> str:
    """JSON of a random cell of ``space``."""
    arch = get_space(space).sample(np.random.default_rng(seed))
    return arch.to_json()


def mutate_text(space: str, text: str, seed: int) -> str:
    """JSON of a random mutation of the cell in ``text``."""
    arch = parse_cell(space, text)
    return get_space(space).mutate(arch, np.random.default_rng(seed)).to_json()


def summary(space: str, arch: Architecture) -> dict[str, Any]:
    """Hash, vertex and edge counts, and the vertices NB-101 prunes."""
    s = get_space(space)
    out: dict[str, Any] = {"hash": s.hash(arch), "vertices": arch.num_vertices, "edges": int(arch.matrix.sum())}
    pruned = getattr(arch, "pruned", ())
    if pruned:
        out["pruned vertices"] = list(pruned)
    return out


# -- the page's state --------------------------------------------------------------------------
SPACE_KEY = "editor_space"


def space_choices(spaces: list[str]) -> list[str]:
    """The spaces to offer, those whose benchmark data is present first: the editor opens on a
    space whose real accuracies it can show (NB-201 on a fresh machine)."""
    from archpred.data import available_first

    return available_first(spaces)


def _open(space: str, arch: Architecture) -> None:
    state.set_value(SPACE_KEY, space)
    state.set_editor_text(space, arch.to_json())


def take_incoming(spaces: list[str]) -> None:
    """Open the cell another page sent (``state.send_to_editor``): its space and its text."""
    try:
        incoming = state.take_incoming()
    except InvalidArchitecture as err:
        st.error(f"The cell sent to the editor is not valid: {md_escape(str(err))}")
        return
    if incoming is not None and incoming[0] in spaces:
        _open(*incoming)


def take_url(spaces: list[str]) -> None:
    """Open the cell of a shared link (``?space=...&cell=...``) unless it is the current cell
    already; a bad link is a one-line error and the editor keeps its cell."""
    try:
        found = state.new_url_cell()
    except InvalidArchitecture as err:
        st.error(f"The link's cell is not valid: {md_escape(str(err))}")
        if state.value(SPACE_KEY) is None and state.url_space() in spaces:
            state.set_value(SPACE_KEY, state.url_space())  # its space's default cell
        return
    if found is not None and found[0] in spaces:
        _open(*found)


def open_cell(spaces: list[str]) -> None:
    """What the editor opens (call before its widgets): a cell another page sent, else the
    link's cell, else the space of the latest current cell (Streamlit forgets a page's widgets
    when another page is shown; the current cell lives in ``state``)."""
    take_url(spaces)
    take_incoming(spaces)
    if state.value(SPACE_KEY) is None:
        try:
            latest = state.latest_cell()
        except InvalidArchitecture:
            latest = None
        if latest is not None and latest[0] in spaces:
            state.set_value(SPACE_KEY, latest[0])


def ensure_text(space: str) -> None:
    """The current cell of ``space`` (else its default cell) in the text area, unless the text
    area holds something already."""
    if state.editor_text(space) is not None:
        return
    try:
        arch = state.current_cell(space)
    except InvalidArchitecture:
        arch = None
    state.set_editor_text(space, default_text(space) if arch is None else arch.to_json())


def random_cell(space: str) -> None:
    """A new random cell in the text area (a different one each click)."""
    state.set_editor_text(space, random_text(space, state.next_seed("editor_seed")))


def mutate_cell(space: str) -> None:
    """Mutate the cell in the text area; an inline error when it is not valid."""
    try:
        state.set_editor_text(space, mutate_text(space, state.editor_text(space) or "", state.next_seed("editor_seed")))
    except InvalidArchitecture as err:
        st.error(f"Cannot mutate an invalid cell: {md_escape(str(err))}")


def parse_or_stop(space: str, text: str) -> Architecture:
    """The cell in ``text``, made the current cell of ``space``; an inline error and stop if invalid."""
    try:
        arch = parse_cell(space, text)
    except InvalidArchitecture as err:
        st.error(f"Invalid cell: {md_escape(str(err))}")
        st.stop()
    state.set_current_cell(space, arch)
    return arch


# -- build forms -------------------------------------------------------------------------------
NB201_EDGES = ("0→1", "0→2", "1→2", "0→3", "1→3", "2→3")
NB101_N, NB101_OP = "editor_form_n", "editor_form_op{}"
NB201_OP = "editor_nb201_{}"


def text_cell(space: str) -> Architecture | None:
    """The cell in the editor's text area, ``None`` when it is empty or not valid."""
    try:
        return parse_cell(space, state.editor_text(space) or "")
    except InvalidArchitecture:
        return None


def _form_source(space: str, arch: Architecture | None, widget: str) -> str | None:
    """Which cell the form shows (its ``url_text``); returns it when the form must be filled
    from ``arch`` now: the editor's cell changed since the form was last filled, or Streamlit
    forgot the form's widgets (``widget`` is one of them) after another page was shown. Not on
    other reruns, so the user's own edits of the form stay."""
    marker = f"editor_form_source_{space}"
    if arch is None:
        return None
    text = state.url_text(arch)
    if state.value(marker) == text and state.value(widget) is not None:
        return None
    state.set_value(marker, text)
    return text


def nb101_grid(arch: Architecture | None, n: int) -> pd.DataFrame:
    """The edge grid of an ``n``-vertex form: the cell's edges when it has ``n`` vertices."""
    labels = ["input", *[f"{i}" for i in range(1, n - 1)], "output"]
    edges = np.zeros((n, n), dtype=bool)
    if arch is not None and arch.num_vertices == n:
        edges = arch.matrix.astype(bool)
    return pd.DataFrame(edges, index=labels, columns=labels)


def _nb101_form(arch: Architecture | None) -> str | None:
    choices = get_space("nb101").ops
    if _form_source("nb101", arch, NB101_N) is not None:
        state.set_value(NB101_N, arch.num_vertices)
        for i, op in enumerate(arch.ops[1:-1], start=1):
            state.set_value(NB101_OP.format(i), op)
    state.setdefault(NB101_N, 5)
    n = int(st.number_input("Vertices", 2, 7, key=NB101_N))
    ops = []
    for i in range(1, n - 1):
        state.setdefault(NB101_OP.format(i), choices[0])
        ops.append(st.selectbox(f"Vertex {i}", choices, key=NB101_OP.format(i)))
    st.caption("Tick an edge from the row vertex to the column vertex (upper triangle).")
    source = state.value("editor_form_source_nb101") or ""
    tag = hashlib.md5(source.encode()).hexdigest()[:8]  # a new cell gets a fresh grid (edits are per key)
    edited = st.data_editor(nb101_grid(arch, n), key=f"editor_form_edges_{n}_{tag}")
    if st.button("Use this form", key="editor_form_use"):
        return nb101_from_form(ops, edited.to_numpy())
    return None


def _nb201_form(arch: Architecture | None) -> str | None:
    space = get_space("nb201")
    if _form_source("nb201", arch, NB201_OP.format(0)) is not None:
        for i, op in enumerate(arch.edge_ops):
            state.set_value(NB201_OP.format(i), op)
    columns = st.columns(len(NB201_EDGES))
    ops = []
    for i, (col, edge) in enumerate(zip(columns, NB201_EDGES)):
        state.setdefault(NB201_OP.format(i), "nor_conv_3x3")
        ops.append(col.selectbox(f"Edge {edge}", space.ops, key=NB201_OP.format(i)))
    if st.button("Use this form", key="editor_nb201_use"):
        return space.cell(ops=ops).to_json()
    return None


FORMS = {"nb101": _nb101_form, "nb201": _nb201_form}


def build_form(space: str) -> None:
    """The space's build form, if it has one, showing the editor's cell; "Use this form" puts
    its cell in the text area."""
    form = FORMS.get(space)
    if form is None:
        return
    with st.expander("Build with a form", expanded=False):
        text = form(text_cell(space))
    if text is not None:
        state.set_editor_text(space, text)
        st.rerun()


# -- benchmark lookup --------------------------------------------------------------------------
def show_lookup(space: str, arch: Architecture) -> None:
    """The cell's row in its space's benchmark, or why there is none; numbers for people
    (``fmt_number``, the Benchmarks page's ``readable_record``)."""
    from archpred.app.benchmarks_page import readable_record

    bench, error = cache.try_benchmark(SPACE_BENCHMARK[space])
    if bench is None:
        st.info(f"No benchmark to look up: {md_escape(str(error))}")
        return
    record = bench.lookup(arch)
    if record is None:
        st.info(f"Not in the {bench.name} table ({fmt_number(len(bench))} archs).")
    else:
        st.success(f"In {bench.name}: real {bench.target} = {fmt_number(float(record[bench.target]))}")
        st.json(readable_record(record), expanded=False)
