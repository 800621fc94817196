"""The SHACL shapes (ontology/shapes.ttl) against the example data in tests/shapes/.

`valid-*.ttl` must conform; each `invalid-<reason>.ttl` must fail, and every violation must come
from the one shape its `# expect: dcdrsh:<Shape>` header names.

Each fixture is validated merged with ontology/dcdr.ttl into one data graph, exactly as the build
validates the union of ontology + text + facts + links: sh:targetClass / sh:class then follow
the ontology's rdfs:subClassOf. The ontology is deliberately not passed as pySHACL's `ont_graph`:
pySHACL's ontology mix-in clones the graph node by node and took minutes on this ontology.
"""

import re
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from graph.namespaces import DCDR, SHAPES
from graph.paths import ONTOLOGY_FILE, SHAPES_FILE

FIXTURES = Path(__file__).parent / "shapes"
FIXTURE_FILES = sorted(FIXTURES.glob("*.ttl"))
EXPECT_HEADER = re.compile(r"^# expect: dcdrsh:(\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_FILE, format="turtle")


def violations(
    fixture: Path, ontology: Graph, shapes: Graph
) -> tuple[bool, list[tuple[Node, Node]]]:
    """Conformance and the (source shape, message) of every top-level result.

    Nested results (sh:detail of sh:node / sh:or) are left out: the build reports top-level
    results only, so those are the ones that must name the rule.
    """
    data = Graph()
    data += ontology
    data.parse(fixture, format="turtle")
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none")
    results = []
    for validation_report in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(validation_report, SH.result):
            results.append(
                (report.value(result, SH.sourceShape), report.value(result, SH.resultMessage))
            )
    return bool(conforms), results


def expected_shape(fixture: Path) -> URIRef:
    found = EXPECT_HEADER.findall(fixture.read_text(encoding="utf-8"))
    assert len(found) == 1, f"{fixture.name} must name exactly one '# expect: dcdrsh:<Shape>'"
    return SHAPES[found[0]]


def matches_template(message: str, template: str) -> bool:
    """Whether a result message is the template with its {?var} / {$this} filled in."""
    parts = re.split(r"\{[?$]\w+\}", template)
    return re.fullmatch(".+?".join(re.escape(part) for part in parts), message, re.S) is not None


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURE_FILES if f.name.startswith("valid-")], ids=lambda f: f.name
)
def test_valid_fixture_conforms(fixture: Path, ontology: Graph, shapes: Graph) -> None:
    conforms, results = violations(fixture, ontology, shapes)
    assert conforms, f"{fixture.name} should conform but got {results}"


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURE_FILES if f.name.startswith("invalid-")], ids=lambda f: f.name
)
def test_invalid_fixture_fails_for_its_one_reason(
    fixture: Path, ontology: Graph, shapes: Graph
) -> None:
    expected = expected_shape(fixture)
    assert (expected, None, None) in shapes, f"{fixture.name} expects unknown shape {expected}"
    conforms, results = violations(fixture, ontology, shapes)
    assert not conforms
    assert results, "a non-conforming report has at least one result"
    assert {shape for shape, _ in results} == {expected}
    # The build prints sh:resultMessage, so it must be the shape's own phrase for the rule.
    own_messages = set(shapes.objects(expected, SH.message))
    assert own_messages, f"{expected} has no sh:message"
    for _, message in results:
        assert any(matches_template(str(message), str(own)) for own in own_messages), message


def test_there_are_enough_fixtures_of_both_kinds() -> None:
    names = [f.name for f in FIXTURE_FILES]
    assert sum(n.startswith("invalid-") for n in names) >= 10
    assert any(n.startswith("valid-") for n in names)
    assert all(n.startswith(("valid-", "invalid-")) for n in names)


def test_every_shape_names_its_rule(shapes: Graph) -> None:
    all_shapes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)
    )
    assert all_shapes
    for shape in all_shapes:
        assert isinstance(shape, URIRef) and str(shape).startswith(str(SHAPES)), shape
        assert shapes.value(shape, RDFS.label) is not None, f"{shape} has no rdfs:label"
    # Top-level results come from targeted shapes and their property shapes: each of those
    # carries a sh:message, the phrase the build prints.
    targets = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
    targeted = {s for s in all_shapes if any(shapes.value(s, t) is not None for t in targets)}
    reporting = {p for s in targeted for p in shapes.objects(s, SH.property)}
    reporting |= {s for s in targeted if shapes.value(s, SH.property) is None}
    assert reporting
    for shape in reporting:
        assert shapes.value(shape, SH.message) is not None, f"{shape} has no sh:message"


def test_every_domain_and_range_of_the_ontology_is_checked(ontology: Graph, shapes: Graph) -> None:
    """OWL-RL turns rdfs:domain / rdfs:range into types; a shape must check them first."""

    def checked(prop: Node, cls: Node, target: URIRef) -> bool:
        return any((shape, SH["class"], cls) in shapes for shape in shapes.subjects(target, prop))

    missing = []
    for prop, cls in ontology.subject_objects(RDFS.domain):
        ours = isinstance(prop, URIRef) and prop.startswith(str(DCDR))
        if ours and not checked(prop, cls, SH.targetSubjectsOf):
            missing.append(f"domain of {prop}")
    for prop, cls in ontology.subject_objects(RDFS.range):
        if not isinstance(prop, URIRef) or not prop.startswith(str(DCDR)):
            continue
        if str(cls).startswith(str(XSD)) or cls == RDF.langString:
            continue  # datatype ranges are checked by sh:datatype in the property shapes
        if not checked(prop, cls, SH.targetObjectsOf):
            missing.append(f"range of {prop}")
    assert not missing, missing


def test_shapes_are_valid_shacl(shapes: Graph) -> None:
    # meta_shacl validates the shapes graph itself against the SHACL-for-SHACL shapes.
    conforms, _, text = validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text


def test_prefixes_are_sorted() -> None:
    prefixes = re.findall(r"^@prefix ([\w-]*):", SHAPES_FILE.read_text(encoding="utf-8"), re.M)
    assert prefixes and prefixes == sorted(prefixes)


def test_comparators_of_the_shape_are_those_of_the_ontology(ontology: Graph, shapes: Graph) -> None:
    listed = shapes.value(SHAPES["Observation-comparator"], SH["in"])
    assert listed is not None
    in_shape = set(shapes.items(listed))
    in_ontology = set(ontology.subjects(RDF.type, DCDR.Comparator))
    assert in_shape == in_ontology
    assert len(in_shape) == 5


def test_a_chinese_subtag_still_counts_as_chinese(
    ontology: Graph, shapes: Graph, tmp_path: Path
) -> None:
    """A language subtag of zh (zh-Hans) is still Chinese for sh:languageIn."""
    source = (FIXTURES / "valid-observation.ttl").read_text(encoding="utf-8")
    variant = tmp_path / "valid-observation-zh-hans.ttl"
    variant.write_text(source.replace('"3项"@zh', '"3项"@zh-Hans'), encoding="utf-8")
    assert violations(variant, ontology, shapes)[0]
