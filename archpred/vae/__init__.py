"""Graph VAEs over architecture spaces: SVGe and arch2vec (``load_vae(kind, space)``).

Imported lazily, so ``python -m archpred --help`` does not pay for torch.
"""

from __future__ import annotations

from typing import Any

# The registry's names, torch-free so command-line choices cost nothing (``model.KINDS`` holds the classes).
VAE_KINDS = ("svge", "arch2vec")  # trained unsupervised on a space (``train vae``)
IO_VAE_KINDS = ("io", "io-accuracy")  # arch2vec + input-output information, NB-101 (``train io-vae``)
VAE_SPACES = ("nb101", "nb201", "enas")  # spaces with VAE training data (``train.space_graphs``)

__all__ = ["IO_VAE_KINDS", "KINDS", "VAE_KINDS", "VAE_SPACES", "GraphVAE", "load_vae"]


def __getattr__(name: str) -> Any:
    if name in ("KINDS", "GraphVAE", "load_vae"):
        from archpred.vae import model

        return getattr(model, name)
    raise AttributeError(f"module 'archpred.vae' has no attribute {name!r}")
