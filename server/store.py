"""The one interface between the web app and whatever holds the triples.

The embedded default is an Oxigraph store opened from `dist/`; a remote SPARQL 1.1 store can
stand in behind the same interface. Everything the app asks of a store goes through
`QueryStore.query`, so limits, timeouts and caching apply to pages and the endpoint alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class DatasetSpec:
    """The RDF dataset of one request (SPARQL protocol `default-graph-uri` / `named-graph-uri`).

    Empty lists mean the service default: the union of all named graphs as default graph and
    every named graph available to `GRAPH`.
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


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
    ) -> QueryResult:
        """Runs a read-only SPARQL query and serializes its answer as `media_type`.

        Raises `QuerySyntaxError`, `QueryRefused`, `QueryTimeout` or `StoreUnavailable`.
        """
        ...


class StoreError(Exception):
    """Base of the errors a store reports to the app (each maps to one HTTP status)."""


class QuerySyntaxError(StoreError):
    """The query does not parse (400); the message gives line and column where known."""


class QueryRefused(StoreError):
    """The query asks for something the service does not allow (400/403)."""


class QueryTimeout(StoreError):
    """The query ran past its time limit and was stopped (503)."""


class StoreUnavailable(StoreError):
    """The store could not answer (503)."""
