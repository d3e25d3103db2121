"""Exact parameter and FLOP counts of PyTorch networks.

FLOP convention (NAS-Bench-Macro's): multiply-accumulate operations (MACs, *not* x 2) of the
weights of ``Conv*d`` and ``Linear`` layers for one input, biases, BatchNorm, activations,
pooling and additions not counted. A conv contributes
``out_H * out_W * out_C * (in_C / groups) * kH * kW``, a linear layer ``in * out``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def count_params(net: nn.Module, trainable: bool = True) -> int:
    """Number of (trainable) parameters; shared parameters are counted once."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable)


def _input_tensor(net: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    try:
        ref = next(net.parameters())
        device, dtype = ref.device, ref.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.float32
    return torch.zeros(shape, device=device, dtype=dtype)


def count_flops(net: nn.Module, input_shape: Sequence[int] = (3, 32, 32)) -> int:
    """Multiply-adds of conv and linear layers for ONE input of ``input_shape`` ((C, H, W), or
    (N, C, H, W) whose batch is divided out). Works on ``meta``-device networks too."""
    counts: list[int] = []

    def conv_hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        per_out = module.in_channels // module.groups
        for k in module.kernel_size:
            per_out *= k
        counts.append(output[0].numel() * per_out)

    def linear_hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        counts.append(output[0].numel() * module.in_features)

    handles = []
    for m in net.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    x = _input_tensor(net, input_shape)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(x[:1])
    finally:
        net.train(was_training)
        for h in handles:
            h.remove()
    return int(sum(counts))
