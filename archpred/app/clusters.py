"""The Clusters page: GENNAPE's contrastive embedding of the architecture families on one map,
its fuzzy clusters, and predictions for a network a user uploads as ONNX.

Domain work is in ``archpred.gennape.atlas`` (samples, CGs, the map and its disk cache); model
loading and per-upload results are cached in ``cache``. The GENNAPE editor panel reuses the
member table and the missing-model message from here.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache, export, state
from archpred.app.text import fmt_number, md_escape
from archpred.errors import ArchpredError
from archpred.gennape import atlas
from archpred.gennape.families import FAMILIES
from archpred.gennape.inputs import MAX_ONNX_BYTES

TRAIN_COMMAND = "python -m archpred train gennape --out assets/gennape/gennape-nb101.pt --half"
FAMILY_LABELS = {
    "nb101": "NB-101 (training family)",
    "nb201": "NB-201",
    "macro": "NAS-Bench-Macro",
    "enas": "ENAS",
    atlas.UPLOAD: "upload",
}
FAMILY_COLOURS = {  # one colour per family, none of them the upload's red star
    FAMILY_LABELS["nb101"]: "#4C78A8",
    FAMILY_LABELS["nb201"]: "#F58518",
    FAMILY_LABELS["macro"]: "#54A24B",
    FAMILY_LABELS["enas"]: "#B279A2",
}
UPLOAD_COLOUR = "#E45756"
PROJECTIONS = {"t-SNE": "tsne", "UMAP": "umap", "PCA": "pca"}
COLOURS = ("family", "hard FCM cluster", "real accuracy", "predicted accuracy")
# Seconds to build one cell's CG on one thread of this project's 2-core machine (5 random cells
# per family: ``to_graphs`` of ``load_benchmark(name).archs``), for the page's time estimate.
SECONDS_PER_CELL = {"nb101": 0.23, "nb201": 0.11, "macro": 0.08, "enas": 0.08}
CELL_CHOICES = (10, 25, 50, 100, 150, 300, 500, 1000)
MAX_ONNX_MB = MAX_ONNX_BYTES // (1024 * 1024)
SOURCES = ("Your ONNX file", "Built-in example")
OUTPUTS = {  # what each member kind's score is
    "regressor": "accuracy",
    "kgnn": "accuracy",
    "pairwise": "rank position within a set (none for one network)",
    "flops": "log10 FLOPs (not an accuracy)",
}

FAMILIES_KEY = "clusters_families"
CELLS_KEY = "clusters_cells"
METHOD_KEY = "clusters_method"
COLOUR_KEY = "clusters_colour"
DRAW_KEY = "clusters_draw"
DRAWN_KEY = "clusters_drawn"  # the user asked for a map once: later changes compute at once
POINT_KEY = "clusters_point"
PLOT_KEY = "clusters_plot"
SOURCE_KEY = "clusters_source"
UPLOAD_KEY = "clusters_upload"
EXAMPLE_KEY = "clusters_example"


# -- the model ---------------------------------------------------------------------------------
def missing_model_message() -> str:
    """What to say when there is no GENNAPE model file (Markdown)."""
    path = cache.gennape_file()
    return (
        f"No GENNAPE model at `{path}` yet. Train it (hours on a CPU) with "
        f"`{TRAIN_COMMAND}`, or point `${cache.GENNAPE_ENV}` at a model file."
    )


def model_or_none() -> tuple[Any, str] | None:
    """``(model, digest)``; ``None`` after an ``st.info`` (no model file) or a one-line
    ``st.error`` (a file that cannot be loaded)."""
    path = cache.gennape_file()
    if not path.is_file():
        st.info(missing_model_message())
        return None
    model, digest, error = cache.try_gennape(path)
    if model is None:
        st.error(f"Cannot load the GENNAPE model: {md_escape(error)}")
        return None
    return model, digest


def model_or_stop() -> tuple[Any, str]:
    """``model_or_none``, stopping the page when there is no usable model."""
    found = model_or_none()
    if found is None:
        st.stop()
    return found


def member_table(model: Any, scores: dict[str, float]) -> pd.DataFrame:
    """One network's member scores: member, ensemble weight, what the score is and its value
    (accuracies only: a pairwise member's sort position says nothing about one network)."""
    rows = []
    for name, score in scores.items():
        member = model.members[name]
        kind = getattr(member, "kind", "")
        accuracy = bool(getattr(member, "returns_accuracy", False))
        shown = score if accuracy or kind == "flops" else np.nan
        rows.append((name, float(model.weights.get(name, 0.0)), OUTPUTS.get(kind, kind), shown))
    return pd.DataFrame(rows, columns=["member", "ensemble weight", "output", "value"])


def ensemble_note() -> str:
    return (
        "For one network GENNAPE's prediction is the mean of its accuracy-predicting members (its ensemble "
        "standardises scores over a set, which needs several networks)."
    )


# -- map options ---------------------------------------------------------------------------------
def map_options() -> tuple[dict[str, int], str, str]:
    """The families and cells per family, projection and colour chosen (families without data
    are left out of the choice, with a caption saying so)."""
    present = [name for name in FAMILIES if atlas.family_available(name)]
    missing = [name for name in FAMILIES if name not in present]
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    chosen = c1.multiselect(
        "Families", present, default=present, key=FAMILIES_KEY, format_func=lambda n: FAMILY_LABELS.get(n, n)
    )
    cells = c2.selectbox(
        "Cells per family",
        CELL_CHOICES,
        index=CELL_CHOICES.index(atlas.DEFAULT_CELLS),
        key=CELLS_KEY,
        help="A random sample of each family's benchmark cells (seeded); their computation graphs are built once "
        "and cached on disk.",
    )
    method = c3.selectbox("Projection", list(PROJECTIONS), key=METHOD_KEY)
    colour = c4.selectbox("Colour", COLOURS, key=COLOUR_KEY)
    if missing:
        names = ", ".join(FAMILY_LABELS[m] for m in missing)
        st.caption(f"Not on the map: {md_escape(names)} (their benchmark data is not on this machine).")
    return {name: int(cells) for name in chosen}, PROJECTIONS[method], colour


# -- uploads -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    """A network a user gave the page: its name, ONNX bytes, CG (``Data``) and ``GraphSet``."""

    name: str
    raw: bytes
    data: Any
    graphs: Any

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:20]


def upload_section() -> Upload | None:
    """The upload widgets (a file, or a built-in example) and the parsed network; a bad file
    is one ``st.error`` line and ``None``."""
    from archpred.gennape.examples import EXAMPLES

    st.caption(
        f"An `.onnx` file of up to {MAX_ONNX_MB} MB with a fixed input size (only the batch may vary), "
        "read with the `onnx` package only (never unpickled). Exports with constant folding (torch's default) "
        "merge batch-norm into the convolutions before them; export with `do_constant_folding=False` to keep "
        "graphs like the benchmarks' (GENNAPE was trained on those)."
    )
    source = st.radio("Network", SOURCES, horizontal=True, key=SOURCE_KEY, label_visibility="collapsed")
    if source == SOURCES[0]:
        file = st.file_uploader("ONNX file", type=["onnx"], key=UPLOAD_KEY, max_upload_size=MAX_ONNX_MB)
        if file is None:
            return None
        name, raw = file.name, file.getvalue()
    else:
        example = st.selectbox("Example network", list(EXAMPLES), key=EXAMPLE_KEY)
        st.caption("Small CIFAR-sized networks built by `archpred.gennape.examples`, exported to ONNX here.")
        name, raw = f"{example}.onnx", cache.gennape_example(example)
    return read_upload(name, raw)


def read_upload(name: str, raw: bytes) -> Upload | None:
    """The uploaded file's CG, or ``None`` after a one-line ``st.error`` saying what is wrong."""
    from archpred.gennape.graphs import GraphSet

    try:
        data = cache.upload_graph(raw, name)
        graphs = GraphSet.from_graphs([data], [name])
    except ArchpredError as err:
        st.error(md_escape(one_line(err)))
        return None
    except Exception as err:  # a file is the user's: no traceback, whatever the parser meets
        st.error(md_escape(f"Cannot read {name}: {type(err).__name__}: {one_line(err)}"))
        return None
    return Upload(name, raw, data, graphs)


def one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# -- the map ------------------------------------------------------------------------------------
def estimate_seconds(families: dict[str, int]) -> float:
    return sum(SECONDS_PER_CELL.get(name, 0.2) * n for name, n in families.items())


def map_or_none(
    model: Any, digest: str, families: dict[str, int], method: str, upload: Upload | None
) -> pd.DataFrame | None:
    """The map's table: read from the disk cache, or computed with a progress bar. The first
    map that must build computation graphs waits for a click (it takes a minute or two)."""
    if not families:
        st.info("Choose at least one family to draw the map.")
        return None
    missing = atlas.missing_tables(model, families, digest=digest)
    if missing and not state.value(DRAWN_KEY):
        cells = sum(families[name] for name in missing)
        st.info(
            f"Drawing the map builds the computation graphs of {cells:,} cells "
            f"({md_escape(', '.join(missing))}; about {fmt_number(estimate_seconds({m: families[m] for m in missing}), 2)}"
            " s on one CPU thread) and caches them on disk; later maps and visits reuse them."
        )
        if not st.button("Draw the map", key=DRAW_KEY, type="primary"):
            return None
        state.set_value(DRAWN_KEY, True)
    bar = st.progress(0.0, text="Preparing the map ...")
    start = time.perf_counter()

    def progress(what: str, done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{what}: {done:,} / {total:,}")

    try:
        frame = atlas.embedding_map(
            model, families, method, extra=None if upload is None else upload.graphs, progress=progress, digest=digest
        )
    except ArchpredError as err:
        st.error(md_escape(one_line(err)))
        return None
    finally:
        bar.empty()
    seconds = time.perf_counter() - start
    st.caption(
        f"{len(frame):,} networks; " + ("read from the disk cache." if seconds < 1 else f"computed in {seconds:.0f} s.")
    )
    for note in frame.attrs.get("notes", []):
        st.caption(md_escape(note))
    return frame


def _hover(frame: pd.DataFrame) -> list[str]:
    return [
        f"{FAMILY_LABELS.get(f, f)}<br>{k}<br>real {fmt_number(a)} · predicted {fmt_number(p)}<br>cluster {c}"
        for f, k, a, p, c in zip(frame["family"], frame["key"], frame["accuracy"], frame["predicted"], frame["cluster"])
    ]


def map_figure(frame: pd.DataFrame, colour: str, method: str) -> go.Figure:
    """The scatter of the map coloured by ``colour`` (``COLOURS``); uploads as large stars on top.
    Each point's ``customdata`` is its row of ``frame``."""
    data = frame.assign(row=np.arange(len(frame)), hover=_hover(frame))
    cells, uploads = data[data["family"] != atlas.UPLOAD], data[data["family"] == atlas.UPLOAD]
    common = {"x": "x", "y": "y", "custom_data": ["row"], "hover_name": "hover", "opacity": 0.75}
    if colour == "family":
        labelled = cells.assign(family=cells["family"].map(lambda f: FAMILY_LABELS.get(f, f)))
        fig = px.scatter(labelled, color="family", color_discrete_map=FAMILY_COLOURS, **common)
    elif colour == "hard FCM cluster":
        clusters = cells.assign(cluster=cells["cluster"].astype(str))
        order = sorted(clusters["cluster"].unique(), key=int)
        fig = px.scatter(
            clusters,
            color="cluster",
            category_orders={"cluster": order},
            color_discrete_sequence=px.colors.qualitative.Dark24,  # C is at most 20: every cluster its own colour
            **common,
        )
    else:
        column = "accuracy" if colour == "real accuracy" else "predicted"
        fig = px.scatter(cells, color=column, color_continuous_scale="Viridis", labels={column: colour}, **common)
    fig.update_traces(marker={"size": 6}, hovertemplate="%{hovertext}<extra></extra>")
    if len(uploads):
        fig.add_trace(
            go.Scatter(
                x=uploads["x"],
                y=uploads["y"],
                mode="markers",
                name="upload",
                customdata=uploads[["row"]].to_numpy(),
                hovertext=uploads["hover"],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={"symbol": "star", "size": 18, "color": UPLOAD_COLOUR, "line": {"width": 1.5, "color": "#222"}},
            )
        )
    label = next(k for k, v in PROJECTIONS.items() if v == method)
    fig.update_layout(
        height=560,
        margin={"t": 40, "b": 10},
        title=f"GENNAPE CL embedding, {label} ({len(frame):,} networks)",
        xaxis_title=f"{label} 1",
        yaxis_title=f"{label} 2",
    )
    return fig


def selected_rows(event: Any) -> list[int]:
    """Rows of the points selected on the map (a click)."""
    points = event.selection.points if event is not None and hasattr(event, "selection") else []
    return [int(p["customdata"][0]) for p in points if p.get("customdata")]


def point_label(frame: pd.DataFrame, row: int) -> str:
    return f"{FAMILY_LABELS.get(frame['family'].iat[row], frame['family'].iat[row])} · {frame['key'].iat[row]}"


def show_map(frame: pd.DataFrame, colour: str, method: str) -> int | None:
    """The map and the point chosen on it (a click, else the selectbox below it)."""
    event = st.plotly_chart(
        map_figure(frame, colour, method), key=PLOT_KEY, on_select="rerun", selection_mode=["points"]
    )
    clicked = [r for r in selected_rows(event) if 0 <= r < len(frame)]
    chosen = st.selectbox(
        "Point",
        list(range(len(frame))),
        index=None,
        key=POINT_KEY,
        format_func=lambda r: point_label(frame, r),
        placeholder="Click a point on the map, or choose one here",
    )
    if clicked:
        return clicked[0]
    return None if chosen is None or int(chosen) >= len(frame) else int(chosen)


# -- one point ------------------------------------------------------------------------------------
def membership_figure(memberships: np.ndarray, heads: np.ndarray | None, title: str) -> go.Figure:
    """Bars of the memberships over the C clusters, each head's own prediction on hover."""
    c = np.arange(len(memberships))
    hover = (
        [f"cluster {i}: membership {fmt_number(u)}" for i, u in zip(c, memberships)]
        if heads is None or len(heads) != len(memberships)
        else [
            f"cluster {i}: membership {fmt_number(u)}, head {fmt_number(h)}" for i, u, h in zip(c, memberships, heads)
        ]
    )
    fig = go.Figure(go.Bar(x=[str(i) for i in c], y=memberships, marker_color="#4C78A8", hovertext=hover))
    fig.update_traces(hovertemplate="%{hovertext}<extra></extra>")
    fig.update_layout(
        height=260,
        margin={"t": 40, "b": 10},
        title=title,
        xaxis_title="FCM cluster",
        yaxis_title="membership",
        yaxis_range=[0, 1],
    )
    return fig


def heads_table(memberships: np.ndarray, heads: np.ndarray) -> pd.DataFrame:
    """Cluster, membership and that cluster's head's prediction (CL+FCM+T)."""
    n = len(memberships)
    head = np.asarray(heads, dtype=np.float64) if len(heads) == n else np.full(n, np.nan)
    return pd.DataFrame({"cluster": np.arange(n), "membership": memberships, "head prediction": head})


def show_clusters(row: pd.Series, key: str) -> None:
    """A row's membership bars and its heads' predictions (nothing when the model has none)."""
    u = np.asarray(row["memberships"], dtype=np.float64)
    if not len(u):
        st.caption("This model has no FCM clusters.")
        return
    heads = np.asarray(row["heads"], dtype=np.float64)
    title = f"Memberships (hard cluster {int(np.argmax(u))})"
    st.plotly_chart(membership_figure(u, heads, title), key=f"{key}_memberships", config=export.PLOT_CONFIG)
    if len(heads):
        st.dataframe(heads_table(u, heads), hide_index=True, key=f"{key}_heads")
        st.caption(
            "Each head is one cluster's MLP of CL+FCM+T; its prediction is the membership-weighted sum of the heads."
        )


def benchmark_cell(family: str, key: str) -> tuple[str, Any] | None:
    """(space, cell) of a family row, from its benchmark table."""
    bench, _ = cache.try_benchmark(FAMILIES[family].benchmark)
    if bench is None:
        return None
    i = bench.index(key)
    return None if i is None else (bench.space.name, bench.archs[i])


def show_point(frame: pd.DataFrame, row: int) -> None:
    """The chosen point: its cell (or a pointer to the upload below), numbers, memberships."""
    from archpred.app.draw import cell_figure
    from archpred.app.latent import open_in_editor

    point = frame.iloc[row]
    st.subheader(md_escape(point_label(frame, row)))
    left, right = st.columns([3, 2])
    with left:
        found = None if point["family"] == atlas.UPLOAD else benchmark_cell(point["family"], point["key"])
        if found is not None:
            space, arch = found
            st.plotly_chart(cell_figure(arch, title=str(point["key"])), key="clusters_cell")
            open_in_editor(space, arch, key="clusters_open")
        elif point["family"] == atlas.UPLOAD:
            st.caption("Your uploaded network: its computation graph is drawn in the upload section below.")
    with right:
        m1, m2 = st.columns(2)
        m1.metric("Real accuracy", fmt_number(point["accuracy"]))
        m2.metric("GENNAPE predicted", fmt_number(point["predicted"]))
        m1.metric("FLOPs (multiply-adds)", f"{fmt_number(point['flops'] / 1e6)} M")
        m2.metric("Parameters", fmt_number(int(point["params"])))
        show_clusters(point, "clusters_point")


# -- the uploaded network ---------------------------------------------------------------------------
def graph_dict(data: Any) -> dict:
    """A CG as ``panels.network.graph_figure`` draws it (plain lists)."""
    from archpred.networks.graph import OP_TYPES

    return {
        "ops": list(data.ops),
        "names": list(getattr(data, "names", None) or [f"node{i}" for i in range(len(data.ops))]),
        "edges": data.edge_index.t().tolist(),
        "features": data.x[:, len(OP_TYPES) :].tolist(),
    }


def show_upload(model: Any, digest: str, upload: Upload, frame: pd.DataFrame | None) -> None:
    """An uploaded network: its CG (collapsed), FLOPs, parameters, GENNAPE's prediction with
    each member's, its memberships and its nearest NB-101 training cells on the map."""
    from archpred.app.panels.network import graph_figure

    try:
        table, scores = cache.gennape_upload(digest, upload.digest, model, upload.graphs)
    except (ArchpredError, ValueError, RuntimeError) as err:
        st.error(md_escape(f"GENNAPE cannot predict for {upload.name}: {one_line(err)}"))
        return
    point = table.iloc[0]
    ops = list(upload.data.ops)
    with st.expander(f"Computation graph of {upload.name} ({len(ops):,} operations)", expanded=False):
        st.plotly_chart(graph_figure(graph_dict(upload.data)), key="clusters_upload_graph", config=export.PLOT_CONFIG)
    m1, m2, m3 = st.columns(3)
    m1.metric("GENNAPE predicted accuracy", fmt_number(point["predicted"]))
    m2.metric("FLOPs (multiply-adds)", f"{fmt_number(point['flops'] / 1e6)} M")
    m3.metric("Parameters", fmt_number(int(point["params"])))
    st.caption(ensemble_note())
    st.dataframe(member_table(model, scores), hide_index=True, key="clusters_upload_members")
    show_clusters(point, "clusters_upload")
    show_nearest(frame, point["embedding"])


def show_nearest(frame: pd.DataFrame | None, embedding: np.ndarray, k: int = 5) -> None:
    """The ``k`` NB-101 training cells of the map closest to ``embedding`` (cosine)."""
    st.markdown("**Nearest NB-101 training cells** (cosine similarity of the CL embeddings)")
    if frame is None:
        st.caption("Draw the map above to see them (they come from its NB-101 cells).")
        return
    near = atlas.nearest(frame, embedding, k, families=["nb101"])
    if near.empty:
        st.caption("The map has no NB-101 cells (the NB-101 data is not here, or the family is not chosen).")
        return
    st.dataframe(
        near[["key", "similarity", "accuracy", "predicted", "flops", "params"]].rename(
            columns={"accuracy": "real accuracy", "predicted": "GENNAPE predicted"}
        ),
        hide_index=True,
        key="clusters_nearest",
    )
