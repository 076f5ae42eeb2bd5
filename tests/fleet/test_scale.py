"""Scale: 200 simulated devices (real DeviceAgents, each its own MQTT session) in this
process take one rollout; ``portless fleet status`` then shows all 200 healthy. The
timed figure is bench/fleet.py's (``python -m bench --only fleet``), measured the same
way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.fleet import DEVICES, measure
from tests.fleet.simulated import fleet
from tests.mosquitto import Mosquitto

pytestmark = [pytest.mark.slow, pytest.mark.broker]  # 200 devices: a few seconds


async def test_200_devices_take_one_rollout_and_status_shows_them_all(
        tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]) -> None:
    result = await asyncio.wait_for(measure(DEVICES, tmp_path, mosquitto), 25)
    assert result.healthy == DEVICES
    capsys.readouterr()
    assert await fleet("status", "--config", str(tmp_path / "fleet.json")) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == DEVICES
    assert {tuple(row.split()[1:4:2]) for row in rows} == {("2", "healthy")}
    print(f"rollout to {DEVICES} devices: {result.median:.2f} s "
          f"(first, connecting: {result.first_seconds:.2f} s)")
