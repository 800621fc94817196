"""A bar chart of a query's answer: its first label column against its first number column,
laid out by `charts.bar_chart` and drawn by the same template macro as the pages' charts.

A chart puts bars side by side, which says "this is larger than that". That is false of 530亿
人次 beside 1.1亿份, or of a stock beside a flow, so the rows are first asked (in one extra
query for all of them) what unit and measure type their figures have: an observation in a row
brings its `dcdr:unit` and its metric's `dcdr:measureType`, a metric its measure type, a unit
itself. Rows of more than one unit or measure type get no chart, and the page says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rdflib import Literal, URIRef
from rdflib.term import Node

from graph.namespaces import DCDR

from . import i18n
from .charts import BarChart, ChartItem, IncomparableFigures, bar_chart
from .resources import Labels, fetch_labels, make_link, select, sparql_term

MEASURE_TYPES = frozenset(str(DCDR[name]) for name in ("Stock", "Flow", "Share", "Average"))
# More bars than this are no longer read one by one.
MAX_BARS = 40


@dataclass(frozen=True)
class ResultChart:
    """The chart of an answer, or why there is none ("" when there is simply nothing to chart)."""

    chart: BarChart | None = None
    refusal: str = ""


def _number(term: Node | None) -> Decimal | None:
    if not isinstance(term, Literal) or isinstance(term.toPython(), bool):
        return None
    value = term.toPython()
    if not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _columns(table: Sequence[Sequence[Node | None]], labels: Labels) -> tuple[int, int] | None:
    """(label column, number column): the first column whose bound cells are all numbers, and
    the first other column holding IRIs or text, preferring one whose IRIs all have labels
    (`?obs ?about ?value` is charted by what each figure is about)."""
    width = len(table[0]) if table else 0
    number = next(
        (
            index
            for index in range(width)
            if any(row[index] is not None for row in table)
            and all(row[index] is None or _number(row[index]) is not None for row in table)
        ),
        None,
    )
    if number is None:
        return None
    candidates = [
        index
        for index in range(width)
        if index != number
        and any(isinstance(row[index], URIRef | Literal) for row in table)
        and not all(_number(row[index]) is not None for row in table if row[index] is not None)
    ]
    named = [
        index
        for index in candidates
        if all(
            not isinstance(row[index], URIRef) or str(row[index]) in labels
            for row in table
            if row[index] is not None
        )
    ]
    chosen = named or candidates
    return (chosen[0], number) if chosen else None


def _kinds(iris: set[str]) -> dict[str, tuple[set[str], set[str]]]:
    """IRI → (units, measure types) its rows' figures have, in one query for all of them."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for iri in iris & MEASURE_TYPES:
        found[iri] = (set(), {iri})
    rest = sorted(iris - MEASURE_TYPES)
    if not rest:
        return found
    values = " ".join(sparql_term(URIRef(iri)) for iri in rest)
    unit, metric, measure = (sparql_term(DCDR[name]) for name in ("unit", "metric", "measureType"))
    rows = select(
        f"SELECT DISTINCT ?x ?unit ?type WHERE {{ VALUES ?x {{ {values} }} "
        f"{{ ?x {unit} ?unit . OPTIONAL {{ ?x {metric}/{measure} ?type }} }} "
        f"UNION {{ ?x {measure} ?type }} UNION {{ ?o {unit} ?x . BIND(?x AS ?unit) }} }}"
    )
    for row in rows:
        units, types = found.setdefault(str(row["x"]), (set(), set()))
        if "unit" in row:
            units.add(str(row["unit"]))
        if "type" in row:
            types.add(str(row["type"]))
    return found


def _names(iris: set[str], labels: Labels, lang: str) -> str:
    return ", ".join(sorted(make_link(iri, labels, lang).label for iri in iris))


def result_chart(
    columns: list[str], table: Sequence[Sequence[Node | None]], labels: Labels, lang: str
) -> ResultChart:
    """The bar chart of a SELECT answer's rows (`labels` as fetched for the result table)."""
    found = _columns(table, labels)
    if found is None:
        return ResultChart()
    label_at, number_at = found
    rows = [row for row in table if row[number_at] is not None and row[label_at] is not None]
    if len(rows) < 2:
        return ResultChart()
    if len(rows) > MAX_BARS:
        return ResultChart(
            refusal=i18n.translate("query.chart_too_many", lang)
            % {"count": len(rows), "most": MAX_BARS}
        )
    kinds = _kinds({str(term) for row in rows for term in row if isinstance(term, URIRef)})
    items = []
    all_units: set[str] = set()
    all_types: set[str] = set()
    for row in rows:
        units: set[str] = set()
        types: set[str] = set()
        for term in row:
            if isinstance(term, URIRef) and str(term) in kinds:
                units |= kinds[str(term)][0]
                types |= kinds[str(term)][1]
        all_units |= units
        all_types |= types
        term = row[label_at]
        link = make_link(str(term), labels, lang) if isinstance(term, URIRef) else None
        value = _number(row[number_at])
        assert value is not None  # the number column holds numbers only
        items.append(
            ChartItem(
                label=link.label if link else str(term),
                value=value,
                value_text=str(row[number_at]),
                href=link.href if link else None,
                unit=" ".join(sorted(units)),
                measure_type=" ".join(sorted(types)),
            )
        )
    title = f"?{columns[number_at]} · ?{columns[label_at]}"
    try:
        return ResultChart(chart=bar_chart(title, items))
    except IncomparableFigures:
        labels = {**labels, **fetch_labels((all_units | all_types) - set(labels))}
        return ResultChart(
            refusal=i18n.translate("query.chart_mixed", lang)
            % {
                "units": _names(all_units, labels, lang) or "—",
                "types": _names(all_types, labels, lang) or "—",
            }
        )
