"""bench cg-search on the tiny GENNAPE model: the best NB-201 cell is searched from, both networks
train on digits, the report lands with the paper's Table 7 beside it, and a rerun trains nothing."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from archpred.bench import cg_search as bench
from archpred.cli import main


def tiny_config(model, tmp_path, **kw) -> bench.CGSearchBenchConfig:
    settings = dict(
        model=model,
        starts=("nb201",),
        iterations=1,
        top_k=1,
        children=2,
        samples=6,
        fine_tune_epochs=1,
        train_seeds=1,
        train_epochs=1,
        train_width=4,
        workdir=tmp_path / "logs",
        out=tmp_path / "search.json",
        device="cpu",
    )
    return bench.CGSearchBenchConfig(**{**settings, **kw})


def test_search_train_report_and_a_rerun_that_trains_nothing(tiny_gennape_path, tmp_path, monkeypatch) -> None:
    config = tiny_config(tiny_gennape_path, tmp_path)
    data = bench.run_cg_search(config, log=lambda _: None)
    r = data["results"]["nb201"]
    assert r["networks_ranked"] == 3  # the start and its 2 mutants
    assert r["found"]["flops"] <= r["start"]["flops"]
    digits = r["digits"]
    assert len(digits["start"]) == len(digits["found"]) == 1 and 0.0 <= digits["found"][0] <= 1.0
    assert json.loads(config.out.read_text())["results"]["nb201"] == r
    text = config.out.with_suffix(".md").read_text()
    assert "NB201-Best" in text and "93.62" in text and "283 M" in text  # the paper's row beside ours
    assert len(list((tmp_path / "logs").glob("nb201-*.jsonl"))) == 1

    def refuse(*a, **k):
        raise AssertionError("a finished training ran again")

    monkeypatch.setattr(bench, "digits_accuracy", refuse)
    monkeypatch.setattr(bench, "ranking_model", refuse)
    assert bench.run_cg_search(config, log=lambda _: None)["results"]["nb201"] == r
    monkeypatch.undo()
    more = bench.run_cg_search(replace(config, train_seeds=2), log=lambda _: None)["results"]["nb201"]
    assert len(more["digits"]["start"]) == 2 and more["found"] == r["found"]  # its search: the log's
    assert len(list((tmp_path / "logs").glob("nb201-*.jsonl"))) == 1


def test_the_start_is_the_best_cell_of_the_table() -> None:
    arch, acc, metric = bench.start_cell("nb201")
    bench_, _, values = bench._family_table("nb201")
    assert acc == pytest.approx(float(values.max())) and bench_.space.key(arch) == bench_.keys[int(values.argmax())]


@pytest.mark.parametrize(
    "argv, words",
    [(["--starts", "enas"], "unknown start family enas"), (["--starts", ","], "(none)"), (["--iterations", "0"], "0")],
)
def test_bad_options_are_one_line_errors(argv, words, capsys) -> None:
    try:
        code = main(["bench", "cg-search", *argv])
    except SystemExit as exit_:  # argparse's own refusals
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and words in err.strip().splitlines()[-1] and "Traceback" not in err
