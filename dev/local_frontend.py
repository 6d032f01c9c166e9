"""A stand-in for the marketplace frontend, so the links in local mails lead somewhere.

    python -m dev.local_frontend --port 3000 --api-url http://127.0.0.1:8000   (make run starts it)

agora's mails link to the frontend (``AGORA_FRONTEND_URL``), whose page POSTs the token to
the API: links are redeemed by POST only, because mail scanners open every link. Locally
there is no frontend, so this serves a plain page per link: it shows the token, the curl
command that redeems it, and a button that redeems it (the form is posted here and
forwarded to the API, so no browser JavaScript or CORS is involved) and then shows the
API's answer, e.g. the access token of the new session. Nothing here is deployed.
"""

from __future__ import annotations

import argparse
import html
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

# frontend path of a mailed link -> (what the page offers, the API route that redeems its token)
LINKS = {
    "/sign-in/link": ("Sign in", "/v1/auth/magic-link/verify"),
    "/sign-up/confirm": ("Confirm your email address and sign in", "/v1/auth/magic-link/verify"),
    "/sellers/confirm": ("Confirm your seller application", "/v1/sellers/confirm"),
    "/newsletter/confirm": ("Confirm the newsletter", "/v1/consents/confirm"),
    "/unsubscribe": ("Unsubscribe", "/v1/consents/unsubscribe"),
    # a social sign-in's return URL: its one-time ``code`` for the tokens
    "/sign-in/social": ("Finish signing in with your provider", "/v1/auth/oidc/exchange"),
}
EXCHANGE = "/v1/auth/oidc/exchange"


def _body(route: str, token: str) -> dict[str, str]:
    """What the redeeming route reads: a social sign-in's ``code``, else the link's ``token``."""
    return {"code" if route == EXCHANGE else "token": token}


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agora (local) - {title}</title>
<style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}}
pre{{background:#f4f4f4;padding:.8rem;white-space:pre-wrap;word-break:break-all}}</style></head>
<body><h1>{title}</h1>{body}
<p><small>This page stands in for the marketplace frontend while agora runs locally
(<code>make run</code>). API: <a href="{api}/docs">{api}/docs</a></small></p></body></html>"""


def curl(api: str, route: str, token: str) -> str:
    """The command that redeems ``token`` as the frontend would."""
    return (f"curl -s -X POST {api}{route} -H 'Content-Type: application/json' "
            f"-d '{json.dumps(_body(route, token))}'")


def link_page(api: str, path: str, token: str) -> str:
    action, route = LINKS[path]
    if not token:
        return PAGE.format(title=action, api=api, body="<p>This link has no token.</p>")
    body = (f"<form method='post'><input type='hidden' name='token' value='{html.escape(token, quote=True)}'>"
            f"<button type='submit'>{html.escape(action)}</button></form>"
            f"<p>or, from a terminal:</p><pre>{html.escape(curl(api, route, token))}</pre>")
    return PAGE.format(title=action, api=api, body=body)


def redeem(api: str, path: str, token: str) -> tuple[int, Any]:
    """POST the token to the API route that redeems it; the API's status and JSON answer."""
    route = LINKS[path][1]
    request = urllib.request.Request(f"{api}{route}", data=json.dumps(_body(route, token)).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def handler_for(api: str) -> type[BaseHTTPRequestHandler]:
    class Frontend(BaseHTTPRequestHandler):
        def _send(self, status: int, page: str) -> None:
            body = page.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path in LINKS:
                query = parse_qs(url.query)
                token = (query.get("token") or query.get("code") or [""])[0]
                self._send(200, link_page(api, url.path, token))
                return
            self._send(200, PAGE.format(title="agora, running locally", api=api, body=(
                f"<p>No frontend runs locally; this page answers <code>{html.escape(url.path)}</code>. "
                "Links in mails (sign-in, sign-up, seller application, newsletter) open a page here that "
                "redeems their token.</p>")))

        def do_POST(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode()) if length else {}
            if url.path not in LINKS:
                self._send(404, PAGE.format(title="Not found", api=api, body="<p>Nothing to post here.</p>"))
                return
            token = form.get("token", [""])[0] or parse_qs(url.query).get("token", [""])[0]
            status, answer = redeem(api, url.path, token)
            outcome = "Done." if status < 400 else "The API refused it."
            self._send(200 if status < 400 else status, PAGE.format(
                title=LINKS[url.path][0], api=api,
                body=f"<p>{outcome} The API answered {status}:</p><pre>"
                     f"{html.escape(json.dumps(answer, indent=2, ensure_ascii=False))}</pre>"))

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write("frontend %s\n" % (format % args))

    return Frontend


def serve(port: int, api: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(api.rstrip("/")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args(argv)
    server = serve(args.port, args.api_url)
    print(f"frontend stand-in on http://127.0.0.1:{args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
