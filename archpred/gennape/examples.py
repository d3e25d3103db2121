"""Built-in example networks for GENNAPE users without a file of their own.

``EXAMPLES`` maps a name to a function that builds a small CIFAR-sized (3 x 32 x 32 input, 10
classes) ``nn.Module`` that ``torch.fx`` traces: ``resnet-ish`` (a ResNet-20-like network of basic
residual blocks) and ``mobilenet-ish`` (MobileNetV2-like inverted residuals with depthwise convs
and ReLU6). Neither is a cell of any of our search spaces, which is the point: they show GENNAPE
predicting for networks outside the benchmarks. ``example_onnx_bytes(name)`` exports one to ONNX
exactly as ``archpred.networks.export`` exports cells, so the app and the tests can upload a real
ONNX file.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.networks.layers import ConvBNReLU

INPUT_SHAPE = (3, 32, 32)
NUM_CLASSES = 10


class BasicBlock(nn.Module):
    """ResNet's basic block: conv3x3-BN-ReLU, conv3x3-BN, plus the shortcut, then ReLU.

    The shortcut is the identity, or a strided 1x1 conv + BN when the block downsamples or widens.

    Args:
        c_in: input channels.
        c_out: output channels.
        stride: stride of the first conv (2 downsamples).

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv_a = ConvBNReLU(c_in, c_out, 3, stride=stride)
        self.conv_b = nn.Sequential(nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out
            else None  # not nn.Identity: an fx node that ONNX export drops, so the two CGs would differ
        )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.conv_b(self.conv_a(x)) + shortcut)


class ResNetish(nn.Module):
    """A small CIFAR ResNet: a 3x3 stem, three stages of basic blocks (the 2nd and 3rd start by
    halving the resolution and doubling the width), global average pooling and a linear layer.

    Args:
        width: channels of the first stage (16 as in ResNet-20).
        blocks: basic blocks per stage (3 as in ResNet-20).
        num_classes: outputs of the classifier.

    Shapes:
        - **input:** x (B, 3, H, W) images (32 x 32 here)
        - **output:** (B, num_classes) logits
    """

    def __init__(self, width: int = 16, blocks: int = 3, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.stem = ConvBNReLU(3, width, 3)
        layers: list[nn.Module] = []
        channels = width
        for stage in range(3):
            out = width * 2**stage
            for i in range(blocks):
                layers.append(BasicBlock(channels, out, stride=2 if stage > 0 and i == 0 else 1))
                channels = out
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


class InvertedResidual6(nn.Module):
    """MobileNetV2's inverted residual: 1x1 expand-BN-ReLU6, depthwise 3x3-BN-ReLU6, 1x1 project-BN;
    the input is added when the stride is 1 and the width is kept.

    Args:
        c_in: input channels.
        c_out: output channels.
        stride: stride of the depthwise conv.
        expansion: hidden width is ``c_in * expansion``.

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.residual else out


# (expansion, out channels, blocks, first stride): MobileNetV2's table, shortened for 32 x 32
MOBILENET_PLAN = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 2, 2), (6, 64, 2, 2), (6, 96, 1, 1))


class MobileNetish(nn.Module):
    """A small CIFAR MobileNetV2: a 3x3 stem (stride 1), the inverted residuals of
    ``MOBILENET_PLAN``, a 1x1 conv to ``last`` channels, global average pooling and a linear layer.

    Args:
        last: channels of the last 1x1 conv.
        num_classes: outputs of the classifier.

    Shapes:
        - **input:** x (B, 3, H, W) images (32 x 32 here)
        - **output:** (B, num_classes) logits
    """

    def __init__(self, last: int = 320, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        layers: list[nn.Module] = []
        channels = 32
        for expansion, out, blocks, stride in MOBILENET_PLAN:
            for i in range(blocks):
                layers.append(InvertedResidual6(channels, out, stride if i == 0 else 1, expansion))
                channels = out
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(channels, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.head(self.blocks(self.stem(x)))), 1))


EXAMPLES: dict[str, Callable[[], nn.Module]] = {
    "resnet-ish": ResNetish,
    "mobilenet-ish": MobileNetish,
}


def example_network(name: str) -> nn.Module:
    """The example ``name`` built fresh (weights from torch's global generator; only shapes matter)."""
    if name not in EXAMPLES:
        raise InvalidOption(f"unknown example network {name!r}; choose from {', '.join(EXAMPLES)}")
    return EXAMPLES[name]()


def example_onnx_bytes(name: str, seed: int = 0, fold_batchnorm: bool = False) -> bytes:
    """The example ``name`` as a serialised ONNX model, exported like ``networks.export.onnx_bytes``
    (TorchScript exporter, opset ``OPSET``, input ``image`` (batch, 3, 32, 32) with a dynamic batch,
    output ``logits``); weights drawn under ``seeded(seed)``, the caller's RNG untouched.

    ``fold_batchnorm=False`` (default) keeps every BatchNormalization node, so the file's CG is the
    module's fx CG (same nodes, FLOPs and parameters). ``True`` is torch's default export (constant
    folding), which fuses each eval-mode BatchNorm into the conv before it: the CG then has no
    batch-norm nodes and biased convs (same FLOPs, fewer parameters) -- as most users' files do.
    """
    from archpred.networks.export import INPUT_NAME, OPSET, OUTPUT_NAME
    from archpred.training import seeded

    with seeded(seed):
        net = example_network(name).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            net,
            (torch.zeros(1, *INPUT_SHAPE),),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            do_constant_folding=fold_batchnorm,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    return buffer.getvalue()
