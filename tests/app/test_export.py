"""Exports of the app: cell JSON that parses back, the predictions CSV, the ONNX file a download
makes (loads and passes onnx.checker), and the SVG setting of plotly's camera button."""

from __future__ import annotations

import io
import json

import onnx
import pandas as pd

from archpred.app import export
from archpred.spaces import get_space

NB201 = get_space("nb201")
CELL = NB201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")


def test_cell_json_parses_back_and_names_its_file():
    assert NB201.parse(export.cell_json(CELL)) == CELL
    nb101 = get_space("nb101").parse('{"adjacency": [[0,1],[0,0]], "ops": ["input","output"]}')
    assert json.loads(export.cell_json(nb101)) == {"adjacency": [[0, 1], [0, 0]], "ops": ["input", "output"]}
    assert export.file_stem("nb201", CELL) == f"nb201-cell-{NB201.hash(CELL)[:8]}"


def test_predictions_csv_has_every_shipped_predictor_and_the_real_accuracy(fresh_machine):
    table = pd.read_csv(io.StringIO(export.predictions_csv("nb201", CELL, "cpu")))
    assert list(table.columns) == ["cell", "model", "predictor", "predicted", "held-out tau", "real"]
    assert table["held-out tau"].between(0, 1).all()  # every shipped model carries its card
    assert set(table["predictor"]) >= {"gnn", "mlp", "neural-predictor", "random-forest"}
    assert table["predicted"].between(0, 1).all() and table["real"].between(0, 1).all()
    assert (table["cell"] == CELL.arch_string).all()


def test_the_onnx_download_is_a_valid_model():
    """What the "Network (ONNX)" button's deferred download returns (a full-size NAS-Bench-Macro network)."""
    model = onnx.load_from_string(export.onnx_file("macro", get_space("macro").parse("01200120"))())
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input][:1] == ["image"]


def test_plots_save_svg():
    assert export.PLOT_CONFIG["toImageButtonOptions"]["format"] == "svg"
