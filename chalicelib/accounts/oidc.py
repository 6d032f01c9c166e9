"""Social sign-in with OpenID Connect: the provider's side of it.

The authorization-code flow with PKCE (S256), ``state`` and ``nonce``
(:func:`begin` builds the redirect, :func:`finish` turns the callback into the provider's
verified identity). What an identity does to agora's accounts is
:mod:`chalicelib.accounts.identities`'.

- The state is 256 random bits the browser carries; only its keyed hash is stored
  (``OidcState``, TTL :data:`STATE_SECONDS`) with the PKCE verifier, the nonce, the provider,
  the return URL and the account being linked. The callback deletes it under a condition,
  so a replayed or raced callback finds nothing (400 ``invalid_oidc_state``).
- The ID token is checked with joserfc (Authlib's JOSE library; ``authlib.jose`` is
  deprecated in its favour): signature against the provider's JWKS (from its discovery
  document; both cached per container for :data:`DISCOVERY_SECONDS`, the key set fetched
  again once when a token names a key it lacks: the provider rotated), issuer, audience
  (and ``azp`` when there are several), expiry, issue time and nonce. Any failure is 401
  ``invalid_id_token`` with the check that failed in ``details.reason``.
- HTTP to the provider goes through :data:`transport` (the standard library's urllib, so
  Lambda carries no HTTP client for three calls; tests put a fake provider there).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from pynamodb.exceptions import DeleteError

from chalicelib.accounts import referrals
from chalicelib.accounts.models import OidcState
from chalicelib.core import throttle
from chalicelib.core.db import TableModel, find_item, was_condition_failure
from chalicelib.core.errors import (
    BadRequest,
    Code,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from chalicelib.core.keys import OIDC_STATE_SK, oidc_state_key
from chalicelib.core.peppers import hash_secret, secret_hashes
from chalicelib.core.secrets import get_secret
from chalicelib.core.settings import OidcProvider, get_settings

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

STATE_SECONDS = 10 * 60
DISCOVERY_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 5
CLOCK_SKEW_SECONDS = 60
ROLES = ("buyer", "seller")
# Asymmetric only: the keys come from the provider's JWKS; "none" and HMAC are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
APPLE_AUDIENCE = "https://appleid.apple.com"
STARTS_PER_SOURCE = throttle.Rule("oidc-start-source", limit=60, window_seconds=15 * 60)


class Transport(Protocol):
    def get_json(self, url: str) -> dict[str, Any]: ...

    def post_form(self, url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]: ...


class UrllibTransport:
    """Plain HTTPS with a short timeout; a provider that does not answer is a 503."""

    def get_json(self, url: str) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(_request(url), timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                found = json.loads(response.read())
        except (OSError, ValueError) as error:
            raise _unavailable(url) from error
        if not isinstance(found, dict):
            raise _unavailable(url)
        return found

    def post_form(self, url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = _request(url, data=urlencode(form).encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                body = json.loads(error.read())
            except ValueError:
                body = {}
            return error.code, body if isinstance(body, dict) else {}
        except (OSError, ValueError) as error:
            raise _unavailable(url) from error


def _request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> urllib.request.Request:
    if urlsplit(url).scheme not in ("https", "http"):
        raise _unavailable(url)
    return urllib.request.Request(url, data=data,  # noqa: S310 - the scheme is checked above
                                  headers={"Accept": "application/json", **(headers or {})})


def _unavailable(url: str) -> ServiceUnavailable:
    return ServiceUnavailable("The identity provider did not answer; try again.",
                              code=Code.IDENTITY_PROVIDER_UNAVAILABLE, details={"host": urlsplit(url).netloc})


transport: Transport = UrllibTransport()
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_key_sets: dict[str, tuple[float, KeySet]] = {}


def forget_providers() -> None:
    """Forget discovery documents and key sets (tests switch providers)."""
    _discovered.clear()
    _key_sets.clear()


def provider(name: str) -> OidcProvider:
    found = get_settings().oidc_providers.get(name)
    if found is None:
        raise NotFound("No such sign-in provider.", code=Code.OIDC_PROVIDER_NOT_FOUND)
    return found


def discovery(config: OidcProvider) -> dict[str, Any]:
    """The provider's discovery document; its ``issuer`` must be the configured one (a
    document that names another issuer is a mix-up, not a provider)."""
    cached = _discovered.get(config.issuer)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    url = f"{config.issuer.rstrip('/')}/.well-known/openid-configuration"
    document = transport.get_json(url)
    if document.get("issuer") != config.issuer or not all(
            isinstance(document.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise _unavailable(url)
    _discovered[config.issuer] = (time.monotonic() + DISCOVERY_SECONDS, document)
    return document


def _key_set(config: OidcProvider, *, fresh: bool = False) -> KeySet:
    from joserfc.jwk import KeySet  # lazy: cryptography, only when a callback arrives

    cached = _key_sets.get(config.issuer)
    if cached is not None and cached[0] > time.monotonic() and not fresh:
        return cached[1]
    url = discovery(config)["jwks_uri"]
    try:
        keys = KeySet.import_key_set(transport.get_json(url))  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError) as error:
        raise _unavailable(url) from error
    _key_sets[config.issuer] = (time.monotonic() + DISCOVERY_SECONDS, keys)
    return keys


def callback_url(name: str) -> str:
    return f"{get_settings().api_url.rstrip('/')}/v1/auth/oidc/{name}/callback"


def allowed_return_url(url: str) -> str:
    """``url`` if it starts with an entry of the operator's allow-list (same scheme and host,
    path under the entry's); else 422 ``return_url_not_allowed``. Only http(s), no user info,
    no fragment (the one-time code is added to its query)."""
    wanted = urlsplit(url)
    for entry in get_settings().oidc_return_urls:
        allowed = urlsplit(entry)
        base = allowed.path.rstrip("/")
        if (wanted.scheme in ("https", "http") and wanted.scheme == allowed.scheme
                and wanted.netloc == allowed.netloc and "@" not in wanted.netloc and "\\" not in url
                and not wanted.fragment
                and (wanted.path == base or wanted.path.startswith(base + "/") or (not base and not wanted.path))):
            return url
    raise ValidationFailed("The return URL is not one this marketplace sends sign-ins back to.",
                           code=Code.RETURN_URL_NOT_ALLOWED,
                           details=[{"field": "query.return_to", "message": "not on the allow-list",
                                     "type": "return_url_not_allowed"}])


def begin(name: str, *, return_to: str | None, source_ip: str, role: str = "buyer",
          link_user_id: str | None = None, referral_code: str | None = None) -> str:
    """Start a sign-in at provider ``name``: the URL to send the browser to. A
    ``referral_code`` must name a buyer (422 ``referral_code_unknown``); an account the
    sign-in creates is that buyer's referral.

    Round trips: UpdateItem(throttle), [GetItem(code) + GetItem(referrer)], the discovery
    document when not cached (HTTP), PutItem(state)."""
    config = provider(name)
    if return_to is not None:
        allowed_return_url(return_to)
    throttle.hit(STARTS_PER_SOURCE, source_ip)
    referred_by = referrals.require_referrer(referral_code) if referral_code else None
    from authlib.oauth2.rfc7636 import create_s256_code_challenge  # lazy: Authlib, not at cold start

    document = discovery(config)
    state, verifier, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    OidcState(PK=oidc_state_key(hash_secret(state)), SK=OIDC_STATE_SK, provider=name, code_verifier=verifier,
              nonce=nonce, role=role, return_to=return_to, link_user_id=link_user_id,
              expires_at=int(time.time()) + STATE_SECONDS, referred_by=referred_by).save()
    params = {"response_type": "code", "client_id": config.client_id, "redirect_uri": callback_url(name),
              "scope": config.scopes, "state": state, "nonce": nonce,
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    if config.response_mode:
        params["response_mode"] = config.response_mode
    endpoint = document["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


T = TypeVar("T", bound=TableModel)


def _invalid_state() -> BadRequest:
    return BadRequest("This sign-in expired or was already used; start it again.", code=Code.INVALID_OIDC_STATE)


class TakenBefore(Exception):
    """Another request took the one-time item first."""


def take_once(model: type[T], key_of: Callable[[str], str], sk: str, secret: str) -> T | None:
    """The one-time item stored under a keyed hash of ``secret`` (current or previous pepper),
    deleted on the condition that it is still there, so of two requests with one secret only
    one gets it: GetItem (consistent), DeleteItem. None when there is none."""
    for digest in secret_hashes(secret):
        found = find_item(model, key_of(digest), sk, consistent_read=True)
        if found is None:
            continue
        try:
            found.delete(condition=model.PK.exists())
        except DeleteError as error:
            if was_condition_failure(error):
                raise TakenBefore from None
            raise
        return found
    return None


def consume_state(name: str, state: str) -> OidcState:
    """The sign-in ``state`` started, once: of two callbacks with the same state one wins."""
    try:
        found = take_once(OidcState, oidc_state_key, OIDC_STATE_SK, state)
    except TakenBefore:
        raise _invalid_state() from None
    if found is None or found.expires_at <= int(time.time()) or found.provider != name:
        raise _invalid_state()
    return found


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in, from a verified ID token."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


def _client_secret(config: OidcProvider) -> str:
    stored = get_secret(config.client_secret_name)
    if config.client_secret != "apple_jwt":
        return stored
    from joserfc import jwt
    from joserfc.jwk import ECKey

    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": config.key_id or ""},
                      {"iss": config.team_id, "iat": now, "exp": now + 300, "aud": APPLE_AUDIENCE,
                       "sub": config.client_id}, ECKey.import_key(stored))


def exchange_code(config: OidcProvider, code: str, verifier: str) -> str:
    """The ID token for ``code`` (HTTP POST to the token endpoint, with the PKCE verifier)."""
    document = discovery(config)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url(config.name),
            "code_verifier": verifier}
    secret = _client_secret(config)
    headers: dict[str, str] = {}
    if "client_secret_basic" in document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"]):
        pair = f"{quote(config.client_id, safe='')}:{quote(secret, safe='')}"  # RFC 6749 §2.3.1
        headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"
    else:
        form.update(client_id=config.client_id, client_secret=secret)
    status, answer = transport.post_form(document["token_endpoint"], form, headers)
    if status >= 500:
        raise _unavailable(document["token_endpoint"])
    id_token = answer.get("id_token")
    if status != 200 or not isinstance(id_token, str):
        raise BadRequest("The provider refused the sign-in code; start the sign-in again.",
                         code=Code.OIDC_CODE_REJECTED, details={"error": str(answer.get("error", ""))[:100]})
    return id_token


def _rejected(reason: str) -> Unauthorized:
    return Unauthorized("The provider's identity token is not valid; start the sign-in again.",
                        code=Code.INVALID_ID_TOKEN, details={"reason": reason})


_REASONS = {"iss": "issuer", "aud": "audience", "exp": "expired", "nonce": "nonce", "iat": "issued_at",
            "nbf": "not_yet_valid", "sub": "subject"}


def validate_id_token(config: OidcProvider, id_token: str, nonce: str) -> ProviderIdentity:
    """Check ``id_token`` (see the module docstring); 401 ``invalid_id_token`` naming the
    failed check otherwise."""
    from joserfc import jwt
    from joserfc.errors import BadSignatureError, ClaimError, InvalidKeyIdError, JoseError

    try:
        try:
            token = jwt.decode(id_token, _key_set(config), algorithms=list(ALGORITHMS))
        except InvalidKeyIdError:
            token = jwt.decode(id_token, _key_set(config, fresh=True), algorithms=list(ALGORITHMS))
    except BadSignatureError:
        raise _rejected("signature") from None
    except (JoseError, ValueError, TypeError):
        raise _rejected("malformed") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": config.issuer}, aud={"essential": True, "value": config.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce})
    try:
        registry.validate(claims)
    except ClaimError as error:
        raise _rejected(_REASONS.get(error.claim.split(",")[0], error.claim)) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != config.client_id:
        raise _rejected("audience")
    email = claims.get("email")
    verified = claims.get("email_verified")
    return ProviderIdentity(
        provider=config.name, issuer=config.issuer, subject=str(claims["sub"]),
        email=email if isinstance(email, str) and email else None,
        email_verified=verified is True or verified == "true",  # Apple sends a string
        name=str(claims.get("name") or "")[:200])


def finish(name: str, *, state: str, code: str) -> tuple[OidcState, ProviderIdentity]:
    """The callback: spend the state, exchange the code, verify the ID token.

    Round trips: GetItem + DeleteItem(state), HTTP POST(token endpoint), the key set when
    not cached (HTTP)."""
    config = provider(name)
    started = consume_state(name, state)
    id_token = exchange_code(config, code, started.code_verifier)
    return started, validate_id_token(config, id_token, started.nonce)
