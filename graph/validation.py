"""Every check of the asserted graph, each turned into `Problem`s (one line each).

- SHACL (pySHACL) of text + facts + links + background + ontology against
  `ontology/shapes.ttl`: the ontology is part of the data graph so that `sh:targetClass`
  reaches instances of subclasses (and the comparator individuals it defines are checked too).
  It is merged here rather than passed as pySHACL's `ont_graph`, whose node-by-node cloning
  took minutes on this graph;
- span offsets (`graph.text.span_problems`), so observation mentions are held to the same
  rule as the text layer's own spans;
- `queries/checks/*.rq`: each must return no rows (a row, or an ASK that is true, is a
  problem naming the file and listing the row's values). They run on the asserted named graphs
  with the union as default graph, so a rule can say "in `facts`" with `GRAPH` (an entity the
  report does not name may live in `background`, never in `facts`);
- figure coverage and consistency (`graph.coverage`, `graph.consistency`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from graph.consistency import consistency_problems
from graph.coverage import coverage_problems
from graph.dumps import prefixed_graph, union
from graph.namespaces import ID, SH, XSD, graph_iri
from graph.problems import Problem
from graph.text import span_problems

_PLAIN_TYPES = {XSD.integer, XSD.nonNegativeInteger, XSD.decimal, XSD.int, XSD.boolean}


def compact(term: Node | None, names: NamespaceManager) -> str:
    """A term as a reader wants it in a one-line report: `dcdr:metric`, `"1.1亿"@zh`, `-`."""
    if term is None:
        return "-"
    if isinstance(term, URIRef) and str(term).startswith(str(ID)):
        # Not a valid CURIE (the local part has `/`), but what a reader recognises at once.
        return "id:" + str(term)[len(str(ID)) :]
    if isinstance(term, Literal) and term.datatype in _PLAIN_TYPES:
        return str(term)
    text = term.n3(names) if isinstance(term, URIRef | BNode | Literal) else str(term)
    return " ".join(text.split())


def _shape_name(shape: Node, shapes: Graph, names: NamespaceManager) -> str:
    """A property shape is usually a blank node; name it after the node shape that holds it."""
    if isinstance(shape, BNode):
        parent = shapes.value(predicate=SH.property, object=shape)
        if parent is not None:
            path = shapes.value(shape, SH.path)
            return f"{compact(parent, names)}/{compact(path, names)}"
    return compact(shape, names)


def shacl_problems(data: Graph, shapes: Graph, ontology: Graph | None = None) -> list[Problem]:
    """One problem per SHACL violation (warnings and infos do not fail a build)."""
    import pyshacl

    names = prefixed_graph().namespace_manager
    if ontology is not None:
        data = union([data, ontology])
    conforms, results, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        inference="none",
        advanced=True,
        allow_warnings=True,
        allow_infos=True,
    )
    if conforms:
        return []
    problems = []
    for result in results.subjects(SH.resultSeverity, SH.Violation):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        shape = results.value(result, SH.sourceShape)
        component = results.value(result, SH.sourceConstraintComponent)
        message = results.value(result, SH.resultMessage)
        parts = [f"path {compact(path, names)}"] if path is not None else []
        if value is not None and value != focus:
            parts.append(f"value {compact(value, names)}")
        parts.append(" ".join(str(message or compact(component, names)).split()))
        rule = "shacl " + (_shape_name(shape, shapes, names) if shape is not None else "-")
        problems.append(Problem(rule, compact(focus, names), "; ".join(parts)))
    return sorted(set(problems))


def _term(term: Any) -> Node | None:
    """An Oxigraph term as the rdflib term the report formats (compact IRIs, n3 literals)."""
    import pyoxigraph

    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    return Literal(str(term))


Rows = list[list[tuple[str, Node | None]]]


def _rows(result: Any) -> Rows:
    import pyoxigraph

    if isinstance(result, pyoxigraph.QueryBoolean):
        return [[("ask", Literal(True))]] if bool(result) else []
    if not isinstance(result, pyoxigraph.QuerySolutions):
        raise ValueError("a check must be a SELECT or ASK query")
    variables = [variable.value for variable in result.variables]
    return [[(name, _term(row[name])) for name in variables] for row in result]


def check_store(graph: Graph | Mapping[str, Graph]) -> Any:
    """An in-memory Oxigraph store of one graph (as its default graph) or of named graphs keyed
    by contract name (each in its named graph; queries then see their union by default)."""
    import pyoxigraph

    store = pyoxigraph.Store()
    parts = {None: graph} if isinstance(graph, Graph) else dict(graph)
    for name, part in parts.items():
        target = None if name is None else pyoxigraph.NamedNode(str(graph_iri(name)))
        data = part.serialize(format="nt", encoding="utf-8")
        if target is None:
            store.load(data, pyoxigraph.RdfFormat.N_TRIPLES)
        else:
            store.load(data, pyoxigraph.RdfFormat.N_TRIPLES, to_graph=target)
    return store


def check_query_problems(
    graph: Graph | Mapping[str, Graph], checks: Sequence[Path] | None = None
) -> list[Problem]:
    """Runs each check query on `graph` (the asserted union, or the asserted named graphs by
    name); every row is a problem.

    The queries run in an in-memory Oxigraph store: the same SPARQL 1.1, many times faster
    than rdflib's engine on the joins integrity rules are made of.
    """
    if checks is None:
        from graph.paths import Project

        checks = Project.from_env().check_files()
    store = check_store(graph)
    problems: list[Problem] = []
    for path in checks:
        problems += query_findings(f"check {path.name}", partial(_union_rows, store, path))
    return problems


def _union_rows(store: Any, path: Path) -> Rows:
    text = path.read_text(encoding="utf-8")
    return _rows(store.query(text, use_default_graph_as_union=True))


def query_findings(rule: str, rows: Callable[[], Rows]) -> list[Problem]:
    """One problem per row a check query returns, or one saying that it does not run (a broken
    check is reported like any other finding). The first column names the node at fault; the
    others say what is wrong with it."""
    names = prefixed_graph().namespace_manager
    try:
        found = rows()
    except (SyntaxError, OSError, ValueError, UnicodeDecodeError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        return [Problem(rule, "-", f"query does not run: {message}")]
    problems = []
    for row in found:
        focus = compact(row[0][1], names) if row else "-"
        rest = row[1:] if len(row) > 1 else row
        values = ", ".join(f"{name}={compact(value, names)}" for name, value in rest)
        problems.append(Problem(rule, focus, values))
    return problems


def _guarded(name: str, check: Callable[[Graph], list[Problem]], graph: Graph) -> list[Problem]:
    """Runs one check; a crash inside it is reported as a finding, so the build still prints
    one clean line per problem instead of a traceback."""
    try:
        return list(check(graph))
    except Exception as error:
        return [Problem(name, "-", f"check crashed: {error!r}")]


def validation_problems(
    data: Graph,
    asserted: Graph,
    shapes: Graph,
    ontology: Graph,
    checks: Sequence[Path],
    named: Mapping[str, Graph] | None = None,
) -> list[Problem]:
    """All findings: SHACL on `data` (text + facts + links + background), the rest on
    `asserted` (data + ontology); check queries on `named` (the asserted graphs by name) when
    given, so that they can tell `facts` from `background`."""
    problems = shacl_problems(data, shapes, ontology)
    problems += span_problems(asserted)
    problems += check_query_problems(asserted if named is None else named, checks)
    problems += _guarded("coverage", coverage_problems, asserted)
    problems += _guarded("consistency", consistency_problems, asserted)
    return sorted(problems)
