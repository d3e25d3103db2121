"""The GENNAPE estimator end to end on a tiny model: predict / embed / memberships, the ensemble,
fine-tuning that leaves the pretrained model alone, files, bad input, resumable training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import CheckpointError, InvalidOption
from archpred.gennape.model import Gennape, load_gennape
from archpred.spaces import get_space


@pytest.fixture(scope="module")
def model(tiny_gennape_path) -> Gennape:
    return load_gennape(tiny_gennape_path)


@pytest.fixture(scope="module")
def cells() -> list:
    rng = np.random.default_rng(1)
    space = get_space("nb201")
    return [space.sample(rng) for _ in range(12)]


def test_predict_embed_and_memberships_have_one_row_per_item(model: Gennape, cells: list) -> None:
    pred = model.predict(cells)
    assert pred.shape == (12,) and np.all(np.isfinite(pred))
    assert model.embed(cells).shape == (12, model.embed_dim)
    u = model.memberships(cells)
    assert u.shape == (12, 3) and np.allclose(u.sum(axis=1), 1.0)
    assert model.head_predictions(cells).shape == (12, 3)


def test_items_of_several_spaces_and_a_module_mix(model: Gennape) -> None:
    from archpred.gennape.examples import example_network

    rng = np.random.default_rng(2)
    items = [get_space("nb201").sample(rng), get_space("macro").sample(rng), example_network("resnet-ish")]
    assert model.predict(items).shape == (3,)


def test_the_ensemble_ranks_like_the_weighted_standardised_members(model: Gennape, cells: list) -> None:
    feats = model.features(cells)
    scores = model.member_scores(feats, list(model.weights))
    combined = model.combine(scores)
    z = sum(w * (s - s.mean()) / s.std() for (n, w), s in zip(model.weights.items(), scores.values(), strict=True))
    assert np.array_equal(np.argsort(combined), np.argsort(z))
    accuracy = np.mean([scores[n] for n in model.weights if model.members[n].returns_accuracy], axis=0)
    assert combined.mean() == pytest.approx(accuracy.mean()) and combined.std() == pytest.approx(accuracy.std())


def test_one_member_alone(model: Gennape, cells: list) -> None:
    alone = model.predict(cells, member="cl+fcm+t")
    assert not np.allclose(alone, model.predict(cells))
    with pytest.raises(InvalidOption, match="unknown GENNAPE member"):
        model.predict(cells, member="nope")


def test_fine_tune_returns_a_new_model_and_leaves_the_pretrained_one_unchanged(model: Gennape, cells: list) -> None:
    from archpred.gennape.model import FineTuneSettings

    before = model.predict(cells)
    state = {k: v.clone() for k, v in model.members["cl+fcm+t"].module.state_dict().items()}
    acc = np.linspace(0.8, 0.9, 8)
    tuned = model.fine_tune(cells[:8], acc, seed=0, settings=FineTuneSettings(epochs=3))
    assert tuned is not model
    assert np.array_equal(model.predict(cells), before)
    for k, v in model.members["cl+fcm+t"].module.state_dict().items():
        assert torch.equal(v, state[k])
    assert not np.allclose(tuned.predict(cells, member="cl+fcm+t"), model.predict(cells, member="cl+fcm+t"))
    taus = tuned.info["fine_tuned"]["kendall_tau"]
    expected = np.exp(list(taus.values())) / np.exp(list(taus.values())).sum()
    assert np.allclose(list(tuned.weights.values()), expected) and sum(tuned.weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("accuracies", "message"),
    [([0.9] * 7, "8 networks but 7"), ([float("nan")] + [0.9] * 7, "finite"), ([93.0] * 8, "fractions")],
)
def test_fine_tune_refuses_bad_labels(model: Gennape, cells: list, accuracies: list, message: str) -> None:
    with pytest.raises(InvalidOption, match=message):
        model.fine_tune(cells[:8], accuracies)


def test_save_and_load_round_trip(model: Gennape, cells: list, tmp_path) -> None:
    again = load_gennape(model.save(tmp_path / "g.pt"))
    assert np.array_equal(again.predict(cells), model.predict(cells))
    half = load_gennape(model.save(tmp_path / "h.pt", half=True))
    assert np.allclose(half.predict(cells), model.predict(cells), atol=2e-3)
    assert (tmp_path / "h.pt").stat().st_size < (tmp_path / "g.pt").stat().st_size


def test_bad_model_files_are_one_line_errors(tmp_path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x80\x04not torch")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_gennape(junk)
    from archpred.artifacts import save_artifact

    other = save_artifact(tmp_path / "other.pt", "archpred-predictor", 1, weights={})
    with pytest.raises(CheckpointError, match="not an archpred GENNAPE model"):
        load_gennape(other)
    with pytest.raises(CheckpointError, match="no such"):
        load_gennape(tmp_path / "missing.pt")


def test_training_resumes_from_finished_members(tiny_gennape_path, tiny_gennape_fit, monkeypatch) -> None:
    """A rerun over the same work folder loads every finished member instead of training it."""
    from archpred.gennape import members
    from archpred.gennape.train import fit_gennape

    work = tiny_gennape_path.parent / "work"
    assert len(list((work / "members").glob("*.pt"))) == 8

    def refuse(*args, **kwargs):
        raise AssertionError("a finished member was trained again")

    for cls in (members.RegressorMember, members.PairwiseMember, members.KGNNMember):
        monkeypatch.setattr(cls, "fit", refuse)
    again = fit_gennape(workdir=work, **tiny_gennape_fit)
    assert set(again.members) == set(load_gennape(tiny_gennape_path).members)


def test_an_ensemble_only_file_predicts_like_the_whole_model(model: Gennape, cells: list, tmp_path) -> None:
    small = load_gennape(model.save(tmp_path / "e.pt", ensemble_only=True))
    assert set(small.members) == set(model.weights) and "cl" in model.members and "cl" not in small.members
    assert np.array_equal(small.predict(cells), model.predict(cells))


def test_a_single_item_is_one_network(model: Gennape) -> None:
    from archpred.gennape.examples import example_network, example_onnx_bytes

    assert model.predict(example_onnx_bytes("mobilenet-ish")).shape == (1,)
    assert model.embed(example_network("resnet-ish")).shape == (1, model.embed_dim)


def test_the_model_embeds_where_it_was_told_and_checks_the_device_first(tiny_gennape_path) -> None:
    g = load_gennape(tiny_gennape_path, device="cpu")
    assert g.device == "cpu" and g.embed([get_space("nb201").sample(np.random.default_rng(0))]).shape[0] == 1
    if not torch.cuda.is_available():
        with pytest.raises(InvalidOption, match="no CUDA GPU"):
            load_gennape(tiny_gennape_path, device="cuda")
    with pytest.raises(InvalidOption, match="device"):
        load_gennape(tiny_gennape_path, device="tpu")
