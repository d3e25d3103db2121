"""SVGe: Smooth Variational Graph Embeddings (Lukasik, Friede, Zela, Hutter, Keuper 2021).

Encoder: a node-type embedding, a forward GNN (messages along edges) and a backward GNN
(along reversed edges), each ``rounds`` rounds of sum-aggregated fully-connected messages
``f(h_u, h_v)`` and a GRU update; node states = concat(forward, backward) (250 wide); the
graph mean is a gated sum ``sum_v sigmoid(g(h_v)) * f(h_v)`` and a second gated sum gives the
log-variance (latent 56).

Decoder, two-sided: a forward decoder grows the graph from the input vertex, a backward
decoder the reversed graph from the output vertex. Each step: ``addNode`` (2 fc over
``[z, h_G]`` -> node type or END), ``initNode`` (2 fc over ``[z, h_G, type embedding]``),
``addEdges`` (2 fc scoring an edge from every existing vertex, Bernoulli), a propagation
step and a new gated-sum ``h_G``. Training uses teacher forcing, batched over padded
graphs; a decoded graph is the union of the forward and the (re-reversed) backward graph
(or, given a validity check, the most likely valid of union, forward and backward graph).

Everything works on the compact arrays of :mod:`archpred.vae.data`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from archpred.spaces import get_space
from archpred.vae.data import ValidityCheck, reverse_graphs


@dataclass(frozen=True)
class SVGeConfig:
    """Options of :class:`SVGe`; ``hidden`` is per encoder direction (node embedding = 2 * hidden = 250)."""

    space: str = "nb201"  # search space name: fixes the node types and the padded size M
    hidden: int = 125  # node state width of each encoder GNN (forward, backward)
    latent: int = 56  # latent dimension (the paper's h_G is 56 wide)
    rounds: int = 2  # message-passing rounds of each encoder GNN
    dec_hidden: int = 64  # node state width of each directional decoder
    dec_rounds: int = 1  # propagation rounds after every decoding step
    kl_weight: float = 0.005  # alpha in L = L_rec + alpha * D_KL


def _reset(module: nn.Module) -> None:
    for child in module.children():
        if hasattr(child, "reset_parameters"):
            child.reset_parameters()
        else:
            _reset(child)


class DirectedGNN(nn.Module):
    """SVGe's message passing in one direction (Lukasik et al. 2021, eq. (2)), on dense batches.

    ``rounds`` rounds of ``m_v = sum_{u -> v} W [h_u, h_v] + b`` and ``h_v <- GRU(m_v, h_v)``,
    each round with its own fc and GRU cell. The backward encoder is this module on the
    transposed adjacency. Padding vertices are zeroed after every round.

    Args:
        dim: node state width d.
        rounds: message-passing rounds.

    Shapes:
        - **input:** h (B, M, d), adj (B, M, M) float with ``adj[b, u, v] = 1`` for an edge u -> v,
          mask (B, M) bool of the real vertices
        - **output:** (B, M, d)
    """

    def __init__(self, dim: int, rounds: int) -> None:
        super().__init__()
        self.dim = dim
        self.msg = nn.ModuleList(nn.Linear(2 * dim, dim) for _ in range(rounds))
        self.gru = nn.ModuleList(nn.GRUCell(dim, dim) for _ in range(rounds))

    def reset_parameters(self) -> None:
        _reset(self)

    def forward(self, h: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, m, d = h.shape
        into = adj.transpose(1, 2)  # into[v, u] = edge u -> v
        deg = into.sum(2, keepdim=True)
        keep = mask.unsqueeze(-1).to(h.dtype)
        for msg, gru in zip(self.msg, self.gru):
            # the fc on [h_u, h_v] split in two, so the sum over u is one matrix product
            src = h @ msg.weight[:, :d].T
            dst = h @ msg.weight[:, d:].T + msg.bias
            message = into @ src + deg * dst
            h = gru(message.reshape(b * m, d), h.reshape(b * m, d)).view(b, m, d) * keep
        return h


class GatedSum(nn.Module):
    """SVGe's gated-sum readout (Lukasik et al. 2021, eq. (4)).

    ``h_G = sum_v sigmoid(g(h_v)) * f(h_v)`` over the vertices in ``mask``, with g and f single
    fc layers.

    Args:
        dim_in: node state width.
        dim_out: graph embedding width.

    Shapes:
        - **input:** h (B, M, dim_in), mask (B, M) bool
        - **output:** (B, dim_out)
    """

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.f = nn.Linear(dim_in, dim_out)
        self.g = nn.Linear(dim_in, dim_out)

    def reset_parameters(self) -> None:
        _reset(self)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(self.g(h)) * self.f(h) * mask.unsqueeze(-1).to(h.dtype)).sum(1)


def _mlp(dim_in: int, hidden: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(), nn.Linear(hidden, dim_out))


class DirectionalDecoder(nn.Module):
    """One of SVGe's two decoders: grows a graph vertex by vertex (Lukasik et al. 2021, sec. III-B).

    Step t: ``addNode`` (2 fc over ``[z, h_G]``) scores the type of vertex t or END;
    ``initNode`` (2 fc over ``[z, h_G, type embedding]``, eq. (5)) gives its state; for t > 0,
    ``addEdges`` (2 fc over ``[h_u, h_t, z]``) gives one Bernoulli logit per edge u -> t, u < t
    (eq. (8); the paper also feeds h_G); then a :class:`DirectedGNN` propagates over vertices
    0..t and a :class:`GatedSum` gives the new h_G. h_G starts at zero. Vertex 0's type is
    learned like every other, but when decoding it is ``start_type`` where given, as D-VAE's
    decoder (which SVGe builds on) starts every graph from its input vertex: a cell always begins
    there, and a prior point far from the training posteriors must not start elsewhere. The
    backward decoder is the same module trained on reversed graphs (it starts at the output).

    Args:
        num_types: size of the node-type vocabulary (END is one more class).
        latent: width of z.
        hidden: node state (and h_G) width.
        rounds: propagation rounds per step.
        start_type: the type vertex 0 gets when decoding (None: the most likely one).

    Shapes:
        - **teacher_forced:** z (B, latent), adj (B, M, M), types (B, M) long (-1 padding),
          n (B,) -> node loss (B,), edge loss (B,)
        - **greedy:** z (B, latent), m (int) -> types (B, m), adj (B, m, m), n (B,)
    """

    def __init__(self, num_types: int, latent: int, hidden: int, rounds: int, start_type: int | None = None) -> None:
        super().__init__()
        self.num_types, self.hidden, self.start_type = num_types, hidden, start_type
        self.end = num_types  # the END node type
        self.type_emb = nn.Embedding(num_types, hidden)
        self.add_node = _mlp(latent + hidden, hidden, num_types + 1)
        self.init_node = _mlp(latent + 2 * hidden, hidden, hidden)
        self.add_edges = _mlp(2 * hidden + latent, hidden, 1)
        self.propagate = DirectedGNN(hidden, rounds)
        self.readout = GatedSum(hidden, hidden)

    def reset_parameters(self) -> None:
        _reset(self)

    def _edge_logits(self, states: torch.Tensor, new: torch.Tensor, z: torch.Tensor, t: int) -> torch.Tensor:
        pair = torch.cat([states[:, :t], new.unsqueeze(1).expand(-1, t, -1), z.unsqueeze(1).expand(-1, t, -1)], dim=-1)
        return self.add_edges(pair).squeeze(-1)  # (B, t): edge u -> t for u < t

    def _advance(
        self,
        states: torch.Tensor,
        mask: torch.Tensor,
        new: torch.Tensor,
        exists: torch.Tensor,
        adj: torch.Tensor,
        t: int,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = states.shape[1]
        at_t = (torch.arange(m, device=states.device) == t).view(1, m, 1) & exists.view(-1, 1, 1)
        states = torch.where(at_t, new.unsqueeze(1), states)
        mask = mask | at_t.squeeze(-1)
        k = t + 1  # only vertices 0..t exist yet: propagate over them alone
        head = self.propagate(states[:, :k], adj[:, :k, :k], mask[:, :k])
        states = torch.cat([head, states[:, k:]], 1)
        return states, mask, self.readout(head, mask[:, :k])

    def teacher_forced(
        self, z: torch.Tensor, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-graph summed node-type and edge losses of generating (adj, types) given z."""
        b, m = types.shape
        states = z.new_zeros(b, m, self.hidden)
        mask = torch.zeros(b, m, dtype=torch.bool, device=z.device)
        h_graph = z.new_zeros(b, self.hidden)
        node_loss, edge_loss = z.new_zeros(b), z.new_zeros(b)
        longest = int(n.max())
        for t in range(longest + 1):
            logits = self.add_node(torch.cat([z, h_graph], -1))
            target = types[:, t] if t < m else torch.full_like(n, self.end)
            target = torch.where(t < n, target, torch.full_like(target, self.end))
            node_loss = node_loss + F.cross_entropy(logits, target, reduction="none") * (t <= n)
            if t == longest:
                break
            exists = t < n
            new = self.init_node(torch.cat([z, h_graph, self.type_emb(types[:, t].clamp(min=0))], -1))
            if t > 0:
                logit = self._edge_logits(states, new, z, t)
                bce = F.binary_cross_entropy_with_logits(logit, adj[:, :t, t], reduction="none").sum(1)
                edge_loss = edge_loss + bce * exists
            states, mask, h_graph = self._advance(states, mask, new, exists, adj, t)
        return node_loss, edge_loss

    @torch.no_grad()
    def greedy(self, z: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Most likely choice at each step: types (B, m) (-1 padding), adj (B, m, m), n (B,)."""
        b = z.shape[0]
        dev = z.device
        types = torch.full((b, m), -1, dtype=torch.long, device=dev)
        adj = torch.zeros(b, m, m, device=dev)
        n = torch.full((b,), m, dtype=torch.long, device=dev)
        done = torch.zeros(b, dtype=torch.bool, device=dev)
        states = z.new_zeros(b, m, self.hidden)
        mask = torch.zeros(b, m, dtype=torch.bool, device=dev)
        h_graph = z.new_zeros(b, self.hidden)
        for t in range(m + 1):
            pred = self.add_node(torch.cat([z, h_graph], -1)).argmax(-1)
            if t == 0 and self.start_type is not None:
                pred = torch.full_like(pred, self.start_type)
            if t == m:
                pred = torch.full_like(pred, self.end)
            ended = ~done & (pred == self.end)
            n = torch.where(ended, torch.full_like(n, t), n)
            done = done | ended
            exists = ~done
            if t == m or not bool(exists.any()):
                break
            types[:, t] = torch.where(exists, pred, torch.full_like(pred, -1))
            new = self.init_node(torch.cat([z, h_graph, self.type_emb(pred.clamp(max=self.num_types - 1))], -1))
            if t > 0:
                edges = (self._edge_logits(states, new, z, t) > 0) & exists.unsqueeze(1)
                adj[:, :t, t] = edges.to(adj.dtype)
            states, mask, h_graph = self._advance(states, mask, new, exists, adj, t)
        return types, adj, n


class SVGe(nn.Module):
    """SVGe, Smooth Variational Graph Embeddings (Lukasik, Friede, Zela, Hutter, Keuper 2021).

    Encoder: a node-type embedding, a forward and a backward :class:`DirectedGNN`, node states
    ``concat(forward, backward)``, and two :class:`GatedSum` readouts for the posterior mean and
    log-variance. Decoder: a forward and a backward :class:`DirectionalDecoder`. Loss
    ``L = L_rec + kl_weight * D_KL`` per graph, averaged over the batch, where ``L_rec`` sums the
    node and edge losses of both decoders under teacher forcing (sec. III-C).

    Args:
        config: an :class:`SVGeConfig`.

    Shapes (compact layout of :mod:`archpred.vae.data`, M = ``space.max_vertices``):
        - **encode:** adj (B, M, M) float, types (B, M) long (-1 padding), n (B,) long
          -> mu (B, latent), logvar (B, latent)
        - **loss:** adj, types, n as above -> scalar loss, ``{"recon", "kl"}`` floats
        - **decode:** z (B, latent) -> types (B, M), adj (B, M, M), n (B,)
    """

    def __init__(self, config: SVGeConfig) -> None:
        super().__init__()
        self.config = config
        space = get_space(config.space)
        self.num_types, self.max_vertices = len(space.node_types), space.max_vertices
        h = config.hidden
        self.type_emb = nn.Embedding(self.num_types, h)
        self.forward_gnn = DirectedGNN(h, config.rounds)
        self.backward_gnn = DirectedGNN(h, config.rounds)
        self.mean = GatedSum(2 * h, config.latent)
        self.logvar = GatedSum(2 * h, config.latent)
        # decoding starts the forward graph at the input vertex, the backward one at the output
        ends = [space.node_types.index(e) if e in space.node_types else None for e in ("input", "output")]
        dims = (self.num_types, config.latent, config.dec_hidden, config.dec_rounds)
        self.forward_decoder = DirectionalDecoder(*dims, start_type=ends[0])
        self.backward_decoder = DirectionalDecoder(*dims, start_type=ends[1])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset(self)

    @property
    def latent_dim(self) -> int:
        """Width of a latent point z."""
        return self.config.latent

    @property
    def embedding_dim(self) -> int:
        """Width of the graph embedding: the latent point itself."""
        return self.config.latent

    def graph_embedding(self, z: torch.Tensor) -> torch.Tensor:
        """SVGe's graph embedding is its latent point."""
        return z

    def node_states(self, adj: torch.Tensor, types: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder node states (B, M, 2 * hidden), concat(forward, backward), and the mask (B, M)."""
        mask = types >= 0
        h0 = self.type_emb(types.clamp(min=0)) * mask.unsqueeze(-1)
        forward = self.forward_gnn(h0, adj, mask)
        backward = self.backward_gnn(h0, adj.transpose(1, 2), mask)
        return torch.cat([forward, backward], -1), mask

    def encode(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (B, latent)."""
        h, mask = self.node_states(adj, types)
        return self.mean(h, mask), self.logvar(h, mask)

    def log_likelihood(self, z: torch.Tensor, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        """``log p(G | z)`` of each graph under both decoders (the negative reconstruction loss).

        Shapes: z (B, latent), adj (B, m, m), types (B, m) with -1 padding, n (B,) -> (B,).
        """
        node_f, edge_f = self.forward_decoder.teacher_forced(z, adj, types, n)
        radj, rtypes = reverse_graphs(adj, types, n)
        node_b, edge_b = self.backward_decoder.teacher_forced(z, radj, rtypes, n)
        return -(node_f + edge_f + node_b + edge_b)

    def loss(self, adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative ELBO of a batch (one reparameterised sample of z) and its parts as floats."""
        mu, logvar = self.encode(adj, types, n)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = -self.log_likelihood(z, adj, types, n)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        total = (recon + self.config.kl_weight * kl).mean()
        return total, {"recon": float(recon.mean().detach()), "kl": float(kl.mean().detach())}

    @torch.no_grad()
    def decode_sides(self, z: torch.Tensor) -> tuple[tuple, tuple, torch.Tensor]:
        """The forward graph, the re-reversed backward graph (each types, adj, n) and whether
        the two agree on the vertices and their types, per row."""
        m = self.max_vertices
        types_f, adj_f, n_f = self.forward_decoder.greedy(z, m)
        types_b, adj_b, n_b = self.backward_decoder.greedy(z, m)
        adj_b, types_b = reverse_graphs(adj_b, types_b, n_b)
        same = (n_f == n_b) & (types_f == types_b).all(1)
        return (types_f, adj_f, n_f), (types_b, adj_b, n_b), same

    @torch.no_grad()
    def candidates(self, z: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """The decoded graphs a point offers, each (types, adj, n): the union (the paper's output;
        the forward graph where the sides disagree on the vertices), the forward graph and the
        re-reversed backward graph."""
        (types_f, adj_f, n_f), (types_b, adj_b, n_b), same = self.decode_sides(z)
        union = torch.where(same.view(-1, 1, 1), torch.maximum(adj_f, adj_b), adj_f)
        return [(types_f, union, n_f), (types_f, adj_f, n_f), (types_b, adj_b, n_b)]

    @torch.no_grad()
    def decode(
        self, z: torch.Tensor, is_valid: ValidityCheck | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Greedy two-sided decode; returns (types, adj, n).

        Without ``is_valid``, the paper's rule: the union of the forward graph and the
        re-reversed backward graph. Where the two sides disagree on the vertices the union is
        undefined, and the forward graph is returned alone.

        With ``is_valid`` (a batch of graphs -> a bool mask), our addition: the two decoders give
        three candidates (union, forward graph, backward graph); return the valid one that is most
        likely under both decoders, ``log p(G | z)``. A row with no valid candidate gets the
        most likely one.
        """
        candidates = self.candidates(z)
        if is_valid is None:
            return candidates[0]
        types_c, adj_c, n_c = (torch.stack(parts, 1) for parts in zip(*candidates))  # (B, 3, ...)
        ll = torch.stack([self.log_likelihood(z, a, t, k) for t, a, k in candidates], 1)
        ranked = ll.argsort(1, descending=True)
        rows = torch.arange(len(z), device=z.device)
        pick = ranked[:, 0].clone()
        open_rows = rows
        for rank in range(len(candidates)):  # check only the rows still without a valid cell
            if len(open_rows) == 0:
                break
            which = ranked[open_rows, rank]
            ok = is_valid(types_c[open_rows, which], adj_c[open_rows, which], n_c[open_rows, which])
            pick[open_rows[ok]] = which[ok]
            open_rows = open_rows[~ok]
        return types_c[rows, pick], adj_c[rows, pick], n_c[rows, pick]
