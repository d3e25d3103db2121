"""Logic of the Train page: which cell to train (the current cell, through ``state``), the run
with a live curve, and the result's figure."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from archpred.app import state
from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, get_space

RESULT = "train_result"
DEFAULT_SPACE = "nb101"
DEFAULT_ARCH = {
    "adjacency": [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
    "ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"],
}


def chosen_cell() -> tuple[str, Architecture, str]:
    """``(space, cell, source)``: the latest current cell, else a small default NB-101 cell.

    A stored cell that cannot be rebuilt is a warning, and the default is used.
    """
    try:
        latest = state.latest_cell()
    except InvalidArchitecture as err:
        st.warning(f"The editor's cell cannot be used ({err}); training the default NB-101 cell.")
        latest = None
    if latest is not None:
        return latest[0], latest[1], "the Cell editor"
    return (
        DEFAULT_SPACE,
        get_space(DEFAULT_SPACE).cell(**DEFAULT_ARCH),
        "the default (open the Cell editor to pick one)",
    )


def cell_key(space: str, arch: Architecture) -> str:
    """The cell's benchmark key, cut to 60 characters for a caption."""
    return get_space(space).key(arch)[:60]


def train(space: str, arch: Architecture, settings: dict[str, Any], device: str) -> None:
    """Train the cell's network with a progress bar and a live curve; keep the result for the
    page. A bad setting is an inline error."""
    from archpred.networks.train import TrainConfig, train_classifier

    try:
        config = TrainConfig(
            epochs=int(settings["epochs"]),
            batch_size=int(settings["batch"]),
            lr=float(settings["lr"]),
            seed=int(settings["seed"]),
            device=device,
        )
    except ValueError as err:
        st.error(f"Training failed: {err}")
        return
    bar = st.progress(0.0, text="training")
    chart = st.empty()
    rows: list[dict[str, float]] = []

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        rows.append({"epoch": epoch + 1, "loss": logs["loss"], "val_acc": logs["val_acc"]})
        bar.progress((epoch + 1) / config.epochs, text=f"epoch {epoch + 1}/{config.epochs}")
        chart.line_chart(pd.DataFrame(rows).set_index("epoch"))

    try:
        result = train_classifier(
            arch, space, config, network={"width": int(settings["width"])}, on_epoch=on_epoch, progress=False
        )
    except ValueError as err:
        st.error(f"Training failed: {err}")
        return
    result.pop("history", None)
    state.set_result(RESULT, {**result, "curve": rows})


def curve_figure(curve: list[dict[str, float]]) -> go.Figure:
    """Training loss and validation accuracy per epoch (accuracy on a right-hand axis)."""
    frame = pd.DataFrame(curve)
    fig = go.Figure()
    fig.add_scatter(x=frame["epoch"], y=frame["loss"], name="training loss")
    fig.add_scatter(x=frame["epoch"], y=frame["val_acc"], name="validation accuracy", yaxis="y2")
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "epoch"},
        yaxis={"title": "loss"},
        yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "range": [0, 1]},
    )
    return fig


def show_result() -> None:
    """The session's last run: accuracies, time, size and the curve."""
    last = state.result(RESULT)
    if not last:
        return
    st.subheader("Last run")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Test accuracy", f"{last['test_acc']:.4f}")
    m2.metric("Validation accuracy", f"{last['val_acc']:.4f}")
    m3.metric("Train accuracy", f"{last['train_acc']:.4f}")
    m4.metric("Time", f"{last['train_seconds']:.1f} s")
    device = last.get("recipe", {}).get("device", "?")
    st.caption(
        f"{last['space']} {last['key'][:60]}: {last['params']:,} parameters, {last['epochs']} epochs on {device}"
    )
    if last.get("curve"):
        st.plotly_chart(curve_figure(last["curve"]), width="stretch", key="train_curve")
