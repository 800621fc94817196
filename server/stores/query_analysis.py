"""What the service must know about a query before a store runs it, read from its tokens.

Written here rather than taken from rdflib's SPARQL parser or pyoxigraph, measured with
bench/query_analysis.py over the 31 competency queries (285–1,326 characters) on the shared
2-core machine: lexing and planning take 30–60 µs a query, rdflib's `parseQuery` 4.9–9.8 ms
and its `prepareQuery` (with the algebra that would give these facts) 5.8–21 ms, some 180–210
times as long, on the request path of every query; rdflib's parser is also not thread-safe.
pyoxigraph 0.5, which parses for real in the query worker, has no query object at all:
`Store.query` parses and evaluates in one call and gives neither a syntax tree nor the dataset
clause, so no part of the plan can come from it. A lexer is enough for what is decided here,
because every decision rests on a keyword token (SERVICE, FROM, LIMIT, VALUES, an update
verb), and a keyword can only be a bare word outside strings, IRIs and comments. Where the
lexer meets text it cannot tokenize it stays on the safe side: a stray quote turns the rest of
the text into words, so a SERVICE hidden behind it is still seen and refused.

The lexer also gives two facts used to pick where a query runs (server/stores/oxigraph_store.py):
whether its triple patterns fall apart into unrelated groups (a cartesian product, which can be
arbitrarily slow), and a digest of its tokens that stays the same across comments and white
space.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b

# The local part of a prefixed name as SPARQL reads it: a "." only inside it, so that "ex:a."
# ends a triple, and a backslash only before the punctuation PN_LOCAL_ESC allows; a lone
# backslash ends the name, so the quote of "ex:a\'" stays inside the name and opens no string
# (a string opened there would hide the keywords after it, SERVICE among them).
_LOCAL = r"[\w%]*+(?:(?:\\[_~.\-!$&'()*+,;=/?\#@%]|[.:-](?=[\w%\\:]))[\w%]*+)*+"
# A run of the characters an IRI holds besides its \u escapes, which oxigraph decodes.
_IRI_CHARS = r'[^<>"{}|^`\\\x00-\x20]*+'

# One match per token: the white space and comments before a token are consumed by the
# possessive prefix of the same match, so findall returns the token texts directly (half the
# matches of one-match-per-gap, and no match objects); at the end of the text the token group
# is empty. A token's kind follows from its first character (see _kind); only words and
# prefixed names share a first character, and they are one alternative. Names, IRIs and short
# strings take runs of plain characters with one character class between their escapes,
# which is faster than an alternation tried at every character.
#
# The text is a request's, so no alternative may scan far where it then fails: the dotted
# prefix of a prefixed name is bounded to 8 parts (else each word of "a.a.a…" would look for
# a colon to the end of the run, quadratic in its length), and no string opens at a quote
# right after a backslash (else each quote of '\"\"\"…' would look for its end to the end of
# the line). Neither changes a valid query's tokens but for a prefix of over 8 parts, which
# only falls apart into words and so hides no keyword.
TOKEN = re.compile(
    rf"""
    (?:\s+|\#[^\n\r]*)*+
    (
        [?$]\w+
      | [^\W\d]\w*+(?:(?:[.-]+\w+){{0,8}}+:{_LOCAL})?
      | :{_LOCAL}
      | <{_IRI_CHARS}(?:(?:\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}}){_IRI_CHARS})*+>
      | (?<!\\)(?:'''(?:[^'\\]|\\.|'(?!''))*'''
          | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
          | '[^'\\\n\r]*+(?:\\.[^'\\\n\r]*+)*+'
          | "[^"\\\n\r]*+(?:\\.[^"\\\n\r]*+)*+")
      # SPARQL's INTEGER, DECIMAL and DOUBLE: "1." is the integer 1 and a triple's end.
      | \d+(?:\.\d*[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)?
      | \.\d+(?:[eE][+-]?\d+)?
      | @[A-Za-z]+(?:-[A-Za-z0-9]+)*
      | .
    )?
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
    # The query's own top-level LIMIT, if any (sys.maxsize for one of over 18 digits).
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
    # The triple patterns form two or more groups sharing no variable and not pinned to a
    # constant subject, so the store may build a large cartesian product. A lexical guess
    # that leans towards True (a UNION of unrelated branches counts), since True only costs
    # the query a slower, interruptible path.
    disconnected: bool = False
    # A digest of the token texts: equal for queries that differ only in comments and white
    # space, so a query remembered as slow is recognised however it is laid out.
    shape: str = ""
    # An IRI is written relative (`<s>`, `<#x>`, `<>`): the answer depends on the base IRI the
    # query is parsed with, which is the endpoint's address unless the query sets BASE.
    relative_iris: bool = False


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(text: str) -> list[Token]:
    """The query's tokens, without white space and comments."""
    return [Token(_kind(token), token) for token in _token_texts(text)]


def _token_texts(text: str) -> list[str]:
    found: list[str] = TOKEN.findall(text)
    # Only the match at the very end of the text (white space or comments only) is empty.
    while found and not found[-1]:
        found.pop()
    return found


def _kind(token: str) -> str:
    """The TOKEN alternative that produced the token: "string", "iri", "var", "pname",
    "langtag", "number", "word" or "other"."""
    first = token[0]
    if first.isdecimal():
        return "number"
    if len(token) == 1:
        if first == ":":
            return "pname"
        return "word" if first.isalnum() or first == "_" else "other"
    if first in "'\"":
        return "string"
    if first == "<":
        return "iri"
    if first in "?$":
        return "var"
    if first == "@":
        return "langtag"
    if first == ".":
        return "number"
    return "pname" if ":" in token else "word"


# Plans are kept for queries up to this length only: a request may hold a query of
# `max_query_chars`, and a thousand of those kept, as text and as tokens, would take gigabytes.
MEMO_CHARS = 4000


def plan_query(text: str) -> QueryPlan:
    """Reads a query's form, dataset clause, top-level LIMIT/VALUES, SERVICE targets, whether
    its patterns are disconnected, and its shape."""
    if len(text) > MEMO_CHARS:
        return _plan_tokens.__wrapped__(tuple(_token_texts(text)))
    return _plan_text(text)


@lru_cache(maxsize=1024)
def _plan_text(text: str) -> QueryPlan:
    return _plan_tokens(tuple(_token_texts(text)))


# Keyed by the tokens as well as by the text: a client that varies only a query's comments or
# layout (to get past caches, or a counter in a comment) has it lexed each time but planned
# once, and planning costs more than lexing.
@lru_cache(maxsize=256)
def _plan_tokens(stream: tuple[str, ...]) -> QueryPlan:
    # surrogatepass: a lone surrogate in the request text must not make planning fail.
    shape = blake2b(" ".join(stream).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    prefixes: dict[str, str] = {}
    position = _read_prologue(stream, prefixes)
    # Only a word can upper-case to a keyword (every other token holds a character no keyword
    # has), so keywords are compared without asking for the token's kind.
    first = stream[position].upper() if position < len(stream) else ""
    if first in UPDATE_VERBS:
        return QueryPlan(form="", is_update=True, shape=shape)

    depth = 0
    limit: int | None = None
    trailing_values = False
    has_dataset_clause = False
    services: list[str] = []
    for index in range(position, len(stream)):
        token = stream[index]
        if token == "{":
            depth += 1
            continue
        if token == "}":
            depth -= 1
            continue
        keyword = token.upper()
        if keyword == "SERVICE":
            services.append(_service_target(stream, index + 1, prefixes))
        elif depth == 0 and keyword == "FROM":
            has_dataset_clause = True
        elif depth == 0 and keyword == "VALUES":
            trailing_values = True
        elif depth == 0 and keyword == "LIMIT" and index + 1 < len(stream):
            # isdecimal holds only for a number token of digits alone (a word cannot start
            # with a digit), and int() reads exactly those, up to 4300 digits: a longer limit
            # is beyond any row limit anyway.
            following = stream[index + 1]
            if following.isdecimal():
                digits = following.lstrip("0") or "0"
                limit = int(digits) if len(digits) <= 18 else sys.maxsize
    return QueryPlan(
        form=first.lower() if first in QUERY_FORMS else "",
        limit=limit,
        trailing_values=trailing_values,
        services=tuple(dict.fromkeys(services)),
        has_dataset_clause=has_dataset_clause,
        disconnected=_disconnected(stream, position),
        shape=shape,
        relative_iris=any(_is_relative_iri(token) for token in stream),
    )


_SCHEME = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]*:")


def _is_relative_iri(token: str) -> bool:
    return token[0] == "<" and len(token) > 1 and token[-1] == ">" and not _SCHEME.match(token)


def _read_prologue(stream: tuple[str, ...], prefixes: dict[str, str]) -> int:
    """Skips BASE and PREFIX declarations, remembering the prefixes; returns the next index."""
    position = 0
    while position < len(stream):
        keyword = stream[position].upper()
        if keyword == "BASE":
            position += 2
        elif keyword == "PREFIX":
            if position + 2 < len(stream):
                name, iri = stream[position + 1], stream[position + 2]
                if _kind(name) == "pname" and _kind(iri) == "iri":
                    prefixes[name.rstrip(":")] = iri[1:-1]
            position += 3
        else:
            break
    return position


def _service_target(stream: tuple[str, ...], position: int, prefixes: dict[str, str]) -> str:
    if position < len(stream) and stream[position].upper() == "SILENT":
        position += 1
    if position >= len(stream):
        return "<missing>"
    target = stream[position]
    kind = _kind(target)
    if kind == "iri":
        return target[1:-1]
    if kind == "pname":
        prefix, _, local = target.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else target
    if kind == "var":
        return "?" + target[1:]
    return target


# What the tokens after a keyword are, until the next ".", "{" or "}": a triple may follow a
# FILTER or BIND as soon as its parenthesised argument closes, but nothing after SELECT, GROUP
# BY, ORDER BY, VALUES, GRAPH, SERVICE … is a triple before the next brace.
_IN_PATTERN, _IN_CONSTRAINT, _IN_CLAUSE = 0, 1, 2
_CONSTRAINTS = frozenset({"FILTER", "BIND"})


def _disconnected(stream: tuple[str, ...], position: int) -> bool:
    """Whether the triple patterns after the prologue fall into two or more groups of
    variables with no variable in common, neither of them pinned to a constant subject.

    A "block" is the run of tokens between two of ".", "{", "}" or a keyword: one subject with
    its predicate-object lists (";" and "," and "[ ]" stay inside it). A block with at least
    three terms and a variable is a triple block; triple blocks are joined through the
    variables (and blank node labels) they share. Parenthesised expressions do not count,
    since a FILTER over two groups does not keep the store from building their product; a
    path or collection in parentheses inside a triple does. BIND joins its target to the
    group of its first argument variable, as the extended solutions join on the target.
    A group with a block whose subject is an IRI holds a few rows at most (the description of
    one resource), and a product with it costs no more than the other group alone, so only
    groups without one count.
    """
    # A CONSTRUCT template repeats the pattern's variables without matching anything, and
    # may tie together groups the WHERE clause leaves apart.
    if stream[position + 1 : position + 2] == ("{",) and stream[position].upper() == "CONSTRUCT":
        try:
            position = stream.index("}", position) + 1
        except ValueError:
            return False
    groups = _Groups()
    names: list[str] = []
    terms = 0
    pinned = False
    parens = 0
    state = _IN_PATTERN
    binding = False
    bound: list[str] = []
    for index in range(position, len(stream)):
        token = stream[index]
        first = token[0]
        if first == "(":
            parens += 1
            continue
        if first == ")":
            if parens:
                parens -= 1
                if not parens and state == _IN_CONSTRAINT:
                    if binding and len(bound) > 1:
                        groups.join([bound[0], bound[-1]])
                    state, terms, names, pinned = _IN_PATTERN, 0, [], False
            continue
        is_var = (first == "?" or first == "$") and len(token) > 1
        if parens and state != _IN_PATTERN:
            if binding and is_var:
                bound.append(token[1:])
            continue
        if is_var:
            terms += 1
            names.append(token[1:])
            continue
        if token == "." or token == "{" or token == "}":
            if terms >= 3 and names and state == _IN_PATTERN:
                groups.add_block(names, pinned)
            state, terms, names, pinned = _IN_PATTERN, 0, [], False
            continue
        if len(token) > 1 and first in "<'\"":
            pinned = pinned or (terms == 0 and first == "<")
            terms += 1
            continue
        if first.isdecimal() or first == ".":
            terms += 1
            continue
        if ":" in token:
            if token.startswith("_:"):
                # A blank node label in a pattern is a variable that is not returned.
                names.append(token)
            else:
                pinned = pinned or terms == 0
            terms += 1
            continue
        if first == "@" or (len(token) == 1 and not (first.isalnum() or first == "_")):
            continue
        # A word: "a", true and false are terms, any other one a keyword or a function name.
        if token == "a" or token.lower() in ("true", "false"):
            terms += 1
            continue
        if parens:
            continue
        if terms >= 3 and names and state == _IN_PATTERN:
            groups.add_block(names, pinned)
        terms, names, pinned = 0, [], False
        keyword = token.upper()
        if keyword in _CONSTRAINTS:
            if state != _IN_CLAUSE:
                state, binding, bound = _IN_CONSTRAINT, keyword == "BIND", []
        elif state == _IN_PATTERN:
            state = _IN_CLAUSE
    if terms >= 3 and names and state == _IN_PATTERN:
        groups.add_block(names, pinned)
    return groups.unpinned() >= 2


class _Groups:
    """Union-find over variable names, remembering which groups hold a pinned block."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.members: list[str] = []
        self.pinned: list[str] = []

    def add_block(self, names: list[str], pinned: bool) -> None:
        self.join(names)
        self.members.append(names[0])
        if pinned:
            self.pinned.append(names[0])

    def join(self, names: list[str]) -> None:
        _union(self.parent, names)

    def unpinned(self) -> int:
        """How many groups hold no pinned block."""
        groups = {_root(self.parent, name) for name in self.members}
        return len(groups - {_root(self.parent, name) for name in self.pinned})


def _root(parent: dict[str, str], name: str) -> str:
    while (above := parent.get(name, name)) != name:
        # Path halving: chains stay short whatever order the unions came in.
        grandparent = parent.get(above, above)
        parent[name] = grandparent
        name = grandparent
    return name


def _union(parent: dict[str, str], names: list[str]) -> None:
    root = _root(parent, names[0])
    for name in names[1:]:
        other = _root(parent, name)
        if other != root:
            parent[other] = root
