"""A slow Stripe makes agora's call fail (and be retried) before the Lambda times out: the
stripe SDK's own default (80 s per request) would let the Lambda die mid-work instead."""

from __future__ import annotations


def test_every_attempt_at_stripe_ends_before_the_lambda_does(fake_stripe: str) -> None:
    from stripe._http_client import HTTPClient

    from chalicelib.core.resources import WORKER_TIMEOUT_SECONDS
    from chalicelib.payments import stripe_gateway

    http = stripe_gateway.client()._requestor._get_http_client()  # what the gateway's calls go through
    connect, read = http._timeout
    attempts = 1 + stripe_gateway.MAX_NETWORK_RETRIES
    waits = sum(min(HTTPClient.INITIAL_DELAY * 2 ** n, HTTPClient.MAX_DELAY) for n in range(attempts - 1))

    assert (connect, read) == (stripe_gateway.CONNECT_TIMEOUT_SECONDS, stripe_gateway.READ_TIMEOUT_SECONDS)
    assert attempts * (connect + read) + waits < WORKER_TIMEOUT_SECONDS
