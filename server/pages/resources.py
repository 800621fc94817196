"""What the pages know about one resource, asked of the store in SPARQL.

Every question goes through the app's `QueryStore` as query text, so the pages work the same on
the embedded Oxigraph store and on a remote SPARQL store. Answers come back as SPARQL JSON
results or N-Triples and are read with rdflib's own parsers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import current_app, url_for
from rdflib import Graph, Literal, URIRef
from rdflib.query import Result
from rdflib.term import Node

from graph.namespaces import (
    BASE,
    CC,
    DATASET_IRI,
    DCDR,
    DCTERMS,
    GRAPH_NAMES,
    ID,
    NIF,
    ONTOLOGY_IRI,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VOID,
    graph_iri,
)
from server.stores.store import DatasetSpec, QueryStore

from . import i18n

JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
DEFAULT_TIMEOUT = 10.0
# How far the concise bounded description follows chains of blank nodes.
BLANK_DEPTH = 3
# Label properties in order of preference (a preferred label wins over a plain one).
LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label, DCTERMS.title)
INCOMING_LIMIT = 500


# --- talking to the store ---------------------------------------------------------------


def app_store() -> QueryStore:
    """The store the app was created with."""
    return cast(QueryStore, current_app.extensions["dcdr"].store)


def query_timeout() -> float:
    """The time limit the app applies to every query (pages and endpoint alike)."""
    settings = getattr(current_app.extensions["dcdr"], "settings", None)
    value = getattr(settings, "timeout", None)
    return float(value) if isinstance(value, int | float) else DEFAULT_TIMEOUT


def _answer(text: str, media_type: str) -> bytes:
    return app_store().query(text, DatasetSpec(), media_type, query_timeout()).body


def _graph_answer(text: str) -> bytes:
    store = app_store()
    return store.query(text, DatasetSpec(), "", query_timeout(), graph_media_type=N_TRIPLES).body


def select(text: str) -> list[dict[str, Node]]:
    """Runs a SELECT query; one dict per row, unbound variables left out."""
    result = Result.parse(io.BytesIO(_answer(text, JSON_RESULTS)), format="json")
    rows: list[dict[str, Node]] = []
    for row in result:
        bindings = cast(Any, row).asdict()
        rows.append({name: term for name, term in bindings.items() if term is not None})
    return rows


def ask(text: str) -> bool:
    """Runs an ASK query."""
    result = Result.parse(io.BytesIO(_answer(text, JSON_RESULTS)), format="json")
    return bool(result.askAnswer)


def construct(text: str) -> Graph:
    """Runs a CONSTRUCT query into an rdflib graph with the project's prefixes bound."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    graph.parse(data=_graph_answer(text).decode("utf-8"), format="nt")
    return graph


def sparql_term(term: Node) -> str:
    """A term written for a query; rdflib escapes quotes and angle brackets."""
    return cast(Any, term).n3()


def prologue() -> str:
    return "".join(f"PREFIX {prefix}: <{ns}>\n" for prefix, ns in PREFIXES.items())


# --- names and links ---------------------------------------------------------------------


def compact(iri: str) -> str:
    """`dcdr:Agency` for the ontology's Agency; the longest matching prefix wins."""
    best = ""
    best_prefix = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(str(namespace)) and len(str(namespace)) > len(best):
            best, best_prefix = str(namespace), prefix
    return f"{best_prefix}:{iri[len(best) :]}" if best else iri


def local_href(iri: str) -> str | None:
    """The path on this server that answers for one of the project's IRIs, if any."""
    if iri.startswith(str(ID)):
        rest = iri[len(str(ID)) :]
        return url_for("pages.dereference", rest=rest) if rest else None
    if iri == str(ONTOLOGY_IRI) or iri == str(ONTOLOGY_IRI) + "/":
        return url_for("pages.ontology")
    if iri.startswith(str(DCDR)):
        return url_for("pages.ontology") + "#" + iri[len(str(DCDR)) :]
    return None


# Characters an IRI never holds (RFC 3987 §2.2, as rdflib refuses to write them in a query).
_NOT_IN_IRIS = frozenset('<>"{}|\\^` ')


def writable_as_iri(text: str) -> bool:
    """True when `text` can be written as an IRI in a query (no space, quote, angle bracket…)."""
    return not any(char in _NOT_IN_IRIS for char in text)


def iri_for_path(rest: str) -> URIRef:
    """The IRI that `/id/<rest>` answers for."""
    return URIRef(str(ID) + rest)


def kind_of(iri: str) -> str:
    """`platform` for `…/id/platform/x`; empty for IRIs outside `id/`."""
    if not iri.startswith(str(ID)):
        return ""
    return iri[len(str(ID)) :].split("/", 1)[0]


@dataclass(frozen=True)
class Link:
    """An IRI as shown on a page: its label, where it leads, its compact form."""

    iri: str
    label: str
    href: str | None
    compact: str
    external: bool


@dataclass(frozen=True)
class Value:
    """One object of a statement: a link, or a literal with its language or datatype."""

    link: Link | None = None
    text: str = ""
    lang: str = ""
    datatype: str = ""


Labels = dict[str, dict[str, str]]


def fetch_labels(iris: Iterable[str]) -> Labels:
    """Labels of many IRIs at once: IRI → language → label."""
    wanted = sorted({iri for iri in iris if iri})
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        values = " ".join(sparql_term(URIRef(iri)) for iri in chunk)
        props = " ".join(sparql_term(prop) for prop in LABEL_PROPERTIES)
        rows = select(
            f"SELECT ?s ?p ?label WHERE {{ VALUES ?s {{ {values} }} VALUES ?p {{ {props} }} "
            "?s ?p ?label . FILTER(isLiteral(?label)) }"
        )
        for row in rows:
            label = row["label"]
            lang = (cast(Literal, label).language or "").lower().split("-")[0]
            rank = LABEL_PROPERTIES.index(cast(URIRef, row["p"]))
            current = found.setdefault(str(row["s"]), {})
            text = str(label)
            if lang not in current or (rank, text) < current[lang]:
                current[lang] = (rank, text)
    return {
        iri: {lang: text for lang, (_, text) in by_lang.items()} for iri, by_lang in found.items()
    }


def fallback_name(iri: str) -> str:
    """A readable name for an unlabelled IRI: its compact form."""
    if iri.startswith(str(ID)):
        return iri[len(str(ID)) :]
    return compact(iri)


def make_link(iri: str, labels: Labels, lang: str) -> Link:
    """A link to a resource, labelled in the reader's language."""
    href = local_href(iri)
    name = i18n.pick_label(labels.get(iri, {}), lang, fallback_name(iri))
    external = href is None and iri.startswith(("http://", "https://")) and not iri.startswith(BASE)
    return Link(iri, name, href or (iri if external else None), compact(iri), external)


def make_value(term: Node, labels: Labels, lang: str) -> Value:
    """A statement's object ready to show."""
    if isinstance(term, URIRef):
        return Value(link=make_link(str(term), labels, lang))
    if isinstance(term, Literal):
        datatype = compact(str(term.datatype)) if term.datatype else ""
        return Value(text=str(term), lang=term.language or "", datatype=datatype)
    return Value(text="[ ]")


# --- the concise bounded description -----------------------------------------------------


def description_query(iri: URIRef) -> str:
    """CONSTRUCT of `iri`'s concise bounded description.

    Its own triples, triples of blank nodes reachable from it (up to BLANK_DEPTH), the labels of
    what it points to, and the triples pointing at it.
    """
    node = sparql_term(iri)
    label_values = " ".join(sparql_term(prop) for prop in LABEL_PROPERTIES)
    templates = [f"{node} ?p ?o .", "?o ?lp ?label .", f"?in ?ip {node} ."]
    branches = [
        f"{{ {node} ?p ?o . }}",
        f"{{ {node} ?p ?o . VALUES ?lp {{ {label_values} }} ?o ?lp ?label . }}",
        f"{{ ?in ?ip {node} . }}",
    ]
    for depth in range(1, BLANK_DEPTH + 1):
        chain = [f"{node} ?c0 ?b1 . FILTER(isBlank(?b1))"]
        for step in range(1, depth):
            chain.append(f"?b{step} ?c{step} ?b{step + 1} . FILTER(isBlank(?b{step + 1}))")
        chain.append(f"?b{depth} ?bp{depth} ?bo{depth} .")
        templates.append(f"?b{depth} ?bp{depth} ?bo{depth} .")
        branches.append("{ " + " ".join(chain) + " }")
    return "CONSTRUCT { " + " ".join(templates) + " } WHERE { " + " UNION ".join(branches) + " }"


def describe(iri: URIRef) -> Graph:
    """The resource's concise bounded description as a graph."""
    return construct(description_query(iri))


def named_graph(name: str) -> Graph:
    """Every triple of one named graph (the ontology, the meta graph)."""
    return construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_term(graph_iri(name))} {{ ?s ?p ?o }} }}"
    )


def exists(iri: URIRef) -> bool:
    """Whether the dataset says anything about `iri`, as subject or as object."""
    node = sparql_term(iri)
    return ask(f"ASK {{ {{ {node} ?p ?o }} UNION {{ ?s ?p {node} }} }}")


# --- what a resource page shows ------------------------------------------------------------


@dataclass
class PropertyRow:
    """One property of the resource with all its values."""

    prop: Link
    values: list[Value] = field(default_factory=list)


@dataclass
class ResourceView:
    """Everything a resource page shows apart from figures."""

    iri: str
    kind: str
    title: str
    labels: list[tuple[str, str]]
    types: list[Link]
    properties: list[PropertyRow]
    inferred: list[PropertyRow]
    incoming: list[PropertyRow]


def _group(rows: list[tuple[str, Value]], labels: Labels, lang: str) -> list[PropertyRow]:
    grouped: dict[str, PropertyRow] = {}
    for prop, value in rows:
        row = grouped.setdefault(prop, PropertyRow(make_link(prop, labels, lang)))
        if value not in row.values:
            row.values.append(value)
    return sorted(grouped.values(), key=lambda row: row.prop.compact)


def _value_order(term: Node) -> tuple[int, str]:
    return (0 if isinstance(term, Literal) else 1, str(term))


def resource_view(iri: URIRef, lang: str) -> ResourceView:
    """The resource's labels, types, statements (asserted and inferred) and incoming links."""
    node = sparql_term(iri)
    inferred_graph = str(graph_iri("inferred"))
    outgoing = select(f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ {node} ?p ?o }} }}")
    incoming = select(
        f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p {node} }} "
        f"FILTER(?g != {sparql_term(graph_iri('inferred'))}) }} LIMIT {INCOMING_LIMIT}"
    )
    mentioned = {str(iri)}
    for row in outgoing:
        mentioned.add(str(row["p"]))
        if isinstance(row["o"], URIRef):
            mentioned.add(str(row["o"]))
    for row in incoming:
        mentioned.update((str(row["s"]), str(row["p"])))
    labels = fetch_labels(mentioned)

    asserted_rows: list[tuple[str, Value]] = []
    inferred_rows: list[tuple[str, Value]] = []
    types: list[Link] = []
    own_labels: list[tuple[str, str]] = []
    for row in sorted(outgoing, key=lambda r: (str(r["p"]), _value_order(r["o"]))):
        prop, obj, is_inferred = str(row["p"]), row["o"], str(row["g"]) == inferred_graph
        if prop == str(RDF.type) and isinstance(obj, URIRef) and not is_inferred:
            link = make_link(str(obj), labels, lang)
            if link not in types:
                types.append(link)
            continue
        if URIRef(prop) in LABEL_PROPERTIES[:2] and isinstance(obj, Literal) and not is_inferred:
            pair = (obj.language or "", str(obj))
            if pair not in own_labels:
                own_labels.append(pair)
        target = inferred_rows if is_inferred else asserted_rows
        target.append((prop, make_value(obj, labels, lang)))
    order = i18n.ordered_languages(lang)
    own_labels.sort(key=lambda pair: (order.index(pair[0]) if pair[0] in order else 9, pair[1]))
    incoming_rows = [
        (str(row["p"]), Value(link=make_link(str(row["s"]), labels, lang)))
        for row in sorted(incoming, key=lambda r: (str(r["p"]), str(r["s"])))
    ]
    return ResourceView(
        iri=str(iri),
        kind=kind_of(str(iri)),
        title=i18n.pick_label(labels.get(str(iri), {}), lang, fallback_name(str(iri))),
        labels=own_labels,
        types=types,
        properties=_group(asserted_rows, labels, lang),
        inferred=_group(inferred_rows, labels, lang),
        incoming=_group(incoming_rows, labels, lang),
    )


# --- text layer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentenceInParagraph:
    """One sentence of a paragraph, the current one marked."""

    link: Link
    text: str
    current: bool


@dataclass
class SentenceView:
    """A sentence shown in its paragraph and section."""

    paragraph: Link | None
    section: Link | None
    sentences: list[SentenceInParagraph]


def sentence_view(iri: URIRef, lang: str) -> SentenceView | None:
    """The paragraph and section around a sentence; None when it has no paragraph."""
    node = sparql_term(iri)
    parents = select(
        f"SELECT DISTINCT ?parent WHERE {{ {node} {sparql_term(DCTERMS.isPartOf)}+ ?parent }}"
    )
    paragraph = next(
        (str(r["parent"]) for r in parents if kind_of(str(r["parent"])) == "paragraph"), None
    )
    section = next(
        (str(r["parent"]) for r in parents if kind_of(str(r["parent"])) == "section"), None
    )
    if paragraph is None:
        return None
    rows = select(
        f"SELECT DISTINCT ?s ?text ?begin WHERE {{ ?s {sparql_term(DCTERMS.isPartOf)} "
        f"{sparql_term(URIRef(paragraph))} ; {sparql_term(NIF.anchorOf)} ?text ; "
        f"{sparql_term(NIF.beginIndex)} ?begin . }} ORDER BY ?begin"
    )
    labels = fetch_labels([paragraph, *([section] if section else [])])
    sentences = [
        SentenceInParagraph(
            make_link(str(row["s"]), {}, lang), str(row["text"]), str(row["s"]) == str(iri)
        )
        for row in rows
        if kind_of(str(row["s"])) == "sentence"
    ]
    return SentenceView(
        paragraph=make_link(paragraph, labels, lang),
        section=make_link(section, labels, lang) if section else None,
        sentences=sentences,
    )


def derived_from_sentence(iri: URIRef) -> str:
    """The triple pattern that selects the observations drawn from a sentence."""
    return f"?obs {sparql_term(PROV.wasDerivedFrom)} {sparql_term(iri)} ."


def comparator_local(term: Node | None) -> str:
    """`moreThan` for `dcdr:moreThan`."""
    if term is None:
        return ""
    text = str(term)
    return text[len(str(DCDR)) :] if text.startswith(str(DCDR)) else compact(text)


# --- the dataset as a whole (home page, ontology page) ---------------------------------------

# Which properties of the dataset's VoID/DCAT description answer which question on the home page.
ABOUT_PROPERTIES: dict[str, tuple[URIRef, ...]] = {
    "source": (DCTERMS.source, PROV.wasDerivedFrom),
    "publisher": (DCTERMS.publisher,),
    "license": (DCTERMS.license, CC.license),
    "version": (OWL.versionInfo, SCHEMA.version),
    "modified": (DCTERMS.modified, DCTERMS.issued),
}


def dataset_about(lang: str) -> dict[str, Any]:
    """Title, description, source, publisher, license, version of the dataset (meta graph)."""
    rows = select(f"SELECT ?p ?o WHERE {{ {sparql_term(DATASET_IRI)} ?p ?o }}")
    labels = fetch_labels(str(row["o"]) for row in rows if isinstance(row["o"], URIRef))
    about: dict[str, Any] = {key: [] for key in ABOUT_PROPERTIES}
    texts: dict[str, dict[str, str]] = {"title": {}, "description": {}}
    for row in sorted(rows, key=lambda r: (str(r["p"]), str(r["o"]))):
        prop, obj = row["p"], row["o"]
        for key, props in ABOUT_PROPERTIES.items():
            value = make_value(obj, labels, lang)
            if prop in props and value not in about[key]:
                about[key].append(value)
        for key, prop_iri in (("title", DCTERMS.title), ("description", DCTERMS.description)):
            if prop == prop_iri and isinstance(obj, Literal):
                texts[key].setdefault((obj.language or "").split("-")[0], str(obj))
    for key, by_lang in texts.items():
        about[key] = i18n.pick_label(by_lang, lang, "")
    return about


def graph_counts() -> list[tuple[str, str, int]]:
    """(name, graph IRI, triples) per named graph: from the VoID subsets, else counted live."""
    graphs = {str(graph_iri(name)): name for name in GRAPH_NAMES}
    values = " ".join(sparql_term(URIRef(iri)) for iri in graphs)
    rows = select(
        f"SELECT DISTINCT ?g ?n WHERE {{ VALUES ?g {{ {values} }} "
        f"{sparql_term(DATASET_IRI)} {sparql_term(VOID.subset)} ?sub . "
        f"?sub {sparql_term(VOID.triples)} ?n . "
        "{ FILTER(?sub = ?g) } UNION { ?sub ?link ?g } }"
    )
    if not rows:
        rows = select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    counts: dict[str, int] = {}
    for row in rows:
        iri = str(row["g"])
        if iri in graphs and iri not in counts:
            counts[iri] = int(str(row["n"]))
    return [(graphs[iri], iri, counts[iri]) for iri in graphs if iri in counts]


@dataclass
class TreeNode:
    """One metric of the scheme with its narrower metrics."""

    link: Link
    count: int
    children: list[TreeNode] = field(default_factory=list)


def metric_tree(lang: str) -> list[TreeNode]:
    """The metric scheme as a forest following skos:broader, with figures per metric."""
    metric = sparql_term(DCDR.Metric)
    rows = select(
        f"SELECT ?m ?broader (COUNT(DISTINCT ?obs) AS ?n) WHERE {{ ?m a {metric} . "
        f"OPTIONAL {{ ?m {sparql_term(SKOS.broader)} ?broader . ?broader a {metric} }} "
        f"OPTIONAL {{ ?obs {sparql_term(DCDR.metric)} ?m }} }} GROUP BY ?m ?broader"
    )
    labels = fetch_labels(str(row["m"]) for row in rows)
    nodes: dict[str, TreeNode] = {}
    parents: dict[str, set[str]] = {}
    for row in rows:
        iri = str(row["m"])
        nodes.setdefault(iri, TreeNode(make_link(iri, labels, lang), int(str(row["n"]))))
        parents.setdefault(iri, set())
        if "broader" in row and str(row["broader"]) != iri:
            parents[iri].add(str(row["broader"]))

    def build(iri: str, seen: frozenset[str]) -> TreeNode:
        node = nodes[iri]
        children = sorted(
            (child for child, ups in parents.items() if iri in ups and child not in seen),
            key=lambda child: nodes[child].link.label,
        )
        return TreeNode(node.link, node.count, [build(c, seen | {c}) for c in children])

    roots = [iri for iri, ups in parents.items() if not ups & nodes.keys()]
    return [
        build(iri, frozenset({iri})) for iri in sorted(roots, key=lambda i: nodes[i].link.label)
    ]


def report_structure(lang: str) -> list[tuple[Link, list[tuple[Link, str, int]]]]:
    """Sections → their sentences (shortened) → how many figures each sentence gives."""
    rows = select(
        f"SELECT ?section ?sentence ?text ?begin (COUNT(DISTINCT ?obs) AS ?n) WHERE {{ "
        f"?sentence a {sparql_term(NIF.Sentence)} ; {sparql_term(NIF.anchorOf)} ?text ; "
        f"{sparql_term(NIF.beginIndex)} ?begin ; {sparql_term(DCTERMS.isPartOf)}+ ?section . "
        f'FILTER(STRSTARTS(STR(?section), "{ID}section/")) '
        f"OPTIONAL {{ ?obs {sparql_term(PROV.wasDerivedFrom)} ?sentence }} }} "
        f"GROUP BY ?section ?sentence ?text ?begin ORDER BY ?begin ?sentence"
    )
    labels = fetch_labels(str(row["section"]) for row in rows)
    sections: dict[str, list[tuple[Link, str, int]]] = {}
    for row in rows:
        text = str(row["text"])
        short = text if len(text) <= 60 else text[:59] + "…"
        entry = (make_link(str(row["sentence"]), {}, lang), short, int(str(row["n"])))
        sections.setdefault(str(row["section"]), []).append(entry)
    return [(make_link(iri, labels, lang), entries) for iri, entries in sections.items()]
