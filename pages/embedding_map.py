"""Embedding map: every cell of a benchmark embedded by a graph VAE, projected to 2-D."""

import numpy as np
import plotly.express as px
import streamlit as st

from archpred.app import vae_cache
from archpred.app.draw import cell_figure

st.title("Embedding map")
st.caption(
    "Each point is a cell of the benchmark, placed by its SVGe or arch2vec graph embedding and projected to 2-D. "
    "Select a point (click or lasso) to see its cell."
)

c1, c2, c3, c4 = st.columns(4)
kind = c1.selectbox("Model", vae_cache.KINDS, key="embed_kind")
spaces = vae_cache.available_spaces(kind)
if not spaces:
    st.error(f"No trained {kind} model. Train one with: python -m archpred train vae --kind {kind} --space nb201")
    st.stop()
bench_name = c2.selectbox("Benchmark", spaces, key="embed_bench")
method = c3.selectbox("Projection", vae_cache.PROJECTIONS, key="embed_method")
colour = c4.selectbox("Colour", ["real accuracy", "predicted accuracy"], key="embed_colour")

bench, vae = vae_cache.benchmark_and_vae_or_stop(kind, bench_name)
tag = vae_cache.model_tag(kind, bench.space.name)

default_n = min(len(bench), 2000 if method != "PCA" else len(bench))
n = st.slider("Cells on the map", 500, len(bench), default_n, step=500, key="embed_n")
rows = vae_cache.shown_rows(len(bench), n)
if vae_cache.cached_projection(kind, bench_name, method, tag, len(rows)) is None:
    with st.spinner(f"Computing the {method} projection of {len(rows):,} embeddings (cached on disk afterwards) ..."):
        xy = vae_cache.projection(kind, bench_name, method, tag, rows)
else:
    xy = vae_cache.projection(kind, bench_name, method, tag, rows)

values = bench.accuracy if colour == "real accuracy" else vae_cache.predicted_accuracy(kind, bench_name, tag)
frame = {
    "x": xy[:, 0],
    "y": xy[:, 1],
    colour: values[rows],
    "row": rows,
    "key": [bench.keys[i] for i in rows],
}
fig = px.scatter(
    frame,
    x="x",
    y="y",
    color=colour,
    custom_data=["row"],
    hover_data=["key"],
    opacity=0.6,
    color_continuous_scale="Viridis",
    title=f"{bench_name}: {kind} embedding, {method} ({len(rows):,} cells)",
)
fig.update_traces(marker={"size": 4})
fig.update_layout(height=560, margin={"t": 40, "b": 10}, xaxis_title=f"{method} 1", yaxis_title=f"{method} 2")
event = st.plotly_chart(fig, key="embed_plot", on_select="rerun", selection_mode=["points", "lasso", "box"])
if colour == "predicted accuracy":
    st.caption(f"Predicted: a random forest on the {kind} embeddings of {vae_cache.FIT_SIZE:,} random labelled cells.")

points = event.selection.points if event is not None else []
selected = [int(p["customdata"][0]) for p in points if p.get("customdata")]
if len(selected) > 1:
    acc = bench.accuracy[selected]
    st.info(f"{len(selected):,} cells selected: mean accuracy {np.nanmean(acc):.4f}, best {np.nanmax(acc):.4f}")
if selected:
    i = selected[0]
    left, right = st.columns([3, 2])
    left.plotly_chart(cell_figure(bench.archs[i], title=bench.keys[i]), key="embed_cell")
    right.metric(bench.target, f"{bench.accuracy[i]:.4f}")
    right.metric("Predicted", f"{vae_cache.predicted_accuracy(kind, bench_name, tag)[i]:.4f}")
    right.json(bench.record(i), expanded=False)
else:
    st.caption("No point selected yet.")
