"""Latent walk: decoded cells along a line between two cells, or on a circle around one."""

import numpy as np
import streamlit as st

from archpred.app import cache, latent, ui
from archpred.errors import InvalidArchitecture

ui.through_navigation()
st.title("Latent walk")
st.caption(
    "Walk through a graph VAE's latent space: every step is decoded back to a cell (or shown as invalid) "
    "and scored by a regressor on the latent space."
)

c1, c2, c3 = st.columns(3)
kind = c1.selectbox("Model", latent.KINDS, key="walk_kind", format_func=latent.label)
bench_name = c2.selectbox("Benchmark", latent.spaces_or_stop(kind), key="walk_bench")
mode = c3.radio("Walk", ["Line between two cells", "Circle around a cell"], key="walk_mode", horizontal=True)

device = ui.device_or_stop()
bench, vae = latent.benchmark_and_vae_or_stop(kind, bench_name, device)
space = bench.space
tag = cache.vae_tag(kind, space.name)
latent.default_walk_ends(bench)

b1, b2, b3 = st.columns(3)
if b1.button("Random cells from the table", key="walk_random"):
    latent.random_walk_ends(bench)
if b2.button("Best and median cells", key="walk_defaults"):
    latent.reset_walk_ends(bench)
    st.rerun()
if b3.button("Start from the current cell", key="walk_from_editor", help="The cell editor's cell of this space"):
    latent.start_from_current_cell(bench)

left, right = st.columns(2)
text_a = left.text_area("Cell A (JSON, or an NB-201 string)", key=latent.walk_key(bench_name, "a"), height=110)
text_b = None
if mode.startswith("Line"):
    text_b = right.text_area("Cell B", key=latent.walk_key(bench_name, "b"), height=110)
    steps = right.slider("Steps", 3, 24, 9, key="walk_steps")
else:
    steps = right.slider("Points on the circle", 4, 36, 12, key="walk_circle_steps")
    radius = right.slider(
        "Radius",
        *latent.RADIUS_RANGE,
        latent.default_radius(kind, space.name),
        step=0.5,
        key=latent.radius_key(kind, space.name),
        help="In latent units. The default is measured per model and benchmark: the smallest radius whose circles "
        "around the best and median cells leave the centre's cell (python -m archpred.bench.latent_walk_radius).",
    )
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
frame, decoded = latent.walk_table(vae, kind, bench_name, tag, z, device)

latent.show_walk(frame, decoded, space, circle=cell_b is None)
