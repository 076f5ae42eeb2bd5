"""The device configuration file: how a device reaches its management broker, who it
is, and whose bundles it trusts. Not a flow file: it outlives every deploy."""

from __future__ import annotations

import json
import os
import re
import ssl
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portless.runtime import safe_json

_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PREFIX = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_KEYS = {"device_id", "topic_prefix", "broker", "trusted_keys"}
_BROKER_KEYS = {"host", "port", "tls", "ca_file", "username", "password_env"}


class DeviceConfigError(ValueError):
    """A device configuration that cannot be used; the sentence names the field."""


@dataclass(frozen=True)
class DeviceConfig:
    device_id: str
    topic_prefix: str
    host: str
    port: int
    trusted_keys: tuple[Path, ...]
    tls: bool = True
    ca_file: Path | None = None
    username: str = ""
    password: str = ""
    """Read from the environment variable ``password_env`` names, never from the file."""

    @property
    def desired_topic(self) -> str:
        return f"{self.topic_prefix}/{self.device_id}/desired"

    @property
    def reported_topic(self) -> str:
        return f"{self.topic_prefix}/{self.device_id}/reported"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A context that verifies the broker's certificate and name, or None (no TLS)."""
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


def load_device_config(path: str | Path) -> DeviceConfig:
    """Read and check a device configuration; relative paths are from its directory."""
    path = Path(path)
    try:
        document = safe_json.loads(path.read_bytes()[:1024 * 1024 + 1])
    except (json.JSONDecodeError, safe_json.JsonProblems, UnicodeDecodeError) as exc:
        raise DeviceConfigError(f"{path}: not a valid JSON document: {exc}") from None
    _exact(document, _KEYS, f"{path}")
    broker = document["broker"]
    _exact(broker, _BROKER_KEYS, f"{path}: broker", optional=_BROKER_KEYS - {"host", "port"})
    device_id, prefix = document["device_id"], document["topic_prefix"]
    if not isinstance(device_id, str) or not _DEVICE_ID.fullmatch(device_id):
        raise DeviceConfigError(f"{path}: device_id: 1 to 64 letters, digits, '_' or '-'")
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise DeviceConfigError(f"{path}: topic_prefix: topic levels of letters, digits, "
                                f"'_' or '-' separated by '/' (no wildcards)")
    port = broker["port"]
    if type(port) is not int or not 1 <= port <= 65535:
        raise DeviceConfigError(f"{path}: broker/port: a whole number from 1 to 65535")
    keys = document["trusted_keys"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise DeviceConfigError(f"{path}: trusted_keys: a list of trusted-keys files")
    password = ""
    if "password_env" in broker:
        name = _string(broker["password_env"], f"{path}: broker/password_env")
        if name not in os.environ:
            raise DeviceConfigError(f"{path}: broker/password_env: the environment "
                                    f"variable {name} is not set")
        password = os.environ[name]
    tls = broker.get("tls", True)
    if not isinstance(tls, bool):
        raise DeviceConfigError(f"{path}: broker/tls: true or false")
    ca_file = broker.get("ca_file")
    return DeviceConfig(
        device_id=device_id, topic_prefix=prefix,
        host=_string(broker["host"], f"{path}: broker/host"), port=port, tls=tls,
        trusted_keys=tuple(path.parent / key for key in keys),
        ca_file=None if ca_file is None else path.parent / _string(ca_file, "ca_file"),
        username=_string(broker.get("username", ""), f"{path}: broker/username"),
        password=password)


def _exact(value: Any, keys: set[str], place: str, optional: AbstractSet[str] = frozenset()
           ) -> None:
    if not isinstance(value, dict):
        raise DeviceConfigError(f"{place}: must be an object")
    missing, extra = keys - optional - value.keys(), value.keys() - keys
    if missing:
        raise DeviceConfigError(f"{place}: missing {', '.join(sorted(missing))}")
    if extra:
        raise DeviceConfigError(f"{place}: unknown {', '.join(sorted(extra))}")


def _string(value: Any, place: str) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise DeviceConfigError(f"{place}: must be printable text")
    return value
