"""Cell editor: build or paste a cell, see it drawn and validated, its hash and its real accuracy."""

import numpy as np
import pandas as pd
import streamlit as st

from archpred.app import cache, editor
from archpred.app.draw import cell_figure, cell_pyvis_html
from archpred.app.panels import available_panels
from archpred.errors import InvalidArchitecture
from archpred.spaces import available_spaces, get_space

st.title("Cell editor")

incoming = st.session_state.pop("editor_incoming", None)
spaces = available_spaces()
if incoming and incoming.get("space") in spaces:
    st.session_state["editor_space"] = incoming["space"]
    st.session_state[f"editor_json_{incoming['space']}"] = (
        get_space(incoming["space"]).cell(**incoming["arch"]).to_json()
    )

space = st.selectbox("Search space", spaces, key="editor_space")
json_key = f"editor_json_{space}"
if json_key not in st.session_state:
    st.session_state[json_key] = editor.default_text(space)

b1, b2, _ = st.columns([1, 1, 4])
if b1.button("Random cell", key="editor_random"):
    st.session_state["editor_seed"] = st.session_state.get("editor_seed", 0) + 1
    st.session_state[json_key] = editor.random_text(space, st.session_state["editor_seed"])
if b2.button("Mutate", key="editor_mutate"):
    st.session_state["editor_seed"] = st.session_state.get("editor_seed", 0) + 1
    try:
        st.session_state[json_key] = editor.mutate_text(
            space, st.session_state[json_key], st.session_state["editor_seed"]
        )
    except InvalidArchitecture as err:
        st.error(f"Cannot mutate an invalid cell: {err}")

if space == "nb101":
    with st.expander("Build with a form", expanded=False):
        n = st.number_input("Vertices", 2, 7, 5, key="editor_form_n")
        ops = [
            st.selectbox(f"Vertex {i}", get_space("nb101").ops, key=f"editor_form_op{i}") for i in range(1, int(n) - 1)
        ]
        labels = ["input", *[f"{i}" for i in range(1, int(n) - 1)], "output"]
        grid = pd.DataFrame(np.zeros((int(n), int(n)), dtype=bool), index=labels, columns=labels)
        st.caption("Tick an edge from the row vertex to the column vertex (upper triangle).")
        edited = st.data_editor(grid, key=f"editor_form_edges_{n}")
        if st.button("Use this form", key="editor_form_use"):
            st.session_state[json_key] = editor.nb101_from_form(ops, edited.to_numpy())
            st.rerun()

if space == "nb201":
    with st.expander("Build with a form", expanded=False):
        edges = ["0→1", "0→2", "1→2", "0→3", "1→3", "2→3"]
        columns = st.columns(6)
        ops = [
            col.selectbox(f"Edge {e}", get_space("nb201").ops, index=3, key=f"editor_nb201_{i}")
            for i, (col, e) in enumerate(zip(columns, edges))
        ]
        if st.button("Use this form", key="editor_nb201_use"):
            st.session_state[json_key] = get_space("nb201").cell(ops=ops).to_json()
            st.rerun()

text = st.text_area(
    "Cell (JSON)",
    key=json_key,
    height=120,
    help="nb101: {adjacency, ops}; nb201: {arch: string}; enas: {layers}; macro: {arch: 8 digits}",
)

try:
    arch = editor.parse_cell(space, text)
except InvalidArchitecture as err:
    st.error(f"Invalid cell: {err}")
    st.stop()

st.session_state["editor_cell"] = {"space": space, "arch": arch.to_dict()}
info = editor.summary(space, arch)
if "pruned vertices" in info:
    st.warning(f"Vertices {info['pruned vertices']} lie on no input-output path and were pruned (as NB-101 does).")

draw_col, info_col = st.columns([3, 2])
with draw_col:
    st.plotly_chart(cell_figure(arch), width="stretch", key="editor_figure")
    with st.expander("Interactive view"):
        st.iframe(cell_pyvis_html(arch), height=380)
with info_col:
    st.markdown(f"**Hash** `{info['hash']}`")
    st.markdown(f"{info['vertices']} vertices, {info['edges']} edges (node-labelled form)")
    bench, error = cache.try_benchmark(editor.SPACE_BENCHMARK[space])
    if bench is None:
        st.info(f"No benchmark to look up: {error}")
    else:
        record = bench.lookup(arch)
        if record is None:
            st.info(f"Not in the {bench.name} table ({len(bench):,} archs).")
        else:
            st.success(f"In {bench.name}: real {bench.target} = {record[bench.target]:.4f}")
            st.json(record, expanded=False)

for render in available_panels():
    render(space, arch)
