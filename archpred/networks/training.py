"""Train real networks: datasets, one standard recipe, many architectures in parallel, IO features.

Datasets (``load_dataset``): ``"digits"`` (scikit-learn's 1,797 8x8 images, offline, the
default), ``"npz:PATH"`` (arrays ``x_train, y_train, x_test, y_test``; images NCHW, NHWC or NHW;
read with ``allow_pickle=False``) and ``"cifar10:DIR"`` (the CIFAR-10 python batches
``data_batch_1..5`` and ``test_batch``). CIFAR's batches are pickles: they are read with a
restricted unpickler that can build nothing but plain containers, bytes, numbers and numpy
arrays (``numpy`` array reconstruction is the only callable it allows), and the result is
validated; any other pickle is refused, so a hostile file cannot run code.

Recipe (``train_network``): SGD with momentum and weight decay, cosine learning-rate schedule,
cross-entropy, seeded shuffling and initialisation, a progress bar, and through
``archpred.training.fit_loop`` a checkpoint after every epoch that a rerun resumes from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.errors import ArchpredError
from archpred.training import FunctionCallback, fit_loop

N_IO_FEATURES = 10


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
    threads: int | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


@dataclass
class Dataset:
    """Normalised NCHW float tensors and int64 labels of a train/validation/test split."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.x_train.shape[1:])  # type: ignore[return-value]


# -- datasets --------------------------------------------------------------------------------
def _as_nchw(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{what} must hold numbers, got dtype {x.dtype}")
    if x.ndim == 2:  # flat images: square single-channel if possible
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"{what} has {x.shape[1]} features per row, not a square image")
        x = x.reshape(len(x), 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
            x = x.transpose(0, 3, 1, 2)
    else:
        raise ValueError(f"{what} must be images of shape (N, H, W), (N, C, H, W) or (N, H, W, C), got {x.shape}")
    return x.astype(np.float32)


def _labels(y: np.ndarray, n: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{what} must be a 1-D array of {n} labels, got shape {y.shape}")
    integral = np.issubdtype(y.dtype, np.integer) or (
        np.issubdtype(y.dtype, np.floating) and bool(np.all(np.mod(y, 1) == 0))
    )
    if not integral:
        raise ValueError(f"{what} must be integer class labels")
    y = y.astype(np.int64)
    if len(y) and y.min() < 0:
        raise ValueError(f"{what} has negative labels")
    return y


def _split(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    val_fraction: float,
) -> Dataset:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_train))
    n_val = int(round(val_fraction * len(x_train)))
    val, train = order[:n_val], order[n_val:]
    if len(train) == 0 or len(x_test) == 0:
        raise ValueError(f"dataset {name}: no training or no test images")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"dataset {name}: train images {x_train.shape[1:]} and test images {x_test.shape[1:]} differ")
    mean = x_train[train].mean(axis=(0, 2, 3), keepdims=True)
    std = x_train[train].std(axis=(0, 2, 3), keepdims=True) + 1e-6

    def t(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((x - mean) / std).astype(np.float32))

    classes = int(max(y_train.max(), y_test.max())) + 1
    return Dataset(
        name,
        t(x_train[train]),
        torch.from_numpy(y_train[train]),
        t(x_train[val]),
        torch.from_numpy(y_train[val]),
        t(x_test),
        torch.from_numpy(y_test),
        classes,
    )


def _digits(seed: int, val_fraction: float) -> Dataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.float32)[:, None] / 16.0
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(12345).permutation(len(x))  # a fixed test split (20%)
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return _split("digits", x[train], y[train], x[test], y[test], seed, val_fraction)


def _npz(path: Path, seed: int, val_fraction: float) -> Dataset:
    if not path.is_file():
        raise FileNotFoundError(f"no such dataset file: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
            if missing:
                raise ValueError(
                    f"{path}: missing array(s) {', '.join(missing)}; need x_train, y_train, x_test, y_test"
                )
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise ValueError(
                f"{path}: holds object arrays, which are never unpickled; save plain numeric arrays"
            ) from None
        raise
    except (OSError, pickle.UnpicklingError, EOFError) as err:
        raise ValueError(f"{path}: not a readable .npz file ({type(err).__name__})") from None
    x_train = _as_nchw(arrays["x_train"], "x_train")
    x_test = _as_nchw(arrays["x_test"], "x_test")
    y_train = _labels(arrays["y_train"], len(x_train), "y_train")
    y_test = _labels(arrays["y_test"], len(x_test), "y_test")
    return _split(path.name, x_train, y_train, x_test, y_test, seed, val_fraction)


class _SafeUnpickler(pickle.Unpickler):
    """Builds plain containers, bytes, numbers and numpy arrays only."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch as (uint8 images (N, 3, 32, 32), int64 labels), read safely."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            batch = _SafeUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such CIFAR-10 batch: {path}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"{path}: not a CIFAR-10 python batch ({err})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch (no dict inside)")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: 'data' must be a uint8 array of shape (N, 3072)")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data):
        raise ValueError(f"{path}: 'labels' must list one label per image")
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise ValueError(f"{path}: labels must be integers 0..9")
    return data.reshape(-1, 3, 32, 32), y.astype(np.int64)


def _cifar10(folder: Path, seed: int, val_fraction: float) -> Dataset:
    if (folder / "cifar-10-batches-py").is_dir():
        folder = folder / "cifar-10-batches-py"
    if not folder.is_dir():
        raise FileNotFoundError(f"no such CIFAR-10 folder: {folder}")
    train_files = sorted(folder.glob("data_batch_*"))
    if not train_files or not (folder / "test_batch").is_file():
        raise FileNotFoundError(f"{folder}: expected CIFAR-10 python batches data_batch_1..5 and test_batch")
    parts = [read_cifar_batch(f) for f in train_files]
    x_test, y_test = read_cifar_batch(folder / "test_batch")
    x_train = np.concatenate([p[0] for p in parts]).astype(np.float32) / 255.0
    y_train = np.concatenate([p[1] for p in parts])
    return _split("cifar10", x_train, y_train, x_test.astype(np.float32) / 255.0, y_test, seed, val_fraction)


def load_dataset(spec: str | Path | Dataset = "digits", seed: int = 0, val_fraction: float = 0.1) -> Dataset:
    """``"digits"``, ``"npz:PATH"`` / a ``.npz`` path, or ``"cifar10:DIR"`` / a folder of CIFAR batches."""
    if isinstance(spec, Dataset):
        return spec
    text = str(spec)
    if text == "digits":
        return _digits(seed, val_fraction)
    if text.startswith("npz:") or text.endswith(".npz"):
        return _npz(Path(text.removeprefix("npz:")).expanduser(), seed, val_fraction)
    if text.startswith("cifar10:") or Path(text).is_dir():
        return _cifar10(Path(text.removeprefix("cifar10:")).expanduser(), seed, val_fraction)
    raise ValueError(f"unknown dataset {text!r}; use digits, npz:PATH or cifar10:DIR")


# -- training ----------------------------------------------------------------------------------
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


def train_network(
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
    ``history`` and the recipe.
    """
    from archpred.networks import build_network, count_params

    if config.threads:
        torch.set_num_threads(int(config.threads))
    data = load_dataset(dataset, seed=config.seed, val_fraction=config.val_fraction)
    space_name, key, arch_hash, arch = _describe(arch, space)
    torch.manual_seed(config.seed)
    if isinstance(arch, nn.Module):
        net = arch
    else:
        c, h, _ = data.shape
        options = {**(network or {}), "in_channels": c, "input_size": h, "num_classes": data.num_classes}
        net = build_network(arch, space_name, **options)
    device = torch.device(config.device)
    net.to(device)
    optimizer = torch.optim.SGD(
        net.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay, nesterov=True
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    n = len(data.x_train)

    def batches(epoch: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch))
        for i in range(0, n, config.batch_size):
            idx = order[i : i + config.batch_size]
            if len(idx) < 2 and n >= 2:
                continue  # batch-norm needs two samples
            yield data.x_train[idx].to(device), data.y_train[idx].to(device)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        xb, yb = batch
        return nn.functional.cross_entropy(net(xb), yb)

    clock = {"start": time.perf_counter(), "before": 0.0}

    def validate() -> dict[str, float]:
        acc, loss = _accuracy(net, data.x_val, data.y_val)
        elapsed = clock["before"] + time.perf_counter() - clock["start"]
        return {"val_acc": acc, "val_loss": loss, "elapsed": elapsed}

    checkpoint = None
    if checkpoint_dir is not None:
        tag = f"{space_name}-{arch_hash}-{data.name}-s{config.seed}-e{config.epochs}"
        checkpoint = Path(checkpoint_dir) / f"{tag}.pt"
        if checkpoint.exists():
            from archpred.training import load_checkpoint

            previous = load_checkpoint(checkpoint).get("history", [])
            clock["before"] = float(previous[-1].get("elapsed", 0.0)) if previous else 0.0
    callbacks = [FunctionCallback(on_epoch)] if on_epoch is not None else []
    clock["start"] = time.perf_counter()
    history = fit_loop(
        net,
        step,
        batches,
        epochs=config.epochs,
        optimizer=optimizer,
        scheduler=scheduler,
        validate=validate,
        callbacks=callbacks,
        checkpoint=checkpoint,
        progress=progress,
        desc=f"train {space_name} {key[:16]}",
    )
    net.eval()
    train_acc, _ = _accuracy(net, data.x_train, data.y_train)
    val_acc, _ = _accuracy(net, data.x_val, data.y_val)
    test_acc, test_loss = _accuracy(net, data.x_test, data.y_test)
    result = {
        "run": run_id(space_name, key, dataset, config, network),
        "space": space_name,
        "key": key,
        "hash": arch_hash,
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
    if io_dir is not None:
        result["io_features"] = str(save_io_features(net, data, arch_hash, io_dir))
    if results is not None:
        append_result(results, result)
    return result


def append_result(path: str | Path, result: dict[str, Any]) -> None:
    """Append one JSON line and flush it to disk at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(result) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """The results of a JSON-lines file (a torn last line from a crash is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def run_id(space: str, key: str, dataset: Any, config: TrainConfig, network: dict[str, Any] | None) -> str:
    """What makes two training runs the same: cell, dataset, recipe (threads aside) and network options."""
    recipe = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("threads", "device")}
    name = dataset.name if isinstance(dataset, Dataset) else str(dataset)
    return json.dumps([space, key, name, recipe, {k: str(v) for k, v in sorted((network or {}).items())}])


def _train_one(job: dict[str, Any]) -> dict[str, Any]:
    torch.set_num_threads(1)
    return train_network(job["arch"], job["space"], job["config"], progress=False, **job["kwargs"])


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
        raise ValueError(f"workers must be >= 1, got {workers}")
    if isinstance(dataset, Dataset):
        raise ValueError("train_many takes a dataset spec (digits, npz:PATH, cifar10:DIR), not a loaded Dataset")
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
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn")) as pool:
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


# -- IO features (arch2vec's input-output extension) -----------------------------------------
def _classifier(net: nn.Module) -> nn.Linear:
    layer = getattr(net, "classifier", None)
    if isinstance(layer, nn.Linear):
        return layer
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(net).__name__} has no final dense layer for IO features")
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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{arch_hash}.npz"
    tmp = out / f".{arch_hash}.tmp.npz"
    np.savez(tmp, features=values, indices=indices, labels=data.y_test.numpy(), hash=np.array(arch_hash))
    os.replace(tmp, path)
    return path


def load_io_features(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
