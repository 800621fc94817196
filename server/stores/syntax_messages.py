"""pyoxigraph's syntax errors in plain words, at the position in the text as the user wrote it.

Oxigraph reports what its PEG parser expected at the furthest point it reached, e.g.
`error at 1:28: expected one of Prefix not found, ['%'], ['-' | '0' ..= '9' | …], [':']` or
`expected one of IRI parsing failed, WHERE`. That names character classes and internal rule
names, not what went wrong. This module recognises the common causes (an undeclared prefix, an
IRI that is not one, a query that ends too early) and otherwise lists only the keywords and
punctuation that may come next, with the line and column (1-based, in characters) kept.
"""

from __future__ import annotations

import re

from graph.namespaces import QUERY_PREFIXES

_POSITION = re.compile(r"^error at (\d+):(\d+):\s*")
# A prefixed name's prefix, read backwards from where the parser stopped.
_PNAME_BEFORE = re.compile(r"([A-Za-z][\w.\-]*)?:[\w.\-%\\]*$")
_IRI_BEFORE = re.compile(r"<[^<>]*>?$")
# Alternatives of Oxigraph's "expected one of" list: quoted punctuation or bare keywords; the
# character classes in brackets say nothing a person can act on.
_ALTERNATIVE = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z][A-Za-z0-9_]*)')
_INTERNAL = frozenset({"Prefix not found", "IRI parsing failed"})


def _line_text(query: str, line: int) -> str:
    lines = query.split("\n")
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _expected(rest: str) -> list[str]:
    text = rest.removeprefix("expected one of ").removeprefix("expected ")
    # The bracketed classes may hold quotes and commas: drop them before reading the rest.
    text = re.sub(r"\[[^\]]*\]", "", text, flags=re.DOTALL)
    for internal in _INTERNAL:
        text = text.replace(internal, "")
    words = [
        f'"{match.group(1)}"' if match.group(1) is not None else match.group(2)
        for match in _ALTERNATIVE.finditer(text)
    ]
    return list(dict.fromkeys(words))


def _undeclared_prefix(before: str) -> tuple[str, int] | None:
    match = _PNAME_BEFORE.search(before)
    if match is None:
        return None
    return match.group(1) or "", match.start() + 1


# Tokens inside which a colon or a bracket means nothing: comments, strings and IRIs (also
# server/protocol/sparql.py's nesting check).
OPAQUE_TOKENS = (
    r"#[^\n]*"
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|"(?:[^"\\\n]|\\.)*"'
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
)
_OPAQUE = re.compile(OPAQUE_TOKENS)
_DECLARATION = re.compile(r"\bPREFIX\s+([A-Za-z][\w.\-]*)?:", re.IGNORECASE)
_PNAME = re.compile(r"(?<![\w?$:.\-])([A-Za-z][\w.\-]*)?:(?=[\w%\\]|[\s;,.)\]}]|$)")


def _undeclared(query: str) -> tuple[str, int, int] | None:
    """The first prefixed name whose prefix no PREFIX declares: (prefix, line, column)."""
    plain = _OPAQUE.sub(lambda match: " " * len(match.group()), query)
    declarations = list(_DECLARATION.finditer(plain))
    # The service's default prefixes are declared for every query (server/stores/default_prefixes).
    declared = {match.group(1) or "" for match in declarations} | set(QUERY_PREFIXES)
    # The names in the declarations themselves are not uses.
    skipped = {match.end() - 1 for match in declarations}
    for match in _PNAME.finditer(plain):
        prefix = match.group(1) or ""
        colon = match.start() + len(prefix)
        if prefix in declared or colon in skipped:
            continue
        line = plain.count("\n", 0, match.start()) + 1
        column = match.start() - (plain.rfind("\n", 0, match.start()) + 1) + 1
        return prefix, line, column
    return None


def _prefix_message(prefix: str, line: int, column: int) -> str:
    namespace = QUERY_PREFIXES.get(prefix)
    where = f"<{namespace}>" if namespace is not None else "<…>"
    return (
        f"SPARQL syntax error at line {line}, column {column}: prefix {prefix}: is not "
        f"declared; add PREFIX {prefix}: {where}"
    )


def plain_syntax_message(store_message: str, query: str = "") -> str:
    """`SPARQL syntax error at line L, column C: <what went wrong, in words>`."""
    first = store_message.splitlines()[0] if store_message else ""
    match = _POSITION.match(first)
    if match is None:
        return f"SPARQL syntax error: {store_message}"
    line, column = int(match.group(1)), int(match.group(2))
    rest = store_message[match.end() :]
    before = _line_text(query, line)[: column - 1]
    # Oxigraph does not always name the undeclared prefix (its parser may fail further on).
    undeclared = _undeclared(query) if query else None
    if undeclared is not None:
        return _prefix_message(*undeclared)
    if "Prefix not found" in rest:
        found = _undeclared_prefix(before)
        if found is not None:
            return _prefix_message(found[0], line, found[1])
    if "IRI parsing failed" in rest:
        iri = _IRI_BEFORE.search(before)
        if iri is not None:
            start = iri.start() + 1
            return (
                f"SPARQL syntax error at line {line}, column {start}: {iri.group()} is not a "
                "valid IRI (an IRI has no spaces, quotes or angle brackets inside)"
            )
    expected = _expected(rest)
    ends = line > query.count("\n") + 1 or (
        line == query.count("\n") + 1 and column > len(_line_text(query, line))
    )
    if query and ends:
        what = "the query ends before it is complete"
    else:
        shown = _line_text(query, line)[column - 1 : column + 19].split()
        what = f"unexpected {shown[0]!r}" if shown else "unexpected text"
    if expected:
        what += "; expected " + (
            expected[0] if len(expected) == 1 else "one of " + ", ".join(expected)
        )
    return f"SPARQL syntax error at line {line}, column {column}: {what}"
