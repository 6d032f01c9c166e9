"""``python -m dev.fake_stripe --host 127.0.0.1 --port 8420``: serve the fake Stripe until Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import logging

from localstripe import webhooks as localstripe_webhooks

from dev.fake_stripe.server import is_loopback, run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dev.fake_stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--public-url", help="base of onboarding/login link URLs (default: as the client called)")
    parser.add_argument("--state-file", help="keep objects across restarts in this file (default: memory only)")
    parser.add_argument("--webhook-url", help="deliver every event here (same as POST /_config/webhooks/default)")
    parser.add_argument("--webhook-secret", help="signing secret for --webhook-url (whsec_...)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(f"--host must be a loopback address such as 127.0.0.1, not {args.host}")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="fake-stripe %(message)s")
    logging.getLogger("dev.fake_stripe").setLevel(logging.INFO)
    if args.webhook_url:
        if not args.webhook_secret:
            parser.error("--webhook-url needs --webhook-secret")
        localstripe_webhooks.register_webhook("default", args.webhook_url, args.webhook_secret, None)
    run(args.host, args.port, public_url=args.public_url, state_file=args.state_file)


if __name__ == "__main__":
    main()
