"""The engineer's configuration file: the management broker and the topic prefix of a
fleet, in the device configuration's shape, so that one broker section serves both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .broker_config import (
    BrokerConfig,
    broker_fields,
    check_prefix,
    exact_keys,
    load_broker,
    read_document,
)

_KEYS = {"topic_prefix", "broker"}


@dataclass(frozen=True, kw_only=True)
class EngineerConfig(BrokerConfig):
    topic_prefix: str

    def topic(self, device: str, *levels: str) -> str:
        """``<prefix>/<device>/<levels...>``: a device's management topic."""
        return "/".join((self.topic_prefix, device, *levels))


def load_engineer_config(path: str | Path) -> EngineerConfig:
    """Read and check an engineer configuration; ``ca_file`` is relative to its directory."""
    path = Path(path)
    document = exact_keys(read_document(path), _KEYS, f"{path}")
    prefix = check_prefix(document["topic_prefix"], path)
    broker = load_broker(document["broker"], path)
    return EngineerConfig(**broker_fields(broker), topic_prefix=prefix)
