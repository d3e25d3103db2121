"""The k-GNN baseline on tiny computation-graph families (NB-201 cells, one cell per stage)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from archpred.errors import InvalidOption
from archpred.gennape.graphs import GraphSet
from archpred.gennape.kgnn import KGNN, KGNNConfig, fit_kgnn, predict_kgnn, train_kgnn
from archpred.networks import build_network, to_computation_graph
from archpred.spaces import get_space
from archpred.training import Callback

SMALL = KGNNConfig(hidden=8, layers=2, mlp_layers=2)


@pytest.fixture(scope="module")
def family() -> tuple[GraphSet, np.ndarray]:
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(10)]
    graphs = GraphSet.from_graphs([to_computation_graph(build_network(a, depth=1, width=4)) for a in archs])
    target = np.log10(graphs.flops)
    return graphs, (target - target.mean()) / target.std()


class StopAfter(Callback):
    """Stop the loop after ``epochs`` epochs (the checkpoint of the last one is written)."""

    def __init__(self, epochs: int) -> None:
        self.epochs, self.seen = epochs, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.seen += 1

    def should_stop(self) -> bool:
        return self.seen >= self.epochs


def test_shapes(family):
    graphs, _ = family
    model = KGNN(KGNNConfig())
    batch = graphs.batch([0, 3, 5])
    assert model(batch).shape == (3,)
    assert model.embed_graphs(batch).shape == (3, 32)
    assert len(model.convs) == 6
    assert sum(isinstance(m, torch.nn.Linear) for m in model.regressor) == 4
    pred = predict_kgnn(model, graphs, batch_size=4, device="cpu")
    assert pred.shape == (len(graphs),) and pred.dtype == np.float64
    # batching does not change a graph's prediction
    np.testing.assert_allclose(pred, predict_kgnn(model, graphs, batch_size=256, device="cpu"), rtol=1e-5)


def test_same_seed_same_model_and_caller_rng_untouched(family):
    graphs, y = family
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    a, hist_a = train_kgnn(graphs, y, SMALL, epochs=2, batch_size=4, seed=1, device="cpu", progress=False)
    assert torch.equal(torch.random.get_rng_state(), before)
    b, hist_b = train_kgnn(graphs, y, SMALL, epochs=2, batch_size=4, seed=1, device="cpu", progress=False)
    c, _ = train_kgnn(graphs, y, SMALL, epochs=2, batch_size=4, seed=2, device="cpu", progress=False)
    assert hist_a == hist_b and len(hist_a) == 2
    pa = predict_kgnn(a, graphs, device="cpu")
    np.testing.assert_array_equal(pa, predict_kgnn(b, graphs, device="cpu"))
    assert not np.allclose(pa, predict_kgnn(c, graphs, device="cpu"))


def test_stopped_after_two_epochs_then_resumed_equals_one_run(family, tmp_path):
    graphs, y = family
    options = dict(epochs=4, batch_size=4, lr=1e-3, seed=0, device="cpu", progress=False)
    whole, whole_hist = train_kgnn(graphs, y, SMALL, **options)
    ckpt = tmp_path / "kgnn.pt"
    _, first = train_kgnn(graphs, y, SMALL, checkpoint=ckpt, callbacks=[StopAfter(2)], **options)
    assert len(first) == 2 and ckpt.exists()
    resumed, hist = train_kgnn(graphs, y, SMALL, checkpoint=ckpt, **options)
    assert [h["epoch"] for h in hist] == [0.0, 1.0, 2.0, 3.0]
    assert hist == whole_hist
    np.testing.assert_array_equal(
        predict_kgnn(resumed, graphs, device="cpu"), predict_kgnn(whole, graphs, device="cpu")
    )


def test_it_learns_a_graph_target(family):
    graphs, y = family
    # mean pooling over ~60 nodes leaves small differences between graphs: ~100 steps to fit
    config = KGNNConfig(hidden=16, layers=2, mlp_layers=3)
    model, hist = train_kgnn(
        graphs, y, config, epochs=100, batch_size=10, lr=1e-2, seed=0, device="cpu", progress=False
    )
    assert hist[-1]["loss"] < 0.5 * hist[0]["loss"]
    assert np.corrcoef(predict_kgnn(model, graphs, device="cpu"), y)[0, 1] > 0.8


@dataclass
class Settings:
    """Shaped like GENNAPE's member settings (read by attribute name)."""

    epochs: int = 2
    batch_size: int = 4
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"
    progress: bool = False


def test_fit_kgnn_trains_a_given_model_with_settings(family):
    graphs, y = family
    model, _ = train_kgnn(graphs, y, SMALL, epochs=1, batch_size=4, seed=0, device="cpu", progress=False)
    before = predict_kgnn(model, graphs, device="cpu")
    a = copy.deepcopy(model)
    hist = fit_kgnn(a, graphs.subset([0, 1, 2, 3, 4]), y[:5], Settings(epochs=3))
    assert len(hist) == 3 and not a.training and next(a.parameters()).device.type == "cpu"
    assert not np.allclose(predict_kgnn(a, graphs, device="cpu"), before)
    np.testing.assert_array_equal(predict_kgnn(model, graphs, device="cpu"), before)  # the original is untouched
    b = copy.deepcopy(model)
    fit_kgnn(b, graphs.subset([0, 1, 2, 3, 4]), y[:5], epochs=3, batch_size=4, lr=1e-3, device="cpu", progress=False)
    np.testing.assert_array_equal(predict_kgnn(a, graphs, device="cpu"), predict_kgnn(b, graphs, device="cpu"))


def test_bad_input_is_refused(family):
    graphs, y = family
    with pytest.raises(InvalidOption):
        train_kgnn(graphs, y[:-1], SMALL, epochs=1, seed=0, device="cpu", progress=False)
    with pytest.raises(InvalidOption):
        train_kgnn(graphs, np.full(len(graphs), np.nan), SMALL, epochs=1, seed=0, device="cpu", progress=False)
    with pytest.raises(InvalidOption):
        KGNNConfig(layers=0)
    with pytest.raises(InvalidOption):
        train_kgnn(graphs, y, SMALL, epochs=1, seed=0, device="tpu", progress=False)
