"""server/stores/row_cap.py: the rows kept under the cap are written exactly as pyoxigraph writes
the whole answer (every kind of term, in every results format), and reading stops at the cap."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from server.stores.row_cap import capped_solutions

XSD = "http://www.w3.org/2001/XMLSchema#"
QUERY = "SELECT ?s ?o ?missing WHERE { ?s ?p ?o } ORDER BY STR(?o)"
FORMATS = [
    ox.QueryResultsFormat.JSON,
    ox.QueryResultsFormat.XML,
    ox.QueryResultsFormat.CSV,
    ox.QueryResultsFormat.TSV,
]


def _store() -> ox.Store:
    store = ox.Store()
    subject, predicate = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    objects: list[ox.NamedNode | ox.BlankNode | ox.Literal] = [
        ox.Literal('tab\tnewline\nquote" backslash\\', language="zh"),
        ox.Literal("3.50", datatype=ox.NamedNode(XSD + "decimal")),
        ox.Literal("plain"),
        ox.NamedNode("http://example.org/o?x=1&y=%3C2%3E"),
        ox.BlankNode("b1"),
    ]
    for obj in objects:
        store.add(ox.Quad(subject, predicate, obj))
    return store


def _solutions() -> ox.QuerySolutions:
    solutions = _store().query(QUERY)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


@pytest.mark.parametrize("results_format", FORMATS, ids=str)
def test_rows_under_the_cap_are_written_as_pyoxigraph_writes_them(
    results_format: ox.QueryResultsFormat,
) -> None:
    body, count, truncated = capped_solutions(_solutions(), results_format, 10)
    whole = _solutions().serialize(format=results_format)
    assert (body, count, truncated) == (whole, 5, False)


def test_reading_stops_one_row_past_the_cap() -> None:
    read = []

    class Counted:
        """Solutions that record how many were taken."""

        def __init__(self, solutions: ox.QuerySolutions) -> None:
            self.variables = solutions.variables
            self._solutions = solutions

        def __iter__(self) -> Counted:
            return self

        def __next__(self) -> ox.QuerySolution:
            read.append(1)
            return next(self._solutions)

    solutions = Counted(_solutions())
    _, count, truncated = capped_solutions(solutions, ox.QueryResultsFormat.JSON, 2)  # type: ignore[arg-type]
    assert (count, truncated, len(read)) == (2, True, 3)
