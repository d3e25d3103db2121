"""Search algorithms by name: ``make_searcher(name, space, rng, **options)``.

The registry imports each algorithm's module inside ``searcher_class`` (explicit imports, so
jump-to-definition works and a misspelt module is an ImportError), and only on first use.
The names are the same in the API, the CLI and the app.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Candidates, Searcher
from archpred.spaces import SearchSpace

# Each algorithm's name joins SEARCHERS when its module lands (the CLI help lists them too).
SEARCHERS = ("random", "evolution", "local", "neural-predictor", "bananas", "soft-pareto", "latent-bo", "reinforce")


def searcher_class(name: str) -> type[Searcher]:
    """The class registered as ``name`` (one of ``SEARCHERS``)."""
    if name == "random":
        from archpred.search.random_search import RandomSearch

        return RandomSearch
    if name == "evolution":
        from archpred.search.evolution import RegularizedEvolution

        return RegularizedEvolution
    if name == "local":
        from archpred.search.local import LocalSearch

        return LocalSearch
    if name == "neural-predictor":
        from archpred.search.neural_predictor import NeuralPredictorSearch

        return NeuralPredictorSearch
    if name == "bananas":
        from archpred.search.bananas import Bananas

        return Bananas
    if name == "soft-pareto":
        from archpred.search.pareto import SoftPareto

        return SoftPareto
    if name == "latent-bo":
        from archpred.search.latent_bo import LatentBO

        return LatentBO
    if name == "reinforce":
        from archpred.search.reinforce import Reinforce

        return Reinforce
    raise InvalidOption(f"unknown search algorithm {name!r}; choose from {', '.join(SEARCHERS)}")


def searcher_options(name: str) -> dict[str, Any]:
    """The options ``name`` takes, with their defaults (``space``, ``rng``, ``candidates`` aside)."""
    params = inspect.signature(searcher_class(name).__init__).parameters
    return {p: v.default for p, v in params.items() if p not in ("self", "space", "rng", "candidates")}


def make_searcher(
    name: str,
    space: SearchSpace,
    rng: np.random.Generator,
    candidates: Candidates | None = None,
    **options: Any,
) -> Searcher:
    """A new searcher; an unknown name or option is an ``InvalidOption`` naming the choices."""
    known = searcher_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        takes = ", ".join(known) or "no options"
        raise InvalidOption(f"unknown option(s) {', '.join(unknown)} for {name}; it takes {takes}")
    return searcher_class(name)(space, rng, candidates=candidates, **options)
