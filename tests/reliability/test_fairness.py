"""Per-client fairness: past its budget of query seconds a client gets 429 with Retry-After
while other clients are served; the budget is shared by every server process."""

from __future__ import annotations

import http.client
import json
import multiprocessing
from pathlib import Path

import pytest

from server.stores.fairness import Ledger, client_address
from tests.reliability.conftest import running

CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def _get(
    port: int, source: str, query: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """A GET from the loopback address `source` (each address is another client)."""
    from urllib.parse import urlencode

    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        target = "/sparql?" + urlencode({"query": query, "timeout": "1"})
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        # Header names are case-insensitive (the server writes them in lower case).
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read().decode()
    finally:
        connection.close()


def test_client_over_budget_gets_429_while_others_are_served(
    tmp_path: Path, reliability_dist: Path
) -> None:
    with running(
        reliability_dist, DCDR_QUERY_BUDGET_SECONDS="1.5", DCDR_WORKERS="2", DCDR_CACHE_BYTES="0"
    ) as server:
        statuses = [_get(server.port, "127.0.0.2", CROSS_JOIN + f" # {n}")[0] for n in range(2)]
        assert statuses == [503, 503]  # each ran its whole second: 2 s spent, budget 1.5 s
        # New connections land on either worker process: all must see the same ledger.
        for n in range(6):
            status, headers, body = _get(server.port, "127.0.0.2", f"ASK {{}} # {n}")
            assert status == 429
            assert int(headers["retry-after"]) >= 1
            assert "query time" in json.loads(body)["message"]
        other = _get(server.port, "127.0.0.3", "ASK {}")
        assert other[0] == 200


def test_proxy_header_counts_only_when_trusted(reliability_dist: Path) -> None:
    with running(
        reliability_dist,
        DCDR_QUERY_BUDGET_SECONDS="0.5",
        DCDR_TRUSTED_PROXY_HEADER="X-Forwarded-For",
    ) as server:
        spoof = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
        assert _get(server.port, "127.0.0.4", CROSS_JOIN, spoof)[0] == 503
        # The proxy's entry (the last) is the client: another one behind the same proxy is fine.
        assert _get(server.port, "127.0.0.4", "ASK {}", spoof)[0] == 429
        assert (
            _get(server.port, "127.0.0.4", "ASK {}", {"X-Forwarded-For": "203.0.113.10"})[0] == 200
        )
    with running(reliability_dist, DCDR_QUERY_BUDGET_SECONDS="0.5") as server:
        # Without the setting the header is ignored: changing it does not escape the budget.
        assert _get(server.port, "127.0.0.5", CROSS_JOIN, {"X-Forwarded-For": "1.1.1.1"})[0] == 503
        assert _get(server.port, "127.0.0.5", "ASK {}", {"X-Forwarded-For": "2.2.2.2"})[0] == 429


def _charge(ledger: Ledger, client: str) -> None:
    ledger.charge(client, 1.0)


def test_ledger_is_shared_by_forked_processes() -> None:
    ledger = Ledger(budget=3.0, window=60.0, slots=64)
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_charge, args=(ledger, "10.0.0.1")) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=30)
    assert ledger.spent("10.0.0.1") == pytest.approx(4.0)
    assert ledger.retry_after("10.0.0.1") > 0
    assert ledger.retry_after("10.0.0.2") == 0


def test_window_ends_and_full_table_reuses_the_oldest_entry() -> None:
    now = [100.0]
    ledger = Ledger(budget=1.0, window=60.0, slots=16, clock=lambda: now[0])
    ledger.charge("a", 2.0)
    assert ledger.retry_after("a") == pytest.approx(60.0)
    now[0] += 30
    assert ledger.retry_after("a") == pytest.approx(30.0)
    for n in range(40):
        ledger.charge(f"client-{n}", 0.1)
    now[0] += 31
    assert ledger.retry_after("a") == 0


def test_client_address_takes_the_last_proxy_entry() -> None:
    headers = {"x-forwarded-for": "6.6.6.6, 10.1.2.3"}
    assert client_address("127.0.0.1", headers, "X-Forwarded-For") == "10.1.2.3"
    assert client_address("127.0.0.1", headers, "") == "127.0.0.1"
    assert client_address(None, {}, "X-Forwarded-For") == "unknown"
