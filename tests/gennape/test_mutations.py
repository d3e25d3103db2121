"""CG mutations: every core keeps the network runnable with its shapes; edits replay on other
builds of the same cell; bad edits are refused in one line."""

import numpy as np
import pytest
import torch

from archpred.errors import InvalidOption
from archpred.gennape.mutations import CORES, Edit, allowed_cores, apply_edit, apply_edits, chains, random_edit, traced
from archpred.networks import build_network, to_computation_graph
from archpred.spaces import get_space

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
SHAPE = (1, 8, 8)


def tiny_net(width: int = 4, size: int = 8):
    arch = get_space("nb201").parse(CELL)
    return build_network(arch, "nb201", width=width, depth=1, input_size=size, in_channels=1, num_classes=10)


@pytest.fixture(scope="module")
def gm():
    return traced(tiny_net(), SHAPE)


def _stride(gm, chain):
    nodes = {n.name: n for n in gm.graph.nodes}
    first, last = nodes[chain[0]].all_input_nodes[0], nodes[chain[-1]]
    return first.meta["tensor_meta"].shape[2] // last.meta["tensor_meta"].shape[2]


def _a_chain(gm, stride: int, same_channels: bool):
    for chain in chains(gm):
        nodes = {n.name: n for n in gm.graph.nodes}
        c_in = nodes[chain[0]].all_input_nodes[0].meta["tensor_meta"].shape[1]
        c_out = nodes[chain[-1]].meta["tensor_meta"].shape[1]
        if _stride(gm, chain) == stride and (c_in == c_out) == same_channels:
            return chain
    raise AssertionError(f"no chain of stride {stride}")


@pytest.mark.parametrize("core", list(CORES))
@pytest.mark.parametrize("stride", [1, 2])
def test_every_core_keeps_the_network_runnable_with_its_output(gm, core, stride):
    chain = _a_chain(gm, stride, same_channels=True)
    if core not in allowed_cores(gm, chain):
        assert core == "identity" and stride == 2
        return
    child = apply_edit(gm, Edit(chain, core), 0, SHAPE)
    x = torch.randn(3, *SHAPE)
    assert child.eval()(x).shape == (3, 10)
    names = {n.name for n in child.graph.nodes}
    assert "mut0" in names and not set(chain) & names
    assert len(child.graph.nodes) == len(gm.graph.nodes) - len(chain) + 1
    cg = to_computation_graph(child, SHAPE)  # the mutant traces into primitives like any network
    assert cg.num_nodes > 0 and "other" not in cg.ops
    assert "mut0" not in {n.name for n in gm.graph.nodes}  # the parent is left as it was


def test_a_channel_changing_chain_refuses_pools_and_identity(gm):
    chain = _a_chain(gm, 2, same_channels=False)
    assert set(allowed_cores(gm, chain)) == {c for c, need in CORES.items() if need == "any"}
    with pytest.raises(InvalidOption, match="does not fit"):
        apply_edit(gm, Edit(chain, "identity"), 0, SHAPE)


def test_chains_are_single_user_paths_of_primitives(gm):
    nodes = {n.name: n for n in gm.graph.nodes}
    found = chains(gm)
    assert len(found) > 10
    for chain in found:
        for a, b in zip(chain, chain[1:]):
            assert list(nodes[a].users) == [nodes[b]]
        assert all(nodes[n].op == "call_module" for n in chain)


def test_edits_replay_on_another_build_of_the_cell():
    rng = np.random.default_rng(1)
    small = traced(tiny_net(), SHAPE)
    edits = []
    for i in range(3):
        edits.append(random_edit(small, rng))
        small = apply_edit(small, edits[-1], i, SHAPE)
    wide = apply_edits(tiny_net(width=8, size=16), edits, (1, 16, 16))
    assert wide(torch.randn(2, 1, 16, 16)).shape == (2, 10)
    assert [n for n in (f"mut{i}" for i in range(3)) if n not in dict(wide.named_modules())] == []


def test_random_edits_never_keep_the_chain_as_it_was(gm):
    rng = np.random.default_rng(0)
    for _ in range(40):
        edit = random_edit(gm, rng)
        if len(edit.nodes) == 1:
            module = dict(gm.named_modules())[dict((n.name, n) for n in gm.graph.nodes)[edit.nodes[0]].target]
            assert not (isinstance(module, torch.nn.Identity) and edit.core == "identity")
        assert edit.core in allowed_cores(gm, edit.nodes)


@pytest.mark.parametrize(
    "edit, message",
    [
        (Edit(("no_such_node",), "conv3x3"), "no node"),
        (Edit(("stem_0",), "no_such_core"), "unknown core"),
    ],
)
def test_bad_edits_are_refused(gm, edit, message):
    with pytest.raises(InvalidOption, match=message):
        apply_edit(gm, edit, 0, SHAPE)


def test_nodes_that_are_no_chain_are_refused(gm):
    stem_conv, stem_bn = "stem_0", "stem_1"  # the stem BN feeds three edges: it ends every chain
    after = [n.name for n in gm.graph.nodes if n.name.startswith("cells_0_edges_0")]
    with pytest.raises(InvalidOption, match="not a replaceable chain"):
        apply_edit(gm, Edit((stem_conv, stem_bn, after[0]), "conv3x3"), 0, SHAPE)


def test_edits_round_trip_through_json():
    edit = Edit(("a", "b"), "sep3x3")
    assert Edit.from_dict(edit.to_dict()) == edit
