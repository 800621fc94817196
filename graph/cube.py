"""The figures as a W3C RDF Data Cube, and its integrity constraints.

The cube's structure (`id:dataset/figures`, its qb:DataStructureDefinition and component
specifications) is part of the ontology (`ontology/dcdr.ttl`). What ties each observation to it
is derived here, at load time, and added to `facts`, where a reader of the observations looks
for it (docs/modelling-notes.md, "The figures cube"):

- `qb:dataSet id:dataset/figures` on every `dcdr:Observation`, so that the observation files
  need not repeat one triple 71 times;
- `dcdr:measureType` on every observation whose metric has one: the measure type belongs to the
  metric (DESIGN, "Observations"), and the Data Cube can only attach an attribute to a data
  set, a slice, a measure or an observation, not to a dimension's value.

The integrity constraints IC-1 … IC-21 (section 11 of the Recommendation) are SPARQL files in
`queries/checks/cube/`. They hold for the *normalized* cube (section 10), so they run on the
asserted union plus its OWL-RL closure (subclasses and subproperties: a `dcdr:Observation` is a
`qb:Observation`) plus the spec's two normalization phases as SPARQL Update (type and property
closure of the qb terms; attributes attached at data set, slice or measure level pushed down to
the observations), which the closure cannot do. IC-20 and IC-21 are templates in the spec (a
property path cannot be a variable); a line `# instantiate $p with: SELECT …` in such a file
names the query whose `?p` values instantiate it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph

from graph.namespaces import DCDR, ID, QB, RDF
from graph.problems import Problem

if TYPE_CHECKING:
    from graph.validation import Rows

FIGURES = ID["dataset/figures"]
STRUCTURE = ID["structure/figures"]

Triple = tuple[Any, Any, Any]

# Section 10.2 of the Recommendation: phase 1 (type and property closure), then phase 2
# (pushing attributes attached above the observation down to it). Written for this project
# from the spec's description; the rules are the spec's.
NORMALIZE = """
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>

INSERT { ?observation rdf:type qb:Observation } WHERE { ?group qb:observation ?observation } ;
INSERT { ?observation rdf:type qb:Observation . ?dataSet rdf:type qb:DataSet }
  WHERE { ?observation qb:dataSet ?dataSet } ;
INSERT { ?slice rdf:type qb:Slice } WHERE { ?dataSet qb:slice ?slice } ;
INSERT { ?key rdf:type qb:SliceKey } WHERE { ?slice qb:sliceStructure ?key } ;
INSERT { ?spec qb:componentProperty ?p . ?p rdf:type qb:DimensionProperty }
  WHERE { ?spec qb:dimension ?p } ;
INSERT { ?spec qb:componentProperty ?p . ?p rdf:type qb:MeasureProperty }
  WHERE { ?spec qb:measure ?p } ;
INSERT { ?spec qb:componentProperty ?p . ?p rdf:type qb:AttributeProperty }
  WHERE { ?spec qb:attribute ?p } ;

INSERT { ?observation ?component ?value } WHERE {
  ?spec qb:componentProperty ?component ;
    qb:componentAttachment qb:DataSet .
  ?dataSet qb:structure/qb:component ?spec ;
    ?component ?value .
  ?observation qb:dataSet ?dataSet .
} ;
INSERT { ?observation ?component ?value } WHERE {
  ?spec qb:componentProperty ?component ;
    qb:componentAttachment qb:Slice .
  ?dataSet qb:structure/qb:component ?spec ;
    qb:slice ?slice .
  ?slice ?component ?value ;
    qb:observation ?observation .
} ;
INSERT { ?observation ?component ?value } WHERE {
  ?spec qb:componentProperty ?component .
  ?component a qb:DimensionProperty .
  ?dataSet qb:structure/qb:component ?spec ;
    qb:slice ?slice .
  ?slice ?component ?value ;
    qb:observation ?observation .
} ;
INSERT { ?observation ?component ?value } WHERE {
  ?spec qb:componentProperty ?component ;
    qb:componentAttachment qb:MeasureProperty .
  ?dataSet qb:structure/qb:component ?spec .
  ?component a qb:AttributeProperty .
  ?measure a qb:MeasureProperty ;
    ?component ?value .
  ?observation qb:dataSet ?dataSet ;
    ?measure ?anything .
}
"""

_INSTANTIATE = re.compile(r"^# instantiate \$(\w+) with: (.+)$", re.MULTILINE)
_PROLOGUE = re.compile(r"^\s*(PREFIX|BASE)\b.*$", re.MULTILINE | re.IGNORECASE)


def observation_links(facts: Graph) -> list[Triple]:
    """The cube triples each observation of `facts` gets: `qb:dataSet` and, where its metric
    (in `facts` too) has one, `dcdr:measureType`."""
    added: list[Triple] = []
    for observation in sorted(set(facts.subjects(RDF.type, DCDR.Observation)), key=str):
        added.append((observation, QB.dataSet, FIGURES))
        for metric in facts.objects(observation, DCDR.metric):
            for kind in facts.objects(metric, DCDR.measureType):
                added.append((observation, DCDR.measureType, kind))
    return added


def with_cube_links(facts: Graph) -> Graph:
    """`facts` with the cube triples of its observations added (in place; also returned)."""
    for triple in observation_links(facts):
        facts.add(triple)
    return facts


def normalized_store(graphs: Iterable[Graph]) -> Any:
    """An in-memory Oxigraph store holding the union of `graphs`, normalized as section 10 of
    the Recommendation says (the caller includes the OWL-RL closure among `graphs`)."""
    import pyoxigraph

    store = pyoxigraph.Store()
    for graph in graphs:
        data = graph.serialize(format="nt", encoding="utf-8")
        store.load(data, pyoxigraph.RdfFormat.N_TRIPLES)
    store.update(NORMALIZE)
    return store


def instances(store: Any, text: str) -> list[str]:
    """The query texts one check file stands for: itself, or, for a template, one per value of
    its `$name` (none when the graph has no such value)."""
    found = _INSTANTIATE.search(text)
    if found is None:
        return [text]
    import pyoxigraph

    name, select = found.groups()
    prologue = "\n".join(match.group(0) for match in _PROLOGUE.finditer(text))
    values = [row[0] for row in store.query(f"{prologue}\n{select}")]
    body = text.replace(found.group(0), "")
    variable = re.compile(rf"\${name}\b")
    # Split and joined, not re.sub: an IRI is text to insert, never a replacement pattern.
    return [
        f"<{value.value}>".join(variable.split(body))
        for value in values
        if isinstance(value, pyoxigraph.NamedNode)
    ]


def integrity_problems(graphs: Iterable[Graph], checks: Sequence[Path]) -> list[Problem]:
    """Every row of every IC query on the normalized union of `graphs`, as a `Problem`."""
    from graph.validation import query_findings

    store = normalized_store(graphs)
    problems: list[Problem] = []
    for path in checks:
        problems += query_findings(f"cube {path.stem}", partial(_instance_rows, store, path))
    return sorted(set(problems))


def _instance_rows(store: Any, path: Path) -> Rows:
    """The rows of every instance of one IC query (IC-20 and IC-21 are templates)."""
    from graph.validation import _rows

    return [
        row
        for query in instances(store, path.read_text(encoding="utf-8"))
        for row in _rows(store.query(query))
    ]


def check_files(checks_dir: Path) -> list[Path]:
    """The IC queries of a project (`queries/checks/cube/*.rq`), in IC order."""
    folder = checks_dir / "cube"
    return sorted(folder.glob("*.rq")) if folder.is_dir() else []
