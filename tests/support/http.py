"""Calls through Chalice's test client."""

from __future__ import annotations

import json
from typing import Any


def call(client: Any, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | str | None = None) -> tuple[int, Any, dict[str, str]]:
    """One HTTP call through the test client; returns status, parsed JSON (or text) and headers."""
    send_headers = {"Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else (json.dumps(body) if body is not None else b"")
    response = client.http.request(method.upper(), path, headers=send_headers, body=data)
    try:
        parsed = json.loads(response.body) if response.body else None
    except ValueError:
        parsed = response.body.decode()
    return response.status_code, parsed, response.headers


def ok(response: tuple[int, Any, Any], status: int = 200) -> Any:
    """The body of an answer that must have ``status`` (the body is the failure's message)."""
    assert response[0] == status, response[1]
    return response[1]
