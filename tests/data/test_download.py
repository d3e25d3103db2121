"""The explicit download command, against a loopback HTTP server: resume, atomic rename, errors."""

import http.server
import threading
from functools import partial

import pytest

from archpred import ArchpredError
from archpred.data.download import download

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path != "/file":
            self.send_error(404)
            return
        start = int(self.headers.get("Range", "bytes=0-")[6:].rstrip("-") or 0)
        if start >= len(PAYLOAD):
            self.send_error(416)
            return
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(PAYLOAD) - start))
        self.end_headers()
        self.wfile.write(PAYLOAD[start:])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_and_resume(server, tmp_path):
    dest = tmp_path / "nb101" / "x.tfrecord"
    (tmp_path / "nb101").mkdir()
    dest.with_name("x.tfrecord.part").write_bytes(PAYLOAD[:12345])  # an interrupted earlier run
    fetch = partial(download, progress=False, chunk=4096)
    assert fetch(f"{server}/file", dest) == dest
    assert dest.read_bytes() == PAYLOAD and not dest.with_name("x.tfrecord.part").exists()


def test_errors_are_one_line(server, tmp_path):
    with pytest.raises(ArchpredError, match="HTTP 404"):
        download(f"{server}/missing", tmp_path / "y", progress=False)
    with pytest.raises(ArchpredError, match="cannot reach"):
        download("http://127.0.0.1:9/none", tmp_path / "z", progress=False, timeout=2)
