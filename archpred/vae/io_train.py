"""Training and measuring the IO and Accuracy models (``archpred.vae.io``) on an IO dataset,
through the one training loop (``archpred.training.fit_loop``: checkpoint every epoch, resume)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archpred.errors import InvalidOption
from archpred.options import check_values
from archpred.training import fit_loop, resolve_device, seeded
from archpred.vae.data import GraphArrays, from_archs
from archpred.vae.io import IO_KINDS, IOSplits, Pairs, alternating, io_images, io_splits
from archpred.vae.model import GraphVAE, build_module
from archpred.vae.train import epoch_clock, space_graphs, split

PRIOR_GRAPHS = 50_000  # unlabelled cells whose posteriors fit the sampling prior (arch2vec's way)
VAL_PAIRS = 20_000  # at most this many pairs per validation set, each epoch


@dataclass(frozen=True)
class IORecipe:
    """``train_io_vae``'s own arguments, checked by type."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 1
    labelled_run: int = 300
    unlabelled_run: int = 200


@dataclass
class IOTensors:
    """An IO dataset on a device: its networks' graphs, features, accuracies and the images."""

    adj: torch.Tensor  # (nets, M, M)
    types: torch.Tensor  # (nets, M)
    n: torch.Tensor  # (nets,)
    features: torch.Tensor  # (nets, images, k)
    accuracy: torch.Tensor  # (nets,)
    images: torch.Tensor  # (images, C, H, W)

    @classmethod
    def of(cls, dataset: Any, images: np.ndarray, device: torch.device) -> IOTensors:
        from archpred.spaces import get_space

        graphs = from_archs(get_space("nb101"), [net.cell for net in dataset.networks])
        adj, types, n = graphs.tensors(device)
        features = np.stack([net.features for net in dataset.networks]).astype(np.float32)
        return cls(
            adj,
            types,
            n,
            torch.as_tensor(features, device=device),
            torch.as_tensor(dataset.accuracy, dtype=torch.float32, device=device),
            torch.as_tensor(images, device=device),
        )

    def batch(self, p: Pairs, target: str) -> tuple[torch.Tensor, ...]:
        """(adj, types, n, images or None, targets) of the pairs ``p``."""
        net = torch.as_tensor(p.net, device=self.adj.device)
        if target == "features":
            image = torch.as_tensor(p.image, device=self.adj.device)
            return self.adj[net], self.types[net], self.n[net], self.images[image], self.features[net, image]
        return self.adj[net], self.types[net], self.n[net], None, self.accuracy[net]


def default_unlabelled() -> GraphArrays:
    """The unlabelled cells: our arch2vec's training set, the 90% split of all 423,624 NB-101
    cells (``vae.train.split``), so the 10% it holds out stay unseen by every model compared."""
    graphs, _ = space_graphs("nb101")
    return graphs.take(split(len(graphs), seed=0)[0])


def train_io_vae(
    kind: str,
    dataset: Any,
    *,
    unlabelled: GraphArrays | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 1,
    labelled_run: int = 300,
    unlabelled_run: int = 200,
    checkpoint: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
    **config: Any,
) -> tuple[GraphVAE, list[dict[str, float]]]:
    """Train the IO model (``kind="io"``) or the Accuracy model (``"io-accuracy"``) on an IO
    dataset (``archpred.data.load_io_dataset``), semi-supervised as the paper's appendix F.

    Args:
        unlabelled: the unlabelled cells (default: ``default_unlabelled()``).
        labelled_run, unlabelled_run: the alternation (300 labelled, 200 unlabelled batches).
        checkpoint: written every epoch; an existing one is resumed.
        config: :class:`~archpred.vae.io.IOVAEConfig` fields (``image_shape`` is the dataset's).

    Logs per epoch: the validation error of the head (``val_networks_mse``: unseen networks on
    seen images; ``val_images_mse``, IO model: seen networks on unseen images) and each one's
    mean-vector baseline.
    """
    if kind not in IO_KINDS:
        raise InvalidOption(f"unknown IO model {kind!r}; choose from {', '.join(IO_KINDS)}")
    recipe = IORecipe(epochs, batch_size, lr, seed, labelled_run, unlabelled_run)
    check_values(IORecipe, recipe.__dict__, "train_io_vae")
    if epochs < 1 or batch_size < 2 or not lr > 0 or labelled_run < 1 or unlabelled_run < 0:
        raise InvalidOption(
            "train_io_vae needs epochs >= 1, batch_size >= 2, lr > 0, labelled_run >= 1 and unlabelled_run >= 0"
        )
    if not dataset.split("train"):
        raise InvalidOption("the IO dataset has no seen (train) networks to learn from")
    dev = resolve_device(device)
    target = IO_KINDS[kind]
    images = io_images(dataset)
    splits = io_splits(dataset)
    if unlabelled is None:
        unlabelled = default_unlabelled()
    with seeded(seed):  # initialisation, dropout and the reparameterisation noise
        module = build_module(kind, "nb101", image_shape=tuple(images.shape[1:]), **config).to(dev)
        vae = GraphVAE(kind, "nb101", module)
        optimizer = torch.optim.Adam(module.parameters(), lr=lr)
        data = IOTensors.of(dataset, images, dev)
        unl = unlabelled.tensors(dev)

        def epoch_batches(epoch: int):
            return alternating(
                len(splits.train), len(unlabelled), batch_size, seed, epoch, labelled_run, unlabelled_run
            )

        def step(batch) -> torch.Tensor:
            which, rows = batch
            if which == "labelled":
                return module.labelled_loss(*data.batch(splits.train.take(rows), target))[0]
            r = torch.as_tensor(rows, device=dev)
            return module.loss(*(t[r] for t in unl))[0]

        def validate() -> dict[str, float]:
            sets = {"val_networks": splits.val_networks}
            if target == "features":
                sets["val_images"] = splits.val_images
            out = {}
            for name, p in sets.items():
                p = _subsample(p, VAL_PAIRS, seed)
                if len(p):
                    out[f"{name}_mse"] = head_mse(module, data, p, target)
                    out[f"{name}_baseline"] = baseline_mse(data, splits.train, p, target)
            return out

        history = fit_loop(
            module,
            step,
            epoch_batches,
            epochs=epochs,
            optimizer=optimizer,
            validate=validate,
            callbacks=[epoch_clock(on_epoch)],
            checkpoint=checkpoint,
            progress=progress,
            desc=f"{kind} model",
            grad_clip=5.0,
            recipe={"kind": kind, **{k: v for k, v in recipe.__dict__.items() if k != "epochs"},
                    "networks": len(dataset), "labelled_pairs": len(splits.train),
                    "unlabelled": len(unlabelled), **{k: v for k, v in config.items() if k != "embedding"}},
        )  # fmt: skip
        module.eval()
        prior_rows = np.random.default_rng(seed).permutation(len(unlabelled))[:PRIOR_GRAPHS]
        vae.fit_prior(unlabelled.take(np.sort(prior_rows)))
        vae.meta = {
            **vae.meta,
            **recipe.__dict__,
            "epochs": len(history),
            "networks": len(dataset),
            "labelled_pairs": len(splits.train),
            "io_dataset": dataset.manifest.get("dataset"),
        }
    return vae, history


def _subsample(p: Pairs, limit: int, seed: int) -> Pairs:
    if len(p) <= limit:
        return p
    return p.take(np.sort(np.random.default_rng((seed, 4)).choice(len(p), limit, replace=False)))


@torch.no_grad()
def head_predictions(module: torch.nn.Module, data: IOTensors, p: Pairs, target: str, batch: int = 4096) -> np.ndarray:
    """The head's predictions for the pairs ``p`` from the posterior means (eval mode)."""
    was_training = module.training
    module.eval()
    out = []
    for start in range(0, len(p), batch):
        adj, types, n, images, _ = data.batch(p.take(np.arange(start, min(start + batch, len(p)))), target)
        mu, _ = module.encode(adj, types, n)
        out.append(module.predict(mu, images).cpu().numpy())
    module.train(was_training)
    return np.concatenate(out) if out else np.zeros(0)


def targets_of(data: IOTensors, p: Pairs, target: str) -> np.ndarray:
    net = torch.as_tensor(p.net, device=data.adj.device)
    if target == "features":
        return data.features[net, torch.as_tensor(p.image, device=data.adj.device)].cpu().numpy()
    return data.accuracy[net].cpu().numpy()


def head_mse(module: torch.nn.Module, data: IOTensors, p: Pairs, target: str) -> float:
    """Mean squared error of the head on the pairs ``p``."""
    return float(np.mean((head_predictions(module, data, p, target) - targets_of(data, p, target)) ** 2))


def baseline_mse(data: IOTensors, train: Pairs, p: Pairs, target: str) -> float:
    """The paper's baseline: the mean squared error of predicting the training pairs' mean."""
    mean = targets_of(data, train, target).mean(0)
    return float(np.mean((targets_of(data, p, target) - mean) ** 2))


def feature_errors(vae: GraphVAE, dataset: Any) -> dict[str, dict[str, float]]:
    """The paper's Table 5 on an IO dataset: the IO model's feature MSE and the mean-vector
    baseline on both test sets (unseen networks, and the seen networks not used to validate,
    each on unseen images)."""
    if vae.kind != "io":
        raise InvalidOption(f"feature errors need an IO model, not {vae.kind}")
    splits: IOSplits = io_splits(dataset)
    data = IOTensors.of(dataset, io_images(dataset), vae.device)
    out = {}
    for name in ("test_unseen_networks", "test_seen_networks"):
        p = getattr(splits, name)
        per_pair = ((head_predictions(vae.module, data, p, "features") - targets_of(data, p, "features")) ** 2).mean(1)
        out[name] = {
            "mse": float(per_pair.mean()),
            "ci95": float(1.96 * per_pair.std() / np.sqrt(max(len(per_pair), 1))),
            "baseline": baseline_mse(data, splits.train, p, "features"),
            "pairs": len(p),
        }
    return out
