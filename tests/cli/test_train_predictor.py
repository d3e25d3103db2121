"""``train predictor`` from the command line."""

from __future__ import annotations

import json

import pytest

from archpred.cli import main
from archpred.errors import DataNotFound
from archpred.predictors import Predictor


def test_train_predictor_command(tmp_path, capsys):
    out = tmp_path / "rf.pt"
    try:
        code = main(
            [
                "train",
                "predictor",
                "--name",
                "random-forest",
                "--space",
                "nb201",
                "--train-size",
                "60",
                "--test-size",
                "200",
                "--set",
                "n_estimators=5",
                "--out",
                str(out),
                "--quiet",
            ]
        )
    except DataNotFound as err:  # pragma: no cover - data missing
        pytest.skip(str(err))
    assert code == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores["test_size"] == 200 and scores["kendall_tau"] > 0
    model = Predictor.load(out)
    assert model.config.n_estimators == 5
    card = model.card_  # the model card travels in the file
    assert card["train_size"] == 60 and card["test_size"] == 200 and card["seed"] == 0
    assert card["held_out"]["kendall_tau"] == round(scores["kendall_tau"], 5) and "train predictor" in card["command"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--set", "no_such=1"], "unknown option"),
        (["--set", "novalue"], "KEY=VALUE"),
        (["--train-size", "1"], "train-size"),
    ],
)
def test_train_predictor_bad_input(tmp_path, capsys, extra, message):
    code = main(["train", "predictor", "--name", "mlp", "--out", str(tmp_path / "x.pt"), "--quiet", *extra])
    assert code == 2
    assert message in capsys.readouterr().err
