"""Linked-data pages, browsing, search and the query UI (the `pages` blueprint).

Every `https://w3id.org/dcdr/id/…` IRI answers at `/id/…` with HTML for browsers and RDF for
clients; the RDF is the resource's concise bounded description, asked of the store as a
CONSTRUCT and serialized by rdflib. All pages are rendered on the server and readable with
JavaScript off; every label goes through Jinja's autoescaping.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import flask_babel
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from rdflib import Graph, URIRef
from rdflib.query import Result
from werkzeug.exceptions import BadRequest, ServiceUnavailable

from graph import paths
from graph.namespaces import DATASET_IRI, DCDR
from server.errors import render_error
from server.pages import query_chart, query_editor
from server.pages.dataset_description import file_digests
from server.pages.jsonld_context import jsonld_compacted
from server.problem_details import PROBLEM_JSON, problem_body
from server.public_base import endpoint_iri, public_root
from server.stores.store import (
    DatasetSpec,
    NotAcceptable,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)

from . import charts, cite_pages, dumps_page, figures_pages, i18n, resources, search
from .dumps_page import DUMP_FILES, DUMP_TYPES, dist_folder

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

# ?format= names → (media type, rdflib serializer).
RDF_FORMATS: dict[str, tuple[str, str]] = {
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
}
HTML = "text/html"
# HTML first: a client that accepts anything equally (`*/*`) gets the readable page.
OFFERED = [HTML, "application/xhtml+xml"] + [media for media, _ in RDF_FORMATS.values()]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
CLASS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,100}$")


# --- shared page furniture --------------------------------------------------------------


def _lang_url(code: str) -> str:
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def sparql_href() -> str:
    """The endpoint's path (contract: `/sparql` below the app's root)."""
    return request.script_root + "/sparql"


@bp.app_context_processor
def _furniture() -> dict[str, Any]:
    lang = i18n.current_language()
    return {
        "lang": lang,
        "t": flask_babel.gettext,
        "lang_url": _lang_url,
        "sparql_href": sparql_href(),
        "shorten": charts.shorten,
    }


@bp.after_app_request
def _html_headers(response: Response) -> Response:
    """CSP and nosniff on every HTML answer of the app, error pages included."""
    if response.mimetype == HTML:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.vary.update(("Accept-Language", "Cookie"))
        i18n.remember_language(response)
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype=HTML)
    response.vary.add("Accept")
    return response


# --- content negotiation ------------------------------------------------------------------


def negotiate() -> str:
    """`html` or one of RDF_FORMATS' names; a bad `?format=` is the reader's error (400)."""
    asked = request.args.get("format")
    if asked is not None:
        if asked == "html" or asked in RDF_FORMATS:
            return asked
        abort(400, description=f"unknown format {asked!r}; use html, {', '.join(RDF_FORMATS)}")
    accept = request.accept_mimetypes
    # No Accept header means any type (RFC 9110, 12.5.1): the first offered, the page.
    best = accept.best_match(OFFERED) if accept else OFFERED[0]
    if best is None:
        abort(406, description="this resource is available as " + ", ".join(OFFERED))
    if best in (HTML, "application/xhtml+xml"):
        return "html"
    return next(name for name, (media, _) in RDF_FORMATS.items() if media == best)


def _format_links(endpoint: str, **values: Any) -> list[tuple[str, str, str]]:
    return [
        (name, url_for(endpoint, format=name, **values), media)
        for name, (media, _) in RDF_FORMATS.items()
    ]


def _rdf_response(graph: Graph, fmt: str, links: list[tuple[str, str, str]]) -> Response:
    media, serializer = RDF_FORMATS[fmt]
    if serializer == "json-ld":
        body = jsonld_compacted(graph)
    else:
        body = graph.serialize(format=serializer, encoding="utf-8")
    response = Response(body, mimetype=media)
    if media.startswith("text/"):
        response.content_type = f"{media}; charset=utf-8"
    _alternates(response, links)
    return response


def _alternates(response: Response, links: list[tuple[str, str, str]]) -> None:
    response.vary.add("Accept")
    response.headers["Link"] = ", ".join(
        f'<{href}>; rel="alternate"; type="{media}"' for _, href, media in links
    )


# --- dereferenceable IRIs -------------------------------------------------------------------


@bp.route("/id/<path:rest>")
def dereference(rest: str) -> ResponseReturnValue:
    """One resource of the dataset: its page, or its description as RDF."""
    fmt = negotiate()
    iri = resources.iri_for_path(rest)
    if not resources.writable_as_iri(iri):
        abort(404, description="no IRI of this dataset holds these characters")
    links = _format_links("pages.dereference", rest=rest)
    if fmt != "html":
        # The dataset's description is the whole meta graph: its subsets are resources too.
        graph = resources.named_graph("meta") if iri == DATASET_IRI else resources.describe(iri)
        if len(graph) == 0:
            abort(404, description=f"the dataset says nothing about <{iri}>")
        return _rdf_response(graph, fmt, links)
    lang = i18n.current_language()
    view = resources.resource_view(iri, lang)
    if not (view.types or view.properties or view.inferred or view.incoming or view.labels):
        suggestion = rest.rsplit("/", 1)[-1].replace("-", " ")
        return _page("not_found.html", status=404, iri=str(iri), suggestion=suggestion)
    if view.kind == "observation":
        view.title = figures_pages.observation_title(iri, lang) or view.title
    pattern = charts.figures_pattern(iri, view.kind)
    figure_rows = charts.figures(pattern, lang) if pattern else []
    response = _page(
        "resource.html",
        view=view,
        figure_rows=figure_rows,
        show_about=view.kind in ("metric", "sentence", "observation", "section", "paragraph", ""),
        charts=charts.comparable_charts(figure_rows) if view.kind != "observation" else [],
        sentence=resources.sentence_view(iri, lang) if view.kind == "sentence" else None,
        alternates=links,
        format_links=[(name, href) for name, href, _ in links],
        cite=cite_pages.cite_block(iri, lang),
    )
    _alternates(response, links)
    return response


@bp.route("/ontology/")
@bp.route("/ontology")
def ontology() -> ResponseReturnValue:
    """The ontology: a page with an anchor per term (`#Agency`), or the `ontology` graph."""
    fmt = negotiate()
    links = _format_links("pages.ontology")
    if fmt != "html":
        return _rdf_response(resources.named_graph("ontology"), fmt, links)
    lang = i18n.current_language()
    response = _page(
        "ontology.html",
        title=search.ontology_title(lang),
        namespace=str(DCDR),
        groups=search.ontology_terms(lang),
        alternates=links,
        format_links=[(name, href) for name, href, _ in links],
    )
    _alternates(response, links)
    return response


# --- browsing -------------------------------------------------------------------------------


@bp.route("/")
def home() -> ResponseReturnValue:
    """What the dataset is and where to go from here."""
    lang = i18n.current_language()
    counts = resources.graph_counts()
    return _page(
        "home.html",
        about=resources.dataset_about(lang),
        counts=counts,
        total=sum(count for _, _, count in counts),
        classes=search.classes(lang),
        metric_tree=resources.metric_tree(lang),
        structure=resources.report_structure(lang),
        dumps=dumps_page.dump_files(),
        service_href=sparql_href() + "?" + urlencode({"format": "ttl"}),
    )


@bp.route("/class/<name>")
def class_members(name: str) -> ResponseReturnValue:
    """Every member of one of the ontology's classes."""
    if not CLASS_NAME.match(name):
        abort(404, description="no such class")
    lang = i18n.current_language()
    cls, members = search.class_members(URIRef(str(DCDR) + name), lang)
    if not members and not resources.exists(URIRef(str(DCDR) + name)):
        abort(404, description=f"the ontology has no class dcdr:{name}")
    other_lang = i18n.ordered_languages(lang)[1]
    return _page("class.html", cls=cls, members=members, other_lang=other_lang)


@bp.route("/search")
def search_page() -> ResponseReturnValue:
    """Names and the report's sentences; JSON for `?format=json` or an Accept that prefers it."""
    text = request.args.get("q", "")
    lang = i18n.current_language()
    wants_json = request.args.get("format") == "json" or (
        request.args.get("format") is None
        and request.accept_mimetypes.best_match([HTML, "application/json"]) == "application/json"
    )
    answer = search.Answer([], [], [])
    problem = ""
    status = 200
    if text.strip():
        try:
            answer = search.search_everything(text, lang)
        except search.SearchInputError as error:
            problem, status = str(error), 400
    elif wants_json:
        problem, status = "give the text to search for as ?q=", 400
    if wants_json:
        if problem:
            # Problem details, as every other error (a browser asking ?format=json wants JSON).
            body = problem_body(status, "Bad Request", problem)
            return Response(body, status=status, mimetype=PROBLEM_JSON)
        response = jsonify(answer.as_json(text))
        response.vary.add("Accept")
        return response
    return _page("search.html", status=status, search_text=text, answer=answer, problem=problem)


# Flask's `search` endpoint name reads better in templates (`url_for('pages.search')`).
bp.add_url_rule("/search", endpoint="search", view_func=search_page)


# --- downloads ------------------------------------------------------------------------------


@bp.route("/dumps/<name>")
def dump(name: str) -> ResponseReturnValue:
    """One file of the build, by its exact name; nothing else of the folder is reachable."""
    if name not in DUMP_FILES:
        abort(404, description=f"no dump named {name!r}; see the home page for the list")
    if not (dist_folder() / name).is_file():
        abort(404, description=f"{name} is not part of this deployment")
    # The file's SHA-256 as the build listed it: the same on every replica (a path and a
    # file time are not).
    digest = file_digests(dist_folder()).get(name) or True
    if name == "void.ttl":
        # Small, and not streamed: it states the server's address, written in as it is served.
        response = Response((dist_folder() / name).read_bytes(), mimetype=DUMP_TYPES[name])
        response.headers["Content-Disposition"] = f"attachment; filename={name}"
        if isinstance(digest, str):
            response.set_etag(digest)
        return response
    settings = current_app.extensions["dcdr"].settings
    return send_from_directory(
        dist_folder(),
        name,
        mimetype=DUMP_TYPES[name],
        as_attachment=True,
        download_name=name,
        etag=digest,
        max_age=settings.max_age,
    )


# --- the query UI (reached through the `sparql` blueprint) -----------------------------------

RESULT_FORMATS = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
}
EXTENSIONS = {"csv": "csv", "tsv": "tsv", "json": "srj", "xml": "srx", "ttl": "ttl", "nt": "nt"}
MAX_SHOWN_ROWS = 1000
HEADER = re.compile(r"^#\s*(title|question)\s*(?:\((zh|en)\))?\s*:\s*(.+?)\s*$")
POSITION = re.compile(r"line (\d+), column (\d+)")


@dataclass(frozen=True)
class Example:
    """One query of `queries/examples/` as offered in the menu."""

    name: str
    title: str
    question: str
    other_question: str
    other_lang: str
    href: str
    text: str = ""


def examples(lang: str) -> list[Example]:
    """The example queries with their title and question in the reader's language first."""
    found = []
    other = i18n.ordered_languages(lang)[1]
    for path in sorted(paths.EXAMPLES_DIR.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header: dict[tuple[str, str], str] = {}
        for line in text.splitlines():
            match = HEADER.match(line.strip())
            if match:
                header.setdefault((match.group(1), match.group(2) or ""), match.group(3))
        title = header.get(("title", lang)) or header.get(("title", "")) or path.stem
        found.append(
            Example(
                name=path.stem,
                title=title,
                question=header.get(("question", lang), ""),
                other_question=header.get(("question", other), ""),
                other_lang=other,
                href=sparql_href() + "?" + urlencode({"query": text}),
                text=text,
            )
        )
    return found


@dataclass
class QueryError:
    """A failed query as shown above the editor: message, and where it went wrong."""

    message: str
    line: int = 0
    column: int = 0
    excerpt: str | None = None
    caret: str = ""


def query_error(text: str, message: str) -> QueryError:
    """The store's message, with the offending line of the query and a caret under the column."""
    match = POSITION.search(message)
    if match is None:
        return QueryError(message)
    line, column = int(match.group(1)), int(match.group(2))
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return QueryError(message, line, column)
    excerpt = lines[line - 1]
    return QueryError(
        message, line, column, excerpt, " " * min(max(column - 1, 0), len(excerpt)) + "^"
    )


@dataclass
class QueryAnswer:
    """A result ready for the table."""

    columns: list[str]
    rows: list[list[resources.Value | None]]
    count: int
    truncated: bool
    boolean: bool | None
    downloads: list[tuple[str, str]]
    chart: query_chart.ResultChart | None = None


def _cell(term: Any, labels: resources.Labels, lang: str) -> resources.Value | None:
    if term is None:
        return None
    if isinstance(term, URIRef):
        link = resources.make_link(str(term), labels, lang)
        # The table shows IRIs as IRIs (compact), with the label in the page's language beside
        # (query.html) when the IRI has one.
        shown = resources.compact(str(term))
        label = link.label if labels.get(str(term)) else shown
        return resources.Value(
            link=resources.Link(link.iri, shown, link.href, label, link.external)
        )
    return resources.make_value(term, labels, lang)


def _download_links(text: str, names: list[str]) -> list[tuple[str, str]]:
    return [
        (name, sparql_href() + "?" + urlencode({"query": text, "download": name})) for name in names
    ]


def _query_base() -> str:
    """The base IRI of the page's queries: the endpoint's, as for the protocol."""
    return endpoint_iri(public_root(current_app.extensions["dcdr"].settings))


def run_query(text: str, lang: str) -> QueryAnswer:
    """Runs the query through the store and turns its answer into table rows."""
    answer = resources.app_store().query(
        text,
        DatasetSpec(),
        resources.JSON_RESULTS,
        resources.query_timeout(),
        graph_media_type=resources.N_TRIPLES,
        base_iri=_query_base(),
    )
    body = answer.body.decode("utf-8")
    if answer.media_type.startswith(resources.N_TRIPLES):
        graph = Graph().parse(data=body, format="nt")
        columns = ["subject", "predicate", "object"]
        table = [list(triple) for triple in sorted(graph)]
        names = list(RDF_FORMATS)
        boolean = None
    else:
        result = Result.parse(io.BytesIO(answer.body), format="json")
        if result.type == "ASK":
            return QueryAnswer(
                [], [], 1, False, bool(result.askAnswer), _download_links(text, ["json", "xml"])
            )
        columns = [str(var) for var in result.vars or []]
        table = [[row.get(var) for var in result.vars or []] for row in cast(Any, result).bindings]
        names = list(RESULT_FORMATS)
        boolean = None
    shown = table[:MAX_SHOWN_ROWS]
    labels = resources.fetch_labels(
        {str(term) for row in shown for term in row if isinstance(term, URIRef)}
    )
    rows = [[_cell(term, labels, lang) for term in row] for row in shown]
    truncated = answer.truncated or len(table) > MAX_SHOWN_ROWS
    chart = (
        query_chart.result_chart(columns, shown, labels, lang)
        if names == list(RESULT_FORMATS)
        else None
    )
    return QueryAnswer(
        columns, rows, len(table), truncated, boolean, _download_links(text, names), chart
    )


def download(text: str, name: str) -> Response:
    """The query's answer as a file, in the format named by the download link."""
    store, timeout = resources.app_store(), resources.query_timeout()
    if name in RESULT_FORMATS:
        answer = store.query(
            text, DatasetSpec(), RESULT_FORMATS[name], timeout, base_iri=_query_base()
        )
        body, media = answer.body, RESULT_FORMATS[name]
    elif name in RDF_FORMATS:
        answer = store.query(
            text,
            DatasetSpec(),
            "",
            timeout,
            graph_media_type=resources.N_TRIPLES,
            base_iri=_query_base(),
        )
        graph = Graph().parse(data=answer.body.decode("utf-8"), format="nt")
        media, serializer = RDF_FORMATS[name]
        body = graph.serialize(format=serializer, encoding="utf-8")
    else:
        known = ", ".join([*RESULT_FORMATS, *RDF_FORMATS])
        abort(400, description=f"unknown download format {name!r}; use one of {known}")
    response = Response(body, mimetype=media)
    filename = f"query-results.{EXTENSIONS.get(name, name)}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if answer.truncated:
        response.headers["X-Result-Truncated"] = "true"
    return response


def query_ui() -> ResponseReturnValue:
    """GET /sparql for browsers: editor, examples, results table, downloads, errors.

    The `sparql` blueprint calls this view when a request prefers HTML; the form submits by GET,
    so the query stays in the address and the page works without JavaScript.
    """
    text = request.args.get("query", "")
    lang = i18n.current_language()
    if not text and request.args.get("format") in RDF_FORMATS:
        # A link to the service description (`?format=ttl`) followed by a browser.
        describer = current_app.extensions["dcdr"].describer
        media = RDF_FORMATS[request.args["format"]][0]
        root = public_root(current_app.extensions["dcdr"].settings)
        return Response(describer.render(root, media), mimetype=media)
    if request.args.get("download"):
        try:
            return download(text, request.args["download"])
        except NotAcceptable:
            abort(400, description="this download format does not fit the query's form")
    answer: QueryAnswer | None = None
    error: QueryError | None = None
    status = 200
    if text.strip():
        try:
            answer = run_query(text, lang)
        except (QuerySyntaxError, QueryRefused) as problem:
            error, status = query_error(text, str(problem)), 400
        except (QueryTimeout, StoreUnavailable) as problem:
            error, status = query_error(text, str(problem)), 503
    offered = examples(lang)
    ready = [query_editor.ReadyQuery(ex.name, ex.title, ex.text) for ex in offered]
    return _page(
        # The results alone, for the editor's "labels and chart" view (static/query-editor.js).
        "_query_results.html" if request.args.get("view") == "results" else "query.html",
        status=status,
        query_text=text,
        examples=offered,
        result=answer,
        error=error,
        editor=query_editor.editor_config(sparql_href(), ready, lang, text),
    )


@bp.record_once
def _offer_query_ui(state: BlueprintSetupState) -> None:
    # The endpoint finds the UI by this name; it has no URL of its own.
    state.app.view_functions.setdefault("pages.query_ui", query_ui)
    i18n.init_app(state.app)


def store_error(error: StoreError) -> ResponseReturnValue:
    """A page's own query failed: the reader gets the usual error answer, not a 500. Set on
    the app (server.create_app), since the workbench's blueprints (figures, report, cite,
    dumps) query the store too; the endpoint turns its store errors into answers itself."""
    status = 503 if isinstance(error, QueryTimeout | StoreUnavailable) else 400
    exception = ServiceUnavailable(str(error)) if status == 503 else BadRequest(str(error))
    return render_error(exception)
