"""Train real networks: one standard recipe (``train_classifier``) and many architectures in
parallel (``train_many``).

Recipe: SGD with Nesterov momentum and weight decay, cosine learning-rate schedule,
cross-entropy, batches from ``archpred.training.batches`` and initialisation under
``archpred.training.seeded`` (so the caller's RNG is untouched), a progress bar, and through
``archpred.training.fit_loop`` a checkpoint after every epoch that a rerun resumes from.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archpred.errors import ArchpredError, InvalidOption
from archpred.networks.datasets import Dataset, load_dataset
from archpred.networks.io_features import save_io_features
from archpred.networks.runs import append_result, read_results, run_id
from archpred.training import CosineLR, FunctionCallback, batches, fit_loop, resolve_device, seeded


@dataclass(frozen=True)
class TrainConfig:
    """The training recipe (defaults reach >= 90% on digits with a small NB-101 network)."""

    epochs: int = 15
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    val_fraction: float = 0.1
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise InvalidOption(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise InvalidOption(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise InvalidOption(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise InvalidOption(f"val_fraction must be in [0, 1), got {self.val_fraction}")


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) in eval mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    device = next(net.parameters()).device
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb, yb = x[i : i + batch].to(device), y[i : i + batch].to(device)
            out = net(xb)
            loss += float(nn.functional.cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(1) == yb).sum())
    return correct / len(x), loss / len(x)


def _describe(arch: Any, space: str | None) -> tuple[str, str, str, Any]:
    """(space, key, hash, arch) of an architecture, cell text, or a user module."""
    if isinstance(arch, nn.Module):
        return "module", type(arch).__name__, type(arch).__name__, arch
    from archpred.networks import resolve_arch
    from archpred.spaces import get_space

    name, arch = resolve_arch(arch, space)
    sp = get_space(name)
    return name, sp.key(arch), sp.hash(arch), arch


def train_classifier(
    arch: Any,
    space: str | None = None,
    config: TrainConfig = TrainConfig(),
    *,
    network: dict[str, Any] | None = None,
    dataset: str | Path | Dataset = "digits",
    checkpoint_dir: str | Path | None = None,
    results: str | Path | None = None,
    io_dir: str | Path | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
) -> dict[str, Any]:
    """Train the network of ``arch`` (an ``Architecture``, cell text with ``space``, or any
    ``nn.Module`` taking the dataset's images) and return its accuracies and time.

    Args:
        network: options of ``build_network`` (``width``, ``depth``, ...); input channels, image
            size and class count come from the dataset.
        checkpoint_dir: a checkpoint per epoch; rerunning resumes after the last finished epoch.
        results: a JSON-lines file the result is appended to as soon as it is final.
        io_dir: also save the network's IO features (``io_features``) there as ``HASH.npz``.
        on_epoch: ``fn(epoch, logs)`` after each epoch (``loss``, ``val_acc``, ``val_loss``, ``elapsed``).

    Returns: ``space``, ``key``, ``hash``, ``dataset``, ``params``, ``epochs``, ``train_acc``,
    ``val_acc``, ``test_acc``, ``train_seconds`` (training only, summed over resumed runs),
    ``history``, the recipe as asked (``recipe["device"]`` may be ``"auto"``) and the ``device``
    it ran on (``"cpu"``, ``"cuda:0"``).
    """
    data = load_dataset(dataset, seed=config.seed, val_fraction=config.val_fraction)
    space_name, key, arch_hash, arch = _describe(arch, space)
    device = resolve_device(config.device)
    checkpoint = None
    if checkpoint_dir is not None:
        tag = f"{space_name}-{arch_hash}-{data.name}-s{config.seed}-e{config.epochs}"
        checkpoint = Path(checkpoint_dir) / f"{tag}.pt"
    with seeded(config.seed):  # initialisation and any dropout; the caller's RNG is untouched
        net = arch if isinstance(arch, nn.Module) else _build(arch, space_name, data, network)
        history = _fit(net, data, config, device, checkpoint, progress, on_epoch, f"train {space_name} {key[:16]}")
    run = run_id(space_name, key, dataset, config, network)
    result = {"run": run, "space": space_name, "key": key, "hash": arch_hash, "device": str(device)}
    result.update(_result(net, data, config, history, network))
    if io_dir is not None:
        result["io_features"] = str(save_io_features(net, data, arch_hash, io_dir))
    if results is not None:
        append_result(results, result)
    return result


def _build(arch: Any, space: str, data: Dataset, network: dict[str, Any] | None) -> nn.Module:
    """The benchmark network of ``arch``, sized to the dataset's images and classes."""
    from archpred.networks import build_network

    c, h, _ = data.shape
    options = {**(network or {}), "in_channels": c, "input_size": h, "num_classes": data.num_classes}
    return build_network(arch, space, **options)


def _fit(
    net: nn.Module,
    data: Dataset,
    config: TrainConfig,
    device: torch.device,
    checkpoint: Path | None,
    progress: bool,
    on_epoch: Callable[[int, dict[str, float]], Any] | None,
    desc: str,
) -> list[dict[str, float]]:
    """The recipe on ``fit_loop``; ``elapsed`` counts training time across resumed runs."""
    net.to(device)
    optimizer = torch.optim.SGD(
        net.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay, nesterov=True
    )
    n = len(data.x_train)

    def epoch_batches(epoch: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        for rows in batches(n, config.batch_size, config.seed, epoch):
            yield data.x_train[rows].to(device), data.y_train[rows].to(device)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        xb, yb = batch
        return nn.functional.cross_entropy(net(xb), yb)

    clock = {"start": time.perf_counter(), "before": _elapsed_before(checkpoint)}

    def validate() -> dict[str, float]:
        acc, loss = _accuracy(net, data.x_val, data.y_val)
        return {"val_acc": acc, "val_loss": loss, "elapsed": clock["before"] + time.perf_counter() - clock["start"]}

    schedule = CosineLR(optimizer, config.lr, 0.0, config.epochs)
    return fit_loop(
        net,
        step,
        epoch_batches,
        epochs=config.epochs,
        optimizer=optimizer,
        validate=validate,
        callbacks=[schedule, *([FunctionCallback(on_epoch)] if on_epoch is not None else [])],
        checkpoint=checkpoint,
        progress=progress,
        desc=desc,
        recipe={
            **{k: v for k, v in dataclasses.asdict(config).items() if k not in ("epochs", "device")},
            "dataset": data.name,
            "train_images": n,
            "params": sum(p.numel() for p in net.parameters()),
        },
    )


def _elapsed_before(checkpoint: Path | None) -> float:
    """Training seconds already spent by an earlier, interrupted run of the same checkpoint."""
    if checkpoint is None or not checkpoint.exists():
        return 0.0
    from archpred.training import load_checkpoint

    previous = load_checkpoint(checkpoint).get("history", [])
    return float(previous[-1].get("elapsed", 0.0)) if previous else 0.0


def _result(
    net: nn.Module, data: Dataset, config: TrainConfig, history: list[dict[str, float]], network: dict[str, Any] | None
) -> dict[str, Any]:
    from archpred.networks import count_params

    net.eval()
    train_acc, _ = _accuracy(net, data.x_train, data.y_train)
    val_acc, _ = _accuracy(net, data.x_val, data.y_val)
    test_acc, test_loss = _accuracy(net, data.x_test, data.y_test)
    return {
        "dataset": data.name,
        "params": count_params(net),
        "epochs": len(history),
        "train_acc": train_acc,
        "val_acc": val_acc,
        "test_acc": test_acc,
        "test_loss": test_loss,
        "train_seconds": float(history[-1]["elapsed"]) if history else 0.0,
        "recipe": dataclasses.asdict(config),
        "network": dict(network or {}),
        "history": history,
    }


def _one_thread_worker() -> None:
    """Initialiser of ``train_many``'s worker processes: they are this function's own processes
    (never the caller's), and one torch thread each keeps ``workers`` processes from fighting
    over the cores."""
    torch.set_num_threads(1)


def _train_one(job: dict[str, Any]) -> dict[str, Any]:
    return train_classifier(job["arch"], job["space"], job["config"], progress=False, **job["kwargs"])


def train_many(
    archs: Sequence[Any],
    space: str | None = None,
    config: TrainConfig = TrainConfig(),
    *,
    out: str | Path,
    workers: int = 2,
    network: dict[str, Any] | None = None,
    dataset: str | Path = "digits",
    checkpoint_dir: str | Path | None = None,
    io_dir: str | Path | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train many architectures in ``workers`` processes; each result is appended to ``out`` (JSON
    lines) the moment it finishes, and architectures already in ``out`` are not trained again.
    Returns the results of all ``archs`` (earlier and new) in their order."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from tqdm.auto import tqdm

    if workers < 1:
        raise InvalidOption(f"workers must be >= 1, got {workers}")
    if isinstance(dataset, Dataset):
        raise InvalidOption("train_many takes a dataset spec (digits, npz:PATH, cifar10:DIR), not a loaded Dataset")
    described = [_describe(a, space) for a in archs]
    done = {r.get("run"): r for r in read_results(out)}
    kwargs = {"network": network, "dataset": str(dataset), "checkpoint_dir": checkpoint_dir, "io_dir": io_dir}
    runs = [run_id(sp, key, str(dataset), config, network) for sp, key, _, _ in described]
    todo, queued = [], set()
    for run, (sp, key, _, arch) in zip(runs, described):
        if run not in done and run not in queued:
            queued.add(run)
            todo.append({"arch": arch, "space": sp, "key": key, "config": config, "kwargs": kwargs})
    bar = tqdm(total=len(todo), desc="train_many", disable=not progress)
    if workers == 1 or len(todo) <= 1:
        for job in todo:
            result = _train_one(job)
            append_result(out, result)
            done[result["run"]] = result
            bar.update()
    else:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(todo)), mp_context=get_context("spawn"), initializer=_one_thread_worker
        ) as pool:
            futures = {pool.submit(_train_one, job): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as err:
                    if isinstance(err, ArchpredError | ValueError | FileNotFoundError):
                        raise
                    raise RuntimeError(f"training {job['space']} {job['key']} failed: {err}") from err
                append_result(out, result)
                done[result["run"]] = result
                bar.update()
    bar.close()
    return [done[run] for run in runs]
