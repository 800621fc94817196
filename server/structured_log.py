"""Structured lines the server writes for its operator (see `describe_store`)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def describe_store(setting: str) -> str:
    """The store setting without any user or password its URL may carry."""
    if not setting.startswith("sparql:"):
        return setting
    url = setting.removeprefix("sparql:")
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return setting
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return "sparql:" + urlunsplit(parts._replace(netloc=netloc))
