"""The `meta` graph (also written as `void.ttl`): a VoID + DCAT description of the dataset.

Counts are exact for the published files:
- each named graph is a `void:subset` (`sd:name` the graph IRI) with its `void:triples`,
  `meta` included (its own count is a fixed point: the triple stating it is counted);
- the dataset's `void:triples` is the number of distinct triples in the union of all seven
  graphs, i.e. what a query with no `FROM` sees;
- class and property partitions describe the six content graphs (everything but `meta`, so
  describing the dataset does not change the description).

The content hash (`dcterms:identifier "sha256:…"`) is taken over the canonical N-Quads of the
six content graphs; `meta` cannot contain its own hash.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from graph.cube import FIGURES
from graph.dumps import DUMPS, prefixed_graph
from graph.namespaces import (
    DATASET_IRI,
    DCAT,
    DCDR,
    DCTERMS,
    GRAPH_NAMES,
    ID,
    OWL,
    PREFIXES,
    QB,
    RDF,
    RDFS,
    SD,
    VOID,
    graph_iri,
)

LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DEFAULT_PUBLIC_BASE = "http://127.0.0.1:8000/"
TITLES = {
    "zh": "数字中国发展报告(2020年)第四部分知识图谱",
    "en": "Digital China Development Report (2020), Part 4: knowledge graph",
}
DESCRIPTIONS = {
    "zh": "《数字中国发展报告(2020年)》第四部分“数字政府治理效能持续提升”的关联数据:"
    "报告文本(NIF)、其中提到的机构、平台、服务、地区、文件和举措,以及每个数字(观测值)及其出处句子。",
    "en": "Linked data of Part 4 of the Digital China Development Report (2020), "
    '"Digital government governance efficiency keeps improving": the report text (NIF), '
    "the agencies, platforms, services, regions, documents and initiatives it names, "
    "and every figure as an observation tied to its sentence.",
}


@dataclass(frozen=True)
class Description:
    """What the meta graph needs beyond the graphs themselves."""

    version: str
    content_hash: str
    public_base: str = DEFAULT_PUBLIC_BASE

    def url(self, path: str) -> URIRef:
        return URIRef(self.public_base.rstrip("/") + "/" + path.lstrip("/"))


def _slug(term: Node) -> str:
    """A stable, readable IRI segment for a class or property, lowercase ASCII words joined by
    `-` like every slug of the contract (`dcdr:operatedBy` → `dcdr-operated-by`); hashed when
    the local name is not readable."""
    text = str(term)
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(str(item[1]))):
        if text.startswith(str(namespace)):
            local = text[len(str(namespace)) :]
            if re.fullmatch(r"[A-Za-z0-9_.\-]+", local):
                words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", f"{prefix}-{local}")
                return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    return _hashed(term)


def _hashed(term: Node) -> str:
    return "h-" + hashlib.sha256(str(term).encode("utf-8")).hexdigest()[:16]


def _slugs(terms: Iterable[Node]) -> dict[Node, str]:
    """Readable slugs, hashed where two terms would share one (lowercasing can merge names)."""
    readable = {term: _slug(term) for term in terms}
    taken = Counter(readable.values())
    return {term: slug if taken[slug] == 1 else _hashed(term) for term, slug in readable.items()}


def _partitions(meta: Graph, content: Graph) -> None:
    classes = Counter(o for _, o in content.subject_objects(RDF.type))
    properties = Counter(p for _, p, _ in content)
    class_slugs, property_slugs = _slugs(classes), _slugs(properties)
    for cls, entities in sorted(classes.items(), key=lambda item: str(item[0])):
        node = ID[f"dataset/class/{class_slugs[cls]}"]
        meta.add((DATASET_IRI, VOID.classPartition, node))
        meta.add((node, VOID["class"], cls))
        meta.add((node, VOID.entities, Literal(entities)))
    for prop, triples in sorted(properties.items(), key=lambda item: str(item[0])):
        node = ID[f"dataset/property/{property_slugs[prop]}"]
        meta.add((DATASET_IRI, VOID.propertyPartition, node))
        meta.add((node, VOID.property, prop))
        meta.add((node, VOID.triples, Literal(triples)))
    meta.add((DATASET_IRI, VOID.classes, Literal(len(classes))))
    meta.add((DATASET_IRI, VOID.properties, Literal(len(properties))))


def _source(meta: Graph, text: Graph) -> None:
    for report in sorted(text.subjects(RDF.type, DCDR.Report), key=str):
        meta.add((DATASET_IRI, DCTERMS.source, report))
        meta.add((DATASET_IRI, VOID.rootResource, report))


def void_document(meta: Graph, text: Graph) -> Graph:
    """`void.ttl`: the meta graph plus the source report's type, publisher and titles, so the
    file describes the dataset on its own. Those triples stay out of the `meta` named graph
    itself: they are in `text` already, and a triple in two named graphs would show twice in
    the union default graph of stores that do not merge duplicates (Oxigraph)."""
    document = prefixed_graph(graph_iri("meta"))
    document += meta
    for report in sorted(text.subjects(RDF.type, DCDR.Report), key=str):
        document.add((report, RDF.type, DCDR.Report))
        for predicate in (DCTERMS.publisher, DCTERMS.title):
            for value in text.objects(report, predicate):
                document.add((report, predicate, value))
    return document


def _distributions(meta: Graph, info: Description) -> None:
    for name, media_type in DUMPS.items():
        url = info.url(f"dumps/{name}")
        node = ID[f"dataset/distribution/{name.replace('.', '-')}"]
        meta.add((DATASET_IRI, VOID.dataDump, url))
        meta.add((DATASET_IRI, DCAT.distribution, node))
        meta.add((node, RDF.type, DCAT.Distribution))
        meta.add((node, DCAT.downloadURL, url))
        meta.add(
            (
                node,
                DCAT.mediaType,
                URIRef(f"https://www.iana.org/assignments/media-types/{media_type}"),
            )
        )
        meta.add((node, DCTERMS.title, Literal(name)))
        meta.add((node, DCTERMS.license, LICENSE))


def _figures(meta: Graph, facts: Graph) -> None:
    """The figures cube (a qb:DataSet described in the ontology graph) is part of the dataset;
    its entities are its observations."""
    observations = set(facts.subjects(QB.dataSet, FIGURES))
    meta.add((DATASET_IRI, VOID.subset, FIGURES))
    meta.add((DATASET_IRI, DCTERMS.hasPart, FIGURES))
    meta.add((FIGURES, RDF.type, VOID.Dataset))
    meta.add((FIGURES, RDF.type, DCAT.Dataset))
    meta.add((FIGURES, DCTERMS.isPartOf, DATASET_IRI))
    meta.add((FIGURES, VOID.entities, Literal(len(observations))))


def meta_graph(content: Mapping[str, Graph], info: Description) -> Graph:
    """The `meta` graph describing the six content graphs (keyed by contract name)."""
    missing = [name for name in GRAPH_NAMES if name != "meta" and name not in content]
    if missing:
        raise ValueError(f"meta_graph needs every content graph; missing {', '.join(missing)}")
    meta = prefixed_graph(graph_iri("meta"))
    dataset = DATASET_IRI
    meta.add((dataset, RDF.type, VOID.Dataset))
    meta.add((dataset, RDF.type, DCAT.Dataset))
    for lang in ("zh", "en"):
        meta.add((dataset, DCTERMS.title, Literal(TITLES[lang], lang=lang)))
        meta.add((dataset, RDFS.label, Literal(TITLES[lang], lang=lang)))
        meta.add((dataset, DCTERMS.description, Literal(DESCRIPTIONS[lang], lang=lang)))
    meta.add((dataset, DCTERMS.license, LICENSE))
    meta.add((dataset, OWL.versionInfo, Literal(info.version)))
    meta.add((dataset, DCTERMS.identifier, Literal(f"sha256:{info.content_hash}")))
    meta.add((dataset, VOID.sparqlEndpoint, info.url("sparql")))
    meta.add((dataset, VOID.uriSpace, Literal(str(ID))))
    _source(meta, content["text"])
    _distributions(meta, info)
    _figures(meta, content["facts"])
    for name in GRAPH_NAMES:
        node = ID[f"dataset/graph/{name}"]
        meta.add((dataset, VOID.subset, node))
        meta.add((node, RDF.type, VOID.Dataset))
        meta.add((node, RDF.type, SD.NamedGraph))
        meta.add((node, SD.name, graph_iri(name)))
        if name != "meta":
            meta.add((node, VOID.triples, Literal(len(content[name]))))
    union = Graph()
    for name in GRAPH_NAMES:
        if name != "meta":
            union += content[name]
    _partitions(meta, union)
    # Two triples are still to come: meta's own count and the dataset total. Neither can be
    # in the content graphs (their subjects are described only here), so both counts are
    # known before they are added.
    union += meta
    meta.add((ID["dataset/graph/meta"], VOID.triples, Literal(len(meta) + 2)))
    meta.add((dataset, VOID.triples, Literal(len(union) + 2)))
    return meta
