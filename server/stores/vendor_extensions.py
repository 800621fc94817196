"""A query that calls a store's own extensions is refused before it reaches any store (part of
the seal, server/stores/sealing.py): Virtuoso's `bif:` built-ins and `sql:` procedures,
reachable from standard SPARQL syntax through any prefix bound to those IRI schemes or a full
IRI such as `<bif:sys_stat>`, and a store's pragmas (Virtuoso's `DEFINE input:…`,
`DEFINE get:soft …`, `OPTION (…)`). Decided from the query's tokens
(server/stores/query_analysis.py's lexer); `store.analyze_query` calls it for every store.
"""

from __future__ import annotations

import re
from functools import lru_cache

from server.stores.query_analysis import MEMO_CHARS, tokens

# IRI schemes of Virtuoso's built-in functions and SQL procedures.
VENDOR_SCHEMES = ("bif:", "sql:")
# Words of store pragmas; neither is a SPARQL keyword, so a bare word is always the pragma.
PRAGMA_WORDS = frozenset({"DEFINE", "OPTION"})

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_CLUES = ("bif", "sql", "define", "option")


def unescape(text: str) -> str:
    """SPARQL's `\\u` and `\\U` escapes decoded, as a store may decode them anywhere."""
    if "\\u" not in text and "\\U" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(decode, text)


def vendor_extension(text: str) -> str | None:
    """Why the query is refused as using a store's own extension, or None."""
    decoded = unescape(text)
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
