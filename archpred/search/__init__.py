"""Architecture search: ask/tell searchers, benchmark oracles, a durable run store.

``run_search(space=..., algorithm=..., budget=..., seed=..., store=...)`` runs one search
(``resume_search``, ``load_run``, ``list_runs`` read the store back); ``make_searcher(name,
space, rng, **options)`` builds an algorithm (names in ``SEARCHERS``) for an ask/tell loop of
your own (``archpred.search.base``).
"""

from __future__ import annotations

from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.registry import SEARCHERS, make_searcher, searcher_class, searcher_options
from archpred.search.run import RunSummary, SearchResult, list_runs, load_run, resume_search, run_search

__all__ = [
    "SEARCHERS",
    "Candidates",
    "Evaluation",
    "RunSummary",
    "SearchResult",
    "Searcher",
    "list_runs",
    "load_run",
    "make_searcher",
    "resume_search",
    "run_search",
    "searcher_class",
    "searcher_options",
]
