"""The one error handler: every error, expected or not, becomes RFC 9457 problem details
(`application/problem+json`, server/problem_details.py) or an HTML page for browsers, with the
status's own headers (`Allow` on 405) and never a traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from server.problem_details import PROBLEM_JSON, problem_body

logger = logging.getLogger("dcdr.server")

# Headers of the HTTP exception worth keeping on the rendered error (Allow for 405,
# Retry-After for 503).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _wants_html() -> bool:
    accept = request.accept_mimetypes
    if not accept:
        return False
    best = accept.best_match([PROBLEM_JSON, "application/json", "text/html"])
    return best == "text/html" and accept.quality("text/html") > max(
        accept.quality(PROBLEM_JSON), accept.quality("application/json")
    )


def render_error(error: HTTPException) -> Response:
    status = error.code or 500
    title = error.name
    message = error.description or title
    if _wants_html():
        response = Response(
            render_template("error.html", status=status, title=title, message=message),
            status=status,
            mimetype="text/html",
        )
    else:
        reason = getattr(error, "problem_reason", None)  # set on a store's failure (503)
        response = Response(
            problem_body(status, title, message, reason), status=status, mimetype=PROBLEM_JSON
        )
    for name, value in error.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return render_error(error)
    # Logged for the operator with its traceback; the client gets one sentence.
    logger.exception("unexpected error while answering %s %s", request.method, request.path)
    return render_error(
        InternalServerError("the server failed to answer this request; the error was logged")
    )


def register(app: Flask) -> None:
    app.register_error_handler(Exception, _unexpected)
