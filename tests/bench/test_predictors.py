"""``bench predictors``: a smoke run writes the JSON and the markdown, and resumes."""

from __future__ import annotations

import json

import pytest

from archpred.bench.predictor_protocols import PAPER
from archpred.bench.predictor_report import render_markdown
from archpred.cli import main
from archpred.errors import DataNotFound


@pytest.mark.usefixtures("nb101_data")
def test_smoke_run_writes_and_resumes(tmp_path, capsys):
    out = tmp_path / "report"
    args = ["bench", "predictors", "--out", str(out), "--protocols", "np172", "--np-splits", "1", "--profile", "smoke"]
    try:
        assert main(args) == 0
    except DataNotFound as err:  # pragma: no cover
        pytest.skip(str(err))
    report = json.loads(out.with_suffix(".json").read_text())
    assert set(report["results"]) == {"np172/one-stage/s0", "np172/two-stage/s0"}
    two = report["results"]["np172/two-stage/s0"]
    assert two["n_train"] == 172 and "mse_above_threshold" in two and two["fit_s"] > 0
    md = out.with_suffix(".md").read_text()
    assert "one- vs two-stage" in md and "bench predictors" in md
    capsys.readouterr()
    assert main(args) == 0  # everything cached: no new fit is printed
    assert "np172/" not in capsys.readouterr().err


def test_unknown_protocol_and_variant(tmp_path):
    assert main(["bench", "predictors", "--out", str(tmp_path / "r"), "--protocols", "nope"]) == 2
    assert main(["bench", "predictors", "--out", str(tmp_path / "r"), "--protocols", "split", "--predictors", "x"]) == 2


def test_markdown_tables_from_records():
    rec = {
        "space": "nb201",
        "variant": "gnn",
        "predictor": "gnn",
        "config": {"epochs": 5},
        "seed": 0,
        "n_train": 78,
        "n_test": 100,
        "fit_s": 1.0,
        "predict_per_s": 1000.0,
        "rmse": 0.1,
        "mse": 0.01,
        "mae": 0.05,
        "kendall_tau": 0.5,
        "spearman": 0.6,
        "pearson": 0.7,
    }
    results = {f"sizes/nb201/78/gnn/s{s}": {**rec, "seed": s, "kendall_tau": 0.5 + s / 100} for s in range(3)}
    results["split/nb101/gnn/s0"] = {**rec, "space": "nb101"}
    md = render_markdown({"commands": ["python -m archpred bench predictors"], "meta": {}, "results": results})
    assert "0.510 ± 0.008 (n=3)" in md
    assert f"*{PAPER['sizes_tau']['nb201']['PINAT'][0]:.3f}*" in md
    assert "70/20/10" in md and "**0.510**" in md


def test_config_rejects_unknown_names():
    from archpred.bench.predictors import PredictorsBenchConfig

    with pytest.raises(ValueError, match="unknown protocol"):
        PredictorsBenchConfig(protocols=("split", "nope"))
    with pytest.raises(ValueError, match="unknown predictor variant"):
        PredictorsBenchConfig(predictors=("gnn", "gnn-d9"))
    with pytest.raises(ValueError, match="unknown size-sweep space"):
        PredictorsBenchConfig(spaces=("enas",))


def test_protocols_list_their_fits_without_training():
    """The protocol tables decide the fits; keys are stable so a rerun resumes."""
    from types import SimpleNamespace

    import numpy as np

    from archpred.bench.predictor_protocols import BASE, SIZES, TRICK_SIZES
    from archpred.bench.predictors import PredictorsBenchConfig, _fits

    class Bench:  # only what the protocols read: the length and each cell's size
        def __init__(self, n: int):
            vertices = np.random.default_rng(0).integers(2, 8, n)
            self.archs = [SimpleNamespace(num_vertices=int(v)) for v in vertices]

        def __len__(self) -> int:
            return len(self.archs)

    load = {"nb101": Bench(20_001), "nb201": Bench(15_625)}.__getitem__
    config = PredictorsBenchConfig(protocols=("split", "np172", "sizes", "tricks"), seeds=2, np_splits=3)
    fits = list(_fits(config, load))
    keys = [f.key for f in fits]
    assert keys[0] == "split/nb101/random-forest-wd/s0" and len(set(keys[: len(BASE)])) == len(BASE)
    assert sum(k.startswith("np172/") for k in keys) == 3 * 2
    n_sizes = sum(len(SIZES[s]) for s in ("nb201", "nb101")) * 2 * len(BASE)
    assert sum(k.startswith("sizes/") for k in keys) >= n_sizes
    two_stage = next(f for f in fits if f.key == "np172/two-stage/s1")
    assert (
        two_stage.extra == {"threshold": 0.91, "loss": "mse"}
        and len(two_stage.train) == 172
        and two_stage.report_above == 0.91
    )
    trick = next(f for f in fits if f.key.startswith(f"sizes/nb201/{TRICK_SIZES['nb201']}/gnn+rank/"))
    sweep = next(f for f in fits if f.key == f"sizes/nb201/{TRICK_SIZES['nb201']}/gnn/s{trick.seed}")
    np.testing.assert_array_equal(trick.train, sweep.train)  # tricks reuse the sweep's splits


def test_report_states_the_machine_the_run_recorded():
    rec = {"variant": "gnn", "fit_s": 2.0, "n_train": 100, "predict_per_s": 10.0}
    results = {"sizes/nb201/78/gnn/s0": {**rec, "seed": 0, "kendall_tau": 0.5, "spearman": 0.6}}
    gpu = {"device": "cuda", "gpu": "NVIDIA H200", "threads": 4, "cpu_count": 16, "python": "3.11", "torch": "2.13.0"}
    md = render_markdown({"meta": gpu, "results": results})
    assert "Fits ran on the GPU NVIDIA H200" in md and "(GPU)" in md and "torch 2.13.0" in md
    assert "16 CPUs, 4 torch thread(s)" in md
    cpu = {"device": "cpu", "threads": 1, "cpu_count": 2, "python": "3.11"}
    md = render_markdown({"meta": cpu, "results": results})
    assert "Every fit ran on the CPU" in md and "(CPU)" in md
    for claim in ("No GPU was available", "4 developers", "lack of CPU time", "not available to this run"):
        assert claim not in md


def test_select_folds_stay_inside_seed_zeros_training_set():
    import numpy as np

    from archpred.bench import predictor_protocols as protocols

    class Table:  # the protocol needs only the table's length
        def __len__(self):
            return 15_625

    fits = list(protocols.select_fits(lambda space: Table(), ("nb201",), ("mlp-steps",)))
    pool = set(np.random.default_rng(1000).permutation(15_625)[: protocols.SELECT_SIZE["nb201"]].tolist())
    sizes_fit = next(protocols.sizes_fits(lambda space: Table(), ("nb201",), 1, ("mlp-steps",)))
    assert len(fits) == protocols.SELECT_FOLDS and set(sizes_fit.train.tolist()) <= pool
    held = [set(f.test.tolist()) for f in fits]
    assert set().union(*held) == pool and sum(map(len, held)) == len(pool)  # the folds partition the pool
    for fit in fits:
        assert set(fit.train.tolist()) | set(fit.test.tolist()) == pool and not set(fit.train) & set(fit.test)


def test_select_winner_is_the_best_mean_over_spaces(tmp_path):
    from archpred.bench.predictor_protocols import SELECT_FOLDS
    from archpred.bench.predictor_report import _select_section, plot_learning_curves, select_winners

    def records(variant, space, tau):
        return {f"select/{space}/{variant}/f{f}": {"kendall_tau": tau} for f in range(SELECT_FOLDS)}

    res = {
        **records("gnn-d64-steps", "nb201", 0.70),
        **records("gnn-d64-steps", "nb101", 0.60),
        **records("gnn-d64-steps-es", "nb201", 0.68),
        **records("gnn-d64-steps-es", "nb101", 0.66),  # better mean: the winner
        **records("mlp-steps", "nb201", 0.9),  # measured on one space only: not eligible
        "sizes/nb201/78/gnn-d64-steps-es/s0": {"kendall_tau": 0.6, "spearman": 0.8},
        "sizes/nb201/156/gnn-d64-steps-es/s0": {"kendall_tau": 0.7, "spearman": 0.85},
    }
    assert select_winners(res) == {"gnn": "gnn-d64-steps-es"}
    md = "\n".join(_select_section(res))
    assert "| gnn-d64-steps-es | 0.680 | 0.660 | 0.670 | **yes** |" in md and "predictors_curves.png" in md
    png = plot_learning_curves(res, tmp_path / "curves.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_self_training_is_set_beside_the_gnn_default_paired_by_seed():
    from archpred.bench.predictor_protocols import SELECT_FOLDS
    from archpred.bench.predictor_report import _self_training_section

    # the GNN's default is its select winner: its only candidate measured here
    folds = range(SELECT_FOLDS)
    res = {f"select/{sp}/gnn-d64-steps-rank/f{f}": {"kendall_tau": 0.7} for sp in ("nb201", "nb101") for f in folds}
    for seed, (ours, base) in enumerate([(0.70, 0.65), (0.72, 0.66)]):
        res[f"sizes/nb101/100/self-training/s{seed}"] = {"kendall_tau": ours, "seed": seed}
        res[f"sizes/nb101/100/gnn-d64-steps-rank/s{seed}"] = {"kendall_tau": base, "seed": seed}
    res["sizes/nb101/100/gnn-d64-steps-rank/s2"] = {"kendall_tau": 0.9, "seed": 2}  # unpaired: not in the delta
    md = "\n".join(_self_training_section(res))
    assert "| nb101 | 100 | 0.710 ± 0.010 (n=2) | 0.737 ± 0.116 (n=3) | +0.055 (n=2) |" in md
    assert "| nb201 |" not in md  # no self-training fits there
    assert _self_training_section({}) == []


def test_each_predictors_default_is_the_configuration_its_cross_validation_chose():
    """``make_predictor(name)`` is the candidate the committed report's ``select`` protocol chose."""
    import dataclasses

    from archpred.bench.predictor_protocols import SELECT_CANDIDATES, VARIANTS
    from archpred.bench.predictor_report import select_winners
    from archpred.predictors import predictor_class
    from tests.conftest import ROOT

    report = json.loads((ROOT / "reports" / "predictors.json").read_text())
    winners = select_winners(report["results"])
    assert set(winners) == set(SELECT_CANDIDATES) == {"gnn", "neural-predictor", "mlp", "self-training"}
    for predictor, variant in winners.items():
        name, config = VARIANTS[variant]
        defaults = {f.name: f.default for f in dataclasses.fields(predictor_class(name).Config)}
        assert name == predictor and {k: defaults[k] for k in config} == config, (variant, defaults)


def test_the_recommended_predictor_is_the_best_cross_validated_default():
    import numpy as np

    from archpred.bench.predictor_report import select_scores, select_winners
    from archpred.predictors import RECOMMENDED
    from tests.conftest import ROOT

    res = json.loads((ROOT / "reports" / "predictors.json").read_text())["results"]
    scores = select_scores(res)
    means = {p: np.mean(list(scores[v].values())) for p, v in select_winners(res).items()}
    assert max(means, key=means.get) == RECOMMENDED, means


def test_nb201_size_sweep_also_scores_pinats_protocol(tmp_path):
    out = tmp_path / "report"
    args = ["bench", "predictors", "--out", str(out), "--protocols", "sizes", "--spaces", "nb201", "--seeds", "1"]
    assert main([*args, "--predictors", "random-forest-onehot", "--profile", "smoke"]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    record = report["results"]["sizes/nb201/78/random-forest-onehot/s0"]
    assert record["n_test"] == 15_625 - 78
    assert record["all_cells"]["n"] == 15_625 and record["all_cells"]["metric"] == "test_acc_cifar10"
    assert -1 <= record["all_cells"]["kendall_tau"] <= 1
    assert "Kendall tau, PINAT's protocol: NB201" in out.with_suffix(".md").read_text()


@pytest.mark.usefixtures("nb101_data")
def test_a_resumable_variant_checkpoints_and_cleans_up(tmp_path, monkeypatch):
    from archpred.bench import predictor_protocols, predictors

    variant = ("mlp", {"hidden": [8], "epochs": 2, "batch_size": 256, "_resumable": True})
    monkeypatch.setitem(predictor_protocols.VARIANTS, "tiny-resumable", variant)
    folders = []
    real = predictors.fit_folder
    monkeypatch.setattr(predictors, "fit_folder", lambda fit: folders.append(real(fit)) or folders[-1])
    out = tmp_path / "report"
    assert (
        main(["bench", "predictors", "--out", str(out), "--protocols", "split", "--predictors", "tiny-resumable"]) == 0
    )
    record = json.loads(out.with_suffix(".json").read_text())["results"]["split/nb101/tiny-resumable/s0"]
    assert record["resumable"] and "_resumable" not in record["config"]
    assert folders and not folders[0].exists()  # the checkpoints went once the record was saved


def test_two_runs_sharing_a_report_keep_each_others_fits(tmp_path):
    from archpred.bench.predictors import PredictorsBenchConfig, _Harness

    rec = {"space": "nb201", "variant": "mlp", "predictor": "mlp", "config": {}, "seed": 0, "n_train": 78}
    rec |= {"n_test": 9, "fit_s": 1.0, "predict_per_s": 1.0, "rmse": 0.1, "mse": 0.01, "mae": 0.1}
    rec |= {"kendall_tau": 0.5, "spearman": 0.6, "pearson": 0.7}
    out = tmp_path / "report"
    first = _Harness(PredictorsBenchConfig(out=str(out), command="first"))
    second = _Harness(PredictorsBenchConfig(out=str(out), command="second"))  # started before first saved
    first.report["results"]["sizes/nb201/78/mlp/s0"] = {**rec, "seed": 0, "kendall_tau": 0.5}
    first.save()
    second.report["results"]["sizes/nb201/78/mlp/s1"] = {**rec, "seed": 1, "kendall_tau": 0.6}
    second.save()
    report = json.loads(out.with_suffix(".json").read_text())
    assert set(report["results"]) == {"sizes/nb201/78/mlp/s0", "sizes/nb201/78/mlp/s1"}
    assert report["commands"] == ["first", "second"]
    fresh = _Harness(PredictorsBenchConfig(out=str(out), command="third", fresh=True))
    fresh.report["results"]["sizes/nb201/78/mlp/s2"] = {**rec, "seed": 2, "kendall_tau": 0.7}
    fresh.save()  # a fresh run starts over: the old fits go
    assert set(json.loads(out.with_suffix(".json").read_text())["results"]) == {"sizes/nb201/78/mlp/s2"}
