"""The home page opens with what a visitor can do, before the dataset's description."""

from __future__ import annotations

import html5lib
from flask.testing import FlaskClient

NS = "{http://www.w3.org/1999/xhtml}"


def test_home_opens_with_the_five_things_to_do(client: FlaskClient) -> None:
    response = client.get("/?lang=en", headers={"Accept": "text/html"})
    tree = html5lib.parse(response.data, namespaceHTMLElements=True)
    main = next(tree.iter(NS + "main"))
    first_links = [a.get("href") for a in main.iter(NS + "a")][:5]
    assert first_links == ["/figures", "/report", "/search", "/sparql", "/dumps/"]
    for href in first_links:
        assert client.get(href, headers={"Accept": "text/html"}).status_code == 200, href


def test_a_class_of_one_is_one_member(client: FlaskClient) -> None:
    body = client.get("/?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "1 members" not in body and "1 member<" in body
