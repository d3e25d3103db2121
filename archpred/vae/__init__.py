"""Graph VAEs over architecture spaces: SVGe and arch2vec (``load_vae(kind, space)``)."""

from __future__ import annotations

from archpred.vae.model import KINDS, GraphVAE, load_vae

__all__ = ["KINDS", "GraphVAE", "load_vae"]
