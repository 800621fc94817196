"""The workbench pages (/figures, /report, /cite, the home page) answer 503 when the store
cannot answer their own queries, as the other pages do: the handler is the app's, not only the
`pages` blueprint's (a figures page answered 500 with the store down)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from server.stores.store import StoreUnavailable
from tests import pages_fixtures as fx


@pytest.fixture(scope="module")
def down_app(pages_app: Flask) -> Iterator[Flask]:
    from server import create_app

    app = create_app(pages_app.extensions["dcdr"].settings)
    app.config["TESTING"] = True

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("the store is down (test)")

    app.extensions["dcdr"].store.inner.query = unavailable
    yield app
    fx.close_app(app)


@pytest.mark.parametrize(
    "path", ["/figures", "/report", "/cite?iri=https://w3id.org/dcdr/id/report/dcdr-2020"]
)
def test_workbench_page_with_the_store_down_is_503(down_app: Flask, path: str) -> None:
    response = down_app.test_client().get(path, headers={"Accept": "text/html"})
    assert response.status_code == 503
