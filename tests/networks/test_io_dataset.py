"""The IO dataset: a tiny end-to-end build of 4 networks, resumed after an interruption with no
finished network lost, and loaded back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from archpred.data.io_dataset import load_io_dataset
from archpred.errors import DataNotFound, InvalidData, InvalidOption
from archpred.networks import train as train_module
from archpred.networks.io_dataset import IOBuildConfig, build_io_dataset, load_unfinished_io_dataset
from archpred.networks.train import TrainConfig

torch.set_num_threads(1)
TINY = IOBuildConfig(
    n_train=3,
    n_val=1,
    seed=0,
    train=TrainConfig(epochs=1, batch_size=128, device="cpu"),
    network={"width": 4},
    workers=1,
)


def test_a_tiny_build_resumes_after_an_interruption_and_loads(tmp_path, monkeypatch):
    real, calls = train_module._train_one, []

    def dies_on_the_third(job):
        calls.append(job["key"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # a kill while the third network trains
        return real(job)

    monkeypatch.setattr(train_module, "_train_one", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        build_io_dataset(tmp_path, TINY, progress=False)
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 2  # two networks finished and kept
    with pytest.raises(DataNotFound, match="unfinished"):
        load_io_dataset(tmp_path)
    so_far, planned = load_unfinished_io_dataset(tmp_path)  # what the build has trained until now
    assert planned == 4 and len(so_far) == 2 and so_far.networks[0].features.shape == (359, 10)
    calls.clear()
    monkeypatch.setattr(train_module, "_train_one", lambda job: calls.append(job["key"]) or real(job))
    build_io_dataset(tmp_path, TINY, progress=False)
    assert len(calls) == 2  # only the two not finished before

    data = load_io_dataset(tmp_path)
    assert [n.hash for n in data.networks[:2]] == [n.hash for n in so_far.networks]
    assert data.manifest["images"] == so_far.manifest["images"]
    assert len(data) == 4 and [n.split for n in data.networks] == ["train", "train", "train", "val"]
    assert len(data.split("train")) == 3 and len({n.hash for n in data.networks}) == 4
    for net in data.networks:
        assert net.features.shape == (359, 10) and net.labels.shape == (359,)
        assert 0 <= net.accuracy <= 1 and net.params > 0 and net.train_seconds > 0
        assert net.cell.space == "nb101"
    assert len(data.seen_images) + len(data.unseen_images) == 359
    assert not set(data.seen_images) & set(data.unseen_images)
    with pytest.raises(InvalidOption, match="other settings"):
        build_io_dataset(tmp_path, IOBuildConfig(**{**TINY.__dict__, "seed": 1}), progress=False)


def test_bad_io_datasets_are_one_line_errors(tmp_path):
    with pytest.raises(DataNotFound, match="no IO dataset"):
        load_io_dataset(tmp_path / "nowhere")
    with pytest.raises(DataNotFound, match="no IO dataset build"):
        load_unfinished_io_dataset(tmp_path / "nowhere")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InvalidData, match="not a readable manifest"):
        load_io_dataset(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "archpred-io-dataset", "version": 9}))
    with pytest.raises(InvalidData, match="version 9"):
        load_io_dataset(tmp_path)
    entry = {"hash": "h", "cell": {}, "split": "train", "accuracy": 1, "train_seconds": 1, "params": 1}
    manifest = {"format": "archpred-io-dataset", "version": 1, "images": {"seen": [], "unseen": []}}
    (tmp_path / "manifest.json").write_text(
        json.dumps({**manifest, "networks": [{**entry, "file": "../../etc/x.npz"}]})
    )
    with pytest.raises(InvalidData, match="outside the dataset folder"):
        load_io_dataset(tmp_path)
    np.savez(tmp_path / "f.npz", other=np.zeros(2))
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "networks": [{**entry, "file": "f.npz"}]}))
    with pytest.raises(InvalidData, match="not a readable feature file"):
        load_io_dataset(tmp_path)


def test_io_build_command_builds_and_reports(tmp_path, capsys):
    from archpred.cli import main
    from archpred.data import load_io_dataset as load_from_data

    argv = ["data", "io-build", "--out", str(tmp_path), "--train", "2", "--val", "1", "--epochs", "1"]
    assert main([*argv, "--width", "4", "--workers", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "3 networks" in out and "h of training" in out
    assert len(load_from_data(tmp_path)) == 3
    with pytest.raises(SystemExit) as exit_info:  # argparse: one line, exit 2
        main(["data", "io-build", "--out", str(tmp_path), "--train", "0"])
    assert exit_info.value.code == 2


def test_the_default_dataset_is_built_in_the_cache_unless_one_was_placed_in_the_data_dir(tmp_path, monkeypatch):
    from archpred.data.io_dataset import MANIFEST, default_io_dir

    monkeypatch.setenv("ARCHPRED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path / "cache"))
    assert default_io_dir() == tmp_path / "cache" / "io" / "nb101-digits"
    assert not (tmp_path / "cache").exists()  # asking creates nothing
    placed = tmp_path / "data" / "io" / "nb101-digits"
    placed.mkdir(parents=True)
    assert default_io_dir() == tmp_path / "cache" / "io" / "nb101-digits"  # an empty folder is not a dataset
    (placed / MANIFEST).write_text("{}")
    assert default_io_dir() == placed


@pytest.mark.parametrize("blow_up", [1e20, np.nan])
def test_networks_whose_training_diverged_are_set_aside(tmp_path, blow_up):
    """One network outputting 1e20 would swamp every mean squared error (it happened: 1 of 685)."""
    import shutil

    from archpred.data.io_dataset import output_clusters
    from tests.conftest import IO_SAMPLE

    folder = tmp_path / "io"
    shutil.copytree(IO_SAMPLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["networks"][2]
    with np.load(folder / entry["file"]) as arrays:
        features, labels = arrays["features"].copy(), arrays["labels"]
    features[0, 0] = blow_up
    np.savez(folder / entry["file"], features=features, labels=labels)
    data = load_io_dataset(folder)
    assert len(data) == 7 and [n.hash for n in data.diverged] == [entry["hash"]]
    assert entry["hash"] not in {n.hash for n in data.networks}
    assert np.isfinite(data.accuracy).all() and len(output_clusters(data)) == 7
