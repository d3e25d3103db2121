"""NASLib's zero-cost proxy scores for NB-201 cells (``../shared/data/nb201/naslib_zc_nasbench201.json``).

NASLib keys a cell by its 6 op codes in NASLib's edge order (1-2, 1-3, 1-4, 2-3, 2-4, 3-4) with
codes 0 skip, 1 none, 2 conv 3x3, 3 conv 1x1, 4 avg-pool; we key it by the official arch string
(edges 1-2, 1-3, 2-3, 1-4, 2-4, 3-4). The mapping is checked by NASLib's own ``val_accuracy``
against our table (Spearman 0.991 over the 724 CIFAR-10 cells; the wrong edge order gives 0.74).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from archpred.errors import DataNotFound, InvalidOption
from archpred.paths import data_dir

PROXIES = ("synflow", "jacov", "fisher", "snip", "grad_norm", "grasp", "nwot", "epe_nas", "plain", "l2_norm")
_NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
_TO_STRING_ORDER = (0, 1, 3, 2, 4, 5)  # NASLib edge i -> position in the arch string
DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16-120": "ImageNet16-120"}


def naslib_key_to_arch_string(codes: tuple[int, ...]) -> str:
    """NASLib's op-code tuple as the official NB-201 arch string."""
    ops = [_NASLIB_OPS[codes[i]] for i in _TO_STRING_ORDER]
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


def load_nb201_zero_cost(dataset: str = "cifar10", path: str | Path | None = None) -> dict[str, dict[str, float]]:
    """arch string -> {proxy: score, "val_accuracy": fraction} for the cells NASLib scored."""
    if dataset not in DATASETS:
        raise InvalidOption(f"unknown NB-201 dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    file = Path(path) if path is not None else data_dir() / "nb201" / "naslib_zc_nasbench201.json"
    if not file.is_file():
        raise DataNotFound(f"NASLib zero-cost scores not found: expected {file}")
    table = json.loads(file.read_text())[DATASETS[dataset]]
    out = {}
    for key, record in table.items():
        scores = {p: float(record[p]["score"]) for p in PROXIES if isinstance(record.get(p), dict)}
        scores["val_accuracy"] = float(record["val_accuracy"]) / 100.0
        out[naslib_key_to_arch_string(ast.literal_eval(key))] = scores
    return out
