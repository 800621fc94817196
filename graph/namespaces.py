"""Every outside IRI the project uses, named once.

Other modules import from here instead of spelling namespace IRIs again, so that a
vocabulary's IRI can be checked (and corrected) in one place.
"""

from rdflib import Namespace, URIRef
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SH,
    SKOS,
    VOID,
    XSD,
    DefinedNamespace,
)

# The project's own namespaces (contract: ../shared/DESIGN.md, "IRIs").
BASE = "https://w3id.org/dcdr/"
DCDR = Namespace(BASE + "ontology#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
ONTOLOGY_IRI = URIRef(BASE + "ontology")
DATASET_IRI = ID["dataset"]

# Named graphs (contract).
# `background`: what is known from outside the report and is not an identifier (operators or
# parent bodies the report does not name, common short forms), each with its outside source.
GRAPH_NAMES = (
    "ontology",
    "shapes",
    "text",
    "facts",
    "links",
    "background",
    "inferred",
    "meta",
)

# Outside vocabularies not bundled with rdflib.
NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
SCHEMA = Namespace("http://schema.org/")
CPSV = Namespace("http://purl.org/vocab/cpsv#")
QB = Namespace("http://purl.org/linked-data/cube#")
SDMX_MEASURE = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
SDMX_DIMENSION = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
QUDT = Namespace("http://qudt.org/schema/qudt/")
UNIT = Namespace("http://qudt.org/vocab/unit/")
CURRENCY = Namespace("http://qudt.org/vocab/currency/")
VANN = Namespace("http://purl.org/vocab/vann/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
CC = Namespace("http://creativecommons.org/ns#")

PREFIXES: dict[str, Namespace | type[DefinedNamespace]] = {
    "dcdr": DCDR,
    "id": ID,
    "nif": NIF,
    "schema": SCHEMA,
    "cpsv": CPSV,
    "qb": QB,
    "sdmx-measure": SDMX_MEASURE,
    "sdmx-attribute": SDMX_ATTRIBUTE,
    "sdmx-dimension": SDMX_DIMENSION,
    "qudt": QUDT,
    "unit": UNIT,
    "cur": CURRENCY,
    "vann": VANN,
    "sd": SD,
    "wd": WD,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "org": ORG,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "sh": SH,
    "skos": SKOS,
    "void": VOID,
    "xsd": XSD,
}


def graph_iri(name: str) -> URIRef:
    """The IRI of one of the contract's named graphs."""
    if name not in GRAPH_NAMES:
        raise ValueError(f"unknown named graph {name!r}; expected one of {', '.join(GRAPH_NAMES)}")
    return GRAPH[name]


# The SHACL shapes (graph `shapes`) get IRIs of their own, so a violation names its rule.
SHAPES = Namespace(BASE + "shapes#")
PREFIXES["dcdrsh"] = SHAPES

# The prefixes a SPARQL query to this service may use without a PREFIX line, as on Wikidata's
# query service: the project's own and the standard ones above, plus Wikidata's direct
# properties (kept out of PREFIXES, which the dumps declare, since no triple uses them).
QUERY_PREFIXES: dict[str, str] = {
    **{prefix: str(namespace) for prefix, namespace in PREFIXES.items()},
    "wdt": str(WDT),
}

# Result and RDF format IRIs (W3C "Unique URIs for File Formats"), used by the service
# description's sd:resultFormat.
FORMATS = Namespace("http://www.w3.org/ns/formats/")

# The JSON-LD context of W3C CSV on the Web metadata documents (the figures table).
CSVW_CONTEXT = "http://www.w3.org/ns/csvw"
