"""Fuzzing every parser of user text (#15): whatever a user types or uploads as a cell, each
space answers with a cell of its own or one ``InvalidArchitecture`` line; ``--set`` values parse
or give one ``ValueError`` line. Nothing else escapes (no IndexError, RecursionError, ...)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archpred.cli.common import parse_key_values
from archpred.errors import InvalidArchitecture
from archpred.spaces import get_space

SPACES = ("nb101", "nb201", "enas", "macro")
OPS = ["input", "output", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "nor_conv_3x3", "none", "x"]

# JSON-like values with the atoms that break naive parsers: NaN, huge ints, bools where ints go.
atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(OPS),
)
values = st.recursive(
    atoms,
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=40,
)
matrices = st.integers(0, 9).flatmap(
    lambda n: st.lists(
        st.lists(st.sampled_from([0, 1, 2, -1, 0.5, True, None, "1"]), min_size=n, max_size=n), min_size=n, max_size=n
    )
)
cells = st.fixed_dictionaries(
    {"adjacency": matrices | values, "ops": st.lists(st.sampled_from(OPS), max_size=10) | values},
    optional={"extra": values},
)
texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="|~+0123456789_abcdefghijklmnopqrstuvwxyz", max_size=120).map(lambda t: "|" + t),
    st.text(alphabet='[]{},:0123456789" ', max_size=200),
    st.binary(max_size=200),
    values.map(json.dumps),
    cells.map(json.dumps),
)


def _parse(space: str, item) -> None:
    try:
        arch = get_space(space).parse(item)
    except InvalidArchitecture as err:
        assert str(err) and len(str(err).splitlines()) == 1
        return
    assert arch.space == space
    get_space(space).key(arch)  # a parsed cell is a whole cell: it has its key


@pytest.mark.parametrize("space", SPACES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=texts)
def test_any_text_is_a_cell_or_one_line(space, item):
    _parse(space, item)


@pytest.mark.parametrize("space", SPACES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=st.one_of(cells, values))
def test_any_json_value_is_a_cell_or_one_line(space, item):
    _parse(space, item)


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_refused(space, depth):
    _parse(space, "[" * depth + "]" * depth)
    _parse(space, '{"adjacency": ' + "[" * depth + "]" * depth + ', "ops": []}')


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.text(max_size=40), max_size=4))
def test_set_values_parse_or_give_one_line(pairs):
    try:
        out = parse_key_values(pairs, "--set")
    except ValueError as err:
        assert str(err).startswith("--set") and len(str(err).splitlines()) == 1
        return
    assert all(k and "-" not in k for k in out)


def test_set_values_nested_too_deeply():
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_key_values(["x=" + "[" * 100_000], "--set")
