"""Checks of user-given option values against a config dataclass's declared field types, so a
bad value (``epochs=1.5``, ``epochs=True``, ``lr=nan``, ``hidden=None``) is one ``InvalidOption``
line naming the option, before any work starts, instead of a ``TypeError`` deep in a model.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

from archpred.errors import InvalidOption

# Field annotations are strings (``from __future__ import annotations``): the simple ones are
# checked, anything else (tuples, unions of several types, nested configs) is left to the config.
_CHECKS = {"int", "float", "str", "bool"}


def check_values(config_class: type, values: dict[str, Any], what: str = "") -> None:
    """Raise ``InvalidOption`` for the first of ``values`` (field name -> value, as a user gave
    them) that does not fit the annotation of that field of the dataclass ``config_class``
    (``int``: a whole number, not a bool; ``float``: a finite real number; ``str``; ``bool``;
    each optionally ``| None``). Run it before building the config: its own checks then see
    values of the right types."""
    prefix = f"{what} option " if what else "option "
    types = {f.name: str(f.type).replace(" ", "") for f in dataclasses.fields(config_class)}
    for name, value in values.items():
        kind = types.get(name, "")
        optional = kind.endswith("|None") or kind.startswith("None|")
        kind = kind.removesuffix("|None").removeprefix("None|")
        if kind not in _CHECKS or (value is None and optional):
            continue
        problem = _problem(kind, value)
        if problem:
            raise InvalidOption(f"{prefix}{name} must be {problem}, got {value!r}")


def _problem(kind: str, value: Any) -> str | None:
    if kind == "bool":
        return None if isinstance(value, bool) else "true or false"
    if kind == "str":
        return None if isinstance(value, str) else "text"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return "a whole number" if kind == "int" else "a number"
    if kind == "int":
        return None if isinstance(value, numbers.Integral) else "a whole number"
    return None if math.isfinite(float(value)) else "a finite number"
