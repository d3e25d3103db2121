"""GNN surrogate of Lukasik, Friede, Stuckenschmidt and Keuper (GCPR 2020).

Node-type embeddings (d_n = 250), T = 2 rounds of bidirectional message passing with their own
parameters per round (forward messages ``Linear(2 d_n -> 2 d_n)([h_v, h_u])`` summed over
in-neighbours, a reverse clone summed over out-neighbours, ``GRUCell(2 d_n -> d_n)`` fed with
the sum of both), a gated-sum readout to d_g = 56 and an MLP 28-14-7 with ReLU.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from archpred.predictors.torch_common import TorchConfig, TorchPredictor, padded_graphs


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
    """m_v = sum over neighbours u (in ``edge_index`` direction, u -> v) of Linear([h_v, h_u])."""

    def __init__(self, dim: int) -> None:
        super().__init__(aggr="add")
        self.lin = nn.Linear(2 * dim, 2 * dim)

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        # Linear([h_v, h_u]) = W_v h_v + W_u h_u + b: the two halves are applied once per
        # node and gathered per edge (the same function as on the concatenation, fewer FLOPs).
        d = h.shape[-1]
        own = nn.functional.linear(h, self.lin.weight[:, :d], self.lin.bias)
        other = nn.functional.linear(h, self.lin.weight[:, d:])
        return self.propagate(edge_index, own=own, other=other)

    def message(self, own_i: torch.Tensor, other_j: torch.Tensor) -> torch.Tensor:
        return own_i + other_j


class GNNRound(nn.Module):
    """One round: forward and reverse messages, summed, update the node state by a GRU cell."""

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


class GNNSurrogate(nn.Module):
    def __init__(self, num_types: int, d_node: int = 250, d_graph: int = 56, rounds: int = 2, mlp=(28, 14, 7)) -> None:
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

    def embed_graphs(self, node_type: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, size: int):
        h = self.embed(node_type)
        for layer in self.rounds:
            h = layer(h, edge_index)
        gated = self.project(h) * torch.sigmoid(self.gate(h))
        return scatter(gated, batch, dim=0, dim_size=size, reduce="sum")

    def forward(self, node_type: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, size: int):
        return self.regressor(self.embed_graphs(node_type, edge_index, batch, size)).squeeze(-1)


@dataclasses.dataclass(frozen=True)
class GNNConfig(TorchConfig):
    d_node: int = 250
    d_graph: int = 56
    rounds: int = 2
    mlp: tuple[int, ...] = (28, 14, 7)
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "mlp", tuple(int(x) for x in self.mlp))
        if self.d_node < 1 or self.d_graph < 1 or self.rounds < 1:
            raise ValueError("d_node, d_graph and rounds must be >= 1")


class GNNPredictor(TorchPredictor):
    """Lukasik et al.'s GNN surrogate through the ``Predictor`` contract."""

    name = "gnn"
    Config = GNNConfig

    def _features(self, archs):
        return padded_graphs(self.space_, archs)

    def _build(self) -> nn.Module:
        c = self.config
        return GNNSurrogate(len(self.space_.node_types), c.d_node, c.d_graph, c.rounds, c.mlp)

    def _forward(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        types, adj = batch["types"], batch["adj"]
        node_type, edge_index, graph = batch_from_padded(types, adj)
        return module(node_type, edge_index, graph, types.shape[0])
