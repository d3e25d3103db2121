"""Logic of the Train page: which cell to train (the current cell, through ``state``), the run
with a live curve, and the result's figure.

One chart per run: the live curve is drawn in a placeholder that is cleared when the run ends,
and the finished run is drawn once by ``show_result``. A run is a ``jobs`` job, so after the user
presses **Stop** the next run of the page says at which epoch it stopped (nothing is saved).
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from archpred.app import export, jobs, state
from archpred.app.text import fmt_number, md_escape
from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, get_space

RESULT = "train_result"
JOB = "train"
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
        st.warning(f"The editor's cell cannot be used ({md_escape(str(err))}); training the default NB-101 cell.")
        latest = None
    if latest is not None:
        return latest[0], latest[1], "the Cell editor"
    return (
        DEFAULT_SPACE,
        get_space(DEFAULT_SPACE).cell(**DEFAULT_ARCH),
        "the default (open the Cell editor to pick one)",
    )


def cell_key(space: str, arch: Architecture) -> str:
    """The cell's benchmark key (an NB-201 string, an NB-101 hash, ...)."""
    return get_space(space).key(arch)


def cell_markdown(space: str, arch: Architecture, source: str, device: str) -> str:
    """The line saying which cell is trained, where from and on what, safe for Markdown (an
    NB-201 string's ``~`` stays a tilde)."""
    return f"**{md_escape(space)}** cell {md_escape(cell_key(space, arch))} from {source}, on {md_escape(device)}."


def report_stopped() -> None:
    """Say so when the page's last training run was stopped (call first on the page)."""
    jobs.report_stopped(JOB)


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
        st.error(f"Training failed: {md_escape(str(err))}")
        return
    bar = st.progress(0.0, text="training")
    chart = st.empty()
    rows: list[dict[str, float]] = []
    label = f"Training the {md_escape(space)} cell {md_escape(cell_key(space, arch))}"
    try:
        with jobs.running(JOB, label, total=config.epochs) as job:

            def on_epoch(epoch: int, logs: dict[str, float]) -> None:
                rows.append({"epoch": epoch + 1, "loss": logs["loss"], "val_acc": logs["val_acc"]})
                job.advance(epoch + 1)
                bar.progress((epoch + 1) / config.epochs, text=f"epoch {epoch + 1}/{config.epochs}")
                chart.plotly_chart(curve_figure(rows), width="stretch", config=export.PLOT_CONFIG)

            result = train_classifier(
                arch, space, config, network={"width": int(settings["width"])}, on_epoch=on_epoch, progress=False
            )
    except ValueError as err:
        bar.empty()
        chart.empty()
        st.error(f"Training failed: {md_escape(str(err))}")
        return
    bar.empty()
    chart.empty()  # the finished run is drawn once, by show_result
    result.pop("history", None)
    state.set_result(RESULT, {**result, "curve": rows})


def curve_figure(curve: list[dict[str, float]]) -> go.Figure:
    """Training loss (top) and validation accuracy (bottom) per epoch, each on its own axis,
    sharing the epoch axis; subplot titles name them, so no legend covers the lines."""
    epochs = [row["epoch"] for row in curve]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=("training loss", "validation accuracy"),
    )
    fig.add_scatter(
        x=epochs,
        y=[row["loss"] for row in curve],
        name="training loss",
        mode="lines+markers",
        line_color="#E45756",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=epochs,
        y=[row["val_acc"] for row in curve],
        name="validation accuracy",
        mode="lines+markers",
        line_color="#4C78A8",
        row=2,
        col=1,
    )
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    fig.update_xaxes(tickformat="d", dtick=1 if len(epochs) <= 15 else None)
    fig.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", tickformat=".0%", range=accuracy_range(curve), row=2, col=1)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(height=420, showlegend=False, margin={"l": 60, "r": 10, "t": 30, "b": 50})
    return fig


def accuracy_range(curve: list[dict[str, float]]) -> list[float]:
    """A y range for the accuracy: from a round tenth below the lowest value to 100 %, so ticks
    fall on round percentages."""
    low = min((row["val_acc"] for row in curve), default=0.0)
    return [max(0.0, math.floor(low * 10) / 10), 1.02]


def show_result() -> None:
    """The session's last run: accuracies, time, size and the curve."""
    last = state.result(RESULT)
    if not last:
        return
    st.subheader("Last run")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Test accuracy", fmt_number(last["test_acc"]))
    m2.metric("Validation accuracy", fmt_number(last["val_acc"]))
    m3.metric("Train accuracy", fmt_number(last["train_acc"]))
    m4.metric("Time", f"{fmt_number(last['train_seconds'], 3)} s")
    device = last.get("device") or last.get("recipe", {}).get("device", "?")
    st.caption(
        f"{md_escape(last['space'])} cell {md_escape(last['key'])}: {fmt_number(int(last['params']))} parameters, "
        f"{fmt_number(int(last['epochs']))} epochs on {md_escape(device)}"
    )
    if last.get("curve"):
        st.plotly_chart(curve_figure(last["curve"]), width="stretch", key="train_curve", config=export.PLOT_CONFIG)
