"""The Turtle documents `dcdr publish` sends through the Graph Store Protocol.

N-Triples lines (every Graph Store reads them as Turtle), except that an `xsd:integer` within
64 bits is written in Turtle's short form (`53000000000`, not `"53000000000"^^xsd:integer`).
Why: Virtuoso 7.2.5's Turtle loader stores a typed `xsd:integer` beyond 32 bits as
`xsd:decimal` (measured here: `"2147483648"^^xsd:integer` read back as `xsd:decimal`), while
it keeps the short form an `xsd:integer` up to 2^63 - 1. Beyond 64 bits the short form
overflows in Virtuoso (`9223372036854775808` read back as `-9223372036854775808`), so such
values keep the typed form, which Virtuoso turns into an `xsd:decimal` of the right value.
Oxigraph and other stores read both forms as the same `xsd:integer`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from graph.namespaces import XSD

_INTEGER = ox.NamedNode(str(XSD.integer))
_INT64 = range(-(2**63), 2**63)


def turtle_document(triples: Iterable[ox.Triple]) -> bytes:
    """One graph's triples as a Turtle document for a Graph Store PUT or POST."""
    lines: list[str] = []
    plain: list[ox.Triple] = []
    for triple in triples:
        short = _short_integer(triple.object)
        if short is None:
            plain.append(triple)
        else:
            lines.append(f"{triple.subject} {triple.predicate} {short} .\n")
    head = bytes(ox.serialize(plain, format=ox.RdfFormat.N_TRIPLES) or b"")
    return head + "".join(lines).encode()


def _short_integer(term: object) -> str | None:
    """Turtle's short form of an `xsd:integer` literal within 64 bits, else None."""
    if not isinstance(term, ox.Literal) or term.datatype != _INTEGER:
        return None
    try:
        value = int(term.value)
    except ValueError:  # an ill-typed literal travels as written
        return None
    return str(value) if value in _INT64 else None
