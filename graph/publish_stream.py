"""The dist's quads as a stream of bounded batches, for a publisher whose memory does not grow
with the data.

`dcdr.nq` is read quad by quad (pyoxigraph's parser is lazy); at most `batch_triples` triples
wait, over all graphs, before they are handed on (one batch per graph) and forgotten. A triple
with a blank node is held back until its graph's end of file instead: every request to a store
makes fresh blank nodes, so a graph's blank-node triples must travel in one request to stay
connected. They are the shapes' property shapes and the ontology's restrictions, a few thousand
triples whatever the size of the data (bench/publish.py measures the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

# Triples per request: small enough for a store's request limit and the publisher's memory,
# large enough that a request's fixed cost stays small (bench/publish.py).
BATCH_TRIPLES = 20_000

Rename = Callable[[ox.Triple], ox.Triple]


class StreamError(Exception):
    """The dist cannot be streamed (missing, unparsable, a quad outside every named graph)."""


@dataclass(frozen=True)
class Batch:
    """Triples of one named graph, to be added to what was sent of it before."""

    graph: str
    triples: list[ox.Triple]


@dataclass
class GraphTally:
    """Triples sent per named graph (the store is counted against it afterwards)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, graph: str, n: int) -> None:
        self.counts[graph] = self.counts.get(graph, 0) + n


def dump_path(dist: Path) -> tuple[Path, ox.RdfFormat]:
    """The dump a publisher streams: `dcdr.nq` (one quad per line), else `dcdr.trig`."""
    for name, rdf_format in (("dcdr.nq", ox.RdfFormat.N_QUADS), ("dcdr.trig", ox.RdfFormat.TRIG)):
        if (dist / name).is_file():
            return dist / name, rdf_format
    raise StreamError(f"{dist} holds neither dcdr.nq nor dcdr.trig; run `dcdr build` first")


def _has_blank_node(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def stream_batches(
    dist: Path,
    tally: GraphTally,
    batch_triples: int = BATCH_TRIPLES,
    rename: Rename | None = None,
) -> Iterator[Batch]:
    """Batches of at most `batch_triples` triples, never more than that many waiting in all
    (blank-node triples: one batch per graph at the end), counting what is yielded in
    `tally`."""
    path, rdf_format = dump_path(dist)
    pending: dict[str, list[ox.Triple]] = {}
    held: dict[str, list[ox.Triple]] = {}
    waiting = 0
    try:
        for quad in ox.parse(path=path, format=rdf_format):
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise StreamError(f"{path}: a triple lies outside every named graph: {quad}")
            graph = quad.graph_name.value
            triple = quad.triple if rename is None else rename(quad.triple)
            if _has_blank_node(triple):
                held.setdefault(graph, []).append(triple)
                continue
            pending.setdefault(graph, []).append(triple)
            waiting += 1
            if waiting >= batch_triples:
                # The bound is on all graphs together: each waiting graph goes out now.
                for name, triples in pending.items():
                    if triples:
                        tally.add(name, len(triples))
                        yield Batch(name, triples)
                pending, waiting = {}, 0
    except SyntaxError as error:
        raise StreamError(f"{path} does not parse: {error}") from None
    for source in (pending, held):
        for graph, triples in sorted(source.items()):
            if triples:
                tally.add(graph, len(triples))
                yield Batch(graph, triples)
