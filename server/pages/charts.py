"""The figures of a page (observations as table rows) and their small bar charts.

Charts are laid out on the server and drawn as inline SVG.

The layout is computed here and the SVG is written by a Jinja template (`_chart.html`), so every
label goes through autoescaping. Colours and sizes are SVG attributes, never `style=`, because
the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from rdflib import Literal, URIRef
from rdflib.term import Node

from . import i18n
from .resources import (
    Link,
    comparator_local,
    derived_from_sentence,
    fetch_labels,
    make_link,
    prologue,
    select,
    sparql_term,
)

# Geometry in SVG user units; the SVG scales to the page width.
LABEL_WIDTH = 260
BAR_AREA = 300
VALUE_GAP = 8
VALUE_WIDTH = 170
ROW_HEIGHT = 26
BAR_HEIGHT = 18
TOP = 6
# The smallest visible bar, so that a tiny figure beside a huge one is still seen.
MIN_BAR = 2.0


class IncomparableFigures(ValueError):
    """Figures of different measure types or units were asked to share one chart."""


@dataclass(frozen=True)
class ChartItem:
    """One figure to draw, with what makes it comparable: its unit and measure type."""

    label: str
    value: Decimal
    value_text: str
    href: str | None = None
    unit: str = ""
    measure_type: str = ""


@dataclass(frozen=True)
class Bar:
    """One laid-out bar with its texts."""

    label: str
    value_text: str
    href: str | None
    y: float
    width: float
    text_y: float
    value_x: float


@dataclass(frozen=True)
class BarChart:
    """A chart ready for the template."""

    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    bar_x: int
    bar_height: int
    label_x: int


def bar_chart(title: str, items: list[ChartItem]) -> BarChart | None:
    """Lays out one bar per item, largest first; None when there is nothing to compare.

    Bars side by side say "this is larger than that", which is false of a stock beside a flow
    or of 人次 beside 次: items of more than one unit or measure type raise IncomparableFigures.
    """
    kinds = {(item.unit, item.measure_type) for item in items}
    if len(kinds) > 1:
        raise IncomparableFigures(f"{title}: figures of {len(kinds)} units or measure types")
    if len(items) < 2:
        return None
    ordered = sorted(items, key=lambda item: (-item.value, item.label))
    largest = max(abs(item.value) for item in ordered)
    bars = []
    for index, item in enumerate(ordered):
        share = float(abs(item.value) / largest) if largest else 0.0
        width = max(MIN_BAR, round(share * BAR_AREA, 1))
        y = TOP + index * ROW_HEIGHT
        bars.append(
            Bar(
                label=item.label,
                value_text=item.value_text,
                href=item.href,
                y=y,
                width=width,
                text_y=y + BAR_HEIGHT * 0.75,
                value_x=LABEL_WIDTH + width + VALUE_GAP,
            )
        )
    return BarChart(
        title=title,
        bars=tuple(bars),
        width=LABEL_WIDTH + BAR_AREA + VALUE_GAP + VALUE_WIDTH,
        height=TOP * 2 + len(bars) * ROW_HEIGHT,
        bar_x=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        label_x=LABEL_WIDTH - VALUE_GAP,
    )


def shorten(text: str, limit: int = 22) -> str:
    """Keeps chart labels on one line; the full label stays in the bar's tooltip."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def comparable_charts(rows: Sequence[FigureRow]) -> list[BarChart]:
    """One chart per metric, unit and measure type that has several numeric figures.

    Figures of one metric in one unit and of one measure type are comparable; bars are named
    after what each figure is about, with its date when one entity has several figures of the
    metric.
    """
    groups: dict[tuple[str, str, str], list[FigureRow]] = {}
    for row in rows:
        if isinstance(row.value, int | float | Decimal) and not isinstance(row.value, bool):
            key = (row.metric_iri, row.unit_iri, row.measure_type_iri)
            groups.setdefault(key, []).append(row)
    charts = []
    for group in groups.values():
        if len(group) < 2:
            continue
        abouts = [row.about.label if row.about else "" for row in group]
        repeated = len(set(abouts)) < len(abouts)
        items = []
        for about, row in zip(abouts, group, strict=True):
            name = about or row.obs.label
            if repeated and row.date:
                name = f"{name} ({row.date})"
            items.append(
                ChartItem(
                    label=name,
                    value=Decimal(str(row.value)),
                    value_text=row.value_text,
                    href=row.obs.href,
                    unit=row.unit_iri,
                    measure_type=row.measure_type_iri,
                )
            )
        metric = group[0].metric.label if group[0].metric else ""
        unit = group[0].unit.label if group[0].unit else ""
        chart = bar_chart(f"{metric} ({unit})" if unit else metric, items)
        if chart is not None:
            charts.append(chart)
    return charts


# --- figures (observations) ----------------------------------------------------------------


@dataclass(frozen=True)
class Highlighted:
    """A sentence split around the figure it states."""

    before: str
    figure: str
    after: str


@dataclass
class FigureRow:
    """One observation as a row of a figures table."""

    obs: Link
    about: Link | None
    metric: Link | None
    unit: Link | None
    value: Any
    value_text: str
    stated_as: str
    comparator: str
    date: str
    sentence: Link | None
    highlighted: Highlighted | None
    metric_iri: str = ""
    unit_iri: str = ""
    measure_type_iri: str = ""


def highlight(
    text: str, stated_as: str, sentence_begin: int | None, span: tuple[int, int] | None
) -> Highlighted:
    """Marks the figure in its sentence: by the mention's offsets, else by the text as written."""
    if span is not None and sentence_begin is not None:
        start, end = span[0] - sentence_begin, span[1] - sentence_begin
        if 0 <= start < end <= len(text):
            return Highlighted(text[:start], text[start:end], text[end:])
    if stated_as:
        where = text.find(stated_as)
        if where >= 0:
            end = where + len(stated_as)
            return Highlighted(text[:where], text[where:end], text[end:])
    return Highlighted(text, "", "")


def format_number(value: Any) -> str:
    """110000000 → `110,000,000`; decimals keep their written precision."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    return format(value, ",")


def _int_or_none(term: Node | None) -> int | None:
    try:
        return int(str(term)) if term is not None else None
    except ValueError:
        return None


FIGURE_QUERY = """SELECT ?obs ?about ?metric ?measureType ?value ?unit ?comparator ?asOf ?period
       ?refDate ?timeBasis ?statedAs ?sentence ?text ?sbegin ?mbegin ?mend WHERE {{
  {pattern}
  ?obs dcdr:value ?value .
  OPTIONAL {{ ?obs dcdr:about ?about }}
  OPTIONAL {{ ?obs dcdr:metric ?metric .
             OPTIONAL {{ ?metric dcdr:measureType ?measureType }} }}
  OPTIONAL {{ ?obs dcdr:unit ?unit }}
  OPTIONAL {{ ?obs dcdr:comparator ?comparator }}
  OPTIONAL {{ ?obs dcdr:asOf ?asOf }}
  OPTIONAL {{ ?obs dcdr:period ?period }}
  OPTIONAL {{ ?obs dcdr:refDate ?refDate }}
  OPTIONAL {{ ?obs dcdr:timeBasis ?timeBasis }}
  OPTIONAL {{ ?obs dcdr:statedAs ?statedAs }}
  OPTIONAL {{ ?obs prov:wasDerivedFrom ?sentence . ?sentence nif:anchorOf ?text .
             OPTIONAL {{ ?sentence nif:beginIndex ?sbegin }} }}
  OPTIONAL {{ ?obs dcdr:mention ?mention .
             ?mention nif:beginIndex ?mbegin ; nif:endIndex ?mend }}
}} ORDER BY ?sbegin ?mbegin ?obs"""


def figures(pattern: str, lang: str) -> list[FigureRow]:
    """The observations matched by `pattern` (a triple pattern on `?obs`), one row each, in the
    order the report states them (a section's page reads like the section)."""
    rows = select(prologue() + FIGURE_QUERY.format(pattern=pattern))
    first: dict[str, dict[str, Node]] = {}
    for row in rows:
        first.setdefault(str(row["obs"]), row)
    mentioned: set[str] = set(first)
    for row in first.values():
        for key in ("about", "metric", "unit", "timeBasis"):
            if key in row:
                mentioned.add(str(row[key]))
    labels = fetch_labels(mentioned)
    result: list[FigureRow] = []
    for obs, row in first.items():
        value = cast(Literal, row["value"]).toPython()
        stated = str(row.get("statedAs", ""))
        unit_iri = str(row.get("unit", ""))
        value_text = format_number(value)
        if unit_iri.endswith("/PERCENT"):
            value_text += "%"
        date = ""
        if "asOf" in row:
            date = f"{i18n.translate('obs.asof', lang)} {row['asOf']}"
        elif "period" in row:
            date = f"{i18n.translate('obs.period', lang)} {row['period']}"
        elif "refDate" in row:
            # No date in the figure's own sentence: its reference date, and on what basis
            # (the basis's label in the page's language, from the ontology).
            basis = make_link(str(row["timeBasis"]), labels, lang) if "timeBasis" in row else None
            date = f"{row['refDate']} ({basis.label})" if basis else str(row["refDate"])
        highlighted = None
        if "text" in row:
            mention = None
            if "mbegin" in row and "mend" in row:
                mbegin, mend = _int_or_none(row["mbegin"]), _int_or_none(row["mend"])
                mention = (mbegin, mend) if mbegin is not None and mend is not None else None
            highlighted = highlight(
                str(row["text"]), stated, _int_or_none(row.get("sbegin")), mention
            )
        result.append(
            FigureRow(
                obs=make_link(obs, labels, lang),
                about=make_link(str(row["about"]), labels, lang) if "about" in row else None,
                metric=make_link(str(row["metric"]), labels, lang) if "metric" in row else None,
                unit=make_link(unit_iri, labels, lang) if unit_iri else None,
                value=value,
                value_text=value_text,
                stated_as=stated,
                comparator=i18n.comparator_words(comparator_local(row.get("comparator")), lang),
                date=date,
                sentence=make_link(str(row["sentence"]), {}, lang) if "sentence" in row else None,
                highlighted=highlighted,
                metric_iri=str(row.get("metric", "")),
                unit_iri=unit_iri,
                measure_type_iri=str(row.get("measureType", "")),
            )
        )
    return result


def figures_pattern(iri: URIRef, kind: str) -> str | None:
    """Which observations a page of this kind lists."""
    node = sparql_term(iri)
    if kind == "observation":
        return f"VALUES ?obs {{ {node} }}"
    if kind == "metric":
        # A metric's page shows the figures of its narrower metrics too; comparable_charts
        # keeps each metric, unit and measure type in a chart of its own.
        return f"?obs dcdr:metric ?m . ?m skos:broader* {node} ."
    if kind == "sentence":
        return derived_from_sentence(iri)
    if kind in ("section", "paragraph"):
        return f"?obs prov:wasDerivedFrom ?sentence . ?sentence dcterms:isPartOf+ {node} ."
    if kind in ("report", "part", "context", "phrase", "unit", "dataset"):
        return None
    return f"?obs dcdr:about {node} ."
