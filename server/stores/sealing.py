"""The store is sealed: a query sees the project's named graphs and nothing else of the store
(and calls none of the store's own extensions: server/stores/vendor_extensions.py).

Decided here from the query's tokens (server/stores/query_analysis.py's lexer): the dataset a
remote store is asked to answer from (`sealed_query`, `within_project`). The protocol's
`default-graph-uri` / `named-graph-uri` should override a query's FROM / FROM NAMED, but
Virtuoso 7.2 merges the two (measured: `FROM <…virtrdf#>` with `default-graph-uri` of the
facts counted 2,504 triples, the system graph's 2,479 plus the facts' 25). So a query's dataset
clauses are taken out of its text and sent as protocol parameters instead, keeping only graphs
under the project's graph namespace; a part of the dataset left empty is named by
`EMPTY_GRAPH`, a graph no build has, because a store given no `default-graph-uri` uses a
default graph of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from graph.namespaces import GRAPH
from server.stores.query_analysis import TOKEN
from server.stores.store import DatasetSpec
from server.stores.vendor_extensions import unescape

GRAPH_NAMESPACE = str(GRAPH)
# Names the empty part of a dataset; `dcdr build` never writes a graph of this name.
EMPTY_GRAPH = GRAPH_NAMESPACE + "sealed-empty"


@dataclass(frozen=True)
class SealedQuery:
    """A query's text without its dataset clauses, and the project's graphs they named."""

    text: str
    # None when the query has no FROM / FROM NAMED (the service's default dataset applies).
    dataset: DatasetSpec | None


def sealed_query(text: str) -> SealedQuery:
    """Takes FROM / FROM NAMED out of the query, keeping the project's graphs they named."""
    if "from" not in text.lower():
        return SealedQuery(text, None)
    prefixes: dict[str, str] = {}
    base = ""
    pieces: list[str] = []
    kept_from = 0
    default: list[str] = []
    named: list[str] = []
    found = False
    matches = [m for m in TOKEN.finditer(text) if m.group(1)]
    index = 0
    while index < len(matches):
        word = matches[index].group(1)
        upper = word.upper()
        if upper == "BASE" and index + 1 < len(matches):
            base = _iri(matches[index + 1].group(1), prefixes, base) or base
        elif upper == "PREFIX" and index + 2 < len(matches):
            name, iri = matches[index + 1].group(1), matches[index + 2].group(1)
            if name.endswith(":") and iri.startswith("<"):
                prefixes[name[:-1]] = _iri(iri, prefixes, base) or ""
        elif upper == "FROM" and index + 1 < len(matches):
            found = True
            is_named = matches[index + 1].group(1).upper() == "NAMED"
            target = index + 2 if is_named else index + 1
            if target >= len(matches):
                break
            iri = _iri(matches[target].group(1), prefixes, base)
            if iri is not None and iri.startswith(GRAPH_NAMESPACE):
                (named if is_named else default).append(iri)
            pieces.append(text[kept_from : matches[index].start(1)])
            kept_from = matches[target].end(1)
            index = target + 1
            continue
        index += 1
    if not found:
        return SealedQuery(text, None)
    pieces.append(text[kept_from:])
    return SealedQuery(" ".join(pieces), DatasetSpec(tuple(default), tuple(named)))


def _iri(token: str, prefixes: dict[str, str], base: str) -> str | None:
    """The IRI a token names (a relative IRI resolved against BASE), or None."""
    if token.startswith("<") and token.endswith(">"):
        iri = unescape(token[1:-1])
        return urljoin(base, iri) if base else iri
    prefix, colon, local = token.partition(":")
    if colon and prefix in prefixes:
        return prefixes[prefix] + local
    return None


def within_project(dataset: DatasetSpec) -> DatasetSpec:
    """The dataset with every graph outside the project's graph namespace left out."""
    return DatasetSpec(
        tuple(g for g in dataset.default_graphs if g.startswith(GRAPH_NAMESPACE)),
        tuple(g for g in dataset.named_graphs if g.startswith(GRAPH_NAMESPACE)),
    )


def dataset_parameters(dataset: DatasetSpec) -> list[tuple[str, str]]:
    """Protocol parameters naming exactly this dataset (`EMPTY_GRAPH` for an empty part)."""
    default = dataset.default_graphs or (EMPTY_GRAPH,)
    named = dataset.named_graphs or (EMPTY_GRAPH,)
    return [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
