"""Optional panels of the cell editor, each a module with ``render(space_name, arch)``.

A panel whose module is missing is skipped, so capabilities can be added independently.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

PANEL_MODULES = (
    "archpred.app.panels.predictions",
    "archpred.app.panels.network",
)


def available_panels() -> list[Callable]:
    out = []
    for name in PANEL_MODULES:
        try:
            out.append(import_module(name).render)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
    return out
