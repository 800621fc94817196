"""The W3C Data Cube integrity constraints (queries/checks/cube/) against small cubes of their own
in tests/cube/, and the figures cube of the real sources.

`valid-*.ttl` must pass every IC; each `invalid-ic-NN-*.ttl` must fail IC-NN and no other one,
as its `# expect: ic-NN` header says. Each fixture is checked as the build checks the sources:
its OWL-RL closure added, then the spec's normalization (graph.cube).
"""

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS

from graph.build import ASSERTED, load_sources, merged
from graph.cube import FIGURES, STRUCTURE, check_files, integrity_problems
from graph.namespaces import (
    DATASET_IRI,
    DCDR,
    QB,
    SDMX_ATTRIBUTE,
    SDMX_DIMENSION,
    SDMX_MEASURE,
    SKOS,
    VOID,
)
from graph.paths import Project
from graph.problems import Problem
from graph.reasoning import closure
from graph.void import Description, meta_graph

FIXTURES = Path(__file__).parent / "cube"
EXPECT = re.compile(r"^# expect: (ic-\d\d)$", re.MULTILINE)
PROJECT = Project.from_env()
CHECKS = check_files(PROJECT.checks_dir)


def ic_problems(data: Graph) -> list[Problem]:
    inferred, _ = closure(data)
    return integrity_problems([data, inferred], CHECKS)


def failed(problems: list[Problem]) -> set[str]:
    """The ICs that failed, as `ic-NN`."""
    return {problem.rule.split()[1][:5] for problem in problems}


def test_one_query_per_constraint() -> None:
    assert [path.name[:5] for path in CHECKS] == [f"ic-{n:02d}" for n in range(1, 22)]


@pytest.mark.parametrize(
    "fixture", sorted(FIXTURES.glob("valid-*.ttl")), ids=lambda path: path.stem
)
def test_valid_cube_passes_every_constraint(fixture: Path) -> None:
    assert ic_problems(Graph().parse(fixture)) == []


@pytest.mark.parametrize(
    "fixture", sorted(FIXTURES.glob("invalid-*.ttl")), ids=lambda path: path.stem
)
def test_invalid_cube_fails_its_one_constraint(fixture: Path) -> None:
    expected = EXPECT.findall(fixture.read_text(encoding="utf-8"))
    assert len(expected) == 1, f"{fixture.name} must name one '# expect: ic-NN'"
    assert failed(ic_problems(Graph().parse(fixture))) == set(expected)


def test_every_constraint_has_an_invalid_cube() -> None:
    named = {path.name[len("invalid-") :][:5] for path in FIXTURES.glob("invalid-*.ttl")}
    assert named == {f"ic-{n:02d}" for n in range(1, 22)}


def test_problem_names_the_offending_observation() -> None:
    problems = ic_problems(Graph().parse(FIXTURES / "invalid-ic-12-duplicate-observations.ttl"))
    assert [problem.focus for problem in problems] == ["<http://example.org/cube#o1>"]


@pytest.fixture(scope="module")
def sources() -> dict[str, Graph]:
    return load_sources(PROJECT)


@pytest.fixture(scope="module")
def asserted(sources: dict[str, Graph]) -> Graph:
    return merged(sources, ASSERTED)


@pytest.fixture(scope="module")
def inferred(asserted: Graph) -> Graph:
    return closure(asserted)[0]


def test_figures_cube_passes_every_constraint(asserted: Graph, inferred: Graph) -> None:
    assert integrity_problems([asserted, inferred], CHECKS) == []


def test_every_observation_is_in_the_figures_data_set(sources: dict[str, Graph]) -> None:
    facts = sources["facts"]
    observations = set(facts.subjects(RDF.type, DCDR.Observation))
    assert observations and observations == set(facts.subjects(QB.dataSet, FIGURES))


def test_data_set_is_labelled_and_has_one_structure(asserted: Graph) -> None:
    labels = {
        label.language
        for label in asserted.objects(FIGURES, RDFS.label)
        if isinstance(label, Literal)
    }
    assert {"en", "zh"} <= labels
    assert list(asserted.objects(FIGURES, QB.structure)) == [STRUCTURE]


def test_metric_dimension_takes_its_codes_from_the_metric_scheme(asserted: Graph) -> None:
    scheme = asserted.value(DCDR.metric, QB.codeList)
    assert scheme is not None and (scheme, RDF.type, SKOS.ConceptScheme) in asserted


def test_sdmx_tools_find_values_and_units_through_inferred(
    asserted: Graph, inferred: Graph
) -> None:
    observation = next(asserted.subjects(RDF.type, DCDR.Observation))
    value = asserted.value(observation, DCDR.value)
    unit = asserted.value(observation, DCDR.unit)
    assert isinstance(value, Literal)
    assert (observation, SDMX_MEASURE.obsValue, value) in inferred
    assert (observation, SDMX_ATTRIBUTE.unitMeasure, unit) in inferred
    date = asserted.value(observation, DCDR.refDate)
    assert date is not None and (observation, SDMX_DIMENSION.refPeriod, date) in inferred


def test_closure_states_the_structure_as_the_spec_normalizes_it(inferred: Graph) -> None:
    """qb:dimension etc. are sub-properties of qb:componentProperty in the qb vocabulary."""
    properties = set(inferred.objects(None, QB.componentProperty))
    assert {DCDR.about, DCDR.metric, DCDR.refDate, DCDR.value, DCDR.unit} <= properties


def test_dataset_description_links_the_figures_cube(
    sources: dict[str, Graph], inferred: Graph
) -> None:
    meta = meta_graph({**sources, "inferred": inferred}, Description("0", "0" * 64))
    assert (DATASET_IRI, VOID.subset, FIGURES) in meta


def test_every_observation_has_its_metrics_measure_type(sources: dict[str, Graph]) -> None:
    facts = sources["facts"]
    for observation in facts.subjects(RDF.type, DCDR.Observation):
        metric = facts.value(observation, DCDR.metric)
        kinds = set(facts.objects(observation, DCDR.measureType))
        assert kinds and kinds == set(facts.objects(metric, DCDR.measureType)), observation


def test_check_catches_an_observation_measure_type_its_metric_lacks(asserted: Graph) -> None:
    broken = Graph()
    broken += asserted
    observation = next(broken.subjects(RDF.type, DCDR.Observation))
    metric = broken.value(observation, DCDR.metric)
    wrong = next(
        kind for kind in (DCDR.Stock, DCDR.Flow) if (metric, DCDR.measureType, kind) not in broken
    )
    broken.add((observation, DCDR.measureType, wrong))
    check = PROJECT.checks_dir / "facts-observation-measure-type.rq"
    rows = list(broken.query(check.read_text(encoding="utf-8")))
    assert [row[0] for row in rows] == [observation]  # type: ignore[index]
