"""The test broker keeps persistent sessions across a restart, whatever else runs.

The fault tests (tests/e2e/test_mqtt_faults.py) measure "messages lost: zero" with a
persistent-session subscriber: a broker that forgets that session between a SIGTERM and
the next start drops what portless delivered before the subscriber returns (MQTT 5
PUBACK 0x10, no matching subscribers), and the test blames portless. The failure this
guards against needs root (mosquitto switching to its own user); as another user the
broker runs as that user anyway.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker


def close_pytest_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """What every pytest session that starts on this machine does to its temporary root
    (/tmp/pytest-of-USER): take away all access but the owner's."""
    root = tmp_path_factory.getbasetemp().parent
    root.chmod(root.stat().st_mode & ~0o077)


async def test_a_session_and_its_queued_message_survive_a_restart_while_pytest_runs_elsewhere(
        mosquitto_factory: Callable[..., Mosquitto],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    broker = mosquitto_factory()
    async with Watcher(broker.port, "kept/topic", client_id="kept-subscriber", clean=False):
        pass  # a persistent QoS 1 subscription, its client away
    async with Watcher(broker.port, "kept/topic", client_id="kept-observer") as observer:
        observer.publish("kept/topic", b"queued while away")
        await observer.wait_for(1, timeout=5)  # routed, so queued for the absent one too
    close_pytest_root(tmp_path_factory)  # another pytest session starts meanwhile
    broker.stop()  # SIGTERM: mosquitto saves its sessions and their queued messages
    broker.start()
    async with Watcher(broker.port, "kept/topic", client_id="kept-subscriber",
                       clean=False) as subscriber:
        assert subscriber.session_present == [True], broker.log
        got = await subscriber.wait_for(1, timeout=5)
    assert [m.payload for m in got] == [b"queued while away"]
