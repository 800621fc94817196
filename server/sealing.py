"""The store is sealed: a query sees the project's named graphs and nothing else of the store,
and calls none of the store's own extensions.

Two things are decided here, from the query's tokens (server/query_analysis.py's lexer):

- `vendor_extension`: a query that calls a store's own functions (Virtuoso's `bif:` built-ins
  and `sql:` procedures, reachable from standard SPARQL syntax through any prefix bound to those
  IRI schemes or a full IRI such as `<bif:sys_stat>`) or carries a store's pragmas (Virtuoso's
  `DEFINE input:…`, `DEFINE get:soft …`, `OPTION (…)`) is refused before it reaches any store.
- `sealed_dataset`: the dataset a remote store is asked to answer from. The protocol's
  `default-graph-uri` / `named-graph-uri` should override a query's FROM / FROM NAMED, but
  Virtuoso 7.2 merges the two (measured: `FROM <…virtrdf#>` with `default-graph-uri` of the
  facts counted 2,504 triples, the system graph's 2,479 plus the facts' 25). So a query's
  dataset clauses are taken out of its text and sent as protocol parameters instead, keeping
  only graphs under the project's graph namespace; a part of the dataset left empty is named
  by `EMPTY_GRAPH`, a graph no build has, because a store given no `default-graph-uri` uses a
  default graph of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from graph.namespaces import GRAPH
from server.query_analysis import _TOKEN, MEMO_CHARS, tokens
from server.store import DatasetSpec

GRAPH_NAMESPACE = str(GRAPH)
# Names the empty part of a dataset; `dcdr build` never writes a graph of this name.
EMPTY_GRAPH = GRAPH_NAMESPACE + "sealed-empty"
# IRI schemes of Virtuoso's built-in functions and SQL procedures.
VENDOR_SCHEMES = ("bif:", "sql:")
# Words of store pragmas; neither is a SPARQL keyword, so a bare word is always the pragma.
PRAGMA_WORDS = frozenset({"DEFINE", "OPTION"})

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_CLUES = ("bif", "sql", "define", "option")


def _unescape(text: str) -> str:
    """SPARQL's `\\u` and `\\U` escapes decoded, as a store may decode them anywhere."""
    if "\\u" not in text and "\\U" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(decode, text)


def vendor_extension(text: str) -> str | None:
    """Why the query is refused as using a store's own extension, or None."""
    decoded = _unescape(text)
    lowered = decoded.lower()
    if not any(clue in lowered for clue in _CLUES):
        return None  # the common case, without lexing the query again
    if len(decoded) > MEMO_CHARS:
        return _vendor_extension.__wrapped__(decoded)
    return _vendor_extension(decoded)


@lru_cache(maxsize=1024)
def _vendor_extension(text: str) -> str | None:
    prefixes: dict[str, str] = {}
    stream = tokens(text)
    for index, token in enumerate(stream):
        if token.kind == "word" and token.text.upper() in PRAGMA_WORDS:
            return (
                f"{token.text.upper()} is a store's pragma, not SPARQL: this endpoint answers "
                "standard SPARQL 1.1 queries only"
            )
        iri = ""
        if token.kind == "iri":
            iri = token.text[1:-1]
        elif token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            declared = index >= 1 and stream[index - 1].text.upper() == "PREFIX"
            if declared and index + 1 < len(stream) and stream[index + 1].kind == "iri":
                prefixes[prefix] = stream[index + 1].text[1:-1]
            iri = prefixes.get(prefix, prefix + ":") + local
        if iri.lower().startswith(VENDOR_SCHEMES):
            return (
                f"<{iri}> is a store's own extension (Virtuoso's bif: functions and sql: "
                "procedures): this endpoint answers standard SPARQL 1.1 queries only"
            )
    return None


@dataclass(frozen=True)
class SealedQuery:
    """A query's text without its dataset clauses, and the project's graphs they named."""

    text: str
    # None when the query has no FROM / FROM NAMED (the service's default dataset applies).
    dataset: DatasetSpec | None


def sealed_query(text: str) -> SealedQuery:
    """Takes FROM / FROM NAMED out of the query, keeping the project's graphs they named."""
    if "from" not in text.lower():
        return SealedQuery(text, None)
    prefixes: dict[str, str] = {}
    base = ""
    pieces: list[str] = []
    kept_from = 0
    default: list[str] = []
    named: list[str] = []
    found = False
    matches = [m for m in _TOKEN.finditer(text) if m.group(1)]
    index = 0
    while index < len(matches):
        word = matches[index].group(1)
        upper = word.upper()
        if upper == "BASE" and index + 1 < len(matches):
            base = _iri(matches[index + 1].group(1), prefixes, base) or base
        elif upper == "PREFIX" and index + 2 < len(matches):
            name, iri = matches[index + 1].group(1), matches[index + 2].group(1)
            if name.endswith(":") and iri.startswith("<"):
                prefixes[name[:-1]] = _iri(iri, prefixes, base) or ""
        elif upper == "FROM" and index + 1 < len(matches):
            found = True
            is_named = matches[index + 1].group(1).upper() == "NAMED"
            target = index + 2 if is_named else index + 1
            if target >= len(matches):
                break
            iri = _iri(matches[target].group(1), prefixes, base)
            if iri is not None and iri.startswith(GRAPH_NAMESPACE):
                (named if is_named else default).append(iri)
            pieces.append(text[kept_from : matches[index].start(1)])
            kept_from = matches[target].end(1)
            index = target + 1
            continue
        index += 1
    if not found:
        return SealedQuery(text, None)
    pieces.append(text[kept_from:])
    return SealedQuery(" ".join(pieces), DatasetSpec(tuple(default), tuple(named)))


def _iri(token: str, prefixes: dict[str, str], base: str) -> str | None:
    """The IRI a token names (a relative IRI resolved against BASE), or None."""
    if token.startswith("<") and token.endswith(">"):
        iri = _unescape(token[1:-1])
        return urljoin(base, iri) if base else iri
    prefix, colon, local = token.partition(":")
    if colon and prefix in prefixes:
        return prefixes[prefix] + local
    return None


def within_project(dataset: DatasetSpec) -> DatasetSpec:
    """The dataset with every graph outside the project's graph namespace left out."""
    return DatasetSpec(
        tuple(g for g in dataset.default_graphs if g.startswith(GRAPH_NAMESPACE)),
        tuple(g for g in dataset.named_graphs if g.startswith(GRAPH_NAMESPACE)),
    )


def dataset_parameters(dataset: DatasetSpec) -> list[tuple[str, str]]:
    """Protocol parameters naming exactly this dataset (`EMPTY_GRAPH` for an empty part)."""
    default = dataset.default_graphs or (EMPTY_GRAPH,)
    named = dataset.named_graphs or (EMPTY_GRAPH,)
    return [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
