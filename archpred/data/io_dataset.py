"""The IO dataset (arch2vec's input-output extension, Suchopárová & Neruda): NB-101 networks we
trained ourselves, with their real accuracies and what they output on held-out images.

Format, version 1 (one folder; ``archpred.networks.io_dataset.build_io_dataset`` writes it):

- ``manifest.json``: ``format`` ``"archpred-io-dataset"``, ``version`` 1, the training recipe
  (``recipe``, ``network``, ``dataset``), ``images`` (``seen`` / ``unseen``: indices of the
  held-out images, the paper's seen/unseen image split), and ``networks``: one entry per network
  with ``hash``, ``cell`` (adjacency, ops), ``split`` (``train`` / ``val``: the seen / unseen
  networks), ``accuracy`` (on the held-out images), ``train_seconds``, ``params`` and ``file``.
- ``features/HASH.npz``: ``features`` (images, 10) float32, the paper's preprocessing of the
  global-average-pool features before the last dense layer (the 10 with the largest weights for
  the image's true class, times those weights), ``indices`` (images, 10), ``labels`` (images,).

No pickle anywhere: JSON and ``np.load(allow_pickle=False)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archpred.errors import DataNotFound, InvalidData

FORMAT, VERSION = "archpred-io-dataset", 1
MANIFEST = "manifest.json"
SPLITS = ("train", "val")
# A trained network's output features are O(10) (their largest over 684 digits networks: 14); a
# network whose training diverged can output 1e20, which would swamp every mean squared error.
DIVERGED_FEATURES = 1e4


@dataclass(frozen=True)
class IONetwork:
    """One trained network: its cell, split, real numbers and output features.

    Shapes: features (images, 10) float32; labels (images,)
    """

    hash: str
    cell: Any  # an NB101Cell
    split: str
    accuracy: float
    train_seconds: float
    params: int
    features: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class IODataset:
    """The networks in manifest order, the image split and the recipe they were trained with.

    ``diverged`` holds the networks whose training diverged (output features not finite or above
    ``DIVERGED_FEATURES`` in magnitude): kept on disk and listed, but not among ``networks``, so
    no model learns from, and no clustering measures, their outputs.
    """

    networks: tuple[IONetwork, ...]
    seen_images: np.ndarray
    unseen_images: np.ndarray
    manifest: dict[str, Any] = field(repr=False)
    diverged: tuple[IONetwork, ...] = ()

    def __len__(self) -> int:
        return len(self.networks)

    def split(self, name: str) -> tuple[IONetwork, ...]:
        """The networks of one split (``train``: seen, ``val``: unseen)."""
        if name not in SPLITS:
            raise InvalidData(f"unknown split {name!r}; choose from {', '.join(SPLITS)}")
        return tuple(n for n in self.networks if n.split == name)

    @property
    def accuracy(self) -> np.ndarray:
        return np.array([n.accuracy for n in self.networks])


def default_io_dir() -> Path:
    """Where ``data io-build`` writes and ``load_io_dataset`` reads by default.

    A finished dataset someone placed under ``$ARCHPRED_DATA_DIR/io/nb101-digits`` wins; otherwise
    the build lives in the cache (``$ARCHPRED_CACHE_DIR/io/nb101-digits``), because the data
    directory holds the public benchmarks and may be read-only or restored between sessions, which
    would lose a build that takes an hour or more.
    """
    from archpred.paths import cache_dir, data_dir

    shared = data_dir() / "io" / "nb101-digits"
    if (shared / MANIFEST).is_file():
        return shared
    return cache_dir("io", "nb101-digits", create=False)


def load_io_dataset(path: str | Path | None = None) -> IODataset:
    """The IO dataset in ``path`` (default: ``default_io_dir()``)."""
    folder = Path(path) if path is not None else default_io_dir()
    file = folder / MANIFEST
    if not file.is_file():
        hint = " (unfinished: rerun `python -m archpred data io-build` to finish it)" if folder.is_dir() else ""
        raise DataNotFound(f"no IO dataset in {folder}{hint}")
    try:
        manifest = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidData(f"{file}: not a readable manifest ({type(err).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidData(f"{file}: not an archpred IO dataset manifest")
    if manifest.get("version") != VERSION:
        raise InvalidData(f"{file}: IO dataset version {manifest.get('version')} is not supported")
    return dataset_from_manifest(folder, manifest)


def dataset_from_manifest(folder: str | Path, manifest: dict[str, Any]) -> IODataset:
    """The ``IODataset`` a manifest describes (its feature files under ``folder``)."""
    from archpred.spaces import get_space

    folder = Path(folder)
    space = get_space("nb101")
    try:
        networks = tuple(_network(folder, entry, space) for entry in manifest["networks"])
        images = manifest["images"]
        seen, unseen = np.asarray(images["seen"], dtype=np.int64), np.asarray(images["unseen"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidData(f"{folder / MANIFEST}: missing or malformed field ({type(err).__name__}: {err})") from None
    bad = [_diverged(n.features) for n in networks]  # one pass over each network's features
    kept = tuple(n for n, b in zip(networks, bad, strict=True) if not b)
    diverged = tuple(n for n, b in zip(networks, bad, strict=True) if b)
    return IODataset(kept, seen, unseen, manifest, diverged)


def _diverged(features: np.ndarray) -> bool:
    return not np.isfinite(features).all() or float(np.abs(features).max(initial=0.0)) > DIVERGED_FEATURES


def _network(folder: Path, entry: dict[str, Any], space: Any) -> IONetwork:
    path = folder / str(entry["file"])
    if not path.resolve().is_relative_to(folder.resolve()):
        raise InvalidData(f"{folder / MANIFEST}: a feature file outside the dataset folder ({entry['file']})")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            features, labels = arrays["features"].astype(np.float32), arrays["labels"]
    except (OSError, KeyError, ValueError) as err:
        raise InvalidData(f"{path}: not a readable feature file ({type(err).__name__})") from None
    if entry["split"] not in SPLITS:
        raise InvalidData(f"{folder / MANIFEST}: unknown split {entry['split']!r}")
    return IONetwork(
        hash=str(entry["hash"]),
        cell=space.parse(json.dumps(entry["cell"])),
        split=str(entry["split"]),
        accuracy=float(entry["accuracy"]),
        train_seconds=float(entry["train_seconds"]),
        params=int(entry["params"]),
        features=features,
        labels=labels,
    )


def output_distances(dataset: IODataset, images: np.ndarray | None = None) -> np.ndarray:
    """The paper's distance of two networks: the mean squared difference of their output
    features over the same images (default: all held-out images). Shape (nets, nets)."""
    feats = np.stack([n.features if images is None else n.features[images] for n in dataset.networks])
    flat = feats.reshape(len(feats), -1).astype(np.float64)
    sq = (flat**2).sum(1)
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, over images x features, then per element
    dist = (sq[:, None] + sq[None, :] - 2 * flat @ flat.T) / flat.shape[1]
    np.fill_diagonal(dist, 0.0)
    return np.maximum(dist, 0.0)


def output_clusters(dataset: IODataset, threshold: float = 0.4) -> np.ndarray:
    """Agglomerative clusters of the networks by :func:`output_distances` (complete linkage, cut
    at ``threshold``, as the paper's Fig. 4): one cluster label per network."""
    from sklearn.cluster import AgglomerativeClustering

    if len(dataset) < 2:
        return np.zeros(len(dataset), dtype=np.int64)
    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="complete", distance_threshold=float(threshold)
    )
    return model.fit_predict(output_distances(dataset)).astype(np.int64)
