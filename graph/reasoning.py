"""The `inferred` graph: the OWL 2 RL closure (owlrl) of everything asserted, minus the asserted
triples and minus what helps no reader.

owlrl's full OWL-RL semantics is used as is (no hand-written rules): on this graph's size it
stays well inside the build's time budget (see `bench/build.py`). Axiomatic and datatype
triples are not requested, and what owlrl adds anyway for every resource is dropped:

- reflexive `owl:sameAs`, `owl:equivalentClass`, `owl:equivalentProperty`, `rdfs:subClassOf`,
  `rdfs:subPropertyOf`; `rdfs:subClassOf|rdfs:domain|rdfs:range owl:Thing` and
  `owl:Nothing rdfs:subClassOf …`;
- `rdf:type owl:Thing` and `rdf:type rdfs:Resource`;
- triples whose subject is a literal, and triples with a blank node owlrl made up;
- statements about the RDF, RDFS, OWL and XSD vocabularies themselves.

An inconsistency owlrl detects (e.g. a member of two disjoint classes) becomes a `Problem`.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from graph.dumps import prefixed_graph
from graph.namespaces import OWL, RDF, RDFS, XSD, graph_iri
from graph.problems import Problem

# Where owlrl writes its inconsistency messages (its own choice of vocabulary).
OWLRL_ERRORS = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")

_REFLEXIVE_NOISE = {
    OWL.sameAs,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    RDFS.subClassOf,
    RDFS.subPropertyOf,
}
_TRIVIAL_TYPES = {OWL.Thing, RDFS.Resource}
_BUILTIN_SPACES = tuple(str(ns) for ns in (RDF, RDFS, OWL, XSD))


def _is_builtin(term: Node) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(_BUILTIN_SPACES)


def is_noise(triple: tuple[Node, Node, Node], asserted_bnodes: set[BNode]) -> bool:
    """True for an inferred triple that tells no reader anything."""
    s, p, o = triple
    if isinstance(s, Literal) or _is_builtin(s):
        return True
    if any(isinstance(term, BNode) and term not in asserted_bnodes for term in triple):
        return True
    if p in _REFLEXIVE_NOISE and s == o:
        return True
    if p == RDF.type and o in _TRIVIAL_TYPES:
        return True
    if p in (RDFS.subClassOf, RDFS.domain, RDFS.range) and o == OWL.Thing:
        return True
    return p == RDFS.subClassOf and s == OWL.Nothing


def closure(asserted: Graph) -> tuple[Graph, list[Problem]]:
    """(the `inferred` graph, inconsistencies) of the asserted union.

    `asserted` is left untouched; the closure runs on a copy.
    """
    import owlrl

    work = Graph()
    work += asserted
    owlrl.DeductiveClosure(
        owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(work)
    problems = [
        Problem("owl-rl", "-", " ".join(str(message).split()))
        for note in work.subjects(RDF.type, OWLRL_ERRORS.ErrorMessage)
        for message in work.objects(note, OWLRL_ERRORS.error)
    ]
    asserted_bnodes = {term for triple in asserted for term in triple if isinstance(term, BNode)}
    inferred = prefixed_graph(graph_iri("inferred"))
    for triple in work:
        if triple not in asserted and not is_noise(triple, asserted_bnodes):
            inferred.add(triple)
    return inferred, sorted(problems)
