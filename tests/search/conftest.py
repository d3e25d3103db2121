"""Shared bits of the search tests: spaces to run on, and small settings for tiny budgets."""

from __future__ import annotations

import numpy as np
import pytest

from archpred.search import SEARCHERS
from archpred.search.oracles import TableOracle

# Tiny budgets need a tiny population, or evolution never gets past its random start; NB-101's
# mutation rarely lands in the table (9% of the 20k cells, far less in the 300-cell fixture),
# so there it tries a few times only before falling back to a random table cell.
SMALL = {
    "random": {},
    "evolution": {"population_size": 6, "sample_size": 3},
    "local": {},
    "neural-predictor": {
        "n_initial": 5,
        "top_k": 4,
        "train_steps": 5,
        "pool_size": 300,
        "predictor_options": {"hidden": 8},
    },
    "bananas": {"n_initial": 5, "top_k": 4, "train_steps": 5, "num_candidates": 20},
    # a few GP fits per run: a big batch, a short random start, few acquisition starts
    "latent-bo": {"n_initial": 4, "batch": 8, "num_restarts": 1, "raw_samples": 32, "maxiter": 5},
    "reinforce": {"batch": 4},
    "soft-pareto": {"n_initial": 5, "top_k": 4, "train_steps": 5, "pool_size": 300, "predictor_options": {"hidden": 8}},
}


def small_options(algorithm: str, space: str) -> dict:
    options = dict(SMALL[algorithm])
    if space == "nb101" and algorithm == "evolution":
        options["max_tries"] = 5
    return options


@pytest.fixture(params=["nb201", "nb101"])
def space_name(request: pytest.FixtureRequest) -> str:
    """Both table spaces; NB-101 through ``nb101_data`` (skipped where the shared file is absent)."""
    if request.param == "nb101":
        request.getfixturevalue("nb101_data")
    return request.param


@pytest.fixture(params=SEARCHERS)
def algorithm(request: pytest.FixtureRequest) -> str:
    return request.param


def table_oracle(space: str, seed: int = 0) -> TableOracle:
    return TableOracle(space, "cifar10", np.random.default_rng(seed))
