"""The account the app reads a remote store with, given in `DCDR_STORE`'s URL
(`sparql:http://USER:PASSWORD@HOST:PORT/sparql-auth`).

The recipes in docs/deploy.md give the app an account that may only read (Virtuoso: a user
with SPARQL_SELECT alone, on its digest-protected `/sparql-auth`); the password never appears
in logs or answers: the URL is kept without it (`split_credentials`). Digest or basic is
chosen by the store's challenge: requests' `HTTPDigestAuth` answers digest challenges only, so
a basic challenge (Fuseki behind a proxy, say) is answered here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from requests.auth import HTTPDigestAuth, _basic_auth_str


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without user and password, and the pair when it carried one."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


class StoreAuth(HTTPDigestAuth):
    """Answers the store's challenge: digest when it asks for digest, else basic."""

    def handle_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        challenge = r.headers.get("www-authenticate", "")
        if not challenge.lower().startswith("basic") or r.request.headers.get("Authorization"):
            return super().handle_401(r, **kwargs)
        r.content  # noqa: B018 - consumed, so that the connection can be reused
        r.close()
        retry = r.request.copy()
        retry.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        sent = r.connection.send(retry, **kwargs)
        sent.history.append(r)
        sent.request = retry
        return sent
