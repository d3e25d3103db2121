"""GNN surrogate of Lukasik, Friede, Stuckenschmidt and Keuper (GCPR 2020).

Node-type embeddings (d_n = 250), T = 2 rounds of bidirectional message passing with their own
parameters per round (forward messages ``Linear(2 d_n -> 2 d_n)([h_v, h_u])`` summed over
in-neighbours, a reverse clone summed over out-neighbours, ``GRUCell(2 d_n -> d_n)`` fed with
the sum of both), a gated-sum readout to d_g = 56 and an MLP 28-14-7 with ReLU.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from archpred.errors import InvalidOption
from archpred.predictors.torch_common import TorchConfig, TorchPredictor, padded_graphs
from archpred.spaces import Architecture


def batch_from_padded(types: torch.Tensor, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PyG batch form of padded graphs, vectorised: node types (n,), ``edge_index`` (2, E) and
    ``batch`` (n,). Padding vertices (type -1, no edges) are dropped."""
    b, m = types.shape
    mask = types >= 0
    gid = torch.cumsum(mask.reshape(-1).long(), 0).view(b, m) - 1
    g, i, j = adj.nonzero(as_tuple=True)
    edge_index = torch.stack([gid[g, i], gid[g, j]])
    batch = torch.arange(b, device=types.device).unsqueeze(1).expand(b, m)[mask]
    return types[mask], edge_index, batch


class PairMessage(MessagePassing):
    """One message module of the GNN surrogate (Lukasik et al. 2020, eq. (6)/(7)).

    Sums a linear map of the concatenated pair over the sources of the edges into each node:
    ``m_v = sum_{u -> v} Lin_{2d x 2d}([h_v, h_u])`` (aggregation "add").

    Args:
        dim: node state width d; messages are 2 d wide.

    Shapes:
        - **input:** h (n, d), edge_index (2, E) long, row 0 the sources u, row 1 the targets v
        - **output:** (n, 2 d)
    """

    def __init__(self, dim: int) -> None:
        super().__init__(aggr="add")
        self.lin = nn.Linear(2 * dim, 2 * dim)

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def halves(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``Linear([h_v, h_u]) = (W_v h_v + b) + W_u h_u``: both halves of every node, (..., 2 d)
        each; an edge's message is its target's first half plus its source's second."""
        d = h.shape[-1]
        return (
            nn.functional.linear(h, self.lin.weight[:, :d], self.lin.bias),
            nn.functional.linear(h, self.lin.weight[:, d:]),
        )

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        # the halves are applied once per node and gathered per edge (the same function as on
        # the concatenation, fewer FLOPs)
        own, other = self.halves(h)
        return self.propagate(edge_index, own=own, other=other)

    def message(self, own_i: torch.Tensor, other_j: torch.Tensor) -> torch.Tensor:
        return own_i + other_j


class GNNRound(nn.Module):
    """One round of bidirectional message passing of the GNN surrogate (Lukasik et al. 2020).

    ``h_v' = GRUCell_{2d, d}(m_v + m_v^out, h_v)`` (eq. (8)), where ``m_v`` sums
    ``Lin([h_v, h_u])`` over the in-neighbours u of v and ``m_v^out`` sums a separately
    weighted ``Lin'([h_v, h_u])`` over its out-neighbours (eq. (3), (6), (7)).

    Args:
        dim: node state width d.

    Shapes:
        - **input:** h (n, d), edge_index (2, E) long in the cell's edge direction
        - **output:** (n, d)
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.forward_msg = PairMessage(dim)
        self.reverse_msg = PairMessage(dim)
        self.update = nn.GRUCell(2 * dim, dim)

    def reset_parameters(self) -> None:
        self.forward_msg.reset_parameters()
        self.reverse_msg.reset_parameters()
        self.update.reset_parameters()

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        m = self.forward_msg(h, edge_index) + self.reverse_msg(h, edge_index.flip(0))
        return self.update(m, h)

    def forward_dense(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """The same round on padded graphs: h (B, M, d), adj (B, M, M) float (``adj[u, v]`` for
        u -> v) -> (B, M, d). Summing ``W_v h_v + b + W_u h_u`` over the in-edges of v is
        ``indeg(v) (W_v h_v + b) + (A^T W_u h)_v``, two batched matmuls instead of a gather and a
        scatter per edge (several times faster on a CPU; the same function)."""
        indeg, outdeg = adj.sum(1).unsqueeze(-1), adj.sum(2).unsqueeze(-1)
        own, other = self.forward_msg.halves(h)
        back_own, back_other = self.reverse_msg.halves(h)  # messages against the edges
        m = indeg * own + adj.transpose(1, 2) @ other + outdeg * back_own + adj @ back_other
        b, n, d = h.shape
        return self.update(m.reshape(b * n, -1), h.reshape(b * n, d)).view(b, n, d)


class GNNSurrogate(nn.Module):
    """The GNN surrogate of Lukasik, Friede, Stuckenschmidt and Keuper (GCPR 2020).

    A node-type lookup table, ``rounds`` rounds of :class:`GNNRound` (own parameters per round),
    the gated-sum readout ``h_G = sum_v Lin_{d_n x d_g}(h_v) * sigmoid(Lin_{d_n x 1}(h_v))``
    (eq. (9)-(11)) and an MLP with ReLU between hidden layers and a linear output.

    Args:
        num_types: size of the node-type vocabulary (``len(space.node_types)``).
        d_node: node embedding width d_n (paper: 250).
        d_graph: graph embedding width d_g (paper: 56).
        rounds: message-passing rounds T (paper: 2).
        mlp: hidden widths of the regressor (paper: 28, 14, 7).

    Shapes:
        - **input:** node_type (n,) long, edge_index (2, E) long, batch (n,) long graph id of
          each node, size (int) the number of graphs B
        - **output:** (B,) one prediction per graph
    """

    def __init__(
        self, num_types: int, d_node: int = 250, d_graph: int = 56, rounds: int = 2, mlp: Sequence[int] = (28, 14, 7)
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_types, d_node)
        self.rounds = nn.ModuleList(GNNRound(d_node) for _ in range(rounds))
        self.gate = nn.Linear(d_node, 1)
        self.project = nn.Linear(d_node, d_graph)
        layers: list[nn.Module] = []
        width = d_graph
        for hidden in mlp:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.regressor = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def embed_graphs(
        self, node_type: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, size: int
    ) -> torch.Tensor:
        """The graph embeddings h_G before the regressor: (size, d_graph)."""
        h = self.embed(node_type)
        for layer in self.rounds:
            h = layer(h, edge_index)
        gated = self.project(h) * torch.sigmoid(self.gate(h))
        return scatter(gated, batch, dim=0, dim_size=size, reduce="sum")

    def forward(
        self, node_type: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, size: int
    ) -> torch.Tensor:
        return self.regressor(self.embed_graphs(node_type, edge_index, batch, size)).squeeze(-1)

    def embed_dense(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """:meth:`embed_graphs` of padded graphs: types (B, M) long (-1 padding), adj (B, M, M)
        -> (B, d_graph). Padding vertices have no edges, so they never reach a real vertex, and
        the readout leaves them out."""
        mask = (types >= 0).unsqueeze(-1)
        h = self.embed(types.clamp(min=0))
        a = adj.to(h.dtype)
        for layer in self.rounds:
            h = layer.forward_dense(h, a)
        gated = self.project(h) * torch.sigmoid(self.gate(h))
        return (gated * mask).sum(1)

    def forward_dense(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on padded graphs (see :meth:`embed_dense`): -> (B,)."""
        return self.regressor(self.embed_dense(types, adj)).squeeze(-1)


@dataclasses.dataclass(frozen=True)
class GNNConfig(TorchConfig):
    """Options of :class:`GNNPredictor`: the network's widths, then training (defaults here
    override :class:`TorchConfig`'s).

    Fields:
        d_node: node embedding width d_n.
        d_graph: graph embedding width d_g.
        rounds: message-passing rounds, each with its own weights.
        mlp: hidden widths of the regressor on h_G.
        epochs, batch_size, lr, weight_decay: Adam training of each ensemble member.
        steps: the training budget in optimiser steps (``TorchConfig``).

    The defaults are the configuration ``bench predictors --protocols select`` chose by
    cross-validation on training cells (``reports/predictors.md``): d_n = 64, 2,500 steps of
    batch 32, and the pairwise ranking loss (outputs mapped onto accuracy by isotonic regression
    on the training cells). The paper's own (d_n = 250, MSE, 100 epochs) is
    ``d_node=250, loss="mse", epochs=100, batch_size=128``.
    """

    d_node: int = 64
    d_graph: int = 56
    rounds: int = 2
    mlp: tuple[int, ...] = (28, 14, 7)
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    steps: int = 2_500
    loss: str = "rank"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "mlp", tuple(int(x) for x in self.mlp))
        if self.d_node < 1 or self.d_graph < 1 or self.rounds < 1:
            raise InvalidOption("d_node, d_graph and rounds must be >= 1")


class GNNPredictor(TorchPredictor):
    """Lukasik et al.'s GNN surrogate (:class:`GNNSurrogate`) through the ``Predictor`` contract.

    Cells are read as padded node-labelled DAGs (``space.padded``) and turned into one PyG
    batch per step; targets are standardised for training and mapped back in ``predict``.

    Args:
        seed: seeds initialisation and batch order of member k with ``seed + k``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        progress: show a progress bar while fitting.
        callbacks: ``archpred.training.Callback`` objects or ``fn(epoch, logs)`` per epoch.
        **config: fields of :class:`GNNConfig` (and ``loss``, ``rank_weight``, ``ensemble``).

    Shapes:
        - **fit:** archs (N architectures of one space), y (N,)
        - **predict:** archs (N architectures) -> (N,) float64
    """

    name = "gnn"
    Config = GNNConfig
    reads_padded = True
    # cells per forward pass when predicting: the node states of 512 NB-101 cells stay in the
    # CPU's caches (2,048 cells: 1.3x slower, bench scoring)
    predict_batch = 512

    def _features(self, archs: list[Architecture]) -> dict[str, torch.Tensor]:
        return padded_graphs(self.space_, archs)

    def _padded_features(self, types: torch.Tensor, adj: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"types": types, "adj": adj}

    def _build(self) -> nn.Module:
        c = self.config
        return GNNSurrogate(len(self.space_.node_types), c.d_node, c.d_graph, c.rounds, c.mlp)

    def _forward(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        # the dense form of the same message passing (GNNSurrogate.forward_dense; equal to the
        # PyG form, tests/predictors/test_models.py): about 1.8x faster to score a whole space
        return module.forward_dense(batch["types"], batch["adj"])
