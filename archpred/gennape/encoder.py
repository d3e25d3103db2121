"""GENNAPE's contrastive-learning (CL) graph encoder: a k-GNN and a Transformer side by side.

Mills et al. (AAAI 2023), supplementary "Contrastive Learning Graph Encoder": "a GNN (Morris et
al. 2019) and Transformer (Vaswani et al. 2017) whose output is concatenated ... The GNN consists
of 4 layers, while the Transformer consists of a single layer with two attention heads trained
with a dropout rate of 0.1. Both modules produce output vectors of length 64"; "for
regularization, we add a second projection head that predicts the FLOPs of a CG".

Where the paper is silent (our choices): each branch starts with a linear embedding of the
33 node features; the k-GNN is PyG's ``GraphConv`` (sum aggregation, Morris et al.'s 1-GNN) along
the CG's directed edges as given, ReLU and dropout after each layer, then the mean over nodes;
the Transformer sees the nodes as a set (no positional encoding), feed-forward width
``4 * tf_dim``, and is read out by the mean over the real (unpadded) nodes. The projection head
is SimCLR's two-layer MLP; the FLOPs head is a two-layer MLP onto the standardised log FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GraphConv, global_mean_pool
from torch_geometric.utils import to_dense_batch

from archpred.errors import InvalidOption
from archpred.gennape.graphs import NODE_FEATURES


@dataclass(frozen=True)
class EncoderConfig:
    """Sizes of the CL encoder (paper defaults: 4 GraphConv layers of 64, one 2-head
    Transformer layer of 64, dropout 0.1; embedding 64 + 64 = 128)."""

    in_dim: int = NODE_FEATURES
    gnn_layers: int = 4
    gnn_dim: int = 64
    tf_layers: int = 1
    tf_heads: int = 2
    tf_dim: int = 64
    dropout: float = 0.1
    proj_dim: int = 64  # output of the projection head (the contrastive loss's space)
    flops_head: bool = True  # the paper's FLOPs-regression head (a regulariser)

    def __post_init__(self) -> None:
        for name in ("in_dim", "gnn_layers", "gnn_dim", "tf_layers", "tf_heads", "tf_dim", "proj_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidOption(f"encoder option {name} must be a positive integer, got {value!r}")
        if self.tf_dim % self.tf_heads:
            raise InvalidOption(f"tf_dim ({self.tf_dim}) must be a multiple of tf_heads ({self.tf_heads})")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise InvalidOption(f"dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def embed_dim(self) -> int:
        """Width of the embedding ``h``: the two branches concatenated."""
        return self.gnn_dim + self.tf_dim


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


def _reset(module: nn.Module) -> None:
    """Re-initialise every layer below ``module`` (``MultiheadAttention`` names it privately)."""
    for child in module.modules():
        if child is module:
            continue
        if isinstance(child, nn.MultiheadAttention):
            child._reset_parameters()
        elif hasattr(child, "reset_parameters"):
            child.reset_parameters()


class CLEncoder(nn.Module):
    """GENNAPE's CL graph encoder: a k-GNN branch and a Transformer branch over the nodes of a
    computation graph, concatenated into one embedding, with a projection head for the
    contrastive loss and a FLOPs head for regularisation.

    - k-GNN branch: ``Linear(in_dim, gnn_dim)``, then ``gnn_layers`` x (``GraphConv`` along the
      directed edges, ReLU, dropout), then the mean over each graph's nodes.
    - Transformer branch: ``Linear(in_dim, tf_dim)``, ``tf_layers`` Transformer encoder layers
      (``tf_heads`` heads, dropout) over each graph's nodes with padding masked out, then the
      mean over the real nodes.

    Dropout is the only source of randomness, so two train-mode passes over one batch are the two
    SimCSE "views" of every graph.

    Args:
        config: an :class:`EncoderConfig`.

    Shapes:
        - **input:** a PyG ``Batch`` of B graphs with ``x`` (total nodes, in_dim),
          ``edge_index`` (2, total edges) and ``batch`` (total nodes,)
        - **output:** :meth:`forward` h (B, gnn_dim + tf_dim); :meth:`project` (B, proj_dim),
          unit L2 norm; :meth:`predict_flops` (B,) standardised log10(FLOPs + 1)
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.gnn_embed = nn.Linear(c.in_dim, c.gnn_dim)
        self.gnn = nn.ModuleList(GraphConv(c.gnn_dim, c.gnn_dim) for _ in range(c.gnn_layers))
        self.dropout = nn.Dropout(c.dropout)
        self.tf_embed = nn.Linear(c.in_dim, c.tf_dim)
        layer = nn.TransformerEncoderLayer(
            c.tf_dim, c.tf_heads, dim_feedforward=4 * c.tf_dim, dropout=c.dropout, batch_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, c.tf_layers, enable_nested_tensor=False)
        self.projection = _mlp(c.embed_dim, c.embed_dim, c.proj_dim)
        self.flops_head = _mlp(c.embed_dim, c.gnn_dim, 1) if c.flops_head else None
        # mean and std of log10(FLOPs + 1) that predict_flops is standardised by (set by training)
        self.register_buffer("flops_stats", torch.tensor([0.0, 1.0]))

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    def reset_parameters(self) -> None:
        _reset(self)
        self.flops_stats.copy_(torch.tensor([0.0, 1.0]))

    def gnn_branch(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, size: int) -> torch.Tensor:
        """(total nodes, in_dim) -> (B, gnn_dim)."""
        v = self.gnn_embed(x)
        for conv in self.gnn:
            v = self.dropout(torch.relu(conv(v, edge_index)))
        return global_mean_pool(v, batch, size)

    def transformer_branch(self, x: torch.Tensor, batch: torch.Tensor, size: int) -> torch.Tensor:
        """(total nodes, in_dim) -> (B, tf_dim): the nodes of each graph as one padded sequence."""
        dense, mask = to_dense_batch(self.tf_embed(x), batch, batch_size=size)  # (B, M, d), (B, M)
        out = self.transformer(dense, src_key_padding_mask=~mask)
        keep = mask.unsqueeze(-1).to(out.dtype)
        return (out * keep).sum(1) / keep.sum(1).clamp(min=1.0)

    def forward(self, batch: Batch) -> torch.Tensor:
        node_batch = getattr(batch, "batch", None)
        if node_batch is None:  # a single Data, not a Batch
            node_batch = torch.zeros(batch.num_nodes, dtype=torch.long, device=batch.x.device)
        size = int(getattr(batch, "num_graphs", 1))
        x = batch.x.float()
        return torch.cat(
            [self.gnn_branch(x, batch.edge_index, node_batch, size), self.transformer_branch(x, node_batch, size)],
            dim=1,
        )

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """The contrastive loss's input z: the projection head's output, L2-normalised."""
        return nn.functional.normalize(self.projection(h), dim=-1)

    def predict_flops(self, h: torch.Tensor) -> torch.Tensor:
        """Standardised log10(FLOPs + 1) from the embedding (the regularising head)."""
        if self.flops_head is None:
            raise InvalidOption("this encoder was built without a FLOPs head (flops_head=False)")
        return self.flops_head(h).squeeze(-1)
