"""Coverage check: no figure of the text is left without an observation.

For every `nif:Sentence` of the text layer, every figure the extractor finds in its
`nif:anchorOf` must be carried, as `dcdr:value`, by some observation `prov:wasDerivedFrom` that
sentence. The build fails with one Problem per uncovered figure, naming the figure, its
sentence and its offset in the part's context string.
"""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF

from graph.figures import Figure, find_figures
from graph.namespaces import DCDR, NIF
from graph.problems import Problem

RULE = "coverage"


def literal_number(node: object) -> Decimal | None:
    """The numeric value of an RDF literal, or None when it is not a number."""
    if not isinstance(node, Literal):
        return None
    try:
        return Decimal(str(node))
    except InvalidOperation:
        return None


def _values_by_sentence(graph: Graph) -> dict[URIRef, set[Decimal]]:
    values: dict[URIRef, set[Decimal]] = defaultdict(set)
    for observation in graph.subjects(RDF.type, DCDR.Observation):
        numbers = {
            number
            for number in map(literal_number, graph.objects(observation, DCDR.value))
            if number is not None
        }
        for sentence in graph.objects(observation, PROV.wasDerivedFrom):
            if isinstance(sentence, URIRef):
                values[sentence].update(numbers)
    return values


def sentence_figures(graph: Graph) -> list[tuple[URIRef, int, Figure]]:
    """(sentence, context offset of the figure, figure) for every figure of the text layer."""
    found = []
    sentences = {s for s in graph.subjects(RDF.type, NIF.Sentence) if isinstance(s, URIRef)}
    for sentence in sorted(sentences):
        anchor = graph.value(sentence, NIF.anchorOf)
        if anchor is None:
            continue
        begin = literal_number(graph.value(sentence, NIF.beginIndex))
        base = int(begin) if begin is not None else 0
        for figure in find_figures(str(anchor)):
            found.append((sentence, base + figure.start, figure))
    return found


def coverage_problems(graph: Graph) -> list[Problem]:
    """One Problem per figure of the text that no observation of its sentence carries."""
    values = _values_by_sentence(graph)
    problems = []
    for sentence, offset, figure in sentence_figures(graph):
        if figure.value in values.get(sentence, set()):
            continue
        problems.append(
            Problem(
                rule=RULE,
                focus=str(sentence),
                message=(
                    f"figure {figure.text!r} (value {figure.value}) at offset {offset} "
                    "has no observation derived from this sentence"
                ),
            )
        )
    return problems


def coverage_summary(graph: Graph) -> tuple[int, int]:
    """(figures covered, figures found) — for the build's report and `dcdr stats`."""
    found = sentence_figures(graph)
    return len(found) - len(coverage_problems(graph)), len(found)
