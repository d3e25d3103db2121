"""Train: the current cell of the Cell editor as a real network on scikit-learn's digits."""

import streamlit as st

from archpred.app import train_page, ui

ui.through_navigation()
st.title("Train")
st.caption(
    "Builds the cell's network (small width, 1x8x8 input) and trains it on scikit-learn's digits "
    "(1,797 images, offline): SGD with momentum, cosine schedule, seeded."
)

train_page.report_stopped()
space, arch, source = train_page.chosen_cell()
device = ui.device_or_stop()
st.markdown(train_page.cell_markdown(space, arch, source, device))

c1, c2, c3, c4, c5 = st.columns(5)
settings = {
    "width": c1.number_input("Width", 2, 128, 16, key="train_width", help="NB-101 stem channels, NB-201 C, ..."),
    "epochs": c2.number_input("Epochs", 1, 100, 15, key="train_epochs"),
    "batch": c3.number_input("Batch size", 8, 512, 64, key="train_batch"),
    "lr": c4.number_input("Learning rate", 0.001, 1.0, 0.05, format="%.3f", key="train_lr"),
    "seed": c5.number_input("Seed", 0, 10_000, 0, key="train_seed"),
}
if st.button("Train", type="primary", key="train_start"):
    train_page.train(space, arch, settings, device)
train_page.show_result()
