"""Prefixes a query may use without declaring them (graph/namespaces.py's QUERY_PREFIXES), for
stores that cannot be told them.

The embedded store gives them to pyoxigraph's parser (`Store.query(..., prefixes=…)`, measured
on pyoxigraph 0.5.13): nothing is added to the text, so every error position is the user's own
and a query's own PREFIX wins. The SPARQL 1.1 Protocol has no such parameter, so for a remote
store the declarations of the default prefixes a query uses and does not declare are put in
front of its first line, or right after the `BASE <…>` its prologue opens with (Virtuoso 7
rejects a BASE after a PREFIX): other lines keep their numbers and columns, and `shift_back`
turns a position the remote store reports on that one line back into the user's column. (The
remote store parses the text locally first, with the same defaults, so it rarely reports one.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from server.stores.query_analysis import TOKEN, tokens


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


class Declared(NamedTuple):
    """A query with the default declarations it needs, and where they went."""

    text: str
    shift: int  # characters added to `line`
    line: int  # 1-based


def _after_leading_base(text: str) -> int:
    """The offset just after a `BASE <iri>` that opens the prologue, else 0."""
    found = [match for match in TOKEN.finditer(text[:4096]) if match.group(1)]
    if len(found) >= 2 and found[0].group(1).upper() == "BASE":
        return found[1].end(1)
    return 0


def declare_defaults(text: str, prefixes: Mapping[str, str]) -> Declared:
    """The text with PREFIX declarations for the defaults it uses and does not declare, all on
    one line: its first, or the line of the BASE its prologue opens with."""
    missing = used_undeclared(text, prefixes)
    if not missing:
        return Declared(text, 0, 1)
    at = _after_leading_base(text)
    head = "".join(f"PREFIX {prefix}: <{prefixes[prefix]}> " for prefix in missing)
    if at:
        head = " " + head.rstrip()
    return Declared(text[:at] + head + text[at:], len(head), text.count("\n", 0, at) + 1)


def _on_line(line: int) -> tuple[re.Pattern[str], ...]:
    """Oxigraph's "error at L:C" and the "line L, column C" of most other stores' messages."""
    return (
        re.compile(rf"(error at {line}:)(\d+)"),
        re.compile(rf"(line {line}, col(?:umn)?\.? ?)(\d+)", re.IGNORECASE),
    )


def shift_back(message: str, shift: int, line: int = 1) -> str:
    """A store's message with a column on `line` moved back by the characters added there."""
    if not shift:
        return message
    for pattern in _on_line(line):
        replaced = pattern.sub(
            lambda match: match.group(1) + str(max(1, int(match.group(2)) - shift)), message
        )
        if replaced != message:
            return replaced
    return message
