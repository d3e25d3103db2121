"""Embedding map: every cell of a benchmark embedded by a graph VAE, projected to 2-D."""

import numpy as np
import streamlit as st

from archpred.app import cache, latent, space_view, ui
from archpred.app.draw import cell_figure
from archpred.app.text import fmt_number

ui.through_navigation()
st.title("Embedding map")
st.caption(
    "Each point is a cell of the benchmark, placed by its graph embedding (SVGe, arch2vec, or arch2vec trained with networks' outputs or accuracies) and projected to 2-D. "
    "Select a point (click or lasso) to see its cell."
)

WHOLE = "the whole NB-101 space (423,624 cells)"
scope = st.radio("Cells", ["a benchmark table", WHOLE], horizontal=True, key="embed_scope")
if scope == WHOLE:
    kind = st.selectbox("Model", latent.KINDS, key="embed_kind", format_func=latent.label)
    space_view.render(kind, ui.device_or_stop())
    st.stop()

c1, c2, c3, c4 = st.columns(4)
kind = c1.selectbox("Model", latent.KINDS, key="embed_kind")
bench_name = c2.selectbox("Benchmark", latent.spaces_or_stop(kind), key="embed_bench")
method = c3.selectbox("Projection", latent.PROJECTIONS, key="embed_method")
colour = c4.selectbox("Colour", ["real accuracy", "predicted accuracy"], key="embed_colour")

device = ui.device_or_stop()
bench, vae = latent.benchmark_and_vae_or_stop(kind, bench_name, device)
tag = cache.vae_tag(kind, bench.space.name)

n = latent.cells_slider(method, len(bench))
rows = latent.shown_rows(len(bench), n)
xy = latent.projection(kind, bench_name, method, tag, rows, device)
predicted = cache.predicted_accuracy(kind, bench_name, tag, device) if colour == "predicted accuracy" else None
values = bench.accuracy if predicted is None else predicted
fig = latent.map_figure(bench, xy, rows, values, colour, kind, method)
event = st.plotly_chart(fig, key="embed_plot", on_select="rerun", selection_mode=["points", "lasso", "box"])
if predicted is not None:
    st.caption(f"Predicted: a random forest on the {kind} embeddings of {latent.FIT_SIZE:,} random labelled cells.")

selected = latent.selected_rows(event)
if len(selected) > 1:
    acc = bench.accuracy[selected]
    st.info(
        f"{len(selected):,} cells selected: mean accuracy {fmt_number(np.nanmean(acc))}, "
        f"best {fmt_number(np.nanmax(acc))}; the first is shown below."
    )
if selected:
    i = selected[0]
    left, right = st.columns([3, 2])
    left.plotly_chart(cell_figure(bench.archs[i], title=bench.keys[i]), key="embed_cell")
    right.metric(bench.target, fmt_number(bench.accuracy[i]))
    right.metric("Predicted", fmt_number(cache.predicted_accuracy(kind, bench_name, tag, device)[i]))
    with right:
        latent.open_in_editor(bench.space.name, bench.archs[i], key="embed_open")
    right.json(bench.record(i), expanded=False)
else:
    st.caption("No point selected yet.")
