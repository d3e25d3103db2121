"""AppTest: the Trained networks page on the shipped IO sample (what a fresh machine shows): the
summary, the output clusters, a selected network's heatmap and its cell sent to the editor, one
image across all networks, and a bad folder as one inline error."""

from __future__ import annotations

import json
import shutil

import numpy as np
from streamlit.testing.v1 import AppTest

from archpred.app import cache, io_view, state
from archpred.data.io_dataset import load_io_dataset, output_clusters
from tests.conftest import IO_SAMPLE, ROOT

PAGE = str(ROOT / "pages" / "trained_networks.py")


def page(folder=IO_SAMPLE) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[io_view.FOLDER_KEY] = str(folder)
    return at.run()


def test_the_sample_renders_with_its_clusters_and_heatmaps():
    at = page()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Networks"] == "8" and metrics["Seen / unseen"] == "6 / 2"
    data = load_io_dataset(IO_SAMPLE)
    assert metrics["Median accuracy"] == f"{np.median(data.accuracy):.3f}"
    table = at.dataframe[0].value
    assert len(table) == 8 and list(table["output cluster"]) == output_clusters(data).tolist()
    assert "No network selected yet" in " ".join(c.value for c in at.caption)
    assert any(i.value.startswith("The shipped sample") for i in at.info) or cache.io_dataset_default() != IO_SAMPLE


def test_a_selected_network_shows_its_outputs_and_opens_in_the_editor():
    """Through app.py (switch_page needs the navigation)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[io_view.FOLDER_KEY] = str(IO_SAMPLE)
    at.session_state[io_view.TABLE_KEY] = {"selection": {"rows": [3], "columns": []}}
    at.run()
    at.switch_page("pages/trained_networks.py").run()
    assert not at.exception and not at.error
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    net = load_io_dataset(IO_SAMPLE).networks[3]
    assert any(t.startswith(net.hash[:10]) for t in titles)
    at.button(key="io_open").click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Cell editor"]
    assert at.session_state[state.CELLS_KEY]["nb101"] == net.cell.to_dict()


def test_a_bad_folder_is_one_inline_error(tmp_path):
    at = page(tmp_path / "nowhere")
    assert not at.exception and len(at.error) == 1 and "no IO dataset" in at.error[0].value
    broken = tmp_path / "broken"
    shutil.copytree(IO_SAMPLE, broken)
    (broken / "manifest.json").write_text("{oops")
    at = page(broken)
    assert not at.exception and len(at.error) == 1 and "not a readable manifest" in at.error[0].value


def test_an_unfinished_build_shows_the_networks_trained_so_far(tmp_path):
    """A build still running (plan and run log, no manifest): its finished networks, with a note."""
    import json as _json

    from archpred.networks.io_dataset import _manifest

    folder = tmp_path / "building"
    shutil.copytree(IO_SAMPLE, folder)
    manifest = _json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").unlink()
    cells = [n["cell"] for n in manifest["networks"]]
    plan = {"settings": {"dataset": "digits", "seed": 0, "network": {"width": 8}, "train": manifest["recipe"]},
            "cells": cells, "splits": [n["split"] for n in manifest["networks"]]}  # fmt: skip
    (folder / "plan.json").write_text(_json.dumps(plan))
    runs = [{"key": n["hash"], "hash": n["hash"], "test_acc": n["accuracy"], "val_acc": n["val_acc"],
             "train_seconds": n["train_seconds"], "params": n["params"], "io_features": n["file"]}
            for n in manifest["networks"][:5]]  # fmt: skip
    (folder / "runs.jsonl").write_text("".join(_json.dumps(r) + "\n" for r in runs))
    assert len(_manifest(plan, [])["images"]["seen"]) == 179
    at = page(folder)
    assert not at.exception and not at.error
    assert any("5 of 8 networks trained so far" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == 5
