"""Consistency checks of the observations: do the figures agree with the text and each other?

Rules, each reported as its own Problem rule name on the observation that breaks it:

- `share-count`: a share (`dcdr:shareOf` a count, with `dcdr:impliedDenominator`) agrees with
  100·count/denominator within the rounding shown (23/32 = 71.875 → "71.9%": the difference
  is at most half a unit of the last decimal shown).
- `conflict`: no two observations of the same about, metric, unit and reference date
  (`dcdr:refDate`) disagree on value or comparator.
- `stated-in-sentence`: every `dcdr:statedAs` occurs in the anchorOf of its sentence.
- `value-matches-statement`: the statedAs, read by the figure extractor, expands to
  `dcdr:value`, its qualifier gives `dcdr:comparator`, and its classifier is a label of
  `dcdr:unit`.
- `share-denominator`: a share with a `dcdr:impliedDenominator` but no count (`dcdr:shareOf`)
  is some whole number out of that denominator, within the rounding shown (18/32 → "56.3%").
- `time-basis`: `dcdr:refDate` agrees with the date the text gives. A figure whose sentence
  states `dcdr:asOf` / `dcdr:period` is `dcdr:statedInSentence` with that date (a period ends on
  31 December); `dcdr:statedInSentence` needs one of them; `dcdr:reportCoverage` is the end of
  the year the report covers; `dcdr:statedInContext` cites with `dcdr:timeSource` an earlier
  sentence of the same paragraph whose own words give the refDate.
- `measure-type`: a metric of measure type `dcdr:Share` counts in unit:PERCENT, and only such a
  metric does.
"""

import calendar
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from graph.coverage import literal_number
from graph.figures import FigureError, parse_figure
from graph.namespaces import DCDR, NIF, UNIT
from graph.problems import Problem

HALF = Decimal("0.5")
# The report is the Digital China Development Report on the year 2020 (dcterms:temporal of
# id:report/dcdr-2020): an undated figure refers to the end of that year.
REPORT_COVERAGE_END = date(2020, 12, 31)
# How the report dates figures: 截至2020年11月底, 2020年底, 2020年(全年). A month's 底 is its last
# day; a year alone, or its 底, is 31 December.
DATE_IN_TEXT = re.compile(r"(?P<year>\d{4})年(?:(?P<month>\d{1,2})月底?|底)?")


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
        tolerance = _tolerance(graph, share)
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
            for prop in (DCDR.about, DCDR.metric, DCDR.unit, DCDR.refDate)
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


def _tolerance(graph: Graph, share: Node) -> Decimal:
    return HALF * Decimal(10) ** -_decimals_shown(graph, share)


def implied_share_problems(graph: Graph) -> list[Problem]:
    """Shares without a count: the implied denominator must admit a whole-number count."""
    problems = []
    for share, whole in graph.subject_objects(DCDR.impliedDenominator):
        if graph.value(share, DCDR.shareOf) is not None:
            continue  # checked against its count by share_problems
        shown = literal_number(graph.value(share, DCDR.value))
        denominator = literal_number(whole)
        if shown is None or denominator is None or denominator <= 0:
            problems.append(
                _problem("share-denominator", share, "needs a value and a positive denominator")
            )
            continue
        tolerance = _tolerance(graph, share)
        count = (shown * denominator / 100).to_integral_value()
        if abs(Decimal(100) * count / denominator - shown) > tolerance:
            problems.append(
                _problem(
                    "share-denominator",
                    share,
                    f"no whole number out of {denominator} gives {shown}% (within ±{tolerance})",
                )
            )
    return problems


def dates_in_text(text: str) -> set[date]:
    """Every date a sentence states, as the last day of what it names (2020年底 → 2020-12-31)."""
    found = set()
    for match in DATE_IN_TEXT.finditer(text):
        year = int(match.group("year"))
        month = int(match.group("month") or 12)
        if 1 <= month <= 12:
            found.add(date(year, month, calendar.monthrange(year, month)[1]))
    return found


def _as_date(node: Node | None) -> date | None:
    if isinstance(node, Literal) and isinstance(node.toPython(), date):
        return node.toPython()
    return None


def _paragraph(graph: Graph, sentence: Node | None) -> Node | None:
    return graph.value(sentence, DCTERMS.isPartOf) if sentence is not None else None


def _context_problem(graph: Graph, observation: Node, ref: date) -> str | None:
    source = graph.value(observation, DCDR.timeSource)
    sentence = graph.value(observation, PROV.wasDerivedFrom)
    if source is None or sentence is None:
        return "statedInContext needs a dcdr:timeSource and a sentence"
    if _paragraph(graph, source) != _paragraph(graph, sentence):
        return f"timeSource {source} is not in the paragraph of {sentence}"
    source_begin = literal_number(graph.value(source, NIF.beginIndex))
    begin = literal_number(graph.value(sentence, NIF.beginIndex))
    if source_begin is None or begin is None or source_begin >= begin:
        return f"timeSource {source} does not come before {sentence}"
    if ref not in dates_in_text(str(graph.value(source, NIF.anchorOf) or "")):
        return f"timeSource {source} does not state the refDate {ref}"
    return None


def _time_problem(graph: Graph, observation: Node) -> str | None:
    ref = _as_date(graph.value(observation, DCDR.refDate))
    basis = graph.value(observation, DCDR.timeBasis)
    as_of = _as_date(graph.value(observation, DCDR.asOf))
    period = graph.value(observation, DCDR.period)
    if ref is None:
        return "no dcdr:refDate of type xsd:date"
    stated = as_of if as_of is not None else None
    if period is not None and stated is None:
        stated = date(int(str(period)[:4]), 12, 31)
    if stated is not None:
        if basis != DCDR.statedInSentence:
            return "its sentence dates it (asOf/period), so the basis is dcdr:statedInSentence"
        if ref != stated:
            return f"refDate {ref} differs from the date its sentence states ({stated})"
        return None
    if basis == DCDR.statedInSentence:
        return "dcdr:statedInSentence without the dcdr:asOf or dcdr:period its sentence states"
    if basis == DCDR.reportCoverage and ref != REPORT_COVERAGE_END:
        return f"reportCoverage means {REPORT_COVERAGE_END}, not {ref}"
    if basis == DCDR.statedInContext:
        return _context_problem(graph, observation, ref)
    return None


def time_basis_problems(graph: Graph) -> list[Problem]:
    problems = []
    for observation in set(graph.subjects(RDF.type, DCDR.Observation)):
        message = _time_problem(graph, observation)
        if message is not None:
            problems.append(_problem("time-basis", observation, message))
    return problems


def measure_type_problems(graph: Graph) -> list[Problem]:
    problems = []
    for observation, metric in graph.subject_objects(DCDR.metric):
        share = graph.value(metric, DCDR.measureType) == DCDR.Share
        percent = graph.value(observation, DCDR.unit) == UNIT["PERCENT"]
        if share != percent:
            problems.append(
                _problem(
                    "measure-type",
                    observation,
                    f"metric {metric} is {'a' if share else 'not a'} dcdr:Share, "
                    f"but the unit is {'not ' if not percent else ''}unit:PERCENT",
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
        + implied_share_problems(graph)
        + time_basis_problems(graph)
        + measure_type_problems(graph)
    )
