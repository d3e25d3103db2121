"""Training GENNAPE's CL encoder: SimCSE views, soft spectral positives, a FLOPs regulariser.

Mills et al. (AAAI 2023), Eq. 1: for 2N projections z (two dropout views of N graphs),

    L = - sum_i sum_{l != i} alpha_l^(i) log( exp(z_i.z_l / tau) / sum_{r != i} exp(z_i.z_r / tau) )

where alpha^(i) is "the softmax of sigma(i, *)", sigma the Euclidean distance between the q = 21
smallest normalised-Laplacian eigenvalues of the undirected CGs. A closer spectrum must weigh
more, so we read it as softmax(-sigma) over l != i. The twin view of graph i (and any graph
isomorphic to it) is at distance 0 and gets the largest weight. We average over i instead of
summing (the batch size then does not scale the loss or the learning rate).

``train_encoder`` adds the paper's FLOPs head: the MSE of ``predict_flops`` against
z-scored log10(FLOPs + 1) (mean and std of the training set, stored in the encoder's
``flops_stats``), weighted by ``flops_weight``. Adam with a cosine schedule (``CosineLR``) from
``lr`` to 0 over ``epochs``; the paper gives only the initial rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from archpred.errors import InvalidOption
from archpred.gennape.encoder import CLEncoder, EncoderConfig
from archpred.gennape.graphs import GraphSet
from archpred.training import Callback, CosineLR, batches, fit_loop, resolve_device, seeded


def soft_positive_weights(spectrum: Tensor, spectral_temperature: float = 1.0) -> Tensor:
    """alpha^(i)_l = softmax over l != i of -sigma(i, l) / spectral_temperature.

    ``spectral_temperature`` 1.0 is the paper's softmax of the raw distances; a smaller one
    concentrates the weight on the nearest spectra (NB-201 CG distances are ~0.02-0.3, so at 1.0
    the weights of one row differ by at most ~35 %).

    Shapes:
        spectrum: (2N, q) -> (2N, 2N); zero diagonal, rows sum to 1.
    """
    if spectrum.ndim != 2 or len(spectrum) < 2:
        raise InvalidOption(f"soft positives need a (2N >= 2, q) spectrum, got shape {tuple(spectrum.shape)}")
    if not spectral_temperature > 0:
        raise InvalidOption(f"spectral_temperature must be > 0, got {spectral_temperature!r}")
    spectrum = spectrum.float()
    # exact differences (torch.cdist's matmul path leaves ~1e-4 between identical rows)
    sigma = (spectrum.unsqueeze(1) - spectrum.unsqueeze(0)).norm(dim=-1)
    eye = torch.eye(len(spectrum), dtype=torch.bool, device=spectrum.device)
    return torch.softmax((-sigma / spectral_temperature).masked_fill(eye, -math.inf), dim=1)


def contrastive_loss(
    z: Tensor, spectrum: Tensor, temperature: float = 0.05, spectral_temperature: float = 1.0
) -> Tensor:
    """Paper Eq. 1 averaged over the 2N anchors i: the cross-entropy between the soft positives
    alpha^(i) (:func:`soft_positive_weights`) and softmax_{r != i}(z_i . z_r / temperature).

    Shapes:
        z: (2N, p) unit-norm projections; spectrum: (2N, q) -> scalar.
    """
    if not temperature > 0:
        raise InvalidOption(f"temperature must be > 0, got {temperature!r}")
    if z.ndim != 2 or len(z) != len(spectrum):
        raise InvalidOption(f"z {tuple(z.shape)} and spectrum {tuple(spectrum.shape)} need the same rows")
    alpha = soft_positive_weights(spectrum.to(z.device), spectral_temperature)
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = (z @ z.t() / temperature).masked_fill(eye, -math.inf)
    log_p = torch.log_softmax(logits, dim=1).masked_fill(eye, 0.0)  # 0 * -inf would be NaN
    return -(alpha * log_p).sum(dim=1).mean()


@dataclass(frozen=True)
class CLTrainConfig:
    """Contrastive training (paper: batch 128, tau 0.05, 40 epochs, initial lr 1e-4).

    ``flops_weight`` weighs the FLOPs head's MSE (0 drops it; an encoder built with
    ``flops_head=False`` trains on the contrastive loss alone). ``spectral_temperature``: see
    :func:`soft_positive_weights` (1.0 is the paper).
    """

    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-4
    temperature: float = 0.05
    flops_weight: float = 1.0
    weight_decay: float = 0.0
    spectral_temperature: float = 1.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidOption(f"CL training option {name} must be a positive integer, got {value!r}")
        for name in ("lr", "temperature", "spectral_temperature"):
            if not float(getattr(self, name)) > 0:
                raise InvalidOption(f"CL training option {name} must be > 0, got {getattr(self, name)!r}")
        for name in ("flops_weight", "weight_decay"):
            if not float(getattr(self, name)) >= 0:
                raise InvalidOption(f"CL training option {name} must be >= 0, got {getattr(self, name)!r}")


@dataclass
class _LossParts(Callback):
    """Adds the epoch's mean contrastive and FLOPs losses to the logs (``cl_loss``, ``flops_loss``)."""

    parts: dict[str, list[float]] = field(default_factory=dict)

    def add(self, **losses: Tensor) -> None:
        for name, value in losses.items():
            self.parts.setdefault(name, []).append(float(value.detach()))

    def on_epoch_start(self, epoch: int) -> None:
        self.parts = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        logs.update({name: float(np.mean(values)) for name, values in self.parts.items()})


def flops_target(graphs: GraphSet) -> tuple[np.ndarray, float, float]:
    """z-scored log10(FLOPs + 1) of ``graphs``, with the mean and std used (std 1 if constant)."""
    log_flops = np.log10(np.asarray(graphs.flops, dtype=np.float64) + 1.0)
    mean = float(log_flops.mean()) if len(log_flops) else 0.0
    std = float(log_flops.std()) if len(log_flops) else 1.0
    std = std if std > 1e-12 else 1.0
    return ((log_flops - mean) / std).astype(np.float32), mean, std


def train_encoder(
    graphs: GraphSet,
    encoder_config: EncoderConfig,
    train_config: CLTrainConfig,
    *,
    seed: int,
    device: str | torch.device = "auto",
    checkpoint: str | Path | None = None,
    progress: bool = True,
    callbacks: Iterable[Callback] = (),
) -> tuple[CLEncoder, list[dict[str, float]]]:
    """Train a :class:`CLEncoder` on ``graphs`` with the CL loss (+ the FLOPs head); returns the
    encoder (eval mode) and one log per epoch (``loss``, ``cl_loss``, ``flops_loss``).

    Each step runs the encoder twice in train mode on one batch (two dropout views, SimCSE),
    stacks the 2N embeddings and applies :func:`contrastive_loss` to their projections with the
    graphs' spectra (duplicated). ``checkpoint`` is written every epoch and resumed from if it
    exists. The weights and dropout are seeded by ``seed``; the caller's RNG is untouched.
    """
    n = len(graphs)
    if n < 2:
        raise InvalidOption(f"contrastive training needs at least 2 graphs, got {n}")
    dev = resolve_device(device)
    cfg = train_config
    target_np, mean, std = flops_target(graphs)
    target = torch.from_numpy(target_np).to(dev)
    spectrum = torch.as_tensor(np.asarray(graphs.spectrum), dtype=torch.float32, device=dev)
    parts = _LossParts()
    with seeded(seed):
        encoder = CLEncoder(encoder_config).to(dev)
        encoder.flops_stats.copy_(torch.tensor([mean, std]))
        use_flops = encoder.flops_head is not None and cfg.flops_weight > 0
        optimizer = torch.optim.Adam(encoder.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

        def step(rows: Tensor) -> Tensor:
            batch = graphs.batch(rows.numpy()).to(dev)
            h = torch.cat([encoder(batch), encoder(batch)])  # two dropout views, (2N, embed_dim)
            rows_dev = rows.to(dev)
            cl = contrastive_loss(
                encoder.project(h), spectrum[rows_dev].repeat(2, 1), cfg.temperature, cfg.spectral_temperature
            )
            if not use_flops:
                parts.add(cl_loss=cl)
                return cl
            flops = torch.nn.functional.mse_loss(encoder.predict_flops(h), target[rows_dev].repeat(2))
            parts.add(cl_loss=cl, flops_loss=flops)
            return cl + cfg.flops_weight * flops

        history = fit_loop(
            encoder,
            step,
            lambda epoch: batches(n, cfg.batch_size, seed, epoch),
            epochs=cfg.epochs,
            optimizer=optimizer,
            callbacks=[CosineLR(optimizer, cfg.lr, 0.0, cfg.epochs), parts, *callbacks],
            checkpoint=checkpoint,
            progress=progress,
            desc="CL encoder",
            recipe={**{k: v for k, v in asdict(cfg).items() if k != "epochs"}, "seed": seed, "graphs": n},
        )
    return encoder.eval(), history


@torch.no_grad()
def embed(
    encoder: CLEncoder, graphs: GraphSet, batch_size: int = 256, device: str | torch.device = "auto"
) -> np.ndarray:
    """Embeddings h of ``graphs`` in eval mode (no dropout), (n, embed_dim) float32.

    The encoder is moved to ``device``; its train/eval mode is restored afterwards.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidOption(f"batch_size must be a positive integer, got {batch_size!r}")
    dev = resolve_device(device)
    was_training = encoder.training
    encoder.to(dev).eval()
    try:
        out = [
            encoder(graphs.batch(np.arange(start, min(start + batch_size, len(graphs)))).to(dev)).cpu().numpy()
            for start in range(0, len(graphs), batch_size)
        ]
    finally:
        encoder.train(was_training)
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, encoder.embed_dim), np.float32)
