"""The lexical query analysis that guards the store: forms, updates, SERVICE, LIMIT, FROM."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.query_analysis import plan_query
from server.store import QueryRefused, UpdateRefused, analyze_query

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
