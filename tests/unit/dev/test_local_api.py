"""The local API server (dev/local_api.py): the real app behind Chalice's LocalGateway, over real
HTTP on 127.0.0.1, answering bursts, unknown paths and undeclared methods as agora does."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dev import local_api


@pytest.fixture
def local_server(aws: dict[str, str]) -> Iterator[tuple[str, int]]:
    """The app served by dev/local_api.py on a free port, in this process (moto in-process)."""
    from chalice.config import Config

    import app

    original_class = app.app.__class__
    config = Config.create(chalice_stage="local", app_name="agora", lambda_timeout=30, lambda_memory_size=512)
    server = local_api.create_server(app.app, config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.server_address
    finally:
        server.shutdown()
        server.server_close()
        app.app.__class__ = original_class


def _request(address: tuple[str, int], method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_an_unknown_path_is_a_404_in_agora_shape_that_never_echoes_the_authorization(
        local_server: tuple[str, int]) -> None:
    status, headers, body = _request(local_server, "GET", "/v1/no-such-thing",
                                     headers={"Authorization": "Bearer secret-token-of-the-caller"})
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "not_found"
    assert b"secret-token-of-the-caller" not in body
    assert all("secret-token-of-the-caller" not in value for value in headers.values())
    assert _request(local_server, "HEAD", "/v1/no-such-thing")[::2] == (404, b"")


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "PROPFIND", "DELETE"])
def test_a_method_no_route_declares_is_a_405_in_agora_shape(local_server: tuple[str, int], method: str) -> None:
    status, headers, body = _request(local_server, method, "/v1/health")
    assert status == 405
    assert headers["Allow"] == "GET"
    assert json.loads(body)["error"]["code"] == "method_not_allowed"


def test_a_kept_alive_connection_stays_in_step_after_a_404_with_a_body(local_server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*local_server, timeout=30)
    try:
        connection.request("POST", "/v1/nowhere", body=b'{"a": "' + b"x" * 5000 + b'"}',
                           headers={"Content-Type": "application/json"})
        first = connection.getresponse()
        first.read()
        connection.request("GET", "/v1/health")
        second = connection.getresponse()
        assert (first.status, second.status) == (404, 200)
        assert json.loads(second.read())["status"] == "ok"
    finally:
        connection.close()


def test_a_burst_of_150_parallel_connections_is_answered_without_a_reset(local_server: tuple[str, int]) -> None:
    # chalice local's backlog of 5 reset connections of such a burst
    def health(_: int) -> Any:
        try:
            return _request(local_server, "GET", "/v1/health")[0]
        except OSError as error:
            return type(error).__name__

    with ThreadPoolExecutor(max_workers=150) as pool:
        statuses = list(pool.map(health, range(150)))
    assert statuses == [200] * 150


def test_the_docs_work_offline_from_the_pinned_swagger_ui_package(local_server: tuple[str, int]) -> None:
    status, headers, page = _request(local_server, "GET", "/docs")
    assert status == 200
    assert b"https://" not in page  # nothing from a CDN in the local stage
    for asset, content_type in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        assert f"/_local/docs/{asset}".encode() in page
        status, headers, body = _request(local_server, "GET", f"/_local/docs/{asset}")
        assert status == 200
        assert headers["Content-Type"] == content_type
        assert len(body) > 100_000
    assert _request(local_server, "GET", "/_local/docs/../../etc/passwd")[0] == 404


@pytest.mark.parametrize("caller", ["127.0.0.1", "127.0.0.23"])
def test_the_app_sees_the_callers_own_address_as_api_gateway_gives_it(
        local_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch, caller: str) -> None:
    # given a sign-up that records the address the app was given
    from chalicelib.accounts import service

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(service, "register", lambda **kw: seen.append((kw["source_ip"], kw["client_address"])))

    # when a caller on its own loopback address signs up
    connection = http.client.HTTPConnection(*local_server, timeout=30, source_address=(caller, 0))
    try:
        connection.request("POST", "/v1/auth/register", headers={"Content-Type": "application/json"},
                           body=json.dumps({"email": "ada@example.com", "password": "a-long-passphrase-42",
                                            "name": "Ada"}))
        status = connection.getresponse().status
    finally:
        connection.close()

    # then its limits are counted against that address, not one shared by every local caller
    assert status == 202
    assert seen == [(caller, caller)]


def test_the_local_api_pools_as_many_storage_connections_as_it_serves_requests_at_once() -> None:
    # PynamoDB's default of 10 made every call beyond the tenth open and discard a connection
    from dev import pynamodb_settings

    assert pynamodb_settings.max_pool_connections == local_api.WORKERS
