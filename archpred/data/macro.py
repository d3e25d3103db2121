"""NAS-Bench-Macro (Su et al., CVPR 2021): 6,561 networks trained on CIFAR-10, 3 runs each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from archpred.data.benchmark import Benchmark
from archpred.errors import DataNotFound, InvalidData
from archpred.paths import data_dir
from archpred.spaces import get_space

MACRO_FILE = "nas-bench-macro_cifar10.json"


def load_macro(path: str | Path | None = None) -> Benchmark:
    """NAS-Bench-Macro's ``nas-bench-macro_cifar10.json`` (default under ``$ARCHPRED_DATA_DIR/macro``).

    Target ``test_acc``: mean CIFAR-10 test accuracy over 3 runs, as a fraction. Other metrics:
    ``std`` (of the 3 runs, fraction), ``params`` (count), ``flops`` (multiply-adds of convs and
    the classifier, see ``archpred.networks.count_flops``).
    """
    file = Path(path) if path else data_dir() / "macro" / MACRO_FILE
    if not file.exists():
        raise DataNotFound(
            f"NAS-Bench-Macro data not found: expected {file}. Set $ARCHPRED_DATA_DIR to a folder holding "
            f"macro/{MACRO_FILE} (default ../shared/data beside the project)."
        )
    try:
        with open(file) as f:
            table = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as err:
        raise InvalidData(f"{file} is not a NAS-Bench-Macro JSON table ({type(err).__name__})") from None
    if not isinstance(table, dict):
        raise InvalidData(f"{file}: expected an object keyed by 8-digit architecture keys")
    space = get_space("macro")
    keys = sorted(table)
    try:
        archs = [space.cell(k) for k in keys]
        rows = [table[k] for k in keys]
        metrics = {
            "test_acc": np.array([float(r["mean_acc"]) / 100.0 for r in rows]),
            "std": np.array([float(r["std"]) / 100.0 for r in rows]),
            "params": np.array([float(r["params"]) for r in rows]),
            "flops": np.array([float(r["flops"]) for r in rows]),
        }
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidData(f"{file}: not a NAS-Bench-Macro table ({type(err).__name__}: {err})") from None
    return Benchmark("macro", space, archs, metrics, "test_acc", keys, {"source": str(file)})
