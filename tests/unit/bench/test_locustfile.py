"""`make load`'s scenario (bench/locustfile.py) stays runnable and in step with the API. Its
numbers are measurements (bench/README.md), never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.http import call

ROOT = Path(__file__).resolve().parents[3]

# Locust patches the standard library with gevent when imported, so the locustfile is
# imported in a child process, never in the test process.
DESCRIBE = """
import json, sys
sys.path.insert(0, "bench")
import locustfile
print(json.dumps({
    "routes": [[m, r, sorted([list(a) for a in answers])] for (m, r), answers in locustfile.ROUTES.items()],
    "users": {cls.__name__: {"weight": cls.weight, "tasks": [t.__name__ for t in cls.tasks]}
              for cls in (locustfile.Buyer, locustfile.Seller)},
}))
"""


def _scenario() -> dict[str, Any]:
    described = subprocess.run([sys.executable, "-c", DESCRIBE], cwd=ROOT, capture_output=True, text=True,
                               timeout=120, check=False)
    assert described.returncode == 0, described.stderr
    return json.loads(described.stdout.strip().splitlines()[-1])


def test_the_scenario_calls_only_documented_routes_and_expects_only_documented_answers(api: Any) -> None:
    # given the API's own document
    _, document, _ = call(api, "GET", "/openapi.json")

    # when the locustfile is loaded as locust loads it
    routes = _scenario()["routes"]

    # then every route it calls is an operation there, and each answer it counts as expected
    # (not as an error) is a status that operation documents
    assert len(routes) >= 10
    for method, route, answers in routes:
        operation = document["paths"].get(route, {}).get(method.lower())
        assert operation is not None, f"{method} {route} is not in /openapi.json"
        for status, _code in answers:
            assert str(status) in operation["responses"], f"{method} {route} does not document {status}"


def test_buyers_outnumber_sellers_and_mostly_browse_while_some_check_out_and_sellers_restock() -> None:
    users = _scenario()["users"]

    buyer, seller = users["Buyer"], users["Seller"]
    assert buyer["weight"] > seller["weight"] > 0
    browsing = buyer["tasks"].count("browse") + buyer["tasks"].count("search") + buyer["tasks"].count("view_product")
    assert browsing > len(buyer["tasks"]) / 2
    assert "add_to_cart" in buyer["tasks"] and "check_out_and_pay" in buyer["tasks"]
    assert "restock" in seller["tasks"]
