"""Cron schedules (runtime/schedule.py): the next time in a zone, across daylight
saving changes, and bad expressions or zones refused at load."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from portless.runtime import CronSchedule, FlowInvalid, Node, time_zone
from portless.testing import run_node

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("expression", "zone", "after", "expected"), [
    # weekdays at noon, asked on a Saturday: Monday
    ("0 12 * * 1-5", "Europe/Berlin", datetime(2026, 12, 5, 10, tzinfo=BERLIN),
     datetime(2026, 12, 7, 12, tzinfo=BERLIN)),
    ("0 12 * * MON-FRI", "Europe/Berlin", datetime(2026, 12, 7, 12, tzinfo=BERLIN),
     datetime(2026, 12, 8, 12, tzinfo=BERLIN)),
    # six fields: seconds first, as Node-RED writes them
    ("*/15 * * * * *", "UTC", datetime(2026, 12, 1, 8, 0, 7, 500_000, tzinfo=UTC),
     datetime(2026, 12, 1, 8, 0, 15, tzinfo=UTC)),
    # the zone decides: 07:00 in New York is 12:00 UTC in winter
    ("0 7 * * *", "America/New_York", datetime(2026, 12, 1, 0, tzinfo=UTC),
     datetime(2026, 12, 1, 12, tzinfo=UTC)),
    # 02:30 does not exist on the spring-forward night: it fires when the clock resumes
    ("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=BERLIN),
     datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)),
    # 02:30 happens twice on the fall-back night: it fires at the first
    ("30 2 * * *", "Europe/Berlin", datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN),
     datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("30 2 * * *", "Europe/Berlin", datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
     datetime(2026, 10, 26, 2, 30, tzinfo=BERLIN)),
])
def test_the_next_time_follows_the_zone(expression: str, zone: str, after: datetime,
                                        expected: datetime) -> None:
    # as instants: Python never calls a time in an autumn's repeated hour equal to one
    # of another zone (PEP 495)
    assert CronSchedule(expression, zone).next_after(after).timestamp() == \
        expected.timestamp()


def test_the_device_zone_comes_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    time_zone.cache_clear()
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    try:
        assert time_zone("") == ZoneInfo("Asia/Tokyo")
    finally:
        time_zone.cache_clear()


class Timed(Node):
    type = "test-timed"
    schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {
        "cron": {"type": "string", "x-cron": True},
        "zone": {"type": "string", "x-time-zone": True}}}


@pytest.mark.parametrize(("config", "problem"), [
    ({"cron": "61 * * * *"}, "/config/cron: must be a cron expression: Bad minute"),
    ({"cron": "* * *"}, "/config/cron: must be a cron expression: Wrong number of fields"),
    ({"zone": "Europe/Berlni"}, "/config/zone: must be a time zone: unknown time zone "
                                "'Europe/Berlni'"),
])
def test_a_bad_schedule_is_refused_at_load(config: dict[str, str], problem: str) -> None:
    with pytest.raises(FlowInvalid, match=problem):
        run_node(Timed, config)


def test_a_good_schedule_loads() -> None:
    run_node(Timed, {"cron": "0 7 * * SAT,SUN", "zone": ""})
