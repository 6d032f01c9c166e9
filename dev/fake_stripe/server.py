"""The fake Stripe server: localstripe's routes plus agora's Connect extension, on 127.0.0.1 only.

``build_app()`` makes a fresh aiohttp application holding our routes first and then every localstripe route we
do not replace. Objects live in localstripe's process-wide store, so two servers in one process share them.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import logging
import os
import pickle
import re
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web
from localstripe import server as localstripe_server
from localstripe.errors import UserError
from localstripe.resources import Store, store

from dev.fake_stripe import connect, payments, webhooks
from dev.fake_stripe.errors import stripe_error
from dev.fake_stripe.idempotency import KEYS, IdempotencyKeys, idempotency_middleware

logger = logging.getLogger("dev.fake_stripe")

STATE_FILE: web.AppKey[str | None] = web.AppKey("fake_stripe_state_file", str)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- middlewares ----------------------------------------------------------------------------------------------

def _resource_name(path: str) -> str | None:
    """``/v1/payment_intents/pi_1`` -> ``payment_intent`` (for Stripe's "No such ..." message)."""
    match = re.match(r"^/v1/([a-z_]+?)s/([^/]+)", path)
    return match.group(1) if match else None


def _stripe_shaped(error: UserError, request: web.Request) -> UserError:
    """localstripe's terse errors in Stripe's wording, so the SDK and logs read as in production."""
    body = error.body["error"]
    message = body.get("message", "")
    if error.code == 404 and message == "Not Found":
        name = _resource_name(request.path)
        object_id = request.match_info.get("id") if request.match_info else None
        if name and object_id:
            body.update(message=f"No such {name}: '{object_id}'", param="id", code="resource_missing")
        else:
            body.update(code="resource_missing")
    elif error.code == 400 and message.startswith("Unexpected "):
        param = message.removeprefix("Unexpected ").split(", ")[0]
        body.update(message=f"Received unknown parameter: {param}", param=param, code="parameter_unknown")
    elif error.code == 402:
        body["type"] = "card_error"
    return error


@web.middleware
async def wording_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Innermost, so that saved idempotent responses carry the same wording."""
    try:
        return await handler(request)
    except UserError as error:
        raise _stripe_shaped(error, request) from None


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error as Stripe's JSON, including unknown routes and crashes (which the SDK would not parse)."""
    try:
        return await handler(request)
    except UserError as error:
        return error.to_response()
    except web.HTTPNotFound:
        return stripe_error(404, f"Unrecognized request URL ({request.method}: {request.path}). The local fake "
                                 "Stripe does not implement it (see dev/fake_stripe/README.md).").to_response()
    except web.HTTPMethodNotAllowed:
        return stripe_error(405, f"Unrecognized request URL ({request.method}: {request.path}).").to_response()
    except web.HTTPException:
        raise
    except Exception as error:
        logger.exception("fake Stripe failed on %s %s", request.method, request.path)
        response = stripe_error(500, f"The local fake Stripe failed: {error!r}", error_type="api_error").to_response()
        response.headers["Stripe-Should-Retry"] = "false"
        return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """localstripe's API-key check, except for the pages a browser opens (onboarding, Express dashboard) and the
    test helpers (``/_test/``) a test or a developer calls with curl."""
    if request.path.startswith(("/_connect/", "/_test/")):
        return await handler(request)
    return await localstripe_server.auth_middleware(request, handler)


@web.middleware
async def stripe_account_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """``Stripe-Account`` must name a connected account; otherwise it is only recorded (objects stay global)."""
    account_id = request.headers.get("Stripe-Account")
    if account_id and request.path.startswith("/v1/"):
        if not isinstance(store.get(f"account:{account_id}"), connect.Account):
            raise stripe_error(403, f"The provided key does not have access to account '{account_id}' (or that "
                                    "account does not exist). Application access may have been revoked.",
                               code="account_invalid")
        logger.info("%s %s as connected account %s", request.method, request.path, account_id)
    return await handler(request)


@web.middleware
async def persistence_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    finally:
        path = request.app[STATE_FILE]
        if path and request.method in ("POST", "DELETE"):
            _dump(path)


# --- state ----------------------------------------------------------------------------------------------------

def _dump(path: str) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as handle:
        pickle.dump(dict(store), handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def _load(path: str) -> None:
    try:
        with open(path, "rb") as handle:
            saved = pickle.load(handle)  # noqa: S301 - our own file, written by _dump
    except FileNotFoundError:
        return
    store.clear()
    store.update(saved)


def _never_write_tmp(_store: Store) -> None:
    """localstripe pickles its whole store to /tmp/localstripe.pickle on every write, shared by every process
    on the machine; state is kept in memory instead, or in ``--state-file`` if asked for."""


async def flush(request: web.Request) -> web.Response:
    """``DELETE /_config/data``: forget every object, saved idempotent response and account link."""
    store.clear()
    request.app[KEYS].clear()
    request.app[connect.LINKS].clear()
    return web.Response()


# --- application ----------------------------------------------------------------------------------------------

def _install() -> None:
    Store.dump_to_disk = _never_write_tmp
    payments.install()
    webhooks.install()


def build_app(*, public_url: str | None = None, state_file: str | None = None) -> web.Application:
    """A fresh application; ``public_url`` overrides the base of onboarding and login links."""
    _install()
    if state_file:
        _load(state_file)
    app = web.Application(middlewares=[error_middleware, auth_middleware, stripe_account_middleware,
                                       idempotency_middleware, persistence_middleware, wording_middleware])
    app[KEYS] = IdempotencyKeys()
    app[connect.LINKS] = {}
    app[connect.PUBLIC_URL] = public_url.rstrip("/") if public_url else None
    app[STATE_FILE] = state_file
    app.on_response_prepare.append(localstripe_server.add_cors_headers)
    ours = [*connect.routes(), *payments.routes(),
            ("POST", "/_config/webhooks/{id}", webhooks.configure_webhook),
            ("DELETE", "/_config/webhooks/{id}", webhooks.delete_webhook),
            ("DELETE", "/_config/data", flush)]
    taken = set()
    for method, path, handler in ours:
        app.router.add_route(method, path, handler)
        taken.add((method, path))
    for route in localstripe_server.app.router.routes():
        path = route.resource.canonical if route.resource is not None else None
        if path is None or (route.method, path) in taken:
            continue
        app.router.add_route(route.method, path, _as_coroutine(route.handler))
        taken.add((route.method, path))
    return app


def _as_coroutine(handler: Any) -> Any:
    """localstripe's GET/DELETE handlers are plain functions, which aiohttp deprecates."""
    if inspect.iscoroutinefunction(handler):
        return handler

    async def call(request: web.Request) -> web.StreamResponse:
        return handler(request)

    return call


def run(host: str = "127.0.0.1", port: int = 8420, *, public_url: str | None = None,
        state_file: str | None = None) -> None:
    """Serve until interrupted (SIGINT/SIGTERM)."""
    if not is_loopback(host):
        raise ValueError(f"the fake Stripe only binds to a loopback address, not {host!r}")
    access_log = logging.getLogger("aiohttp.access")
    web.run_app(build_app(public_url=public_url, state_file=state_file), host=host, port=port,
                access_log=access_log, print=lambda message: logger.info(message))


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve from a daemon thread (port 0 picks a free one); returns the base URL and a function that stops it."""
    if not is_loopback(host):
        raise ValueError(f"the fake Stripe only binds to a loopback address, not {host!r}")
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(), access_log=None)
    started = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, host, port).start())
        except BaseException as error:  # reported to the caller below
            failure.append(error)
            started.set()
            return
        started.set()
        loop.run_forever()
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name=f"fake-stripe-{port}", daemon=True)
    thread.start()
    if not started.wait(10):
        raise TimeoutError("the fake Stripe did not start within 10 s")
    if failure:
        raise failure[0]
    bound_port = runner.addresses[0][1]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    return f"http://{host}:{bound_port}", stop
