from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from tests.support.http import call


def test_health_answers_ok(api: Any) -> None:
    status, body, headers = call(api, "GET", "/v1/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["stage"] == "local"
    assert headers["X-Request-Id"]


def test_openapi_document_is_valid_3_1_and_covers_every_route(api: Any) -> None:
    import app

    status, document, _ = call(api, "GET", "/openapi.json")
    assert status == 200
    assert document["openapi"] == "3.1.0"
    validate(document)
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    routed = {(path, method.lower()) for path, methods in app.app.routes.items() for method in methods}
    assert documented == routed


def test_openapi_documents_schemas_from_the_pydantic_models(api: Any) -> None:
    _, document, _ = call(api, "GET", "/openapi.json")
    health = document["paths"]["/v1/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert health == {"$ref": "#/components/schemas/Health"}
    assert set(document["components"]["schemas"]["Health"]["properties"]) == {"status", "stage", "version"}
    assert "ErrorResponse" in document["components"]["schemas"]


def test_every_operation_documents_throttling_and_busy_storage_and_every_write_a_lost_race(api: Any) -> None:
    # a client generated from the document must expect what any request can meet
    _, document, _ = call(api, "GET", "/openapi.json")
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            expected = {"429", "503"} | ({"409"} if method != "get" else set())
            assert expected <= set(op["responses"]), f"{method.upper()} {path}"


def test_docs_page_loads_the_openapi_document_with_redoc_when_deployed() -> None:
    from chalice.test import Client

    import app
    from chalicelib.core.settings import reset_settings

    reset_settings()
    with Client(app.app, stage_name="dev") as deployed:  # AGORA_STAGE=dev during the call
        response = deployed.http.get("/docs")
    reset_settings()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert b'spec-url="openapi.json"' in response.body


def test_docs_page_of_the_local_stage_needs_no_cdn(api: Any) -> None:
    response = api.http.get("/docs")
    assert response.status_code == 200
    assert b'url: "openapi.json"' in response.body
    assert b"https://" not in response.body  # the assets come from dev/local_api.py


def test_unknown_method_on_a_route_is_a_405_in_agora_shape(api: Any) -> None:
    status, body, _ = call(api, "DELETE", "/v1/health")
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed"
