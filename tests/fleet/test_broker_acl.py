"""The management broker as shipped: TLS, a password per device and the ACL of
docs/fleet-acl.conf (username = device id). A device reaches only its own topics, and
each test checks that the broker itself refused: the SUBACK-granted subscription that
delivers nothing, the PUBACK reason code 0x87, mosquitto's own log line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portless.fleet.engineer import BrokerError, Engineer
from portless.fleet.engineer_config import EngineerConfig
from tests.fleet.simulated import PREFIX, SimulatedDevice, engineer_config, fleet, running
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker
ACL = Path(__file__).parents[2] / "docs" / "fleet-acl.conf"
PASSWORDS = {"engineer": "engineer-secret", "pump-1": "pump-1-secret",
             "pump-2": "pump-2-secret"}


@pytest.fixture
def secured(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    return mosquitto_factory("secured", users=PASSWORDS, acl=ACL.read_text(), tls=True,
                             extra_config=["log_type debug"])


def tls(broker: Mosquitto, user: str) -> dict[str, object]:
    assert broker.tls_files is not None
    return {"tls": True, "ca_file": broker.tls_files.ca_file, "username": user,
            "password": PASSWORDS[user]}


async def test_a_device_reaches_only_its_own_topics_and_the_broker_says_so(
        tmp_path: Path, secured: Mosquitto, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert await fleet("keygen", "-o", str(tmp_path / "signing")) == 0
    devices = [SimulatedDevice(tmp_path / "devices", name, tmp_path / "signing.pub",
                               secured.tls_port, **tls(secured, name))
               for name in ("pump-1", "pump-2")]
    monkeypatch.setenv("FLEET_TEST_PASSWORD", PASSWORDS["engineer"])
    monkeypatch.setenv("FLEET_TEST_PUMP_2_PASSWORD", PASSWORDS["pump-2"])
    assert secured.tls_files is not None
    ca_file = str(secured.tls_files.ca_file)
    engineer = engineer_config(tmp_path / "fleet.json", secured.tls_port, tls=True,
                               ca_file=ca_file, username="engineer",
                               password_env="FLEET_TEST_PASSWORD")
    intruder = engineer_config(tmp_path / "intruder.json", secured.tls_port, tls=True,
                               ca_file=ca_file, username="pump-2",
                               password_env="FLEET_TEST_PUMP_2_PASSWORD")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "valves.json").write_text(devices[0].flow_file.read_text())
    both = ["--device", "pump-1", "--device", "pump-2"]
    async with running(devices):
        assert await fleet("publish", "--config", str(engineer), *both, "--key",
                           str(tmp_path / "signing"), "--version", "2",
                           str(tmp_path / "flows" / "valves.json")) == 0
        assert await fleet("watch", "--config", str(engineer), *both, "--version", "2",
                           "--timeout", "20") == 0
        capsys.readouterr()

        # Reading another's desired state: mosquitto grants the SUBSCRIBE and delivers
        # nothing; the device's own, subscribed after on the same connection, arrives
        # (in order: had the other been delivered, it would have come first).
        ssl_context = devices[1].config.ssl_context()
        async with Watcher(secured.tls_port, f"{PREFIX}/pump-1/desired",
                           f"{PREFIX}/pump-2/desired", client_id="pump-2-reader",
                           username="pump-2", password=PASSWORDS["pump-2"],
                           ssl_context=ssl_context) as reader:
            own = await reader.wait_for(1, f"{PREFIX}/pump-2/desired")
            foreign = reader.on(f"{PREFIX}/pump-1/desired")

        # Publishing another's reported or desired state: PUBACK 0x87, and mosquitto
        # logs it (and closes the connection, so one connection a try).
        forged = EngineerConfig(host="127.0.0.1", port=secured.tls_port,
                                topic_prefix=PREFIX, **tls(secured, "pump-2"))
        refused = []
        for topic in (f"{PREFIX}/pump-1/reported", f"{PREFIX}/pump-1/desired"):
            with pytest.raises(BrokerError) as refusal:
                async with Engineer(forged) as link:
                    await link.publish(topic, b'{"state": "healthy"}')
            refused.append(str(refusal.value))

        # Publishing another's desired state, through the command: exit 1, said.
        assert await fleet("publish", "--config", str(intruder), "--device", "pump-1",
                           "--key", str(tmp_path / "signing"), "--version", "3",
                           str(tmp_path / "flows" / "valves.json")) == 1
        denied_publish = capsys.readouterr().out
        assert await fleet("status", "--config", str(engineer)) == 0
        status = capsys.readouterr().out
        nodes = [device.nodes for device in devices]
    assert len(own) == 1
    assert own[0].retain
    assert foreign == []
    assert refused == [f"the broker refused the publish to {PREFIX}/pump-1/{topic}: not "
                       f"authorised (reason code 0x87)" for topic in ("reported", "desired")]
    denied = [line for line in secured.log.splitlines() if "Denied PUBLISH from" in line]
    assert [line.split("'")[1] for line in denied[:2]] == [f"{PREFIX}/pump-1/reported",
                                                          f"{PREFIX}/pump-1/desired"]
    assert "pump-1: not published: " in denied_publish
    assert "not authorised (reason code 0x87); the engineer's user needs readwrite on " \
           "plant/fleet/#" in denied_publish
    assert [row.split()[:4] for row in status.splitlines()[1:]] == [
        ["pump-1", "2", "-", "healthy"], ["pump-2", "2", "-", "healthy"]]
    assert nodes == [["a"], ["a"]]


async def test_a_wrong_password_or_an_unverified_certificate_is_exit_2(
        tmp_path: Path, secured: Mosquitto, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert secured.tls_files is not None
    monkeypatch.setenv("FLEET_TEST_PASSWORD", "wrong")
    wrong = engineer_config(tmp_path / "wrong.json", secured.tls_port, tls=True,
                            ca_file=str(secured.tls_files.ca_file), username="engineer",
                            password_env="FLEET_TEST_PASSWORD")
    assert await fleet("status", "--config", str(wrong)) == 2
    assert "not authorised" in capsys.readouterr().err
    unverified = engineer_config(tmp_path / "system-cas.json", secured.tls_port, tls=True,
                                 username="engineer", password_env="FLEET_TEST_PASSWORD")
    assert await fleet("status", "--config", str(unverified)) == 2
    assert "certificate verify failed" in capsys.readouterr().err
