"""Search spaces by name: ``get_space("nb101" | "nb201" | "enas" | "macro")``."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from archpred.errors import InvalidOption
from archpred.spaces.base import Architecture, SearchSpace

SPACES = {
    "nb101": "archpred.spaces.nb101:NB101Space",
    "nb201": "archpred.spaces.nb201:NB201Space",
    "enas": "archpred.spaces.enas:ENASSpace",
    "macro": "archpred.spaces.macro:MacroSpace",
}


@cache
def get_space(name: str) -> SearchSpace:
    """The search space called ``name`` (built once, on first use)."""
    if name not in SPACES:
        raise InvalidOption(f"unknown search space {name!r}; choose from {', '.join(SPACES)}")
    module, cls = SPACES[name].split(":")
    return getattr(import_module(module), cls)()


def available_spaces() -> list[str]:
    """Names of spaces whose module is present."""
    out = []
    for name, target in SPACES.items():
        try:
            import_module(target.split(":")[0])
        except ModuleNotFoundError:
            continue
        out.append(name)
    return out


__all__ = ["SPACES", "Architecture", "SearchSpace", "available_spaces", "get_space"]
