"""The shipped NB-101 fixture is real benchmark data: each record's official hash is the hash of
its cell, and the benchmark's parameter count is that of the network archpred builds."""

from __future__ import annotations

import numpy as np

from archpred.data.loaders import load_nb101
from tests.conftest import FIXTURE_DATA

FILE = FIXTURE_DATA / "nb101" / "nb101_20k.json.gz"


def test_fixture_hashes_are_the_official_ones():
    bench = load_nb101(FILE)
    assert len(bench) == 300
    assert [bench.space.hash(a) for a in bench.archs] == bench.keys
    assert np.nanmax(bench.accuracy) > 0.949  # the sample's best cell is in it (the editor's default)


def test_fixture_parameter_counts_match_the_built_networks():
    from archpred.networks import expected_params

    bench = load_nb101(FILE)
    for i in np.random.default_rng(0).choice(len(bench), 3, replace=False):
        assert expected_params(bench.archs[i]) == int(bench.metrics["params"][i])
