"""Real benchmark tables: ``load_benchmark("nb101" | "nb201" | "enas" | "macro", **options)``."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from archpred.data.benchmark import Benchmark

BENCHMARKS = {
    "nb101": "archpred.data.loaders:load_nb101",
    "nb201": "archpred.data.loaders:load_nb201",
    "enas": "archpred.data.loaders:load_enas",
    "macro": "archpred.data.macro:load_macro",
}


def load_benchmark(name: str, **options: Any) -> Benchmark:
    """Load a benchmark table by name; ``options`` go to its loader (``path=``, ``dataset=``)."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    module, fn = BENCHMARKS[name].split(":")
    return getattr(import_module(module), fn)(**options)


__all__ = ["BENCHMARKS", "Benchmark", "load_benchmark"]
