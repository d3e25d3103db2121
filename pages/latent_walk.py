"""Latent walk: decoded cells along a line between two cells, or on a circle around one."""

import numpy as np
import plotly.express as px
import streamlit as st

from archpred.app import vae_cache
from archpred.app.draw import cell_figure
from archpred.errors import InvalidArchitecture

st.title("Latent walk")
st.caption(
    "Walk through a graph VAE's latent space: every step is decoded back to a cell (or shown as invalid) "
    "and scored by a regressor on the latent space."
)

c1, c2, c3 = st.columns(3)
kind = c1.selectbox("Model", vae_cache.KINDS, key="walk_kind")
spaces = vae_cache.available_spaces(kind)
if not spaces:
    st.error(f"No trained {kind} model. Train one with: python -m archpred train vae --kind {kind} --space nb201")
    st.stop()
bench_name = c2.selectbox("Benchmark", spaces, key="walk_bench")
mode = c3.radio("Walk", ["Line between two cells", "Circle around a cell"], key="walk_mode", horizontal=True)

bench, vae = vae_cache.benchmark_and_vae_or_stop(kind, bench_name)
space = bench.space
tag = vae_cache.model_tag(kind, space.name)


def cell_text(i: int) -> str:
    return bench.archs[int(i)].to_json()


for name, row in (("a", int(np.nanargmax(bench.accuracy))), ("b", int(np.argsort(bench.accuracy)[len(bench) // 2]))):
    key = f"walk_{bench_name}_{name}"
    if key not in st.session_state:
        st.session_state[key] = cell_text(row)

editor_text = st.session_state.get(f"editor_json_{space.name}")
b1, b2, b3 = st.columns(3)
if b1.button("Random cells from the table", key="walk_random"):
    st.session_state["walk_seed"] = st.session_state.get("walk_seed", 0) + 1
    rng = np.random.default_rng(st.session_state["walk_seed"])
    for name in "ab":
        st.session_state[f"walk_{bench_name}_{name}"] = cell_text(rng.integers(len(bench)))
if b2.button("Best and median cells", key="walk_defaults"):
    for name in "ab":
        st.session_state.pop(f"walk_{bench_name}_{name}", None)
    st.rerun()
if editor_text and b3.button("Start from the cell editor's cell", key="walk_from_editor"):
    st.session_state[f"walk_{bench_name}_a"] = editor_text

left, right = st.columns(2)
text_a = left.text_area("Cell A (JSON, or an NB-201 string)", key=f"walk_{bench_name}_a", height=110)
text_b = None
if mode.startswith("Line"):
    text_b = right.text_area("Cell B", key=f"walk_{bench_name}_b", height=110)
    steps = right.slider("Steps", 3, 24, 9, key="walk_steps")
else:
    steps = right.slider("Points on the circle", 4, 36, 12, key="walk_circle_steps")
    radius = right.slider("Radius", 0.1, 5.0, 1.0, step=0.1, key="walk_radius")
    seed = right.number_input("Plane seed", 0, 10_000, 0, key="walk_plane_seed")

try:
    cell_a = space.parse(text_a)
    cell_b = space.parse(text_b) if text_b is not None else None
except InvalidArchitecture as err:
    st.error(f"Invalid cell: {err}")
    st.stop()

if cell_b is not None:
    z = vae.line(cell_a, cell_b, steps)
else:
    z = vae.circle_points(cell_a, int(steps), np.random.default_rng(int(seed)), radius=float(radius))
frame, decoded = vae_cache.walk_table(vae, kind, bench_name, tag, z)

valid = int(frame["valid"].sum())
m1, m2, m3 = st.columns(3)
m1.metric("Valid decodes", f"{valid} / {len(frame)}")
m2.metric("Distinct cells", len({space.key(a) for a in decoded if a is not None}))
m3.metric("Best predicted", f"{frame['predicted accuracy'].max():.4f}")

fig = px.line(frame, x="step", y=["predicted accuracy", "real accuracy"], markers=True, title="Accuracy along the walk")
fig.update_layout(height=300, margin={"t": 40, "b": 10}, yaxis_title="accuracy")
st.plotly_chart(fig, key="walk_plot")
st.dataframe(frame, hide_index=True, key="walk_table")

st.subheader("Decoded cells")
cols = st.columns(4)
for i, arch in enumerate(decoded):
    with cols[i % 4]:
        if arch is None:
            st.warning(f"Step {i}: invalid decode")
        else:
            title = f"step {i}: pred {frame['predicted accuracy'][i]:.3f}"
            st.plotly_chart(cell_figure(arch, title=title, height=240), key=f"walk_cell_{i}")
