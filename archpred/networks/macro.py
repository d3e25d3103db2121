"""The NAS-Bench-Macro network (Su et al., CVPR 2021), in PyTorch.

Stem 3x3 conv-BN-ReLU (32 channels); 8 searchable layers in stages of 2, 3, 3 where a stage's
first layer has stride 2 and doubles the width; a 1x1 conv-BN-ReLU head to 1280 channels, global
average pool and a linear classifier. Layer choices: ``identity`` (a strided 1x1 conv + BN where
the shape changes), MobileNetV2 inverted residuals ``ir_3x3_t3`` and ``ir_5x5_t6`` (1x1 expand,
depthwise kxk, 1x1 project; residual when the shape is kept). With the default config,
parameter counts and FLOPs (multiply-adds of convs and the classifier) equal the benchmark's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from archpred.networks.layers import reset_all
from archpred.spaces.macro import MACRO_OPS, STAGES, MacroArch

_SPEC = {"ir_3x3_t3": (3, 3), "ir_5x5_t6": (5, 6)}  # kernel, expansion


@dataclass(frozen=True)
class MacroConfig:
    """Benchmark defaults; ``init_channels`` is the width (the head keeps ``head_channels``)."""

    init_channels: int = 32  # stem width (each stage's first layer doubles it)
    head_channels: int = 1280  # width of the 1x1 conv head before pooling
    num_classes: int = 10  # outputs of the classifier
    in_channels: int = 3  # image channels
    input_size: int = 32  # image side used to count FLOPs and trace the network
    bn_momentum: float = 0.1  # PyTorch BatchNorm momentum of every BN layer


class Shortcut(nn.Module):
    """The ``identity`` choice: nothing, or a strided 1x1 conv + BN when the shape changes.

    Args:
        c_in: input channels.
        c_out: output channels.
        stride: 1, or 2 at a stage's first layer.
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, c_in: int, c_out: int, stride: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.project = (
            nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out, momentum=bn_momentum)
            )
            if stride != 1 or c_in != c_out
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.project is None else self.project(x)


class InvertedResidual(nn.Module):
    """A MobileNetV2 inverted residual: 1x1 expand-BN-ReLU, depthwise kxk-BN-ReLU, 1x1 project-BN.

    The input is added to the output when stride is 1 and the width is kept.

    Args:
        c_in: input channels.
        c_out: output channels.
        stride: stride of the depthwise conv.
        kernel: depthwise kernel size k.
        expansion: hidden width is ``c_in * expansion``.
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, ceil(H / stride), ceil(W / stride))
    """

    def __init__(
        self, c_in: int, c_out: int, stride: int, kernel: int, expansion: int, bn_momentum: float = 0.1
    ) -> None:
        super().__init__()
        hidden = c_in * expansion
        m = bn_momentum
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden, momentum=m),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, kernel, stride=stride, padding=kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden, momentum=m),
            nn.ReLU(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, momentum=m),
        )
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.residual else out


def _layer(choice: int, c_in: int, c_out: int, stride: int, m: float) -> nn.Module:
    name = MACRO_OPS[choice]
    if name == "identity":
        return Shortcut(c_in, c_out, stride, m)
    kernel, expansion = _SPEC[name]
    return InvertedResidual(c_in, c_out, stride, kernel, expansion, m)


def layer_plan(config: MacroConfig = MacroConfig()) -> list[tuple[int, int, int]]:
    """(in channels, out channels, stride) of the 8 searchable layers."""
    plan, channels = [], config.init_channels
    for size in STAGES:
        for i in range(size):
            out = channels * 2 if i == 0 else channels
            plan.append((channels, out, 2 if i == 0 else 1))
            channels = out
    return plan


class MacroNetwork(nn.Module):
    """The NAS-Bench-Macro network of one architecture (Su et al., CVPR 2021).

    Args:
        arch: the 8 layer choices.
        config: widths and classes; the defaults are the benchmark's.

    Shapes:
        - **input:** x (B, in_channels, H, W) images (benchmark: 32 x 32)
        - **output:** (B, num_classes) logits
    """

    def __init__(self, arch: MacroArch, config: MacroConfig = MacroConfig()) -> None:
        super().__init__()
        self.arch, self.config = arch, config
        c, m = config.init_channels, config.bn_momentum
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c, momentum=m), nn.ReLU()
        )
        plan = layer_plan(config)
        self.layers = nn.Sequential(
            *(_layer(choice, c_in, c_out, s, m) for choice, (c_in, c_out, s) in zip(arch.choices, plan))
        )
        self.head = nn.Sequential(
            nn.Conv2d(plan[-1][1], config.head_channels, 1, bias=False),
            nn.BatchNorm2d(config.head_channels, momentum=m),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(config.head_channels, config.num_classes)

    def reset_parameters(self) -> None:
        reset_all(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.layers(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def macro_params_flops(arch: MacroArch, config: MacroConfig = MacroConfig()) -> tuple[int, int]:
    """(trainable parameters, multiply-adds) of ``MacroNetwork(arch, config)`` without building it."""
    size = config.input_size
    c0 = config.init_channels
    params = 9 * config.in_channels * c0 + 2 * c0
    flops = 9 * config.in_channels * c0 * size * size
    for choice, (c_in, c_out, stride) in zip(arch.choices, layer_plan(config)):
        out_size = (size - 1) // stride + 1
        name = MACRO_OPS[choice]
        if name == "identity":
            if stride != 1 or c_in != c_out:
                params += c_in * c_out + 2 * c_out
                flops += c_in * c_out * out_size * out_size
        else:
            k, t = _SPEC[name]
            h = c_in * t
            params += c_in * h + 2 * h + k * k * h + 2 * h + h * c_out + 2 * c_out
            flops += c_in * h * size * size + (k * k * h + h * c_out) * out_size * out_size
        size = out_size
    head = config.head_channels
    params += plan_last(config) * head + 2 * head + head * config.num_classes + config.num_classes
    flops += plan_last(config) * head * size * size + head * config.num_classes
    return params, flops


def plan_last(config: MacroConfig) -> int:
    """Output channels of the last searchable layer (the head's input width)."""
    return layer_plan(config)[-1][1]
