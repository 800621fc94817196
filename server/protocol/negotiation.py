"""Which media type an answer is written in: the `Accept` header with q-values (werkzeug's
`MIMEAccept`), or the `format=` / `output=` / `results=` short names of Fuseki, Virtuoso and
SPARQLWrapper, which win over `Accept` because clients that send them cannot set headers.

A query's form decides the kind of answer (solutions for SELECT/ASK, a graph for
CONSTRUCT/DESCRIBE), so both kinds are negotiated at once: the store uses the one it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
N_QUADS = "application/n-quads"
TRIG = "application/trig"
JSON_LD = "application/ld+json"
RDF_XML = "application/rdf+xml"
HTML = "text/html"

SOLUTION_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
GRAPH_TYPES = (TURTLE, N_TRIPLES, N_QUADS, TRIG, JSON_LD, RDF_XML)

# Types clients send that mean one of ours (answered with the canonical type).
_SOLUTION_ALIASES = {
    "application/json": SPARQL_JSON,
    "application/sparql-results+json": SPARQL_JSON,
    "text/javascript": SPARQL_JSON,
    "application/javascript": SPARQL_JSON,
    "application/xml": SPARQL_XML,
    "text/xml": SPARQL_XML,
}
_GRAPH_ALIASES = {
    "application/x-turtle": TURTLE,
    "text/n3": TURTLE,
    "text/rdf+n3": TURTLE,
    "text/plain": N_TRIPLES,
    "application/x-trig": TRIG,
    "text/x-nquads": N_QUADS,
    "application/json": JSON_LD,
    "application/xml": RDF_XML,
    "text/xml": RDF_XML,
}

# Short names: (type for SELECT/ASK, type for CONSTRUCT/DESCRIBE); "" where a name has no
# meaning for that kind of answer.
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "json": (SPARQL_JSON, JSON_LD),
    "srj": (SPARQL_JSON, ""),
    "xml": (SPARQL_XML, RDF_XML),
    "srx": (SPARQL_XML, ""),
    "csv": (CSV, ""),
    "tsv": (TSV, ""),
    "ttl": ("", TURTLE),
    "turtle": ("", TURTLE),
    "n3": ("", TURTLE),
    "nt": ("", N_TRIPLES),
    "ntriples": ("", N_TRIPLES),
    "n-triples": ("", N_TRIPLES),
    "nq": ("", N_QUADS),
    "nquads": ("", N_QUADS),
    "n-quads": ("", N_QUADS),
    "trig": ("", TRIG),
    "jsonld": ("", JSON_LD),
    "json-ld": ("", JSON_LD),
    "rdf": ("", RDF_XML),
    "rdfxml": ("", RDF_XML),
    "rdf+xml": ("", RDF_XML),
    "rdf/xml": ("", RDF_XML),
}


class UnknownFormat(ValueError):
    """A `format=` value that names no format this endpoint writes."""


@dataclass(frozen=True)
class Choice:
    """The negotiated types; "" where the client accepts nothing of that kind."""

    solutions: str
    graph: str

    @property
    def key(self) -> str:
        return f"{self.solutions}|{self.graph}"


def _by_format_name(name: str) -> Choice:
    value = name.strip().lower()
    if value in SHORT_NAMES:
        solutions, graph = SHORT_NAMES[value]
        return Choice(solutions, graph)
    media = value.split(";")[0].strip()
    solutions = media if media in SOLUTION_TYPES else _SOLUTION_ALIASES.get(media, "")
    graph = media if media in GRAPH_TYPES else _GRAPH_ALIASES.get(media, "")
    if not solutions and not graph:
        known = ", ".join(sorted(SHORT_NAMES))
        raise UnknownFormat(f"unknown format {name!r}; use a media type or one of: {known}")
    return Choice(solutions, graph)


def _best(accept: MIMEAccept, canonical: tuple[str, ...], aliases: dict[str, str]) -> str:
    if not accept:
        return canonical[0]
    offers = list(canonical) + [alias for alias in aliases if alias not in canonical]
    match = accept.best_match(offers)
    if match is None:
        return ""
    return aliases.get(match, match)


def negotiate(accept: MIMEAccept, format_name: str | None = None) -> Choice:
    """The types to answer in: `format_name` when given, else the best by `Accept`.

    With no `Accept` (or `*/*`) SELECT/ASK get SPARQL JSON and graphs get Turtle.
    """
    if format_name:
        return _by_format_name(format_name)
    return Choice(
        _best(accept, SOLUTION_TYPES, _SOLUTION_ALIASES),
        _best(accept, GRAPH_TYPES, _GRAPH_ALIASES),
    )


class NothingAcceptable(ValueError):
    """The client accepts no media type this server writes (406)."""


def for_form(choice: Choice, form: str) -> Choice:
    """The choice for a query of `form`: a client that asked only for types of the other
    family (SPARQL JSON for a CONSTRUCT, Turtle for a SELECT) gets this family's default, as
    Fuseki answers; one that accepts nothing this server writes keeps its empty choice (406).
    """
    if not choice.solutions and not choice.graph:
        return choice
    if form == "ask" and choice.solutions in (CSV, TSV):
        # SPARQL's CSV and TSV results have no boolean form: an ASK is answered in XML or JSON.
        return Choice(SOLUTION_TYPES[0], choice.graph)
    if form in ("select", "ask") and not choice.solutions:
        return Choice(SOLUTION_TYPES[0], choice.graph)
    if form in ("construct", "describe") and not choice.graph:
        return Choice(choice.solutions, GRAPH_TYPES[0])
    return choice


def best_rdf_type(accept: MIMEAccept, format_name: str | None = None) -> str:
    """The RDF type for a description of the service: Turtle when the client asked only for
    results types; `NothingAcceptable` when it accepts nothing this server writes."""
    choice = negotiate(accept, format_name)
    if not choice.graph and not choice.solutions:
        raise NothingAcceptable("no acceptable media type")
    return choice.graph or TURTLE


def prefers_html(accept: MIMEAccept) -> bool:
    """A browser: `text/html` ranks above every machine-readable type it also accepts."""
    if not accept or accept.quality(HTML) == 0:
        return False
    offers = [*SOLUTION_TYPES, *GRAPH_TYPES, HTML]
    return accept.best_match(offers) == HTML


# Clients send a handful of distinct Accept headers; parsing and matching one costs more than
# the rest of the negotiation, so the outcome is kept per header text (bounded).
@lru_cache(maxsize=512)
def negotiate_header(accept: str, format_name: str | None = None) -> Choice:
    """`negotiate` for the raw text of an Accept header."""
    return negotiate(parse_accept_header(accept, MIMEAccept), format_name)


@lru_cache(maxsize=512)
def prefers_html_header(accept: str) -> bool:
    """`prefers_html` for the raw text of an Accept header."""
    return prefers_html(parse_accept_header(accept, MIMEAccept))
