"""The `inferred` graph: the OWL 2 RL closure of everything asserted, minus the asserted triples
and minus what helps no reader.

Two reasoners give the same `inferred` graph (a test runs both on the real sources):

- `rules` (the default) compiles the schema axioms the graph states (subClassOf,
  equivalentClass, subPropertyOf, equivalentProperty, domain, range, inverseOf, Symmetric- and
  TransitiveProperty, disjointWith, propertyDisjointWith, Irreflexive- and AsymmetricProperty)
  into lookup tables, closes them once (the scm-* rules), then derives instance triples from a
  worklist, each triple handled once: linear in the size of the graph. Terms are interned as
  integers so the fixpoint never hashes an rdflib term twice.
- `owlrl` runs owlrl's OWL-RL semantics as is. It re-applies every rule to every triple in each
  cycle, which grows with (triples x cycles) and takes minutes from 100k triples on
  (`bench/scale.py`, `docs/scale.md`). It stays as the reference, and `rules` hands over to it
  when the graph uses an OWL construct the rules do not compile (sameAs, restrictions, property
  chains, keys, functional properties, n-ary disjointness ...), so the answer is never wrong.

Both follow owlrl's reading of OWL-RL, including its one-time datatype rules (typing of literals,
datatype subsumption and disjointness) and its error messages. Axiomatic and datatype axiom
triples are not requested, and what OWL-RL adds anyway for every resource is dropped:

- reflexive `owl:sameAs`, `owl:equivalentClass`, `owl:equivalentProperty`, `rdfs:subClassOf`,
  `rdfs:subPropertyOf`; `rdfs:subClassOf|rdfs:domain|rdfs:range owl:Thing` and
  `owl:Nothing rdfs:subClassOf …`;
- `rdf:type owl:Thing` and `rdf:type rdfs:Resource`;
- triples whose subject is a literal, and triples with a blank node the reasoner made up;
- statements about the RDF, RDFS, OWL and XSD vocabularies themselves.

An inconsistency (a member of two disjoint classes, a literal not valid for its datatype, a
member of owl:Nothing, a misused irreflexive, asymmetric or disjoint property) becomes a
`Problem`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal as Choice

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from graph.dumps import prefixed_graph
from graph.namespaces import OWL, RDF, RDFS, XSD, graph_iri
from graph.problems import Problem

Reasoner = Choice["rules", "owlrl"]
REASONERS: tuple[Reasoner, ...] = ("rules", "owlrl")
Triple = tuple[Node, Node, Node]
Fact = tuple[int, int, int]

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

# OWL terms whose rules (equality, restrictions, lists, keys, cardinality, negative assertions)
# the `rules` reasoner does not compile. None of them can be derived from a graph that lacks
# them, so finding none among the asserted terms is enough to know the rules are complete.
UNCOMPILED = frozenset(
    {
        OWL.sameAs,
        OWL.differentFrom,
        OWL.AllDifferent,
        OWL.members,
        OWL.distinctMembers,
        OWL.AllDisjointClasses,
        OWL.AllDisjointProperties,
        OWL.FunctionalProperty,
        OWL.InverseFunctionalProperty,
        OWL.propertyChainAxiom,
        OWL.hasKey,
        OWL.intersectionOf,
        OWL.unionOf,
        OWL.complementOf,
        OWL.oneOf,
        OWL.onProperty,
        OWL.onClass,
        OWL.someValuesFrom,
        OWL.allValuesFrom,
        OWL.hasValue,
        OWL.maxCardinality,
        OWL.maxQualifiedCardinality,
        OWL.sourceIndividual,
        OWL.assertionProperty,
        OWL.targetIndividual,
        OWL.targetValue,
    }
)

# The terms the compiled rules read, in the order `_Vocab` names them.
_VOCAB_TERMS = (
    RDF.type,
    RDFS.subClassOf,
    OWL.equivalentClass,
    RDFS.subPropertyOf,
    OWL.equivalentProperty,
    RDFS.domain,
    RDFS.range,
    OWL.inverseOf,
    OWL.disjointWith,
    OWL.propertyDisjointWith,
    OWL.Class,
    OWL.Thing,
    OWL.Nothing,
    OWL.TransitiveProperty,
    OWL.SymmetricProperty,
    OWL.IrreflexiveProperty,
    OWL.AsymmetricProperty,
)


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


def closure(asserted: Graph, reasoner: Reasoner = "rules") -> tuple[Graph, list[Problem]]:
    """(the `inferred` graph, inconsistencies) of the asserted union.

    `asserted` is left untouched. `reasoner` picks the method (see the module's notes); both
    give the same answer.
    """
    if reasoner not in REASONERS:
        raise ValueError(f"unknown reasoner {reasoner!r}; expected one of {', '.join(REASONERS)}")
    entailed = rule_entailments(asserted) if reasoner == "rules" else None
    if entailed is None:
        added, problems = owlrl_entailments(asserted)
        bnodes = {term for triple in asserted for term in triple if isinstance(term, BNode)}
        entailed = [triple for triple in added if not is_noise(triple, bnodes)], problems
    inferred = prefixed_graph(graph_iri("inferred"))
    for triple in entailed[0]:
        inferred.add(triple)
    return inferred, sorted(set(entailed[1]))


def uncompiled_terms(asserted: Graph) -> list[URIRef]:
    """The OWL terms of `asserted` that only the owlrl reasoner handles."""
    found = {term for triple in asserted for term in triple if term in UNCOMPILED}
    return sorted(term for term in found if isinstance(term, URIRef))


def _owlrl_problem(message: str) -> Problem:
    return Problem("owl-rl", "-", " ".join(message.split()))


def owlrl_entailments(asserted: Graph) -> tuple[list[Triple], list[Problem]]:
    """Every triple owlrl adds to `asserted` (noise included), and its error messages."""
    import owlrl

    work = Graph()
    work += asserted
    owlrl.DeductiveClosure(
        owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(work)
    notes = set(work.subjects(RDF.type, OWLRL_ERRORS.ErrorMessage))
    problems = [
        _owlrl_problem(str(message))
        for note in notes
        for message in work.objects(note, OWLRL_ERRORS.error)
    ]
    added = [triple for triple in work if triple not in asserted and triple[0] not in notes]
    return added, problems


class _Codes:
    """Terms interned as integers, in both directions."""

    def __init__(self) -> None:
        self.of: dict[Node, int] = {}
        self.terms: list[Node] = []

    def code(self, term: Node) -> int:
        found = self.of.get(term)
        if found is None:
            found = self.of[term] = len(self.terms)
            self.terms.append(term)
        return found

    def fact(self, triple: Triple) -> Fact:
        return self.code(triple[0]), self.code(triple[1]), self.code(triple[2])


@dataclass(frozen=True)
class _Vocab:
    """The integer codes of the terms the rules read."""

    type: int
    sub_class: int
    equivalent_class: int
    sub_property: int
    equivalent_property: int
    domain: int
    range: int
    inverse_of: int
    disjoint_with: int
    property_disjoint_with: int
    owl_class: int
    thing: int
    nothing: int
    transitive: int
    symmetric: int
    irreflexive: int
    asymmetric: int

    @classmethod
    def of(cls, codes: _Codes) -> _Vocab:
        return cls(*(codes.code(term) for term in _VOCAB_TERMS))

    def schema_predicates(self) -> frozenset[int]:
        return frozenset(
            {
                self.sub_class,
                self.equivalent_class,
                self.sub_property,
                self.equivalent_property,
                self.domain,
                self.range,
                self.inverse_of,
                self.disjoint_with,
                self.property_disjoint_with,
            }
        )

    def schema_classes(self) -> frozenset[int]:
        return frozenset(
            {self.owl_class, self.transitive, self.symmetric, self.irreflexive, self.asymmetric}
        )


def _strict_closure(edges: dict[int, set[int]]) -> dict[int, frozenset[int]]:
    """Every node reachable from each node by one or more edges, the node itself left out
    (OWL-RL's scm-sco/scm-spo never state a class or property below itself)."""
    reached: dict[int, frozenset[int]] = {}
    for start in edges:
        seen: set[int] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, ()))
        seen.discard(start)
        reached[start] = frozenset(seen)
    return reached


@dataclass
class _Schema:
    """The schema axioms, closed under OWL-RL's scm-* rules, as lookup tables."""

    supers_of_class: dict[int, frozenset[int]]
    supers_of_property: dict[int, frozenset[int]]
    domains: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    ranges: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    inverses: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    characteristics: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    disjoint_classes: set[tuple[int, int]] = field(default_factory=set)
    disjoint_properties: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def compile(cls, axioms: Iterable[Fact], v: _Vocab) -> _Schema:
        axioms = list(axioms)
        class_edges: dict[int, set[int]] = defaultdict(set)
        property_edges: dict[int, set[int]] = defaultdict(set)
        for s, p, o in axioms:
            if p == v.sub_class and s != o:
                class_edges[s].add(o)
            elif p == v.equivalent_class and s != o:
                class_edges[s].add(o)
                class_edges[o].add(s)
            elif p == v.type and o == v.owl_class:
                # scm-cls: every class lies between owl:Nothing and owl:Thing.
                for sub, sup in ((s, v.thing), (v.nothing, s)):
                    if sub != sup:
                        class_edges[sub].add(sup)
            elif p == v.sub_property and s != o:
                property_edges[s].add(o)
            elif p == v.equivalent_property and s != o:
                property_edges[s].add(o)
                property_edges[o].add(s)
        schema = cls(_strict_closure(class_edges), _strict_closure(property_edges))
        subs_of_property: dict[int, set[int]] = defaultdict(set)
        for sub, sups in schema.supers_of_property.items():
            for sup in sups:
                subs_of_property[sup].add(sub)
        for s, p, o in axioms:
            if p in (v.domain, v.range):
                table = schema.domains if p == v.domain else schema.ranges
                # scm-dom1/2, scm-rng1/2: down the property tree, up the class tree.
                classes = {o, *schema.supers_of_class.get(o, ())}
                for prop in (s, *subs_of_property.get(s, ())):
                    table[prop] |= classes
            elif p == v.inverse_of:
                schema.inverses[s].add(o)
                schema.inverses[o].add(s)
            elif p == v.type:
                schema.characteristics[o].add(s)
            elif p == v.disjoint_with:
                schema.disjoint_classes.add((s, o))
            elif p == v.property_disjoint_with:
                schema.disjoint_properties.add((s, o))
        return schema

    def facts(self, v: _Vocab) -> set[Fact]:
        """The schema triples the scm-* rules add."""
        added: set[Fact] = set()
        for tree, sub, same in (
            (self.supers_of_class, v.sub_class, v.equivalent_class),
            (self.supers_of_property, v.sub_property, v.equivalent_property),
        ):
            for node, sups in tree.items():
                for sup in sups:
                    added.add((node, sub, sup))
                    if node in tree.get(sup, ()):
                        added.add((node, same, sup))
        for table, predicate in ((self.domains, v.domain), (self.ranges, v.range)):
            for prop, classes in table.items():
                added.update((prop, predicate, c) for c in classes)
        return added


class _Fixpoint:
    """Instance rules (cax-sco, cax-eqc, prp-dom, prp-rng, prp-spo1, prp-eqp, prp-inv, prp-symp,
    prp-trp) run from a worklist: every triple, asserted or derived, passes through once."""

    def __init__(self, facts: set[Fact], v: _Vocab) -> None:
        self.v = v
        self.facts = facts
        self.derived: set[Fact] = set()
        self.schema_predicates = v.schema_predicates()
        self.schema_classes = v.schema_classes()
        self.axioms = {fact for fact in facts if self._is_axiom(fact)}
        self.axioms_grew = False
        self.pending: list[Fact] = []

    def _is_axiom(self, fact: Fact) -> bool:
        _, p, o = fact
        return p in self.schema_predicates or (p == self.v.type and o in self.schema_classes)

    def add(self, fact: Fact) -> None:
        if fact not in self.facts:
            self.facts.add(fact)
            self.derived.add(fact)
            self.pending.append(fact)
            if self._is_axiom(fact):
                self.axioms.add(fact)
                self.axioms_grew = True

    def run(self) -> set[Fact]:
        """The derived triples; schema axioms that instance rules derive trigger another round."""
        self.pending = list(self.facts)
        while True:
            schema = _Schema.compile(self.axioms, self.v)
            for fact in schema.facts(self.v):
                self.add(fact)
            self.axioms_grew = False
            self._drain(schema)
            if not self.axioms_grew:
                return self.derived
            self.pending = list(self.facts)

    def _drain(self, schema: _Schema) -> None:
        v, add, pending = self.v, self.add, self.pending
        rdf_type = v.type
        class_supers = schema.supers_of_class
        property_supers = schema.supers_of_property
        domains, ranges, inverses = schema.domains, schema.ranges, schema.inverses
        symmetric = schema.characteristics.get(v.symmetric, set())
        transitive = schema.characteristics.get(v.transitive, set())
        forward: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        backward: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        while pending:
            s, p, o = pending.pop()
            if p == rdf_type:
                for c in class_supers.get(o, ()):
                    add((s, rdf_type, c))
            for q in property_supers.get(p, ()):
                add((s, q, o))
            for c in domains.get(p, ()):
                add((s, rdf_type, c))
            for c in ranges.get(p, ()):
                add((o, rdf_type, c))
            for q in inverses.get(p, ()):
                add((o, q, s))
            if p in symmetric:
                add((o, p, s))
            if p in transitive:
                forward[p][s].add(o)
                backward[p][o].add(s)
                for z in list(forward[p].get(o, ())):
                    add((s, p, z))
                for w in list(backward[p].get(s, ())):
                    add((w, p, o))


def _inconsistencies(facts: set[Fact], schema: _Schema, v: _Vocab, terms: list[Node]) -> list[str]:
    """owlrl's messages for cls-nothing2, cax-dw, prp-irp, prp-asyp and prp-pdw."""
    watched_classes = {v.nothing} | {c for pair in schema.disjoint_classes for c in pair}
    irreflexive = schema.characteristics.get(v.irreflexive, set())
    asymmetric = schema.characteristics.get(v.asymmetric, set())
    watched_properties = irreflexive | asymmetric
    watched_properties |= {q for pair in schema.disjoint_properties for q in pair}
    members: dict[int, set[int]] = defaultdict(set)
    pairs: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for s, p, o in facts:
        if p == v.type and o in watched_classes:
            members[o].add(s)
        if p in watched_properties:
            pairs[p].add((s, o))
    t = terms
    messages = [f"{t[x]} is defined of type 'Nothing'" for x in members[v.nothing]]
    for c1, c2 in schema.disjoint_classes:
        messages += [
            f"Disjoint classes {t[c1]} and {t[c2]} have a common individual {t[x]}"
            for x in members[c1] & members[c2]
        ]
    for p in irreflexive:
        messages += [
            f"Irreflexive property used on {t[x]} with {t[p]}" for x, y in pairs[p] if x == y
        ]
    for p in asymmetric:
        messages += [
            f"Erroneous usage of asymmetric property {t[p]} on {t[x]} and {t[y]}"
            for x, y in pairs[p]
            if (y, x) in pairs[p]
        ]
    for p1, p2 in schema.disjoint_properties:
        messages += [
            f"Erroneous usage of disjoint properties {t[p1]} and {t[p2]} on {t[x]} and {t[y]}"
            for x, y in pairs[p1] & pairs[p2]
        ]
    return messages


def _one_time_facts(codes: _Codes, facts: set[Fact], v: _Vocab) -> tuple[set[Fact], list[str]]:
    """owlrl's one-time rules: cls-thing, cls-nothing1, prp-ap, dt-type1, dt-type2 with datatype
    subsumption and disjointness, and dt-not-type (a literal invalid for its datatype).

    Literals are read from the interned terms, each once; as in any parsed graph they are
    objects."""
    from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from owlrl.OWLRL import OWLRL_Annotation_properties
    from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes

    added: set[Triple] = {(OWL.Thing, RDF.type, OWL.Class), (OWL.Nothing, RDF.type, OWL.Class)}
    added |= {(an, RDF.type, OWL.AnnotationProperty) for an in OWLRL_Annotation_properties}
    added |= {(dt, RDF.type, RDFS.Datatype) for dt in OWL_RL_Datatypes}
    datatyped: dict[Node, Node] = {
        term: term.datatype
        for term in codes.terms
        if isinstance(term, Literal)
        and term.datatype is not None
        and term.datatype in OWL_RL_Datatypes
    }
    datatypes = {codes.of[dt] for dt in OWL_RL_Datatypes if dt in codes.of}
    explicit: dict[Node, set[Node]] = defaultdict(set)
    used: set[Node] = set(datatyped.values())
    for s, p, o in facts:
        if p == v.type and o in datatypes:
            used.add(codes.terms[o])
            if codes.terms[s] not in datatyped:
                explicit[codes.terms[s]].add(codes.terms[o])
    messages = []
    for literal, datatype in datatyped.items():
        added.add((literal, RDF.type, datatype))
        try:
            AltXSDToPYTHON.get(datatype, str)(str(literal))
        except ValueError:
            messages.append(
                f"Lexical value of the literal '{literal}' does not match its datatype ({datatype})"
            )
    pairs = [(r, dt) for r, dts in explicit.items() for dt in dts] + list(datatyped.items())
    for resource, datatype in pairs:
        for wider in OWL_Datatype_Subsumptions.get(datatype, ()):
            added |= {(resource, RDF.type, wider), (wider, RDF.type, RDFS.Datatype)}
            used.add(wider)
    added |= {(dt, RDF.type, RDFS.Datatype) for dts in explicit.values() for dt in dts}
    added |= {(a, p, b) for a, p, b in OWLRL_Datatypes_Disjointness if a in used and b in used}
    return {codes.fact(triple) for triple in added}, messages


def _visible(derived: Iterable[Fact], codes: _Codes, v: _Vocab) -> list[Triple]:
    """`is_noise` on codes (each term judged once), then back to terms. The rules invent no
    blank node, so every blank node they yield was asserted."""
    trivial_types = {codes.code(OWL.Thing), codes.code(RDFS.Resource)}
    reflexive = {codes.code(term) for term in _REFLEXIVE_NOISE}
    not_to_thing = {v.sub_class, v.domain, v.range}
    terms = codes.terms
    hidden = {c for c, term in enumerate(terms) if isinstance(term, Literal) or _is_builtin(term)}
    kept: list[Triple] = []
    for s, p, o in derived:
        if (
            s in hidden
            or (p == v.type and o in trivial_types)
            or (s == o and p in reflexive)
            or (o == v.thing and p in not_to_thing)
            or (s == v.nothing and p == v.sub_class)
        ):
            continue
        predicate = terms[p]
        # owlrl never stores a literal predicate and drops blank-node predicates at the end.
        if isinstance(predicate, URIRef):
            kept.append((terms[s], predicate, terms[o]))
    return kept


def rule_entailments(asserted: Graph) -> tuple[list[Triple], list[Problem]] | None:
    """The triples OWL-RL adds to `asserted` that `is_noise` keeps, and the inconsistencies, by
    the compiled rules; None when `asserted` uses a term in `UNCOMPILED`."""
    codes = _Codes()
    v = _Vocab.of(codes)
    # Interning first, in one pass: the rdflib graph is iterated once, never searched.
    fact = codes.fact
    facts = {fact(triple) for triple in asserted}
    if any(term in codes.of for term in UNCOMPILED):
        return None
    extra, messages = _one_time_facts(codes, facts, v)
    fixpoint = _Fixpoint(facts, v)
    for each in extra:
        fixpoint.add(each)
    derived = fixpoint.run()
    schema = _Schema.compile(fixpoint.axioms, v)
    messages += _inconsistencies(fixpoint.facts, schema, v, codes.terms)
    return _visible(derived, codes, v), [_owlrl_problem(message) for message in messages]
