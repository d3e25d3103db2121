"""This machine's yardstick: the FLOP/s of a plain fp32 matmul, measured in the same run as the
thing compared with it, so speed claims are ratios and not seconds from another day."""

from __future__ import annotations

import time

import torch


def matmul_gflops(device: torch.device | str = "cpu", size: int = 1024, repeats: int = 10) -> float:
    """GFLOP/s of ``repeats`` (size x size) @ (size x size) fp32 products on ``device`` (one
    warm-up product first; CUDA is synchronised around the timing)."""
    device = torch.device(device)
    a = torch.randn(size, size, device=device)
    a @ a
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    _sync(device)
    return repeats * 2 * size**3 / (time.perf_counter() - start) / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
