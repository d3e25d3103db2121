"""``bench scoring``: every cell of a space scored by a predictor, timed against this machine's
matmul in the same run (``python -m archpred bench scoring``).

Each model is the predictor's default configuration (``make_predictor(name)``) fitted briefly
on the space's first benchmark cells: scoring time does not depend on what the weights learnt.
FLOPs per cell are counted by ``torch.utils.flop_counter`` on one batch (predictors without a
torch network report none), so achieved FLOP/s and their fraction of the matmul's say how well
the batched path uses the machine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text

# The aims on this 2-core CPU (seconds for all of NB-101).
AIMS = {("nb101", "neural-predictor"): 10.0, ("nb101", "gnn"): 30.0}


@dataclasses.dataclass(frozen=True)
class ScoringBenchConfig:
    """Args:
    spaces: spaces to score whole.
    predictors: predictor names (``make_predictor``).
    fit_cells, fit_epochs: the brief fit that gives each predictor its weights.
    batch_size: cells per scoring batch.
    device: ``auto`` (CUDA when present), ``cpu``, ``cuda``.
    out: the JSON report (the Markdown goes beside it).
    """

    spaces: tuple[str, ...] = ("nb101", "nb201")
    predictors: tuple[str, ...] = ("neural-predictor", "gnn")
    fit_cells: int = 200
    fit_epochs: int = 2
    batch_size: int = 32_768
    vaes: tuple[str, ...] = ("arch2vec", "svge")  # whole-space embeddings timed (shipped models)
    projections: tuple[str, ...] = ("PCA",)  # of those embeddings (UMAP of NB-101: minutes)
    device: str = "auto"
    out: Path = Path("reports/scoring.json")
    command: str = ""


def run_scoring(config: ScoringBenchConfig, log: Any = print) -> dict[str, Any]:
    """Score every space with every predictor; returns (and writes) the report."""
    import torch

    from archpred.bench.machine import matmul_gflops
    from archpred.spaces import get_space
    from archpred.training import resolve_device

    device = resolve_device(config.device)
    report: dict[str, Any] = {
        "command": config.command,
        "machine": f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}",
        "device": str(device),
        "matmul_gflops": matmul_gflops(device),
        "load_average": os.getloadavg()[0],  # other jobs on the machine slow everything
        "rows": [],
    }
    for space in config.spaces:
        started = time.perf_counter()
        arrays = get_space(space).arrays(progress=False)
        arrays_seconds = time.perf_counter() - started
        log(f"{space}: {len(arrays):,} cells as arrays in {arrays_seconds:.2f} s")
        for name in config.predictors:
            row = _score_one(space, name, arrays, config, device)
            row["arrays_seconds"] = arrays_seconds
            row["matmul_fraction"] = row["gflops"] / report["matmul_gflops"] if row["gflops"] else None
            report["rows"].append(row)
            log(
                f"  {name}: {row['seconds']:.2f} s, {row['cells_per_second']:,.0f} cells/s, {row['gflops']:.1f} GFLOP/s"
            )
        report.setdefault("maps", []).extend(_map_rows(space, config, device, log))
    report["matmul_gflops_after"] = matmul_gflops(device)  # the machine may have changed speed meanwhile
    report["load_average_after"] = os.getloadavg()[0]
    atomic_write_text(config.out, json.dumps(report, indent=2))
    render_report(report, config.out.with_suffix(".md"))
    return report


def _score_one(space: str, name: str, arrays: Any, config: ScoringBenchConfig, device: Any) -> dict[str, Any]:
    from archpred.data import load_benchmark
    from archpred.predictors import make_predictor, predictor_class
    from archpred.predictors.scoring import score_space

    bench = load_benchmark(space)
    n = min(config.fit_cells, len(bench))
    options = {"epochs": config.fit_epochs} if "epochs" in predictor_class(name).Config.__dataclass_fields__ else {}
    model = make_predictor(name, seed=0, device=str(device), **options).fit(bench.archs[:n], bench[bench.target][:n])
    score_space(model, arrays=arrays, batch_size=config.batch_size)  # warm-up: first-call costs
    scores = score_space(model, arrays=arrays, batch_size=config.batch_size)
    flops = _flops_per_cell(model, arrays)
    return {
        "space": space,
        "predictor": name,
        "cells": len(scores),
        "seconds": scores.seconds,
        "cells_per_second": len(scores) / scores.seconds,
        "flops_per_cell": flops,
        "gflops": flops * len(scores) / scores.seconds / 1e9 if flops else 0.0,
        "aim_seconds": AIMS.get((space, name)),
        "finite": bool(np.isfinite(scores.predictions).all()),
    }


def _map_rows(space: str, config: ScoringBenchConfig, device: Any, log: Any) -> list[dict[str, Any]]:
    """The whole-space map's work: each VAE's embedding of every cell, then its projections."""
    import tempfile

    from archpred.vae.model import default_paths, load_vae
    from archpred.vae.projection import project
    from archpred.vae.space_map import embed_space

    rows = []
    for kind in config.vaes:
        if not any(p.exists() for p in default_paths(kind, space)):
            continue
        vae = load_vae(kind, space, device=str(device))
        with tempfile.TemporaryDirectory(prefix="archpred-bench-embed-") as folder:
            started = time.perf_counter()
            x = embed_space(vae, folder)
            seconds = time.perf_counter() - started
        rows.append({"space": space, "what": f"{kind} embedding", "cells": len(x), "seconds": seconds})
        log(f"  {kind} embedding of {len(x):,} cells: {seconds:.1f} s")
        for method in config.projections:
            started = time.perf_counter()
            project(x, method)
            seconds = time.perf_counter() - started
            rows.append(
                {"space": space, "what": f"{method} of the {kind} embedding", "cells": len(x), "seconds": seconds}
            )
            log(f"  {method}: {seconds:.1f} s")
    return rows


def _flops_per_cell(model: Any, arrays: Any, cells: int = 1024) -> float:
    """FLOPs of one scoring batch over its cells, as torch's flop counter sees them."""
    if not getattr(model, "reads_padded", False):
        return 0.0
    from torch.utils.flop_counter import FlopCounterMode

    rows = slice(0, min(cells, len(arrays)))
    with FlopCounterMode(display=False) as counter:
        model.predict_padded(arrays.adjacency[rows], arrays.types[rows])
    return counter.get_total_flops() / (rows.stop - rows.start)


def render_report(report: dict[str, Any], path: Path) -> Path:
    """``reports/scoring.md`` from the JSON report."""
    lines = [
        "# Scoring a whole space",
        "",
        "Command (every number below comes from it):",
        "",
        f"    {report['command'] or 'python -m archpred bench scoring'}",
        "",
        f"Machine: {report['machine']}; device {report['device']}. Its 1024x1024 fp32 matmul: "
        f"{report['matmul_gflops']:.1f} GFLOP/s before, {report.get('matmul_gflops_after', float('nan')):.1f} after; "
        f"1-minute load average {report.get('load_average', float('nan')):.1f} before, "
        f"{report.get('load_average_after', float('nan')):.1f} after (above the thread count: other jobs shared the cores).",
        "Each predictor is its default configuration fitted briefly (scoring time does not depend on the "
        "weights); `arrays` is reading the space's padded graphs (NB-101: from the enumeration cache).",
        "",
        "| space | predictor | cells | arrays s | scoring s | cells/s | MFLOP/cell | GFLOP/s | of matmul | aim s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        frac = f"{100 * r['matmul_fraction']:.0f} %" if r.get("matmul_fraction") else "-"
        aim = "-" if r.get("aim_seconds") is None else f"<= {r['aim_seconds']:.0f}"
        lines.append(
            f"| {r['space']} | {r['predictor']} | {r['cells']:,} | {r['arrays_seconds']:.2f} | {r['seconds']:.2f} | "
            f"{r['cells_per_second']:,.0f} | {r['flops_per_cell'] / 1e6:.2f} | {r['gflops']:.1f} | {frac} | {aim} |"
        )
    if report.get("maps"):
        lines += [
            "",
            "## The whole-space map's work (Embedding map, whole space)",
            "",
            "| space | what | cells | seconds | cells/s |",
            "|---|---|---|---|---|",
        ]
        for r in report["maps"]:
            lines.append(
                f"| {r['space']} | {r['what']} | {r['cells']:,} | {r['seconds']:.1f} | {r['cells'] / r['seconds']:,.0f} |"
            )
    path = Path(path)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
