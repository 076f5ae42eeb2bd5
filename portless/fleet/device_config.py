"""The device configuration file: how a device reaches its management broker, who it
is, and whose bundles it trusts. Not a flow file: it outlives every deploy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .broker_config import (
    DEVICE_ID,
    BrokerConfig,
    ConfigError,
    broker_fields,
    check_prefix,
    exact_keys,
    load_broker,
    read_document,
)

DeviceConfigError = ConfigError
"""A device configuration that cannot be used; the sentence names the field."""
_KEYS = {"device_id", "topic_prefix", "broker", "trusted_keys", "remote_editor", "health"}
_HEALTH_KEYS = {"seconds", "max_errors"}


@dataclass(frozen=True)
class HealthGate:
    """How a deploy proves itself: for ``seconds`` every node runs, every connection
    connects, and the flows' nodes report at most ``max_errors`` errors."""

    seconds: float = 30.0
    max_errors: int = 10

    def __post_init__(self) -> None:
        if type(self.seconds) not in (int, float) or not 0 <= self.seconds <= 3600:
            raise ConfigError("health/seconds: a number of seconds from 0 to 3600")
        if type(self.max_errors) is not int or self.max_errors < 0:
            raise ConfigError("health/max_errors: a whole number, 0 or more")


@dataclass(frozen=True, kw_only=True)
class DeviceConfig(BrokerConfig):
    device_id: str
    topic_prefix: str
    trusted_keys: tuple[Path, ...]
    health: HealthGate = HealthGate()
    remote_editor: bool = True
    """Answer the remote editor's signed requests (remote_device.py)."""

    @property
    def desired_topic(self) -> str:
        return f"{self.topic_prefix}/{self.device_id}/desired"

    @property
    def reported_topic(self) -> str:
        return f"{self.topic_prefix}/{self.device_id}/reported"


def load_device_config(path: str | Path) -> DeviceConfig:
    """Read and check a device configuration; relative paths are from its directory."""
    path = Path(path)
    document = _document(path)
    device_id = document["device_id"]
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        raise ConfigError(f"{path}: device_id: 1 to 64 letters, digits, '_' or '-'")
    prefix = check_prefix(document["topic_prefix"], path)
    keys = _trusted_files(document, path)
    remote = document.get("remote_editor", True)
    if not isinstance(remote, bool):
        raise ConfigError(f"{path}: remote_editor: true or false")
    health = exact_keys(document.get("health", {}), _HEALTH_KEYS, f"{path}: health",
                        optional=_HEALTH_KEYS)
    try:
        gate = HealthGate(**health)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    broker = load_broker(document["broker"], path)  # last: it reads the environment
    return DeviceConfig(**broker_fields(broker), device_id=device_id, topic_prefix=prefix,
                        trusted_keys=keys, remote_editor=remote, health=gate)


def trusted_key_files(path: str | Path) -> tuple[Path, ...]:
    """The trusted-keys files a device configuration names, without reading the
    environment (``portless fleet keys`` and ``revoke`` need no broker password)."""
    path = Path(path)
    return _trusted_files(_document(path), path)


def _document(path: Path) -> dict[str, Any]:
    return exact_keys(read_document(path), _KEYS, f"{path}",
                      optional={"remote_editor", "health"})


def _trusted_files(document: dict[str, Any], path: Path) -> tuple[Path, ...]:
    keys = document["trusted_keys"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise ConfigError(f"{path}: trusted_keys: a list of trusted-keys files")
    return tuple(path.parent / key for key in keys)
