"""The NAS-Bench-101 network (Ying et al. 2019, ``nasbench/lib/model_builder.py``), in PyTorch.

Stem 3x3 conv-BN-ReLU (128 channels), ``num_stacks`` stacks of ``cells_per_stack`` cells with a
2x2 max-pool and doubled width between stacks, global average pool, dense layer. Inside a cell
the output's channels are split over the vertices that feed the output (concatenated), other
vertices take the largest width among their successors, tensors flowing between vertices are
truncated to the receiving width, and the input reaches a vertex through a 1x1 conv-BN-ReLU
projection. With the default config, trainable parameter counts equal the benchmark's ``params``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from archpred.networks.layers import ConvBNReLU, reset_all
from archpred.spaces.nb101 import NB101Cell


@dataclass(frozen=True)
class NB101Config:
    """Benchmark defaults; ``stem_channels`` is the width, ``cells_per_stack`` the depth."""

    stem_channels: int = 128  # width of the stem and of the first stack
    num_stacks: int = 3  # stacks of cells, each after the first halving resolution and doubling width
    cells_per_stack: int = 3  # cells in every stack
    num_classes: int = 10  # outputs of the final dense layer
    in_channels: int = 3  # image channels
    input_size: int = 32  # image side used to count FLOPs and trace the network
    bn_momentum: float = 0.1  # PyTorch BatchNorm momentum of every BN layer


def vertex_channels(in_channels: int, out_channels: int, matrix: np.ndarray) -> list[int]:
    """Width of every vertex (NB-101's ``compute_vertex_channels``)."""
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[n - 1] = in_channels, out_channels
    if n == 2:
        return channels
    in_degree = matrix[1:].sum(axis=0)
    interior, correction = divmod(out_channels, int(in_degree[n - 1]))
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            channels[v] = interior + (1 if correction else 0)
            correction -= 1 if correction else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    channels[v] = max(channels[v], channels[dst])
    return channels


_KERNEL = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}


class NB101CellModule(nn.Module):
    """One NAS-Bench-101 cell as ``model_builder.build_module`` wires it (module docstring).

    Args:
        arch: the cell (its ``adjacency`` and ``ops``).
        in_channels: channels of the cell's input.
        out_channels: channels of the cell's output (split over the vertices feeding it).
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, in_channels, H, W)
        - **output:** (B, out_channels, H, W)
    """

    def __init__(self, arch: NB101Cell, in_channels: int, out_channels: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.matrix = np.asarray(arch.adjacency, dtype=np.int64)
        self.n = n = len(self.matrix)
        self.channels = vertex_channels(in_channels, out_channels, self.matrix)
        self.vertex_ops = nn.ModuleDict()
        self.input_proj = nn.ModuleDict()
        for t in range(1, n - 1):
            c = self.channels[t]
            op = arch.ops[t]
            self.vertex_ops[str(t)] = (
                ConvBNReLU(c, c, _KERNEL[op], bn_momentum=bn_momentum)
                if op in _KERNEL
                else nn.MaxPool2d(3, stride=1, padding=1)
            )
            if self.matrix[0, t]:
                self.input_proj[str(t)] = ConvBNReLU(in_channels, c, 1, bn_momentum=bn_momentum)
        self.output_proj = (
            ConvBNReLU(in_channels, out_channels, 1, bn_momentum=bn_momentum) if self.matrix[0, n - 1] else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, ch = self.n, self.matrix, self.channels
        tensors = [x]
        concat = []
        for t in range(1, n - 1):
            add_in = [tensors[s][:, : ch[t]] if ch[s] > ch[t] else tensors[s] for s in range(1, t) if m[s, t]]
            if m[0, t]:
                add_in.append(self.input_proj[str(t)](x))
            value = add_in[0]
            for other in add_in[1:]:
                value = value + other
            value = self.vertex_ops[str(t)](value)
            tensors.append(value)
            if m[t, n - 1]:
                concat.append(value)
        if not concat:
            return self.output_proj(x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if self.output_proj is not None:
            out = out + self.output_proj(x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network of one cell (Ying et al. 2019): stem, stacks of the cell, classifier.

    Args:
        arch: the cell repeated in every stack.
        config: widths and depth; the defaults are the benchmark's.

    Shapes:
        - **input:** x (B, in_channels, H, W) images (benchmark: 32 x 32)
        - **output:** (B, num_classes) logits
    """

    def __init__(self, arch: NB101Cell, config: NB101Config = NB101Config()) -> None:
        super().__init__()
        self.arch, self.config = arch, config
        c = config.stem_channels
        self.stem = ConvBNReLU(config.in_channels, c, 3, bn_momentum=config.bn_momentum)
        layers: list[nn.Module] = []
        channels = c
        for stack in range(config.num_stacks):
            out = channels
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))  # TF 'same' padding
                out = channels * 2
            for _ in range(config.cells_per_stack):
                layers.append(NB101CellModule(arch, channels, out, config.bn_momentum))
                channels = out
        self.cells = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, config.num_classes)

    def reset_parameters(self) -> None:
        reset_all(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        return self.classifier(torch.flatten(self.pool(x), 1))


def nb101_params(arch: NB101Cell, config: NB101Config = NB101Config()) -> int:
    """Trainable parameters of ``NB101Network(arch, config)`` without building it."""
    matrix = np.asarray(arch.adjacency, dtype=np.int64)
    n = len(matrix)

    def cbr(c_in: int, c_out: int, k: int) -> int:
        return k * k * c_in * c_out + 2 * c_out

    def cell(c_in: int, c_out: int) -> int:
        ch = vertex_channels(c_in, c_out, matrix)
        total = cbr(c_in, c_out, 1) if matrix[0, n - 1] else 0
        for t in range(1, n - 1):
            if arch.ops[t] in _KERNEL:
                total += cbr(ch[t], ch[t], _KERNEL[arch.ops[t]])
            if matrix[0, t]:
                total += cbr(c_in, ch[t], 1)
        return total

    channels = config.stem_channels
    total = cbr(config.in_channels, channels, 3)
    for stack in range(config.num_stacks):
        out = channels * 2 if stack > 0 else channels
        for _ in range(config.cells_per_stack):
            total += cell(channels, out)
            channels = out
    return total + channels * config.num_classes + config.num_classes
