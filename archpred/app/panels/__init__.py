"""Panels of the cell editor, each a module with ``render(space_name, arch)``, drawn in order
under the cell."""

from __future__ import annotations

from collections.abc import Callable

from archpred.spaces import Architecture


def available_panels() -> list[Callable[[str, Architecture], None]]:
    """The panels' ``render`` functions (explicit imports: a misspelt panel fails loudly)."""
    from archpred.app.panels import gennape, network, predictions

    return [predictions.render, gennape.render, network.render]
