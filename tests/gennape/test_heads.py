"""GENNAPE's MLP ensemble, pairwise classifier, comparison-sort ranking and training pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from archpred.errors import InvalidOption
from archpred.gennape.heads import MLPEnsemble, PairwiseClassifier, StackedMLP, pair_batches, rank_by_comparison
from archpred.training import seeded


def _head_as_sequential(stack: StackedMLP, j: int) -> nn.Sequential:
    """Head j of a stack as an ordinary nn.Sequential of nn.Linear + ReLU."""
    modules: list[nn.Module] = []
    for i, (w, b) in enumerate(zip(stack.weights, stack.biases)):
        lin = nn.Linear(w.shape[1], w.shape[2])
        with torch.no_grad():
            lin.weight.copy_(w[j].T)
            lin.bias.copy_(b[j])
        modules += [lin] if i == 0 else [nn.ReLU(), lin]
    return nn.Sequential(*modules)


@pytest.mark.parametrize(("n_heads", "layers"), [(1, 4), (3, 1), (16, 4), (5, 0)])
def test_ensemble_is_membership_weighted_sum_of_independent_mlps(n_heads, layers):
    with seeded(0):
        model = MLPEnsemble(10, n_heads=n_heads, hidden=12, layers=layers)
        h = torch.randn(7, 10)
        u = torch.softmax(torch.randn(7, n_heads), dim=1)
    per_head = torch.stack([_head_as_sequential(model.heads, j)(h)[:, 0] for j in range(n_heads)], dim=1)
    torch.testing.assert_close(model.per_head(h), per_head)
    torch.testing.assert_close(model(h, u), (u * per_head).sum(dim=1))
    assert model(h, u).shape == (7,)
    assert len(model.heads.weights) == layers + 1


def test_single_head_needs_no_memberships_and_several_do():
    h = torch.randn(4, 6)
    single = MLPEnsemble(6)
    torch.testing.assert_close(single(h), single(h, torch.ones(4, 1)))
    with pytest.raises(InvalidOption):
        MLPEnsemble(6, n_heads=3)(h)
    with pytest.raises(InvalidOption):
        MLPEnsemble(6, n_heads=3)(h, torch.ones(4, 2))


def test_a_head_with_zero_membership_gets_no_gradient():
    model = MLPEnsemble(5, n_heads=3, hidden=8, layers=2)
    u = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0]])
    model(torch.randn(2, 5), u).sum().backward()
    for w in model.heads.weights:
        assert w.grad[2].abs().sum() == 0
        assert w.grad[:2].abs().sum() > 0


def test_reset_parameters_is_seeded_and_nn_linear_scaled():
    with seeded(1):
        a = MLPEnsemble(64, n_heads=4)
    with seeded(1):
        b = MLPEnsemble(64, n_heads=4)
    for wa, wb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(wa, wb)
    first = a.heads.weights[0]
    assert first.abs().max() <= 1 / np.sqrt(64)
    before = first.detach().clone()
    a.reset_parameters()
    assert not torch.equal(before, a.heads.weights[0])


@pytest.mark.parametrize("n_heads", [1, 11])
def test_pairwise_shapes_and_forward(n_heads):
    model = PairwiseClassifier(8, n_heads=n_heads, hidden=16, layers=2)
    ha, hb = torch.randn(5, 8), torch.randn(5, 8)
    ua = torch.softmax(torch.randn(5, n_heads), 1)
    ub = torch.softmax(torch.randn(5, n_heads), 1)
    za, zb = model.encode(ha, ua), model.encode(hb, ub)
    assert za.shape == (5, 16)
    assert model(ha, ua, hb, ub).shape == (5,)
    torch.testing.assert_close(model(ha, ua, hb, ub), model.compare(za, zb))
    heads = model.heads(ha)  # (5, n_heads, 16)
    torch.testing.assert_close(za, (heads * ua[..., None]).sum(1))


def _by_first_latent(bias: float = 0.0) -> PairwiseClassifier:
    """A hand-set classifier: logit(a, b) = z_a[0] - z_b[0] + bias."""
    model = PairwiseClassifier(4, latent=16)
    with torch.no_grad():
        model.comparator.weight.zero_()
        model.comparator.weight[0, 0] = 1.0
        model.comparator.weight[0, 16] = -1.0
        model.comparator.bias.fill_(bias)
    return model


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("n", [1, 2, 9, 200])
def test_ranking_by_a_known_comparator_is_exact(symmetric, n):
    rng = np.random.default_rng(n)
    value = rng.permutation(n).astype(float)
    latents = rng.normal(size=(n, 16))
    latents[:, 0] = value
    scores = rank_by_comparison(latents, _by_first_latent(), symmetric=symmetric)
    np.testing.assert_array_equal(scores, value)


def test_symmetric_comparison_ignores_the_bias():
    latents = np.zeros((50, 16))
    latents[:, 0] = np.random.default_rng(0).permutation(50)
    scores = rank_by_comparison(torch.from_numpy(latents), _by_first_latent(bias=3.0))
    np.testing.assert_array_equal(scores, latents[:, 0])


def test_random_latents_give_a_permutation():
    with seeded(0):
        model = PairwiseClassifier(4, n_heads=2)
    latents = np.random.default_rng(1).normal(size=(300, 16))
    for symmetric in (True, False):
        scores = rank_by_comparison(latents, model, symmetric=symmetric)
        np.testing.assert_array_equal(np.sort(scores), np.arange(300))
    with pytest.raises(InvalidOption):
        rank_by_comparison(latents[:, :8], model)


def test_pair_batches():
    acc = np.random.default_rng(0).permutation(np.repeat([0.1, 0.5, 0.7, 0.9], 5))  # many ties
    drawn = list(pair_batches(acc, 4, seed=3, epoch=0))
    a = torch.cat([p[0] for p in drawn]).numpy()
    b = torch.cat([p[1] for p in drawn]).numpy()
    label = torch.cat([p[2] for p in drawn]).numpy()
    assert all(len(p[0]) <= 4 for p in drawn)
    assert np.all(a != b)
    assert np.all(acc[a] != acc[b]) and len(a) < len(acc)  # ties drawn and skipped
    np.testing.assert_array_equal(label, (acc[a] > acc[b]).astype(np.float32))
    assert len(set(a.tolist())) == len(a)  # each row is `a` at most once per repeat
    again = list(pair_batches(acc, 4, seed=3, epoch=0))
    assert all(torch.equal(x, y) for p, q in zip(drawn, again) for x, y in zip(p, q))
    next_epoch = torch.cat([p[0] for p in pair_batches(np.arange(10.0), 4, seed=3, epoch=1)]).numpy()
    this_epoch = torch.cat([p[0] for p in pair_batches(np.arange(10.0), 4, seed=3, epoch=0)]).numpy()
    assert not np.array_equal(next_epoch, this_epoch)
    twice = torch.cat([p[0] for p in pair_batches(np.arange(10.0), 4, seed=3, epoch=0, repeats=2)])
    assert np.array_equal(np.bincount(twice.numpy(), minlength=10), np.full(10, 2))
    with pytest.raises(InvalidOption):
        next(pair_batches(acc[:1], 4, seed=0, epoch=0))


def test_a_trained_classifier_ranks_a_linear_family():
    """End to end: pairs -> BCE -> comparison-sort ranking recovers a linear ranking."""
    rng = np.random.default_rng(0)
    h = rng.normal(size=(64, 6)).astype(np.float32)
    acc = h @ rng.normal(size=6)
    ht = torch.from_numpy(h)
    with seeded(0):
        model = PairwiseClassifier(6, hidden=32, layers=2)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for epoch in range(40):
            for a, b, label in pair_batches(acc, 32, seed=0, epoch=epoch):
                opt.zero_grad()
                loss = nn.functional.binary_cross_entropy_with_logits(model(ht[a], None, ht[b], None), label)
                loss.backward()
                opt.step()
    with torch.no_grad():
        scores = rank_by_comparison(model.encode(ht), model)
    assert spearmanr(scores, acc).statistic > 0.9


def test_modules_rebuild_from_their_own_size_attributes():
    """Saved members store (in_dim, n_heads, hidden, layers[, latent]) read off the modules."""
    ens = MLPEnsemble(12, n_heads=3, hidden=20, layers=2)
    again = MLPEnsemble(ens.in_dim, ens.n_heads, hidden=ens.hidden, layers=ens.layers)
    again.load_state_dict(ens.state_dict())
    h, u = torch.randn(4, 12), torch.softmax(torch.randn(4, 3), 1)
    torch.testing.assert_close(again(h, u), ens(h, u))
    clf = PairwiseClassifier(12, n_heads=2, hidden=24, layers=3, latent=8)
    copy = PairwiseClassifier(clf.in_dim, clf.n_heads, hidden=clf.hidden, layers=clf.layers, latent=clf.latent)
    copy.load_state_dict(clf.state_dict())
    u2 = torch.softmax(torch.randn(4, 2), 1)
    torch.testing.assert_close(copy.encode(h, u2), clf.encode(h, u2))
