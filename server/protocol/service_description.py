"""The SPARQL 1.1 Service Description answered by GET /sparql without a query.

It says what a client can rely on: SPARQL 1.1 Query only, the result formats, that the default
graph is the union of the named graphs, which named graphs exist (asked of the store once), and
where the VoID description is, and the prefixes a query may use without declaring them.

Those are listed with SHACL's `sh:declare` (`sh:prefix`, `sh:namespace`), the one W3C
Recommendation vocabulary for "this prefix stands for this namespace". No sd: term says it, and
neither Fuseki, Oxigraph nor WDQS publishes its prefixes in a machine-readable way; VANN's
`vann:preferredNamespacePrefix` states a vocabulary's own preferred prefix, one per namespace,
not a service's declarations. Tools that read an endpoint's prefixes (the SIB's YASGUI-based
sparql-editor and sparql-examples) ask for exactly `[] sh:prefix ?p ; sh:namespace ?ns`.
"""

from __future__ import annotations

import threading

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH, VOID, XSD

from graph.namespaces import DATASET_IRI, FORMATS, QUERY_PREFIXES, SD
from server.protocol import negotiation as media
from server.stores.store import QueryStore, select

# The W3C format IRI of each media type this endpoint writes.
FORMAT_IRIS = {
    media.SPARQL_JSON: FORMATS["SPARQL_Results_JSON"],
    media.SPARQL_XML: FORMATS["SPARQL_Results_XML"],
    media.CSV: FORMATS["SPARQL_Results_CSV"],
    media.TSV: FORMATS["SPARQL_Results_TSV"],
    media.TURTLE: FORMATS["Turtle"],
    media.N_TRIPLES: FORMATS["N-Triples"],
    media.N_QUADS: FORMATS["N-Quads"],
    media.TRIG: FORMATS["TriG"],
    media.JSON_LD: FORMATS["JSON-LD"],
    media.RDF_XML: FORMATS["RDF_XML"],
}

# rdflib serializer names (the description is small and built once, so rdflib suffices here).
_SERIALIZERS = {
    media.TURTLE: "turtle",
    media.N_TRIPLES: "nt",
    media.N_QUADS: "nquads",
    media.TRIG: "trig",
    media.JSON_LD: "json-ld",
    media.RDF_XML: "xml",
}

_GRAPHS_QUERY = "SELECT ?g (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def describe_service(root_url: str, graphs: list[tuple[str, int]]) -> Graph:
    """The description of the endpoint at `root_url` + `sparql` with its named graphs."""
    endpoint = URIRef(root_url + "sparql")
    description = Graph()
    description.bind("sd", SD)
    description.bind("void", VOID)
    description.bind("dcterms", DCTERMS)
    service = endpoint
    description.add((service, RDF.type, SD.Service))
    description.add((service, SD.endpoint, endpoint))
    description.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    description.add((service, SD.feature, SD.UnionDefaultGraph))
    for iri in FORMAT_IRIS.values():
        description.add((service, SD.resultFormat, iri))
    declare_prefixes(description, service)
    dataset = DATASET_IRI
    description.add((service, SD.defaultDataset, dataset))
    description.add((dataset, RDF.type, SD.Dataset))
    description.add((dataset, RDF.type, VOID.Dataset))
    description.add((dataset, VOID.sparqlEndpoint, endpoint))
    for link in (".well-known/void", "void.ttl"):
        description.add((dataset, RDFS.seeAlso, URIRef(root_url + link)))
    default_graph = BNode("defaultGraph")
    description.add((dataset, SD.defaultGraph, default_graph))
    description.add((default_graph, RDF.type, SD.Graph))
    description.add(
        (default_graph, DCTERMS.description, Literal("the union of all named graphs", lang="en"))
    )
    total = 0
    for name, triples in graphs:
        named = BNode(f"graph{len(description)}")
        described = BNode(f"content{len(description)}")
        description.add((dataset, SD.namedGraph, named))
        description.add((named, RDF.type, SD.NamedGraph))
        description.add((named, SD.name, URIRef(name)))
        description.add((named, SD.graph, described))
        description.add((described, RDF.type, SD.Graph))
        description.add((described, VOID.triples, Literal(triples, datatype=XSD.integer)))
        total += triples
    description.add((default_graph, VOID.triples, Literal(total, datatype=XSD.integer)))
    return description


def declare_prefixes(description: Graph, service: URIRef) -> None:
    """`service sh:declare [ sh:prefix "p" ; sh:namespace "…"^^xsd:anyURI ]` for each prefix
    a query may use without a PREFIX line."""
    description.bind("sh", SH)
    for prefix, namespace in sorted(QUERY_PREFIXES.items()):
        declaration = BNode(f"prefix-{prefix}")
        description.add((service, SH.declare, declaration))
        description.add((declaration, SH.prefix, Literal(prefix)))
        description.add((declaration, SH.namespace, Literal(namespace, datatype=XSD.anyURI)))


class ServiceDescriber:
    """Builds the description once per root URL and media type (the dataset is immutable)."""

    def __init__(self, store: QueryStore, timeout: float) -> None:
        self._store = store
        self._timeout = timeout
        self._graphs: list[tuple[str, int]] | None = None
        self._answers: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def named_graphs(self) -> list[tuple[str, int]]:
        if self._graphs is None:
            rows = select(self._store, _GRAPHS_QUERY, self._timeout)
            self._graphs = sorted(
                (str(row["g"]), int(str(row["triples"]))) for row in rows if "g" in row
            )
        return self._graphs

    def render(self, root_url: str, media_type: str) -> bytes:
        key = (root_url, media_type)
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None:
            return cached
        graph = describe_service(root_url, self.named_graphs())
        written: Graph = graph
        if media_type in (media.N_QUADS, media.TRIG):
            # Dataset formats: a plain graph is the dataset's default graph (rdflib refuses
            # to write a graph that is not context-aware as N-Quads).
            written = Dataset()
            for prefix, namespace in graph.namespaces():
                written.bind(prefix, namespace)
            for triple in graph:
                written.add(triple)
        body = written.serialize(format=_SERIALIZERS.get(media_type, "turtle"), encoding="utf-8")
        with self._lock:
            if len(self._answers) >= 64:
                # Keyed by the address each request reached: a client sending many Host
                # headers must not grow this without bound.
                self._answers.clear()
            self._answers[key] = body
        return body
