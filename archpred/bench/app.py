"""``bench app``: what a user of the Streamlit app waits for.

    python -m archpred bench app                 # 5 runs of everything -> reports/app.md (+ .json)
    python -m archpred bench app --quick         # 2 runs, no page tour, PCA on 300 cells

Parts (``--parts``):

- ``imports``: which modules the first page loads (``app.py`` run once by AppTest in a new
  process, under ``python -X importtime``): the heavy ones (umap, numba, torch_geometric) must
  stay off that path; the slowest top-level imports are listed.
- ``browser``: cold start to the first rendered page, and page switches, in headless Chromium
  (``archpred.bench.app_browser``); skipped with a reason where Playwright or Chromium is absent.
- ``edit``: the cell editor's server time from a new cell in the JSON text area to its new
  predictions (AppTest ``run()``), and the phases of that run timed apart.
- ``projections``: the Embedding map's 2-D projections through ``archpred.app.cache``, first
  (disk cache emptied) and cached, after the embeddings themselves.

Medians over ``runs``; the report is rewritten after each part, with the command and machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.paths import PROJECT_ROOT

PARTS = ("imports", "browser", "edit", "projections")
HEAVY = ("umap", "numba", "torch_geometric", "torch")  # must stay off the first page's path
WATCHED = (*HEAVY, "pynndescent", "sklearn", "scipy", "pyvis")  # reported when loaded
METHODS = ("PCA", "t-SNE", "UMAP")


@dataclasses.dataclass(frozen=True)
class AppBenchConfig:
    """Args:
    runs: repetitions of every timing (medians are over these).
    parts: a subset of ``PARTS``.
    tour: in the browser, also click every page of the menu (twice round) after the first one.
    edit_space: search space of the cell editor's timings (NB-201 has shipped predictors).
    projection_kind, projection_bench, projection_rows: VAE, benchmark and map size (the
        Embedding map's default is 2,000 cells of NB-201 with SVGe).
    methods: projections to time, from ``METHODS``.
    device: where models run (auto, cpu, cuda, cuda:N); seed: draws the edited cells.
    timeout_s: the longest wait for any one page or run; out: the Markdown report
        (the JSON beside it); command: the command line written into the report.
    """

    runs: int = 5
    parts: tuple[str, ...] = PARTS
    tour: bool = True
    edit_space: str = "nb201"
    projection_kind: str = "svge"
    projection_bench: str = "nb201"
    projection_rows: int = 2000
    methods: tuple[str, ...] = METHODS
    device: str = "auto"
    seed: int = 0
    timeout_s: float = 300.0
    out: Path = Path("reports/app.md")
    command: str = "python -m archpred bench app"

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise InvalidOption(f"runs must be at least 1, got {self.runs}")
        for name, given, known in (("part", self.parts, PARTS), ("projection", self.methods, METHODS)):
            unknown = [g for g in given if g not in known]
            if unknown:
                raise InvalidOption(f"unknown {name} {unknown[0]!r}; choose from {', '.join(known)}")


def quick(config: AppBenchConfig) -> AppBenchConfig:
    """The smoke-test version of ``config``: no page tour, PCA only, on 300 cells."""
    return dataclasses.replace(config, tour=False, methods=("PCA",), projection_rows=300)


def run_app(config: AppBenchConfig) -> dict[str, Any]:
    """Run the parts of ``config``, rewriting the report after each; returns the results."""
    from archpred.training import resolve_device

    device = str(resolve_device(config.device))
    results: dict[str, Any] = {"command": config.command, "config": _plain(config), "meta": machine_facts()}
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "imports": lambda: first_page_imports(config.timeout_s, importtime=True),
        "browser": lambda: browser_timings(config.runs, config.tour, config.timeout_s),
        "edit": lambda: time_edits(config.edit_space, config.runs, config.seed, device, config.timeout_s),
        "projections": lambda: time_projections(
            config.projection_kind, config.projection_bench, config.projection_rows, config.methods, config.runs, device
        ),
    }
    for part in config.parts:
        print(f"== {part}", flush=True)
        start = time.perf_counter()
        results[part] = steps[part]()
        results[part]["wall_s"] = time.perf_counter() - start
        results["meta"]["load_average_end"] = _load_average()
        write_report(results, config.out)
        print(f"== {part} done in {results[part]['wall_s']:.0f}s; wrote {config.out}", flush=True)
    return results


def _plain(config: AppBenchConfig) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(config).items()}


def _load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def machine_facts() -> dict[str, Any]:
    """Cores, processor, load, versions, commit and which benchmarks have data here."""
    import platform

    import streamlit

    from archpred.data import BENCHMARKS, is_available

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "streamlit": streamlit.__version__,
        "commit": commit.stdout.strip() or None,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "data": [name for name in BENCHMARKS if is_available(name)],
        "load_average_start": _load_average(),
    }


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max (seconds) of a list of timings."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


# -- imports of the first page -----------------------------------------------------------------
_FIRST_PAGE = """
import json, sys, traceback
from streamlit.testing.v1 import AppTest

app, timeout, root, watched = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4].split(",")
where = {}


class Spy:  # records the project's frames at the first import of each watched module
    def find_spec(self, name, path=None, target=None):
        if name in watched and name not in where:
            frames = [f for f in traceback.extract_stack() if f.filename.startswith(root)]
            where[name] = [f"{f.filename[len(root) + 1:]}:{f.lineno} {f.name}" for f in frames]
        return None


sys.meta_path.insert(0, Spy())
at = AppTest.from_file(app, default_timeout=timeout).run()
print("ARCHPRED_RESULT " + json.dumps({
    "titles": [t.value for t in at.title],
    "exceptions": [str(e.value) for e in at.exception],
    "modules": sorted(sys.modules),
    "where": where,
}))
"""


def first_page_imports(timeout_s: float = 600.0, importtime: bool = False) -> dict[str, Any]:
    """Run ``app.py`` (its first page) once by AppTest in a new Python process and report which
    of ``WATCHED`` it loaded and from which lines of the project (``where``); with
    ``importtime``, also the slowest top-level imports and each loaded module's import chain."""
    flags = ["-X", "importtime"] if importtime else []
    script = [_FIRST_PAGE, str(PROJECT_ROOT / "app.py"), str(timeout_s), str(PROJECT_ROOT), ",".join(WATCHED)]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *flags, "-c", *script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s + 120,
    )
    seconds = time.perf_counter() - start
    line = next((s for s in proc.stdout.splitlines() if s.startswith("ARCHPRED_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"the first page did not run (exit {proc.returncode}): {proc.stderr[-2000:]}")
    found = json.loads(line.split(" ", 1)[1])
    modules = set(found["modules"])
    out = {
        "titles": found["titles"],
        "exceptions": found["exceptions"],
        "loaded": [m for m in WATCHED if m in modules],
        "heavy": [m for m in HEAVY if m in modules],
        "where": {m: found["where"].get(m, []) for m in WATCHED if m in modules},
        "process_s": seconds,
    }
    if importtime:
        log = parse_importtime(proc.stderr)
        out["top_imports"] = top_imports(log)
        out["chains"] = {m: import_chain(log, m) for m in out["loaded"]}
    print(f"first page loads {', '.join(out['loaded']) or 'none of the watched modules'}", flush=True)
    return out


_IMPORT_LINE = re.compile(r"import time:\s*(\d+)\s*\|\s*(\d+)\s*\| (\s*)(\S+)")


def parse_importtime(stderr: str) -> list[tuple[int, float, str]]:
    """``(depth, cumulative seconds, module)`` per line of ``python -X importtime``, in order
    (a module's imports come before it)."""
    rows = []
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            rows.append((len(m.group(3)) // 2, int(m.group(2)) / 1e6, m.group(4)))
    return rows


def top_imports(log: list[tuple[int, float, str]], n: int = 8) -> list[tuple[str, float]]:
    """The ``n`` slowest top-level imports, ``(module, cumulative seconds)``."""
    top = sorted(((name, s) for depth, s, name in log if depth == 0), key=lambda r: -r[1])
    return [(name, round(s, 3)) for name, s in top[:n]]


def import_chain(log: list[tuple[int, float, str]], module: str) -> list[str]:
    """Who imported ``module`` first: ``[top-level module, ..., module]`` (empty if never)."""
    at = next((i for i, row in enumerate(log) if row[2] == module), None)
    if at is None:
        return []
    chain, depth = [module], log[at][0]
    for d, _, name in log[at + 1 :]:
        if d < depth:
            chain.append(name)
            depth = d
    return chain[::-1]


# -- browser -----------------------------------------------------------------------------------
def browser_timings(runs: int, tour: bool, timeout_s: float) -> dict[str, Any]:
    """Cold starts and page switches in headless Chromium, summarised (a skip reason instead
    where the browser is missing)."""
    from archpred.bench import app_browser

    reason = app_browser.skip_reason()
    if reason:
        print(f"browser timings skipped: {reason}", flush=True)
        return {"skipped": reason}
    with tempfile.TemporaryDirectory(prefix="archpred-bench-cache-") as cache:
        raw = app_browser.time_browser(runs, tour, timeout_s, Path(cache))
    cold = {key: summary([r[key] for r in raw]) for key in ("server_s", "title_s", "content_s", "idle_s")}
    pages: dict[str, Any] = {}
    for title in raw[0]["pages"]:
        visits = [r["pages"][title] for r in raw]
        pages[title] = {
            "first_run1": visits[0]["first"],
            "first_later": _visit_summary([v["first"] for v in visits[1:]]),
            "again": _visit_summary([v["again"] for v in visits]),
            "exceptions": sum(v[w]["exceptions"] for v in visits for w in ("first", "again")),
        }
    return {"runs": raw, "cold_start": cold, "pages": pages, "exceptions": sum(r["exceptions"] for r in raw)}


def _visit_summary(visits: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Medians of the visits that did not time out (``timeouts`` counts those that did)."""
    done = [v for v in visits if v["idle_s"] is not None]
    if not visits:
        return None
    medians = {key: statistics.median(v[key] for v in done) if done else None for key in ("title_s", "idle_s")}
    return medians | {"timeouts": len(visits) - len(done)}


# -- edit -> new predictions -------------------------------------------------------------------
def edit_texts(space: str, runs: int, seed: int, first: str, avoid: tuple[str, ...] = ()) -> list[str]:
    """``runs`` cell JSONs drawn from ``space``, each different from the one before it and
    none in ``avoid``."""
    from archpred.spaces import get_space

    s, rng = get_space(space), np.random.default_rng(seed)
    texts, previous = [], first
    while len(texts) < runs:
        text = s.sample(rng).to_json()
        if text != previous and text not in avoid:
            texts.append(text)
            previous = text
    return texts


def time_edits(space: str, runs: int, seed: int = 0, device: str = "cpu", timeout_s: float = 600.0) -> dict[str, Any]:
    """Server time of the cell editor (AppTest) from a new cell in its JSON box to its new
    predictions, after one warm-up run; then each phase of that run timed apart."""
    from streamlit.testing.v1 import AppTest

    from archpred.app import editor, state

    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "cell_editor.py"), default_timeout=timeout_s)
    at.session_state[editor.SPACE_KEY] = space
    at.session_state[state.DEVICE_KEY] = device
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    _check_predictions(at)
    key = state.editor_text_key(space)
    first = at.text_area(key=key).value
    texts = edit_texts(space, runs, seed, first)
    seconds = []
    for i, text in enumerate(texts):
        at.text_area(key=key).input(text)
        start = time.perf_counter()
        at.run()
        seconds.append(time.perf_counter() - start)
        predictors = _check_predictions(at)
        print(f"edit {i + 1}/{runs}: {seconds[-1]:.2f}s ({predictors} predictions)", flush=True)
    return {
        "space": space,
        "device": device,
        "warm_up_s": warm,
        "predictors": predictors,
        "seconds": seconds,
        "run": summary(seconds),
        "phases": edit_phases(space, edit_texts(space, runs + 1, seed + 1, "", (first, *texts)), device),
    }


def _check_predictions(at: Any) -> int:
    """The number of predictions the page shows; raises when the run failed or showed none."""
    if at.exception:
        raise RuntimeError(f"the cell editor raised: {at.exception[0].value}")
    tables = [df.value for df in at.dataframe if "predicted" in getattr(df.value, "columns", ())]
    if not tables:
        raise RuntimeError("the cell editor showed no predictions table")
    return len(tables[0])


def edit_phases(space: str, texts: list[str], device: str) -> dict[str, dict[str, float]]:
    """The cell editor's work per new cell, outside Streamlit: parse, hash and benchmark
    lookup, drawing, each saved predictor's prediction, network counts. ``texts[0]`` warms the
    models up; the others must be cells no cache has seen."""
    phases = _phase_functions(space, device)
    times: dict[str, list[float]] = {name: [] for name in phases}
    for i, text in enumerate(texts):
        arch = None
        for name, fn in phases.items():
            start = time.perf_counter()
            out = fn(text, arch)
            if name == "parse":
                arch = out
            if i:
                times[name].append(time.perf_counter() - start)
    return {name: summary(values) for name, values in times.items()}


def _phase_functions(space: str, device: str) -> dict[str, Callable[[str, Any], Any]]:
    from archpred.app import cache, editor
    from archpred.app.draw import cell_figure, cell_pyvis_html

    def lookup(_: str, arch: Any) -> Any:
        editor.summary(space, arch)
        bench, _error = cache.try_benchmark(editor.SPACE_BENCHMARK[space])
        return None if bench is None else bench.lookup(arch)

    phases: dict[str, Callable[[str, Any], Any]] = {
        "parse": lambda text, _: editor.parse_cell(space, text),
        "hash and benchmark lookup": lookup,
        "draw the cell (figure and interactive view)": lambda _, arch: (cell_figure(arch), cell_pyvis_html(arch)),
    }
    for saved in cache.saved_models(space):
        model, _error = cache.try_predictor(saved.path, device)
        if model is not None:
            phases[f"predict: {saved.label}"] = lambda _, arch, model=model: model.predict([arch])
    phases["network parameters and FLOPs"] = lambda _, arch: cache.network_counts(space, json.dumps(arch.to_dict()))
    gennape = _gennape_or_none()
    if gennape is not None:  # the GENNAPE panel: the cell's network, its CG, the CL embedding, the members
        phases["GENNAPE (network, computation graph, members)"] = lambda _, arch: gennape.member_scores(
            gennape.features([arch])
        )
    return phases


def _gennape_or_none() -> Any:
    from archpred.errors import ArchpredError
    from archpred.gennape.model import load_gennape

    try:
        return load_gennape(None, device="cpu")
    except (ArchpredError, OSError):
        return None


# -- projections -------------------------------------------------------------------------------
@contextlib.contextmanager
def temporary_cache_dir() -> Iterator[Path]:
    """``$ARCHPRED_CACHE_DIR`` pointed at a new empty folder for the block, then restored."""
    old = os.environ.get("ARCHPRED_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="archpred-bench-cache-") as tmp:
        os.environ["ARCHPRED_CACHE_DIR"] = tmp
        try:
            yield Path(tmp)
        finally:
            if old is None:
                os.environ.pop("ARCHPRED_CACHE_DIR", None)
            else:
                os.environ["ARCHPRED_CACHE_DIR"] = old


def _empty_except_embeddings(root: Path) -> None:
    """Delete every cached file under ``root`` but the embeddings (a projection's "first")."""
    for path in list(root.rglob("*")):
        if path.is_file() and "embeddings" not in path.relative_to(root).parts:
            path.unlink()


def time_projections(
    kind: str, bench_name: str, n_rows: int, methods: tuple[str, ...], runs: int, device: str = "cpu"
) -> dict[str, Any]:
    """Embeddings of every cell (disk and memory caches emptied each run), then each projection
    of the map's ``n_rows`` cells: first (cache emptied) and cached, ``runs`` times each."""
    from archpred.app import cache, latent

    with temporary_cache_dir() as root:
        bench = cache.benchmark(bench_name)
        tag = cache.vae_tag(kind, bench.space.name)
        rows = latent.shown_rows(len(bench), n_rows)
        embed = []
        for i in range(runs):
            shutil.rmtree(root / "app", ignore_errors=True)
            cache.embeddings.clear()
            start = time.perf_counter()
            cache.embeddings(kind, bench_name, tag, device)
            embed.append(time.perf_counter() - start)
            print(f"embeddings {i + 1}/{runs}: {embed[-1]:.1f}s", flush=True)
        project, via = _projector(kind, bench_name, tag, rows, device, root)
        out = {"kind": kind, "bench": bench_name, "cells": len(bench), "rows": len(rows), "via": via}
        out["embeddings"] = {"seconds": embed, **summary(embed)}
        out["methods"] = {method: _time_method(project, method, runs, root) for method in methods}
    return out


def _time_method(project: Callable[[str], Any], method: str, runs: int, root: Path) -> dict[str, Any]:
    """``runs`` times: the projection with its cache emptied, then again from the cache."""
    from archpred.app import cache

    first, cached = [], []
    for i in range(runs):
        _empty_except_embeddings(root)
        if hasattr(cache.projection, "clear"):  # a memory cache around it, if it has one
            cache.projection.clear()
        start = time.perf_counter()
        project(method)
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        project(method)
        cached.append(time.perf_counter() - start)
        print(f"{method} {i + 1}/{runs}: first {first[-1]:.2f}s, cached {cached[-1] * 1000:.1f}ms", flush=True)
    return {
        "first": first,
        "cached": cached,
        "first_in_process": first[0],
        "first_later": summary(first[1:] or first),
        "cached_summary": summary(cached),
    }


def _projector(
    kind: str, bench_name: str, tag: str, rows: np.ndarray, device: str, root: Path
) -> tuple[Callable[[str], Any], str]:
    """``method -> projection`` through ``cache.projection`` when its signature takes
    ``(kind, bench, method, tag, rows, device)``; else the projection itself plus its ``.npy``
    round trip (the same work, timed without the app's cache)."""
    from archpred.app import cache
    from archpred.vae.projection import project

    try:
        inspect.signature(cache.projection).bind(kind, bench_name, "PCA", tag, rows, device)
    except TypeError:
        x = cache.embeddings(kind, bench_name, tag, device)[rows]

        def direct(method: str) -> np.ndarray:
            path = root / "direct" / f"{method}.npy"
            if path.exists():
                return np.load(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            xy = project(x, method)
            np.save(path, xy)
            return xy

        return direct, "archpred.vae.projection.project + np.save/np.load"
    return (
        lambda method: cache.projection(kind, bench_name, method, tag, rows, device),
        "archpred.app.cache.projection",
    )


# -- report ------------------------------------------------------------------------------------
def write_report(results: dict[str, Any], out: Path) -> None:
    """``out`` (Markdown) and the JSON beside it, each written atomically."""
    from archpred.artifacts import atomic_write_text
    from archpred.bench.app_report import render

    out = Path(out)
    atomic_write_text(out.with_suffix(".json"), json.dumps(results, indent=1, default=str) + "\n")
    atomic_write_text(out, render(results))
