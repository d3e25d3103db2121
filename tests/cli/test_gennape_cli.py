"""``predict`` (GENNAPE on an ONNX file or a cell) and ``train gennape`` from the command line."""

from __future__ import annotations

import pickle

import pytest

from archpred.cli import main


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory):
    from archpred.gennape.examples import example_onnx_bytes

    path = tmp_path_factory.mktemp("onnx") / "resnet.onnx"
    path.write_bytes(example_onnx_bytes("resnet-ish"))
    return path


def test_predict_an_onnx_file_prints_one_line(tiny_gennape_path, onnx_file, capsys) -> None:
    assert (
        main(["predict", "--onnx", str(onnx_file), "--input-shape", "3,32,32", "--model", str(tiny_gennape_path)]) == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("resnet.onnx: predicted accuracy") and "M FLOPs" in out[0]


def test_predict_a_cell_and_one_member(tiny_gennape_path, capsys) -> None:
    cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"
    args = ["predict", "--space", "nb201", "--cell", cell, "--model", str(tiny_gennape_path)]
    assert main([*args, "--member", "cl+t"]) == 0
    assert "GENNAPE member cl+t" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--input-shape", "3,32"], "three positive integers"),
        (["--input-shape", "a,b,c"], "C,H,W integers"),
        (["--member", "nope"], "unknown GENNAPE member"),
    ],
)
def test_predict_bad_options_exit_2_with_one_line(tiny_gennape_path, onnx_file, capsys, extra, message) -> None:
    assert main(["predict", "--onnx", str(onnx_file), "--model", str(tiny_gennape_path), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_predict_bad_files_exit_2(tiny_gennape_path, tmp_path, capsys) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(pickle.dumps({"not": "onnx"}))
    assert main(["predict", "--onnx", str(fake), "--model", str(tiny_gennape_path)]) == 2
    assert "not an ONNX model" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    cell = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert main(["predict", "--space", "nb201", "--cell", cell, "--model", str(junk)]) == 2
    assert "junk.pt" in capsys.readouterr().err
    assert main(["predict", "--cell", cell, "--model", str(tiny_gennape_path)]) == 2
    assert "--cell needs --space" in capsys.readouterr().err


def test_train_gennape_refuses_impossible_options(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["train", "gennape", "--out", str(tmp_path / "g.pt"), "--seeds", "0"])
    assert stop.value.code == 2
    assert main(["train", "gennape", "--out", str(tmp_path / "g.pt"), "--members", "cl,bogus"]) == 2
    assert "unknown GENNAPE member(s) bogus" in capsys.readouterr().err
    assert not (tmp_path / "g.pt").exists()
