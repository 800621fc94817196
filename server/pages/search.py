"""Finding things: label search, the members of a class, the terms of the ontology.

Label search covers the Chinese and English names of everything in the graph.

The search text is also looked for in its other forms (traditional characters folded to
simplified, other English spellings: `text_search.forms`), and in English definitions, which
rank after every name.

Chinese needs no word segmentation here: a substring test finds 法院 inside 杭州互联网法院.
The store filters by substring; ranking happens here so that exact names come first, then names
that start with the words searched, then the rest, shorter names before longer ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import url_for
from rdflib import Literal, URIRef

from graph.namespaces import DCDR, ONTOLOGY_IRI, OWL, RDF, RDFS, SKOS, graph_iri

from . import i18n, text_search
from .resources import Link, fetch_labels, kind_of, make_link, select, sparql_term

MAX_QUERY_LENGTH = 200
MAX_RESULTS = 100
# Candidate rows fetched before ranking; generous, because one entity has several labels.
MAX_CANDIDATES = 2000
EXACT, PREFIX, SUBSTRING, WORDS, DEFINITION = 0, 1, 2, 3, 4
# WORDS: every word of a search of several words, not side by side (court + visits).
MATCHES = ("exact", "prefix", "substring", "words", "definition")


@dataclass(frozen=True)
class Candidate:
    """One label that contains the searched text."""

    iri: str
    label: str
    lang: str


@dataclass(frozen=True)
class Hit:
    """One search result: the best-matching label of one resource."""

    iri: str
    href: str | None
    title: str
    matched: str
    lang: str
    kind: str
    types: tuple[str, ...]
    rank: int

    def as_json(self) -> dict[str, object]:
        return {
            "iri": self.iri,
            "href": self.href,
            "label": self.title,
            "matched": self.matched,
            "lang": self.lang,
            "kind": self.kind,
            "types": list(self.types),
            "match": self.match,
        }

    @property
    def match(self) -> str:
        return MATCHES[self.rank]


class SearchInputError(ValueError):
    """The search text cannot be used (empty or too long)."""


def normalize(text: str) -> str:
    """Case and surrounding space do not matter; full-width forms do (the report uses both)."""
    return " ".join(text.split()).casefold()


def match_rank(query: str, label: str) -> int | None:
    """EXACT, PREFIX or SUBSTRING for a label containing `query`, None otherwise."""
    wanted, name = normalize(query), normalize(label)
    if not wanted or wanted not in name:
        return None
    if name == wanted:
        return EXACT
    return PREFIX if name.startswith(wanted) else SUBSTRING


def has_every_word(words: list[list[str]], label: str) -> bool:
    """Each word (given in its forms) occurs in `label`."""
    name = normalize(label)
    return len(words) > 1 and all(any(normalize(f) in name for f in forms) for forms in words)


def rank(
    query: str | list[str],
    candidates: list[Candidate],
    definitions: frozenset[str] = frozenset(),
    words: list[list[str]] | None = None,
) -> list[tuple[int, Candidate]]:
    """The best label of each resource, ordered exact → prefix → substring → every word, then
    shorter first; `query` may be several forms of one search text (the best form counts), and
    `words` the forms of each of its words. Candidates whose text is in `definitions` matched
    by their definition and come last."""
    wanted = [query] if isinstance(query, str) else query
    best: dict[str, tuple[int, int, str, Candidate]] = {}
    for candidate in candidates:
        found = [r for r in (match_rank(w, candidate.label) for w in wanted) if r is not None]
        if not found and words and has_every_word(words, candidate.label):
            found = [WORDS]
        if not found:
            continue
        where = DEFINITION if candidate.label in definitions else min(found)
        key = (where, len(candidate.label), candidate.label, candidate)
        current = best.get(candidate.iri)
        if current is None or key[:3] < current[:3]:
            best[candidate.iri] = key
    ordered = sorted(best.values(), key=lambda item: (item[0], item[1], item[2], item[3].iri))
    return [(item[0], item[3]) for item in ordered]


def search(query: str, lang: str, limit: int = MAX_RESULTS) -> list[Hit]:
    """Resources whose zh or en label contains `query`, best first."""
    text = " ".join(query.split())
    if not text:
        raise SearchInputError("empty search")
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchInputError(f"search text longer than {MAX_QUERY_LENGTH} characters")
    wanted = text_search.forms(text)
    condition = text_search.contains_any("?label", wanted)
    words = text_search.word_forms(text)
    if words:
        every = " && ".join(f"({text_search.contains_any('?label', w)})" for w in words)
        condition = f"{condition} || ({every})"
    props = " ".join(
        sparql_term(p) for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.definition)
    )
    rows = select(
        f"SELECT DISTINCT ?s ?p ?label WHERE {{ VALUES ?p {{ {props} }} ?s ?p ?label . "
        f"FILTER(isIRI(?s) && isLiteral(?label) && ({condition})) }} "
        f"LIMIT {MAX_CANDIDATES}"
    )
    candidates = [
        Candidate(str(row["s"]), str(row["label"]), cast(Literal, row["label"]).language or "")
        for row in rows
    ]
    # English definitions are searched; Chinese definitions too, but a definition is never a
    # name, so its matches rank after every name.
    definitions = frozenset(str(row["label"]) for row in rows if row["p"] == SKOS.definition)
    ranked = rank(wanted, candidates, definitions, words)[:limit]
    iris = [candidate.iri for _, candidate in ranked]
    types = _types(iris)
    labels = fetch_labels(iris + [t for ts in types.values() for t in ts])
    hits = []
    for where, candidate in ranked:
        link = make_link(candidate.iri, labels, lang)
        type_names = tuple(
            i18n.pick_label(labels.get(t, {}), lang, make_link(t, {}, lang).compact)
            for t in types.get(candidate.iri, [])
        )
        hits.append(
            Hit(
                iri=candidate.iri,
                href=link.href,
                title=link.label,
                matched=candidate.label,
                lang=candidate.lang,
                kind=kind_of(candidate.iri),
                types=type_names,
                rank=where,
            )
        )
    return hits


@dataclass
class Answer:
    """Everything a search finds: names, the report's sentences, and when nothing is found,
    how often each of its words occurs in the report's text."""

    hits: list[Hit]
    sentences: list[text_search.SentenceHit]
    occurrences: list[tuple[str, int]]
    forms: tuple[str, ...] = ()

    def marked(self, text: str) -> list[tuple[str, bool]]:
        """`text` cut around the search's hits, to mark them on the page."""
        return text_search.cut(text, list(self.forms))

    @property
    def english_only(self) -> bool:
        return not any(text_search.has_chinese(word) for word, _ in self.occurrences)

    def as_json(self, query: str) -> dict[str, object]:
        return {
            "query": query,
            "forms": text_search.forms(query),
            "results": [hit.as_json() for hit in self.hits],
            "sentences": [sentence.as_json() for sentence in self.sentences],
            "occurrences": [{"word": w, "sentences": n} for w, n in self.occurrences],
        }


def search_everything(query: str, lang: str) -> Answer:
    """Names and sentences; the words' occurrences in the text only when both find nothing."""
    hits = search(query, lang)
    forms = text_search.forms(query)
    words = text_search.word_forms(query)
    sentences = text_search.sentences(forms, lang, words)
    marks = forms + [form for each in words for form in each]
    occurrences: list[tuple[str, int]] = []
    if not hits and not sentences:
        occurrences = text_search.occurrences(" ".join(query.split()).split(" "))
    return Answer(hits, sentences, occurrences, tuple(marks))


def _types(iris: list[str]) -> dict[str, list[str]]:
    """Asserted-looking types: the ones in the project's ontology namespace, else any."""
    if not iris:
        return {}
    values = " ".join(sparql_term(URIRef(iri)) for iri in iris)
    rows = select(
        f"SELECT DISTINCT ?s ?type WHERE {{ VALUES ?s {{ {values} }} "
        f"?s {sparql_term(RDF.type)} ?type . FILTER(isIRI(?type)) }}"
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row["s"]), []).append(str(row["type"]))
    own = str(DCDR)
    return {
        iri: sorted(t for t in types if t.startswith(own)) or sorted(types)[:1]
        for iri, types in found.items()
    }


# --- members of the ontology's classes -----------------------------------------------------


def classes(lang: str) -> list[tuple[Link, str, int, str]]:
    """The ontology's classes that have members: link, members page, member count, label in
    the other language."""
    rows = select(
        f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s {sparql_term(RDF.type)} ?c . "
        f'FILTER(STRSTARTS(STR(?c), "{DCDR}")) }} GROUP BY ?c'
    )
    labels = fetch_labels(str(row["c"]) for row in rows)
    other = i18n.ordered_languages(lang)[1]
    found = []
    for row in rows:
        iri = str(row["c"])
        local = iri[len(str(DCDR)) :]
        if not local or "/" in local:
            continue
        link = make_link(iri, labels, lang)
        second = labels.get(iri, {}).get(other, "")
        members_href = url_for("pages.class_members", name=local)
        found.append(
            (link, members_href, int(str(row["n"])), "" if second == link.label else second)
        )
    return sorted(found, key=lambda item: item[0].label)


def class_members(cls: URIRef, lang: str) -> tuple[Link, list[tuple[Link, str]]]:
    """The class itself and every member (asserted or inferred), sorted by label, each with
    its label in the other language ("" when it has none or the same one)."""
    rows = select(f"SELECT DISTINCT ?s WHERE {{ ?s {sparql_term(RDF.type)} {sparql_term(cls)} }}")
    members = [str(row["s"]) for row in rows if isinstance(row["s"], URIRef)]
    labels = fetch_labels([str(cls), *members])
    other = i18n.ordered_languages(lang)[1]
    found = []
    for iri in members:
        link = make_link(iri, labels, lang)
        second = labels.get(iri, {}).get(other, "")
        found.append((link, "" if second == link.label else second))
    ordered = sorted(found, key=lambda item: (item[0].label, item[0].iri))
    return make_link(str(cls), labels, lang), ordered


# --- the ontology's own terms ---------------------------------------------------------------


@dataclass
class OntologyTerm:
    """A term of the ontology as listed on its page (`id` = its local name)."""

    anchor: str
    label: str
    other_label: str
    comment: str
    supers: list[Link]
    members_href: str | None


CLASS_TYPES = (OWL.Class, RDFS.Class)
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)


def ontology_terms(lang: str) -> list[tuple[str, list[OntologyTerm]]]:
    """The ontology's own terms, grouped into classes, properties and other terms."""
    onto = sparql_term(graph_iri("ontology"))
    rows = select(
        f"SELECT ?term ?type ?super WHERE {{ GRAPH {onto} {{ ?term a ?type . OPTIONAL {{ "
        f"?term {sparql_term(RDFS.subClassOf)}|{sparql_term(RDFS.subPropertyOf)} ?super . "
        f'FILTER(isIRI(?super)) }} }} FILTER(STRSTARTS(STR(?term), "{DCDR}")) }}'
    )
    comments = select(
        f"SELECT ?term ?c WHERE {{ GRAPH {onto} {{ ?term {sparql_term(RDFS.comment)} ?c }} }}"
    )
    supers: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for row in rows:
        term, kind = str(row["term"]), row["type"]
        group = "ontology.classes" if kind in CLASS_TYPES else ""
        group = "ontology.properties" if kind in PROPERTY_TYPES else group
        if group or term not in kinds:
            kinds[term] = group or kinds.get(term, "")
        if "super" in row and str(row["super"]) not in supers.setdefault(term, []):
            supers[term].append(str(row["super"]))
    labels = fetch_labels([*kinds, *(s for ups in supers.values() for s in ups)])
    comment_text: dict[str, dict[str, str]] = {}
    for row in comments:
        obj = cast(Literal, row["c"])
        comment_text.setdefault(str(row["term"]), {}).setdefault(obj.language or "", str(obj))
    groups: dict[str, list[OntologyTerm]] = {}
    other = i18n.ordered_languages(lang)[1]
    for term in sorted(kinds):
        local = term[len(str(DCDR)) :]
        own = labels.get(term, {})
        groups.setdefault(kinds[term] or "res.more", []).append(
            OntologyTerm(
                anchor=local,
                label=i18n.pick_label(own, lang, local),
                other_label=own.get(other, ""),
                comment=i18n.pick_label(comment_text.get(term, {}), lang, ""),
                supers=[make_link(s, labels, lang) for s in supers.get(term, [])],
                members_href=url_for("pages.class_members", name=local)
                if kinds[term] == "ontology.classes"
                else None,
            )
        )
    order = ["ontology.classes", "ontology.properties", "res.more"]
    return [(key, groups[key]) for key in order if key in groups]


def ontology_title(lang: str) -> str:
    """The ontology's own title, else a plain name."""
    labels = fetch_labels([str(ONTOLOGY_IRI)])
    return i18n.pick_label(labels.get(str(ONTOLOGY_IRI), {}), lang, "dcdr ontology")
