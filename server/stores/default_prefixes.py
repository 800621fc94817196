"""Prefixes a query may use without declaring them (graph/namespaces.py's QUERY_PREFIXES), for
stores that cannot be told them.

The embedded store gives them to pyoxigraph's parser (`Store.query(..., prefixes=…)`, measured
on pyoxigraph 0.5.13): nothing is added to the text, so every error position is the user's own
and a query's own PREFIX wins. The SPARQL 1.1 Protocol has no such parameter, so for a remote
store the declarations of the default prefixes a query uses and does not declare are put in
front of its FIRST line: other lines keep their numbers and columns, and `shift_back` turns a
position the remote store reports on line 1 back into the user's column. (The remote store
parses the text locally first, with the same defaults, so it rarely reports one at all.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from server.stores.query_analysis import tokens


def used_undeclared(text: str, prefixes: Mapping[str, str]) -> list[str]:
    """The default prefixes the query uses without declaring them, in order of first use."""
    stream = tokens(text)
    declared: set[str] = set()
    position = 0
    # The prologue: BASE <iri> and PREFIX name: <iri>, the only place a prefix is declared.
    while position < len(stream) and stream[position].text.upper() in ("BASE", "PREFIX"):
        if stream[position].text.upper() == "PREFIX" and position + 1 < len(stream):
            declared.add(stream[position + 1].text.partition(":")[0])
            position += 3
        else:
            position += 2
    used: dict[str, None] = {}
    for token in stream[position:]:
        if token.kind != "pname":
            continue
        prefix = token.text.partition(":")[0]
        if prefix != "_" and prefix not in declared and prefix in prefixes:
            used.setdefault(prefix)
    return list(used)


def declare_defaults(text: str, prefixes: Mapping[str, str]) -> tuple[str, int]:
    """The text with PREFIX declarations for the defaults it uses and does not declare, all on
    its first line, and how many characters that line grew by."""
    missing = used_undeclared(text, prefixes)
    if not missing:
        return text, 0
    head = "".join(f"PREFIX {prefix}: <{prefixes[prefix]}> " for prefix in missing)
    return head + text, len(head)


# Oxigraph's "error at 1:C" and the "line 1, column C" of most other stores' messages.
_LINE_ONE = (
    re.compile(r"(error at 1:)(\d+)"),
    re.compile(r"(line 1, col(?:umn)?\.? ?)(\d+)", re.IGNORECASE),
)


def shift_back(message: str, shift: int) -> str:
    """A store's message with a column on line 1 moved back by the characters added there."""
    if not shift:
        return message
    for pattern in _LINE_ONE:
        replaced = pattern.sub(
            lambda match: match.group(1) + str(max(1, int(match.group(2)) - shift)), message
        )
        if replaced != message:
            return replaced
    return message
