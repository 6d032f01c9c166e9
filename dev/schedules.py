"""When a scheduled handler runs next, for EventBridge ``rate(...)`` and ``cron(...)``
expressions (strings or Chalice's Rate/Cron objects). Times are UTC, as in AWS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}


def _expression(schedule: Any) -> str:
    return schedule if isinstance(schedule, str) else schedule.to_string()


def _field_matches(spec: str, value: int, names: dict[str, int] | None = None) -> bool:
    if spec in ("*", "?"):
        return True
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if names:
            for name, number in names.items():
                part = part.upper().replace(name, str(number))
        if part in ("*", ""):
            low, high = 0, 10_000
        elif "-" in part:
            low, high = (int(x) for x in part.split("-"))
        else:
            low = high = int(part)
            if step != 1:
                high = 10_000
        if low <= value <= high and (value - low) % step == 0:
            return True
    return False


def _cron_matches(fields: list[str], moment: datetime) -> bool:
    minutes, hours, day_of_month, month, day_of_week, year = fields
    aws_weekday = (moment.isoweekday() % 7) + 1  # AWS: 1 = Sunday
    return (_field_matches(minutes, moment.minute) and _field_matches(hours, moment.hour)
            and _field_matches(day_of_month, moment.day) and _field_matches(month, moment.month, _MONTH_NAMES)
            and _field_matches(day_of_week, aws_weekday, _DAY_NAMES) and _field_matches(year, moment.year))


def next_run(schedule: Any, now: float) -> float:
    """The epoch second of the next run strictly after ``now``."""
    expression = _expression(schedule).strip()
    rate = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", expression)
    if rate:
        period = int(rate.group(1)) * _UNITS[rate.group(2).lower()]
        return now + period
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    if not cron:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"a cron expression has six fields: {expression!r}")
    moment = datetime.fromtimestamp(now, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        if _cron_matches(fields, moment):
            return moment.timestamp()
        moment += timedelta(minutes=1)
    raise ValueError(f"{expression!r} never fires within a year")
