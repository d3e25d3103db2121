"""The graph-VAE tests' one fixture: small models on a shared CPU run on one thread."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread for each test here (OpenMP spinning costs more than it gives on tiny models)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
