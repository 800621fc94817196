"""The OWL ontology (ontology/dcdr.ttl): header, term list, labels, layout, and what OWL-RL infers
from it for a client that knows only the standard vocabularies."""

import re

import owlrl
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from graph.namespaces import (
    CPSV,
    DCDR,
    ID,
    NIF,
    ONTOLOGY_IRI,
    QB,
    QUDT,
    SCHEMA,
    SDMX_ATTRIBUTE,
    SDMX_MEASURE,
    UNIT,
    VANN,
)
from graph.paths import ONTOLOGY_FILE

# The term list fixed in the ontology's issue: local name -> the type it must have.
CLASSES = [
    "Agency",
    "ExecutiveBody",
    "Ministry",
    "Court",
    "Procuratorate",
    "LegislativeBody",
    "AdvisoryBody",
    "SupervisionBody",
    "AgencyUnit",
    "Region",
    "Country",
    "ProvincialRegion",
    "City",
    "Platform",
    "GovernmentServicePlatform",
    "DataSharingPlatform",
    "OpenDataPlatform",
    "Database",
    "Website",
    "MobileApp",
    "InformationSystem",
    "Infrastructure",
    "Service",
    "ServiceGroup",
    "Document",
    "PolicyDocument",
    "Report",
    "Initiative",
    "Programme",
    "Technology",
    "Metric",
    "MeasureType",
    "TimeBasis",
    "Unit",
    "CountUnit",
    "Observation",
    "Comparator",
    "ReportPart",
    "Section",
]
OBJECT_PROPERTIES = [
    "about",
    "metric",
    "unit",
    "comparator",
    "mention",
    "shareOf",
    "operatedBy",
    "operates",
    "connects",
    "issuedBy",
    "hostedOn",
    "basedOn",
    "usesTechnology",
    "initiativeOf",
    "hasInitiative",
    "covers",
    "aggregates",
    "provides",
    "servesAgency",
    "supports",
    "partOf",
    "hasPartEntity",
    "deployedIn",
    "availableTo",
    "relatedRegion",
    "measureType",
    "timeBasis",
    "timeSource",
]
DATATYPE_PROPERTIES = [
    "value",
    "asOf",
    "period",
    "statedAs",
    "impliedDenominator",
    "gbt2260Code",
    "startDate",
    "refDate",
    "denominatorNote",
]
COMPARATORS = ["exactly", "moreThan", "atLeast", "nearly", "approximately"]

# Alignments the issue asks for: dcdr term -> outside super-terms (reached transitively).
SUPERCLASSES = {
    "Agency": [ORG.Organization, SCHEMA.GovernmentOrganization],
    "AgencyUnit": [ORG.OrganizationalUnit, ORG.Organization],
    "Ministry": [ORG.Organization],
    "Region": [SCHEMA.AdministrativeArea, DCTERMS.Location],
    "City": [SCHEMA.AdministrativeArea],
    "Platform": [SCHEMA.SoftwareApplication],
    "DataSharingPlatform": [DCAT.DataService, SCHEMA.SoftwareApplication],
    "OpenDataPlatform": [DCAT.Catalog],
    "Database": [DCAT.Dataset],
    "Website": [SCHEMA.WebSite],
    "MobileApp": [SCHEMA.MobileApplication],
    "Service": [CPSV.PublicService, SCHEMA.GovernmentService],
    "ServiceGroup": [CPSV.PublicService],
    "Document": [FOAF.Document, DCTERMS.BibliographicResource, SCHEMA.CreativeWork],
    "Report": [SCHEMA.Report, FOAF.Document],
    "Initiative": [SCHEMA.Project, PROV.Activity],
    "Programme": [PROV.Activity],
    "Technology": [SKOS.Concept],
    "Metric": [SKOS.Concept],
    "Unit": [QUDT.Unit],
    "CountUnit": [QUDT.Unit],
    "Observation": [QB.Observation, PROV.Entity],
    "Comparator": [SKOS.Concept],
    "Section": [NIF.String],
}
SUPERPROPERTIES = {
    "about": DCTERMS.subject,
    "unit": SDMX_ATTRIBUTE.unitMeasure,
    "value": SDMX_MEASURE.obsValue,
    "operatedBy": PROV.wasAttributedTo,
    "issuedBy": DCTERMS.publisher,
    "partOf": DCTERMS.isPartOf,
    "asOf": DCTERMS.date,
    "refDate": DCTERMS.date,
    "period": DCTERMS.temporal,
    "gbt2260Code": SKOS.notation,
}
INVERSES = [
    ("operatedBy", "operates"),
    ("initiativeOf", "hasInitiative"),
    ("partOf", "hasPartEntity"),
]
# Used on several kinds of subject, so an rdfs:domain would make OWL-RL infer wrong types.
NO_DOMAIN = [
    "covers",
    "operatedBy",
    "hostedOn",
    "basedOn",
    "provides",
    "servesAgency",
    "supports",
    "usesTechnology",
]

DECLARED_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


def declared_terms(ontology: Graph) -> set[Node]:
    return {
        term
        for kind in DECLARED_TYPES
        for term in ontology.subjects(RDF.type, kind)
        if str(term).startswith(str(DCDR))
    }


def languages(graph: Graph, subject: Node, predicate: URIRef) -> set[str | None]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def test_one_ontology_header_with_every_field(ontology: Graph) -> None:
    assert list(ontology.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    header = ONTOLOGY_IRI
    assert {"en", "zh"} <= languages(ontology, header, DCTERMS.title)
    assert {"en", "zh"} <= languages(ontology, header, DCTERMS.description)
    assert ontology.value(header, OWL.versionIRI) == URIRef(f"{ONTOLOGY_IRI}/0.1.0")
    assert ontology.value(header, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(header, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    creator = ontology.value(header, DCTERMS.creator)
    assert isinstance(creator, URIRef)
    assert {"en", "zh"} <= languages(ontology, creator, RDFS.label)
    for field in (DCTERMS.created, DCTERMS.modified):
        value = ontology.value(header, field)
        assert isinstance(value, Literal) and value.datatype == XSD.date, field
    assert ontology.value(header, VANN.preferredNamespacePrefix) == Literal("dcdr")
    assert str(ontology.value(header, VANN.preferredNamespaceUri)) == str(DCDR)


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        (CLASSES, OWL.Class),
        (OBJECT_PROPERTIES, OWL.ObjectProperty),
        (DATATYPE_PROPERTIES, OWL.DatatypeProperty),
        (COMPARATORS, DCDR.Comparator),
    ],
    ids=["classes", "object-properties", "datatype-properties", "comparators"],
)
def test_every_listed_term_exists_with_its_type(
    ontology: Graph, names: list[str], kind: URIRef
) -> None:
    missing = [name for name in names if (DCDR[name], RDF.type, kind) not in ontology]
    assert not missing


def test_every_term_has_labels_definition_and_is_defined_by(ontology: Graph) -> None:
    terms = declared_terms(ontology)
    assert len(terms) > len(CLASSES) + len(OBJECT_PROPERTIES)
    for term in terms:
        assert {"en", "zh"} <= languages(ontology, term, RDFS.label), term
        assert "en" in languages(ontology, term, SKOS.definition), term
        assert ontology.value(term, RDFS.isDefinedBy) == ONTOLOGY_IRI, term


def test_no_dcdr_term_is_used_without_being_declared(ontology: Graph) -> None:
    declared = declared_terms(ontology)
    used = {
        node
        for triple in ontology
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(str(DCDR))
    }
    assert used - declared == set()


def test_no_blank_nodes_so_dumps_stay_deterministic(ontology: Graph) -> None:
    assert not [t for t in ontology if any(isinstance(n, BNode) for n in t)]


@pytest.mark.parametrize("name", sorted(SUPERCLASSES))
def test_class_alignment(ontology: Graph, name: str) -> None:
    supers = set(ontology.transitive_objects(DCDR[name], RDFS.subClassOf))
    assert set(SUPERCLASSES[name]) <= supers


def test_property_alignment_and_inverses(ontology: Graph) -> None:
    for name, outside in SUPERPROPERTIES.items():
        assert outside in set(ontology.transitive_objects(DCDR[name], RDFS.subPropertyOf)), name
    for one, other in INVERSES:
        linked = (DCDR[one], OWL.inverseOf, DCDR[other]) in ontology or (
            DCDR[other],
            OWL.inverseOf,
            DCDR[one],
        ) in ontology
        assert linked, (one, other)


def test_no_equivalences_that_could_merge_classes(ontology: Graph) -> None:
    assert not list(ontology.triples((None, OWL.equivalentClass, None)))
    assert not list(ontology.triples((None, OWL.sameAs, None)))


def test_multi_use_properties_have_no_domain(ontology: Graph) -> None:
    assert [name for name in NO_DOMAIN if ontology.value(DCDR[name], RDFS.domain)] == []


def test_prefixes_are_sorted() -> None:
    text = ONTOLOGY_FILE.read_text(encoding="utf-8")
    prefixes = re.findall(r"^@prefix ([\w-]*):", text, re.MULTILINE)
    assert prefixes and prefixes == sorted(prefixes)


def test_terms_come_grouped_and_sorted(ontology: Graph) -> None:
    """Classes, then object properties, then datatype properties, then individuals, each A-Z."""
    text = ONTOLOGY_FILE.read_text(encoding="utf-8")
    order = re.findall(r"^dcdr:(\w+)$", text, re.MULTILINE)
    groups = [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual]

    def group(name: str) -> int:
        return next(i for i, kind in enumerate(groups) if (DCDR[name], RDF.type, kind) in ontology)

    assert sorted(order) == sorted(str(t).removeprefix(str(DCDR)) for t in declared_terms(ontology))
    assert order == sorted(order, key=lambda name: (group(name), name.lower()))


EXAMPLE = """
@prefix dcdr: <https://w3id.org/dcdr/ontology#> .
@prefix id: <https://w3id.org/dcdr/id/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
<https://w3id.org/dcdr/id/agency/ndrc> a dcdr:Ministry .
<https://w3id.org/dcdr/id/platform/credit> a dcdr:DataSharingPlatform ;
    dcdr:operatedBy <https://w3id.org/dcdr/id/agency/ndrc> ;
    dcdr:covers <https://w3id.org/dcdr/id/region/china> .
<https://w3id.org/dcdr/id/observation/credit-records> a dcdr:Observation ;
    dcdr:about <https://w3id.org/dcdr/id/platform/credit> ;
    dcdr:value 60000000000 ;
    dcdr:unit <https://w3id.org/dcdr/id/unit/record> ;
    dcdr:comparator dcdr:moreThan .
<https://w3id.org/dcdr/id/unit/record> a dcdr:CountUnit .
"""


@pytest.fixture(scope="module")
def closure(ontology: Graph) -> Graph:
    graph = Graph()
    graph += ontology
    graph.parse(data=EXAMPLE, format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    return graph


def test_owl_rl_gives_outside_vocabularies_the_data(closure: Graph) -> None:
    agency = ID["agency/ndrc"]
    platform = ID["platform/credit"]
    observation = ID["observation/credit-records"]
    unit = ID["unit/record"]
    for cls in (ORG.Organization, SCHEMA.GovernmentOrganization, PROV.Organization, DCDR.Agency):
        assert (agency, RDF.type, cls) in closure, cls
    for cls in (DCAT.DataService, SCHEMA.SoftwareApplication, DCDR.Platform):
        assert (platform, RDF.type, cls) in closure, cls
    for cls in (QB.Observation, PROV.Entity):
        assert (observation, RDF.type, cls) in closure, cls
    assert (platform, PROV.wasAttributedTo, agency) in closure
    assert (agency, DCDR.operates, platform) in closure
    assert (observation, DCTERMS.subject, platform) in closure
    assert (observation, SDMX_ATTRIBUTE.unitMeasure, unit) in closure
    assert (unit, RDF.type, QUDT.Unit) in closure
    values = list(closure.objects(observation, SDMX_MEASURE.obsValue))
    assert [v.toPython() for v in values if isinstance(v, Literal)] == [60000000000]


def test_owl_rl_does_not_merge_or_mistype(closure: Graph) -> None:
    agency = ID["agency/ndrc"]
    platform = ID["platform/credit"]
    region = ID["region/china"]
    assert (platform, RDF.type, ORG.Organization) not in closure
    assert (agency, RDF.type, SCHEMA.SoftwareApplication) not in closure
    # dcdr:covers has no domain or range: its subject and object get no type from it.
    assert set(closure.objects(region, RDF.type)) <= {OWL.Thing, RDFS.Resource}
    assert (DCDR.Agency, OWL.equivalentClass, DCDR.Platform) not in closure
    assert (DCDR.Agency, OWL.equivalentClass, ORG.Organization) not in closure
    assert not list(closure.subjects(RDF.type, OWL.Nothing))
    assert (UNIT.PERCENT, RDF.type, DCDR.Unit) not in closure
