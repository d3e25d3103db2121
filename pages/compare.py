"""Compare two cells: both drawn with what differs in red, real and predicted accuracies,
parameters, FLOPs, the SVGe latent distance, and the latent walk between them."""

import streamlit as st

from archpred.app import compare, editor, export, ui
from archpred.app.text import fmt_number, md_escape
from archpred.spaces import available_spaces
from archpred.spaces.diff import cell_diff

ui.through_navigation()
st.title("Compare cells")
st.caption("Cell A is the current cell; cell B starts as a mutation of it. Paste JSON or an NB-201 string in either.")

spaces = editor.space_choices(available_spaces())
compare.choose_space(spaces)
space = st.selectbox("Search space", spaces, key=compare.SPACE_KEY)
compare.open_cells(space)

b1, b2, b3, _ = st.columns([1, 1, 1, 2])
if b1.button("Current cell as A", key="compare_use_current", help="The cell editor's cell of this space"):
    compare.use_current(space)
if b2.button("New mutation of A as B", key="compare_mutate"):
    compare.mutate_b(space)
if b3.button("Swap A and B", key="compare_swap"):
    compare.swap(space)

left, right = st.columns(2)
text_a = left.text_area("Cell A", key=compare.text_key(space, "a"), height=110)
text_b = right.text_area("Cell B", key=compare.text_key(space, "b"), height=110)
a, b = compare.parse_or_stop(space, text_a, text_b)
diff = cell_diff(a, b)

st.markdown(compare.diff_summary(diff, space))
for column, name, arch, vertices, edges in (
    (left, "A", a, diff.ops_a, diff.edges_a),
    (right, "B", b, diff.ops_b, diff.edges_b),
):
    with column:
        figure = compare.highlighted_figure(arch, vertices, edges, title=f"Cell {name}")
        st.plotly_chart(figure, width="stretch", key=f"compare_figure_{name}", config=export.PLOT_CONFIG)
        if st.button("Open in cell editor", key=f"compare_open_{name}"):
            compare.open_in_editor(space, arch)

device = ui.device_or_stop()
table, notes = compare.compare_table(space, a, b, device)
st.dataframe(compare.shown(table), hide_index=True, key="compare_table")
for note in notes:
    st.caption(note)

distance, why_not = compare.latent_distance(space, a, b, device)
if distance is None:
    st.info(f"No latent distance: {md_escape(why_not)}")
else:
    c1, c2 = st.columns([1, 2])
    c1.metric("SVGe latent distance", fmt_number(distance), help="Euclidean distance between the posterior means")
    if c2.button("Latent walk between them", key="compare_walk", help="The SVGe line from A to B"):
        compare.open_walk(space, a, b)

with st.expander("Share and export", expanded=False):
    export.share_link()
    st.download_button(
        "Comparison (CSV)",
        export.table_csv(table),
        f"{space}-compare.csv",
        "text/csv",
        key="compare_csv",
        on_click="ignore",
    )
