"""arch2vec with input-output information (Suchopárová & Neruda): the IO model and the Accuracy
model.

Both are the arch2vec VAE (:class:`~archpred.vae.arch2vec.Arch2Vec`, unchanged) with one more
head on its latent matrix Z. The *flatten layer* maps the flattened node latents to a short
vector; for the **IO model** it is concatenated with an image's encoding and two
dense-dropout-ReLU layers predict what the network of the cell outputs on that image (its 10
preprocessed output features, ``archpred.networks.io_features``); for the **Accuracy model** the
same layers predict the network's accuracy from the flatten layer alone (the paper's appendix E).

Training is semi-supervised (``train_io_vae``): 300 labelled batches of (network, image) pairs of
the IO dataset (VAE loss + L1 on the features, or MSE on the accuracy), then 200 unlabelled
batches of NB-101 cells (VAE loss only), and again, until the labelled pairs of the epoch are used.

Two graph embeddings, as the paper's REINFORCE and prediction experiments: ``mean`` of the node
latents (arch2vec's, "model 1") and ``flatten``, the flatten layer's output before its ReLU
("model 2"). ``GraphVAE.embed`` gives the one of the config's ``embedding``: ``mean`` by default,
the better of the two in the paper's Tables 6-7 (its text says the opposite; the tables are the
measurements).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from archpred.errors import InvalidData, InvalidOption
from archpred.vae import IO_VAE_KINDS
from archpred.vae.arch2vec import Arch2Vec, Arch2VecConfig

IO_KINDS = dict(zip(IO_VAE_KINDS, ("features", "accuracy")))  # registry name -> what the head predicts
EMBEDDINGS = ("mean", "flatten")


@dataclass(frozen=True)
class IOVAEConfig:
    """Options of :class:`IOArch2Vec`; the VAE's are arch2vec's (the paper's Table 3).

    Args:
        target: ``features`` (the IO model) or ``accuracy`` (the Accuracy model).
        z_hidden: width of the flatten layer (the ``flatten`` embedding).
        dense: width of the two dense-dropout-ReLU layers.
        head_dropout: their dropout (Table 3: 0.3).
        image_shape: (channels, height, width) of the IO dataset's images.
        image_hidden: channels of the image encoder (two conv-BN-ReLU layers, global pooling).
        n_features: output features per image.
        embedding: which embedding ``graph_embedding`` gives: ``mean`` or ``flatten``.
    """

    space: str = "nb101"
    target: str = "features"
    hidden: int = 128
    layers: int = 5
    latent: int = 16
    dropout: float = 0.3
    kl_weight: float = 1 / 224
    z_hidden: int = 16
    dense: int = 512
    head_dropout: float = 0.3
    image_shape: tuple[int, int, int] = (1, 8, 8)
    image_hidden: int = 64
    n_features: int = 10
    embedding: str = "mean"

    def __post_init__(self) -> None:
        if self.target not in IO_KINDS.values():
            raise InvalidOption(f"target must be one of {', '.join(IO_KINDS.values())}, got {self.target!r}")
        if self.embedding not in EMBEDDINGS:
            raise InvalidOption(f"embedding must be one of {', '.join(EMBEDDINGS)}, got {self.embedding!r}")
        if len(tuple(self.image_shape)) != 3 or min(self.image_shape) < 1:
            raise InvalidOption(f"image_shape must be (channels, height, width), got {self.image_shape!r}")
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))  # JSON lists back


@dataclass(frozen=True)
class IOAccuracyConfig(IOVAEConfig):
    """The Accuracy model's options: :class:`IOVAEConfig` predicting the accuracy."""

    target: str = "accuracy"


class IOArch2Vec(nn.Module):
    """arch2vec plus the flatten layer and a labelled head (module docstring).

    Offers arch2vec's interface (``encode``, ``decode``, ``loss``, ``graph_embedding``), so a
    :class:`~archpred.vae.model.GraphVAE` wraps it like any graph VAE.

    Args:
        config: an :class:`IOVAEConfig`.

    Shapes (M = max vertices, L = latent):
        - **labelled_loss:** adj (B, M, M), types (B, M), n (B,), images (B, C, H, W) or None,
          targets (B, n_features) or (B,) -> scalar loss, parts
        - **predict:** z (B, M * L), images (B, C, H, W) or None -> (B, n_features) or (B,)
        - **graph_embedding:** z (B, M * L) -> (B, L) (``mean``) or (B, z_hidden) (``flatten``)
    """

    prior_from_data = True

    def __init__(self, config: IOVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.vae = Arch2Vec(
            Arch2VecConfig(config.space, config.hidden, config.layers, config.latent, config.dropout, config.kl_weight)
        )
        self.max_vertices = self.vae.max_vertices
        self.flatten = nn.Linear(self.vae.latent_dim, config.z_hidden)
        with_images = config.target == "features"
        channels = config.image_shape[0]
        self.image_encoder = (
            nn.Sequential(
                nn.Conv2d(channels, config.image_hidden, 3, padding=1, bias=False),
                nn.BatchNorm2d(config.image_hidden),
                nn.ReLU(),
                nn.Conv2d(config.image_hidden, config.image_hidden, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(config.image_hidden),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
            )
            if with_images
            else None
        )
        width_in = config.z_hidden + (config.image_hidden if with_images else 0)
        self.head = nn.Sequential(
            nn.Linear(width_in, config.dense),
            nn.Dropout(config.head_dropout),
            nn.ReLU(),
            nn.Linear(config.dense, config.dense),
            nn.Dropout(config.head_dropout),
            nn.ReLU(),
            nn.Linear(config.dense, config.n_features if with_images else 1),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.vae.reset_parameters()
        self.flatten.reset_parameters()
        for part in (self.image_encoder, self.head):
            for layer in part or ():
                if hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()

    # -- arch2vec's interface -----------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.vae.latent_dim

    @property
    def embedding_dim(self) -> int:
        """Width of :meth:`graph_embedding`: the node latent (``mean``) or the flatten layer."""
        return self.config.z_hidden if self.config.embedding == "flatten" else self.config.latent

    def encode(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.vae.encode(adj, types, n)

    def decode(self, z: torch.Tensor, is_valid: Any = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.vae.decode(z, is_valid)

    def loss(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The unlabelled loss: arch2vec's negative ELBO."""
        return self.vae.loss(adj, types, n)

    def graph_embedding(self, z: torch.Tensor, embedding: str | None = None) -> torch.Tensor:
        """``mean`` of the node latents or the ``flatten`` layer's output before its ReLU."""
        how = embedding or self.config.embedding
        if how == "mean":
            return self.vae.graph_embedding(z)
        if how == "flatten":
            return self.flatten(z)
        raise InvalidOption(f"embedding must be one of {', '.join(EMBEDDINGS)}, got {how!r}")

    # -- the labelled head --------------------------------------------------------------------
    def predict(self, z: torch.Tensor, images: torch.Tensor | None = None) -> torch.Tensor:
        """The head's output from flattened node latents (and the images, IO model)."""
        h = F.relu(self.flatten(z))
        if self.image_encoder is not None:
            if images is None:
                raise InvalidOption("the IO model predicts output features of images: pass them")
            h = torch.cat([h, self.image_encoder(images)], 1)
        out = self.head(h)
        return out if self.image_encoder is not None else out.squeeze(1)

    def labelled_loss(
        self,
        adj: torch.Tensor,
        types: torch.Tensor,
        n: torch.Tensor,
        images: torch.Tensor | None,
        targets: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The VAE loss plus the head's: L1 on the features (the paper's section F), or MSE on
        the accuracy (as the paper's code trains the Accuracy model)."""
        total, parts, z = self.vae.loss_and_latent(adj, types, n)
        out = self.predict(z, images)
        head = F.l1_loss(out, targets) if self.image_encoder is not None else F.mse_loss(out, targets)
        return total + head, {**parts, "head": float(head.detach())}


# -- the labelled data ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Pairs:
    """(network, image) pairs of an IO dataset: rows into its networks and its images."""

    net: np.ndarray
    image: np.ndarray

    def __len__(self) -> int:
        return len(self.net)

    def take(self, rows: np.ndarray) -> Pairs:
        return Pairs(self.net[rows], self.image[rows])


def use_embedding(vae: Any, embedding: str) -> Any:
    """``vae`` (an IO or Accuracy model's ``GraphVAE``) embedding by ``embedding`` from now on:
    ``mean`` ("model 1") or ``flatten`` ("model 2"); the weights are the same."""
    vae.module.config = replace(vae.module.config, embedding=embedding)  # checked by the config
    return vae


def pairs(nets: np.ndarray, images: np.ndarray) -> Pairs:
    """Every network of ``nets`` with every image of ``images``."""
    net, image = np.meshgrid(np.asarray(nets, np.int64), np.asarray(images, np.int64), indexing="ij")
    return Pairs(net.ravel(), image.ravel())


@dataclass(frozen=True)
class IOSplits:
    """The paper's Table 2 on an IO dataset: seen (``train``) and unseen (``val``) networks
    crossed with seen and unseen held-out images; 10% of the seen networks on unseen images
    validate, the other 90% test."""

    train: Pairs  # seen networks x seen images
    val_networks: Pairs  # unseen networks x seen images
    val_images: Pairs  # 10% of the seen networks x unseen images
    test_seen_networks: Pairs  # the other 90% x unseen images
    test_unseen_networks: Pairs  # unseen networks x unseen images


def io_splits(dataset: Any, seed: int = 0) -> IOSplits:
    """:class:`IOSplits` of an ``archpred.data.IODataset``."""
    seen = np.array([i for i, net in enumerate(dataset.networks) if net.split == "train"], np.int64)
    unseen = np.array([i for i, net in enumerate(dataset.networks) if net.split == "val"], np.int64)
    shuffled = np.random.default_rng((seed, 2)).permutation(seen)
    n_val = max(1, int(round(0.1 * len(seen)))) if len(seen) > 1 else 0
    val_nets, test_nets = np.sort(shuffled[:n_val]), np.sort(shuffled[n_val:])
    return IOSplits(
        train=pairs(seen, dataset.seen_images),
        val_networks=pairs(unseen, dataset.seen_images),
        val_images=pairs(val_nets, dataset.unseen_images),
        test_seen_networks=pairs(test_nets, dataset.unseen_images),
        test_unseen_networks=pairs(unseen, dataset.unseen_images),
    )


def io_images(dataset: Any) -> np.ndarray:
    """The held-out images the dataset's features were computed on, (N, C, H, W) float32: the
    test split of the dataset the networks were trained on, with their recipe's seed."""
    from archpred.networks.datasets import load_dataset

    recipe = dataset.manifest["recipe"]
    data = load_dataset(dataset.manifest["dataset"], seed=recipe["seed"], val_fraction=recipe["val_fraction"])
    labels = np.asarray(data.y_test)
    if any(len(net.labels) != len(labels) or not np.array_equal(net.labels, labels) for net in dataset.networks):
        raise InvalidData(
            f"the {dataset.manifest['dataset']} test images are not the ones the IO dataset's features were "
            "computed on (another split or version of the image set)"
        )
    return np.asarray(data.x_test, dtype=np.float32)


def alternating(
    n_labelled: int,
    n_unlabelled: int,
    batch_size: int,
    seed: int,
    epoch: int,
    labelled_run: int = 300,
    unlabelled_run: int = 200,
) -> Iterator[tuple[str, np.ndarray]]:
    """One epoch's batches: ``("labelled", rows)`` x ``labelled_run``, then ``("unlabelled",
    rows)`` x ``unlabelled_run``, and again until every labelled row was used once. Unlabelled
    rows come from a shuffle of their own (seeded by ``seed`` and ``epoch``), wrapping around."""
    rng = np.random.default_rng((int(seed), int(epoch), 3))
    lab = rng.permutation(n_labelled)
    unl = rng.permutation(n_unlabelled) if n_unlabelled else np.zeros(0, np.int64)
    n_lab_batches = math.ceil(n_labelled / batch_size)
    u = 0
    for start in range(0, n_lab_batches, labelled_run):
        for b in range(start, min(start + labelled_run, n_lab_batches)):
            rows = lab[b * batch_size : (b + 1) * batch_size]
            if len(rows) > 1:  # batch norm needs two
                yield "labelled", rows
        for _ in range(unlabelled_run if n_unlabelled > 1 else 0):
            rows = unl[np.arange(u, u + batch_size) % n_unlabelled]
            u += batch_size
            yield "unlabelled", rows
