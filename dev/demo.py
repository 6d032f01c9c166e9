"""Load the demo marketplace (dev/demo_data.py) into a running local stack, through the
public API as a real seller would: apply, confirm the application with the link the local
outbox received, onboard with (fake) Stripe, set a default shipping profile, list products;
the buyer signs up the same way;
the operator is created as `agora operators create` would, and the fee schedule set as its
PUT /v1/admin/fees would.

    python -m dev.demo            (make run does this once the stack is ready)

Idempotent: a seller or buyer that exists already is signed in instead of created, a
seller's default shipping profile is created only when it has none, and products are
upserted by SKU.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import requests

from dev import demo_data, stack_state


class DemoError(RuntimeError):
    pass


def _check(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise DemoError(f"{what}: {response.status_code} {response.text[:500]}")
    return response.json() if response.content else None


def _mailed_token(outbox: str, to: str, subject: str) -> str:
    """The token of the newest link mailed to ``to`` with ``subject``, as its owner would open
    it (the local mail worker sends within a second or two)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mails = [m for m in requests.get(outbox, timeout=10).json()["messages"]
                 if to in m["to"] and subject in (m["subject"] or "")]
        found = re.search(r"[?&]token=([\w.-]+)", mails[-1]["body"] or "") if mails else None
        if found:
            return found.group(1)
        time.sleep(0.3)
    raise DemoError(f"no mail {subject!r} reached {to} in the local outbox")


def _sign_in_or_sign_up(api: str, outbox: str, *, path: str, body: dict[str, Any], subject: str,
                        confirm: str) -> dict[str, Any]:
    """Sign in when the account exists (the demo was loaded before); otherwise sign up at
    ``path`` and confirm with the mailed link at ``confirm``. Returns ``{"tokens": …}``."""
    email, password = body["email"], body["password"]
    login = requests.post(f"{api}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    if login.status_code == 200:
        return {"tokens": login.json()}
    _check(requests.post(f"{api}{path}", json=body, timeout=30), f"sign up {email}")
    token = _mailed_token(outbox, email, subject)
    confirmed = _check(requests.post(f"{api}{confirm}", json={"token": token}, timeout=60), f"confirm {email}")
    return confirmed if "tokens" in confirmed else {"tokens": confirmed}


def _sku(title: str, attributes: dict[str, str]) -> str:
    text = "-".join([title, *attributes.values()]).upper()
    return re.sub(r"[^A-Z0-9]+", "-", text).strip("-")[:60]


def create_operator() -> str:
    """The demo operator as `agora operators create` makes one (email verified, TOTP enrolled),
    but with the demo's fixed TOTP key, so that `agora operators otp --local` gives its code.
    An operator loaded before is given what it lacks."""
    from chalicelib.accounts import mfa
    from chalicelib.accounts.models import User
    from chalicelib.accounts.service import create_user, find_user_by_email, new_user
    from chalicelib.core.errors import Conflict
    from chalicelib.core.passwords import hash_password

    operator = demo_data.OPERATOR
    user = new_user(operator["email"], name=operator["name"], password=operator["password"], roles={"operator"})
    user.email_verified = True
    user.totp_secret = operator["totp_secret"]
    try:
        create_user(user)
        return user.user_id
    except Conflict:  # loaded before: the operator exists
        existing = find_user_by_email(operator["email"])
        if existing is None:  # pragma: no cover - the claim exists, so the user does
            raise
        if not existing.email_verified:  # an operator made before sign-in needed a proven address
            existing.update(actions=[User.email_verified.set(True),
                                     User.password_hash.set(hash_password(operator["password"]))])
        if existing.totp_secret != operator["totp_secret"]:
            mfa.enrol(existing.user_id, secret=operator["totp_secret"])
        return existing.user_id


def set_fees(operator_id: str) -> None:
    """The demo's fee schedule, as the operator's PUT /v1/admin/fees would set it, set once: a
    marketplace whose operator set fees before keeps them. Set in-process rather than through
    the API, so that loading the demo spends none of the operator's one-time codes (each is
    good once): a newcomer can sign in with the code `agora operators otp` prints at once."""
    from chalicelib.fees import service
    from chalicelib.fees.engine import DEFAULT_SCOPE, category_scope
    from chalicelib.fees.schemas import FeeScheduleIn

    wanted = {DEFAULT_SCOPE: demo_data.FEES,
              **{category_scope(slug): terms for slug, terms in demo_data.CATEGORY_FEES.items()}}
    for scope, terms in wanted.items():
        if service.current_schedule(scope) is None:
            service.set_schedule(scope, FeeScheduleIn.model_validate(terms).model_dump(), changed_by=operator_id)


def onboard(api: str, headers: dict[str, str]) -> dict[str, Any]:
    """Follow the Stripe onboarding link as the seller's browser would, then wait for the
    webhook to tell agora that charges are enabled."""
    seller = _check(requests.get(f"{api}/v1/seller", headers=headers, timeout=30), "read seller")
    if not seller.get("payments", {}).get("charges_enabled"):
        link = _check(requests.post(f"{api}/v1/seller/onboarding-link", headers=headers, timeout=30),
                      "onboarding link")
        requests.get(link["url"], allow_redirects=False, timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seller = _check(requests.get(f"{api}/v1/seller", headers=headers, timeout=30), "read seller")
        if seller["status"] == "approved" and seller.get("payments", {}).get("charges_enabled"):
            return seller
        time.sleep(0.3)
    raise DemoError(f"seller {seller.get('seller_id')} was not approved after onboarding: {seller}")


def shipping_profile(country: str, currency: str) -> dict[str, Any]:
    """The demo's default shipping profile for a seller from ``country`` (see demo_data.SHIPPING)."""
    home, eu = demo_data.SHIPPING["home"], demo_data.SHIPPING["eu"]

    def money(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": currency}

    return {"name": demo_data.SHIPPING["name"], "handling_days": demo_data.SHIPPING["handling_days"], "zones": [
        {"countries": [country], "standard": money(home["standard"]), "per_extra_item": money(home["per_extra_item"]),
         "express": {"rate": money(home["express"]), "delivery_days_min": 1, "delivery_days_max": 1},
         "free_shipping_threshold": money(home["free_from"]), "delivery_days_min": 2, "delivery_days_max": 3},
        {"countries": [c for c in demo_data.EU_COUNTRIES if c != country], "standard": money(eu["standard"]),
         "delivery_days_min": 3, "delivery_days_max": 6}]}


def set_shipping(api: str, headers: dict[str, str], application: dict[str, str]) -> None:
    """The seller's default shipping profile, unless it has one (a reload keeps the seller's changes)."""
    found = requests.get(f"{api}/v1/seller/shipping-profiles/default", headers=headers, timeout=30)
    if found.status_code == 404:
        body = shipping_profile(application["country"], application["default_currency"])
        _check(requests.post(f"{api}/v1/seller/shipping-profiles", json=body, headers=headers, timeout=30),
               f"shipping profile of {application['business_name']}")
    else:
        _check(found, "read shipping profile")


def load(api: str, outbox: str) -> dict[str, Any]:
    set_fees(create_operator())
    summary: dict[str, Any] = {"sellers": []}
    for application, products in demo_data.SELLERS:
        signed_up = _sign_in_or_sign_up(api, outbox, path="/v1/sellers", body=application,
                                        subject="Confirm your seller application", confirm="/v1/sellers/confirm")
        headers = {"Authorization": f"Bearer {signed_up['tokens']['access_token']}"}
        seller = onboard(api, headers)
        set_shipping(api, headers, application)
        rows = [{"sku": _sku(title, attributes), "title": title, "brand": brand, "category": category,
                 "price": {"amount": price, "currency": application["default_currency"]}, "stock": stock,
                 "attributes": attributes, "status": "active",
                 "description": f"{title} by {brand}, sold by {application['business_name']}."}
                for title, brand, category, price, stock, attributes in products]
        result = _check(requests.post(f"{api}/v1/seller/products/bulk", json={"rows": rows}, headers=headers,
                                      timeout=60), f"list products of {application['business_name']}")
        failed = [r for r in result["results"] if r["status"] == "error"]
        if failed:
            raise DemoError(f"demo products refused: {failed}")
        summary["sellers"].append((application["business_name"], application["email"], application["password"],
                                   seller["seller_id"], len(rows)))
    _sign_in_or_sign_up(api, outbox, path="/v1/auth/register", body=demo_data.BUYER,
                        subject="Confirm your email address", confirm="/v1/auth/magic-link/verify")
    return summary


def describe(summary: dict[str, Any]) -> str:
    eur = demo_data.FEES["currencies"]["EUR"]["fixed"]
    lines = [f"Demo marketplace fees: {demo_data.FEES['percent_bp'] / 100:g} % + {eur / 100:.2f} EUR a line "
             f"(books {demo_data.CATEGORY_FEES['books']['percent_bp'] / 100:g} %)",
             "Demo accounts (sign in at POST /v1/auth/login):",
             f"  operator  {demo_data.OPERATOR['email']} / {demo_data.OPERATOR['password']}   (one-time code: "
             f"agora operators otp --email {demo_data.OPERATOR['email']} --local)",
             f"  buyer     {demo_data.BUYER['email']} / {demo_data.BUYER['password']}"]
    for name, email, password, seller_id, count in summary["sellers"]:
        lines.append(f"  seller    {email} / {password}   ({name}, {seller_id}, {count} products)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-file", type=Path, default=None)
    args = parser.parse_args(argv)
    state = stack_state.apply_environment(args.state_file)
    os.environ.setdefault("AGORA_STAGE", "local")
    try:
        print(describe(load(state["urls"]["api"], state["urls"]["outbox"])), flush=True)
    except DemoError as error:
        print(f"Loading the demo data failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
