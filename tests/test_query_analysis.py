"""The lexical query analysis that guards the store: forms, updates, SERVICE, LIMIT, FROM, and
the facts that choose where a query runs: disconnected patterns and the query's shape."""

import re
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.stores.query_analysis import plan_query
from server.stores.store import QueryRefused, UpdateRefused, analyze_query

WIKIDATA = "https://query.wikidata.org/sparql"


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "select"),
        ("PREFIX ex: <http://example.org/>\nselect ?s { ?s ex:p ?o }", "select"),
        ("BASE <http://example.org/> ASK { <a> ?p ?o }", "ask"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "construct"),
        ("# a comment\nDESCRIBE <http://example.org/a>", "describe"),
        ("SELEKT * { ?s ?p ?o }", ""),
    ],
)
def test_query_form(query: str, form: str) -> None:
    assert plan_query(query).form == form


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <a> <b> <c> }",
        "PREFIX ex: <http://example.org/> DELETE WHERE { ?s ex:p ?o }",
        "LOAD <http://example.org/data.ttl>",
        "clear all",
        "DROP GRAPH <http://example.org/g>",
        "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ],
)
def test_updates_are_refused(update: str) -> None:
    with pytest.raises(UpdateRefused):
        analyze_query(update)


@pytest.mark.parametrize(
    ("query", "services"),
    [
        (f"SELECT * {{ SERVICE <{WIKIDATA}> {{ ?s ?p ?o }} }}", (WIKIDATA,)),
        (f"SELECT * {{ service silent <{WIKIDATA}> {{ ?s ?p ?o }} }}", (WIKIDATA,)),
        (
            "PREFIX w: <https://query.wikidata.org/> SELECT * { SERVICE w:sparql { ?s ?p ?o } }",
            (WIKIDATA,),
        ),
        ("SELECT * { ?svc ?p ?o SERVICE ?svc { ?s ?p ?o } }", ("?svc",)),
        (
            "SELECT * { { SELECT * { SERVICE <http://127.0.0.1:9/> {} } } }",
            ("http://127.0.0.1:9/",),
        ),
        ('SELECT * { ?s ?p "SERVICE <http://127.0.0.1:9/> {}" }', ()),
        ("SELECT * { ?s <http://example.org/SERVICE> ?o } # SERVICE <x>", ()),
        ("PREFIX ex: <http://example.org/> SELECT * { ?s ex:SERVICE ?service }", ()),
        ("SELECT * { ?s ?p '''a\n'SERVICE' <x> {}''' }", ()),
        # A quote inside a prefixed name (escaped) or inside an IRI that has a \u escape opens
        # no string for oxigraph, so the SERVICE after it is real.
        (
            r"PREFIX ex: <http://example.org/> SELECT * { ?s ex:a\' ?o . "
            r"SERVICE <http://127.0.0.1:9/> { } ?s ?p '' }",
            ("http://127.0.0.1:9/",),
        ),
        (
            r"SELECT * { ?s <http://x/\u0070'> ?o . SERVICE <http://127.0.0.1:9/> { } ?s ?p '' }",
            ("http://127.0.0.1:9/",),
        ),
    ],
)
def test_service_targets(query: str, services: tuple[str, ...]) -> None:
    assert plan_query(query).services == services


def test_service_refused_unless_allow_listed() -> None:
    query = f"SELECT * WHERE {{ SERVICE <{WIKIDATA}> {{ ?s ?p ?o }} }}"
    with pytest.raises(QueryRefused):
        analyze_query(query)
    assert analyze_query(query, (WIKIDATA,)).services == (WIKIDATA,)


def test_service_behind_an_unterminated_string_is_still_seen() -> None:
    query = 'SELECT * { ?s ?p "never closed SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }'
    assert plan_query(query).services


@pytest.mark.parametrize(
    ("query", "limit", "values", "dataset"),
    [
        ("SELECT * { ?s ?p ?o } LIMIT 10", 10, False, False),
        ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 3 } }", None, False, False),
        ("SELECT * { ?s ?p ?o } VALUES ?s { <a> }", None, True, False),
        ("SELECT * { VALUES ?s { <a> } ?s ?p ?o }", None, False, False),
        ("SELECT * FROM <http://example.org/g> { ?s ?p ?o }", None, False, True),
        ("SELECT * FROM NAMED <http://example.org/g> { GRAPH ?g { ?s ?p ?o } }", None, False, True),
        ("SELECT * { ?s ?p 'FROM' } limit 5 offset 2", 5, False, False),
    ],
)
def test_solution_modifiers_and_dataset(
    query: str, limit: int | None, values: bool, dataset: bool
) -> None:
    plan = plan_query(query)
    assert (plan.limit, plan.trailing_values, plan.has_dataset_clause) == (limit, values, dataset)


def test_a_limit_too_long_for_int_reads_as_the_largest() -> None:
    query = "SELECT * { ?s ?p ?o } LIMIT " + "9" * 5000
    assert plan_query(query).limit == sys.maxsize


@given(st.text(alphabet=st.characters(blacklist_characters='"\\\n\r'), max_size=60))
def test_keywords_inside_string_literals_are_not_keywords(inner: str) -> None:
    query = f'SELECT * {{ ?s ?p "{inner} SERVICE <http://127.0.0.1:9/> {{}}" }}'
    plan = plan_query(query)
    assert plan.services == () and plan.form == "select" and not plan.has_dataset_clause


@given(st.sampled_from(["SERVICE", "service", "Service", "sErViCe"]), st.booleans())
def test_service_keyword_found_in_any_case(keyword: str, silent: bool) -> None:
    silent_word = "SILENT " if silent else ""
    query = f"SELECT * {{ {keyword} {silent_word}<http://127.0.0.1:9/> {{ ?s ?p ?o }} }}"
    assert plan_query(query).services == ("http://127.0.0.1:9/",)


EX = "PREFIX ex: <http://example.org/> "

# Query bodies, to follow EX, named after what each one shows.
CONNECTED = {
    "join-through-shared-variable": "SELECT * { ?s ex:p ?o . ?o ex:q ?z }",
    "predicate-object-lists": "SELECT * { ?s a ex:T ; ex:p ?o , ?o2 ; ex:r ?z }",
    "blank-node-list": "SELECT * { ?s ex:p [ ex:q ?x ; ex:r ?y ] . ?x ex:s ?z }",
    "blank-node-list-subject": "SELECT * { [ ex:q ?x ] ex:r ?y . ?y ex:s ?z }",
    "blank-node-label-joins": "SELECT * { _:b ex:p ?x . _:b ex:q ?y }",
    "optional-sharing-variable": "SELECT * { ?s ex:p ?o OPTIONAL { ?o ex:q ?x } }",
    "filter-expression-then-triple": (
        "SELECT * { ?s ex:p ?o FILTER(?o > 3 && regex(str(?s), 'x')) ?s ex:q ?z }"
    ),
    "filter-call": "SELECT * { ?s ex:p ?o FILTER regex(?o, 'x') ?o ex:q ?z }",
    "not-exists": "SELECT * { ?s ex:p ?o FILTER NOT EXISTS { ?s ex:q ?x } }",
    "subquery-sharing-variable": (
        "SELECT ?s ?n { ?s a ex:T "
        "{ SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ex:p ?o } GROUP BY ?s } }"
    ),
    "values": "SELECT * { VALUES (?s ?t) { (ex:a ex:b) (UNDEF ex:c) } ?s ex:p ?o . ?o ex:q ?t }",
    "property-paths": (
        "SELECT * { ?s ex:p/ex:q* ?o . ?o ^ex:r ?z . ?z (ex:a|ex:b)+ ?w . ?w !ex:c ?v }"
    ),
    "single-pattern": "SELECT * { ?s ?p ?o }",
    "ground-triples-and-one-variable-block": (
        "ASK { ex:a ex:b ex:c . <http://x/y> <http://x/z> 'w' . ?s ?p ?o }"
    ),
    "projection-and-order-by": (
        "SELECT DISTINCT ?a ?b ?c WHERE { ?a ex:p ?b . ?b ex:q ?c } ORDER BY DESC(?a) ?b ?c"
    ),
    "construct-template": (
        "CONSTRUCT { ?s ex:p ?o . ?x ex:q ?y } WHERE { ?s ex:p ?o ; ex:r ?x . ?x ex:q ?y }"
    ),
    "bind-target-joins": "SELECT * { ?s ex:p ?o BIND(?o + 1 AS ?n) ?n ex:q ?z }",
    "graph": "SELECT * { GRAPH ?g { ?s ?p ?o . ?o ?q ?r } }",
    "braces-in-string": "SELECT * { ?s ex:p 'a . } { ?x ?y ?z' . ?s ex:q ?o }",
    "dollar-and-question-mark": "SELECT * { ?a ex:p ?x . $a ex:q ?y }",
    "union-sharing-variable": "SELECT * { { ?s ex:p ?o } UNION { ?s ex:q ?o } }",
}

DISCONNECTED = {
    "two-unrelated-patterns": "SELECT * { ?a ?b ?c . ?d ?e ?f }",
    "two-typed-variables": "SELECT * { ?a a ?t . ?b a ?u }",
    "two-separately-typed-variables": "SELECT * { ?a a ex:Person . ?b a ex:City }",
    "four-way-cross-join": (
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    ),
    "aggregate-over-two": "SELECT (COUNT(*) AS ?n) WHERE { ?a ex:p ?x . ?b ex:q ?y }",
    "projection-joins-not": "SELECT ?a ?b ?c WHERE { ?a ex:p ?x . ?b ex:q ?y }",
    "order-by-joins-not": "SELECT * { ?a ex:p ?x . ?b ex:q ?y } ORDER BY ?a ?b ?x",
    "triple-after-filter": "SELECT * { ?a ex:p ?x FILTER(?x > 1) ?b ex:q ?y }",
    "filter-joins-not": "SELECT * { ?a ex:p ?x . ?b ex:q ?y FILTER(?x = ?y) }",
    "bind-joins-not": "SELECT * { ?a ex:p ?x . ?b ex:q ?y BIND(CONCAT(?x, ?y) AS ?z) }",
    "integer-before-dot": "SELECT * { ?a ex:p 1. ?b ex:q ?y }",
    "template-joins-not": "CONSTRUCT { ?a ex:r ?b } WHERE { ?a ex:p ?x . ?b ex:q ?y }",
    "nested-groups": "SELECT * { { ?a ex:p ?x } { ?b ex:q ?y } }",
    "unrelated-optional": "SELECT * { ?a ex:p ?x OPTIONAL { ?b ex:q ?y } }",
    "path-group": "SELECT * { ?a (ex:p|ex:q)* ?x . ?b ex:r ?y }",
    "two-blank-node-labels": "SELECT * { _:b ex:p ?x . _:c ex:q ?y }",
}


# A group with a constant subject describes one resource: its product with another group is
# no larger than a few copies of that group.
PINNED = {
    "sentence-text-beside-its-figures": (
        "SELECT * { ?o ex:derivedFrom <http://x/s> ; ex:mention ?m . <http://x/s> ex:text ?t }"
    ),
    "description-beside-a-scan": "SELECT * { ex:s ?p ?o . ?a ?b ?c }",
    "two-descriptions": "SELECT * { ex:s ?p ?o . ex:t ?q ?r }",
}


@pytest.mark.parametrize("query", PINNED.values(), ids=PINNED.keys())
def test_a_group_pinned_to_a_constant_subject_does_not_count(query: str) -> None:
    assert not plan_query(EX + query).disconnected


def test_two_unpinned_groups_beside_a_pinned_one_are_disconnected() -> None:
    assert plan_query(EX + "SELECT * { ex:s ?p ?o . ?a ex:q ?x . ?b ex:r ?y }").disconnected


@pytest.mark.parametrize("query", CONNECTED.values(), ids=CONNECTED.keys())
def test_connected_patterns_are_not_disconnected(query: str) -> None:
    assert not plan_query(EX + query).disconnected


@pytest.mark.parametrize("query", DISCONNECTED.values(), ids=DISCONNECTED.keys())
def test_unrelated_patterns_are_disconnected(query: str) -> None:
    assert plan_query(EX + query).disconnected


SHAPED = "PREFIX ex: <http://example.org/#> SELECT ?s WHERE { ?s ex:p 'a # b' } LIMIT 5"


@pytest.mark.parametrize(
    "variant",
    [
        "# a title\n" + SHAPED,
        "PREFIX ex: <http://example.org/#>\n\nSELECT ?s\nWHERE {\n\t?s ex:p 'a # b'  # why\n}\n"
        "LIMIT 5\n",
        "PREFIX ex:<http://example.org/#>SELECT ?s WHERE{?s ex:p 'a # b'}LIMIT 5",
    ],
)
def test_shape_ignores_comments_and_white_space(variant: str) -> None:
    assert plan_query(variant).shape == plan_query(SHAPED).shape


@pytest.mark.parametrize(
    "variant",
    [
        SHAPED.replace("LIMIT 5", "LIMIT 6"),
        SHAPED.replace("'a # b'", "'a # c'"),
        SHAPED.replace("ex:p", "ex:q"),
        SHAPED.replace("?s", "?t"),
        SHAPED.replace("<http://example.org/#>", "<http://example.org/#x>"),
    ],
)
def test_shape_changes_with_any_token(variant: str) -> None:
    assert plan_query(variant).shape != plan_query(SHAPED).shape


def test_shape_is_a_32_digit_hex_digest() -> None:
    assert re.fullmatch("[0-9a-f]{32}", plan_query(SHAPED).shape)


@given(
    st.sampled_from([SHAPED, *(EX + q for q in [*CONNECTED.values(), *DISCONNECTED.values()])]),
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=80),
)
def test_a_trailing_comment_changes_neither_shape_nor_disconnected(
    query: str, comment: str
) -> None:
    plain, commented = plan_query(query), plan_query(f"{query}\n# {comment}")
    assert (commented.shape, commented.disconnected) == (plain.shape, plain.disconnected)


@pytest.mark.parametrize("motif", ["a.", "a-", '\\"', "\\'", "ex:a."])
def test_planning_a_long_adversarial_query_is_fast(motif: str) -> None:
    # 100 000 characters is the server's default query limit; a regular expression that
    # rescans from every token takes minutes on these, a linear one milliseconds.
    query = "SELECT * { ?s ?p " + motif * (100_000 // len(motif)) + " }"
    start = time.perf_counter()
    plan_query(query)
    assert time.perf_counter() - start < 2.0


def test_a_query_differing_only_in_comments_and_layout_is_planned_once() -> None:
    query = "SELECT ?s WHERE { ?s ?p ?o } # first"
    assert plan_query(query) is plan_query("SELECT ?s\nWHERE {\n  ?s ?p ?o\n}\n# second")


def test_a_query_longer_than_the_memo_limit_is_planned_but_not_kept() -> None:
    from server.stores import query_analysis

    long_query = "SELECT ?s WHERE { ?s ?p ?o }" + " " * query_analysis.MEMO_CHARS + "# long"
    before = query_analysis._plan_tokens.cache_info().currsize
    plan_query(long_query)
    assert query_analysis._plan_tokens.cache_info().currsize == before
