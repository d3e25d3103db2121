"""Image datasets to train real networks on (``load_dataset``).

``"digits"`` (scikit-learn's 1,797 8x8 images, offline, the default), ``"npz:PATH"`` (arrays
``x_train, y_train, x_test, y_test``; images NCHW, NHWC or NHW; read with
``allow_pickle=False``) and ``"cifar10:DIR"`` (the CIFAR-10 python batches ``data_batch_1..5``
and ``test_batch``). CIFAR's batches are pickles: they are read with a restricted unpickler
that can build nothing but plain containers, bytes, numbers and numpy arrays (``numpy`` array
reconstruction is the only callable it allows), and the result is validated; any other pickle
is refused, so a hostile file cannot run code.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archpred.errors import InvalidData, InvalidOption


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


def _as_nchw(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise InvalidData(f"{what} must hold numbers, got dtype {x.dtype}")
    if x.ndim == 2:  # flat images: square single-channel if possible
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise InvalidData(f"{what} has {x.shape[1]} features per row, not a square image")
        x = x.reshape(len(x), 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
            x = x.transpose(0, 3, 1, 2)
    else:
        raise InvalidData(f"{what} must be images of shape (N, H, W), (N, C, H, W) or (N, H, W, C), got {x.shape}")
    return x.astype(np.float32)


def _labels(y: np.ndarray, n: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise InvalidData(f"{what} must be a 1-D array of {n} labels, got shape {y.shape}")
    integral = np.issubdtype(y.dtype, np.integer) or (
        np.issubdtype(y.dtype, np.floating) and bool(np.all(np.mod(y, 1) == 0))
    )
    if not integral:
        raise InvalidData(f"{what} must be integer class labels")
    y = y.astype(np.int64)
    if len(y) and y.min() < 0:
        raise InvalidData(f"{what} has negative labels")
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
        raise InvalidData(f"dataset {name}: no training or no test images")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise InvalidData(f"dataset {name}: train images {x_train.shape[1:]} and test images {x_test.shape[1:]} differ")
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
                raise InvalidData(
                    f"{path}: missing array(s) {', '.join(missing)}; need x_train, y_train, x_test, y_test"
                )
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise InvalidData(
                f"{path}: holds object arrays, which are never unpickled; save plain numeric arrays"
            ) from None
        raise
    except (OSError, pickle.UnpicklingError, EOFError) as err:
        raise InvalidData(f"{path}: not a readable .npz file ({type(err).__name__})") from None
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
        raise InvalidData(f"{path}: not a CIFAR-10 python batch ({err})") from None
    if not isinstance(batch, dict):
        raise InvalidData(f"{path}: not a CIFAR-10 python batch (no dict inside)")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise InvalidData(f"{path}: 'data' must be a uint8 array of shape (N, 3072)")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data):
        raise InvalidData(f"{path}: 'labels' must list one label per image")
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise InvalidData(f"{path}: labels must be integers 0..9")
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
    raise InvalidOption(f"unknown dataset {text!r}; use digits, npz:PATH or cifar10:DIR")
