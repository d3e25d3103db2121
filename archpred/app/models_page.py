"""Logic of the Models page (kept out of ``pages/models.py`` so the page stays thin and testable)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from archpred.app import cache, export, jobs, state
from archpred.app.text import fmt_number, md_escape
from archpred.data import Benchmark, available_first, is_available
from archpred.errors import ArchpredError, InvalidOption
from archpred.metrics import evaluate
from archpred.predictors import RECOMMENDED, Predictor, make_predictor, predictor_class
from archpred.predictors.store import SavedModel, model_card, user_dir

# the recommended predictor first: the page's default
TRAINABLE = (
    RECOMMENDED,
    *(n for n in ("gnn", "neural-predictor", "self-training", "random-forest", "mlp", "lstm") if n != RECOMMENDED),
)
# Every space with accuracy labels (a benchmark table); NB-201 first, as it installs from PyPI.
SPACES = ("nb201", "nb101", "enas", "macro")
JOB = "models"  # the jobs marker of a training run, reported on the next run if it was stopped
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
RESULT = "models_result"
SAVE_NAME_KEY = "models_save_name"
EVAL_RESULT = "models_eval_result"
EVAL_ROWS, EVAL_SEED = 2000, 12345
HEADLINE = ("kendall_tau", "spearman", "rmse", "mae")
METRIC_FORMAT = "%.4g"  # sprintf-js, as on the Benchmarks page: 4 significant digits
HOVER_FORMAT = ".4~g"  # d3: the same 4 significant digits in the scatters' hovers
SAVED_COLUMNS = {"size (KB)": "%.1f"}  # st.dataframe formats of the saved-models table


def spaces() -> list[str]:
    """Every space the page trains on, those whose data is present first: a space without its
    data is still offered (labelled, with the reason when chosen), so the user learns it exists
    and what it needs, rather than wondering where it went."""
    return available_first(SPACES)


def space_label(space: str) -> str:
    """The space as the selectbox shows it: ``macro (no data)`` when its data file is absent."""
    return space if is_available(space) else f"{space} (no data)"


def benchmark_or_reason(space: str) -> Benchmark | None:
    """The space's benchmark, or ``None`` after one line saying why it cannot be trained here.
    Not ``st.stop()``: the Saved models tab below still renders."""
    bench, error = cache.try_benchmark(space)
    if bench is None:
        st.info(f"No data for {space} on this machine, so no training here: {md_escape(str(error))}")
    return bench


def config_fields(name: str) -> dict[str, Any]:
    """Default config of a predictor as ``{field: default}``."""
    cls = predictor_class(name)
    return {f.name: f.default for f in dataclasses.fields(cls.Config)}


def epochs_in_total(name: str, config: dict[str, Any], train_size: int) -> int:
    """Epoch callbacks one fit on ``train_size`` cells makes (for a progress bar), as the
    predictor plans them (a step budget becomes epochs by the training-set size)."""
    return make_predictor(name, device="cpu", **config).planned_epochs(train_size)


def check_model_name(text: str) -> str:
    """The file stem to save a model as; ``ValueError`` when it is not a safe name."""
    text = text.strip()
    if not NAME_RE.match(text):
        raise InvalidOption("model name: 1-80 letters, digits, '.', '_' or '-'")
    return text


def default_model_name(space: str, name: str, train_size: int, seed: int) -> str:
    """The name a new model is saved under unless the user gives one: it says what was trained."""
    return f"{space}-{name}-n{train_size}-s{seed}"


def save_name_input(space: str, name: str, train_size: int, seed: int) -> str:
    """The "Save as" box: its default follows space, predictor, size and seed until edited."""
    state.follow_default(SAVE_NAME_KEY, default_model_name(space, name, train_size, seed))
    return st.text_input("Save as", key=SAVE_NAME_KEY)


def replace_checkbox(model_name: str) -> bool:
    """When a model of this name exists, say so and ask whether to replace it (default: no)."""
    try:
        path = user_dir() / f"{check_model_name(model_name)}.pt"
    except ValueError:
        return False  # the Train button reports the bad name
    if not path.exists():
        return False
    st.warning(f"A saved model is already named {md_escape(path.stem)}.")
    return st.checkbox("Replace it", value=False, key="models_replace")


def train_and_score(
    bench: Benchmark,
    name: str,
    config: dict[str, Any],
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    seed: int,
    device: str = "auto",
    callbacks: Any = (),
) -> tuple[Predictor, np.ndarray, np.ndarray, dict[str, float]]:
    """Fit on ``train_rows`` of a benchmark, score on ``test_rows``; returns model, y_true, y_pred, metrics."""
    model = make_predictor(name, seed=seed, device=device, callbacks=callbacks, **config)
    model.fit([bench.archs[i] for i in train_rows], bench.accuracy[train_rows])
    y_true, y_pred = score(bench, model, test_rows)
    return model, y_true, y_pred, evaluate(y_true, y_pred)


def score(bench: Benchmark, model: Predictor, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) accuracy of the cells in ``rows``."""
    return bench.accuracy[rows], model.predict([bench.archs[i] for i in rows])


def scatter(y_true: np.ndarray, y_pred: np.ndarray, title: str) -> go.Figure:
    """Predicted against true accuracy, with the y = x line."""
    lo = float(min(y_true.min(), y_pred.min()))
    hi = float(max(y_true.max(), y_pred.max()))
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=y_true, y=y_pred, mode="markers", marker={"size": 4, "opacity": 0.5}, name="cells"))
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line={"dash": "dash"}, name="y = x"))
    fig.update_layout(title=title, xaxis_title="true accuracy", yaxis_title="predicted accuracy", height=450)
    fig.update_xaxes(hoverformat=HOVER_FORMAT)
    fig.update_yaxes(hoverformat=HOVER_FORMAT)
    return fig


def metrics_frame(metrics: dict[str, float]) -> pd.DataFrame:
    """One row per metric."""
    return pd.DataFrame([{"metric": k, "value": v} for k, v in metrics.items()])


def show_metrics(metrics: dict[str, float], key: str) -> None:
    """The metrics table: values to 4 significant digits, still numbers (sorting by value works)."""
    config = {"value": st.column_config.NumberColumn(format=METRIC_FORMAT)}
    st.dataframe(metrics_frame(metrics), hide_index=True, column_config=config, key=key)


def show_scatter(y_true: np.ndarray, y_pred: np.ndarray, title: str, key: str) -> None:
    """``scatter``, whose camera button saves SVG."""
    st.plotly_chart(scatter(y_true, y_pred, title), key=key, config=export.PLOT_CONFIG)


# -- the Train tab -----------------------------------------------------------------------------
def options(name: str) -> dict[str, Any]:
    """The predictor's options as widgets (epochs, loss, ensemble; or trees and features)."""
    defaults = config_fields(name)
    config: dict[str, Any] = {}
    with st.expander("Options", expanded=True):
        o1, o2, o3 = st.columns(3)
        if name == "self-training":
            return self_training_options(defaults, o1, o2)
        if defaults.get("steps"):  # the default budget: optimiser steps, whatever the training-set size
            config["steps"] = int(
                o1.number_input(
                    "Optimiser steps",
                    1,
                    100_000,
                    int(defaults["steps"]),
                    step=100,
                    key="models_steps",
                    help="Training length in optimiser steps: a larger training set is not trained on fewer updates.",
                )
            )
        if "epochs" in defaults:
            if not defaults.get("steps"):
                config["epochs"] = int(o1.number_input("Epochs", 1, 1000, int(defaults["epochs"]), key="models_epochs"))
            config["loss"] = o2.selectbox("Loss", ["mse", "mse+rank", "rank"], key="models_loss")
            config["ensemble"] = int(o3.number_input("Ensemble size", 1, 10, 1, key="models_ensemble"))
        else:
            config["n_estimators"] = int(o1.number_input("Trees", 1, 1000, 100, key="models_trees"))
            config["features"] = o2.selectbox("Features", ["wide-depth", "onehot"], key="models_features")
    return config


def self_training_options(defaults: dict[str, Any], left: Any, right: Any) -> dict[str, Any]:
    """How many unlabelled cells the teachers label and how long the student trains."""
    unlabelled = left.number_input(
        "Unlabelled cells",
        1,
        50_000,
        int(defaults["unlabelled"]),
        step=500,
        key="models_unlabelled",
        help=f"Random cells of the space that the teachers ({defaults['teachers'].replace('+', ' and ')}) "
        f"label for the {defaults['student']} student.",
    )
    steps = right.number_input(
        "Student steps", 100, 100_000, int(defaults["student_steps"]), step=500, key="models_student_steps"
    )
    return {"unlabelled": int(unlabelled), "student_steps": int(steps)}


def _progress(job: jobs.Job) -> Any:
    """A progress bar and the epoch callback that advances it and the job's marker (so a run
    stopped mid-way is reported at the epoch it reached)."""
    bar = st.progress(0.0, text="training ...")
    total = job.total
    done = [0]

    def tick(epoch: int, logs: dict[str, float]) -> None:
        done[0] += 1
        job.advance(done[0])
        loss = logs.get("loss")
        shown = f", loss {fmt_number(loss)}" if loss is not None and loss == loss else ""
        bar.progress(min(1.0, done[0] / total), text=f"epoch {done[0]}/{total}{shown}")

    return bar, tick


def train_and_save(
    bench: Benchmark,
    space: str,
    name: str,
    config: dict[str, Any],
    sizes: tuple[int, int],
    seed: int,
    model_name: str,
    device: str,
    replace: bool = False,
) -> None:
    """Train with a progress bar, save to the user's folder and keep the result for the page;
    bad input, and a name that exists without ``replace``, are inline errors (nothing trained).

    The run is a ``jobs`` marker: Stop (or leaving the page) ends the script inside an epoch,
    so the next run of the page says where training stopped and that nothing was saved (the
    model file is written only at the end)."""
    try:
        file_name = check_model_name(model_name)
        if (user_dir() / f"{file_name}.pt").exists() and not replace:
            raise InvalidOption(f"a saved model is already named {file_name}: tick 'Replace it' or choose another name")
        train_size, test_size = sizes
        train_rows, test_rows = bench.random_split(train_size, test_size, seed)
        total = epochs_in_total(name, config, train_size)
        with jobs.running(JOB, f"Training {md_escape(file_name)}", total) as job:
            bar, tick = _progress(job)
            model, y_true, y_pred, metrics = train_and_score(
                bench, name, config, train_rows, test_rows, seed, device=device, callbacks=[tick]
            )
            bar.progress(1.0, text="done")
            card = model_card(
                space, bench.target, len(train_rows), len(test_rows), seed, "the app's Models page", metrics
            )
            path = model.save(user_dir(create=True) / f"{file_name}.pt", card=card)
    except (ArchpredError, ValueError) as err:
        st.error(md_escape(str(err)))
        return
    cells = f"{fmt_number(train_size)} training cells, {fmt_number(len(test_rows))} test cells"
    title = f"{name} on {space}: {cells} ({device})"
    state.set_result(
        RESULT, {"title": title, "y_true": y_true, "y_pred": y_pred, "metrics": metrics, "path": str(path)}
    )


def show_result() -> None:
    """The last training run of the session: where it was saved, headline metrics, scatter."""
    result = state.result(RESULT)
    if not result:
        return
    st.success(f"Saved {md_escape(result['path'])}")
    for col, key in zip(st.columns(len(HEADLINE)), HEADLINE):
        col.metric(key, fmt_number(result["metrics"][key]))
    show_scatter(result["y_true"], result["y_pred"], result["title"], key="models_scatter")
    show_metrics(result["metrics"], key="models_metrics")


# -- the Saved models tab ----------------------------------------------------------------------
def saved_column_config() -> dict[str, Any]:
    """Formats of the saved-models table (numbers stay numbers, so sorting works)."""
    return {name: st.column_config.NumberColumn(format=fmt) for name, fmt in SAVED_COLUMNS.items()}


def saved_frame(models: list[SavedModel]) -> pd.DataFrame:
    """One row per saved model file."""
    return pd.DataFrame(
        [
            {
                "model": s.label,
                "predictor": s.name,
                "space": s.space,
                "size (KB)": round(s.size_kb, 1),
                "file": str(s.path),
            }
            for s in models
        ]
    )


def evaluate_saved(saved: SavedModel, device: str) -> None:
    """Score a saved model on ``EVAL_ROWS`` random cells of its benchmark and keep the result."""
    model, error = cache.try_predictor(saved.path, device)
    target, bench_error = cache.try_benchmark(saved.space)
    if model is None or target is None:
        st.error(md_escape(str(error or bench_error)))
        return
    _, rows = target.random_split(0, EVAL_ROWS, EVAL_SEED)
    y_true, y_pred = score(target, model, rows)
    state.set_result(EVAL_RESULT, (saved.label, y_true, y_pred, evaluate(y_true, y_pred)))


def show_evaluation() -> None:
    """The last evaluation of a saved model: scatter and metrics."""
    evaluated = state.result(EVAL_RESULT)
    if evaluated:
        label, y_true, y_pred, metrics = evaluated
        show_scatter(y_true, y_pred, label, key="models_eval_scatter")
        show_metrics(metrics, key="models_eval_metrics")
