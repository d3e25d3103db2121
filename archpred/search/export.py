"""A run's evaluations as text to save: CSV (one row per evaluation) or JSON (config + list).

One formatting for every front: ``python -m archpred runs export`` and the app's Search page
write the same files.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from archpred.errors import InvalidOption
from archpred.search.run import SearchResult

FIXED = ["idx", "key", "val_acc", "mean_val_acc", "test_acc", "cost", "time"]


def records(result: SearchResult) -> list[dict[str, Any]]:
    """Every evaluation of ``result`` in order, as JSON-ready dicts with their index ``idx``."""
    return [{"idx": i, **e.to_record()} for i, e in enumerate(result.history)]


def to_json(result: SearchResult) -> str:
    """``{"run_id", "status", "config", "evaluations"}``, indented, with a final newline."""
    doc = {"run_id": result.run_id, "status": result.status, "config": result.config, "evaluations": records(result)}
    return json.dumps(doc, indent=1) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    """One row per evaluation record (``records``): the fixed fields, the cell as JSON, then
    the algorithm's and the oracle's own fields (``extra``), sorted by name."""
    extra_keys = sorted({k for r in rows for k in r["extra"]})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED, "arch", *extra_keys])
    for r in rows:
        extras = [cell_text(r["extra"].get(k)) for k in extra_keys]
        writer.writerow([*(cell_text(r[k]) for k in FIXED), json.dumps(r["arch"]), *extras])
    return out.getvalue()


def cell_text(value: Any) -> str:
    """A CSV cell: empty for ``None``, JSON for lists and dicts, else ``str``."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def export_text(result: SearchResult, fmt: str) -> str:
    """``result`` as ``csv`` or ``json`` text."""
    if fmt == "json":
        return to_json(result)
    if fmt == "csv":
        return to_csv(records(result))
    raise InvalidOption(f"unknown export format {fmt!r}; choose csv or json")
