"""ENAS macro networks (Pham et al. 2018) of 6 layers, as in D-VAE's and SVGe's ENAS space.

Stem 3x3 conv-BN; layer i applies its op to layer i-1's output (the stem for layer 0), adds the
outputs selected by its skip bits (bit j: the stem for j = 0, else layer j-1) and batch-normalises
the sum. Ops: ``conv``/``sepconv`` kxk are a 1x1 conv-BN-ReLU then the kxk (depthwise-separable)
conv-BN-ReLU; pools are a 1x1 conv-BN-ReLU then a 3x3 stride-1 pool. After layers 1 and 3 every
earlier output is halved in resolution and doubled in width by a factorized reduction (ENAS's
``pool_layers``). Global average pool and a linear classifier end the network. The benchmark
records no parameter counts, so only the structure follows ENAS.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from archpred.networks.layers import reset_all
from archpred.spaces.enas import ENAS_OPS, ENASArch


@dataclass(frozen=True)
class ENASConfig:
    """``channels`` is the width of the first layers (ENAS ``out_filters``)."""

    channels: int = 36  # width of the stem and the first layers (doubled at each reduction)
    num_classes: int = 10  # outputs of the classifier
    in_channels: int = 3  # image channels
    input_size: int = 32  # image side used to count FLOPs and trace the network
    bn_momentum: float = 0.1  # PyTorch BatchNorm momentum of the layers' BN (not the stem's)


def pool_layers(n_layers: int) -> tuple[int, ...]:
    """Indices of the layers after which every output so far is reduced (ENAS's ``pool_layers``)."""
    distance = n_layers // 3
    return (distance - 1, 2 * distance - 1)


class ENASBranch(nn.Module):
    """The op of one ENAS layer: a 1x1 conv-BN-ReLU, then the (separable) conv-BN-ReLU or pool.

    Args:
        op: a name from ``ENAS_OPS`` (``conv3x3``, ``sepconv5x5``, ``avgpool3x3``, ...).
        channels: input and output channels.
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, channels, H, W)
        - **output:** (B, channels, H, W)
    """

    def __init__(self, op: str, channels: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        c, m = channels, bn_momentum
        self.inp = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, momentum=m), nn.ReLU())
        if op.startswith("conv") or op.startswith("sepconv"):
            k = int(op[-1])
            if op.startswith("sep"):
                conv = [nn.Conv2d(c, c, k, padding=k // 2, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False)]
            else:
                conv = [nn.Conv2d(c, c, k, padding=k // 2, bias=False)]
            self.out = nn.Sequential(*conv, nn.BatchNorm2d(c, momentum=m), nn.ReLU())
        elif op == "avgpool3x3":
            self.out = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        else:
            self.out = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.inp(x))


class FactorizedReduce(nn.Module):
    """Halve the resolution, double the width: two strided 1x1 convs on offset grids, concatenated.

    Args:
        c_in: input channels.
        c_out: output channels (``c_out // 2`` from the first grid, the rest from the second).
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, ceil(H / 2), ceil(W / 2))
    """

    def __init__(self, c_in: int, c_out: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, momentum=bn_momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


class ENASNetwork(nn.Module):
    """An ENAS macro network of one architecture (Pham et al. 2018), as in the module docstring.

    Args:
        arch: the layers (op type and skip bits each).
        config: width and classes.

    Shapes:
        - **input:** x (B, in_channels, H, W) images
        - **output:** (B, num_classes) logits
    """

    def __init__(self, arch: ENASArch, config: ENASConfig = ENASConfig()) -> None:
        super().__init__()
        self.arch, self.config = arch, config
        c, m = config.channels, config.bn_momentum
        n = len(arch.layers)
        self.pools = pool_layers(n)
        self.stem = nn.Sequential(nn.Conv2d(config.in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        self.branches = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.reductions = nn.ModuleDict()
        for i, layer in enumerate(arch.layers):
            self.branches.append(ENASBranch(ENAS_OPS[layer[0]], c, m))
            self.norms.append(nn.BatchNorm2d(c, momentum=m))
            if i in self.pools:
                # one reduction per output so far: the stem and layers 0..i
                self.reductions[str(i)] = nn.ModuleList(FactorizedReduce(c, 2 * c, m) for _ in range(i + 2))
                c *= 2
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, config.num_classes)

    def reset_parameters(self) -> None:
        reset_all(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [self.stem(x)]
        for i, layer in enumerate(self.arch.layers):
            value = self.branches[i](outputs[-1])
            for j, bit in enumerate(layer[1:]):
                if bit:
                    value = value + outputs[j]
            outputs.append(self.norms[i](value))
            if i in self.pools:
                outputs = [red(o) for red, o in zip(self.reductions[str(i)], outputs)]
        return self.classifier(torch.flatten(self.pool(torch.relu(outputs[-1])), 1))
