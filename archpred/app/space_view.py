"""The Embedding map's whole-space view: every NB-101 cell (423,624, not just the 20,001 of the
table) placed by a VAE embedding, coloured by a predictor's estimate (``score_space``), with
the labelled cells marked. Drawn with WebGL (``Scattergl``): a browser keeps hundreds of
thousands of points interactive where SVG stops at a few thousand.

Embedding the space takes minutes on a CPU (SVGe: about 160 s on one thread, arch2vec 40 s), so
it starts on a button, shows its progress, and is kept on disk chunk by chunk (``space_map``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache, ui
from archpred.app.text import fmt_number
from archpred.errors import ArchpredError

SPACE = "nb101"
METHODS = ("PCA", "UMAP")  # t-SNE of 423,624 points is out of a CPU's reach
SHOWN = (100_000, 20_000, 423_624)  # points drawn (a fixed random subset below the whole space)


def embedding_or_stop(kind: str, tag: str, device: str) -> np.ndarray:
    """The whole-space embedding; a button (and a progress bar) when it is not on disk yet."""
    if not cache.has_space_embedding(kind, SPACE, tag):
        st.info(
            f"The {kind} embedding of all NB-101 cells is not computed yet: a few minutes on a CPU, "
            "kept on disk afterwards (an interrupted run resumes where it stopped)."
        )
        if not st.button(f"Embed all NB-101 cells with {kind}", key="space_embed_start", icon=":material/memory:"):
            st.stop()
        _embed_with_progress(kind, tag, device)
    try:
        return cache.space_embedding(kind, SPACE, tag, device)
    except (ArchpredError, OSError) as err:
        st.error(str(err))
        st.stop()


def _embed_with_progress(kind: str, tag: str, device: str) -> None:
    from archpred.vae.space_map import embed_space

    vae, error = cache.try_vae(kind, SPACE, device)
    if vae is None:
        st.error(error)
        st.stop()
    bar = st.progress(0.0, text="Embedding ...")
    embed_space(
        vae,
        cache.space_embedding_folder(kind, SPACE, tag),
        progress=lambda done, n: bar.progress(done / n, text=f"Embedded {done:,} of {n:,} cells"),
    )
    bar.empty()


def projection(kind: str, tag: str, method: str, device: str) -> np.ndarray:
    what = f"{method} of the whole-space {kind} embedding"
    if cache.has_space_projection(kind, SPACE, tag, method):
        st.caption(f"{what}: from the disk cache.")
        return cache.space_projection(kind, SPACE, tag, method, device)
    note = " (UMAP of 423,624 points: several minutes)" if method == "UMAP" else ""
    with st.spinner(f"Computing the {what}{note}; cached on disk afterwards ...", show_time=True):
        return cache.space_projection(kind, SPACE, tag, method, device)


def scores_or_none(device: str) -> tuple[np.ndarray | None, str]:
    """The best saved NB-101 predictor's estimate of every cell, and its label."""
    saved = cache.saved_models(SPACE)
    if not saved:
        return None, ""
    best = saved[0]  # the best held-out Kendall tau first
    if cache.has_space_scores(best):
        return cache.space_scores(best, device), best.label
    with st.spinner(f"Scoring all NB-101 cells with {best.label} (once; kept on disk) ...", show_time=True):
        return cache.space_scores(best, device), best.label


def figure(xy: np.ndarray, rows: np.ndarray, values: np.ndarray | None, labelled: np.ndarray, title: str) -> go.Figure:
    """All shown cells (coloured by ``values`` when given), the labelled ones on top, ringed."""
    fig = go.Figure()
    marker: dict[str, Any] = {"size": 3, "opacity": 0.6}
    if values is not None:
        marker |= {"color": values[rows], "colorscale": "Viridis", "colorbar": {"title": "predicted"}}
    fig.add_trace(
        go.Scattergl(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", marker=marker, customdata=rows[:, None], name="all cells"
        )
    )
    mine = rows[labelled[rows]]
    fig.add_trace(
        go.Scattergl(
            x=xy[mine, 0],
            y=xy[mine, 1],
            mode="markers",
            marker={"size": 5, "color": "rgba(0,0,0,0)", "line": {"width": 1, "color": "crimson"}},
            customdata=mine[:, None],  # one row per point, as latent.selected_rows reads it
            name="in the benchmark table",
        )
    )
    fig.update_layout(height=600, margin={"t": 40, "b": 10}, title=title, legend={"orientation": "h"})
    return fig


def render(kind: str, device: str) -> None:
    """The whole view (widgets, map, selected cell)."""
    from archpred.app import latent

    if cache.vae_file(kind, SPACE) is None:
        st.error(
            f"No trained {kind} model for nb101. Train one with: python -m archpred train vae --kind {kind} --space nb101"
        )
        st.stop()
    tag = cache.vae_tag(kind, SPACE)
    with st.spinner("Reading every NB-101 cell ...", show_time=True):
        arrays = cache.space_arrays(SPACE)
    c1, c2, c3 = st.columns(3)
    method = c1.selectbox("Projection", METHODS, key="space_method")
    shown = c2.selectbox("Points drawn", SHOWN, format_func=lambda n: f"{n:,}", key="space_shown")
    colour = c3.selectbox("Colour", ["predicted accuracy", "none"], key="space_colour")
    embedding_or_stop(kind, tag, device)
    xy = projection(kind, tag, method, device)
    values, who = scores_or_none(device) if colour == "predicted accuracy" else (None, "")
    bench = ui.benchmark_or_stop(SPACE)
    index = {k: i for i, k in enumerate(arrays.keys)}
    labelled = np.zeros(len(arrays), dtype=bool)
    labelled[[index[k] for k in bench.keys if k in index]] = True
    rows = latent.shown_rows(len(arrays), int(shown))
    title = f"NB-101, every cell: {kind} embedding, {method} ({len(rows):,} of {len(arrays):,} drawn)"
    event = st.plotly_chart(
        figure(xy, rows, values, labelled, title),
        key="space_plot",
        on_select="rerun",
        selection_mode=["points", "box", "lasso"],
    )
    if values is not None:
        st.caption(
            f"Colour: {who}'s predicted accuracy (`score_space`). Ringed: the {labelled.sum():,} cells of the table."
        )
    picked = latent.selected_rows(event)
    if not picked:
        st.caption("No point selected yet.")
        return
    i = picked[0]
    arch = arrays.archs([i])[0]
    left, right = st.columns([3, 2])
    from archpred.app.draw import cell_figure

    left.plotly_chart(cell_figure(arch, title=str(arrays.keys[i])), key="space_cell")
    record = bench.lookup(str(arrays.keys[i]))
    right.metric(bench.target, "not in the table" if record is None else fmt_number(record[bench.target]))
    if values is not None:
        right.metric("Predicted", fmt_number(values[i]))
    with right:
        latent.open_in_editor(SPACE, arch, key="space_open")
