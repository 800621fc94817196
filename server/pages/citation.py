"""How to cite a resource of the dataset: the report, its publisher, its release date, Part 4,
the section and sentence, the IRI, the dataset version and the date accessed.

One `Citation` is gathered from the store and written as plain text (Chinese or English),
BibTeX, RIS and CSL-JSON. No citation library is used: the four formats are small and fixed,
and the ones on PyPI format from CSL-JSON rather than write it.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef

from graph.namespaces import DATASET_IRI, DCTERMS, ID, OWL, PROV, RDFS, SCHEMA, SKOS

from . import i18n, resources

REPORT = ID["report/dcdr-2020"]
PART = ID["part/dcdr-2020-p4"]
PART_NUMBER = 4
# The release date, for a graph that does not state dcterms:issued yet. Source: China News
# Service, "《数字中国发展报告(2020年)》发布", Fuzhou, 25 April 2021 (the 4th Digital China Summit).
RELEASED = "2021-04-25"

# format name → (media type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("text/plain", "txt"),
    "bibtex": ("application/x-bibtex", "bib"),
    "ris": ("application/x-research-info-systems", "ris"),
    "csl-json": ("application/vnd.citationstyles.csl+json", "json"),
}

Texts = dict[str, str]


@dataclass
class Citation:
    """Everything a citation of one resource names, labels in both languages."""

    iri: str
    title: Texts
    report: Texts
    publisher: Texts
    issued: str
    part: Texts
    dataset: Texts
    version: str
    accessed: datetime.date
    section_number: int | None = None
    section: Texts = field(default_factory=dict)
    sentence_number: int | None = None

    @property
    def key(self) -> str:
        """A citation key from the IRI: `dcdr-observation-china-judgements-online-visits-2020`."""
        rest = self.iri[len(str(ID)) :] if self.iri.startswith(str(ID)) else self.iri
        return "dcdr-" + re.sub(r"[^A-Za-z0-9-]+", "-", rest).strip("-")


def _texts(rows: list[dict[str, Any]], name: str) -> Texts:
    found: Texts = {}
    for row in sorted(rows, key=lambda r: str(r.get(name, ""))):
        value = row.get(name)
        if isinstance(value, Literal):
            found.setdefault((value.language or "").split("-")[0], str(value))
    return found


def _one(iri: URIRef, *props: URIRef) -> list[dict[str, Any]]:
    values = " ".join(resources.sparql_term(p) for p in props)
    return resources.select(
        f"SELECT ?v WHERE {{ VALUES ?p {{ {values} }} {resources.sparql_term(iri)} ?p ?v }}"
    )


def _labels(iri: URIRef) -> Texts:
    return _texts(_one(iri, SKOS.prefLabel, RDFS.label, DCTERMS.title), "v")


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def cited_text(iri: URIRef, kind: str) -> URIRef | None:
    """The sentence or section a resource is cited by: an observation's sentence, a sentence
    itself, a paragraph's or section's section, an entity's only source sentence."""
    term = resources.sparql_term
    if kind in ("sentence", "section"):
        return iri
    if kind == "observation":
        rows = _one(iri, PROV.wasDerivedFrom)
    elif kind == "paragraph":
        rows = _one(iri, DCTERMS.isPartOf)
    else:
        rows = resources.select(
            f"SELECT DISTINCT ?v WHERE {{ {term(iri)} {term(DCTERMS.source)} ?v . "
            f'FILTER(STRSTARTS(STR(?v), "{ID}sentence/")) }}'
        )
    found = sorted({str(row["v"]) for row in rows if isinstance(row.get("v"), URIRef)})
    return URIRef(found[0]) if len(found) == 1 else None


def gather(iri: URIRef, kind: str, title: Texts, today: datetime.date) -> Citation:
    """The citation of `iri` (of the given kind, titled `title`) as accessed `today`."""
    term = resources.sparql_term
    publisher_rows = _one(REPORT, DCTERMS.publisher)
    publisher = URIRef(str(publisher_rows[0]["v"])) if publisher_rows else None
    issued = _one(REPORT, DCTERMS.issued)
    version = _one(DATASET_IRI, OWL.versionInfo, SCHEMA.version)
    citation = Citation(
        iri=str(iri),
        title=title,
        report=_labels(REPORT),
        publisher=_labels(publisher) if publisher is not None else {},
        issued=str(issued[0]["v"]) if issued else RELEASED,
        part=_texts(_one(PART, DCTERMS.alternative), "v"),
        dataset=_texts(_one(DATASET_IRI, DCTERMS.title), "v"),
        version=str(version[0]["v"]) if version else "",
        accessed=today,
    )
    text = cited_text(iri, kind)
    if text is None:
        return citation
    if resources.kind_of(str(text)) == "section":
        section: URIRef | None = text
    else:
        rows = resources.select(
            f"SELECT ?v WHERE {{ {term(text)} {term(DCTERMS.isPartOf)}+ ?v . "
            f'FILTER(STRSTARTS(STR(?v), "{ID}section/")) }}'
        )
        section = URIRef(str(rows[0]["v"])) if rows else None
        position = _one(text, SCHEMA.position)
        citation.sentence_number = _int(position[0]["v"]) if position else None
    if section is not None:
        position = _one(section, SCHEMA.position)
        citation.section_number = _int(position[0]["v"]) if position else None
        citation.section = _labels(section)
    return citation


# --- the formats ------------------------------------------------------------------------------


def _pick(texts: Texts, lang: str) -> str:
    return i18n.pick_label(texts, lang, "")


def as_text(c: Citation, lang: str) -> str:
    """One line in the reader's language, in the order of a reference list entry."""
    if lang == "zh":
        where = f"《{_pick(c.report, 'zh')}》第四部分“{_pick(c.part, 'zh')}”"
        if c.section_number:
            where += f",第{c.section_number}节“{_pick(c.section, 'zh')}”"
        if c.sentence_number:
            where += f",第{c.sentence_number}句"
        version = f",版本 {c.version}" if c.version else ""
        # GB/T 7714 style: ASCII full stops followed by a space between the elements.
        return (
            f"{_pick(c.publisher, 'zh')}. {where}. {c.issued}发布. "
            f"{_pick(c.title, 'zh')}. 载: {_pick(c.dataset, 'zh')}{version}. "
            f"{c.iri} (访问日期: {c.accessed.isoformat()})."
        )
    where = f"{_pick(c.report, 'en')}, Part {PART_NUMBER}: “{_pick(c.part, 'en')}”"
    if c.section_number:
        where += f", section {c.section_number} “{_pick(c.section, 'en')}”"
    if c.sentence_number:
        where += f", sentence {c.sentence_number}"
    version = f", version {c.version}" if c.version else ""
    return (
        f"{_pick(c.publisher, 'en')}. {where}. Released {c.issued}. "
        f"{_pick(c.title, 'en')}. In: {_pick(c.dataset, 'en')}{version}. "
        f"{c.iri} (accessed {c.accessed.isoformat()})."
    )


def _locator(c: Citation, lang: str) -> str:
    parts = [f"Part {PART_NUMBER}" if lang != "zh" else "第四部分"]
    if c.section_number:
        parts.append(f"section {c.section_number}" if lang != "zh" else f"第{c.section_number}节")
    if c.sentence_number:
        parts.append(
            f"sentence {c.sentence_number}" if lang != "zh" else f"第{c.sentence_number}句"
        )
    return ", ".join(parts)


_BIBTEX_SPECIAL = re.compile(r"([&%$#_])")


def _bib(value: str) -> str:
    """A BibTeX field value: braces dropped (they would unbalance the entry), LaTeX's special
    characters escaped."""
    return _BIBTEX_SPECIAL.sub(r"\\\1", value.replace("{", "").replace("}", ""))


def as_bibtex(c: Citation, lang: str) -> str:
    year = c.issued[:4]
    fields = [
        ("title", _bib(_pick(c.title, lang))),
        # Double braces: a corporate author, not "Administration, Cyberspace".
        ("author", "{" + _bib(_pick(c.publisher, lang)) + "}"),
        ("organization", _bib(_pick(c.publisher, lang))),
        ("booktitle", _bib(_pick(c.report, lang))),
        ("chapter", _bib(_locator(c, lang))),
        ("year", year),
        ("date", c.issued),
        ("version", _bib(c.version)),
        ("howpublished", _bib(_pick(c.dataset, lang))),
        ("url", c.iri),
        ("urldate", c.accessed.isoformat()),
        ("langid", "chinese" if lang == "zh" else "english"),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{c.key},\n{body}\n}}\n"


def as_ris(c: Citation, lang: str) -> str:
    """RIS: `TAG  - value` lines, CRLF, `TY` first and `ER` last."""
    lines = [
        ("TY", "DATA"),
        ("TI", _pick(c.title, lang)),
        ("AU", _pick(c.publisher, lang) + ","),
        ("PB", _pick(c.publisher, lang)),
        ("T2", _pick(c.report, lang)),
        ("SE", _locator(c, lang)),
        ("PY", c.issued[:4]),
        ("DA", c.issued.replace("-", "/")),
        ("ET", c.version),
        ("DB", _pick(c.dataset, lang)),
        ("UR", c.iri),
        ("Y2", c.accessed.strftime("%Y/%m/%d")),
        ("LA", lang),
        ("ER", ""),
    ]
    return "".join(f"{tag}  - {value}\r\n" for tag, value in lines if value or tag == "ER")


def _date_parts(value: str) -> dict[str, list[list[int]]]:
    return {"date-parts": [[int(part) for part in value.split("-") if part.isdigit()]]}


def as_csl(c: Citation, lang: str) -> list[dict[str, Any]]:
    item: dict[str, Any] = {
        "id": c.key,
        "type": "dataset",
        "title": _pick(c.title, lang),
        "author": [{"literal": _pick(c.publisher, lang)}],
        "publisher": _pick(c.publisher, lang),
        "container-title": _pick(c.report, lang),
        "section": _locator(c, lang),
        "issued": _date_parts(c.issued),
        "accessed": _date_parts(c.accessed.isoformat()),
        "URL": c.iri,
        "language": "zh-CN" if lang == "zh" else "en",
    }
    if c.version:
        item["version"] = c.version
    if c.dataset:
        item["archive"] = _pick(c.dataset, lang)
    return [item]


def render(c: Citation, fmt: str, lang: str) -> str:
    """The citation in one of FORMATS."""
    if fmt == "text":
        return as_text(c, lang) + "\n"
    if fmt == "bibtex":
        return as_bibtex(c, lang)
    if fmt == "ris":
        return as_ris(c, lang)
    if fmt == "csl-json":
        return json.dumps(as_csl(c, lang), ensure_ascii=False, indent=1) + "\n"
    raise ValueError(f"unknown citation format {fmt!r}")
