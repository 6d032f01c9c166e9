"""The demo's accounts: passwords that meet the rules, an operator who can sign in with a code."""

from __future__ import annotations

import pytest

from dev import demo, demo_data


@pytest.mark.parametrize("account", [demo_data.OPERATOR, demo_data.BUYER, *(a for a, _ in demo_data.SELLERS)],
                         ids=lambda account: account["email"])
def test_every_demo_password_meets_the_password_rules(account: dict[str, str]) -> None:
    from chalicelib.core.passwords import password_problems

    name = account.get("name") or account["business_name"]
    assert password_problems(account["password"], email=account["email"], name=name) == []


def test_the_demo_operator_is_verified_and_enrolled_with_the_fixed_key() -> None:
    from chalicelib.accounts import mfa
    from chalicelib.accounts.service import find_user_by_email
    from chalicelib.core.passwords import verify_password

    demo.create_operator()

    operator = find_user_by_email(demo_data.OPERATOR["email"])
    assert operator.roles == {"operator"}
    assert operator.email_verified is True
    assert operator.totp_secret == demo_data.OPERATOR["totp_secret"]
    assert verify_password(demo_data.OPERATOR["password"], operator.password_hash)
    assert mfa.verify_totp(operator, mfa.code_at(demo_data.OPERATOR["totp_secret"])) is True


def test_loading_again_gives_an_earlier_operator_what_it_lacks() -> None:
    from chalicelib.accounts.service import create_user, find_user_by_email, new_user

    # given an operator loaded by an older demo: unverified, without a second factor
    create_user(new_user(demo_data.OPERATOR["email"], password=demo_data.OPERATOR["password"], roles={"operator"}))

    demo.create_operator()
    demo.create_operator()

    operator = find_user_by_email(demo_data.OPERATOR["email"])
    assert (operator.email_verified, operator.totp_secret) == (True, demo_data.OPERATOR["totp_secret"])


def test_the_summary_says_how_to_get_the_operators_code() -> None:
    assert (
        f"  operator  {demo_data.OPERATOR['email']} / {demo_data.OPERATOR['password']}   "
        f"(one-time code: agora operators otp --email {demo_data.OPERATOR['email']} --local)"
            ) in demo.describe({"sellers": []}).splitlines()


def test_the_demo_sets_fees_once_so_the_marketplace_earns_and_keeps_an_operators_own() -> None:
    from chalicelib.fees import service
    from chalicelib.fees.engine import DEFAULT_SCOPE, category_scope

    operator_id = demo.create_operator()
    demo.set_fees(operator_id)
    demo.set_fees(operator_id)  # loading the demo again adds no version

    default = service.default_schedule()
    assert (default.version, default.terms_json()["percent_bp"]) == (1, 1_000)
    assert service.current_schedule(category_scope("books")).terms_json()["percent_bp"] == 700

    # an operator's own change survives another load of the demo
    service.set_schedule(DEFAULT_SCOPE, {"percent_bp": 500, "currencies": {}}, changed_by=operator_id)
    demo.set_fees(operator_id)
    assert (service.default_schedule().version, service.default_schedule().terms_json()["percent_bp"]) == (2, 500)
