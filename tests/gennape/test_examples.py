"""The built-in example networks: they run, trace, and their ONNX files give the module's own CG."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import InvalidOption
from archpred.gennape.examples import EXAMPLES, example_network, example_onnx_bytes
from archpred.gennape.graphs import GraphSet
from archpred.gennape.inputs import onnx_graph, to_graphs
from archpred.networks import count_flops, count_params
from archpred.networks.graph import to_computation_graph


@pytest.fixture(scope="module")
def nets() -> dict:
    return {name: build() for name, build in EXAMPLES.items()}


@pytest.fixture(scope="module")
def exported() -> dict:
    return {name: example_onnx_bytes(name) for name in EXAMPLES}


def test_the_issue_asks_for_a_resnet_and_a_mobilenet():
    assert {"resnet-ish", "mobilenet-ish"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_classify_cifar_sized_images(name, nets):
    net = nets[name].eval()
    with torch.no_grad():
        assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_trace_with_exact_counts(name, nets):
    net = nets[name]
    graph = to_computation_graph(net)
    ops = set(graph.ops)
    assert {"conv", "batchnorm", "add", "global_avgpool", "linear"} <= ops and "other" not in ops
    if name == "mobilenet-ish":
        assert {"depthwise_conv", "activation"} <= ops and "relu" not in ops  # ReLU6 only
    else:
        assert "relu" in ops and "depthwise_conv" not in ops
    graphs = to_graphs([net])
    assert graphs.keys == (type(net).__name__,)
    assert graphs.flops[0] == count_flops(net) and graphs.params[0] == count_params(net)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_onnx_export_gives_the_modules_graph(name, nets, exported):
    """Same op counts, FLOPs, parameters and Laplacian spectrum by fx and by ONNX."""
    net = nets[name]
    fx = to_computation_graph(net)
    from_file = onnx_graph(exported[name], f"{name}.onnx")
    assert sorted(from_file.ops) == sorted(fx.ops)
    both = GraphSet.from_graphs([fx, from_file])
    assert both.flops.tolist() == [count_flops(net)] * 2
    assert both.params.tolist() == [count_params(net)] * 2
    np.testing.assert_allclose(both.spectrum[0], both.spectrum[1], atol=1e-5)


def test_folded_batchnorm_keeps_flops_but_drops_bn_nodes(nets):
    """torch's default export fuses eval-mode BN into the conv: FLOPs stay, the BN nodes and
    their parameters go (the conv gains a bias: C instead of BN's 2C per layer)."""
    net = nets["resnet-ish"]
    folded = onnx_graph(example_onnx_bytes("resnet-ish", fold_batchnorm=True))
    assert "batchnorm" not in folded.ops
    graphs = GraphSet.from_graphs([folded])
    bn_channels = sum(m.num_features for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert graphs.flops[0] == count_flops(net)
    assert graphs.params[0] == count_params(net) - bn_channels


def test_export_is_seeded_and_leaves_the_global_rng(exported):
    state = torch.random.get_rng_state()
    again = example_onnx_bytes("resnet-ish")
    assert torch.equal(torch.random.get_rng_state(), state)
    assert again == exported["resnet-ish"]


def test_unknown_example():
    with pytest.raises(InvalidOption, match="unknown example network 'vgg'; choose from resnet-ish, mobilenet-ish"):
        example_network("vgg")
