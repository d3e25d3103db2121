"""The command line: useful output, and one-line errors with exit code 2 on bad input."""

import json
import subprocess
import sys

import pytest

from archpred.cli import main
from tests.conftest import ROOT

CELL = '{"adjacency": [[0,1,0],[0,0,1],[0,0,0]], "ops": ["input","conv3x3-bn-relu","output"]}'


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_hash(capsys):
    code, out, _ = run(capsys, "hash", "--space", "nb101", "--cell", CELL)
    assert code == 0 and len(out.strip()) == 32


def test_validate_reports_pruning(capsys):
    cell = '{"adjacency": [[0,1,1,0],[0,0,0,1],[0,0,0,0],[0,0,0,0]], "ops": ["input","conv3x3","maxpool3x3","output"]}'
    code, out, _ = run(capsys, "validate", "--space", "nb101", "--cell", cell)
    assert code == 0 and "pruned vertices [2]" in out
    code, _, err = run(capsys, "validate", "--space", "nb101", "--cell", cell, "--no-prune")
    assert code == 2 and "vertex 2 is not on an input->output path" in err


@pytest.mark.parametrize(
    "cell,message",
    [
        ('{"adjacency": [[0,1],[1,0]], "ops": ["input","output"]}', "cycle"),
        ("{oops", "malformed JSON"),
        ('{"adjacency": [[0,1],[0,0]], "ops": ["input","conv9x9"]}', "last vertex must be 'output'"),
        ("@/no/such/file.json", "no such cell file"),
    ],
)
def test_bad_cells_give_one_line_and_exit_2(capsys, cell, message):
    code, out, err = run(capsys, "validate", "--space", "nb101", "--cell", cell)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cell_from_file_and_other_spaces(capsys, tmp_path):
    f = tmp_path / "cell.json"
    f.write_text(CELL)
    assert run(capsys, "hash", "--space", "nb101", "--cell", f"@{f}")[0] == 0
    s = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    assert run(capsys, "validate", "--space", "nb201", "--cell", s)[0] == 0
    assert (
        run(capsys, "validate", "--space", "enas", "--cell", "[[1],[4,0],[5,0,0],[0,1,1,1],[2,1,1,1,1],[3,0,0,0,0,1]]")[
            0
        ]
        == 0
    )


def test_enumerate_nb201(capsys, tmp_path):
    out = tmp_path / "nb201.jsonl"
    code, _, err = run(capsys, "enumerate", "--space", "nb201", "--out", str(out), "--no-progress")
    lines = out.read_text().splitlines()
    assert code == 0 and len(lines) == 15_625 and "wrote 15625" in err
    first = json.loads(lines[0])
    assert set(first) == {"hash", "arch"}


def test_enumerate_bad_options(capsys, tmp_path):
    assert run(capsys, "enumerate", "--space", "nb201", "--out", str(tmp_path / "x.csv"))[0] == 2
    assert run(capsys, "enumerate", "--space", "nb201", "--out", "/no/such/dir/x.jsonl")[0] == 2
    code, _, err = run(capsys, "enumerate", "--space", "enas", "--out", str(tmp_path / "x.jsonl"))
    assert code == 2 and "too large" in err


def test_data_info(capsys):
    code, out, _ = run(capsys, "data", "info")
    assert code == 0 and "nb201" in out and "15625 archs" in out


def test_module_entry_point_and_usage_error():
    ok = subprocess.run([sys.executable, "-m", "archpred", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0 and "enumerate" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "archpred", "hash", "--space", "nb9"], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_predict_all_scores_every_cell_of_the_space(capsys, tmp_path, suffix):
    import numpy as np

    out = tmp_path / f"scores{suffix}"
    code, text, _ = run(
        capsys, "predict", "--all", "--model", str(ROOT / "assets/predictors/nb201-mlp.pt"), "--out", str(out)
    )
    assert code == 0 and "scored 15,625 nb201 cells" in text and str(out) in text
    if suffix == ".npz":
        with np.load(out, allow_pickle=False) as z:
            keys, predictions = z["keys"], z["predictions"]
    else:
        rows = out.read_text().splitlines()
        assert rows[0] == "key,prediction"
        keys = [r.rsplit(",", 1)[0] for r in rows[1:]]
        predictions = np.array([float(r.rsplit(",", 1)[1]) for r in rows[1:]])
    assert len(keys) == 15_625 and len(set(keys)) == 15_625 and np.isfinite(predictions).all()
    from archpred.predictors import load_predictor
    from archpred.spaces import get_space

    model, space = load_predictor(str(ROOT / "assets/predictors/nb201-mlp.pt"), device="cpu"), get_space("nb201")
    rows = [0, 777, 15_624]
    expected = model.predict([space.parse(str(keys[r])) for r in rows])
    np.testing.assert_allclose(predictions[rows], expected, atol=1e-6)
