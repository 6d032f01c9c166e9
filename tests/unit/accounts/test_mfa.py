"""TOTP for operators: enrolment, codes of the current step ± 1, each step once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.accounts import mfa, service
from chalicelib.accounts.models import User
from chalicelib.core.errors import NotFound

NOON = 1_800_000_000  # a step boundary (divisible by 30)
STEP = NOON // mfa.STEP_SECONDS


def _operator() -> User:
    return service.create_user(service.new_user("olga@agora.example", name="Olga Operator", roles=("operator",)))


@pytest.fixture
def enrolled() -> tuple[User, str]:
    user = _operator()
    secret, _ = mfa.enrol(user.user_id)
    return service.get_user(user.user_id), secret


def test_enrolment_stores_a_new_secret_and_gives_the_uri_for_an_authenticator_app() -> None:
    user = _operator()

    secret, uri = mfa.enrol(user.user_id)

    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("otpauth", "totp", "/agora:olga%40agora.example")
    assert parse_qs(parsed.query) == {"secret": [secret], "issuer": ["agora"]}
    assert service.get_user(user.user_id).totp_secret == secret
    assert mfa.enrol(user.user_id)[0] != secret  # a new one every time


def test_enrolling_an_unknown_user_is_not_found() -> None:
    with pytest.raises(NotFound):
        mfa.enrol("usr_nobody")
    with pytest.raises(User.DoesNotExist):
        User.get("USER#usr_nobody", "PROFILE")  # and creates no half user


def test_the_current_code_is_accepted_and_its_step_spent(enrolled: tuple[User, str]) -> None:
    user, secret = enrolled

    assert mfa.verify_totp(user, mfa.code_at(secret, NOON + 7), now=NOON + 7) is True
    assert service.get_user(user.user_id).totp_last_step == STEP


def test_a_code_with_a_space_as_apps_show_it_is_accepted(enrolled: tuple[User, str]) -> None:
    user, secret = enrolled
    code = mfa.code_at(secret, NOON)
    assert mfa.verify_totp(user, f" {code[:3]} {code[3:]} ", now=NOON) is True


@pytest.mark.parametrize("offset", [-1, +1])
def test_the_previous_and_the_next_steps_code_are_accepted(enrolled: tuple[User, str], offset: int) -> None:
    user, secret = enrolled
    assert mfa.verify_totp(user, mfa.code_at(secret, NOON + offset * 30), now=NOON) is True
    assert service.get_user(user.user_id).totp_last_step == STEP + offset


@pytest.mark.parametrize("offset", [-2, +2])
def test_codes_further_away_are_refused(enrolled: tuple[User, str], offset: int) -> None:
    user, secret = enrolled
    code = mfa.code_at(secret, NOON + offset * 30)
    if code in {mfa.code_at(secret, NOON + k * 30) for k in (-1, 0, 1)}:  # pragma: no cover - 1 in 333,333
        pytest.skip("the far code happens to equal a near one")
    assert mfa.verify_totp(user, code, now=NOON) is False


def test_a_wrong_code_is_refused_and_spends_nothing(enrolled: tuple[User, str]) -> None:
    user, secret = enrolled
    right = mfa.code_at(secret, NOON)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    assert mfa.verify_totp(user, wrong, now=NOON) is False
    assert service.get_user(user.user_id).totp_last_step is None
    assert mfa.verify_totp(user, right, now=NOON) is True


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_codes_are_refused(enrolled: tuple[User, str], code: str) -> None:
    user, _ = enrolled
    assert mfa.verify_totp(user, code, now=NOON) is False


def test_a_user_without_a_secret_has_no_valid_code() -> None:
    assert mfa.verify_totp(_operator(), "123456", now=NOON) is False


def test_a_used_code_cannot_be_replayed(enrolled: tuple[User, str]) -> None:
    user, secret = enrolled
    code = mfa.code_at(secret, NOON)
    assert mfa.verify_totp(user, code, now=NOON) is True

    assert mfa.verify_totp(user, code, now=NOON + 20) is False  # the same request object
    assert mfa.verify_totp(service.get_user(user.user_id), code, now=NOON + 40) is False  # a later sign-in


def test_codes_never_go_back_to_an_earlier_step(enrolled: tuple[User, str]) -> None:
    user, secret = enrolled
    assert mfa.verify_totp(user, mfa.code_at(secret, NOON), now=NOON) is True
    assert mfa.verify_totp(user, mfa.code_at(secret, NOON - 30), now=NOON) is False
    assert mfa.verify_totp(user, mfa.code_at(secret, NOON + 30), now=NOON + 30) is True


def test_two_parallel_uses_of_one_code_pass_only_once(enrolled: tuple[User, str]) -> None:
    # given two sign-ins that both read the user before either checked the code
    user, secret = enrolled
    first, second = service.get_user(user.user_id), service.get_user(user.user_id)
    code = mfa.code_at(secret, NOON)

    # when both present the same code, then the conditional write lets only one through
    assert [mfa.verify_totp(first, code, now=NOON), mfa.verify_totp(second, code, now=NOON)] == [True, False]


def test_a_new_secret_ends_the_old_codes(enrolled: tuple[User, str]) -> None:
    user, old_secret = enrolled
    assert mfa.verify_totp(user, mfa.code_at(old_secret, NOON), now=NOON) is True
    stale = service.get_user(user.user_id)

    new_secret, _ = mfa.enrol(user.user_id)

    assert mfa.verify_totp(stale, mfa.code_at(old_secret, NOON + 30), now=NOON + 30) is False  # read before reset
    fresh = service.get_user(user.user_id)
    assert fresh.totp_last_step is None
    assert mfa.verify_totp(fresh, mfa.code_at(new_secret, NOON + 30), now=NOON + 30) is True


def test_enrolment_with_a_given_secret_as_the_local_demo_does() -> None:
    user = _operator()
    secret, uri = mfa.enrol(user.user_id, secret="AGORALOCALDEMOOPERATORKEYNOTREAL")
    assert secret == "AGORALOCALDEMOOPERATORKEYNOTREAL"
    assert "secret=AGORALOCALDEMOOPERATORKEYNOTREAL" in uri


def test_erasure_would_remove_the_secret() -> None:
    from chalicelib.accounts.models import PERSONAL_USER_ATTRIBUTES

    assert {"totp_secret", "totp_last_step"} <= set(PERSONAL_USER_ATTRIBUTES)
