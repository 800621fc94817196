"""`/figures`: every observation in one table, filtered and sorted by the address.

The page is rendered on the server from a GET form, so filters and sort order live in the
address and work without JavaScript; `?format=csv|xlsx|json` gives the same rows as files, and
`/figures.csv-metadata.json` is the CSV's W3C CSVW metadata.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from rdflib import URIRef
from werkzeug.datastructures import MultiDict

from graph.namespaces import DCTERMS, ID

from . import charts, i18n, resources
from . import figures_files as files
from .figure_records import (
    MEASURE_TYPES,
    TIME_BASES,
    FigureRecord,
    broader_map,
    document_order,
    load_records,
    narrower_closure,
    term_labels,
)

bp = Blueprint("figures", __name__, template_folder="templates")

FORMATS = ("html", "csv", "xlsx", "json")
FILTERS = ("section", "metric", "kind", "measure", "basis", "q")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,120}$")
MAX_QUERY = 200
# Sortable columns and their headings; `-name` sorts descending. The default is the report's
# own order.
SORT_TITLES = {
    "report": i18n.N_("fig.order.report"),
    "stated_as": i18n.N_("obs.stated"),
    "value": i18n.N_("obs.value"),
    "unit": i18n.N_("obs.unit"),
    "comparator": i18n.N_("obs.comparator"),
    "measure_type": i18n.N_("fig.measure"),
    "ref_date": i18n.N_("fig.refdate"),
    "about": i18n.N_("obs.about"),
    "metric": i18n.N_("obs.metric"),
    "section": i18n.N_("fig.section"),
}
SORT_KEYS = tuple(SORT_TITLES)


@dataclass(frozen=True)
class Filters:
    """The reader's choice, as given in the address (slugs and local names)."""

    section: str = ""
    metric: str = ""
    kind: str = ""
    measure: str = ""
    basis: str = ""
    q: str = ""
    sort: str = "report"

    def active(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value and key != "sort"}


def _bad(message: str) -> None:
    abort(400, description=message)


def _one(args: MultiDict[str, str], name: str) -> str:
    values = args.getlist(name)
    if len(values) > 1:
        _bad(f"give {name}= once; it was given {len(values)} times")
    return values[0].strip() if values else ""


def parse_filters(args: MultiDict[str, str], records: Sequence[FigureRecord]) -> Filters:
    """The filters of the address, each checked; a bad one is a 400 that says what to give."""
    given = {name: _one(args, name) for name in (*FILTERS, "sort")}
    for name in ("section", "metric", "kind"):
        if given[name] and not SLUG.match(given[name]):
            _bad(f"{name}= takes a slug of lowercase letters, digits and '-', not {given[name]!r}")
    if given["section"]:
        sections = {r.section for r in records} | set(section_links("en"))
        if str(ID["section/" + given["section"]]) not in sections:
            known = ", ".join(sorted(iri.rsplit("/", 1)[-1] for iri in sections))
            _bad(f"no section {given['section']!r}; the sections are {known}")
    if given["metric"]:
        iri = str(ID["metric/" + given["metric"]])
        if iri not in {r.metric for r in records} and not resources.exists(resources.URIRef(iri)):
            _bad(f"no metric {given['metric']!r}; see /figures for the metric list")
    if given["kind"]:
        kinds = sorted({r.about_kind for r in records if r.about_kind})
        if given["kind"] not in kinds:
            _bad(f"no figures are about a {given['kind']!r}; kinds are {', '.join(kinds)}")
    if given["measure"] and given["measure"] not in MEASURE_TYPES:
        _bad(f"measure= is one of {', '.join(MEASURE_TYPES)}, not {given['measure']!r}")
    if given["basis"] and given["basis"] not in TIME_BASES:
        _bad(f"basis= is one of {', '.join(TIME_BASES)}, not {given['basis']!r}")
    if len(given["q"]) > MAX_QUERY:
        _bad(f"q= is at most {MAX_QUERY} characters")
    sort = given["sort"] or "report"
    if sort.removeprefix("-") not in SORT_KEYS:
        _bad(
            f"sort= is one of {', '.join(SORT_KEYS)} (with '-' before it to reverse), not {sort!r}"
        )
    given["sort"] = sort
    return Filters(**given)


def _haystack(record: FigureRecord) -> str:
    parts = [record.stated_as, record.sentence_text, record.observation.rsplit("/", 1)[-1]]
    for iri in (record.about, record.metric, record.unit, record.section):
        parts.extend(record.labels.get(iri, {}).values())
    return "\n".join(parts).casefold()


def apply_filters(
    records: Sequence[FigureRecord], filters: Filters, lang: str
) -> list[FigureRecord]:
    """The records that pass every filter, in the asked order."""
    chosen = list(records)
    if filters.section:
        section = str(ID["section/" + filters.section])
        chosen = [r for r in chosen if r.section == section]
    if filters.metric:
        metrics = narrower_closure(str(ID["metric/" + filters.metric]), broader_map())
        chosen = [r for r in chosen if r.metric in metrics]
    if filters.kind:
        chosen = [r for r in chosen if r.about_kind == filters.kind]
    if filters.measure:
        chosen = [r for r in chosen if r.measure_type == filters.measure]
    if filters.basis:
        chosen = [r for r in chosen if r.time_basis == filters.basis]
    if filters.q:
        words = filters.q.casefold().split()
        chosen = [r for r in chosen if all(word in _haystack(r) for word in words)]
    key = filters.sort.removeprefix("-")
    chosen.sort(key=sort_key(key, lang), reverse=filters.sort.startswith("-"))
    return chosen


def sort_key(name: str, lang: str) -> Callable[[FigureRecord], Any]:
    """How one column sorts; rows without a value go last, ties keep the report's order."""
    if name == "report":
        return document_order
    if name == "value":
        return lambda r: (Decimal(str(r.value)), document_order(r))
    if name in ("about", "metric", "unit", "section"):
        return lambda r: (not getattr(r, name), r.label(getattr(r, name), lang), document_order(r))
    return lambda r: (not getattr(r, name), str(getattr(r, name)), document_order(r))


# --- what the page shows ----------------------------------------------------------------------


@dataclass
class FigureView:
    """One row of the HTML table in the reader's language."""

    record: FigureRecord
    obs: resources.Link
    about: resources.Link | None
    kind: str
    metric: resources.Link | None
    unit: str
    value_text: str
    comparator: str
    measure_type: str
    ref_date: str
    basis: str
    section: resources.Link | None
    sentence: resources.Link | None
    sentence_name: str
    highlighted: charts.Highlighted | None


def value_text(record: FigureRecord) -> str:
    text = charts.format_number(record.value)
    return text + "%" if record.unit.endswith("/PERCENT") else text


def date_words(record: FigureRecord, lang: str) -> str:
    """The reference date, else the date as the report states it (asOf / period)."""
    if record.ref_date:
        return record.ref_date
    if record.as_of:
        return f"{i18n.translate('obs.asof', lang)} {record.as_of}"
    if record.period:
        return f"{i18n.translate('obs.period', lang)} {record.period}"
    return ""


def figure_title(record: FigureRecord, lang: str) -> str:
    """An observation in words: 中国裁判文书网 访问量 截至2020-12-31: 530亿人次."""
    # The report's own words first (a stock's cut-off, a flow's period), else the reference date.
    date = record.as_of or ("" if record.period else record.ref_date)
    when = ""
    if date:
        when = f"截至{date}" if lang == "zh" else f"as of {date}"
    elif record.period:
        when = f"{record.period}年" if lang == "zh" else f"in {record.period}"
    about, metric = record.label(record.about, lang), record.label(record.metric, lang)
    if lang == "zh":
        head = " ".join(part for part in (about, metric, when) if part)
        return f"{head}: {record.stated_as or value_text(record)}"
    head = ", ".join(part for part in (about, metric) if part) + (f" {when}" if when else "")
    figure = value_text(record)
    if not record.unit.endswith("/PERCENT") and record.unit:
        figure += " " + record.label(record.unit, lang)
    if record.stated_as and record.stated_as != value_text(record):
        figure += f" ({record.stated_as})"
    return f"{head}: {figure}"


def observation_title(iri: URIRef, lang: str) -> str | None:
    """The observation page's title in words; None when `iri` is no observation."""
    records = load_records(only=iri)
    return figure_title(records[0], lang) if records else None


def views(records: Sequence[FigureRecord], lang: str) -> list[FigureView]:
    terms = term_labels(MEASURE_TYPES + TIME_BASES)
    shown = []
    for r in records:
        highlighted = None
        if r.sentence_text:
            highlighted = charts.highlight(
                r.sentence_text, r.stated_as, r.sentence_begin, r.mention
            )
        sentence_name = ""
        if r.sentence_number is not None:
            sentence_name = i18n.translate("fig.sentence_n", lang).format(
                section=r.section_number or "?", n=r.sentence_number
            )
        shown.append(
            FigureView(
                record=r,
                obs=resources.make_link(r.observation, {}, lang),
                about=resources.make_link(r.about, r.labels, lang) if r.about else None,
                kind=r.about_kind,
                metric=resources.make_link(r.metric, r.labels, lang) if r.metric else None,
                unit=r.label(r.unit, lang),
                value_text=value_text(r),
                comparator=i18n.comparator_words(r.comparator, lang) if r.comparator else "",
                measure_type=i18n.pick_label(terms.get(r.measure_type, {}), lang, r.measure_type),
                ref_date=date_words(r, lang),
                basis=i18n.pick_label(terms.get(r.time_basis, {}), lang, r.time_basis),
                section=resources.make_link(r.section, r.labels, lang) if r.section else None,
                sentence=resources.make_link(r.sentence, {}, lang) if r.sentence else None,
                sentence_name=sentence_name,
                highlighted=highlighted,
            )
        )
    return shown


def section_links(lang: str) -> dict[str, resources.Link]:
    """Every section of the report, in order, as links (for the section filter)."""
    rows = resources.select(
        f"SELECT DISTINCT ?s ?pos WHERE {{ ?s {resources.sparql_term(DCTERMS.isPartOf)} ?whole . "
        f'FILTER(STRSTARTS(STR(?s), "{ID}section/")) '
        f"OPTIONAL {{ ?s <http://schema.org/position> ?pos }} }}"
    )
    ordered = sorted(rows, key=lambda r: (int(str(r.get("pos", 0))), str(r["s"])))
    labels = resources.fetch_labels(str(r["s"]) for r in ordered)
    return {str(r["s"]): resources.make_link(str(r["s"]), labels, lang) for r in ordered}


def metric_options(lang: str) -> list[tuple[str, str, int]]:
    """(slug, label, depth) of every metric, as the scheme's tree."""
    found: list[tuple[str, str, int]] = []

    def walk(nodes: list[resources.TreeNode], depth: int) -> None:
        for node in nodes:
            slug = node.link.iri.rsplit("/", 1)[-1]
            found.append((slug, node.link.label, depth))
            walk(node.children, depth + 1)

    walk(resources.metric_tree(lang), 0)
    return found


def _url(filters: Filters, **changes: str) -> str:
    args = {**filters.active(), "sort": filters.sort, **changes}
    query = {key: value for key, value in args.items() if value and value != "report"}
    return url_for("figures.figures") + ("?" + urlencode(query) if query else "")


def _sort_links(filters: Filters) -> dict[str, tuple[str, str]]:
    """column → (href, aria-sort state) for the table's header."""
    links = {}
    for key in SORT_KEYS[1:]:
        state = "none"
        if filters.sort == key:
            state, target = "ascending", "-" + key
        elif filters.sort == "-" + key:
            state, target = "descending", "report"
        else:
            target = key
        links[key] = (_url(filters, sort=target), state)
    return links


def _download(body: bytes, media: str, name: str, lang: str = "en") -> Response:
    response = Response(body, mimetype=media)
    if media == files.CSV_MEDIA:
        response.content_type = f"{media}; charset=utf-8; header=present"
        # W3C CSVW §5.2: the metadata that describes this CSV.
        metadata = url_for("figures.csv_metadata", name=files.csv_name(lang))
        response.headers["Link"] = f'<{metadata}>; rel="describedby"; type="{files.CSVW_MEDIA}"'
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def table_rows(chosen: Sequence[FigureRecord], lang: str) -> list[files.Row]:
    """The build's table rows (`graph.figures_table`) of the chosen figures, in their order."""
    rows = files.table_rows(lang)
    return [rows[record.observation] for record in chosen if record.observation in rows]


@bp.route("/figures")
def figures() -> ResponseReturnValue:
    """The table of every figure; `?format=` gives the same rows as a file."""
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        _bad(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    lang = i18n.current_language()
    records = load_records()
    filters = parse_filters(request.args, records)
    chosen = apply_filters(records, filters, lang)
    if fmt == "csv":
        body = files.csv_bytes(table_rows(chosen, lang))
        return _download(body, files.CSV_MEDIA, files.csv_name(lang), lang)
    if fmt == "xlsx":
        title = i18n.translate("fig.title", lang)
        body = files.xlsx_bytes(table_rows(chosen, lang), title)
        return _download(body, files.XLSX_MEDIA, "figures.xlsx")
    if fmt == "json":
        active = filters.active() | {"sort": filters.sort, "lang": lang}
        return Response(
            files.json_bytes(table_rows(chosen, lang), active), mimetype=files.JSON_MEDIA
        )
    kinds = sorted({r.about_kind for r in records if r.about_kind})
    kind_labels = term_labels(tuple(kind.capitalize() for kind in kinds))
    downloads = [(name, _url(filters, format=name)) for name in ("csv", "xlsx", "json")]
    response = Response(
        render_template(
            "figures.html",
            rows=views(chosen, lang),
            total=len(records),
            filters=filters,
            sections=[
                (iri.rsplit("/", 1)[-1], link.label) for iri, link in section_links(lang).items()
            ],
            metrics=metric_options(lang),
            kinds=[(k, i18n.pick_label(kind_labels[k.capitalize()], lang, k)) for k in kinds],
            measures=_term_options(MEASURE_TYPES, lang),
            bases=_term_options(TIME_BASES, lang),
            sort_links=_sort_links(filters),
            sort_options=_sort_options(lang),
            downloads=downloads,
            reset=url_for("figures.figures"),
            csv_name=files.csv_name(lang),
        ),
        mimetype="text/html",
    )
    return response


def _sort_options(lang: str) -> list[tuple[str, str]]:
    options = [("report", i18n.translate(SORT_TITLES["report"], lang))]
    for key in SORT_KEYS[1:]:
        title = i18n.translate(SORT_TITLES[key], lang)
        options += [(key, f"{title} ↑"), ("-" + key, f"{title} ↓")]
    return options


def _term_options(names: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    labels = term_labels(names)
    return [(name, i18n.pick_label(labels[name], lang, name)) for name in names]


# The build's two tables (dist/figures.csv in English, dist/figures-zh.csv in Chinese) and their
# CSVW metadata, under the names the metadata gives them.
TABLE_LANGUAGES = {files.csv_name(lang): lang for lang in i18n.LANGUAGES}


@bp.route("/<any('figures.csv', 'figures-zh.csv'):name>")
def figures_csv(name: str) -> ResponseReturnValue:
    """One of the tables as CSV (the address's filters apply too)."""
    lang = TABLE_LANGUAGES[name]
    records = load_records()
    filters = parse_filters(request.args, records)
    chosen = apply_filters(records, filters, lang)
    return _download(files.csv_bytes(table_rows(chosen, lang)), files.CSV_MEDIA, name, lang)


@bp.route("/<any('figures.csv', 'figures-zh.csv'):name>-metadata.json")
def csv_metadata(name: str) -> ResponseReturnValue:
    """W3C CSVW table metadata of one of the tables."""
    return Response(files.metadata_bytes(TABLE_LANGUAGES[name]), mimetype=files.CSVW_MEDIA)
