"""The device configuration file: read strictly, secrets from the environment only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.fleet.device_config import DeviceConfigError, load_device_config

GOOD: dict[str, Any] = {
    "device_id": "pump-7", "topic_prefix": "plant/fleet",
    "broker": {"host": "broker.example.com", "port": 8883, "ca_file": "ca.pem",
               "username": "pump-7", "password_env": "FLEET_PASSWORD"},
    "trusted_keys": ["trusted-keys"]}


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "device.json"
    path.write_text(json.dumps(document))
    return path


def test_a_configuration_names_topics_tls_and_the_password_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_PASSWORD", "s3cret")
    config = load_device_config(write(tmp_path, GOOD))
    assert config.desired_topic == "plant/fleet/pump-7/desired"
    assert config.reported_topic == "plant/fleet/pump-7/reported"
    assert config.tls  # the default: a management link is TLS unless told otherwise
    assert config.ca_file == tmp_path / "ca.pem"
    assert config.trusted_keys == (tmp_path / "trusted-keys",)
    assert config.password == "s3cret"
    assert (config.health.seconds, config.health.max_errors) == (30, 10)  # the defaults
    chosen = load_device_config(write(tmp_path, {**GOOD, "health": {"seconds": 5}}))
    assert (chosen.health.seconds, chosen.health.max_errors) == (5, 10)


@pytest.mark.parametrize(("change", "sentence"), [
    ({"device_id": "pump/7"}, "device_id: 1 to 64 letters"),
    ({"device_id": "#"}, "device_id: 1 to 64 letters"),
    ({"topic_prefix": "plant/+"}, "topic_prefix: topic levels"),
    ({"topic_prefix": "/plant"}, "topic_prefix: topic levels"),
    ({"broker": {"host": "h", "port": 0}}, "broker/port: a whole number"),
    ({"broker": {"host": "h", "port": 1883, "password": "inline"}},
     "broker: unknown password"),
    ({"broker": {"host": "h", "port": 1883, "tls": "no"}}, "broker/tls: true or false"),
    ({"broker": {"host": "h\x1b", "port": 1883}}, "broker/host: must be printable"),
    ({"trusted_keys": []}, "trusted_keys: a list"),
    ({"extra": 1}, "unknown extra"),
    ({"broker": {"host": "h", "port": 1883, "password_env": "FLEET_UNSET_FOR_TEST"}},
     "FLEET_UNSET_FOR_TEST is not set"),
    ({"health": {"seconds": -1}}, "health/seconds: a number of seconds from 0 to 3600"),
    ({"health": {"seconds": True}}, "health/seconds: a number of seconds"),
    ({"health": {"max_errors": 1.5}}, "health/max_errors: a whole number"),
    ({"health": {"minutes": 1}}, "health: unknown minutes"),
    ({"health": 30}, "health: must be an object"),
])
def test_a_bad_configuration_is_refused_naming_the_field(
        tmp_path: Path, change: dict[str, Any], sentence: str) -> None:
    with pytest.raises(DeviceConfigError) as refused:
        load_device_config(write(tmp_path, {**GOOD, **change}))
    assert sentence in str(refused.value)


@pytest.mark.parametrize("text", ['{"device_id": NaN}', "[" * 1000, "{"])
def test_hostile_json_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "device.json"
    path.write_text(text)
    with pytest.raises(DeviceConfigError, match="not a valid JSON document"):
        load_device_config(path)
