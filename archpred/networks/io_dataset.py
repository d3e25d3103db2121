"""Build the IO dataset (``archpred.data.io_dataset`` documents the format): sample NB-101
cells, train each network (``train_many``: a process pool, each result appended the moment it
finishes, finished networks never trained again), keep its output features, then write the
manifest. Kill it at any moment and run it again: it resumes with the networks not yet done.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text
from archpred.data.io_dataset import FORMAT, MANIFEST, VERSION, load_io_dataset
from archpred.errors import InvalidOption
from archpred.networks.train import TrainConfig

PLAN = "plan.json"
RUNS = "runs.jsonl"  # one line per finished network (``networks.runs``)


@dataclass(frozen=True)
class IOBuildConfig:
    """What ``build_io_dataset`` builds.

    Args:
        n_train, n_val: seen (training) and unseen (validation) networks; the paper: 608 / 77.
        seed: the cells' sample and split, and the image split.
        train: each network's training recipe.
        network: ``build_network`` options (``width``: stem channels; NB-101's own is 128).
        dataset: ``digits``, ``npz:PATH`` or ``cifar10:DIR``.
        workers: training processes.
    """

    n_train: int = 608
    n_val: int = 77
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    network: dict[str, Any] = field(default_factory=lambda: {"width": 16})
    dataset: str = "digits"
    workers: int = 2

    def __post_init__(self) -> None:
        if self.n_train < 1 or self.n_val < 1:
            raise InvalidOption(f"need at least one network per split, got {self.n_train} / {self.n_val}")
        if self.workers < 1:
            raise InvalidOption(f"workers must be >= 1, got {self.workers}")


def sample_cells(n: int, seed: int) -> list[Any]:
    """``n`` distinct NB-101 cells: from our benchmark table where it is present (their
    benchmark accuracies then stand beside ours), else random valid cells of the space."""
    from archpred.data import is_available, load_benchmark
    from archpred.spaces import get_space

    rng = np.random.default_rng(seed)
    if is_available("nb101"):
        bench = load_benchmark("nb101")
        if n > len(bench):
            raise InvalidOption(f"the NB-101 table has {len(bench)} cells, fewer than {n}")
        return [bench.archs[i] for i in rng.choice(len(bench), n, replace=False)]
    space, found = get_space("nb101"), {}
    while len(found) < n:
        cell = space.sample(rng)
        found.setdefault(space.hash(cell), cell)
    return list(found.values())


def build_io_dataset(folder: str | Path, config: IOBuildConfig = IOBuildConfig(), progress: bool = True) -> Path:
    """Train every network of the plan that is not done yet, then write the manifest; returns
    its path. The plan (cells, splits, image split, recipe) is fixed on the first run and a
    rerun with other settings is refused rather than mixing two datasets."""
    from archpred.networks.train import train_many
    from archpred.spaces import get_space

    folder = Path(folder)
    plan = _plan(folder, config)
    space = get_space("nb101")
    cells = [space.parse(json.dumps(c)) for c in plan["cells"]]
    results = train_many(
        cells,
        "nb101",
        config.train,
        out=folder / RUNS,
        workers=config.workers,
        network=config.network,
        dataset=config.dataset,
        checkpoint_dir=folder / "checkpoints",
        io_dir=folder / "features",
        progress=progress,
    )
    manifest = _manifest(plan, list(zip(results, cells, plan["splits"])))
    return atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1))


def _manifest(plan: dict[str, Any], done: list[tuple[dict[str, Any], Any, str]]) -> dict[str, Any]:
    """The manifest of the networks ``done`` ((run result, cell, split) in plan order)."""
    from archpred.networks.datasets import load_dataset

    settings = plan["settings"]
    train = settings["train"]
    n_images = len(load_dataset(settings["dataset"], seed=train["seed"], val_fraction=train["val_fraction"]).x_test)
    images = np.random.default_rng((settings["seed"], 1)).permutation(n_images)
    return {
        "format": FORMAT,
        "version": VERSION,
        "space": "nb101",
        "dataset": settings["dataset"],
        "recipe": train,
        "network": settings["network"],
        "features": "per held-out image: the 10 global-average-pool features with the largest last-layer "
        "weights for its true class, times those weights",
        "images": {
            "seen": sorted(images[: n_images // 2].tolist()),
            "unseen": sorted(images[n_images // 2 :].tolist()),
        },
        "networks": [
            {
                "hash": r["hash"],
                "cell": cell.to_dict(),
                "split": split,
                "accuracy": r["test_acc"],
                "val_acc": r["val_acc"],
                "train_seconds": r["train_seconds"],
                "params": r["params"],
                "file": f"features/{Path(r['io_features']).name}",
            }
            for r, cell, split in done
        ],
    }


def load_unfinished_io_dataset(folder: str | Path) -> tuple[Any, int]:
    """The networks an unfinished build (no manifest yet) has trained so far, as an
    ``IODataset``, and how many the build plans: to look at a build while it runs."""
    from archpred.data.io_dataset import dataset_from_manifest
    from archpred.errors import DataNotFound
    from archpred.networks.runs import read_results
    from archpred.spaces import get_space

    folder = Path(folder)
    if not (folder / PLAN).is_file():
        raise DataNotFound(f"no IO dataset build in {folder}")
    plan = json.loads((folder / PLAN).read_text())
    space = get_space("nb101")
    finished = {r["key"]: r for r in read_results(folder / RUNS)} if (folder / RUNS).exists() else {}
    done = []
    for cell_dict, split in zip(plan["cells"], plan["splits"]):
        cell = space.parse(json.dumps(cell_dict))
        result = finished.get(space.key(cell))
        if result is not None:
            done.append((result, cell, split))
    if not done:
        raise DataNotFound(f"the IO dataset build in {folder} has not finished a network yet")
    return dataset_from_manifest(folder, _manifest(plan, done)), len(plan["cells"])


def load_io_dataset_or_build(folder: str | Path) -> tuple[Any, int | None]:
    """The IO dataset in ``folder`` and ``None``; or, while its build still runs (a plan, no
    manifest yet), the networks trained so far and how many the build plans."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file() and (folder / PLAN).is_file():
        return load_unfinished_io_dataset(folder)
    return load_io_dataset(folder), None


def io_dataset_version(folder: str | Path) -> int:
    """When the dataset in ``folder`` last changed (ns): its manifest's time, or its run log's
    while it builds; 0 where neither exists (nothing built or being built)."""
    for name in (MANIFEST, RUNS):
        if (Path(folder) / name).is_file():
            return (Path(folder) / name).stat().st_mtime_ns
    return 0


def _plan(folder: Path, config: IOBuildConfig) -> dict[str, Any]:
    """The cells and their splits, drawn once and kept in ``plan.json``."""
    settings = {
        "n_train": config.n_train,
        "n_val": config.n_val,
        "seed": config.seed,
        "train": asdict(config.train),
        "network": config.network,
        "dataset": config.dataset,
    }
    path = folder / PLAN
    if path.is_file():
        plan = json.loads(path.read_text())
        if plan["settings"] != json.loads(json.dumps(settings)):
            raise InvalidOption(f"{folder} holds an IO dataset built with other settings; use another folder")
        return plan
    cells = sample_cells(config.n_train + config.n_val, config.seed)
    plan = {
        "settings": settings,
        "cells": [c.to_dict() for c in cells],
        "splits": ["train"] * config.n_train + ["val"] * config.n_val,
    }
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(plan))
    return plan
