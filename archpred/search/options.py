"""Checks of searcher options, so a bad value is one ``InvalidOption`` line."""

from __future__ import annotations

from typing import Any

from archpred.errors import InvalidOption


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or an ``InvalidOption`` naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 1:
        raise InvalidOption(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def optional_positive_int(name: str, value: Any) -> int | None:
    """``None`` or ``positive_int``."""
    return None if value is None else positive_int(name, value)
