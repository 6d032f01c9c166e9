"""The API on this machine, as `chalice local` serves it but sized like API Gateway.

    python -m dev.local_api --port 8000          (make run starts it)

Chalice's own LocalGateway still routes and authorises every request and calls the same
app object (the app is loaded as `chalice local` loads it, with the stage's environment),
so what runs is the app `chalice deploy` ships. Only the HTTP server around it differs:

- ``chalice local`` listens with a backlog of 5 and a thread per connection; a burst of
  20 parallel checkouts overflowed the backlog and clients saw ``ConnectionResetError``.
  Here the listen backlog is :data:`BACKLOG` and requests run on a bounded pool of
  :data:`WORKERS` threads (connections beyond that wait their turn instead of failing).
- A path no route declares answers 404 in agora's error shape (API Gateway's deploy
  declares the same gateway response, see ``infra/deploy.py``); ``chalice local`` answered
  403 "Missing Authentication Token" and echoed the caller's Authorization header.
- A method no route declares (TRACE, QUERY, PROPFIND, …) reaches the app like any other,
  which answers 405 ``method_not_allowed`` with ``Allow``; ``chalice local`` sent an HTML 501.
- The caller's address reaches the app as ``requestContext.identity.sourceIp``, the TCP peer's
  address as API Gateway gives it; ``chalice local`` always said 127.0.0.1, so every local
  caller shared one source's limits (sign-ups, sign-in failures, checkouts per address) and
  ``make load``'s users, each on its own 127.x.y.z address, could not be told apart.
- In the local stage, the Swagger UI assets for ``/docs`` are served from the pinned
  ``swagger-ui-bundle-v2`` package under :data:`DOCS_ASSETS`, so the docs work offline.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalGateway, RouteMatcher

ROOT = Path(__file__).resolve().parent.parent
BACKLOG = 512  # the kernel caps it at net.core.somaxconn (4096 on current Linux)
WORKERS = 128  # requests handled at once; more connections queue in the pool
IDLE_SECONDS = 15  # a kept-alive connection that sends nothing frees its thread after this
DOCS_ASSETS = "/_local/docs/"
DOCS_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def error_json(code: str, message: str) -> bytes:
    """agora's error shape (``chalicelib.core.http.error_body``), written here without importing the app."""
    return json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()


_caller = threading.local()  # the peer of the request this worker thread is serving


class PeerAddressGateway(LocalGateway):
    """LocalGateway with the caller's real address as the event's ``sourceIp``."""

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> dict[str, Any]:
        event = super()._generate_lambda_event(method, path, headers, body)
        event["requestContext"]["identity"]["sourceIp"] = getattr(_caller, "address", "127.0.0.1")
        return event


class PooledHTTPServer(HTTPServer):
    """An HTTPServer with a deep listen backlog whose requests run on a bounded thread pool."""

    request_queue_size = BACKLOG
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Any, workers: int = WORKERS) -> None:
        super().__init__(address, handler)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client went away (a load test stopping, a closed keep-alive): nothing to answer
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


class AgoraRequestHandler(ChaliceRequestHandler):
    """chalice.local's handler with one shared gateway, every method routed, and agora's
    404 for unknown paths (never echoing the request's headers)."""

    timeout = IDLE_SECONDS

    def __init__(self, request: Any, client_address: Any, server: HTTPServer, *, gateway: LocalGateway,
                 routes: RouteMatcher, docs_dir: Path | None) -> None:
        self.local_gateway = gateway
        self.routes = routes
        self.docs_dir = docs_dir
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler answers a method without a do_<METHOD> with an HTML 501;
        # here every method goes to the gateway, and the app answers 405 where no route has it.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _generic_handle(self) -> None:
        path = urlparse(self.path).path
        if self.docs_dir is not None and path.startswith(DOCS_ASSETS) and self.command in ("GET", "HEAD"):
            self._parse_payload()
            self._send_docs_asset(path[len(DOCS_ASSETS):])
            return
        try:
            self.routes.match_route(self.path)
        except ValueError:
            self._parse_payload()  # read the body, so a kept-alive connection stays in step
            headers = {"Content-Type": "application/json", "X-Request-Id": _request_id()}
            if self.command == "HEAD":
                self._send_http_response_no_body(404, headers)
            else:
                self._send_http_response(404, headers, error_json("not_found", "No route matches this path."))
            return
        _caller.address = self.client_address[0]
        super()._generic_handle()

    # chalice.local binds its own _generic_handle to these names; rebind them to this one.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle  # noqa: N815

    def _send_docs_asset(self, name: str) -> None:
        if name not in DOCS_FILES or self.docs_dir is None:
            self._send_http_response(404, {"Content-Type": "application/json"},
                                     error_json("not_found", "No such docs asset."))
            return
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self._send_http_response(200, {"Content-Type": content_type, "Cache-Control": "max-age=3600"},
                                 (self.docs_dir / name).read_bytes())


def _request_id() -> str:
    return f"req_local_{uuid.uuid4().hex}"


def swagger_ui_dir() -> Path | None:
    """Where the pinned swagger-ui-bundle-v2 keeps Swagger UI's files (None when not installed)."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def create_server(app: Any, config: Any, host: str, port: int, *, workers: int = WORKERS) -> PooledHTTPServer:
    """The server for ``app`` (a loaded Chalice app and its chalice Config). As
    ``chalice.local.create_local_server`` does, the app's class becomes a LocalChalice so
    that ``app.current_request`` is per thread."""
    import functools

    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = functools.partial(AgoraRequestHandler, gateway=PeerAddressGateway(app, config),
                                routes=RouteMatcher(list(app.routes)), docs_dir=swagger_ui_dir())
    return PooledHTTPServer((host, port), handler, workers=workers)


def load_app(stage: str) -> tuple[Any, Any]:
    """The app and its config as `chalice local --stage <stage>` loads them: the stage's
    environment variables applied, the routes checked as `chalice deploy` would."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    config = CLIFactory(str(ROOT), environ=os.environ).create_config_obj(chalice_stage_name=stage)
    validate_routes(config.chalice_app.routes)
    return config.chalice_app, config


def main(argv: list[str] | None = None) -> int:
    import logging

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")  # as chalice local does
    # a connection pool as deep as the worker pool (read when PynamoDB is first imported)
    os.environ.setdefault("PYNAMODB_CONFIG", str(ROOT / "dev" / "pynamodb_settings.py"))
    app, config = load_app(args.stage)
    server = create_server(app, config, args.host, args.port)
    print(f"Serving on http://{args.host}:{args.port} (backlog {BACKLOG}, {WORKERS} workers)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
