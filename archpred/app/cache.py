"""Cached loaders shared by all pages: models in ``st.cache_resource``, arrays in ``st.cache_data``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from archpred.data import BENCHMARKS, Benchmark, load_benchmark
from archpred.errors import ArchpredError


@st.cache_resource(show_spinner="Loading benchmark ...")
def benchmark(name: str, dataset: str | None = None) -> Benchmark:
    """A benchmark table, loaded once per process (read-only: never mutate it)."""
    return load_benchmark(name, **({"dataset": dataset} if dataset else {}))


def try_benchmark(name: str, dataset: str | None = None) -> tuple[Benchmark | None, str | None]:
    """``(benchmark, None)`` or ``(None, message)`` when its data is missing."""
    try:
        return benchmark(name, dataset), None
    except (ArchpredError, ModuleNotFoundError, ValueError) as err:
        return None, str(err)


@st.cache_data(show_spinner=False)
def benchmark_frame(name: str, dataset: str | None = None) -> pd.DataFrame:
    """The table as a DataFrame (key + metrics), for display and plotting."""
    return benchmark(name, dataset).to_frame()


@st.cache_data(show_spinner=False)
def histogram_counts(name: str, dataset: str | None, metric: str, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    values = benchmark(name, dataset)[metric]
    values = values[np.isfinite(values)]
    return np.histogram(values, bins=bins)


def benchmark_names() -> list[str]:
    return list(BENCHMARKS)
