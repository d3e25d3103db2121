"""IO features of a trained network (the input-output extension of arch2vec, Suchoparova &
Neruda): per image, the strongest final-layer contributions for its true class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from archpred.artifacts import atomic_write
from archpred.errors import InvalidOption
from archpred.networks.datasets import Dataset

N_IO_FEATURES = 10


def _classifier(net: nn.Module) -> nn.Linear:
    layer = getattr(net, "classifier", None)
    if isinstance(layer, nn.Linear):
        return layer
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InvalidOption(f"{type(net).__name__} has no final dense layer for IO features")
    return linears[-1]


def io_features(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, k: int = N_IO_FEATURES, batch: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the ``k`` global-average-pool features with the largest final-layer weights for
    the image's true class, multiplied by those weights: (values (N, k), feature indices (N, k))."""
    dense = _classifier(net)
    captured: list[torch.Tensor] = []
    handle = dense.register_forward_pre_hook(lambda _m, inputs: captured.append(inputs[0].detach()))
    was_training = net.training
    net.eval()
    device = dense.weight.device
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch):
                net(x[i : i + batch].to(device))
    finally:
        handle.remove()
        net.train(was_training)
    feats = torch.cat(captured).flatten(1).cpu()
    weights = dense.weight.detach().cpu()[y.long()]  # (N, C) weights of each image's true class
    k_eff = min(k, weights.shape[1])
    top = weights.argsort(dim=1, descending=True)[:, :k_eff]
    values = torch.gather(feats * weights, 1, top)
    if k_eff < k:
        values = torch.cat([values, torch.zeros(len(values), k - k_eff)], 1)
        top = torch.cat([top, torch.full((len(top), k - k_eff), -1)], 1)
    return values.numpy().astype(np.float32), top.numpy().astype(np.int64)


def save_io_features(net: nn.Module, data: Dataset, arch_hash: str, out_dir: str | Path) -> Path:
    """IO features of the test images, saved as ``out_dir/HASH.npz`` (``features``, ``indices``,
    ``labels``, ``hash``); returns the path."""
    values, indices = io_features(net, data.x_test, data.y_test)
    arrays = {"features": values, "indices": indices, "labels": data.y_test.numpy(), "hash": np.array(arch_hash)}
    return atomic_write(Path(out_dir) / f"{arch_hash}.npz", lambda tmp: np.savez(tmp, **arrays))


def load_io_features(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
