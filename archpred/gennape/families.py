"""GENNAPE's architecture families: every benchmark cell as the computation graph of its real
network, built once and cached on disk in shards.

``load_family(name)`` returns a ``Family`` (graphs + accuracies) for ``nb101`` (the training
family: our 20,001 cells, validation accuracy after 108 epochs), ``nb201`` (all 15,625 cells,
CIFAR-10 test accuracy), ``macro`` (NAS-Bench-Macro, 6,561, CIFAR-10 test accuracy) and ``enas``
(20,015 cells, ENAS weight-sharing validation accuracy: a proxy family). Missing shards are
built (``build_network`` + ``to_computation_graph``) and each one is written the moment it is
done, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.gennape.graphs import GraphSet
from archpred.paths import cache_dir

SHARD = 500


@dataclass(frozen=True)
class FamilySpec:
    benchmark: str
    metric: str
    dataset: str
    note: str = ""
    first: str = ""  # cells whose key lacks this text come first (see ``family_order``)


FAMILIES: dict[str, FamilySpec] = {
    "nb101": FamilySpec(
        "nb101", "val_acc_108", "CIFAR-10", "validation accuracy, one run (no test accuracy in our data)"
    ),
    "nb201": FamilySpec("nb201", "test_acc_cifar10", "CIFAR-10", "test accuracy, mean over seeds", first="none"),
    "macro": FamilySpec("macro", "test_acc", "CIFAR-10", "test accuracy, mean of 3 runs"),
    "enas": FamilySpec("enas", "acc", "CIFAR-10", "ENAS weight-sharing accuracy (a proxy, not trained alone)"),
}


@dataclass(frozen=True)
class Family:
    """A family's CGs and their accuracies (fractions), row-aligned with the benchmark table."""

    name: str
    graphs: GraphSet
    accuracy: np.ndarray
    archs: list

    def __len__(self) -> int:
        return len(self.graphs)


def family_order(spec: FamilySpec, keys: list[str]) -> np.ndarray:
    """Benchmark rows in the family's order. NB-201 puts its 4,096 cells without ``none`` first
    (the subset the paper evaluates), so ``limit=4096`` is exactly that subset and a full build
    continues from there."""
    if not spec.first:
        return np.arange(len(keys))
    has = np.array([spec.first in k for k in keys])
    return np.concatenate([np.flatnonzero(~has), np.flatnonzero(has)])


def family_metric(spec: FamilySpec, bench: Any) -> str:
    """The family's metric, or the table's own target where that metric is missing (a fresh
    machine has NB-201's validation accuracies from PyPI but not the CIFAR-10 test accuracies)."""
    values = bench.metrics.get(spec.metric)
    if values is None or not np.isfinite(np.asarray(values, dtype=np.float64)).any():
        return bench.target
    return spec.metric


def _spec(name: str) -> FamilySpec:
    if name not in FAMILIES:
        raise InvalidOption(f"unknown family {name!r}; choose from {', '.join(FAMILIES)}")
    return FAMILIES[name]


def family_dir(name: str) -> Path:
    return cache_dir("gennape", "graphs", name)


def build_graph(arch, space: str):  # noqa: ANN001, ANN201 (Architecture -> Data)
    """The CG of one benchmark cell's network (weights are never used, only shapes)."""
    from archpred.networks import build_network, to_computation_graph

    return to_computation_graph(build_network(arch, space))


def load_family(
    name: str,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    shard_size: int = SHARD,
    built_only: bool = False,
    workers: int = 1,
) -> Family:
    """The family's CGs and accuracies (rows in ``family_order``), building (and caching) the
    shards it lacks.

    Args:
        limit: only the first ``limit`` rows of the benchmark (whole shards are built).
        progress: called with (graphs ready, graphs wanted) after each shard.
        shard_size: cells per cached file (tests use tiny shards).
        built_only: build nothing: the rows of the shards already cached (NB-101's rows are
            sorted hashes, so any set of shards is a uniform sample of our 20,001 cells).
        workers: build missing shards in this many processes first (each one is written the
            moment it is done, so an interrupted build loses no finished shard).
    """
    from archpred.data import load_benchmark

    if workers < 1:
        raise InvalidOption(f"workers must be >= 1, got {workers}")
    spec = _spec(name)
    bench = load_benchmark(spec.benchmark)
    n = len(bench) if limit is None else min(int(limit), len(bench))
    folder = family_dir(name)
    order = family_order(spec, bench.keys)
    # each shard: its file, its benchmark rows and their keys (whole shards, even past ``limit``)
    plan = []
    for start in range(0, n, shard_size):
        shard_rows = order[start : min(start + shard_size, len(bench))]
        plan.append((folder / f"shard_{start // shard_size:04d}.npz", shard_rows, [bench.keys[r] for r in shard_rows]))
    found = [_load_shard(path, keys) for path, _, keys in plan]
    missing = [i for i, shard in enumerate(found) if shard is None]
    if workers > 1 and missing and not built_only:
        jobs = [(plan[i][0], [bench.archs[r] for r in plan[i][1]], plan[i][2], bench.space.name) for i in missing]
        _build_in_pool(jobs, n - sum(len(plan[i][2]) for i in missing), n, workers, progress)
        for i in missing:
            found[i] = _load_shard(plan[i][0], plan[i][2])
    sets, rows = [], []
    for start, (path, shard_rows, keys), shard in zip(range(0, n, shard_size), plan, found):
        if shard is None and built_only:
            continue
        if shard is None:
            shard = _build_shard(path, [bench.archs[r] for r in shard_rows], keys, bench.space.name)
        stop = start + len(shard_rows)
        keep = min(stop, n) - start
        sets.append(shard if keep == len(shard) else shard.subset(range(keep)))
        rows.extend(int(r) for r in shard_rows[:keep])
        if progress is not None:
            progress(min(stop, n), n)
    if not sets:
        raise InvalidOption(f"no {name} computation graphs are cached yet (build them with load_family({name!r}))")
    accuracy = np.asarray(bench[family_metric(spec, bench)], dtype=np.float64)[rows]
    if np.nanmax(accuracy) > 1.5:  # some tables are in %
        accuracy = accuracy / 100.0
    return Family(name=name, graphs=GraphSet.concat(sets), accuracy=accuracy, archs=[bench.archs[r] for r in rows])


# the family of networks trained here: the IO dataset's NB-101 cells on digits (not a benchmark table)
IO_FAMILY = "io"


def io_family(folder: str | Path | None = None) -> Family:
    """The IO dataset's networks (``archpred.data.load_io_dataset``) as a test family: NB-101
    cells with the accuracy we measured on held-out digits, a task GENNAPE never saw. Their CGs
    are read from the NB-101 shards where a family build cached them (the cells come from our
    NB-101 table), else traced."""
    from archpred.data.io_dataset import load_io_dataset
    from archpred.gennape.inputs import to_graphs

    dataset = load_io_dataset(folder)
    archs = [net.cell for net in dataset.networks]
    return Family(name=IO_FAMILY, graphs=to_graphs(archs), accuracy=dataset.accuracy, archs=archs)


def _build_shard(path: Path, archs: list, keys: list[str], space: str) -> GraphSet:
    shard = GraphSet.from_graphs([build_graph(a, space) for a in archs], keys)
    shard.save(path)
    return shard


def _build_shard_job(job: tuple[Path, list, list[str], str]) -> Path:
    _build_shard(*job)
    return job[0]


def _build_in_pool(
    jobs: list[tuple[Path, list, list[str], str]],
    ready: int,
    n: int,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Build the shards of ``jobs`` in ``workers`` processes (``spawn``: a forked torch can hang
    on its thread pools), each saved by the worker that built it; ``ready`` graphs were cached."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from archpred.networks.train import _one_thread_worker

    with ProcessPoolExecutor(
        min(workers, len(jobs)), mp_context=get_context("spawn"), initializer=_one_thread_worker
    ) as pool:
        futures = {pool.submit(_build_shard_job, job): len(job[2]) for job in jobs}
        for future in as_completed(futures):
            future.result()
            ready += futures[future]
            if progress is not None:
                progress(min(ready, n), n)


def cached_graphs(name: str, keys: list[str]) -> dict[str, tuple[GraphSet, int]]:
    """Key -> (shard, row) for those of ``keys`` whose CGs ``load_family`` has already cached
    (nothing is built; a shard that does not match the table is ignored, as ``load_family``
    would rebuild it). The family's table is read once per process and data folder, and the
    last shards read stay in memory, so one cell's lookup costs microseconds (the cell editor
    asks once per new cell; tracing its network instead takes about 100 ms)."""
    from archpred.paths import data_dir

    folder = cache_dir("gennape", "graphs", name, create=False)
    if not folder.is_dir():
        return {}
    shard_of, expected = _family_index(name, str(data_dir()), SHARD)
    found: dict[str, tuple[GraphSet, int]] = {}
    for index in sorted({shard_of[k] for k in keys if k in shard_of}):
        path = folder / f"shard_{index:04d}.npz"
        if not path.is_file():
            continue
        shard = _cached_shard(str(path), path.stat().st_mtime_ns, expected[index])
        if shard is not None:
            row_of = {k: i for i, k in enumerate(shard.keys)}
            found.update({k: (shard, row_of[k]) for k in keys if k in row_of})
    return found


@lru_cache(maxsize=len(FAMILIES) * 2)
def _family_index(name: str, data_folder: str, shard_size: int) -> tuple[dict[str, int], tuple[tuple[str, ...], ...]]:
    """Key -> shard number, and the keys each shard must hold, from the family's table."""
    from archpred.data import load_benchmark

    spec = _spec(name)
    bench = load_benchmark(spec.benchmark)
    order = family_order(spec, bench.keys)
    shard_of = {bench.keys[r]: i // shard_size for i, r in enumerate(order)}
    expected = tuple(tuple(bench.keys[r] for r in order[i : i + shard_size]) for i in range(0, len(order), shard_size))
    return shard_of, expected


@lru_cache(maxsize=16)
def _cached_shard(path: str, mtime_ns: int, expected: tuple[str, ...]) -> GraphSet | None:
    """``_load_shard``, remembered per file version (the 16 last: ~100 MB at most)."""
    return _load_shard(Path(path), list(expected))


def _load_shard(path: Path, keys: list[str]) -> GraphSet | None:
    """A cached shard whose keys match the benchmark's rows, else ``None`` (rebuild it)."""
    if not path.is_file():
        return None
    try:
        shard = GraphSet.load(path)
    except Exception:
        return None
    return shard if list(shard.keys) == list(keys) else None
