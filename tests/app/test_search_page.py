"""AppTest: the Search page launches runs in the background, watches, stops, resumes, compares,
and opens a found cell in the cell editor; everything read back from the run store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from archpred.app import search as search_page
from archpred.app import state
from archpred.search import Evaluation, run_search
from archpred.search.store import RunStore
from archpred.spaces import get_space
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "search.py")
LONG = 3000  # a random search this long runs ~20 s here: long enough to stop mid-run


def page(store) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.text_input(key="search_store").input(str(store)).run()
    assert not at.exception, at.exception
    return at


def record(store, run_id: int = 1):
    with RunStore(store) as db:
        return db.run(run_id)


def wait_for(store, done, run_id: int = 1, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = record(store, run_id)
        if done(found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} is {found.status} at {found.progress}/{found.budget} after {timeout} s")


def headline(at: AppTest, run_id: int = 1) -> str:
    return next(m.value for m in at.markdown if m.value.startswith(f"**Run {run_id}**"))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def runs_widget(at: AppTest):
    return next(m for m in at.multiselect if m.label == "Runs to show")


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_launch_a_tiny_run_and_watch_it_finish_and_survive_a_reload(tmp_path):
    store = tmp_path / "runs.db"
    at = page(store)
    assert any("No runs" in i.value for i in at.info)
    at.selectbox(key="search_algorithm").select("random").run()
    at.number_input(key="search_budget").set_value(5).run()
    at.button(key="search_launch").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(s.value.startswith("Launched run 1") for s in at.success)
    wait_for(store, lambda r: r.status == "finished")
    at.run()
    assert headline(at).endswith("**finished**") and metrics(at)["Progress"] == "5/5"
    [trace] = charts(at)
    names = [t.get("name") for t in trace["data"]]
    assert "best so far (val)" in names and any(n.startswith("evaluation: ") for n in names)
    best_val = max(e.val_acc for e in run_search("nb201", "random", 5, 0).history)
    assert metrics(at)["Best val"] == search_page.fmt_number(best_val)
    assert len(at.dataframe[1].value) == 5  # the best cells: all five
    assert [b.proto.label for b in at.get("download_button")] == ["Evaluations (CSV)", "Run (JSON)"]

    again = page(store)  # a new session (a reload, an app restart): the run is in the store
    assert headline(again).endswith("**finished**") and not again.error


def test_stop_then_resume_with_a_larger_budget(tmp_path):
    store = tmp_path / "runs.db"
    at = page(store)
    at.selectbox(key="search_algorithm").select("random").run()
    at.number_input(key="search_budget").set_value(LONG).run()
    at.button(key="search_launch").click().run()
    wait_for(store, lambda r: r.progress >= 3)
    at.run()
    assert headline(at).endswith("**running**") and metrics(at)["ETA"] != "–"
    at.button(key="search_stop_1").click().run()
    stopped = record(store)
    assert stopped.status == "stopped" and stopped.progress < LONG
    assert headline(at).endswith("**stopped**") and any("is stopped" in i.value for i in at.info)
    assert any("interrupted" in c.value for c in at.code)  # the end of its process log says why

    budget = stopped.progress + 3
    at.number_input(key="search_resume_budget_1").set_value(budget).run()
    at.button(key="search_resume_1").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    wait_for(store, lambda r: r.status == "finished")
    at.run()
    assert headline(at).endswith("**finished**") and metrics(at)["Progress"] == f"{budget:,}/{budget:,}"


def test_a_failed_launch_is_one_inline_error(tmp_path):
    at = page(tmp_path / "runs.db")
    at.selectbox(key="search_algorithm").select("random").run()
    at.number_input(key="search_searcher_random_max_tries").set_value(0).run()
    at.button(key="search_launch").click().run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("Launch failed: max") and "\n" not in error.value


@pytest.mark.parametrize("bad", ["folder", "missing/runs.db", "foreign.db"])
def test_a_bad_store_path_is_an_inline_error(tmp_path, bad):
    (tmp_path / "folder").mkdir()
    db = sqlite3.connect(tmp_path / "foreign.db")
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()
    at = page(tmp_path / bad)
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("Run store: ")
    assert not at.button  # nothing to launch into


def test_a_killed_run_reads_killed_and_offers_resume(tmp_path):
    """A run whose process died without a word (its record says running) shows as killed."""
    store = tmp_path / "runs.db"
    run_search("nb201", "random", 4, 0, store=store)
    code = (
        "import sys, sqlite3\n"
        "from archpred.search.store import RunStore\n"
        "db = RunStore(sys.argv[1]); db.set_status(1, 'running')\n"  # then the process ends
    )
    subprocess.run([sys.executable, "-c", code, str(store)], check=True, cwd=ROOT, timeout=120)
    at = page(store)
    assert not at.exception
    assert headline(at).endswith("**killed**")
    assert any("ended without finishing" in w.value for w in at.warning)
    assert list(at.dataframe[0].value["status"]) == ["killed"]
    assert at.button(key="search_resume_1").label.startswith("Resume to ")


def test_open_a_best_cell_in_the_cell_editor(tmp_path, fresh_machine):
    """Through app.py (switch_page needs the navigation): a selected row of the best cells opens
    in the cell editor."""
    store = tmp_path / "runs.db"
    result = run_search("nb201", "evolution", 8, 1, store=store, options={"population_size": 4, "sample_size": 2})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/search.py").run()  # straight to the page (no Benchmarks first)
    at.text_input(key="search_store").input(str(store)).run()
    assert [t.value for t in at.title] == ["Search"] and not at.exception
    assert at.caption[-1].value.startswith("Select a row")
    at.session_state["search_top_1"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.button(key="search_open_1").click().run()
    assert not at.exception and [t.value for t in at.title] == ["Cell editor"]
    assert result.best.key in at.text_area(key=state.editor_text_key("nb201")).value


def fake_run(store, costs_accs: list[tuple[float, float]]) -> int:
    """A finished run whose evaluations carry ``params`` (as a multi-objective oracle adds)."""
    space = get_space("nb201")
    rng = __import__("numpy").random.default_rng(0)
    with RunStore(store) as db:
        run_id = db.create_run({"budget": len(costs_accs), "space": "nb201", "algorithm": "soft-pareto",
                                "dataset": "cifar10", "oracle": "table"}, 0, {}, {})  # fmt: skip
        seen = set()
        for i, (cost, acc) in enumerate(costs_accs):
            arch = space.sample(rng)
            while space.key(arch) in seen:
                arch = space.sample(rng)
            seen.add(space.key(arch))
            e = Evaluation(arch, space.key(arch), acc, acc, None, 1.0, 0.0, {"params": cost, "phase": "pareto"})
            db.add_evaluation(run_id, i, e, {})
        db.set_status(run_id, "finished")
    return run_id


def test_compare_runs_with_reference_bands_and_a_pareto_plot(tmp_path, monkeypatch):
    store = tmp_path / "runs.db"
    run_search("nb201", "random", 10, 0, store=store)
    run_search("nb201", "local", 10, 0, store=store)
    pareto = fake_run(store, [(3.0, 0.9), (1.0, 0.8), (2.0, 0.85), (2.5, 0.84), (1.0, 0.7)])
    band = {"queries": [1, 2, 3], "mean": [0.8, 0.85, 0.9], "lo": [0.7, 0.8, 0.85], "hi": [0.9, 0.9, 0.95]}
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps({"nb201/cifar10": {"metric": "test_acc", "random": {**band, "seeds": 50}}}))
    monkeypatch.setattr(search_page, "REFERENCE", reference)

    at = page(store)
    runs_widget(at).set_value([2, 1]).run()
    assert not at.exception
    compare, trace = charts(at)
    names = [t.get("name") for t in compare["data"]]
    assert names[:2] == ["random, harness (test acc. of the best by val., 50 seeds): range",
                         "random, harness (test acc. of the best by val., 50 seeds): mean"]  # fmt: skip
    assert [n.split(":")[0] for n in names[2:]] == ["Run 2", "Run 1"]
    assert "random, harness (test acc. of the best by val., 50 seeds): mean" in [t.get("name") for t in trace["data"]]

    runs_widget(at).set_value([pareto]).run()
    assert not at.exception
    trace, front = charts(at)
    [line] = [t for t in front["data"] if t["name"] == "Pareto front"]
    assert list(zip(line["x"], line["y"], strict=True)) == [(1.0, 0.8), (2.0, 0.85), (3.0, 0.9)]


def test_reference_bands_are_silent_when_absent_or_broken(tmp_path):
    assert search_page.reference("nb201", "cifar10", tmp_path / "none.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert search_page.reference("nb201", "cifar10", broken) == {}
    broken.write_text(json.dumps({"nb201/cifar10": {"random": {"queries": [1, 2], "mean": [0.5]}}}))
    assert search_page.reference("nb201", "cifar10", broken) == {}


def test_progress_helpers():
    assert search_page.seconds_per_evaluation([0.0, 1.0, 2.0, 500.0, 501.0]) == 1.0  # a resume gap ignored
    assert search_page.seconds_per_evaluation([5.0]) is None
    assert [search_page.fmt_duration(s) for s in (None, 4.4, 185, 7440)] == ["–", "4 s", "3 min 5 s", "2 h 4 min"]


def test_every_algorithm_and_oracle_gets_its_options(tmp_path):
    """Algorithms appear as they register (SEARCHERS), each with an input per option."""
    from archpred.search import SEARCHERS, searcher_options

    at = page(tmp_path / "runs.db")
    assert at.selectbox(key="search_algorithm").options == list(SEARCHERS)
    for algorithm in SEARCHERS:
        at.selectbox(key="search_algorithm").select(algorithm).run()
        assert not at.exception and not at.error, (algorithm, at.exception)
        keys = {w.key for w in [*at.number_input, *at.text_input, *at.checkbox]}
        wanted = {f"search_searcher_{algorithm}_{o}" for o in searcher_options(algorithm) if o != "device"}
        assert wanted <= keys, (algorithm, wanted - keys)
    for oracle in at.selectbox(key="search_oracle").options:
        at.selectbox(key="search_oracle").select(oracle).run()
        assert not at.exception and not at.error, (oracle, at.exception)
