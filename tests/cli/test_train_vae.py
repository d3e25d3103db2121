"""Latent predictors (svge, arch2vec) through the registry, and the train/bench vae commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from archpred.cli import main
from archpred.predictors import Predictor, make_predictor
from archpred.spaces import get_space
from archpred.vae import GraphVAE, load_vae
from archpred.vae.model import build_module


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cells():
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(40)]
    y = np.array([0.5 + 0.1 * a.edge_ops.count("nor_conv_3x3") for a in archs])
    return archs, y


@pytest.fixture
def tiny_cache(tmp_path, monkeypatch):
    """A cache dir holding tiny nb201 VAEs, which load_vae finds before the shipped ones."""
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    torch.manual_seed(0)
    GraphVAE("arch2vec", "nb201", build_module("arch2vec", "nb201", hidden=16, latent=4, layers=2)).save(
        tmp_path / "vae" / "arch2vec_nb201.pt"
    )
    GraphVAE("svge", "nb201", build_module("svge", "nb201", hidden=16, latent=8, dec_hidden=16)).save(
        tmp_path / "vae" / "svge_nb201.pt"
    )
    return tmp_path


def test_svge_predictor_fits_predicts_saves(cells, tiny_cache):
    archs, y = cells
    model = make_predictor("svge", seed=0, device="cpu", epochs=30, batch_size=8, lr=3e-3)
    with pytest.raises(Exception, match="not fitted"):
        model.predict(archs[:2])
    assert model.fit(archs, y) is model
    pred = model.predict(archs)
    assert pred.shape == (40,) and np.all(np.isfinite(pred))
    assert np.corrcoef(pred, y)[0, 1] > 0.5  # it learned the toy target
    assert model.pretrained_  # started from the (tiny) trained SVGe
    again = Predictor.load(model.save(tiny_cache / "p.pt"), device="cpu")
    np.testing.assert_allclose(again.predict(archs), pred, rtol=1e-5, atol=1e-6)


def test_svge_predictor_without_pretrained_model(cells, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr("archpred.vae.model.ASSETS_DIR", tmp_path)
    archs, y = cells
    with pytest.warns(UserWarning, match="no pretrained SVGe"):
        model = make_predictor("svge", seed=0, device="cpu", epochs=2).fit(archs, y)
    assert model.predict(archs[:3]).shape == (3,)


def test_arch2vec_predictor_fits_predicts_saves(cells, tiny_cache):
    archs, y = cells
    model = make_predictor("arch2vec", seed=0, device="cpu", n_estimators=20).fit(archs, y)
    pred = model.predict(archs)
    assert pred.shape == (40,)
    again = Predictor.load(model.save(tiny_cache / "rf.pt"), device="cpu")
    np.testing.assert_allclose(again.predict(archs), pred)


def test_train_vae_command_then_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    args = [
        "train",
        "vae",
        "--kind",
        "arch2vec",
        "--space",
        "nb201",
        "--train-size",
        "64",
        "--val-size",
        "16",
        "--batch-size",
        "16",
        "--no-progress",
        "--threads",
        "1",
        "--config",
        "hidden=16",
        "--config",
        "layers=2",
        "--lr-min",
        "1e-5",
    ]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2"]) == 0  # resumes after epoch 1
    vae = load_vae("arch2vec", "nb201")
    assert vae.meta["epochs"] == 2 and len(vae.meta["history"]) == 2
    assert "train vae" in vae.meta["command"] and vae.meta["lr_min"] == 1e-5
    assert len(vae.meta["prior"]["mean"]) == vae.latent_dim  # arch2vec samples from its fitted prior
    with pytest.raises(SystemExit) as exit_:  # argparse refuses it: a clear one-line error
        main([*args[:-6], "--epochs", "0"])
    assert exit_.value.code == 2
    capsys.readouterr()
    assert main([*args, "--epochs", "3", "--lr", "0.01"]) == 2  # #15: not resumed under another lr
    err = capsys.readouterr().err
    assert "other settings: lr=0.001 (now 0.01)" in err.strip().splitlines()[-1] and "Traceback" not in err


def test_bench_vae_command_writes_json(tmp_path, tiny_cache):
    out = tmp_path / "vae.json"
    code = main(
        [
            "bench",
            "vae",
            "--kind",
            "svge",
            "--space",
            "nb201",
            "--what",
            "prior",
            "--what",
            "speed",
            "--samples",
            "50",
            "--out",
            str(out),
            "--threads",
            "1",
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert 0 <= report["prior/svge/nb201"]["validity"] <= 1
    assert report["prior/svge/nb201"]["paper"]["validity"] == 1.0
    assert report["speed/svge/nb201"]["encode_graphs_per_s"] > 0


def test_expanding_a_cell_by_one_vertex():
    from archpred.vae.analysis import expand_by_one_vertex

    space = get_space("nb101")
    # input -> conv3x3 -> output, plus input -> output
    adj = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    types = np.array([0, 2, 4])
    grown, grown_types, made = expand_by_one_vertex(adj, types)
    # new vertex at 1 (in: {0}; out: 3 sets) or at 2 (in: 3 sets; out: {output}); 3 ops each
    assert made == (1 * 3 + 3 * 1) * 3
    assert 0 < len(grown) < made  # e.g. a second conv before or after the first: the same cell
    keys = set()
    for a, t in zip(grown, grown_types):
        assert a.shape == (4, 4) and not np.tril(a).any()
        cell = space.cell(adjacency=a.tolist(), ops=[space.node_types[i] for i in t])
        assert cell.num_vertices == 4
        keys.add(space.key(cell))
    assert len(keys) == len(grown)


def test_bench_vae_config_checks_sections():
    from archpred.bench.vae import VaeBenchConfig

    with pytest.raises(ValueError, match="unknown section"):
        VaeBenchConfig(what=("recon", "decode"))
    assert VaeBenchConfig().labelled == (1000,)


def test_train_io_vae_command(tmp_path, monkeypatch, capsys):
    """``train io-vae`` on the shipped IO sample with a tiny model and 100 unlabelled cells."""
    from archpred.vae.data import from_archs
    from tests.conftest import IO_SAMPLE

    space = get_space("nb101")
    rng = np.random.default_rng(0)
    few = from_archs(space, [space.sample(rng) for _ in range(100)])
    monkeypatch.setattr("archpred.vae.io_train.default_unlabelled", lambda: few)  # not the 381,262 cells
    out = tmp_path / "acc.pt"
    tiny = ["--config", "hidden=16", "--config", "layers=2", "--config", "dense=16"]
    argv = ["train", "io-vae", "--kind", "io-accuracy", "--data", str(IO_SAMPLE), "--epochs", "1", *tiny]
    assert main([*argv, "--unlabelled-size", "50", "--embedding", "flatten", "--out", str(out), "--no-progress"]) == 0
    assert "saved" in capsys.readouterr().out
    vae = load_vae("io-accuracy", "nb101", path=out, device="cpu")
    assert vae.module.config.embedding == "flatten" and vae.embedding_dim == 16 and vae.module.config.hidden == 16
    assert "train io-vae" in vae.meta["command"] and len(vae.meta["history"]) == 1
    # the shipped file: the finished checkpoint resumed (nothing retrained), stored in float16
    half = tmp_path / "half.pt"
    again = ["--unlabelled-size", "50", "--embedding", "flatten", "--no-progress"]
    assert main([*argv, *again, "--checkpoint", str(tmp_path / "acc.train.pt"), "--half", "--out", str(half)]) == 0
    shipped = load_vae("io-accuracy", "nb101", path=half, device="cpu")
    assert half.stat().st_size < 0.75 * out.stat().st_size and shipped.meta["history"] == vae.meta["history"]
    test = [space.sample(rng) for _ in range(4)]
    assert np.allclose(shipped.embed(test), vae.embed(test), atol=1e-2)
    assert main([*argv, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.pt")]) == 2
    assert "no IO dataset" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()
    assert main([*argv, "--config", "width=3", "--out", str(tmp_path / "x.pt"), "--no-progress"]) == 2
    assert "unknown option" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()
