"""The k-GNN baseline of GENNAPE: a GNN trained end to end on computation graphs.

Paper (supplementary, "Baseline GNNs"): an embedding layer maps CG node features to 32, six
graph layers (k-GNN of Morris et al. 2019, PyG ``GraphConv``), the mean of the node embeddings,
and a regressor of 4 layers with hidden size 32; 40 epochs, learning rate 1e-4, batch 32.

Choices where the paper is silent: the embedding layer is linear (node features are the 33
numbers of ``GraphSet.batch``, not ids); ReLU follows the embedding and every graph layer;
messages follow the CG's edges (data flow), summed (``GraphConv``'s default); "4 layers" of the
regressor are 4 linear maps (3 hidden of width 32, then the output); the loss is MSE, Adam with
the house cosine decay from ``lr`` (``CosineLR``, as every regressor here). The targets are
whatever the caller passes (GENNAPE's lead passes Eq. 5 targets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GraphConv, global_mean_pool

from archpred.errors import InvalidOption
from archpred.gennape.graphs import NODE_FEATURES, GraphSet
from archpred.training import Callback, CosineLR, batches, fit_loop, resolve_device, seeded


@dataclass(frozen=True)
class KGNNConfig:
    """Sizes of the k-GNN baseline.

    Fields:
        hidden: width of the node embedding, the graph layers and the regressor (paper: 32).
        layers: ``GraphConv`` layers (paper: 6).
        mlp_layers: linear maps of the regressor, output included (paper: 4).
        dropout: dropout on node states after each graph layer and in the regressor.
    """

    hidden: int = 32
    layers: int = 6
    mlp_layers: int = 4
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.layers < 1 or self.mlp_layers < 1:
            raise InvalidOption("k-GNN hidden, layers and mlp_layers must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidOption(f"k-GNN dropout must be in [0, 1), got {self.dropout}")


class KGNN(nn.Module):
    """k-GNN regressor on CGs: linear node embedding, ``layers`` x ``GraphConv`` + ReLU, mean
    readout, MLP to one number.

    Args:
        config: :class:`KGNNConfig`.
        in_dim: node feature width (``NODE_FEATURES`` = 33 for ``GraphSet.batch``).

    Shapes:
        - **input:** a PyG ``Batch`` with x (N, in_dim), edge_index (2, E), batch (N,)
        - **output:** (B,) one prediction per graph
    """

    def __init__(self, config: KGNNConfig | None = None, in_dim: int = NODE_FEATURES) -> None:
        super().__init__()
        self.config = config = config or KGNNConfig()
        width = config.hidden
        self.embed = nn.Linear(in_dim, width)
        self.convs = nn.ModuleList(GraphConv(width, width) for _ in range(config.layers))
        self.dropout = nn.Dropout(config.dropout)
        mlp: list[nn.Module] = []
        for _ in range(config.mlp_layers - 1):
            mlp += [nn.Linear(width, width), nn.ReLU(), nn.Dropout(config.dropout)]
        mlp.append(nn.Linear(width, 1))
        self.regressor = nn.Sequential(*mlp)

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def embed_graphs(self, batch: Batch) -> torch.Tensor:
        """The graph embeddings before the regressor: (B, hidden)."""
        h = torch.relu(self.embed(batch.x))
        for conv in self.convs:
            h = self.dropout(torch.relu(conv(h, batch.edge_index)))
        return global_mean_pool(h, batch.batch, size=batch.num_graphs)

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.regressor(self.embed_graphs(batch)).squeeze(-1)


def _targets(graphs: GraphSet, targets: np.ndarray) -> np.ndarray:
    y = np.asarray(targets, dtype=np.float64).reshape(-1)
    if len(y) != len(graphs):
        raise InvalidOption(f"{len(graphs)} graphs but {len(y)} targets")
    if len(y) < 2:
        raise InvalidOption("the k-GNN needs at least two training graphs")
    if not np.all(np.isfinite(y)):
        raise InvalidOption("k-GNN targets hold NaN or infinite values")
    return y


def train_kgnn(
    graphs: GraphSet,
    targets: np.ndarray,
    config: KGNNConfig | None = None,
    *,
    epochs: int = 40,
    batch_size: int = 32,
    lr: float = 1e-4,
    seed: int,
    device: str | torch.device = "auto",
    checkpoint: str | Path | None = None,
    progress: bool = True,
    callbacks: Iterable[Callback] = (),
) -> tuple[KGNN, list[dict[str, float]]]:
    """A new k-GNN (weights drawn inside ``seeded(seed)``) trained by :func:`fit_kgnn`; returns
    the model (eval mode, on the CPU) and one log dict per epoch.

    Shapes:
        targets: (n,) one per graph
    """
    _targets(graphs, targets)  # refuse bad input before building anything
    with seeded(seed):
        model = KGNN(config)
    history = fit_kgnn(
        model,
        graphs,
        targets,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        checkpoint=checkpoint,
        progress=progress,
        callbacks=callbacks,
    )
    return model, history


_SETTINGS = ("epochs", "batch_size", "lr", "seed", "device", "progress")


def fit_kgnn(
    model: KGNN,
    graphs: GraphSet,
    targets: np.ndarray,
    settings: Any = None,
    *,
    epochs: int = 40,
    batch_size: int = 32,
    lr: float = 1e-4,
    seed: int = 0,
    device: str | torch.device = "auto",
    checkpoint: str | Path | None = None,
    progress: bool = True,
    callbacks: Iterable[Callback] = (),
) -> list[dict[str, float]]:
    """Train ``model`` in place on ``graphs -> targets`` with MSE (also fine-tuning a trained
    one); it ends in eval mode on the CPU. Returns one log dict per epoch.

    Adam with the house cosine decay from ``lr`` on ``fit_loop``; batches come from
    ``batches(n, batch_size, seed, epoch)`` and dropout draws run inside ``seeded(seed)`` (the
    caller's RNG is left as it was). With ``checkpoint``, every epoch is saved there and a run
    that finds it resumes after its last epoch; ``callbacks`` get each epoch's logs.

    Args:
        settings: optional object with ``epochs``, ``batch_size``, ``lr``, ``seed``, ``device``
            and ``progress`` attributes (GENNAPE's member settings), read by name so this module
            need not import the one above it; they replace the keyword values.

    Shapes:
        targets: (n,) one per graph
    """
    options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "device": device}
    options["progress"] = progress
    if settings is not None:
        options.update({name: getattr(settings, name) for name in _SETTINGS if hasattr(settings, name)})
    y_np = _targets(graphs, targets)
    epochs, batch_size, lr, seed = int(options["epochs"]), int(options["batch_size"]), options["lr"], options["seed"]
    if epochs < 0 or batch_size < 1 or not lr > 0:
        raise InvalidOption("epochs must be >= 0, batch_size >= 1 and lr > 0")
    dev = resolve_device(options["device"])
    y = torch.as_tensor(y_np, dtype=torch.float32, device=dev)
    model.to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step(rows: torch.Tensor) -> torch.Tensor:
        batch = graphs.batch(rows.numpy()).to(dev)
        return nn.functional.mse_loss(model(batch), y[rows.to(dev)])

    with seeded(seed):
        history = fit_loop(
            model,
            step,
            lambda epoch: batches(len(graphs), batch_size, seed, epoch),
            epochs=epochs,
            optimizer=optimizer,
            callbacks=[CosineLR(optimizer, lr, 0.0, epochs), *callbacks],
            checkpoint=checkpoint,
            progress=bool(options["progress"]),
            desc="k-GNN",
            recipe={"lr": lr, "batch_size": batch_size, "seed": seed, "graphs": len(graphs)},
        )
    model.cpu().eval()
    return history


@torch.no_grad()
def predict_kgnn(
    model: KGNN, graphs: GraphSet, batch_size: int = 256, device: str | torch.device = "auto"
) -> np.ndarray:
    """Predictions for every graph, in order: (n,) float64 (in the units of the training
    targets). The model is moved to ``device`` and left in eval mode."""
    dev = resolve_device(device)
    model.to(dev).eval()
    out = [
        model(graphs.batch(np.arange(start, min(start + batch_size, len(graphs)))).to(dev)).double().cpu()
        for start in range(0, len(graphs), max(1, int(batch_size)))
    ]
    return torch.cat(out).numpy() if out else np.zeros(0)
