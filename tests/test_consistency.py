"""Consistency rules: they pass on the curated facts, and each fails on a broken fixture."""

from decimal import Decimal

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import XSD

from graph.build import load_sources, merged
from graph.consistency import consistency_problems
from graph.namespaces import DCDR, ID, UNIT
from graph.paths import Project

SHARE = ID["observation/provincial-governments-data-agency-share-2020-11"]
COUNT = ID["observation/provincial-governments-data-agency-2020-11"]
JUDGEMENTS = ID["observation/china-judgements-online-documents-2020"]


@pytest.fixture(scope="module")
def union() -> Graph:
    graphs = load_sources(Project.from_env())
    return merged(graphs, ["ontology", "text", "facts", "links"])


@pytest.fixture
def copy(union: Graph) -> Graph:
    graph = Graph()
    for triple in union:
        graph.add(triple)
    return graph


def rules(graph: Graph) -> set[tuple[str, str]]:
    return {(problem.rule, problem.focus) for problem in consistency_problems(graph)}


def test_curated_facts_are_consistent(union: Graph) -> None:
    assert consistency_problems(union) == []


def test_share_that_disagrees_with_its_count_fails(copy: Graph) -> None:
    copy.set((COUNT, DCDR.value, Literal(24)))
    copy.set((COUNT, DCDR.statedAs, Literal("24个", lang="zh")))
    assert ("consistency:share-count", str(SHARE)) in rules(copy)


def test_share_rounding_is_half_a_unit_of_the_last_decimal(copy: Graph) -> None:
    # 10/32 = 31.25: "31.3%" is within ±0.05, "31.2%" too, "31.4%" is not.
    share = ID["observation/key-city-governments-digital-plans-share-2020-11"]
    assert ("consistency:share-count", str(share)) not in rules(copy)
    copy.set((share, DCDR.value, Literal(Decimal("31.4"), datatype=XSD.decimal)))
    copy.set((share, DCDR.statedAs, Literal("31.4%", lang="zh")))
    assert ("consistency:share-count", str(share)) in rules(copy)


def test_share_without_denominator_fails(copy: Graph) -> None:
    copy.remove((SHARE, DCDR.impliedDenominator, None))
    assert ("consistency:share-count", str(SHARE)) in rules(copy)


def test_two_observations_that_disagree_fail(copy: Graph) -> None:
    twin = ID["observation/twin"]
    for p, o in copy.predicate_objects(JUDGEMENTS):
        copy.add((twin, p, o))
    copy.set((twin, DCDR.value, Literal(120000000)))
    found = rules(copy)
    assert ("consistency:conflict", str(JUDGEMENTS)) in found
    assert ("consistency:conflict", str(twin)) in found


def test_stated_as_missing_from_its_sentence_fails(copy: Graph) -> None:
    copy.set((JUDGEMENTS, DCDR.statedAs, Literal("1.2亿份", lang="zh")))
    assert ("consistency:stated-in-sentence", str(JUDGEMENTS)) in rules(copy)


def test_value_that_does_not_expand_from_stated_as_fails(copy: Graph) -> None:
    copy.set((JUDGEMENTS, DCDR.value, Literal(11000000)))
    assert ("consistency:value-matches-statement", str(JUDGEMENTS)) in rules(copy)


def test_comparator_that_contradicts_the_qualifier_fails(copy: Graph) -> None:
    copy.set((JUDGEMENTS, DCDR.comparator, DCDR.moreThan))
    assert ("consistency:value-matches-statement", str(JUDGEMENTS)) in rules(copy)


def test_unit_that_contradicts_the_classifier_fails(copy: Graph) -> None:
    copy.set((JUDGEMENTS, DCDR.unit, UNIT["PERCENT"]))
    assert ("consistency:value-matches-statement", str(JUDGEMENTS)) in rules(copy)


def test_each_problem_names_the_observation_and_the_rule(copy: Graph) -> None:
    copy.set((JUDGEMENTS, DCDR.value, Literal(1)))
    problem = next(p for p in consistency_problems(copy) if p.focus == str(JUDGEMENTS))
    assert problem.rule.startswith("consistency:")
    assert "1.1亿份" in problem.message


OPEN_DATA_SHARE = ID["observation/provincial-governments-open-data-share"]
INSPECTION_LEADS = ID["observation/inspection-office-leads-forwarded"]


def test_share_without_count_must_be_a_whole_number_out_of_its_denominator(copy: Graph) -> None:
    # 56.3% is 18/32; out of 31 no whole number rounds to 56.3.
    copy.set((OPEN_DATA_SHARE, DCDR.impliedDenominator, Literal(31)))
    assert ("consistency:share-denominator", str(OPEN_DATA_SHARE)) in rules(copy)


def test_ref_date_other_than_the_stated_cut_off_fails(copy: Graph) -> None:
    copy.set((JUDGEMENTS, DCDR.refDate, Literal("2020-11-30", datatype=XSD.date)))
    assert ("consistency:time-basis", str(JUDGEMENTS)) in rules(copy)


def test_stated_in_sentence_without_a_stated_date_fails(copy: Graph) -> None:
    copy.set((INSPECTION_LEADS, DCDR.timeBasis, DCDR.statedInSentence))
    copy.remove((INSPECTION_LEADS, DCDR.timeSource, None))
    assert ("consistency:time-basis", str(INSPECTION_LEADS)) in rules(copy)


def test_time_source_that_states_no_such_date_fails(copy: Graph) -> None:
    # p4-s6-02 comes before p4-s6-04 in the same paragraph but gives no date.
    copy.set((INSPECTION_LEADS, DCDR.timeSource, ID["sentence/p4-s6-02"]))
    assert ("consistency:time-basis", str(INSPECTION_LEADS)) in rules(copy)


def test_time_source_after_the_figure_fails(copy: Graph) -> None:
    copy.set((INSPECTION_LEADS, DCDR.timeSource, ID["sentence/p4-s6-04"]))
    assert ("consistency:time-basis", str(INSPECTION_LEADS)) in rules(copy)


def test_report_coverage_means_the_end_of_2020(copy: Graph) -> None:
    pilot = ID["observation/website-consolidation-pilot-regions-completed"]
    copy.set((pilot, DCDR.refDate, Literal("2021-04-25", datatype=XSD.date)))
    assert ("consistency:time-basis", str(pilot)) in rules(copy)


def test_share_metric_counted_in_items_fails(copy: Graph) -> None:
    copy.set((COUNT, DCDR.metric, ID["metric/share-governments-with-data-agency"]))
    assert ("consistency:measure-type", str(COUNT)) in rules(copy)
