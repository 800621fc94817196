"""Safe HTML: escaping, Content-Security-Policy, no inline script or style, valid HTML5."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import html5lib
import pytest
from flask.testing import FlaskClient

from server.pages.views import CONTENT_SECURITY_POLICY
from tests import pages_fixtures as fx

HTML = {"Accept": "text/html"}
NS = "{http://www.w3.org/1999/xhtml}"
# One URL of every page type.
PAGES = [
    "/",
    "/?lang=zh",
    "/id/platform/china-judgements-online",
    "/id/platform/china-judgements-online?lang=zh",
    "/id/agency/supreme-peoples-court",
    "/id/agency/xss-test",
    "/id/agency/xss-test?lang=zh",
    "/id/metric/visits",
    "/id/observation/china-court-trial-online-visits-2020",
    "/id/sentence/p4-s4-02",
    "/id/section/p4-s4",
    "/id/dataset",
    "/ontology",
    "/class/Agency",
    "/search?q=法院",
    "/search?q=" + "%3Cscript%3E",
    "/search",
    "/id/agency/nothing-here",
    "/sparql",
    "/sparql?" + urlencode({"query": "SELECT ?s ?l WHERE { ?s ?p ?l } LIMIT 50"}),
    "/sparql?" + urlencode({"query": "SELECT * WHERE { <script>"}),
    "/sparql?" + urlencode({"query": "ASK { ?s ?p ?o }"}),
    "/sparql?" + urlencode({"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5"}),
    "/no/such/page",
]


def test_hostile_labels_are_escaped(client: FlaskClient) -> None:
    for lang in ("en", "zh"):
        body = client.get(f"/id/agency/xss-test?lang={lang}", headers=HTML).get_data(as_text=True)
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "<svg onload" not in body
        assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&#34;onerror=alert(1)" in body
        tree = html5lib.parse(body)
        inline = [s for s in tree.iter(NS + "script") if not s.get("src")]
        assert inline == []
        for element in tree.iter():
            assert not any(name.lower().startswith("on") for name in element.attrib), element
    tree = html5lib.parse(client.get("/id/agency/xss-test?lang=en", headers=HTML).data)
    assert fx.XSS_LABEL in ["".join(h.itertext()) for h in tree.iter(NS + "h1")]


def test_hostile_labels_are_escaped_in_search_and_query_results(client: FlaskClient) -> None:
    search = client.get("/search?q=onerror", headers=HTML).get_data(as_text=True)
    assert "<script>alert" not in search and "<img src=x" not in search
    query = "SELECT ?l WHERE { ?s ?p ?l FILTER(CONTAINS(STR(?l), 'onerror')) }"
    answer = client.get("/sparql?" + urlencode({"query": query}), headers=HTML)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body


@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_valid_html5(client: FlaskClient, url: str) -> None:
    response = client.get(url, headers=HTML)
    assert response.mimetype == "text/html", url
    assert response.status_code in (200, 400, 404), url
    body = response.get_data(as_text=True)
    assert body.lower().startswith("<!doctype html>")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(body)
    assert tree.get("lang") in ("zh", "en")
    assert tree.find("head/meta[@charset='utf-8']") is not None


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_the_security_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url, headers=HTML)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", PAGES)
def test_no_inline_script_or_style(client: FlaskClient, url: str) -> None:
    body = client.get(url, headers=HTML).get_data(as_text=True)
    tree = html5lib.parse(body, namespaceHTMLElements=False)
    for element in tree.iter():
        assert "style" not in element.attrib, (url, element.tag)
        if element.tag == "script":
            assert element.get("src") and not (element.text or "").strip(), url
    assert not re.search(r"<style[\s>]", body)


def test_policy_forbids_inline_script_and_outside_origins() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
