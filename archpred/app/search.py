"""The Search page's logic: launch searches in the background, watch, stop, resume, compare.

Everything the page shows is read from the run store on each run (never from the session), so
a launched run survives a browser reload and an app restart: the store holds its evaluations
and which process runs it (``archpred.search.worker`` starts, stops and resumes those
processes). While a run of the store is live the runs section refreshes itself every
``REFRESH_S`` seconds (``st.fragment(run_every=...)``); once nothing runs it stops refreshing.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from archpred.app import export as app_export
from archpred.app import state
from archpred.app.text import fmt_number, md_escape
from archpred.errors import ArchpredError, InvalidOption
from archpred.paths import PROJECT_ROOT
from archpred.search import SEARCHERS, load_run, searcher_options, worker
from archpred.search import export as run_export
from archpred.search import oracles as oracle_module
from archpred.search.store import RunRecord, RunStore, default_path
from archpred.spaces import Architecture, get_space

REFERENCE = PROJECT_ROOT / "reports" / "search" / "reference.json"
REFRESH_S = 2.0
DEFAULT_BUDGET = 150  # as the command line
TOP_K = 10
ETA_WINDOW = 20  # evaluations whose spacing gives the rate
FLASH_KEY = "search_flash"  # (kind, text) shown once on the next run
SELECT_KEY = "search_select"  # {"version": n, "runs": [...]}: runs the page chose to show (a launch)
COST_NAMES = ("params", "flops")
METRIC_NAMES = {"test_acc": "test acc. of the best by val.", "mean_val_acc": "mean val. acc. of the best by val."}
REFERENCE_COLOURS = {"random": "128, 128, 128", "evolution": "230, 126, 34"}
ORACLE_HELP = "table: the benchmark's recorded results; train: real training; predictor: a saved predictor's estimate"
PREDICTED_NOTE = "Predictor oracle: every accuracy of the run is a predictor's estimate, not a measurement."
NB101_NOTE = (
    "NB-101 searches our 20,001 labelled cells only (one training run each at 108 epochs): "
    "validation accuracy only, no test accuracy."
)


# -- settings ---------------------------------------------------------------------------------
def default_store() -> str:
    """The store the command line uses without ``--store`` (its folder made here, at run time)."""
    return str(default_path(create=True))


def oracles() -> list[str]:
    """Every oracle the engine has, in its order (``table`` first)."""
    return list(oracle_module.ORACLES)


def spaces(oracle: str) -> list[str]:
    """The spaces ``oracle`` can search: the tables' for ``table``, else every space with a
    network (training, predictors)."""
    if oracle == "table":
        return list(oracle_module.TABLE_DATASETS)
    return list(getattr(oracle_module, "TRAIN_SPACES", oracle_module.TABLE_DATASETS))


def table_datasets(oracle: str, space: str) -> list[str] | None:
    """The datasets of a table (a fixed choice), or ``None`` where the dataset is free text."""
    if oracle == "table":
        return list(oracle_module.TABLE_DATASETS.get(space, ("cifar10",)))
    return None


def default_dataset(oracle: str) -> str:
    return str(getattr(oracle_module, "DEFAULT_DATASET", {}).get(oracle, "cifar10"))


def algorithms() -> list[str]:
    """Every registered algorithm, in the registry's order (new ones appear as they register)."""
    return list(SEARCHERS)


def _defaults(kind: str, name: str) -> dict[str, Any]:
    """The options of an algorithm (``kind="searcher"``) or oracle, with their defaults; the
    device is the app's one setting, never a per-run widget."""
    try:
        if kind == "searcher":
            found = searcher_options(name)
        else:
            found = getattr(oracle_module, "oracle_options", lambda _: {})(name)
    except (ArchpredError, ImportError):
        return {}
    return {k: v for k, v in found.items() if k != "device"}


def changed_options(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The options whose value differs from the default (what the run's config records)."""
    return {k: v for k, v in values.items() if k in defaults and v != defaults[k]}


def parse_free(text: str) -> Any:
    """An option typed as text: ``None`` when empty, JSON when it parses (numbers, lists), else the text."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def option_widgets(kind: str, name: str) -> dict[str, Any]:
    """One input per option of an algorithm or oracle, four to a row in an expander (open for
    a few options): numbers as number inputs, switches as checkboxes, the rest as text (empty:
    the default). Returns the options changed from their defaults."""
    defaults = _defaults(kind, name)
    if not defaults:
        return {}
    values: dict[str, Any] = {}
    title = f"{'Algorithm' if kind == 'searcher' else 'Oracle'} options: {name} ({len(defaults)})"
    with st.expander(title, expanded=len(defaults) <= 4):
        columns = st.columns(4)
        for i, (option, default) in enumerate(defaults.items()):
            values[option] = _option_input(columns[i % 4], f"search_{kind}_{name}_{option}", option, default)
    return changed_options(defaults, values)


def _option_input(box: Any, key: str, option: str, default: Any) -> Any:
    label = option.replace("_", " ")
    if isinstance(default, bool):
        return box.checkbox(label, value=default, key=key)
    if isinstance(default, int):
        return int(box.number_input(label, value=default, step=1, key=key))
    if isinstance(default, float):
        return float(box.number_input(label, value=default, format="%g", key=key))
    if isinstance(default, str):
        return box.text_input(label, value=default, key=key)
    shown = "" if default is None else json.dumps(default)
    typed = parse_free(box.text_input(label, value=shown, key=key, placeholder="default"))
    return default if typed is None else typed


def run_settings() -> dict[str, Any]:
    """The new-run form: oracle, space, dataset, algorithm and their options, budget, seed.
    Returns ``worker.launch``'s keyword arguments."""
    c1, c2, c3, c4 = st.columns(4)
    oracle = c1.selectbox("Oracle", oracles(), key="search_oracle", help=ORACLE_HELP)
    space = c2.selectbox("Space", spaces(oracle), key=f"search_space_{oracle}")
    choices = table_datasets(oracle, space)
    if choices is None:
        help_text = getattr(oracle_module, "TRAIN_DATASETS_HELP", None) if oracle == "train" else None
        dataset = c3.text_input("Dataset", default_dataset(oracle), key=f"search_dataset_{oracle}", help=help_text)
    else:
        dataset = c3.selectbox("Dataset", choices, key=f"search_dataset_{oracle}_{space}")
    algorithm = c4.selectbox("Algorithm", algorithms(), key="search_algorithm")
    if oracle == "table" and space == "nb101":
        st.caption(NB101_NOTE)
    if oracle == "predictor":
        st.caption(PREDICTED_NOTE)
    options = option_widgets("searcher", algorithm)
    oracle_options = option_widgets("oracle", oracle)
    b1, b2 = st.columns(2)
    budget = b1.number_input("Budget (queries)", 1, 100_000, DEFAULT_BUDGET, key="search_budget")
    seed = b2.number_input("Seed", 0, 2**31 - 1, 0, key="search_seed")
    return {
        "space": space, "dataset": dataset, "algorithm": algorithm, "options": options, "oracle": oracle,
        "oracle_options": oracle_options, "budget": int(budget), "seed": int(seed),
    }  # fmt: skip


# -- the store --------------------------------------------------------------------------------
def store_or_error(text: str) -> tuple[Path | None, str | None]:
    """The store path of the text field, or ``(None, message)`` when it cannot be one."""
    try:
        path = worker.store_path(text)
    except InvalidOption as err:
        return None, str(err)
    if path.exists():
        try:
            RunStore(path).close()
        except ArchpredError as err:
            return None, str(err)
    return path, None


def read_runs(path: Path) -> tuple[list[RunRecord], dict[int, float]]:
    """Every run of the store, newest first, and each run's best validation accuracy; a store
    that does not exist yet has none (reading never creates it)."""
    if not path.exists():
        return [], {}
    with RunStore(path) as db:
        return list(reversed(db.runs())), db.best_val_accs()


@dataclass(frozen=True)
class Point:
    """One evaluation as the page draws it. The cell stays the stored dict (``arch``): parsing
    thousands of cells on every refresh would cost seconds; ``top_k`` parses the few it shows."""

    key: str
    val_acc: float
    mean_val_acc: float | None
    test_acc: float | None
    cost: float | None
    extra: dict[str, Any]
    arch: dict[str, Any]
    finished: float


@dataclass(frozen=True)
class RunView:
    """One run as the page shows it: its record and its evaluations in order."""

    record: RunRecord
    points: list[Point]

    @property
    def live(self) -> bool:
        return is_live(self.record)

    @property
    def space(self) -> str:
        return str(self.record.config.get("space", "nb201"))

    @property
    def dataset(self) -> str:
        return str(self.record.config.get("dataset", "cifar10"))

    @property
    def finished(self) -> list[float]:
        return [p.finished for p in self.points]

    @property
    def best(self) -> Point | None:
        """The best by validation accuracy (the earliest of ties), as ``SearchResult.best``."""
        return max(self.points, key=lambda p: p.val_acc, default=None)

    def incumbents(self) -> list[Point]:
        """After each query, the best so far (``SearchResult.incumbents``)."""
        out: list[Point] = []
        for p in self.points:
            out.append(p if not out or p.val_acc > out[-1].val_acc else out[-1])
        return out


def is_live(record: RunRecord) -> bool:
    """A running run whose process runs (or runs where this app cannot look)."""
    return record.status == "running" and record.alive is not False


def load_view(path: Path, run_id: int) -> RunView:
    """A run with its evaluations, read now."""
    with RunStore(path) as db:
        record = db.run(run_id)
        rows = db.evaluation_records(run_id)
    points = [
        Point(
            str(r["key"]), float(r["val_acc"]), _number(r["mean_val_acc"]), _number(r["test_acc"]), _number(r["cost"]),
            dict(r["extra"] or {}), r["arch"], float(r["finished"]),
        )
        for r in rows
    ]  # fmt: skip
    return RunView(record, points)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def run_label(record: RunRecord, best: float | None = None) -> str:
    """``Run 3: evolution, nb201/cifar10, seed 0 (running 12/150)`` (plain text, for menus)."""
    c = record.config
    tail = "" if best is None else f", best val {fmt_number(best)}"
    return (
        f"Run {record.run_id}: {c.get('algorithm', '?')}, {c.get('space', '?')}/{c.get('dataset', '?')}, "
        f"seed {record.seed} ({record.status} {record.progress}/{record.budget}{tail})"
    )


def runs_frame(records: Sequence[RunRecord], best: dict[int, float]) -> pd.DataFrame:
    """The runs table: one row per run, newest first."""
    rows = [
        {
            "run": r.run_id,
            "algorithm": r.config.get("algorithm", "?"),
            "space": r.config.get("space", "?"),
            "dataset": r.config.get("dataset", "?"),
            "seed": r.seed,
            "status": r.status,
            "progress": f"{r.progress}/{r.budget}",
            "best val": best.get(r.run_id),
            "updated": pd.Timestamp(r.updated, unit="s", tz="UTC").tz_convert(None).floor("s"),
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=["run", "algorithm", "space", "dataset", "seed", "status", "progress",
                                       "best val", "updated"])  # fmt: skip


# -- progress ---------------------------------------------------------------------------------
def seconds_per_evaluation(finished: Sequence[float]) -> float | None:
    """The median spacing of the last ``ETA_WINDOW`` evaluations (robust to the one long gap
    of a stop and resume); ``None`` before two evaluations."""
    recent = list(finished[-(ETA_WINDOW + 1) :])
    gaps = [b - a for a, b in zip(recent, recent[1:], strict=False) if b >= a]
    return statistics.median(gaps) if gaps else None


def eta_seconds(view: RunView) -> float | None:
    """Seconds until a live run spends its budget, from its evaluation times; ``None`` when
    it is not running or too young to tell."""
    rate = seconds_per_evaluation(view.finished)
    if not view.live or rate is None:
        return None
    return rate * max(view.record.budget - view.record.progress, 0)


def fmt_duration(seconds: float | None) -> str:
    """``45 s``, ``3 min 5 s``, ``2 h 4 min``; an en dash for unknown."""
    if seconds is None or math.isnan(seconds):
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


# -- reference bands --------------------------------------------------------------------------
def reference(space: str, dataset: str, path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The harness's random-search and evolution bands for ``space/dataset`` (``{name:
    {"queries", "mean", "lo", "hi", "label"}}``, fractions) from ``reports/search/reference.json``;
    empty when the file is absent, unreadable or has no such table."""
    try:
        doc = json.loads((path or REFERENCE).read_text())
        entry = doc.get(f"{space}/{dataset}", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(entry, dict):
        return {}
    metric = METRIC_NAMES.get(str(entry.get("metric")), "")
    out: dict[str, dict[str, Any]] = {}
    for name, band in entry.items():
        try:
            columns: dict[str, Any] = {k: [float(v) for v in band[k]] for k in ("queries", "mean", "lo", "hi")}
        except (KeyError, TypeError, ValueError):
            continue  # "metric" and anything else that is not a band
        if len({len(v) for v in columns.values()}) != 1 or not columns["queries"]:
            continue
        seeds = band.get("seeds")
        details = ", ".join(x for x in (metric, f"{seeds} seeds" if isinstance(seeds, int) else "") if x)
        columns["label"] = f"{name}, harness" + (f" ({details})" if details else "")
        out[str(name)] = columns
    return out


def add_reference(fig: go.Figure, bands: dict[str, dict[str, Any]], up_to: int | None = None) -> None:
    """Each band as a shaded range and a dashed mean, drawn first (under the runs)."""
    for name, band in bands.items():
        keep = [i for i, q in enumerate(band["queries"]) if up_to is None or q <= up_to]
        if not keep:
            continue
        q = [band["queries"][i] for i in keep]
        lo, hi, mean = ([band[k][i] for i in keep] for k in ("lo", "hi", "mean"))
        rgb = REFERENCE_COLOURS.get(name, "100, 100, 200")
        fig.add_trace(
            go.Scatter(
                x=q + q[::-1], y=hi + lo[::-1], fill="toself", fillcolor=f"rgba({rgb}, 0.15)",
                line={"width": 0}, hoverinfo="skip", name=f"{band['label']}: range", legendgroup=f"ref-{name}",
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=q, y=mean, mode="lines", line={"dash": "dash", "color": f"rgb({rgb})"},
                name=f"{band['label']}: mean", legendgroup=f"ref-{name}",
            )
        )  # fmt: skip


# -- figures ----------------------------------------------------------------------------------
def _layout(fig: go.Figure, title: str, y_title: str = "accuracy") -> go.Figure:
    fig.update_layout(
        title=title, xaxis_title="queries", yaxis_title=y_title, yaxis_tickformat=".1%", height=420,
        legend={"orientation": "h", "y": -0.2}, margin={"t": 50, "b": 10},
    )  # fmt: skip
    return fig


def trace_figure(view: RunView, bands: dict[str, dict[str, Any]] | None = None) -> go.Figure:
    """Every evaluation as a point coloured by the algorithm's phase, the best-so-far
    validation accuracy, the test accuracy of that best (where known), and reference bands."""
    history = view.points
    fig = go.Figure()
    add_reference(fig, bands or {}, up_to=max(view.record.budget, len(history)))
    queries = list(range(1, len(history) + 1))
    phases = [str(e.extra.get("phase", "–")) for e in history]
    for phase in dict.fromkeys(phases):
        idx = [i for i, p in enumerate(phases) if p == phase]
        fig.add_trace(
            go.Scatter(
                x=[queries[i] for i in idx], y=[history[i].val_acc for i in idx], mode="markers",
                marker={"size": 6, "opacity": 0.7}, name=f"evaluation: {phase}",
                text=[history[i].key for i in idx], hovertemplate="query %{x}: val %{y:.2%}<br>%{text}<extra></extra>",
            )
        )  # fmt: skip
    best = view.incumbents()
    fig.add_trace(
        go.Scatter(
            x=queries, y=[e.val_acc for e in best], mode="lines", line={"shape": "hv", "width": 3, "color": "#222"},
            name="best so far (val)",
        )
    )  # fmt: skip
    if any(e.test_acc is not None for e in best):
        fig.add_trace(
            go.Scatter(
                x=queries, y=[e.test_acc for e in best], mode="lines", line={"shape": "hv", "dash": "dot", "color": "crimson"},
                name="its test accuracy",
            )
        )  # fmt: skip
    return _layout(fig, f"Run {view.record.run_id}: {view.record.config.get('algorithm', '?')}")


def compare_figure(views: Sequence[RunView], bands: dict[str, dict[str, Any]] | None = None) -> go.Figure:
    """The best-so-far validation accuracy of several runs on one plot (bands: the harness's,
    when every run searched the same table)."""
    fig = go.Figure()
    add_reference(fig, bands or {}, up_to=max((len(v.points) for v in views), default=None))
    for v in views:
        best = v.incumbents()
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(best) + 1)), y=[e.val_acc for e in best], mode="lines",
                line={"shape": "hv"}, name=run_label(v.record),
            )
        )  # fmt: skip
    return _layout(fig, "Best so far (validation accuracy)")


def shared_reference(views: Sequence[RunView]) -> dict[str, dict[str, Any]]:
    """The bands of the one table every run searched, else none."""
    tables = {(v.space, v.dataset) for v in views}
    return reference(*tables.pop()) if len(tables) == 1 else {}


def cost_names(view: RunView) -> list[str]:
    """The cost measures the run's evaluations carry (``params``, ``flops``)."""
    return [c for c in COST_NAMES if any(isinstance(e.extra.get(c), (int, float)) for e in view.points)]


def pareto_figure(view: RunView, cost: str) -> go.Figure:
    """Validation accuracy against ``cost`` for every evaluation, the Pareto front highlighted."""
    points = [e for e in view.points if isinstance(e.extra.get(cost), (int, float))]
    from archpred.search.pareto import pareto_front  # the engine's rule (ties on the front all kept)

    costs, accs = [float(e.extra[cost]) for e in points], [e.val_acc for e in points]
    front_idx = set(pareto_front(list(zip(accs, costs, strict=True))))
    on_front = [i in front_idx for i in range(len(points))]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=costs, y=accs, mode="markers", marker={"size": 6, "color": "lightgray"}, name="evaluated",
            text=[e.key for e in points], hovertemplate=f"{cost} %{{x:.4g}}: val %{{y:.2%}}<br>%{{text}}<extra></extra>",
        )
    )  # fmt: skip
    front = sorted((c, a, e.key) for c, a, e, f in zip(costs, accs, points, on_front, strict=True) if f)
    fig.add_trace(
        go.Scatter(
            x=[c for c, _, _ in front], y=[a for _, a, _ in front], mode="lines+markers",
            line={"shape": "hv", "color": "crimson"}, marker={"size": 9, "color": "crimson"}, name="Pareto front",
            text=[k for _, _, k in front], hovertemplate=f"{cost} %{{x:.4g}}: val %{{y:.2%}}<br>%{{text}}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=f"Accuracy vs {cost}", xaxis_title=cost, yaxis_title="validation accuracy", yaxis_tickformat=".1%",
        height=420, legend={"orientation": "h", "y": -0.2}, margin={"t": 50, "b": 10},
    )  # fmt: skip
    return fig


# -- tables -----------------------------------------------------------------------------------
def top_k(view: RunView, k: int) -> tuple[pd.DataFrame, list[Architecture]]:
    """The ``k`` best evaluations by validation accuracy (earliest first among ties), as a
    table and the cells of its rows."""
    ranked = sorted(enumerate(view.points), key=lambda p: (-p[1].val_acc, p[0]))[: max(int(k), 0)]
    rows = [
        {
            "rank": rank, "query": i + 1, "val": e.val_acc, "mean val": e.mean_val_acc, "test": e.test_acc,
            "cost s": e.cost, "phase": str(e.extra.get("phase", "")), "cell": e.key,
        }
        for rank, (i, e) in enumerate(ranked, start=1)
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["rank", "query", "val", "mean val", "test", "cost s", "phase", "cell"])
    space = get_space(view.space)
    return frame, [space.parse(e.arch) for _, e in ranked]


TOP_COLUMNS = {
    "val": st.column_config.NumberColumn("val", format="%.4g", help="validation accuracy the search saw"),
    "mean val": st.column_config.NumberColumn("mean val", format="%.4g", help="over the benchmark's seeds"),
    "test": st.column_config.NumberColumn("test", format="%.4g"),
    "cost s": st.column_config.NumberColumn("cost s", format="%.4g", help="the benchmark's training time"),
}
RUN_COLUMNS = {"best val": st.column_config.NumberColumn("best val", format="%.4g")}


# -- actions ------------------------------------------------------------------------------------
def flash(kind: str, text: str) -> None:
    """A message (``success``, ``error``, ``info``) for the next run of the page."""
    state.set_result(FLASH_KEY, (kind, text))


def show_flash() -> None:
    """The message an action left, once (Markdown-escaped)."""
    message = state.result(FLASH_KEY)
    if message:
        state.forget(FLASH_KEY)
        kind, text = message
        getattr(st, kind)(md_escape(text))


@st.fragment
def new_run(path: Path) -> None:
    """The new-run form and its Launch button, a fragment: changing a setting redraws the form
    only, not the runs below (whose traces can hold thousands of points)."""
    settings = run_settings()
    # the label names the budget, so what is launched is what the form shows
    label = f"Launch ({settings['budget']:,} queries)"
    if st.button(label, type="primary", key="search_launch", icon=":material/rocket_launch:"):
        launch(path, settings)


def launch(path: Path, settings: dict[str, Any]) -> int | None:
    """Start a run (``settings``: ``worker.launch``'s arguments) in the background, select it
    and redraw the page; ``None`` after an inline error."""
    try:
        with st.spinner("Starting the search process ..."):
            launched = worker.launch(path, device=state.device(), **settings)
    except (ArchpredError, OSError) as err:
        st.error(f"Launch failed: {md_escape(str(err))}")
        return None
    select_runs([launched.run_id])
    flash("success", f"Launched run {launched.run_id} (process {launched.pid}); its log: {launched.log}")
    st.rerun(scope="app")
    return launched.run_id  # not reached: the rerun ends this run


def stop(path: Path, run_id: int) -> None:
    """Stop a live run (it is then ``stopped`` and resumable) and redraw the page."""
    try:
        status = worker.stop(path, run_id, timeout=10.0)
        flash("info", f"Run {run_id} is {status}.")
    except (ArchpredError, OSError) as err:
        flash("error", f"Stop failed: {err}")
    st.rerun(scope="app")


def resume(path: Path, run_id: int, budget: int | None) -> None:
    """Continue a run in a new background process (``budget``: its new total) and redraw."""
    try:
        with st.spinner("Starting the search process ..."):
            launched = worker.resume(path, run_id, budget=budget, device=state.device())
        flash("success", f"Resumed run {run_id} (process {launched.pid}).")
    except (ArchpredError, OSError) as err:
        flash("error", f"Resume failed: {err}")
    st.rerun(scope="app")


def select_runs(run_ids: list[int]) -> None:
    """Show these runs (e.g. one just launched) instead of what the user chose: a new runs
    widget, whose default they are (setting a drawn widget's value from code does not reach a
    browser that already shows it)."""
    chosen = state.value(SELECT_KEY) or {"version": 0}
    state.set_value(SELECT_KEY, {"version": int(chosen["version"]) + 1, "runs": list(run_ids)})


def selection_key(ids: list[int]) -> str:
    """The runs widget's key: new after ``select_runs``, or when a run it shows left the list
    (another store), so its value always lies within the options."""
    chosen = state.value(SELECT_KEY) or {"version": 0}
    key = f"search_runs_{chosen['version']}"
    if any(i not in ids for i in state.value(key) or []):
        select_runs(shown_by_default(ids))
        key = f"search_runs_{state.value(SELECT_KEY)['version']}"
    return key


def shown_by_default(ids: list[int]) -> list[int]:
    """The runs ``select_runs`` asked for that the store has, else the newest run."""
    asked = [i for i in (state.value(SELECT_KEY) or {}).get("runs", []) if i in ids]
    return asked or ids[:1]


def open_in_editor(space: str, arch: Architecture) -> None:
    state.send_to_editor(space, arch)
    st.switch_page("pages/cell_editor.py")


# -- the runs section (refreshes itself while a run is live) ------------------------------------
def show_runs(path: Path) -> None:
    """The runs table, the chosen runs' traces and their details; a fragment that reruns every
    ``REFRESH_S`` seconds when a run of the store was live at the page's last full run."""
    try:
        records, _ = read_runs(path)
    except ArchpredError as err:
        st.error(md_escape(str(err)))
        return
    live = any(is_live(r) for r in records)
    st.fragment(run_every=REFRESH_S if live else None)(_runs_body)(path)


def _runs_body(path: Path) -> None:
    """The section itself. Once its runs end it goes on refreshing until the next full run of
    the page (any widget outside it): a full rerun forced from here could drop what the user is
    typing in the new-run form."""
    try:
        records, best = read_runs(path)
    except ArchpredError as err:
        st.error(md_escape(str(err)))
        return
    if not records:
        st.info(f"No runs in {md_escape(str(path))} yet: launch one above.")
        return
    st.dataframe(
        runs_frame(records, best),
        hide_index=True,
        column_config=RUN_COLUMNS,
        height=min(36 * (len(records) + 1) + 3, 250),
    )
    ids = [r.run_id for r in records]
    labels = {r.run_id: run_label(r, best.get(r.run_id)) for r in records}
    selected = st.multiselect(
        "Runs to show", ids, default=shown_by_default(ids), format_func=lambda i: labels[i], key=selection_key(ids)
    )
    if not selected:
        st.caption("Choose runs above to see their traces.")
        return
    views = [load_view(path, i) for i in selected]
    if len(views) > 1:
        st.plotly_chart(compare_figure(views, shared_reference(views)), width="stretch", config=app_export.PLOT_CONFIG)
        detail = st.selectbox("Details of", selected, format_func=lambda i: labels[i], key="search_detail")
        view = views[selected.index(detail)]
    else:
        view = views[0]
    run_details(path, view)


def run_details(path: Path, view: RunView) -> None:
    """One run: progress and ETA, Stop / Resume, its trace, Pareto plot, top-K and export."""
    record, run_id = view.record, view.record.run_id
    c = record.config
    st.markdown(
        f"**Run {run_id}** · {md_escape(c.get('algorithm', '?'))} on {md_escape(view.space)}/"
        f"{md_escape(view.dataset)} · seed {record.seed} · oracle {md_escape(c.get('oracle', 'table'))} · "
        f"**{record.status}**"
    )
    if view.space == "nb101" and c.get("oracle", "table") == "table":
        st.caption(NB101_NOTE)
    if c.get("oracle") == "predictor":
        st.caption(PREDICTED_NOTE)
    best = view.best
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Progress", f"{fmt_number(record.progress)}/{fmt_number(record.budget)}")
    m2.metric("Best val", fmt_number(None if best is None else best.val_acc))
    m3.metric("Its test", fmt_number(None if best is None else best.test_acc))
    m4.metric("ETA", fmt_duration(eta_seconds(view)) if view.live else "–")
    st.progress(min(record.progress / max(record.budget, 1), 1.0), text=progress_text(view))
    controls(path, view)
    log = worker.log_path(path, run_id)
    if record.status in ("killed", "stopped", "failed") and log.is_file():
        with st.expander("Process log (the end)"):
            st.code(log_tail(log), language=None)
    st.plotly_chart(
        trace_figure(view, reference(view.space, view.dataset)), width="stretch", config=app_export.PLOT_CONFIG
    )
    costs = cost_names(view)
    if costs:
        cost = st.selectbox("Cost", costs, key=f"search_cost_{run_id}") if len(costs) > 1 else costs[0]
        st.plotly_chart(pareto_figure(view, cost), width="stretch", config=app_export.PLOT_CONFIG)
    top_table(view)
    downloads(path, view.record.run_id)


def log_tail(log: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a run's process log (why it stopped, if it says)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        return str(err)
    return "\n".join(text.splitlines()[-lines:])


def progress_text(view: RunView) -> str:
    rate = seconds_per_evaluation(view.finished)
    text = f"{view.record.progress}/{view.record.budget} evaluations"
    if view.live and rate is not None:
        text += f", {fmt_number(rate, 2)} s each, about {fmt_duration(eta_seconds(view))} left"
    return text


def controls(path: Path, view: RunView) -> None:
    """Stop for a live run; Resume (with a budget, which may be larger) for any other."""
    record, run_id = view.record, view.record.run_id
    if view.live:
        if record.alive is None:
            st.caption(f"Runs on host {md_escape(str(record.host))}: stop it there." if record.host else "")
        elif st.button("Stop", key=f"search_stop_{run_id}", icon=":material/stop_circle:"):
            stop(path, run_id)
        return
    if record.status == "killed":
        st.warning(
            f"Run {run_id}'s process ended without finishing (killed or crashed) at "
            f"{record.progress}/{record.budget}: its evaluations are saved, Resume continues it."
        )
    finished = record.status == "finished"
    left, right = st.columns([1, 3], vertical_alignment="bottom")
    floor = record.budget + 1 if finished else max(record.progress, 1)
    budget = left.number_input(
        "Budget", min_value=floor, value=max(floor, record.budget if not finished else record.budget + 50), step=10,
        key=f"search_resume_budget_{run_id}", help="Total queries; above the current budget to extend the run.",
    )  # fmt: skip
    label = f"{'Extend' if finished else 'Resume'} to {int(budget):,}"
    if right.button(label, key=f"search_resume_{run_id}", icon=":material/play_arrow:"):
        resume(path, run_id, None if int(budget) == record.budget else int(budget))


def top_table(view: RunView) -> None:
    """The best ``k`` evaluations; a selected row opens its cell in the cell editor."""
    run_id = view.record.run_id
    st.subheader("Best cells")
    k = st.number_input("How many", 1, 100, TOP_K, key=f"search_topk_{run_id}")
    frame, archs = top_k(view, int(k))
    event = st.dataframe(
        frame, key=f"search_top_{run_id}", on_select="rerun", selection_mode="single-row", hide_index=True,
        column_config=TOP_COLUMNS,
    )  # fmt: skip
    rows = event.selection.rows if event is not None else []
    if rows and int(rows[0]) < len(archs):
        arch = archs[int(rows[0])]
        if st.button(f"Open #{int(rows[0]) + 1} in cell editor", key=f"search_open_{run_id}", icon=":material/edit:"):
            open_in_editor(view.space, arch)
    else:
        st.caption("Select a row to open its cell in the cell editor.")


def downloads(path: Path, run_id: int) -> None:
    """The run's evaluations as CSV and JSON (the files ``runs export`` writes), made when
    clicked: a refresh of a long run does not format thousands of rows."""
    left, right = st.columns(2)
    left.download_button(
        "Evaluations (CSV)", lambda: export_run(path, run_id, "csv"), file_name=f"run-{run_id}.csv",
        mime="text/csv", key=f"search_csv_{run_id}", icon=":material/download:", on_click="ignore",
    )  # fmt: skip
    right.download_button(
        "Run (JSON)", lambda: export_run(path, run_id, "json"), file_name=f"run-{run_id}.json",
        mime="application/json", key=f"search_json_{run_id}", icon=":material/download:", on_click="ignore",
    )  # fmt: skip


def export_run(path: Path, run_id: int, fmt: str) -> str:
    """A run as ``csv`` or ``json`` text, read now."""
    return run_export.export_text(load_run(path, run_id), fmt)
