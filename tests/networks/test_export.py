"""ONNX export: the file loads and passes onnx.checker, computes what the torch network computes,
takes any batch size, and leaves the caller's RNG alone."""

import numpy as np
import onnx
import pytest
import torch

from archpred.networks import build_network
from archpred.networks.export import INPUT_NAME, OUTPUT_NAME, onnx_bytes
from archpred.spaces import get_space
from archpred.training import seeded

NB201 = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
NB101 = (
    '{"adjacency": [[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]], "ops": ["input","conv3x3-bn-relu","maxpool3x3","output"]}'
)


@pytest.mark.parametrize(("space", "text"), [("nb201", NB201), ("nb101", NB101), ("macro", "01200120")])
def test_onnx_file_loads_and_checks(space, text):
    arch = get_space(space).parse(text)
    model = onnx.load_from_string(onnx_bytes(arch, width=4))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input][:1] == [INPUT_NAME]
    assert [o.name for o in model.graph.output] == [OUTPUT_NAME]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 32, 32]


def test_onnx_graph_is_the_torch_network():
    """Same weights (seed 0), same logits: run the ONNX graph with onnx's reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    arch = get_space("nb201").parse(NB201)
    model = onnx.load_from_string(onnx_bytes(arch, width=4, depth=1))
    with seeded(0):
        net = build_network(arch, width=4, depth=1).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    (got,) = ReferenceEvaluator(model).run(None, {INPUT_NAME: x})
    assert got.shape == expected.shape == (2, 10)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_export_leaves_the_global_rng_alone():
    before = torch.random.get_rng_state()
    onnx_bytes(get_space("macro").parse("01200120"), width=4)
    assert torch.equal(before, torch.random.get_rng_state())


def test_a_bad_option_is_a_value_error():
    with pytest.raises(ValueError, match="unknown nb201 network option"):
        onnx_bytes(get_space("nb201").parse(NB201), colour=3)
