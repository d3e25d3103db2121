"""The Trained networks page: the IO dataset's networks (trained here, with their real accuracies
and outputs), their output features as heatmaps (the paper's Figs. 2-3) and the networks
clustered by their outputs (Fig. 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache
from archpred.app.text import md_escape
from archpred.errors import ArchpredError

FOLDER_KEY = "io_folder"
TABLE_KEY = "io_table"
SHOWN_IMAGES = 40  # images on the one-network heatmap


def dataset_or_stop() -> tuple[Any, Path]:
    """The IO dataset of the folder typed in (default: the built one, else the shipped sample)."""
    default = cache.io_dataset_default()
    text = st.text_input(
        "IO dataset folder", value=str(default), key=FOLDER_KEY,
        help="Built by: python -m archpred data io-build. Without one, the app shows the shipped 8-network sample.",
    )  # fmt: skip
    folder = Path(text.strip()).expanduser()
    dataset, planned, error = cache.try_io_dataset(folder)
    if dataset is None:
        st.error(md_escape(error or "unreadable IO dataset"))
        st.stop()
    if planned is not None:  # a build still running: what it has so far
        st.info(
            f"The build is unfinished: {len(dataset):,} of {planned:,} networks trained so far "
            "(`python -m archpred data io-build` resumes it); shown as they are."
        )
    if folder.resolve() == (cache.io_dataset_default()).resolve() and folder.name == "sample":
        st.info("The shipped sample of 8 networks: build the full dataset with `python -m archpred data io-build`.")
    return dataset, folder


def _version(folder: Path) -> int:
    from archpred.networks.io_dataset import io_dataset_version

    return io_dataset_version(folder)


def summary(dataset: Any) -> None:
    acc = dataset.accuracy
    hours = sum(n.train_seconds for n in dataset.networks) / 3600
    c = st.columns(4)
    c[0].metric("Networks", f"{len(dataset):,}", help="seen (train) / unseen (val) split below")
    c[1].metric("Seen / unseen", f"{len(dataset.split('train'))} / {len(dataset.split('val'))}")
    c[2].metric("Median accuracy", f"{np.median(acc):.3f}", help="on held-out images")
    c[3].metric("Training time", f"{hours:.2f} h")
    recipe = dataset.manifest.get("recipe", {})
    st.caption(
        f"Trained on {dataset.manifest.get('dataset')}, {recipe.get('epochs')} epochs, network "
        f"{dataset.manifest.get('network')}; features: {dataset.manifest.get('features')}."
    )
    if dataset.diverged:
        accs = ", ".join(f"{n.accuracy:.3f}" for n in dataset.diverged)
        st.caption(
            f"{len(dataset.diverged)} more network(s) diverged in training (accuracy {accs}; outputs beyond "
            "1e4): set aside, not listed, clustered or learned from."
        )


def network_table(dataset: Any, clusters: np.ndarray) -> int | None:
    """The networks (accuracy, time, parameters, output cluster); the selected row or None."""
    frame = pd.DataFrame(
        {
            "hash": [n.hash for n in dataset.networks],
            "split": ["seen" if n.split == "train" else "unseen" for n in dataset.networks],
            "accuracy": dataset.accuracy,
            "train s": [n.train_seconds for n in dataset.networks],
            "params": [n.params for n in dataset.networks],
            "output cluster": clusters,
        }
    )
    event = st.dataframe(
        frame, key=TABLE_KEY, on_select="rerun", selection_mode="single-row", hide_index=True,
        column_config={"accuracy": st.column_config.NumberColumn(format="%.4f"),
                       "train s": st.column_config.NumberColumn(format="%.1f")},
    )  # fmt: skip
    rows = event.selection.rows if event is not None else []
    return int(rows[0]) if rows else None


def network_heatmap(dataset: Any, row: int) -> go.Figure:
    """One network's output features on the first held-out images (the paper's Fig. 2)."""
    net = dataset.networks[row]
    images = dataset.unseen_images[:SHOWN_IMAGES]
    fig = px.imshow(
        net.features[images].T,
        labels={"x": "image", "y": "feature rank", "color": "value"},
        x=[f"{i} ({int(net.labels[i])})" for i in images],
        aspect="auto",
        color_continuous_scale="Viridis",
        title=f"{net.hash[:10]}: accuracy {net.accuracy:.3f}; features on {len(images)} unseen images (true class)",
    )
    return fig.update_layout(height=320, margin={"t": 50, "b": 10})


def image_heatmap(dataset: Any, image: int) -> go.Figure:
    """Every network's output features on one image, networks sorted by accuracy (Fig. 3)."""
    order = np.argsort(-dataset.accuracy)
    feats = np.stack([dataset.networks[i].features[image] for i in order])
    fig = px.imshow(
        feats,
        labels={"x": "feature rank", "y": "network (best first)", "color": "value"},
        aspect="auto",
        color_continuous_scale="Viridis",
        title=f"All {len(order)} networks on image {image}",
    )
    return fig.update_layout(height=360, margin={"t": 50, "b": 10})


def image_figure(images: np.ndarray, image: int) -> go.Figure:
    picture = images[image]
    picture = picture[0] if picture.shape[0] == 1 else np.moveaxis(picture, 0, -1)
    fig = px.imshow(picture, color_continuous_scale="gray", title=f"image {image}")
    fig.update_layout(height=240, width=240, margin={"t": 40, "b": 0, "l": 0, "r": 0}, coloraxis_showscale=False)
    return fig.update_xaxes(visible=False).update_yaxes(visible=False)


def cluster_figure(dataset: Any, clusters: np.ndarray) -> go.Figure:
    """Accuracy per output cluster, largest first (the paper's Fig. 4)."""
    sizes = pd.Series(clusters).value_counts()
    frame = pd.DataFrame({"cluster": clusters, "accuracy": dataset.accuracy})
    frame["cluster"] = pd.Categorical(frame["cluster"], categories=list(sizes.index), ordered=True)
    frame = frame.sort_values("cluster")
    frame["cluster"] = frame["cluster"].map(lambda c: f"{c} ({sizes[c]})")
    fig = px.strip(frame, x="cluster", y="accuracy", title="Accuracy of the networks of each output cluster (size)")
    return fig.update_layout(height=360, margin={"t": 50, "b": 10})


def cluster_section(dataset: Any, folder: Path) -> np.ndarray:
    threshold = st.slider(
        "Cluster distance cut", 0.05, 2.0, 0.4, 0.05, key="io_threshold",
        help="Complete-linkage agglomerative clustering of the mean squared output differences (paper: 0.4).",
    )  # fmt: skip
    return cache.io_clusters(str(folder), _version(folder), float(threshold), dataset)


def images_of(dataset: Any, folder: Path) -> np.ndarray | None:
    try:
        return cache.io_images(str(folder), _version(folder), dataset)
    except (ArchpredError, OSError, ValueError, KeyError) as err:  # the image set is gone
        st.warning(f"The dataset's images could not be loaded: {md_escape(str(err))}")
        return None
