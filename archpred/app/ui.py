"""Small pieces every page uses: the sidebar's device setting and the "show an inline error and
stop" guards (bad input in the app is an ``st.error``, never a traceback)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import streamlit as st

from archpred.app import cache, state
from archpred.app.text import md_escape
from archpred.data import Benchmark
from archpred.errors import InvalidOption


def _may_have_gpu() -> bool:
    """Whether a GPU driver is visible (NVIDIA or ROCm), checked without importing torch: the
    sidebar is drawn before every page, and importing torch costs the first page ~2.5 s."""
    if "torch" in sys.modules:
        return True  # loaded anyway: asking it is free
    return (
        Path("/proc/driver/nvidia/gpus").is_dir() or Path("/dev/kfd").exists() or shutil.which("nvidia-smi") is not None
    )


def device_choices() -> list[str]:
    """``auto`` and ``cpu``, plus ``cuda`` (and ``cuda:N`` for more than one GPU) when present."""
    choices = ["auto", "cpu"]
    if not _may_have_gpu():
        return choices
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        choices += ["cuda"] + ([f"cuda:{i}" for i in range(count)] if count > 1 else [])
    return choices


def device_sidebar() -> None:
    """The app's one device setting, in the sidebar (stored by ``state.device()``)."""
    choices = device_choices()
    current = state.device()
    if current not in choices:  # e.g. a session that chose a GPU which is gone: show it, pages say why
        choices.append(current)
    st.sidebar.selectbox(
        "Device",
        choices,
        index=choices.index(current),
        key=state.DEVICE_WIDGET,
        on_change=state.device_from_widget,
        help="Where models run: auto is the GPU when there is one, else the CPU.",
    )


def device_or_error() -> str | None:
    """The resolved device of the setting (``"cpu"``, ``"cuda"``, ``"cuda:1"``), or ``None``
    after an inline error when it cannot be used here."""
    from archpred.training import resolve_device

    try:
        return str(resolve_device(state.device()))
    except InvalidOption as err:
        st.error(f"Device: {md_escape(str(err))}")
        return None


def device_or_stop() -> str:
    """``device_or_error``, stopping the page when the device cannot be used."""
    device = device_or_error()
    if device is None:
        st.stop()
    return device


def benchmark_or_stop(name: str, dataset: str | None = None, prefix: str = "") -> Benchmark:
    """A benchmark table; an inline error and ``st.stop()`` when its data is missing (``prefix``
    is Markdown, the error is shown literally)."""
    bench, error = cache.try_benchmark(name, dataset)
    if bench is None:
        st.error(f"{prefix}{md_escape(str(error))}")
        st.stop()
    return bench


# -- the app's frame: page setting, sidebar, navigation ----------------------------------------
ROOT = Path(__file__).resolve().parents[2]
# (file, title, icon); a page whose file is absent is left out of the menu.
PAGES = [
    ("pages/benchmarks.py", "Benchmarks", ":material/table_chart:"),
    ("pages/cell_editor.py", "Cell editor", ":material/edit:"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    ("pages/models.py", "Models", ":material/model_training:"),
    ("pages/embedding_map.py", "Embedding map", ":material/scatter_plot:"),
    ("pages/latent_walk.py", "Latent walk", ":material/route:"),
    ("pages/clusters.py", "Clusters", ":material/bubble_chart:"),
    ("pages/trained_networks.py", "Trained networks", ":material/neurology:"),
    ("pages/train.py", "Train", ":material/fitness_center:"),
    ("pages/search.py", "Search", ":material/travel_explore:"),
]


def run_app() -> None:
    """What ``app.py`` does on every run: the page setting, the sidebar's device setting, and
    ``st.navigation`` over ``PAGES`` (titled menu entries), which runs the chosen page."""
    st.set_page_config(page_title="archpred", page_icon=":material/hub:", layout="wide")
    pages = [st.Page(path, title=title, icon=icon) for path, title, icon in PAGES if (ROOT / path).exists()]
    device_sidebar()
    st.navigation(pages).run()


def through_navigation() -> None:
    """Make sure this page runs inside ``app.py``'s frame; call it first on every page.

    A ``pages/`` folder beside ``app.py`` starts every new Streamlit server in its old
    folder-based mode (``_mpa_v1``) until ``st.navigation`` has run once. So the first link a
    fresh server serves to a page (a shared link, a bookmark) runs the page file alone: a menu
    of file names ("app", "cell editor"), no device setting, a narrow layout. In that mode this
    runs the app's frame instead (``run_app``: the same page, now inside the titled navigation)
    and stops, so nothing of the request is lost (a rerun would drop a button click).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        run_app()  # st.navigation ends the folder mode for the whole server
        st.stop()
