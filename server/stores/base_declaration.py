"""Whether a query sent to a remote store needs the service's base IRI declared for it.

The protocol has no base parameter, so the remote store is sent `BASE <service base>` before a
query with relative IRIs (server/stores/remote_store.py). A query whose prologue opens with a
`BASE` of an absolute IRI resolves every relative IRI against that instead, and must not get a
second declaration: Virtuoso 7.2.5 rejects a `BASE` after another (measured: "SP030: syntax
error at 'BASE'" for every example query of queries/examples/ that declares its own base).
"""

from __future__ import annotations

import re

from server.stores.query_analysis import TOKEN

_SCHEME = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:")


def declares_absolute_base(text: str) -> bool:
    """True when the query's first prologue declaration is `BASE <absolute IRI>`."""
    tokens = [m.group(1) for m in TOKEN.finditer(text[:4096]) if m.group(1)]
    return len(tokens) >= 2 and tokens[0].upper() == "BASE" and bool(_SCHEME.match(tokens[1]))
