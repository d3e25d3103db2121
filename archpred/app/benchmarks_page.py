"""Figures of the Benchmarks page: the accuracy distribution and accuracy against a cost."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from archpred.data import Benchmark

SCATTER_POINTS = 5000  # a fixed random sample keeps the scatter responsive
NOT_COSTS = ("index", "n_seeds")


def other_metrics(bench: Benchmark) -> list[str]:
    """Metrics to plot the target against (costs, other budgets)."""
    return [m for m in bench.metric_names if m != bench.target and m not in NOT_COSTS]


def histogram(frame: pd.DataFrame, target: str) -> go.Figure:
    """The distribution of ``target`` over the table."""
    fig = px.histogram(frame, x=target, nbins=60, title=f"Distribution of {target}")
    fig.update_layout(height=330, margin={"t": 40, "b": 10})
    return fig


def scatter(frame: pd.DataFrame, x: str, target: str) -> go.Figure:
    """``target`` against ``x`` on at most ``SCATTER_POINTS`` rows."""
    shown = frame.sample(min(len(frame), SCATTER_POINTS), random_state=0)
    fig = px.scatter(
        shown, x=x, y=target, opacity=0.4, hover_data=["key"], title=f"{target} vs {x} ({len(shown):,} shown)"
    )
    fig.update_layout(height=330, margin={"t": 40, "b": 10})
    return fig
