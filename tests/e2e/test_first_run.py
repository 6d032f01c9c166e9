"""The first run, as a newcomer meets it: `make run` (dev/run.py) with its demo, the summary it
prints, every demo account in it, the README's walkthrough, and mailed links that lead to a page."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

from dev import demo_data
from dev.run import banner
from tests.support.stack import ROOT, LocalStack, eventually

# The summary's account lines: "  buyer     buyer@agora.example / paper-kite-demo-42"
ACCOUNT_LINE = re.compile(r"^  (operator|buyer|seller) +(\S+@\S+) / (\S+)", re.MULTILINE)
WALKTHROUGH = re.compile(r"<!-- walkthrough:.*?-->(.*?)<!-- /walkthrough -->", re.DOTALL)
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
# The README's URLs are make run's default ports; the test stack runs on free ones.
# What each role may read once signed in.
ROLE_HOME = {"buyer": "/v1/me", "seller": "/v1/seller", "operator": "/v1/admin/fees"}
README_URLS = {"http://127.0.0.1:8000": "api", "http://127.0.0.1:8420": "stripe",
               "http://127.0.0.1:8025/outbox": "outbox"}


def _printed_accounts(local_stack: LocalStack) -> dict[str, tuple[str, str]]:
    return {email: (role, password) for role, email, password in ACCOUNT_LINE.findall(banner(local_stack.state))}


def _operator_code(local_stack: LocalStack, email: str) -> str:
    """What the summary tells a newcomer to run for the operator's one-time code."""
    result = subprocess.run([sys.executable, "-m", "cli", "operators", "otp", "--email", email, "--local"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "AGORA_LOCAL_STATE": local_stack.env["AGORA_LOCAL_STATE"]})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_demo_loads_whole_and_the_summary_names_every_account(local_stack: LocalStack) -> None:
    assert local_stack.state["demo_loaded"] is True, local_stack.state["demo"]
    accounts = _printed_accounts(local_stack)
    expected = {demo_data.OPERATOR["email"], demo_data.BUYER["email"], *(a["email"] for a, _ in demo_data.SELLERS)}
    assert set(accounts) == expected
    summary = banner(local_stack.state)
    for name in ("api", "docs", "outbox", "stripe", "frontend"):
        assert local_stack.urls[name] in summary
    assert f"{local_stack.state['logs']}/" in summary
    assert (Path(local_stack.state["logs"]) / "api.log").stat().st_size > 0  # request logs went to the file


def test_every_printed_account_signs_in(local_stack: LocalStack) -> None:
    for email, (role, password) in _printed_accounts(local_stack).items():
        credentials = {"email": email, "password": password}
        if role == "operator":
            credentials["otp"] = _operator_code(local_stack, email)
        response = requests.post(f"{local_stack.api}/v1/auth/login", json=credentials, timeout=30)
        assert response.status_code == 200, (email, response.text)
        me = requests.get(f"{local_stack.api}{ROLE_HOME[role]}", timeout=10,
                          headers={"Authorization": f"Bearer {response.json()['access_token']}"})
        assert me.status_code == 200, (email, me.text)


def test_the_demo_fees_earn_the_marketplace_its_share(local_stack: LocalStack) -> None:
    seller = demo_data.SELLERS[1][0]  # the coffee roaster: EUR, no category override
    tokens = requests.post(f"{local_stack.api}/v1/auth/login", timeout=30,
                           json={"email": seller["email"], "password": seller["password"]}).json()
    fees = requests.get(f"{local_stack.api}/v1/seller/fees", timeout=10,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert fees.status_code == 200, fees.text
    schedule = fees.json()["schedule"]
    assert (schedule["scope"], schedule["percent_bp"], schedule["currencies"]["EUR"]["fixed"]) == ("default", 1000, 25)
    assert {(o["scope"], o["percent_bp"]) for o in fees.json()["category_overrides"]} == {("category:books", 700)}


def test_the_readme_walkthrough_runs_as_written(local_stack: LocalStack, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    (section,) = WALKTHROUGH.findall(readme)
    script = "\n".join(SH_BLOCK.findall(section))
    for readme_url, name in README_URLS.items():
        assert readme_url in script
        script = script.replace(readme_url, local_stack.urls[name])

    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=180, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    order_id = re.search(r"order (ord_\w+) is paid", result.stdout)
    assert order_id, result.stdout
    assert "succeeded" in lines  # the PaymentIntent, confirmed with pm_card_visa
    assert order_id.group(1) in lines  # the seller sees the paid order
    assert lines[-6:-4] == ["shipped", "shipped"]  # shipped, as the seller and the buyer see it
    assert re.search(r"^mailed link: http://127\.0\.0\.1:\d+/sign-in/link\?token=", result.stdout, re.MULTILINE)
    assert lines[-2] == "Bearer"  # the mailed link signed the buyer in
    assert lines[-1] == "local"  # the local OpenID provider signed the buyer in, linked to their account


def test_a_mailed_link_opens_a_page_that_redeems_it(local_stack: LocalStack) -> None:
    seller = demo_data.SELLERS[2][0]
    response = requests.post(f"{local_stack.api}/v1/auth/magic-link", json={"email": seller["email"]}, timeout=20)
    assert response.status_code == 202, response.text

    def link() -> str | None:
        mails = [m for m in local_stack.outbox() if seller["email"] in m["to"]]
        found = re.search(r"http://\S+/sign-in/link\?token=[\w.-]+", mails[-1]["body"] or "") if mails else None
        return found.group(0) if found else None

    url = eventually(link, what="the sign-in mail")
    assert url.startswith(local_stack.urls["frontend"] + "/sign-in/link?token=")
    token = parse_qs(urlparse(url).query)["token"][0]

    page = requests.get(url, timeout=10)  # as a browser (or a mail scanner) opens it: nothing is redeemed
    assert page.status_code == 200
    assert "<form method='post'>" in page.text
    assert f"{local_stack.api}/v1/auth/magic-link/verify" in html.unescape(page.text)  # the curl that redeems it

    redeemed = requests.post(url, data={"token": token}, timeout=30)  # the page's button
    assert redeemed.status_code == 200
    assert "access_token" in html.unescape(redeemed.text)
    again = requests.post(url, data={"token": token}, timeout=30)  # a link works once
    assert again.status_code == 401
