"""Bad input to the public API raises our own errors: an ``ArchpredError`` subclass with a
one-line message, never a foreign IndexError / TypeError / RecursionError / UnicodeDecodeError
from deep inside, and never a silent success (issue #15)."""

from __future__ import annotations

import numpy as np
import pytest

from archpred.data import load_benchmark
from archpred.errors import ArchpredError
from archpred.gennape import load_gennape
from archpred.networks import build_network, to_computation_graph
from archpred.predictors import load_predictor, make_predictor
from archpred.search import run_search
from archpred.spaces import get_space
from archpred.vae import load_vae
from tests.conftest import ROOT

DEEP = "[" * 100_000 + "]" * 100_000
NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _cell(seed: int = 0):
    return get_space("nb201").sample(np.random.default_rng(seed))


def _files(tmp):
    (tmp / "rand.bin").write_bytes(np.random.default_rng(0).bytes(3000))
    (tmp / "list.json").write_text("[1, 2, 3]")
    (tmp / "empty").write_bytes(b"")
    return {"rand": tmp / "rand.bin", "list": tmp / "list.json", "empty": tmp / "empty", "dir": tmp}


def _train_vae(n: int, **kw):
    from archpred.vae.data import from_archs
    from archpred.vae.train import train_vae

    graphs = from_archs(get_space("nb201"), [_cell(i) for i in range(max(n, 1))])
    return train_vae("arch2vec", "nb201", graphs.take(np.arange(n)), progress=False, **kw)


def _make_predictor(name: str = "gnn", **kw):
    return make_predictor(name, **kw)


CASES = {
    # benchmark files: wrong kind, a folder, JSON of another shape, unknown names and options
    "benchmark of random bytes": lambda f: load_benchmark("nb101", path=f["rand"]),
    "benchmark that is a folder": lambda f: load_benchmark("nb101", path=f["dir"]),
    "benchmark of a JSON list of ints": lambda f: load_benchmark("nb101", path=f["list"]),
    "empty benchmark file": lambda f: load_benchmark("nb101", path=f["empty"]),
    "enas benchmark of random bytes": lambda f: load_benchmark("enas", path=f["rand"]),
    "macro benchmark that is a folder": lambda f: load_benchmark("macro", path=f["dir"]),
    "unknown benchmark": lambda f: load_benchmark("nb999"),
    "unknown benchmark option": lambda f: load_benchmark("nb201", bogus=1),
    "unknown NB-201 dataset": lambda f: load_benchmark("nb201", dataset="mnist"),
    # cells: empty, deep, huge, of the wrong type or space
    "unknown space": lambda f: get_space(5),
    "nb101 empty cell": lambda f: get_space("nb101").parse('{"adjacency": [], "ops": []}'),
    "nb101 JSON nested 100,000 deep": lambda f: get_space("nb101").parse(DEEP),
    "enas JSON nested 100,000 deep": lambda f: get_space("enas").parse(DEEP),
    "nb201 text of a million bars": lambda f: get_space("nb201").parse("|" * 10**6),
    "macro text of a million digits": lambda f: get_space("macro").parse("1" * 10**6),
    "nb101 cell of None": lambda f: get_space("nb101").parse(None),
    "nb101 cell of an int": lambda f: get_space("nb101").parse(5),
    "nb101 cell of bytes that are no text": lambda f: get_space("nb101").parse(b"\xff\xfe"),
    "nb101 ragged matrix": lambda f: get_space("nb101").parse({"adjacency": [[0, 1], [0]], "ops": ["input", "output"]}),
    "nb101 3-d matrix": lambda f: get_space("nb101").parse({"adjacency": [[[0]]], "ops": ["input"]}),
    "nb201 list of ints": lambda f: get_space("nb201").parse([1, 2]),
    "macro float": lambda f: get_space("macro").parse(1.5),
    "nb201 key of a string": lambda f: get_space("nb201").key("abc"),
    "nb201 hash of None": lambda f: get_space("nb201").hash(None),
    "nb101 hash of an nb201 cell": lambda f: get_space("nb101").hash(_cell()),
    "enas key of a list": lambda f: get_space("enas").key([[0]]),
    "macro key of an int": lambda f: get_space("macro").key(12),
    # predictors: options of the wrong type, bad data, unfitted use, bad files
    "predictor lr nan": lambda f: _make_predictor(lr=float("nan")),
    "predictor epochs 1.5": lambda f: _make_predictor(epochs=1.5),
    "predictor epochs True": lambda f: _make_predictor(epochs=True),
    "predictor lr text": lambda f: _make_predictor(lr="fast"),
    "predictor unknown option": lambda f: _make_predictor(hidden=None),
    "unknown predictor": lambda f: _make_predictor("nope"),
    "predict before fit": lambda f: _make_predictor().predict([_cell()]),
    "fit on nothing": lambda f: _make_predictor().fit([], []),
    "fit with more targets than cells": lambda f: _make_predictor().fit([_cell()], [0.5, 0.6]),
    "fit on a NaN target": lambda f: _make_predictor(epochs=1).fit(
        [_cell(i) for i in range(4)], [0.5, np.nan, 0.3, 0.2]
    ),
    "fit on strings": lambda f: _make_predictor(epochs=1).fit(["a", "b"], [0.5, 0.6]),
    "predictor file of random bytes": lambda f: load_predictor(f["rand"]),
    "predictor file that is a folder": lambda f: load_predictor(f["dir"]),
    # VAEs
    "VAE file of random bytes": lambda f: load_vae("svge", "nb201", path=f["rand"]),
    "unknown VAE kind": lambda f: load_vae("nope", "nb201"),
    "an arch2vec file loaded as SVGe": lambda f: load_vae("svge", "nb201", path="assets/vae/arch2vec_nb201.pt"),
    "an NB-101 SVGe loaded for NB-201": lambda f: load_vae("svge", "nb201", path="assets/vae/svge_nb101.pt"),
    "VAE of an unknown space": lambda f: load_vae("svge", "nb999"),
    "train_vae on no graphs": lambda f: _train_vae(0),
    "train_vae with batch size 0": lambda f: _train_vae(8, batch_size=0),
    "train_vae with lr nan": lambda f: _train_vae(8, lr=float("nan")),
    "train_vae with epochs True": lambda f: _train_vae(8, epochs=True),
    # GENNAPE
    "GENNAPE file of random bytes": lambda f: load_gennape(f["rand"]),
    "empty GENNAPE file": lambda f: load_gennape(f["empty"]),
    "GENNAPE file that is a predictor's": lambda f: load_gennape("assets/predictors/nb201-gnn.pt"),
    "GENNAPE predicts an int": lambda f: load_gennape().predict([5]),
    "GENNAPE unknown member": lambda f: load_gennape().predict([_cell()], member="x"),
    "GENNAPE fine-tuned on a NaN": lambda f: load_gennape().fine_tune([_cell(0), _cell(1)], [0.5, np.nan]),
    # networks
    "network of another space": lambda f: build_network(_cell(), "nb101"),
    "network of width 0": lambda f: build_network(_cell(), "nb201", width=0),
    "network of width 'a'": lambda f: build_network(_cell(), "nb201", width="a"),
    "CG of a string": lambda f: to_computation_graph("x"),
    # search
    "search budget 0": lambda f: run_search("nb201", "random", 0, seed=0),
    "search budget NaN": lambda f: run_search("nb201", "random", float("nan"), seed=0),
    "unknown search algorithm": lambda f: run_search("nb201", "nope", 3, seed=0),
    "search seed text": lambda f: run_search("nb201", "random", 3, seed="a"),
    "search option out of range": lambda f: run_search(
        "nb201", "evolution", 3, seed=0, options={"population_size": -1}
    ),
    "run store of random bytes": lambda f: run_search("nb201", "random", 3, seed=0, store=f["rand"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_api_calls_raise_our_one_line_errors(case, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the shipped model files, by relative path
    with pytest.raises(ArchpredError) as err:
        CASES[case](_files(tmp_path))
    message = str(err.value)
    assert message and len(message.splitlines()) == 1, message
    assert len(message) < 600, message
