"""JSON-LD of the linked-data pages, compacted with the project's own `@context`: one term per
prefix of `graph/namespaces.py`, so that `dcdr:Agency` reads as it does in Turtle and SPARQL.

The dumps stay expanded (graph/dumps.py): they are for machines that load the whole dataset,
and an expanded document needs no context to be read.
"""

from __future__ import annotations

from functools import cache

from rdflib import Graph

from graph.namespaces import PREFIXES


@cache
def project_context() -> dict[str, str]:
    """`{"dcdr": "https://w3id.org/dcdr/ontology#", …}` (sorted, so the output is stable)."""
    return {prefix: str(namespace) for prefix, namespace in sorted(PREFIXES.items())}


def jsonld_compacted(graph: Graph) -> bytes:
    """The graph as compact JSON-LD under `project_context()` (rdflib's serializer)."""
    return graph.serialize(
        format="json-ld", context=project_context(), auto_compact=True, encoding="utf-8"
    )
