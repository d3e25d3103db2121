"""Training data and the training run of a graph VAE (through ``archpred.training.fit_loop``);
measurements are in ``archpred.vae.metrics``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archpred.errors import InvalidOption
from archpred.options import check_values
from archpred.spaces import get_space
from archpred.training import CosineLR, FunctionCallback, batches, fit_loop, resolve_device, seeded
from archpred.vae.data import GraphArrays, from_archs, nb101_all
from archpred.vae.metrics import reconstruction
from archpred.vae.model import GraphVAE, build_module


def space_graphs(space: str) -> tuple[GraphArrays, list[str]]:
    """The unsupervised training set of a space, upper-triangular, isomorphic duplicates removed,
    and the identity key of each graph.

    NB-101: all 423,624 unique cells (exhaustive enumeration, one per NB-101 hash);
    NB-201: all 15,625 cells (8-vertex node form; no two are isomorphic);
    ENAS: the 20,015 unique architectures of D-VAE's data file.
    """
    if space == "nb101":
        graphs, hashes = nb101_all()
        return graphs, [str(h) for h in hashes]
    sp = get_space(space)
    if space == "nb201":
        archs = sp.enumerate()
    elif space == "enas":
        from archpred.data import load_benchmark

        archs = load_benchmark("enas").archs
    else:
        raise InvalidOption(f"no VAE training data for the {space} space; choose nb101, nb201 or enas")
    return from_archs(sp, archs), [sp.key(a) for a in archs]


def split(n: int, seed: int = 0, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The fixed 90/10 train / held-out split of a training set of ``n`` graphs."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def training_rows(train_rows: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """The rows actually trained on: all of the 90% split, or a seeded random subset of ``size``."""
    if size is None or size >= len(train_rows):
        return train_rows
    return np.sort(np.random.default_rng(seed).choice(train_rows, size, replace=False))


@dataclass(frozen=True)
class _Recipe:
    """The field types ``train_vae``'s own arguments are checked against."""

    epochs: int
    batch_size: int
    lr: float
    seed: int


def epoch_clock(on_epoch: Callable[[int, dict[str, float]], Any] | None, graphs: int | None = None) -> FunctionCallback:
    """A callback that logs each epoch's ``seconds`` (and ``train_graphs_per_s`` of ``graphs``
    graphs an epoch), then hands the logs to ``on_epoch``."""
    clock = {"t": time.perf_counter()}

    def timing(epoch: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        logs["seconds"] = now - clock["t"]
        if graphs is not None:
            logs["train_graphs_per_s"] = graphs / max(logs["seconds"], 1e-9)
        clock["t"] = now
        if on_epoch is not None:
            on_epoch(epoch, logs)

    return FunctionCallback(timing)


def train_vae(
    kind: str,
    space: str,
    train: GraphArrays,
    *,
    val: GraphArrays | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    lr_min: float | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
    **config: Any,
) -> tuple[GraphVAE, list[dict[str, float]]]:
    """Train a fresh model (or resume from ``checkpoint``); validation reconstruction each epoch.

    ``lr_min``: decay the learning rate from ``lr`` to ``lr_min`` on a cosine over ``epochs``
    (a function of the epoch alone, so resuming continues the schedule); None keeps ``lr``.
    """
    dev = resolve_device(device)
    check_values(_Recipe, {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}, "train_vae")
    if batch_size < 1 or epochs < 1 or not lr > 0 or (lr_min is not None and not 0 <= lr_min < lr):
        raise InvalidOption(
            f"train_vae needs epochs >= 1, batch_size >= 1, lr > 0 and 0 <= lr_min < lr; got epochs={epochs}, "
            f"batch_size={batch_size}, lr={lr}, lr_min={lr_min}"
        )
    if len(train) < 1:
        raise InvalidOption("train_vae got no training graphs")
    with seeded(seed):  # initialisation, dropout and the reparameterisation noise
        module = build_module(kind, space, **config).to(dev)
        vae = GraphVAE(kind, space, module)
        optimizer = torch.optim.Adam(module.parameters(), lr=lr)
        tensors = train.tensors(dev)

        def epoch_batches(epoch: int):
            for rows in batches(len(train), batch_size, seed, epoch, device=dev):
                yield tuple(t[rows] for t in tensors)

        def step(batch) -> torch.Tensor:
            return module.loss(*batch)[0]

        def validate() -> dict[str, float]:
            if val is None or len(val) == 0:
                return {}
            return {f"val_{k}": v for k, v in reconstruction(vae, val).items()}

        callbacks = [epoch_clock(on_epoch, len(train))]
        if lr_min is not None:
            callbacks.insert(0, CosineLR(optimizer, lr, lr_min, epochs))
        history = fit_loop(
            module,
            step,
            epoch_batches,
            epochs=epochs,
            optimizer=optimizer,
            validate=validate,
            callbacks=callbacks,
            checkpoint=checkpoint,
            progress=progress,
            desc=f"{kind} on {space}",
            grad_clip=5.0,
            recipe={"kind": kind, "space": space, "batch_size": batch_size, "lr": lr, "lr_min": lr_min, "seed": seed,
                    "train_graphs": len(train), **config},
        )  # fmt: skip
        module.eval()
        if getattr(module, "prior_from_data", False):
            vae.fit_prior(train)
        vae.meta = {
            **vae.meta,
            "epochs": len(history),
            "train_graphs": len(train),
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
        }
        if lr_min is not None:
            vae.meta["lr_min"] = lr_min
    return vae, history
