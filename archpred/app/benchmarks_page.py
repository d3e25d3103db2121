"""Figures and formats of the Benchmarks page: the accuracy distribution, accuracy against a
cost, and every number of the table and the selected record shown for people (4 significant
digits, thousands separators for counts, tiny values like a 1e-11 standard deviation in
scientific form instead of ``0.00000000001``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from archpred.app.text import fmt_number
from archpred.data import Benchmark

SCATTER_POINTS = 5000  # a fixed random sample keeps the scatter responsive
NOT_COSTS = ("index", "n_seeds")
FLOAT_FORMAT = "%.4g"  # sprintf-js: 4 significant digits, exponent form for tiny or huge values
COUNT_FORMAT = "localized"  # integer-valued columns: thousands separators, no rounding
HOVER_FORMAT = ".4~g"  # d3: the same 4 significant digits in plot hovers


def other_metrics(bench: Benchmark) -> list[str]:
    """Metrics to plot the target against (costs, other budgets)."""
    return [m for m in bench.metric_names if m != bench.target and m not in NOT_COSTS]


def histogram(frame: pd.DataFrame, target: str) -> go.Figure:
    """The distribution of ``target`` over the table."""
    fig = px.histogram(frame, x=target, nbins=60, title=f"Distribution of {target}")
    fig.update_layout(height=330, margin={"t": 40, "b": 10})
    fig.update_xaxes(hoverformat=HOVER_FORMAT)
    return fig


def scatter(frame: pd.DataFrame, x: str, target: str) -> go.Figure:
    """``target`` against ``x`` on at most ``SCATTER_POINTS`` rows."""
    shown = frame.sample(min(len(frame), SCATTER_POINTS), random_state=0)
    fig = px.scatter(
        shown, x=x, y=target, opacity=0.4, hover_data=["key"], title=f"{target} vs {x} ({len(shown):,} shown)"
    )
    fig.update_layout(height=330, margin={"t": 40, "b": 10})
    fig.update_xaxes(hoverformat=HOVER_FORMAT)
    fig.update_yaxes(hoverformat=HOVER_FORMAT)
    return fig


def _integer_valued(values: pd.Series) -> bool:
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    return bool(np.all(finite == np.round(finite)))


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """``st.dataframe`` column formats: counts (integer-valued columns) with thousands
    separators, every other number to 4 significant digits (columns stay numeric, so sorting
    by a column still sorts by value)."""
    config: dict[str, Any] = {}
    for name in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
            fmt = COUNT_FORMAT if _integer_valued(frame[name]) else FLOAT_FORMAT
            config[name] = st.column_config.NumberColumn(format=fmt)
    return config


def readable_record(record: dict[str, Any]) -> dict[str, Any]:
    """A row's record for ``st.json``: whole numbers as integers, other floats rounded to 4
    significant digits (still numbers; a 1e-11 stays 1.007e-11)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float | np.floating) and math.isfinite(value):
            out[key] = int(value) if float(value).is_integer() else float(f"{float(value):.4g}")
        else:
            out[key] = value
    return out


def row_title(bench: Benchmark, i: int) -> str:
    """The title of the selected row's drawing: its key and target value (a plotly title, not
    Markdown)."""
    return f"{bench.keys[i]}  ({bench.target} = {fmt_number(float(bench.accuracy[i]))})"
