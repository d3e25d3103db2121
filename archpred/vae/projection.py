"""2-D projections of graph embeddings (for maps of a search space): PCA, t-SNE or UMAP."""

from __future__ import annotations

import numpy as np

from archpred.errors import InvalidOption

PROJECTIONS = ("PCA", "t-SNE", "UMAP")


def project(x: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """2-D projection of embeddings by PCA, t-SNE (scikit-learn) or UMAP (umap-learn).

    Shapes:
        x: (N, D) embeddings; returns (N, 2).
    """
    if method == "PCA":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, len(x) - 1)).fit_transform(x)
    if method == "UMAP":
        import umap

        return umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, len(x) - 1)).fit_transform(x)
    raise InvalidOption(f"unknown projection {method!r}; choose from {', '.join(PROJECTIONS)}")
