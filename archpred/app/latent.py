"""The latent-space pages (embedding map, latent walk): model choice, tables and figures.

Cached work (VAE loading, embeddings, projections, the latent regressor) is in ``cache``; the
projection itself in ``archpred.vae.projection``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache, state, ui
from archpred.app.text import fmt_number
from archpred.data import Benchmark
from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture
from archpred.vae import IO_VAE_KINDS, VAE_KINDS
from archpred.vae.projection import PROJECTIONS

KINDS = (*VAE_KINDS, *IO_VAE_KINDS)
LABELS = {"svge": "SVGe", "arch2vec": "arch2vec", "io": "IO model (arch2vec + outputs)",
          "io-accuracy": "Accuracy model (arch2vec + accuracy)"}  # fmt: skip
SPACES = ("nb201", "nb101", "enas")  # benchmarks whose space has a VAE
FIT_SIZE = cache.FIT_SIZE
__all__ = ["FIT_SIZE", "KINDS", "LABELS", "PROJECTIONS", "SPACES"]


def label(kind: str) -> str:
    """A model's name in the menus."""
    return LABELS.get(kind, kind)


def kind_spaces(kind: str) -> tuple[str, ...]:
    """The spaces a ``kind`` model can exist for: the IO models learn from NB-101 networks."""
    return ("nb101",) if kind in IO_VAE_KINDS else SPACES


def available_spaces(kind: str) -> list[str]:
    """Benchmarks with a trained ``kind`` model for their space."""
    return [s for s in kind_spaces(kind) if cache.vae_file(kind, s) is not None]


def spaces_or_stop(kind: str) -> list[str]:
    """``available_spaces``; an inline error with the training command when there is none."""
    from archpred.vae.model import train_command

    spaces = available_spaces(kind)
    if not spaces:
        st.error(f"No trained {kind} model. Train one with: {train_command(kind, kind_spaces(kind)[0])}")
        st.stop()
    return spaces


def benchmark_and_vae_or_stop(kind: str, bench_name: str, device: str) -> tuple[Benchmark, Any]:
    """The benchmark and VAE a page needs; on a problem, an inline error and ``st.stop()``."""
    bench = ui.benchmark_or_stop(bench_name)
    vae, error = cache.try_vae(kind, bench.space.name, device)
    if vae is None:
        st.error(error)
        st.stop()
    return bench, vae


def shown_rows(n_total: int, n: int) -> np.ndarray:
    """The cells shown on a map of ``n`` points (a fixed random subset when smaller than the table)."""
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(0).choice(n_total, n, replace=False))


# -- embedding map -----------------------------------------------------------------------------
SUBSAMPLE = 2000  # cells a new t-SNE or UMAP map shows (PCA shows every cell)
MAP_STEP = 500  # the cell-count slider's step


def default_cells(method: str, n_total: int) -> int:
    """Cells a new map of ``method`` shows: every cell for PCA (a second), a fixed random
    ``SUBSAMPLE`` for t-SNE and UMAP. On one thread of this project's 2-core machine t-SNE took
    17 s on 2,000 NB-201 cells and 333 s on all 15,625; UMAP 9 s on 2,000 (plus about 24 s of
    numba compilation on its first call in a process)."""
    return n_total if method == "PCA" else min(n_total, SUBSAMPLE)


def cells_key(method: str) -> str:
    """Widget key of the map's cell count: one per method, so each keeps its own (all cells for
    PCA, a subsample for t-SNE) instead of carrying PCA's 15,625 over to minutes of t-SNE."""
    return f"embed_n_{method}"


def cells_slider(method: str, n_total: int) -> int:
    """The number of cells on the map (per method; see ``default_cells``)."""
    low = min(MAP_STEP, n_total)
    return int(
        st.slider(
            "Cells on the map",
            low,
            n_total,
            default_cells(method, n_total),
            step=MAP_STEP,
            key=cells_key(method),
            help=(
                f"PCA maps every cell in a second; t-SNE and UMAP start on a fixed random {SUBSAMPLE:,} "
                "(seconds; every cell takes minutes). Each projection is computed once per model, "
                "benchmark, method and cells, then read from the disk cache."
            ),
        )
    )


def projection(kind: str, bench_name: str, method: str, tag: str, rows: np.ndarray, device: str) -> np.ndarray:
    """The projection of ``rows``: from the disk cache, or computed under a spinner that says
    what is computed (with the time so far) and that it is cached; a caption says which."""
    what = f"{method} of {len(rows):,} {kind} embeddings"
    if cache.has_projection(kind, bench_name, method, tag, rows):
        xy = cache.projection(kind, bench_name, method, tag, rows, device)
        st.caption(f"{what}: from the disk cache.")
        return xy
    start = time.perf_counter()
    with st.spinner(f"Computing the {what} (cached on disk afterwards) ...", show_time=True):
        xy = cache.projection(kind, bench_name, method, tag, rows, device)
    seconds = fmt_number(time.perf_counter() - start, 2)
    st.caption(f"{what}: computed in {seconds} s and cached on disk (colour changes and later visits reuse it).")
    return xy


def map_figure(
    bench: Benchmark, xy: np.ndarray, rows: np.ndarray, values: np.ndarray, colour: str, kind: str, method: str
) -> go.Figure:
    """The scatter of projected cells coloured by ``values`` (one per table row)."""
    frame = {"x": xy[:, 0], "y": xy[:, 1], colour: values[rows], "row": rows, "key": [bench.keys[i] for i in rows]}
    fig = px.scatter(
        frame,
        x="x",
        y="y",
        color=colour,
        custom_data=["row"],
        hover_data=["key"],
        opacity=0.6,
        color_continuous_scale="Viridis",
        title=f"{bench.name}: {kind} embedding, {method} ({len(rows):,} cells)",
    )
    fig.update_traces(marker={"size": 4})
    fig.update_layout(height=560, margin={"t": 40, "b": 10}, xaxis_title=f"{method} 1", yaxis_title=f"{method} 2")
    return fig


def selected_rows(event: Any) -> list[int]:
    """Table rows of the points selected on the map (click, lasso or box)."""
    points = event.selection.points if event is not None else []
    return [int(p["customdata"][0]) for p in points if p.get("customdata")]


# -- latent walk -------------------------------------------------------------------------------
def describe(arch: Architecture | None) -> str:
    """One line for a table: NB-201 string, ENAS layers, or NB-101 ops + edge count."""
    if arch is None:
        return "invalid"
    if hasattr(arch, "arch_string"):
        return arch.arch_string
    if hasattr(arch, "string"):
        return arch.string
    ops = ",".join(o.split("-")[0] for o in arch.ops[1:-1])
    return f"{arch.num_vertices}v {int(arch.matrix.sum())}e [{ops}]"


# The circle walk's default radius (latent units) per (VAE, benchmark): the smallest radius at
# which 12 points around the best and the median cell, in 10 random planes each, leave the
# centre's cell (``python -m archpred.bench.latent_walk_radius``; radius 1, the old default,
# stayed on one cell in all 20 SVGe walks on each benchmark). Mean distinct cells per walk there:
# SVGe NB-201 6 -> 4.2 (no walk on one cell), NB-101 4 -> 5.0, ENAS 3 -> 5.0; arch2vec NB-101
# 3 -> 4.0 (its sigmoid-decoder model: ``bench walk-radius --kinds arch2vec --spaces nb101 --seeds 10``)
# and ENAS 3 -> 3.5 (1 of 20 walks on one cell each). arch2vec's NB-201 circles turn invalid
# before reaching another cell at every radius (1.1 distinct cells): 2 keeps most points valid,
# the page says when a walk stays on one cell, and a line between two cells visits 3-4 there.
DEFAULT_RADIUS = {
    ("svge", "nb201"): 6.0,
    ("svge", "nb101"): 4.0,
    ("svge", "enas"): 3.0,
    ("arch2vec", "nb201"): 2.0,
    ("arch2vec", "nb101"): 3.0,
    ("arch2vec", "enas"): 3.0,
}
FALLBACK_RADIUS = {"svge": 4.0, "arch2vec": 3.0, "io": 3.0, "io-accuracy": 3.0}  # a space not measured
RADIUS_RANGE = (0.5, 12.0)


def default_radius(kind: str, space: str) -> float:
    """The circle walk's default radius for this VAE and space (see ``DEFAULT_RADIUS``)."""
    return DEFAULT_RADIUS.get((kind, space), FALLBACK_RADIUS.get(kind, 2.0))


def radius_key(kind: str, space: str) -> str:
    """Widget key of the radius: one per model and space, so each starts on its own default."""
    return f"walk_radius_{kind}_{space}"


def walk_key(bench_name: str, end: str) -> str:
    """Widget key of a walk's end cell text (``end`` is ``"a"`` or ``"b"``)."""
    return f"walk_{bench_name}_{end}"


def default_walk_ends(bench: Benchmark) -> None:
    """Start a walk from the best cell to the median one, unless the ends were set already."""
    best = int(np.nanargmax(bench.accuracy))
    median = int(np.argsort(bench.accuracy)[len(bench) // 2])
    for end, row in (("a", best), ("b", median)):
        state.setdefault(walk_key(bench.name, end), bench.archs[row].to_json())


def random_walk_ends(bench: Benchmark) -> None:
    """Two random cells of the table as the ends (a new pair each click)."""
    rng = np.random.default_rng(state.next_seed("walk_seed"))
    for end in "ab":
        state.set_value(walk_key(bench.name, end), bench.archs[int(rng.integers(len(bench)))].to_json())


def reset_walk_ends(bench: Benchmark) -> None:
    """Back to the best and median cells (on the next run)."""
    state.forget(walk_key(bench.name, "a"), walk_key(bench.name, "b"))


def start_from_current_cell(bench: Benchmark) -> None:
    """Put the current cell of the bench's space (set by the cell editor) at end A."""
    try:
        arch = state.current_cell(bench.space.name)
    except InvalidArchitecture as err:
        st.error(f"The current cell cannot be used: {err}")
        return
    if arch is None:
        st.info(f"No current {bench.space.name} cell yet: open one in the Cell editor.")
        return
    state.set_value(walk_key(bench.name, "a"), arch.to_json())


def walk_table(
    vae: Any, kind: str, bench_name: str, tag: str, z: np.ndarray, device: str
) -> tuple[pd.DataFrame, list[Architecture | None]]:
    """Decoded cells along latent points: step, cell, valid, predicted accuracy, real accuracy."""
    bench = cache.benchmark(bench_name)
    decoded = vae.decode(z)
    predicted = cache.latent_regressor(kind, bench_name, tag, device).predict(vae.latent_to_embedding(z))
    real = []
    for arch in decoded:
        row = None if arch is None else bench.index(arch)
        real.append(np.nan if row is None else float(bench.accuracy[row]))
    frame = pd.DataFrame(
        {
            "step": np.arange(len(z)),
            "cell": [describe(a) for a in decoded],
            "valid": [a is not None for a in decoded],
            "predicted accuracy": predicted,
            "real accuracy": real,
        }
    )
    return frame, decoded


def walk_figure(frame: pd.DataFrame) -> go.Figure:
    """Predicted and real accuracy per step of the walk."""
    fig = px.line(
        frame, x="step", y=["predicted accuracy", "real accuracy"], markers=True, title="Accuracy along the walk"
    )
    fig.update_layout(height=300, margin={"t": 40, "b": 10}, yaxis_title="accuracy")
    return fig


def one_cell_message(n_points: int, n_valid: int, n_distinct: int, circle: bool) -> str | None:
    """What to say when a walk shows nothing new: no valid decode, or every valid point the
    same cell (with what to change); ``None`` when it visits several cells."""
    if n_valid == 0:
        return f"None of the {n_points} points decodes to a valid cell: try a smaller radius or another cell."
    if n_distinct > 1:
        return None
    points = f"All {n_points} points" if n_valid == n_points else f"All {n_valid} valid points (of {n_points})"
    change = "try a larger radius or another plane seed." if circle else "choose two cells further apart."
    return f"{points} decode to the same cell: {change}"


def step_runs(decoded: list[Architecture | None], space: Any) -> list[tuple[int, int, Architecture | None]]:
    """Consecutive steps that decode to the same cell (or are all invalid) as ``(first, last,
    cell)``: a thumbnail per run instead of the same drawing repeated."""
    runs: list[list[Any]] = []
    for i, arch in enumerate(decoded):
        key = None if arch is None else space.key(arch)
        if runs and runs[-1][3] == key:
            runs[-1][1] = i
        else:
            runs.append([i, i, arch, key])
    return [(first, last, arch) for first, last, arch, _ in runs]


def run_title(frame: pd.DataFrame, first: int, last: int) -> str:
    """A thumbnail's one-line title: its steps, real accuracy (when in the table) and predicted
    accuracy (a range over the run's latent points), numbers through ``fmt_number``."""
    steps = f"step {first}" if first == last else f"steps {first}–{last}"
    pred = frame["predicted accuracy"].iloc[first : last + 1]
    low, high = fmt_number(pred.min(), 3), fmt_number(pred.max(), 3)
    parts = [steps, f"pred {low}" if low == high else f"pred {low}–{high}"]
    real = frame["real accuracy"].iloc[first]
    if np.isfinite(real):
        parts.append(f"real {fmt_number(real, 3)}")
    return " · ".join(parts)


THUMBS_PER_ROW = 3
THUMB_HEIGHT = 260


def show_walk(frame: pd.DataFrame, decoded: list[Architecture | None], space: Any, circle: bool = False) -> None:
    """Headline numbers, a note when the walk stays on one cell, the accuracy curve, the table
    and one thumbnail per run of identical decodes (one shared op legend above them)."""
    from archpred.app.draw import cell_figure, op_legend_figure

    n_valid = int(frame["valid"].sum())
    n_distinct = len({space.key(a) for a in decoded if a is not None})
    m1, m2, m3 = st.columns(3)
    m1.metric("Valid decodes", f"{n_valid} / {len(frame)}")
    m2.metric("Distinct cells", n_distinct)
    m3.metric("Best predicted", fmt_number(frame["predicted accuracy"].max()))
    message = one_cell_message(len(frame), n_valid, n_distinct, circle)
    if message:
        st.info(message)
    st.plotly_chart(walk_figure(frame), key="walk_plot")
    st.dataframe(frame, hide_index=True, key="walk_table")
    st.subheader("Decoded cells")
    open_step_in_editor(space.name, decoded)
    st.plotly_chart(op_legend_figure(space.node_types), key="walk_legend", config={"displayModeBar": False})
    runs = step_runs(decoded, space)
    for start in range(0, len(runs), THUMBS_PER_ROW):
        cols = st.columns(THUMBS_PER_ROW)
        for col, (first, last, arch) in zip(cols, runs[start : start + THUMBS_PER_ROW]):
            with col:
                if arch is None:
                    steps = f"Step {first}" if first == last else f"Steps {first}–{last}"
                    st.warning(f"{steps}: invalid decode")
                else:
                    title = run_title(frame, first, last)
                    fig = cell_figure(arch, title=title, height=THUMB_HEIGHT, compact=True)
                    st.plotly_chart(fig, key=f"walk_cell_{first}")


def open_step_in_editor(space: str, decoded: list[Architecture | None]) -> None:
    """A choice of valid decoded steps and a button that opens it in the cell editor."""
    steps = [i for i, a in enumerate(decoded) if a is not None]
    if not steps:
        return
    left, right = st.columns([1, 3])
    step = left.selectbox("Step", steps, key="walk_open_step")
    with right:
        open_in_editor(space, decoded[int(step)], key="walk_open", label="Open this step in the cell editor")


def open_in_editor(space: str, arch: Architecture, key: str, label: str = "Open in cell editor") -> None:
    """The one "open in cell editor" action of pages that show cells: hand ``arch`` over
    (``state.send_to_editor``) and switch to the editor."""
    if st.button(label, key=key, icon=":material/edit:"):
        state.send_to_editor(space, arch)
        st.switch_page("pages/cell_editor.py")
