"""Social sign-in over real HTTP: the local marketplace and its OpenID provider
(oidc-provider-mock on 127.0.0.1, provider ``local``), the whole redirect flow as a browser
follows it: start, the provider's sign-in form, the callback, agora's tokens."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.stack import LocalStack

DEMO_BUYER = ("buyer@agora.example", "paper-kite-demo-42")


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _redirect(response: requests.Response) -> str:
    assert response.status_code == 302, (response.status_code, response.text)
    return response.headers["Location"]


def _at_the_provider(local_stack: LocalStack, authorization_url: str, sub: str, claims: dict[str, Any] | None) -> str:
    """The person signs in at the provider as ``sub`` (its form: one field, then a POST of it):
    the callback URL the provider sends the browser to."""
    assert authorization_url.startswith(local_stack.urls["oidc"] + "/")
    if claims is not None:  # what the provider says about this person from now on
        put = requests.put(f"{local_stack.urls['oidc']}/users/{sub}", json=claims, timeout=10)
        assert put.status_code == 204, put.text
    form = requests.get(authorization_url, timeout=10)
    assert form.status_code == 200 and 'name="sub"' in form.text
    callback = _redirect(requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=10))
    assert callback.startswith(f"{local_stack.api}/v1/auth/oidc/local/callback?")
    return callback


def _sign_in(local_stack: LocalStack, sub: str, claims: dict[str, Any] | None = None,
             **start: str) -> requests.Response:
    authorization_url = _redirect(requests.get(f"{local_stack.api}/v1/auth/oidc/local/start", params=start,
                                               allow_redirects=False, timeout=30))
    return requests.get(_at_the_provider(local_stack, authorization_url, sub, claims), allow_redirects=False,
                        timeout=30)


def _ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def _error(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _demo_buyer(local_stack: LocalStack) -> dict[str, Any]:
    """The demo buyer's tokens, their account without a "local" identity (the README's
    walkthrough signs them in through the provider, which links it)."""
    email, password = DEMO_BUYER
    demo = _ok(requests.post(f"{local_stack.api}/v1/auth/login", json={"email": email, "password": password},
                             timeout=30))
    unlinked = requests.delete(f"{local_stack.api}/v1/me/identities/local", headers=_bearer(demo), timeout=30)
    assert unlinked.status_code in (204, 404), unlinked.text
    return demo


def _identities(local_stack: LocalStack, tokens: dict[str, Any]) -> list[str]:
    listed = _ok(requests.get(f"{local_stack.api}/v1/me/identities", headers=_bearer(tokens), timeout=30))
    return [identity["provider"] for identity in listed["items"]]


def test_a_sign_in_creates_an_account_a_second_finds_it_and_its_last_way_in_stays(local_stack: LocalStack) -> None:
    sub = f"e2e-{uuid.uuid4().hex[:8]}"
    email = f"{sub}@example.com"

    first = _ok(_sign_in(local_stack, sub, {"email": email, "email_verified": True, "name": "Ella Eins"}))
    me = _ok(requests.get(f"{local_stack.api}/v1/me", headers=_bearer(first), timeout=30))
    again = _ok(_sign_in(local_stack, sub))

    assert (me["email"], me["name"]) == (email, "Ella Eins")
    assert again["account"]["user_id"] == first["account"]["user_id"]
    assert _identities(local_stack, again) == ["local"]
    unlink = requests.delete(f"{local_stack.api}/v1/me/identities/local", headers=_bearer(again), timeout=30)
    assert _error(unlink) == (409, "last_sign_in_method")
    assert _identities(local_stack, again) == ["local"]


def test_the_demo_buyer_joins_their_password_account_only_with_a_verified_email(local_stack: LocalStack) -> None:
    email, _ = DEMO_BUYER
    demo = _demo_buyer(local_stack)
    stranger = f"e2e-{uuid.uuid4().hex[:8]}"

    # somebody whose provider does not vouch for the address: refused, nothing linked
    refused = _sign_in(local_stack, stranger, {"email": email})
    assert _error(refused) == (409, "sign_in_to_link")
    assert _identities(local_stack, demo) == []

    # the demo buyer, whose address the provider verified (make run's predefined "demo-buyer")
    joined = _ok(_sign_in(local_stack, "demo-buyer", {"email": email, "email_verified": True, "name": "Ben Buyer"}))
    try:
        assert joined["account"]["user_id"] == demo["account"]["user_id"]
        assert _identities(local_stack, demo) == ["local"]
    finally:  # the shared demo account as it was: it has a password, so the link may go
        unlink = requests.delete(f"{local_stack.api}/v1/me/identities/local", headers=_bearer(joined), timeout=30)
        assert unlink.status_code == 204, unlink.text
    assert _identities(local_stack, demo) == []


def test_a_signed_in_buyer_links_the_provider_whatever_email_it_gives(local_stack: LocalStack) -> None:
    demo = _demo_buyer(local_stack)
    sub = f"e2e-{uuid.uuid4().hex[:8]}"
    started = _ok(requests.post(f"{local_stack.api}/v1/me/identities/local/start", json={}, headers=_bearer(demo),
                                timeout=30))

    linked = requests.get(_at_the_provider(local_stack, started["authorization_url"], sub,
                                           {"email": f"{sub}@elsewhere.example"}), allow_redirects=False, timeout=30)
    try:
        assert _ok(linked)["account"]["user_id"] == demo["account"]["user_id"]
        assert _ok(_sign_in(local_stack, sub))["account"]["user_id"] == demo["account"]["user_id"]
    finally:
        unlink = requests.delete(f"{local_stack.api}/v1/me/identities/local", headers=_bearer(demo), timeout=30)
        assert unlink.status_code == 204, unlink.text


def test_the_frontend_gets_the_tokens_by_a_one_time_code(
        local_stack: LocalStack) -> None:
    sub = f"e2e-{uuid.uuid4().hex[:8]}"
    owner = _ok(_sign_in(local_stack, sub, {"email": f"{sub}@example.com", "email_verified": True}))
    return_to = f"{local_stack.urls['frontend']}/sign-in/social"

    # the returning buyer signs in from the frontend: back there with a code, not with tokens
    back = urlsplit(_redirect(_sign_in(local_stack, sub, return_to=return_to)))
    assert f"{back.scheme}://{back.netloc}{back.path}" == return_to
    code = parse_qs(back.query)["code"][0]
    tokens = _ok(requests.post(f"{local_stack.api}/v1/auth/oidc/exchange", json={"code": code}, timeout=30))
    assert tokens["account"]["user_id"] == owner["account"]["user_id"]
    assert _error(requests.post(f"{local_stack.api}/v1/auth/oidc/exchange", json={"code": code}, timeout=30)) == (
        401, "invalid_sign_in_code")
    # the frontend stand-in of `make run` shows the same code's page
    assert requests.get(f"{return_to}?code=x", timeout=10).status_code == 200

    # a return URL off the allow-list is refused before anybody is sent anywhere
    refused = requests.get(f"{local_stack.api}/v1/auth/oidc/local/start", params={"return_to": "https://evil.example/"},
                           allow_redirects=False, timeout=30)
    assert _error(refused) == (422, "return_url_not_allowed")
