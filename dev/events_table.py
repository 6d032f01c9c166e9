"""The README's "Events" table, made from the event registry as app.py wires it.

    python -m dev.events_table          # rewrite the table in README.md
    python -m dev.events_table --check  # exit 1 when README.md's table is out of date

``tests/unit/events/test_registry.py`` fails when the table and the registry disagree, so a
new event or subscriber comes with its line in the README.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- events table: made by `python -m dev.events_table`; do not edit by hand -->"
END = "<!-- end of events table -->"


def _package(module: str) -> str:
    """``chalicelib.orders.subscriptions`` -> ``orders``."""
    return module.split(".")[1] if module.startswith("chalicelib.") else module


def table() -> str:
    """The Markdown table of every event agora's own code declares: type, version, the
    package that publishes it and the packages that subscribe to it."""
    import app  # noqa: F401  (registers every event and subscription, as in Lambda)
    from chalicelib.events import registry

    subscriptions = registry.subscriptions()
    lines = ["| event type | version | producer | consumers |", "| --- | --- | --- | --- |"]
    for event_type, cls in sorted(registry.event_classes().items()):
        if not cls.__module__.startswith("chalicelib."):
            continue  # a test's own event
        consumers = sorted({_package(s.handle.__module__) for s in subscriptions.get(event_type, ())})
        lines.append(f"| `{event_type}` | {cls.event_version} | {_package(cls.__module__)} | "
                     f"{', '.join(consumers) or '—'} |")
    return "\n".join(lines)


def current(readme: str) -> str:
    """The table as README.md has it now."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if README.md is out of date")
    args = parser.parse_args()
    readme, made = README.read_text(), table()
    if current(readme) == made:
        return 0
    if args.check:
        print("README.md's events table is out of date: run python -m dev.events_table", file=sys.stderr)
        return 1
    start, end = readme.index(START) + len(START), readme.index(END)
    README.write_text(f"{readme[:start]}\n{made}\n{readme[end:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
