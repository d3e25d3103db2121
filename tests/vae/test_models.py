"""Graph VAEs: shapes, decoding, the isomorphism property, invalid latents, files and resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import CheckpointError
from archpred.spaces import get_space
from archpred.vae import GraphVAE, load_vae
from archpred.vae.data import from_archs, reverse_graphs, to_archs
from archpred.vae.metrics import reconstruction
from archpred.vae.model import build_module
from archpred.vae.train import train_vae

TINY = {
    "svge": {"hidden": 16, "latent": 8, "dec_hidden": 16},
    "arch2vec": {"hidden": 16, "latent": 4, "layers": 2, "dropout": 0.0},
}
NB101_CELL = {
    "adjacency": [
        [0, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "ops": [
        "input",
        "conv3x3-bn-relu",
        "conv1x1-bn-relu",
        "maxpool3x3",
        "conv3x3-bn-relu",
        "conv1x1-bn-relu",
        "output",
    ],
}


def tiny_vae(kind: str, space: str, seed: int = 0) -> GraphVAE:
    torch.manual_seed(seed)
    return GraphVAE(kind, space, build_module(kind, space, **TINY[kind]))


def nb201_cells(n: int, seed: int = 0):
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def nb101_cells(n: int, seed: int = 0):
    space = get_space("nb101")
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
@pytest.mark.parametrize("space", ["nb101", "nb201", "enas"])
def test_encode_decode_shapes(kind, space):
    vae = tiny_vae(kind, space)
    sp = get_space(space)
    archs = [sp.sample(np.random.default_rng(i)) for i in range(5)]
    z = vae.encode(archs)
    assert z.shape == (5, vae.latent_dim) and z.dtype == np.float32
    assert vae.embed(archs).shape == (5, vae.embedding_dim)
    decoded = vae.decode(z)
    assert len(decoded) == 5
    assert all(a is None or a.space == space for a in decoded)
    assert len(vae.sample(7, np.random.default_rng(0))) == 7
    assert len(vae.interpolate(archs[0], archs[1], steps=4)) == 4
    assert len(vae.circle(archs[0], steps=6, rng=np.random.default_rng(0))) == 6


def test_compact_arrays_round_trip_and_reversal():
    space = get_space("nb101")
    archs = nb101_cells(20)
    g = from_archs(space, archs)
    assert to_archs(space, g.types, g.adj, g.n) == archs
    adj, types, n = g.tensors()
    radj, rtypes = reverse_graphs(adj, types, n)
    assert torch.equal(torch.triu(radj, 1), radj)  # still upper-triangular
    back_adj, back_types = reverse_graphs(radj, rtypes, n)
    assert torch.equal(back_adj, adj) and torch.equal(back_types, types)
    assert bool((rtypes[torch.arange(len(n)), 0] == len(space.node_types) - 1).all())  # output first


def test_arch2vec_padding_layout_matches_space():
    space = get_space("nb101")
    vae = tiny_vae("arch2vec", "nb101")
    archs = [a for a in nb101_cells(30) if a.num_vertices < 7][:5]
    g = from_archs(space, archs)
    padj, ptypes = vae.module.to_padded(*g.tensors())
    for i, arch in enumerate(archs):
        adj, types = space.padded(arch)
        assert np.array_equal(padj[i].numpy(), adj)
        expected = np.where(types < 0, vae.module.pad, types)
        assert np.array_equal(ptypes[i].numpy(), expected)


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
def test_isomorphic_cells_share_a_latent_point(kind):
    space = get_space("nb101")
    a = space.cell(**NB101_CELL)
    # swap interior vertices 1 and 2 (and 3 and 4): the same cell, another upper-triangular labelling
    perm = [0, 2, 1, 4, 3, 5, 6]
    m = np.array(NB101_CELL["adjacency"])[np.ix_(perm, perm)]
    b = space.cell(adjacency=m, ops=[NB101_CELL["ops"][p] for p in perm])
    assert a != b and space.hash(a) == space.hash(b)
    vae = tiny_vae(kind, "nb101")
    za, zb = vae.embed([a, b])
    np.testing.assert_allclose(za, zb, atol=1e-5)


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
def test_invalid_latent_input_is_a_value_error(kind):
    vae = tiny_vae(kind, "nb201")
    with pytest.raises(ValueError, match="shape"):
        vae.decode(np.zeros((2, vae.latent_dim + 1)))
    with pytest.raises(ValueError, match="finite"):
        vae.decode(np.full((1, vae.latent_dim), np.nan))
    with pytest.raises(ValueError, match="numeric"):
        vae.decode([["a"] * vae.latent_dim])
    # wild points decode to cells or None, never an exception
    out = vae.decode(np.random.default_rng(0).normal(0, 50, (16, vae.latent_dim)))
    assert len(out) == 16


def test_tiny_svge_overfits_and_decodes_its_training_cells(tmp_path):
    space = get_space("nb201")
    archs = nb201_cells(6)
    g = from_archs(space, archs)
    vae, history = train_vae(
        "svge",
        "nb201",
        g,
        epochs=80,
        batch_size=6,
        lr=1e-2,
        seed=0,
        progress=False,
        device="cpu",
        hidden=64,
        latent=16,
        dec_hidden=64,
        kl_weight=0.0,
    )
    assert history[-1]["loss"] < history[0]["loss"]
    assert reconstruction(vae, g)["reconstruction"] == 1.0
    assert vae.decode(vae.encode(archs)) == archs


def test_training_resumes_from_its_checkpoint(tmp_path):
    space = get_space("nb201")
    g = from_archs(space, nb201_cells(16))
    ckpt = tmp_path / "train.pt"
    _, first = train_vae(
        "arch2vec",
        "nb201",
        g,
        epochs=1,
        batch_size=8,
        checkpoint=ckpt,
        progress=False,
        device="cpu",
        **TINY["arch2vec"],
    )
    assert ckpt.exists() and len(first) == 1
    _, both = train_vae(
        "arch2vec",
        "nb201",
        g,
        epochs=3,
        batch_size=8,
        checkpoint=ckpt,
        progress=False,
        device="cpu",
        **TINY["arch2vec"],
    )
    assert len(both) == 3 and both[0]["loss"] == first[0]["loss"]
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 2


def test_reconstruction_reports_whole_graph_and_per_element_accuracy():
    vae = tiny_vae("svge", "nb201")
    g = from_archs(get_space("nb201"), nb201_cells(20))
    result = reconstruction(vae, g)
    assert set(result) >= {"reconstruction", "type_accuracy_per_vertex", "adjacency_accuracy_per_entry"}
    # an untrained model decodes whole graphs wrongly yet gets some single entries right
    assert result["reconstruction"] <= result["adjacency_accuracy_per_entry"] <= 1.0
    assert 0.0 <= result["type_accuracy_per_vertex"] <= 1.0


def test_fitted_prior_is_the_gaussian_of_the_training_posteriors(tmp_path):
    vae = tiny_vae("arch2vec", "nb201")
    g = from_archs(get_space("nb201"), nb201_cells(40))
    standard = vae.prior(5000, np.random.default_rng(0))
    assert abs(standard.std() - 1.0) < 0.05
    vae.fit_prior(g)
    z = vae.encode_arrays(g)
    fitted = vae.prior(5000, np.random.default_rng(0))
    np.testing.assert_allclose(fitted.mean(0), z.mean(0), atol=0.1 * z.std() + 1e-3)
    np.testing.assert_allclose(fitted.std(0), z.std(0), rtol=0.1, atol=1e-4)
    again = load_vae("arch2vec", "nb201", path=vae.save(tmp_path / "p.pt"))
    np.testing.assert_allclose(
        again.prior(7, np.random.default_rng(1)), vae.prior(7, np.random.default_rng(1)), atol=1e-5
    )


def test_training_fits_arch2vec_prior_but_not_svge():
    g = from_archs(get_space("nb201"), nb201_cells(8))
    for kind in ("arch2vec", "svge"):
        vae, _ = train_vae(kind, "nb201", g, epochs=1, batch_size=4, progress=False, device="cpu", **TINY[kind])
        assert ("prior" in vae.meta) == (kind == "arch2vec")


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
def test_save_and_load(tmp_path, kind):
    vae = tiny_vae(kind, "nb201")
    archs = nb201_cells(4)
    path = vae.save(tmp_path / "m.pt")
    again = load_vae(kind, "nb201", path=path)
    np.testing.assert_allclose(again.encode(archs), vae.encode(archs), atol=1e-6)
    half = load_vae(kind, "nb201", path=vae.save(tmp_path / "h.pt", half=True))
    assert half.encode(archs).dtype == np.float32


def test_load_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="unknown VAE kind"):
        load_vae("dvae", "nb201")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_vae("svge", "nb201", path=bad)
    with pytest.raises(CheckpointError, match="train one with"):
        load_vae("svge", "nb201", path=tmp_path / "missing.pt")


def test_wrong_space_is_rejected():
    vae = tiny_vae("svge", "nb201")
    with pytest.raises(ValueError, match="nb201"):
        vae.encode(nb101_cells(2))


@pytest.mark.parametrize("kind", ["svge", "arch2vec"])
def test_shipped_nb201_models(kind):
    from archpred.paths import ASSETS_DIR

    path = ASSETS_DIR / "vae" / f"{kind}_nb201.pt"
    if not path.exists():
        pytest.skip("no shipped model")
    vae = load_vae(kind, "nb201", path=path)
    archs = nb201_cells(50, seed=3)
    decoded = vae.decode(vae.encode(archs))
    assert np.mean([d == a for d, a in zip(decoded, archs)]) >= 0.5
    assert path.stat().st_size < 4_000_000


def test_svge_decode_prefers_the_most_likely_valid_candidate():
    from archpred.paths import ASSETS_DIR

    path = ASSETS_DIR / "vae" / "svge_nb101.pt"
    if not path.exists():
        pytest.skip("no shipped model")
    vae = load_vae("svge", "nb101", path=path, device="cpu")  # the test builds its tensors on the CPU
    z = vae.prior(400, np.random.default_rng(0))
    strict, chosen = vae.decode(z, choose_valid=False), vae.decode(z)
    assert sum(c is not None for c in chosen) > sum(s is not None for s in strict)
    # each choice is the most likely valid candidate under both decoders
    module = vae.module
    zt = torch.as_tensor(z, dtype=torch.float32)
    candidates = module.candidates(zt)
    ll = torch.stack([module.log_likelihood(zt, a, t, k) for t, a, k in candidates], 1)
    valid = torch.stack([vae.valid_mask(*c) for c in candidates], 1)
    best = torch.where(valid, ll, torch.tensor(-torch.inf)).max(1).values
    types, adj, n = (torch.as_tensor(x) for x in vae.decode_arrays(z))
    picked = module.log_likelihood(zt, adj.float(), types, n)
    has_valid = valid.any(1)
    assert torch.allclose(picked[has_valid], best[has_valid], atol=1e-4)


@pytest.mark.parametrize("space", ["nb101", "nb201", "enas"])
def test_svge_decoders_start_at_the_input_and_the_output(space):
    """As D-VAE's decoder, each side starts at its end of the cell, even from a latent point far
    from anything trained (an untrained model's vertex-0 guesses are arbitrary)."""
    torch.manual_seed(0)
    module = build_module("svge", space, **TINY["svge"]).eval()
    z = 10 * torch.randn(64, module.latent_dim)
    m, types = module.max_vertices, get_space(space).node_types
    forward_types, _, _ = module.forward_decoder.greedy(z, m)
    backward_types, _, n = module.backward_decoder.greedy(z, m)
    assert (forward_types[:, 0] == types.index("input")).all()
    assert (backward_types[n > 0, 0] == types.index("output")).all()


# -- arch2vec's two type decoders -------------------------------------------------------------------
def tiny_arch2vec(space: str, decoder: str, seed: int = 0) -> GraphVAE:
    torch.manual_seed(seed)
    return GraphVAE("arch2vec", space, build_module("arch2vec", space, **TINY["arch2vec"], decoder=decoder))


def test_arch2vec_rejects_an_unknown_decoder():
    with pytest.raises(ValueError, match="decoder must be one of sigmoid, softmax"):
        build_module("arch2vec", "nb101", decoder="tanh")


def test_arch2vec_sigmoid_decoder_keeps_the_compact_layout():
    """arch2vec's gen_json.py pads after the output with all-zero type rows."""
    space = get_space("nb101")
    vae = tiny_arch2vec("nb101", "sigmoid")
    archs = [a for a in nb101_cells(30) if a.num_vertices < 7][:3]
    adj, types, n = from_archs(space, archs).tensors()
    padj, ptypes = vae.module.to_padded(adj, types, n)
    assert torch.equal(padj, adj) and torch.equal(ptypes, types)
    rows = vae.module.one_hot(ptypes)
    assert rows.shape[-1] == len(space.node_types)
    assert torch.equal(rows.sum(-1), (types >= 0).float())  # padding rows are all zero


def test_arch2vec_sigmoid_loss_is_arch2vecs_code():
    """Reconstruction = BCE(sigmoid(ops), one-hot) + BCE(triu(sigmoid(Z Z^T)), triu(A)) over the
    whole M x M matrix, as arch2vec's VAEReconstructed_Loss with config 4 computes it."""
    space = get_space("nb101")
    module = tiny_arch2vec("nb101", "sigmoid").module.train()
    adj, types, n = from_archs(space, nb101_cells(6)).tensors()
    torch.manual_seed(3)
    _, parts, _ = module.loss_and_latent(adj, types, n)
    torch.manual_seed(3)
    mu, logvar = module.encode_nodes(*module.to_padded(adj, types, n))
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # dropout is 0 in TINY
    bce = torch.nn.BCELoss()
    ops = bce(torch.sigmoid(module.ops_decoder(z)), module.one_hot(types))
    recon_adj = torch.sigmoid(z @ z.transpose(1, 2)).triu(1)
    expected = (ops + bce(recon_adj, adj.float().triu(1))).detach()
    assert parts["recon"] == pytest.approx(expected.item(), rel=1e-5)


def test_arch2vec_sigmoid_decode_drops_only_empty_isolated_vertices(monkeypatch):
    module = tiny_arch2vec("nb101", "sigmoid").module.eval()
    m, t = module.max_vertices, module.num_types
    ops = torch.full((1, m, t), -5.0)
    ops[0, :5, 0] = 5.0  # vertices 0-4 typed; 5 and 6 have no type above 0.5
    adj = torch.full((1, m, m), -5.0)
    adj[0, 0, 1] = adj[0, 1, 5] = 5.0  # vertex 5 has an edge, vertex 6 none
    monkeypatch.setattr(module, "decode_logits", lambda z: (ops, adj))
    types, out_adj, n = module.decode(torch.zeros(1, m * module.config.latent))
    assert int(n[0]) == 6  # vertex 6 dropped; vertex 5 kept for its edge, typed by argmax
    assert types[0].tolist() == [0, 0, 0, 0, 0, 0, -1]
    assert out_adj[0, 1, 5] == 1 and out_adj[0, :, 6].sum() == 0


def test_arch2vec_decoder_survives_save_and_load(tmp_path):
    vae = tiny_arch2vec("nb101", "sigmoid")
    archs = nb101_cells(4)
    again = load_vae("arch2vec", "nb101", path=vae.save(tmp_path / "s.pt"))
    assert again.module.config.decoder == "sigmoid"
    np.testing.assert_allclose(again.encode(archs), vae.encode(archs), atol=1e-6)
    assert again.decode(vae.encode(archs)) == vae.decode(vae.encode(archs))
