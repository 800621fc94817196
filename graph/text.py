"""The text layer: the release file → report, parts, sections, paragraphs and sentences (NIF 2.0).

Nothing here is typed by hand but the English titles: the structure, every offset and every
anchor are computed from the source, and every span is checked against its context string
before the graph is handed on.

The source holds release lines (one per part: `…发布《report》(第N部分)`), then, for each part
whose text is known, a heading line `report第N部分:title`, an optional `N、title` line, and
sections `(一)title` each followed by one or more paragraph lines. One `nif:Context` holds a
part's text from its heading line to the line before the next part heading (or the end of
the file), byte for byte as in the source.

Choices the contract leaves open:
- a section's span runs from its `(一)…` heading to the end of its last paragraph, so that
  `anchorOf` reads like the section in the report; its title (without the marker) is its label;
- sentences end after each `。` (with any closing quote or bracket that follows it); a
  paragraph's trailing text without `。` is a sentence too;
- every part's release title is its `dcterms:title`; a part with text also gets the title of
  its heading as `dcterms:alternative`;
- order among siblings is `schema:position` (1-based), so no new ontology term is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from graph.namespaces import DCDR, DCTERMS, ID, NIF, PREFIXES, RDF, RDFS, SCHEMA, XSD
from graph.problems import Problem

# English titles written for this project; a title missing here stops the build with a
# message naming it, so a new source cannot slip in untranslated.
TITLES_EN = {
    "数字政府治理效能持续提升": "Digital government governance effectiveness keeps improving",
    "顶层设计和工作机制更加健全": "Top-level design and working mechanisms are more complete",
    "在线政务服务不断优化": "Online government services keep improving",
    "政务数据共享步伐加快": "Government data sharing picks up pace",
    "电子政务支撑行政效能加快提升": "E-government speeds up gains in administrative effectiveness",
    "“互联网+监管”深入推进": 'The "Internet + regulation" drive goes deeper',
    "“互联网+督查”取得初步成效": 'The "Internet + inspection" drive shows first results',
}

# Publishers named in release lines → the slug of their `id:agency/…` IRI (labels are facts).
PUBLISHERS = {"国家互联网信息办公室": "cac"}

# What the release file does not say: per report slug, the day the report was released and the
# year it covers. dcdr-2020 was released on 2021-04-25 at the main forum of the 4th Digital China
# Summit in Fuzhou (China News Service, datelined Fuzhou, 25 April 2021), and covers 2020.
RELEASES = {"dcdr-2020": ("2021-04-25", "2020")}

_NUMERALS = "一二三四五六七八九"
_NUMERAL = rf"[{_NUMERALS}十]+"
_RELEASE = re.compile(
    rf"^(?P<publisher>[^《]+)发布《(?P<report>[^》]+)》[(（](?P<part>第(?P<num>{_NUMERAL})部分)[)）]$"
)
_PART_HEADING = re.compile(
    rf"^(?P<report>.+?)(?P<part>第(?P<num>{_NUMERAL})部分)[:：](?P<title>.+)$"
)
_PART_NUMBER_LINE = re.compile(rf"^{_NUMERAL}、.+$")
_SECTION_HEADING = re.compile(rf"^[(（](?P<num>{_NUMERAL})[)）](?P<title>.+)$")
_REPORT_TITLE = re.compile(r"^数字中国发展报告[(（](?P<year>\d{4})年[)）]$")
# A sentence ends after 。 and takes along closing quotes or brackets that follow it.
_SENTENCE = re.compile(r"[^。]*。[”’」』)）]*|[^。]+$")


class TextError(Exception):
    """The source does not have the expected shape, or a span does not reproduce its text."""


def chinese_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23 (the range report numbering needs)."""
    if not text or any(ch not in _NUMERALS + "十" for ch in text) or text.count("十") > 1:
        raise TextError(f"not a Chinese numeral below 100: {text!r}")
    if "十" not in text:
        if len(text) != 1:
            raise TextError(f"not a Chinese numeral below 100: {text!r}")
        return _NUMERALS.index(text) + 1
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        raise TextError(f"not a Chinese numeral below 100: {text!r}")
    return (_NUMERALS.index(tens) + 1 if tens else 1) * 10 + (
        _NUMERALS.index(units) + 1 if units else 0
    )


def chinese_numeral(number: int) -> str:
    """The inverse of `chinese_number`, for labels."""
    if not 1 <= number <= 99:
        raise ValueError(f"no Chinese numeral for {number}")
    tens, units = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _NUMERALS[tens - 1] + "十")
    return head + (_NUMERALS[units - 1] if units else "")


@dataclass(frozen=True)
class Span:
    """Offsets into a context string: 0-based code points, end exclusive."""

    begin: int
    end: int


@dataclass
class Paragraph:
    number: int
    span: Span
    sentences: list[Span] = field(default_factory=list)


@dataclass
class Section:
    number: int
    title: str
    span: Span
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class PartText:
    number: int
    title: str
    text: str
    sections: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Release:
    number: int
    title: str
    publisher: str
    report: str


@dataclass
class Source:
    releases: list[Release]
    texts: list[PartText]


def _lines(text: str, offset: int = 0) -> Iterator[tuple[int, str]]:
    """(start offset, line without its newline) for every line of `text`."""
    for match in re.finditer(r"[^\n]*(?:\n|$)", text):
        if match.start() == len(text) and match.group() == "":
            break
        yield offset + match.start(), match.group().rstrip("\r\n")


def _trimmed(text: str, begin: int, end: int) -> Span:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    return Span(begin, end)


def _sentences(text: str, paragraph: Span) -> list[Span]:
    body = text[paragraph.begin : paragraph.end]
    spans = []
    for match in _SENTENCE.finditer(body):
        span = _trimmed(text, paragraph.begin + match.start(), paragraph.begin + match.end())
        if span.end > span.begin:
            spans.append(span)
    return spans


def _part_text(number: int, title: str, text: str) -> PartText:
    part = PartText(number=number, title=title, text=text)
    section: Section | None = None
    for index, (start, line) in enumerate(_lines(text)):
        if index == 0 or not line.strip():
            continue  # the part heading, or a blank line
        heading = _SECTION_HEADING.match(line)
        if heading:
            section = Section(
                number=chinese_number(heading["num"]),
                title=heading["title"].strip(),
                span=Span(start, start + len(line)),
            )
            if section.number != len(part.sections) + 1:
                raise TextError(f"part {number}: section ({heading['num']}) is out of order")
            part.sections.append(section)
        elif section is None:
            if not _PART_NUMBER_LINE.match(line):
                raise TextError(f"part {number}: text before the first section: {line[:30]!r}")
        else:
            span = _trimmed(text, start, start + len(line))
            paragraph = Paragraph(number=len(section.paragraphs) + 1, span=span)
            paragraph.sentences = _sentences(text, span)
            section.paragraphs.append(paragraph)
            section.span = Span(section.span.begin, span.end)
    if not part.sections:
        raise TextError(f"part {number} has a heading but no sections")
    return part


def parse_source(text: str) -> Source:
    """Splits the release file into release lines and the texts of the parts it contains."""
    releases: list[Release] = []
    headings: list[tuple[int, re.Match[str]]] = []
    for start, line in _lines(text):
        release = _RELEASE.match(line)
        heading = _PART_HEADING.match(line)
        if heading and not headings and not releases:
            raise TextError("the source must start with its release lines")
        if release and not headings:
            releases.append(
                Release(
                    number=chinese_number(release["num"]),
                    title=release["report"] + release["part"],
                    publisher=release["publisher"],
                    report=release["report"],
                )
            )
        elif heading:
            headings.append((start, heading))
        elif not headings and line.strip():
            raise TextError(f"unexpected line among the release lines: {line[:40]!r}")
    if not releases:
        raise TextError("no release lines (…发布《…》(第N部分)) found")
    if [r.number for r in releases] != list(range(1, len(releases) + 1)):
        raise TextError("release lines are not numbered 1, 2, 3 … in order")
    if len({(r.publisher, r.report) for r in releases}) != 1:
        raise TextError("release lines name more than one report or publisher")
    texts = []
    for index, (start, heading) in enumerate(headings):
        # The context ends before the newline that precedes the next part heading.
        end = headings[index + 1][0] - 1 if index + 1 < len(headings) else len(text)
        number = chinese_number(heading["num"])
        if number > len(releases):
            raise TextError(f"part {number} has text but no release line")
        texts.append(_part_text(number, heading["title"].strip(), text[start:end]))
    return Source(releases=releases, texts=texts)


def _english(title: str) -> str:
    try:
        return TITLES_EN[title]
    except KeyError:
        raise TextError(
            f"no English title for {title!r}; add it to TITLES_EN in graph/text.py"
        ) from None


def _offset(value: int) -> Literal:
    return Literal(value, datatype=XSD.nonNegativeInteger)


def _labelled(graph: Graph, node: URIRef, zh: str, en: str, title: bool = False) -> None:
    predicates = (RDFS.label, DCTERMS.title) if title else (RDFS.label,)
    for predicate in predicates:
        graph.add((node, predicate, Literal(zh, lang="zh")))
        graph.add((node, predicate, Literal(en, lang="en")))


def _link(graph: Graph, whole: URIRef, part: URIRef, position: int) -> None:
    graph.add((whole, DCTERMS.hasPart, part))
    graph.add((part, DCTERMS.isPartOf, whole))
    graph.add((part, SCHEMA.position, Literal(position)))


def _span(graph: Graph, node: URIRef, context: URIRef, text: str, span: Span) -> None:
    graph.add((node, NIF.referenceContext, context))
    graph.add((node, NIF.beginIndex, _offset(span.begin)))
    graph.add((node, NIF.endIndex, _offset(span.end)))
    graph.add((node, NIF.anchorOf, Literal(text[span.begin : span.end])))


def _add_part_text(graph: Graph, part_iri: URIRef, slug: str, part: PartText) -> None:
    n = part.number
    zh_part = f"第{chinese_numeral(n)}部分"
    context = ID[f"context/{slug}-p{n}"]
    graph.add((part_iri, DCTERMS.alternative, Literal(part.title, lang="zh")))
    graph.add((part_iri, DCTERMS.alternative, Literal(_english(part.title), lang="en")))
    graph.add((context, RDF.type, NIF.Context))
    graph.add((context, NIF.isString, Literal(part.text)))
    graph.add((context, NIF.beginIndex, _offset(0)))
    graph.add((context, NIF.endIndex, _offset(len(part.text))))
    graph.add((context, NIF.sourceUrl, part_iri))
    _labelled(graph, context, f"{zh_part}全文", f"Part {n} text")
    previous: URIRef | None = None
    for section in part.sections:
        s = section.number
        section_iri = ID[f"section/p{n}-s{s}"]
        graph.add((section_iri, RDF.type, DCDR.Section))
        graph.add((section_iri, RDF.type, NIF.Structure))
        _labelled(graph, section_iri, section.title, _english(section.title), title=True)
        _link(graph, part_iri, section_iri, s)
        _span(graph, section_iri, context, part.text, section.span)
        number = 0
        for paragraph in section.paragraphs:
            m = paragraph.number
            paragraph_iri = ID[f"paragraph/p{n}-s{s}-p{m}"]
            graph.add((paragraph_iri, RDF.type, NIF.Paragraph))
            zh_section = f"{zh_part}第{chinese_numeral(s)}节"
            _labelled(graph, paragraph_iri, f"{zh_section}第{m}段", f"Part {n} §{s} paragraph {m}")
            _link(graph, section_iri, paragraph_iri, m)
            _span(graph, paragraph_iri, context, part.text, paragraph.span)
            for sentence in paragraph.sentences:
                number += 1
                sentence_iri = ID[f"sentence/p{n}-s{s}-{number:02d}"]
                graph.add((sentence_iri, RDF.type, NIF.Sentence))
                _labelled(
                    graph,
                    sentence_iri,
                    f"{zh_section}第{number}句",
                    f"Part {n} §{s} sentence {number}",
                )
                _link(graph, paragraph_iri, sentence_iri, number)
                _span(graph, sentence_iri, context, part.text, sentence)
                if previous is not None:
                    graph.add((previous, NIF.nextSentence, sentence_iri))
                    graph.add((sentence_iri, NIF.previousSentence, previous))
                previous = sentence_iri


def report_slug(report_title: str) -> tuple[str, str]:
    """(IRI slug, English title) of a report title such as 数字中国发展报告(2020年)."""
    match = _REPORT_TITLE.match(report_title)
    if not match:
        raise TextError(f"unknown report title {report_title!r}: expected 数字中国发展报告(YYYY年)")
    year = match["year"]
    return f"dcdr-{year}", f"Digital China Development Report ({year})"


def text_graph(source: str) -> Graph:
    """The `text` named graph of one release file's content.

    Raises `TextError` when the source is malformed or a span's offsets would not reproduce
    its text.
    """
    parsed = parse_source(source)
    first = parsed.releases[0]
    slug, report_en = report_slug(first.report)
    publisher = PUBLISHERS.get(first.publisher)
    if publisher is None:
        raise TextError(f"unknown publisher {first.publisher!r}; add it to PUBLISHERS")
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    report = ID[f"report/{slug}"]
    graph.add((report, RDF.type, DCDR.Report))
    _labelled(graph, report, first.report, report_en, title=True)
    graph.add((report, DCTERMS.publisher, ID[f"agency/{publisher}"]))
    if slug in RELEASES:
        issued, covered = RELEASES[slug]
        graph.add((report, DCTERMS.issued, Literal(issued, datatype=XSD.date)))
        graph.add((report, DCTERMS.temporal, Literal(covered, datatype=XSD.gYear)))
    texts = {part.number: part for part in parsed.texts}
    for release in parsed.releases:
        part_iri = ID[f"part/{slug}-p{release.number}"]
        graph.add((part_iri, RDF.type, DCDR.ReportPart))
        title_en = f"{report_en}, Part {release.number}"
        _labelled(graph, part_iri, release.title, title_en, title=True)
        _link(graph, report, part_iri, release.number)
        if release.number in texts:
            _add_part_text(graph, part_iri, slug, texts[release.number])
    problems = span_problems(graph)
    if problems:
        raise TextError("; ".join(str(problem) for problem in problems))
    return graph


def read_source(path: Path) -> str:
    """The source exactly as stored: no newline translation, no stripping."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise TextError(f"source text not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TextError(f"cannot read source text {path}: {error}") from None


def load_text_graph(path: Path) -> Graph:
    return text_graph(read_source(path))


def span_problems(graph: Graph) -> list[Problem]:
    """Every span whose offsets do not reproduce its `nif:anchorOf` in its context string.

    Run on the text graph and again on the union, where observation mentions
    (`nif:Phrase`) are spans too.
    """
    problems = []
    for node, anchor in graph.subject_objects(NIF.anchorOf):
        focus = node.n3(graph.namespace_manager)
        begin = graph.value(node, NIF.beginIndex)
        end = graph.value(node, NIF.endIndex)
        context = graph.value(node, NIF.referenceContext)
        string = graph.value(context, NIF.isString) if context is not None else None
        if not (isinstance(begin, Literal) and isinstance(end, Literal)):
            problems.append(Problem("text-spans", focus, "span without begin or end index"))
        elif string is None:
            problems.append(Problem("text-spans", focus, "span without a context string"))
        else:
            b, e = begin.toPython(), end.toPython()
            if not (isinstance(b, int) and isinstance(e, int) and 0 <= b < e <= len(str(string))):
                problems.append(Problem("text-spans", focus, f"bad offsets [{begin}, {end})"))
            elif str(string)[b:e] != str(anchor):
                problems.append(
                    Problem(
                        "text-spans",
                        focus,
                        f"offsets [{b}, {e}) read {str(string)[b:e][:20]!r}…, "
                        f"anchorOf is {str(anchor)[:20]!r}…",
                    )
                )
    return problems
