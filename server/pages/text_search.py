"""Searching the report's own words: the forms a search text is looked for in, the sentences
that contain it, and, when nothing is found, whether its words occur in the text at all.

The report is written in simplified Chinese, so a search in traditional characters is folded to
simplified with OpenCC (its `t2s` dictionaries ship inside the wheel; nothing is downloaded).
English is looked for in labels and definitions only (the text has no English); British and
American spellings of one word (judgement/judgment) find each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rdflib import Literal

from graph.namespaces import NIF, RDF

from . import i18n
from .figure_records import FigureRecord, load_records
from .figures_pages import figure_title
from .resources import Link, make_link, select, sparql_term

MAX_SENTENCES = 60

# Spelling pairs of one English word, (British, American); each side finds the other. A small
# list of the words this dataset's labels and definitions use, not a dictionary.
SPELLINGS = (
    ("judgement", "judgment"),
    ("centre", "center"),
    ("programme", "program"),
    ("licence", "license"),
    ("defence", "defense"),
    ("catalogue", "catalog"),
    ("e-government", "egovernment"),
    ("online", "on-line"),
)
# -ise/-isation and -yse forms: organisation/organization, standardise/standardize, analyse.
SUFFIXES = (("isation", "ization"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"))
SENTENCE_SLUG = re.compile(r"/sentence/p4-s(\d+)-(\d+)$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _converter() -> object:
    import opencc

    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    """Traditional characters folded to simplified (裁判文書網 → 裁判文书网)."""
    if not CJK.search(text):
        return text
    converted: str = _converter().convert(text)  # type: ignore[attr-defined]
    return converted


def _spelling_forms(word: str) -> set[str]:
    forms = {word}
    for british, american in SPELLINGS:
        for one, other in ((british, american), (american, british)):
            if one in word:
                forms.add(word.replace(one, other))
    for british, american in SUFFIXES:
        for one, other in ((british, american), (american, british)):
            if word.endswith(one) and len(word) > len(one) + 2:
                forms.add(word[: -len(one)] + other)
    return forms


def forms(text: str) -> list[str]:
    """The search text as typed, folded to simplified, and in its other English spellings
    (lower case where it has Latin letters); the first is the text itself."""
    base = " ".join(text.split())
    found = [base]
    simplified = to_simplified(base)
    if simplified not in found:
        found.append(simplified)
    words = simplified.casefold().split(" ")
    variants = [""]
    for word in words:
        variants = [f"{head} {form}".strip() for head in variants for form in _spelling_forms(word)]
    for variant in sorted(variants):
        if variant != simplified.casefold() and variant not in found:
            found.append(variant)
    return found


def has_chinese(text: str) -> bool:
    return bool(CJK.search(text))


def contains_any(variable: str, wanted: list[str]) -> str:
    """A SPARQL condition: `variable`, lower-cased, contains one of `wanted`."""
    return " || ".join(
        f"CONTAINS(LCASE(STR({variable})), {sparql_term(Literal(w.casefold()))})" for w in wanted
    )


@dataclass
class SentenceHit:
    """A sentence of the report that contains the search text, cut around each hit."""

    sentence: Link
    pieces: list[tuple[str, bool]]
    begin: int
    figures: list[Link] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "iri": self.sentence.iri,
            "href": self.sentence.href,
            "text": "".join(text for text, _ in self.pieces),
            "hits": [text for text, hit in self.pieces if hit],
            "figures": [{"iri": f.iri, "href": f.href, "label": f.label} for f in self.figures],
        }


def cut(text: str, wanted: list[str]) -> list[tuple[str, bool]]:
    """`text` as pieces, each marked whether it is a hit of one of `wanted` (case ignored)."""
    folded = text.casefold()
    marks = [False] * len(text)
    for word in wanted:
        needle = word.casefold()
        start = folded.find(needle) if needle else -1
        while start >= 0:
            for index in range(start, start + len(needle)):
                marks[index] = True
            start = folded.find(needle, start + len(needle))
    pieces: list[tuple[str, bool]] = []
    for char, mark in zip(text, marks, strict=True):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + char, mark)
        else:
            pieces.append((char, mark))
    return pieces


def word_forms(text: str) -> list[list[str]]:
    """The forms of each word of a search of several words; [] for a single word."""
    words = " ".join(text.split()).split(" ")
    return [forms(word) for word in words] if len(words) > 1 else []


def sentences(
    wanted: list[str], lang: str, words: list[list[str]] | None = None
) -> list[SentenceHit]:
    """The report's sentences that contain one of `wanted`, or every one of `words` (each in
    one of its forms), in the report's order, each with links to the figures it states."""
    condition = contains_any("?text", wanted)
    if words:
        every = " && ".join(f"({contains_any('?text', forms)})" for forms in words)
        condition = f"{condition} || ({every})"
    marks = wanted + [form for forms in words or [] for form in forms]
    rows = select(
        f"SELECT DISTINCT ?s ?text ?begin WHERE {{ ?s {sparql_term(RDF.type)} "
        f"{sparql_term(NIF.Sentence)} ; {sparql_term(NIF.anchorOf)} ?text ; "
        f"{sparql_term(NIF.beginIndex)} ?begin . FILTER({condition}) }}"
    )
    hits: dict[str, SentenceHit] = {}
    for row in rows:
        iri = str(row["s"])
        if iri not in hits:
            link = make_link(iri, {}, lang)
            numbers = SENTENCE_SLUG.search(iri)
            if numbers:
                name = i18n.translate("fig.sentence_n", lang)
                link = replace(link, label=name.format(section=numbers[1], n=int(numbers[2])))
            hits[iri] = SentenceHit(
                sentence=link,
                pieces=cut(str(row["text"]), marks),
                begin=int(str(row["begin"])),
            )
    ordered = sorted(hits.values(), key=lambda hit: hit.begin)[:MAX_SENTENCES]
    if ordered:
        by_sentence: dict[str, list[FigureRecord]] = {}
        for record in load_records():
            by_sentence.setdefault(record.sentence, []).append(record)
        for hit in ordered:
            for record in by_sentence.get(hit.sentence.iri, []):
                link = make_link(record.observation, {}, lang)
                hit.figures.append(replace(link, label=figure_title(record, lang)))
    return ordered


def occurrences(words: list[str]) -> list[tuple[str, int]]:
    """How often each word (folded to simplified) occurs in the report's text (the whole of
    Part 4, headings included), counted in sentences when it is in one, else 1 if anywhere."""
    found = []
    for word in words:
        wanted = forms(word)
        condition = contains_any("?text", wanted)
        rows = select(
            f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s {sparql_term(RDF.type)} "
            f"{sparql_term(NIF.Sentence)} ; {sparql_term(NIF.anchorOf)} ?text . "
            f"FILTER({condition}) }}"
        )
        count = int(str(rows[0]["n"])) if rows else 0
        if count == 0:
            anywhere = select(
                f"SELECT ?c WHERE {{ ?c {sparql_term(NIF.isString)} ?text . "
                f"FILTER({condition}) }} LIMIT 1"
            )
            count = 1 if anywhere else 0
        found.append((word, count))
    return found
