"""The run store of network training: one JSON line per finished run, appended and flushed the
moment it is final, so a crash loses nothing finished; ``run_id`` says when two runs are the same."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any


def append_result(path: str | Path, result: dict[str, Any]) -> None:
    """Append one JSON line and flush it to disk at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(result) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """The results of a JSON-lines file (a torn last line from a crash is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def run_id(space: str, key: str, dataset: Any, config: Any, network: dict[str, Any] | None) -> str:
    """What makes two training runs the same: cell, dataset, recipe (device aside) and network options."""
    recipe = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("threads", "device")}
    name = getattr(dataset, "name", None) or str(dataset)
    return json.dumps([space, key, name, recipe, {k: str(v) for k, v in sorted((network or {}).items())}])
