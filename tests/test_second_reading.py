"""Regressions found by the second reading of Part 4 against the graph (issue 13): each test is
named after what the graph said that the text does not, and asserts the text's reading."""

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from graph.build import load_sources
from graph.namespaces import DCDR, ID
from graph.paths import Project


@pytest.fixture(scope="module")
def facts() -> Graph:
    return load_sources(Project.from_env())["facts"]


def test_state_council_departments_and_departments_are_not_one_metric(facts: Graph) -> None:
    # p4-s2-01 46个国务院部门 counts State Council departments; p4-s3-05 46个部门 counts
    # departments the report does not say are the State Council's: two populations.
    state_council = facts.value(
        ID["observation/government-service-platform-connected-departments"], DCDR.metric
    )
    departments = facts.value(ID["observation/credit-platform-connected-departments"], DCDR.metric)
    assert state_council != departments


@pytest.mark.parametrize(
    ("subject", "predicate"),
    [
        # p4-s5-03 …2020年已向地方和有关部门推送…
        ("platform/key-supervision-application-systems", DCDR.servesAgency),
        # p4-s6-02 平台与各地区和有关部门实现互联互通
        ("platform/internet-plus-inspection-platform", DCDR.connects),
    ],
)
def test_relevant_departments_are_not_said_to_be_the_state_councils(
    subject: str, predicate: URIRef, facts: Graph
) -> None:
    assert (ID[subject], predicate, ID["agency/relevant-state-council-departments"]) not in facts


def test_cross_province_services_are_not_said_to_be_hosted_on_the_zone(facts: Graph) -> None:
    # p4-s2-02 加快建设…“跨省通办”专区,推动…近50个高频政务服务事项和190多个便民服务实现“跨省通办”:
    # the zone and the services are two things the office pushes; 跨省通办 is not only online.
    assert (None, DCDR.hostedOn, ID["platform/cross-province-services-zone"]) not in facts


def test_good_or_bad_rating_channel_takes_input_from_the_public(facts: Graph) -> None:
    # p4-s2-03 政务服务“好差评”渠道基本建成: the public rates services through it.
    channel = ID["platform/government-service-evaluation-channel"]
    assert (channel, RDF.type, DCDR.PublicInputPlatform) in facts


def test_sub_provincial_open_data_share_says_its_denominator(facts: Graph) -> None:
    # p4-s3-03 73.3%的副省级政府: 11 of the 15 sub-provincial cities (issue 13 §4: every share of
    # s3-03 says what it is a share of); no count out of 14 or 16 gives 73.3%.
    share = ID["observation/sub-provincial-city-governments-open-data-share"]
    assert facts.value(share, DCDR.impliedDenominator) == Literal(15)
