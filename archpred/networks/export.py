"""The network of a cell as an ONNX file, for Netron, ONNX Runtime or any other framework.

``onnx_bytes(arch)`` builds the benchmark's network (``build_network``) and exports it with
``torch.onnx.export``'s TorchScript exporter (``dynamo=False``): the torch.export-based default
needs the ``onnxscript`` package, which archpred does not depend on. The weights are the freshly
initialised ones (drawn under ``seeded(seed)``, the caller's RNG untouched): the file shows the
architecture and its shapes, not a trained model.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from archpred.networks import build_network, input_shape, resolve_arch

OPSET = 17
INPUT_NAME, OUTPUT_NAME = "image", "logits"


def onnx_bytes(arch: Any, space: str | None = None, seed: int = 0, **config: Any) -> bytes:
    """The ONNX model (serialised ``ModelProto``) of ``build_network(arch, space, **config)`` in
    eval mode, with input ``image`` of shape (batch, C, H, W) (batch dynamic) and output ``logits``.

    Raises ``ValueError`` for an unknown space or network option (as ``build_network`` does).
    """
    import torch

    from archpred.training import seeded

    name, arch = resolve_arch(arch, space)
    with seeded(seed):
        net = build_network(arch, name, **config).eval()
    dummy = torch.zeros(1, *input_shape(net))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            net,
            (dummy,),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    return buffer.getvalue()
