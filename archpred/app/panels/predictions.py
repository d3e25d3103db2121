"""Cell-editor panel: the accuracy every trained predictor of this space predicts for the cell,
next to the real one when the cell is in the benchmark."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from archpred.app import cache, editor, ui
from archpred.spaces import Architecture


def predictions_table(space_name: str, arch: Architecture, device: str = "cpu") -> tuple[pd.DataFrame, list[str]]:
    """One row per readable predictor file of the space; unreadable files are reported apart.

    Cached per cell (``cache.cell_predictions``): reruns for the same cell call no model."""
    rows, problems = cache.cell_predictions(space_name, arch, device)
    return pd.DataFrame(rows, columns=["model", "predictor", "predicted", "held-out tau"]), problems


def render(space_name: str, arch: Architecture) -> None:
    """The predictions table, the real accuracy beside it when the cell is in the benchmark."""
    st.subheader("Predicted accuracy")
    device = ui.device_or_error()
    if device is None:
        return
    table, problems = predictions_table(space_name, arch, device)
    for problem in problems:
        st.warning(f"Skipped a predictor file: {problem}")
    if table.empty:
        st.info(f"No trained predictor for {space_name} yet: train one on the Models page.")
        return
    bench, _ = cache.try_benchmark(editor.SPACE_BENCHMARK.get(space_name, space_name))
    real = None
    if bench is not None:
        record = bench.lookup(arch)
        real = None if record is None else record[bench.target]
    if real is not None:
        table["real"] = real
        table["error"] = table["predicted"] - real
    st.dataframe(table, hide_index=True)
    st.caption(
        "Best model first: by its Kendall tau on the cells held out when it was trained "
        "(its model card; blank where the file has none)."
    )
    if real is None:
        st.caption("This cell is not in the benchmark table, so only predictions are shown.")
