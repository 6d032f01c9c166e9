"""The whole marketplace on this machine, no cloud account: `make run`.

Starts, on 127.0.0.1 only: moto's server (DynamoDB + Streams, SQS, SES, SSM, created
from infra/template.yaml), localstripe with agora's Connect extension, a real OpenID Connect
provider for social sign-in (oidc-provider-mock, configured as provider ``local``), the API (Chalice's
local gateway behind a server sized for bursts, dev/local_api.py), a stand-in for the
frontend that mailed links point at (dev/local_frontend.py), and the worker that feeds
queues, the table stream and schedules to the app's handlers. Loads the demo marketplace
(dev/demo.py) unless --no-demo. The services' own output (request and JSON logs) goes to
files in .local/logs/ (--verbose: to this terminal); the terminal gets a few status lines
and, once ready, a summary of URLs and demo credentials. Runs until Ctrl-C, then stops
every process it started.

    make run                  make run ARGS=--no-demo            make run ARGS=--verbose
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dev import stack_state

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"

LOCAL_SECRETS = {
    "AGORA_SECRET_STRIPE_SECRET_KEY": "sk_test_agora_local",
    "AGORA_SECRET_STRIPE_WEBHOOK_SECRET": "whsec_agora_local_platform",
    "AGORA_SECRET_STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_agora_local_connect",
    "AGORA_SECRET_TOKEN_SIGNING_KEY": "agora-local-signing-key-not-for-production-0123456789",
    "AGORA_SECRET_HASH_PEPPER": "1=agora-local-hash-pepper-not-for-production-0123456789",
    "AGORA_SECRET_OIDC_LOCAL_CLIENT_SECRET": "agora-local-oidc-client-secret",
}
OIDC_CLIENT_ID = "agora-local"
# Who the local provider offers on its sign-in form (anyone else can be typed in): the demo buyer,
# with the email the provider vouches for, so their sign-in joins the demo account.
OIDC_DEMO_USER = {"sub": "demo-buyer", "email": "buyer@agora.example", "email_verified": True, "name": "Ben Buyer"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check: Any, what: str, timeout: float, processes: list[subprocess.Popen]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(process.args[:3])} exited with {process.returncode} "
                                   f"while waiting for {what}")
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise TimeoutError(f"{what} was not ready within {timeout:.0f}s")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except OSError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalMarketplace:
    def __init__(self, ports: dict[str, int], state_path: Path, log_dir: Path, verbose: bool = False,
                 load_demo: bool = True, say: Any = None) -> None:
        self.load_demo = load_demo
        self.ports = ports
        self.state_path = state_path
        self.log_dir = log_dir
        self.verbose = verbose
        self.say = say or (lambda _line: None)
        self.processes: list[subprocess.Popen] = []

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start a service; its output goes to <log_dir>/<name>.log (appended), or to this
        terminal with --verbose."""
        output: Any = None
        if not self.verbose:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT if output else None)
        self.processes.append(process)
        return process

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGORA_", "AWS_"))}
        env.update({
            "PYTHONUNBUFFERED": "1",
            "AGORA_STAGE": "local",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.ports['aws']}",
            "AGORA_STRIPE_API_BASE": f"http://127.0.0.1:{self.ports['stripe']}",
            "AGORA_API_URL": f"http://127.0.0.1:{self.ports['api']}",
            "AGORA_FRONTEND_URL": f"http://127.0.0.1:{self.ports['frontend']}",
            "AGORA_OIDC_PROVIDERS": json.dumps({"local": {"issuer": f"http://127.0.0.1:{self.ports['oidc']}",
                                                          "client_id": OIDC_CLIENT_ID,
                                                          "scopes": "openid email profile"}}),
            "AGORA_LOCAL_STATE": str(self.state_path),
            **LOCAL_SECRETS,
        })
        return env

    def start(self) -> dict[str, Any]:
        started = time.monotonic()
        env = self.base_env()
        outputs_file = self.state_path.parent / f"outputs-{self.ports['aws']}.json"
        outputs_file.parent.mkdir(parents=True, exist_ok=True)
        outputs_file.unlink(missing_ok=True)
        python = sys.executable
        self.say(f"Starting fake AWS (moto) and fake Stripe; service logs go to {self.log_dir}/ ...")
        aws = self._spawn("aws", [python, "-m", "dev.fake_aws", "--port", str(self.ports["aws"]),
                                  "--outbox-port", str(self.ports["outbox"]), "--outputs-file", str(outputs_file)], env)
        stripe = self._spawn("stripe", [python, "-m", "dev.fake_stripe", "--host", "127.0.0.1",
                                        "--port", str(self.ports["stripe"])], env)
        oidc = self._spawn("oidc", [python, "-m", "oidc_provider_mock", "--host", "127.0.0.1",
                                    "--port", str(self.ports["oidc"]), "--user-claims", json.dumps(OIDC_DEMO_USER)],
                           env)
        _wait_for(outputs_file.exists, "fake AWS", 60, [aws])
        outputs = json.loads(outputs_file.read_text())
        env.update({
            "AGORA_TABLE_NAME": outputs["TableName"],
            "AGORA_TABLE_STREAM_ARN": outputs["TableStreamArn"],
            "AGORA_RETENTION_QUEUE": outputs["RetentionQueueName"],
            "AGORA_EVENTS_QUEUE": outputs["EventsQueueName"],
            "AGORA_IMPORTS_QUEUE": outputs["CustomerImportsQueueName"],
            "AGORA_IMPORTS_BUCKET": outputs["ImportsBucketName"],
            "AGORA_SENDER_EMAIL": outputs["SenderEmail"],
        })
        self.say("Starting the API, the worker and the frontend stand-in ...")
        api = self._spawn("api", [python, "-m", "dev.local_api", "--host", "127.0.0.1",
                                  "--port", str(self.ports["api"]), "--stage", "local"], env)
        worker = self._spawn("worker", [python, "-m", "dev.worker"], env)
        frontend = self._spawn("frontend", [python, "-m", "dev.local_frontend", "--port", str(self.ports["frontend"]),
                                            "--api-url", f"http://127.0.0.1:{self.ports['api']}"], env)
        urls = {
            "api": f"http://127.0.0.1:{self.ports['api']}",
            "docs": f"http://127.0.0.1:{self.ports['api']}/docs",
            "openapi": f"http://127.0.0.1:{self.ports['api']}/openapi.json",
            "outbox": f"http://127.0.0.1:{self.ports['outbox']}/outbox",
            "stripe": f"http://127.0.0.1:{self.ports['stripe']}",
            "aws": f"http://127.0.0.1:{self.ports['aws']}",
            "frontend": f"http://127.0.0.1:{self.ports['frontend']}",
            "oidc": f"http://127.0.0.1:{self.ports['oidc']}",
        }
        _wait_for(lambda: _http_ok(urls["api"] + "/v1/health"), "the API", 60, [api, worker, aws, stripe, frontend])
        _wait_for(lambda: _port_open(self.ports["stripe"]), "fake Stripe", 30, [stripe])
        _wait_for(lambda: _port_open(self.ports["frontend"]), "the frontend stand-in", 30, [frontend])
        _wait_for(lambda: _http_ok(urls["oidc"] + "/.well-known/openid-configuration"), "the OpenID provider", 30,
                  [oidc])
        register_stripe_webhooks(urls["stripe"], urls["api"])
        state = {"urls": urls, "env": env_for_clients(env), "outputs": outputs, "pid": os.getpid(),
                 "logs": str(self.log_dir),
                 "ready_seconds": round(time.monotonic() - started, 1), "demo": None, "ready": False}
        stack_state.write(state, self.state_path)
        if self.load_demo:
            self.say("Loading the demo marketplace (sellers, catalog, buyer, operator, fees) ...")
            loaded = subprocess.run([python, "-m", "dev.demo", "--state-file", str(self.state_path)], cwd=ROOT,
                                    env=env, capture_output=True, text=True, timeout=300)
            state["demo"] = (loaded.stdout if loaded.returncode == 0 else f"(demo data not loaded)\n{loaded.stderr}")
            state["demo_loaded"] = loaded.returncode == 0
            state["ready_seconds"] = round(time.monotonic() - started, 1)
        state["ready"] = True
        stack_state.write(state, self.state_path)
        return state

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.state_path.unlink(missing_ok=True)


# Stripe signs platform events and Connect (connected-account) events with different
# secrets and sends them to different endpoints, as in production.
WEBHOOK_ENDPOINTS = {
    "platform": ("/v1/webhooks/stripe", "AGORA_SECRET_STRIPE_WEBHOOK_SECRET", "false"),
    "connect": ("/v1/webhooks/stripe/connect", "AGORA_SECRET_STRIPE_CONNECT_WEBHOOK_SECRET", "true"),
}


def register_stripe_webhooks(stripe_url: str, api_url: str) -> None:
    from urllib.parse import urlencode

    for name, (path, secret_env, connect_only) in WEBHOOK_ENDPOINTS.items():
        form = urlencode({"url": api_url + path, "secret": LOCAL_SECRETS[secret_env], "connect": connect_only})
        request = urllib.request.Request(f"{stripe_url}/_config/webhooks/{name}", data=form.encode(),
                                         method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=5):
            pass


def env_for_clients(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(("AGORA_", "AWS_"))}


def banner(state: dict[str, Any]) -> str:
    """The summary `make run` ends with: where everything is, and every demo credential."""
    urls = state["urls"]
    demo = state.get("demo")
    if demo is None:
        demo_lines = ["No demo data (--no-demo). Sellers apply at POST /v1/sellers, buyers register at "
                      "POST /v1/auth/register."]
    elif state.get("demo_loaded"):
        demo_lines = [demo.rstrip()]
    else:
        demo_lines = ["LOADING THE DEMO DATA FAILED (the stack runs, but the demo accounts may be missing):",
                      demo.rstrip()]
    return "\n".join([
        "",
        f"agora is running locally (ready in {state['ready_seconds']}s). Ctrl-C stops everything.",
        "",
        f"  API            {urls['api']}",
        f"  API docs       {urls['docs']}",
        f"  OpenAPI        {urls['openapi']}",
        f"  Sent emails    {urls['outbox']}   (or: make outbox)",
        f"  Mailed links   {urls['frontend']}   (a stand-in frontend: open a mail's link to sign in)",
        f"  Stripe (fake)  {urls['stripe']}   (test card: pm_card_visa)",
        f"  AWS (moto)     {urls['aws']}",
        *([f"  OpenID (local) {urls['oidc']}   (social sign-in as provider \"local\": open "
           f"{urls['api']}/v1/auth/oidc/local/start?return_to={urls['frontend']}/sign-in/social)"]
          if "oidc" in urls else []),
        f"  Logs           {state['logs']}/   (api.log, worker.log, aws.log, stripe.log, frontend.log, oidc.log)",
        "",
        "  Scheduled jobs: make sweep JOB=<name>   (python -m dev.scheduler --list)",
        "  A walk through sign-in, cart, checkout, payment and shipping: README, \"Local walkthrough\".",
        "",
        *demo_lines,
        "",
    ])


@contextmanager
def in_background(state_file: Path, *args: str, timeout: float = 120, stop_timeout: float = 20,
                  stdout: Any = None) -> Iterator[dict[str, Any]]:
    """The local marketplace in a child process (``python -m dev.run --free-ports``
    plus ``args``), for the e2e tests and benchmarks: yields its state once it is ready and
    stops it (Ctrl-C, as a person would) afterwards. Raises RuntimeError, with the tail
    of its logs, when it exits early or is not ready within ``timeout`` seconds."""
    process = subprocess.Popen([sys.executable, "-m", "dev.run", "--free-ports",
                                "--state-file", str(state_file), *args],
                               cwd=ROOT, stdout=stdout, stderr=subprocess.STDOUT if stdout else None, text=True)
    try:
        deadline = time.monotonic() + timeout
        while not (state_file.exists() and json.loads(state_file.read_text()).get("ready")):
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                logs = "\n".join(p.read_text()[-3000:] for p in (state_file.parent / "logs").glob("*.log"))
                raise RuntimeError(f"the local marketplace exited early:\n{output}\n{logs}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local marketplace did not become ready within {timeout:.0f} s")
            time.sleep(0.2)
        yield json.loads(state_file.read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--aws-port", type=int, default=4566)
    parser.add_argument("--stripe-port", type=int, default=8420)
    parser.add_argument("--outbox-port", type=int, default=8025)
    parser.add_argument("--frontend-port", type=int, default=3000, help="the stand-in that mailed links open")
    parser.add_argument("--oidc-port", type=int, default=9400, help="the local OpenID provider (social sign-in)")
    parser.add_argument("--free-ports", action="store_true", help="pick free ports (tests use this)")
    parser.add_argument("--state-file", type=Path, default=stack_state.state_file())
    parser.add_argument("--verbose", action="store_true",
                        help="show the services' request and JSON logs here instead of in .local/logs/")
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for scripts
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo sellers and catalog")
    args = parser.parse_args(argv)
    names = ("api", "aws", "stripe", "outbox", "frontend", "oidc")
    if args.free_ports:
        ports = {name: free_port() for name in names}
    else:
        ports = {name: getattr(args, f"{name}_port") for name in names}
        busy = [f"{name} ({port})" for name, port in ports.items() if _port_open(port)]
        if busy:
            print(f"Ports already in use: {', '.join(busy)}. Is `make run` already running?", file=sys.stderr)
            return 1
    marketplace = LocalMarketplace(ports, args.state_file, args.state_file.parent / "logs", verbose=args.verbose,
                                   load_demo=not args.no_demo, say=lambda line: print(line, flush=True))
    stopping = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        state = marketplace.start()
        print(banner(state), flush=True)
        while True:
            for process in marketplace.processes:
                if process.poll() is not None:
                    print(f"{' '.join(map(str, process.args[:3]))} stopped unexpectedly "
                          f"(exit {process.returncode})", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping the local marketplace...", flush=True)
        return 0
    finally:
        marketplace.stop()


if __name__ == "__main__":
    sys.exit(main())
