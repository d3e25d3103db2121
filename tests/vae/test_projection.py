"""2-D projections of embeddings: every method gives one finite point per row, the same points
for the same seed, leaves the global RNGs alone, and names the methods on a typo."""

import numpy as np
import pytest
import torch

from archpred.vae.projection import PROJECTIONS, project


@pytest.fixture
def x() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(0, 1, (30, 8)), rng.normal(6, 1, (30, 8))]).astype(np.float32)


@pytest.mark.parametrize("method", ["PCA", "t-SNE", pytest.param("UMAP", marks=pytest.mark.slow)])
def test_one_finite_point_per_row_and_seeded(x, method):
    np_state, torch_state = np.random.get_state()[1].copy(), torch.random.get_rng_state().clone()
    xy = project(x, method)
    assert xy.shape == (len(x), 2) and np.isfinite(xy).all()
    np.testing.assert_allclose(project(x, method), xy, rtol=1e-5, atol=1e-5)
    assert (np.random.get_state()[1] == np_state).all() and torch.equal(torch.random.get_rng_state(), torch_state)


def test_the_two_clusters_stay_apart(x):
    xy = project(x, "PCA")
    gap = np.linalg.norm(xy[:30].mean(0) - xy[30:].mean(0))
    assert gap > 3 * max(xy[:30].std(0).max(), xy[30:].std(0).max())


def test_an_unknown_method_names_the_choices(x):
    with pytest.raises(ValueError, match="choose from " + ", ".join(PROJECTIONS)):
        project(x, "tsne")
