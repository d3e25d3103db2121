"""The app's Streamlit settings: users never see a traceback, and the upload limit is the one
GENNAPE's input edge enforces (#15)."""

import tomllib

from archpred.gennape.inputs import MAX_ONNX_BYTES
from tests.conftest import ROOT


def test_no_error_details_and_the_upload_limit_of_the_onnx_edge():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_ONNX_BYTES
