"""The benchmarks' load generator (bench/loadgen.py), driven against a loopback server that
records what it is sent."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import loadgen  # bench/ is a folder of scripts, not a package


class Recorder(ThreadingHTTPServer):
    queries: list[str]


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.queries += parse_qs(urlsplit(self.path).query)["query"]
        body = b'{"boolean": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(("127.0.0.1", 0), Handler)
    server.queries = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("client", ["httpx", "wrk"])
def test_distinct_runs_against_one_server_never_repeat_a_text(
    recorder: Recorder, client: str
) -> None:
    url = f"http://127.0.0.1:{recorder.server_address[1]}/sparql"
    loadgen.run_load(url, ["ASK {}"], 1, 1.0, "distinct", client)
    first = set(recorder.queries)
    recorder.queries = []
    loadgen.run_load(url, ["ASK {}"], 1, 1.0, "distinct", client)
    assert first and not first & set(recorder.queries)
