"""How good a graph VAE is: exact and per-element reconstruction, and the validity, uniqueness
and novelty of decoded prior samples (the measures of the SVGe and arch2vec papers)."""

from __future__ import annotations

import numpy as np
import torch

from archpred.vae.data import GraphArrays
from archpred.vae.model import GraphVAE


@torch.no_grad()
def reconstruction(
    vae: GraphVAE, graphs: GraphArrays, batch_size: int = 2048, choose_valid: bool = True
) -> dict[str, float]:
    """Fraction of graphs decoded exactly (types, vertex count and every edge) from their mean,
    and the per-vertex type and per-entry (upper triangle) adjacency accuracies."""
    z = vae.encode_arrays(graphs, batch_size)
    types, adj, n = vae.decode_arrays(z, batch_size, choose_valid=choose_valid)
    m = graphs.max_vertices
    same_n = n == graphs.n
    same_types = (types[:, :m] == graphs.types).all(1)
    same_adj = adj.astype(np.int8) == graphs.adj
    iu = np.triu_indices(m, 1)
    real = np.arange(m)[None] < graphs.n[:, None]
    return {
        "reconstruction": float(np.mean(same_n & same_types & same_adj.all((1, 2)))),
        "node_accuracy": float(np.mean(same_n & same_types)),
        "edge_accuracy": float(np.mean(same_adj.all((1, 2)))),
        # per element, as arch2vec's own code measures reconstruction (acc_ops, acc_adj)
        "type_accuracy_per_vertex": float((types[:, :m] == graphs.types)[real].mean()),
        "adjacency_accuracy_per_entry": float(same_adj[:, iu[0], iu[1]].mean()),
    }


def prior_quality(
    vae: GraphVAE, n: int, train_keys: set[str], rng: np.random.Generator, choose_valid: bool = True
) -> dict[str, float]:
    """Validity, uniqueness and novelty of ``n`` decoded prior samples.

    validity = valid / n; uniqueness = distinct valid (by the space's key) / valid;
    novelty = valid decodes whose key is not in the training set / valid.
    """
    archs = vae.sample(n, rng, choose_valid=choose_valid)
    valid = [a for a in archs if a is not None]
    keys = [vae.space.key(a) for a in valid]
    nv = max(len(valid), 1)
    return {
        "samples": n,
        "validity": len(valid) / n,
        "uniqueness": len(set(keys)) / nv if valid else 0.0,
        "novelty": sum(k not in train_keys for k in keys) / nv if valid else 0.0,
    }
