"""dev/local_frontend.py: the page a mailed link opens locally."""

from __future__ import annotations

from dev.local_frontend import LINKS, curl, link_page

API = "http://127.0.0.1:8000"


def test_every_link_path_the_app_mails_has_a_page() -> None:
    from chalicelib.accounts.magic_links import SIGN_IN_PATH
    from chalicelib.accounts.service import SIGN_UP_PATH
    from chalicelib.sellers.service import CONFIRM_PATH

    assert {SIGN_IN_PATH, SIGN_UP_PATH, CONFIRM_PATH, "/newsletter/confirm", "/unsubscribe"} <= set(LINKS)


def test_the_page_offers_a_button_and_the_curl_and_escapes_the_token() -> None:
    page = link_page(API, "/sign-in/link", "abc'><script>x</script>")
    assert "<form method='post'>" in page
    assert "<script>x" not in page
    assert "abc&#x27;&gt;&lt;script&gt;" in page


def test_the_curl_posts_the_token_to_the_route_that_redeems_it() -> None:
    assert curl(API, "/v1/sellers/confirm", "tok") == (
        "curl -s -X POST http://127.0.0.1:8000/v1/sellers/confirm -H 'Content-Type: application/json' "
        "-d '{\"token\": \"tok\"}'")
