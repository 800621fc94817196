"""Fixtures for the endpoint tests: a small dist/ of our own (the same layout as `dcdr build`
writes) and real servers on free loopback ports that stop when the tests end.

Test modules import the fixtures they use from here (tests/conftest.py belongs to the build).
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, VOID

from graph.dumps import write_store_sums
from graph.namespaces import DATASET_IRI, DCDR, GRAPH, ID, NIF

PROJECT = Path(__file__).resolve().parents[1]
AGENCIES = {
    "ndrc": ("国家发展和改革委员会", "National Development and Reform Commission"),
    "cac": ("国家互联网信息办公室", "Cyberspace Administration of China"),
    "spc": ("最高人民法院", "Supreme People's Court"),
}
OBSERVATIONS = 240  # enough rows to pass the test server's row limit and to make cross joins slow
ROW_LIMIT = 100
TEST_TIMEOUT = 10.0


def _node(iri: object) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


def sample_quads() -> list[ox.Quad]:
    """Agencies in `facts` (labels zh/en), sentences in `text`, the dataset in `meta`."""
    facts, text, meta = (_node(GRAPH[name]) for name in ("facts", "text", "meta"))
    quads = []
    for slug, (zh, en) in AGENCIES.items():
        agency = _node(ID[f"agency/{slug}"])
        quads.append(ox.Quad(agency, _node(RDF.type), _node(DCDR.Agency), facts))
        quads.append(ox.Quad(agency, _node(RDFS.label), ox.Literal(zh, language="zh"), facts))
        quads.append(ox.Quad(agency, _node(RDFS.label), ox.Literal(en, language="en"), facts))
    for number in range(OBSERVATIONS):
        observation = _node(ID[f"observation/sample-{number:03d}"])
        quads.append(ox.Quad(observation, _node(RDF.type), _node(DCDR.Observation), facts))
        quads.append(
            ox.Quad(
                observation,
                _node(DCDR.value),
                ox.Literal(
                    str(number * 10),
                    datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"),
                ),
                facts,
            )
        )
    sentence = _node(ID["sentence/p4-s4-07"])
    quads.append(ox.Quad(sentence, _node(RDF.type), _node(NIF.Sentence), text))
    quads.append(ox.Quad(sentence, _node(NIF.anchorOf), ox.Literal("截至2020年底…"), text))
    quads.append(ox.Quad(_node(DATASET_IRI), _node(RDF.type), _node(VOID.Dataset), meta))
    return quads


def agency_graph() -> Graph:
    """The agencies of `sample_quads` with their types and labels, as an rdflib graph."""
    graph = Graph()
    for slug, (zh, en) in AGENCIES.items():
        agency = URIRef(str(ID[f"agency/{slug}"]))
        graph.add((agency, RDF.type, URIRef(str(DCDR.Agency))))
        graph.add((agency, RDFS.label, Literal(zh, lang="zh")))
        graph.add((agency, RDFS.label, Literal(en, lang="en")))
    return graph


def write_dist(root: Path) -> Path:
    """A dist/ folder as `dcdr build` lays it out: dumps, SHA256SUMS and the Oxigraph store."""
    root.mkdir(parents=True, exist_ok=True)
    quads = sample_quads()
    (root / "dcdr.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    (root / "dcdr.trig").write_bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG) or b"")
    (root / "void.ttl").write_text(f"<{DATASET_IRI}> a <{VOID.Dataset}> .\n", encoding="utf-8")
    # A separate process writes the store, so that no writer is open when servers read it.
    script = (
        "import sys, pyoxigraph as ox\n"
        "store = ox.Store(sys.argv[1])\n"
        "store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS)\n"
        "store.flush()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(root / "store"), str(root / "dcdr.nq")], check=True
    )
    write_store_sums(root)
    sums = []
    for name in ("dcdr.nq", "dcdr.trig", "void.ttl"):
        digest = hashlib.sha256((root / name).read_bytes()).hexdigest()
        sums.append(f"{digest}  {name}\n")
    (root / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_refused_dist(dist: Path) -> subprocess.CompletedProcess[str]:
    """Runs the server on a dist that must be refused: it has to exit by itself."""
    return subprocess.run(
        [sys.executable, "-m", "server.front.serving", "--port", "0", "--dist", str(dist)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def children(pid: int) -> list[int]:
    # Linux lists a child under the thread that forked it, and the server forks from its
    # threads too (the killable query processes start with the first query that needs them).
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(part) for part in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        for child in children(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def query_workers(server_pid: int) -> list[int]:
    """The query processes: children of the forkserver(s) under the server."""
    servers = [pid for pid in descendants(server_pid) if "forkserver" in cmdline(pid)]
    return sorted(child for parent in servers for child in children(parent))


class ServerProcess:
    """`python -m server.front.serving` on a free port; `stop()` ends it (and only it)."""

    def __init__(self, dist: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "DCDR_ACCESS_LOG": "false", **(env or {})}
        # A file, not a pipe: a server that logs much must never block on a full pipe.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (read after the server stops)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.front.serving",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dist",
                str(dist),
            ],
            cwd=PROJECT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 20.0) -> float:
        """Seconds until /healthz answered; fails with the server's output if it never did."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if self.process.poll() is not None:
                output = self.output()
                raise RuntimeError(f"server exited with {self.process.returncode}: {output}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return time.monotonic() - started
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server at {self.url} did not start within {seconds} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        self.log.seek(0)
        return self.log.read().decode("utf-8", errors="replace")


@pytest.fixture(scope="session")
def sample_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dist(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def server_url(sample_dist: Path) -> Iterator[str]:
    """One shared server: row limit 100, two worker processes with two threads each."""
    server = ServerProcess(
        sample_dist,
        {
            "DCDR_ROW_LIMIT": str(ROW_LIMIT),
            "DCDR_WORKERS": "2",
            "DCDR_THREADS": "3",
            "DCDR_TIMEOUT": str(TEST_TIMEOUT),
        },
    )
    try:
        server.wait_ready()
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sparql_url(server_url: str) -> str:
    return server_url + "/sparql"


# ---- reading answers as data -------------------------------------------------------------

SPARQL_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def solution_rows(response: requests.Response) -> set[tuple[tuple[str, str], ...]]:
    """The rows of a SELECT answer as a set of sorted (variable, term) pairs, in any format."""
    kind = media_type(response)
    if kind == "text/csv":
        import csv
        import io

        reader = csv.DictReader(io.StringIO(response.content.decode("utf-8")))
        return {tuple(sorted((k, v) for k, v in row.items() if v)) for row in reader}
    parsed = ox.parse_query_results(response.content, SPARQL_FORMATS[kind])
    assert isinstance(parsed, ox.QuerySolutions)
    names = [variable.value for variable in parsed.variables]
    rows = set()
    for solution in parsed:
        pairs = []
        for name in names:
            term = solution[name]
            if term is not None:
                pairs.append((name, term.value))
        rows.add(tuple(sorted(pairs)))
    return rows


def boolean_answer(response: requests.Response) -> bool:
    parsed = ox.parse_query_results(response.content, SPARQL_FORMATS[media_type(response)])
    assert isinstance(parsed, ox.QueryBoolean)
    return bool(parsed)
