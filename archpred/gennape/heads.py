"""GENNAPE's prediction heads on CL embeddings: the MLP ensemble and the pairwise classifier.

- ``MLPEnsemble``: C MLP heads whose outputs are weighted by the fuzzy memberships,
  ``y'_i = sum_j U_ij f^j(h_i)`` (paper Eq. 1); one head without memberships for CL / CL+T.
- ``PairwiseClassifier``: the heads map a CG to a 16-d latent (membership-weighted sum), two
  latents are concatenated and one linear layer gives the logit that the first CG is better.
- ``rank_by_comparison``: a family ranked by a merge sort with the classifier as comparator
  (how the paper scores its pairwise classifiers); ``pair_batches`` draws training pairs.

The C heads are one stacked weight tensor per layer (``StackedMLP``), so 16 heads cost one
batched matmul per layer rather than 16 small ones.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.training import batches


class StackedMLP(nn.Module):
    """``n_heads`` independent MLPs with the same shape, evaluated together.

    Each head: ``layers`` hidden layers of width ``hidden`` with ReLU (and dropout), then a
    linear output of width ``out_dim``. Weights are stacked as (heads, in, out) and applied with
    one ``baddbmm`` per layer (one kernel for all heads: small training batches and GPUs gain
    most; on a CPU at large batches the matmul FLOPs dominate either way). Each head is
    initialised as ``nn.Linear`` would be (uniform +-1/sqrt(fan_in)).

    Args:
        in_dim: input width d.
        n_heads: number of heads H.
        hidden: hidden width.
        layers: number of hidden layers (0: one linear map per head).
        out_dim: output width of every head.
        dropout: dropout after each hidden ReLU.

    Shapes:
        - **input:** h (B, d)
        - **output:** (B, H, out_dim)
    """

    def __init__(self, in_dim: int, n_heads: int, hidden: int, layers: int, out_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        if min(in_dim, n_heads, hidden, out_dim) < 1 or layers < 0 or not 0.0 <= dropout < 1.0:
            raise InvalidOption("head sizes must be >= 1, layers >= 0 and 0 <= dropout < 1")
        widths = [in_dim] + [hidden] * layers + [out_dim]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(n_heads, a, b)) for a, b in zip(widths[:-1], widths[1:])
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(n_heads, b)) for b in widths[1:])
        self.dropout = nn.Dropout(dropout)
        self.n_heads = n_heads
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for w, b in zip(self.weights, self.biases):
            bound = 1.0 / math.sqrt(w.shape[1])
            nn.init.uniform_(w, -bound, bound)
            nn.init.uniform_(b, -bound, bound)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        # (heads, batch, width) throughout: one batched matmul (+ bias) per layer for all heads
        x = torch.baddbmm(self.biases[0][:, None], h.expand(self.n_heads, -1, -1), self.weights[0])
        for w, b in zip(self.weights[1:], self.biases[1:]):
            x = torch.baddbmm(b[:, None], self.dropout(torch.relu(x)), w)
        return x.transpose(0, 1)


def _weighted(out: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
    """Sum (B, H, k) over heads with memberships u (B, H); u None only for a single head."""
    if u is None:
        if out.shape[1] != 1:
            raise InvalidOption(f"{out.shape[1]} heads need memberships u of shape (B, {out.shape[1]})")
        return out[:, 0]
    if u.shape != out.shape[:2]:
        raise InvalidOption(f"memberships of shape {tuple(u.shape)} for {tuple(out.shape[:2])} (batch, heads)")
    return torch.einsum("bhk,bh->bk", out, u.to(out.dtype))


class MLPEnsemble(nn.Module):
    """GENNAPE's MLP-E: ``y'_i = sum_j U_ij f^j(h_i)`` over ``n_heads`` MLP heads (paper Eq. 1).

    With ``n_heads = 1`` and no memberships it is the single MLP of CL and CL+T.

    Args:
        in_dim: embedding width (128 for the CL encoder).
        n_heads: C, one head per fuzzy cluster.
        hidden: hidden width (paper: 256).
        layers: hidden layers per head (paper: 4).
        dropout: dropout after each hidden ReLU.

    Shapes:
        - **input:** h (B, in_dim), u (B, n_heads) memberships or None when n_heads == 1
        - **output:** (B,)
    """

    def __init__(self, in_dim: int, n_heads: int = 1, hidden: int = 256, layers: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads = StackedMLP(in_dim, n_heads, hidden, layers, 1, dropout)
        self.in_dim, self.n_heads, self.hidden, self.layers, self.dropout = in_dim, n_heads, hidden, layers, dropout

    def reset_parameters(self) -> None:
        self.heads.reset_parameters()

    def per_head(self, h: torch.Tensor) -> torch.Tensor:
        """Every head's prediction f^j(h_i): (B, n_heads)."""
        return self.heads(h)[..., 0]

    def forward(self, h: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        return _weighted(self.heads(h), u)[:, 0]


class PairwiseClassifier(nn.Module):
    """GENNAPE's pairwise classifier: which of two CGs is more accurate.

    The heads map each CG to a ``latent``-d vector, summed with its memberships ("FCM memberships
    in the classifier sum to produce a latent vector of size 16 for each CG in a pair"); the two
    latents are concatenated and one linear layer gives the logit that the first is better.

    Args:
        in_dim: embedding width.
        n_heads: C (1 for CL+Pairwise, the cluster count for CL+Pairwise+FCM).
        hidden: hidden width (paper: 128).
        layers: hidden layers per head.
        latent: latent width per CG (paper: 16).

    Shapes:
        - **encode:** h (B, in_dim), u (B, n_heads) or None -> (B, latent)
        - **compare:** za, zb (B, latent) -> (B,) logits
        - **forward:** ha, ua, hb, ub -> (B,) logits that a is better than b
    """

    def __init__(self, in_dim: int, n_heads: int = 1, hidden: int = 128, layers: int = 4, latent: int = 16) -> None:
        super().__init__()
        self.heads = StackedMLP(in_dim, n_heads, hidden, layers, latent)
        self.comparator = nn.Linear(2 * latent, 1)
        self.in_dim, self.n_heads, self.hidden, self.layers, self.latent = in_dim, n_heads, hidden, layers, latent

    def reset_parameters(self) -> None:
        self.heads.reset_parameters()
        self.comparator.reset_parameters()

    def encode(self, h: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        return _weighted(self.heads(h), u)

    def compare(self, za: torch.Tensor, zb: torch.Tensor) -> torch.Tensor:
        return self.comparator(torch.cat([za, zb], dim=-1)).squeeze(-1)

    def forward(
        self, ha: torch.Tensor, ua: torch.Tensor | None, hb: torch.Tensor, ub: torch.Tensor | None
    ) -> torch.Tensor:
        return self.compare(self.encode(ha, ua), self.encode(hb, ub))


def rank_by_comparison(
    latents: np.ndarray | torch.Tensor, classifier: PairwiseClassifier, symmetric: bool = True
) -> np.ndarray:
    """Rank a family by sorting it with the classifier as comparator; (n,) scores = rank
    positions (0 = worst, n - 1 = best), so metrics read them like predictions.

    The paper ranks with a merge sort; Python's sort (Timsort, a merge sort) is used through
    ``functools.cmp_to_key`` on row indices. Each comparison is O(1): the comparator is linear,
    ``logit(a, b) = w_a . z_a + w_b . z_b + c``, so ``z @ w_a`` and ``z @ w_b`` are computed once.

    Args:
        latents: ``classifier.encode`` of every row, (n, latent).
        symmetric: compare both orders, ``logit(a, b) - logit(b, a)``, so the answer does not
            depend on which row the sort happens to pass first (a one-sided classifier need not
            be antisymmetric, and its bias favours one side). With the linear comparator this
            is transitive (the bias cancels; it orders rows by ``z . (w_a - w_b)``).
            ``False``: the paper's one-sided ``logit(a, b) > 0``.
    """
    z = latents.detach().cpu().numpy() if isinstance(latents, torch.Tensor) else np.asarray(latents)
    z = z.astype(np.float64)
    weight = classifier.comparator.weight.detach().cpu().double().numpy().reshape(-1)
    bias = float(classifier.comparator.bias.detach().cpu().double()) if classifier.comparator.bias is not None else 0.0
    k = classifier.latent
    if z.ndim != 2 or z.shape[1] != k:
        raise InvalidOption(f"latents must be (n, {k}), got shape {z.shape}")
    first, second = (z @ weight[:k]).tolist(), (z @ weight[k:]).tolist()

    def logit(a: int, b: int) -> float:
        return first[a] + second[b] + bias

    def better(a: int, b: int) -> int:  # > 0: a sorts after b (a is better)
        value = logit(a, b) - logit(b, a) if symmetric else logit(a, b)
        return (value > 0) - (value < 0)

    order = sorted(range(len(z)), key=functools.cmp_to_key(better))
    scores = np.empty(len(z), dtype=np.float64)
    scores[order] = np.arange(len(z), dtype=np.float64)
    return scores


def pair_batches(
    acc: np.ndarray, batch_size: int, seed: int, epoch: int, repeats: int = 1
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Training pairs of one epoch: ``(rows_a, rows_b, label)`` with label 1.0 when
    ``acc[a] > acc[b]``; a and b are distinct rows and exact ties are left out.

    Every row is ``a`` once per repeat, in the order of ``batches(n, batch_size, seed, part)``
    (the house shuffle; ``part = epoch * repeats + repeat``); its partner ``b`` is a uniformly
    drawn other row, from a generator seeded by ``(seed, part, 1)``, so an epoch's pairs are a function of those alone and a
    resumed run sees the pairs it would have seen. Both orders of a pair occur, so the
    classifier does not learn which side is which.

    Shapes:
        acc: (n,) -> each batch: (k,) long, (k,) long, (k,) float32, k <= batch_size
    """
    acc = np.asarray(acc, dtype=np.float64).reshape(-1)
    n = len(acc)
    if n < 2:
        raise InvalidOption("pairs need at least two rows")
    if repeats < 1:
        raise InvalidOption(f"repeats must be >= 1, got {repeats}")
    for repeat in range(repeats):
        part = int(epoch) * repeats + repeat  # one shuffle per (epoch, repeat)
        offsets = np.random.default_rng((int(seed), part, 1)).integers(1, n, size=n)
        for rows in batches(n, batch_size, seed, part):
            a = rows.numpy()
            b = (a + offsets[a]) % n
            keep = acc[a] != acc[b]
            if not keep.any():
                continue
            a, b = a[keep], b[keep]
            label = torch.from_numpy((acc[a] > acc[b]).astype(np.float32))
            yield torch.from_numpy(a.astype(np.int64)), torch.from_numpy(b.astype(np.int64)), label
