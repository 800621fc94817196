"""The text layer, checked against the source by methods other than the parser's own."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from graph.namespaces import DCDR, DCTERMS, ID, NIF, RDF, RDFS, SCHEMA, XSD
from graph.paths import Project
from graph.text import (
    TextError,
    chinese_number,
    chinese_numeral,
    read_source,
    span_problems,
    text_graph,
)

SOURCE = read_source(Project.from_env().source_file)
HEADING = "数字中国发展报告(2020年)第四部分:"
RELEASE = "国家互联网信息办公室发布《数字中国发展报告(2020年)》({})"
CONTEXT = ID["context/dcdr-2020-p4"]


@pytest.fixture(scope="module")
def text() -> Graph:
    return text_graph(SOURCE)


def _languages(graph: Graph, node: Node, predicate: URIRef) -> list[str]:
    return [
        v.language for v in graph.objects(node, predicate) if isinstance(v, Literal) and v.language
    ]


def _index(graph: Graph, node: Node, predicate: URIRef) -> int:
    value = graph.value(node, predicate)
    assert isinstance(value, Literal)
    return int(value)


def _context_string(graph: Graph) -> str:
    return str(graph.value(CONTEXT, NIF.isString))


def _section_bodies() -> list[list[str]]:
    """Paragraph lines per section, found by reading lines (not the parser's regexes)."""
    part = SOURCE[SOURCE.index(HEADING) :]
    sections: list[list[str]] = []
    for line in part.split("\n")[1:]:
        if line.startswith("(") and ")" in line[:5]:
            sections.append([])
        elif sections and line:
            sections[-1].append(line)
    return sections


def test_context_is_the_source_from_the_part_heading_to_the_end(text: Graph) -> None:
    assert not SOURCE.endswith("\n")
    expected = SOURCE[SOURCE.index(HEADING) :]
    assert _context_string(text) == expected
    assert text.value(CONTEXT, NIF.endIndex) == Literal(
        len(expected), datatype=XSD.nonNegativeInteger
    )


def test_every_span_reproduces_its_anchor(text: Graph) -> None:
    string = _context_string(text)
    spans = list(text.subject_objects(NIF.anchorOf))
    assert len(spans) > 40
    for node, anchor in spans:
        begin = text.value(node, NIF.beginIndex)
        end = text.value(node, NIF.endIndex)
        assert isinstance(begin, Literal) and isinstance(end, Literal)
        assert begin.datatype == XSD.nonNegativeInteger == end.datatype
        assert text.value(node, NIF.referenceContext) == CONTEXT
        assert string[int(begin) : int(end)] == str(anchor), node
    assert span_problems(text) == []


def test_section_and_sentence_counts_match_the_source(text: Graph) -> None:
    bodies = _section_bodies()
    sections = set(text.subjects(RDF.type, DCDR.Section))
    assert len(sections) == len(bodies) == 6
    for number, paragraphs in enumerate(bodies, start=1):
        expected = 0
        for line in paragraphs:
            pieces = line.split("。")
            expected += len(pieces) - 1 + (1 if pieces[-1].strip() else 0)
        found = [
            s
            for s in text.subjects(RDF.type, NIF.Sentence)
            if str(s).startswith(str(ID[f"sentence/p4-s{number}-"]))
        ]
        assert len(found) == expected, number
        numbers = sorted(int(str(s).rsplit("-", 1)[1]) for s in found)
        assert numbers == list(range(1, expected + 1))


def test_contract_sentence_example(text: Graph) -> None:
    sentence = ID["sentence/p4-s4-07"]
    assert (sentence, RDF.type, NIF.Sentence) in text
    anchor = str(text.value(sentence, NIF.anchorOf))
    assert anchor.startswith("截至2020年底,中国审判流程信息公开网")
    assert anchor.endswith("在线送达文书1152万余份。")
    assert (sentence, RDFS.label, Literal("Part 4 §4 sentence 7", lang="en")) in text
    assert (sentence, RDFS.label, Literal("第四部分第四节第7句", lang="zh")) in text


def test_report_and_parts(text: Graph) -> None:
    report = ID["report/dcdr-2020"]
    assert (report, RDF.type, DCDR.Report) in text
    assert (report, DCTERMS.publisher, ID["agency/cac"]) in text
    assert (report, DCTERMS.title, Literal("数字中国发展报告(2020年)", lang="zh")) in text
    assert (
        report,
        DCTERMS.title,
        Literal("Digital China Development Report (2020)", lang="en"),
    ) in (text)
    # Released 2021-04-25 (China News Service, Fuzhou); covers the year 2020.
    assert text.value(report, DCTERMS.issued) == Literal("2021-04-25", datatype=XSD.date)
    assert text.value(report, DCTERMS.temporal) == Literal("2020", datatype=XSD.gYear)
    parts = set(text.objects(report, DCTERMS.hasPart))
    releases = [line for line in SOURCE.split("\n") if line.startswith("国家互联网信息办公室发布")]
    assert len(parts) == len(releases) == 10
    for number in range(1, 11):
        part = ID[f"part/dcdr-2020-p{number}"]
        assert part in parts
        assert (part, RDF.type, DCDR.ReportPart) in text
        assert (part, DCTERMS.isPartOf, report) in text
        assert (part, SCHEMA.position, Literal(number)) in text
        titles = {
            str(t)
            for t in text.objects(part, DCTERMS.title)
            if isinstance(t, Literal) and t.language == "zh"
        }
        assert titles == {f"数字中国发展报告(2020年)第{chinese_numeral(number)}部分"}
        assert RELEASE.format(f"第{chinese_numeral(number)}部分") in releases
    p4 = ID["part/dcdr-2020-p4"]
    assert (p4, DCTERMS.alternative, Literal("数字政府治理效能持续提升", lang="zh")) in text
    assert "en" in _languages(text, p4, DCTERMS.alternative)


def test_hierarchy_and_sentence_chain(text: Graph) -> None:
    sentences = set(text.subjects(RDF.type, NIF.Sentence))
    for sentence in sentences:
        paragraph = text.value(sentence, DCTERMS.isPartOf)
        assert (paragraph, DCTERMS.hasPart, sentence) in text
        assert (paragraph, RDF.type, NIF.Paragraph) in text
        section = text.value(paragraph, DCTERMS.isPartOf)
        assert (section, RDF.type, DCDR.Section) in text
        assert (section, DCTERMS.isPartOf, ID["part/dcdr-2020-p4"]) in text
        assert sorted(_languages(text, sentence, RDFS.label)) == ["en", "zh"]
    # Following nif:nextSentence from the one sentence without a predecessor visits all.
    first = [s for s in sentences if text.value(s, NIF.previousSentence) is None]
    assert first == [ID["sentence/p4-s1-01"]]
    seen = []
    node = first[0]
    while True:
        seen.append(node)
        following = text.value(node, NIF.nextSentence)
        if following is None:
            break
        assert isinstance(following, URIRef)
        node = following
    assert len(seen) == len(sentences)
    begins = [_index(text, s, NIF.beginIndex) for s in seen]
    assert begins == sorted(begins)


def test_sections_have_titles_in_both_languages(text: Graph) -> None:
    section = ID["section/p4-s1"]
    assert (section, DCTERMS.title, Literal("顶层设计和工作机制更加健全", lang="zh")) in text
    for s in text.subjects(RDF.type, DCDR.Section):
        assert sorted(_languages(text, s, RDFS.label)) == ["en", "zh"]
        anchor = str(text.value(s, NIF.anchorOf))
        assert anchor.startswith("(") and anchor.endswith("。")


def test_tampered_span_is_reported(text: Graph) -> None:
    broken = Graph()
    broken += text
    sentence = ID["sentence/p4-s2-03"]
    broken.set((sentence, NIF.beginIndex, Literal(5, datatype=XSD.nonNegativeInteger)))
    problems = span_problems(broken)
    assert [p.focus for p in problems] == [sentence.n3(broken.namespace_manager)]


def _source(*sections: str, part: str = "四") -> str:
    releases = [RELEASE.format(f"第{n}部分") for n in "一二三四"]
    return "\n".join(
        [*releases, f"数字中国发展报告(2020年)第{part}部分:数字政府治理效能持续提升", *sections]
    )


def test_malformed_sources_are_refused_with_a_message() -> None:
    with pytest.raises(TextError, match="release lines"):
        text_graph(
            "数字中国发展报告(2020年)第四部分:数字政府治理效能持续提升\n(一)顶层设计和工作机制更加健全\n正文。"
        )
    with pytest.raises(TextError, match="out of order"):
        text_graph(_source("(二)在线政务服务不断优化", "正文。"))
    with pytest.raises(TextError, match="no English title"):
        text_graph(_source("(一)没有翻译的标题", "正文。"))
    with pytest.raises(TextError, match="no sections"):
        text_graph(_source())


def test_another_part_can_be_parsed() -> None:
    graph = text_graph(_source("(一)在线政务服务不断优化", "第一句。第二句", part="二"))
    assert (ID["sentence/p2-s1-02"], NIF.anchorOf, Literal("第二句")) in graph
    assert (ID["context/dcdr-2020-p2"], RDF.type, NIF.Context) in graph
    assert span_problems(graph) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="数据共享,“”。 1", min_size=1, max_size=30), min_size=1))
def test_sentences_tile_each_paragraph(paragraphs: list[str]) -> None:
    lines = [p.replace("\n", "") for p in paragraphs if p.strip()]
    if not lines:
        return
    graph = text_graph(_source("(一)在线政务服务不断优化", *lines))
    assert span_problems(graph) == []
    string = _context_string_of(graph)
    for m, line in enumerate(lines, start=1):
        paragraph = ID[f"paragraph/p4-s1-p{m}"]
        sentences = sorted(
            graph.objects(paragraph, DCTERMS.hasPart),
            key=lambda s: _index(graph, s, NIF.beginIndex),
        )
        joined = "".join(str(graph.value(s, NIF.anchorOf)) for s in sentences)
        # Only whitespace between sentences may be left out.
        assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", line)
        assert all(str(graph.value(s, NIF.anchorOf)).strip() for s in sentences)
        assert string.count(line) >= 1


def _context_string_of(graph: Graph) -> str:
    return str(next(graph.objects(None, NIF.isString)))


def test_chinese_numerals_round_trip() -> None:
    for number in range(1, 100):
        assert chinese_number(chinese_numeral(number)) == number
    assert chinese_number("十") == 10
    assert chinese_number("二十三") == 23
    for bad in ("", "零", "十十", "一二"):
        with pytest.raises(TextError):
            chinese_number(bad)
