"""Every PynamoDB model's connection reuses the botocore data the process loaded once."""

from __future__ import annotations


def test_two_models_connections_share_one_loader_of_botocore_data() -> None:
    from chalicelib.accounts.models import User
    from chalicelib.orders.models import Order

    sessions = [model._get_connection().connection.session for model in (User, Order)]

    assert sessions[0] is not sessions[1]  # a session each (botocore sessions are not thread-safe)
    assert sessions[0].get_component("data_loader") is sessions[1].get_component("data_loader")
