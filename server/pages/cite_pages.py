"""`/cite?iri=…&format=…`: the citation of one resource as a file (text, BibTeX, RIS, CSL-JSON)
or, without a format, as a page showing all four; and the "Cite this" block of resource pages."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from rdflib import URIRef

from graph.namespaces import ID

from . import citation, i18n, resources
from .figure_records import load_records
from .figures_pages import figure_title

bp = Blueprint("cite", __name__, template_folder="templates")


@dataclass(frozen=True)
class CiteBlock:
    """What a page shows under "Cite this"."""

    text: str
    links: list[tuple[str, str]]  # (format, href)
    page: str


def titles(iri: URIRef, kind: str) -> citation.Texts:
    """The resource's title in both languages; an observation's is its figure in words."""
    if kind == "observation":
        records = load_records(only=iri)
        if records:
            return {lang: figure_title(records[0], lang) for lang in i18n.LANGUAGES}
    labels = resources.fetch_labels([str(iri)]).get(str(iri), {})
    return labels or {"": resources.fallback_name(str(iri))}


def citation_of(iri: URIRef) -> citation.Citation:
    kind = resources.kind_of(str(iri))
    today = datetime.datetime.now(datetime.UTC).date()
    return citation.gather(iri, kind, titles(iri, kind), today)


def cite_block(iri: URIRef, lang: str) -> CiteBlock:
    """The "Cite this" block of a resource page."""
    found = citation_of(iri)
    links = [(name, url_for("cite.cite", iri=str(iri), format=name)) for name in citation.FORMATS]
    return CiteBlock(citation.as_text(found, lang), links, url_for("cite.cite", iri=str(iri)))


def _asked_iri() -> URIRef:
    given = request.args.get("iri", "").strip()
    if not given:
        abort(400, description="give the IRI to cite as ?iri=https://w3id.org/dcdr/id/…")
    if not given.startswith(str(ID)) or len(given) > 500 or not resources.writable_as_iri(given):
        abort(400, description=f"iri= must be one of this dataset's IRIs ({ID}…), not {given!r}")
    iri = URIRef(given)
    if not resources.exists(iri):
        abort(404, description=f"the dataset says nothing about <{given}>")
    return iri


@bp.route("/cite")
def cite() -> ResponseReturnValue:
    """A citation as a download in the asked format, or the page of all formats."""
    fmt = request.args.get("format")
    if fmt is not None and fmt not in citation.FORMATS:
        abort(400, description=f"unknown format {fmt!r}; use one of {', '.join(citation.FORMATS)}")
    iri = _asked_iri()
    lang = i18n.current_language()
    found = citation_of(iri)
    if fmt is None:
        shown = [(name, citation.render(found, name, lang)) for name in citation.FORMATS]
        links = [
            (name, url_for("cite.cite", iri=str(iri), format=name)) for name in citation.FORMATS
        ]
        body = render_template(
            "cite.html",
            iri=str(iri),
            href=resources.local_href(str(iri)),
            title=i18n.pick_label(found.title, lang, str(iri)),
            shown=shown,
            links=links,
        )
        return Response(body, mimetype="text/html")
    media, extension = citation.FORMATS[fmt]
    response = Response(citation.render(found, fmt, lang), mimetype=media)
    response.content_type = f"{media}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{found.key}.{extension}"'
    return response
