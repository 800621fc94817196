"""`/report`: Part 4 to read, section by section and paragraph by paragraph, every figure
highlighted (the span of its `nif:Phrase` mention) and linked to its observation.

The text comes from the store's text layer (sentences with their offsets) and the figures from
the same rows as `/figures`, so the page and the table never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from rdflib import Literal

from graph.namespaces import DCTERMS, ID, NIF, SCHEMA
from graph.text import chinese_numeral

from . import i18n, resources
from .figure_records import FigureRecord, load_records
from .figures_pages import figure_title

bp = Blueprint("report", __name__, template_folder="templates")

PART = ID["part/dcdr-2020-p4"]

TEXT_QUERY = """SELECT ?section ?secpos ?para ?ppos ?sentence ?spos ?text ?begin WHERE {{
  ?sentence a {sentence} ; {anchor} ?text ; {begin} ?begin ; {part_of} ?para .
  ?para {part_of} ?section .
  FILTER(STRSTARTS(STR(?section), "{sections}"))
  OPTIONAL {{ ?section {position} ?secpos }}
  OPTIONAL {{ ?para {position} ?ppos }}
  OPTIONAL {{ ?sentence {position} ?spos }}
}} ORDER BY ?begin"""


@dataclass
class Mark:
    """A figure in its sentence: the text and the observations it states (usually one)."""

    text: str
    figures: list[tuple[str, str]] = field(default_factory=list)  # (href, title)


@dataclass
class SentenceText:
    """A sentence cut into plain text and marked figures."""

    link: resources.Link
    number: int | None
    pieces: list[str | Mark]


@dataclass
class ParagraphText:
    link: resources.Link
    anchor: str
    sentences: list[SentenceText] = field(default_factory=list)
    figure_count: int = 0


@dataclass
class SectionText:
    link: resources.Link
    anchor: str
    heading: str
    paragraphs: list[ParagraphText] = field(default_factory=list)

    @property
    def figure_count(self) -> int:
        return sum(paragraph.figure_count for paragraph in self.paragraphs)


def _span(record: FigureRecord, text: str, begin: int) -> tuple[int, int] | None:
    """Where the figure stands in its sentence: its mention's offsets, else its written form."""
    if record.mention is not None:
        start, end = record.mention[0] - begin, record.mention[1] - begin
        if 0 <= start < end <= len(text):
            return start, end
    if record.stated_as:
        where = text.find(record.stated_as)
        if where >= 0:
            return where, where + len(record.stated_as)
    return None


def cut(text: str, begin: int, records: list[FigureRecord], lang: str) -> list[str | Mark]:
    """The sentence as text and marks. A figure whose span overlaps an earlier one joins that
    mark (two observations of one phrase), so every figure keeps a link."""
    spans: list[tuple[int, int, FigureRecord]] = []
    unplaced: list[FigureRecord] = []
    for record in records:
        where = _span(record, text, begin)
        if where is None:
            unplaced.append(record)
        else:
            spans.append((where[0], where[1], record))
    spans.sort(key=lambda item: (item[0], -item[1], item[2].observation))
    pieces: list[str | Mark] = []
    position = 0
    last: tuple[int, Mark] | None = None
    for start, end, record in spans:
        entry = (resources.local_href(record.observation) or "", figure_title(record, lang))
        if last is not None and start < last[0]:
            last[1].figures.append(entry)
            continue
        if start > position:
            pieces.append(text[position:start])
        mark = Mark(text[start:end], [entry])
        pieces.append(mark)
        position, last = end, (end, mark)
    if position < len(text):
        pieces.append(text[position:])
    if unplaced and last is not None:
        last[1].figures.extend(
            (resources.local_href(r.observation) or "", figure_title(r, lang)) for r in unplaced
        )
    return pieces


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def report_text(lang: str) -> list[SectionText]:
    """Part 4's sections, paragraphs and sentences in the report's order, figures marked."""
    term = resources.sparql_term
    rows = resources.select(
        TEXT_QUERY.format(
            sentence=term(NIF.Sentence),
            anchor=term(NIF.anchorOf),
            begin=term(NIF.beginIndex),
            part_of=term(DCTERMS.isPartOf),
            position=term(SCHEMA.position),
            sections=f"{ID}section/",
        )
    )
    by_sentence: dict[str, list[FigureRecord]] = {}
    for record in load_records():
        by_sentence.setdefault(record.sentence, []).append(record)
    labels = resources.fetch_labels(
        {str(row["section"]) for row in rows} | {str(row["para"]) for row in rows}
    )
    sections: dict[str, SectionText] = {}
    paragraphs: dict[str, ParagraphText] = {}
    seen: set[str] = set()
    for row in rows:
        sentence = str(row["sentence"])
        if sentence in seen:
            continue
        seen.add(sentence)
        section_iri, para_iri = str(row["section"]), str(row["para"])
        if section_iri not in sections:
            number = _int(row.get("secpos"))
            label = resources.make_link(section_iri, labels, lang)
            heading = label.label
            if number is not None and 1 <= number <= 99:
                marker = f"({chinese_numeral(number)})" if lang == "zh" else f"({number}) "
                heading = marker + heading
            sections[section_iri] = SectionText(label, section_iri.rsplit("/", 1)[-1], heading)
        if para_iri not in paragraphs:
            paragraph = ParagraphText(
                resources.make_link(para_iri, labels, lang), para_iri.rsplit("/", 1)[-1]
            )
            paragraphs[para_iri] = paragraph
            sections[section_iri].paragraphs.append(paragraph)
        records = by_sentence.get(sentence, [])
        text = str(row["text"])
        paragraphs[para_iri].figure_count += len(records)
        paragraphs[para_iri].sentences.append(
            SentenceText(
                link=resources.make_link(sentence, {}, lang),
                number=_int(row.get("spos")),
                pieces=cut(text, _int(row["begin"]) or 0, records, lang),
            )
        )
    return list(sections.values())


@bp.route("/report")
def report() -> ResponseReturnValue:
    """Part 4 of the report to read."""
    lang = i18n.current_language()
    sections = report_text(lang)
    titles = {
        (row["t"].language or "") if isinstance(row["t"], Literal) else "": str(row["t"])
        for row in resources.select(
            f"SELECT ?t WHERE {{ {resources.sparql_term(PART)} "
            f"{resources.sparql_term(DCTERMS.alternative)} ?t }}"
        )
    }
    title = i18n.pick_label(titles, lang, "")
    return Response(
        render_template(
            "report.html",
            sections=sections,
            part_title=title,
            part_href=resources.local_href(str(PART)),
            figure_total=sum(section.figure_count for section in sections),
        ),
        mimetype="text/html",
    )
