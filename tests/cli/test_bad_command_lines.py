"""A careless user's command lines (#15): each exits 2 with one line on stderr naming what is
wrong, no traceback, and writes nothing."""

from __future__ import annotations

import pytest

from archpred.cli import main

NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
PREDICTOR = ["train", "predictor", "--space", "nb201", "--name", "gnn"]  # then the option under test
ARCH2VEC = ["train", "vae", "--kind", "arch2vec", "--space", "nb201"]
DEEP = "[" * 100_000 + "]" * 100_000

# (arguments with {tmp} for the test's folder, words the error line must hold)
CASES = [
    (["hash", "--space", "nb101", "--cell", '{"adjacency": [], "ops": []}'], "at least 2 vertices"),
    (["hash", "--space", "nb101", "--cell", DEEP], "no cell needs more than"),
    (["hash", "--space", "nb101", "--cell", "[" * 5_000 + "]" * 5_000], "nested too deeply"),
    (["hash", "--space", "nb201", "--cell", "|x~0|"], "nb201"),
    (["hash", "--space", "nb201", "--cell", ""], "malformed JSON"),
    (["validate", "--space", "nb101", "--cell", '{"adjacency": [[0,1],[0,0]], "ops": ["input"]}'], "size mismatch"),
    (
        ["validate", "--space", "nb101", "--cell", '{"adjacency": [[0,"a"],[0,0]], "ops": ["input","output"]}'],
        "is not 0 or 1",
    ),
    (["validate", "--space", "nb101", "--cell", '{"adjacency": null, "ops": null}'], "needs both"),
    (["validate", "--space", "nb101", "--cell", '"just a string"'], "adjacency"),
    (
        ["validate", "--space", "nb101", "--cell", '{"adjacency": [[0,1.5],[0,0]], "ops": ["input","output"]}'],
        "is not 0 or 1",
    ),
    (["validate", "--space", "macro", "--cell", "0123456789"], "macro"),
    (["validate", "--space", "enas", "--cell", "[[0],[9,1]]"], "enas"),
    (
        [
            "validate",
            "--space",
            "nb101",
            "--cell",
            '{"adjacency": [[0,1],[0,0]], "ops": ["input","output"], "x\\ny": 1}',
        ],
        "unexpected field",
    ),
    (["hash", "--space", "nb101", "--cell", "@{tmp}/rand.bin"], "rand.bin"),
    (["hash", "--space", "nb101", "--cell", "@{tmp}"], "{tmp}"),
    (["data", "--device", "bogus"], "bogus"),
    (["data", "--threads", "-1"], "-1"),
    (["data", "--threads", "0"], "0"),
    (["search", "--space", "nb201", "--algorithm", "random", "--budget", "0", "--store", "{tmp}/s.db"], "budget"),
    (["search", "--space", "nb201", "--algorithm", "random", "--budget", "-3", "--store", "{tmp}/s.db"], "budget"),
    (["search", "--space", "nb201", "--algorithm", "nope", "--budget", "3", "--store", "{tmp}/s.db"], "nope"),
    (
        [
            "search",
            "--space",
            "nb201",
            "--algorithm",
            "evolution",
            "--budget",
            "3",
            "--set",
            "population_size=1.5",
            "--store",
            "{tmp}/s.db",
        ],
        "population_size",
    ),  # fmt: skip
    (
        [
            "search",
            "--space",
            "nb201",
            "--algorithm",
            "evolution",
            "--budget",
            "3",
            "--set",
            "population_size=true",
            "--store",
            "{tmp}/s.db",
        ],
        "population_size",
    ),  # fmt: skip
    (["search", "--space", "nb201", "--algorithm", "random", "--budget", "3", "--store", "{tmp}/rand.bin"], "rand.bin"),
    (["search", "--space", "nb201", "--algorithm", "random", "--budget", "3", "--set", "x=" + "[" * 100_000], "nested"),
    (["runs", "list", "--store", "{tmp}/rand.bin"], "rand.bin"),
    (["predict", "--onnx", "{tmp}/rand.bin", "--input-shape", "3,32,32"], "rand.bin"),
    (["predict", "--onnx", "{tmp}/rand.bin", "--input-shape", "3,x,32"], "input-shape"),
    (["predict", "--space", "nb201", "--cell", "|bad|"], "nb201"),
    (["predict", "--space", "nb201", "--cell", NB201, "--model", "{tmp}/rand.bin"], "rand.bin"),
    (["predict", "--space", "nb201", "--cell", NB201, "--member", "nope"], "nope"),
    (["predict", "--all", "--out", "{tmp}/s.csv"], "--model"),
    (["predict", "--all", "--model", "assets/predictors/nb201-mlp.pt", "--out", "{tmp}/s.txt"], "csv or .npz"),
    (
        ["predict", "--all", "--model", "assets/predictors/nb201-mlp.pt", "--space", "nb101", "--out", "{tmp}/s.csv"],
        "nb101",
    ),
    (["predict", "--all", "--model", "assets/gennape/gennape-nb101.pt", "--out", "{tmp}/s.csv"], "predictor"),
    (["predict", "--all", "--model", "{tmp}/rand.bin", "--out", "{tmp}/s.csv"], "rand.bin"),
    (["predict", "--space", "nb201", "--cell", NB201, "--out", "{tmp}/s.csv"], "--all"),
    ([*PREDICTOR, "--set", "lr=nan", "--out", "{tmp}/p.pt"], "lr"),
    (
        [*PREDICTOR, "--set", "epochs=1.5", "--out", "{tmp}/p.pt"],
        "epochs",
    ),
    (
        [*PREDICTOR, "--set", "epochs=true", "--out", "{tmp}/p.pt"],
        "epochs",
    ),
    (
        [*PREDICTOR, "--set", "hidden=null", "--out", "{tmp}/p.pt"],
        "hidden",
    ),
    (
        [*PREDICTOR, "--set", "batch_size=0", "--out", "{tmp}/p.pt"],
        "batch_size",
    ),
    (
        [*PREDICTOR, "--test-size", "-1", "--out", "{tmp}/p.pt"],
        "--test-size",
    ),
    (
        [*PREDICTOR, "--test-size", "0", "--out", "{tmp}/p.pt"],
        "--test-size",
    ),
    (
        [*PREDICTOR, "--train-size", "0", "--out", "{tmp}/p.pt"],
        "--train-size",
    ),
    (
        [*ARCH2VEC, "--train-size", "0", "--out", "{tmp}/v.pt"],
        "--train-size",
    ),
    (
        [*ARCH2VEC, "--batch-size", "0", "--out", "{tmp}/v.pt"],
        "--batch-size",
    ),
    (
        [*ARCH2VEC, "--val-size", "-1", "--out", "{tmp}/v.pt"],
        "--val-size",
    ),
    ([*ARCH2VEC, "--lr", "0", "--out", "{tmp}/v.pt"], "--lr"),
    ([*ARCH2VEC, "--lr", "nan", "--out", "{tmp}/v.pt"], "--lr"),
    ([*ARCH2VEC, "--epochs", "0", "--out", "{tmp}/v.pt"], "--epochs"),
    (["train", "vae", "--kind", "svge", "--space", "nb201", "--config", "latent=1.5", "--out", "{tmp}/v.pt"], "latent"),
    (["train", "gennape", "--clusters", "0", "--out", "{tmp}/g.pt"], "clusters"),
    (["train", "gennape", "--fuzziness", "nan", "--out", "{tmp}/g.pt", "--workdir", "{tmp}/w"], "fuzziness"),
    (["train", "gennape", "--fuzziness", "1", "--out", "{tmp}/g.pt", "--workdir", "{tmp}/w"], "fuzziness"),
    (["train-arch", "--space", "nb201", "--cell", "|bad|", "--out", "{tmp}/r.jsonl"], "nb201"),
    (["bench", "cg-search", "--starts", "enas"], "enas"),
    (["bench", "gennape", "--families", "nb101"], "nb101"),
]


def _fill(args: list[str], tmp) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in args]


@pytest.mark.parametrize("args, words", CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_a_bad_command_line_is_one_line_and_exit_2_and_writes_nothing(args, words, tmp_path, capsys):
    (tmp_path / "rand.bin").write_bytes(bytes(range(256)) * 8)
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        code = main(_fill(args, tmp_path))
    except SystemExit as exit_:  # argparse's own refusals (usage line + error line)
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert words.replace("{tmp}", str(tmp_path)) in last, last
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no store, model or report was written
