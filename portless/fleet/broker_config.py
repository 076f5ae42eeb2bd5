"""A management configuration file and its ``broker`` object, read the same way for a
device and for an engineer: host, port, TLS that verifies by default, a username, and a
password taken from an environment variable (never from a file or the command line)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import ssl
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portless.runtime import safe_json

PREFIX = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
"""A topic prefix: topic levels without wildcards."""
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A device id: one topic level, no wildcards (it is also the device's MQTT username)."""
MAX_CONFIG_FILE = 1024 * 1024
_BROKER_KEYS = {"host", "port", "tls", "ca_file", "username", "password_env"}


class ConfigError(ValueError):
    """A configuration file that cannot be used; the sentence names the file and field."""


@dataclass(frozen=True)
class BrokerConfig:
    host: str
    port: int
    tls: bool = True
    ca_file: Path | None = None
    username: str = ""
    password: str = ""
    """Read from the environment variable ``password_env`` names, never from the file."""

    def ssl_context(self) -> ssl.SSLContext | None:
        """A context that verifies the broker's certificate and name, or None (no TLS)."""
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


def read_document(path: Path) -> object:
    """A configuration file's JSON, read as hostile (size, NaN, nesting, duplicates)."""
    try:
        return safe_json.loads(path.read_bytes()[:MAX_CONFIG_FILE + 1])
    except (json.JSONDecodeError, safe_json.JsonProblems, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid JSON document: {exc}") from None


def load_broker(value: Any, path: Path) -> BrokerConfig:
    """The ``broker`` object of the configuration file ``path`` (``ca_file`` relative
    to its directory)."""
    broker = exact_keys(value, _BROKER_KEYS, f"{path}: broker",
               optional=_BROKER_KEYS - {"host", "port"})
    port = broker["port"]
    if type(port) is not int or not 1 <= port <= 65535:
        raise ConfigError(f"{path}: broker/port: a whole number from 1 to 65535")
    password = ""
    if "password_env" in broker:
        name = text(broker["password_env"], f"{path}: broker/password_env")
        if name not in os.environ:
            raise ConfigError(f"{path}: broker/password_env: the environment variable "
                              f"{name} is not set")
        password = os.environ[name]
    tls = broker.get("tls", True)
    if not isinstance(tls, bool):
        raise ConfigError(f"{path}: broker/tls: true or false")
    ca_file = broker.get("ca_file")
    return BrokerConfig(
        host=text(broker["host"], f"{path}: broker/host"), port=port, tls=tls,
        ca_file=None if ca_file is None else path.parent / text(ca_file, "ca_file"),
        username=text(broker.get("username", ""), f"{path}: broker/username"),
        password=password)


def check_prefix(prefix: Any, path: Path) -> str:
    if not isinstance(prefix, str) or not PREFIX.fullmatch(prefix):
        raise ConfigError(f"{path}: topic_prefix: topic levels of letters, digits, "
                          f"'_' or '-' separated by '/' (no wildcards)")
    return prefix


def exact_keys(value: Any, keys: set[str], place: str,
               optional: AbstractSet[str] = frozenset()) -> dict[str, Any]:
    """``value`` itself, once it is an object with exactly ``keys`` (less ``optional``)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{place}: must be an object")
    missing, extra = keys - optional - value.keys(), value.keys() - keys
    if missing:
        raise ConfigError(f"{place}: missing {', '.join(sorted(missing))}")
    if extra:
        raise ConfigError(f"{place}: unknown {', '.join(sorted(extra))}")
    return value


def text(value: Any, place: str) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise ConfigError(f"{place}: must be printable text")
    return value


def broker_fields(broker: BrokerConfig) -> dict[str, Any]:
    """The broker's fields, to build a configuration that extends BrokerConfig."""
    return {field.name: getattr(broker, field.name) for field in dataclasses.fields(broker)}
