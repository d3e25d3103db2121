"""Train: the current cell of the Cell editor as a real network on scikit-learn's digits."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from archpred.errors import InvalidArchitecture
from archpred.spaces import get_space

DEFAULT = {
    "space": "nb101",
    "arch": {
        "adjacency": [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        "ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"],
    },
}

st.title("Train")
st.caption(
    "Builds the cell's network (small width, 1x8x8 input) and trains it on scikit-learn's digits "
    "(1,797 images, offline): SGD with momentum, cosine schedule, seeded."
)

chosen = st.session_state.get("editor_cell") or DEFAULT
try:
    space = get_space(chosen["space"])
    arch = space.cell(**chosen["arch"])
except (InvalidArchitecture, ValueError, KeyError, TypeError) as err:
    st.warning(f"The editor's cell cannot be used ({err}); training the default NB-101 cell.")
    chosen = DEFAULT
    space = get_space("nb101")
    arch = space.cell(**DEFAULT["arch"])
source = "the Cell editor" if st.session_state.get("editor_cell") else "the default (open the Cell editor to pick one)"
st.markdown(f"**{space.name}** cell `{space.key(arch)[:60]}` from {source}.")

c1, c2, c3, c4, c5 = st.columns(5)
width = c1.number_input("Width", 2, 128, 16, key="train_width", help="NB-101 stem channels, NB-201 C, ...")
epochs = c2.number_input("Epochs", 1, 100, 15, key="train_epochs")
batch = c3.number_input("Batch size", 8, 512, 64, key="train_batch")
lr = c4.number_input("Learning rate", 0.001, 1.0, 0.05, format="%.3f", key="train_lr")
seed = c5.number_input("Seed", 0, 10_000, 0, key="train_seed")

if st.button("Train", type="primary", key="train_start"):
    from archpred.networks.train import TrainConfig, train_classifier

    config = TrainConfig(epochs=int(epochs), batch_size=int(batch), lr=float(lr), seed=int(seed))
    bar = st.progress(0.0, text="training")
    chart = st.empty()
    rows: list[dict] = []

    def on_epoch(epoch: int, logs: dict) -> None:
        rows.append({"epoch": epoch + 1, "loss": logs["loss"], "val_acc": logs["val_acc"]})
        bar.progress((epoch + 1) / config.epochs, text=f"epoch {epoch + 1}/{config.epochs}")
        chart.line_chart(pd.DataFrame(rows).set_index("epoch"))

    try:
        result = train_classifier(
            arch, space.name, config, network={"width": int(width)}, on_epoch=on_epoch, progress=False
        )
    except ValueError as err:
        st.error(f"Training failed: {err}")
        st.stop()
    result.pop("history", None)
    st.session_state["train_result"] = {**result, "curve": rows}

last = st.session_state.get("train_result")
if last:
    st.subheader("Last run")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Test accuracy", f"{last['test_acc']:.4f}")
    m2.metric("Validation accuracy", f"{last['val_acc']:.4f}")
    m3.metric("Train accuracy", f"{last['train_acc']:.4f}")
    m4.metric("Time", f"{last['train_seconds']:.1f} s")
    st.caption(f"{last['space']} {last['key'][:60]}: {last['params']:,} parameters, {last['epochs']} epochs")
    if last.get("curve"):
        import plotly.graph_objects as go

        curve = pd.DataFrame(last["curve"])
        fig = go.Figure()
        fig.add_scatter(x=curve["epoch"], y=curve["loss"], name="training loss")
        fig.add_scatter(x=curve["epoch"], y=curve["val_acc"], name="validation accuracy", yaxis="y2")
        fig.update_layout(
            height=320,
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            xaxis={"title": "epoch"},
            yaxis={"title": "loss"},
            yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "range": [0, 1]},
        )
        st.plotly_chart(fig, width="stretch", key="train_curve")
