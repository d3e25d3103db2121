"""Small building blocks shared by the benchmark networks."""

from __future__ import annotations

from torch import nn


class ConvBNReLU(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> ReLU: NAS-Bench-101's ``conv_bn_relu``.

    Args:
        c_in: input channels.
        c_out: output channels.
        kernel: square kernel size; padding ``kernel // 2`` keeps the size at stride 1.
        stride: conv stride.
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, H', W'), H' = H and W' = W at stride 1 with an odd kernel
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, bn_momentum: float = 0.1) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, momentum=bn_momentum),
            nn.ReLU(),
        )


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv (no bias) -> BatchNorm: NAS-Bench-201's ``ReLUConvBN``.

    Args:
        c_in: input channels.
        c_out: output channels.
        kernel: square kernel size; padding ``kernel // 2`` keeps the size at stride 1.
        stride: conv stride.
        bn_momentum: BatchNorm momentum.

    Shapes:
        - **input:** x (B, c_in, H, W)
        - **output:** (B, c_out, H', W'), H' = H and W' = W at stride 1 with an odd kernel
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, bn_momentum: float = 0.1) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, momentum=bn_momentum),
        )


def reset_all(module: nn.Module) -> None:
    """Re-initialise every sub-module that has ``reset_parameters`` (convs, BN, linear)."""
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()
