"""Architecture search: ask/tell searchers, benchmark oracles, a durable run store.

``make_searcher(name, space, rng, **options)`` builds an algorithm (names in ``SEARCHERS``);
a searcher's ``ask``/``tell``/``state_dict`` are in ``archpred.search.base``.
"""

from __future__ import annotations

from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.registry import SEARCHERS, make_searcher, searcher_class, searcher_options

__all__ = [
    "SEARCHERS",
    "Candidates",
    "Evaluation",
    "Searcher",
    "make_searcher",
    "searcher_class",
    "searcher_options",
]
