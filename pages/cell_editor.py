"""Cell editor: build or paste a cell, see it drawn and validated, its hash and its real accuracy."""

import streamlit as st

from archpred.app import editor, export, state, ui
from archpred.app.draw import cell_figure, cell_pyvis_html
from archpred.app.panels import available_panels
from archpred.spaces import available_spaces

ui.through_navigation()
st.title("Cell editor")

spaces = editor.space_choices(available_spaces())
editor.open_cell(spaces)
space = st.selectbox("Search space", spaces, key=editor.SPACE_KEY)
editor.ensure_text(space)

b1, b2, _ = st.columns([1, 1, 4])
if b1.button("Random cell", key="editor_random"):
    editor.random_cell(space)
if b2.button("Mutate", key="editor_mutate"):
    editor.mutate_cell(space)
editor.build_form(space)

text = st.text_area(
    "Cell (JSON)",
    key=state.editor_text_key(space),
    height=120,
    help="nb101: {adjacency, ops}; nb201: {arch: string}; enas: {layers}; macro: {arch: 8 digits}",
)
arch = editor.parse_or_stop(space, text)
info = editor.summary(space, arch)
if "pruned vertices" in info:
    pruned = ", ".join(str(v) for v in info["pruned vertices"])
    st.warning(f"Vertices {pruned} lie on no input-output path and were pruned (as NB-101 does).")

draw_col, info_col = st.columns([3, 2])
with draw_col:
    st.plotly_chart(cell_figure(arch), width="stretch", key="editor_figure", config=export.PLOT_CONFIG)
    with st.expander("Interactive view"):
        st.iframe(cell_pyvis_html(arch), height=380)
with info_col:
    st.markdown(f"**Hash** `{info['hash']}`")
    st.markdown(f"{info['vertices']} vertices, {info['edges']} edges (node-labelled form)")
    editor.show_lookup(space, arch)
    with st.expander("Share and export", expanded=False):
        export.share_link()
        export.cell_downloads(space, arch, key="editor_export")
    if st.button("Compare with another cell", key="editor_compare"):
        st.switch_page("pages/compare.py")

for render in available_panels():
    render(space, arch)
