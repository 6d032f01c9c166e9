"""Fake AWS for the local marketplace: moto's server over real HTTP on 127.0.0.1,
with the resources created from infra/template.yaml, plus a read-only mail outbox.

    python -m dev.fake_aws --port 4566 --outbox-port 8025 --stage local
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT_ID = "123456789012"


def sent_mails(region: str, account_id: str = ACCOUNT_ID) -> list[dict[str, Any]]:
    """Every mail moto's SES accepted, oldest first: sender, recipients, subject, the text
    and HTML bodies, and the headers (``List-Unsubscribe``, ``Content-Language``, …)."""
    from moto.ses.models import ses_backends

    return [_readable(message) for message in ses_backends[account_id][region].sent_messages]


def _readable(message: Any) -> dict[str, Any]:
    raw = getattr(message, "raw_data", None)
    if raw is None:  # SendEmail: moto keeps the subject and one body, no headers
        return {"id": message.id, "from": message.source,
                "to": [a for addresses in message.destinations.values() for a in addresses],
                "subject": getattr(message, "subject", None), "body": getattr(message, "body", None),
                "html": None, "headers": {}}
    import email
    from email.policy import default

    parsed = email.message_from_string(raw.replace("\r\n", "\n"), policy=default)  # SMTP's CRLF, shown as lines
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    return {
        "id": message.id,
        "from": message.source,
        "to": list(message.destinations),
        "subject": str(parsed["Subject"]).strip(),  # a folded long subject reads back with a leading space
        "body": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "headers": {name: str(value) for name, value in parsed.items()
                    if name.lower() not in ("content-type", "content-transfer-encoding", "mime-version")},
    }


def _outbox_handler(region: str) -> type[BaseHTTPRequestHandler]:
    class Outbox(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0].rstrip("/") not in ("", "/outbox"):
                self.send_error(404)
                return
            body = json.dumps({"messages": sent_mails(region)}, indent=2).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Outbox


def verify_template_identities(ses: Any, template: dict[str, Any], parameters: dict[str, str]) -> list[str]:
    """moto's CloudFormation skips SES resources; verify the template's sender identities
    directly so local SES accepts mail from the same sender as production."""
    identities = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::SES::EmailIdentity":
            continue
        identity = resource["Properties"]["EmailIdentity"]
        if isinstance(identity, dict) and "Ref" in identity:
            identity = parameters.get(identity["Ref"]) or template["Parameters"][identity["Ref"]].get("Default")
        ses.verify_email_identity(EmailAddress=identity)
        identities.append(identity)
    return identities


def start(port: int, outbox_port: int, stage: str, region: str, sender_email: str) -> dict[str, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the worker polls; no line per request
    from moto.dynamodb.models import DynamoDBBackend

    from dev import moto_transactions

    # moto deep-copies the whole table per transaction item; this keeps DynamoDB's semantics
    # without that, so the local stack stays fast as its table grows.
    DynamoDBBackend.transact_write_items = moto_transactions.transact_write_items

    from infra import stack

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=region)
    outputs = stack.create_stack(session.client("cloudformation", endpoint_url=endpoint), stage,
                                 parameters={"SenderEmail": sender_email})
    verify_template_identities(session.client("ses", endpoint_url=endpoint), stack.load_template(),
                               {"SenderEmail": sender_email, "Stage": stage})
    outbox = ThreadingHTTPServer(("127.0.0.1", outbox_port), _outbox_handler(region))
    threading.Thread(target=outbox.serve_forever, daemon=True).start()
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--outbox-port", type=int, default=8025)
    parser.add_argument("--stage", default="local")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"))
    parser.add_argument("--sender-email", default=os.environ.get("AGORA_SENDER_EMAIL", "hello@agora.example"))
    parser.add_argument("--outputs-file", help="write the stack outputs here as JSON once ready")
    args = parser.parse_args()
    outputs = start(args.port, args.outbox_port, args.stage, args.region, args.sender_email)
    if args.outputs_file:
        tmp = args.outputs_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(outputs, handle)
        os.replace(tmp, args.outputs_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


if __name__ == "__main__":
    main()
