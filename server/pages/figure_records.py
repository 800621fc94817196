"""The observations as the `/figures` and `/report` pages need them, asked of the store.

One record per `dcdr:Observation`, with what the pages filter, sort and show beyond the figures
table's columns (`graph.figures_table`, which gives the downloadable files): labels in both
languages, section and sentence numbers, and the offsets of the figure in its sentence for the
highlight. Asked in SPARQL, so the pages work on a remote store too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from flask import current_app
from rdflib import Literal, URIRef
from rdflib.term import Node

from graph.namespaces import DCDR, ID, RDFS, SKOS

from . import i18n
from .resources import app_store, fetch_labels, kind_of, prologue, select, sparql_term

# The contract's closed vocabularies (DESIGN.md, "Observations"): accepted as filter values even
# before the graph uses them, so that a link stays valid while the data grows.
MEASURE_TYPES = ("Stock", "Flow", "Share", "Average")
TIME_BASES = ("statedInSentence", "statedInContext", "reportCoverage")
COMPARATORS = ("exactly", "moreThan", "atLeast", "nearly", "approximately")

ROWS_QUERY = """SELECT ?obs ?about ?metric ?value ?unit ?comparator ?asOf ?period ?statedAs
       ?refDate ?timeBasis ?timeSource ?measureType ?sentence ?text ?sbegin ?snum
       ?section ?secnum ?mbegin ?mend WHERE {
  ?obs a dcdr:Observation ; dcdr:value ?value .
  OPTIONAL { ?obs dcdr:about ?about }
  OPTIONAL { ?obs dcdr:metric ?metric OPTIONAL { ?metric dcdr:measureType ?measureType } }
  OPTIONAL { ?obs dcdr:unit ?unit }
  OPTIONAL { ?obs dcdr:comparator ?comparator }
  OPTIONAL { ?obs dcdr:asOf ?asOf }
  OPTIONAL { ?obs dcdr:period ?period }
  OPTIONAL { ?obs dcdr:statedAs ?statedAs }
  OPTIONAL { ?obs dcdr:refDate ?refDate }
  OPTIONAL { ?obs dcdr:timeBasis ?timeBasis }
  OPTIONAL { ?obs dcdr:timeSource ?timeSource }
  OPTIONAL { ?obs dcdr:mention ?mention . ?mention nif:beginIndex ?mbegin ; nif:endIndex ?mend }
  OPTIONAL {
    ?obs prov:wasDerivedFrom ?sentence . ?sentence nif:anchorOf ?text .
    OPTIONAL { ?sentence nif:beginIndex ?sbegin }
    OPTIONAL { ?sentence schema:position ?snum }
    OPTIONAL {
      ?sentence dcterms:isPartOf+ ?section .
      FILTER(STRSTARTS(STR(?section), "%SECTIONS%"))
      OPTIONAL { ?section schema:position ?secnum }
    }
  }
}"""

BROADER_QUERY = "SELECT DISTINCT ?m ?broader WHERE { ?m skos:broader ?broader }"


@dataclass
class FigureRecord:
    """One observation with everything the table shows, labels in both languages."""

    observation: str
    stated_as: str
    value: int | Decimal | float
    unit: str = ""
    comparator: str = ""
    measure_type: str = ""
    ref_date: str = ""
    time_basis: str = ""
    time_source: str = ""
    as_of: str = ""
    period: str = ""
    about: str = ""
    metric: str = ""
    section: str = ""
    section_number: int | None = None
    sentence: str = ""
    sentence_number: int | None = None
    sentence_text: str = ""
    sentence_begin: int | None = None
    mention: tuple[int, int] | None = None
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def about_kind(self) -> str:
        return kind_of(self.about)

    def label(self, iri: str, lang: str) -> str:
        """The label of one of the row's IRIs in `lang` (the other language, else the slug)."""
        if not iri:
            return ""
        fallback = iri[len(str(ID)) :] if iri.startswith(str(ID)) else iri.rsplit("/", 1)[-1]
        return i18n.pick_label(self.labels.get(iri, {}), lang, fallback)


def _local(term: Node | None) -> str:
    """`moreThan` for `dcdr:moreThan`; other IRIs stay whole."""
    if term is None:
        return ""
    text = str(term)
    return text[len(str(DCDR)) :] if text.startswith(str(DCDR)) else text


def _int(term: Node | None) -> int | None:
    try:
        return int(str(term)) if term is not None else None
    except ValueError:
        return None


def _number(term: Node) -> int | Decimal | float:
    value = cast(Literal, term).toPython()
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        return Decimal(str(term))
    return value


def load_records(only: URIRef | None = None) -> list[FigureRecord]:
    """Every observation of the dataset (or only one), in the report's order (section,
    sentence, position of the figure).

    The records are a function of the graph version, so the app keeps the last version's: the
    figures table, the report, search and the citations ask for them on every request."""
    kept: dict[str, list[FigureRecord]] = current_app.extensions.setdefault(_KEPT, {})
    version = app_store().version
    if version not in kept:
        kept.clear()
        kept[version] = _query_records()
    if only is None:
        return list(kept[version])
    return [record for record in kept[version] if record.observation == str(only)]


_KEPT = "dcdr.figure_records"


def _query_records() -> list[FigureRecord]:
    text = prologue() + ROWS_QUERY.replace("%SECTIONS%", str(ID) + "section/")
    records: dict[str, FigureRecord] = {}
    for row in select(text):
        obs = str(row["obs"])
        if obs in records:
            # The union of the named graphs may repeat a binding; the first one is kept.
            continue
        mention = None
        if "mbegin" in row and "mend" in row:
            begin, end = _int(row["mbegin"]), _int(row["mend"])
            mention = (begin, end) if begin is not None and end is not None else None
        records[obs] = FigureRecord(
            observation=obs,
            stated_as=str(row.get("statedAs", "")),
            value=_number(row["value"]),
            unit=str(row.get("unit", "")),
            comparator=_local(row.get("comparator")),
            measure_type=_local(row.get("measureType")),
            ref_date=str(row.get("refDate", "")),
            time_basis=_local(row.get("timeBasis")),
            time_source=str(row.get("timeSource", "")),
            as_of=str(row.get("asOf", "")),
            period=str(row.get("period", "")),
            about=str(row.get("about", "")),
            metric=str(row.get("metric", "")),
            section=str(row.get("section", "")),
            section_number=_int(row.get("secnum")),
            sentence=str(row.get("sentence", "")),
            sentence_number=_int(row.get("snum")),
            sentence_text=str(row.get("text", "")),
            sentence_begin=_int(row.get("sbegin")),
            mention=mention,
        )
    wanted: set[str] = set()
    for record in records.values():
        wanted.update((record.unit, record.about, record.metric, record.section))
    labels = fetch_labels(wanted)
    for record in records.values():
        record.labels = labels
    return sorted(records.values(), key=document_order)


def document_order(record: FigureRecord) -> tuple[int, int, int, str]:
    """Where the figure stands in the report: section, sentence, offset of the figure."""
    where = record.mention[0] if record.mention else (record.sentence_begin or 0)
    return (record.section_number or 0, record.sentence_begin or 0, where, record.observation)


def broader_map() -> dict[str, set[str]]:
    """Metric → its broader metrics (skos:broader, as stated)."""
    found: dict[str, set[str]] = {}
    for row in select(f"PREFIX skos: <{SKOS}>\n{BROADER_QUERY}"):
        found.setdefault(str(row["m"]), set()).add(str(row["broader"]))
    return found


def narrower_closure(metric: str, broader: dict[str, set[str]]) -> set[str]:
    """The metric and every metric below it in the scheme (cycles are harmless)."""
    found = {metric}
    changed = True
    while changed:
        changed = False
        for child, parents in broader.items():
            if child not in found and parents & found:
                found.add(child)
                changed = True
    return found


def term_labels(names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Labels of the ontology's terms (`Stock`, `statedInSentence` …) by local name."""
    iris = {str(DCDR[name]): name for name in names}
    values = " ".join(sparql_term(URIRef(iri)) for iri in iris)
    labels: dict[str, dict[str, str]] = {name: {} for name in names}
    rows = select(
        f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }} ?s {sparql_term(RDFS.label)} ?l }}"
    )
    for row in rows:
        lang = (cast(Literal, row["l"]).language or "").split("-")[0]
        labels[iris[str(row["s"])]].setdefault(lang, str(row["l"]))
    return labels
