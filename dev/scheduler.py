"""Run scheduled handlers on demand against the local marketplace.

    python -m dev.scheduler --list
    python -m dev.scheduler --once NAME      (make sweep JOB=NAME)

The worker already runs every schedule on its rate while `make run` is up; this is for
"now, please". It reads the running stack's environment from .local/stack.json.
"""

from __future__ import annotations

import argparse
import sys

from dev import lambda_events
from dev.stack_state import apply_environment


def scheduled_sources(app_module: object) -> dict[str, object]:
    from chalice.app import ScheduledEventConfig

    return {s.name: s for s in app_module.app.event_sources if isinstance(s, ScheduledEventConfig)}


def run_once(app_module: object, name: str) -> object:
    source = scheduled_sources(app_module)[name]
    handler = getattr(app_module, source.handler_string.split(".", 1)[1])
    return handler(lambda_events.scheduled_event(name), lambda_events.context(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--once", metavar="NAME", help="run this scheduled handler now")
    parser.add_argument("--list", action="store_true", help="list scheduled handlers and their schedules")
    args = parser.parse_args(argv)
    apply_environment()
    import app

    sources = scheduled_sources(app)
    if args.list or not args.once:
        for name, source in sorted(sources.items()):
            expression = source.schedule_expression
            print(f"{name:30} {expression if isinstance(expression, str) else expression.to_string()}")
        return 0
    if args.once not in sources:
        print(f"no scheduled handler named {args.once!r}; known: {', '.join(sorted(sources))}", file=sys.stderr)
        return 2
    print(run_once(app, args.once))
    return 0


if __name__ == "__main__":
    sys.exit(main())
