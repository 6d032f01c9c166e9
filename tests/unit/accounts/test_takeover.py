"""The account takeover the security review found, path by path, and why each is closed.

Before: whoever registered (or imported) an address first set its password without ever
reading its mail, could sign in with it, and kept that access after the owner signed in by
link. Now only the mailbox's owner decides an account's credentials."""

from __future__ import annotations

from typing import Any

from chalicelib.accounts import service
from chalicelib.accounts.sessions import start_session
from tests.support.auth import bearer
from tests.support.builders import register
from tests.support.http import call
from tests.support.mail import deliver_mails, forget_pacing, mailed_token

VICTIM = "victim@example.com"
ATTACKERS_PASSWORD = "attacker-chose-this-2026!"


def _login(api: Any, password: str, email: str = VICTIM) -> tuple[int, Any]:
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": email, "password": password})
    return status, body


def _sign_in_by_link(api: Any, email: str = VICTIM) -> dict[str, Any]:
    forget_pacing()
    assert call(api, "POST", "/v1/auth/magic-link", {"email": email})[0] == 202
    status, body, _ = call(api, "POST", "/v1/auth/magic-link/verify", {"token": mailed_token(email)})
    assert status == 200, body
    return body


def test_signing_up_with_someone_elses_address_creates_nothing_the_stranger_can_use(api: Any) -> None:
    status, _, _ = call(api, "POST", "/v1/auth/register", {"email": VICTIM, "password": ATTACKERS_PASSWORD,
                                                           "name": "Not the owner"})

    assert status == 202
    assert service.find_user_by_email(VICTIM) is None
    assert _login(api, ATTACKERS_PASSWORD)[0] == 401
    # the owner, signing in by link later, gets a passwordless account the stranger cannot enter
    owner = _sign_in_by_link(api)
    assert owner["account"]["name"] == ""
    assert _login(api, ATTACKERS_PASSWORD)[0] == 401


def test_the_owner_who_registers_later_gets_the_account_with_their_own_password(api: Any) -> None:
    call(api, "POST", "/v1/auth/register", {"email": VICTIM, "password": ATTACKERS_PASSWORD, "name": "Mallory"})
    deliver_mails()  # the stranger's confirmation lands in the owner's mailbox, unused
    forget_pacing()

    owner = register(api, email=VICTIM, password="owners-own-Secret-99", name="Vera Owner")

    assert _login(api, "owners-own-Secret-99")[0] == 200
    assert _login(api, ATTACKERS_PASSWORD)[0] == 401
    assert service.get_user(owner.user_id).name == "Vera Owner"


def test_signing_up_cannot_put_a_password_on_an_existing_passwordless_account(api: Any) -> None:
    owner = _sign_in_by_link(api)  # e.g. made by a guest checkout or a link sign-in
    forget_pacing()

    status, _, _ = call(api, "POST", "/v1/auth/register", {"email": VICTIM, "password": ATTACKERS_PASSWORD,
                                                           "name": "Mallory"})

    assert status == 202
    assert service.get_user(owner["account"]["user_id"]).password_hash is None
    assert _login(api, ATTACKERS_PASSWORD)[0] == 401


def test_the_first_link_sign_in_clears_a_password_someone_else_set_and_ends_their_sessions(api: Any) -> None:
    # given an account whose password was set by somebody who never read its mail (an old
    # sign-up, an old seller import), and who is signed in with it
    planted = service.create_user(service.new_user(VICTIM, password=ATTACKERS_PASSWORD))
    intruder = start_session(planted)

    # when the owner signs in by link for the first time
    owner = _sign_in_by_link(api)

    # then the planted password is gone and the intruder's sessions end at once
    assert owner["account"]["user_id"] == planted.user_id
    assert service.get_user(planted.user_id).password_hash is None
    assert _login(api, ATTACKERS_PASSWORD)[0] == 401
    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": intruder.refresh_token})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh_token")
    status, body, _ = call(api, "GET", "/v1/me", headers=bearer(intruder.access_token))
    assert (status, body["error"]["code"]) == (401, "session_revoked")
    # while the owner's own session works, and later links change nothing
    assert call(api, "GET", "/v1/me", headers=bearer(owner["access_token"]))[0] == 200
    assert _sign_in_by_link(api)["account"]["user_id"] == planted.user_id
    assert call(api, "GET", "/v1/me", headers=bearer(owner["access_token"]))[0] == 200


def test_an_invited_account_becomes_its_owners_at_the_first_link(api: Any) -> None:
    invited, created = service.invite_account(VICTIM, seller_id="sel_importer")
    assert created and (invited.status, invited.password_hash, invited.email_verified) == ("invited", None, False)
    assert _login(api, ATTACKERS_PASSWORD)[0] == 401

    owner = _sign_in_by_link(api)

    claimed = service.get_user(invited.user_id)
    assert owner["account"]["user_id"] == invited.user_id
    assert (claimed.status, claimed.email_verified) == ("active", True)
