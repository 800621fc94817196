"""Competency queries: each `queries/examples/*.rq` answers its question with the rows expected
in `tests/competency/<name>.json` (written from reading the report, not from running the query),
through rdflib and through Oxigraph, on the union of ontology, text, facts and links."""

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.query import ResultRow
from rdflib.term import Node

from graph.build import load_sources, merged
from graph.namespaces import CURRENCY, DCDR, ID, UNIT, WD
from graph.paths import EXAMPLES_DIR, Project

EXPECTED_DIR = Path(__file__).parent / "competency"
SHORT = {
    "id:": str(ID),
    "dcdr:": str(DCDR),
    "wd:": str(WD),
    "unit:": str(UNIT),
    "cur:": str(CURRENCY),
}
NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
Row = frozenset[tuple[str, object]]


def _expand(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    assert isinstance(value, str)
    for short, full in SHORT.items():
        if value.startswith(short) and " " not in value:
            return full + value[len(short) :]
    return value


def expected_rows(name: str) -> set[Row]:
    data = json.loads((EXPECTED_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return {frozenset((k, _expand(v)) for k, v in row.items()) for row in data["rows"]}


def _rdflib_value(term: Node) -> object:
    if (
        isinstance(term, Literal)
        and term.datatype is not None
        and isinstance(term.toPython(), int | Decimal | float)
    ):
        return Decimal(str(term))
    return str(term)


def _oxigraph_value(term: object) -> object:
    if isinstance(term, pyoxigraph.Literal):
        numeric = term.datatype is not None and term.datatype.value.startswith(
            "http://www.w3.org/2001/XMLSchema#"
        )
        temporal = term.datatype.value.endswith(("date", "string", "gYear"))
        if numeric and not temporal and NUMERIC.match(term.value):
            return Decimal(term.value)
        return term.value
    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    return str(term)


def query_names() -> list[str]:
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.rq"))


@pytest.fixture(scope="module")
def union() -> Graph:
    graphs = load_sources(Project.from_env())
    return merged(graphs, ["ontology", "text", "facts", "links"])


@pytest.fixture(scope="module")
def store(union: Graph) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(union.serialize(format="nt"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def rdflib_rows(graph: Graph, query: str) -> Iterator[Row]:
    result = graph.query(query)
    for row in result:
        assert isinstance(row, ResultRow)
        bound = row.asdict()
        yield frozenset((name, _rdflib_value(term)) for name, term in bound.items())


def oxigraph_rows(store: pyoxigraph.Store, query: str) -> Iterator[Row]:
    solutions = store.query(query)
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    for solution in solutions:
        yield frozenset(
            (name, _oxigraph_value(solution[name])) for name in names if solution[name] is not None
        )


def test_there_are_at_least_30_queries_each_with_expected_rows() -> None:
    names = query_names()
    assert len(names) >= 30
    assert {path.stem for path in EXPECTED_DIR.glob("*.json")} == set(names)


@pytest.mark.parametrize("name", query_names())
def test_query_header_names_the_question_in_both_languages(name: str) -> None:
    text = (EXAMPLES_DIR / f"{name}.rq").read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    for key in ("# title:", "# question (zh):", "# question (en):"):
        assert any(line.startswith(key) and line[len(key) :].strip() for line in header), key
    assert "FROM" not in re.sub(r"#.*", "", text).upper().split()


@pytest.mark.parametrize("name", query_names())
def test_query_answers_through_rdflib(name: str, union: Graph) -> None:
    query = (EXAMPLES_DIR / f"{name}.rq").read_text(encoding="utf-8")
    assert set(rdflib_rows(union, query)) == expected_rows(name)


@pytest.mark.parametrize("name", query_names())
def test_query_answers_through_oxigraph(name: str, store: pyoxigraph.Store) -> None:
    query = (EXAMPLES_DIR / f"{name}.rq").read_text(encoding="utf-8")
    assert set(oxigraph_rows(store, query)) == expected_rows(name)


def test_rows_compare_numbers_as_numbers() -> None:
    typed = Literal("50.0", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal"))
    assert _rdflib_value(typed) == _expand(50)
    assert _rdflib_value(Literal("50", datatype=typed.datatype)) != _expand("50")


@pytest.fixture(scope="module")
def dumped(real_dist: Path) -> Dataset:
    """The built TriG dump, read back by rdflib with the union of its graphs as default."""
    dataset = Dataset(default_union=True)
    dataset.parse(real_dist / "dcdr.trig", format="trig")
    return dataset


@pytest.mark.parametrize("name", query_names())
def test_query_answers_over_the_built_dumps(name: str, dumped: Dataset) -> None:
    query = (EXAMPLES_DIR / f"{name}.rq").read_text(encoding="utf-8")
    assert set(rdflib_rows(dumped, query)) == expected_rows(name)


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES_DIR.parent.rglob("*.rq")), ids=lambda path: path.stem
)
def test_regression_virtuoso_refused_base_after_prefix(path: Path) -> None:
    """SPARQL allows BASE and PREFIX in any order, but Virtuoso 7 answers 400 to a BASE after
    a PREFIX; with BASE first every query of the project runs there too."""
    lines = path.read_text(encoding="utf-8").splitlines()
    keywords = [line.split()[0] for line in lines if line.startswith(("BASE ", "PREFIX "))]
    assert "BASE" not in keywords[1:]


@pytest.fixture(scope="module")
def served(real_dist: Path) -> pyoxigraph.Store:
    """All named graphs of the build, `inferred` included, queried as the endpoint answers a
    query without FROM: the default graph is their union."""
    store = pyoxigraph.Store()
    store.load(path=str(real_dist / "dcdr.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


@pytest.mark.parametrize("name", query_names())
def test_query_returns_no_duplicate_rows(name: str, served: pyoxigraph.Store) -> None:
    """A row listed twice reads as two figures; a query may return duplicates only when its
    header says `# duplicates:` and why (none does today)."""
    query = (EXAMPLES_DIR / f"{name}.rq").read_text(encoding="utf-8")
    solutions = served.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    rows = [tuple(str(solution[n]) for n in names) for solution in solutions]
    if re.search(r"^# duplicates:", query, re.MULTILINE):
        return
    assert len(rows) == len(set(rows)), sorted(r for r in rows if rows.count(r) > 1)
