"""Coverage: every figure of Part 4 has an observation, and the check notices when one is gone."""

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import PROV, RDF

from graph.build import load_sources, merged
from graph.coverage import coverage_problems, coverage_summary
from graph.namespaces import DCDR, ID, NIF
from graph.paths import Project


@pytest.fixture(scope="module")
def union() -> Graph:
    graphs = load_sources(Project.from_env())
    return merged(graphs, ["ontology", "text", "facts", "links"])


def _copy(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    return copy


def test_every_figure_of_part_four_is_covered(union: Graph) -> None:
    assert coverage_problems(union) == []
    assert coverage_summary(union) == (74, 74)


def test_deleting_one_observation_fails_coverage(union: Graph) -> None:
    broken = _copy(union)
    removed = ID["observation/china-judgements-online-documents-2020"]
    broken.remove((removed, None, None))
    problems = coverage_problems(broken)
    assert len(problems) == 1
    assert problems[0].focus == str(ID["sentence/p4-s4-07"])
    assert "1.1亿份" in problems[0].message
    assert "offset 2192" in problems[0].message


def test_an_observation_of_another_sentence_does_not_count(union: Graph) -> None:
    broken = _copy(union)
    moved = ID["observation/national-12315-platform-losses-recovered-2020"]
    broken.set((moved, PROV.wasDerivedFrom, ID["sentence/p4-s5-04"]))
    problems = coverage_problems(broken)
    assert [p.focus for p in problems] == [str(ID["sentence/p4-s5-05"])]


def test_a_new_figure_in_a_sentence_is_reported() -> None:
    graph = Graph()
    sentence = ID["sentence/p9-s1-01"]
    graph.add((sentence, RDF.type, NIF.Sentence))
    graph.add((sentence, NIF.anchorOf, Literal("截至2020年底,平台访问量超过5亿人次。")))
    graph.add((sentence, NIF.beginIndex, Literal(100)))
    problems = coverage_problems(graph)
    assert len(problems) == 1
    assert "offset 114" in problems[0].message
    observation = ID["observation/x"]
    graph.add((observation, RDF.type, DCDR.Observation))
    graph.add((observation, DCDR.value, Literal(500000000)))
    graph.add((observation, PROV.wasDerivedFrom, sentence))
    assert coverage_problems(graph) == []


def test_a_figure_in_chinese_numerals_needs_its_observation(union: Graph) -> None:
    broken = _copy(union)
    broken.remove((ID["observation/netizen-suggestion-campaign-consecutive-years"], None, None))
    problems = coverage_problems(broken)
    assert [p.focus for p in problems] == [str(ID["sentence/p4-s4-04"])]
    assert "连续第六年" in problems[0].message
