"""The HTTP edge: every bad input gets agora's JSON error shape, never a 500 or a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client
from pydantic import Field

from chalicelib.core import http
from chalicelib.core.errors import Conflict, TooManyRequests
from chalicelib.core.schemas import QuerySchema, RequestSchema
from tests.support.http import call


class NewThing(RequestSchema):
    name: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=0)


class ThingQuery(QuerySchema):
    limit: int = Field(default=10, ge=1, le=50)


def _edge_app() -> Chalice:
    edge = Chalice(app_name="edge")
    http.install(edge)

    @edge.route("/things", methods=["POST"])
    @http.operation("Create a thing", body=NewThing, status=201)
    def create(body: NewThing) -> dict[str, Any]:
        if body.name == "taken":
            raise Conflict("That name is taken.", code="name_taken", details={"name": body.name})
        return {"name": body.name, "quantity": body.quantity}

    @edge.route("/named-things", methods=["POST"])
    @http.operation("Create a thing, its model named", body="tests.unit.core.test_http:NewThing", status=201)
    def create_named(body: NewThing) -> dict[str, Any]:
        return {"name": body.name, "quantity": body.quantity}

    @edge.route("/things", methods=["GET"])
    @http.operation("List things", query=ThingQuery)
    def listing(query: ThingQuery) -> dict[str, Any]:
        return {"limit": query.limit}

    @edge.route("/slow", methods=["GET"])
    @http.operation("Throttled")
    def slow() -> None:
        raise TooManyRequests("Slow down.", retry_after=30)

    @edge.route("/boom", methods=["GET"])
    @http.operation("Fails")
    def boom() -> None:
        raise RuntimeError("secret internals")

    return edge


@pytest.fixture
def edge() -> Iterator[Client]:
    with Client(_edge_app()) as client:
        yield client


def test_valid_body_reaches_the_view_with_its_status(edge: Client) -> None:
    status, body, _ = call(edge, "POST", "/things", {"name": "lamp", "quantity": 2})
    assert (status, body) == (201, {"name": "lamp", "quantity": 2})


def test_a_named_body_model_is_parsed_as_the_class_would_be(edge: Client) -> None:
    assert call(edge, "POST", "/named-things", {"name": "lamp", "quantity": 2})[:2] == (201, {"name": "lamp",
                                                                                           "quantity": 2})
    status, body, _ = call(edge, "POST", "/named-things", {"name": "lamp", "quantity": -1})
    assert (status, body["error"]["details"][0]["field"]) == (422, "body.quantity")


def test_a_bare_model_name_is_looked_up_in_the_routes_package_schemas() -> None:
    from chalicelib.accounts.schemas import Registration

    assert http.resolve_model("Registration", "chalicelib.accounts.routes") is Registration
    assert http.resolve_model("chalicelib.accounts.schemas:Registration", "chalicelib.sellers.routes") is Registration
    with pytest.raises(LookupError):
        http.resolve_model("tokens", "chalicelib.accounts.routes")  # a function of that module, not a model
    with pytest.raises(LookupError):
        http.resolve_model("Registraton", "chalicelib.accounts.routes")


def test_malformed_json_is_a_400(edge: Client) -> None:
    status, body, _ = call(edge, "POST", "/things", raw=b'{"name": ')
    assert status == 400
    assert body["error"]["code"] == "malformed_json"
    assert body["error"]["message"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    ("payload", "field", "error_type"),
    [
        ({"name": "lamp", "quantity": "many"}, "body.quantity", "int_parsing"),
        ({"name": "lamp", "quantity": -1}, "body.quantity", "greater_than_equal"),
        ({"name": "", "quantity": 1}, "body.name", "string_too_short"),
        ({"quantity": 1}, "body.name", "missing"),
        ({"name": "lamp", "quantity": 1, "colour": "red"}, "body.colour", "extra_forbidden"),
    ],
)
def test_invalid_fields_are_a_422_naming_each_field(edge: Client, payload: dict, field: str, error_type: str) -> None:
    status, body, _ = call(edge, "POST", "/things", payload)
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    assert {"field": field, "type": error_type} == {k: body["error"]["details"][0][k] for k in ("field", "type")}


@pytest.mark.parametrize("payload", [[1, 2], "text", 42, None])
def test_a_body_that_is_not_an_object_is_a_422(edge: Client, payload: Any) -> None:
    status, body, _ = call(edge, "POST", "/things", raw=json.dumps(payload))
    assert status == 422
    assert body["error"]["details"][0]["field"] == "body"


def test_oversized_body_is_a_413(edge: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.settings import reset_settings

    monkeypatch.setenv("AGORA_MAX_BODY_BYTES", "1000")
    reset_settings()
    status, body, _ = call(edge, "POST", "/things", {"name": "x" * 2000, "quantity": 1})
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["details"] == {"limit_bytes": 1000}


def test_wrong_content_type_is_a_415_in_agora_shape(edge: Client) -> None:
    status, body, _ = call(edge, "POST", "/things", raw="name=lamp", headers={"Content-Type": "text/plain"})
    assert status == 415
    assert body["error"]["code"] == "unsupported_media_type"


def test_unsupported_method_is_a_405_in_agora_shape(edge: Client) -> None:
    status, body, _ = call(edge, "DELETE", "/things")
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed"


def test_domain_error_keeps_its_code_and_details(edge: Client) -> None:
    status, body, _ = call(edge, "POST", "/things", {"name": "taken", "quantity": 1})
    assert status == 409
    assert body == {"error": {"code": "name_taken", "message": "That name is taken.", "details": {"name": "taken"}}}


def test_throttling_says_when_to_retry(edge: Client) -> None:
    status, body, headers = call(edge, "GET", "/slow")
    assert status == 429
    assert headers["Retry-After"] == "30"
    assert body["error"]["code"] == "too_many_requests"


def test_unexpected_failure_is_a_500_without_internals(edge: Client) -> None:
    status, body, headers = call(edge, "GET", "/boom")
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "secret internals" not in json.dumps(body)
    assert body["error"]["details"]["request_id"] == headers["X-Request-Id"]


def test_query_parameters_are_validated(edge: Client) -> None:
    assert call(edge, "GET", "/things?limit=5")[:2] == (200, {"limit": 5})
    status, body, _ = call(edge, "GET", "/things?limit=500")
    assert status == 422
    assert body["error"]["details"][0]["field"] == "query.limit"
    status, body, _ = call(edge, "GET", "/things?sort=up")
    assert (status, body["error"]["details"][0]["field"]) == (422, "query.sort")


def test_request_id_is_echoed_when_given_and_made_up_otherwise(edge: Client) -> None:
    assert call(edge, "GET", "/things", headers={"X-Request-Id": "abc-123"})[2]["X-Request-Id"] == "abc-123"
    generated = call(edge, "GET", "/things")[2]["X-Request-Id"]
    assert generated.startswith("req_")
    # a header that could inject into logs is not echoed
    assert call(edge, "GET", "/things", headers={"X-Request-Id": "a b\tc"})[2]["X-Request-Id"].startswith("req_")
