"""Training data, the training run (through ``archpred.training.fit_loop``) and measurements."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archpred.spaces import get_space
from archpred.training import CosineLR, FunctionCallback, fit_loop, resolve_device
from archpred.vae.data import GraphArrays, from_archs, nb101_all
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
        raise ValueError(f"no VAE training data for the {space} space; choose nb101, nb201 or enas")
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


@torch.no_grad()
def reconstruction(
    vae: GraphVAE, graphs: GraphArrays, batch_size: int = 2048, choose_valid: bool = True
) -> dict[str, float]:
    """Fraction of graphs decoded exactly (types, vertex count and every edge) from their mean,
    and the per-vertex type and per-entry (upper triangle) adjacency accuracies."""
    z = vae.encode_arrays(graphs, batch_size)
    types, adj, n = vae.decode_arrays(z, batch_size, choose_valid=choose_valid)
    m = graphs.max_vertices
    same_n = n == graphs.n
    same_types = (types[:, :m] == graphs.types).all(1)
    same_adj = adj.astype(np.int8) == graphs.adj
    iu = np.triu_indices(m, 1)
    real = np.arange(m)[None] < graphs.n[:, None]
    return {
        "reconstruction": float(np.mean(same_n & same_types & same_adj.all((1, 2)))),
        "node_accuracy": float(np.mean(same_n & same_types)),
        "edge_accuracy": float(np.mean(same_adj.all((1, 2)))),
        # per element, as arch2vec's own code measures reconstruction (acc_ops, acc_adj)
        "type_accuracy_per_vertex": float((types[:, :m] == graphs.types)[real].mean()),
        "adjacency_accuracy_per_entry": float(same_adj[:, iu[0], iu[1]].mean()),
    }


def prior_quality(
    vae: GraphVAE, n: int, train_keys: set[str], rng: np.random.Generator, choose_valid: bool = True
) -> dict[str, float]:
    """Validity, uniqueness and novelty of ``n`` decoded prior samples.

    validity = valid / n; uniqueness = distinct valid (by the space's key) / valid;
    novelty = valid decodes whose key is not in the training set / valid.
    """
    archs = vae.sample(n, rng, choose_valid=choose_valid)
    valid = [a for a in archs if a is not None]
    keys = [vae.space.key(a) for a in valid]
    nv = max(len(valid), 1)
    return {
        "samples": n,
        "validity": len(valid) / n,
        "uniqueness": len(set(keys)) / nv if valid else 0.0,
        "novelty": sum(k not in train_keys for k in keys) / nv if valid else 0.0,
    }


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
    torch.manual_seed(seed)
    dev = resolve_device(device)
    module = build_module(kind, space, **config).to(dev)
    vae = GraphVAE(kind, space, module)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    tensors = train.tensors(dev)

    def batches(epoch: int):
        perm = torch.as_tensor(np.random.default_rng([seed, epoch]).permutation(len(train)), device=dev)
        for start in range(0, len(perm), batch_size):
            rows = perm[start : start + batch_size]
            if len(rows) < 2:  # batch norm needs two graphs
                continue
            yield tuple(t[rows] for t in tensors)

    def step(batch) -> torch.Tensor:
        return module.loss(*batch)[0]

    def validate() -> dict[str, float]:
        if val is None or len(val) == 0:
            return {}
        return {f"val_{k}": v for k, v in reconstruction(vae, val).items()}

    clock = {"t": time.perf_counter()}

    def timing(epoch: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        logs["seconds"] = now - clock["t"]
        logs["train_graphs_per_s"] = len(train) / max(logs["seconds"], 1e-9)
        clock["t"] = now
        if on_epoch is not None:
            on_epoch(epoch, logs)

    callbacks = [FunctionCallback(timing)]
    if lr_min is not None:
        callbacks.insert(0, CosineLR(optimizer, lr, lr_min, epochs))
    history = fit_loop(
        module,
        step,
        batches,
        epochs=epochs,
        optimizer=optimizer,
        validate=validate,
        callbacks=callbacks,
        checkpoint=checkpoint,
        progress=progress,
        desc=f"{kind} on {space}",
        grad_clip=5.0,
    )
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
