"""CUDA paths: run with ``pytest -m gpu`` where a GPU is present; skipped elsewhere with a reason.

These guard what the CPU suite cannot: ``device="auto"`` really picks CUDA, a model trained on
the GPU loads on the CPU and predicts the same, ``seeded`` leaves the CUDA generator as it was,
and a network trains on CUDA through the one training loop.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.predictors import PREDICTORS, Predictor, make_predictor
from archpred.training import resolve_device, seeded
from tests.predictors.test_contract import TINY, sample

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_auto_and_cuda_n_resolve_to_the_gpu():
    assert resolve_device("auto") == resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)


def test_seeded_repeats_cuda_draws_and_restores_the_cuda_stream():
    before = torch.cuda.get_rng_state()
    with seeded(3):
        a = torch.randn(8, device="cuda")
    with seeded(3):
        b = torch.randn(8, device="cuda")
    assert torch.equal(a, b)
    assert torch.equal(torch.cuda.get_rng_state(), before)


@pytest.mark.parametrize("name", [n for n in PREDICTORS if n not in ("io", "io-accuracy")])  # NB-101 only
def test_fit_on_gpu_then_load_on_cpu_predicts_the_same(name, tmp_path):
    archs, y = sample("nb201", 40)
    cuda_before = torch.cuda.get_rng_state()
    model = make_predictor(name, seed=0, device="cuda", **TINY[name]).fit(archs, y)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_before)  # fit leaves the global CUDA stream
    test, _ = sample("nb201", 10, seed=2)
    on_gpu = model.predict(test)
    model.save(tmp_path / "model.pt")
    on_cpu = Predictor.load(tmp_path / "model.pt", device="cpu").predict(test)
    assert np.all(np.isfinite(on_gpu))
    np.testing.assert_allclose(on_cpu, on_gpu, atol=1e-4)


def test_network_trains_on_cuda():
    from archpred.networks.train import TrainConfig, train_classifier
    from archpred.spaces import get_space

    arch = get_space("nb201").cell(
        arch="|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    )
    result = train_classifier(arch, "nb201", TrainConfig(epochs=2, device="auto"), network={"width": 8}, progress=False)
    assert result["device"] == "cuda:0" and result["recipe"]["device"] == "auto"
    assert result["val_acc"] > 0.2  # digits, 10 classes: better than chance after 2 epochs


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
def test_shipped_vae_embeds_the_same_on_gpu_and_cpu(kind):
    from archpred.spaces import get_space
    from archpred.vae.model import load_vae

    space = get_space("nb201")
    archs = [space.sample(np.random.default_rng(i)) for i in range(16)]
    on_cpu = load_vae(kind, "nb201", device="cpu").embed(archs)
    on_gpu = load_vae(kind, "nb201", device="cuda").embed(archs)
    np.testing.assert_allclose(on_gpu, on_cpu, atol=1e-4)
