"""The error vocabulary: one registry of codes, one shape for every 422's details."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import chalicelib
from chalicelib.core import errors
from chalicelib.core.errors import AgoraError, Code, ValidationFailed
from tests.support.http import call


def test_validation_details_are_a_list_of_field_problems() -> None:
    problem = {"field": "body.quantity", "message": "out of range", "type": "value_error"}
    assert ValidationFailed("Wrong.", details=[problem]).details == [problem]


def test_validation_details_cannot_be_a_dict() -> None:
    with pytest.raises(TypeError):
        ValidationFailed("Wrong.", details={"order_id": "ord_1"})  # type: ignore[arg-type]


def _calls_with_a_code() -> list[tuple[str, ast.Call, ast.expr]]:
    found = []
    for path in sorted(CHALICELIB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                found += [(f"{path.relative_to(CHALICELIB.parent)}:{node.lineno}", node, keyword.value)
                          for keyword in node.keywords if keyword.arg == "code"]
    return found


CHALICELIB = Path(chalicelib.__file__).parent
ERRORS = {name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, AgoraError)}


def test_every_raise_site_names_a_registered_code() -> None:
    strays = []
    for where, site, code in _calls_with_a_code():
        if isinstance(code, ast.Constant | ast.JoinedStr):
            strays.append(f"{where}: code={ast.unparse(code)} is a string; use Code.<NAME>")
        elif isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name) and code.value.id == "Code":
            if code.attr not in Code.__members__:
                strays.append(f"{where}: Code.{code.attr} is not registered")
            elif (isinstance(site.func, ast.Name) and site.func.id in ERRORS
                  and Code[code.attr].status != ERRORS[site.func.id].status):
                strays.append(f"{where}: Code.{code.attr} is registered as {Code[code.attr].status}, "
                              f"raised as {ERRORS[site.func.id].status}")
    assert strays == []


def test_the_raise_site_walk_sees_the_raise_sites() -> None:
    seen = {ast.unparse(code) for _, _, code in _calls_with_a_code()}
    assert {"Code.INSUFFICIENT_STOCK", "Code.INVALID_CURSOR", "Code.WEAK_PASSWORD"} <= seen


def test_every_error_class_answers_with_a_registered_code_of_its_status() -> None:
    for cls in ERRORS.values():
        assert isinstance(cls.code, Code) and cls.code.status == cls.status, cls.__name__


def test_every_registered_code_is_used() -> None:
    used = {code.attr for _, _, code in _calls_with_a_code() if isinstance(code, ast.Attribute)}
    for path in sorted(CHALICELIB.rglob("*.py")):
        used |= {node.attr for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code"}
    used |= {cls.code.name for cls in ERRORS.values()}
    assert set(Code.__members__) - used == set()


def test_codes_are_unique_and_each_has_a_status_and_a_meaning() -> None:
    assert len({code.value for code in Code}) == len(Code)
    for code in Code:
        assert 400 <= code.status < 600 and code.meaning.strip(), code


def test_the_openapi_document_lists_every_registered_code(api: Any) -> None:
    _, document, _ = call(api, "GET", "/openapi.json")
    code = document["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    assert code["enum"] == [c.value for c in Code]
    assert code["x-error-codes"]["insufficient_stock"] == {
        "status": 409, "description": "Not enough in stock for the quantity asked."}
    assert {name: entry["status"] for name, entry in code["x-error-codes"].items()} == {
        c.value: c.status for c in Code}

