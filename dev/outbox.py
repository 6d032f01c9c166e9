"""Print the emails the local marketplace has sent (`make outbox`)."""

from __future__ import annotations

import argparse
import json
import urllib.request

from dev.stack_state import read

# Printed besides From/To/Subject: what tells a marketing mail from a transactional one.
SHOWN_HEADERS = ("content-language", "list-unsubscribe", "list-unsubscribe-post")


def fetch(outbox_url: str) -> list[dict]:
    with urllib.request.urlopen(outbox_url, timeout=5) as response:
        return json.load(response)["messages"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print raw JSON")
    parser.add_argument("--last", type=int, default=20, help="how many of the newest mails")
    args = parser.parse_args()
    messages = fetch(read()["urls"]["outbox"])[-args.last:]
    if args.json:
        print(json.dumps(messages, indent=2))
        return
    if not messages:
        print("The outbox is empty.")
    for message in messages:
        extra = "".join(f"{name}: {value}\n" for name, value in message.get("headers", {}).items()
                        if name.lower() in SHOWN_HEADERS)
        print(f"--- {message['id']}\nFrom: {message['from']}\nTo: {', '.join(message['to'])}\n"
              f"Subject: {message['subject']}\n{extra}\n{message['body']}\n")


if __name__ == "__main__":
    main()
