"""arch2vec (Yan et al., NeurIPS 2020): a GIN variational graph autoencoder.

Encoder: 5 GIN layers (each a 2-layer MLP of 128 with batch norm) on ``A + A^T`` and one-hot
node types; a per-node Gaussian of 16 dimensions. Decoder: ``sigmoid(Z Z^T)`` for the
(upper-triangular) adjacency and a dense layer for the node types. The graph embedding is the
mean of the node latents. Two decoders of the node types (``Arch2VecConfig.decoder``):

- ``"sigmoid"``, arch2vec's released code (``models/model.py``, config 4): one sigmoid per type
  trained with binary cross-entropy, padding vertices all-zero rows after the output (its
  ``gen_json.py``), the adjacency's binary cross-entropy averaged over the whole M x M matrix (its
  lower triangle and diagonal are zeroed on both sides, so they add nothing but the divisor).
  A decoded vertex with no edge whose every type is below 0.5 is padding.
- ``"softmax"`` (our first reading, which the shipped NB-201, ENAS and IO models use): a softmax
  over the types plus a "padding" type, padding vertices before the output, cross-entropy of the
  types + binary cross-entropy of the upper-triangle entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from archpred.errors import InvalidOption
from archpred.spaces import get_space
from archpred.vae.data import ValidityCheck

DECODERS = ("sigmoid", "softmax")


@dataclass(frozen=True)
class Arch2VecConfig:
    """Options of :class:`Arch2Vec`."""

    space: str = "nb201"  # search space name: fixes the node types and the padded size M
    hidden: int = 128  # width of every GIN MLP layer
    layers: int = 5  # number of GIN layers
    latent: int = 16  # latent dimension per vertex (the graph embedding is as wide)
    dropout: float = 0.3  # on the node latents before decoding, as arch2vec
    # arch2vec divides the per-vertex KL by (batch size x vertices): 1 / (32 x 7) at its batch of
    # 32 NB-101 cells. A fixed weight keeps that balance without tying the loss to the batch size;
    # so weak a KL lets the posteriors drift from N(0, I), hence GraphVAE.fit_prior for sampling.
    kl_weight: float = 1 / 224
    decoder: str = "softmax"  # node types: "sigmoid" (arch2vec's code) or "softmax" (see the module doc)

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise InvalidOption(f"arch2vec decoder must be one of {', '.join(DECODERS)}, got {self.decoder!r}")


class GINLayer(nn.Module):
    """A Graph Isomorphism Network layer (Xu et al. 2019) on dense batches, as arch2vec uses it.

    ``h_v' = MLP((1 + eps) h_v + sum_{u in N(v)} h_u)`` with a learnable ``eps`` (initially 0)
    and ``MLP = Linear-BN-ReLU-Linear-BN-ReLU``; the neighbourhood comes from ``adj`` as given
    (:class:`Arch2Vec` passes ``A + A^T``).

    Args:
        dim_in: node feature width in.
        hidden: width of both MLP layers (the output width).

    Shapes:
        - **input:** h (B, M, dim_in), adj (B, M, M) float
        - **output:** (B, M, hidden)
    """

    def __init__(self, dim_in: int, hidden: int) -> None:
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(1))
        self.mlp = nn.Sequential(
            nn.Linear(dim_in, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
        )

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.eps)
        for layer in self.mlp:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        b, m, _ = h.shape
        x = (1 + self.eps) * h + adj @ h
        return self.mlp(x.reshape(b * m, -1)).view(b, m, -1)


class Arch2Vec(nn.Module):
    """arch2vec (Yan et al., NeurIPS 2020): a variational graph autoencoder with GIN layers.

    Encoder: one-hot node types through ``layers`` :class:`GINLayer` s on ``A + A^T`` (so
    information flows both ways), then per-vertex fc layers for the mean and log-variance of a
    Gaussian node latent. Decoder: a dense layer for the node types (sigmoids or a softmax, see
    ``Arch2VecConfig.decoder`` and the module doc) and ``sigmoid(Z Z^T)`` for the
    upper-triangular adjacency, each node latent after dropout. Loss: reconstruction of types
    and adjacency + ``kl_weight`` x the per-vertex KL (averaged). Converts from and to the
    compact layout of :mod:`archpred.vae.data`.

    Args:
        config: an :class:`Arch2VecConfig`.

    Shapes (compact layout, M = ``space.max_vertices``, L = ``config.latent``):
        - **encode:** adj (B, M, M) float, types (B, M) long (-1 padding), n (B,) long
          -> mu (B, M * L), logvar (B, M * L) (node latents, flattened)
        - **loss:** adj, types, n as above -> scalar loss, ``{"recon", "kl"}`` floats
        - **decode:** z (B, M * L) -> types (B, M), adj (B, M, M), n (B,)
        - **graph_embedding:** z (B, M * L) -> (B, L)
    """

    # generate from the Gaussian of the training posteriors, as arch2vec does (GraphVAE.fit_prior)
    prior_from_data = True

    def __init__(self, config: Arch2VecConfig) -> None:
        super().__init__()
        self.config = config
        space = get_space(config.space)
        self.sigmoid = config.decoder == "sigmoid"
        # the softmax decoder has one more type, "padding"; the sigmoid one marks padding by all zeros
        self.num_types = len(space.node_types) + (0 if self.sigmoid else 1)
        self.pad = None if self.sigmoid else self.num_types - 1  # the padding type's id
        self.max_vertices = space.max_vertices
        dims = [self.num_types] + [config.hidden] * config.layers
        self.gin = nn.ModuleList(GINLayer(a, config.hidden) for a in dims[:-1])
        self.fc_mean = nn.Linear(config.hidden, config.latent)
        self.fc_logvar = nn.Linear(config.hidden, config.latent)
        self.ops_decoder = nn.Linear(config.latent, self.num_types)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (*self.gin, self.fc_mean, self.fc_logvar, self.ops_decoder):
            module.reset_parameters()

    @property
    def latent_dim(self) -> int:
        """Width of a latent point: the flattened node latents, M * latent."""
        return self.max_vertices * self.config.latent

    @property
    def embedding_dim(self) -> int:
        """Width of the graph embedding (:meth:`graph_embedding`)."""
        return self.config.latent

    # -- layouts ------------------------------------------------------------------------------
    def to_padded(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Compact arrays -> the decoder's layout. Sigmoid: the compact layout itself (padding after
        the output, type -1). Softmax: output moved to the last slot, padding (type ``pad``) before it."""
        if self.sigmoid:
            return adj, types
        m = adj.shape[1]
        j = torch.arange(m, device=adj.device).expand(len(n), m)
        last = (n - 1)[:, None]
        src = torch.where(j < last, j, torch.where(j == m - 1, last.expand(-1, m), j + 1).clamp(max=m - 1))
        ptypes = torch.gather(types, 1, src)
        ptypes = torch.where(ptypes < 0, torch.full_like(ptypes, self.pad), ptypes)
        rows = torch.gather(adj, 1, src[:, :, None].expand(-1, -1, m))
        padj = torch.gather(rows, 2, src[:, None, :].expand(-1, m, -1))
        return padj, ptypes

    # -- model --------------------------------------------------------------------------------
    def encode_nodes(self, padj: torch.Tensor, ptypes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Node posterior mean and log-variance, each (B, M, latent), from the decoder's layout."""
        h = self.one_hot(ptypes)
        sym = padj + padj.transpose(1, 2)
        for layer in self.gin:
            h = layer(h, sym)
        return self.fc_mean(h), self.fc_logvar(h)

    def one_hot(self, ptypes: torch.Tensor) -> torch.Tensor:
        """(B, M) types of the decoder's layout -> (B, M, num_types) one-hot rows (padding: zeros
        for the sigmoid decoder, its own type for the softmax one)."""
        if self.sigmoid:
            return F.one_hot(ptypes.clamp(min=0), self.num_types).float() * (ptypes >= 0).unsqueeze(-1)
        return F.one_hot(ptypes, self.num_types).float()

    def encode(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of the node latents, each flattened to (B, M * 16)."""
        mu, logvar = self.encode_nodes(*self.to_padded(adj, types, n))
        return mu.flatten(1), logvar.flatten(1)

    def graph_embedding(self, z: torch.Tensor) -> torch.Tensor:
        """Mean of the node latents: (B, M * 16) -> (B, 16)."""
        return z.view(len(z), self.max_vertices, self.config.latent).mean(1)

    def decode_logits(self, z_nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Type logits (B, M, num_types) and adjacency logits ``Z Z^T`` (B, M, M) of node latents (B, M, latent)."""
        return self.ops_decoder(z_nodes), z_nodes @ z_nodes.transpose(1, 2)

    def loss(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative ELBO of a batch (one reparameterised sample) and its parts as floats."""
        total, parts, _ = self.loss_and_latent(adj, types, n)
        return total, parts

    def loss_and_latent(
        self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
        """``loss`` and the sampled node latents it decoded, flattened (B, M * latent), for
        heads trained on the same sample (the input-output extension, ``archpred.vae.io``)."""
        padj, ptypes = self.to_padded(adj, types, n)
        mu, logvar = self.encode_nodes(padj, ptypes)
        sample = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        z = F.dropout(sample, self.config.dropout, self.training)
        ops_logits, adj_logits = self.decode_logits(z)
        m = padj.shape[1]
        iu = torch.triu_indices(m, m, 1, device=padj.device)
        adj_loss = F.binary_cross_entropy_with_logits(adj_logits[:, iu[0], iu[1]], padj[:, iu[0], iu[1]])
        if self.sigmoid:  # arch2vec's code: BCE per type and entry, adjacency averaged over all M x M
            ops_loss = F.binary_cross_entropy_with_logits(ops_logits, self.one_hot(ptypes))
            adj_loss = adj_loss * iu.shape[1] / m**2
        else:
            ops_loss = F.cross_entropy(ops_logits.reshape(-1, self.num_types), ptypes.reshape(-1))
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()  # per vertex, averaged
        total = ops_loss + adj_loss + self.config.kl_weight * kl
        parts = {"recon": float((ops_loss + adj_loss).detach()), "kl": float(kl.detach())}
        return total, parts, sample.flatten(1)

    @torch.no_grad()
    def decode(
        self, z: torch.Tensor, is_valid: ValidityCheck | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Flattened node latents -> compact (types, adj, n); padding vertices are dropped.

        ``is_valid`` is accepted for a common interface and unused: there is one candidate.
        """
        m = self.max_vertices
        ops_logits, adj_logits = self.decode_logits(z.view(len(z), m, self.config.latent))
        ptypes = ops_logits.argmax(-1)
        padj = torch.triu((adj_logits > 0).float(), 1)
        if self.sigmoid:  # padding: no type above 0.5 and no edge (else arch2vec's argmax stands)
            edges = (padj + padj.transpose(1, 2)).sum(-1)
            keep = (ops_logits.amax(-1) > 0) | (edges > 0)
        else:  # padding: the padding type
            keep = ptypes != self.pad
        n = keep.sum(1)
        # stable sort puts kept vertices first, in their order
        order = torch.sort((~keep).to(torch.int8), dim=1, stable=True).indices
        types = torch.gather(ptypes, 1, order)
        types = torch.where(torch.arange(m, device=z.device)[None] < n[:, None], types, torch.full_like(types, -1))
        rows = torch.gather(padj, 1, order[:, :, None].expand(-1, -1, m))
        adj = torch.gather(rows, 2, order[:, None, :].expand(-1, m, -1))
        valid = (torch.arange(m, device=z.device)[None] < n[:, None]).float()
        adj = adj * valid[:, :, None] * valid[:, None, :]
        return types, adj, n
