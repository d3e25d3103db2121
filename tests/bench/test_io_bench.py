"""``bench io`` on the shipped IO sample with tiny models: every section merged into the report
at once, the paper's numbers beside ours."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archpred.cli import main
from archpred.data.io_dataset import load_io_dataset, output_clusters, output_distances
from tests.conftest import IO_SAMPLE, needs_data, tiny_io_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("io-models")
    return {kind: tiny_io_model(kind, folder) for kind in ("io", "io-accuracy")}


def bench(models, out, *extra):
    return main([
        "bench", "io", "--data", str(IO_SAMPLE), "--io-model", str(models["io"]),
        "--accuracy-model", str(models["io-accuracy"]), "--out", str(out), "--device", "cpu", *extra,
    ])  # fmt: skip


def test_dataset_clusters_and_feature_errors(models, tmp_path):
    out = tmp_path / "io.json"
    assert bench(models, out, "--what", "dataset", "--what", "clusters", "--what", "features") == 0
    report = json.loads(out.read_text())
    data = load_io_dataset(IO_SAMPLE)
    assert report["io/dataset"]["networks"] == 8 and report["io/dataset"]["seen"] == 6
    assert sum(report["io/dataset"]["accuracy_histogram"]["counts"]) == 8
    assert report["io/dataset"]["accuracy_max"] == pytest.approx(data.accuracy.max())
    labels = output_clusters(data)
    assert report["io/clusters"]["clusters"] == len(np.unique(labels))
    assert sum(c["size"] for c in report["io/clusters"]["largest"]) == 8
    for name in ("test_unseen_networks", "test_seen_networks"):
        entry = report[f"io/features/{name}"]
        assert entry["mse"] > 0 and entry["baseline"] > 0 and entry["paper"]["mse"] in (0.0279, 0.0299)
    markdown = out.with_suffix(".md").read_text()  # rendered from the JSON beside it
    assert "bench io --data" in markdown and "| ours | 0.306 |" in markdown
    assert f"{report['io/clusters']['clusters']} clusters" in markdown and "| 0.0279 |" in markdown


def test_output_distances_are_mean_squared_output_differences():
    data = load_io_dataset(IO_SAMPLE)
    dist = output_distances(data)
    a, b = data.networks[2].features, data.networks[5].features
    assert dist[2, 5] == pytest.approx(float(((a - b) ** 2).mean()), rel=1e-5)
    assert np.allclose(dist, dist.T) and np.all(np.diag(dist) == 0)
    assert len(np.unique(output_clusters(data, threshold=1e9))) == 1  # one cluster under a huge cut
    assert len(np.unique(output_clusters(data, threshold=1e-9))) == 8  # each its own under a tiny one


@needs_data("nb101")
def test_forests_on_each_embedding(models, tmp_path):
    out = tmp_path / "io.json"
    assert bench(models, out, "--what", "rf", "--kind", "io", "--rf-sizes", "60", "--seeds", "2") == 0
    report = json.loads(out.read_text())
    assert set(report) == {"rf/io-mean/nb101/60", "rf/io-flatten/nb101/60"}
    for entry in report.values():
        assert -1 <= entry["pearson"] <= 1 and entry["rmse"] > 0 and entry["seeds"] == 2


def test_bad_options_are_one_line_errors(models, tmp_path, capsys):
    assert bench(models, tmp_path / "x.json", "--data", str(tmp_path / "nowhere"), "--what", "dataset") == 2
    assert "no IO dataset" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench(models, tmp_path / "x.json", "--what", "everything")


@needs_data("nb101")
def test_reinforce_in_each_embedding_is_resumable_and_shifted_by_the_dataset(models, tmp_path, monkeypatch, capsys):
    import shutil

    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "vae").mkdir(parents=True)
    shutil.copy(models["io"], tmp_path / "cache" / "vae" / "io_nb101.pt")  # what load_vae finds
    out, store = tmp_path / "io.json", tmp_path / "runs.db"
    args = ["bench", "io", "--data", str(IO_SAMPLE), "--what", "reinforce", "--kind", "io", "--reinforce-runs", "2",
            "--reinforce-budget", "12", "--store", str(store), "--out", str(out), "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    entry = json.loads(out.read_text())["reinforce/io"]
    assert entry["runs"] == 2 and entry["budget"] == 12 and set(entry["regret"]) == {"10"}
    mean, half = entry["regret"]["10"]
    assert 0 <= mean < 100 and half >= 0 and entry["simulated_hours"]["10"] > 0
    assert entry["paper_shift_hours"] == pytest.approx(130_000 / 3600) and set(entry["regret_at_hours"]) == {
        "10",
        "20",
        "40",
        "60",
        "80",
    }
    hours = sum(n.train_seconds for n in load_io_dataset(IO_SAMPLE).networks) / 3600
    assert entry["shift_hours"] == pytest.approx(hours)
    assert "| io | 2 |" in out.with_suffix(".md").read_text()
    capsys.readouterr()
    assert main(args) == 0  # read back from the store: nothing runs again
    assert "2/2 runs already in" in capsys.readouterr().out
    assert json.loads(out.read_text())["reinforce/io"]["regret"] == entry["regret"]
    with_files = [*args, "--io-model", str(models["io"])]
    assert main(with_files) == 2
    assert "load_vae's models" in capsys.readouterr().err


def test_regret_at_a_simulated_time_counts_only_runs_under_way():
    from archpred.bench.io import regret_at

    regret = np.array([[0.03, 0.02, 0.01], [0.05, 0.05, 0.04]])
    clock = np.array([[10.0, 20.0, 30.0], [15.0, 40.0, 60.0]])
    assert regret_at(regret, clock, 5.0) is None  # nothing finished yet
    mean, half, runs = regret_at(regret, clock, 20.0)  # run 0 after 2 queries, run 1 after 1
    assert runs == 2 and mean == pytest.approx(100 * (0.02 + 0.05) / 2) and half > 0
    assert regret_at(regret, clock, 45.0) == [pytest.approx(5.0), 0.0, 1]  # run 0 spent its budget at 30
    assert regret_at(regret, clock + 100.0, 50.0) is None  # a shifted clock has not started
