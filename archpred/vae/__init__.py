"""Graph VAEs over architecture spaces: SVGe and arch2vec (``load_vae(kind, space)``).

Imported lazily, so ``python -m archpred --help`` does not pay for torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KINDS", "GraphVAE", "load_vae"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from archpred.vae import model

        return getattr(model, name)
    raise AttributeError(f"module 'archpred.vae' has no attribute {name!r}")
