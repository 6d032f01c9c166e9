from __future__ import annotations

import requests
from openapi_spec_validator import validate

from tests.support.stack import LocalStack


def test_health_is_served_over_http(local_stack: LocalStack) -> None:
    response = requests.get(f"{local_stack.api}/v1/health", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["stage"] == "local"


def test_openapi_and_docs_are_served(local_stack: LocalStack) -> None:
    document = requests.get(f"{local_stack.api}/openapi.json", timeout=5).json()
    validate(document)
    assert "/v1/health" in document["paths"]
    docs = requests.get(f"{local_stack.api}/docs", timeout=5)
    assert docs.status_code == 200
    assert "text/html" in docs.headers["Content-Type"]


def test_servers_listen_on_loopback_only(local_stack: LocalStack) -> None:
    for url in local_stack.urls.values():
        assert url.startswith("http://127.0.0.1:")


def test_the_demo_catalog_is_there_to_browse(local_stack: LocalStack) -> None:
    found = requests.get(f"{local_stack.api}/v1/products", params={"q": "espresso blend"}, timeout=10).json()
    assert [p["title"] for p in found["items"]] == ["Espresso blend Napoli 1 kg"]
    books = requests.get(f"{local_stack.api}/v1/products", params={"category": "books", "limit": 100},
                         timeout=10).json()
    assert len(books["items"]) == 5
