"""Consistency checks of the observations: do the figures agree with the text and each other?

Rules, each reported as its own Problem rule name on the observation that breaks it:

- `share-count`: a share (`dcdr:shareOf` a count, with `dcdr:impliedDenominator`) agrees with
  100·count/denominator within the rounding shown (23/32 = 71.875 → "71.9%": the difference
  is at most half a unit of the last decimal shown).
- `conflict`: no two observations of the same about, metric, unit and date/period disagree
  on value or comparator.
- `stated-in-sentence`: every `dcdr:statedAs` occurs in the anchorOf of its sentence.
- `value-matches-statement`: the statedAs, read by the figure extractor, expands to
  `dcdr:value`, its qualifier gives `dcdr:comparator`, and its classifier is a label of
  `dcdr:unit`.
"""

from collections import defaultdict
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from graph.coverage import literal_number
from graph.figures import FigureError, parse_figure
from graph.namespaces import DCDR, NIF, UNIT
from graph.problems import Problem

HALF = Decimal("0.5")


def _problem(rule: str, observation: Node, message: str) -> Problem:
    return Problem(rule=f"consistency:{rule}", focus=str(observation), message=message)


def _decimals_shown(graph: Graph, share: Node) -> int:
    """Decimals of the share as written ("71.9%" → 1), else of the value's lexical form."""
    stated = graph.value(share, DCDR.statedAs)
    if stated is not None:
        try:
            return parse_figure(str(stated)).decimals_shown
        except FigureError:
            pass
    value = graph.value(share, DCDR.value)
    return len(str(value).partition(".")[2]) if value is not None else 0


def share_problems(graph: Graph) -> list[Problem]:
    problems = []
    for share, count in graph.subject_objects(DCDR.shareOf):
        shown = literal_number(graph.value(share, DCDR.value))
        counted = literal_number(graph.value(count, DCDR.value))
        denominator = literal_number(graph.value(share, DCDR.impliedDenominator))
        if shown is None or counted is None:
            problems.append(_problem("share-count", share, "share or its count has no value"))
            continue
        if denominator is None or denominator <= 0:
            problems.append(
                _problem("share-count", share, "share has no positive dcdr:impliedDenominator")
            )
            continue
        if graph.value(share, DCDR.unit) != UNIT["PERCENT"]:
            problems.append(_problem("share-count", share, "a share's unit must be unit:PERCENT"))
        exact = Decimal(100) * counted / denominator
        tolerance = HALF * Decimal(10) ** -_decimals_shown(graph, share)
        if abs(exact - shown) > tolerance:
            problems.append(
                _problem(
                    "share-count",
                    share,
                    f"{counted}/{denominator} is {exact:.4f}%, not {shown}% (within ±{tolerance})",
                )
            )
    return problems


def conflict_problems(graph: Graph) -> list[Problem]:
    groups: dict[tuple[Node | None, ...], list[Node]] = defaultdict(list)
    for observation in set(graph.subjects(RDF.type, DCDR.Observation)):
        key = tuple(
            graph.value(observation, prop)
            for prop in (DCDR.about, DCDR.metric, DCDR.unit, DCDR.asOf, DCDR.period)
        )
        if key[0] is None or key[1] is None:
            continue
        groups[key].append(observation)
    problems = []
    for members in groups.values():
        readings = {
            (
                literal_number(graph.value(member, DCDR.value)),
                graph.value(member, DCDR.comparator),
            )
            for member in members
        }
        if len(readings) < 2:
            continue
        names = sorted(str(member) for member in members)
        for member in members:
            others = ", ".join(name for name in names if name != str(member))
            problems.append(
                _problem(
                    "conflict",
                    member,
                    f"same about, metric, unit and date as {others} but a different value",
                )
            )
    return problems


def stated_in_sentence_problems(graph: Graph) -> list[Problem]:
    problems = []
    for observation, stated in graph.subject_objects(DCDR.statedAs):
        sentences = list(graph.objects(observation, PROV.wasDerivedFrom))
        anchors = [graph.value(sentence, NIF.anchorOf) for sentence in sentences]
        texts = [str(anchor) for anchor in anchors if anchor is not None]
        if not texts:
            problems.append(
                _problem("stated-in-sentence", observation, "its sentence has no nif:anchorOf")
            )
        elif not any(str(stated) in text for text in texts):
            problems.append(
                _problem(
                    "stated-in-sentence",
                    observation,
                    f"statedAs {str(stated)!r} does not occur in its sentence",
                )
            )
    return problems


def _unit_labels(graph: Graph, unit: Node) -> set[str]:
    labels: set[str] = set()
    for prop in (RDFS.label, SKOS.altLabel, SKOS.prefLabel):
        labels.update(
            str(label)
            for label in graph.objects(unit, prop)
            if isinstance(label, Literal) and label.language == "zh"
        )
    return labels


def statement_problems(graph: Graph) -> list[Problem]:
    problems = []
    for observation, stated in graph.subject_objects(DCDR.statedAs):
        try:
            figure = parse_figure(str(stated))
        except FigureError as error:
            problems.append(_problem("value-matches-statement", observation, str(error)))
            continue
        value = literal_number(graph.value(observation, DCDR.value))
        if value != figure.value:
            problems.append(
                _problem(
                    "value-matches-statement",
                    observation,
                    f"statedAs {figure.text!r} expands to {figure.value}, but value is {value}",
                )
            )
        comparator = graph.value(observation, DCDR.comparator)
        if comparator != DCDR[figure.comparator]:
            problems.append(
                _problem(
                    "value-matches-statement",
                    observation,
                    f"qualifier of {figure.text!r} means dcdr:{figure.comparator}, "
                    f"but comparator is {comparator}",
                )
            )
        unit = graph.value(observation, DCDR.unit)
        if figure.classifier is not None and isinstance(unit, URIRef):
            labels = _unit_labels(graph, unit)
            if labels and figure.classifier not in labels:
                problems.append(
                    _problem(
                        "value-matches-statement",
                        observation,
                        f"classifier {figure.classifier!r} is not a zh label of unit {unit}",
                    )
                )
    return problems


def consistency_problems(graph: Graph) -> list[Problem]:
    """Every consistency rule on `graph` (the union of the asserted graphs)."""
    return sorted(
        share_problems(graph)
        + conflict_problems(graph)
        + stated_in_sentence_problems(graph)
        + statement_problems(graph)
    )
