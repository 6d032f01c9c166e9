"""A fake OpenID provider for the unit tests: agora's HTTP to it (discovery, JWKS, token
endpoint) goes to this object instead of the network (``chalicelib.accounts.oidc.transport``).
It keeps authorization codes as a real provider does, checks the PKCE verifier, and mints ID
tokens signed with its own RSA key — or with a change a test asks for (another key, issuer,
audience, nonce, expiry)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "https://id.acme.test"
CLIENT_ID = "agora-unit"
CLIENT_SECRET = "acme-client-secret-unit"
RETURN_URL = "https://shop.example/signed-in"


@dataclass
class Grant:
    claims: dict[str, Any]
    nonce: str
    challenge: str
    redirect_uri: str


@dataclass
class FakeProvider:
    issuer: str = ISSUER
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    # What the next ID token gets instead of the truth: {"iss": …, "aud": …, "nonce": …, "exp": …}
    forge: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None  # another key than the published one: a tampered token
    fetched: list[str] = field(default_factory=list)  # every GET agora made

    # --- agora's side: the transport -------------------------------------------------------------
    def get_json(self, url: str) -> dict[str, Any]:
        self.fetched.append(url)
        if url == f"{self.issuer}/.well-known/openid-configuration":
            return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"]}
        if url == f"{self.issuer}/jwks":
            return KeySet([self.key]).as_dict(private=False)
        raise AssertionError(f"unexpected GET {url}")

    def post_form(self, url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        assert url == f"{self.issuer}/token"
        self.token_requests.append({"form": form, "headers": headers})
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        return 200, {"access_token": "at", "token_type": "Bearer", "id_token": self.id_token(grant)}

    # --- the browser's side: the person signs in at the provider ---------------------------------
    def authorize(self, authorization_url: str, *, sub: str, **claims: Any) -> tuple[str, str]:
        """The person signs in as ``sub``: the code and state the provider sends back."""
        parts = urlsplit(authorization_url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{self.issuer}/authorize"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256" and "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(claims={"sub": sub, **claims}, nonce=query["nonce"],
                                  challenge=query["code_challenge"], redirect_uri=query["redirect_uri"])
        return code, query["state"]

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant.nonce,
                  **grant.claims, **self.forge}
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def provider_settings(monkeypatch: Any, provider: FakeProvider, *, name: str = "acme") -> None:
    """Configure ``provider`` as ``name`` (and its secret), as an operator does per stage."""
    import json

    from chalicelib.accounts import oidc
    from chalicelib.core.settings import reset_settings

    monkeypatch.setenv("AGORA_OIDC_PROVIDERS", json.dumps({name: {"issuer": provider.issuer, "client_id": CLIENT_ID,
                                                                   "scopes": "openid email"}}))
    monkeypatch.setenv(f"AGORA_SECRET_OIDC_{name.upper()}_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("AGORA_OIDC_RETURN_URLS", f"{RETURN_URL},https://app.example/")
    monkeypatch.setattr(oidc, "transport", provider)
    reset_settings()
    oidc.forget_providers()
