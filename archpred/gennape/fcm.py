"""Fuzzy c-means clusters of the training family: the weights of GENNAPE's MLP ensemble.

The paper clusters the training family (NB-101) in a 32-d PCA space of [CL embedding, z-scored
FLOPs] with fuzzy c-means, picks C in 10..20 and m in 2.0..4.0 (step 0.5) by validation SRCC, runs
FCM for up to 10k iterations or until memberships change by less than 1e-9, and gives a test
family's networks their memberships from the fixed training centroids (its Eq. 2).

The clustering itself is scikit-fuzzy's (``skfuzzy.cmeans`` to fit, ``skfuzzy.cmeans_predict``
for memberships); only the feature map (z-score, PCA projection) and the saved state are ours.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import skfuzzy
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from archpred.errors import CheckpointError, InvalidOption, NotFittedError

STATE_VERSION = 1
GRID_CLUSTERS = tuple(range(10, 21))  # the paper's C in 10..20
GRID_M = (2.0, 2.5, 3.0, 3.5, 4.0)  # the paper's m in 2.0..4.0, step 0.5
INITS = ("random", "kmeans")


class FuzzyClusters:
    """Fuzzy c-means on PCA of [embedding, z-scored log FLOPs], fitted on the training family.

    FLOPs enter as ``log10(flops + 1)`` z-scored with the training family's mean and std. The log
    because FLOPs span orders of magnitude within and across families (a few MFLOPs to GFLOPs):
    a z-score of raw FLOPs would put a network of another family tens of standard deviations
    away, so that one feature would decide every distance (and every membership) alone; on the
    log scale a ratio of sizes is a fixed distance. The embedding is not rescaled (the paper
    does not); PCA centres the concatenation and keeps ``n_components`` directions.

    Args:
        n_clusters: C, the number of clusters (= MLP heads); at least 2.
        m: the fuzzification coefficient (> 1; larger is softer).
        n_components: PCA size (paper: 32); capped at what the training rows allow.
        max_iter, error: FCM stops after ``max_iter`` iterations or when the memberships move
            by less than ``error`` (scikit-fuzzy's criterion: the norm of the change).
        seed: the random initial partition; the same seed gives the same clusters.
        init: the initial partition FCM starts from. ``"random"`` (the paper's, and
            scikit-fuzzy's default): uniform random memberships. ``"kmeans"``: the hard
            partition of scikit-learn's k-means (seeded) on the same points. From a random
            start every centre begins at the data's mean, and in tens of dimensions FCM then
            tends to stay at the fixed point where every membership is 1/C (Winkler, Klawonn
            and Kruse 2012; scikit-fuzzy's docs warn of it): ``partition_coefficient_`` == 1/C
            says it happened. A k-means start begins at the clusters instead.

    Shapes:
        - **fit:** embeddings (n, d), flops (n,) multiply-adds
        - **memberships:** embeddings (k, d), flops (k,) -> (k, C), rows summing to 1
    """

    def __init__(
        self,
        n_clusters: int = 16,
        m: float = 4.0,
        n_components: int = 32,
        max_iter: int = 10000,
        error: float = 1e-9,
        seed: int = 0,
        init: str = "random",
    ) -> None:
        self.n_clusters = n_clusters
        self.m = m
        self.n_components = n_components
        self.max_iter = max_iter
        self.error = error
        self.seed = seed
        self.init = init

    # ------------------------------------------------------------------ fitting
    def _check_options(self, n: int) -> None:
        if int(self.n_clusters) < 2:
            raise InvalidOption(f"fuzzy c-means needs at least 2 clusters, got {self.n_clusters}")
        if not float(self.m) > 1.0:
            raise InvalidOption(f"the fuzzification coefficient m must be > 1, got {self.m}")
        if int(self.n_components) < 1 or int(self.max_iter) < 1 or not float(self.error) > 0:
            raise InvalidOption("n_components and max_iter must be >= 1 and error > 0")
        if self.init not in INITS:
            raise InvalidOption(f"unknown FCM init {self.init!r}; choose from {', '.join(INITS)}")
        if n < int(self.n_clusters):
            raise InvalidOption(f"{n} training rows cannot make {self.n_clusters} clusters")

    def fit(self, embeddings: Any, flops: Any) -> FuzzyClusters:
        """Cluster the training family; learned state ends in ``_``."""
        emb, fl = _rows(embeddings, flops)
        self._check_options(len(emb))
        log_flops = np.log10(fl + 1.0)
        self.flops_mean_ = float(log_flops.mean())
        std = float(log_flops.std())
        self.flops_std_ = std if std > 0 else 1.0  # one FLOPs value: the column is all zeros
        features = self._features(emb, fl)
        k = min(int(self.n_components), features.shape[0], features.shape[1])
        pca = PCA(n_components=k, svd_solver="full").fit(features)
        self.pca_mean_ = pca.mean_.astype(np.float64)
        self.pca_components_ = pca.components_.astype(np.float64)
        self.n_components_ = k
        points = self._project(features)
        init = self._initial_partition(points)
        centers, u, _, _, jm, n_iter, fpc = skfuzzy.cmeans(
            points.T,  # skfuzzy takes (features, samples)
            c=int(self.n_clusters),
            m=float(self.m),
            error=float(self.error),
            maxiter=int(self.max_iter),
            init=init,
        )
        self.centers_ = np.asarray(centers, dtype=np.float64)  # (C, k)
        self.train_memberships_ = np.asarray(u, dtype=np.float64).T  # (n, C)
        self.n_iter_ = int(n_iter)
        self.objective_ = float(jm[-1])
        self.partition_coefficient_ = float(fpc)
        return self

    def _initial_partition(self, points: np.ndarray) -> np.ndarray:
        """(C, n) memberships FCM starts from. skfuzzy's own ``seed`` argument calls
        ``np.random.seed`` (the caller's global RNG), so the start is drawn from a private
        generator seeded with ``seed`` and handed to ``cmeans`` as ``init`` instead."""
        c = int(self.n_clusters)
        if self.init == "kmeans":
            labels = KMeans(c, n_init=1, random_state=int(self.seed)).fit_predict(points)
            init = np.zeros((c, len(points)))
            init[labels, np.arange(len(points))] = 1.0
            return init
        init = np.random.default_rng(int(self.seed)).random((c, len(points)))
        return init / init.sum(axis=0, keepdims=True)

    # ------------------------------------------------------------------ features
    def _features(self, emb: np.ndarray, fl: np.ndarray) -> np.ndarray:
        z = (np.log10(fl + 1.0) - self.flops_mean_) / self.flops_std_
        return np.concatenate([emb, z[:, None]], axis=1)

    def _project(self, features: np.ndarray) -> np.ndarray:
        """sklearn's ``PCA.transform`` (no whitening), from the saved mean and components."""
        return (features - self.pca_mean_) @ self.pca_components_.T

    def transform(self, embeddings: Any, flops: Any) -> np.ndarray:
        """The points FCM clusters: (n, n_components_)."""
        self._check_fitted()
        emb, fl = _rows(embeddings, flops)
        if emb.shape[1] + 1 != self.pca_mean_.shape[0]:
            raise InvalidOption(
                f"embeddings have {emb.shape[1]} columns; the clusters were fitted on {len(self.pca_mean_) - 1}"
            )
        return self._project(self._features(emb, fl))

    def memberships(self, embeddings: Any, flops: Any) -> np.ndarray:
        """Memberships in the fixed training clusters (Eq. 2), via ``skfuzzy.cmeans_predict``.

        With the centres fixed, one update of Eq. 2 is already the fixed point, so the initial
        partition does not matter; a uniform one is passed (no global RNG is drawn from).
        """
        points = self.transform(embeddings, flops)
        if len(points) == 0:
            return np.zeros((0, int(self.n_clusters)))
        init = np.full((len(self.centers_), len(points)), 1.0 / len(self.centers_))
        u, *_ = skfuzzy.cmeans_predict(
            points.T, self.centers_, float(self.m), error=float(self.error), maxiter=int(self.max_iter), init=init
        )
        return np.asarray(u, dtype=np.float64).T

    def hard_labels(self, embeddings: Any, flops: Any) -> np.ndarray:
        """The cluster of largest membership per row: (n,) int."""
        return self.memberships(embeddings, flops).argmax(axis=1)

    def _check_fitted(self) -> None:
        if not hasattr(self, "centers_"):
            raise NotFittedError("FuzzyClusters is not fitted; call fit(embeddings, flops) first")

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        """Options and learned state as numbers and float64 tensors (loadable with
        ``torch.load(weights_only=True)``; no pickled objects)."""
        self._check_fitted()
        return {
            "version": STATE_VERSION,
            "n_clusters": int(self.n_clusters),
            "m": float(self.m),
            "n_components": int(self.n_components),
            "max_iter": int(self.max_iter),
            "error": float(self.error),
            "seed": int(self.seed),
            "init": str(self.init),
            "flops_mean": self.flops_mean_,
            "flops_std": self.flops_std_,
            "pca_mean": torch.from_numpy(self.pca_mean_.copy()),
            "pca_components": torch.from_numpy(self.pca_components_.copy()),
            "centers": torch.from_numpy(self.centers_.copy()),
            "n_iter": self.n_iter_,
            "objective": self.objective_,
            "partition_coefficient": self.partition_coefficient_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FuzzyClusters:
        """The fitted clusters back from ``state_dict`` (tensors, arrays or lists)."""
        try:
            if int(state.get("version", STATE_VERSION)) != STATE_VERSION:
                raise CheckpointError(f"fuzzy-cluster state version {state['version']} is not supported")
            model = cls(
                n_clusters=int(state["n_clusters"]),
                m=float(state["m"]),
                n_components=int(state["n_components"]),
                max_iter=int(state["max_iter"]),
                error=float(state["error"]),
                seed=int(state["seed"]),
                init=str(state.get("init", "random")),
            )
            model.flops_mean_ = float(state["flops_mean"])
            model.flops_std_ = float(state["flops_std"])
            model.pca_mean_ = _array(state["pca_mean"])
            model.pca_components_ = _array(state["pca_components"])
            model.centers_ = _array(state["centers"])
            model.n_iter_ = int(state.get("n_iter", 0))
            model.objective_ = float(state.get("objective", float("nan")))
            model.partition_coefficient_ = float(state.get("partition_coefficient", float("nan")))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise CheckpointError(f"not a fuzzy-cluster state ({type(err).__name__}: {err})") from None
        model.n_components_ = model.pca_components_.shape[0]
        shapes_ok = (
            model.pca_components_.ndim == 2
            and model.pca_components_.shape[1] == model.pca_mean_.shape[0]
            and model.centers_.shape == (model.n_clusters, model.n_components_)
        )
        if not shapes_ok:
            raise CheckpointError("fuzzy-cluster state: centres, PCA mean and components do not fit together")
        return model


def _array(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _rows(embeddings: Any, flops: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert: embeddings (n, d) and flops (n,), finite, FLOPs >= 0."""
    emb = _array(embeddings)
    fl = _array(flops).reshape(-1)
    if emb.ndim != 2:
        raise InvalidOption(f"embeddings must be a (n, d) matrix, got shape {emb.shape}")
    if len(emb) != len(fl):
        raise InvalidOption(f"{len(emb)} embeddings but {len(fl)} FLOPs values")
    if not (np.all(np.isfinite(emb)) and np.all(np.isfinite(fl))):
        raise InvalidOption("embeddings or FLOPs hold NaN or infinite values")
    if fl.size and fl.min() < 0:
        raise InvalidOption("FLOPs must be >= 0")
    return emb, fl
