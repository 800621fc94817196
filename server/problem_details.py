"""Errors for API clients as RFC 9457 problem details (`application/problem+json`).

`type` is `about:blank`: the HTTP status says what kind of problem it is, so `title` is the
status's phrase and `detail` says what was wrong with this request. `message` repeats `detail`
for the clients written against this endpoint's earlier error shape (RFC 9457 §3.2 allows
extension members).
"""

from __future__ import annotations

import json

PROBLEM_JSON = "application/problem+json"


def problem_body(status: int, title: str, detail: str, reason: str | None = None) -> bytes:
    document = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "message": detail,
    }
    if reason is not None:
        # Why a store could not answer, in the words of the `query_failed` log line:
        # `timeout`, `store_unavailable` or `store_error` (an extension member, §3.2).
        document["reason"] = reason
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
