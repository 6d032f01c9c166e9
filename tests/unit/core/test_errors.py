"""The error vocabulary: one shape for every 422's details."""

from __future__ import annotations

import pytest

from chalicelib.core.errors import ValidationFailed


def test_validation_details_are_a_list_of_field_problems() -> None:
    problem = {"field": "body.quantity", "message": "out of range", "type": "value_error"}
    assert ValidationFailed("Wrong.", details=[problem]).details == [problem]


def test_validation_details_cannot_be_a_dict() -> None:
    with pytest.raises(TypeError):
        ValidationFailed("Wrong.", details={"order_id": "ord_1"})  # type: ignore[arg-type]
