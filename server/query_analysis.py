"""What the service must know about a query before a store runs it, read from its tokens.

Written here rather than taken from rdflib's SPARQL parser: that parser costs tens of
milliseconds per query on the request path and is not thread-safe, and pyoxigraph, which parses
for real in the query worker, exposes no algebra. A lexer is enough for what is decided here,
because every decision rests on a keyword token (SERVICE, FROM, LIMIT, VALUES, an update
verb), and a keyword can only be a bare word outside strings, IRIs and comments. Where the
lexer meets text it cannot tokenize it stays on the safe side: a stray quote turns the rest of
the text into words, so a SERVICE hidden behind it is still seen and refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
        | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
        | '(?:[^'\\\n\r]|\\.)*'
        | "(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$]\w+)
    | (?P<pname>(?:[^\W\d]\w*(?:[.-]+\w+)*)?:(?:[\w%\\]|[.:-](?=[\w%\\:]))*)
    | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_VERBS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)


@dataclass(frozen=True)
class QueryPlan:
    """What the service needs to know about a query before running it."""

    # "select", "ask", "construct", "describe", or "" when the text starts with no query form
    # (the store's own parser then reports the syntax error).
    form: str
    # The query's own top-level LIMIT, if any.
    limit: int | None = None
    # A top-level VALUES clause follows the solution modifiers (no LIMIT can be appended).
    trailing_values: bool = False
    # SERVICE targets: IRIs as written (prefixed names expanded), `?var` for a variable.
    services: tuple[str, ...] = ()
    # FROM / FROM NAMED: the query names its own dataset (of local graphs), so the union
    # default graph must not replace it.
    has_dataset_clause: bool = False
    # The first keyword is an update verb (INSERT, LOAD, CLEAR …).
    is_update: bool = False


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(text: str) -> list[Token]:
    """The query's tokens, without white space and comments."""
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            found.append(Token(kind, match.group()))
    return found


@lru_cache(maxsize=1024)
def plan_query(text: str) -> QueryPlan:
    """Reads a query's form, dataset clause, top-level LIMIT/VALUES and SERVICE targets."""
    stream = tokens(text)
    prefixes: dict[str, str] = {}
    position = _read_prologue(stream, prefixes)
    first = stream[position].text.upper() if position < len(stream) else ""
    if stream[position:] and stream[position].kind == "word" and first in UPDATE_VERBS:
        return QueryPlan(form="", is_update=True)
    form = first.lower() if first in QUERY_FORMS else ""

    depth = 0
    limit: int | None = None
    trailing_values = False
    has_dataset_clause = False
    services: list[str] = []
    for index in range(position, len(stream)):
        token = stream[index]
        if token.kind == "other":
            depth += {"{": 1, "}": -1}.get(token.text, 0)
            continue
        if token.kind != "word":
            continue
        keyword = token.text.upper()
        if keyword == "SERVICE":
            services.append(_service_target(stream, index + 1, prefixes))
        elif depth == 0 and keyword == "FROM":
            has_dataset_clause = True
        elif depth == 0 and keyword == "VALUES":
            trailing_values = True
        elif depth == 0 and keyword == "LIMIT" and index + 1 < len(stream):
            following = stream[index + 1]
            if following.kind == "number" and following.text.isdigit():
                limit = int(following.text)
    return QueryPlan(
        form=form,
        limit=limit,
        trailing_values=trailing_values,
        services=tuple(dict.fromkeys(services)),
        has_dataset_clause=has_dataset_clause,
    )


def _read_prologue(stream: list[Token], prefixes: dict[str, str]) -> int:
    """Skips BASE and PREFIX declarations, remembering the prefixes; returns the next index."""
    position = 0
    while position < len(stream) and stream[position].kind == "word":
        keyword = stream[position].text.upper()
        if keyword == "BASE":
            position += 2
        elif keyword == "PREFIX":
            if position + 2 < len(stream):
                name, iri = stream[position + 1], stream[position + 2]
                if name.kind == "pname" and iri.kind == "iri":
                    prefixes[name.text.rstrip(":")] = iri.text[1:-1]
            position += 3
        else:
            break
    return position


def _service_target(stream: list[Token], position: int, prefixes: dict[str, str]) -> str:
    if position < len(stream) and stream[position].text.upper() == "SILENT":
        position += 1
    if position >= len(stream):
        return "<missing>"
    target = stream[position]
    if target.kind == "iri":
        return target.text[1:-1]
    if target.kind == "pname":
        prefix, _, local = target.text.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else target.text
    if target.kind == "var":
        return "?" + target.text[1:]
    return target.text
