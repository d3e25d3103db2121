"""``bench networks``: parameter counts of built networks against every benchmark record, and a
training run on digits.

    python -m archpred bench networks                   # analytic over all records + 200 built each
    python -m archpred bench networks --build all       # also build every record (meta device)
    python -m archpred bench networks --train-epochs 30 # plus an NB-101 cell trained on digits
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from archpred.errors import InvalidOption

DEFAULT_CELL = {
    "adjacency": [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
    "ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"],
}


@dataclasses.dataclass(frozen=True)
class NetworksBenchConfig:
    """Args:
    benchmarks: a subset of ``network_counts.BENCHMARKS`` whose records are checked (may be empty).
    build: records per benchmark also built on the meta device and counted (None: all).
    train_epochs: also train ``DEFAULT_CELL`` (NB-101) on digits for this many epochs (0: skip).
    width: stem channels of that network; device: where it trains (auto, cpu, cuda, cuda:N).
    out: write the results as JSON here; progress: progress bars.
    """

    benchmarks: tuple[str, ...] = ("nb101", "nb201", "macro")
    build: int | None = 200
    train_epochs: int = 0
    width: int = 16
    device: str = "auto"
    out: Path | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        from archpred.bench.network_counts import BENCHMARKS

        for name in self.benchmarks:
            if name not in BENCHMARKS:
                raise InvalidOption(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")


def run_networks(config: NetworksBenchConfig) -> dict[str, Any]:
    """Check the counts of every benchmark of ``config``, optionally train on digits; returns the results."""
    from archpred.artifacts import atomic_write_text
    from archpred.bench.network_counts import check_benchmark

    build = 10**9 if config.build is None else config.build
    results: dict[str, Any] = {"counts": []}
    for name in config.benchmarks:
        r = check_benchmark(name, build=build, progress=config.progress)
        results["counts"].append(r)
        flops = f", flops {r['flops_matched']}/{r['records']}" if "flops_matched" in r else ""
        print(
            f"{name}: params {r['params_matched']}/{r['records']}{flops} matched (analytic {r['analytic_s']}s); "
            f"built {r['built_matched']}/{r['built_checked']} matched ({r['build_s']}s); load {r['load_s']}s"
        )
    if config.train_epochs > 0:
        results["training"] = _train_digits(config)
    if config.out is not None:
        atomic_write_text(config.out, json.dumps(results, indent=2) + "\n")
    return results


def _train_digits(config: NetworksBenchConfig) -> dict[str, Any]:
    from archpred.networks.train import TrainConfig, train_classifier

    recipe = TrainConfig(epochs=config.train_epochs, seed=0, device=config.device)
    r = train_classifier(DEFAULT_CELL, "nb101", recipe, network={"width": config.width}, progress=config.progress)
    print(
        f"digits: NB-101 cell, width {config.width}, {r['params']} params, {config.train_epochs} epochs: "
        f"test acc {r['test_acc']:.4f}, val {r['val_acc']:.4f}, train {r['train_acc']:.4f} "
        f"in {r['train_seconds']:.1f}s"
    )
    return {k: v for k, v in r.items() if k != "history"}
