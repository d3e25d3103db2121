"""Share and export: the link to a cell, the cell as JSON (and its NB-201 string), tables as CSV,
the network as ONNX, and the plot setting that makes plotly's camera button save SVG.

Files that take time to make (the ONNX network, the predictions of every saved predictor) are
made by deferred downloads: ``st.download_button`` runs the function only when the user clicks,
so a rerun of the page costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

from archpred.app import state
from archpred.errors import ArchpredError
from archpred.spaces import Architecture, get_space

# plotly's modebar camera button saves the figure as SVG (vector, for papers) instead of PNG
PLOT_CONFIG = {"toImageButtonOptions": {"format": "svg", "scale": 1}}


def file_stem(space: str, arch: Architecture) -> str:
    """A file name stem that says which cell: ``nb201-cell-1a2b3c4d`` (its hash)."""
    return f"{space}-cell-{get_space(space).hash(arch)[:8]}"


def cell_json(arch: Architecture) -> str:
    """The cell as the JSON the cell editor, ``space.parse`` and ``--cell`` read back."""
    return json.dumps(arch.to_dict(), indent=2) + "\n"


def table_csv(frame: pd.DataFrame) -> str:
    """A table as CSV text (no index column)."""
    return frame.to_csv(index=False)


def predictions_csv(space: str, arch: Architecture, device: str) -> str:
    """Every saved predictor's accuracy for the cell, with the real one when the benchmark has
    it, as CSV; a problem becomes an ``error`` row (a deferred download cannot show an error)."""
    from archpred.app import cache
    from archpred.app.editor import SPACE_BENCHMARK
    from archpred.app.panels.predictions import predictions_table

    try:
        table, problems = predictions_table(space, arch, device)
    except (ArchpredError, OSError, RuntimeError, ValueError) as err:
        return table_csv(pd.DataFrame({"error": [str(err)]}))
    bench, _ = cache.try_benchmark(SPACE_BENCHMARK.get(space, space))
    record = None if bench is None else bench.lookup(arch)
    if record is not None:
        table["real"] = record[bench.target]
    table.insert(0, "cell", state.url_text(arch))
    for problem in problems:
        table.loc[len(table), "model"] = f"skipped: {problem}"
    return table_csv(table)


def onnx_file(space: str, arch: Architecture) -> Callable[[], bytes]:
    """The cell's benchmark network as ONNX bytes, made when called (a deferred download)."""

    def make() -> bytes:
        from archpred.networks.export import onnx_bytes

        return onnx_bytes(arch, space)

    return make


def share_link() -> None:
    """The link to copy: it opens this page on the current cell(s)."""
    st.caption("Link to this cell (copy it: it opens this page on the same cell)")
    st.code(state.share_link(), language=None, wrap_lines=True)


def _device() -> str:
    """The app's device, resolved; the CPU when it cannot be used here (the page says why)."""
    from archpred.errors import InvalidOption
    from archpred.training import resolve_device

    try:
        return str(resolve_device(state.device()))
    except InvalidOption:
        return "cpu"


def cell_downloads(space: str, arch: Architecture, key: str) -> None:
    """Download buttons, one under the other (the editor's side column is narrow): the cell as
    JSON (and NB-201 string), the predictions CSV, the network as ONNX."""
    from archpred.networks import NETWORKS

    device = _device()
    stem = file_stem(space, arch)
    st.download_button(
        "Cell (JSON)",
        cell_json(arch),
        f"{stem}.json",
        "application/json",
        key=f"{key}_json",
        on_click="ignore",
        width="stretch",
    )
    if hasattr(arch, "arch_string"):
        st.download_button(
            "Arch string",
            arch.arch_string + "\n",
            f"{stem}.txt",
            "text/plain",
            key=f"{key}_string",
            on_click="ignore",
            width="stretch",
        )
    st.download_button(
        "Predictions (CSV)",
        lambda: predictions_csv(space, arch, device),
        f"{stem}-predictions.csv",
        "text/csv",
        key=f"{key}_predictions",
        on_click="ignore",
        width="stretch",
        help="Every saved predictor's accuracy for this cell (computed when you click)",
    )
    if space in NETWORKS:
        st.download_button(
            "Network (ONNX)",
            onnx_file(space, arch),
            f"{stem}.onnx",
            "application/octet-stream",
            key=f"{key}_onnx",
            on_click="ignore",
            width="stretch",
            help="The benchmark's network of this cell, freshly initialised, for Netron or ONNX Runtime "
            "(built when you click: seconds, and NB-101 files are about 130 MB)",
        )
