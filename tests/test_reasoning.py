"""The compiled-rules reasoner against owlrl, the reference: the same `inferred` graph (as sets
of triples) and the same inconsistencies, on the real sources, on hand-written graphs that
exercise each rule and each inconsistency, and on random graphs (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from graph import namespaces as ns
from graph.build import ASSERTED, load_sources, merged
from graph.namespaces import DCDR, DCTERMS, ID, ORG, OWL, RDF, RDFS
from graph.paths import Project
from graph.problems import Problem
from graph.reasoning import closure, rule_entailments, uncompiled_terms

EX = Namespace("http://example.org/")
PREFIXES = """
@prefix : <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

# Graphs that each lean on a few rules; the comment says which.
ENTAILING = {
    "subclass-chain": ":A rdfs:subClassOf :B . :B rdfs:subClassOf :C . :x a :A .",
    "equivalent-classes": (
        ":A owl:equivalentClass :B . :B owl:equivalentClass :C . :C rdfs:subClassOf :D ."
        " :D rdfs:subClassOf :A . :x a :C ."
    ),
    "property-tree-domain-range": (
        ":p rdfs:subPropertyOf :q . :q owl:equivalentProperty :r . :r rdfs:domain :D ;"
        " rdfs:range :R . :D rdfs:subClassOf :E . :x :p :y . :y :p 'text' ."
    ),
    "inverse-transitive-symmetric": (
        ":p a owl:TransitiveProperty ; owl:inverseOf :pi . :pi rdfs:domain :D ."
        " :a :p :b . :b :p :c . :c :p :a . :s a owl:SymmetricProperty . :x :s :y ."
    ),
    # A literal object of a property with an inverse gives the inverse a literal subject; the
    # range of the inverse then types the original subject.
    "literal-through-inverse": ":p owl:inverseOf :q . :q rdfs:range :R . :x :p 'five' .",
    # Schema stated by instance rules: a subproperty of rdfs:subClassOf, of rdf:type, and a
    # range that makes a property transitive.
    "meta-modelling": (
        ":below rdfs:subPropertyOf rdfs:subClassOf . :K :below :L . :x a :K ."
        " :kind rdfs:subPropertyOf rdf:type . :y :kind :K ."
        " :t rdfs:range owl:TransitiveProperty . :z :t :p . :a :p :b . :b :p :c ."
    ),
    "datatypes": ":x :n 5 ; :d 2.5 ; :when '2020-12-31'^^xsd:date . :v a xsd:int .",
    "blank-nodes": "_:b a :A . :A rdfs:subClassOf :B . :p rdfs:domain _:c . :x :p :y .",
}

# Each graph holds one inconsistency; `problem` is a word of the message owlrl writes.
INCONSISTENT = {
    "disjoint-classes": (
        ":A owl:disjointWith :B . :C rdfs:subClassOf :A . :x a :C , :B .",
        "Disjoint classes",
    ),
    "member-of-nothing": (":A rdfs:subClassOf owl:Nothing . :x a :A .", "Nothing"),
    "irreflexive": (":p a owl:IrreflexiveProperty . :q rdfs:subPropertyOf :p . :x :q :x .", "Irr"),
    "asymmetric": (":p a owl:AsymmetricProperty . :x :p :y . :y :p :x .", "asymmetric"),
    "disjoint-properties": (
        ":p owl:propertyDisjointWith :q . :r rdfs:subPropertyOf :q . :x :p :y ; :r :y .",
        "disjoint properties",
    ),
    "ill-typed-literal": (":x :n 'many'^^xsd:integer .", "Lexical value"),
}


def turtle(body: str) -> Graph:
    return Graph().parse(data=PREFIXES + body, format="turtle")


def both(graph: Graph) -> tuple[tuple[Graph, list[Problem]], tuple[Graph, list[Problem]]]:
    return closure(graph, "rules"), closure(graph, "owlrl")


@pytest.fixture(scope="module")
def real_asserted() -> Graph:
    return merged(load_sources(Project.from_env()), ASSERTED)


def test_same_inferred_graph_as_owlrl_on_the_real_sources(real_asserted: Graph) -> None:
    (rules, rule_problems), (reference, reference_problems) = both(real_asserted)
    assert set(rules) == set(reference)
    assert isomorphic(rules, reference)
    assert rule_problems == reference_problems == []
    assert uncompiled_terms(real_asserted) == []


def test_real_inferred_graph_carries_the_alignments(real_asserted: Graph) -> None:
    inferred, _ = closure(real_asserted)
    ndrc = ID["agency/ndrc"]
    assert (ndrc, RDF.type, ORG.Organization) in inferred
    # dcdr:about ⊑ dcterms:subject, applied to every observation.
    observations = set(real_asserted.subjects(RDF.type, DCDR.Observation))
    assert observations
    for observation in observations:
        for about in real_asserted.objects(observation, DCDR.about):
            assert (observation, DCTERMS.subject, about) in inferred
    assert not any(triple in real_asserted for triple in inferred)


@pytest.mark.parametrize("name", sorted(ENTAILING))
def test_rules_entail_what_owlrl_entails(name: str) -> None:
    graph = turtle(ENTAILING[name])
    (rules, rule_problems), (reference, reference_problems) = both(graph)
    assert len(reference) > 0
    assert set(rules) == set(reference)
    assert rule_problems == reference_problems == []


def test_transitive_inverse_and_literal_cases_hold_what_owl_rl_says() -> None:
    inferred, _ = closure(turtle(ENTAILING["inverse-transitive-symmetric"]))
    assert (EX.a, EX.p, EX.a) in inferred  # around the cycle
    assert (EX.a, EX.pi, EX.c) in inferred
    assert (EX.y, EX.s, EX.x) in inferred
    inferred, _ = closure(turtle(ENTAILING["literal-through-inverse"]))
    assert (EX.x, RDF.type, EX.R) in inferred
    assert not any(isinstance(s, Literal) for s, _, _ in inferred)


@pytest.mark.parametrize("name", sorted(INCONSISTENT))
def test_rules_report_each_inconsistency_as_owlrl_does(name: str) -> None:
    body, word = INCONSISTENT[name]
    (_, rule_problems), (_, reference_problems) = both(turtle(body))
    assert rule_problems == reference_problems
    assert rule_problems, "the inconsistency went unreported"
    assert all(problem.rule == "owl-rl" for problem in rule_problems)
    assert any(word in problem.message for problem in rule_problems)


def test_graphs_beyond_the_compiled_rules_go_to_owlrl() -> None:
    graph = turtle(":a owl:sameAs :b . :a :p :c . :p rdfs:domain :D .")
    assert uncompiled_terms(graph) == [OWL.sameAs]
    assert rule_entailments(graph) is None
    (rules, _), (reference, _) = both(graph)
    assert set(rules) == set(reference)
    assert (EX.b, EX.p, EX.c) in rules


def test_asserted_graph_is_left_untouched() -> None:
    graph = turtle(ENTAILING["property-tree-domain-range"])
    before = set(graph)
    closure(graph)
    assert set(graph) == before


def test_unknown_reasoner_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown reasoner 'hermit'"):
        closure(Graph(), "hermit")  # type: ignore[arg-type]


CLASSES = [EX[f"C{i}"] for i in range(4)]
PROPERTIES = [EX[f"p{i}"] for i in range(4)]
INDIVIDUALS = [EX[f"i{i}"] for i in range(4)]
CLASS_AXIOMS = [RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith]
PROPERTY_AXIOMS = [RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf]
PROPERTY_KINDS = [
    OWL.TransitiveProperty,
    OWL.SymmetricProperty,
    OWL.IrreflexiveProperty,
    OWL.AsymmetricProperty,
]
schema_triples = st.one_of(
    st.tuples(st.sampled_from(CLASSES), st.sampled_from(CLASS_AXIOMS), st.sampled_from(CLASSES)),
    st.tuples(
        st.sampled_from(PROPERTIES),
        st.sampled_from(PROPERTY_AXIOMS),
        st.sampled_from(PROPERTIES),
    ),
    st.tuples(
        st.sampled_from(PROPERTIES),
        st.sampled_from([RDFS.domain, RDFS.range]),
        st.sampled_from(CLASSES),
    ),
    st.tuples(st.sampled_from(PROPERTIES), st.just(RDF.type), st.sampled_from(PROPERTY_KINDS)),
    st.tuples(st.sampled_from(CLASSES), st.just(RDF.type), st.just(OWL.Class)),
)
data_triples = st.one_of(
    st.tuples(st.sampled_from(INDIVIDUALS), st.just(RDF.type), st.sampled_from(CLASSES)),
    st.tuples(
        st.sampled_from(INDIVIDUALS),
        st.sampled_from(PROPERTIES),
        st.one_of(
            st.sampled_from(INDIVIDUALS),
            st.sampled_from([Literal(3), Literal("x"), Literal("bad", datatype=ns.XSD.integer)]),
        ),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schema=st.lists(schema_triples, max_size=8),
    data=st.lists(data_triples, min_size=1, max_size=10),
)
def test_random_graphs_get_the_same_closure_and_problems(
    schema: list[tuple[URIRef, URIRef, URIRef]], data: list[tuple[URIRef, URIRef, URIRef]]
) -> None:
    graph = Graph()
    for triple in schema + data:
        graph.add(triple)
    (rules, rule_problems), (reference, reference_problems) = both(graph)
    assert set(rules) == set(reference)
    assert rule_problems == reference_problems
