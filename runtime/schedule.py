"""Cron schedules in a time zone, for nodes that act at times of day (the inject node).

A string field marked ``"x-cron": true`` holds a cron expression, checked at load: five
fields (minute hour day-of-month month day-of-week) or six with seconds first, as
Node-RED's inject writes them, with names (``MON-FRI``), ``L`` and ``#``. One marked
``"x-time-zone": true`` holds an IANA zone name (``Europe/Berlin``) or ``""`` for the
device's own zone. ``CronSchedule(expression, zone).next_after(moment)`` is the next
time it fires; a node sets a timer to it and asks again when the timer fires, so daylight
saving changes, a suspended device and a stepped clock cannot make it drift. The parser
is cronsim (a small, typed, dependency-free library), not one written here.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CRON_KEYWORD = "x-cron"
"""Schema keyword (``"x-cron": true``) on a string field holding a cron expression."""
TIME_ZONE_KEYWORD = "x-time-zone"
"""Schema keyword (``"x-time-zone": true``) on a string field holding a time zone name."""
LOCAL_TIME = "/etc/localtime"


class CronSchedule:
    """A cron expression in a time zone (``""``: the device's): when does it fire next?"""

    def __init__(self, expression: str, zone: str = "") -> None:
        why = cron_error(expression)
        if why is not None:
            raise ValueError(f"not a cron expression: {expression!r}: {why}")
        self.expression = expression
        self.zone = time_zone(zone)

    def next_after(self, moment: datetime) -> datetime:
        """The first time after ``moment`` (an aware datetime) the schedule fires, in its
        zone: a time skipped by a spring-forward fires when the clock resumes, a time
        that happens twice in autumn fires once."""
        from cronsim import CronSim

        return next(CronSim(self.expression, moment.astimezone(self.zone)))

    def __repr__(self) -> str:
        return f"<CronSchedule {self.expression!r} in {self.zone}>"


def cron_error(expression: str) -> str | None:
    """Why ``expression`` is no cron expression (None when it is one)."""
    # imported on first use: only flows with a schedule need cronsim loaded
    from cronsim import CronSim, CronSimError

    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        return f"{exc}; expected 5 fields (minute hour day month weekday), or 6 with " \
               f"seconds first, such as '0 7 * * MON-FRI'"
    return None


def time_zone_error(name: str) -> str | None:
    """Why ``name`` is no time zone this device knows (None when it is one, or "")."""
    try:
        time_zone(name)
    except ValueError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=64)
def time_zone(name: str) -> tzinfo:
    """The zone of an IANA name; for ``""`` the device's own (TZ, else /etc/localtime,
    else UTC), read once. Raises ValueError for a name the zone database lacks."""
    if not name:
        return _local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; expected a name such as "
                         f"Europe/Berlin or UTC") from None


def _local_zone() -> tzinfo:
    named = os.environ.get("TZ", "").lstrip(":")
    if named:
        try:
            return ZoneInfo(named)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a POSIX TZ rule or a bad name: fall back to the system's zone
    try:
        with open(LOCAL_TIME, "rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError):
        return UTC
