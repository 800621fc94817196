"""The version of a remote store's content when nobody named it (no `DCDR_STORE_VERSION`, no
live-build pointer): every ETag holds it, so two different contents must never share one.

The earlier fingerprint hashed each graph's triple count alone, so a store whose figures were
corrected (same number of triples) kept its version and a `304` confirmed an old answer, and
two stores holding different builds of one size reported one version. Here each graph's triples
are fetched (`CONSTRUCT`, N-Triples) and hashed as a multiset: the sum of each triple's SHA-256
modulo 2^256 is the same in any order (stores stream in their own order) and changes with any
triple. Blank nodes are hashed by position only (`_:b`), since their labels differ from one
answer to the next; two graphs that differ only in how blank nodes are shared would collide.
The count from `COUNT(*)` is hashed too: a store that cut the `CONSTRUCT` short (Virtuoso's
`ResultSetMaxRows`) still changes the version when the count does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

import pyoxigraph as ox

# (query, Accept, timeout) -> (body, media type answered)
Post = Callable[[str, str, float], tuple[bytes, str]]

_TRIPLES_ACCEPT = "application/n-triples, text/turtle;q=0.9"
_MODULUS = 1 << 256


def multiset_digest(triples: Iterable[ox.Triple]) -> tuple[int, int]:
    """(number of triples, order-free digest) of `triples`."""
    total = 0
    count = 0
    for triple in triples:
        terms = (triple.subject, triple.predicate, triple.object)
        line = " ".join("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in terms)
        total = (total + int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")) % _MODULUS
        count += 1
    return count, total


def content_fingerprint(graphs: Iterable[str], post: Post, timeout: float = 120.0) -> str:
    """`remote-` and 16 hex digits naming the content of `graphs` as the store holds it."""
    lines = []
    for graph in graphs:
        counted, _ = post(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            "application/sparql-results+json",
            timeout,
        )
        count = json.loads(counted)["results"]["bindings"][0]["n"]["value"]
        body, answered = post(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            _TRIPLES_ACCEPT,
            timeout,
        )
        rdf_format = ox.RdfFormat.from_media_type(answered) or ox.RdfFormat.N_TRIPLES
        seen, digest = multiset_digest(q.triple for q in ox.parse(body, rdf_format))
        lines.append(f"{graph} {count} {seen} {digest:064x}")
    return "remote-" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
