"""Social sign-in (OpenID Connect) through the API, against a fake provider: the redirect,
the ID token's checks, the linking rules, one-time state and codes, the allow-list."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc.jwk import RSAKey

from chalicelib.accounts.models import IdentityClaim, LinkedIdentity, OidcState
from chalicelib.accounts.service import create_user, find_user_by_email, new_user
from chalicelib.core.keys import IDENTITY_PREFIX, IDENTITY_SK, OIDC_STATE_SK
from tests.support.auth import bearer
from tests.support.builders import buyer_account, register
from tests.support.http import call, ok
from tests.support.mail import forget_pacing, mailed_token
from tests.support.oidc import ISSUER, RETURN_URL, FakeProvider, provider_settings


@pytest.fixture
def acme(api: Any, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider()
    provider_settings(monkeypatch, provider)
    return provider


def _location(response: tuple[int, Any, dict[str, str]]) -> str:
    assert response[0] == 302, response[1]
    return {k.lower(): v for k, v in response[2].items()}["location"]


def _start(api: Any, **query: str) -> str:
    suffix = f"?{urlencode(query)}" if query else ""
    return _location(call(api, "GET", f"/v1/auth/oidc/acme/start{suffix}"))


def _callback(api: Any, **query: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "GET", f"/v1/auth/oidc/acme/callback?{urlencode(query)}")


def _sign_in(api: Any, acme: FakeProvider, sub: str = "acme-1", **claims: Any) -> tuple[int, Any, dict[str, str]]:
    code, state = acme.authorize(_start(api), sub=sub, **claims)
    return _callback(api, code=code, state=state)


# A test's own table: Scans are fine here (each filtered to one item type).
def _claims() -> list[Any]:
    return list(IdentityClaim.scan(IdentityClaim.SK == IDENTITY_SK))


def _states() -> list[Any]:
    return list(OidcState.scan(OidcState.SK == OIDC_STATE_SK))


def _links() -> list[Any]:
    return list(LinkedIdentity.scan(LinkedIdentity.SK.startswith(IDENTITY_PREFIX)))


def _nothing_stored_for(email: str) -> None:
    """No account and no identity: what every refused sign-in must leave behind."""
    assert find_user_by_email(email) is None
    assert _claims() == []


def _identities(api: Any, access_token: str) -> list[str]:
    return [i["provider"] for i in ok(call(api, "GET", "/v1/me/identities", headers=bearer(access_token)))["items"]]


def test_a_new_identity_with_a_verified_email_creates_an_account_and_signs_in_again_to_it(
        api: Any, acme: FakeProvider) -> None:
    first = ok(_sign_in(api, acme, email="Nora@Example.com", email_verified=True, name="Nora Nord"))

    me = ok(call(api, "GET", "/v1/me", headers=bearer(first["access_token"])))
    assert (me["email"], me["name"]) == ("nora@example.com", "Nora Nord")
    user = find_user_by_email("nora@example.com")
    assert (user.email_verified, user.password_hash, user.identity_count) == (True, None, 1)
    again = ok(_sign_in(api, acme, email="nora@example.com", email_verified=True))
    assert again["account"]["user_id"] == first["account"]["user_id"]
    assert _identities(api, again["access_token"]) == ["acme"]
    # the PKCE verifier went to the token endpoint (the provider checked it against the challenge)
    assert all(request["form"]["code_verifier"] for request in acme.token_requests)


def test_a_provider_may_post_the_callback_as_a_form(api: Any, acme: FakeProvider) -> None:
    code, state = acme.authorize(_start(api), sub="apple-like", email="pia@example.com", email_verified="true")

    posted = call(api, "POST", "/v1/auth/oidc/acme/callback", raw=urlencode({"code": code, "state": state,
                                                                               "user": '{"name": {}}'}),
                  headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert ok(posted)["account"]["email"] == "pia@example.com"
    assert find_user_by_email("pia@example.com").email_verified is True  # Apple sends "true" as a string


def test_a_new_identity_with_an_unverified_email_creates_an_account_whose_email_is_unproven(
        api: Any, acme: FakeProvider) -> None:
    body = ok(_sign_in(api, acme, email="uwe@example.com"))

    assert body["account"]["email"] == "uwe@example.com"
    assert find_user_by_email("uwe@example.com").email_verified is False


def test_the_mailboxs_owner_proving_it_unlinks_an_identity_that_claimed_the_address_unverified(
        api: Any, acme: FakeProvider) -> None:
    # somebody signs in with a provider that did not verify "their" address: a new, unproven account
    squatter = ok(_sign_in(api, acme, sub="squatter", email="anna.berg@example.com"))
    forget_pacing()

    # the address's owner signs in with a mailed link: the account becomes theirs alone
    ok(call(api, "POST", "/v1/auth/magic-link", {"email": "anna.berg@example.com"}), 202)
    owner = ok(call(api, "POST", "/v1/auth/magic-link/verify", {"token": mailed_token("anna.berg@example.com")}))

    assert owner["account"]["user_id"] == squatter["account"]["user_id"]
    assert _identities(api, owner["access_token"]) == [] and _claims() == []
    status, body, _ = _sign_in(api, acme, sub="squatter", email="anna.berg@example.com")
    assert (status, body["error"]["code"]) == (409, "sign_in_to_link")


def test_the_export_lists_the_identities_and_erasing_the_account_frees_them(api: Any, acme: FakeProvider) -> None:
    nora = ok(_sign_in(api, acme, email="nora@example.com", email_verified=True))
    export = ok(call(api, "GET", "/v1/me/export", headers=bearer(nora["access_token"])))
    assert [(i["provider"], i["email"], i["email_verified"]) for i in export["identities"]] == [
        ("acme", "nora@example.com", True)]

    status, _, _ = call(api, "DELETE", "/v1/me", headers=bearer(nora["access_token"]))

    assert status == 204
    assert _claims() == [] and _links() == []
    again = ok(_sign_in(api, acme, email="nora@example.com", email_verified=True))
    assert again["account"]["user_id"] != nora["account"]["user_id"]


def test_a_verified_email_joins_the_existing_account(api: Any, acme: FakeProvider) -> None:
    anna = register(api)

    body = ok(_sign_in(api, acme, email="anna.berg@example.com", email_verified=True))

    assert body["account"]["user_id"] == anna.tokens["account"]["user_id"]
    assert _identities(api, anna.tokens["access_token"]) == ["acme"]


def test_an_unverified_email_of_an_existing_account_asks_to_sign_in_first_and_changes_nothing(
        api: Any, acme: FakeProvider) -> None:
    anna = register(api)
    before = find_user_by_email("anna.berg@example.com").attribute_values

    status, body, _ = _sign_in(api, acme, email="anna.berg@example.com", email_verified=False)

    assert (status, body["error"]["code"]) == (409, "sign_in_to_link")
    assert find_user_by_email("anna.berg@example.com").attribute_values == before
    assert _claims() == []
    assert _identities(api, anna.tokens["access_token"]) == []


def test_a_signed_in_buyer_links_a_provider_whatever_its_email_and_then_signs_in_with_it(
        api: Any, acme: FakeProvider) -> None:
    anna = register(api)
    started = ok(call(api, "POST", "/v1/me/identities/acme/start", {}, headers=anna.headers))
    code, state = acme.authorize(started["authorization_url"], sub="anna-at-acme", email="a.b@elsewhere.example")

    linked = ok(_callback(api, code=code, state=state))

    assert linked["account"]["user_id"] == anna.tokens["account"]["user_id"]
    assert _identities(api, anna.tokens["access_token"]) == ["acme"]
    again = ok(_sign_in(api, acme, sub="anna-at-acme", email="a.b@elsewhere.example"))
    assert again["account"]["user_id"] == anna.tokens["account"]["user_id"]


def test_an_identity_belongs_to_one_account(api: Any, acme: FakeProvider) -> None:
    ok(_sign_in(api, acme, sub="shared", email="first@example.com", email_verified=True))
    ben = register(api, email="ben@example.com", name="Ben Vogel")
    started = ok(call(api, "POST", "/v1/me/identities/acme/start", {}, headers=ben.headers))
    code, state = acme.authorize(started["authorization_url"], sub="shared")

    status, body, _ = _callback(api, code=code, state=state)

    assert (status, body["error"]["code"]) == (409, "identity_taken")
    assert _identities(api, ben.tokens["access_token"]) == []


@pytest.mark.parametrize(("forgery", "reason"), [
    ({"iss": "https://id.other.test"}, "issuer"),
    ({"aud": "another-client"}, "audience"),
    ({"aud": ["agora-unit", "another-client"]}, "audience"),  # several audiences and no azp for agora
    ({"nonce": "not-the-one-sent"}, "nonce"),
    ({"exp": 1_700_000_000, "iat": 1_699_999_000}, "expired"),
])
def test_an_id_token_failing_a_check_is_refused_and_creates_nothing(
        api: Any, acme: FakeProvider, forgery: dict[str, Any], reason: str) -> None:
    acme.forge = forgery

    status, body, _ = _sign_in(api, acme, email="eve@example.com", email_verified=True)

    assert (status, body["error"]["code"], body["error"]["details"]) == (401, "invalid_id_token", {"reason": reason})
    _nothing_stored_for("eve@example.com")


def test_a_tampered_id_token_is_refused(api: Any, acme: FakeProvider) -> None:
    acme.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # the published kid, another key

    status, body, _ = _sign_in(api, acme, email="eve@example.com", email_verified=True)

    assert (status, body["error"]["code"], body["error"]["details"]) == (401, "invalid_id_token",
                                                                         {"reason": "signature"})
    _nothing_stored_for("eve@example.com")


def test_a_replayed_callback_is_refused(api: Any, acme: FakeProvider) -> None:
    code, state = acme.authorize(_start(api), sub="acme-1", email="nora@example.com", email_verified=True)
    first = ok(_callback(api, code=code, state=state))

    status, body, _ = _callback(api, code=code, state=state)

    assert (status, body["error"]["code"]) == (400, "invalid_oidc_state")
    assert first["account"]["email"] == "nora@example.com"


def test_an_expired_state_is_refused_and_creates_nothing(api: Any, acme: FakeProvider) -> None:
    code, state = acme.authorize(_start(api), sub="acme-1", email="late@example.com", email_verified=True)
    [stored] = _states()
    stored.update(actions=[OidcState.expires_at.set(1_700_000_000)])  # DynamoDB's TTL deletes it some time later

    status, body, _ = _callback(api, code=code, state=state)

    assert (status, body["error"]["code"]) == (400, "invalid_oidc_state")
    _nothing_stored_for("late@example.com")


def test_a_made_up_state_is_refused(api: Any, acme: FakeProvider) -> None:
    status, body, _ = _callback(api, code="whatever", state="made-up")

    assert (status, body["error"]["code"]) == (400, "invalid_oidc_state")


def test_a_sign_in_the_person_declined_is_refused(api: Any, acme: FakeProvider) -> None:
    state = parse_qs(urlsplit(_start(api)).query)["state"][0]

    status, body, _ = _callback(api, error="access_denied", state=state)

    assert (status, body["error"]["code"], body["error"]["details"]) == (400, "oidc_sign_in_denied",
                                                                         {"error": "access_denied"})
    assert _states() == []  # spent: it cannot be finished later


@pytest.mark.parametrize("return_to", [
    "https://evil.example/signed-in",
    "https://shop.example/signed-in-elsewhere",
    "https://shop.example/other",
    "https://shop.example@evil.example/signed-in",
    "http://shop.example/signed-in",
    "https://shop.example/signed-in#fragment",
    "javascript:alert(1)",
    "/signed-in",
])
def test_a_return_url_outside_the_allow_list_is_refused(api: Any, acme: FakeProvider, return_to: str) -> None:
    status, body, _ = call(api, "GET", f"/v1/auth/oidc/acme/start?{urlencode({'return_to': return_to})}")

    assert (status, body["error"]["code"]) == (422, "return_url_not_allowed")
    assert _states() == []


@pytest.mark.parametrize("return_to", [RETURN_URL, f"{RETURN_URL}/next?cart=1", "https://app.example/",
                                       "https://app.example/any/page"])
def test_a_return_url_on_the_allow_list_gets_a_one_time_code_for_the_tokens(
        api: Any, acme: FakeProvider, return_to: str) -> None:
    code, state = acme.authorize(_start(api, return_to=return_to), sub="acme-1", email="nora@example.com",
                                 email_verified=True)

    back = urlsplit(_location(_callback(api, code=code, state=state)))

    assert f"{back.scheme}://{back.netloc}{back.path}" == return_to.split("?")[0]
    handed = parse_qs(back.query)
    assert "access_token" not in handed and "refresh_token" not in handed
    tokens = ok(call(api, "POST", "/v1/auth/oidc/exchange", {"code": handed["code"][0]}))
    assert ok(call(api, "GET", "/v1/me", headers=bearer(tokens["access_token"])))["email"] == "nora@example.com"
    status, body, _ = call(api, "POST", "/v1/auth/oidc/exchange", {"code": handed["code"][0]})
    assert (status, body["error"]["code"]) == (401, "invalid_sign_in_code")


def test_an_unknown_provider_is_not_found(api: Any, acme: FakeProvider) -> None:
    for path in ("/v1/auth/oidc/facebook/start", "/v1/auth/oidc/facebook/callback?code=c&state=s"):
        status, body, _ = call(api, "GET", path)
        assert (status, body["error"]["code"]) == (404, "oidc_provider_not_found")


def test_the_last_way_to_sign_in_cannot_be_unlinked(api: Any, acme: FakeProvider) -> None:
    nora = ok(_sign_in(api, acme, email="nora@example.com", email_verified=True))

    status, body, _ = call(api, "DELETE", "/v1/me/identities/acme", headers=bearer(nora["access_token"]))

    assert (status, body["error"]["code"]) == (409, "last_sign_in_method")
    assert _identities(api, nora["access_token"]) == ["acme"]


def test_an_account_with_a_password_unlinks_and_the_identity_is_free_again(api: Any, acme: FakeProvider) -> None:
    anna = register(api)
    ok(_sign_in(api, acme, sub="anna-at-acme", email="anna.berg@example.com", email_verified=True))

    status, _, _ = call(api, "DELETE", "/v1/me/identities/acme", headers=anna.headers)

    assert status == 204
    assert _identities(api, anna.tokens["access_token"]) == []
    assert _claims() == []
    assert find_user_by_email("anna.berg@example.com").identity_count == 0


def test_a_buyer_cannot_unlink_another_buyers_identity(api: Any, acme: FakeProvider) -> None:
    anna = register(api)
    ok(_sign_in(api, acme, sub="anna-at-acme", email="anna.berg@example.com", email_verified=True))
    ben = register(api, email="ben@example.com", name="Ben Vogel")

    status, body, _ = call(api, "DELETE", "/v1/me/identities/acme", headers=ben.headers)

    assert (status, body["error"]["code"]) == (404, "identity_not_found")
    assert _identities(api, anna.tokens["access_token"]) == ["acme"]
    assert [i.user_id for i in _links()] == [anna.tokens["account"]["user_id"]]


def test_operators_may_not_sign_in_with_a_provider(api: Any, acme: FakeProvider) -> None:
    create_user(new_user("olga@agora.example", roles=("operator",), email_verified=True))

    status, body, _ = _sign_in(api, acme, email="olga@agora.example", email_verified=True)

    assert (status, body["error"]["code"]) == (403, "no_social_login_for_operators")
    assert _claims() == []


def test_a_seller_signs_in_as_a_seller_and_a_new_identity_cannot_become_one(api: Any, acme: FakeProvider) -> None:
    owner = new_user("owner@shop.example", roles=("buyer", "seller"), seller_id="sel_1", email_verified=True)
    create_user(owner)

    seller = ok(_location_free_sign_in(api, acme, "seller", email="owner@shop.example", email_verified=True))
    status, body, _ = _location_free_sign_in(api, acme, "seller", sub="newcomer", email="new@shop.example",
                                             email_verified=True)

    assert (seller["account"]["user_id"], seller["account"]["seller_id"]) == (owner.user_id, "sel_1")
    assert (status, body["error"]["code"]) == (403, "seller_required")
    assert find_user_by_email("new@shop.example") is None


def test_a_buyer_account_cannot_sign_in_as_a_seller(api: Any, acme: FakeProvider) -> None:
    buyer_account("bert@example.com")

    status, body, _ = _location_free_sign_in(api, acme, "seller", email="bert@example.com", email_verified=True)

    assert (status, body["error"]["code"]) == (403, "seller_required")
    assert _claims() == []


def _location_free_sign_in(api: Any, acme: FakeProvider, role: str, sub: str = "acme-1",
                           **claims: Any) -> tuple[int, Any, dict[str, str]]:
    code, state = acme.authorize(_start(api, role=role), sub=sub, **claims)
    return _callback(api, code=code, state=state)


def test_the_authorization_request_asks_for_the_code_flow_with_pkce_state_and_nonce(
        api: Any, acme: FakeProvider) -> None:
    first, second = (parse_qs(urlsplit(_start(api)).query) for _ in range(2))

    assert first["redirect_uri"] == ["http://127.0.0.1:8000/v1/auth/oidc/acme/callback"]  # the API's, per provider
    assert (first["response_type"], first["code_challenge_method"]) == (["code"], ["S256"])
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name] and len(first[name][0]) >= 43
    assert ISSUER in _start(api)


@pytest.mark.parametrize(("module", "rule", "path"), [
    ("chalicelib.accounts.oidc", "STARTS_PER_SOURCE", "/v1/auth/oidc/acme/start"),
    ("chalicelib.accounts.identities", "CALLBACKS_PER_SOURCE", "/v1/auth/oidc/acme/callback?code=c&state=s"),
])
def test_starts_and_callbacks_are_limited_per_source(api: Any, acme: FakeProvider, monkeypatch: pytest.MonkeyPatch,
                                                     module: str, rule: str, path: str) -> None:
    import importlib
    from dataclasses import replace

    owner = importlib.import_module(module)
    monkeypatch.setattr(owner, rule, replace(getattr(owner, rule), limit=2))

    answers = [call(api, "GET", path)[0] for _ in range(2)]
    status, refused, headers = call(api, "GET", path)

    assert 429 not in answers
    assert (status, refused["error"]["code"]) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


def test_presets_fill_what_the_operator_leaves_out_and_a_mistyped_field_fails_the_start() -> None:
    from chalicelib.core.settings import OidcProvider

    google = OidcProvider.from_config("google", {"preset": "google", "client_id": "1234.apps.example"})
    apple = OidcProvider.from_config("apple", {"preset": "apple", "client_id": "web.example", "team_id": "T1",
                                               "key_id": "K1", "scopes": "openid email"})

    assert (google.issuer, google.scopes, google.client_secret_name) == (
        "https://accounts.google.com", "openid email profile", "oidc_google_client_secret")
    assert (apple.issuer, apple.scopes, apple.response_mode, apple.client_secret) == (
        "https://appleid.apple.com", "openid email", "form_post", "apple_jwt")
    for wrong in ({"preset": "gogle", "client_id": "x"}, {"preset": "google", "clientid": "x"},
                  {"client_id": "x"}):
        with pytest.raises(ValueError, match="AGORA_OIDC_PROVIDERS"):
            OidcProvider.from_config("google", wrong)


def test_apples_client_secret_is_a_short_jwt_signed_with_the_team_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    from chalicelib.accounts import oidc
    from chalicelib.core.settings import OidcProvider, reset_settings

    team_key = ECKey.generate_key("P-256")
    monkeypatch.setenv("AGORA_SECRET_OIDC_APPLE_CLIENT_SECRET", team_key.as_pem(private=True).decode())
    reset_settings()
    apple = OidcProvider.from_config("apple", {"preset": "apple", "client_id": "web.example", "team_id": "TEAM1",
                                               "key_id": "KEY1"})

    secret = jwt.decode(oidc._client_secret(apple), team_key, algorithms=["ES256"])

    assert secret.header["kid"] == "KEY1"
    assert {k: secret.claims[k] for k in ("iss", "sub", "aud")} == {
        "iss": "TEAM1", "sub": "web.example", "aud": "https://appleid.apple.com"}
    assert 0 < secret.claims["exp"] - secret.claims["iat"] <= 300


def test_discovery_and_keys_are_fetched_once_and_again_when_the_provider_rotates_its_key(
        api: Any, acme: FakeProvider) -> None:
    ok(_sign_in(api, acme, sub="one", email="one@example.com", email_verified=True))
    ok(_sign_in(api, acme, sub="two", email="two@example.com", email_verified=True))
    assert sorted(acme.fetched) == [f"{ISSUER}/.well-known/openid-configuration", f"{ISSUER}/jwks"]

    acme.key = RSAKey.generate_key(2048, parameters={"kid": "k2"})  # rotated: tokens name a key agora lacks

    ok(_sign_in(api, acme, sub="three", email="three@example.com", email_verified=True))
    assert acme.fetched.count(f"{ISSUER}/jwks") == 2


def test_a_social_sign_up_started_with_a_referral_code_is_the_referrers_referral(api: Any, acme: FakeProvider) -> None:
    from chalicelib.accounts.referrals import code_of
    from tests.support.events import outbox

    referrer = buyer_account("rita@example.com", name="Rita Werber")
    code, state = acme.authorize(_start(api, referral_code=code_of(referrer.user_id).lower()), sub="acme-ref",
                                 email="nina@example.com", email_verified=True)
    new = ok(_callback(api, code=code, state=state))["account"]["user_id"]

    created = {p["user_id"]: p for p in outbox("account.created")}
    assert (created[new]["method"], created[new]["referred_by"]) == ("social_login", referrer.user_id)


def test_a_social_sign_in_with_an_unknown_referral_code_does_not_start(api: Any, acme: FakeProvider) -> None:
    status, body, _ = call(api, "GET", "/v1/auth/oidc/acme/start?referral_code=NOSUCH99")

    assert status == 422, body
    assert body["error"]["code"] == "referral_code_unknown"
    assert _states() == []
