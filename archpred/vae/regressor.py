"""The one accuracy regressor on graph-VAE embeddings: arch2vec's random forest.

Used by ``make_predictor("arch2vec")``, the app's latent walks and maps, and ``bench vae``, so
the three always mean the same model. arch2vec's input-output extension paper fits 200 trees
with ``max_features=4`` on the embeddings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from archpred.errors import InvalidOption

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestRegressor

N_ESTIMATORS = 200
MAX_FEATURES = 4


def fit_embedding_forest(
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    n_estimators: int = N_ESTIMATORS,
    max_features: int = MAX_FEATURES,
) -> RandomForestRegressor:
    """A seeded random forest fitted on embeddings ``x`` and accuracies ``y``.

    Shapes:
        x: (N, D) embeddings; y: (N,) targets.
    """
    from sklearn.ensemble import RandomForestRegressor

    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.ndim != 2 or len(x) != len(y):
        raise InvalidOption(f"embeddings of shape {x.shape} do not match {len(y)} targets")
    forest = RandomForestRegressor(
        n_estimators=int(n_estimators), max_features=int(max_features), random_state=int(seed), n_jobs=1
    )
    return forest.fit(x, y)
