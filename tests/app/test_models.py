"""AppTest: the Models page trains a tiny predictor with a progress bar, shows the scatter and
metrics, and lists saved models; the cell editor's predictions panel uses them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from archpred.app import jobs, models_page
from archpred.app.text import fmt_number, md_escape
from archpred.predictors import make_predictor
from archpred.predictors.store import read_header, saved_models, user_dir
from tests.conftest import ROOT, needs_data

PAGE = str(ROOT / "pages" / "models.py")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120).run()


def test_page_loads():
    at = page()
    assert not at.exception
    assert at.selectbox(key="models_space").value == "nb201"


def test_train_tiny_random_forest_and_list_it():
    at = page()
    at.selectbox(key="models_name").select("random-forest").run()
    at.number_input(key="models_train_size").set_value(50)
    at.number_input(key="models_test_size").set_value(200)
    at.number_input(key="models_trees").set_value(5)
    at.text_input(key="models_save_name").input("apptest-rf").run()
    at.button(key="models_train").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["models_result"]
    assert result["y_pred"].shape == (200,) and "kendall_tau" in result["metrics"]
    [saved] = [s for s in saved_models("nb201") if s.path.stem == "apptest-rf"]
    assert saved.held_out_tau == round(result["metrics"]["kendall_tau"], 5)  # its model card
    assert saved.card["train_size"] == 50 and saved.card["test_size"] == 200
    listed = [set(d.value["model"]) for d in at.dataframe if "model" in d.value]
    assert any("apptest-rf" in models for models in listed)  # the cached listing refreshed on save
    at.selectbox(key="models_eval_choice").select("apptest-rf").run()
    at.button(key="models_eval").click().run()
    assert not at.exception and not at.error
    assert at.session_state["models_eval_result"][0] == "apptest-rf"


def test_train_tiny_mlp_with_progress():
    at = page()
    at.selectbox(key="models_name").select("mlp").run()
    at.number_input(key="models_train_size").set_value(40)
    at.number_input(key="models_test_size").set_value(100)
    at.number_input(key="models_steps").set_value(10)  # the default budget is in optimiser steps
    at.text_input(key="models_save_name").input("apptest-mlp").run()
    at.button(key="models_train").click().run()
    assert not at.exception and not at.error
    assert np.all(np.isfinite(at.session_state["models_result"]["y_pred"]))


def test_bad_model_name_is_an_inline_error():
    at = page()
    at.selectbox(key="models_name").select("random-forest").run()
    at.text_input(key="models_save_name").input("../escape").run()
    at.button(key="models_train").click().run()
    assert not at.exception
    assert any("model name" in e.value for e in at.error)


def _fitted_forest():
    from archpred.spaces import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(20)]
    return make_predictor("random-forest", n_estimators=3).fit(archs, rng.uniform(0.5, 0.9, 20)), archs


def test_predictions_panel_reports_a_corrupt_predictor_file():
    """A file with a predictor header but a broken body is listed, fails to load, and is
    reported as a problem while the good models still predict; a file that is not a
    predictor at all is not listed (and so not a problem)."""
    from archpred.app.panels.predictions import predictions_table

    # the files share the session cache with other tests (a broken one would be their problem):
    # removed afterwards whatever happens
    files = [user_dir(create=True) / n for n in ("nb201-panel-rf.pt", "nb201-broken-body.pt", "nb201-garbage.pt")]
    try:
        model, archs = _fitted_forest()
        model.save(user_dir(create=True) / "nb201-panel-rf.pt")
        header = {"format": "archpred-predictor", "version": 1, "name": "random-forest", "space": "nb201"}
        torch.save({**header, "seed": 0, "config": "{}", "state": {}}, user_dir() / "nb201-broken-body.pt")
        (user_dir() / "nb201-garbage.pt").write_bytes(b"garbage")
        table, problems = predictions_table("nb201", archs[0])
        assert "nb201-panel-rf" in set(table["model"])
        assert np.isfinite(table["predicted"]).all()
        assert "nb201-broken-body" not in set(table["model"])
        assert any(p.startswith("nb201-broken-body.pt: ") and "corrupt" in p for p in problems), problems
        assert not any("garbage" in p for p in problems)
    finally:
        for f in files:
            f.unlink(missing_ok=True)


def test_read_header_is_lazy_and_strict(tmp_path):
    model, _ = _fitted_forest()
    path = model.save(tmp_path / "m.pt")
    assert read_header(path) == ("random-forest", "nb201", {})
    path = model.save(tmp_path / "m.pt", card={"held_out": {"kendall_tau": 0.5}})
    assert read_header(path)[2] == {"held_out": {"kendall_tau": 0.5}}
    (tmp_path / "g.pt").write_bytes(b"garbage")
    torch.save({"format": "something-else", "name": "x", "space": "nb201"}, tmp_path / "f.pt")
    torch.save([1, 2, 3], tmp_path / "l.pt")
    assert read_header(tmp_path / "g.pt") is None
    assert read_header(tmp_path / "f.pt") is None
    assert read_header(tmp_path / "l.pt") is None


def test_saved_model_listing_is_cached_until_a_file_changes(monkeypatch):
    from archpred.app import cache
    from archpred.predictors import store

    calls = []
    real = store.read_header
    monkeypatch.setattr(store, "read_header", lambda path: calls.append(path) or real(path))
    first = cache.saved_models()
    read = len(calls)
    assert cache.saved_models() == first and len(calls) == read  # a rerun reads no header
    model, _ = _fitted_forest()
    model.save(user_dir(create=True) / "nb201-listing-new.pt")
    assert any(s.path.stem == "nb201-listing-new" for s in cache.saved_models())
    assert len(calls) > read


@pytest.mark.parametrize("space", ["nb201"])
def test_cell_editor_shows_predictions(space):
    at = AppTest.from_file(str(ROOT / "pages" / "cell_editor.py"), default_timeout=120).run()
    at.selectbox(key="editor_space").select(space).run()
    assert not at.exception
    assert any("Predicted accuracy" in h.value for h in at.subheader)


def test_save_name_follows_the_settings_until_edited():
    at = page()
    assert at.text_input(key="models_save_name").value == "nb201-gnn-n1000-s0"
    at.selectbox(key="models_name").select("random-forest").run()
    at.number_input(key="models_seed").set_value(3).run()
    assert at.text_input(key="models_save_name").value == "nb201-random-forest-n1000-s3"
    at.text_input(key="models_save_name").input("my-forest").run()
    at.number_input(key="models_seed").set_value(4).run()
    assert at.text_input(key="models_save_name").value == "my-forest"  # the user's name stays


def _train_forest(at: AppTest, name: str) -> None:
    at.selectbox(key="models_name").select("random-forest").run()
    at.number_input(key="models_train_size").set_value(50)
    at.number_input(key="models_test_size").set_value(100)
    at.number_input(key="models_trees").set_value(3)
    at.text_input(key="models_save_name").input(name).run()
    at.button(key="models_train").click().run()


def test_an_existing_name_is_never_overwritten_silently():
    at = page()
    _train_forest(at, "apptest-dup")
    assert not at.error
    path = user_dir() / "apptest-dup.pt"
    before = path.stat().st_mtime_ns
    at = page()
    _train_forest(at, "apptest-dup")
    # the name quoted literally (md_escape: its '-' and any '_' or '.' are not Markdown)
    assert [w.value for w in at.warning] == ["A saved model is already named apptest\\-dup."]
    assert [e.value for e in at.error] == [
        md_escape("a saved model is already named apptest-dup: tick 'Replace it' or choose another name")
    ]
    assert path.stat().st_mtime_ns == before  # not replaced
    at.checkbox(key="models_replace").check().run()
    at.button(key="models_train").click().run()
    assert not at.error
    assert path.stat().st_mtime_ns != before  # replaced, because the user asked


# -- every space with labels (#16 item 6) -------------------------------------------------------
def test_every_labelled_space_is_offered_nb201_first():
    at = page()
    offered = {option.removesuffix(" (no data)") for option in at.selectbox(key="models_space").options}
    assert offered == {"nb201", "nb101", "enas", "macro"}
    assert at.selectbox(key="models_space").value == "nb201"


@needs_data("macro")
def test_train_a_tiny_forest_on_macro():
    at = page()
    at.selectbox(key="models_space").select("macro").run()
    assert not at.info, [i.value for i in at.info]
    _train_forest(at, "apptest-macro-rf")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(s.path.stem == "apptest-macro-rf" for s in saved_models("macro"))


def test_fresh_machine_offers_absent_spaces_with_one_line_reason(fresh_machine):
    """Without the shared data NB-201 opens and trains; Macro is listed as ``macro (no data)``,
    and choosing it says why in one line instead of a form that cannot train, while the Saved
    models tab (with the shipped models) still renders."""
    from archpred.app import cache

    cache.clear_benchmarks()  # tables loaded by earlier tests (with the data) are cached per process
    at = page()
    box = at.selectbox(key="models_space")
    assert box.value == "nb201"
    assert "macro (no data)" in box.options and "nb101 (no data)" in box.options
    box.select("macro").run()
    assert not at.exception and not at.error
    assert len(at.info) == 1 and at.info[0].value.startswith("No data for macro on this machine")
    assert "nas\\-bench\\-macro" in at.info[0].value and "\n" not in at.info[0].value
    assert not _has_button(at, "models_train")
    assert _has_button(at, "models_eval")  # the Saved models tab is still there


def _has_button(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


# -- Stop (#16 item 2) ---------------------------------------------------------------------------
def test_a_stopped_training_run_is_reported_once():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[jobs.JOBS_KEY] = {
        models_page.JOB: jobs.Job(name=models_page.JOB, label="Training nb201\\-gnn", total=100, done=73)
    }
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Training nb201\\-gnn was stopped at epoch 73/100: nothing was saved."]
    at.run()
    assert not at.warning  # said once


class FakeStop(BaseException):
    """Stands in for Streamlit's StopException (a BaseException raised inside an epoch)."""


def test_training_is_marked_while_it_runs_so_a_stop_is_remembered(monkeypatch):
    """``train_and_save`` wraps training in ``jobs.running``: a BaseException from the epoch
    callback leaves the marker at the epoch reached, and nothing is saved."""
    import streamlit as st

    from archpred.app import cache

    st.session_state.pop(jobs.JOBS_KEY, None)

    def stopping_fit(bench, name, config, train_rows, test_rows, seed, device="auto", callbacks=()):
        for epoch in range(3):
            callbacks[0](epoch, {"loss": 0.1})
        raise FakeStop

    monkeypatch.setattr(models_page, "train_and_score", stopping_fit)
    bench = cache.benchmark("nb201")
    with pytest.raises(FakeStop):
        models_page.train_and_save(bench, "nb201", "mlp", {"epochs": 10}, (50, 50), 0, "apptest-stop", "cpu")
    job = jobs.stopped(models_page.JOB)
    assert job is not None and (job.done, job.total) == (3, 10)
    assert job.stopped_message() == "Training apptest\\-stop was stopped at epoch 3/10: nothing was saved."
    assert not (user_dir() / "apptest-stop.pt").exists()


def test_stop_in_the_app_then_the_next_run_says_so(monkeypatch):
    """End to end: Streamlit's own StopException inside an epoch; the next run shows the
    warning and no progress bar at the old epoch."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    def stopping_fit(bench, name, config, train_rows, test_rows, seed, device="auto", callbacks=()):
        for epoch in range(4):
            callbacks[0](epoch, {"loss": 0.1})
        raise StopException

    monkeypatch.setattr(models_page, "train_and_score", stopping_fit)
    at = page()
    at.selectbox(key="models_name").select("lstm").run()  # a predictor trained by epochs
    at.number_input(key="models_epochs").set_value(20)
    at.text_input(key="models_save_name").input("apptest-stopped").run()
    at.button(key="models_train").click().run()
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Training apptest\\-stopped was stopped at epoch 4/20: nothing was saved."]
    assert not at.get("progress")
    assert not (user_dir() / "apptest-stopped.pt").exists()


# -- numbers for people, charts that save SVG (#16 polish) --------------------------------------
METRICS = {"rmse": 0.0123456789, "mae": 0.00987654321, "spearman": 0.812345678, "kendall_tau": 0.6234567891}


def plotly_configs(at: AppTest) -> dict[str, dict]:
    """The plotly config of every chart on the page, by the chart's key."""
    import json

    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.config or "{}") for c in at.get("plotly_chart")}


def column_formats(frame_element) -> dict[str, str | None]:
    import json

    columns = json.loads(frame_element.proto.columns)
    return {name: c.get("type_config", {}).get("format") for name, c in columns.items() if name != "_index"}


def test_results_read_for_people_and_save_svg(tmp_path):
    """A training result and an evaluation: headline metrics through fmt_number, the metrics
    table numeric with 4 significant digits, the saved path quoted literally, both scatters with
    the SVG camera button, the saved-models table's sizes to one decimal."""
    rng = np.random.default_rng(0)
    y_true = rng.uniform(0.8, 0.95, 50)
    path = str(tmp_path / "nb201_rf.v1.pt")
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[models_page.RESULT] = {
        "title": "t",
        "y_true": y_true,
        "y_pred": y_true + 0.01,
        "metrics": METRICS,
        "path": path,
    }
    at.session_state[models_page.EVAL_RESULT] = ("shipped", y_true, y_true - 0.01, METRICS)
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {k: fmt_number(v) for k, v in METRICS.items()}
    assert [s.value for s in at.success] == [f"Saved {md_escape(path)}"]
    metric_tables = [d for d in at.dataframe if "metric" in d.value]
    assert len(metric_tables) == 2
    for table in metric_tables:
        assert table.value["value"].dtype.kind == "f"  # numbers, so sorting by value works
        assert column_formats(table)["value"] == "%.4g"
    saved = next(d for d in at.dataframe if "size (KB)" in d.value)
    assert column_formats(saved)["size (KB)"] == "%.1f"
    configs = plotly_configs(at)
    assert set(configs) >= {"models_scatter", "models_eval_scatter"}
    assert all(c.get("toImageButtonOptions", {}).get("format") == "svg" for c in configs.values())


def test_predictions_panel_lists_the_best_held_out_model_first():
    from archpred.app.panels.predictions import predictions_table

    files = [user_dir(create=True) / f"nb201-card-{n}.pt" for n in ("weak", "strong", "nocard")]
    try:
        model, archs = _fitted_forest()
        model.save(files[0], card={"held_out": {"kendall_tau": 0.31}})
        model.save(files[1], card={"held_out": {"kendall_tau": 0.97}})  # above any shipped model's
        model.save(files[2], card={})
        table, _ = predictions_table("nb201", archs[0])
        ours = table[table["model"].str.startswith("nb201-card-")]
        assert list(ours["model"]) == ["nb201-card-strong", "nb201-card-weak", "nb201-card-nocard"]
        assert table["model"].iloc[0] == "nb201-card-strong"
        assert ours["held-out tau"].iloc[0] == 0.97 and np.isnan(ours["held-out tau"].iloc[2])
    finally:
        for f in files:
            f.unlink(missing_ok=True)


def test_self_training_options_reach_the_fit(monkeypatch):
    """Its own widgets (unlabelled cells, student steps), and a progress total over teachers and student."""
    seen = {}

    def recording_fit(bench, name, config, train_rows, test_rows, seed, device="auto", callbacks=()):
        seen.update(name=name, config=config, total=models_page.epochs_in_total(name, config, len(train_rows)))
        raise models_page.InvalidOption("recorded")

    monkeypatch.setattr(models_page, "train_and_score", recording_fit)
    at = page()
    at.selectbox(key="models_name").select("self-training").run()
    at.number_input(key="models_train_size").set_value(100)
    at.number_input(key="models_unlabelled").set_value(900)
    at.number_input(key="models_student_steps").set_value(1000)
    at.button(key="models_train").click().run()
    assert not at.exception
    assert seen["config"] == {"unlabelled": 900, "student_steps": 1000}
    # teachers: 2,500 steps of batch 32 over 100 cells (4 batches an epoch) each; student: 1,000 over 1,000
    assert seen["total"] == 625 + 625 + 32
    assert any("recorded" in e.value for e in at.error)
