"""The fuzzer on the project's own code, for a bounded time (`DCDR_FUZZ_SECONDS`, default 15;
CI may give it 120): random and mutated queries from the `queries/` corpus, random bytes and
random protocol parameters, against a live server. Each answer must be a 4xx with a message,
a 200, or a 503 within the time limit: never a 500, never a hang."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.protocol.sparql import nesting_problem
from tests.reliability.conftest import running
from tests.server_fixtures import PROJECT, ServerProcess

SECONDS = float(os.environ.get("DCDR_FUZZ_SECONDS", "15"))
TIMEOUT = 2.0
settings.register_profile(
    "reliability",
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
CORPUS = [
    path.read_text(encoding="utf-8")
    for folder in ("examples", "checks")
    for path in sorted((PROJECT / "queries" / folder).glob("*.rq"))
] or ["SELECT * WHERE { ?s ?p ?o } LIMIT 1"]
TOKENS = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "SELECT",
    "WHERE",
    "FILTER",
    "OPTIONAL",
    "UNION",
    "SERVICE",
    "GRAPH",
    "VALUES",
    "?x",
    "<urn:x>",
    '"',
    "'",
    "#",
    "\\",
    "\x00",
    "*",
    "/",
    "^",
    "|",
    "!",
    "BIND",
    "AS",
    "LIMIT -1",
    "OFFSET",
    "\ud7ff",
    "é",
    "\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "splice"]))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        else:
            other = draw(st.sampled_from(CORPUS))
            cut = draw(st.integers(0, len(other)))
            text = text[:at] + other[cut:]
    return text


QUERIES = st.one_of(
    mutated(), st.text(max_size=300), st.lists(st.sampled_from(TOKENS)).map(" ".join)
)


@pytest.fixture(scope="module")
def fuzz_server(reliability_dist: Path) -> Iterator[ServerProcess]:
    with running(reliability_dist, DCDR_TIMEOUT=str(TIMEOUT)) as server:
        yield server


def _check(response: requests.Response) -> None:
    assert response.status_code != 500, response.text[:300]
    assert response.status_code in (200, 503) or 400 <= response.status_code < 500
    if response.status_code != 200:
        assert json.loads(response.content)["message"]


def _until_time_is_up(run: object, share: float) -> int:
    """Runs a hypothesis test again and again until its share of the time is spent."""
    deadline = time.monotonic() + SECONDS * share
    rounds = 0
    while time.monotonic() < deadline or rounds == 0:
        run()  # type: ignore[operator]
        rounds += 1
    return rounds


def test_fuzzed_queries_never_500(fuzz_server: ServerProcess) -> None:
    session = requests.Session()

    @settings(settings.get_profile("reliability"))
    @given(query=QUERIES, method=st.sampled_from(["GET", "POST"]))
    def one(query: str, method: str) -> None:
        if method == "GET":
            response = session.get(
                fuzz_server.url + "/sparql", params={"query": query}, timeout=TIMEOUT + 15
            )
        else:
            response = session.post(
                fuzz_server.url + "/sparql",
                data=query.encode("utf-8", errors="surrogatepass"),
                headers={"Content-Type": "application/sparql-query"},
                timeout=TIMEOUT + 15,
            )
        _check(response)

    assert _until_time_is_up(one, 0.5) >= 1


def test_fuzzed_bytes_and_parameters_never_500(fuzz_server: ServerProcess) -> None:
    session = requests.Session()
    names = st.sampled_from(
        [
            "query",
            "format",
            "timeout",
            "default-graph-uri",
            "named-graph-uri",
            "update",
            "output",
            "x",
        ]
    )

    @settings(settings.get_profile("reliability"))
    @given(
        body=st.binary(max_size=400),
        params=st.lists(st.tuples(names, st.text(max_size=40)), max_size=6),
        content_type=st.sampled_from(
            [
                "application/sparql-query",
                "application/x-www-form-urlencoded",
                "application/sparql-update",
                "text/plain",
                "",
            ]
        ),
        accept=st.sampled_from(
            [
                "*/*",
                "text/html",
                "application/json",
                "image/png",
                "",
                "text/csv;q=0.5, application/sparql-results+xml",
            ]
        ),
    )
    def one(body: bytes, params: list[tuple[str, str]], content_type: str, accept: str) -> None:
        response = session.post(
            fuzz_server.url + "/sparql",
            params=params,
            data=body,
            headers={"Content-Type": content_type, "Accept": accept},
            timeout=TIMEOUT + 15,
        )
        assert response.status_code != 500, response.text[:300]
        assert "Traceback" not in response.text

    assert _until_time_is_up(one, 0.3) >= 1


def test_fuzzed_nesting_check_never_raises() -> None:
    @settings(settings.get_profile("reliability"))
    @given(text=st.one_of(QUERIES, st.text(alphabet="{}()[]!^+-\"'<>#\n ", max_size=500)))
    def one(text: str) -> None:
        problem = nesting_problem(text)
        assert problem is None or "more than" in problem

    assert _until_time_is_up(one, 0.2) >= 1
