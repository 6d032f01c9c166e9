"""Keyed hashes of opaque secrets, and the keys of signed mail links, under a versioned pepper.

Refresh tokens, magic links, API keys, invite codes, guest cart tokens, throttle subjects
and erased emails are stored only as keyed hashes. The key (the pepper) is a secret of
its own, ``hash_pepper``, apart from the token signing keys: rotating the signing key ends
old access tokens and nothing else. The secret is a list ``<version>=<secret>`` separated by
commas, newest first (a bare secret is version ``1``). New hashes use the newest version
and carry it (``<version>:<hex>``); a hash is checked with the version it names, and an
item keyed by a hash is looked up under every version (one BatchGetItem, or a try per
version for single-use writes), so adding a version never breaks what exists.

Rotation: put a new version first, keep the old ones. API keys are re-hashed under the
newest version when they are next used; everything else that was hashed expires on its
own (refresh tokens 30 days, guest carts 30 days, links ≤ 1 year). Remove a version only
to invalidate on purpose what it hashed (a leaked pepper). ``0=signing-key`` keeps the
hashes agora made before the pepper existed (keyed by the oldest signing key) valid; they
carry no version prefix.

Signed mail links (:mod:`chalicelib.accounts.signed_links`) derive one key per purpose and
version from the same ring, so a link made for one purpose never verifies for another.
"""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.core.secrets import get_secret

SECRET_NAME = "hash_pepper"
LEGACY_VERSION = "0"
_LEGACY_MARKER = "signing-key"
MIN_PEPPER_BYTES = 32


def pepper_ring() -> list[tuple[str, bytes]]:
    """``(version, key)`` pairs, newest first."""
    raw = get_secret(SECRET_NAME)
    ring: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        version, _, secret = part.partition("=") if "=" in part else ("1", "", part)
        version = version.strip()
        if not version.isalnum() or any(v == version for v, _ in ring):
            raise RuntimeError(f"hash pepper versions must be unique and alphanumeric (got {version!r})")
        if version == LEGACY_VERSION:
            if secret.strip() != _LEGACY_MARKER:
                raise RuntimeError("hash pepper version 0 is reserved: write 0=signing-key to keep old hashes")
            ring.append((version, _legacy_key()))
            continue
        if len(secret.encode()) < MIN_PEPPER_BYTES:
            raise RuntimeError(f"hash pepper version {version} must be at least {MIN_PEPPER_BYTES} bytes")
        ring.append((version, hashlib.sha256(b"agora-pepper:" + secret.encode()).digest()))
    if not ring or ring[0][0] == LEGACY_VERSION:
        raise RuntimeError("the hash pepper needs a current version (e.g. 1=<secret>) before 0=signing-key")
    return ring


def _legacy_key() -> bytes:
    """How hashes were keyed before the pepper: from the oldest token signing key."""
    from chalicelib.core.auth import key_ring

    return hashlib.sha256(b"agora-secret-hash:" + key_ring()[-1][1]).digest()


def _digest(key: bytes, secret: str) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def _label(version: str, digest: str) -> str:
    return digest if version == LEGACY_VERSION else f"{version}:{digest}"


def hash_secret(secret: str) -> str:
    """The keyed hash of a high-entropy secret under the newest pepper. Opaque secrets have
    256 bits of entropy, so a keyed SHA-256 is enough (and cheap to look up); passwords,
    which do not, use argon2id in :mod:`chalicelib.core.passwords`."""
    version, key = pepper_ring()[0]
    return _label(version, _digest(key, secret))


def secret_hashes(secret: str) -> list[str]:
    """The hash of ``secret`` under every pepper version, newest first: the keys to look an
    item up by when it may have been stored before the newest version was added."""
    return [_label(version, _digest(key, secret)) for version, key in pepper_ring()]


def version_of(stored_hash: str) -> str:
    version, separator, _ = stored_hash.partition(":")
    return version if separator else LEGACY_VERSION


def same_secret(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash`` under the version it was made with
    (constant time; False for a version no longer in the ring)."""
    key = dict(pepper_ring()).get(version_of(stored_hash))
    if key is None:
        return False
    return hmac.compare_digest(_label(version_of(stored_hash), _digest(key, secret)).encode(),
                               stored_hash.encode())


def is_current(stored_hash: str) -> bool:
    """Made with the newest version (else re-hash it when the secret is next presented)."""
    return version_of(stored_hash) == pepper_ring()[0][0]


def _derive(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, b"agora-link:" + purpose.encode(), hashlib.sha256).digest()


def current_purpose_key(purpose: str) -> tuple[str, bytes]:
    """``(version, key)`` for signing links of ``purpose`` now."""
    version, key = pepper_ring()[0]
    return version, _derive(key, purpose)


def purpose_key(purpose: str, version: str) -> bytes | None:
    """The key that signed links of ``purpose`` under ``version``; None for a version no
    longer in the ring."""
    key = dict(pepper_ring()).get(version)
    return _derive(key, purpose) if key is not None else None
