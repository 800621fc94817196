"""The one interface between the web app and whatever holds the triples.

The embedded default is an Oxigraph store opened from `dist/`; a remote SPARQL 1.1 store can
stand in behind the same interface. Everything the app asks of a store goes through
`QueryStore.query`, so limits, timeouts and caching apply to pages and the endpoint alike.

The safety analysis of a query (`analyze_query`) lives here too, because it is a property of the
service, not of one store: whichever store answers, no update runs and no SERVICE leaves the
dataset unless allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from server.stores.query_analysis import QueryPlan, plan_query
from server.stores.vendor_extensions import vendor_extension

if TYPE_CHECKING:
    from rdflib.term import Node

# rdflib (0.4 s to import) is imported on first use only: query worker processes import this
# module for its exception types and must start fast.

UPDATE_REFUSED = "SPARQL Update is not supported by this read-only endpoint"
MEDIA_JSON = "application/sparql-results+json"


@dataclass(frozen=True)
class DatasetSpec:
    """The RDF dataset of one request (SPARQL protocol `default-graph-uri` / `named-graph-uri`).

    Empty lists mean the service default: the union of all named graphs as default graph and
    every named graph available to `GRAPH`.
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return not self.default_graphs and not self.named_graphs


@dataclass(frozen=True)
class QueryResult:
    """A serialized answer, ready to send."""

    body: bytes
    media_type: str
    # Rows in the answer (SELECT), triples (CONSTRUCT/DESCRIBE), 1 for ASK.
    count: int = 0
    # True when the server's row cap cut the result; the app must say so in a header.
    truncated: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)


class QueryStore(Protocol):
    """What the app needs of a store."""

    @property
    def version(self) -> str:
        """Identifies the dataset's content (changes with every build); used in ETags."""
        ...

    def query(
        self,
        text: str,
        dataset: DatasetSpec,
        media_type: str,
        timeout: float,
        *,
        graph_media_type: str = "",
        base_iri: str | None = None,
    ) -> QueryResult:
        """Runs a read-only SPARQL query and serializes its answer.

        `media_type` is the answer's type for SELECT/ASK, `graph_media_type` for
        CONSTRUCT/DESCRIBE (the caller may not know the query form); an empty string means the
        client accepts no type of that kind (`NotAcceptable` if the query needs it).
        `base_iri` resolves the query's relative IRIs (None: a relative IRI is an error).
        Raises `QuerySyntaxError`, `QueryRefused`, `QueryTimeout`, `NotAcceptable` or
        `StoreUnavailable`.
        """
        ...


class StoreError(Exception):
    """Base of the errors a store reports to the app (each maps to one HTTP status)."""


class QuerySyntaxError(StoreError):
    """The query does not parse (400); the message gives line and column where known."""


class QueryRefused(StoreError):
    """The query asks for something the service does not allow (400/403)."""


class UpdateRefused(QueryRefused):
    """The text is a SPARQL Update (the service is read-only)."""


class QueryTimeout(StoreError):
    """The query ran past its time limit and was stopped (503)."""


class StoreUnavailable(StoreError):
    """The store could not answer (503)."""


class StoreFailed(StoreUnavailable):
    """The store was reached but answered with an error of its own, not of the query (503,
    as an unavailable store; told apart in the log and the metrics)."""


class NotAcceptable(StoreError):
    """The client accepts no media type this query's answer can be written in (406)."""


def analyze_query(text: str, allowed_services: tuple[str, ...] = ()) -> QueryPlan:
    """Refuses updates, SERVICE calls not allowed and a store's own extensions (bif:, sql:,
    pragmas; server/stores/vendor_extensions.py); returns what the store needs to know.

    Raises `UpdateRefused` or `QueryRefused`. Syntax errors are left to the store's parser.
    """
    plan = plan_query(text)
    if plan.is_update:
        raise UpdateRefused(UPDATE_REFUSED)
    extension = vendor_extension(text)
    if extension is not None:
        raise QueryRefused(extension)
    for service in plan.services:
        if service not in allowed_services:
            raise QueryRefused(
                f"SERVICE {service} is not allowed: this endpoint answers from its own dataset "
                "only (no federated queries unless the operator allow-lists the service)"
            )
    return plan


def syntax_message(store_message: str, query: str = "") -> str:
    """Oxigraph's `error at L:C: ...` as a sentence a person can act on."""
    from server.stores.syntax_messages import plain_syntax_message

    return plain_syntax_message(store_message, query)


def _term(binding: dict[str, Any]) -> Node:
    from rdflib.term import BNode, Literal, URIRef

    kind = binding.get("type")
    value = binding.get("value", "")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    datatype = binding.get("datatype")
    return Literal(value, lang=binding.get("xml:lang"), datatype=datatype)


def select(store: QueryStore, query: str, timeout: float = 5.0) -> list[dict[str, Node]]:
    """Runs a SELECT on the store for the app's own pages: rows as {variable: rdflib term}."""
    result = store.query(query, DatasetSpec(), MEDIA_JSON, timeout)
    document = json.loads(result.body)
    rows = document.get("results", {}).get("bindings", [])
    return [{name: _term(value) for name, value in row.items()} for row in rows]


__all__ = [
    "DatasetSpec",
    "NotAcceptable",
    "QueryPlan",
    "QueryRefused",
    "QueryResult",
    "QueryStore",
    "QuerySyntaxError",
    "QueryTimeout",
    "StoreError",
    "StoreFailed",
    "StoreUnavailable",
    "UpdateRefused",
    "analyze_query",
    "select",
]
